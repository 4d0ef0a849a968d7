"""``pyop devnet``: initialize a local OP Stack devnet in a directory and run the Go stack on it.

``init_devnet(DIR)`` starts (or targets) the anvil L1, deploys the L1 contracts, builds the L2
genesis and ``rollup.json``, writes the JWT secret and the L1 chain config, runs ``geth init``
and records everything in ``DIR/devnet.json``. ``start_stack(info)`` starts op-geth and, with
``stack="go"``, the Go op-node (sequencer), op-batcher and op-proposer. Every process is in
``DIR/pids.json`` (:class:`pyop.devnet.process.PidRegistry`) and logs to ``DIR/logs/<name>.log``;
:func:`stop_devnet` stops them by PID, newest first (op-geth gets SIGINT first).

Flags follow the OP Stack getting-started deployment (the issue's seed), bound to 127.0.0.1:

- op-node: ``--l1``, ``--l1.rpckind=standard`` (anvil serves ``eth_getBlockReceipts``),
  ``--l1.trustrpc``, ``--l1.beacon=<pyop beacon shim>`` (anvil 1.7.1 serves
  ``/eth/v1/beacon/genesis`` and ``/eth/v1/beacon/blobs/{EL block id}`` but not
  ``/eth/v1/config/spec``, and op-node's slot of an L1 block, ``(t - genesis_time) /
  SECONDS_PER_SLOT``, stops being the anvil block number once anvil's wall-clock timestamps slip;
  :mod:`pyop.devnet.beacon_shim` fixes both), ``--rollup.l1-chain-config`` (op-node knows only the chain
  configs of public L1s; see :mod:`pyop.devnet.l1_chain_config`), ``--l2`` + ``--l2.jwt-secret``,
  ``--l2.enginekind=geth`` (v1.19 defaults to reth), ``--sequencer.enabled``,
  ``--sequencer.l1-confs=0``, ``--verifier.l1-confs=0``, ``--p2p.no-discovery`` +
  ``--p2p.sequencer.key`` (a verifier: ``--p2p.static`` = the sequencer, or ``--p2p.disable``;
  :mod:`pyop.devnet.p2p_peers`), ``--rpc.enable-admin``,
  ``--safedb.path``, and short L1 poll intervals so safe/finalized follow anvil quickly.
- op-batcher: ``--data-availability-type calldata|blobs``, ``--poll-interval=1s``,
  ``--max-channel-duration=2`` (L1 blocks), ``--sub-safety-margin=6``, ``--num-confirmations=1``.
- op-proposer: the L2OutputOracle flavour (``--l2oo-address``, ``--allow-non-finalized``), which
  op-proposer v1.19 no longer has; :func:`find_peer` picks the newest cached op-proposer whose
  ``--help`` lists ``--l2oo-address`` (built from interop/go-proposer).
- ``pyop node`` (``stack="pyop"``, ``start_verifier(kind="pyop")``): the same command line as the
  Go op-node (:func:`pyop_node_argv`: pyop node accepts op-node's flags), run as
  ``python -m pyop.cli node``; the Go op-batcher and op-proposer then talk to pyop's rollup RPC.
- alt-DA (``--altda``): ``pyop.devnet.da_server`` with generic commitments;
  ``--altda.enabled --altda.da-server=URL --altda.da-service --altda.verify-on-read=false`` on
  op-node and op-batcher (the seed's flags). ``init_devnet(altda_commitment="keccak")`` deploys
  the ``DataAvailabilityChallenge`` contract (:mod:`pyop.devnet.da_challenge`) and the batcher
  computes keccak commitments itself (``--altda.da-service=false``).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from pyop.config import AltDAConfig, Fork
from pyop.devnet.anvil import DEFAULT_L1_CHAIN_ID, start_anvil
from pyop.devnet.beacon_shim import start_beacon_shim_process
from pyop.devnet.da_challenge import altda_commitment_of, devnet_altda_config
from pyop.devnet.da_server import start_da_server_process
from pyop.devnet.fault_proofs import deploy_fault_proof_contracts, initialize_anchor_state
from pyop.devnet.geth import (
    HTTP_APIS,
    PEERS_CACHE,
    OpGethProcess,
    geth_init,
    start_op_geth,
    write_jwt_secret,
)
from pyop.devnet.keys import TEST_KEY_LABEL, DevKeys, dev_keys
from pyop.devnet.l1_chain_config import write_l1_chain_config
from pyop.devnet.l1_deploy import (
    DeployConfig,
    deploy_l1_contracts,
    write_artifact_json,
    write_deployment_json,
)
from pyop.devnet.l2_genesis import DEFAULT_FORK_OFFSETS, SUPPORTED_FORKS, build_l2_genesis
from pyop.devnet.p2p_peers import ensure_network_key, p2p_flags
from pyop.devnet.process import (
    ManagedProcess,
    PidRegistry,
    free_port,
    start_process,
    wait_for_http,
    wait_for_rpc,
)
from pyop.devnet.proposer_role import go_dgf_proposer_argv, pyop_proposer_argv
from pyop.devnet.roles import Roles, write_roles
from pyop.devnet.rollup_json import l2_genesis_config_for, rollup_config_for
from pyop.devnet.rpc import RpcClient, RpcError, RpcTransportError
from pyop.primitives import PyopError, hex_to_int
from pyop.protocol.output_root import output_root
from pyop.protocol.predeploys import L2_TO_L1_MESSAGE_PASSER

DEVNET_JSON = "devnet.json"
HOST = "127.0.0.1"
PEERS = ("geth", "op-node", "op-batcher", "op-proposer")
DA_TYPES = ("calldata", "blobs", "auto")
STACKS = ("go", "pyop", "none")
VERIFIER_KINDS = ("go", "pyop")
STARTUP_GRACE = 2.0
"""Seconds :func:`start_stack` waits at the end to catch a process that dies on its first
actions (op-batcher does on a missing op-geth API)."""

Log = Callable[[str], None]
ALTDA_DEFAULT_WINDOWS = (160, 160)
"""Alt-DA challenge and resolve windows of ``pyop devnet init --altda`` (L1 blocks)."""

OP_GETH_EXTRA_FLAGS = (f"--http.api={HTTP_APIS},miner",)
"""op-batcher's DA throttling (on by default since v1.10) calls ``miner_setMaxDASize`` on the
sequencer's op-geth and stops with a critical error when that API is not served."""


