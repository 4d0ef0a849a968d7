"""Floor-0 primitives shared by every package: block references, the SystemConfig, errors,
and hex helpers.

Hashes and addresses are ``bytes`` (32 and 20 long); JSON forms are 0x-prefixed lowercase hex.
"""

from __future__ import annotations

from dataclasses import dataclass

Hash32 = bytes
Address = bytes

ZERO_HASH: Hash32 = b"\x00" * 32
ZERO_ADDRESS: Address = b"\x00" * 20


class PyopError(Exception):
    """Base class of every error pyop raises on purpose."""


class HexError(PyopError, ValueError):
    """A string that should be hex is not."""


def to_hex(b: bytes) -> str:
    """``bytes`` -> ``"0x..."`` (lowercase)."""
    return "0x" + b.hex()


def from_hex(s: str, *, length: int | None = None, what: str = "value") -> bytes:
    """``"0x..."`` (or bare hex) -> ``bytes``, checking the length when given."""
    t = s.strip()
    if t[:2] in ("0x", "0X"):
        t = t[2:]
    if len(t) % 2:
        raise HexError(f"{what}: odd number of hex digits ({len(t)})")
    try:
        b = bytes.fromhex(t)
    except ValueError as e:
        raise HexError(f"{what}: not hex: {e}") from None
    if length is not None and len(b) != length:
        raise HexError(f"{what}: expected {length} bytes, got {len(b)}")
    return b


def hex_to_int(s: str | int, *, what: str = "value") -> int:
    """A JSON quantity: an int, a decimal string, or a 0x-hex string."""
    if isinstance(s, bool):
        raise HexError(f"{what}: expected a number, got a boolean")
    if isinstance(s, int):
        return s
    t = s.strip()
    try:
        if t[:2] in ("0x", "0X"):
            return int(t[2:] or "0", 16)
        return int(t, 10)
    except ValueError:
        raise HexError(f"{what}: not a number: {s!r}") from None


@dataclass(frozen=True, slots=True)
class BlockID:
    """A block hash and number (op-node ``eth.BlockID``; JSON ``{"hash", "number"}``)."""

    hash: Hash32
    number: int

    def to_json(self) -> dict[str, object]:
        return {"hash": to_hex(self.hash), "number": self.number}


@dataclass(frozen=True, slots=True)
class L1BlockRef:
    """op-node ``eth.L1BlockRef``: JSON ``{"hash", "number", "parentHash", "timestamp"}``."""

    hash: Hash32
    number: int
    parent_hash: Hash32
    timestamp: int

    def id(self) -> BlockID:
        return BlockID(self.hash, self.number)

    def to_json(self) -> dict[str, object]:
        return {
            "hash": to_hex(self.hash),
            "number": self.number,
            "parentHash": to_hex(self.parent_hash),
            "timestamp": self.timestamp,
        }


@dataclass(frozen=True, slots=True)
class L2BlockRef:
    """op-node ``eth.L2BlockRef``: an L2 block with its L1 origin and sequence number."""

    hash: Hash32
    number: int
    parent_hash: Hash32
    timestamp: int
    l1_origin: BlockID
    sequence_number: int

    def id(self) -> BlockID:
        return BlockID(self.hash, self.number)

    def to_json(self) -> dict[str, object]:
        return {
            "hash": to_hex(self.hash),
            "number": self.number,
            "parentHash": to_hex(self.parent_hash),
            "timestamp": self.timestamp,
            "l1origin": self.l1_origin.to_json(),
            "sequenceNumber": self.sequence_number,
        }


@dataclass(frozen=True, slots=True)
class SystemConfig:
    """The L2-relevant part of the L1 SystemConfig contract (op-node ``eth.SystemConfig``).

    Spec: specs/protocol/system-config.md. JSON names (rollup.json ``genesis.system_config``):
    ``batcherAddr``, ``overhead``, ``scalar``, ``gasLimit``, ``eip1559Params`` [Holocene],
    ``operatorFeeParams`` [Isthmus], ``minBaseFee`` and ``daFootprintGasScalar`` [Jovian].
    """

    batcher_addr: Address
    overhead: Hash32
    scalar: Hash32
    gas_limit: int
    eip1559_params: bytes = b"\x00" * 8
    operator_fee_params: Hash32 = ZERO_HASH
    min_base_fee: int = 0
    da_footprint_gas_scalar: int = 0


def _opt_hex(b: bytes | None) -> str | None:
    return None if b is None else to_hex(b)


def _qty(n: int) -> str:
    return hex(n)


@dataclass(frozen=True, slots=True)
class Withdrawal:
    """An EIP-4895 withdrawal (always empty on OP chains from Canyon; specs/protocol/exec-engine.md)."""

    index: int
    validator_index: int
    address: Address
    amount: int

    def to_json(self) -> dict[str, object]:
        return {
            "index": _qty(self.index),
            "validatorIndex": _qty(self.validator_index),
            "address": to_hex(self.address),
            "amount": _qty(self.amount),
        }


