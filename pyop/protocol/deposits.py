"""Deposited transactions (EIP-2718 type ``0x7E``) and their source hashes.

Spec: specs/protocol/deposits.md, sections "The Deposited Transaction Type" and
"Source hash computation".
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import rlp
from eth_hash.auto import keccak

from pyop.codec.errors import TxError
from pyop.codec.tx import RlpInput, rlp_encode
from pyop.primitives import Address, Hash32

DEPOSIT_TX_TYPE = 0x7E
"""specs/protocol/deposits.md#the-deposited-transaction-type: the EIP-2718 type byte."""


class SourceHashDomain(IntEnum):
    """The domain separator of a deposit's source hash (deposits.md#source-hash-computation)."""

    USER_DEPOSIT = 0
    L1_INFO_DEPOSIT = 1
    UPGRADE_DEPOSIT = 2
    AFTER_FORCE_INCLUDE = 3  # [New in Interop] deposits-complete / after-force-include txs


def _source_hash(domain: SourceHashDomain, inner: bytes) -> Hash32:
    return keccak(domain.to_bytes(32, "big") + keccak(inner))


def user_deposit_source_hash(l1_block_hash: Hash32, log_index: int) -> Hash32:
    """``keccak256(bytes32(0) ++ keccak256(l1BlockHash ++ bytes32(l1LogIndex)))``.

    deposits.md#source-hash-computation, "User-deposited".
    """
    return _source_hash(SourceHashDomain.USER_DEPOSIT, l1_block_hash + log_index.to_bytes(32, "big"))


def l1_info_deposit_source_hash(l1_block_hash: Hash32, sequence_number: int) -> Hash32:
    """``keccak256(bytes32(1) ++ keccak256(l1BlockHash ++ bytes32(seqNumber)))``.

    deposits.md#source-hash-computation, "L1 attributes deposited".
    """
    return _source_hash(
        SourceHashDomain.L1_INFO_DEPOSIT, l1_block_hash + sequence_number.to_bytes(32, "big")
    )


def upgrade_deposit_source_hash(intent: str) -> Hash32:
    """``keccak256(bytes32(2) ++ keccak256(intent))``.

    deposits.md#source-hash-computation, "Upgrade-deposited".
    """
    return _source_hash(SourceHashDomain.UPGRADE_DEPOSIT, intent.encode("utf-8"))


def after_force_include_source_hash(l1_block_hash: Hash32, sequence_number: int) -> Hash32:
    """``keccak256(bytes32(3) ++ keccak256(l1BlockHash ++ bytes32(seqNumber)))`` [Interop]."""
    return _source_hash(
        SourceHashDomain.AFTER_FORCE_INCLUDE, l1_block_hash + sequence_number.to_bytes(32, "big")
    )


@dataclass(frozen=True, slots=True)
class DepositTx:
    """A deposited transaction (deposits.md#the-deposited-transaction-type).

    Fields in RLP order: ``sourceHash, from, to, mint, value, gas, isSystemTx, data``.
    ``to`` is ``None`` for a contract creation (encoded as the empty byte string).
    """

    source_hash: Hash32
    from_: Address
    to: Address | None
    mint: int
    value: int
    gas: int
    is_system_tx: bool
    data: bytes

    def encode(self) -> bytes:
        """``0x7E ++ rlp([sourceHash, from, to, mint, value, gas, isSystemTx, data])``."""
        fields: list[RlpInput] = [
            self.source_hash,
            self.from_,
            self.to if self.to is not None else b"",
            self.mint,
            self.value,
            self.gas,
            1 if self.is_system_tx else 0,
            self.data,
        ]
        # the codec's RLP encoder: same bytes as pyrlp, without its per-call sedes inference
        # (this runs for every L1-info deposit the pipeline derives)
        return bytes([DEPOSIT_TX_TYPE]) + rlp_encode(fields)

    def tx_hash(self) -> Hash32:
        """The transaction hash: keccak256 of the EIP-2718 encoding."""
        h: bytes = keccak(self.encode())
        return h


def _uint(b: object, name: str, max_bits: int) -> int:
    if not isinstance(b, bytes):
        raise TxError(f"deposit tx: {name} must be an RLP string")
    if len(b) > 0 and b[0] == 0:
        raise TxError(f"deposit tx: {name} has a leading zero byte (non-canonical)")
    v = int.from_bytes(b, "big")
    if v.bit_length() > max_bits:
        raise TxError(f"deposit tx: {name} overflows uint{max_bits}")
    return v


def decode_deposit_tx(raw: bytes) -> DepositTx:
    """Decode ``0x7E ++ rlp(...)`` into a :class:`DepositTx`; raises :class:`TxError`."""
    if len(raw) == 0 or raw[0] != DEPOSIT_TX_TYPE:
        raise TxError("not a deposit transaction: the first byte is not 0x7e", 0)
    try:
        fields = rlp.decode(raw[1:], strict=True)
    except rlp.exceptions.DecodingError as e:
        raise TxError(f"deposit tx: bad RLP: {e}", 1) from None
    if not isinstance(fields, list) or len(fields) != 8:
        raise TxError("deposit tx: expected an RLP list of 8 fields", 1)
    source_hash, from_, to, mint, value, gas, is_system, data = fields
    for name, v in (("sourceHash", source_hash), ("from", from_), ("to", to), ("data", data)):
        if not isinstance(v, bytes):
            raise TxError(f"deposit tx: {name} must be an RLP string")
    if len(source_hash) != 32:
        raise TxError(f"deposit tx: sourceHash must be 32 bytes, got {len(source_hash)}")
    if len(from_) != 20:
        raise TxError(f"deposit tx: from must be 20 bytes, got {len(from_)}")
    if len(to) not in (0, 20):
        raise TxError(f"deposit tx: to must be 0 or 20 bytes, got {len(to)}")
    sys_flag = _uint(is_system, "isSystemTx", 8)
    if sys_flag > 1:
        raise TxError(f"deposit tx: isSystemTx must be 0 or 1, got {sys_flag}")
    return DepositTx(
        source_hash=source_hash,
        from_=from_,
        to=to if len(to) == 20 else None,
        mint=_uint(mint, "mint", 256),
        value=_uint(value, "value", 256),
        gas=_uint(gas, "gas", 64),
        is_system_tx=sys_flag == 1,
        data=data,
    )