class StackError(PyopError):
    """The devnet cannot be initialized or started (missing peer binary, bad directory, ...)."""


# --------------------------------------------------------------------------- peer binaries


def peers_cache() -> Path:
    """``$PYOP_PEERS_CACHE`` or ``~/.cache/pyop/peers`` (where scripts/build-peers.sh builds)."""
    env = os.environ.get("PYOP_PEERS_CACHE")
    return Path(env) if env else PEERS_CACHE


def _version_key(version_dir: Path) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", version_dir.name))


@cache
def _has_l2oo_flag(binary: Path) -> bool:
    try:
        res = subprocess.run(
            [str(binary), "--help"], capture_output=True, timeout=20, check=False,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return False
    return b"--l2oo-address" in res.stdout + res.stderr


def find_peer(name: str) -> Path | None:
    """The Go peer ``name`` (``geth``, ``op-node``, ``op-batcher``, ``op-proposer``).

    ``$PYOP_<NAME>`` (``PYOP_OP_NODE`` ...) overrides. Otherwise the newest
    ``<cache>/<version>/bin/<name>``; for ``op-proposer`` the newest one whose ``--help`` has
    ``--l2oo-address`` (the devnet proposes to the L2OutputOracle)."""
    env = os.environ.get("PYOP_" + name.upper().replace("-", "_"))
    if env:
        p = Path(env)
        return p if p.is_file() else None
    cands = [
        d / "bin" / name
        for d in peers_cache().glob("*")
        if (d / "bin" / name).is_file() and os.access(d / "bin" / name, os.X_OK)
    ]
    cands.sort(key=lambda p: _version_key(p.parent.parent), reverse=True)
    if name == "op-proposer":
        cands = [p for p in cands if _has_l2oo_flag(p)]
    return cands[0] if cands else None


@cache
def _has_dgf_flag(binary: Path) -> bool:
    try:
        res = subprocess.run([str(binary), "--help"], capture_output=True, timeout=20,
                             check=False, stdin=subprocess.DEVNULL)  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return False
    return b"--game-factory-address" in res.stdout + res.stderr


def find_dgf_op_proposer() -> Path | None:
    """The newest cached op-proposer with DisputeGameFactory mode (v1.19.6 here)."""
    env = os.environ.get("PYOP_OP_PROPOSER_DGF")
    if env:
        return Path(env) if Path(env).is_file() else None
    cands = [d / "bin" / "op-proposer" for d in peers_cache().glob("*")
             if (d / "bin" / "op-proposer").is_file()]  # fmt: skip
    cands.sort(key=lambda p: _version_key(p.parent.parent), reverse=True)
    cands = [p for p in cands if _has_dgf_flag(p)]
    return cands[0] if cands else None


def require_peers(names: Sequence[str]) -> dict[str, Path]:
    """``name -> binary`` for each of ``names``; :class:`StackError` naming the missing ones."""
    found = {n: find_peer(n) for n in names}
    missing = [n for n, p in found.items() if p is None]
    if missing:
        raise StackError(
            f"Go peer binaries not found in {peers_cache()}: {', '.join(missing)} "
            "(build them with scripts/build-peers.sh)"
        )
    return {n: p for n, p in found.items() if p is not None}


# --------------------------------------------------------------------------- devnet.json


PORT_NAMES = (
    "anvil",
    "gethHttp",
    "gethAuth",
    "opNodeRpc",
    "opNodeP2p",
    "batcherRpc",
    "proposerRpc",
    "daServer",
    "verifierGethHttp",
    "verifierGethAuth",
    "verifierOpNodeRpc",
    "beaconShim",
    "proposerMetrics",
    "verifierOpNodeP2p",
)


def allocate_ports(port_base: int | None) -> dict[str, int]:
    """Ports for every devnet service: ``port_base + i`` in :data:`PORT_NAMES` order, or
    (``port_base=None``) free ones reserved for this devnet by
    :func:`pyop.devnet.process.free_port`."""
    if port_base is not None:
        if not 1024 <= port_base <= 65535 - len(PORT_NAMES):
            raise StackError(f"--port-base {port_base} out of range")
        return {n: port_base + i for i, n in enumerate(PORT_NAMES)}
    ports: dict[str, int] = {}
    while len(ports) < len(PORT_NAMES):
        p = free_port(HOST)
        if p not in ports.values():
            ports[PORT_NAMES[len(ports)]] = p
    return ports


@dataclass
class DevnetInfo:
    """Everything ``pyop devnet up/status/down`` need, persisted as ``DIR/devnet.json``."""

    directory: Path
    l1_url: str
    l1_chain_id: int
    l1_block_time: int
    l1_managed: bool
    """Whether ``init`` started anvil itself (then ``down`` stops it)."""
    l1_hardfork: str
    l2_chain_id: int
    l2_block_time: int
    l2_genesis_hash: str
    l2_genesis_time: int
    fork_times: dict[str, int | None]
    altda: bool
    ports: dict[str, int]
    addresses: dict[str, str]
    keys: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)
    fault_proofs: dict[str, Any] | None = None
    """``--fault-proofs``: :meth:`pyop.devnet.fault_proofs.FaultProofDeployment.to_json`."""

    # paths
    @property
    def logs_dir(self) -> Path:
        return self.directory / "logs"

    @property
    def genesis_path(self) -> Path:
        return self.directory / "genesis.json"

    @property
    def rollup_path(self) -> Path:
        return self.directory / "rollup.json"

    @property
    def jwt_path(self) -> Path:
        return self.directory / "jwt.txt"

    @property
    def l1_chain_config_path(self) -> Path:
        return self.directory / "l1-chain-config.json"

    @property
    def geth_datadir(self) -> Path:
        return self.directory / "geth"

    # URLs
    @property
    def l1_beacon_url(self) -> str:
        """The beacon API op-node uses: pyop's shim in front of anvil (see
        :mod:`pyop.devnet.beacon_shim`)."""
        return self.url("beaconShim")

    def url(self, port_name: str) -> str:
        return f"http://{HOST}:{self.ports[port_name]}"

    @property
    def l2_rpc_url(self) -> str:
        return self.url("gethHttp")

    @property
    def rollup_rpc_url(self) -> str:
        return self.url("opNodeRpc")

    @property
    def verifier_l2_rpc_url(self) -> str:
        """op-geth of the verifier ``pyop devnet up --verifier`` adds."""
        return self.url("verifierGethHttp")

    @property
    def verifier_rollup_rpc_url(self) -> str:
        """Rollup RPC of the verifier ``pyop devnet up --verifier`` adds."""
        return self.url("verifierOpNodeRpc")

    def key(self, role: str) -> str:
        """The ``0x`` private key of ``role`` (a TEST key)."""
        return str(self.keys[role]["privateKey"])

    def to_json(self) -> dict[str, Any]:
        return {
            "_warning": "local devnet; every key here is a " + TEST_KEY_LABEL,
            "l1": {
                "url": self.l1_url,
                "beaconUrl": self.l1_beacon_url,
                "chainId": self.l1_chain_id,
                "blockTime": self.l1_block_time,
                "managed": self.l1_managed,
                "hardfork": self.l1_hardfork,
            },
            "l2": {
                "chainId": self.l2_chain_id,
                "blockTime": self.l2_block_time,
                "genesisHash": self.l2_genesis_hash,
                "genesisTime": self.l2_genesis_time,
                "forkTimes": self.fork_times,
            },
            "altda": self.altda,
            "ports": self.ports,
            "urls": {
                "l1": self.l1_url,
                "l2": self.l2_rpc_url,
                "l2Auth": self.url("gethAuth"),
                "rollup": self.rollup_rpc_url,
                "l1Beacon": self.l1_beacon_url,
                "batcher": self.url("batcherRpc"),
                "proposer": self.url("proposerRpc"),
                "daServer": self.url("daServer"),
                "verifierL2": self.url("verifierGethHttp"),
                "verifierL2Auth": self.url("verifierGethAuth"),
                "verifierRollup": self.url("verifierOpNodeRpc"),
            },
            "files": {
                "genesis": self.genesis_path.name,
                "rollup": self.rollup_path.name,
                "jwt": self.jwt_path.name,
                "l1ChainConfig": self.l1_chain_config_path.name,
                "artifact": "artifact.json",
                "deployment": "deployment.json",
                "gethDatadir": self.geth_datadir.name,
                "logs": self.logs_dir.name,
            },
            "addresses": self.addresses,
            "keys": self.keys,
            "timings": {k: round(v, 2) for k, v in self.timings.items()},
            "faultProofs": self.fault_proofs,
        }

    def write(self) -> Path:
        p = self.directory / DEVNET_JSON
        tmp = p.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=2) + "\n")
        tmp.replace(p)
        return p

    @classmethod
    def from_json(cls, directory: Path, obj: Mapping[str, Any]) -> DevnetInfo:
        l1, l2 = obj["l1"], obj["l2"]
        return cls(
            directory=Path(directory),
            l1_url=str(l1["url"]),
            l1_chain_id=int(l1["chainId"]),
            l1_block_time=int(l1["blockTime"]),
            l1_managed=bool(l1["managed"]),
            l1_hardfork=str(l1.get("hardfork", "prague")),
            l2_chain_id=int(l2["chainId"]),
            l2_block_time=int(l2["blockTime"]),
            l2_genesis_hash=str(l2["genesisHash"]),
            l2_genesis_time=int(l2["genesisTime"]),
            fork_times=dict(l2.get("forkTimes", {})),
            altda=bool(obj.get("altda", False)),
            ports={k: int(v) for k, v in obj["ports"].items()},
            addresses=dict(obj.get("addresses", {})),
            keys=dict(obj.get("keys", {})),
            timings={k: float(v) for k, v in obj.get("timings", {}).items()},
            fault_proofs=obj.get("faultProofs"),
        )


