"""``pyop proposer``: start-up checks, the transaction manager, admin RPC, metrics and the loop.

As op-proposer's ``ProposerService`` (``op-proposer/proposer/service.go``): connect to L1, the
rollup node (and, pyop, the L2 EL), build the tx manager from the txmgr flags, serve
``admin_startProposer`` / ``admin_stopProposer`` (and ``admin_setLogLevel``) with
``--rpc.enable-admin``, serve metrics with ``--metrics.enabled``, then run the driver until
SIGINT/SIGTERM.

Start-up checks that op-proposer leaves to the first failing transaction, each a one-line
error: the contract address holds the right contract (:mod:`pyop.proposer.contracts`); the
L2OutputOracle accepts proposals from this key; the key has ETH on L1 (and, for dispute games,
at least one bond); the L2 EL serves the rollup node's chain.

Metrics (op-proposer ``metrics.go`` names, namespace ``op_proposer_default``):
``proposed_sequence_number``, ``up``, ``info{version}``, ``refs_number{layer="l2",
type="proposed"}``; pyop additions ``proposal_gas_used`` (gas of the last proposal),
``proposals_total``, ``output_mismatches_total`` and ``errors_total{kind}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence
from typing import Any

from eth_utils.address import to_checksum_address

from pyop import __version__
from pyop.opservice.flags import FlagError, HelpRequested
from pyop.opservice.logs import LogConfigError, set_level, setup_logging
from pyop.opservice.metrics import Registry, metrics_app
from pyop.opservice.rpc import HTTPServer, RPCMethodError, rpc_app
from pyop.primitives import PyopError
from pyop.proposer import contracts as c
from pyop.proposer.config import ProposerConfig, ProposerConfigError, parse_proposer_args
from pyop.proposer.driver import DriverConfig, ProposerDriver, SendResult
from pyop.proposer.output import OutputSource
from pyop.sources.active_rollup import ActiveRollupRPC
from pyop.sources.rpc import AsyncRPCClient
from pyop.txmgr import TxCandidate, TxManager, connect, signer_from_flags, txmgr_config_from_flags

log = logging.getLogger("pyop.proposer")
NAMESPACE = "op_proposer_default"


class ProposerMetrics:
    """The proposer's metrics in an :class:`pyop.opservice.metrics.Registry`."""

    def __init__(self, registry: Registry) -> None:
        ns = NAMESPACE
        self.seq = registry.gauge(f"{ns}_proposed_sequence_number",
                                  "Sequence number (block number or timestamp) of the latest "
                                  "proposal")  # fmt: skip
        self.info = registry.gauge(f"{ns}_info", "Pseudo-metric tracking version and config info",
                                   ("version",))  # fmt: skip
        self.up = registry.gauge(f"{ns}_up", "1 if the op-proposer has finished starting up")
        self.refs = registry.gauge(f"{ns}_refs_number", "Gauge representing the different L1/L2 "
                                   "reference block numbers", ("layer", "type"))  # fmt: skip
        self.gas = registry.gauge(f"{ns}_proposal_gas_used", "L1 gas used by the last proposal")
        self.total = registry.counter(f"{ns}_proposals_total", "Proposals sent and mined")
        self.mismatches = registry.counter(
            f"{ns}_output_mismatches_total",
            "Output roots the rollup node disagreed with (not proposed)",
        )
        self.errors = registry.counter(f"{ns}_errors_total", "Failed polls by error kind",
                                       ("kind",))  # fmt: skip

    def record_proposal(self, l2_block: int, gas_used: int) -> None:
        self.seq.set(l2_block)
        self.refs.set(l2_block, "l2", "proposed")
        self.gas.set(gas_used)
        self.total.inc()

    def record_mismatch(self, l2_block: int) -> None:
        self.mismatches.inc()

    def record_error(self, kind: str) -> None:
        self.errors.inc(kind)


