"""In-memory data sources for the derivation pipeline: tests, fixtures, ``pyop derive --fixture``.

Each class implements one Protocol of :mod:`pyop.sources.interfaces` structurally:

- :class:`MemoryL1Source` (``L1Source``): L1 headers, transactions and receipts by hash and by
  number, the ``latest`` / ``safe`` / ``finalized`` labels, and :meth:`MemoryL1Source.reorg`.
- :class:`MemoryBlobSource` (``BlobSource``): blobs per L1 block; checks each served blob against
  the requested versioned hash (specs/protocol/ecotone/derivation.md#ecotone-blob-retrieval).
- :class:`MemoryL2Source` (``L2Source``): L2 payloads, refs and the SystemConfig after each block.
- :class:`MemoryAltDASource` (``AltDASource``): alt-DA input commitments -> batcher data
  (specs/experimental/alt-da.md#input-commitment-submission).

A lookup of something that is not there raises :class:`~pyop.sources.interfaces.NotFound`
(a missing blob raises it too: the pipeline treats it as "not available yet").

Note on layering: these fakes raise the pipeline's own ``NotFound`` / ``TemporaryError`` so the
pipeline can classify them; that is the one import from floor 2.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from eth_hash.auto import keccak

from pyop.codec.blob import blob_to_kzg_commitment, kzg_to_versioned_hash
from pyop.codec.errors import BlobError
from pyop.errors import TemporaryError
from pyop.primitives import (
    ExecutionPayload,
    Hash32,
    L1BlockRef,
    L1Header,
    L2BlockRef,
    SystemConfig,
    to_hex,
)
from pyop.protocol.l1_types import Receipt
from pyop.sources.interfaces import BlockLabel, IndexedBlobHash, NotFound

__all__ = [
    "L1Block",
    "MemoryAltDASource",
    "MemoryBlobSource",
    "MemoryL1Source",
    "MemoryL2Source",
    "SourceError",
]


class SourceError(ValueError):
    """Misuse of an in-memory source (inconsistent chain, duplicate block, ...)."""


@dataclass(frozen=True, slots=True)
class L1Block:
    """An L1 block as :class:`MemoryL1Source` stores it."""

    header: L1Header
    txs: tuple[bytes, ...]
    receipts: tuple[Receipt, ...]


class MemoryL1Source:
    """An in-memory L1 chain (implements ``L1Source``).

    Blocks are added in order with :meth:`add_block`; each new block must extend the canonical
    block at ``number - 1`` when that one is known (the first block may start anywhere).
    ``latest`` is the canonical tip unless set; ``safe`` and ``finalized`` are unset (``NotFound``)
    until set with :meth:`set_label`. Blocks replaced by :meth:`reorg` stay retrievable by hash
    (like a real node's non-canonical blocks) but not by number or label.
    """

    def __init__(self, blocks: Iterable[L1Block] = ()) -> None:
        self._by_hash: dict[Hash32, L1Block] = {}
        self._canonical: dict[int, Hash32] = {}
        self._labels: dict[str, int] = {}
        for b in blocks:
            self.add_block(b.header, b.txs, b.receipts)

    # ------------------------------------------------------------------ building

    def add_block(
        self, header: L1Header, txs: Sequence[bytes] = (), receipts: Sequence[Receipt] = ()
    ) -> L1BlockRef:
        """Append a canonical block. ``receipts`` are positional with ``txs``; either may be
        empty (a block known only by its receipts, or by its transactions)."""
        if receipts and txs and len(receipts) != len(txs):
            raise SourceError(
                f"block {header.number}: {len(receipts)} receipts for {len(txs)} transactions"
            )
        if header.hash in self._by_hash and self._canonical.get(header.number) == header.hash:
            raise SourceError(f"block {to_hex(header.hash)} already added")
        if header.number in self._canonical:
            raise SourceError(
                f"block number {header.number} already canonical; use reorg() to replace it"
            )
        parent = self._canonical.get(header.number - 1)
        if parent is not None and parent != header.parent_hash:
            raise SourceError(
                f"block {header.number} parent {to_hex(header.parent_hash)} is not the "
                f"canonical block {to_hex(parent)}"
            )
        self._by_hash[header.hash] = L1Block(header, tuple(txs), tuple(receipts))
        self._canonical[header.number] = header.hash
        return header.ref()

    def reorg(self, from_number: int, new_blocks: Iterable[L1Block]) -> None:
        """Drop canonical blocks ``>= from_number`` and append ``new_blocks`` in their place.

        Labels pointing past the new tip are lowered to it.
        """
        for n in [n for n in self._canonical if n >= from_number]:
            del self._canonical[n]
        for b in new_blocks:
            self.add_block(b.header, b.txs, b.receipts)
        tip = self.tip_number()
        for k, v in list(self._labels.items()):
            if v > tip:
                self._labels[k] = tip

    def set_label(self, label: BlockLabel, number: int) -> None:
        """Point ``latest`` / ``safe`` / ``finalized`` at a canonical block number."""
        if number not in self._canonical:
            raise SourceError(f"no canonical L1 block {number}")
        self._labels[label] = number

    def tip_number(self) -> int:
        if not self._canonical:
            raise NotFound("empty L1 chain")
        return max(self._canonical)

    def block(self, block_hash: Hash32) -> L1Block:
        b = self._by_hash.get(block_hash)
        if b is None:
            raise NotFound(f"unknown L1 block {to_hex(block_hash)}")
        return b

    def canonical_blocks(self) -> list[L1Block]:
        """All canonical blocks, by number."""
        return [self._by_hash[self._canonical[n]] for n in sorted(self._canonical)]

    # ------------------------------------------------------------------ L1Source

    def l1_block_ref_by_label(self, label: BlockLabel) -> L1BlockRef:
        if label == "latest" and label not in self._labels:
            return self.l1_block_ref_by_number(self.tip_number())
        n = self._labels.get(label)
        if n is None:
            raise NotFound(f"L1 label {label!r} is not set")
        return self.l1_block_ref_by_number(n)

    def l1_block_ref_by_number(self, number: int) -> L1BlockRef:
        h = self._canonical.get(number)
        if h is None:
            raise NotFound(f"no canonical L1 block {number}")
        return self._by_hash[h].header.ref()

    def l1_block_ref_by_hash(self, block_hash: Hash32) -> L1BlockRef:
        return self.block(block_hash).header.ref()

    def header_by_hash(self, block_hash: Hash32) -> L1Header:
        return self.block(block_hash).header

    def transactions_by_hash(self, block_hash: Hash32) -> Sequence[bytes]:
        return self.block(block_hash).txs

    def receipts_by_hash(self, block_hash: Hash32) -> Sequence[Receipt]:
        return self.block(block_hash).receipts


class MemoryBlobSource:
    """In-memory blobs per L1 block (implements ``BlobSource``).

    :meth:`add_blob` stores a blob under an L1 block hash and returns its versioned hash
    (computed via its KZG commitment). :meth:`get_blobs` serves the requested
    ``IndexedBlobHash`` list by block and index (falling back to a lookup by versioned hash) and
    checks every served blob: the recomputed ``kzg_to_versioned_hash(commitment(blob))`` must
    equal the requested hash, otherwise :class:`TemporaryError` (op-node treats a mismatching
    sidecar as a fetch failure). A missing blob raises :class:`NotFound`.
    :meth:`put_unchecked` stores an arbitrary (e.g. corrupt) blob under a chosen hash for tests.
    """

    def __init__(self) -> None:
        self._by_block: dict[Hash32, dict[int, tuple[Hash32, bytes]]] = {}
        self._by_hash: dict[Hash32, bytes] = {}
        self._verified: set[tuple[Hash32, bytes]] = set()
        self.requests: list[tuple[L1BlockRef, tuple[IndexedBlobHash, ...]]] = []

    def add_blob(self, block_hash: Hash32, blob: bytes, *, index: int | None = None) -> Hash32:
        """Store ``blob`` as blob ``index`` (default: next free index) of an L1 block."""
        vh = kzg_to_versioned_hash(blob_to_kzg_commitment(blob))
        self._put(block_hash, blob, vh, index)
        self._verified.add((vh, blob))
        return vh

    def put_unchecked(
        self, block_hash: Hash32, index: int, versioned_hash: Hash32, blob: bytes
    ) -> None:
        """Store ``blob`` under ``versioned_hash`` without checking it (to test rejection)."""
        self._put(block_hash, blob, versioned_hash, index)

    def _put(self, block_hash: Hash32, blob: bytes, vh: Hash32, index: int | None) -> None:
        blobs = self._by_block.setdefault(block_hash, {})
        i = len(blobs) if index is None else index
        if i in blobs:
            raise SourceError(f"blob index {i} of block {to_hex(block_hash)} already stored")
        blobs[i] = (vh, blob)
        self._by_hash[vh] = blob

    def get_blobs(self, block: L1BlockRef, hashes: Sequence[IndexedBlobHash]) -> Sequence[bytes]:
        self.requests.append((block, tuple(hashes)))
        stored = self._by_block.get(block.hash, {})
        out: list[bytes] = []
        for ih in hashes:
            entry = stored.get(ih.index)
            if entry is not None and entry[0] == ih.hash:
                blob = entry[1]
            else:
                found = self._by_hash.get(ih.hash)
                if found is None:
                    raise NotFound(
                        f"blob {ih.index} {to_hex(ih.hash)} of L1 block {block.number} not found"
                    )
                blob = found
            self._check(ih.hash, blob)
            out.append(blob)
        return out

    def _check(self, versioned_hash: Hash32, blob: bytes) -> None:
        if (versioned_hash, blob) in self._verified:
            return
        try:
            got = kzg_to_versioned_hash(blob_to_kzg_commitment(blob))
        except BlobError as e:
            raise TemporaryError(f"blob {to_hex(versioned_hash)}: {e}") from None
        if got != versioned_hash:
            raise TemporaryError(
                f"blob does not match its versioned hash: {to_hex(got)} != {to_hex(versioned_hash)}"
            )
        self._verified.add((versioned_hash, blob))


class MemoryL2Source:
    """In-memory L2 chain (implements ``L2Source``): payloads, refs and the SystemConfig that
    holds after each block (what op-node reads from the block's L1-info deposit)."""

    def __init__(self) -> None:
        self._by_number: dict[int, tuple[ExecutionPayload | None, L2BlockRef, SystemConfig]] = {}
        self._by_hash: dict[Hash32, int] = {}
        self._top = -1  # the highest block number held (-1: none), so truncate/head need no scan

    def add(
        self, payload: ExecutionPayload | None, ref: L2BlockRef, system_config: SystemConfig
    ) -> None:
        """Add (or replace) the block at ``ref.number``; ``payload`` may be ``None`` for blocks
        whose body no reader needs (``payload_by_number`` then raises ``NotFound``)."""
        old = self._by_number.get(ref.number)
        if old is not None:
            self._by_hash.pop(old[1].hash, None)
        self._by_number[ref.number] = (payload, ref, system_config)
        self._by_hash[ref.hash] = ref.number
        self._top = max(self._top, ref.number)

    def truncate(self, after_number: int) -> None:
        """Forget every block above ``after_number`` (a no-op when there is none: an executor
        truncates before every block it adds)."""
        if after_number >= self._top:
            return
        for n in [n for n in self._by_number if n > after_number]:
            self._by_hash.pop(self._by_number[n][1].hash, None)
            del self._by_number[n]
        self._top = max(self._by_number, default=-1)

    def head(self) -> L2BlockRef:
        if not self._by_number:
            raise NotFound("empty L2 chain")
        return self._by_number[self._top][1]

    def _entry(self, number: int) -> tuple[ExecutionPayload | None, L2BlockRef, SystemConfig]:
        e = self._by_number.get(number)
        if e is None:
            raise NotFound(f"no L2 block {number}")
        return e

    def _number_of(self, block_hash: Hash32) -> int:
        n = self._by_hash.get(block_hash)
        if n is None:
            raise NotFound(f"unknown L2 block {to_hex(block_hash)}")
        return n

    def l2_block_ref_by_number(self, number: int) -> L2BlockRef:
        return self._entry(number)[1]

    def l2_block_ref_by_hash(self, block_hash: Hash32) -> L2BlockRef:
        return self._entry(self._number_of(block_hash))[1]

    def payload_by_number(self, number: int) -> ExecutionPayload:
        p = self._entry(number)[0]
        if p is None:
            raise NotFound(f"no payload stored for L2 block {number}")
        return p

    def system_config_by_l2_hash(self, block_hash: Hash32) -> SystemConfig:
        return self._entry(self._number_of(block_hash))[2]


class MemoryAltDASource:
    """In-memory alt-DA server (implements ``AltDASource``).

    ``commitment`` is the encoded commitment ``commitment_type_byte ++ commitment_bytes``
    (specs/experimental/alt-da.md#input-commitment-submission). :meth:`put_keccak` stores data
    under its type-0 commitment ``0x00 ++ keccak256(data)`` and returns it; :meth:`put` stores
    under any commitment (type 1 "generic"). Missing inputs raise :class:`NotFound`.
    """

    KECCAK_COMMITMENT_TYPE = 0
    GENERIC_COMMITMENT_TYPE = 1

    def __init__(self, inputs: Mapping[bytes, bytes] | None = None, *, verify: bool = False) -> None:
        self._inputs: dict[bytes, bytes] = dict(inputs or {})
        self.requests: list[tuple[bytes, int]] = []
        #: Check keccak inputs on read, as the HTTP client with ``--altda.verify-on-read``
        #: (a mismatch is a failed read: :class:`TemporaryError`, what ``AltDAHTTPSource``
        #: raises for it).
        self.verify = verify

    @staticmethod
    def keccak_commitment(data: bytes) -> bytes:
        return bytes([MemoryAltDASource.KECCAK_COMMITMENT_TYPE]) + keccak(data)

    def put_keccak(self, data: bytes) -> bytes:
        c = self.keccak_commitment(data)
        self._inputs[c] = data
        return c

    def put(self, commitment: bytes, data: bytes) -> None:
        self._inputs[bytes(commitment)] = data

    def get_input(self, commitment: bytes, l1_block: L1BlockRef) -> bytes:
        self.requests.append((bytes(commitment), l1_block.number))
        data = self._inputs.get(bytes(commitment))
        if data is None:
            raise NotFound(f"alt-DA input {to_hex(commitment)} not found")
        if self.verify and commitment[:1] == b"\x00" and keccak(data) != commitment[1:]:
            raise TemporaryError(f"alt-DA input does not match commitment {to_hex(commitment)}")
        return data
