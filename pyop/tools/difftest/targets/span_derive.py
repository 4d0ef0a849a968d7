"""Target ``span-derive``: span batch bytes -> derived span batch -> singular batches after a
safe head (delta/span-batches.md "How Derivation works with Span Batches"). pyop
``decode_batch`` + ``RawSpanBatch.derive`` + ``SpanBatch.get_singular_batches`` vs op-node
``BatchData.UnmarshalBinary`` + ``DeriveSpanBatch`` + ``SpanBatch.GetSingularBatches``.

Mapping: op-node's ``GetSingularBatches`` also rejects an element after the safe head whose L1
origin is older than the safe head's; pyop's function leaves that check to its caller (the
batch stage checks it just before, the pre-Holocene batch queue in ``check_span_batch``), so
pyop's side here runs that caller check first: the value is what the pipeline gets."""

from __future__ import annotations

from collections.abc import Callable

from pyop.codec.batch import decode_batch
from pyop.codec.span_batch import RawSpanBatch
from pyop.primitives import PyopError
from pyop.tools.difftest.batches import TX_KINDS, rand_span
from pyop.tools.difftest.canon import h, hexb
from pyop.tools.difftest.gen import U64, Rng
from pyop.tools.difftest.mutate import mutate
from pyop.tools.difftest.target import Input, Result, Target, register
from pyop.tools.difftest.targets._common import cfg_of, err, l1ref, l2ref, singular_json, span_json


def l1_chain(rng: Rng, first: int, n: int, t0: int) -> list[dict[str, object]]:
    """``n`` consecutive L1 block refs from number ``first`` and time ``t0``."""
    out: list[dict[str, object]] = []
    parent = rng.hash32()
    t = t0
    for i in range(n):
        if first + i > U64:
            break
        hsh = rng.hash32()
        out.append({"hash": h(hsh), "number": first + i, "parentHash": h(parent), "timestamp": t})
        parent = hsh
        t += rng.pick([12, 12, 1, 2, 24])
    return out


@register
class SpanDerive(Target):
    name = "span-derive"
    summary = ("span batch -> elements -> singular batches: pyop RawSpanBatch.derive/get_singular_batches "
               "vs op-node DeriveSpanBatch/GetSingularBatches")  # fmt: skip
    has_pyop_fuzz = True

    def generate(self, rng: Rng) -> Input:
        case = self.configs.pick(rng)
        cfg = case.cfg
        bt = cfg.block_time
        bc = rng.pick([1, 2, 3, 4, 8])
        origin_num = rng.pick([0, 1, 2, rng.randrange(3, 50), rng.u(64)])
        rel = bt * rng.randrange(0, 50) + (0 if rng.chance(0.9) else 1)
        kinds = TX_KINDS if rng.chance(0.3) else ("legacy", "access_list", "dynamic_fee", "set_code")
        spec = rand_span(rng, block_count=bc, l1_origin_num=origin_num, rel_timestamp=rel, tx_kinds=kinds)
        data = spec.encode()
        if rng.chance(0.1):
            data = mutate(rng, data)
        first_ts = cfg.genesis.l2_time + rel
        lowest = max(0, origin_num - bc - 1) if origin_num < (1 << 63) else origin_num - bc - 1
        l1 = l1_chain(rng, rng.pick([lowest, lowest + 1, max(0, lowest - 2)]), rng.pick([bc + 2, 2, 1, 0]), max(0, first_ts - 10))
        if l1 and rng.chance(0.2):
            del l1[rng.randrange(len(l1))]  # a gap: an element's origin is missing
        safe_ts = first_ts + bt * rng.randint(-2, bc + 1) + rng.pick([0, 0, 0, -1])
        safe_origin = min(U64, rng.pick([max(0, origin_num - rng.randrange(0, bc + 2)), origin_num, origin_num + 1]))
        safe = {"hash": h(rng.hash32()), "number": rng.u(32), "parentHash": h(rng.hash32()),
                "timestamp": max(0, safe_ts), "l1origin": {"hash": h(rng.hash32()), "number": safe_origin},
                "sequenceNumber": rng.u(8)}  # fmt: skip
        return {"cfg": case.json, "data": h(data), "l1Origins": l1, "safeHead": safe}

    def pyop(self, inp: Input) -> Result:
        cfg = cfg_of(inp["cfg"])
        try:
            raw = decode_batch(hexb(inp["data"]))
        except PyopError as e:
            return err("decode", e)
        if not isinstance(raw, RawSpanBatch):
            return {"err": "not_span"}, {}
        try:
            span = raw.derive(cfg.block_time, cfg.genesis.l2_time, cfg.l2_chain_id)
        except PyopError as e:
            return err("derive", e)
        safe = l2ref(inp["safeHead"])
        out: dict[str, object] = {"span": span_json(span)}
        # The caller's check in pyop (see the module docstring).
        if any(el.timestamp > safe.timestamp and el.epoch_num < safe.l1_origin.number for el in span.batches):
            out["singular"] = "error"
            return out, {"msg": "element after the safe head has an L1 origin before the safe head's"}
        try:
            singles = span.get_singular_batches([l1ref(x) for x in inp["l1Origins"]], safe)
        except PyopError as e:
            out["singular"] = "error"
            return out, {"msg": str(e)}
        # parentHash left out: assigned by the stage when it pops each batch (op-node leaves it
        # empty here; pyop's function fills in the first).
        out["singular"] = [{k: v for k, v in singular_json(s).items() if k != "parentHash"} for s in singles]
        return out, {}

    def fuzz_pyop(self, rng: Rng) -> tuple[Input, Callable[[], object]]:
        data = mutate(rng, rand_span(rng).encode(), rounds=rng.pick([1, 2, 4]))

        def run() -> object:
            raw = decode_batch(data)
            return raw.derive(2, 0, 10) if isinstance(raw, RawSpanBatch) else raw

        return {"data": h(data)}, run
