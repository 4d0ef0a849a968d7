"""Target ``batch-stage``: the Holocene batch stage (holocene/derivation.md "Batch Queue",
"Span Batches", "Fast Channel Invalidation"), which from Holocene is where batch validity is
applied. pyop ``BatchStage`` vs op-node ``BatchStage``, each over a provider that hands out the
same batches (and records flushes), the same L1 blocks and L2 fetcher.

Both stages are reset to ``l1Blocks[0]``, their origin advances through the other L1 blocks
(the last one is the inclusion block), then they are stepped from the safe head; every batch
returned is applied (the parent advances to a test block whose hash both sides compute the same
way). The value is the event list: batches with their ``concluding`` flag, channel flushes,
NotEnoughData, end of data, and error classes (reset / critical)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pyop.codec.batch import SingularBatch
from pyop.derivation.batch_stage import BatchStage as PyBatchStage
from pyop.derivation.drops import Explainer
from pyop.derivation.errors import (
    CriticalError,
    EndOfSource,
    NotEnoughData,
    ResetError,
    TemporaryError,
)
from pyop.derivation.types import Batch
from pyop.primitives import ZERO_ADDRESS, ZERO_HASH, BlockID, L1BlockRef, L2BlockRef, SystemConfig
from pyop.tools.difftest.gen import Rng
from pyop.tools.difftest.target import Input, Result, Target, register
from pyop.tools.difftest.targets import _scenario as scn
from pyop.tools.difftest.targets._common import cfg_of, l1ref, l2ref, singular_json, test_l2_hash
from pyop.tools.difftest.targets.check_batch import FakeL2, decode_input_batch


class _Queue:
    """The BatchProvider under the stage (the Go peer's ``queueProvider``)."""

    def __init__(self, origin: L1BlockRef, events: list[dict[str, Any]]) -> None:
        self.origin = origin
        self.warming = True
        self.batches: list[Batch] = []
        self.events = events

    def next_batch(self) -> Batch:
        if self.warming:
            raise NotEnoughData("warming up")
        if not self.batches:
            raise EndOfSource("no more batches")
        return self.batches.pop(0)

    def flush_channel(self) -> None:
        self.events.append({"flush": True})
        self.batches = []

    def reset(self, base: L1BlockRef, sys_cfg: SystemConfig) -> None:
        del base, sys_cfg


def next_parent(parent: L2BlockRef, b: SingularBatch) -> L2BlockRef:
    num = parent.number + 1
    seq = parent.sequence_number + 1 if b.epoch_num == parent.l1_origin.number else 0
    return L2BlockRef(test_l2_hash(num), num, parent.hash, b.timestamp, BlockID(b.epoch_hash, b.epoch_num), seq)


def _err_class(e: Exception) -> str:
    if isinstance(e, CriticalError):
        return "critical"
    if isinstance(e, ResetError):
        return "reset"
    if isinstance(e, TemporaryError):
        return "temporary"
    return "error"


@register
class BatchStage(Target):
    name = "batch-stage"
    summary = "Holocene batch stage: pyop BatchStage vs op-node BatchStage (validity, span handling, flushes, concluding)"

    def generate(self, rng: Rng) -> Input:
        # op-node runs the BatchStage only from Holocene (by the stage's L1 origin time): the
        # inclusion block (the last L1 block) must be at or after holocene_time.
        holo = [c for c in self.configs.cases if c.cfg.holocene_time is not None]
        for _ in range(50):
            case = rng.pick(holo)
            sc = scn.scenario(rng, case)
            if sc.l1[-1]["timestamp"] >= (case.cfg.holocene_time or 0):
                break
            sc.l1[-1]["timestamp"] = (case.cfg.holocene_time or 0) + rng.pick([0, 0, 1, 12])
            if len(sc.l1) == 1 or sc.l1[-2]["timestamp"] <= sc.l1[-1]["timestamp"]:
                break
        batches: list[dict[str, Any]] = []
        for _ in range(rng.pick([1, 1, 2, 3])):
            if rng.chance(0.5):
                batches.append({"singular": scn.singular(rng, sc)})
            else:
                batches.append({"span": scn.span(rng, sc)})
        l1 = sc.l1
        if len(l1) == 1 and rng.chance(0.8):
            l1 = [*l1, {"hash": "0x" + rng.hash32().hex(), "number": l1[0]["number"] + 1,
                        "parentHash": l1[0]["hash"], "timestamp": l1[0]["timestamp"] + 12}]  # fmt: skip
        return {"cfg": case.json, "l1Blocks": l1, "parent": sc.safe, "batches": batches,
                "l2": sc.l2_json(), "steps": 8}  # fmt: skip

    def pyop(self, inp: Input) -> Result:
        cfg = cfg_of(inp["cfg"])
        batches = []
        for b in inp["batches"]:
            x = decode_input_batch(cfg, b)
            if isinstance(x, str):
                return {"err": "span_invalid"}, {"msg": x}
            batches.append(x)
        l1 = [l1ref(x) for x in inp["l1Blocks"]]
        events: list[dict[str, Any]] = []
        q = _Queue(l1[0], events)
        stage = PyBatchStage(cfg, q, FakeL2(inp.get("l2")), Explainer(keep=True))
        stage.reset(l1[0], SystemConfig(ZERO_ADDRESS, ZERO_HASH, ZERO_HASH, 0))
        parent = l2ref(inp["parent"])
        for o in l1[1:]:
            q.origin = o
            try:
                stage.next_batch(parent)
            except NotEnoughData:
                pass
            except (CriticalError, ResetError, TemporaryError) as e:
                events.append({"warmup": _err_class(e)})
                return {"events": events}, {"msg": str(e)}
        q.warming = False
        q.batches = list(batches)
        msgs = []
        for _ in range(int(inp["steps"])):
            try:
                b, concluding = stage.next_batch(parent)
            except EndOfSource:
                events.append({"eof": True})
                break
            except NotEnoughData:
                events.append({"ned": True})
                continue
            except (CriticalError, ResetError, TemporaryError) as e:
                events.append({"error": _err_class(e)})
                msgs.append(str(e))
                break
            events.append({"batch": singular_json(b), "concluding": concluding})
            parent = next_parent(parent, b)
        drops = [f"{d.reason.name}: {d.detail}" for d in stage.ex.drops]
        spans = [[x.first_timestamp(), x.last_timestamp()] for x in batches if not isinstance(x, SingularBatch)]
        return {"events": events}, {"errors": msgs, "drops": drops, "spans": spans}


_ = replace
