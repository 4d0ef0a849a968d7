"""Target ``frames``: batcher transaction data -> frames (derivation.md "Batcher Transaction
Format", "Frame Format"). pyop ``parse_frames`` vs op-node ``derive.ParseFrames``. Any error
rejects every frame of the transaction, so all errors are one kind, ``invalid``."""

from __future__ import annotations

from collections.abc import Callable

from pyop.codec.frame import MAX_FRAME_LEN, parse_frames
from pyop.primitives import PyopError
from pyop.tools.difftest.canon import b, h, hexb
from pyop.tools.difftest.gen import Rng
from pyop.tools.difftest.mutate import mutate
from pyop.tools.difftest.target import Input, Result, Target, register
from pyop.tools.difftest.targets._common import err


def frames_data(rng: Rng) -> bytes:
    """Structured batcher data: version byte, frames with edge frame numbers, lengths and
    is_last bytes, sometimes a wrong declared length or trailing bytes."""
    out = bytearray([0 if rng.chance(0.95) else rng.pick([1, 0xFF])])
    ids = [rng.raw(16), rng.raw(16)]
    for i in range(rng.pick([0, 1, 1, 2, 3, 6])):
        num = rng.pick([0, 1, i, 0xFFFF, 0xFFFE, rng.u(16)])
        r = rng.random()
        n = 0 if r < 0.15 else rng.randrange(1, 300) if r < 0.9 else rng.randrange(0, 5000)
        if rng.chance(0.002):
            n = MAX_FRAME_LEN  # a maximal frame
        declared = n
        if rng.chance(0.05):
            declared = rng.pick([n + 1, max(0, n - 1), MAX_FRAME_LEN + 1, 0xFFFFFFFF])
        last = rng.pick([0, 1]) if rng.chance(0.95) else rng.pick([2, 0x80, 0xFF])
        out += rng.pick(ids) + num.to_bytes(2, "big") + declared.to_bytes(4, "big")
        out += rng.raw(n) + bytes([last])
    if rng.chance(0.05):
        out += rng.raw(rng.randrange(1, 30))
    return bytes(out)


@register
class Frames(Target):
    name = "frames"
    summary = "batcher tx data -> frames: pyop parse_frames vs op-node derive.ParseFrames"
    has_pyop_fuzz = True

    def generate(self, rng: Rng) -> Input:
        seeds = self.seeds.calldata + self.seeds.blob_payloads
        r = rng.random()
        if r < 0.35 or not seeds:
            data = frames_data(rng)
            if rng.chance(0.3):
                data = mutate(rng, data)
        elif r < 0.85:
            data = mutate(rng, rng.pick(seeds), seeds)
        elif r < 0.9:
            data = rng.pick(seeds)
        else:
            data = rng.blob_of(rng.pick([1, 30, 200]))
        return {"data": h(data)}

    def pyop(self, inp: Input) -> Result:
        try:
            frames = parse_frames(hexb(inp["data"]))
        except PyopError as e:
            return err("invalid", e)
        return {"frames": [{"id": b(f.channel_id), "number": f.frame_number, "data": b(f.data),
                            "isLast": f.is_last} for f in frames]}, {}  # fmt: skip

    def fuzz_pyop(self, rng: Rng) -> tuple[Input, Callable[[], object]]:
        data = rng.blob_of(200) if rng.chance(0.5) else mutate(rng, frames_data(rng), rounds=3)
        return {"data": h(data)}, lambda: parse_frames(data)
