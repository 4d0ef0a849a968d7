"""Span batches (batch type 1, from Delta): wire form ``RawSpanBatch`` and derived ``SpanBatch``.

Spec: specs/protocol/delta/span-batches.md#span-batch-format::

    span_batch = 0x01 ++ prefix ++ payload
    prefix     = rel_timestamp ++ l1_origin_num ++ parent_check ++ l1_origin_check
    payload    = block_count ++ origin_bits ++ block_tx_counts ++ txs

- ``rel_timestamp`` (uvarint): ``span_start.timestamp - genesis.l2_time``
- ``l1_origin_num`` (uvarint): the L1 origin number of the *last* block
- ``parent_check`` (20 bytes): ``span_start.parent_hash[:20]``
- ``l1_origin_check`` (20 bytes): ``span_end.l1_origin.hash[:20]``
- ``block_count`` (uvarint, at least 1, at most ``MAX_SPAN_BATCH_ELEMENT_COUNT``)
- ``origin_bits``: bit ``i`` set when block ``i`` changed its L1 origin (for ``i > 0``: its
  origin number is one more than block ``i-1``'s; bit 0 relates block 0 to its parent, which is
  outside the span, so it does not change any derived origin number)
- ``block_tx_counts``: one uvarint per block; ``txs``: see ``pyop.codec.span_txs``.

"How Derivation works with Span Batches": block ``i``'s timestamp is
``genesis_time + rel_timestamp + i * block_time``; origin numbers are derived backwards from
``l1_origin_num``. Decoding (``decode_span_batch_body``) needs no rollup config;
``RawSpanBatch.derive`` takes the block time, L2 genesis time and L2 chain id.

As in op-node (``RawSpanBatch.decode`` on a reader), bytes after the span batch are ignored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from pyop.codec.batch import SPAN_BATCH_TYPE, SingularBatch
from pyop.codec.errors import SpanBatchError
from pyop.codec.span_txs import (
    MAX_SPAN_BATCH_ELEMENT_COUNT,
    SpanBatchTxs,
    bit,
    decode_bits,
    encode_bits,
    read_uvarint,
    write_uvarint,
)
from pyop.primitives import ZERO_HASH, L1BlockRef, L2BlockRef

U64_MASK = (1 << 64) - 1


class MissingL1OriginError(SpanBatchError):
    """``SpanBatch.get_singular_batches`` found no L1 block for a block's epoch number."""


