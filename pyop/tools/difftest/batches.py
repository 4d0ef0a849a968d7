"""Independent builders of batch wire data for the generators.

The bytes are assembled here field by field (RLP through the ``rlp`` package, uvarints and
bitlists by hand), not with pyop's encoders, so inputs can carry what pyop's encoder refuses:
any tx-type byte in a span batch's ``tx_datas``, integers wider than 256 bits, origin bits that
walk the L1 origin number below zero, bits beyond a bitlist's length, inconsistent counts.
Layouts: specs/protocol/derivation.md "Batch Format", delta/span-batches.md "Span batch format",
isthmus/derivation.md "Span Batch Updates".
"""

from __future__ import annotations

from dataclasses import dataclass, field

import rlp

from pyop.tools.difftest.gen import Rng

#: Transaction kinds a generated span batch mixes. The first five are valid span tx types.
TX_KINDS = ("legacy", "legacy", "access_list", "dynamic_fee", "set_code",
            "bad_type", "big_int", "creation")  # fmt: skip
BAD_TYPES = (0x00, 0x03, 0x05, 0x7D, 0x7E, 0x7F)


def uvarint(n: int) -> bytes:
    """Go ``binary.PutUvarint``."""
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def bitlist(bits: int, length: int) -> bytes:
    """A span-batch bitlist: ``ceil(length / 8)`` bytes, big-endian."""
    return bits.to_bytes((length + 7) // 8, "big")


def _uint(rng: Rng, big: bool = False) -> int:
    if big:
        return rng.pick([1 << 256, (1 << 264) - 1, 1 << 300])
    return rng.pick([0, 1, rng.u(64), rng.u(64) << 64, (1 << 256) - 1])


def _access_list(rng: Rng) -> list[object]:
    if rng.chance(0.6):
        return []
    return [[rng.addr(), [rng.hash32() for _ in range(rng.randrange(0, 3))]]
            for _ in range(rng.randrange(1, 3))]  # fmt: skip


def _auth_list(rng: Rng) -> list[object]:
    return [[rng.u(64), rng.addr(), rng.u(64), rng.pick([0, 1, 2]), rng.u(256), rng.u(256)]
            for _ in range(rng.randrange(0, 3))]  # fmt: skip


def _data(rng: Rng) -> bytes:
    return rng.blob_of(rng.pick([0, 4, 40, 300]))


def span_tx_data(rng: Rng, kind: str) -> tuple[bytes, int]:
    """One ``tx_datas`` entry of the given kind and its tx type (for the protected bits)."""
    big = kind == "big_int"
    if kind == "big_int":
        kind = rng.pick(["legacy", "access_list", "dynamic_fee"])
    if kind in ("legacy", "creation"):
        return rlp.encode([_uint(rng, big), _uint(rng, big and rng.chance(0.5)), _data(rng)]), 0
    if kind == "access_list":
        return b"\x01" + rlp.encode([_uint(rng, big), _uint(rng), _data(rng), _access_list(rng)]), 1
    if kind == "dynamic_fee":
        return b"\x02" + rlp.encode([_uint(rng), _uint(rng, big), _uint(rng), _data(rng),
                                     _access_list(rng)]), 2  # fmt: skip
    if kind == "set_code":
        return b"\x04" + rlp.encode([_uint(rng), _uint(rng), _uint(rng), _data(rng),
                                     _access_list(rng), _auth_list(rng)]), 4  # fmt: skip
    t = rng.pick(BAD_TYPES)
    n_fields = rng.pick([3, 5, 6, 9])
    return bytes([t]) + rlp.encode([_uint(rng) for _ in range(n_fields - 1)] + [_data(rng)]), t


@dataclass
class SpanSpec:
    """What a generated span batch looks like (all fields may be edited before encoding)."""

    rel_timestamp: int
    l1_origin_num: int
    parent_check: bytes
    l1_origin_check: bytes
    block_count: int
    origin_bits: int
    block_tx_counts: list[int]
    tx_datas: list[bytes] = field(default_factory=list)
    tx_types: list[int] = field(default_factory=list)
    contract_creation_bits: int = 0
    y_parity_bits: int = 0
    sigs: list[bytes] = field(default_factory=list)
    tos: list[bytes] = field(default_factory=list)
    nonces: list[int] = field(default_factory=list)
    gases: list[int] = field(default_factory=list)
    protected_bits: int = 0

    def encode(self) -> bytes:
        """``0x01 ++ prefix ++ payload`` exactly as the fields say (no consistency checks)."""
        n = len(self.tx_datas)
        legacy = sum(1 for t in self.tx_types if t == 0)
        out = bytearray(b"\x01")
        out += uvarint(self.rel_timestamp) + uvarint(self.l1_origin_num)
        out += self.parent_check + self.l1_origin_check
        out += uvarint(self.block_count) + bitlist(self.origin_bits, self.block_count)
        out += b"".join(uvarint(c) for c in self.block_tx_counts)
        out += bitlist(self.contract_creation_bits, n) + bitlist(self.y_parity_bits, n)
        out += b"".join(self.sigs) + b"".join(self.tos) + b"".join(self.tx_datas)
        out += b"".join(uvarint(x) for x in self.nonces) + b"".join(uvarint(x) for x in self.gases)
        out += bitlist(self.protected_bits, legacy)
        return bytes(out)


def rand_span(
    rng: Rng,
    *,
    block_count: int | None = None,
    l1_origin_num: int | None = None,
    rel_timestamp: int | None = None,
    origin_bits: int | None = None,
    parent_check: bytes | None = None,
    l1_origin_check: bytes | None = None,
    tx_kinds: tuple[str, ...] = TX_KINDS,
    max_txs_per_block: int = 3,
) -> SpanSpec:
    """A span batch with every tx type (and, from ``tx_kinds``, unusable ones)."""
    bc = block_count if block_count is not None else rng.pick([1, 1, 2, 3, 5, rng.randrange(1, 20)])
    bits = origin_bits if origin_bits is not None else rng.getrandbits(bc) if rng.chance(0.7) else 0
    counts = [rng.randrange(0, max_txs_per_block + 1) if rng.chance(0.6) else 0 for _ in range(bc)]
    s = SpanSpec(
        rel_timestamp=rel_timestamp if rel_timestamp is not None else rng.u(16),
        l1_origin_num=l1_origin_num if l1_origin_num is not None else rng.u(16),
        parent_check=parent_check if parent_check is not None else rng.raw(20),
        l1_origin_check=l1_origin_check if l1_origin_check is not None else rng.raw(20),
        block_count=bc,
        origin_bits=bits,
        block_tx_counts=counts,
    )
    legacy_i = 0
    for i in range(sum(counts)):
        kind = rng.pick(tx_kinds)
        data, t = span_tx_data(rng, kind)
        s.tx_datas.append(data)
        s.tx_types.append(t)
        creation = kind == "creation" or (rng.chance(0.05))
        if creation:
            s.contract_creation_bits |= 1 << i
        else:
            s.tos.append(rng.addr())
        if rng.chance(0.5):
            s.y_parity_bits |= 1 << i
        s.sigs.append(rng.raw(64) if rng.chance(0.9) else rng.pick([bytes(64), b"\xff" * 64]))
        s.nonces.append(rng.u(64))
        s.gases.append(rng.u(64))
        if t == 0:
            if rng.chance(0.7):
                s.protected_bits |= 1 << legacy_i
            legacy_i += 1
    return s


def singular_batch(
    rng: Rng,
    *,
    parent_hash: bytes | None = None,
    epoch_num: int | None = None,
    epoch_hash: bytes | None = None,
    timestamp: int | None = None,
    txs: list[bytes] | None = None,
) -> bytes:
    """``0x00 ++ rlp([parent_hash, epoch_number, epoch_hash, timestamp, transaction_list])``."""
    return b"\x00" + bytes(rlp.encode([
        parent_hash if parent_hash is not None else rng.hash32(),
        epoch_num if epoch_num is not None else rng.u(64),
        epoch_hash if epoch_hash is not None else rng.hash32(),
        timestamp if timestamp is not None else rng.u(64),
        txs if txs is not None else rand_user_txs(rng),
    ]))  # fmt: skip


def rand_user_txs(rng: Rng, max_n: int = 3) -> list[bytes]:
    """Opaque batch transactions, including the kinds batch validity rejects: empty, deposit
    (0x7E), SetCode (0x04, before Isthmus), PostExec (0x7D)."""
    out = []
    for _ in range(rng.randrange(0, max_n + 1)):
        r = rng.random()
        if r < 0.05:
            out.append(b"")
        elif r < 0.12:
            out.append(bytes([rng.pick([0x7E, 0x04, 0x7D, 0x03])]) + rng.raw(rng.randrange(0, 40)))
        else:
            out.append(bytes([rng.pick([0x01, 0x02, 0xF8, 0xC0])]) + rng.raw(rng.randrange(0, 80)))
    return out
