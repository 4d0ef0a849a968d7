"""The L1 the transaction manager talks to (Go ``txmgr.ETHBackend``): a small async interface,
:class:`L1Backend`, and its JSON-RPC implementation, :class:`RPCL1Backend`.

Tests use an in-memory fake with the same methods (tests/txmgr/fake_l1.py); everything the
manager decides comes from these calls:

- fees: ``eth_maxPriorityFeePerGas`` (Go ``SuggestGasTipCap``), the latest header's
  ``baseFeePerGas`` and ``excessBlobGas``, ``eth_blobBaseFee``;
- nonces: ``eth_getTransactionCount(addr, "latest")`` (Go ``NonceAt(nil)``);
- gas: ``eth_estimateGas`` / ``eth_call`` (a given gas limit is checked by a call);
- sending: ``eth_sendRawTransaction`` (errors keep the node's message: the manager classifies
  them by substring, as Go's ``errStringMatch``);
- receipts: ``eth_getTransactionReceipt`` (``None`` while not mined), and block hashes by number
  to tell whether a receipt's block is still canonical.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from pyop.primitives import PyopError, from_hex, hex_to_int, to_hex
from pyop.sources.rpc import AsyncRPCClient, JSONRPCError, RPCError

__all__ = ["CallMsg", "Header", "L1Backend", "RPCL1Backend", "Receipt", "SendTxError"]


class SendTxError(PyopError):
    """``eth_sendRawTransaction`` answered an error; ``message`` is the node's own text."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True, slots=True)
class Header:
    """The header fields the manager uses."""

    number: int
    hash: bytes
    timestamp: int
    base_fee: int | None
    excess_blob_gas: int | None = None


@dataclass(frozen=True, slots=True)
class Receipt:
    """A transaction receipt (the fields callers need; JSON names in comments)."""

    tx_hash: bytes  # transactionHash
    block_hash: bytes  # blockHash
    block_number: int  # blockNumber
    status: int  # status (1 success)
    gas_used: int  # gasUsed
    effective_gas_price: int  # effectiveGasPrice
    tx_type: int = 2  # type
    blob_gas_used: int = 0  # blobGasUsed
    blob_gas_price: int = 0  # blobGasPrice

    @property
    def fee_wei(self) -> int:
        """What the tx cost: execution gas plus blob gas."""
        return self.gas_used * self.effective_gas_price + self.blob_gas_used * self.blob_gas_price


@dataclass(frozen=True, slots=True)
class CallMsg:
    """An ``eth_call`` / ``eth_estimateGas`` request (go-ethereum ``ethereum.CallMsg``)."""

    sender: bytes
    to: bytes | None
    data: bytes
    value: int = 0
    gas: int | None = None
    max_priority_fee_per_gas: int | None = None
    max_fee_per_gas: int | None = None
    max_fee_per_blob_gas: int | None = None
    blob_versioned_hashes: tuple[bytes, ...] = ()

    def to_json(self) -> dict[str, object]:
        obj: dict[str, object] = {"from": to_hex(self.sender), "input": to_hex(self.data),
                                  "value": hex(self.value)}  # fmt: skip
        if self.to is not None:
            obj["to"] = to_hex(self.to)
        if self.gas is not None:
            obj["gas"] = hex(self.gas)
        if self.max_priority_fee_per_gas is not None:
            obj["maxPriorityFeePerGas"] = hex(self.max_priority_fee_per_gas)
        if self.max_fee_per_gas is not None:
            obj["maxFeePerGas"] = hex(self.max_fee_per_gas)
        if self.blob_versioned_hashes:
            obj["blobVersionedHashes"] = [to_hex(h) for h in self.blob_versioned_hashes]
            if self.max_fee_per_blob_gas is not None:
                obj["maxFeePerBlobGas"] = hex(self.max_fee_per_blob_gas)
        return obj