@dataclass(frozen=True, slots=True)
class L1Header:
    """The fields of an L1 block header that derivation reads (op-node ``eth.BlockInfo``).

    ``excess_blob_gas`` is ``None`` before Cancun on L1; ``parent_beacon_root`` ``None`` before
    Cancun; ``requests_hash`` ``None`` before Prague.
    """

    hash: Hash32
    number: int
    parent_hash: Hash32
    timestamp: int
    base_fee: int
    mix_digest: Hash32
    gas_limit: int = 30_000_000
    excess_blob_gas: int | None = None
    blob_gas_used: int | None = None
    parent_beacon_root: Hash32 | None = None
    requests_hash: Hash32 | None = None
    receipts_root: Hash32 = ZERO_HASH

    def ref(self) -> L1BlockRef:
        return L1BlockRef(self.hash, self.number, self.parent_hash, self.timestamp)

    def id(self) -> BlockID:
        return BlockID(self.hash, self.number)


@dataclass(frozen=True, slots=True)
class PayloadAttributes:
    """Engine API payload attributes with the OP extensions (specs/protocol/exec-engine.md
    #extended-payloadattributesv1..v3; Holocene ``eip1559Params``; Jovian ``minBaseFee``).

    ``withdrawals`` is ``None`` before Canyon and ``()`` from Canyon; ``parent_beacon_block_root``
    is ``None`` before Ecotone; ``eip1559_params`` is ``None`` before Holocene (8 bytes after);
    ``min_base_fee`` is ``None`` before Jovian.
    """

    timestamp: int
    prev_randao: Hash32
    suggested_fee_recipient: Address
    transactions: tuple[bytes, ...]
    no_tx_pool: bool
    gas_limit: int
    withdrawals: tuple[Withdrawal, ...] | None = None
    parent_beacon_block_root: Hash32 | None = None
    eip1559_params: bytes | None = None
    min_base_fee: int | None = None

    def to_json(self) -> dict[str, object]:
        """The Engine API JSON object (camelCase, 0x quantities), as op-node sends it."""
        out: dict[str, object] = {
            "timestamp": _qty(self.timestamp),
            "prevRandao": to_hex(self.prev_randao),
            "suggestedFeeRecipient": to_hex(self.suggested_fee_recipient),
        }
        if self.withdrawals is not None:
            out["withdrawals"] = [w.to_json() for w in self.withdrawals]
        if self.parent_beacon_block_root is not None:
            out["parentBeaconBlockRoot"] = to_hex(self.parent_beacon_block_root)
        out["transactions"] = [to_hex(t) for t in self.transactions]
        out["noTxPool"] = self.no_tx_pool
        out["gasLimit"] = _qty(self.gas_limit)
        if self.eip1559_params is not None:
            out["eip1559Params"] = to_hex(self.eip1559_params)
        if self.min_base_fee is not None:
            # A JSON number, not a hex QUANTITY: op-node (``*uint64`` in op-service/eth/types.go)
            # and op-geth carry it so; op-geth refuses "0x0" ("cannot unmarshal string into Go
            # struct field PayloadAttributes.minBaseFee of type uint64").
            out["minBaseFee"] = self.min_base_fee
        return out


@dataclass(frozen=True, slots=True)
class ExecutionPayload:
    """An L2 block as the Engine API carries it (``ExecutionPayloadV1..V3`` + OP's
    ``withdrawalsRoot`` from Isthmus). ``parent_beacon_block_root`` travels beside it in the
    envelope; it is kept here for convenience."""

    parent_hash: Hash32
    fee_recipient: Address
    state_root: Hash32
    receipts_root: Hash32
    logs_bloom: bytes
    prev_randao: Hash32
    block_number: int
    gas_limit: int
    gas_used: int
    timestamp: int
    extra_data: bytes
    base_fee_per_gas: int
    block_hash: Hash32
    transactions: tuple[bytes, ...]
    withdrawals: tuple[Withdrawal, ...] | None = None
    blob_gas_used: int | None = None
    excess_blob_gas: int | None = None
    withdrawals_root: Hash32 | None = None
    parent_beacon_block_root: Hash32 | None = None

    def id(self) -> BlockID:
        return BlockID(self.block_hash, self.block_number)

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "parentHash": to_hex(self.parent_hash),
            "feeRecipient": to_hex(self.fee_recipient),
            "stateRoot": to_hex(self.state_root),
            "receiptsRoot": to_hex(self.receipts_root),
            "logsBloom": to_hex(self.logs_bloom),
            "prevRandao": to_hex(self.prev_randao),
            "blockNumber": _qty(self.block_number),
            "gasLimit": _qty(self.gas_limit),
            "gasUsed": _qty(self.gas_used),
            "timestamp": _qty(self.timestamp),
            "extraData": to_hex(self.extra_data),
            "baseFeePerGas": _qty(self.base_fee_per_gas),
            "blockHash": to_hex(self.block_hash),
            "transactions": [to_hex(t) for t in self.transactions],
        }
        if self.withdrawals is not None:
            out["withdrawals"] = [w.to_json() for w in self.withdrawals]
        if self.blob_gas_used is not None:
            out["blobGasUsed"] = _qty(self.blob_gas_used)
        if self.excess_blob_gas is not None:
            out["excessBlobGas"] = _qty(self.excess_blob_gas)
        if self.withdrawals_root is not None:
            out["withdrawalsRoot"] = to_hex(self.withdrawals_root)
        return out
