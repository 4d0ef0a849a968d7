"""Tests of pyop.protocol.system_config: ConfigUpdate logs, applying them, packed values.

Logs are built independently with eth_abi the way SystemConfig.sol emits them:
``emit ConfigUpdate(VERSION, UpdateType.X, abi.encode(...))``.
"""

from __future__ import annotations

import dataclasses
import json

import pytest
from eth_abi import encode as abi_encode
from eth_hash.auto import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from pyop.primitives import ZERO_HASH, SystemConfig
from pyop.protocol.l1_types import Log, Receipt
from pyop.protocol.system_config import (
    CONFIG_UPDATE_EVENT_ABI_HASH,
    BatcherUpdate,
    DAFootprintGasScalarUpdate,
    EIP1559ParamsUpdate,
    FeeScalarsUpdate,
    GasLimitUpdate,
    MinBaseFeeUpdate,
    OperatorFeeParamsUpdate,
    SystemConfigError,
    SystemConfigLogError,
    SystemConfigUpdateType,
    UnsafeBlockSignerUpdate,
    apply_update,
    decode_config_update_log,
    decode_ecotone_scalar,
    ecotone_scalars,
    effective_da_footprint_gas_scalar,
    eip1559_params,
    encode_config_update_log,
    encode_ecotone_scalar,
    operator_fee_scalars,
    update_system_config_from_receipts,
)
from tests.conftest import SHARED_VECTORS

SYSCFG = bytes.fromhex("229047fed2591dbec1eF1118d64F7aF3dB9EB290")
TOPIC0 = keccak(b"ConfigUpdate(uint256,uint8,bytes)")
BATCHER = bytes.fromhex("6887246668a3b87f54deb3b94ba47a6f63f32985")
SIGNER = bytes.fromhex("aaaa45d9549eda09e70937013520214382ffc4a2")

BASE = SystemConfig(
    batcher_addr=bytes(20),
    overhead=(188).to_bytes(32, "big"),
    scalar=(684000).to_bytes(32, "big"),
    gas_limit=30_000_000,
)


def _log(update_type: int, payload: bytes, *, version: int = 0, data: bytes | None = None) -> Log:
    return Log(
        address=SYSCFG,
        topics=(
            TOPIC0,
            abi_encode(["uint256"], [version]),
            abi_encode(["uint8"], [update_type]) if update_type < 256 else update_type.to_bytes(32, "big"),
        ),
        data=data if data is not None else abi_encode(["bytes"], [payload]),
    )


def _addr(a: bytes) -> bytes:
    return abi_encode(["address"], ["0x" + a.hex()])


def _u(n: int, typ: str = "uint256") -> bytes:
    return abi_encode([typ], [n])


def _apply(log: Log, cfg: SystemConfig = BASE, *, ecotone: bool = True) -> SystemConfig:
    return apply_update(cfg, decode_config_update_log(log), ecotone_active=ecotone)


def test_event_hash_and_numbering() -> None:
    assert CONFIG_UPDATE_EVENT_ABI_HASH == TOPIC0
    assert [t.name for t in SystemConfigUpdateType] == [
        "BATCHER",
        "FEE_SCALARS",
        "GAS_LIMIT",
        "UNSAFE_BLOCK_SIGNER",
        "EIP_1559_PARAMS",
        "OPERATOR_FEE_PARAMS",
        "MIN_BASE_FEE",
        "DA_FOOTPRINT_GAS_SCALAR",
    ]
    assert [int(t) for t in SystemConfigUpdateType] == list(range(8))


def test_batcher() -> None:
    log = _log(0, _addr(BATCHER))
    assert decode_config_update_log(log) == BatcherUpdate(BATCHER)
    assert _apply(log) == dataclasses.replace(BASE, batcher_addr=BATCHER)


def test_fee_scalars_pre_ecotone() -> None:
    log = _log(1, _u(2100) + _u(1_000_000))
    assert decode_config_update_log(log) == FeeScalarsUpdate(_u(2100), _u(1_000_000))
    cfg = _apply(log, ecotone=False)
    assert (cfg.overhead, cfg.scalar) == (_u(2100), _u(1_000_000))


def test_fee_scalars_post_ecotone() -> None:
    # setGasConfigEcotone: (uint256(0x01) << 248) | (uint256(blob) << 32) | base
    scalar = _u((1 << 248) | (810949 << 32) | 1368)
    cfg = _apply(_log(1, _u(2100) + scalar))
    assert cfg.scalar == scalar and cfg.overhead == ZERO_HASH
    assert ecotone_scalars(cfg) == (1368, 810949)
    # a version-0 scalar is valid after Ecotone too
    cfg = _apply(_log(1, _u(5) + _u(7777)))
    assert cfg.scalar == _u(7777) and cfg.overhead == ZERO_HASH
    assert ecotone_scalars(cfg) == (7777, 0)
    # invalid scalars are ignored (no error, old values kept)
    for bad in (
        _u(1 << 224),  # version 0 with non-zero padding
        _u((1 << 248) | (1 << 200)),  # version 1 with non-zero padding
        _u(2 << 248),  # unknown version
    ):
        assert _apply(_log(1, _u(1) + bad)) == BASE
        assert _apply(_log(1, _u(1) + bad), ecotone=False).scalar == bad


