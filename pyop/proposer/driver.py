"""The proposal loop: every ``--poll-interval``, decide whether to propose, compute and check the
output root, and send the L1 transaction through the transaction manager.

Mirrors op-proposer's ``L2OutputSubmitter`` (``op-proposer/proposer/driver.go``): the
L2OutputOracle path of v1.13.7 (``FetchL2OOOutput``, ``waitForL1Head``, ``sendTransaction``) and
the DisputeGameFactory path of v1.19.6 (``FetchDGFOutput``, ``HasProposedSince``,
``ProposalTx``). Differences, each deliberate:

- the output root is computed from the L2 EL and cross-checked against the rollup node
  (:mod:`pyop.proposer.output`); a mismatch refuses the proposal and logs both values;
- the L2 block must be safe (``--allow-non-finalized``) or finalized *by the rollup node's sync
  status*, checked before the output is fetched (Go fetches first, then checks);
- a DisputeGameFactory game that already exists for (type, root, block) is skipped instead of
  sent to revert with ``GameAlreadyExists``.

Nothing is kept between polls except what L1 says: what to propose next is read from the
contract every time (``nextBlockNumber``; the proposer's newest game), so a restart, or an L1
reorg that removes a proposal, simply leads to proposing that block again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from pyop.primitives import PyopError
from pyop.proposer import contracts as c
from pyop.proposer.output import Output, OutputError, OutputMismatchError, OutputSource

log = logging.getLogger("pyop.proposer")

Mode = Literal["l2oo", "dgf"]


@dataclass(frozen=True, slots=True)
class SendResult:
    """What the transaction manager reports for a mined proposal transaction."""

    tx_hash: str
    status: int
    gas_used: int
    block_number: int


class Sender(Protocol):
    """The transaction manager as the driver uses it (adapted from :mod:`pyop.txmgr`)."""

    @property
    def from_address(self) -> str: ...

    async def send(self, to: str, data: bytes, value: int = 0) -> SendResult: ...


class ProposerMetrics(Protocol):
    def record_proposal(self, l2_block: int, gas_used: int) -> None: ...
    def record_mismatch(self, l2_block: int) -> None: ...
    def record_error(self, kind: str) -> None: ...


class NoMetrics:
    def record_proposal(self, l2_block: int, gas_used: int) -> None:
        pass

    def record_mismatch(self, l2_block: int) -> None:
        pass

    def record_error(self, kind: str) -> None:
        pass


@dataclass(frozen=True, slots=True)
class DriverConfig:
    mode: Mode
    contract: str
    """The L2OutputOracle or DisputeGameFactory address."""
    poll_interval: float = 12.0
    allow_non_finalized: bool = False
    game_type: int = 0
    proposal_interval: float = 0.0


@dataclass(frozen=True, slots=True)
class StepResult:
    """What one poll did: ``action`` is ``proposed``, ``wait`` (nothing to do yet), ``skip``
    (already proposed), ``mismatch``, ``reverted`` or ``error``."""

    action: str
    reason: str = ""
    l2_block: int | None = None
    output_root: bytes | None = None
    tx: SendResult | None = None


class ProposerDriver:
    """Runs :meth:`step` every poll interval while started (see the module docstring)."""

    def __init__(
        self,
        cfg: DriverConfig,
        *,
        l1: c.RPC,
        rollup: c.RPC,
        outputs: OutputSource,
        sender: Sender,
        metrics: ProposerMetrics | None = None,
        clock: Callable[[], float] = time.time,
        on_proposal: Callable[[StepResult], Awaitable[None] | None] | None = None,
    ) -> None:
        self.cfg = cfg
        self.l1 = l1
        self.rollup = rollup
        self.outputs = outputs
        self.sender = sender
        self.metrics: ProposerMetrics = metrics or NoMetrics()
        self.clock = clock
        self.on_proposal = on_proposal
        self.running = False
        self._wake = asyncio.Event()
        self.last: StepResult | None = None
        self.proposals: list[StepResult] = []

    # ---------------------------------------------------------------- admin (start/stop)

    def start(self) -> None:
        """``admin_startProposer``; an error if already running (op-proposer's wording)."""
        if self.running:
            raise PyopError("proposer is already running")
        self.running = True
        self._wake.set()
        log.info("Proposer started")

    def stop(self) -> None:
        """``admin_stopProposer``; an error if not running."""
        if not self.running:
            raise PyopError("proposer is not running")
        self.running = False
        log.info("Proposer stopped")

    async def run(self) -> None:
        """Poll until cancelled; errors of one poll are logged and retried next poll."""
        while True:
            if self.running:
                try:
                    self.last = await self.step()
                except (OutputError, c.ContractError, PyopError) as e:
                    self.metrics.record_error(type(e).__name__)
                    log.warning("Error getting proposal: %s", e)
                    self.last = StepResult("error", str(e))
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.cfg.poll_interval)

    # ---------------------------------------------------------------- one poll

    async def step(self) -> StepResult:
        if self.cfg.mode == "l2oo":
            return await self._step_l2oo()
        return await self._step_dgf()

    async def _sync_status(self) -> dict[str, Any]:
        st = await self.rollup.call("optimism_syncStatus", [])
        if not isinstance(st, dict):
            raise PyopError(f"optimism_syncStatus returned {st!r}")
        return st

    def _proposable_head(self, st: dict[str, Any]) -> int:
        """The safe head with ``--allow-non-finalized``, else the finalized head
        (``FetchCurrentBlockNumber``)."""
        key = "safe_l2" if self.cfg.allow_non_finalized else "finalized_l2"
        return int(st[key]["number"])

    async def _checked(self, block: int) -> tuple[Output, dict[str, Any]] | StepResult:
        try:
            return await self.outputs.checked_output(block)
        except OutputMismatchError as e:
            self.metrics.record_mismatch(block)
            log.error("Refusing to propose: %s", e)
            return StepResult("mismatch", str(e), block)

    async def _step_l2oo(self) -> StepResult:
        (nxt,) = await c.call(self.l1, self.cfg.contract, c.L2OO_NEXT_BLOCK_NUMBER)
        nxt = int(nxt)
        st = await self._sync_status()
        head = self._proposable_head(st)
        if head < nxt:
            log.debug("Proposer submission interval has not elapsed: current %d, next %d",
                      head, nxt)  # fmt: skip
            return StepResult("wait", f"{'safe' if self.cfg.allow_non_finalized else 'finalized'}"
                              f" head {head} < next block {nxt}", nxt)  # fmt: skip
        got = await self._checked(nxt)
        if isinstance(got, StepResult):
            return got
        out, theirs = got
        cur_l1 = (theirs.get("syncStatus") or st).get("current_l1") or st["current_l1"]
        l1_number, l1_hash = int(cur_l1["number"]), bytes.fromhex(str(cur_l1["hash"])[2:])
        # waitForL1Head: the L1 block the proposal names must be below the head, or the
        # contract's blockhash() check fails during gas estimation.
        await self._wait_l1_head_above(l1_number)
        data = c.propose_l2_output_calldata(out.root, nxt, l1_hash, l1_number)
        return await self._send(out, self.cfg.contract, data, 0)

    async def _wait_l1_head_above(self, number: int) -> None:
        while True:
            head = int(str(await self.l1.call("eth_blockNumber", [])), 16)
            if head > number:
                return
            await asyncio.sleep(min(1.0, self.cfg.poll_interval))

    async def _step_dgf(self) -> StepResult:
        cutoff = int(self.clock() - self.cfg.proposal_interval)
        found, ts, claim = await c.has_proposed_since(
            self.l1, self.cfg.contract, self.sender.from_address, cutoff, self.cfg.game_type
        )
        if found:
            return StepResult("wait", f"proposed a game at {ts}, within the proposal interval")
        st = await self._sync_status()
        head = self._proposable_head(st)
        if head == 0:
            return StepResult("wait", "skipping proposal for the genesis block")
        got = await self._checked(head)
        if isinstance(got, StepResult):
            return got
        out, _theirs = got
        if claim == out.root:
            return StepResult("skip", "output root unchanged since the last proposed game", head)
        gt = self.cfg.game_type
        if await c.game_exists(self.l1, self.cfg.contract, gt, out.root, head):
            return StepResult("skip", f"game ({gt}, {head}) already exists", head, out.root)
        (bond,) = await c.call(self.l1, self.cfg.contract, c.DGF_INIT_BONDS, gt)
        data = c.create_game_calldata(gt, out.root, head)
        return await self._send(out, self.cfg.contract, data, int(bond))

    async def _send(self, out: Output, to: str, data: bytes, value: int) -> StepResult:
        log.info("Proposing output root: output=0x%s block=%d storage_root_from=%s",
                 out.root.hex(), out.block_number, out.storage_root_source)  # fmt: skip
        res = await self.sender.send(to, data, value)
        if res.status != 1:
            log.error("Proposer tx successfully published but reverted: tx_hash=%s", res.tx_hash)
            return StepResult("reverted", "transaction reverted", out.block_number, out.root, res)
        log.info("Proposer tx successfully published: tx_hash=%s l1blocknum=%d gas_used=%d "
                 "l2_block=%d", res.tx_hash, res.block_number, res.gas_used,
                 out.block_number)  # fmt: skip
        self.metrics.record_proposal(out.block_number, res.gas_used)
        result = StepResult("proposed", "", out.block_number, out.root, res)
        self.proposals.append(result)
        if self.on_proposal is not None:
            maybe = self.on_proposal(result)
            if maybe is not None:
                await maybe
        return result