def load_devnet(directory: Path) -> DevnetInfo:
    """Read ``DIR/devnet.json``; :class:`StackError` if ``DIR`` was not initialized."""
    p = Path(directory) / DEVNET_JSON
    try:
        obj = json.loads(p.read_text())
        return DevnetInfo.from_json(Path(directory), obj)
    except FileNotFoundError:
        raise StackError(f"{directory} is not a devnet directory (no {DEVNET_JSON}): "
                         "run `pyop devnet init` first") from None
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise StackError(f"cannot read {p}: {e}") from None


# --------------------------------------------------------------------------- init


def parse_fork_offsets(text: str | None) -> dict[Fork, int | None]:
    """``"isthmus=40,jovian=60"`` -> the default offsets with those replaced (``=none``
    unschedules a fork)."""
    offsets: dict[Fork, int | None] = dict(DEFAULT_FORK_OFFSETS)
    if not text:
        return offsets
    names = {f.value: f for f in SUPPORTED_FORKS}
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        name, sep, value = item.partition("=")
        fork = names.get(name.strip().lower())
        if not sep or fork is None:
            raise StackError(f"bad fork offset {item!r}: want FORK=SECONDS with FORK in "
                             f"{', '.join(names)}")
        v = value.strip().lower()
        try:
            offsets[fork] = None if v in ("none", "") else int(v)
        except ValueError:
            raise StackError(f"bad fork offset {item!r}: {value!r} is not an integer") from None
    return offsets


def _print(msg: str) -> None:
    print(msg, flush=True)


