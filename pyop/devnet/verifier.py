"""The differential devnet's second node: a verifier (a second op-geth from the same genesis plus
a rollup node without a sequencer, the Go op-node with p2p off or ``pyop node``) that follows
the chain from L1 only, beside the devnet's sequencer.

``pyop devnet up DIR --verifier pyop|go`` starts it on the devnet's ``verifier*`` ports; its URLs
are in ``devnet.json`` under ``urls`` (``verifierL2``, ``verifierL2Auth``, ``verifierRollup``), and
``pyop devnet status DIR`` shows its heads next to the sequencer's (:func:`devnet_verifier_kind`
tells which kind runs). Tests start more verifiers under other names on free ports, and compare
any two nodes with :class:`pyop.devnet.compare.HeadComparator`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pyop.devnet.compare import NodeEndpoints
from pyop.devnet.geth import OpGethProcess, geth_init, start_op_geth
from pyop.devnet.process import ManagedProcess, PidRegistry, free_port, start_process, wait_for_rpc
from pyop.devnet.stack import (
    HOST,
    OP_GETH_EXTRA_FLAGS,
    VERIFIER_KINDS,
    DevnetInfo,
    StackError,
    ensure_beacon_shim,
    op_node_argv,
    pyop_node_argv,
    require_peers,
)

VERIFIER_NAME = "verifier"


@dataclass
class Verifier:
    """A second op-geth plus a rollup node without a sequencer (the Go op-node with p2p off, or
    ``pyop node``): it derives from L1 only."""

    op_geth: OpGethProcess
    op_node: ManagedProcess
    rollup_rpc_url: str
    kind: str = "go"

    @property
    def l2_rpc_url(self) -> str:
        return self.op_geth.http_url

    def endpoints(self, name: str | None = None) -> NodeEndpoints:
        """For :class:`pyop.devnet.compare.HeadComparator`."""
        return NodeEndpoints(name or self.op_node.name, self.rollup_rpc_url, self.l2_rpc_url)

    def stop(self, registry: PidRegistry) -> None:
        for proc in (self.op_node, self.op_geth.process):
            proc.stop(sigint_timeout=20.0)
            registry.remove(proc.name)


def start_verifier(
    info: DevnetInfo,
    *,
    name: str = "verifier",
    kind: str = "go",
    ports: Mapping[str, int] | None = None,
    extra: Sequence[str] = (),
    metrics_port: int | None = None,
    l1_url: str | None = None,
) -> Verifier:
    """Initialize ``DIR/<name>-geth`` from the same genesis and start op-geth + a verifier
    rollup node (``kind="go"``: the Go op-node, process ``<name>-op-node``; ``kind="pyop"``:
    ``pyop node``, process ``<name>-pyop-node``, with ``extra`` flags). ``ports`` (``http``,
    ``auth``, ``rpc``): the ``verifier*`` ports of the devnet for ``name="verifier"``, free
    ones otherwise. ``metrics_port``: Prometheus metrics on 127.0.0.1; ``l1_url``: another L1
    endpoint (a counting proxy)."""
    if kind not in VERIFIER_KINDS:
        raise StackError(f"unknown verifier kind {kind!r} (choose from {', '.join(VERIFIER_KINDS)})")
    bins = require_peers(["geth", "op-node"] if kind == "go" else ["geth"])
    if ports is None:
        if name == "verifier":
            ports = {"http": info.ports["verifierGethHttp"], "auth": info.ports["verifierGethAuth"],
                     "rpc": info.ports["verifierOpNodeRpc"]}  # fmt: skip
        else:
            ports = {k: free_port(HOST) for k in ("http", "auth", "rpc")}
    registry = PidRegistry(info.directory)
    ensure_beacon_shim(info, registry)
    datadir = info.directory / f"{name}-geth"
    if not (datadir / "geth").exists():
        geth_init(bins["geth"], datadir, info.genesis_path,
                  log_path=info.logs_dir / f"{name}-geth-init.log")  # fmt: skip
    geth = start_op_geth(
        bins["geth"], datadir, http_port=ports["http"],
        authrpc_port=ports["auth"], jwt_path=info.jwt_path,
        log_path=info.logs_dir / f"{name}-op-geth.log", network_id=info.l2_chain_id, host=HOST,
        registry=registry, name=f"{name}-op-geth", extra_flags=OP_GETH_EXTRA_FLAGS,
    )  # fmt: skip
    node_name = f"{name}-op-node" if kind == "go" else f"{name}-pyop-node"
    node_dir = info.directory / node_name
    node_dir.mkdir(exist_ok=True)
    da_url = info.url("daServer") if info.altda else None
    try:
        if kind == "go":
            argv = op_node_argv(
                bins["op-node"], info, engine_url=geth.authrpc_url, rpc_port=ports["rpc"],
                data_dir=node_dir, sequencer=False, da_server_url=da_url, metrics_port=metrics_port,
                l1_url=l1_url,
            )  # fmt: skip
        else:
            argv = pyop_node_argv(
                info, engine_url=geth.authrpc_url, rpc_port=ports["rpc"], data_dir=node_dir,
                sequencer=False, da_server_url=da_url, extra=extra, metrics_port=metrics_port,
                l1_url=l1_url,
            )  # fmt: skip
        node = start_process(
            node_name,
            argv,
            log_path=info.logs_dir / f"{node_name}.log", cwd=node_dir, registry=registry,
        )
        url = f"http://{HOST}:{ports['rpc']}"
        wait_for_rpc(url, method="optimism_syncStatus", timeout=60, process=node)
    except BaseException:
        geth.stop()
        registry.remove(geth.process.name)
        raise
    return Verifier(op_geth=geth, op_node=node, rollup_rpc_url=url, kind=kind)


def devnet_verifier_kind(info: DevnetInfo) -> str | None:
    """``go`` or ``pyop`` when ``pyop devnet up --verifier`` started the devnet's verifier (its
    process is registered), else ``None``."""
    reg = PidRegistry(info.directory)
    for kind, name in (("go", f"{VERIFIER_NAME}-op-node"), ("pyop", f"{VERIFIER_NAME}-pyop-node")):
        if reg.get(name) is not None:
            return kind
    return None


def sequencer_endpoints(info: DevnetInfo) -> NodeEndpoints:
    return NodeEndpoints("sequencer", info.rollup_rpc_url, info.l2_rpc_url)


def verifier_endpoints(info: DevnetInfo, kind: str | None = None) -> NodeEndpoints:
    name = f"verifier ({kind})" if kind else "verifier"
    return NodeEndpoints(name, info.verifier_rollup_rpc_url, info.verifier_l2_rpc_url)


__all__ = [
    "VERIFIER_NAME",
    "Verifier",
    "devnet_verifier_kind",
    "sequencer_endpoints",
    "start_verifier",
    "verifier_endpoints",
]
