"""L1 execution-layer receipt and log types, as derivation reads them.

Only the fields derivation needs: the deposit contract's ``TransactionDeposited`` logs
(specs/protocol/deposits.md#deposit-contract) and the SystemConfig's ``ConfigUpdate`` logs
(specs/protocol/system-config.md#system-config-updates) are found in the receipts of an L1 block;
a receipt only counts when its ``status`` is 1 (success).

``from_json`` accepts the JSON-RPC shapes of ``eth_getTransactionReceipt`` /
``eth_getBlockReceipts`` (0x-hex quantities and data).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pyop.primitives import ZERO_HASH, Address, Hash32, PyopError, from_hex, hex_to_int

RECEIPT_STATUS_SUCCESSFUL = 1
RECEIPT_STATUS_FAILED = 0


class L1JSONError(PyopError, ValueError):
    """A JSON-RPC receipt or log object that does not have the expected shape."""


@dataclass(frozen=True, slots=True)
class Log:
    """An EVM log. ``log_index`` is the index of the log in its block (JSON ``logIndex``)."""

    address: Address
    topics: tuple[Hash32, ...]
    data: bytes
    block_hash: Hash32 = ZERO_HASH
    log_index: int = 0
    block_number: int = 0
    tx_hash: Hash32 = ZERO_HASH
    tx_index: int = 0
    removed: bool = False

    @classmethod
    def from_json(cls, obj: Mapping[str, object]) -> Log:
        """Parse a JSON-RPC log object (raises :class:`L1JSONError` / ``HexError`` if malformed)."""
        topics_raw = obj.get("topics", [])
        if not isinstance(topics_raw, Sequence) or isinstance(topics_raw, str):
            raise L1JSONError("log: topics must be a list")
        return cls(
            address=from_hex(_str(obj, "address"), length=20, what="log.address"),
            topics=tuple(
                from_hex(str(t), length=32, what="log.topics[]") for t in topics_raw
            ),
            data=from_hex(_str(obj, "data", "0x"), what="log.data"),
            block_hash=from_hex(_str(obj, "blockHash", "0x" + "00" * 32), length=32),
            log_index=hex_to_int(_str(obj, "logIndex", "0x0"), what="log.logIndex"),
            block_number=hex_to_int(_str(obj, "blockNumber", "0x0"), what="log.blockNumber"),
            tx_hash=from_hex(_str(obj, "transactionHash", "0x" + "00" * 32), length=32),
            tx_index=hex_to_int(_str(obj, "transactionIndex", "0x0"), what="log.txIndex"),
            removed=bool(obj.get("removed", False)),
        )


@dataclass(frozen=True, slots=True)
class Receipt:
    """An L1 transaction receipt: its ``status`` (1 = success) and its logs."""

    status: int
    logs: tuple[Log, ...] = field(default_factory=tuple)
    tx_hash: Hash32 = ZERO_HASH
    tx_type: int = 0

    @property
    def successful(self) -> bool:
        return self.status == RECEIPT_STATUS_SUCCESSFUL

    @classmethod
    def from_json(cls, obj: Mapping[str, object]) -> Receipt:
        """Parse a JSON-RPC receipt object."""
        logs_raw = obj.get("logs", [])
        if not isinstance(logs_raw, Sequence) or isinstance(logs_raw, str):
            raise L1JSONError("receipt: logs must be a list")
        logs: list[Log] = []
        for entry in logs_raw:
            if not isinstance(entry, Mapping):
                raise L1JSONError("receipt: each log must be an object")
            logs.append(Log.from_json(entry))
        return cls(
            status=hex_to_int(_str(obj, "status", "0x0"), what="receipt.status"),
            logs=tuple(logs),
            tx_hash=from_hex(_str(obj, "transactionHash", "0x" + "00" * 32), length=32),
            tx_type=hex_to_int(_str(obj, "type", "0x0"), what="receipt.type"),
        )


def _str(obj: Mapping[str, object], key: str, default: str | None = None) -> str:
    v = obj.get(key, default)
    if v is None:
        raise L1JSONError(f"missing field {key!r}")
    if isinstance(v, int) and not isinstance(v, bool):
        return hex(v)
    if not isinstance(v, str):
        raise L1JSONError(f"field {key!r} must be a string")
    return v
