"""The keccak256 backend (``pyop/__init__.py``): pyop selects eth-hash's ``pysha3`` backend
(safe-pysha3, ~5x faster per call than pycryptodome, ``bench.keccak_bench``) when it is
importable, keeps eth-hash's own choice (pycryptodome) when it is not, and never overrides a
user's ``ETH_HASH_BACKEND``. Each case runs in a fresh interpreter (eth-hash binds its backend
at the first call) and must give the real OP Mainnet batcher tx hash (from the chain, not from
pyop) and the same decoded channel."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TX = REPO / "spec_vectors/batcher/op-mainnet-batcher-tx-0xe69d9433.bin"
EXPECTED = json.loads((REPO / "spec_vectors/batcher/op-mainnet-batcher-tx-0xe69d9433.expected.json").read_text())

# Hides the ``sha3`` module (safe-pysha3) as if it were not installed.
_HIDE_SHA3 = """
import importlib.abc, sys
class _NoSha3(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "sha3" or name.startswith("sha3."):
            raise ModuleNotFoundError(name)
        return None
sys.meta_path.insert(0, _NoSha3())
"""

_PROBE = """
import hashlib, json, os, sys
import pyop
from eth_hash.auto import keccak
from pyop.codec.tx import decode_signed_tx
from pyop.codec.frame import parse_frames
raw = open(sys.argv[1], "rb").read()
tx = decode_signed_tx(raw)
keccak(b"")
print(json.dumps({
    "env": os.environ.get("ETH_HASH_BACKEND"),
    "backend": keccak.hasher.__module__,
    "hash": "0x" + tx.hash.hex(),
    "frames": [f.channel_id.hex() for f in parse_frames(tx.data)],
}))
"""


def _probe(*, hide_sha3: bool, env_backend: str | None) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if k != "ETH_HASH_BACKEND"}
    if env_backend is not None:
        env["ETH_HASH_BACKEND"] = env_backend
    code = (_HIDE_SHA3 if hide_sha3 else "") + _PROBE
    out = subprocess.run([sys.executable, "-c", code, str(TX)], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=120, check=True)  # fmt: skip
    res: dict[str, object] = json.loads(out.stdout)
    return res


def _check_vector(res: dict[str, object]) -> None:
    assert res["hash"] == EXPECTED["tx_hash"]
    assert res["frames"] == [f["channel_id"] for f in EXPECTED["frames"]]


def test_pysha3_selected_when_installed() -> None:
    pytest.importorskip("sha3", reason="safe-pysha3 (eth-hash[pysha3]) is not installed here")
    res = _probe(hide_sha3=False, env_backend=None)
    assert res["env"] == "pysha3"
    assert res["backend"] == "eth_hash.backends.pysha3"
    _check_vector(res)


def test_fallback_to_pycryptodome_without_pysha3() -> None:
    res = _probe(hide_sha3=True, env_backend=None)
    assert res["env"] is None  # pyop chose nothing: eth-hash's auto order applies
    assert res["backend"] == "eth_hash.backends.pycryptodome"
    _check_vector(res)


def test_user_choice_is_kept() -> None:
    res = _probe(hide_sha3=False, env_backend="pycryptodome")
    assert res["env"] == "pycryptodome"
    assert res["backend"] == "eth_hash.backends.pycryptodome"
    _check_vector(res)