def test_gas_limit() -> None:
    assert decode_config_update_log(_log(2, _u(60_000_000, "uint64"))) == GasLimitUpdate(60_000_000)
    assert _apply(_log(2, _u(2**64 - 1))).gas_limit == 2**64 - 1
    with pytest.raises(SystemConfigLogError, match="gas limit"):
        decode_config_update_log(_log(2, _u(2**64)))


def test_unsafe_block_signer_is_ignored() -> None:
    log = _log(3, _addr(SIGNER))
    assert decode_config_update_log(log) == UnsafeBlockSignerUpdate(SIGNER)
    assert _apply(log) == BASE
    # op-node does not parse it: malformed data is not an error
    assert decode_config_update_log(_log(3, b"", data=b"\x01\x02")) == UnsafeBlockSignerUpdate(None)


def test_eip1559_params() -> None:
    log = _log(4, _u((250 << 32) | 6))
    assert decode_config_update_log(log) == EIP1559ParamsUpdate(_u((250 << 32) | 6))
    cfg = _apply(log)
    assert cfg.eip1559_params == bytes.fromhex("000000fa00000006")
    assert eip1559_params(cfg) == (250, 6)
    assert eip1559_params(_apply(_log(4, _u(0)))) == (0, 0)
    for bad in ((0 << 32) | 6, 250 << 32):
        with pytest.raises(SystemConfigLogError, match="EIP-1559"):
            decode_config_update_log(_log(4, _u(bad)))
    # op-node copies the low 8 bytes without looking at the high 24 (kona rejects them)
    assert eip1559_params(_apply(_log(4, _u((1 << 200) | (8 << 32) | 2)))) == (8, 2)


def test_operator_fee_params() -> None:
    # setOperatorFeeScalars: uint256(scalar) << 64 | constant
    word = _u((43981 << 64) | 56506)
    log = _log(5, word)
    assert decode_config_update_log(log) == OperatorFeeParamsUpdate(word)
    cfg = _apply(log)
    assert cfg.operator_fee_params == word
    assert operator_fee_scalars(cfg) == (43981, 56506)
    assert operator_fee_scalars(_apply(_log(5, _u(((2**32 - 1) << 64) | (2**64 - 1))))) == (
        2**32 - 1,
        2**64 - 1,
    )


def test_min_base_fee() -> None:
    log = _log(6, _u(1_000_000_007, "uint64"))
    assert decode_config_update_log(log) == MinBaseFeeUpdate(1_000_000_007)
    assert _apply(log).min_base_fee == 1_000_000_007
    with pytest.raises(SystemConfigLogError, match="minBaseFee"):
        decode_config_update_log(_log(6, _u(2**64)))


def test_da_footprint_gas_scalar() -> None:
    log = _log(7, _u(100, "uint16"))
    assert decode_config_update_log(log) == DAFootprintGasScalarUpdate(100)
    cfg = _apply(log)
    assert cfg.da_footprint_gas_scalar == 100
    assert effective_da_footprint_gas_scalar(cfg) == 100
    cfg0 = _apply(_log(7, _u(0, "uint16")))
    assert cfg0.da_footprint_gas_scalar == 0
    assert effective_da_footprint_gas_scalar(cfg0) == 400
    assert _apply(_log(7, _u(65535))).da_footprint_gas_scalar == 65535
    with pytest.raises(SystemConfigLogError, match="DA footprint"):
        decode_config_update_log(_log(7, _u(65536)))


def _bad(log: Log, match: str) -> None:
    with pytest.raises(SystemConfigLogError, match=match):
        decode_config_update_log(log)


def test_topic_checks() -> None:
    log = _log(0, _addr(BATCHER))
    _bad(Log(SYSCFG, log.topics[:2], log.data), "expected 3 event topics")
    _bad(Log(SYSCFG, (*log.topics, ZERO_HASH), log.data), "expected 3 event topics")
    _bad(Log(SYSCFG, (keccak(b"x"), *log.topics[1:]), log.data), "invalid SystemConfig update event")
    _bad(_log(0, _addr(BATCHER), version=1), "version")
    _bad(_log(8, _addr(BATCHER)), "unknown SystemConfig event type")
    _bad(_log((1 << 255) | 0, _addr(BATCHER)), "unknown SystemConfig event type")
    _bad(Log(SYSCFG, (*log.topics[:2], b"\x00"), log.data), "32 bytes")


