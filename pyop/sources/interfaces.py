"""What the pipeline pulls from: L1, blobs, an alt-DA server, and the L2 chain.

In-memory implementations back the tests and the ``pyop derive --fixture`` tool; JSON-RPC and
beacon-API implementations live in :mod:`pyop.sources`. Every method may raise
:class:`~pyop.errors.TemporaryError` (retry later); a block that does not exist
(yet) raises :class:`NotFound`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from pyop.errors import DerivationError
from pyop.primitives import ExecutionPayload, Hash32, L1BlockRef, L1Header, L2BlockRef, SystemConfig
from pyop.protocol.l1_types import Receipt

BlockLabel = Literal["latest", "safe", "finalized"]


class NotFound(DerivationError):
    """The requested block / blob / commitment is not known to the source."""


class L1Source(Protocol):
    """L1 execution-layer reads (op-node ``L1Fetcher``)."""

    def l1_block_ref_by_label(self, label: BlockLabel) -> L1BlockRef: ...

    def l1_block_ref_by_number(self, number: int) -> L1BlockRef: ...

    def l1_block_ref_by_hash(self, block_hash: Hash32) -> L1BlockRef: ...

    def header_by_hash(self, block_hash: Hash32) -> L1Header: ...

    def transactions_by_hash(self, block_hash: Hash32) -> Sequence[bytes]:
        """The block's transactions as signed EIP-2718 bytes, in block order."""
        ...

    def receipts_by_hash(self, block_hash: Hash32) -> Sequence[Receipt]: ...


@dataclass(frozen=True, slots=True)
class IndexedBlobHash:
    """A blob's versioned hash and its index among all blobs of the L1 block (op-node
    ``eth.IndexedBlobHash``)."""

    index: int
    hash: Hash32


class BlobSource(Protocol):
    """Blobs of an L1 block (a beacon API, or anvil's ``/eth/v1/beacon/blobs/{block}``).

    Implementations check each blob against its versioned hash (KZG commitment) and raise
    :class:`TemporaryError` / :class:`NotFound` when a blob is missing.
    """

    def get_blobs(self, block: L1BlockRef, hashes: Sequence[IndexedBlobHash]) -> Sequence[bytes]: ...


class AltDASource(Protocol):
    """An alt-DA server: resolves an input commitment to the batcher data it stands for
    (specs/experimental/alt-da.md). ``commitment`` is the encoded commitment without the
    derivation-version and tx-data-version prefix bytes (type byte first)."""

    def get_input(self, commitment: bytes, l1_block: L1BlockRef) -> bytes: ...


class L2Source(Protocol):
    """L2 execution-layer reads the pipeline needs for reset and batch checks."""

    def l2_block_ref_by_number(self, number: int) -> L2BlockRef: ...

    def l2_block_ref_by_hash(self, block_hash: Hash32) -> L2BlockRef: ...

    def payload_by_number(self, number: int) -> ExecutionPayload: ...

    def system_config_by_l2_hash(self, block_hash: Hash32) -> SystemConfig: ...
