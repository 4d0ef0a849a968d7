"""``pyop derive``: run the derivation pipeline over a fixture (or over live endpoints, captured
in memory first) and print the payload attributes of every derived L2 block.

Output (stdout): one JSON object per derived block, the Engine API payload attributes
(``PayloadAttributes.to_json()``) plus ``"l2_block_number"`` and ``"derived_from"`` (the L1
block ref whose data completed the batch); with ``--check`` also ``"match": true|false``.

Execution: there is no execution engine here. The "executor" returns, as the new safe head, the
fixture's *reference* L2 block with the derived number (``l2BlockInfos`` / ``pyopL2Blocks``).
Without a reference block for the next number derivation stops there.

``--check`` compares each derived block's attributes with the reference: the full reference
block (``pyopL2Blocks``) when present, else the expected attributes (``l2Payloads`` /
``refPayloads``). Compared: timestamp, prevRandao, feeRecipient, gasLimit, transactions (list
equality; the first differing index and both tx hashes are reported), withdrawals, parent
beacon block root, [Holocene] ``eip1559Params`` against the header ``extraData`` (version 0 or
1, bytes 1..9; all-zero params mean "the chain's defaults", which the EL writes into extraData:
they are compared with ``chain_op_config``'s constants, see :func:`header_eip1559_params`),
[Jovian] ``minBaseFee`` against ``extraData`` v1 bytes 9..17, and
that the derived block's parent is the reference block's parent. At the first mismatch the
differences are printed field by field on stderr and derivation **stops** (the safe head
cannot honestly advance past a block we did not derive). The last stderr line is
``N blocks: M matched, K mismatched``; the exit status is 1 on any mismatch or when fewer blocks
than ``l2CursorEnd`` were derived.

``--explain``: every drop and rule decision of the pipeline is printed on stderr as it happens,
one readable line each (``Drop.explain()`` / ``Decision.explain()``, prefixed ``drop:`` /
``decision:``), interleaved with ``block N: ...`` progress lines.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import IO

from eth_hash.auto import keccak

from pyop.config.l1_chains import L1BlobSchedule
from pyop.config.rollup import RollupConfig
from pyop.derivation.driver import DerivationPipeline, derive_range
from pyop.derivation.drops import Decision, Drop
from pyop.derivation.types import AttributesWithParent
from pyop.primitives import (
    ExecutionPayload,
    L2BlockRef,
    PayloadAttributes,
    PyopError,
    to_hex,
)
from pyop.sources.memory import MemoryL2Source
from pyop.tools.fixture import DerivationFixture, fixture_sources

__all__ = ["CheckResult", "DeriveError", "compare_attributes", "run_derive"]


class DeriveError(PyopError):
    """Derivation over a fixture could not run."""


class _Stop(Exception):
    """Raised by the executor to end derivation early."""


@dataclass
class CheckResult:
    derived: int = 0
    matched: int = 0
    mismatched: int = 0
    expected: int = 0
    stopped: str = ""
    diffs: dict[int, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.mismatched == 0 and self.derived >= self.expected and not self.stopped

    def summary(self) -> str:
        return f"{self.derived} blocks: {self.matched} matched, {self.mismatched} mismatched"


def _h(b: bytes | None) -> str:
    return "null" if b is None else to_hex(b)


def _tx_diff(got: Sequence[bytes], want: Sequence[bytes]) -> list[str]:
    if list(got) == list(want):
        return []
    out = [f"transactions: {len(got)} derived, {len(want)} in reference"]
    for i in range(max(len(got), len(want))):
        g = got[i] if i < len(got) else None
        w = want[i] if i < len(want) else None
        if g != w:
            gh = "none" if g is None else to_hex(keccak(g))
            wh = "none" if w is None else to_hex(keccak(w))
            out.append(f"transactions[{i}] differ: derived tx {gh}, reference tx {wh}")
            break
    return out


def compare_attributes(
    cfg: RollupConfig,
    got: PayloadAttributes,
    *,
    block: ExecutionPayload | None = None,
    expected: PayloadAttributes | None = None,
) -> list[str]:
    """Field-by-field differences between derived attributes and a reference block (or the
    expected attributes); empty when they agree. See the module docstring for the rules."""
    diffs: list[str] = []

    def cmp(name: str, g: object, w: object, fmt: object = str) -> None:
        if g != w:
            f = fmt if callable(fmt) else str
            diffs.append(f"{name}: derived {f(g)}, reference {f(w)}")

    if block is not None:
        cmp("timestamp", got.timestamp, block.timestamp)
        cmp("prevRandao", got.prev_randao, block.prev_randao, _h)
        cmp("feeRecipient", got.suggested_fee_recipient, block.fee_recipient, _h)
        cmp("gasLimit", got.gas_limit, block.gas_limit)
        diffs += _tx_diff(got.transactions, block.transactions)
        cmp("withdrawals", got.withdrawals, block.withdrawals)
        cmp("parentBeaconBlockRoot", got.parent_beacon_block_root, block.parent_beacon_block_root, _h)
        extra = block.extra_data
        if got.eip1559_params is not None:
            want = header_eip1559_params(cfg, got.eip1559_params)
            if len(extra) < 9 or extra[0] not in (0, 1):
                diffs.append(f"eip1559Params: derived {_h(got.eip1559_params)}, reference "
                             f"extraData {_h(extra)} has no EIP-1559 params")  # fmt: skip
            elif want != extra[1:9]:
                shown = _h(got.eip1559_params)
                if want != got.eip1559_params:
                    shown += f" (the chain's defaults {_h(want)})"
                diffs.append(f"eip1559Params: derived {shown}, reference extraData params "
                             f"{_h(extra[1:9])}")  # fmt: skip
        elif cfg.is_holocene(block.timestamp):
            diffs.append("eip1559Params: derived none, but the block is after Holocene")
        if got.min_base_fee is not None:
            if len(extra) != 17 or extra[0] != 1:
                diffs.append(f"minBaseFee: derived {got.min_base_fee}, reference extraData "
                             f"{_h(extra)} is not version 1")  # fmt: skip
            else:
                cmp("minBaseFee", got.min_base_fee, int.from_bytes(extra[9:17], "big"))
        elif cfg.is_jovian(block.timestamp):
            diffs.append("minBaseFee: derived none, but the block is after Jovian")
    elif expected is not None:
        cmp("timestamp", got.timestamp, expected.timestamp)
        cmp("prevRandao", got.prev_randao, expected.prev_randao, _h)
        cmp("feeRecipient", got.suggested_fee_recipient, expected.suggested_fee_recipient, _h)
        cmp("gasLimit", got.gas_limit, expected.gas_limit)
        diffs += _tx_diff(got.transactions, expected.transactions)
        cmp("withdrawals", got.withdrawals, expected.withdrawals)
        cmp("parentBeaconBlockRoot", got.parent_beacon_block_root,
            expected.parent_beacon_block_root, _h)  # fmt: skip
        cmp("eip1559Params", got.eip1559_params, expected.eip1559_params, _h)
        cmp("minBaseFee", got.min_base_fee, expected.min_base_fee)
        cmp("noTxPool", got.no_tx_pool, expected.no_tx_pool)
    else:
        diffs.append("no reference block or expected attributes in the fixture")
    return diffs


def header_eip1559_params(cfg: RollupConfig, params: bytes) -> bytes:
    """The 8 bytes of EIP-1559 params the engine writes into the header ``extraData`` for
    Holocene ``eip1559Params`` (holocene/exec-engine.md; op-geth miner ``prepareWork``): the
    params themselves, or for all-zero params the chain's constants (``chain_op_config``:
    the Canyon denominator and the elasticity). Without a ``chain_op_config`` the defaults are
    unknown and zero params are expected as they are (so a real op-geth block then shows a
    difference instead of being skipped)."""
    coc = cfg.chain_op_config
    if any(params) or coc is None:
        return bytes(params)
    den = coc.eip1559_denominator_canyon or coc.eip1559_denominator
    return den.to_bytes(4, "big") + coc.eip1559_elasticity.to_bytes(4, "big")


class _ExplainObserver:
    def __init__(self, err: IO[str]) -> None:
        self.err = err

    def on_drop(self, drop: Drop) -> None:
        self.err.write(f"drop: {drop.explain()}\n")
        self.err.flush()

    def on_decision(self, decision: Decision) -> None:
        self.err.write(f"decision: {decision.explain()}\n")
        self.err.flush()


class ReferenceExecutor:
    """The fixture's "engine": the new safe head is the reference block of the derived number
    (see the module docstring). In check mode it compares and stops at the first mismatch."""

    def __init__(
        self, fx: DerivationFixture, l2: MemoryL2Source, result: CheckResult, *, check: bool
    ) -> None:
        self.fx = fx
        self.l2 = l2
        self.result = result
        self.check = check
        self.last_match: bool | None = None

    def execute(self, attrs: AttributesWithParent) -> L2BlockRef:
        n = attrs.parent.number + 1
        try:
            ref = self.l2.l2_block_ref_by_number(n)
        except PyopError:
            self.result.stopped = f"no reference L2 block {n} in the fixture"
            raise _Stop(self.result.stopped) from None
        if self.check:
            diffs = compare_attributes(
                self.fx.rollup_config,
                attrs.attributes,
                block=self.fx.l2_blocks.get(n),
                expected=self.fx.expected_attributes(n),
            )
            if ref.parent_hash != attrs.parent.hash:
                diffs.insert(0, f"parent: derived on {_h(attrs.parent.hash)}, reference block's "
                                f"parent is {_h(ref.parent_hash)}")  # fmt: skip
            self.last_match = not diffs
            if diffs:
                self.result.diffs[n] = diffs
        return ref


def run_derive(
    fx: DerivationFixture,
    *,
    check: bool = False,
    explain: bool = False,
    out: IO[str] | None = None,
    err: IO[str] | None = None,
    l1_blob_schedule: L1BlobSchedule | None = None,
) -> CheckResult:
    """Derive ``l2CursorStart+1 ..= l2CursorEnd`` of the fixture (see the module docstring).

    The L1 blob schedule is resolved as op-node does (:meth:`DerivationFixture.l1_blob_schedule`):
    a fixture of an unknown L1 needs ``l1_blob_schedule`` or its own ``pyopL1ChainConfig``,
    else :class:`FixtureError`.
    """
    out = out or sys.stdout
    err = err or sys.stderr
    schedule = fx.l1_blob_schedule(l1_blob_schedule)
    logging.getLogger("pyop.derivation").addHandler(logging.NullHandler())
    l1, l2, blobs = fixture_sources(fx)
    start = fx.start_ref()
    result = CheckResult(expected=max(0, fx.l2_cursor_end - fx.l2_cursor_start))
    executor = ReferenceExecutor(fx, l2, result, check=check)
    pipeline = DerivationPipeline(
        fx.rollup_config, l1, l2, blobs=blobs, observer=_ExplainObserver(err) if explain else None,
        blob_schedule=schedule,
    )  # fmt: skip
    try:
        for awp in derive_range(pipeline, start, executor, until_l2_number=fx.l2_cursor_end):
            n = awp.parent.number + 1
            line = awp.attributes.to_json()
            line["l2_block_number"] = n
            line["derived_from"] = awp.derived_from.to_json()
            result.derived += 1
            if check:
                match = n not in result.diffs
                line["match"] = match
            out.write(json.dumps(line) + "\n")
            out.flush()
            if explain:
                err.write(f"block {n}: derived from L1 block {awp.derived_from.number}, "
                          f"{len(awp.attributes.transactions)} txs\n")  # fmt: skip
            if check:
                if n in result.diffs:
                    result.mismatched += 1
                    err.write(f"block {n}: MISMATCH\n")
                    for d in result.diffs[n]:
                        err.write(f"  {d}\n")
                    result.stopped = f"stopped at the first mismatch (block {n})"
                    break
                result.matched += 1
    except _Stop:
        pass
    if result.stopped:
        err.write(f"{result.stopped}\n")
    elif result.derived < result.expected:
        err.write(
            f"derived {result.derived} of {result.expected} blocks: the L1 data in the fixture "
            "ran out first\n"
        )
    if check:
        err.write(result.summary() + "\n")
    err.flush()
    return result