@pytest.mark.parametrize("utype", [0, 1, 2, 4, 5, 6, 7])
def test_abi_wrapper_checks(utype: int) -> None:
    payloads = {0: _addr(BATCHER), 1: _u(1) + _u(2), 4: _u((50 << 32) | 6)}
    payload = payloads.get(utype, _u(1))
    data = abi_encode(["bytes"], [payload])
    decode_config_update_log(_log(utype, b"", data=data))  # well-formed
    _bad(_log(utype, b"", data=_u(64) + data[32:]), "invalid pointer")
    _bad(_log(utype, b"", data=b"\x01" + data[1:]), "invalid pointer")  # pointer padding
    _bad(_log(utype, b"", data=data[:20]), "invalid pointer")
    _bad(_log(utype, b"", data=data[:32] + _u(len(payload) + 32) + data[64:]), "invalid length")
    _bad(_log(utype, b"", data=data[:32] + b"\x01" + data[33:]), "invalid length")
    _bad(_log(utype, b"", data=data[:32]), "invalid length")
    _bad(_log(utype, b"", data=data + bytes(32)), "too many bytes")
    _bad(_log(utype, b"", data=data + b"\x00"), "too many bytes")
    _bad(_log(utype, b"", data=data[:-1]), "could not read")


def test_batcher_address_padding() -> None:
    _bad(_log(0, b"\x01" + _addr(BATCHER)[1:]), "address padding")


@settings(max_examples=300)
@given(
    utype=st.integers(0, 9),
    data=st.one_of(
        st.binary(max_size=200),
        st.builds(lambda p, tail: _u(32) + _u(p) + tail, st.sampled_from([0, 32, 64]),
                  st.binary(max_size=100)),
    ),
    version=st.sampled_from([0, 0, 0, 1]),
)
def test_arbitrary_logs_raise_only_log_error(utype: int, data: bytes, version: int) -> None:
    log = _log(utype, b"", data=data, version=version)
    try:
        update = decode_config_update_log(log)
    except SystemConfigLogError:
        return
    apply_update(BASE, update, ecotone_active=True)
    apply_update(BASE, update, ecotone_active=False)


def test_update_from_receipts() -> None:
    other = bytes.fromhex("00000000000000000000000000000000000000aa")
    logs_ok = (
        _log(0, _addr(BATCHER)),
        _log(2, _u(45_000_000)),
        Log(other, _log(2, _u(1)).topics, _log(2, _u(1)).data),  # other contract: ignored
        Log(SYSCFG, (keccak(b"OwnershipTransferred(address,address)"),), b""),  # other event
        _log(4, _u(0 << 32 | 6)),  # malformed: skipped
        _log(2, _u(50_000_000)),  # later update wins
    )
    receipts = [
        Receipt(1, logs_ok),
        Receipt(0, (_log(0, _addr(SIGNER)),)),  # failed tx: ignored
        Receipt(1, (_log(6, _u(7)), _log(9, _u(1)))),
    ]
    cfg, errors = update_system_config_from_receipts(BASE, receipts, SYSCFG, ecotone_active=True)
    assert cfg == dataclasses.replace(
        BASE, batcher_addr=BATCHER, gas_limit=50_000_000, min_base_fee=7
    )
    assert [(i, j) for i, j, _ in errors] == [(0, 4), (2, 1)]
    assert all(isinstance(e, SystemConfigLogError) for _, _, e in errors)
    cfg2, errors2 = update_system_config_from_receipts(BASE, receipts, other, ecotone_active=True)
    assert cfg2 == dataclasses.replace(BASE, gas_limit=1) and errors2 == []


def test_encode_config_update_log_matches_solidity() -> None:
    for utype, payload in ((0, _addr(BATCHER)), (1, _u(1) + _u(2)), (7, _u(9, "uint16"))):
        assert encode_config_update_log(SYSCFG, utype, payload) == _log(utype, payload)


def test_ecotone_scalar_decoding() -> None:
    golden = json.loads((SHARED_VECTORS / "golden-values.json").read_text())["l1_info_calldata"]
    eco = golden["ecotone"]["expected"]
    scalar = _u((1 << 248) | (eco["blob_base_fee_scalar"] << 32) | eco["base_fee_scalar"])
    assert decode_ecotone_scalar(scalar) == (eco["base_fee_scalar"], eco["blob_base_fee_scalar"])
    assert encode_ecotone_scalar(eco["base_fee_scalar"], eco["blob_base_fee_scalar"]) == scalar
    bedrock = int(golden["bedrock"]["expected"]["l1_fee_scalar"], 16)
    assert decode_ecotone_scalar(_u(bedrock)) == (bedrock, 0)
    # version 0 with non-zero padding: baseFeeScalar = MaxUint32 (system-config.md)
    assert decode_ecotone_scalar(_u((1 << 100) | 5)) == (2**32 - 1, 0)
    with pytest.raises(SystemConfigError):
        decode_ecotone_scalar(_u((1 << 248) | (1 << 190)))
    with pytest.raises(SystemConfigError):
        decode_ecotone_scalar(_u(3 << 248))
    with pytest.raises(SystemConfigError):
        encode_ecotone_scalar(2**32, 0)
