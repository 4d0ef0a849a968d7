"""Batches: the batch-type byte, singular batches (type 0) and the dispatch of ``decode_batch``.

Spec: specs/protocol/derivation.md#batch-format::

    batch = batch_version ++ content
    batch_version 0 (singular): content = rlp([parent_hash, epoch_number, epoch_hash,
                                               timestamp, transaction_list])
    batch_version 1 (span, from Delta): see pyop.codec.span_batch

Decoding is pure: it checks the wire format only. Validity rules (no empty transactions, no
deposit-type ``0x7E`` transactions, SetCode transactions only from Isthmus, ...) belong to
derivation (derivation.md#batch-queue ``check_batch``; op-node ``CheckBatch``), which drops
such batches.

Like op-node (``rlp.Decode`` on a reader), bytes after a singular batch's RLP list are ignored
(derivation.md "Batch Format": extra content beyond a fully described batch may be ignored),
but the list itself must hold exactly the five fields, in canonical RLP.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pyop.codec.errors import BatchError, SpanBatchError
from pyop.codec.tx import rlp_bytes, rlp_encode, rlp_fixed, rlp_list, rlp_list_fields, rlp_uint
from pyop.primitives import BlockID

if TYPE_CHECKING:
    from pyop.codec.span_batch import RawSpanBatch

SINGULAR_BATCH_TYPE = 0
"""derivation.md#batch-format: ``batch_version`` 0."""
SPAN_BATCH_TYPE = 1
"""delta/span-batches.md#span-batch-format: ``batch_version`` 1."""

_U64_MAX = (1 << 64) - 1


@dataclass(frozen=True, slots=True)
class SingularBatch:
    """A singular batch: the input of one L2 block (op-node ``SingularBatch``).

    ``epoch_num``/``epoch_hash`` name the L1 origin; ``transactions`` are EIP-2718 encodings.
    """

    parent_hash: bytes
    epoch_num: int
    epoch_hash: bytes
    timestamp: int
    transactions: tuple[bytes, ...]

    def epoch(self) -> BlockID:
        """The L1 origin as a ``BlockID``."""
        return BlockID(self.epoch_hash, self.epoch_num)

    def encode_body(self) -> bytes:
        """``rlp([parent_hash, epoch_number, epoch_hash, timestamp, transaction_list])``."""
        if len(self.parent_hash) != 32 or len(self.epoch_hash) != 32:
            raise BatchError("singular batch: parent_hash and epoch_hash must be 32 bytes")
        if not (0 <= self.epoch_num <= _U64_MAX and 0 <= self.timestamp <= _U64_MAX):
            raise BatchError("singular batch: epoch_num and timestamp must be uint64")
        return rlp_encode(
            [
                self.parent_hash,
                self.epoch_num,
                self.epoch_hash,
                self.timestamp,
                [bytes(t) for t in self.transactions],
            ]
        )

    def encode(self) -> bytes:
        """The batch as stored in a channel: ``0x00 ++ rlp([...])``."""
        return bytes([SINGULAR_BATCH_TYPE]) + self.encode_body()


def decode_singular_batch_body(data: bytes, offset: int = 0) -> SingularBatch:
    """Decode ``rlp([parent_hash, epoch_number, epoch_hash, timestamp, transaction_list])``
    at ``data[offset]`` (the content after the type byte). Trailing bytes are ignored."""
    fields, _ = rlp_list_fields(data, offset, err=BatchError, what="singular batch")
    if len(fields) != 5:
        raise BatchError(f"singular batch: expected 5 fields, got {len(fields)}", offset)
    (o0, f0), (o1, f1), (o2, f2), (o3, f3), (o4, f4) = fields
    txs = tuple(
        rlp_bytes(t, o4, "singular batch transaction", err=BatchError)
        for t in rlp_list(f4, o4, "singular batch transaction_list", err=BatchError)
    )
    return SingularBatch(
        parent_hash=rlp_fixed(f0, o0, 32, "parent_hash", err=BatchError),
        epoch_num=rlp_uint(f1, o1, "epoch_number", max_bytes=8, err=BatchError),
        epoch_hash=rlp_fixed(f2, o2, 32, "epoch_hash", err=BatchError),
        timestamp=rlp_uint(f3, o3, "timestamp", max_bytes=8, err=BatchError),
        transactions=txs,
    )


def decode_batch(data: bytes, *, max_span_elements: int | None = None) -> SingularBatch | RawSpanBatch:
    """Decode one batch as read from a channel (``batch_version ++ content``).

    Returns a ``SingularBatch`` or, for type 1, the wire-form ``RawSpanBatch`` (convert with
    ``RawSpanBatch.derive`` once the rollup config is at hand). ``max_span_elements`` is the
    active ``MAX_SPAN_BATCH_ELEMENT_COUNT`` (default: the protocol constant). Raises
    ``BatchError`` (``SpanBatchError`` for span batches) on an empty input, an unknown type or
    a malformed body; offsets count from the type byte.
    """
    from pyop.codec.span_batch import decode_span_batch_body
    from pyop.codec.span_txs import MAX_SPAN_BATCH_ELEMENT_COUNT

    data = bytes(data)
    if not data:
        raise BatchError("batch too short: empty", 0)
    t = data[0]
    if t == SINGULAR_BATCH_TYPE:
        return decode_singular_batch_body(data, 1)
    if t == SPAN_BATCH_TYPE:
        limit = MAX_SPAN_BATCH_ELEMENT_COUNT if max_span_elements is None else max_span_elements
        try:
            return decode_span_batch_body(data[1:], max_elements=limit)
        except SpanBatchError as e:
            raise SpanBatchError(e.message, None if e.offset is None else e.offset + 1) from None
    raise BatchError(f"unrecognized batch type: {t}", 0)