@dataclass(frozen=True, slots=True)
class RawSpanBatch:
    """A span batch in wire form (op-node ``RawSpanBatch``; kona ``RawSpanBatch``).

    ``origin_bits`` is an int bitfield: bit ``i`` is block ``i``'s origin-changed flag.
    """

    rel_timestamp: int
    l1_origin_num: int
    parent_check: bytes
    l1_origin_check: bytes
    block_count: int
    origin_bits: int
    block_tx_counts: tuple[int, ...]
    txs: SpanBatchTxs

    def encode_body(self) -> bytes:
        """``prefix ++ payload`` (without the type byte)."""
        if len(self.parent_check) != 20 or len(self.l1_origin_check) != 20:
            raise SpanBatchError("span batch: parent_check and l1_origin_check must be 20 bytes")
        if self.block_count == 0:
            raise SpanBatchError("span batch: block_count must be at least 1")
        if len(self.block_tx_counts) != self.block_count:
            raise SpanBatchError("span batch: block_tx_counts length != block_count")
        if sum(self.block_tx_counts) != self.txs.total_block_tx_count:
            raise SpanBatchError("span batch: sum(block_tx_counts) != total tx count")
        out = bytearray()
        out += write_uvarint(self.rel_timestamp)
        out += write_uvarint(self.l1_origin_num)
        out += self.parent_check
        out += self.l1_origin_check
        out += write_uvarint(self.block_count)
        out += encode_bits(self.origin_bits, self.block_count, "origin_bits")
        for c in self.block_tx_counts:
            out += write_uvarint(c)
        out += self.txs.encode()
        return bytes(out)

    def encode(self) -> bytes:
        """The batch as stored in a channel: ``0x01 ++ prefix ++ payload``."""
        return bytes([SPAN_BATCH_TYPE]) + self.encode_body()

    def block_origin_nums(self) -> tuple[int, ...]:
        """Each block's L1 origin number (span-batches.md "L1 Origin Number"; op-node
        ``derive``: walking back from ``l1_origin_num``, block ``i > 0`` with its origin bit set
        has an origin one above block ``i - 1``).

        op-node counts down in ``uint64``: more origin changes than ``l1_origin_num`` wrap
        around (block 0 of ``l1_origin_num = 0`` with bit 1 set gets origin ``2**64 - 1``). We
        do the same, so such a batch is not a derive error (span dropped, channel read on) but
        reaches the batch checks, which drop it (with Holocene: and flush the channel), as in
        op-node."""
        nums = [0] * self.block_count
        n = self.l1_origin_num
        for i in range(self.block_count - 1, -1, -1):
            nums[i] = n
            if i > 0 and bit(self.origin_bits, i):
                n = (n - 1) & U64_MASK
        return tuple(nums)

    def derive(self, block_time: int, genesis_timestamp: int, chain_id: int) -> SpanBatch:
        """Convert to the derived form (op-node ``RawSpanBatch.derive``): absolute timestamps,
        per-block L1 origin numbers and full signed transactions (needs the L2 ``chain_id``)."""
        if self.block_count == 0:
            raise SpanBatchError("span batch: block_count must be at least 1")
        if len(self.block_tx_counts) != self.block_count:
            raise SpanBatchError("span batch: block_tx_counts length != block_count")
        if sum(self.block_tx_counts) != self.txs.total_block_tx_count:
            raise SpanBatchError("span batch: sum(block_tx_counts) != total tx count")
        origins = self.block_origin_nums()
        full = self.txs.full_txs(chain_id)
        elements = []
        idx = 0
        for i in range(self.block_count):
            n = self.block_tx_counts[i]
            elements.append(
                SpanBatchElement(
                    epoch_num=origins[i],
                    # uint64 arithmetic, as op-node
                    timestamp=(genesis_timestamp + self.rel_timestamp + block_time * i) & U64_MASK,
                    transactions=tuple(full[idx : idx + n]),
                )
            )
            idx += n
        return SpanBatch(
            parent_check=self.parent_check,
            l1_origin_check=self.l1_origin_check,
            genesis_timestamp=genesis_timestamp,
            chain_id=chain_id,
            batches=tuple(elements),
            origin_changed_bit=bool(bit(self.origin_bits, 0)),
        )


def decode_span_batch_body(
    data: bytes, *, max_elements: int = MAX_SPAN_BATCH_ELEMENT_COUNT, offset: int = 0
) -> RawSpanBatch:
    """Decode ``prefix ++ payload`` (a span batch without its type byte) at ``data[offset]``.

    ``max_elements`` is the active ``MAX_SPAN_BATCH_ELEMENT_COUNT`` (span-batches.md "Span Batch
    Size Limits"): it bounds ``block_count``, every block's tx count and the total tx count.
    Raises ``SpanBatchError`` with the byte offset.
    """
    data = bytes(data)
    p = offset
    rel_timestamp, p = read_uvarint(data, p, "rel_timestamp")
    l1_origin_num, p = read_uvarint(data, p, "l1_origin_num")
    if p + 40 > len(data):
        raise SpanBatchError("span batch prefix: parent_check/l1_origin_check truncated", p)
    parent_check = data[p : p + 20]
    l1_origin_check = data[p + 20 : p + 40]
    p += 40
    block_count_off = p
    block_count, p = read_uvarint(data, p, "block_count")
    if block_count > max_elements:
        raise SpanBatchError("span batch size limit reached (block_count)", block_count_off)
    if block_count == 0:
        raise SpanBatchError("span batch must not be empty (block_count 0)", block_count_off)
    origin_bits, p = decode_bits(data, p, block_count, "origin_bits")
    counts = []
    total = 0
    for _ in range(block_count):
        c_off = p
        c, p = read_uvarint(data, p, "block_tx_count")
        if c > max_elements:
            raise SpanBatchError("span batch size limit reached (block tx count)", c_off)
        counts.append(c)
        total += c
    if total > max_elements:
        raise SpanBatchError("span batch size limit reached (total tx count)", p)
    txs, p = SpanBatchTxs.decode(data, p, total, max_elements)
    return RawSpanBatch(
        rel_timestamp=rel_timestamp,
        l1_origin_num=l1_origin_num,
        parent_check=parent_check,
        l1_origin_check=l1_origin_check,
        block_count=block_count,
        origin_bits=origin_bits,
        block_tx_counts=tuple(counts),
        txs=txs,
    )


