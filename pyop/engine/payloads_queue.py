"""The unsafe-payload queue: L2 blocks received ahead of derivation (``admin_postUnsafePayload``
from op-conductor, later p2p gossip), kept by block number until they apply on the unsafe head
(op-node v1.19.6 ``op-node/rollup/engine/payloads_queue.go`` ``PayloadsQueue`` and the engine
controller's ``AddUnsafePayload`` / ``onForkchoiceUpdate`` / ``onInvalidPayload``; specs
derivation.md "Engine Queue": "unsafe blocks ... are buffered").

Rules (op-node's):

- ordered by block number (a min-heap; duplicates by block hash are refused; gaps allowed);
- memory cap :data:`MAX_UNSAFE_PAYLOADS_MEMORY` (500 MiB) by :func:`payload_mem_size` (1000 bytes
  per payload plus each transaction's length + 24); over the cap the *lowest* numbers are dropped
  first, and a payload that would be dropped itself is refused;
- on every forkchoice update (:meth:`PayloadsQueue.drop_inapplicable`) the front is dropped while
  it is the new unsafe head (processed), at or below the safe head, at or below the unsafe head,
  or the next block number but not building on the unsafe head;
- the front is inserted only when it builds directly on the unsafe head (number + 1, parent
  hash); a later payload (a gap) waits until the blocks before it arrive or derivation reaches
  it; the driver re-tries the front every two block times (``checkForGapInUnsafeQueue``);
- a payload the engine finds ``INVALID`` is dropped if it is still the front.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field

from pyop.primitives import ExecutionPayload, Hash32, L2BlockRef, PyopError

MAX_UNSAFE_PAYLOADS_MEMORY = 500 * 1024 * 1024
PAYLOAD_MEM_FIXED_COST = 1000
PAYLOAD_TX_MEM_OVERHEAD = 24


class PayloadQueueError(PyopError):
    """A payload the queue refuses (duplicate, too large, dropped by the cap)."""


@dataclass(frozen=True, slots=True)
class UnsafePayload:
    """An execution payload and its parent beacon block root (the envelope's)."""

    payload: ExecutionPayload
    parent_beacon_block_root: Hash32 | None = None


def payload_mem_size(p: UnsafePayload) -> int:
    """op-node ``payloadMemSize``: a rough memory estimate."""
    return PAYLOAD_MEM_FIXED_COST + sum(len(tx) + PAYLOAD_TX_MEM_OVERHEAD for tx in p.payload.transactions)


@dataclass
class PayloadsQueue:
    """See the module docstring."""

    max_size: int = MAX_UNSAFE_PAYLOADS_MEMORY
    _heap: list[tuple[int, int, UnsafePayload, int]] = field(default_factory=list)
    _hashes: set[bytes] = field(default_factory=set)
    _size: int = 0
    _seq: itertools.count[int] = field(default_factory=itertools.count)

    def __len__(self) -> int:
        return len(self._heap)

    @property
    def mem_size(self) -> int:
        return self._size

    def push(self, p: UnsafePayload) -> None:
        """Add ``p``; :class:`PayloadQueueError` for a duplicate, one larger than the cap, or one
        that the cap drops at once (it has the lowest number)."""
        pl = p.payload
        if pl.block_hash in self._hashes:
            raise PayloadQueueError(f"cannot add duplicate payload {pl.block_number} {pl.block_hash.hex()}")
        size = payload_mem_size(p)
        if size > self.max_size:
            raise PayloadQueueError(f"cannot add payload {pl.block_number}, payload mem size {size} is "
                                    f"larger than max queue size {self.max_size}")  # fmt: skip
        heapq.heappush(self._heap, (pl.block_number, next(self._seq), p, size))
        self._hashes.add(pl.block_hash)
        self._size += size
        while self._size > self.max_size:
            dropped = self.pop()
            if dropped is not None and dropped.payload.block_hash == pl.block_hash:
                raise PayloadQueueError(f"cannot add payload {pl.block_number}, since it has the oldest "
                                        "block number in queue and queue size limit is reached")  # fmt: skip

    def peek(self) -> UnsafePayload | None:
        return self._heap[0][2] if self._heap else None

    def pop(self) -> UnsafePayload | None:
        if not self._heap:
            return None
        _, _, p, size = heapq.heappop(self._heap)
        self._size -= size
        self._hashes.discard(p.payload.block_hash)
        return p

    def drop_inapplicable(self, unsafe: L2BlockRef, safe: L2BlockRef) -> list[tuple[UnsafePayload, str]]:
        """op-node ``DropInapplicableUnsafePayloads`` after a forkchoice update; returns what was
        dropped and why."""
        out: list[tuple[UnsafePayload, str]] = []
        while self._heap:
            p = self._heap[0][2].payload
            if p.block_hash == unsafe.hash:
                why = "processed: it is the unsafe head"
            elif p.block_number <= safe.number:
                why = "older than the safe head"
            elif p.block_number <= unsafe.number:
                why = "older than the unsafe head"
            elif p.block_number == unsafe.number + 1 and p.parent_hash != unsafe.hash:
                why = "does not build onto the unsafe head"
            else:
                break
            dropped = self.pop()
            if dropped is not None:
                out.append((dropped, why))
        return out

    def next_applicable(self, unsafe: L2BlockRef) -> UnsafePayload | None:
        """The front payload if it builds directly on ``unsafe``, else ``None``."""
        p = self.peek()
        if p is None:
            return None
        pl = p.payload
        if pl.parent_hash != unsafe.hash or pl.block_number != unsafe.number + 1:
            return None
        return p

    def drop_if_front(self, block_hash: bytes) -> UnsafePayload | None:
        """op-node ``onInvalidPayload``: drop the front if it is the payload found invalid."""
        p = self.peek()
        if p is not None and p.payload.block_hash == block_hash:
            return self.pop()
        return None
