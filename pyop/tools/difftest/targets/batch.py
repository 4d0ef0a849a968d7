"""Target ``batch``: batch bytes (type byte ++ content) -> a decoded batch (derivation.md
"Batch Format", delta/span-batches.md "Span batch format"). pyop ``decode_batch`` vs op-node
``BatchData.UnmarshalBinary``. A singular batch compares by its fields; a span batch by its
canonical re-encoding (op-node's raw span batch fields are unexported; the re-encoding is a
function of exactly the decoded fields), so a disagreement on any decoded field shows."""

from __future__ import annotations

from collections.abc import Callable

from pyop.codec.batch import SingularBatch, decode_batch
from pyop.primitives import PyopError
from pyop.tools.difftest.batches import rand_span, singular_batch
from pyop.tools.difftest.canon import b, h, hexb
from pyop.tools.difftest.gen import Rng
from pyop.tools.difftest.mutate import mutate
from pyop.tools.difftest.target import Input, Result, Target, register
from pyop.tools.difftest.targets._common import err, singular_json


def batch_bytes(rng: Rng, seeds: list[bytes]) -> bytes:
    """A batch: a real one (maybe mutated), a structured singular or span batch (every tx type,
    unusable ones included), or arbitrary bytes."""
    r = rng.random()
    if r < 0.3 and seeds:
        return mutate(rng, rng.pick(seeds), seeds)
    if r < 0.35 and seeds:
        return rng.pick(seeds)
    if r < 0.55:
        data = singular_batch(rng)
    elif r < 0.95:
        data = rand_span(rng).encode()
    else:
        return bytes([rng.pick([0, 1, 2, 0xFF])]) + rng.blob_of(100)
    if rng.chance(0.25):
        data = mutate(rng, data)
    return data


@register
class Batch(Target):
    name = "batch"
    summary = "batch bytes -> singular/span batch: pyop decode_batch vs op-node BatchData.UnmarshalBinary"
    has_pyop_fuzz = True

    def generate(self, rng: Rng) -> Input:
        return {"data": h(batch_bytes(rng, self.seeds.batches))}

    def pyop(self, inp: Input) -> Result:
        try:
            batch = decode_batch(hexb(inp["data"]))
        except PyopError as e:
            return err("decode", e)
        if isinstance(batch, SingularBatch):
            return {"singular": singular_json(batch)}, {}
        try:
            enc = batch.encode()
        except PyopError as e:
            return err("reencode", e)
        return {"span": b(enc)}, {}

    def fuzz_pyop(self, rng: Rng) -> tuple[Input, Callable[[], object]]:
        data = mutate(rng, batch_bytes(rng, self.seeds.batches), rounds=3)
        return {"data": h(data)}, lambda: decode_batch(data)
