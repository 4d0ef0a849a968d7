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
