"""Target ``check-batch``: batch validity, the rule function (derivation.md "Batch Queue",
delta/span-batches.md "Span Batch Validation", holocene/derivation.md by the inclusion block's
time, isthmus/jovian deltas). pyop ``check_batch`` vs op-node ``CheckBatch``, with the same L1
blocks, safe head, inclusion block, rollup config and a fake L2 fetcher (refs and payloads by
number) on both sides. The value is the validity (drop / accept / undecided / future / past).

Span batches are given as bytes; one that either side cannot decode or derive is not a batch
that reaches the rule ({"err": "span_invalid"} on both sides; where decoding stops differs is
the channel reader's business, compared by the ``channel`` target)."""

from __future__ import annotations

from typing import Any

from pyop.codec.batch import decode_batch
from pyop.codec.span_batch import RawSpanBatch
from pyop.config import RollupConfig
from pyop.derivation.batches import check_batch
from pyop.derivation.interfaces import NotFound
from pyop.derivation.types import Batch
from pyop.primitives import ExecutionPayload, L2BlockRef, PyopError
from pyop.tools.difftest.canon import hexb
from pyop.tools.difftest.gen import Rng
from pyop.tools.difftest.target import Input, Result, Target, register
from pyop.tools.difftest.targets import _scenario as scn
from pyop.tools.difftest.targets._common import cfg_of, l1ref, l2ref, singular_from

ZERO32 = b"\x00" * 32


class FakeL2:
    """pyop's SafeBlockFetcher over the input's ``l2`` (the Go peer's ``fakeL2``)."""

    def __init__(self, l2: dict[str, Any] | None) -> None:
        self.refs = (l2 or {}).get("refs") or {}
        self.payloads = (l2 or {}).get("payloads") or {}

    def l2_block_ref_by_number(self, number: int) -> L2BlockRef:
        r = self.refs.get(str(number))
        if r is None:
            raise NotFound(f"L2 block {number}")
        return l2ref(r)

    def payload_by_number(self, number: int) -> ExecutionPayload:
        p = self.payloads.get(str(number))
        if p is None:
            raise NotFound(f"L2 payload {number}")
        return ExecutionPayload(
            parent_hash=hexb(p["parentHash"]), fee_recipient=b"\x00" * 20, state_root=ZERO32,
            receipts_root=ZERO32, logs_bloom=b"\x00" * 256, prev_randao=ZERO32,
            block_number=int(p["blockNumber"]), gas_limit=0, gas_used=0, timestamp=int(p["timestamp"]),
            extra_data=b"", base_fee_per_gas=0, block_hash=hexb(p["blockHash"]),
            transactions=tuple(hexb(t) for t in p["txs"]),
        )  # fmt: skip


def decode_input_batch(cfg: RollupConfig, b: dict[str, Any]) -> Batch | str:
    """The batch of a ``batchInput`` ({"singular": fields} | {"span": bytes}), or why span bytes
    do not decode or derive."""
    if b.get("singular") is not None:
        return singular_from(b["singular"])
    try:
        raw = decode_batch(hexb(b["span"]))
        if not isinstance(raw, RawSpanBatch):
            return "not a span batch"
        return raw.derive(cfg.block_time, cfg.genesis.l2_time, cfg.l2_chain_id)
    except PyopError as e:
        return str(e)


@register
class CheckBatch(Target):
    name = "check-batch"
    summary = "batch validity: pyop check_batch vs op-node CheckBatch (singular and span, pre-/post-Holocene)"

    def generate(self, rng: Rng) -> Input:
        case = self.configs.pick(rng)
        sc = scn.scenario(rng, case)
        if rng.chance(0.5):
            sb = scn.singular(rng, sc)
            batch: dict[str, Any] = {"singular": sb}
            epoch = sb["epochNum"]
        else:
            batch = {"span": scn.span(rng, sc)}
            epoch = sc.safe["l1origin"]["number"]
        l1 = sc.l1 if rng.chance(0.95) else []
        return {"cfg": case.json, "l1Blocks": l1, "safeHead": sc.safe,
                "inclusion": scn.inclusion(rng, sc, epoch), "batch": batch, "l2": sc.l2_json()}  # fmt: skip

    def pyop(self, inp: Input) -> Result:
        cfg = cfg_of(inp["cfg"])
        batch = decode_input_batch(cfg, inp["batch"])
        if isinstance(batch, str):
            return {"err": "span_invalid"}, {"msg": batch}
        v = check_batch(cfg, [l1ref(x) for x in inp["l1Blocks"]], l2ref(inp["safeHead"]), batch,
                        l1ref(inp["inclusion"]), FakeL2(inp.get("l2")))  # fmt: skip
        info: dict[str, Any] = {"note": v.note}
        if v.drop is not None:
            info["drop"] = f"{v.drop.reason.name}: {v.drop.detail}"
        return {"validity": v.validity.value}, info
