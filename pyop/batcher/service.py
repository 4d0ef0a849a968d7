"""``pyop batcher``: start-up, servers and shutdown (op-batcher/batcher/service.go
``BatcherService``).

Start-up, in op-batcher's order, each failure one log line and exit status 1:

1. flags and ``OP_BATCHER_*`` (an unsupported flag is refused by name), logging;
2. the key (``--private-key`` / ``--mnemonic``): missing or malformed is an error;
3. the rollup node: ``optimism_rollupConfig`` (unreachable node: error), checked;
4. the L1: its chain id must be the rollup config's ``l1_chain_id`` (unreachable L1: error);
   the batcher account must hold ETH on it (an unfunded key cannot send anything);
5. the L2 EL: its ``eth_chainId`` must be the rollup config's ``l2_chain_id``;
6. the channel config (Go ``initChannelConfig``): blob frames of 130,043 bytes for ``blobs`` /
   ``auto``, ``--max-l1-tx-size-bytes - 1`` for calldata; blobs need Ecotone and Brotli needs
   Fjord to be active now;
7. metrics server (``--metrics.enabled``), RPC server (``admin_*`` with ``--rpc.enable-admin``),
   then the batch submitter (unless ``--stopped``).

SIGINT/SIGTERM: close the transaction manager (no new txs), stop the submitter (txs already
mined wait for their confirmations, at most 10 s), close the servers.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from pyop import __version__
from pyop.batcher.channel_config import (
    CALLDATA_MAX_FRAME_SIZE_AUTO,
    COMPRESSION_ALGOS,
    ChannelConfig,
    ChannelConfigProvider,
    CompressorConfig,
    DynamicEthChannelConfig,
    StaticChannelConfig,
    max_data_size,
)
from pyop.batcher.channel_manager import ChannelManager
from pyop.batcher.config import BatcherConfig, parse_batcher_args
from pyop.batcher.driver import BatchSubmitter
from pyop.batcher.errors import BatcherError, StartupError
from pyop.batcher.metrics import BatcherMetrics
from pyop.batcher.rollup_client import RollupClient
from pyop.codec.blob import MAX_BLOB_DATA_SIZE
from pyop.codec.compression import CompressionAlgo
from pyop.config import RollupConfig
from pyop.opservice.flags import HelpRequested, ParsedFlags
from pyop.opservice.logs import KV_ATTR, kv, set_level, setup_logging
from pyop.opservice.metrics import metrics_app
from pyop.opservice.rpc import HTTPServer, Method, RPCMethodError, rpc_app
from pyop.primitives import PyopError, to_hex
from pyop.sources.altda import AltDAClient
from pyop.sources.rpc import AsyncHTTPClient, RetryPolicy
from pyop.txmgr import LocalSigner, TxManager, signer_from_flags
from pyop.txmgr.backend import RPCL1Backend

VERSION = f"v{__version__}-pyop"
STOP_TIMEOUT = 10.0
log = logging.getLogger("pyop.batcher")

__all__ = ["BatcherService", "build_channel_config", "main"]


def build_channel_config(cfg: BatcherConfig, rollup: RollupConfig, now: int
                         ) -> tuple[ChannelConfig, ChannelConfig | None]:  # fmt: skip
    """The channel config (and, for DA ``auto``, the calldata alternative) (Go
    ``initChannelConfig``)."""
    # [Changed in Granite] the channel timeout is the constant 50 from Granite
    channel_timeout = 50 if rollup.granite_time is not None else rollup.channel_timeout
    algo, quality = COMPRESSION_ALGOS[cfg.compression_algo]
    use_blobs = cfg.data_availability_type in ("blobs", "auto")
    frame = MAX_BLOB_DATA_SIZE - 1 if use_blobs else cfg.max_l1_tx_size_bytes - 1
    if cfg.altda_enabled and use_blobs:
        raise BatcherError("cannot use data availability type blobs or auto with Alt-DA")
    cc = ChannelConfig(
        seq_window_size=rollup.seq_window_size, channel_timeout=channel_timeout,
        max_channel_duration=cfg.max_channel_duration, sub_safety_margin=cfg.sub_safety_margin,
        max_frame_size=frame, target_num_frames=cfg.target_num_frames,
        compressor=CompressorConfig(max_data_size(cfg.target_num_frames, frame),
                                    cfg.approx_compr_ratio, cfg.compressor,
                                    CompressionAlgo.ZLIB if cfg.compressor == "none" else algo, quality),
        batch_type=cfg.batch_type, use_blobs=use_blobs,
        max_blocks_per_span_batch=cfg.max_blocks_per_span_batch,
    )  # fmt: skip
    if use_blobs and not rollup.is_ecotone(now):
        raise BatcherError("cannot use Blobs before Ecotone")
    if not use_blobs and rollup.is_ecotone(now):
        log.warning("Ecotone upgrade is active, but batcher is not configured to use Blobs!")
    if algo is CompressionAlgo.BROTLI and not rollup.is_fjord(now):
        raise BatcherError("cannot use brotli compression before Fjord")
    cc.check()
    calldata = None
    if cfg.data_availability_type == "auto":
        calldata = replace(cc, target_num_frames=1, max_frame_size=CALLDATA_MAX_FRAME_SIZE_AUTO,
                           use_blobs=False).with_compressor()  # fmt: skip
    return cc, calldata


@dataclass
class BatcherService:
    """What :func:`run` set up, for shutdown and tests."""

    cfg: BatcherConfig
    rollup: RollupConfig
    txmgr: TxManager
    client: RollupClient
    driver: BatchSubmitter
    metrics: BatcherMetrics
    servers: list[HTTPServer]
    altda: AltDAClient | None = None

    async def close(self) -> None:
        await self.txmgr.close()
        if self.driver.running:
            await self.driver.stop(timeout=STOP_TIMEOUT)
        for s in self.servers:
            await s.close()
        await self.client.close()
        if self.altda is not None:
            await self.altda.close()
        # The driver's last receipt waits ran after txmgr.close() and may have reopened the L1
        # client's HTTP session; close it again (idempotent) so none is left behind.
        await self.txmgr.backend.close()


def admin_methods(driver: BatchSubmitter) -> dict[str, Method]:
    """op-batcher's ``admin`` namespace (op-batcher/rpc/api.go) plus op-service's
    ``admin_setLogLevel``."""

    async def start(_p: list[Any]) -> None:
        try:
            await driver.start()
        except BatcherError as e:
            raise RPCMethodError(str(e)) from None

    async def stop(_p: list[Any]) -> None:
        try:
            await driver.stop()
        except BatcherError as e:
            raise RPCMethodError(str(e)) from None

    async def flush(_p: list[Any]) -> None:
        try:
            await driver.flush()
        except BatcherError as e:
            raise RPCMethodError(str(e)) from None

    async def set_log_level(p: list[Any]) -> None:
        if len(p) != 1 or not isinstance(p[0], str):
            raise RPCMethodError("expected one string parameter", -32602)
        try:
            set_level(p[0])
        except PyopError as e:
            raise RPCMethodError(str(e)) from None

    return {"admin_startBatcher": start, "admin_stopBatcher": stop,
            "admin_flushBatcher": flush, "admin_setLogLevel": set_log_level}  # fmt: skip


async def _startup_checks(cfg: BatcherConfig, signer: LocalSigner, client: RollupClient,
                          backend: RPCL1Backend) -> tuple[RollupConfig, int]:  # fmt: skip
    try:
        rollup = await client.rollup_config()
    except PyopError as e:
        raise StartupError(f"failed to load rollup config from the rollup node at {cfg.rollup_rpc}: {e}") from None
    try:
        rollup.check()
    except PyopError as e:
        raise StartupError(f"invalid rollup config: {e}") from None
    try:
        l1_chain_id = await backend.chain_id()
    except PyopError as e:
        raise StartupError(f"failed to dial L1 RPC {cfg.l1_eth_rpc}: {e}") from None
    if l1_chain_id != rollup.l1_chain_id:
        raise StartupError(f"the L1 at {cfg.l1_eth_rpc} has chain id {l1_chain_id}, the rollup "
                           f"config wants L1 chain id {rollup.l1_chain_id}")  # fmt: skip
    try:
        l2_chain_id = await client.l2_chain_id()
    except PyopError as e:
        raise StartupError(f"failed to dial L2 RPC {cfg.l2_eth_rpc}: {e}") from None
    if l2_chain_id != rollup.l2_chain_id:
        raise StartupError(f"the rollup config (from {cfg.rollup_rpc}) is for L2 chain id "
                           f"{rollup.l2_chain_id}, but the L2 EL at {cfg.l2_eth_rpc} has chain id "
                           f"{l2_chain_id}")  # fmt: skip
    balance = await backend.balance(signer.address)
    if balance == 0:
        raise StartupError(f"the batcher account {to_hex(signer.address)} has no ETH on L1 chain "
                           f"{l1_chain_id}: fund it to pay for batch transactions")  # fmt: skip
    return rollup, balance


async def run(cfg: BatcherConfig, signer: LocalSigner) -> BatcherService:
    """Steps 3-7 of the module docstring; the caller closes the returned service."""
    client = RollupClient(cfg.rollup_rpcs or cfg.rollup_rpc, cfg.l2_eth_rpcs or cfg.l2_eth_rpc,
                          timeout=cfg.txmgr.network_timeout,
                          check_duration=cfg.active_sequencer_check_duration)  # fmt: skip
    backend = RPCL1Backend.connect(cfg.l1_eth_rpc, timeout=cfg.txmgr.network_timeout)
    backend.rpc.retry = RetryPolicy(retries=2, backoff=0.25, max_backoff=2.0)
    client.set_retry(RetryPolicy(retries=2, backoff=0.25, max_backoff=2.0))
    try:
        try:
            await client.connect()
        except PyopError as e:
            raise StartupError(str(e)) from None
        rollup, balance = await _startup_checks(cfg, signer, client, backend)
    except BaseException:
        await client.close()
        await backend.close()
        raise
    backend.rpc.retry = RetryPolicy()
    client.set_retry(RetryPolicy())
    client.bind(rollup)
    metrics = BatcherMetrics()
    metrics.balance.set(balance / 1e18)
    txmgr = TxManager(cfg.txmgr, backend, signer, rollup.l1_chain_id, name="batcher",
                      metrics=metrics.txmgr)  # fmt: skip
    try:
        cc, calldata_cc = build_channel_config(cfg, rollup, int(time.time()))
    except BatcherError as e:
        await client.close()
        await txmgr.close()
        raise StartupError(f"failed to init channel config: {e}") from None
    provider: ChannelConfigProvider = (
        DynamicEthChannelConfig(cc, calldata_cc, txmgr.suggest_gas_price_caps)
        if calldata_cc is not None else StaticChannelConfig(cc)
    )
    log.info("Initialized channel-config", extra=kv(
        da_type=cfg.data_availability_type, use_alt_da=cfg.altda_enabled,
        max_frame_size=cc.max_frame_size, target_num_frames=cc.target_num_frames,
        compressor=cc.compressor.kind, compression_algo=cfg.compression_algo,
        batch_type=cc.batch_type, max_channel_duration=cc.max_channel_duration,
        channel_timeout=cc.channel_timeout, sub_safety_margin=cc.sub_safety_margin))  # fmt: skip
    altda = None
    if cfg.altda_enabled:
        altda = AltDAClient(AsyncHTTPClient(cfg.altda_da_server))
    state = ChannelManager(rollup, provider, cc)
    driver = BatchSubmitter(cfg, rollup, client, txmgr, state, metrics, altda)
    svc = BatcherService(cfg, rollup, txmgr, client, driver, metrics, [], altda)
    try:
        if cfg.metrics_enabled:
            ms = HTTPServer(metrics_app(metrics.registry), cfg.metrics_addr, cfg.metrics_port)
            await ms.start()
            svc.servers.append(ms)
            log.info("Started metrics server", extra=kv(addr=ms.url))
        methods: dict[str, Method] = admin_methods(driver) if cfg.rpc_enable_admin else {}
        rs = HTTPServer(rpc_app(methods, VERSION), cfg.rpc_addr, cfg.rpc_port)
        await rs.start()
        svc.servers.append(rs)
        log.info("Started JSON-RPC server", extra=kv(addr=rs.url, admin=cfg.rpc_enable_admin))
        metrics.record_info(VERSION)
        metrics.up.set(1)
        log.info("Starting batcher", extra=kv(notSubmittingOnStart=cfg.stopped,
                                              batcher=to_hex(signer.address)))  # fmt: skip
        if not cfg.stopped:
            await driver.start()
    except BaseException:
        await svc.close()
        raise
    return svc


async def _serve(cfg: BatcherConfig, signer: LocalSigner) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    svc = await run(cfg, signer)
    waiter = asyncio.create_task(stop.wait())
    fatal = asyncio.create_task(svc.driver.fatal.wait())
    await asyncio.wait({waiter, fatal}, return_when=asyncio.FIRST_COMPLETED)
    status = 0
    if svc.driver.fatal_error is not None:
        log.critical("batcher stopped on a critical error", extra=kv(err=str(svc.driver.fatal_error)))
        status = 1
    log.info("Stopping batcher")
    waiter.cancel()
    fatal.cancel()
    await svc.close()
    return status


def main(argv: Sequence[str], env: Mapping[str, str] | None = None) -> int:
    """``pyop batcher`` (see the module docstring); returns the exit status."""
    try:
        cfg, flags = parse_batcher_args(argv, env)
    except HelpRequested as h:
        print(str(h))
        return 0
    except PyopError as e:
        print(f"pyop batcher: error: {e}", file=sys.stderr)
        return 1
    handler = setup_logging(cfg.log_level, cfg.log_format, root="pyop", own_prefix="pyop.batcher")
    if cfg.log_pid:
        handler.addFilter(_PidFilter())
    try:
        return _main(cfg, flags)
    finally:
        # leave the process's logging as it was (a later pyop service in the same interpreter,
        # e.g. in tests, must not write through this handler to a closed stream)
        logging.getLogger("pyop").removeHandler(handler)


def _main(cfg: BatcherConfig, flags: ParsedFlags) -> int:
    try:
        signer = signer_from_flags(flags)
    except PyopError as e:
        log.critical("failed to init Tx manager", extra=kv(err=str(e)))
        return 1
    try:
        return asyncio.run(_serve(cfg, signer))
    except PyopError as e:
        log.critical("failed to start the batcher", extra=kv(err=str(e)))
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as e:  # a bug, not bad input: one line (PYOP_DEBUG=1 shows the trace)
        if os.environ.get("PYOP_DEBUG"):
            raise
        log.critical("internal error (please report)", extra=kv(err=f"{type(e).__name__}: {e}"))
        return 1


class _PidFilter(logging.Filter):
    """``--log.pid``: add ``pid=`` to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        fields = dict(getattr(record, KV_ATTR, {}) or {})
        fields.setdefault("pid", os.getpid())
        setattr(record, KV_ATTR, fields)
        return True
