"""Blob load on the L1: blob transactions (not to the batch inbox) that push blob usage above the
target, so ``excessBlobGas`` grows and the L1 blob base fee rises above 1.

EIP-4844 "Gas accounting": ``excess_blob_gas`` grows by ``blob_gas_used - target`` per block
(never below 0) and the blob base fee is ``fake_exponential(1, excess_blob_gas,
BLOB_BASE_FEE_UPDATE_FRACTION)``. With Prague's target of 6 blobs and maximum of 9 (EIP-7691),
8 blobs per L1 block (four transactions of 2) raise the excess by 2 x 131072 per block; the fee reaches 2 after about 14
such blocks and ~190 after 100. The L1-info deposit of every L2 block carries its L1 origin's
blob base fee (ecotone/l1-attributes.md), so a devnet under blob load exercises that field.

Transactions use the EIP-4844 network form ``0x03 ++ rlp([tx_payload_body, blobs, commitments,
proofs])`` (what anvil accepts for every hardfork); a few fixed random blobs are committed once
(ckzg) and reused by every transaction.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field

from coincurve import PrivateKey
from eth_account import Account
from eth_hash.auto import keccak

from pyop.codec.blob import (
    BLOB_SIZE,
    blob_to_kzg_commitment,
    compute_blob_kzg_proof,
    kzg_to_versioned_hash,
)
from pyop.codec.tx import rlp_encode
from pyop.devnet.rpc import RpcClient, RpcError, RpcTransportError
from pyop.primitives import hex_to_int, to_hex

BLOB_TX_TYPE = 0x03
SINK = bytes.fromhex("b10b" * 10)
"""Where the load's blob transactions go (an address nobody uses; not the batch inbox)."""


def random_blob(seed: bytes) -> bytes:
    """A blob of canonical field elements (each 32-byte element's top byte 0)."""
    out = bytearray()
    i = 0
    while len(out) < BLOB_SIZE:
        out += b"\x00" + keccak(seed + i.to_bytes(4, "big"))[:31]
        i += 1
    return bytes(out)


@dataclass
class BlobLoad:
    """Sends ``txs_per_block`` transactions of ``blobs_per_tx`` blobs each per new L1 block,
    from ``key``, in a background thread between :meth:`start` and :meth:`stop`. (One
    transaction of many blobs is ~2 MB of JSON-RPC hex, above anvil's request size limit.)"""

    l1_url: str
    chain_id: int
    key: str
    blobs_per_tx: int = 2
    txs_per_block: int = 4
    max_fee_per_blob_gas: int = 10**12
    sent: int = 0
    errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rpc = RpcClient(self.l1_url, timeout=30.0)
        self.address = Account.from_key(self.key).address
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        blobs = [random_blob(os.urandom(8)) for _ in range(self.blobs_per_tx)]
        commitments = [blob_to_kzg_commitment(b) for b in blobs]
        proofs = [compute_blob_kzg_proof(b, c) for b, c in zip(blobs, commitments, strict=True)]
        self._sidecar = (blobs, commitments, proofs)
        self._hashes = [kzg_to_versioned_hash(c) for c in commitments]

    def raw_tx(self, nonce: int, max_fee: int, tip: int) -> bytes:
        """The signed blob transaction in network form."""
        fields: list[object] = [
            self.chain_id, nonce, tip, max_fee, 21_000, SINK, 0, b"", [],
            self.max_fee_per_blob_gas, self._hashes,
        ]  # fmt: skip
        h = keccak(bytes([BLOB_TX_TYPE]) + rlp_encode(fields))  # type: ignore[arg-type]
        sig = PrivateKey(bytes.fromhex(self.key.removeprefix("0x"))).sign_recoverable(h, hasher=None)
        r, s, v = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:64], "big"), sig[64]
        body = [*fields, v, r, s]
        blobs, commitments, proofs = self._sidecar
        return bytes([BLOB_TX_TYPE]) + rlp_encode([body, blobs, commitments, proofs])  # type: ignore[list-item]

    def send_block(self) -> list[str]:
        """This block's transactions (consecutive nonces)."""
        nonce = hex_to_int(self.rpc.call("eth_getTransactionCount", self.address, "pending"))
        base = hex_to_int(self.rpc.call("eth_getBlockByNumber", "latest", False)["baseFeePerGas"])
        tip = 10**9
        return [str(self.rpc.call("eth_sendRawTransaction", to_hex(self.raw_tx(nonce + i, 2 * base + tip, tip))))
                for i in range(self.txs_per_block)]  # fmt: skip

    def _run(self) -> None:
        last = -1
        while not self._stop.is_set():
            try:
                head = hex_to_int(self.rpc.call("eth_blockNumber"))
                pending = hex_to_int(self.rpc.call("eth_getTransactionCount", self.address, "pending"))
                mined = hex_to_int(self.rpc.call("eth_getTransactionCount", self.address, "latest"))
                if head != last and pending == mined:
                    self.sent += len(self.send_block())
                    last = head
            except (RpcError, RpcTransportError) as e:
                self.errors.append(str(e))
            self._stop.wait(0.3)

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="blob-load", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None


def wait_excess_blob_gas(rpc: RpcClient, minimum: int, timeout: float = 600.0) -> int:
    """Until the L1 head's ``excessBlobGas`` is at least ``minimum``; returns it."""
    deadline = time.monotonic() + timeout
    while True:
        x = hex_to_int(rpc.call("eth_getBlockByNumber", "latest", False).get("excessBlobGas", "0x0"))
        if x >= minimum:
            return x
        if time.monotonic() > deadline:
            raise TimeoutError(f"excessBlobGas {x} < {minimum} after {timeout:.0f}s")
        time.sleep(1.0)