class TxmgrSender:
    """The driver's :class:`~pyop.proposer.driver.Sender` on :class:`pyop.txmgr.TxManager`."""

    def __init__(self, mgr: TxManager) -> None:
        self.mgr = mgr

    @property
    def from_address(self) -> str:
        return str(to_checksum_address(self.mgr.from_address))

    async def send(self, to: str, data: bytes, value: int = 0) -> SendResult:
        # One proposal in flight at a time: take the nonce from L1 each time, so a proposal that
        # an L1 reorg removed does not leave a nonce gap behind it.
        self.mgr.reset_nonce()
        r = await self.mgr.send(TxCandidate(to=bytes.fromhex(to[2:]), data=data, value=value))
        return SendResult("0x" + r.tx_hash.hex(), r.status, r.gas_used, r.block_number)


async def _startup_checks(cfg: ProposerConfig, l1: AsyncRPCClient, l2: AsyncRPCClient,
                          rollup: AsyncRPCClient | ActiveRollupRPC, me: str) -> dict[str, Any]:  # fmt: skip
    chain_id = int(str(await l1.call("eth_chainId", [])), 16)
    info: dict[str, Any] = {"l1ChainId": chain_id}
    balance = int(str(await l1.call("eth_getBalance", [me, "latest"])), 16)
    if balance == 0:
        raise PyopError(f"the proposer account {me} has no ETH on L1 (chain {chain_id}): fund it "
                        "or give the key of a funded account")  # fmt: skip
    if cfg.l2oo_address:
        info.update(await c.check_l2_output_oracle(l1, cfg.l2oo_address))
        if str(info["proposer"]).lower() != me.lower():
            raise PyopError(f"the L2OutputOracle at {cfg.l2oo_address} accepts proposals only "
                            f"from {info['proposer']}, but the key is for {me}")  # fmt: skip
    else:
        info.update(await c.check_dispute_game_factory(l1, cfg.contract, cfg.game_type))
        if balance < int(info["initBond"]):
            raise PyopError(f"the proposer account {me} has {balance} wei on L1, less than the "
                            f"bond of one game ({info['initBond']} wei)")  # fmt: skip
    rcfg = await rollup.call("optimism_rollupConfig", [])
    if not isinstance(rcfg, dict):
        raise PyopError(f"the rollup node at {cfg.rollup_rpc} returned no rollup config")
    l2_chain = int(str(await l2.call("eth_chainId", [])), 16)
    if int(rcfg.get("l2_chain_id", -1)) != l2_chain:
        raise PyopError(f"--l2-eth-rpc serves chain {l2_chain}, but the rollup node's chain is "
                        f"{rcfg.get('l2_chain_id')}")  # fmt: skip
    info["isthmusTime"] = rcfg.get("isthmus_time")
    info["balance"] = balance
    return info


async def _wait_node_sync(l1: AsyncRPCClient, rollup: AsyncRPCClient | ActiveRollupRPC) -> None:
    """``--wait-node-sync`` (op-proposer ``waitNodeSync``): until the rollup node's
    ``current_l1`` is past the L1 head seen now."""
    target = int(str(await l1.call("eth_blockNumber", [])), 16) + 1
    while True:
        st = await rollup.call("optimism_syncStatus", [])
        if int(st["current_l1"]["number"]) >= target:
            return
        log.info("Waiting for the rollup node to sync to L1 block %d", target)
        await asyncio.sleep(1.0)


