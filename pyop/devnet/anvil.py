"""The devnet L1: an anvil process (foundry 1.7.1, from the npm package in ``node_modules``).

anvil serves the execution JSON-RPC and, on the same port, part of the beacon API:
``/eth/v1/beacon/genesis`` and ``/eth/v1/beacon/blobs/{EL block id}``. With ``--block-time N``
block ``n`` has timestamp ``genesis_time + n * N``; ``safe`` lags ``latest`` by
``slots_in_an_epoch`` blocks and ``finalized`` by twice that (see
shared/notes/local-devnet-facts.md, section 1). The binary is started directly (not through the
node shim) so the PID we hold is anvil's own.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from pyop.devnet.artifacts import node_modules_dir
from pyop.devnet.keys import TEST_MNEMONIC
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

DEFAULT_L1_CHAIN_ID = 900
"""The devnet L1 chain id (the OP Stack devnet convention: L1 900, L2 901)."""

ANVIL_IN_NODE_MODULES = Path("@foundry-rs/anvil-linux-amd64/bin/anvil")


class AnvilError(PyopError):
    """anvil is missing or failed to start."""


def anvil_binary() -> Path:
    """Path of the anvil binary (``$PYOP_ANVIL`` overrides); :class:`AnvilError`, saying to run
    ``npm install`` (or ``make deps``), if it is absent."""
    env = os.environ.get("PYOP_ANVIL")
    path = Path(env) if env else node_modules_dir() / ANVIL_IN_NODE_MODULES
    if not path.is_file():
        raise AnvilError(
            f"anvil not found at {path}: "
            "run `npm install` (or `make deps`) in the pyop repository root"
        )
    return path


@dataclass
class AnvilProcess(ProcessHandle):
    """A running anvil: JSON-RPC at ``rpc_url``, beacon API at ``beacon_url`` (same port).

    :meth:`stop` stops it by its PID (SIGINT, SIGTERM, SIGKILL); with ``--dump-state`` anvil
    writes the state on SIGINT/SIGTERM."""

    process: ManagedProcess
    host: str
    port: int
    chain_id: int
    block_time: int
    slots_in_an_epoch: int

    @property
    def rpc_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def beacon_url(self) -> str:
        return self.rpc_url

    def rpc(self) -> RpcClient:
        return RpcClient(self.rpc_url)


def anvil_argv(
    binary: Path,
    *,
    host: str,
    port: int,
    chain_id: int,
    block_time: int | None,
    slots_in_an_epoch: int,
    hardfork: str,
    gas_limit: int | None = None,
    accounts: int = 10,
    mnemonic: str = TEST_MNEMONIC,
    dump_state: Path | None = None,
    load_state: Path | None = None,
    genesis_timestamp: int | None = None,
) -> list[str]:
    """The anvil command line (``block_time=None``: automine, one block per transaction;
    ``genesis_timestamp``: the genesis block's timestamp, anvil's clock then runs on from it, so
    a past value gives a chain living in the past, see :func:`set_time_lapse`)."""
    argv = [
        str(binary),
        "--host", host,
        "--port", str(port),
        "--chain-id", str(chain_id),
        "--hardfork", hardfork,
        "--slots-in-an-epoch", str(slots_in_an_epoch),
        "--accounts", str(accounts),
        "--mnemonic", mnemonic,
    ]  # fmt: skip
    if block_time is not None:
        argv += ["--block-time", str(block_time)]
    if gas_limit is not None:
        argv += ["--gas-limit", str(gas_limit)]
    if dump_state is not None:
        argv += ["--dump-state", str(dump_state)]
    if load_state is not None:
        argv += ["--load-state", str(load_state)]
    if genesis_timestamp is not None:
        argv += ["--timestamp", str(genesis_timestamp)]
    return argv


def start_anvil(
    directory: Path,
    port: int | None = None,
    *,
    block_time: int | None = 2,
    slots_in_an_epoch: int = 2,
    hardfork: str = "prague",
    chain_id: int = DEFAULT_L1_CHAIN_ID,
    host: str = "127.0.0.1",
    gas_limit: int | None = None,
    dump_state: Path | None = None,
    load_state: Path | None = None,
    registry: PidRegistry | None = None,
    name: str = "anvil",
    ready_timeout: float = 30.0,
    genesis_timestamp: int | None = None,
) -> AnvilProcess:
    """Start anvil with its log at ``directory/<name>.log`` and wait until it answers
    ``eth_chainId`` (checked to equal ``chain_id``). ``port=None`` picks a free port.

    ``slots_in_an_epoch=2`` makes ``safe``/``finalized`` trail ``latest`` by 2/4 blocks, so they
    move quickly on a devnet.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    binary = anvil_binary()
    if port is None:
        port = free_port(host)
    argv = anvil_argv(
        binary,
        host=host,
        port=port,
        chain_id=chain_id,
        block_time=block_time,
        slots_in_an_epoch=slots_in_an_epoch,
        hardfork=hardfork,
        gas_limit=gas_limit,
        dump_state=dump_state,
        load_state=load_state,
        genesis_timestamp=genesis_timestamp,
    )
    proc = start_process(name, argv, log_path=directory / f"{name}.log", registry=registry)
    anvil = AnvilProcess(
        process=proc,
        host=host,
        port=port,
        chain_id=chain_id,
        block_time=block_time or 0,
        slots_in_an_epoch=slots_in_an_epoch,
    )
    try:
        got = wait_for_rpc(anvil.rpc_url, timeout=ready_timeout, process=proc)
    except ProcessError:
        anvil.stop()
        if registry is not None:
            registry.remove(name)
        raise
    if int(str(got), 16) != chain_id:
        anvil.stop()
        raise AnvilError(f"anvil at {anvil.rpc_url} reports chain id {got}, wanted {chain_id}")
    return anvil


def set_time_lapse(rpc: RpcClient, *, seconds_per_block: int | None, mine_every: int) -> None:
    """Run anvil's chain faster than the wall clock (a "time lapse"): mine a block every
    ``mine_every`` wall seconds, each ``seconds_per_block`` later than its parent
    (``anvil_setBlockTimestampInterval`` + ``evm_setIntervalMining``), so chain time advances
    ``seconds_per_block / mine_every`` times the wall clock. ``seconds_per_block=None`` ends the
    lapse: timestamps follow anvil's own clock again (which a past ``--timestamp`` keeps behind
    the wall clock). Used with a genesis in the past to build a long L2 chain quickly
    (``bench.node_bench --timelapse``); :class:`AnvilError` if anvil refuses."""
    if mine_every <= 0 or (seconds_per_block is not None and seconds_per_block <= 0):
        raise AnvilError("the time lapse wants positive intervals")
    try:
        if seconds_per_block is None:
            rpc.call("anvil_removeBlockTimestampInterval")
        else:
            rpc.call("anvil_setBlockTimestampInterval", seconds_per_block)
        rpc.call("evm_setIntervalMining", mine_every)
    except PyopError as e:
        raise AnvilError(f"anvil refused the time lapse: {e}") from e