@dataclass(frozen=True, slots=True)
class SpanBatchElement:
    """One block of a span batch in derived form (op-node ``SpanBatchElement``)."""

    epoch_num: int
    timestamp: int
    transactions: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class SpanBatch:
    """A span batch in derived form (op-node ``SpanBatch``).

    ``origin_changed_bit`` is ``origin_bits[0]``: whether the first block changed the L1
    origin relative to its parent (outside the span). It does not affect derivation (the
    start epoch is ``batches[0].epoch_num``) but is needed to re-encode the same bytes; the
    batcher sets it when the first block has sequence number 0.
    """

    parent_check: bytes
    l1_origin_check: bytes
    genesis_timestamp: int
    chain_id: int
    batches: tuple[SpanBatchElement, ...]
    origin_changed_bit: bool = False

    # -- accessors (op-node GetTimestamp / GetStartEpochNum / GetBlockEpochNum ...) --------

    def _nonempty(self) -> tuple[SpanBatchElement, ...]:
        if not self.batches:
            raise SpanBatchError("span batch has no blocks")
        return self.batches

    def first_timestamp(self) -> int:
        """Timestamp of the first block (the batch's timestamp)."""
        return self._nonempty()[0].timestamp

    def last_timestamp(self) -> int:
        """Timestamp of the last block."""
        return self._nonempty()[-1].timestamp

    def start_epoch_num(self) -> int:
        """L1 origin number of the first block."""
        return self._nonempty()[0].epoch_num

    def final_epoch_num(self) -> int:
        """L1 origin number of the last block (the wire ``l1_origin_num``)."""
        return self._nonempty()[-1].epoch_num

    def block_count(self) -> int:
        return len(self.batches)

    def tx_count(self) -> int:
        return sum(len(b.transactions) for b in self.batches)

    def check_origin_hash(self, l1_hash: bytes) -> bool:
        """``l1_origin_check == l1_hash[:20]`` (span-batches.md batch-queue rules)."""
        return self.l1_origin_check == bytes(l1_hash[:20])

    def check_parent_hash(self, l2_hash: bytes) -> bool:
        """``parent_check == l2_hash[:20]``."""
        return self.parent_check == bytes(l2_hash[:20])

    # -- conversions ---------------------------------------------------------------------

    def origin_bits(self) -> int:
        """The ``origin_bits`` bitfield of the wire form."""
        bs = self._nonempty()
        bits = 1 if self.origin_changed_bit else 0
        for i in range(1, len(bs)):
            delta = bs[i].epoch_num - bs[i - 1].epoch_num
            if delta not in (0, 1):
                raise SpanBatchError(
                    f"span batch: block {i} changes the L1 origin by {delta}; only 0 or 1 "
                    "can be encoded"
                )
            if delta:
                bits |= 1 << i
        return bits

    def to_raw(self) -> RawSpanBatch:
        """The wire form (op-node ``ToRawSpanBatch``)."""
        bs = self._nonempty()
        rel = bs[0].timestamp - self.genesis_timestamp
        if rel < 0:
            raise SpanBatchError("span batch starts before the L2 genesis time")
        all_txs = [tx for b in bs for tx in b.transactions]
        return RawSpanBatch(
            rel_timestamp=rel,
            l1_origin_num=bs[-1].epoch_num,
            parent_check=self.parent_check,
            l1_origin_check=self.l1_origin_check,
            block_count=len(bs),
            origin_bits=self.origin_bits(),
            block_tx_counts=tuple(len(b.transactions) for b in bs),
            txs=SpanBatchTxs.from_full_txs(all_txs, self.chain_id),
        )

    def encode(self) -> bytes:
        """``0x01 ++ prefix ++ payload``."""
        return self.to_raw().encode()

    @classmethod
    def from_singular_batches(
        cls,
        batches: Sequence[SingularBatch],
        genesis_timestamp: int,
        chain_id: int,
        *,
        origin_changed_bit: bool = False,
    ) -> SpanBatch:
        """Build a span batch from consecutive singular batches (the batcher's path).

        ``parent_check`` is the first batch's ``parent_hash[:20]``, ``l1_origin_check`` the
        last batch's ``epoch_hash[:20]`` (span-batches.md "prefix"). Pass
        ``origin_changed_bit=True`` when the first block starts a new epoch (sequence number 0),
        as op-node's batcher does.
        """
        if not batches:
            raise SpanBatchError("cannot build a span batch from no singular batches")
        for prev, cur in pairwise(batches):
            if cur.timestamp < prev.timestamp:
                raise SpanBatchError("singular batches are not ordered by timestamp")
        return cls(
            parent_check=bytes(batches[0].parent_hash[:20]),
            l1_origin_check=bytes(batches[-1].epoch_hash[:20]),
            genesis_timestamp=genesis_timestamp,
            chain_id=chain_id,
            batches=tuple(
                SpanBatchElement(b.epoch_num, b.timestamp, tuple(b.transactions)) for b in batches
            ),
            origin_changed_bit=origin_changed_bit,
        )

    def get_singular_batches(
        self, l1_origins: Sequence[L1BlockRef], l2_safe_head: L2BlockRef
    ) -> list[SingularBatch]:
        """The blocks after ``l2_safe_head`` as singular batches (op-node
        ``GetSingularBatches``).

        Blocks with ``timestamp <= l2_safe_head.timestamp`` are skipped. Each epoch hash is
        looked up by number in ``l1_origins`` (searched forward, in order); a missing one raises
        ``MissingL1OriginError``. The first returned batch's ``parent_hash`` is the safe head's
        hash; the later ones carry ``ZERO_HASH``, because their parents are only known once the
        previous block is built: the batch queue sets each parent hash when it pops the batch
        (as op-node's ``popNextBatch`` does).
        """
        out: list[SingularBatch] = []
        origin_idx = 0
        for el in self.batches:
            if el.timestamp <= l2_safe_head.timestamp:
                continue
            epoch_hash = None
            for i in range(origin_idx, len(l1_origins)):
                if l1_origins[i].number == el.epoch_num:
                    origin_idx = i
                    epoch_hash = l1_origins[i].hash
                    break
            if epoch_hash is None:
                raise MissingL1OriginError(
                    f"unable to find L1 origin for the epoch number: {el.epoch_num}"
                )
            out.append(
                SingularBatch(
                    parent_hash=l2_safe_head.hash if not out else ZERO_HASH,
                    epoch_num=el.epoch_num,
                    epoch_hash=epoch_hash,
                    timestamp=el.timestamp,
                    transactions=el.transactions,
                )
            )
        return out


__all__ = [
    "MAX_SPAN_BATCH_ELEMENT_COUNT",
    "MissingL1OriginError",
    "RawSpanBatch",
    "SpanBatch",
    "SpanBatchElement",
    "decode_span_batch_body",
]

