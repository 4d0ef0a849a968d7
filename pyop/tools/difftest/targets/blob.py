"""Target ``blob``: the OP blob encoding (specs/protocol/derivation.md "Blob Encoding"). The
same data is encoded on both sides (pyop ``encode_blob`` vs op-service ``Blob.FromData``; the
blobs' keccak256 are compared), the same bytes are patched in (version byte, length field,
the high bits of field elements, bytes after the data), then decoded (pyop ``decode_blob`` vs
op-service ``Blob.ToData``)."""

from __future__ import annotations

from collections.abc import Callable

from eth_hash.auto import keccak

from pyop.codec.blob import decode_blob, encode_blob
from pyop.primitives import PyopError
from pyop.tools.difftest.canon import b, h, hexb
from pyop.tools.difftest.gen import Rng
from pyop.tools.difftest.mutate import mutate
from pyop.tools.difftest.target import Input, Result, Target, register

BLOB_SIZE = 131072
MAX_BLOB_DATA = (4 * 31 + 3) * 1024 - 4  # 130044


def patches(rng: Rng, data_len: int) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for _ in range(rng.pick([0, 0, 1, 1, 2, 3])):
        r = rng.random()
        if r < 0.2:  # version byte / length field (bytes 1..4 of the first field element)
            off = rng.pick([1, 2, 3, 4])
            val = bytes([rng.pick([0, 1, 0xFF, rng.randrange(256)])])
        elif r < 0.5:  # the first byte of a field element (only its low 6 bits are data)
            off = 32 * rng.randrange(4096)
            val = bytes([rng.pick([0x40, 0x80, 0xC0, 0x3F, rng.randrange(256)])])
        elif r < 0.8:  # just after the encoded data (must stay zero)
            fe = min(4095, (data_len * 4 // 3) // 32 + rng.randrange(0, 3))
            off = 32 * fe + rng.randrange(1, 32)
            val = bytes([rng.randrange(1, 256)])
        else:
            off = rng.randrange(BLOB_SIZE - 8)
            val = rng.raw(rng.randrange(1, 8))
        out.append({"offset": off, "bytes": h(val)})
    return out


@register
class Blob(Target):
    name = "blob"
    summary = "OP blob encoding: pyop encode_blob/decode_blob vs op-service eth.Blob FromData/ToData"
    has_pyop_fuzz = True

    def generate(self, rng: Rng) -> Input:
        r = rng.random()
        seeds = self.seeds.blob_payloads
        if r < 0.3 and seeds:
            seed: bytes = rng.pick(seeds)
            data: bytes | None = mutate(rng, seed)[: MAX_BLOB_DATA + 1] if rng.chance(0.3) else seed
        elif r < 0.9:
            n = rng.pick([0, 1, 26, 27, 28, 31, 32, 100, 126, 127, 128, 4000,
                          MAX_BLOB_DATA - 1, MAX_BLOB_DATA, MAX_BLOB_DATA + 1, rng.randrange(0, MAX_BLOB_DATA)])
            data = rng.raw(n) if rng.chance(0.8) else b"\xff" * n
        else:
            data = None  # start from the all-zero blob
        inp: dict[str, object] = {"patches": patches(rng, 0 if data is None else len(data))}
        if data is not None:
            inp["data"] = h(data)
        return inp

    def pyop(self, inp: Input) -> Result:
        if "data" in inp:
            try:
                blob = bytearray(encode_blob(hexb(inp["data"])))
            except PyopError as e:
                return {"encode": "err"}, {"encode": str(e)}
        else:
            blob = bytearray(BLOB_SIZE)
        for p in inp["patches"]:
            v = hexb(p["bytes"])
            blob[p["offset"] : p["offset"] + len(v)] = v
        out: dict[str, object] = {"blob": "0x" + keccak(bytes(blob)).hex()}
        try:
            out["data"] = b(decode_blob(bytes(blob)))
            return out, {}
        except PyopError as e:
            out["data"] = "err"
            return out, {"msg": str(e)}

    def fuzz_pyop(self, rng: Rng) -> tuple[Input, Callable[[], object]]:
        blob = bytearray(encode_blob(rng.raw(rng.randrange(0, 2000))))
        for p in patches(rng, 2000):
            v = hexb(p["bytes"])
            off = int(str(p["offset"]))
            blob[off : off + len(v)] = v
        if rng.chance(0.1):
            blob = bytearray(blob[: rng.randrange(BLOB_SIZE + 1)])
        return {"blob": h(bytes(blob))}, lambda: decode_blob(bytes(blob))
