"""Data sources: the batcher data of one L1 block (calldata, blobs, alt-DA).

Spec: specs/protocol/derivation.md "L1 Retrieval" (a batcher transaction is one sent to the
``batch_inbox_address`` by the SystemConfig's ``batcherAddr``; the sender is recovered from the
signature; op-node also requires a legacy, 2930, 1559, blob or, on L3s, deposit transaction),
ecotone/derivation.md "Blob Retrieval" (from Ecotone, by L1 block time, blob
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
from pyop.codec.tx import (
    BLOB_TX_TYPE,
    DEPOSIT_TX_TYPE,
    LEGACY_TX_TYPE,
    SignedTx,
    decode_signed_tx,
    signing_payload,
)
from pyop.config import RollupConfig
from pyop.derivation.altda_manager import (
    CommitmentTypeMismatch,
    DAManager,
    ExpiredChallenge,
    MissingPastWindow,
    PendingChallenge,
    ReorgRequired,
)
from pyop.derivation.drops import DropReason, Explainer, short_hash
from pyop.derivation.errors import (
    CriticalError,
    EndOfSource,
    NotEnoughData,
    ResetError,
    TemporaryError,
)
from pyop.derivation.interfaces import AltDASource, BlobSource, IndexedBlobHash, L1Source, NotFound
from pyop.primitives import Address, L1BlockRef, PyopError
from pyop.protocol.altda import (
    MAX_INPUT_SIZE,
    TX_DATA_VERSION_ALTDA,
    AltDAFormatError,
    Commitment,
    CommitmentType,
    decode_commitment,
)
from pyop.protocol.deposits import DepositTx, decode_deposit_tx

STAGE = "l1_retrieval"

#: secp256k1 group order; Homestead requires ``s <= N/2`` (go-ethereum ``ValidateSignatureValues``).
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141



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
    """A transaction of the L1 block that passed the batcher checks: a signed transaction, or
    (on an L3, whose L1 is an OP chain) a deposit transaction."""

    index: int
    tx: SignedTx | DepositTx

    @property
    def data(self) -> bytes:
        return self.tx.data


def _deposit_batcher_tx(
    cfg: RollupConfig, ref: L1BlockRef, i: int, raw: bytes, batcher_addr: Address, explainer: Explainer
) -> BatcherTx | None:
    """[L3] A deposit transaction (type ``0x7E``) of an L1 that is itself an OP chain: op-node
    ``isValidBatchTx`` accepts it ("Deposit (for L3s)"); its sender is its ``from`` field
    (op-geth's signer returns ``DepositTx.From``, there is no signature)."""
    try:
        dep = decode_deposit_tx(raw)
    except CodecError as e:
        explainer.drop(STAGE, DropReason.UNDECODABLE_TX, str(e), {"tx_index": i}, ref.id())
        return None
    if dep.to != cfg.batch_inbox_address:
        return None
    if dep.from_ != batcher_addr:
        explainer.drop(
            STAGE, DropReason.WRONG_BATCHER,
            f"deposit tx {short_hash(dep.tx_hash())} to the inbox from {short_hash(dep.from_)}, "
            f"batcher is {short_hash(batcher_addr)}", {"tx_index": i}, ref.id(),
        )  # fmt: skip
        return None
    return BatcherTx(i, dep)


def batcher_txs(
    cfg: RollupConfig,
    ref: L1BlockRef,
    raw_txs: Sequence[bytes],
    batcher_addr: Address,
    explainer: Explainer,
) -> tuple[list[BatcherTx], list[int]]:
    """The valid batcher transactions of a block (derivation.md "L1 Retrieval"; op-node
    ``isValidBatchTx``: a legacy, EIP-2930, EIP-1559, blob or (L3) deposit transaction, with
    ``to == batch_inbox_address`` and sender == batcher), and the number of blobs of every
    transaction in block order (for blob indices).

    op-node v1.19.6 rejects SetCode (type 4) and every later type, whoever sent it ("For now,
    we want to disallow the SetCodeTx type or any future types"); the specs mirror we cite
    does not list the types. We follow op-node and record such a transaction to the inbox as a
    drop."""
    out: list[BatcherTx] = []
    blob_counts: list[int] = []
    for i, raw in enumerate(raw_txs):
        if raw[:1] == bytes([DEPOSIT_TX_TYPE]):
            blob_counts.append(0)
            bt = _deposit_batcher_tx(cfg, ref, i, raw, batcher_addr, explainer)
            if bt is not None:
                out.append(bt)
            continue
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
        if tx.tx_type > BLOB_TX_TYPE:
            explainer.drop(
                STAGE, DropReason.BATCHER_TX_TYPE_NOT_ALLOWED,
                f"type-{tx.tx_type} tx {short_hash(tx.hash)} to the inbox ignored",
                {"tx_index": i, "tx_type": tx.tx_type}, ref.id(),
            )  # fmt: skip
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
            self._data = deque(t.data for t in txs)
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
            if not isinstance(bt.tx, SignedTx) or bt.tx.tx_type != BLOB_TX_TYPE:
                items.append(bt.data)
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
    """Alt-DA (experimental/alt-da.md "Derivation"): tx data ``0x01 ++ encoded_commitment`` is
    resolved through the DA manager; other data passes through (op-node ``AltDADataSource.Next``).

    - Every call first advances the DA manager to this L1 block (challenge events, expiries); a
      previously used commitment whose challenge expired unresolved raises :class:`ResetError`.
    - The decoded commitment is kept until its input is obtained or the commitment is skipped:
      a failed fetch (DA server down, timeout, HTTP error, keccak check on read) raises
      :class:`TemporaryError` and the next call asks again for the *same* commitment; the
      batcher transaction it came from is never read twice nor lost (op-node keeps ``s.comm``).
    - Skipped (recorded as drops, then the next batcher data is read): a commitment that does
      not decode, one not of the chain's ``da_commitment_type``, one whose challenge expired,
      and a keccak input larger than ``alt_da.da_max_input_size`` (default 130672).
    - Input missing but still challengeable: :class:`NotEnoughData` (step again); missing past
      the challenge window: :class:`CriticalError`.

    The input itself is not checked here: keccak inputs are checked by the DA client when it
    verifies on read (``--altda.verify-on-read``, a mismatch is a fetch failure and retried),
    generic ones by the DA server, as in op-node.
    """

    def __init__(
        self,
        inner: DataIter,
        manager: DAManager,
        l1: L1Source,
        ref: L1BlockRef,
        ex: Explainer,
        *,
        max_input_size: int = MAX_INPUT_SIZE,
    ) -> None:
        self.inner, self.manager, self.l1, self.ref, self.ex = inner, manager, l1, ref, ex
        self.max_input_size = max_input_size
        #: The commitment being resolved (kept across temporary errors).
        self.comm: Commitment | None = None

    def _skip(self, reason: DropReason, detail: str, numbers: dict[str, int | str]) -> None:
        self.ex.drop(STAGE, reason, detail, numbers, self.ref.id())
        self.comm = None

    def next(self) -> bytes:
        try:
            self.manager.advance_l1_origin(self.l1, self.ref.id())
        except ReorgRequired as e:
            raise ResetError(f"new expired challenge: {e}") from None
        except (CriticalError, ResetError):
            raise
        except (TemporaryError, NotFound, PyopError) as e:
            raise TemporaryError(f"failed to advance alt-DA L1 origin to {self.ref.number}: {e}") from None
        while True:
            if self.comm is None:
                data = self.inner.next()  # EndOfSource / errors pass through
                if not data:
                    raise NotEnoughData("empty batcher data")
                if data[0] != TX_DATA_VERSION_ALTDA:
                    return data  # not a commitment: frames (or junk) for the next stages
                try:
                    self.comm = decode_commitment(data[1:])
                except AltDAFormatError as e:
                    self.ex.drop(STAGE, DropReason.ALTDA_INVALID_COMMITMENT, f"commitment 0x{data[1:41].hex()}: {e}",
                                 {"length": len(data) - 1}, self.ref.id())  # fmt: skip
                    raise NotEnoughData("invalid alt-DA commitment") from None
            comm = self.comm
            try:
                inp = self.manager.get_input(self.l1, comm, self.ref)
            except ReorgRequired as e:
                raise ResetError(str(e)) from None
            except CommitmentTypeMismatch as e:
                self._skip(DropReason.ALTDA_COMMITMENT_TYPE_MISMATCH, f"{comm.short()}: {e}",
                           {"type": comm.type.value})  # fmt: skip
                continue
            except ExpiredChallenge:
                self._skip(DropReason.ALTDA_CHALLENGE_EXPIRED, f"{comm.short()}: challenge expired, input skipped",
                           {"l1_block": self.ref.number})  # fmt: skip
                continue
            except MissingPastWindow as e:
                raise CriticalError(f"data for comm {comm.short()} not available: {e}") from None
            except PendingChallenge:
                raise NotEnoughData("alt-DA input pending a challenge") from None
            except (CriticalError, ResetError):
                raise
            except (TemporaryError, NotFound, PyopError) as e:
                # kept in self.comm: the next call fetches the same commitment again
                raise TemporaryError(
                    f"failed to fetch input data with comm {comm.short()} from the DA server: {e}"
                ) from None
            if comm.type is CommitmentType.KECCAK256 and len(inp) > self.max_input_size:
                self._skip(DropReason.ALTDA_INPUT_TOO_LARGE, "keccak input larger than the max input size",
                           {"size": len(inp), "max": self.max_input_size})  # fmt: skip
                continue
            self.comm = None
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
        #: The DA manager of an alt-DA chain (one per pipeline; op-node passes one ``altda.DA``
        #: to the data sources and the finalizer).
        self.altda_manager: DAManager | None = (
            DAManager(cfg.alt_da, altda, explainer) if cfg.alt_da is not None else None
        )

    def reset(self, base: L1BlockRef) -> None:
        """Pipeline reset (op-node resets the ``altda.DA`` stage after L1 retrieval)."""
        if self.altda_manager is not None:
            self.altda_manager.reset(base)

    def open_data(self, ref: L1BlockRef, batcher_addr: Address) -> DataIter:
        src: DataIter
        if self.cfg.ecotone_time is not None and ref.timestamp >= self.cfg.ecotone_time:
            src = BlobDataSource(self.cfg, self.l1, self.blobs, ref, batcher_addr, self.ex)
        else:
            src = CalldataSource(self.cfg, self.l1, ref, batcher_addr, self.ex)
        if self.altda_manager is not None and self.cfg.alt_da is not None:
            return AltDADataSource(src, self.altda_manager, self.l1, ref, self.ex,
                                   max_input_size=self.cfg.alt_da.max_input_size_or_default())  # fmt: skip
        return src
