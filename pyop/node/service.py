"""``pyop node``: build the node from its flags and run it (op-node ``op-node/node/node.go``
``OpNode``: L1 source, beacon client, L2 engine client, driver, RPC and metrics servers).

    pyop node --l1=http://127.0.0.1:8545 --l1.beacon=http://127.0.0.1:8545 \\
        --l2=http://127.0.0.1:8551 --l2.jwt-secret=jwt.txt --rollup.config=rollup.json \\
        --sequencer.enabled --sequencer.l1-confs=0 --rpc.port=9545 --rpc.enable-admin

SIGINT / SIGTERM stop the node cleanly: loops are cancelled, servers and clients closed, the
safe db flushed; exit status 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from pyop.config import RollupConfig, load_rollup_config, network_config
from pyop.config.l1_chains import (
    L1BlobSchedule,
    L1ChainConfigError,
    load_l1_blob_schedule,
    resolve_l1_blob_schedule,
)
from pyop.derivation.attributes import AttributesBuilder
from pyop.derivation.driver import DerivationPipeline
from pyop.engine.client import EngineClient
from pyop.engine.controller import EngineController
from pyop.engine.jwt import load_jwt_secret
from pyop.engine.sequencer import Sequencer
from pyop.node.altda_finality import AltDAFinality
from pyop.node.api import VERSION, RollupAPI
from pyop.node.bridge import BridgedL1Source, BridgedL2Source, LoopBridge
from pyop.node.config import HelpRequested, NodeConfig, NodeConfigError, parse_node_args
from pyop.node.driver import Driver, DriverObserver
from pyop.node.l1_watcher import ConfDepthL1Source, L1Watcher
from pyop.node.logs import kv, setup_logging
from pyop.node.metrics import NodeMetrics
from pyop.node.rpc_server import HTTPServer, metrics_app, rpc_app
from pyop.node.safedb import open_safedb
from pyop.primitives import PyopError
from pyop.sources.altda import AltDAClient, AltDAHTTPSource
from pyop.sources.beacon import BeaconBlobSource
from pyop.sources.l1 import AsyncL1Client
from pyop.sources.rpc import AsyncHTTPClient, AsyncRPCClient, LoopThread

log = logging.getLogger("pyop.node.service")


def node_l1_blob_schedule(cfg: RollupConfig, path: str) -> L1BlobSchedule:
    """op-node ``NewL1ChainConfig``: the built-in schedule of mainnet / Sepolia / Holesky / Hoodi
    (``--rollup.l1-chain-config`` is then ignored, with a warning), else the file's, which must
    match the L1 chain id and carry a ``blobSchedule``; an unknown L1 without the flag is a
    :class:`NodeConfigError` (op-node refuses to start too)."""
    try:
        configured = load_l1_blob_schedule(path) if path else None
        sched = resolve_l1_blob_schedule(cfg.l1_chain_id, configured)
    except L1ChainConfigError as e:
        raise NodeConfigError(str(e)) from None
    if configured is not None and sched is not configured:
        log.warning("--rollup.l1-chain-config ignored: using the built-in L1 chain config",
                    extra=kv(l1_chain_id=cfg.l1_chain_id, path=path))  # fmt: skip
    return sched


def load_jwt(path: str) -> bytes:
    """The engine JWT secret; like op-node, a missing file gets a new random secret."""
    p = Path(path)
    if not p.exists():
        secret = secrets.token_bytes(32)
        p.write_text("0x" + secret.hex())
        log.warning("generated a new JWT secret", extra=kv(path=str(p)))
        return secret
    return load_jwt_secret(p)


def load_config(ncfg: NodeConfig) -> RollupConfig:
    """``--network`` wins over ``--rollup.config`` (op-node)."""
    if ncfg.network:
        if ncfg.rollup_config:
            log.warning("both --network and --rollup.config given; using --network", extra=kv(network=ncfg.network))
        return network_config(ncfg.network)
    return load_rollup_config(ncfg.rollup_config)


class NodeService:
    """The whole node. ``await run()`` until cancelled; :attr:`rpc_url` once :attr:`ready`."""

    def __init__(self, ncfg: NodeConfig, cfg: RollupConfig | None = None) -> None:
        self.ncfg = ncfg
        self.cfg = cfg if cfg is not None else load_config(ncfg)
        self.metrics = NodeMetrics()
        self.ready = asyncio.Event()
        self.rpc: HTTPServer | None = None
        self.metrics_server: HTTPServer | None = None
        self.driver: Driver | None = None
        self.engine: EngineController | None = None

    @property
    def rpc_url(self) -> str:
        if self.rpc is None:
            raise PyopError("RPC server not started")
        return self.rpc.url

    async def run(self) -> None:
        n, cfg = self.ncfg, self.cfg
        if n.ignored:
            log.info("accepted op-node flags without effect in pyop", extra=kv(flags=",".join(n.ignored)))
        if n.altda_enabled and cfg.alt_da is None:
            raise NodeConfigError("--altda.enabled but the rollup config has no alt_da section")
        if n.altda_enabled and cfg.alt_da is not None:  # op-node rollup.Config.GetOPAltDAConfig
            for what, v in (("DAChallengeWindow", cfg.alt_da.da_challenge_window),
                            ("DAResolveWindow", cfg.alt_da.da_resolve_window)):  # fmt: skip
                if v == 0:
                    raise NodeConfigError(f"failed to get altDA config: missing {what}")
        if cfg.ecotone_time is not None and not n.l1_beacon and not n.l1_beacon_ignore:
            raise NodeConfigError("missing L1 beacon endpoint: --l1.beacon is required once Ecotone is "
                                  "scheduled (or pass --l1.beacon.ignore)")  # fmt: skip
        blob_schedule = node_l1_blob_schedule(cfg, n.rollup_l1_chain_config)
        if cfg.lagoon_time is not None:
            # op-node config.Check refuses a Lagoon schedule without an interop dependency set
            # (--interop.dependency-set or the registry's); pyop models none, and the Lagoon
            # activation block depends on it (interop wrapper deposits when it has >1 chain).
            raise NodeConfigError(
                f"lagoon_time is set ({cfg.lagoon_time}): Lagoon needs an interop dependency set "
                "(op-node --interop.dependency-set), which pyop node does not support"
            )
        loop = asyncio.get_running_loop()
        bridge = LoopBridge(loop)
        io_thread = LoopThread("pyop-node-io")
        l1_client = AsyncL1Client(AsyncRPCClient(n.l1), verify=not n.l1_trustrpc)
        engine_client = EngineClient(n.l2, load_jwt(n.l2_jwt_secret), on_call=self.metrics.record_engine_call)
        safedb = open_safedb(n.safedb_path)
        blobs = BeaconBlobSource.connect(n.l1_beacon, loop=io_thread) if n.l1_beacon else None
        altda = None
        if n.altda_enabled:
            altda = AltDAHTTPSource(AltDAClient(AsyncHTTPClient(n.altda_da_server), verify=n.altda_verify_on_read),
                                    io_thread)  # fmt: skip
        lock = asyncio.Lock()
        try:
            engine = EngineController(cfg, engine_client, l1=l1_client)
            self.engine = engine
            watcher = L1Watcher(l1_client, poll_interval=min(1.0, n.l1_http_poll_interval), metrics=self.metrics)
            l1_sync = BridgedL1Source(l1_client, bridge)
            l2_sync = BridgedL2Source(engine.l2, cfg, bridge)
            pipeline = DerivationPipeline(
                cfg, ConfDepthL1Source(l1_sync, lambda: watcher.head, n.verifier_l1_confs), l2_sync,
                blobs=blobs, altda=altda, observer=DriverObserver(self.metrics), blob_schedule=blob_schedule,
            )  # fmt: skip
            pipeline.explainer.keep = False  # a long-running node must not keep every record
            da_fin = AltDAFinality(pipeline.altda) if pipeline.altda is not None else None
            driver = Driver(cfg, engine, pipeline, watcher, l1_client, safedb=safedb,
                            metrics=self.metrics, engine_lock=lock, altda_finality=da_fin)  # fmt: skip
            self.driver = driver
            if n.sequencer_enabled:
                builder = AttributesBuilder(cfg, l1_sync, l2_sync, blob_schedule=blob_schedule)

                async def reset(reason: str) -> None:
                    await driver.request_reset(reason, stage="sequencer")

                seq = Sequencer(cfg, engine, l1_client, builder, l1_confs=n.sequencer_l1_confs,
                                l1_head=lambda: watcher.head, engine_lock=lock, request_reset=reset,
                                active=not n.sequencer_stopped)  # fmt: skip
                seq.on_sealed(lambda s, o: self.metrics.sequenced_blocks.inc())
                driver.sequencer = seq
                self.metrics.sequencer_active.set(0 if n.sequencer_stopped else 1)
            api = RollupAPI(cfg, driver, engine_client, engine.l2, safedb, admin=n.rpc_enable_admin,
                            on_request=lambda m: self.metrics.rpc_requests.inc(m))  # fmt: skip
            self.rpc = HTTPServer(rpc_app(api), n.rpc_addr, n.rpc_port)
            await self.rpc.start()
            if n.metrics_enabled:
                self.metrics_server = HTTPServer(metrics_app(self.metrics), n.metrics_addr, n.metrics_port)
                await self.metrics_server.start()
            self.metrics.info.set(1, VERSION)
            self.metrics.up.set(1)
            log.info("pyop node started", extra=kv(
                version=VERSION, rpc=self.rpc.url, sequencer=n.sequencer_enabled,
                l2_chain_id=cfg.l2_chain_id, metrics=self.metrics_server.url if self.metrics_server else "off"))  # fmt: skip
            self.ready.set()
            await driver.run()
        finally:
            bridge.close()
            if self.rpc is not None:
                await self.rpc.close()
            if self.metrics_server is not None:
                await self.metrics_server.close()
            await engine_client.close()
            await l1_client.close()
            for src in (blobs, altda):
                if src is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.to_thread(src.close)
            with contextlib.suppress(Exception):
                await asyncio.to_thread(io_thread.close)
            safedb.close()
            log.info("pyop node stopped")


async def run_node(ncfg: NodeConfig) -> int:
    """Run until SIGINT/SIGTERM; 0 on a clean stop."""
    svc = NodeService(ncfg)
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    stopping = False

    def stop(signame: str) -> None:
        nonlocal stopping
        if not stopping and task is not None:
            stopping = True
            log.info("stopping on signal", extra=kv(signal=signame))
            task.cancel()

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop, sig.name)
    try:
        await svc.run()
    except asyncio.CancelledError:
        if not stopping:
            raise
        return 0
    return 0


def main(argv: Sequence[str], env: dict[str, str] | None = None) -> int:
    """``pyop node`` entry point (flag errors: one line on stderr, exit 1)."""
    try:
        ncfg = parse_node_args(argv, os.environ if env is None else env)
        ncfg.check()
    except HelpRequested as h:
        with contextlib.suppress(BrokenPipeError):
            print(str(h))
        return 0
    except NodeConfigError as e:
        print(f"pyop node: error: {e}", file=sys.stderr)
        return 1
    setup_logging(ncfg.log_level)
    level = ncfg.log_level.lower()
    logging.getLogger("pyop.derivation").setLevel(logging.DEBUG if level in ("debug", "trace") else logging.ERROR)
    try:
        return asyncio.run(run_node(ncfg))
    except KeyboardInterrupt:
        return 130
    except PyopError as e:
        log.critical("pyop node failed", extra=kv(err=f"{type(e).__name__}: {e}"))
        return 1