def init_devnet(
    directory: Path,
    *,
    l1_url: str | None = None,
    l1_block_time: int = 2,
    l2_block_time: int = 2,
    fork_offsets: Mapping[Fork, int | None] | None = None,
    altda: bool = False,
    port_base: int | None = None,
    l2_chain_id: int = 901,
    keys: DevKeys | None = None,
    l1_slots_per_epoch: int = 2,
    fault_proofs: bool = False,
    altda_windows: tuple[int, int] = ALTDA_DEFAULT_WINDOWS,
    altda_commitment: str = "generic",
    seq_window_size: int | None = None,
    l1_genesis_time: int | None = None,
    log: Log = _print,
) -> DevnetInfo:
    """Initialize the devnet in ``directory`` (which must be empty or absent); see the module
    docstring. The anvil it starts stays running (registered in ``DIR/pids.json``); on failure
    everything started is stopped again. ``l1_slots_per_epoch``: anvil's
    ``--slots-in-an-epoch`` (L1 ``safe``/``finalized`` trail the head by 1x/2x it).
    ``fault_proofs``: OptimismPortal2 with a permissioned dispute game
    (:mod:`pyop.devnet.fault_proofs`) instead of the L2OutputOracle portal.
    ``altda_windows``: the alt-DA challenge and resolve windows in L1 blocks (L2 finality lags L1
    finality by about the challenge window); ``altda_commitment``: ``generic`` or ``keccak``
    (keccak also deploys the ``DataAvailabilityChallenge`` contract, see
    :mod:`pyop.devnet.da_challenge`); ``seq_window_size``: the sequencing window (default
    :data:`pyop.devnet.rollup_json.DEFAULT_SEQ_WINDOW_SIZE`); ``l1_genesis_time``: the managed
    anvil's genesis timestamp (a past one puts the whole devnet, L2 genesis included, in the past,
    so a sequencer catches up as fast as L1 allows, see :func:`pyop.devnet.anvil.set_time_lapse`)."""
    if l2_block_time <= 0:
        raise StackError("the L2 block time must be positive")
    directory = Path(directory).resolve()
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise StackError(f"{directory} is not empty; `pyop devnet init` wants a new or empty "
                         "directory (use `pyop devnet down` and remove it to start over)")
    directory.mkdir(parents=True, exist_ok=True)
    keys = keys or dev_keys()
    registry = PidRegistry(directory)
    timings: dict[str, float] = {}
    t_all = time.monotonic()
    log(f"TEST KEYS ({TEST_KEY_LABEL}):")
    for k in keys.all():
        log(f"  {k.role:<10} {k.address}  {k.private_key_hex}")
    if l1_genesis_time is not None and l1_url is not None:
        raise StackError("l1_genesis_time needs the devnet's own anvil (not --l1 URL)")
    ports = allocate_ports(port_base)
    try:
        t0 = time.monotonic()
        if l1_url is None:
            anvil = start_anvil(
                directory / "logs", ports["anvil"], block_time=l1_block_time,
                slots_in_an_epoch=l1_slots_per_epoch, hardfork="prague", chain_id=DEFAULT_L1_CHAIN_ID,
                host=HOST, registry=registry, genesis_timestamp=l1_genesis_time,
            )  # fmt: skip
            l1 = anvil.rpc_url
            managed = True
            log(f"L1: anvil pid {anvil.pid} at {l1} (Prague, block time {l1_block_time}s, "
                f"{l1_slots_per_epoch} slots per epoch)")
        else:
            l1 = l1_url
            managed = False
            wait_for_rpc(l1, timeout=10)
            log(f"L1: using {l1}")
        l1_chain_id = hex_to_int(RpcClient(l1).call("eth_chainId"))
        timings["l1_start"] = time.monotonic() - t0

        t0 = time.monotonic()
        deployment = deploy_l1_contracts(
            l1, keys, DeployConfig(l2_chain_id=l2_chain_id, l2_block_time=l2_block_time),
            initialize_portal=not fault_proofs,
        )
        fp = None
        if fault_proofs:
            fp = deploy_fault_proof_contracts(l1, keys, deployment)
            deployment = dataclasses.replace(
                deployment, addresses={**deployment.addresses, **fp.addresses},
                versions={**deployment.versions, **fp.versions},
            )  # fmt: skip
        write_artifact_json(deployment, directory / "artifact.json")
        write_deployment_json(deployment, directory / "deployment.json")
        timings["l1_deploy"] = time.monotonic() - t0
        log(f"L1 contracts deployed ({deployment.tx_count} txs, {timings['l1_deploy']:.1f}s); "
            f"start block {deployment.start_block.number}")

        t0 = time.monotonic()
        offsets = dict(fork_offsets if fork_offsets is not None else DEFAULT_FORK_OFFSETS)
        gcfg = l2_genesis_config_for(deployment, keys=keys, fork_offsets=offsets)
        genesis = build_l2_genesis(gcfg, workdir=directory / "logs")
        genesis.write(directory / "genesis.json")
        alt: AltDAConfig | None = None
        altda_addresses: dict[str, str] = {}
        if altda:
            alt, altda_addresses = devnet_altda_config(l1, keys.admin.private_key_hex, altda_commitment,
                                                       altda_windows)  # fmt: skip
        extra = {} if seq_window_size is None else {"seq_window_size": seq_window_size}
        rollup = rollup_config_for(deployment, genesis, alt_da=alt, **extra)
        (directory / "rollup.json").write_text(json.dumps(rollup.to_json(), indent=2) + "\n")
        timings["l2_genesis"] = time.monotonic() - t0
        log(f"L2 genesis {'0x' + genesis.block_hash.hex()} at {gcfg.l2_genesis_time} "
            f"({timings['l2_genesis']:.1f}s)")
        if fp is not None:
            t0 = time.monotonic()
            passer = genesis.alloc[L2_TO_L1_MESSAGE_PASSER].account_state().storage_root
            anchor = output_root(genesis.state_root, passer, genesis.block_hash)
            fp = initialize_anchor_state(l1, keys, deployment, fp, anchor, 0)
            timings["fault_proofs_anchor"] = time.monotonic() - t0
            log(f"fault proofs: game type {fp.config.game_type} respected by OptimismPortal2, "
                f"anchor = genesis output root {'0x' + anchor.hex()}")

        t0 = time.monotonic()
        write_jwt_secret(directory / "jwt.txt")
        write_l1_chain_config(directory / "l1-chain-config.json", l1_chain_id, "prague")
        geth = require_peers(["geth"])["geth"]
        geth_init(geth, directory / "geth", directory / "genesis.json",
                  log_path=directory / "logs" / "geth-init.log")  # fmt: skip
        timings["geth_init"] = time.monotonic() - t0
    except BaseException:
        registry.stop_all()
        raise
    timings["init_total"] = time.monotonic() - t_all
    info = DevnetInfo(
        directory=directory,
        l1_url=l1,
        l1_chain_id=l1_chain_id,
        l1_block_time=l1_block_time,
        l1_managed=managed,
        l1_hardfork="prague",
        l2_chain_id=l2_chain_id,
        l2_block_time=rollup.block_time,
        l2_genesis_hash="0x" + genesis.block_hash.hex(),
        l2_genesis_time=gcfg.l2_genesis_time,
        fork_times={f.value: gcfg.fork_time(f) for f in SUPPORTED_FORKS},
        altda=altda,
        ports=ports,
        addresses={**deployment.artifact_json(), **altda_addresses},
        keys=keys.to_json(),
        timings=timings,
        fault_proofs=None if fp is None else fp.to_json(),
    )
    info.write()
    log(f"devnet initialized in {directory} ({timings['init_total']:.1f}s)")
    return info


