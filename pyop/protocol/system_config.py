"""SystemConfig ``ConfigUpdate`` logs: decoding, applying, and reading the packed values.

Spec: specs/protocol/system-config.md, "System Config Updates" and "Post-Ecotone Scalar
Encoding"; holocene/system-config.md (type 4), isthmus/system-config.md (type 5),
jovian/system-config.md (types 6 and 7). The event is::

    event ConfigUpdate(uint256 indexed version, UpdateType indexed updateType, bytes data);

(signature ``ConfigUpdate(uint256,uint8,bytes)``). Version 0 update types:

====  ========================  ==============================================================
type  name                      ``data`` (``abi.encode(bytes)`` of the payload below)
====  ========================  ==============================================================
0     BATCHER                   ``abi.encode(address)`` (the batcher hash)
1     FEE_SCALARS               ``overhead`` and ``scalar`` words (64 bytes)
2     GAS_LIMIT                 ``abi.encode(uint64)``
3     UNSAFE_BLOCK_SIGNER       ``abi.encode(address)``: ignored by derivation
4     EIP_1559_PARAMS           ``uint256(denominator) << 32 | elasticity``
5     OPERATOR_FEE_PARAMS       ``uint256(operatorFeeScalar) << 64 | operatorFeeConstant``
6     MIN_BASE_FEE              ``abi.encode(uint64)``
7     DA_FOOTPRINT_GAS_SCALAR   ``abi.encode(uint16)``
====  ========================  ==============================================================

The checks mirror op-node's ``op-node/rollup/derive/system_config.go``
(``ProcessSystemConfigUpdateLogEvent`` and its ``parseSystemConfigUpdate*`` helpers, current
monorepo version with types 5-7): 3 topics, the event hash, version 0, a known type (the whole
type topic must equal ``uint256(type)``); then the ABI wrapper: pointer word == 32 and length
word == 32 (64 for FEE_SCALARS), both as ``uint64`` words whose 24 high bytes are zero; the
payload (an address with 12 zero padding bytes, a ``uint64`` with 24, a ``uint16`` with 30, or
raw 32-byte words); and no bytes after it. EIP_1559_PARAMS additionally needs the denominator
and elasticity (the low 8 bytes) to be both zero or both non-zero (op-geth
``ValidateHolocene1559Params``); the 24 high bytes are not checked (kona rejects non-zero ones).
UNSAFE_BLOCK_SIGNER is not parsed by op-node at all: any data is accepted and ignored.

After Ecotone, a FEE_SCALARS update whose scalar fails the Ecotone scalar check is ignored
(the old scalar stays) and the overhead is zeroed (op-node ``CheckEcotoneL1SystemConfigScalar``).

Malformed updates: the current spec says "If a System Config Update cannot be parsed for any
reason, it is not applied and is instead skipped" (specs commit 30a180a0, Dec 2025), and
op-node's ``UpdateSystemConfigWithL1Receipts`` applies each well-formed update and returns the
others as a combined error. :func:`update_system_config_from_receipts` does the same: it
returns the new config and the list of errors (the caller logs them). Older op-node versions
(v1.9, Oct 2024) treated any such error as critical.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum
from typing import NamedTuple

from eth_hash.auto import keccak

from pyop.primitives import ZERO_HASH, Address, Hash32, PyopError, SystemConfig
from pyop.protocol.l1_types import Log, Receipt

CONFIG_UPDATE_EVENT_ABI = "ConfigUpdate(uint256,uint8,bytes)"
CONFIG_UPDATE_EVENT_ABI_HASH: Hash32 = keccak(CONFIG_UPDATE_EVENT_ABI.encode())
"""``0x1d2b0bda21d56b8bd12d4f94ebacffdfb35f5e226f84b461103bb8beab6353be``."""
CONFIG_UPDATE_EVENT_VERSION_0: Hash32 = ZERO_HASH

U32_MAX = 2**32 - 1
DEFAULT_DA_FOOTPRINT_GAS_SCALAR = 400
"""jovian/l1-attributes.md: a SystemConfig ``daFootprintGasScalar`` of 0 means 400."""

L1_SCALAR_BEDROCK = 0
"""Scalar-version byte 0: only ``baseFeeScalar`` (system-config.md#post-ecotone-scalar-encoding)."""
L1_SCALAR_ECOTONE = 1
"""Scalar-version byte 1: ``blobBaseFeeScalar`` in bytes 24-27, ``baseFeeScalar`` in 28-31."""


class SystemConfigUpdateType(IntEnum):
    """The ``UpdateType`` of a ``ConfigUpdate`` event (system-config.md#system-config-updates)."""

    BATCHER = 0
    FEE_SCALARS = 1
    GAS_LIMIT = 2
    UNSAFE_BLOCK_SIGNER = 3
    EIP_1559_PARAMS = 4  # [New in Holocene]
    OPERATOR_FEE_PARAMS = 5  # [New in Isthmus]
    MIN_BASE_FEE = 6  # [New in Jovian]
    DA_FOOTPRINT_GAS_SCALAR = 7  # [New in Jovian]


class SystemConfigError(PyopError, ValueError):
    """A SystemConfig value that cannot be interpreted (e.g. an invalid Ecotone scalar)."""


class SystemConfigLogError(SystemConfigError):
    """A malformed ``ConfigUpdate`` log; the message names what is wrong."""


# --- typed updates -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BatcherUpdate:
    """Type 0: the new batcher address (the batcher hash, as an address)."""

    batcher_addr: Address


@dataclass(frozen=True, slots=True)
class FeeScalarsUpdate:
    """Type 1: the raw ``overhead`` and ``scalar`` words (interpretation depends on Ecotone)."""

    overhead: Hash32
    scalar: Hash32


@dataclass(frozen=True, slots=True)
class GasLimitUpdate:
    """Type 2: the L2 block gas limit."""

    gas_limit: int


@dataclass(frozen=True, slots=True)
class UnsafeBlockSignerUpdate:
    """Type 3: ignored by derivation. ``signer`` is ``None`` if the data was not a valid
    ``abi.encode(bytes(abi.encode(address)))`` (op-node does not parse it)."""

    signer: Address | None


@dataclass(frozen=True, slots=True)
class EIP1559ParamsUpdate:
    """Type 4 [Holocene]: the payload word; its low 8 bytes are ``denominator ++ elasticity``."""

    params: Hash32


@dataclass(frozen=True, slots=True)
class OperatorFeeParamsUpdate:
    """Type 5 [Isthmus]: the payload word, ``scalar(uint32) << 64 | constant(uint64)``."""

    params: Hash32


@dataclass(frozen=True, slots=True)
class MinBaseFeeUpdate:
    """Type 6 [Jovian]: the minimum base fee in wei (``uint64``)."""

    min_base_fee: int


@dataclass(frozen=True, slots=True)
class DAFootprintGasScalarUpdate:
    """Type 7 [Jovian]: the DA footprint gas scalar (``uint16``)."""

    da_footprint_gas_scalar: int


SystemConfigUpdate = (
    BatcherUpdate
    | FeeScalarsUpdate
    | GasLimitUpdate
    | UnsafeBlockSignerUpdate
    | EIP1559ParamsUpdate
    | OperatorFeeParamsUpdate
    | MinBaseFeeUpdate
    | DAFootprintGasScalarUpdate
)


# --- ABI reading (op-service/solabi semantics) ------------------------------------------------


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def word(self, what: str) -> bytes:
        if self.pos + 32 > len(self.data):
            raise SystemConfigLogError(
                f"could not read {what}: data ends at byte {len(self.data)}"
            )
        w = self.data[self.pos : self.pos + 32]
        self.pos += 32
        return bytes(w)

    def uint(self, what: str, bits: int) -> int:
        w = self.word(what)
        pad = 32 - bits // 8
        if any(w[:pad]):
            raise SystemConfigLogError(f"could not read {what}: non-zero padding in uint{bits}")
        return int.from_bytes(w, "big")

    def address(self, what: str) -> Address:
        w = self.word(what)
        if any(w[:12]):
            raise SystemConfigLogError(f"could not read {what}: address padding was not empty")
        return w[12:]

    def end(self) -> None:
        if self.pos != len(self.data):
            raise SystemConfigLogError(
                f"too many bytes: {len(self.data) - self.pos} after the payload"
            )


def _payload_reader(data: bytes, expected_length: int) -> _Reader:
    """Check the ``abi.encode(bytes)`` wrapper: pointer 32, then the given payload length."""
    r = _Reader(data)
    try:
        pointer = r.uint("pointer", 64)
    except SystemConfigLogError:
        raise SystemConfigLogError("invalid pointer field") from None
    if pointer != 32:
        raise SystemConfigLogError(f"invalid pointer field: {pointer}, expected 32")
    try:
        length = r.uint("length", 64)
    except SystemConfigLogError:
        raise SystemConfigLogError("invalid length field") from None
    if length != expected_length:
        raise SystemConfigLogError(f"invalid length field: {length}, expected {expected_length}")
    return r


def _update_type(topic: bytes) -> SystemConfigUpdateType:
    n = int.from_bytes(topic, "big")
    try:
        return SystemConfigUpdateType(n)
    except ValueError:
        raise SystemConfigLogError(
            f"unknown SystemConfig event type: 0x{bytes(topic).hex()}"
        ) from None


def decode_config_update_log(log: Log) -> SystemConfigUpdate:
    """Decode a ``ConfigUpdate`` log into its typed update; :class:`SystemConfigLogError` if it
    is malformed (see the module docstring for the checks, which follow op-node's)."""
    topics = log.topics
    if len(topics) != 3:
        raise SystemConfigLogError(
            "expected 3 event topics (event identity, indexed version, indexed updateType), "
            f"got {len(topics)}"
        )
    for i, t in enumerate(topics):
        if len(t) != 32:
            raise SystemConfigLogError(f"topic {i} must be 32 bytes, got {len(t)}")
    if topics[0] != CONFIG_UPDATE_EVENT_ABI_HASH:
        raise SystemConfigLogError(
            f"invalid SystemConfig update event: 0x{topics[0].hex()}, "
            f"expected 0x{CONFIG_UPDATE_EVENT_ABI_HASH.hex()}"
        )
    if topics[1] != CONFIG_UPDATE_EVENT_VERSION_0:
        raise SystemConfigLogError(f"unknown SystemConfig event version: 0x{topics[1].hex()}")
    kind = _update_type(topics[2])
    data = bytes(log.data)
    T = SystemConfigUpdateType

    if kind is T.UNSAFE_BLOCK_SIGNER:
        # Ignored in derivation: op-node does not parse the data.
        try:
            r = _payload_reader(data, 32)
            signer: Address | None = r.address("address")
            r.end()
        except SystemConfigLogError:
            signer = None
        return UnsafeBlockSignerUpdate(signer)

    if kind is T.FEE_SCALARS:
        r = _payload_reader(data, 64)
        overhead = r.word("overhead")
        scalar = r.word("scalar")
        r.end()
        return FeeScalarsUpdate(overhead, scalar)

    r = _payload_reader(data, 32)
    update: SystemConfigUpdate
    if kind is T.BATCHER:
        update = BatcherUpdate(r.address("address"))
    elif kind is T.GAS_LIMIT:
        update = GasLimitUpdate(r.uint("gas limit", 64))
    elif kind is T.EIP_1559_PARAMS:
        params = r.word("eip-1559 params")
        update = EIP1559ParamsUpdate(params)
    elif kind is T.OPERATOR_FEE_PARAMS:
        update = OperatorFeeParamsUpdate(r.word("operator fee params"))
    elif kind is T.MIN_BASE_FEE:
        update = MinBaseFeeUpdate(r.uint("minBaseFee", 64))
    else:  # T.DA_FOOTPRINT_GAS_SCALAR
        update = DAFootprintGasScalarUpdate(r.uint("DA footprint gas scalar", 16))
    r.end()
    if isinstance(update, EIP1559ParamsUpdate):
        denominator, elasticity = _split_eip1559(update.params[24:32])
        if (denominator == 0) != (elasticity == 0):
            raise SystemConfigLogError(
                "invalid EIP-1559 parameters: denominator and elasticity must be both zero or "
                f"both non-zero (got {denominator}, {elasticity})"
            )
    return update


# --- applying -----------------------------------------------------------------------------------


def apply_update(
    cfg: SystemConfig, update: SystemConfigUpdate, *, ecotone_active: bool
) -> SystemConfig:
    """The config after ``update`` (system-config.md#system-config-updates).

    ``ecotone_active`` is whether Ecotone is active at the timestamp of the L1 block holding
    the log: then a FEE_SCALARS update keeps the scalar in its versioned encoding and zeroes
    the overhead, and one with an invalid Ecotone scalar is ignored (op-node).
    UNSAFE_BLOCK_SIGNER leaves the config unchanged.
    """
    if isinstance(update, BatcherUpdate):
        return dataclasses.replace(cfg, batcher_addr=update.batcher_addr)
    if isinstance(update, FeeScalarsUpdate):
        if ecotone_active:
            try:
                check_ecotone_scalar(update.scalar)
            except SystemConfigError:
                return cfg  # ignore invalid scalars, retain the old system-config scalar
            return dataclasses.replace(cfg, scalar=update.scalar, overhead=ZERO_HASH)
        return dataclasses.replace(cfg, overhead=update.overhead, scalar=update.scalar)
    if isinstance(update, GasLimitUpdate):
        return dataclasses.replace(cfg, gas_limit=update.gas_limit)
    if isinstance(update, EIP1559ParamsUpdate):
        return dataclasses.replace(cfg, eip1559_params=update.params[24:32])
    if isinstance(update, OperatorFeeParamsUpdate):
        return dataclasses.replace(cfg, operator_fee_params=update.params)
    if isinstance(update, MinBaseFeeUpdate):
        return dataclasses.replace(cfg, min_base_fee=update.min_base_fee)
    if isinstance(update, DAFootprintGasScalarUpdate):
        return dataclasses.replace(cfg, da_footprint_gas_scalar=update.da_footprint_gas_scalar)
    return cfg  # UnsafeBlockSignerUpdate: ignored in derivation


class SystemConfigUpdates(NamedTuple):
    """Result of :func:`update_system_config_from_receipts`: the new config, and the skipped
    malformed logs as ``(receipt index, log index in receipt, error)``."""

    config: SystemConfig
    errors: list[tuple[int, int, SystemConfigLogError]]


def update_system_config_from_receipts(
    cfg: SystemConfig,
    receipts: Iterable[Receipt],
    l1_system_config_address: Address,
    *,
    ecotone_active: bool,
) -> SystemConfigUpdates:
    """Apply the ``ConfigUpdate`` logs of an L1 block's receipts, in order.

    op-node ``UpdateSystemConfigWithL1Receipts``: only successful receipts, only logs from
    ``l1_system_config_address`` whose first topic is the event hash. Each update is applied
    on its own; a malformed one is skipped and reported in ``errors`` (system-config.md:
    "it is not applied and is instead skipped").
    """
    errors: list[tuple[int, int, SystemConfigLogError]] = []
    for i, rec in enumerate(receipts):
        if not rec.successful:
            continue
        for j, log in enumerate(rec.logs):
            if (
                log.address == l1_system_config_address
                and len(log.topics) > 0
                and log.topics[0] == CONFIG_UPDATE_EVENT_ABI_HASH
            ):
                try:
                    update = decode_config_update_log(log)
                except SystemConfigLogError as e:
                    errors.append((i, j, e))
                    continue
                cfg = apply_update(cfg, update, ecotone_active=ecotone_active)
    return SystemConfigUpdates(cfg, errors)


def encode_config_update_log(
    system_config_address: Address,
    update_type: SystemConfigUpdateType | int,
    payload: bytes,
    *,
    block_hash: Hash32 = ZERO_HASH,
    log_index: int = 0,
) -> Log:
    """The ``ConfigUpdate`` log the SystemConfig emits: ``data = abi.encode(bytes payload)``.

    For devnets and tests; ``payload`` is e.g. ``abi.encode(address)`` (32 bytes) or the two
    FEE_SCALARS words (64 bytes).
    """
    pad = (-len(payload)) % 32
    data = (32).to_bytes(32, "big") + len(payload).to_bytes(32, "big") + payload + bytes(pad)
    return Log(
        address=system_config_address,
        topics=(
            CONFIG_UPDATE_EVENT_ABI_HASH,
            CONFIG_UPDATE_EVENT_VERSION_0,
            int(update_type).to_bytes(32, "big"),
        ),
        data=data,
        block_hash=block_hash,
        log_index=log_index,
    )


# --- reading packed values ----------------------------------------------------------------------


class EcotoneScalars(NamedTuple):
    base_fee_scalar: int
    blob_base_fee_scalar: int


class OperatorFeeParams(NamedTuple):
    scalar: int
    constant: int


class EIP1559Params(NamedTuple):
    denominator: int
    elasticity: int


class BedrockScalarPaddingError(SystemConfigError):
    """A version-0 scalar with non-zero padding (bytes 1-27)."""


def check_ecotone_scalar(scalar: bytes) -> None:
    """system-config.md#post-ecotone-scalar-encoding (op-node ``CheckEcotoneL1SystemConfigScalar``):
    version 0 needs zero bytes 1-27 (:class:`BedrockScalarPaddingError` otherwise), version 1
    zero bytes 1-23; other versions are invalid. Raises :class:`SystemConfigError`."""
    if len(scalar) != 32:
        raise SystemConfigError(f"scalar must be 32 bytes, got {len(scalar)}")
    version = scalar[0]
    if version == L1_SCALAR_BEDROCK:
        if any(scalar[1:28]):
            raise BedrockScalarPaddingError("version 0 scalar has non-zero padding")
    elif version == L1_SCALAR_ECOTONE:
        if any(scalar[1:24]):
            raise SystemConfigError(f"invalid version 1 scalar padding: 0x{scalar[1:24].hex()}")
    else:
        raise SystemConfigError(f"unrecognized scalar version: {version}")


def decode_ecotone_scalar(scalar: bytes) -> EcotoneScalars:
    """The (baseFeeScalar, blobBaseFeeScalar) of a versioned scalar (op-node
    ``SystemConfig.EcotoneScalars``): version 0 gives ``(uint32 [28:32], 0)``, or
    ``(MaxUint32, 0)`` if its padding is non-zero (as the spec mandates); version 1 gives
    ``(uint32 [28:32], uint32 [24:28])``. Raises :class:`SystemConfigError` otherwise."""
    try:
        check_ecotone_scalar(scalar)
    except BedrockScalarPaddingError:
        return EcotoneScalars(U32_MAX, 0)
    base = int.from_bytes(scalar[28:32], "big")
    if scalar[0] == L1_SCALAR_BEDROCK:
        return EcotoneScalars(base, 0)
    return EcotoneScalars(base, int.from_bytes(scalar[24:28], "big"))


def ecotone_scalars(cfg: SystemConfig) -> EcotoneScalars:
    """:func:`decode_ecotone_scalar` of ``cfg.scalar``."""
    return decode_ecotone_scalar(cfg.scalar)


def encode_ecotone_scalar(base_fee_scalar: int, blob_base_fee_scalar: int) -> Hash32:
    """The version-1 scalar: ``0x01 << 248 | blobBaseFeeScalar << 32 | baseFeeScalar``."""
    for name, v in (("base_fee_scalar", base_fee_scalar), ("blob", blob_base_fee_scalar)):
        if not 0 <= v <= U32_MAX:
            raise SystemConfigError(f"{name} must fit in uint32, got {v}")
    return (
        bytes([L1_SCALAR_ECOTONE])
        + bytes(23)
        + blob_base_fee_scalar.to_bytes(4, "big")
        + base_fee_scalar.to_bytes(4, "big")
    )


def operator_fee_scalars(cfg: SystemConfig) -> OperatorFeeParams:
    """[Isthmus] ``(operatorFeeScalar, operatorFeeConstant)`` from ``cfg.operator_fee_params``:
    the scalar is the uint32 in bytes 20-23, the constant the uint64 in bytes 24-31."""
    p = cfg.operator_fee_params
    return OperatorFeeParams(int.from_bytes(p[20:24], "big"), int.from_bytes(p[24:32], "big"))


def _split_eip1559(b: bytes) -> tuple[int, int]:
    return int.from_bytes(b[0:4], "big"), int.from_bytes(b[4:8], "big")


def eip1559_params(cfg: SystemConfig) -> EIP1559Params:
    """[Holocene] ``(denominator, elasticity)`` from the 8-byte ``cfg.eip1559_params``
    (both 0 means "use the chain's default (Canyon) parameters")."""
    if len(cfg.eip1559_params) != 8:
        raise SystemConfigError(
            f"eip1559_params must be 8 bytes, got {len(cfg.eip1559_params)}"
        )
    return EIP1559Params(*_split_eip1559(cfg.eip1559_params))


def effective_da_footprint_gas_scalar(cfg: SystemConfig) -> int:
    """[Jovian] The DA footprint gas scalar the L1-info tx carries: 0 means the default 400
    (jovian/l1-attributes.md). The config itself keeps the raw value, as op-node does."""
    v = cfg.da_footprint_gas_scalar
    return DEFAULT_DA_FOOTPRINT_GAS_SCALAR if v == 0 else v
