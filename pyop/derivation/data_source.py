"""Data sources: the batcher data of one L1 block (calldata, blobs, alt-DA).

Spec: specs/protocol/derivation.md "L1 Retrieval" (a batcher transaction is one sent to the
``batch_inbox_address`` by the SystemConfig's ``batcherAddr``; the sender is recovered from the
signature), ecotone/derivation.md "Blob Retrieval" (from Ecotone, by L1 block time, blob
transactions carry the data in blobs; non-blob batcher transactions still carry calldata, in
transaction order), experimental/alt-da.md (tx data version byte ``0x01``: an alt-DA
commitment). Go: op-node/rollup/derive/{data_source,calldata_source,blob_data_source,
altda_data_source}.go.

Every source is a :class:`DataIter`: ``next()`` returns one batcher-transaction payload
(``derivation_version ++ frames``) and raises :class:`EndOfSource` when the block is exhausted.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import coincurve
from eth_hash.auto import keccak

from pyop.codec.blob import decode_blob
from pyop.codec.errors import BlobError, CodecError
from pyop.codec.tx import BLOB_TX_TYPE, LEGACY_TX_TYPE, SignedTx, decode_signed_tx, signing_payload
from pyop.config import RollupConfig
from pyop.derivation.drops import DropReason, Explainer, short_hash
from pyop.derivation.errors import (
    CriticalError,
    EndOfSource,
    NotEnoughData,
    ResetError,
    TemporaryError,
)
from pyop.derivation.interfaces import AltDASource, BlobSource, IndexedBlobHash, L1Source, NotFound
from pyop.primitives import Address, L1BlockRef

STAGE = "l1_retrieval"

#: secp256k1 group order; Homestead requires ``s <= N/2`` (go-ethereum ``ValidateSignatureValues``).
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

#: alt-DA: tx data version byte of a commitment (experimental/alt-da.md).
TX_DATA_VERSION_ALTDA = 0x01
KECCAK_COMMITMENT_TYPE = 0x00
GENERIC_COMMITMENT_TYPE = 0x01
#: alt-DA: ``MAX_L1_TX_SIZE`` for keccak commitments (experimental/alt-da.md).
ALTDA_MAX_INPUT_SIZE = 130672


class SenderError(Exception):
    """The sender of a transaction cannot be recovered (invalid signature / chain id)."""


class DataIter(Protocol):
    """One L1 block's batcher data, item by item."""

    def next(self) -> bytes: ...