# --------------------------------------------------------------------------- process argv


def op_node_argv(
    binary: Path,
    info: DevnetInfo,
    *,
    engine_url: str,
    rpc_port: int,
    data_dir: Path,
    sequencer: bool,
    p2p_port: int | None = None,
    da_server_url: str | None = None,
    metrics_port: int | None = None,
    l1_url: str | None = None,
    p2p_static: Sequence[str] | None = None,
) -> list[str]:
    """The Go op-node command line (module docstring); ``sequencer=False`` makes a verifier:
    with ``p2p_static`` (the sequencer's multiaddr, :mod:`pyop.devnet.p2p_peers`) it gossips
    with those peers, without it p2p is off and it derives from L1 only. ``metrics_port``: serve
    Prometheus metrics on 127.0.0.1:port; ``l1_url``: an L1 endpoint other than the devnet's (a
    counting proxy)."""
    bt = info.l1_block_time or 2
    if bt <= 0:
        raise StackError("the L1 block time must be positive")
    argv = [
        str(binary),
        f"--l1={l1_url or info.l1_url}",
        "--l1.rpckind=standard",
        "--l1.trustrpc",
        f"--l1.beacon={info.l1_beacon_url}",
        "--l1.http-poll-interval=1s",
        f"--l1.epoch-poll-interval={bt}s",
        f"--l2={engine_url}",
        f"--l2.jwt-secret={info.jwt_path}",
        "--l2.enginekind=geth",
        f"--rollup.config={info.rollup_path}",
        f"--rollup.l1-chain-config={info.l1_chain_config_path}",
        f"--rpc.addr={HOST}",
        f"--rpc.port={rpc_port}",
        "--rpc.enable-admin",
        f"--safedb.path={data_dir / 'safedb'}",
        "--verifier.l1-confs=0",
        *(["--metrics.enabled=false"] if metrics_port is None else
          ["--metrics.enabled", f"--metrics.addr={HOST}", f"--metrics.port={metrics_port}"]),
        "--log.level=info",
    ]
    if sequencer:
        seq_key = info.key("sequencer").removeprefix("0x")
        argv += [
            "--sequencer.enabled",
            "--sequencer.l1-confs=0",
            *p2p_flags(data_dir, p2p_port or free_port(HOST), static=p2p_static or ()),
            f"--p2p.sequencer.key={seq_key}",
        ]
    elif p2p_static is not None:
        argv += p2p_flags(data_dir, p2p_port or free_port(HOST), static=p2p_static)
    else:
        argv += ["--p2p.disable"]
    if da_server_url is not None:
        argv += [
            "--altda.enabled=true",
            f"--altda.da-server={da_server_url}",
            "--altda.da-service=true",
            "--altda.verify-on-read=false",
        ]
    return argv


def pyop_node_argv(
    info: DevnetInfo,
    *,
    engine_url: str,
    rpc_port: int,
    data_dir: Path,
    sequencer: bool,
    da_server_url: str | None = None,
    extra: Sequence[str] = (),
    python: str = sys.executable,
    metrics_port: int | None = None,
    l1_url: str | None = None,
    p2p_port: int | None = None,
    p2p_static: Sequence[str] | None = None,
) -> list[str]:
    """``pyop node`` with the Go op-node's command line (:func:`op_node_argv`; pyop node takes
    op-node's flag names, the p2p ones included), plus ``extra`` flags (a later flag wins)."""
    go = op_node_argv(
        Path("op-node"), info, engine_url=engine_url, rpc_port=rpc_port, data_dir=data_dir,
        sequencer=sequencer, da_server_url=da_server_url, metrics_port=metrics_port, l1_url=l1_url,
        p2p_port=p2p_port, p2p_static=p2p_static,
    )  # fmt: skip
    return [python, "-m", "pyop.cli", "node", *go[1:], *extra]


