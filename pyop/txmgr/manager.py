"""The L1 transaction manager: craft, sign, publish, bump and confirm transactions
(op-service/txmgr/txmgr.go ``SimpleTxManager``), plus watching confirmed ones for L1 reorgs.

:meth:`TxManager.send` takes a :class:`TxCandidate` (recipient, calldata, blobs, gas limit,
value) and returns the :class:`~pyop.txmgr.backend.Receipt` once the tx has
``num_confirmations`` confirmations. In between, as Go's ``sendTx``:

1. **Craft** (Go ``craftTx``): suggest fees (:meth:`TxManager.suggest_gas_price_caps`: tip from
   ``eth_maxPriorityFeePerGas``, base fee from the latest header, blob base fee from
   ``eth_blobBaseFee``; min/max limits applied), ``fee cap = tip + 2 * base fee``, blob fee cap
   ``2 * blob base fee`` (at least 1 gwei); build the blob sidecar; estimate the gas limit (or
   check a given one with ``eth_call``); sign with the next nonce. The nonce is read once from
   the L1 (``latest``) and then counted up locally; any failed send resets it.
2. **Publish** (Go ``publishTx``): ``eth_sendRawTransaction``; "underpriced" answers bump the
   fees at once; "already known" / "nonce too low" after an earlier successful publish mean our
   tx is in.
3. **Wait**: poll the receipt of every published version every ``receipt_query_interval``;
   every ``resubmission_timeout`` without inclusion, re-publish with bumped fees
   (:func:`~pyop.txmgr.fees.update_fees`: at least +10%, +100% for blob txs, capped by
   ``fee_limit_multiplier``); re-broadcast every ``rebroadcast_interval``.
4. **Give up** on a :class:`~pyop.txmgr.send_state.SendState` critical error: the nonce was taken
   (``safe_abort_nonce_too_low_count``), never got into the mempool, incompatible tx in the pool.

**L1 reorgs of confirmed transactions** (a pyop addition; Go's txmgr forgets a tx once it
returned its receipt): each confirmed tx is kept for ``reorg_watch_depth`` L1 blocks.
:meth:`TxManager.check_reorgs` looks each one up again; one whose receipt is gone fell out of
the canonical chain and is re-published as it was signed (same nonce, so the account's nonce
sequence has no gap; fees bumped as needed); one whose receipt names another block moved. Both
are reported as :class:`ReorgedTx`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from pyop.codec.tx import BLOB_TX_TYPE, DYNAMIC_FEE_TX_TYPE, SignedTx
from pyop.opservice.logs import kv
from pyop.primitives import to_hex
from pyop.txmgr.backend import CallMsg, Header, L1Backend, Receipt, SendTxError
from pyop.txmgr.blobs import BlobSidecar, make_sidecar, network_encoding
from pyop.txmgr.config import TxManagerConfig
from pyop.txmgr.errors import (
    FeeLimitError,
    SendCancelledError,
    TxManagerClosedError,
    TxManagerError,
)
from pyop.txmgr.fees import (
    BlobFeeSchedule,
    GasPriceCaps,
    blob_base_fee_from_excess,
    calc_blob_fee_cap,
    calc_gas_fee_cap,
    calc_threshold_value,
    check_blob_fee_limits,
    check_limits,
    default_blob_fee_schedule,
    update_fees,
)
from pyop.txmgr.metrics import TxMetrics
from pyop.txmgr.send_state import (
    ERR_ALREADY_KNOWN,
    ERR_ALREADY_RESERVED,
    ERR_NONCE_TOO_HIGH,
    ERR_NONCE_TOO_LOW,
    ERR_REPLACE_UNDERPRICED,
    ERR_UNDERPRICED,
    SendState,
    matches,
)
from pyop.txmgr.signer import LocalSigner, UnsignedTx

T = TypeVar("T")
CRAFT_ATTEMPTS = 30
CRAFT_RETRY_DELAY = 2.0
"""Go ``prepare``: ``retry.Do(ctx, 30, retry.Fixed(2*time.Second), craftTx)``."""

__all__ = ["PreparedTx", "ReorgedTx", "TxCandidate", "TxManager"]


@dataclass(frozen=True, slots=True)
class TxCandidate:
    """What to send (Go ``TxCandidate``): ``to`` (``None``: contract creation), calldata, blobs
    (131072-byte each; a non-empty tuple makes a type-3 tx), gas limit (0: estimate), value."""

    to: bytes | None
    data: bytes = b""
    blobs: tuple[bytes, ...] = ()
    gas_limit: int = 0
    value: int = 0


@dataclass(frozen=True, slots=True)
class PreparedTx:
    """A signed transaction version: the unsigned fields, the signed tx, its canonical encoding
    (hashed) and the bytes sent (network form with the sidecar for a blob tx)."""

    unsigned: UnsignedTx
    signed: SignedTx
    raw: bytes
    wire: bytes
    sidecar: BlobSidecar | None = None

    @property
    def hash(self) -> bytes:
        return self.signed.hash

    @property
    def nonce(self) -> int:
        return self.unsigned.nonce

    @property
    def is_blob(self) -> bool:
        return self.unsigned.tx_type == BLOB_TX_TYPE


@dataclass(frozen=True, slots=True)
class ReorgedTx:
    """A confirmed transaction an L1 reorg touched: ``removed`` (its receipt is gone; it was
    re-published, ``new_receipt`` set once it is confirmed again) or moved to another block."""

    nonce: int
    tx_hash: bytes
    old_receipt: Receipt
    new_receipt: Receipt | None
    removed: bool


@dataclass
class _Watched:
    tx: PreparedTx
    receipt: Receipt
    resend: asyncio.Task[tuple[Receipt, PreparedTx]] | None = None
    history: list[Receipt] = field(default_factory=list)


class TxManager:
    """See the module docstring. ``backend``: the L1; ``signer``: the sending key."""

    def __init__(self, cfg: TxManagerConfig, backend: L1Backend, signer: LocalSigner,
                 chain_id: int, *, name: str = "txmgr", metrics: TxMetrics | None = None,
                 blob_fee_schedule: BlobFeeSchedule | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        cfg.check()
        self.cfg = cfg
        self.backend = backend
        self.signer = signer
        self.chain_id = chain_id
        self.name = name
        self.metrics = metrics or TxMetrics()
        self.blob_fee_schedule = blob_fee_schedule or default_blob_fee_schedule(chain_id)
        self.clock = clock
        self.log = logging.getLogger(f"pyop.txmgr.{name}")
        self._nonce: int | None = None
        self._nonce_lock = asyncio.Lock()
        self._closed = False
        self._pending = 0
        self._watched: dict[bytes, _Watched] = {}

    @property
    def from_address(self) -> bytes:
        return self.signer.address

    @property
    def closed(self) -> bool:
        return self._closed

    async def close(self) -> None:
        """Refuse new sends; stop re-sends of reorged txs; close the L1 client."""
        self._closed = True
        for w in self._watched.values():
            if w.resend is not None and not w.resend.done():
                w.resend.cancel()
        await self.backend.close()

    async def _net(self, aw: Awaitable[T]) -> T:
        """One L1 request with ``network_timeout``."""
        try:
            # asyncio.timeout, not wait_for: wait_for (3.11) can swallow a cancellation that
            # arrives as the inner call completes
            async with asyncio.timeout(self.cfg.network_timeout):
                return await aw
        except TimeoutError:
            self.metrics.rpc_errors.inc()
            raise TxManagerError(f"L1 request timed out after {self.cfg.network_timeout}s") from None

    # ------------------------------------------------------------------ fees

    async def _blob_base_fee(self, head: Header) -> int:
        """The L1 blob base fee: ``eth_blobBaseFee``, else computed from the header's
        ``excessBlobGas`` with the L1 blob schedule's update fraction (module
        :mod:`pyop.txmgr.fees`)."""
        fee = await self._net(self.backend.blob_base_fee())
        if fee is not None:
            return fee
        if head.excess_blob_gas is None:
            raise TxManagerError("the L1 serves no blob base fee (pre-Cancun L1?)")
        return blob_base_fee_from_excess(head.excess_blob_gas,
                                         self.blob_fee_schedule.fraction_at(head.timestamp))  # fmt: skip

    async def suggest_gas_price_caps(self) -> GasPriceCaps:
        """Tip, base fee, blob tip and blob base fee for a new tx (Go ``SuggestGasPriceCaps``):
        the minimums raise them; a fee above ``max_tip_cap`` / ``max_base_fee`` is an error."""
        tip = await self._net(self.backend.suggest_gas_tip_cap())
        head = await self._net(self.backend.header("latest"))
        if head is None or head.base_fee is None:
            raise TxManagerError("txmgr does not support pre-london blocks that do not have a base fee")
        blob_base_fee = await self._blob_base_fee(head)
        base_fee = head.base_fee
        self.metrics.tip_cap.set(tip)
        self.metrics.base_fee.set(base_fee)
        self.metrics.blob_base_fee.set(blob_base_fee)
        cfg = self.cfg
        tip = max(tip, cfg.min_tip_cap)
        if cfg.max_tip_cap is not None and tip > cfg.max_tip_cap:
            raise FeeLimitError(f"tip is too high: {tip}, cap: {cfg.max_tip_cap}")
        base_fee = max(base_fee, cfg.min_base_fee)
        if cfg.max_base_fee is not None and base_fee > cfg.max_base_fee:
            raise FeeLimitError(f"baseFee is too high: {base_fee}, cap: {cfg.max_base_fee}")
        return GasPriceCaps(tip, base_fee, tip, blob_base_fee)

    # ------------------------------------------------------------------ crafting

    def _use_cell_proofs(self) -> bool:
        """Go: cell proofs once ``CellProofTime`` is 12 s in the past (legacy blob proofs may
        still be accepted just after the L1 fork)."""
        return self.cfg.cell_proof_time < int(time.time()) - 12

    async def _gas_limit(self, c: TxCandidate, tip: int, fee_cap: int, blob_hashes: tuple[bytes, ...],
                         blob_base_fee: int) -> int:  # fmt: skip
        """Go ``estimateOrValidateCandidateTxGas``: estimate when 0, else check by a call."""
        msg = CallMsg(sender=self.from_address, to=c.to, data=c.data, value=c.value,
                      max_priority_fee_per_gas=tip, max_fee_per_gas=fee_cap,
                      max_fee_per_blob_gas=blob_base_fee if blob_hashes else None,
                      blob_versioned_hashes=blob_hashes)  # fmt: skip
        if c.gas_limit == 0:
            try:
                return await self._net(self.backend.estimate_gas(msg))
            except SendTxError as e:
                raise TxManagerError(f"failed to estimate gas: {e.message}") from None
        try:
            await self._net(self.backend.call(dataclasses.replace(msg, gas=c.gas_limit)))
        except SendTxError as e:
            raise TxManagerError(f"failed to call: {e.message}") from None
        return c.gas_limit

    async def _craft(self, c: TxCandidate) -> PreparedTx:
        caps = await self.suggest_gas_price_caps()
        is_blob = bool(c.blobs)
        tip = caps.blob_tip_cap if is_blob else caps.tip_cap
        fee_cap = calc_gas_fee_cap(caps.base_fee, tip)
        sidecar: BlobSidecar | None = None
        hashes: tuple[bytes, ...] = ()
        if is_blob:
            if c.to is None:
                raise TxManagerError("blob txs cannot deploy contracts")
            sidecar = await asyncio.to_thread(make_sidecar, c.blobs, cell_proofs=self._use_cell_proofs())
            hashes = sidecar.versioned_hashes()
        gas = await self._gas_limit(c, tip, fee_cap, hashes, caps.blob_base_fee)
        async with self._nonce_lock:
            if self._nonce is None:
                self._nonce = await self._net(self.backend.nonce_at(self.from_address, "latest"))
            else:
                self._nonce += 1
            unsigned = UnsignedTx(
                tx_type=BLOB_TX_TYPE if is_blob else DYNAMIC_FEE_TX_TYPE, chain_id=self.chain_id,
                nonce=self._nonce, gas=gas, to=c.to, value=c.value, data=c.data,
                max_priority_fee_per_gas=tip, max_fee_per_gas=fee_cap,
                max_fee_per_blob_gas=calc_blob_fee_cap(caps.blob_base_fee, self.cfg.min_blob_tx_fee)
                if is_blob else None,
                blob_versioned_hashes=hashes,
            )  # fmt: skip
            try:
                prepared = self._sign(unsigned, sidecar)
            except Exception:
                self._nonce -= 1  # retry signing with the same nonce next time
                raise
            self.metrics.nonce.set(self._nonce)
        return prepared

    def _sign(self, unsigned: UnsignedTx, sidecar: BlobSidecar | None) -> PreparedTx:
        signed, raw = self.signer.sign(unsigned)
        wire = network_encoding(raw, sidecar) if sidecar is not None else raw
        return PreparedTx(unsigned, signed, raw, wire, sidecar)

    async def prepare(self, c: TxCandidate) -> PreparedTx:
        """Craft and sign ``c`` with the next nonce (Go ``prepare``: up to 30 attempts, 2 s
        apart). Calls are ordered: the nonces follow the order of the calls."""
        last: Exception | None = None
        for attempt in range(CRAFT_ATTEMPTS):
            if self._closed:
                raise TxManagerClosedError("transaction manager is closed")
            try:
                return await self._craft(c)
            except (TxManagerError, SendTxError, OSError) as e:
                last = e
                self.log.warning("Failed to create a transaction, will retry",
                                 extra=kv(err=str(e), attempt=attempt + 1))  # fmt: skip
                if isinstance(e, FeeLimitError) and attempt >= 2:
                    break
                await asyncio.sleep(CRAFT_RETRY_DELAY)
            except Exception as e:  # RPC transport errors from pyop.sources
                last = e
                self.log.warning("Failed to create a transaction, will retry",
                                 extra=kv(err=f"{type(e).__name__}: {e}", attempt=attempt + 1))  # fmt: skip
                await asyncio.sleep(CRAFT_RETRY_DELAY)
        raise TxManagerError(f"failed to create the tx: {last}")

    def reset_nonce(self) -> None:
        """Forget the local nonce; the next tx reads it from the L1 (Go ``resetNonce``)."""
        self._nonce = None

    # ------------------------------------------------------------------ sending

    async def send(self, c: TxCandidate) -> Receipt:
        """Craft, publish, bump and wait for ``c`` (module docstring). Raises a
        :class:`~pyop.txmgr.errors.TxManagerError` when it gives up."""
        if self._closed:
            raise TxManagerClosedError("transaction manager is closed")
        try:
            tx = await self.prepare(c)
        except BaseException:
            self.reset_nonce()
            raise
        return await self.send_prepared(tx)

    async def send_prepared(self, tx: PreparedTx) -> Receipt:
        """The publish/bump/wait loop for an already signed tx (Go ``sendTx``); resets the nonce
        when it fails."""
        self._pending += 1
        self.metrics.pending.set(self._pending)
        try:
            receipt, mined = await self._send_loop(tx)
        except BaseException:
            self.reset_nonce()
            raise
        finally:
            self._pending -= 1
            self.metrics.pending.set(self._pending)
        self._watched[mined.hash] = _Watched(mined, receipt)
        return receipt

    async def _send_loop(self, tx: PreparedTx) -> tuple[Receipt, PreparedTx]:
        """Publish/bump/wait; returns the receipt and the version of ``tx`` it is for."""
        cfg = self.cfg
        start = self.clock()
        deadline = start + cfg.tx_send_timeout if cfg.tx_send_timeout > 0 else None
        state = SendState(cfg.safe_abort_nonce_too_low_count, cfg.tx_not_in_mempool_timeout, self.clock)
        published: dict[bytes, PreparedTx] = {}
        bump_at = start + cfg.resubmission_timeout
        publish_now = True
        retry_count = 0
        retry_at: float | None = None
        rebroadcast_at: float | None = None
        next_query: float | None = None
        while True:
            now = self.clock()
            if publish_now and not state.is_waiting_for_confirmation():
                publish_now = False
                if self._closed:
                    self.log.warning("TxManager closed, aborting transaction submission",
                                     extra=kv(tx=to_hex(tx.hash), nonce=tx.nonce))  # fmt: skip
                    raise TxManagerClosedError("transaction manager is closed")
                tx, ok, err = await self._publish(tx, state)
                now = self.clock()
                if ok:
                    retry_count = 0
                    published[tx.hash] = tx
                    if next_query is None:
                        next_query = now + cfg.receipt_query_interval
                    rebroadcast_at = now + cfg.rebroadcast_interval if cfg.rebroadcast_interval > 0 else None
                elif err is not None:
                    if retry_count >= cfg.max_retries:
                        self.log.warning("Aborting transaction submission retry",
                                         extra=kv(tx=to_hex(tx.hash), err=err, retries=retry_count))  # fmt: skip
                        raise TxManagerError(f"publishing the tx failed: {err}")
                    retry_count += 1
                    retry_at = now + max(cfg.retry_interval, 0.001)
            crit = state.critical_error()
            if crit is not None:
                self.log.warning("Aborting transaction submission",
                                 extra=kv(tx=to_hex(tx.hash), nonce=tx.nonce, err=str(crit)))  # fmt: skip
                raise crit
            if next_query is not None and now >= next_query:
                for h in reversed(list(published)):
                    receipt = await self._query_receipt(h, state)
                    if receipt is not None:
                        self.metrics.tx_confirmed(receipt, state.bump_count, self.clock() - start)
                        return receipt, published[h]
                now = self.clock()
                next_query = now + cfg.receipt_query_interval
            if now >= bump_at:
                state.bump_fees = True
                publish_now = True
                while bump_at <= now:
                    bump_at += cfg.resubmission_timeout
            if rebroadcast_at is not None and now >= rebroadcast_at:
                publish_now, rebroadcast_at = True, None
            if retry_at is not None and now >= retry_at:
                publish_now, retry_at = True, None
            if deadline is not None and now >= deadline:
                raise SendCancelledError(f"tx {to_hex(tx.hash)} not confirmed within "
                                         f"{cfg.tx_send_timeout}s (--txmgr.send-timeout)")  # fmt: skip
            if publish_now and not state.is_waiting_for_confirmation():
                continue
            wake = [t for t in (next_query, bump_at, rebroadcast_at, retry_at, deadline) if t is not None]
            await asyncio.sleep(max(0.0, min(wake) - self.clock()) if wake else 0.1)

    async def _publish(self, tx: PreparedTx, state: SendState) -> tuple[PreparedTx, bool, str | None]:
        """Go ``publishTx``: ``(latest version, published?, error to retry)``."""
        self.log.info("Publishing transaction", extra=kv(**self._tx_fields(tx)))
        while True:
            if state.bump_fees:
                try:
                    new_tx = await self._increase_gas_price(tx)
                except Exception as e:  # must still re-publish: the tx may have left the pool
                    self.log.warning("unable to increase gas, will try to re-publish the tx",
                                     extra=kv(err=str(e), tx=to_hex(tx.hash)))  # fmt: skip
                    self.metrics.tx_published("bump_failed")
                else:
                    if state.is_waiting_for_confirmation():
                        return tx, False, None  # mined meanwhile
                    state.bump_count += 1
                    tx = new_tx
                    state.bump_fees = False
            err: str | None
            try:
                await self._net(self.backend.send_raw_transaction(tx.wire))
                err = None
            except SendTxError as e:
                err = e.message
            except TxManagerError as e:  # timeout
                err = str(e)
            state.process_send_error(err)
            if err is None or any(s in err for s in self.cfg.already_published_custom_errs):
                self.log.info("Transaction successfully published", extra=kv(tx=to_hex(tx.hash)))
                return tx, True, None
            if state.successful_publish_count > 0 and (
                matches(err, ERR_NONCE_TOO_LOW) or matches(err, ERR_ALREADY_KNOWN)
            ):
                return tx, True, None
            fields = {"tx": to_hex(tx.hash), "nonce": tx.nonce, "err": err}
            if matches(err, ERR_ALREADY_RESERVED):
                self.log.warning("txpool contains pending tx of incompatible type", extra=kv(**fields))
                self.metrics.tx_published("pending_tx_of_incompatible_type")
            elif matches(err, ERR_NONCE_TOO_LOW):
                self.log.warning("nonce too low", extra=kv(**fields))
                self.metrics.tx_published("nonce_too_low")
            elif matches(err, ERR_ALREADY_KNOWN):
                self.log.warning("resubmitted already known transaction", extra=kv(**fields))
                self.metrics.tx_published("tx_already_known")
                return tx, True, None
            elif matches(err, ERR_REPLACE_UNDERPRICED) or matches(err, ERR_UNDERPRICED):
                self.log.warning("transaction is underpriced", extra=kv(**fields))
                self.metrics.tx_published("tx_underpriced")
                if not state.bump_fees:
                    state.bump_fees = True
                    continue
            elif matches(err, ERR_NONCE_TOO_HIGH):
                self.log.error("nonce too high", extra=kv(**fields))
                self.metrics.tx_published("nonce_too_high")
                return tx, False, err
            else:
                self.metrics.rpc_errors.inc()
                self.log.error("unable to publish transaction", extra=kv(**fields))
                self.metrics.tx_published("unknown_error")
            return tx, False, None

    async def _increase_gas_price(self, tx: PreparedTx) -> PreparedTx:
        """A replacement of ``tx`` with bumped fees (Go ``increaseGasPrice``)."""
        u = tx.unsigned
        self.log.info("bumping gas price for transaction", extra=kv(**self._tx_fields(tx)))
        caps = await self.suggest_gas_price_caps()
        tip = caps.blob_tip_cap if tx.is_blob else caps.tip_cap
        bumped_tip, bumped_fee = update_fees(u.max_priority_fee_per_gas, u.max_fee_per_gas, tip,
                                             caps.base_fee, tx.is_blob)  # fmt: skip
        check_limits(tip, caps.base_fee, bumped_tip, bumped_fee, self.cfg.fee_limit_multiplier,
                     self.cfg.fee_limit_threshold)  # fmt: skip
        bumped_blob_fee: int | None = None
        if tx.is_blob:
            bumped_blob_fee = max(calc_threshold_value(u.max_fee_per_blob_gas or 0, True),
                                  caps.blob_base_fee)  # fmt: skip
            check_blob_fee_limits(caps.blob_base_fee, bumped_blob_fee, self.cfg.fee_limit_multiplier,
                                  self.cfg.fee_limit_threshold, self.cfg.min_blob_tx_fee)  # fmt: skip
        msg = CallMsg(sender=self.from_address, to=u.to, data=u.data, value=u.value,
                      max_priority_fee_per_gas=bumped_tip, max_fee_per_gas=bumped_fee,
                      max_fee_per_blob_gas=bumped_blob_fee, blob_versioned_hashes=u.blob_versioned_hashes)  # fmt: skip
        try:
            gas = await self._net(self.backend.estimate_gas(msg))
        except SendTxError as e:
            raise TxManagerError(f"failed to re-estimate gas: {e.message}") from None
        gas = max(gas, u.gas)  # never lower a given gas limit
        new = UnsignedTx(u.tx_type, u.chain_id, u.nonce, gas, u.to, u.value, u.data, bumped_tip,
                         bumped_fee, bumped_blob_fee, u.blob_versioned_hashes)  # fmt: skip
        return self._sign(new, tx.sidecar)

    async def _query_receipt(self, tx_hash: bytes, state: SendState) -> Receipt | None:
        """The receipt once it has ``num_confirmations`` (Go ``queryReceipt``)."""
        try:
            receipt = await self._net(self.backend.transaction_receipt(tx_hash))
        except Exception as e:
            self.metrics.rpc_errors.inc()
            self.log.info("Receipt retrieval failed", extra=kv(tx=to_hex(tx_hash), err=str(e)))
            return None
        if receipt is None:
            state.tx_not_mined(tx_hash)
            return None
        state.tx_mined(tx_hash)
        try:
            tip = await self._net(self.backend.header("latest"))
        except Exception as e:
            self.metrics.rpc_errors.inc()
            self.log.error("Unable to fetch tip", extra=kv(err=str(e)))
            return None
        if tip is None:
            return None
        if tip.base_fee is not None:
            self.metrics.base_fee.set(tip.base_fee)
        # confirmed when txHeight + numConfirmations - 1 <= tipHeight
        if receipt.block_number + self.cfg.num_confirmations <= tip.number + 1:
            self.log.info("Transaction confirmed", extra=kv(
                tx=to_hex(tx_hash), block=f"{to_hex(receipt.block_hash)}:{receipt.block_number}",
                effectiveGasPrice=receipt.effective_gas_price))  # fmt: skip
            return receipt
        return None

    def _tx_fields(self, tx: PreparedTx) -> dict[str, object]:
        u = tx.unsigned
        f: dict[str, object] = {"tx": to_hex(tx.hash), "nonce": u.nonce, "gasTipCap": u.max_priority_fee_per_gas,
                                "gasFeeCap": u.max_fee_per_gas, "gasLimit": u.gas}  # fmt: skip
        if tx.is_blob:
            f.update(blobs=len(u.blob_versioned_hashes), blobFeeCap=u.max_fee_per_blob_gas)
        return f

    # ------------------------------------------------------------------ L1 reorgs

    async def check_reorgs(self) -> list[ReorgedTx]:
        """One pass over the confirmed txs still watched (module docstring): re-publish those an
        L1 reorg removed, report moved ones and re-sent ones confirmed again."""
        if not self._watched:
            return []
        head = await self._net(self.backend.header("latest"))
        if head is None:
            return []
        events: list[ReorgedTx] = []
        for h, w in list(self._watched.items()):
            if w.resend is not None:
                if not w.resend.done():
                    continue
                old = w.receipt
                try:
                    w.receipt, w.tx = w.resend.result()
                except (asyncio.CancelledError, Exception) as e:
                    self.log.error("re-sending a reorged-out tx failed",
                                   extra=kv(tx=to_hex(h), nonce=w.tx.nonce, err=str(e)))  # fmt: skip
                    del self._watched[h]
                    continue
                w.resend = None
                events.append(ReorgedTx(w.tx.nonce, h, old, w.receipt, removed=True))
                continue
            if head.number - w.receipt.block_number > self.cfg.reorg_watch_depth:
                del self._watched[h]
                continue
            try:
                r = await self._net(self.backend.transaction_receipt(w.tx.hash))
            except Exception as e:
                self.log.info("Receipt retrieval failed", extra=kv(tx=to_hex(h), err=str(e)))
                continue
            if r is None:
                self.metrics.reorged.inc()
                self.log.warning("confirmed transaction removed by an L1 reorg, re-sending it",
                                 extra=kv(tx=to_hex(h), nonce=w.tx.nonce,
                                          block=w.receipt.block_number))  # fmt: skip
                w.history.append(w.receipt)
                w.resend = asyncio.create_task(self._resend(w.tx))
                events.append(ReorgedTx(w.tx.nonce, h, w.receipt, None, removed=True))
            elif r.block_hash != w.receipt.block_hash:
                self.log.info("confirmed transaction moved to another L1 block by a reorg",
                              extra=kv(tx=to_hex(h), old=w.receipt.block_number, new=r.block_number))  # fmt: skip
                events.append(ReorgedTx(w.tx.nonce, h, w.receipt, r, removed=False))
                w.receipt = r
        return events

    async def _resend(self, tx: PreparedTx) -> tuple[Receipt, PreparedTx]:
        self._pending += 1
        self.metrics.pending.set(self._pending)
        try:
            return await self._send_loop(tx)
        finally:
            self._pending -= 1
            self.metrics.pending.set(self._pending)

    async def watch_reorgs(self, interval: float,
                           on_event: Callable[[ReorgedTx], None] | None = None) -> None:  # fmt: skip
        """Run :meth:`check_reorgs` every ``interval`` seconds until cancelled."""
        while not self._closed:
            try:
                for ev in await self.check_reorgs():
                    if on_event is not None:
                        on_event(ev)
            except Exception as e:
                self.log.warning("L1 reorg check failed", extra=kv(err=str(e)))
            await asyncio.sleep(interval)

    def watched(self) -> int:
        """How many confirmed txs are watched for reorgs (tests, metrics)."""
        return len(self._watched)

    async def wait_resends(self) -> None:
        """Wait for every re-send of a reorged-out tx to finish (tests, shutdown)."""
        tasks = [w.resend for w in self._watched.values() if w.resend is not None]
        for t in tasks:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await t

