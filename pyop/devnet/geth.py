"""op-geth for the devnet L2: locate the binary, ``geth init`` a datadir from genesis.json,
start op-geth (HTTP JSON-RPC + authenticated Engine API on 127.0.0.1) and stop it by PID.

Flags follow the OP Stack getting-started guide for op-geth (``--http.api web3,debug,eth,
txpool,net,engine``, ``--syncmode full``, ``--gcmode archive``, ``--nodiscover --maxpeers 0``,
``--authrpc.jwtsecret``, ``--rollup.disabletxpoolgossip``), bound to 127.0.0.1 with IPC off.
The state scheme is ``hash`` for both ``init`` and the node (they must agree). op-geth is stopped
with SIGINT first so it flushes its database (pyop.devnet.process.stop_pid).
The Engine API JWT secret is 32 random bytes, written as hex (specs: execution-apis
src/engine/authentication.md).
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pyop.devnet.process import (
    ManagedProcess,
    PidRegistry,
    ProcessError,
    ProcessHandle,
    free_port,
    start_process,
    wait_for_rpc,
)
from pyop.devnet.rpc import RpcClient
from pyop.primitives import PyopError

PEERS_CACHE = Path.home() / ".cache" / "pyop" / "peers"
"""Where the Go peers are built: ``<version>/bin/{geth,op-node,op-batcher,op-proposer}``."""

HTTP_APIS = "web3,debug,eth,txpool,net,engine"


class GethError(PyopError):
    """op-geth is missing, ``geth init`` failed, or op-geth did not start."""


def _version_key(p: Path) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", p.parent.parent.name))


def find_geth() -> Path | None:
    """The op-geth binary: ``$PYOP_GETH`` if set, else the newest
    ``~/.cache/pyop/peers/<version>/bin/geth``; None if there is none."""
    env = os.environ.get("PYOP_GETH")
    if env:
        p = Path(env)
        return p if p.is_file() else None
    cands = [p for p in PEERS_CACHE.glob("*/bin/geth") if p.is_file() and os.access(p, os.X_OK)]
    return max(cands, key=_version_key) if cands else None


def write_jwt_secret(path: str | Path) -> bytes:
    """Write a fresh 32-byte JWT secret as ``0x``-less hex (mode 0600); return the secret."""
    secret = secrets.token_bytes(32)
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(secret.hex() + "\n", encoding="ascii")
    p.chmod(0o600)
    return secret


def geth_init(
    geth_bin: str | Path,
    datadir: str | Path,
    genesis_path: str | Path,
    *,
    state_scheme: str = "hash",
    log_path: str | Path | None = None,
    timeout: float = 300.0,
) -> str:
    """``geth init --datadir D --state.scheme=S genesis.json``; returns the init log text.

    Raises :class:`GethError` (with the log tail) if it fails."""
    argv = [
        str(geth_bin),
        "init",
        "--datadir",
        str(datadir),
        f"--state.scheme={state_scheme}",
        str(genesis_path),
    ]
    try:
        res = subprocess.run(
            argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        raise GethError(f"geth init failed to run: {e}") from None
    out = (res.stdout + res.stderr).decode("utf-8", "replace")
    if log_path is not None:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        Path(log_path).write_text(out, encoding="utf-8")
    if res.returncode != 0:
        tail = "\n".join(out.splitlines()[-15:])
        raise GethError(f"geth init exited with {res.returncode}:\n{tail}")
    return out


def init_genesis_hash_prefix(init_log: str) -> str | None:
    """The abbreviated genesis hash (``54f222..6ec68b``) of geth init's "Successfully wrote
    genesis state" line, or None."""
    m = re.search(r"Successfully wrote genesis state.*?hash=([0-9a-f]+\.\.[0-9a-f]+)", init_log)
    return m.group(1) if m else None


@dataclass
class OpGethProcess(ProcessHandle):
    """A running op-geth: JSON-RPC at ``http_url``, Engine API at ``authrpc_url``."""

    process: ManagedProcess
    host: str
    http_port: int
    authrpc_port: int
    jwt_path: Path
    datadir: Path

    @property
    def http_url(self) -> str:
        return f"http://{self.host}:{self.http_port}"

    @property
    def authrpc_url(self) -> str:
        return f"http://{self.host}:{self.authrpc_port}"

    def rpc(self) -> RpcClient:
        return RpcClient(self.http_url)

    def stop(self, *, sigint_timeout: float = 20.0, sigterm_timeout: float = 5.0) -> str:
        """Stop by PID: SIGINT (clean database shutdown), then SIGTERM, then SIGKILL."""
        return self.process.stop(sigint_timeout=sigint_timeout, sigterm_timeout=sigterm_timeout)


def op_geth_argv(
    geth_bin: str | Path,
    datadir: str | Path,
    *,
    host: str,
    http_port: int,
    authrpc_port: int,
    p2p_port: int,
    jwt_path: str | Path,
    network_id: int,
    state_scheme: str = "hash",
    extra_flags: Sequence[str] = (),
) -> list[str]:
    """The op-geth command line (see the module docstring)."""
    return [
        str(geth_bin),
        "--datadir", str(datadir),
        f"--state.scheme={state_scheme}",
        "--http",
        "--http.addr", host,
        "--http.port", str(http_port),
        "--http.vhosts=*",
        "--http.corsdomain=*",
        f"--http.api={HTTP_APIS}",
        "--authrpc.addr", host,
        "--authrpc.port", str(authrpc_port),
        "--authrpc.vhosts=*",
        f"--authrpc.jwtsecret={jwt_path}",
        "--syncmode=full",
        "--gcmode=archive",
        "--nodiscover",
        "--maxpeers=0",
        "--port", str(p2p_port),
        "--ipcdisable",
        f"--networkid={network_id}",
        "--rollup.disabletxpoolgossip=true",
        *extra_flags,
    ]  # fmt: skip


def start_op_geth(
    geth_bin: str | Path,
    datadir: str | Path,
    *,
    http_port: int | None = None,
    authrpc_port: int | None = None,
    jwt_path: str | Path,
    log_path: str | Path,
    network_id: int,
    extra_flags: Sequence[str] = (),
    host: str = "127.0.0.1",
    state_scheme: str = "hash",
    registry: PidRegistry | None = None,
    name: str = "op-geth",
    ready_timeout: float = 60.0,
) -> OpGethProcess:
    """Start op-geth on an initialized ``datadir`` and wait until ``eth_chainId`` answers.

    Ports left ``None`` are picked free. The process is stopped again if it never gets ready.
    """
    http_port = http_port or free_port(host)
    authrpc_port = authrpc_port or free_port(host)
    argv = op_geth_argv(
        geth_bin,
        datadir,
        host=host,
        http_port=http_port,
        authrpc_port=authrpc_port,
        p2p_port=free_port(host),
        jwt_path=jwt_path,
        network_id=network_id,
        state_scheme=state_scheme,
        extra_flags=extra_flags,
    )
    proc = start_process(name, argv, log_path=Path(log_path), registry=registry)
    geth = OpGethProcess(
        process=proc,
        host=host,
        http_port=http_port,
        authrpc_port=authrpc_port,
        jwt_path=Path(jwt_path),
        datadir=Path(datadir),
    )
    try:
        wait_for_rpc(geth.http_url, timeout=ready_timeout, process=proc)
    except ProcessError as e:
        geth.stop()
        if registry is not None:
            registry.remove(name)
        raise GethError(str(e)) from None
    return geth