def op_batcher_argv(
    binary: Path, info: DevnetInfo, *, da: str, da_server_url: str | None = None, da_service: bool = True
) -> list[str]:
    """The op-batcher command line (module docstring); ``da_service=False``: keccak commitments
    computed by the batcher (``POST /put/<commitment>``)."""
    argv = [
        str(binary),
        f"--l1-eth-rpc={info.l1_url}",
        f"--l2-eth-rpc={info.l2_rpc_url}",
        f"--rollup-rpc={info.rollup_rpc_url}",
        f"--private-key={info.key('batcher').removeprefix('0x')}",
        f"--data-availability-type={da}",
        "--poll-interval=1s",
        "--sub-safety-margin=6",
        "--num-confirmations=1",
        "--max-channel-duration=2",
        "--max-pending-tx=2",
        "--resubmission-timeout=30s",
        "--txmgr.receipt-query-interval=1s",
        f"--rpc.addr={HOST}",
        f"--rpc.port={info.ports['batcherRpc']}",
        "--rpc.enable-admin",
        "--metrics.enabled=false",
        "--log.level=info",
    ]
    if da_server_url is not None:
        argv += [
            "--altda.enabled=true",
            f"--altda.da-server={da_server_url}",
            f"--altda.da-service={'true' if da_service else 'false'}",
            "--altda.verify-on-read=false",
        ]
    return argv


def pyop_batcher_argv(
    info: DevnetInfo,
    *,
    da: str,
    da_server_url: str | None = None,
    da_service: bool = True,
    extra: Sequence[str] = (),
    python: str = sys.executable,
) -> list[str]:
    """``pyop batcher`` with the Go op-batcher's command line (:func:`op_batcher_argv`; pyop
    batcher takes op-batcher's flag names), plus ``extra`` flags (a later flag wins)."""
    go = op_batcher_argv(Path("op-batcher"), info, da=da, da_server_url=da_server_url,
                         da_service=da_service)  # fmt: skip
    return [python, "-m", "pyop.cli", "batcher", *go[1:], *extra]


def op_proposer_argv(binary: Path, info: DevnetInfo) -> list[str]:
    """The L2OutputOracle op-proposer command line (the seed's flags, faster polling)."""
    return [
        str(binary),
        f"--l1-eth-rpc={info.l1_url}",
        f"--rollup-rpc={info.rollup_rpc_url}",
        f"--l2oo-address={info.addresses['L2OutputOracleProxy']}",
        f"--private-key={info.key('proposer').removeprefix('0x')}",
        "--poll-interval=2s",
        "--allow-non-finalized=true",
        "--num-confirmations=1",
        "--txmgr.receipt-query-interval=1s",
        f"--rpc.addr={HOST}",
        f"--rpc.port={info.ports['proposerRpc']}",
        "--metrics.enabled=false",
        "--log.level=info",
    ]


# --------------------------------------------------------------------------- up / down


@dataclass
class Stack:
    """What :func:`start_stack` started (all also in ``DIR/pids.json``)."""

    info: DevnetInfo
    registry: PidRegistry
    op_geth: OpGethProcess
    processes: dict[str, ManagedProcess] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    def stop(self) -> dict[str, str]:
        """Stop what this stack started (not anvil), newest first."""
        out: dict[str, str] = {}
        for name in reversed(list(self.processes)):
            proc = self.processes[name]
            t = 20.0 if name.endswith("op-geth") else 10.0
            out[name] = proc.stop(sigint_timeout=t)
            self.registry.remove(name)
        return out

    def log_paths(self) -> dict[str, Path]:
        return {n: p.log_path for n, p in self.processes.items()}


def _ensure_anvil(info: DevnetInfo, registry: PidRegistry) -> None:
    if not info.l1_managed:
        return
    anvil = registry.get("anvil")
    if anvil is None or not anvil.alive():
        raise StackError(
            f"the devnet's anvil (L1 {info.l1_url}) is not running; its state is lost, so "
            "re-create the devnet (`pyop devnet down DIR`, remove DIR, `pyop devnet init DIR`)"
        )


def _start(
    stack: Stack, name: str, argv: Sequence[str], *, cwd: Path | None = None
) -> ManagedProcess:
    if stack.registry.get(name) is not None and stack.registry.get(name).alive():  # type: ignore[union-attr]
        raise StackError(f"{name} is already running for this devnet (`pyop devnet down` first)")
    proc = start_process(
        name, argv, log_path=stack.info.logs_dir / f"{name}.log", cwd=cwd, registry=stack.registry
    )
    stack.processes[name] = proc
    return proc


def wait_unsafe_caught_up(
    rollup_url: str, *, block_time: int, timeout: float, process: ManagedProcess | None = None
) -> dict[str, Any]:
    """Poll ``optimism_syncStatus`` until the unsafe L2 head is within two blocks of now."""
    client = RpcClient(rollup_url, timeout=5.0)
    deadline = time.monotonic() + timeout
    while True:
        if process is not None and not process.alive():
            raise StackError(f"{process.name} exited; log {process.log_path}:\n"
                             f"{process.log_tail()}")
        try:
            st = client.call("optimism_syncStatus")
            if int(st["unsafe_l2"]["timestamp"]) >= time.time() - 2 * block_time - 1:
                return dict(st)
        except (RpcError, RpcTransportError, KeyError, TypeError, ValueError):
            pass
        if time.monotonic() >= deadline:
            raise StackError(f"op-node at {rollup_url} did not catch up with the wall clock "
                             f"within {timeout:.0f}s")
        time.sleep(0.5)


