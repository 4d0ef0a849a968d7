"""Target ``channel``: one channel's data through the channel reader stage (derivation.md
"Channel Format", "Channel Reader (Batch Decoding)"; fjord/derivation.md "Brotli Channel
Compression", MAX_RLP_BYTES_PER_CHANNEL by the origin's time; delta/span-batches.md span
batches from Delta). pyop ``ChannelReader`` vs op-node ``ChannelInReader``, both fed the same
data in the same L1 origin.

The value is the list of batches handed to the next stage (singular batches by field, span
batches derived). Whether the channel ended cleanly or on a read error is not compared: the
pipeline moves to the next channel either way (op-node's ``NextBatch`` returns
``NotEnoughData`` in both cases)."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from functools import cache

import brotli
import rlp

from pyop.codec.channel import read_channel
from pyop.codec.span_batch import SpanBatch
from pyop.derivation.channel_reader import ChannelReader
from pyop.derivation.drops import Explainer
from pyop.derivation.errors import CriticalError, EndOfSource, NotEnoughData
from pyop.primitives import L1BlockRef, SystemConfig
from pyop.tools.difftest.batches import rand_span
from pyop.tools.difftest.canon import h, hexb
from pyop.tools.difftest.gen import Rng, near_time
from pyop.tools.difftest.mutate import compress, mutate, recompress
from pyop.tools.difftest.target import Input, Result, Target, register
from pyop.tools.difftest.targets._common import cfg_of, l1ref, l1ref_json, singular_json, span_json
from pyop.tools.difftest.targets.batch import batch_bytes


class _OneChannel:
    """The ChannelProvider under the reader: one channel's data, then end of source."""

    def __init__(self, data: bytes, origin: L1BlockRef) -> None:
        self._data: bytes | None = data
        self._origin = origin

    @property
    def origin(self) -> L1BlockRef:
        return self._origin

    def next_data(self) -> bytes:
        if self._data is None:
            raise EndOfSource("no more channels")
        d, self._data = self._data, None
        return d

    def reset(self, base: L1BlockRef, sys_cfg: SystemConfig) -> None:
        del base, sys_cfg

    def flush_channel(self) -> None:
        """Nothing is staged below the reader here (op-node's ``oneChannel.FlushChannel`` too)."""


def channel_payload(rng: Rng, seeds: list[bytes], spans: Callable[[], bytes]) -> bytes:
    """``rlp_batches``: batches as RLP strings, sometimes with a bad item or a huge one."""
    items = []
    for _ in range(rng.pick([0, 1, 1, 2, 3, 5])):
        r = rng.random()
        if r < 0.4:
            items.append(rlp.encode(spans()))
        else:
            items.append(rlp.encode(batch_bytes(rng, seeds)))
    payload = b"".join(items)
    r = rng.random()
    if r < 0.05:
        payload += rlp.encode([b"a list"])  # a list where a string must be
    elif r < 0.1:
        payload += b"\xb9\x01"  # truncated long string header
    return payload


@cache
def maximal_channel(item_len: int, brotli_: bool) -> bytes:
    """A channel whose one batch item is ``item_len`` zero bytes (RLP header: 4 bytes), so the
    decompressed size sits exactly at or just over MAX_RLP_BYTES_PER_CHANNEL (10,000,000
    before Fjord, 100,000,000 from Fjord). Cached: compressing 100 MB takes a while."""
    payload = rlp.encode(b"\x00" * item_len)
    if brotli_:
        return b"\x01" + bytes(brotli.compress(payload, quality=5))
    return zlib.compress(bytes(payload), 6)


#: Item lengths whose RLP string ends exactly at a cap, or one byte past it.
MAXIMAL_ITEMS = (9_999_996, 9_999_997, 99_999_996, 99_999_997)


@register
class Channel(Target):
    name = "channel"
    summary = ("channel data -> batches: pyop ChannelReader vs op-node ChannelInReader "
               "(zlib/brotli, Fjord caps, Delta, span derive)")  # fmt: skip
    has_pyop_fuzz = True

    def generate(self, rng: Rng) -> Input:
        case = self.configs.pick(rng)
        cfg = case.cfg
        origin = {"hash": h(rng.hash32()), "number": rng.u(32), "parentHash": h(rng.hash32()),
                  "timestamp": near_time(rng, case)}  # fmt: skip
        seeds = self.seeds.channels

        def span() -> bytes:
            return rand_span(rng, rel_timestamp=rng.randrange(0, 100) * cfg.block_time).encode()

        r = rng.random()
        if r < 0.25 and seeds:
            data = mutate(rng, rng.pick(seeds), seeds)
        elif r < 0.35 and seeds:
            data = recompress(rng, rng.pick(seeds))
        elif r < 0.4 and seeds:
            data = rng.pick(seeds)
        elif r < 0.93:
            data = compress(rng, channel_payload(rng, self.seeds.batches, span))
            if rng.chance(0.15):
                data = mutate(rng, data)
        elif r < 0.948:
            data = rng.blob_of(rng.pick([0, 2, 50]))
        elif r < 0.95:
            data = maximal_channel(rng.pick(MAXIMAL_ITEMS), rng.chance(0.3))
        else:
            data = compress(rng, channel_payload(rng, self.seeds.batches, span))
        return {"cfg": case.json, "origin": origin, "data": h(data)}

    def pyop(self, inp: Input) -> Result:
        cfg = cfg_of(inp["cfg"])
        prov = _OneChannel(hexb(inp["data"]), l1ref(inp["origin"]))
        ex = Explainer(keep=True)
        reader = ChannelReader(cfg, prov, ex)
        batches: list[object] = []
        ned = 0
        while True:
            try:
                batch = reader.next_batch()
            except EndOfSource:
                break
            except NotEnoughData:
                ned += 1
                continue
            except CriticalError:
                batches.append({"critical": True})
                break
            if isinstance(batch, SpanBatch):
                batches.append({"span": span_json(batch)})
            else:
                batches.append({"singular": singular_json(batch)})
        drops = [f"{d.reason.name}: {d.detail}" for d in ex.drops]
        return {"batches": batches}, {"not_enough_data": ned, "drops": drops}

    def fuzz_pyop(self, rng: Rng) -> tuple[Input, Callable[[], object]]:
        data = rng.blob_of(300) if rng.chance(0.3) else mutate(rng, compress(rng, rng.blob_of(400)), rounds=2)
        return {"data": h(data)}, lambda: read_channel(data, max_rlp_bytes=10_000_000, allow_brotli=True)


__all__ = ["Channel", "l1ref_json"]