def recover_sender(tx: SignedTx, l1_chain_id: int) -> Address:
    """The sender of a signed L1 transaction, as go-ethereum's latest signer for the L1 chain
    id recovers it (op-node ``l1Signer.Sender``): unprotected legacy transactions are accepted;
    protected ones and typed ones must carry ``l1_chain_id``; ``r, s`` must be in range and
    ``s <= N/2``. Raises :class:`SenderError`."""
    if tx.protected and tx.chain_id != l1_chain_id:
        raise SenderError(f"invalid chain id {tx.chain_id}, want {l1_chain_id}")
    if tx.tx_type == LEGACY_TX_TYPE and not tx.protected and tx.v not in (27, 28):
        raise SenderError(f"invalid legacy v {tx.v}")
    y = tx.y_parity
    if y not in (0, 1):
        raise SenderError(f"invalid y parity {y}")
    if not (0 < tx.r < SECP256K1_N and 0 < tx.s <= SECP256K1_N // 2):
        raise SenderError("signature values out of range")
    msg = keccak(signing_payload(tx, l1_chain_id))
    sig = tx.r.to_bytes(32, "big") + tx.s.to_bytes(32, "big") + bytes([y])
    try:
        pub = coincurve.PublicKey.from_signature_and_message(sig, msg, hasher=None)
    except Exception as e:  # coincurve raises ValueError / its own errors
        raise SenderError(f"cannot recover public key: {e}") from None
    return keccak(pub.format(compressed=False)[1:])[12:]


@dataclass(frozen=True, slots=True)
class BatcherTx:
    """A transaction of the L1 block that passed the batcher checks."""

    index: int
    tx: SignedTx


def batcher_txs(
    cfg: RollupConfig,
    ref: L1BlockRef,
    raw_txs: Sequence[bytes],
    batcher_addr: Address,
    explainer: Explainer,
) -> tuple[list[BatcherTx], list[int]]:
    """The valid batcher transactions of a block (derivation.md "L1 Retrieval"; op-node
    ``isValidBatchTx``: ``to == batch_inbox_address`` and recovered sender == batcher), and
    the number of blobs of every transaction in block order (for blob indices)."""
    out: list[BatcherTx] = []
    blob_counts: list[int] = []
    for i, raw in enumerate(raw_txs):
        try:
            tx = decode_signed_tx(raw)
        except CodecError as e:
            # Only a transaction sent to the inbox matters; an undecodable one is reported.
            explainer.drop(STAGE, DropReason.UNDECODABLE_TX, str(e), {"tx_index": i}, ref.id())
            blob_counts.append(0)
            continue
        blob_counts.append(len(tx.blob_versioned_hashes))
        if tx.to != cfg.batch_inbox_address:
            continue
        try:
            sender = recover_sender(tx, cfg.l1_chain_id)
        except SenderError as e:
            explainer.drop(
                STAGE, DropReason.INVALID_SIGNATURE,
                f"tx {short_hash(tx.hash)} to the inbox: {e}", {"tx_index": i}, ref.id(),
            )  # fmt: skip
            continue
        if sender != batcher_addr:
            explainer.drop(
                STAGE, DropReason.WRONG_BATCHER,
                f"tx {short_hash(tx.hash)} to the inbox from {short_hash(sender)}, "
                f"batcher is {short_hash(batcher_addr)}", {"tx_index": i}, ref.id(),
            )  # fmt: skip
            continue
        out.append(BatcherTx(i, tx))
    return out, blob_counts


def _fetch_txs(l1: L1Source, ref: L1BlockRef) -> Sequence[bytes]:
    try:
        return l1.transactions_by_hash(ref.hash)
    except NotFound as e:
        raise ResetError(f"failed to open data source for L1 block {ref.number}: {e}") from None


class CalldataSource:
    """Pre-Ecotone: the calldata of each batcher transaction (op-node ``CalldataSource``)."""

    def __init__(
        self, cfg: RollupConfig, l1: L1Source, ref: L1BlockRef, batcher: Address, ex: Explainer
    ) -> None:
        self.cfg, self.l1, self.ref, self.batcher, self.ex = cfg, l1, ref, batcher, ex
        self._data: deque[bytes] | None = None

    def next(self) -> bytes:
        if self._data is None:
            txs, _ = batcher_txs(self.cfg, self.ref, _fetch_txs(self.l1, self.ref), self.batcher, self.ex)
            self._data = deque(t.tx.data for t in txs)
        if not self._data:
            raise EndOfSource(f"no more calldata in L1 block {self.ref.number}")
        return self._data.popleft()


class BlobDataSource:
    """From Ecotone (by L1 time): blob data of batcher blob txs, calldata of other batcher txs,
    in transaction order (ecotone/derivation.md "Blob Retrieval"; op-node ``BlobDataSource``).

    Blob indices count every blob of the block, including those of non-batcher transactions.
    Calldata of a blob transaction is ignored. A blob that fails to decode is dropped.
    """

    def __init__(
        self,
        cfg: RollupConfig,
        l1: L1Source,
        blobs: BlobSource | None,
        ref: L1BlockRef,
        batcher: Address,
        ex: Explainer,
    ) -> None:
        self.cfg, self.l1, self.blobs, self.ref, self.batcher, self.ex = cfg, l1, blobs, ref, batcher, ex
        # Each item: calldata bytes, or an int k = index into the fetched blobs.
        self._items: deque[bytes | int] | None = None
        self._blobs: Sequence[bytes] = ()

    def _open(self) -> deque[bytes | int]:
        raw = _fetch_txs(self.l1, self.ref)
        txs, blob_counts = batcher_txs(self.cfg, self.ref, raw, self.batcher, self.ex)
        first_blob_index = [0] * len(blob_counts)
        acc = 0
        for i, c in enumerate(blob_counts):
            first_blob_index[i] = acc
            acc += c
        items: deque[bytes | int] = deque()
        hashes: list[IndexedBlobHash] = []
        for bt in txs:
            if bt.tx.tx_type != BLOB_TX_TYPE:
                items.append(bt.tx.data)
                continue
            for j, h in enumerate(bt.tx.blob_versioned_hashes):
                items.append(len(hashes))
                hashes.append(IndexedBlobHash(first_blob_index[bt.index] + j, h))
        if hashes:
            if self.blobs is None:
                raise CriticalError(
                    f"L1 block {self.ref.number} has batcher blobs but no blob source is configured"
                )
            try:
                blobs = self.blobs.get_blobs(self.ref, hashes)
            except NotFound as e:
                raise ResetError(f"failed to fetch blobs of L1 block {self.ref.number}: {e}") from None
            if len(blobs) != len(hashes):
                raise ResetError(
                    f"got {len(blobs)} blobs for {len(hashes)} hashes in L1 block {self.ref.number}"
                )
            self._blobs = blobs
        return items

    def next(self) -> bytes:
        if self._items is None:
            self._items = self._open()
        while self._items:
            item = self._items.popleft()
            if isinstance(item, bytes):
                return item
            try:
                return decode_blob(self._blobs[item])
            except BlobError as e:
                self.ex.drop(STAGE, DropReason.BLOB_DECODE_ERROR, str(e), {"blob": item}, self.ref.id())
        raise EndOfSource(f"no more batcher data in L1 block {self.ref.number}")


class AltDADataSource:
    """Alt-DA (experimental/alt-da.md): tx data ``0x01 ++ commitment`` is resolved through the
    DA server; other data passes through (op-node ``AltDADataSource``).

    Keccak commitments (type 0) are checked against the returned input and limited to
    ``MAX_L1_TX_SIZE``; generic commitments (type 1) are trusted to the DA server.
    Not implemented: the DataAvailabilityChallenge contract tracking (challenge/resolve windows,
    resolved inputs from L1 calldata, reorgs on expired challenges): an unavailable input raises
    :class:`TemporaryError` (retry), as op-node does for a DA server failure.
    """

    def __init__(self, inner: DataIter, altda: AltDASource | None, ref: L1BlockRef, ex: Explainer) -> None:
        self.inner, self.altda, self.ref, self.ex = inner, altda, ref, ex
        #: the commitment being resolved: kept across a temporary failure so the next step
        #: fetches the same input again (op-node ``AltDADataSource.comm``)
        self._comm: bytes | None = None

    def next(self) -> bytes:
        if self._comm is not None:
            return self._resolve(self._comm)
        data = self.inner.next()
        if not data:
            raise NotEnoughData("empty batcher data")
        if data[0] != TX_DATA_VERSION_ALTDA:
            return data
        comm = data[1:]
        if not comm or comm[0] not in (KECCAK_COMMITMENT_TYPE, GENERIC_COMMITMENT_TYPE) or (
            comm[0] == KECCAK_COMMITMENT_TYPE and len(comm) != 33
        ) or (comm[0] == GENERIC_COMMITMENT_TYPE and len(comm) < 2):
            self.ex.drop(STAGE, DropReason.ALTDA_INVALID_COMMITMENT, f"commitment 0x{comm.hex()[:80]}",
                         {"length": len(comm)}, self.ref.id())  # fmt: skip
            raise NotEnoughData("invalid alt-DA commitment")
        if self.altda is None:
            raise CriticalError("alt-DA commitment found but no alt-DA source is configured")
        self._comm = comm
        return self._resolve(comm)

    def _resolve(self, comm: bytes) -> bytes:
        """The input of ``comm``; any failure to get it leaves ``comm`` pending (retried)."""
        if self.altda is None:
            raise CriticalError("alt-DA commitment found but no alt-DA source is configured")
        try:
            inp = self.altda.get_input(comm, self.ref)
        except NotFound as e:
            raise TemporaryError(f"alt-DA input for commitment 0x{comm.hex()[:80]} not available: {e}") from None
        self._comm = None
        if comm[0] == KECCAK_COMMITMENT_TYPE:
            if len(inp) > ALTDA_MAX_INPUT_SIZE:
                self.ex.drop(STAGE, DropReason.ALTDA_INPUT_TOO_LARGE, "keccak input too large",
                             {"size": len(inp), "max": ALTDA_MAX_INPUT_SIZE}, self.ref.id())  # fmt: skip
                raise NotEnoughData("alt-DA input skipped")
            if keccak(inp) != comm[1:]:
                self.ex.drop(STAGE, DropReason.ALTDA_INPUT_MISMATCH, "keccak(input) != commitment",
                             {"size": len(inp)}, self.ref.id())  # fmt: skip
                raise NotEnoughData("alt-DA input skipped")
        return inp


class DataSourceFactory:
    """Opens the right source for an L1 block (op-node ``DataSourceFactory.OpenData``): blobs
    from Ecotone by L1 block time, else calldata; wrapped in alt-DA if the rollup uses it."""

    def __init__(
        self,
        cfg: RollupConfig,
        l1: L1Source,
        explainer: Explainer,
        blobs: BlobSource | None = None,
        altda: AltDASource | None = None,
    ) -> None:
        self.cfg, self.l1, self.ex, self.blobs, self.altda = cfg, l1, explainer, blobs, altda

    def open_data(self, ref: L1BlockRef, batcher_addr: Address) -> DataIter:
        src: DataIter
        if self.cfg.ecotone_time is not None and ref.timestamp >= self.cfg.ecotone_time:
            src = BlobDataSource(self.cfg, self.l1, self.blobs, ref, batcher_addr, self.ex)
        else:
            src = CalldataSource(self.cfg, self.l1, ref, batcher_addr, self.ex)
        if self.cfg.alt_da_enabled():
            return AltDADataSource(src, self.altda, ref, self.ex)
        return src