def start_stack(
    info: DevnetInfo,
    *,
    stack: str = "go",
    da: str = "calldata",
    batcher: bool = True,
    proposer: bool = True,
    log: Log = _print,
    roles: Roles | None = None,
    batcher_extra: Sequence[str] = (),
    node_metrics_port: int | None = None,
    node_l1_url: str | None = None,
    catch_up_timeout: float | None = 180.0,
) -> Stack:
    """Start op-geth and, for ``stack="go"``, the Go op-node sequencer, op-batcher (``da`` =
    ``calldata``, ``blobs`` or ``auto``) and op-proposer (plus the DA server on an alt-DA
    devnet); for ``stack="pyop"`` the same with ``pyop node`` (process ``pyop-node``) as the
    sequencer in place of the Go op-node. ``roles`` (:mod:`pyop.devnet.roles`) picks the kind of
    each role instead (``pyop batcher`` runs as process ``pyop-batcher`` with ``batcher_extra``
    flags). The batcher starts once the sequencer's unsafe head has caught up with the wall
    clock (within ``catch_up_timeout`` seconds; ``None``: at once, for a devnet living in the
    past that catches up for longer, see :func:`pyop.devnet.anvil.set_time_lapse`). On any
    failure everything this call started is stopped again."""
    if stack not in STACKS:
        raise StackError(f"unknown stack {stack!r} (choose from {', '.join(STACKS)})")
    if da not in DA_TYPES:
        raise StackError(f"unknown DA type {da!r} (choose from {', '.join(DA_TYPES)})")
    if roles is None:
        roles = Roles(node="pyop") if stack == "pyop" else Roles()
    names = ["geth"]
    if stack != "none":
        names += [n for n, role, on in (("op-node", "node", True), ("op-batcher", "batcher", batcher),
                                        ("op-proposer", "proposer", proposer))
                  if on and roles.kind(role) == "go"]  # fmt: skip
    bins = require_peers(names)
    if "op-proposer" in bins and info.fault_proofs is not None:
        dgf = find_dgf_op_proposer()
        if dgf is None:
            raise StackError("no op-proposer with --game-factory-address in the peers cache")
        bins["op-proposer"] = dgf
    registry = PidRegistry(info.directory)
    _ensure_anvil(info, registry)
    t_all = time.monotonic()
    t0 = time.monotonic()
    if registry.get("op-geth") is not None and registry.get("op-geth").alive():  # type: ignore[union-attr]
        raise StackError("op-geth is already running for this devnet (`pyop devnet down` first)")
    geth = start_op_geth(
        bins["geth"], info.geth_datadir, http_port=info.ports["gethHttp"],
        authrpc_port=info.ports["gethAuth"], jwt_path=info.jwt_path,
        log_path=info.logs_dir / "op-geth.log", network_id=info.l2_chain_id, host=HOST,
        registry=registry, extra_flags=OP_GETH_EXTRA_FLAGS,
    )  # fmt: skip
    st = Stack(info=info, registry=registry, op_geth=geth, processes={"op-geth": geth.process})
    st.timings["op_geth"] = time.monotonic() - t0
    log(f"op-geth pid {geth.pid}: {geth.http_url} (engine {geth.authrpc_url})")
    try:
        ensure_beacon_shim(info, registry, st)
    except BaseException:
        st.stop()
        raise
    if stack == "none":
        st.timings["up_total"] = time.monotonic() - t_all
        return st
    try:
        da_url = None
        if info.altda:
            t0 = time.monotonic()
            proc, da_url = start_da_server_process(
                info.logs_dir, info.ports["daServer"], host=HOST, registry=registry,
                commitment_type=altda_commitment_of(info.rollup_path) or "generic",
            )  # fmt: skip
            st.processes["da-server"] = proc
            st.timings["da_server"] = time.monotonic() - t0
            log(f"alt-DA server pid {proc.pid}: {da_url}")
        t0 = time.monotonic()
        write_roles(info.directory, roles)
        node_dir = info.directory / roles.process_name("node")
        node_dir.mkdir(exist_ok=True)
        ensure_network_key(node_dir)  # its peer ID is then known to the verifier's --p2p.static
        if roles.node == "pyop":
            node = _start(st, "pyop-node", pyop_node_argv(
                info, engine_url=geth.authrpc_url, rpc_port=info.ports["opNodeRpc"],
                data_dir=node_dir, sequencer=True, da_server_url=da_url, metrics_port=node_metrics_port,
                l1_url=node_l1_url, p2p_port=info.ports["opNodeP2p"],
            ), cwd=node_dir)  # fmt: skip
        else:
            node = _start(st, "op-node", op_node_argv(
                bins["op-node"], info, engine_url=geth.authrpc_url,
                rpc_port=info.ports["opNodeRpc"], data_dir=node_dir, sequencer=True,
                p2p_port=info.ports["opNodeP2p"], da_server_url=da_url, metrics_port=node_metrics_port,
                l1_url=node_l1_url,
            ), cwd=node_dir)  # fmt: skip
        wait_for_rpc(info.rollup_rpc_url, method="optimism_syncStatus", timeout=60, process=node)
        st.timings["op_node_rpc"] = time.monotonic() - t0
        log(f"{node.name} pid {node.pid}: {info.rollup_rpc_url}")
        if catch_up_timeout is not None:
            wait_unsafe_caught_up(
                info.rollup_rpc_url, block_time=info.l2_block_time, timeout=catch_up_timeout, process=node
            )
        st.timings["op_node_caught_up"] = time.monotonic() - t0
        if batcher:
            t0 = time.monotonic()
            bda = "calldata" if info.altda else da
            da_service = altda_commitment_of(info.rollup_path) != "keccak"
            if roles.batcher == "pyop":
                b = _start(st, "pyop-batcher", pyop_batcher_argv(
                    info, da=bda, da_server_url=da_url, da_service=da_service, extra=batcher_extra))  # fmt: skip
            else:
                b = _start(st, "op-batcher", op_batcher_argv(
                    bins["op-batcher"], info, da=bda, da_server_url=da_url, da_service=da_service,
                ))  # fmt: skip
            wait_for_http(info.url("batcherRpc"), timeout=60, process=b)
            st.timings["op_batcher"] = time.monotonic() - t0
            log(f"{b.name} pid {b.pid} ({'alt-DA' if info.altda else da})")
        if "op-proposer" in bins:
            t0 = time.monotonic()
            argv = (go_dgf_proposer_argv(bins["op-proposer"], info,
                                         rpc_port=info.ports["proposerRpc"])
                    if info.fault_proofs is not None
                    else op_proposer_argv(bins["op-proposer"], info))  # fmt: skip
            p = _start(st, "op-proposer", argv)
            wait_for_http(info.url("proposerRpc"), timeout=30, process=p)
            st.timings["op_proposer"] = time.monotonic() - t0
            log(f"op-proposer pid {p.pid} ({bins['op-proposer']})")
        elif proposer and roles.proposer == "pyop":
            t0 = time.monotonic()
            p = _start(st, "pyop-proposer", pyop_proposer_argv(
                info, rpc_port=info.ports["proposerRpc"],
                metrics_port=info.ports.get("proposerMetrics"),
            ))  # fmt: skip
            wait_for_http(info.url("proposerRpc") + "/healthz", timeout=60, process=p)
            st.timings["pyop_proposer"] = time.monotonic() - t0
            log(f"pyop proposer pid {p.pid}")
        if info.fault_proofs is not None:
            start_game_resolver(st)
        time.sleep(STARTUP_GRACE)
        dead = [p for p in st.processes.values() if not p.alive()]
        if dead:
            raise StackError("; ".join(
                f"{p.name} exited right after start; log {p.log_path}:\n{p.log_tail(10)}"
                for p in dead
            ))
    except BaseException:
        st.stop()
        raise
    st.timings["up_total"] = time.monotonic() - t_all
    return st