class L1Backend(Protocol):
    """What the manager needs from the L1 (all async)."""

    async def chain_id(self) -> int: ...

    async def header(self, tag: int | str = "latest") -> Header | None: ...

    async def suggest_gas_tip_cap(self) -> int: ...

    async def blob_base_fee(self) -> int | None: ...

    async def nonce_at(self, address: bytes, tag: str = "latest") -> int: ...

    async def balance(self, address: bytes, tag: str = "latest") -> int: ...

    async def estimate_gas(self, msg: CallMsg) -> int: ...

    async def call(self, msg: CallMsg) -> bytes: ...

    async def send_raw_transaction(self, raw: bytes) -> None: ...

    async def transaction_receipt(self, tx_hash: bytes) -> Receipt | None: ...

    async def close(self) -> None: ...


def header_from_json(obj: Any) -> Header:
    base = obj.get("baseFeePerGas")
    excess = obj.get("excessBlobGas")
    return Header(
        number=hex_to_int(obj["number"]),
        hash=from_hex(obj["hash"], length=32),
        timestamp=hex_to_int(obj["timestamp"]),
        base_fee=None if base is None else hex_to_int(base),
        excess_blob_gas=None if excess is None else hex_to_int(excess),
    )


def receipt_from_json(obj: Any) -> Receipt:
    def q(key: str, default: int = 0) -> int:
        v = obj.get(key)
        return default if v is None else hex_to_int(v)

    return Receipt(
        tx_hash=from_hex(obj["transactionHash"], length=32),
        block_hash=from_hex(obj["blockHash"], length=32),
        block_number=hex_to_int(obj["blockNumber"]),
        status=q("status", 1),
        gas_used=q("gasUsed"),
        effective_gas_price=q("effectiveGasPrice"),
        tx_type=q("type", 2),
        blob_gas_used=q("blobGasUsed"),
        blob_gas_price=q("blobGasPrice"),
    )


class RPCL1Backend:
    """:class:`L1Backend` over an L1 JSON-RPC endpoint."""

    def __init__(self, rpc: AsyncRPCClient) -> None:
        self.rpc = rpc

    @classmethod
    def connect(cls, url: str, *, timeout: float = 10.0) -> RPCL1Backend:
        return cls(AsyncRPCClient(url, timeout=timeout))

    async def close(self) -> None:
        await self.rpc.close()

    async def chain_id(self) -> int:
        return hex_to_int(await self.rpc.call("eth_chainId"))

    async def header(self, tag: int | str = "latest") -> Header | None:
        param = hex(tag) if isinstance(tag, int) else tag
        obj = await self.rpc.call("eth_getBlockByNumber", [param, False])
        return None if obj is None else header_from_json(obj)

    async def suggest_gas_tip_cap(self) -> int:
        return hex_to_int(await self.rpc.call("eth_maxPriorityFeePerGas"))

    async def blob_base_fee(self) -> int | None:
        """``eth_blobBaseFee``, or ``None`` when the L1 does not serve it."""
        try:
            return hex_to_int(await self.rpc.call("eth_blobBaseFee"))
        except JSONRPCError as e:
            if e.is_method_not_found:
                return None
            raise

    async def nonce_at(self, address: bytes, tag: str = "latest") -> int:
        return hex_to_int(await self.rpc.call("eth_getTransactionCount", [to_hex(address), tag]))

    async def balance(self, address: bytes, tag: str = "latest") -> int:
        return hex_to_int(await self.rpc.call("eth_getBalance", [to_hex(address), tag]))

    async def estimate_gas(self, msg: CallMsg) -> int:
        return hex_to_int(await self.rpc.call("eth_estimateGas", [msg.to_json()]))

    async def call(self, msg: CallMsg) -> bytes:
        return from_hex(await self.rpc.call("eth_call", [msg.to_json(), "latest"]))

    async def send_raw_transaction(self, raw: bytes) -> None:
        try:
            await self.rpc.call("eth_sendRawTransaction", [to_hex(raw)])
        except JSONRPCError as e:
            raise SendTxError(e.message, e.code) from None
        except RPCError as e:
            raise SendTxError(str(e)) from None

    async def transaction_receipt(self, tx_hash: bytes) -> Receipt | None:
        obj = await self.rpc.call("eth_getTransactionReceipt", [to_hex(tx_hash)])
        if obj is None or obj.get("blockHash") is None:
            return None
        return receipt_from_json(obj)
