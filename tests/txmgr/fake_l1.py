"""An in-memory L1 for the transaction-manager unit tests (implements
:class:`pyop.txmgr.backend.L1Backend`).

It keeps one account's mempool by nonce and mines on :meth:`FakeL1.mine`, applying the rules the
manager must cope with, as geth does: a replacement with the same nonce must raise the tip and
the fee cap by 10% (100% for blob txs, also the blob fee cap) or it is refused with "replacement
transaction underpriced"; a tx whose nonce is already used gets "nonce too low"; a known hash
gets "already known"; a tx is mined only while its fee cap covers the base fee (and its blob fee
cap the blob base fee). :meth:`FakeL1.reorg` drops the newest blocks (their txs do not return
to the pool unless asked, as with ``anvil_reorg``).
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field

from pyop.codec.tx import BLOB_TX_TYPE, SignedTx, decode_signed_tx
from pyop.txmgr.backend import CallMsg, Header, Receipt, SendTxError


@dataclass
class FakeBlock:
    number: int
    hash: bytes
    timestamp: int
    base_fee: int
    txs: list[SignedTx] = field(default_factory=list)


def _bump_ok(old: int, new: int, pct: int) -> bool:
    return new * 100 >= old * (100 + pct)


class FakeL1:
    def __init__(self, *, chain_id: int = 900, base_fee: int = 10**9, tip: int = 10**9,
                 blob_base_fee: int | None = 1) -> None:  # fmt: skip
        self.chain_id_ = chain_id
        self.base_fee = base_fee
        self.tip = tip
        self.blob_base_fee_ = blob_base_fee
        self.excess_blob_gas = 0
        self.blocks: list[FakeBlock] = [FakeBlock(0, self._hash(0, b"genesis"), 1000, base_fee)]
        self.account_nonce = 0
        self.pool: dict[int, tuple[SignedTx, bytes]] = {}
        self.sent: list[SignedTx] = []
        self.receipts: dict[bytes, Receipt] = {}
        self.scripted_errors: list[str] = []
        self.calls: list[CallMsg] = []
        self.closed = False
        self.reorgs = 0

    @staticmethod
    def _hash(n: int, salt: bytes) -> bytes:
        return hashlib.sha256(n.to_bytes(8, "big") + salt).digest()

    # ------------------------------------------------------------------ L1Backend

    async def chain_id(self) -> int:
        return self.chain_id_

    async def header(self, tag: int | str = "latest") -> Header | None:
        b = self.blocks[-1] if tag == "latest" else (
            self.blocks[tag] if isinstance(tag, int) and tag < len(self.blocks) else None)
        if b is None:
            return None
        return Header(b.number, b.hash, b.timestamp, self.base_fee if b is self.blocks[-1] else b.base_fee,
                      self.excess_blob_gas)  # fmt: skip

    async def suggest_gas_tip_cap(self) -> int:
        return self.tip

    async def blob_base_fee(self) -> int | None:
        return self.blob_base_fee_

    async def nonce_at(self, address: bytes, tag: str = "latest") -> int:
        return self.account_nonce

    async def balance(self, address: bytes, tag: str = "latest") -> int:
        return 10**20

    async def estimate_gas(self, msg: CallMsg) -> int:
        self.calls.append(msg)
        return 21_000 + 16 * len(msg.data)

    async def call(self, msg: CallMsg) -> bytes:
        self.calls.append(msg)
        return b""

    async def send_raw_transaction(self, raw: bytes) -> None:
        await asyncio.sleep(0)
        if self.scripted_errors:
            raise SendTxError(self.scripted_errors.pop(0))
        tx = decode_signed_tx(raw)
        if tx.chain_id != self.chain_id_:
            raise SendTxError("invalid chain id")
        if tx.hash in self.receipts or any(p[0].hash == tx.hash for p in self.pool.values()):
            raise SendTxError("already known")
        if tx.nonce < self.account_nonce:
            raise SendTxError("nonce too low")
        old = self.pool.get(tx.nonce)
        if old is not None:
            o = old[0]
            blob = o.tx_type == BLOB_TX_TYPE
            if (o.tx_type == BLOB_TX_TYPE) != (tx.tx_type == BLOB_TX_TYPE):
                raise SendTxError("address already reserved")
            pct = 100 if blob else 10
            ok = (_bump_ok(o.max_priority_fee_per_gas or 0, tx.max_priority_fee_per_gas or 0, pct)
                  and _bump_ok(o.max_fee_per_gas or 0, tx.max_fee_per_gas or 0, pct)
                  and (not blob or _bump_ok(o.max_fee_per_blob_gas or 0, tx.max_fee_per_blob_gas or 0, pct)))  # fmt: skip
            if not ok:
                raise SendTxError("replacement transaction underpriced")
        self.pool[tx.nonce] = (tx, raw)
        self.sent.append(tx)

    async def transaction_receipt(self, tx_hash: bytes) -> Receipt | None:
        return self.receipts.get(tx_hash)

    async def close(self) -> None:
        self.closed = True

    # ------------------------------------------------------------------ test controls

    def head(self) -> int:
        return self.blocks[-1].number

    def mine(self, n: int = 1) -> None:
        """Mine ``n`` blocks, each with the pool's executable txs (consecutive nonces from the
        account nonce whose fee caps cover the base fees)."""
        for _ in range(n):
            num = self.head() + 1
            blk = FakeBlock(num, self._hash(num, bytes([self.reorgs])), 1000 + 2 * num, self.base_fee)
            while self.account_nonce in self.pool:
                tx, _raw = self.pool[self.account_nonce]
                if (tx.max_fee_per_gas or 0) < self.base_fee:
                    break
                if tx.tx_type == BLOB_TX_TYPE and (tx.max_fee_per_blob_gas or 0) < (self.blob_base_fee_ or 1):
                    break
                del self.pool[self.account_nonce]
                blk.txs.append(tx)
                price = min(tx.max_fee_per_gas or 0, self.base_fee + (tx.max_priority_fee_per_gas or 0))
                nblobs = len(tx.blob_versioned_hashes)
                self.receipts[tx.hash] = Receipt(
                    tx_hash=tx.hash, block_hash=blk.hash, block_number=num, status=1,
                    gas_used=21_000, effective_gas_price=price, tx_type=tx.tx_type,
                    blob_gas_used=nblobs * 2**17, blob_gas_price=self.blob_base_fee_ or 1 if nblobs else 0,
                )  # fmt: skip
                self.account_nonce += 1
            self.blocks.append(blk)

    def reorg(self, depth: int, *, return_to_pool: bool = False) -> list[SignedTx]:
        """Replace the newest ``depth`` blocks by as many empty ones; the txs they held are
        dropped (or put back in the pool)."""
        self.reorgs += 1
        dropped: list[SignedTx] = []
        for _ in range(depth):
            b = self.blocks.pop()
            dropped.extend(b.txs)
        for tx in dropped:
            del self.receipts[tx.hash]
        self.account_nonce -= len(dropped)
        if return_to_pool:
            for tx in dropped:
                self.pool[tx.nonce] = (tx, tx.encode())
        for _ in range(depth):
            num = self.head() + 1
            self.blocks.append(FakeBlock(num, self._hash(num, bytes([self.reorgs, 1])), 1000 + 2 * num, self.base_fee))
        return dropped

    def take_nonce_externally(self) -> None:
        """Another sender with the same key uses the next nonce (our pool entry is dropped)."""
        self.pool.pop(self.account_nonce, None)
        self.account_nonce += 1


async def auto_mine(l1: FakeL1, interval: float = 0.01) -> None:
    """Mine a block every ``interval`` seconds until cancelled."""
    while True:
        await asyncio.sleep(interval)
        l1.mine()