async def run_service(cfg: ProposerConfig) -> int:
    signer = signer_from_flags(cfg.flags)
    me = str(to_checksum_address(signer.address))
    l1 = AsyncRPCClient(cfg.l1_eth_rpc, timeout=10.0)
    l2 = AsyncRPCClient(cfg.l2_eth_rpc, timeout=10.0)
    urls = cfg.rollup_urls
    rollup: AsyncRPCClient | ActiveRollupRPC
    if len(urls) > 1:
        # op-proposer: a comma-separated --rollup-rpc follows the active sequencer
        rollup = ActiveRollupRPC(urls, check_duration=cfg.active_sequencer_check_duration)
    else:
        rollup = AsyncRPCClient(urls[0], timeout=10.0)
    servers: list[HTTPServer] = []
    mgr: TxManager | None = None
    try:
        if isinstance(rollup, ActiveRollupRPC):
            await rollup.connect()
            log.info("Active sequencer: %s (of %s)", rollup.url, urls)
        info = await _startup_checks(cfg, l1, l2, rollup, me)
        log.info("Connected: mode=%s contract=%s proposer=%s details=%s", cfg.mode, cfg.contract,
                 me, info)  # fmt: skip
        mgr = await connect(cfg.l1_eth_rpc, txmgr_config_from_flags(cfg.flags), signer,
                            name="proposer")  # fmt: skip
        registry = Registry()
        metrics = ProposerMetrics(registry)
        isthmus = info.get("isthmusTime")
        outputs = OutputSource(l2, rollup, None if isthmus is None else int(isthmus))
        driver = ProposerDriver(
            DriverConfig(mode="l2oo" if cfg.l2oo_address else "dgf", contract=cfg.contract,
                         poll_interval=cfg.poll_interval,
                         allow_non_finalized=cfg.allow_non_finalized, game_type=cfg.game_type,
                         proposal_interval=cfg.proposal_interval),
            l1=l1, rollup=rollup, outputs=outputs, sender=TxmgrSender(mgr), metrics=metrics,
        )  # fmt: skip
        methods = {}
        if cfg.rpc_enable_admin:
            async def start_proposer(_p: list[Any]) -> None:
                try:
                    driver.start()
                except PyopError as e:
                    raise RPCMethodError(str(e)) from None

            async def stop_proposer(_p: list[Any]) -> None:
                try:
                    driver.stop()
                except PyopError as e:
                    raise RPCMethodError(str(e)) from None

            async def set_log_level(p: list[Any]) -> None:
                try:
                    set_level(str(p[0]) if p else "")
                except LogConfigError as e:
                    raise RPCMethodError(str(e)) from None

            methods = {"admin_startProposer": start_proposer, "admin_stopProposer": stop_proposer,
                       "admin_setLogLevel": set_log_level}  # fmt: skip
        rpc = HTTPServer(rpc_app(methods, __version__), cfg.rpc_addr, cfg.rpc_port)
        await rpc.start()
        servers.append(rpc)
        log.info("Started RPC server: url=%s admin=%s", rpc.url, cfg.rpc_enable_admin)
        if cfg.metrics_enabled:
            ms = HTTPServer(metrics_app(registry), cfg.metrics_addr, cfg.metrics_port)
            await ms.start()
            servers.append(ms)
            log.info("Started metrics server: url=%s", ms.url)
        metrics.info.set(1, __version__)
        if cfg.wait_node_sync:
            await _wait_node_sync(l1, rollup)
        driver.start()
        metrics.up.set(1)
        await driver.run()
        return 0
    finally:
        for s in servers:
            await s.close()
        if mgr is not None:
            await mgr.close()
        for client in (l1, l2, rollup):
            await client.close()


def main(argv: Sequence[str]) -> int:
    """``pyop proposer [flags]``; exit status 0 on SIGINT/SIGTERM, 1 with one line on stderr
    for a bad configuration or a failed start-up check, 2 for a bad flag."""
    try:
        cfg = parse_proposer_args(argv)
    except HelpRequested as e:
        print(str(e))
        return 0
    except (FlagError, ProposerConfigError) as e:
        print(f"pyop proposer: error: {e}", file=sys.stderr)
        return 2
    try:
        handler = setup_logging(cfg.log_level, cfg.log_format)
    except LogConfigError as e:
        print(f"pyop proposer: error: {e}", file=sys.stderr)
        return 2
    try:
        return _main(cfg)
    finally:
        # leave the process's logging as it was (see pyop.batcher.service.main)
        logging.getLogger("pyop").removeHandler(handler)


def _main(cfg: ProposerConfig) -> int:

    async def runner() -> int:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        for sig in (signal.SIGINT, signal.SIGTERM):
            if task is not None:
                with contextlib.suppress(NotImplementedError):
                    loop.add_signal_handler(sig, task.cancel)
        try:
            return await run_service(cfg)
        except asyncio.CancelledError:
            log.info("Proposer stopped (signal)")
            return 0

    try:
        return asyncio.run(runner())
    except PyopError as e:
        print(f"pyop proposer: error: {e}", file=sys.stderr)
        return 1
