"""The derivation explorer: for one L2 block, the path L1 transaction -> frames -> channel ->
batch -> payload attributes -> block, with every drop and rule decision of the pipeline
explained (the same data ``pyop derive --explain`` prints, as JSON to browse).

Input is a derivation fixture (:mod:`pyop.tools.fixture`): a ``pyop derive --fixture`` file, or
one captured from the live devnet for the block asked (:func:`capture_for_block`, the same
capture ``pyop derive --l1 --l2`` does in memory).

Two views of the same L1 data are joined:

1. The pipeline itself (:class:`pyop.derivation.driver.DerivationPipeline` under
   :class:`pyop.tools.derive.ReferenceExecutor`) derives every block of the fixture; an observer
   records each :class:`~pyop.derivation.drops.Drop` and
   :class:`~pyop.derivation.drops.Decision` in order, so the events between two derived blocks
   are the reasons for the second one (``derived_from`` is the L1 block whose data completed
   its batch).
2. The data path, read with :mod:`pyop.codec`: the batcher transactions of every fixture L1
   block (the pipeline's own check, :func:`pyop.derivation.data_source.batcher_txs`), their
   frames, the channels they form, and the batches of each complete channel with the L2
   blocks they cover (:mod:`pyop.dashboard.chaindata`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from eth_hash.auto import keccak

from pyop.codec.blob import decode_blob
from pyop.codec.errors import CodecError
from pyop.codec.tx import SignedTx, decode_signed_tx
from pyop.config.rollup import RollupConfig
from pyop.dashboard.chaindata import ChannelTracker
from pyop.derivation.data_source import batcher_txs
from pyop.derivation.driver import DerivationPipeline, derive_range
from pyop.derivation.drops import Decision, Drop, Explainer
from pyop.primitives import PyopError, to_hex
from pyop.tools.derive import CheckResult, ExecutorStop, ReferenceExecutor
from pyop.tools.fixture import DerivationFixture, fixture_sources

__all__ = ["Exploration", "ExplorerError", "capture_for_block", "explore_fixture"]

MAX_EVENTS = 20_000


class ExplorerError(PyopError):
    """The block cannot be explored (not in the fixture, capture failed)."""


def _event_json(ev: Drop | Decision) -> dict[str, Any]:
    origin = None if ev.l1_origin is None else {"number": ev.l1_origin.number,
                                                 "hash": to_hex(ev.l1_origin.hash)}  # fmt: skip
    if isinstance(ev, Drop):
        return {"type": "drop", "reason": ev.reason.name, "summary": ev.reason.summary,
                "spec": ev.spec, "detail": ev.detail, "numbers": dict(ev.numbers),
                "l1Origin": origin, "stage": ev.stage, "explain": ev.explain()}  # fmt: skip
    return {"type": "decision", "reason": ev.kind.name, "summary": ev.kind.value[0],
            "spec": ev.kind.spec, "detail": ev.detail, "numbers": dict(ev.numbers),
            "l1Origin": origin, "stage": ev.stage, "explain": ev.explain()}  # fmt: skip


class _Recorder:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def on_drop(self, drop: Drop) -> None:
        if len(self.events) < MAX_EVENTS:
            self.events.append(_event_json(drop))

    def on_decision(self, decision: Decision) -> None:
        if len(self.events) < MAX_EVENTS:
            self.events.append(_event_json(decision))


@dataclass
class Exploration:
    """Everything learnt from one fixture."""

    cfg: RollupConfig
    source: str
    events: list[dict[str, Any]] = field(default_factory=list)
    blocks: dict[int, dict[str, Any]] = field(default_factory=dict)
    l1_txs: list[dict[str, Any]] = field(default_factory=list)
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)
    stopped: str = ""
    summary: str = ""

    def block_numbers(self) -> list[int]:
        return sorted(self.blocks)

    def trace(self, n: int) -> dict[str, Any]:
        """The path of L2 block ``n`` (module docstring) as JSON."""
        b = self.blocks.get(n)
        if b is None:
            have = self.block_numbers()
            span = f"{have[0]}-{have[-1]}" if have else "none"
            raise ExplorerError(f"L2 block {n} was not derived from this fixture (derived: {span})")
        chans = [c for c in self.channels.values()
                 if c["l2"] is not None and c["l2"][0] <= n <= c["l2"][1]]  # fmt: skip
        cids = {c["id"] for c in chans}
        txs = [t for t in self.l1_txs if cids & set(t["channels"])]
        batches = [dict(bt, channel=c["id"]) for c in chans for bt in c["batches"]
                   if bt["first"] <= n <= bt["last"]]  # fmt: skip
        lo, hi = b["events"]
        return {
            "source": self.source,
            "block": n,
            "derivedFrom": b["derivedFrom"],
            "l1Txs": txs,
            "frames": [dict(f, channel=c["id"]) for c in chans for f in c["frameList"]],
            "channels": [{k: v for k, v in c.items() if k != "frameList"} for c in chans],
            "batches": batches,
            "attributes": b["attributes"],
            "reference": b["reference"],
            "match": b["match"],
            "diffs": b["diffs"],
            "events": self.events[lo:hi],
            "eventRange": [lo, hi],
            "drops": [e for e in self.events if e["type"] == "drop"],
            "explain": [e["explain"] for e in self.events[lo:hi]],
        }

    def overview(self) -> dict[str, Any]:
        return {"source": self.source, "blocks": self.block_numbers(), "stopped": self.stopped,
                "summary": self.summary, "drops": sum(e["type"] == "drop" for e in self.events),
                "decisions": sum(e["type"] == "decision" for e in self.events)}  # fmt: skip


def _data_path(fx: DerivationFixture, ex: Exploration) -> None:
    cfg = fx.rollup_config
    tracker = ChannelTracker(cfg, max_channels=100_000)
    batcher = fx.start_system_config().batcher_addr
    quiet = Explainer(keep=False)
    logging.getLogger("pyop.derivation.l1_retrieval").setLevel(logging.ERROR)
    for blk in fx.l1_blocks:
        ref = blk.header.ref()
        good, _counts = batcher_txs(cfg, ref, blk.transactions, batcher, quiet)
        blob_i = 0
        blob_of: dict[int, list[bytes]] = {}
        for i, raw in enumerate(blk.transactions):
            if raw[:1] == b"\x03":
                try:
                    stx = decode_signed_tx(raw)
                except CodecError:
                    continue
                if stx.to == cfg.batch_inbox_address:
                    k = len(stx.blob_versioned_hashes)
                    blob_of[i] = list(blk.blobs[blob_i : blob_i + k])
                    blob_i += k
        for bt in good:
            tx = bt.tx  # a SignedTx, or a DepositTx on an L3 (op-node isValidBatchTx)
            if isinstance(tx, SignedTx) and tx.tx_type == 3:
                kind = "blob"
                payloads = []
                for blob in blob_of.get(bt.index, []):
                    try:
                        payloads.append(decode_blob(blob))
                    except CodecError:
                        payloads.append(b"")
            elif tx.data[:1] == b"\x01":
                kind, payloads = "alt-da", []
            else:
                kind, payloads = "calldata", [tx.data]
            entry: dict[str, Any] = {"hash": to_hex(keccak(blk.transactions[bt.index])), "l1Block": ref.number, "kind": kind,
                                     "size": sum(len(p) for p in payloads), "frames": [],
                                     "channels": [], "error": ""}  # fmt: skip
            for p in payloads:
                frames, _done, err = tracker.add_payload(p, entry["hash"], ref.number)
                entry["error"] = entry["error"] or err
                for f in frames:
                    cid = "0x" + f.channel_id.hex()
                    entry["frames"].append({"channel": cid, "number": f.number, "size": f.size,
                                            "isLast": f.is_last})  # fmt: skip
                    if cid not in entry["channels"]:
                        entry["channels"].append(cid)
            ex.l1_txs.append(entry)
    for ch in tracker.channels.values():
        j = ch.to_json()
        j["frameList"] = [{"number": f.number, "size": f.size, "isLast": f.is_last, "tx": f.tx,
                           "l1Block": f.l1_block} for f in (ch.frames[n] for n in sorted(ch.frames))]  # fmt: skip
        ex.channels[str(j["id"])] = j


def explore_fixture(fx: DerivationFixture, *, source: str = "fixture") -> Exploration:
    """Derive every block of ``fx`` and record the data path (module docstring)."""
    ex = Exploration(fx.rollup_config, source)
    _data_path(fx, ex)
    rec = _Recorder()
    l1, l2, blobs = fixture_sources(fx)
    result = CheckResult(expected=max(0, fx.l2_cursor_end - fx.l2_cursor_start))
    executor = ReferenceExecutor(fx, l2, result, check=True)
    pipeline = DerivationPipeline(fx.rollup_config, l1, l2, blobs=blobs, observer=rec)
    logging.getLogger("pyop.derivation").setLevel(logging.ERROR)
    last = 0
    try:
        for awp in derive_range(pipeline, fx.start_ref(), executor, until_l2_number=fx.l2_cursor_end):
            n = awp.parent.number + 1
            ref_block = fx.l2_blocks.get(n)
            ex.blocks[n] = {
                "attributes": awp.attributes.to_json(),
                "derivedFrom": awp.derived_from.to_json(),
                "reference": None if ref_block is None else {
                    "hash": to_hex(ref_block.block_hash), "txs": len(ref_block.transactions),
                    "timestamp": ref_block.timestamp},
                "match": n not in result.diffs,
                "diffs": result.diffs.get(n, []),
                "events": (last, len(rec.events)),
            }  # fmt: skip
            last = len(rec.events)
            result.derived += 1
    except ExecutorStop:
        pass
    except PyopError as e:
        ex.stopped = f"derivation stopped: {e}"
    ex.stopped = ex.stopped or result.stopped
    ex.events = rec.events
    ex.summary = f"{result.derived} blocks derived, {len(result.diffs)} differ from the reference"
    return ex


async def capture_for_block(cfg: RollupConfig, l1_url: str, l2_url: str, beacon_url: str | None,
                            n: int) -> DerivationFixture:  # fmt: skip
    """A fixture for deriving L2 block ``n`` from the live endpoints (``pyop capture``)."""
    from pyop.sources.beacon import AsyncBeaconClient
    from pyop.sources.l1 import AsyncL1Client
    from pyop.sources.l2 import AsyncL2Client
    from pyop.sources.rpc import AsyncHTTPClient, AsyncRPCClient
    from pyop.tools.capture import capture_fixture

    if n <= cfg.genesis.l2.number:
        raise ExplorerError(f"L2 block {n} is the genesis block or before it: nothing derives it")
    l1 = AsyncL1Client(AsyncRPCClient(l1_url, max_batch=50), verify=True)
    l2 = AsyncL2Client(AsyncRPCClient(l2_url, max_batch=50), cfg, verify=True)
    beacon = AsyncBeaconClient(AsyncHTTPClient(beacon_url)) if beacon_url else None
    try:
        return await capture_fixture(cfg, l1, l2, beacon, n, n)
    finally:
        await l1.close()
        await l2.close()
        if beacon is not None:
            await beacon.close()
