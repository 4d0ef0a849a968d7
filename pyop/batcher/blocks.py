"""L2 blocks as the batcher holds them: the batch data of one unsafe block.

specs/protocol/derivation.md "Batch Format": a singular batch is ``[parent_hash,
epoch_number, epoch_hash, timestamp, transaction_list]`` where the epoch is the block's L1
origin and the transaction list holds the block's transactions *without* the deposits (the
L1-info deposit and user deposits are derived from L1, never batched). The L1 origin and the
sequence number come from the block's first transaction, the L1-info deposit (Go
``derive.PayloadToSingularBatch`` / ``BlockToSingularBatch``).
"""

from __future__ import annotations

from dataclasses import dataclass

from pyop.batcher.errors import BatcherError
from pyop.codec.batch import SingularBatch
from pyop.codec.errors import CodecError
from pyop.codec.tx import DEPOSIT_TX_TYPE
from pyop.primitives import BlockID, ExecutionPayload, L2BlockRef
from pyop.protocol.l1_info import decode_l1_info_tx

__all__ = ["L2Block", "block_from_payload"]

RAW_SIZE_OVERHEAD = 70
"""Go ``SizedBlock.RawSize``: an estimate of the batch metadata per block, plus 2 bytes per tx."""


@dataclass(frozen=True, slots=True)
class L2Block:
    """One L2 block's batch data and identity (Go ``SizedBlock`` over an execution payload)."""

    number: int
    hash: bytes
    parent_hash: bytes
    timestamp: int
    l1_origin: BlockID
    sequence_number: int
    transactions: tuple[bytes, ...]
    """The non-deposit transactions, EIP-2718 encoded, in block order."""
    l1_origin_time: int = 0
    """The L1 origin's timestamp (from the L1-info deposit): fork rules on the batch's L1 origin
    (span batches need a Delta origin) use it."""

    @property
    def id(self) -> BlockID:
        return BlockID(self.hash, self.number)

    def ref(self) -> L2BlockRef:
        return L2BlockRef(self.hash, self.number, self.parent_hash, self.timestamp, self.l1_origin,
                          self.sequence_number)  # fmt: skip

    def singular_batch(self) -> SingularBatch:
        return SingularBatch(self.parent_hash, self.l1_origin.number, self.l1_origin.hash,
                             self.timestamp, self.transactions)  # fmt: skip

    @property
    def raw_size(self) -> int:
        """Go ``SizedBlock.RawSize``: 70 plus each non-deposit tx's length plus 2."""
        return RAW_SIZE_OVERHEAD + sum(len(t) + 2 for t in self.transactions)


def block_from_payload(p: ExecutionPayload) -> L2Block:
    """The batch data of an L2 block (Go ``PayloadToSingularBatch``): L1 origin and sequence
    number from its L1-info deposit, the other deposits dropped. Raises :class:`BatcherError`
    when the first transaction is not an L1-info deposit (e.g. the genesis block)."""
    if not p.transactions:
        raise BatcherError(f"L2 block {p.block_number} has no transactions (no L1-info deposit)")
    try:
        _tx, info = decode_l1_info_tx(p.transactions[0])
    except CodecError as e:
        raise BatcherError(f"L2 block {p.block_number}: first tx is not an L1-info deposit: {e}") from None
    txs = tuple(t for t in p.transactions if not (t and t[0] == DEPOSIT_TX_TYPE))
    return L2Block(p.block_number, p.block_hash, p.parent_hash, p.timestamp,
                   BlockID(info.block_hash, info.number), info.sequence_number, txs, info.time)  # fmt: skip
