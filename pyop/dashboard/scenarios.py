"""Scenario buttons: each starts a real fault or action on the devnet (through
:mod:`pyop.devnet.live_faults` and :mod:`pyop.devnet.bridge`) and narrates what follows, step by
step, as it is observed on the chains: each narration line names the spec rule that applies
(a link into the OP specs) and the pyop module that implements it.

A narration line is a ``narration`` event: ``scenario``, ``step`` (a stable id the tests and the
page use: ``data-step``), ``text``, ``spec`` (URL), ``specTitle``, ``module`` (path of the pyop
source, served by the dashboard under ``/src/``). Steps of one run are narrated once each.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pyop.dashboard.state import DashboardState
from pyop.devnet import bridge
from pyop.devnet import live_faults as faults
from pyop.devnet.stack import DevnetInfo
from pyop.primitives import PyopError

log = logging.getLogger("pyop.dashboard.scenarios")

SPECS = "https://specs.optimism.io/"
ETHER = 10**18

__all__ = ["SCENARIOS", "ScenarioError", "ScenarioRunner", "spec_url"]


def spec_url(page: str, anchor: str = "") -> str:
    """``protocol/derivation`` + ``batch-queue`` -> the page on the published specs."""
    return f"{SPECS}{page}.html" + (f"#{anchor}" if anchor else "")


class ScenarioError(PyopError):
    """A scenario cannot start now (unknown, not available on this devnet, already running)."""


@dataclass
class Run:
    """One run of a scenario: what was observed so far."""

    scenario: str
    started: float = field(default_factory=lambda: time.time())
    said: set[str] = field(default_factory=set)
    data: dict[str, Any] = field(default_factory=dict)
    done: bool = False


class Ctx:
    """What a scenario may touch: the devnet (through faults/bridge, in a worker thread) and
    the observed state."""

    def __init__(self, info: DevnetInfo, state: DashboardState) -> None:
        self.info = info
        self.state = state

    def l2(self, head: str) -> int | None:
        r = (self.state.heads.get("l2") or {}).get(head)
        return None if r is None else int(r["number"])

    def l1(self, head: str) -> int | None:
        r = (self.state.heads.get("l1") or {}).get(head)
        return None if r is None else int(r["number"])

    def window(self) -> dict[str, Any]:
        return dict(self.state.heads.get("window") or {})

    def events_since(self, kind: str, t: float) -> list[dict[str, Any]]:
        return [e for e in self.state.events if e["kind"] == kind and e["t"] >= t]


def say(ctx: Ctx, run: Run, step: str, text: str, *, spec: tuple[str, str, str] | None = None,
        module: str = "") -> bool:  # fmt: skip
    """Narrate ``step`` once per run. ``spec`` = (page, anchor, title)."""
    if step in run.said:
        return False
    run.said.add(step)
    ctx.state.add_event("narration", {
        "scenario": run.scenario, "step": step, "text": text,
        "spec": spec_url(spec[0], spec[1]) if spec else "", "specTitle": spec[2] if spec else "",
        "module": module, "since": round(time.time() - run.started, 1),
    })  # fmt: skip
    return True


# spec references used below
DERIVATION = "protocol/derivation"
S_BATCHER = ("protocol/batcher", "", "Batch Submitter")
S_SAFE = (DERIVATION, "l2-chain-derivation-pipeline", "Derivation: L2 Chain Derivation Pipeline")
S_WINDOW = (DERIVATION, "sequencing-window", "Derivation: Sequencing Window")
S_BATCH_QUEUE = (DERIVATION, "batch-queue", "Derivation: Batch Queue (empty batches)")
S_ENGINE_QUEUE = (DERIVATION, "engine-queue", "Derivation: Engine Queue (consolidation)")
S_RESET = (DERIVATION, "resetting-the-pipeline", "Derivation: Resetting the Pipeline")
S_TRAVERSAL = (DERIVATION, "l1-traversal", "Derivation: L1 Traversal")
S_EXEC = ("protocol/exec-engine", "", "Execution Engine")
S_ALTDA = ("experimental/alt-da", "derivation", "Alt-DA: Derivation")
S_DEPOSIT = ("protocol/deposits", "deposit-contract", "Deposits: Deposit Contract")
S_DEPOSIT_ORDER = (DERIVATION, "deriving-the-transaction-list",
                   "Derivation: Deriving the Transaction List")  # fmt: skip
S_WITHDRAW = ("protocol/withdrawals", "withdrawal-flow", "Withdrawals: Withdrawal Flow")
S_PROPOSALS = ("protocol/proposals", "", "L2 Output Root Proposals")


class Scenario:
    name = ""
    title = ""
    help = ""
    params: dict[str, Any] = {}  # noqa: RUF012 - class-level defaults, overridden per class

    def available(self, ctx: Ctx) -> str:
        """Empty if the scenario can run on this devnet, else why not."""
        return ""

    async def start(self, ctx: Ctx, run: Run, params: dict[str, Any]) -> None:
        raise NotImplementedError

    async def watch(self, ctx: Ctx, run: Run) -> None:
        """Called every collector tick while the run is not done."""


async def _thread(fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    return await asyncio.to_thread(fn, *args, **kw)


# --------------------------------------------------------------------------- batcher


class StopBatcher(Scenario):
    name = "stop-batcher"
    title = "Stop batcher"
    help = "admin_stopBatcher: watch safe stall, then the sequencing window expire"

    async def start(self, ctx: Ctx, run: Run, params: dict[str, Any]) -> None:
        await _thread(faults.stop_batcher, ctx.info)
        safe, unsafe = ctx.l2("safe") or 0, ctx.l2("unsafe") or 0
        run.data.update(safe=safe, safe_since=time.time(), unsafe_at=unsafe, last_tx=0.0, sent=0)
        say(ctx, run, "stopped",
            f"Batcher stopped (admin_stopBatcher) at unsafe #{unsafe}, safe #{safe}. The "
            f"sequencer keeps building a block every {ctx.state.config.get('l2BlockTime')} s; "
            "they stay unsafe until their batches are on L1 (transactions already sent still "
            "land).", spec=S_BATCHER, module="pyop/batcher/driver.py")  # fmt: skip

    async def watch(self, ctx: Ctx, run: Run) -> None:
        d = run.data
        safe, unsafe, head = ctx.l2("safe"), ctx.l2("unsafe"), ctx.l1("head")
        if safe is None or unsafe is None or head is None:
            return
        if "window-expired" not in run.said and time.time() - d["last_tx"] >= 2 and d["sent"] < 40:
            d["last_tx"] = time.time()
            try:
                await _thread(bridge.send_l2_transfer, ctx.info)
                d["sent"] += 1
                say(ctx, run, "traffic", "Sending a user transaction to L2 every 2 s: they go into "
                    "unsafe blocks only, so watch what happens to them.")  # fmt: skip
            except PyopError:
                pass
        if safe != d["safe"]:
            d.update(safe=safe, safe_since=time.time(), unsafe_at=unsafe)
        l1_time = float(ctx.state.config.get("l1BlockTime") or 2)
        w = ctx.window()
        if (time.time() - d["safe_since"] >= 2 * l1_time + 2 and unsafe >= d["unsafe_at"] + 3
                and "safe-stalled" not in run.said):  # fmt: skip
            say(ctx, run, "safe-stalled",
                f"Safe head stalls at #{safe} while unsafe grows to #{unsafe}: an L2 block becomes "
                "safe only when it is derived from data on L1, and none is posted.",
                spec=S_SAFE, module="pyop/derivation/driver.py")  # fmt: skip
            if "closesAt" in w:
                say(ctx, run, "window",
                    f"The first block not yet safe, #{safe + 1}, has L1 origin (epoch) "
                    f"#{w['safeEpoch']}. Its batch must be included on L1 within the sequencing "
                    f"window of {w['seqWindowSize']} L1 blocks: once L1 block #{w['closesAt']} is "
                    f"derived without it, the window has expired ({w.get('blocksLeft')} L1 blocks "
                    "to go).", spec=S_WINDOW, module="pyop/derivation/batch_queue.py")  # fmt: skip
        if "safe-stalled" in run.said and "closesAt" in w and head >= int(w["closesAt"]):
            say(ctx, run, "window-expired",
                f"L1 block #{w['closesAt']} is here and no batch for epoch #{w['safeEpoch']} "
                "was included: the sequencing window expired. Derivation now generates an "
                "empty batch for each L2 slot of that epoch: deposit-only blocks (the L1-info "
                "deposit and user deposits, no L2 transactions).",
                spec=S_BATCH_QUEUE, module="pyop/derivation/batch_stage.py")  # fmt: skip
        if "window-expired" in run.said:
            for ev in ctx.events_since("reorg", run.started):
                if ev.get("chain") != "l2":
                    continue
                say(ctx, run, "unsafe-reorg",
                    f"Unsafe reorg: L2 blocks #{ev['first']}-#{ev['last']} "
                    f"({ev.get('userTxs', 0)} user transactions) were replaced by the "
                    f"deposit-only blocks derived from L1; safe is now #{safe}. The derived "
                    "attributes did not match the unsafe blocks, so the engine queue dropped "
                    "them and inserted the derived blocks. Start the batcher to post again.",
                    spec=S_ENGINE_QUEUE, module="pyop/engine/controller.py")  # fmt: skip
                break


class StartBatcher(Scenario):
    name = "start-batcher"
    title = "Start batcher"
    help = "admin_startBatcher: the batcher posts again from the safe head"

    async def start(self, ctx: Ctx, run: Run, params: dict[str, Any]) -> None:
        await _thread(faults.start_batcher, ctx.info)
        run.data["safe"] = ctx.l2("safe") or 0
        say(ctx, run, "started",
            "Batcher started (admin_startBatcher): it reads the safe head from the rollup node "
            "(optimism_syncStatus) and posts every block after it again.",
            spec=S_BATCHER, module="pyop/batcher/driver.py")  # fmt: skip

    async def watch(self, ctx: Ctx, run: Run) -> None:
        safe = ctx.l2("safe")
        if safe is not None and safe >= run.data["safe"] + 2:
            say(ctx, run, "safe-resumed", f"The safe head moves again: #{safe}.",
                spec=S_SAFE, module="pyop/derivation/driver.py")  # fmt: skip
            run.done = True


# --------------------------------------------------------------------------- L1 reorg


class L1Reorg(Scenario):
    name = "l1-reorg"
    title = "L1 reorg"
    help = "anvil_reorg of the newest N L1 blocks (their transactions re-included)"
    params = {"depth": 3}  # noqa: RUF012

    async def start(self, ctx: Ctx, run: Run, params: dict[str, Any]) -> None:
        depth = int(params.get("depth", 3))
        run.data["safe"] = ctx.l2("safe") or 0
        res = await _thread(faults.l1_reorg, ctx.info, depth)
        run.data.update(res)
        say(ctx, run, "reorged",
            f"L1 blocks #{res['first']}-#{res['head']} replaced (anvil_reorg); their "
            f"{res['txs']} transactions are re-included in the new #{res['first']}. Whatever "
            "was derived from the old blocks is now on a dead branch.",
            spec=S_TRAVERSAL, module="pyop/node/l1_watcher.py")  # fmt: skip

    async def watch(self, ctx: Ctx, run: Run) -> None:
        d = run.data
        safe = ctx.l2("safe")
        if safe is None:
            return
        for ev in ctx.events_since("reorg", run.started):
            if ev.get("chain") == "l2":
                say(ctx, run, "l2-reorged",
                    f"L2 blocks #{ev['first']}-#{ev['last']} had an L1 origin (or batch) in the "
                    "replaced L1 blocks and were replaced.",
                    spec=S_RESET, module="pyop/engine/start.py")  # fmt: skip
        if safe < d["safe"]:
            d["went_back"] = True
            say(ctx, run, "reset",
                f"The rollup node noticed the L1 reorg and reset its pipeline: the safe head went "
                f"back from #{d['safe']} to #{safe}, the newest block still built on canonical "
                "L1 data.", spec=S_RESET, module="pyop/derivation/driver.py")  # fmt: skip
        if d.get("went_back") and safe >= d["safe"]:
            say(ctx, run, "rederived",
                f"Re-derived from the new L1 blocks: safe is back at #{safe}.",
                spec=S_SAFE, module="pyop/derivation/driver.py")  # fmt: skip
            run.done = True
        elif not d.get("went_back") and time.time() - run.started > 40:
            say(ctx, run, "no-effect",
                f"The safe head did not need to go back (now #{safe}): the replaced L1 blocks "
                "held no data the safe chain was derived from, or the same data again.",
                spec=S_RESET, module="pyop/derivation/driver.py")  # fmt: skip
            run.done = True


# --------------------------------------------------------------------------- op-geth


class KillOpGeth(Scenario):
    name = "kill-op-geth"
    title = "Kill op-geth"
    help = "SIGKILL the sequencer's op-geth, restart it 8 s later"
    params = {"downSeconds": 8}  # noqa: RUF012

    async def start(self, ctx: Ctx, run: Run, params: dict[str, Any]) -> None:
        pid = await _thread(faults.kill_op_geth, ctx.info)
        run.data.update(unsafe=ctx.l2("unsafe") or 0, killed=time.time(),
                        down=float(params.get("downSeconds", 8)))  # fmt: skip
        say(ctx, run, "killed",
            f"op-geth (pid {pid}), the sequencer's execution engine, killed with SIGKILL: no "
            "clean shutdown. The rollup node cannot reach the Engine API, so no blocks are built.",
            spec=S_EXEC, module="pyop/engine/client.py")  # fmt: skip

    async def watch(self, ctx: Ctx, run: Run) -> None:
        d = run.data
        if "restarted" not in run.said and time.time() - d["killed"] >= d["down"]:
            say(ctx, run, "stalled", f"Unsafe head stuck at #{ctx.l2('unsafe')} while op-geth "
                "is down.", spec=S_EXEC, module="pyop/engine/client.py")  # fmt: skip
            proc = await _thread(faults.restart_op_geth, ctx.info)
            d["restarted_at"] = time.time()
            say(ctx, run, "restarted",
                f"op-geth restarted (pid {proc.pid}) on the same data directory. Blocks it had "
                "not flushed to disk may be gone; the rollup node finds the unsafe, safe and "
                "finalized heads again from what op-geth has, and goes on.",
                spec=S_RESET, module="pyop/engine/start.py")  # fmt: skip
            d["unsafe_after"] = ctx.l2("unsafe") or 0
        if "restarted" in run.said:
            u = ctx.l2("unsafe")
            if u is not None and u >= d["unsafe"] + 2:
                say(ctx, run, "recovered", f"Blocks are built again: unsafe #{u}.",
                    spec=S_EXEC, module="pyop/engine/controller.py")  # fmt: skip
                run.done = True


# --------------------------------------------------------------------------- alt-DA


class DaServerDown(Scenario):
    name = "da-down"
    title = "DA server down"
    help = "stop the alt-DA server (alt-DA devnets)"

    def available(self, ctx: Ctx) -> str:
        return "" if ctx.info.altda else "this devnet does not use alt-DA (init it with --altda)"

    async def start(self, ctx: Ctx, run: Run, params: dict[str, Any]) -> None:
        await _thread(faults.stop_da_server, ctx.info)
        run.data["safe"] = ctx.l2("safe") or 0
        say(ctx, run, "stopped",
            "alt-DA server stopped. The batcher cannot store new inputs, and a rollup node that "
            "meets a commitment whose input it cannot fetch waits: a temporary error, not a "
            "drop; the data is not lost, only late.", spec=S_ALTDA,
            module="pyop/derivation/data_source.py")  # fmt: skip

    async def watch(self, ctx: Ctx, run: Run) -> None:
        safe, unsafe = ctx.l2("safe"), ctx.l2("unsafe")
        if safe is not None and unsafe is not None and safe <= run.data["safe"] + 1 and unsafe > safe + 3:
            say(ctx, run, "safe-stalled", f"Safe head waits at #{safe}; unsafe grows to #{unsafe}.",
                spec=S_SAFE, module="pyop/derivation/driver.py")  # fmt: skip


class DaServerUp(Scenario):
    name = "da-up"
    title = "DA server up"
    help = "start the alt-DA server again"

    def available(self, ctx: Ctx) -> str:
        return DaServerDown().available(ctx)

    async def start(self, ctx: Ctx, run: Run, params: dict[str, Any]) -> None:
        await _thread(faults.start_da_server, ctx.info)
        run.data["safe"] = ctx.l2("safe") or 0
        say(ctx, run, "started", "alt-DA server started again (its inputs were kept on disk).",
            spec=S_ALTDA, module="pyop/devnet/da_server.py")  # fmt: skip

    async def watch(self, ctx: Ctx, run: Run) -> None:
        safe = ctx.l2("safe")
        if safe is not None and safe >= run.data["safe"] + 2:
            say(ctx, run, "safe-resumed", f"Inputs are available again; safe moves: #{safe}.",
                spec=S_SAFE, module="pyop/derivation/data_source.py")  # fmt: skip
            run.done = True


# --------------------------------------------------------------------------- deposit


class Deposit(Scenario):
    name = "deposit"
    title = "Deposit ETH"
    help = "send ETH to the OptimismPortal on L1 and follow it to L2"
    params = {"eth": 1}  # noqa: RUF012

    async def start(self, ctx: Ctx, run: Run, params: dict[str, Any]) -> None:
        value = int(float(params.get("eth", 1)) * ETHER)
        dep = await _thread(bridge.deposit_eth, ctx.info, value)
        run.data.update(l1_tx=dep.l1_tx, l1_block=dep.l1_block, l2_tx=dep.l2_tx.lower(), value=value)
        say(ctx, run, "sent",
            f"Deposit of {value / ETHER:g} ETH sent to the OptimismPortal, included in L1 block "
            f"#{dep.l1_block}: it emitted TransactionDeposited. Its L2 transaction hash is fixed "
            f"already: {dep.l2_tx[:18]}... (the source hash is keccak of the L1 block hash and "
            "the log index).", spec=S_DEPOSIT, module="pyop/protocol/deposit_log.py")  # fmt: skip

    async def watch(self, ctx: Ctx, run: Run) -> None:
        d = run.data
        landed = d.get("l2_block")
        if landed is None:
            for n in reversed(ctx.state.l2):
                row = ctx.state.l2[n]
                if any(str(tx).lower() == d["l2_tx"] for _l1, tx in row["dep"]):
                    d["l2_block"] = landed = n
                    say(ctx, run, "landed",
                        f"The deposit landed on L2 in block #{n} (L1 origin #{row['o']}): user "
                        "deposits of an L1 block go right after the L1-info deposit of the first "
                        "L2 block of that epoch, before any L2 transaction.",
                        spec=S_DEPOSIT_ORDER, module="pyop/derivation/attributes.py")  # fmt: skip
                    break
                if n < d["l1_block"]:
                    break
        safe = ctx.l2("safe")
        if landed is not None and safe is not None and safe >= landed:
            say(ctx, run, "safe", f"Block #{landed} with the deposit is safe now: derived from L1.",
                spec=S_SAFE, module="pyop/derivation/driver.py")  # fmt: skip
            run.done = True


# --------------------------------------------------------------------------- withdrawal


UNSEEN_LIMIT = 180.0
"""Seconds a withdrawal may stay unreadable on L2 (op-geth down, its transaction reorged out
and not yet included again) before the scenario reports an error."""


class Withdraw(Scenario):
    name = "withdraw"
    title = "Withdraw ETH"
    help = "initiate on L2, prove and finalize on L1, with the waits shown"
    params = {"eth": 0.1}  # noqa: RUF012

    async def start(self, ctx: Ctx, run: Run, params: dict[str, Any]) -> None:
        value = int(float(params.get("eth", 0.1)) * ETHER)
        w = await _thread(bridge.initiate_withdrawal, ctx.info, value)
        run.data.update(w=w, phase="initiated", t_phase=time.time(), checked=0.0)
        say(ctx, run, "initiated",
            f"Withdrawal of {value / ETHER:g} ETH initiated on L2 in block #{w.l2_block}: "
            f"L2ToL1MessagePasser stored sentMessages[{w.withdrawal_hash[:18]}...]. Next it "
            "waits for an output proposal that covers that block.",
            spec=S_WITHDRAW, module="pyop/devnet/bridge.py")  # fmt: skip

    async def watch(self, ctx: Ctx, run: Run) -> None:
        from pyop.devnet.rpc import RpcTransportError
        from pyop.devnet.withdrawals import WithdrawalNotFound, withdrawal_status

        d = run.data
        if time.time() - d["checked"] < 1.5:
            return
        d["checked"] = time.time()
        w = d["w"]
        try:
            # by its L2 transaction: a re-included transaction may get another message nonce,
            # hence another withdrawal hash
            st = await _thread(withdrawal_status, ctx.info, w.l2_tx)
        except (RpcTransportError, WithdrawalNotFound) as e:
            # op-geth down (a killed engine), or the L2 tx reorged out and not yet included
            # again: the withdrawal is late, not lost, as long as its L2 transaction comes back
            d.setdefault("unseen_since", time.time())
            if time.time() - d["unseen_since"] > UNSEEN_LIMIT:
                raise
            say(ctx, run, "unseen",
                f"Cannot see the withdrawal on L2 right now ({e}); still watching: an L2 reorg "
                "puts its transaction back into op-geth's pool and it is included again.",
                spec=S_WITHDRAW, module="pyop/devnet/withdrawals.py")  # fmt: skip
            return
        d.pop("unseen_since", None)
        if st.l2_block != w.l2_block or st.withdrawal_hash != w.withdrawal_hash:
            # an L2 reorg moved the initiating transaction: prove it in its new block
            old = w.l2_block
            w = await _thread(bridge.withdrawal_tx, ctx.info, w.l2_tx)
            d["w"] = w
            say(ctx, run, f"moved-{w.l2_block}",
                f"An L2 reorg moved the withdrawal's transaction from block #{old} to block "
                f"#{w.l2_block} (withdrawal hash {w.withdrawal_hash[:18]}...): it now waits for "
                f"an output proposal that covers #{w.l2_block}.",
                spec=S_WITHDRAW, module="pyop/devnet/bridge.py")  # fmt: skip
        waited = time.time() - d["t_phase"]
        if d["phase"] == "initiated" and "provable" in st.reached:
            say(ctx, run, "provable",
                f"Provable after {waited:.0f} s: an output proposal on L1 covers L2 block "
                f"#{w.l2_block}. Proving it: output root proof + storage proof of the message.",
                spec=S_PROPOSALS, module="pyop/proposer/driver.py")  # fmt: skip
            tx = await _thread(bridge.prove_withdrawal, ctx.info, w)
            d.update(phase="proven", t_phase=time.time(), prove_tx=tx)
            st = await _thread(withdrawal_status, ctx.info, w.l2_tx)
            at = st.details.get("finalizableAt")
            when = f" (finalizable at L1 time {at})" if at else ""
            say(ctx, run, "proven",
                f"Proven on L1 (tx {tx[:18]}...): the portal checked the output root against the "
                f"proposal and the storage proof. Now the finalization period runs{when}.",
                spec=S_WITHDRAW, module="pyop/devnet/bridge.py")  # fmt: skip
        elif d["phase"] == "initiated" and "waiting" not in run.said and waited > 3:
            say(ctx, run, "waiting",
                f"Waiting for the proposer: latest proposal is for L2 block "
                f"#{st.details.get('latestProposedBlock', '?')}, the withdrawal is in "
                f"#{w.l2_block}.", spec=S_PROPOSALS, module="pyop/proposer/driver.py")  # fmt: skip
        elif d["phase"] == "proven" and "finalizable" in st.reached:
            say(ctx, run, "finalizable",
                f"Finalizable after {waited:.0f} s: the finalization period is over.",
                spec=S_WITHDRAW, module="pyop/devnet/withdrawals.py")  # fmt: skip
            tx = await _thread(bridge.finalize_withdrawal, ctx.info, w)
            d.update(phase="finalized", finalize_tx=tx)
            say(ctx, run, "finalized",
                f"Finalized (tx {tx[:18]}...): the portal released the ETH on L1. Total "
                f"{time.time() - run.started:.0f} s from initiation.",
                spec=S_WITHDRAW, module="pyop/devnet/bridge.py")  # fmt: skip
            run.done = True


SCENARIOS: dict[str, type[Scenario]] = {
    s.name: s for s in (StopBatcher, StartBatcher, L1Reorg, KillOpGeth, DaServerDown, DaServerUp,
                        Deposit, Withdraw)
}


class ScenarioRunner:
    """Starts scenarios and calls their watchers every collector tick."""

    def __init__(self, info: DevnetInfo, state: DashboardState) -> None:
        self.ctx = Ctx(info, state)
        self.scenarios = {name: cls() for name, cls in SCENARIOS.items()}
        self.runs: dict[str, Run] = {}
        self.busy: set[str] = set()
        self.tasks: set[asyncio.Task[None]] = set()
        self.publish()

    def describe(self) -> dict[str, Any]:
        return {
            name: {"title": s.title, "help": s.help, "params": s.params,
                   "unavailable": s.available(self.ctx),
                   "running": name in self.busy or (name in self.runs and not self.runs[name].done)}
            for name, s in self.scenarios.items()
        }  # fmt: skip

    def publish(self) -> None:
        self.ctx.state.set_scenarios(self.describe())

    async def start(self, name: str, params: dict[str, Any]) -> Run:
        s = self.scenarios.get(name)
        if s is None:
            raise ScenarioError(f"unknown scenario {name!r}")
        why = s.available(self.ctx)
        if why:
            raise ScenarioError(why)
        if name in self.busy:
            raise ScenarioError(f"{name} is starting already")
        run = Run(name)
        self.busy.add(name)
        try:
            if name == "start-batcher" and "stop-batcher" in self.runs:
                self.runs["stop-batcher"].done = True
            await s.start(self.ctx, run, params)
        except PyopError as e:
            self.ctx.state.add_event("narration", {"scenario": name, "step": "error",
                                                   "text": f"{s.title} failed: {e}", "spec": "",
                                                   "specTitle": "", "module": ""})  # fmt: skip
            raise ScenarioError(str(e)) from None
        finally:
            self.busy.discard(name)
        self.runs[name] = run
        self.publish()
        return run

    async def tick(self) -> None:
        """Start the watcher of every unfinished run that is not already being watched (as a
        task: a watcher that waits, e.g. for a restart, does not hold up the collector)."""
        for name, run in list(self.runs.items()):
            if run.done or name in self.busy:
                continue
            self.busy.add(name)
            task = asyncio.create_task(self._watch(name, run))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _watch(self, name: str, run: Run) -> None:
        try:
            await self.scenarios[name].watch(self.ctx, run)
        except PyopError as e:
            say(self.ctx, run, "error", f"{self.scenarios[name].title}: {e}")
            run.done = True
        finally:
            self.busy.discard(name)
        if run.done:
            self.publish()

    async def close(self) -> None:
        for t in list(self.tasks):
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
