"""Forge artifacts of the OP L1 contracts, from the npm package
``@eth-optimism/contracts-bedrock`` (0.17.3) in ``node_modules``.

Each ``forge-artifacts/<Name>.sol/<Name>.json`` holds ``abi``, ``bytecode.object`` (creation
code) and ``deployedBytecode.object``, with no link references (solc 0.8.15, see
shared/notes/local-devnet-facts.md section 2). This module encodes constructor and function
calls and decodes results with ``eth_abi`` (the Solidity contract ABI specification,
https://docs.soliditylang.org/en/latest/abi-spec.html).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_hash.auto import keccak

from pyop.primitives import PyopError

CONTRACTS_BEDROCK = Path("@eth-optimism/contracts-bedrock")
_REPO_ROOT = Path(__file__).resolve().parents[2]


class ArtifactError(PyopError):
    """A forge artifact is missing, malformed, or lacks the requested function."""


def node_modules_dir() -> Path:
    """The pyop checkout's ``node_modules`` (``$PYOP_NODE_MODULES`` overrides): the first
    ``node_modules`` in the current directory or its parents, else the repository root's."""
    env = os.environ.get("PYOP_NODE_MODULES")
    if env:
        return Path(env)
    here = Path.cwd().resolve()
    for d in (here, *here.parents):
        cand = d / "node_modules"
        if (cand / CONTRACTS_BEDROCK).is_dir():
            return cand
    return _REPO_ROOT / "node_modules"


def forge_artifacts_dir() -> Path:
    """``node_modules/@eth-optimism/contracts-bedrock/forge-artifacts``."""
    return node_modules_dir() / CONTRACTS_BEDROCK / "forge-artifacts"


def abi_type(param: Mapping[str, Any]) -> str:
    """The canonical ABI type string of an ABI JSON parameter (tuples expanded)."""
    t = str(param["type"])
    if t.startswith("tuple"):
        inner = ",".join(abi_type(c) for c in param["components"])
        return f"({inner}){t[len('tuple'):]}"
    return t


def _types(entries: Sequence[Mapping[str, Any]]) -> list[str]:
    return [abi_type(p) for p in entries]


@dataclass(frozen=True, slots=True)
class AbiFunction:
    """One ABI function: its name, input and output types, and its 4-byte selector."""

    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]

    @property
    def signature(self) -> str:
        return f"{self.name}({','.join(self.inputs)})"

    @property
    def selector(self) -> bytes:
        return keccak(self.signature.encode())[:4]

    def encode(self, *args: Any) -> bytes:
        """Calldata: selector followed by the ABI-encoded arguments."""
        if len(args) != len(self.inputs):
            raise ArtifactError(f"{self.signature} takes {len(self.inputs)} args, got {len(args)}")
        return self.selector + abi_encode(list(self.inputs), list(args))

    def decode_output(self, data: bytes) -> tuple[Any, ...]:
        try:
            return tuple(abi_decode(list(self.outputs), data))
        except Exception as e:  # eth_abi raises several unrelated exception types
            raise ArtifactError(f"cannot decode the result of {self.signature}: {e}") from None


@dataclass(frozen=True, slots=True)
class Artifact:
    """A contract's ABI and code from its forge artifact."""

    name: str
    abi: tuple[Mapping[str, Any], ...]
    bytecode: bytes
    deployed_bytecode: bytes
    _functions: dict[str, list[AbiFunction]] = field(default_factory=dict, repr=False)

    def function(self, name: str, n_inputs: int | None = None) -> AbiFunction:
        """The function ``name`` (``n_inputs`` picks among overloads)."""
        cands = self._functions.get(name, [])
        if n_inputs is not None:
            cands = [f for f in cands if len(f.inputs) == n_inputs]
        if len(cands) != 1:
            raise ArtifactError(
                f"{self.name}: {len(cands)} functions named {name!r}"
                + ("" if n_inputs is None else f" with {n_inputs} inputs")
            )
        return cands[0]

    def constructor_types(self) -> list[str]:
        for e in self.abi:
            if e.get("type") == "constructor":
                return _types(e.get("inputs", []))
        return []

    def deploy_data(self, *args: Any) -> bytes:
        """Creation code followed by the ABI-encoded constructor arguments."""
        types = self.constructor_types()
        if len(args) != len(types):
            raise ArtifactError(f"{self.name} constructor takes {len(types)} args, got {len(args)}")
        return self.bytecode + (abi_encode(types, list(args)) if types else b"")

    def encode_call(self, name: str, *args: Any) -> bytes:
        """Calldata for ``name(args)`` (the overload with ``len(args)`` inputs)."""
        return self.function(name, len(args)).encode(*args)

    def event_topic(self, name: str) -> bytes:
        """``keccak256`` of the event's canonical signature (its topic 0)."""
        for e in self.abi:
            if e.get("type") == "event" and e.get("name") == name:
                sig = f"{name}({','.join(_types(e.get('inputs', [])))})"
                return keccak(sig.encode())
        raise ArtifactError(f"{self.name}: no event named {name!r}")


def _hex_code(obj: object, what: str) -> bytes:
    code = obj.get("object") if isinstance(obj, dict) else obj
    if not isinstance(code, str):
        raise ArtifactError(f"{what} is missing")
    try:
        return bytes.fromhex(code.removeprefix("0x"))
    except ValueError:
        raise ArtifactError(f"{what} is not hex (unlinked library?)") from None


@cache
def load_artifact(name: str) -> Artifact:
    """Load ``forge-artifacts/<name>.sol/<name>.json`` (cached)."""
    path = forge_artifacts_dir() / f"{name}.sol" / f"{name}.json"
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise ArtifactError(
            f"forge artifact {path} not found: "
            "run `npm install` (or `make deps`) in the pyop repository root"
        ) from None
    except (OSError, ValueError) as e:
        raise ArtifactError(f"cannot read forge artifact {path}: {e}") from None
    abi = tuple(data.get("abi", ()))
    functions: dict[str, list[AbiFunction]] = {}
    for entry in abi:
        if entry.get("type") == "function":
            fn = AbiFunction(
                name=str(entry["name"]),
                inputs=tuple(_types(entry.get("inputs", []))),
                outputs=tuple(_types(entry.get("outputs", []))),
            )
            functions.setdefault(fn.name, []).append(fn)
    return Artifact(
        name=name,
        abi=abi,
        bytecode=_hex_code(data.get("bytecode"), f"{name} bytecode"),
        deployed_bytecode=_hex_code(data.get("deployedBytecode"), f"{name} deployedBytecode"),
        _functions=functions,
    )
