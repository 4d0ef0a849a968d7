"""The L1 attributes deposited transaction ("L1-info deposit"): calldata formats and the deposit.

Specs:
- specs/protocol/deposits.md, "L1 Attributes Deposited Transaction" (from, to, gas, isSystemTx)
  and "L1 Attributes Deposited Transaction Calldata" (Bedrock ABI form);
- specs/protocol/ecotone/l1-attributes.md (packed 164-byte ``setL1BlockValuesEcotone()``);
- specs/protocol/isthmus/l1-attributes.md (176 bytes, + operator fee scalar/constant);
- specs/protocol/jovian/l1-attributes.md (178 bytes, + ``daFootprintGasScalar``);
- specs/protocol/system-config.md "Post-Ecotone Scalar Encoding" (scalars from the SystemConfig);
- specs/protocol/pectra-blob-schedule/derivation.md and EIP-4844/EIP-7691 (the blob base fee).

The current specs define no separate Interop L1-info selector (the 2024 Go code's
``setL1BlockValuesInterop()`` was dropped), so there are four formats.

Layout of the packed formats (big-endian), after the 4-byte selector::

    4   baseFeeScalar uint32       8   blobBaseFeeScalar uint32   12  sequenceNumber uint64
    20  l1BlockTimestamp uint64    28  l1BlockNumber uint64       36  basefee uint256
    68  blobBaseFee uint256        100 l1BlockHash bytes32        132 batcherHash bytes32
    164 operatorFeeScalar uint32   168 operatorFeeConstant uint64        [Isthmus]
    176 daFootprintGasScalar uint16                                      [Jovian]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol

from eth_hash.auto import keccak

from pyop.codec.errors import CodecError
from pyop.config.l1_chains import CANCUN_BLOB_CONFIG, PRAGUE_BLOB_CONFIG
from pyop.primitives import ZERO_HASH, Address, Hash32, SystemConfig, to_hex
from pyop.protocol.deposits import DepositTx, decode_deposit_tx, l1_info_deposit_source_hash
from pyop.protocol.predeploys import L1_BLOCK, L1_INFO_DEPOSITOR


class L1InfoError(CodecError):
    """Malformed L1-info calldata or inputs; ``offset`` is the calldata byte offset."""


class L1InfoFormat(Enum):
    """The four L1-info calldata formats, named after the fork that introduced them."""

    BEDROCK = "bedrock"
    ECOTONE = "ecotone"
    ISTHMUS = "isthmus"
    JOVIAN = "jovian"


def _selector(signature: str) -> bytes:
    return bytes(keccak(signature.encode()))[:4]


SELECTOR_SIGNATURES: dict[L1InfoFormat, str] = {
    L1InfoFormat.BEDROCK: "setL1BlockValues(uint64,uint64,uint256,bytes32,uint64,bytes32,uint256,uint256)",
    L1InfoFormat.ECOTONE: "setL1BlockValuesEcotone()",
    L1InfoFormat.ISTHMUS: "setL1BlockValuesIsthmus()",
    L1InfoFormat.JOVIAN: "setL1BlockValuesJovian()",
}
SELECTORS: dict[L1InfoFormat, bytes] = {f: _selector(s) for f, s in SELECTOR_SIGNATURES.items()}
"""0x015d8eb9, 0x440a5e20, 0x098999be, 0x3db6be2b (the spec tables give the same bytes)."""
_FORMAT_BY_SELECTOR = {sel: f for f, sel in SELECTORS.items()}

CALLDATA_LENGTHS: dict[L1InfoFormat, int] = {
    L1InfoFormat.BEDROCK: 4 + 8 * 32,  # 260
    L1InfoFormat.ECOTONE: 164,
    L1InfoFormat.ISTHMUS: 176,
    L1InfoFormat.JOVIAN: 178,
}

REGOLITH_SYSTEM_TX_GAS = 1_000_000
"""deposits.md: the L1-info deposit gas limit from Regolith (op-node ``RegolithSystemTxGas``)."""
PRE_REGOLITH_SYSTEM_TX_GAS = 150_000_000
"""deposits.md: the L1-info deposit gas limit before Regolith."""

DEFAULT_DA_FOOTPRINT_GAS_SCALAR = 400
"""jovian/l1-attributes.md: a SystemConfig ``daFootprintGasScalar`` of 0 is sent as 400."""

MIN_BLOB_GASPRICE = 1
"""EIP-4844 ``MIN_BASE_FEE_PER_BLOB_GAS``; also the L1-info ``blobBaseFee`` of a pre-4844 origin."""
BLOB_BASE_FEE_UPDATE_FRACTION_CANCUN = CANCUN_BLOB_CONFIG.update_fraction
"""EIP-4844 ``BLOB_BASE_FEE_UPDATE_FRACTION`` (3,338,477; :mod:`pyop.config.l1_chains`)."""
BLOB_BASE_FEE_UPDATE_FRACTION_PRAGUE = PRAGUE_BLOB_CONFIG.update_fraction
"""EIP-7691 ``BLOB_BASE_FEE_UPDATE_FRACTION_PRAGUE`` (5,007,716; :mod:`pyop.config.l1_chains`)."""

_U16 = (1 << 16) - 1
_U32 = (1 << 32) - 1
_U64 = (1 << 64) - 1
_U256 = (1 << 256) - 1


@dataclass(frozen=True, slots=True)
class L1BlockInfo:
    """The values of one L1-info deposit (op-node ``derive.L1BlockInfo``).

    Fields a format does not carry are 0 (or the zero hash): ``l1_fee_overhead`` and
    ``l1_fee_scalar`` are Bedrock-only; the scalars and ``blob_base_fee`` are Ecotone+;
    operator-fee fields Isthmus+; ``da_footprint_gas_scalar`` Jovian. ``format`` records which
    calldata form the info is (or will be) encoded in.
    """

    number: int
    time: int
    base_fee: int
    block_hash: Hash32
    sequence_number: int
    batcher_addr: Address
    l1_fee_overhead: Hash32 = ZERO_HASH
    l1_fee_scalar: Hash32 = ZERO_HASH
    base_fee_scalar: int = 0
    blob_base_fee: int = 0
    blob_base_fee_scalar: int = 0
    operator_fee_scalar: int = 0
    operator_fee_constant: int = 0
    da_footprint_gas_scalar: int = 0
    format: L1InfoFormat = field(default=L1InfoFormat.BEDROCK, kw_only=True)

    def to_json(self) -> dict[str, Any]:
        """op-node ``L1BlockInfo`` field names in snake_case; only the fields of ``format``.

        Hashes/addresses/bytes32 are 0x-hex, numbers are JSON integers.
        """
        out: dict[str, Any] = {
            "format": self.format.value,
            "number": self.number,
            "time": self.time,
            "base_fee": self.base_fee,
            "block_hash": to_hex(self.block_hash),
            "sequence_number": self.sequence_number,
            "batcher_addr": to_hex(self.batcher_addr),
        }
        if self.format is L1InfoFormat.BEDROCK:
            out["l1_fee_overhead"] = to_hex(self.l1_fee_overhead)
            out["l1_fee_scalar"] = to_hex(self.l1_fee_scalar)
            return out
        out["base_fee_scalar"] = self.base_fee_scalar
        out["blob_base_fee"] = self.blob_base_fee
        out["blob_base_fee_scalar"] = self.blob_base_fee_scalar
        if self.format in (L1InfoFormat.ISTHMUS, L1InfoFormat.JOVIAN):
            out["operator_fee_scalar"] = self.operator_fee_scalar
            out["operator_fee_constant"] = self.operator_fee_constant
        if self.format is L1InfoFormat.JOVIAN:
            out["da_footprint_gas_scalar"] = self.da_footprint_gas_scalar
        return out


# ---------------------------------------------------------------------------------------------
# Encoding
# ---------------------------------------------------------------------------------------------


def _uint(value: int, bits_max: int, nbytes: int, name: str) -> bytes:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0 or value > bits_max:
        raise L1InfoError(f"L1 info: {name} = {value!r} does not fit in {nbytes * 8} bits")
    return value.to_bytes(nbytes, "big")


def _fixed(value: bytes, length: int, name: str) -> bytes:
    if not isinstance(value, bytes | bytearray) or len(value) != length:
        raise L1InfoError(f"L1 info: {name} must be {length} bytes")
    return bytes(value)


def _encode_bedrock(info: L1BlockInfo) -> bytes:
    """deposits.md "L1 Attributes - Bedrock, Canyon, Delta": ABI-encoded ``setL1BlockValues``."""
    return b"".join(
        (
            SELECTORS[L1InfoFormat.BEDROCK],
            _uint(info.number, _U64, 32, "number"),
            _uint(info.time, _U64, 32, "time"),
            _uint(info.base_fee, _U256, 32, "base_fee"),
            _fixed(info.block_hash, 32, "block_hash"),
            _uint(info.sequence_number, _U64, 32, "sequence_number"),
            b"\x00" * 12 + _fixed(info.batcher_addr, 20, "batcher_addr"),
            _fixed(info.l1_fee_overhead, 32, "l1_fee_overhead"),
            _fixed(info.l1_fee_scalar, 32, "l1_fee_scalar"),
        )
    )


def _encode_packed(info: L1BlockInfo, fmt: L1InfoFormat) -> bytes:
    """ecotone/isthmus/jovian l1-attributes.md: the packed layout (see the module docstring)."""
    parts = [
        SELECTORS[fmt],
        _uint(info.base_fee_scalar, _U32, 4, "base_fee_scalar"),
        _uint(info.blob_base_fee_scalar, _U32, 4, "blob_base_fee_scalar"),
        _uint(info.sequence_number, _U64, 8, "sequence_number"),
        _uint(info.time, _U64, 8, "time"),
        _uint(info.number, _U64, 8, "number"),
        _uint(info.base_fee, _U256, 32, "base_fee"),
        _uint(info.blob_base_fee, _U256, 32, "blob_base_fee"),
        _fixed(info.block_hash, 32, "block_hash"),
        b"\x00" * 12 + _fixed(info.batcher_addr, 20, "batcher_addr"),
    ]
    if fmt in (L1InfoFormat.ISTHMUS, L1InfoFormat.JOVIAN):  # [New in Isthmus]
        parts.append(_uint(info.operator_fee_scalar, _U32, 4, "operator_fee_scalar"))
        parts.append(_uint(info.operator_fee_constant, _U64, 8, "operator_fee_constant"))
    if fmt is L1InfoFormat.JOVIAN:  # [New in Jovian]
        parts.append(_uint(info.da_footprint_gas_scalar, _U16, 2, "da_footprint_gas_scalar"))
    return b"".join(parts)


def encode_l1_info(info: L1BlockInfo, fmt: L1InfoFormat | None = None) -> bytes:
    """The L1-info calldata of ``info`` in format ``fmt`` (default: ``info.format``).

    Raises :class:`L1InfoError` if a value does not fit its field.
    """
    fmt = info.format if fmt is None else fmt
    if fmt is L1InfoFormat.BEDROCK:
        return _encode_bedrock(info)
    return _encode_packed(info, fmt)


# ---------------------------------------------------------------------------------------------
# Decoding
# ---------------------------------------------------------------------------------------------


def _be(data: bytes, at: int, n: int) -> int:
    return int.from_bytes(data[at : at + n], "big")


def _abi_uint(data: bytes, at: int, bits: int, name: str) -> int:
    pad = 32 - bits // 8
    if any(data[at : at + pad]):
        raise L1InfoError(f"L1 info (bedrock): {name} does not fit uint{bits}: padding not zero", at)
    return _be(data, at + pad, bits // 8)


def _abi_address(data: bytes, at: int, name: str) -> Address:
    if any(data[at : at + 12]):
        raise L1InfoError(f"L1 info: {name} address padding not zero", at)
    return bytes(data[at + 12 : at + 32])


def _decode_bedrock(data: bytes) -> L1BlockInfo:
    """Like op-node ``unmarshalBinaryBedrock`` (solabi): uint64 words and the address word must
    have zero high bytes; uint256/bytes32 words are taken as they are."""
    return L1BlockInfo(
        number=_abi_uint(data, 4, 64, "number"),
        time=_abi_uint(data, 36, 64, "time"),
        base_fee=_be(data, 68, 32),
        block_hash=bytes(data[100:132]),
        sequence_number=_abi_uint(data, 132, 64, "sequence_number"),
        batcher_addr=_abi_address(data, 164, "batcher_addr"),
        l1_fee_overhead=bytes(data[196:228]),
        l1_fee_scalar=bytes(data[228:260]),
        format=L1InfoFormat.BEDROCK,
    )


def _decode_packed(data: bytes, fmt: L1InfoFormat) -> L1BlockInfo:
    """Like op-node ``unmarshalBinaryWithSignatureAndData``: the batcher hash must be a
    left-padded address (version 0)."""
    has_operator_fee = fmt in (L1InfoFormat.ISTHMUS, L1InfoFormat.JOVIAN)
    return L1BlockInfo(
        base_fee_scalar=_be(data, 4, 4),
        blob_base_fee_scalar=_be(data, 8, 4),
        sequence_number=_be(data, 12, 8),
        time=_be(data, 20, 8),
        number=_be(data, 28, 8),
        base_fee=_be(data, 36, 32),
        blob_base_fee=_be(data, 68, 32),
        block_hash=bytes(data[100:132]),
        batcher_addr=_abi_address(data, 132, "batcher_hash"),
        operator_fee_scalar=_be(data, 164, 4) if has_operator_fee else 0,
        operator_fee_constant=_be(data, 168, 8) if has_operator_fee else 0,
        da_footprint_gas_scalar=_be(data, 176, 2) if fmt is L1InfoFormat.JOVIAN else 0,
        format=fmt,
    )


def l1_info_format_of(calldata: bytes) -> L1InfoFormat:
    """The format named by the 4-byte selector of ``calldata``; raises :class:`L1InfoError`."""
    if len(calldata) < 4:
        raise L1InfoError(f"L1 info: calldata too short for a selector ({len(calldata)} bytes)", 0)
    fmt = _FORMAT_BY_SELECTOR.get(bytes(calldata[:4]))
    if fmt is None:
        raise L1InfoError(f"L1 info: unknown selector 0x{bytes(calldata[:4]).hex()}", 0)
    return fmt


def decode_l1_info(calldata: bytes, expected: L1InfoFormat | None = None) -> L1BlockInfo:
    """Decode L1-info calldata, choosing the format by its selector and checking the exact
    length of that format. Raises only :class:`L1InfoError`.

    ``expected``: the format the L2 block's timestamp requires (:func:`l1_info_format_at`);
    the selector must then name exactly that format, as op-node's ``L1BlockInfoFromBytes``
    decodes by timestamp and validates the selector. Without it (tools, tests) any known
    format is accepted.

    The Jovian ``daFootprintGasScalar`` is returned as encoded (a 0 is not replaced by the
    default 400; the sender applies the default, see :func:`build_l1_block_info`).
    """
    data = bytes(calldata)
    fmt = l1_info_format_of(data)
    if expected is not None and fmt is not expected:
        raise L1InfoError(
            f"L1 info: selector of the {fmt.value} format, the block's time requires "
            f"{expected.value}", 0,
        )  # fmt: skip
    want = CALLDATA_LENGTHS[fmt]
    if len(data) != want:
        raise L1InfoError(
            f"L1 info ({fmt.value}): calldata must be {want} bytes, got {len(data)}",
            min(len(data), want),
        )
    if fmt is L1InfoFormat.BEDROCK:
        return _decode_bedrock(data)
    return _decode_packed(data, fmt)


# ---------------------------------------------------------------------------------------------
# Inputs: SystemConfig scalars and the L1 blob base fee
# ---------------------------------------------------------------------------------------------


def ecotone_scalars(scalar: bytes) -> tuple[int, int]:
    """``(base_fee_scalar, blob_base_fee_scalar)`` from the SystemConfig ``scalar`` (bytes32).

    system-config.md "Post-Ecotone Scalar Encoding": version 0 -> ``baseFeeScalar`` in bytes
    [28, 32) and blob scalar 0, or ``MaxUint32`` if the padding [1, 28) is not zero; version 1 ->
    blob scalar in [24, 28), base in [28, 32), padding [1, 24) must be zero. Other versions,
    or bad version-1 padding, raise :class:`L1InfoError` (op-node ``EcotoneScalars``).
    """
    s = _fixed(scalar, 32, "system config scalar")
    if s[0] == 0:
        if any(s[1:28]):
            return _U32, 0
        return _be(s, 28, 4), 0
    if s[0] == 1:
        if any(s[1:24]):
            raise L1InfoError("system config scalar: version 1 padding not zero", 1)
        return _be(s, 28, 4), _be(s, 24, 4)
    raise L1InfoError(f"system config scalar: unknown version {s[0]}", 0)


def encode_ecotone_scalar(base_fee_scalar: int, blob_base_fee_scalar: int) -> bytes:
    """The version-1 SystemConfig ``scalar`` for the two Ecotone scalars."""
    return (
        b"\x01"
        + b"\x00" * 23
        + _uint(blob_base_fee_scalar, _U32, 4, "blob_base_fee_scalar")
        + _uint(base_fee_scalar, _U32, 4, "base_fee_scalar")
    )


def operator_fee_params(params: bytes) -> tuple[int, int]:
    """``(operator_fee_scalar, operator_fee_constant)`` from the SystemConfig
    ``operatorFeeParams`` (isthmus/system-config.md: ``uint256(scalar) << 64 | constant``)."""
    p = _fixed(params, 32, "operator fee params")
    return _be(p, 20, 4), _be(p, 24, 8)


def fake_exponential(factor: int, numerator: int, denominator: int) -> int:
    """EIP-4844 ``fake_exponential``: ``factor * e ** (numerator / denominator)``, integer."""
    if denominator <= 0:
        raise L1InfoError(f"blob base fee: update fraction must be positive, got {denominator}")
    i = 1
    output = 0
    numerator_accum = factor * denominator
    while numerator_accum > 0:
        output += numerator_accum
        numerator_accum = (numerator_accum * numerator) // (denominator * i)
        i += 1
    return output // denominator


def blob_base_fee(
    excess_blob_gas: int, update_fraction: int = BLOB_BASE_FEE_UPDATE_FRACTION_CANCUN
) -> int:
    """The L1 blob base fee from a header's ``excessBlobGas`` (EIP-4844 ``get_base_fee_per_blob_gas``).

    ``update_fraction`` is 3338477 (Cancun) or 5007716 (Prague, EIP-7691), or a BPO fork's
    value: ecotone/l1-attributes.md; pectra-blob-schedule/derivation.md says which applies.
    """
    if excess_blob_gas < 0:
        raise L1InfoError(f"blob base fee: negative excess blob gas {excess_blob_gas}")
    return fake_exponential(MIN_BLOB_GASPRICE, excess_blob_gas, update_fraction)


# ---------------------------------------------------------------------------------------------
# Building the deposit
# ---------------------------------------------------------------------------------------------


class L1BlockInfoSource(Protocol):
    """What the L1-info deposit needs of the L1 origin block.

    ``blob_base_fee`` is the origin's blob base fee computed by the caller with the right update
    fraction (see :func:`blob_base_fee`), or ``None`` if the block has no ``excessBlobGas``.
    """

    @property
    def hash(self) -> Hash32: ...
    @property
    def number(self) -> int: ...
    @property
    def timestamp(self) -> int: ...
    @property
    def base_fee(self) -> int: ...
    @property
    def blob_base_fee(self) -> int | None: ...


@dataclass(frozen=True, slots=True)
class L1OriginInfo:
    """A plain :class:`L1BlockInfoSource`."""

    hash: Hash32
    number: int
    timestamp: int
    base_fee: int
    blob_base_fee: int | None = None


class L1InfoForkSchedule(Protocol):
    """The rollup-config predicates the L1-info deposit depends on (duck-typed ``RollupConfig``)."""

    def is_regolith(self, timestamp: int, /) -> bool: ...
    def is_ecotone(self, timestamp: int, /) -> bool: ...
    def is_ecotone_activation_block(self, timestamp: int, /) -> bool: ...
    def is_isthmus(self, timestamp: int, /) -> bool: ...
    def is_isthmus_activation_block(self, timestamp: int, /) -> bool: ...
    def is_jovian(self, timestamp: int, /) -> bool: ...
    def is_jovian_activation_block(self, timestamp: int, /) -> bool: ...


def l1_info_format_at(cfg: L1InfoForkSchedule, l2_timestamp: int) -> L1InfoFormat:
    """The calldata format of the L1-info deposit of the L2 block at ``l2_timestamp``.

    Each fork's format starts in the block AFTER its activation block, because the L1-info tx
    runs before that block's upgrade txs install the new setter:
    ecotone/l1-attributes.md (activation block: ``setL1BlockValues``), isthmus/l1-attributes.md
    (activation block: ``setL1BlockValuesEcotone``), jovian/l1-attributes.md (activation block:
    ``setL1BlockValuesIsthmus``). Checked newest fork first, as op-node does.
    """
    if cfg.is_jovian(l2_timestamp) and not cfg.is_jovian_activation_block(l2_timestamp):
        return L1InfoFormat.JOVIAN
    if cfg.is_isthmus(l2_timestamp) and not cfg.is_isthmus_activation_block(l2_timestamp):
        return L1InfoFormat.ISTHMUS
    if cfg.is_ecotone(l2_timestamp) and not cfg.is_ecotone_activation_block(l2_timestamp):
        return L1InfoFormat.ECOTONE
    return L1InfoFormat.BEDROCK


def build_l1_block_info(
    fmt: L1InfoFormat,
    system_config: SystemConfig,
    l1_block: L1BlockInfoSource,
    sequence_number: int,
) -> L1BlockInfo:
    """The :class:`L1BlockInfo` for an L1 origin, a SystemConfig and a sequence number.

    Bedrock: ``overhead``/``scalar`` copied 1:1. Ecotone+: scalars per :func:`ecotone_scalars`,
    ``blobBaseFee`` = the origin's, or 1 without blobs (ecotone/l1-attributes.md). Isthmus+:
    operator fee from ``operatorFeeParams``. Jovian: ``daFootprintGasScalar``, 0 -> 400.
    """
    if fmt is L1InfoFormat.BEDROCK:
        return L1BlockInfo(
            number=l1_block.number,
            time=l1_block.timestamp,
            base_fee=l1_block.base_fee,
            block_hash=l1_block.hash,
            sequence_number=sequence_number,
            batcher_addr=system_config.batcher_addr,
            l1_fee_overhead=system_config.overhead,
            l1_fee_scalar=system_config.scalar,
            format=fmt,
        )
    base_scalar, blob_scalar = ecotone_scalars(system_config.scalar)
    blob_fee = l1_block.blob_base_fee
    op_scalar, op_constant = 0, 0
    if fmt in (L1InfoFormat.ISTHMUS, L1InfoFormat.JOVIAN):
        op_scalar, op_constant = operator_fee_params(system_config.operator_fee_params)
    da_scalar = 0
    if fmt is L1InfoFormat.JOVIAN:
        da_scalar = system_config.da_footprint_gas_scalar or DEFAULT_DA_FOOTPRINT_GAS_SCALAR
    return L1BlockInfo(
        number=l1_block.number,
        time=l1_block.timestamp,
        base_fee=l1_block.base_fee,
        block_hash=l1_block.hash,
        sequence_number=sequence_number,
        batcher_addr=system_config.batcher_addr,
        base_fee_scalar=base_scalar,
        blob_base_fee_scalar=blob_scalar,
        blob_base_fee=MIN_BLOB_GASPRICE if blob_fee is None else blob_fee,
        operator_fee_scalar=op_scalar,
        operator_fee_constant=op_constant,
        da_footprint_gas_scalar=da_scalar,
        format=fmt,
    )


def l1_info_deposit(info: L1BlockInfo, *, regolith: bool) -> DepositTx:
    """The L1-info deposit carrying ``info`` (in ``info.format``): deposits.md
    "L1 Attributes Deposited Transaction" - source hash from (L1 hash, sequence number), from the
    depositor account, to ``L1Block``, mint 0, value 0, gas 150M and system tx before Regolith,
    1M and not a system tx from Regolith."""
    return DepositTx(
        source_hash=l1_info_deposit_source_hash(info.block_hash, info.sequence_number),
        from_=L1_INFO_DEPOSITOR,
        to=L1_BLOCK,
        mint=0,
        value=0,
        gas=REGOLITH_SYSTEM_TX_GAS if regolith else PRE_REGOLITH_SYSTEM_TX_GAS,
        is_system_tx=not regolith,
        data=encode_l1_info(info),
    )


def l1_info_deposit_tx(
    cfg: L1InfoForkSchedule,
    system_config: SystemConfig,
    l1_block: L1BlockInfoSource,
    seq_number: int,
    l2_timestamp: int,
) -> DepositTx:
    """The L1-info deposit of the L2 block at ``l2_timestamp`` (op-node ``L1InfoDeposit``)."""
    fmt = l1_info_format_at(cfg, l2_timestamp)
    info = build_l1_block_info(fmt, system_config, l1_block, seq_number)
    return l1_info_deposit(info, regolith=cfg.is_regolith(l2_timestamp))


def decode_l1_info_tx(
    raw_tx: bytes, expected: L1InfoFormat | None = None
) -> tuple[DepositTx, L1BlockInfo]:
    """Decode an encoded L1-info deposit (``0x7E`` + RLP) and its calldata (``expected``: see
    :func:`decode_l1_info`).

    Raises :class:`~pyop.codec.errors.TxError` for a bad envelope and :class:`L1InfoError` if it
    is not an L1-info deposit (wrong ``from``/``to``) or its calldata is malformed.
    """
    tx = decode_deposit_tx(raw_tx)
    if tx.to != L1_BLOCK:
        raise L1InfoError("L1 info tx: not sent to the L1Block predeploy")
    if tx.from_ != L1_INFO_DEPOSITOR:
        raise L1InfoError("L1 info tx: not sent from the L1 attributes depositor account")
    return tx, decode_l1_info(tx.data, expected)