def start_game_resolver(stack: Stack, *, log: Log = _print) -> ManagedProcess:
    """On a fault-proof devnet: :mod:`pyop.devnet.game_resolver` (process ``game-resolver``),
    which resolves unchallenged games once their clock ran out, as op-challenger would."""
    info = stack.info
    proc = _start(stack, "game-resolver", [
        sys.executable, "-m", "pyop.devnet.game_resolver", f"--l1={info.l1_url}",
        f"--game-factory-address={info.addresses['DisputeGameFactoryProxy']}",
        f"--private-key={info.key('challenger')}", "--poll-interval=1",
    ])  # fmt: skip
    log(f"game resolver pid {proc.pid} (challenger key)")
    return proc


def ensure_beacon_shim(info: DevnetInfo, registry: PidRegistry, stack: Stack | None = None) -> None:
    """Start the beacon shim (:mod:`pyop.devnet.beacon_shim`) unless it already runs."""
    cur = registry.get("beacon-shim")
    if cur is not None and cur.alive():
        return
    proc, _url = start_beacon_shim_process(
        info.logs_dir, info.l1_url, info.l1_block_time or 2, info.ports["beaconShim"],
        host=HOST, registry=registry,
    )  # fmt: skip
    if stack is not None:
        stack.processes["beacon-shim"] = proc


def stop_devnet(directory: Path) -> dict[str, str]:
    """Stop every process registered in ``DIR/pids.json`` (anvil included), newest first."""
    return PidRegistry(Path(directory)).stop_all(sigint_timeout=20.0)


def _adopt_restarted(stack: Stack, dead: list[str]) -> list[str]:
    """Of the ``dead`` processes of ``stack``, those that really died: a process restarted
    under the same name (a new PID in ``DIR/pids.json``) replaces the old one in ``stack``, and
    one stopped on purpose (``DIR/faults.json``, :mod:`pyop.devnet.live_faults`) is waited for."""
    from pyop.devnet.live_faults import deliberately_down

    down = deliberately_down(stack.info.directory)
    really = []
    for name in dead:
        cur = stack.registry.get(name)
        if cur is not None and cur.pid != stack.processes[name].pid and cur.alive():
            stack.processes[name] = cur
        elif name not in down:
            really.append(name)
    return really


def run_foreground(stack: Stack, *, log: Log = _print, poll: float = 1.0,
                   anvil_note: bool = True) -> int:
    """Wait until Ctrl-C (or SIGTERM) or until a process of ``stack`` exits, then stop what the
    stack started (anvil keeps running: its state is the devnet's L1). Returns an exit status."""
    import signal

    def _term(_sig: int, _frame: object) -> None:
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGTERM, _term)
    # Also when started with SIGINT ignored (a background job of a non-interactive shell).
    old_int = signal.signal(signal.SIGINT, signal.default_int_handler)
    status = 0
    try:
        while True:
            dead = [n for n, p in stack.processes.items() if not p.alive()]
            if dead:
                dead = _adopt_restarted(stack, dead)
            if dead:
                for n in dead:
                    p = stack.processes[n]
                    log(f"{n} exited (code {p.returncode}); log {p.log_path}:\n{p.log_tail(15)}")
                status = 1
                break
            time.sleep(poll)
    except KeyboardInterrupt:
        log("stopping ...")
    finally:
        outcomes = stack.stop()
        signal.signal(signal.SIGTERM, old)
        signal.signal(signal.SIGINT, old_int)
    for n, how in outcomes.items():
        log(f"  {n}: {how}")
    if stack.info.l1_managed and anvil_note:
        log(f"anvil keeps running (L1 {stack.info.l1_url}); `pyop devnet down "
            f"{stack.info.directory}` stops it")
    return status


__all__ = [
    "DA_TYPES",
    "DEVNET_JSON",
    "PEERS",
    "STACKS",
    "VERIFIER_KINDS",
    "DevnetInfo",
    "Stack",
    "StackError",
    "Verifier",
    "allocate_ports",
    "find_peer",
    "init_devnet",
    "load_devnet",
    "op_batcher_argv",
    "op_node_argv",
    "op_proposer_argv",
    "parse_fork_offsets",
    "peers_cache",
    "pyop_batcher_argv",
    "pyop_node_argv",
    "require_peers",
    "run_foreground",
    "start_game_resolver",
    "start_stack",
    "start_verifier",
    "stop_devnet",
    "wait_unsafe_caught_up",
]


# The verifier lives in pyop.devnet.verifier (what to start); re-exported here so existing
# imports (``from pyop.devnet.stack import Verifier, start_verifier``) keep working.
from pyop.devnet.verifier import Verifier, start_verifier  # noqa: E402
