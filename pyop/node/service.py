"""``pyop node``: build the node from its flags and run it (op-node ``op-node/node/node.go``
``OpNode``: L1 source, beacon client, L2 engine client, driver, RPC and metrics servers).

    pyop node --l1=http://127.0.0.1:8545 --l1.beacon=http://127.0.0.1:8545 \\
        --l2=http://127.0.0.1:8551 --l2.jwt-secret=jwt.txt --rollup.config=rollup.json \\
        --sequencer.enabled --sequencer.l1-confs=0 --rpc.port=9545 --rpc.enable-admin

SIGINT / SIGTERM stop the node cleanly: loops are cancelled, servers and clients closed, the
safe db flushed; exit status 0. A critical error (op-node ``CriticalErrorEvent``) is logged as
one ``Critical error`` line (``err=<type>: <message>``, the place it was raised) and the node
exits with status 1: never a Python traceback, also not the ``ExceptionGroup`` of the driver's
task group.

Start-up lines name everything given that pyop does not do: op-node flags accepted without
effect (and op-node's deprecated no-op flags), discv5 (pyop has none: only ``--p2p.static``
peers), ``--p2p.sequencer.key`` with ``--p2p.disable`` (blocks are then not gossiped), and the
rollup RPC address when it is op-node's default ``0.0.0.0`` (reachable from other hosts, as with
op-node, admin API included if enabled).

P2P (:mod:`pyop.p2p`, unless ``--p2p.disable``): the unsafe block signer is loaded from the L1
SystemConfig before the node starts (:class:`pyop.p2p.runtime_config.RuntimeConfig`) and
reloaded every ``--l1.runtime-config-reload-interval``; blocks ACCEPTed from gossip join the
engine's unsafe-payload queue (as ``admin_postUnsafePayload``'s do); the sequencer signs and
publishes every block it seals, without waiting for the publish (op-node's async gossiper);
``opp2p_*`` is served on the rollup RPC.
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
from pyop.engine.l2_reader import EngineL2Reader
from pyop.engine.sequencer import Sequencer
from pyop.node.admin_state import AdminState
from pyop.node.altda_finality import AltDAFinality
from pyop.node.api import VERSION, RollupAPI
from pyop.node.bridge import BridgedL1Source, BridgedL2Source, LoopBridge
from pyop.node.config import (
    HelpRequested,
    NodeConfig,
    NodeConfigError,
    apply_overrides,
    beacon_header,
    parse_node_args,
)
from pyop.node.driver import Driver, DriverObserver
from pyop.node.instrument import MeteredL1Client, MeteredRPCClient
from pyop.node.l1_watcher import ConfDepthL1Source, L1Watcher
from pyop.node.logs import kv, setup_logging
from pyop.node.metrics import NodeMetrics
from pyop.node.p2p import p2p_config
from pyop.node.rpc_server import HTTPServer, metrics_app, rpc_app
from pyop.node.safedb import open_safedb
from pyop.p2p.host import P2PHostError
from pyop.p2p.node import P2PConfig, P2PError, P2PNode
from pyop.p2p.rpc_api import P2PAPI
from pyop.p2p.runtime_config import RuntimeConfig
from pyop.primitives import ExecutionPayload, PyopError, to_hex
from pyop.sources.altda import AltDAClient, AltDAHTTPSource
from pyop.sources.beacon import BeaconBlobSource
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
    """``--network`` wins over ``--rollup.config`` (op-node); then the ``--override.*`` flags
    (op-node ``NewRollupConfigFromCLI`` -> ``applyOverrides``)."""
    if ncfg.network:
        if ncfg.rollup_config:
            log.warning("both --network and --rollup.config given; using --network", extra=kv(network=ncfg.network))
        cfg = network_config(ncfg.network)
    else:
        cfg = load_rollup_config(ncfg.rollup_config)
    out = apply_overrides(cfg, ncfg)
    for fork, ts in sorted(ncfg.overrides.items()):
        log.warning("fork activation overridden by flag", extra=kv(fork=fork, timestamp=ts))
    return out


class NodeFailed(PyopError):
    """The node stopped on a critical error (already logged)."""


def leaf_error(e: BaseException) -> BaseException:
    """The first real error inside (nested) exception groups."""
    while isinstance(e, BaseExceptionGroup) and e.exceptions:
        e = e.exceptions[0]
    return e


def describe_error(e: BaseException) -> dict[str, object]:
    """``err`` and ``at`` (innermost file:line) for the one ``Critical error`` line."""
    tb = e.__traceback__
    at = ""
    while tb is not None:
        at = f"{Path(tb.tb_frame.f_code.co_filename).name}:{tb.tb_lineno}"
        tb = tb.tb_next
    out: dict[str, object] = {"err": f"{type(e).__name__}: {e}"}
    if at:
        out["at"] = at
    return out


def load_persisted_sequencer_state(n: NodeConfig) -> tuple[AdminState | None, bool]:
    """op-node ``Config.LoadPersisted``: with ``--rpc.admin-state``, a persisted sequencer state
    wins over ``--sequencer.stopped`` (a warning when they differ). Returns the state store
    (``None`` without the flag) and whether the sequencer starts stopped."""
    if not n.rpc_admin_state:
        return None, n.sequencer_stopped
    store = AdminState(n.rpc_admin_state)
    state = store.sequencer_state()
    if state is None:
        log.info("No persisted sequencer state loaded")
        return store, n.sequencer_stopped
    stopped = not state
    if stopped != n.sequencer_stopped:
        log.warning("Overriding --sequencer.stopped with persisted state", extra=kv(stopped=stopped))
    return store, stopped


def startup_notices(ncfg: NodeConfig) -> None:
    """The start-up lines about flags pyop accepts but does not act on (module docstring)."""
    effectless = [f for f in ncfg.ignored if f not in ncfg.deprecated]
    if effectless:
        log.info("accepted op-node flags without effect in pyop", extra=kv(flags=",".join(effectless)))
    if ncfg.deprecated:
        log.info("accepted deprecated op-node flags (no-ops in op-node too)",
                 extra=kv(flags=",".join(ncfg.deprecated)))  # fmt: skip
    if ncfg.p2p_disable and ncfg.p2p_sequencer_key:
        log.warning("--p2p.sequencer.key given with --p2p.disable: blocks are not gossiped")
    if ncfg.rpc_addr == "0.0.0.0":
        log.info("rollup RPC listens on all interfaces (0.0.0.0, op-node's default); use "
                 "--rpc.addr=127.0.0.1 to keep it local")  # fmt: skip


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
        self.p2p: P2PNode | None = None

    @property
    def rpc_url(self) -> str:
        if self.rpc is None:
            raise PyopError("RPC server not started")
        return self.rpc.url

    async def run(self) -> None:
        n, cfg = self.ncfg, self.cfg
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
        startup_notices(n)  # after the refusals above: a refused config is one log line
        p2p_cfg = p2p_config(n)  # (may write a new --p2p.priv.path key file, as op-node does)
        loop = asyncio.get_running_loop()
        bridge = LoopBridge(loop)
        io_thread = LoopThread("pyop-node-io")
        m = self.metrics
        # The RPC size counters scan every request/response body once more: only with
        # --metrics.enabled (op-node records nothing when its metrics are off).
        sizes = n.metrics_enabled
        l1_rpc = MeteredRPCClient(n.l1, m, "l1", record_sizes=sizes, max_batch=n.l1_rpc_max_batch_size,
                                  max_concurrency=n.l1_max_concurrency, rate_limit=n.l1_rpc_rate_limit)  # fmt: skip
        l1_client = MeteredL1Client(l1_rpc, m, verify=not n.l1_trustrpc, cache_metrics=m.l1_source_cache,
                                    cache_size=n.l1_headers_cache_size(cfg.seq_window_size))  # fmt: skip
        engine_client = EngineClient(n.l2, load_jwt(n.l2_jwt_secret), timeout=n.l2_engine_rpc_timeout,
                                     on_call=m.record_engine_call,
                                     on_sizes=(lambda meth, ps, rs: m.record_rpc_sizes("client", "engine-api", meth, ps, rs))
                                     if sizes else None)  # fmt: skip
        safedb = open_safedb(n.safedb_path)
        blobs = BeaconBlobSource.connect(
            n.l1_beacon, loop=io_thread, fallbacks=n.beacon_fallbacks(),
            headers=beacon_header(n.l1_beacon_header) if n.l1_beacon_header else None,
            seconds_per_slot=n.l1_beacon_slot_duration_override or None,
        ) if n.l1_beacon else None  # fmt: skip
        altda = None
        if n.altda_enabled:
            altda = AltDAHTTPSource(AltDAClient(AsyncHTTPClient(n.altda_da_server), verify=n.altda_verify_on_read),
                                    io_thread)  # fmt: skip
        lock = asyncio.Lock()
        background: list[asyncio.Task[None]] = []
        try:
            engine = EngineController(cfg, engine_client, l1=l1_client, offset_el_safe=n.syncmode_offset_el_safe,
                                      l2=EngineL2Reader(engine_client, cfg, cache_metrics=m.l2_source_cache))  # fmt: skip
            self.engine = engine
            engine.on_mismatch(lambda _mm: m.unsafe_reorgs.inc())
            watcher = L1Watcher(l1_client, poll_interval=n.l1_http_poll_interval,
                                epoch_poll_interval=n.l1_epoch_poll_interval, metrics=m)  # fmt: skip
            l1_sync = BridgedL1Source(l1_client, bridge)
            l2_sync = BridgedL2Source(engine.l2, cfg, bridge)
            pipeline = DerivationPipeline(
                cfg, ConfDepthL1Source(l1_sync, lambda: watcher.head, n.verifier_l1_confs), l2_sync,
                blobs=blobs, altda=altda, observer=DriverObserver(m), blob_schedule=blob_schedule,
            )  # fmt: skip
            pipeline.explainer.keep = False  # a long-running node must not keep every record
            da_fin = AltDAFinality(pipeline.altda) if pipeline.altda is not None else None
            driver = Driver(cfg, engine, pipeline, watcher, l1_client, safedb=safedb,
                            metrics=m, engine_lock=lock, altda_finality=da_fin)  # fmt: skip
            self.driver = driver
            if n.sequencer_enabled:
                builder = AttributesBuilder(cfg, l1_sync, l2_sync, blob_schedule=blob_schedule)

                async def reset(reason: str) -> None:
                    m.sequencer_resets.record()
                    await driver.request_reset(reason, stage="sequencer")

                admin_state, stopped = load_persisted_sequencer_state(n)
                seq = Sequencer(cfg, engine, l1_client, builder, l1_confs=n.sequencer_l1_confs,
                                l1_head=lambda: watcher.head, engine_lock=lock, request_reset=reset,
                                active=not stopped, recover_mode=n.sequencer_recover,
                                max_safe_lag=n.sequencer_max_safe_lag,
                                seal_margin=n.sealing_duration())  # fmt: skip
                if n.sequencer_recover:
                    log.warning("sequencer is in recover mode")
                def seq_error(kind: str) -> None:
                    m.sequencer_errors.inc(kind)
                    m.sequencing_errors.record()

                seq.on_sealed(lambda s, o: m.sequenced_blocks.inc())
                seq.on_error(seq_error)
                if admin_state is not None:
                    seq.state_listener = admin_state
                    seq.init_state()
                driver.sequencer = seq
                m.sequencer_active.set(1 if seq.active else 0)

            def sealed(seal_s: float, build_s: float, txs: int, last_deposit: int) -> None:
                m.record_sequencer_sealing(seal_s, build_s, cfg.block_time)
                m.record_sequenced_txs(txs, last_deposit)

            engine.on_sealed(sealed)
            p2p_api = None
            if p2p_cfg is not None:
                p2p_node = await self.start_p2p(p2p_cfg, l1_client.rpc, driver, engine, background)
                p2p_api = P2PAPI(p2p_node)
            api = RollupAPI(cfg, driver, engine_client, engine.l2, safedb, admin=n.rpc_enable_admin,
                            on_call=m.record_rpc_server, extra_methods=p2p_api.methods if p2p_api else None)  # fmt: skip
            self.rpc = HTTPServer(rpc_app(api, on_sizes=(lambda rpc, meth, ps, rs: m.record_rpc_sizes(
                "server", rpc, meth, ps, rs)) if sizes else None), n.rpc_addr, n.rpc_port)  # fmt: skip
            await self.rpc.start()
            if n.metrics_enabled:
                self.metrics_server = HTTPServer(metrics_app(m), n.metrics_addr, n.metrics_port)
                await self.metrics_server.start()
            m.info.set(1, VERSION)
            m.record_hardforks(cfg, cfg.l2_chain_id)
            m.up.set(1)
            log.info("pyop node started", extra=kv(
                version=VERSION, rpc=self.rpc.url, sequencer=n.sequencer_enabled,
                l2_chain_id=cfg.l2_chain_id, metrics=self.metrics_server.url if self.metrics_server else "off"))  # fmt: skip
            self.ready.set()
            try:
                await driver.run()
            except asyncio.CancelledError:
                raise
            except BaseException as e:  # a critical error, or a bug: one line, no traceback
                err = leaf_error(e)
                if isinstance(err, (asyncio.CancelledError, KeyboardInterrupt, SystemExit)):
                    raise err from None
                log.error("Critical error", extra=kv(**describe_error(err)))
                raise NodeFailed(str(err)) from None
        finally:
            for t in background:
                t.cancel()
            for t in background:
                with contextlib.suppress(BaseException):
                    await t
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


    async def start_p2p(self, p2p_cfg: P2PConfig, l1_rpc: AsyncRPCClient, driver: Driver,
                        engine: EngineController, background: list[asyncio.Task[None]]) -> P2PNode:  # fmt: skip
        """Load the unsafe block signer, start the libp2p host, queue received blocks as unsafe
        payloads and gossip the sequencer's sealed blocks (module docstring)."""
        n, cfg = self.ncfg, self.cfg
        if not n.p2p_no_discovery:  # said once P2P starts, not before a refusal of the config
            log.warning("discv5 discovery is not implemented in pyop (no maintained Python discv5): "
                        "only --p2p.static peers are dialled; pass --p2p.no-discovery to silence this")  # fmt: skip
        runtime = RuntimeConfig(l1_rpc, cfg.l1_system_config_address, conf_depth=n.verifier_l1_confs)
        await runtime.load_with_retries()
        background.append(asyncio.create_task(runtime.run(n.l1_runtime_config_reload_interval), name="runtime-config"))

        def on_block(payload: ExecutionPayload, peer: str) -> None:
            driver.add_unsafe_payload(payload, payload.parent_beacon_block_root)

        node = P2PNode(cfg, p2p_cfg, runtime, on_block, payload_by_number=engine.l2.payload_by_number,
                       metrics=self.metrics)  # fmt: skip
        await node.start()
        self.p2p = node
        background.append(asyncio.create_task(node.run(), name="p2p"))
        seq = driver.sequencer
        if seq is not None and node.signer is not None:
            pending: set[asyncio.Task[object]] = set()

            async def publish(payload: ExecutionPayload) -> None:
                try:
                    await node.publish_block(payload)
                except (P2PError, P2PHostError) as e:
                    self.metrics.record_publishing_error()  # op-node AsyncGossiper.gossip
                    log.warning("failed to publish newly created block", extra=kv(
                        id=f"{to_hex(payload.block_hash)}:{payload.block_number}", err=str(e)))  # fmt: skip

            def gossip(p: ExecutionPayload) -> None:
                t = asyncio.create_task(publish(p))
                pending.add(t)
                t.add_done_callback(pending.discard)

            # op-node Sequencer.onBuildSealed: gossip as soon as the block is sealed, while it is
            # inserted into our own EL
            seq.on_payload_sealed(gossip)
        elif seq is not None:
            log.warning("sequencer without --p2p.sequencer.key or --signer.*: its blocks are not gossiped")
        return node


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
    """``pyop node`` entry point (flag errors: one line on stderr, exit 1; a failure while
    running: one log line, exit 1)."""
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
    setup_logging(ncfg.log_level, fmt=ncfg.log_format, color=ncfg.log_color, pid=ncfg.log_pid)
    try:
        return asyncio.run(run_node(ncfg))
    except KeyboardInterrupt:
        return 130
    except NodeFailed:
        return 1
    except BaseException as e:  # start-up failures (bad config, unreachable port): one line
        err = leaf_error(e)
        if isinstance(err, KeyboardInterrupt):
            return 130
        if isinstance(err, SystemExit):
            raise
        log.error("pyop node failed", extra=kv(**describe_error(err)))
        return 1
