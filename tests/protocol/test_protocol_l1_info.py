"""L1-info deposit: calldata formats, fork selection, the deposit tx, against real chain data."""

from __future__ import annotations

import contextlib
import json
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from eth_hash.auto import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from pyop.codec.errors import CodecError
from pyop.primitives import SystemConfig
from pyop.protocol.deposits import DepositTx, l1_info_deposit_source_hash
from pyop.protocol.l1_info import (
    BLOB_BASE_FEE_UPDATE_FRACTION_CANCUN,
    BLOB_BASE_FEE_UPDATE_FRACTION_PRAGUE,
    CALLDATA_LENGTHS,
    SELECTORS,
    L1BlockInfo,
    L1InfoError,
    L1InfoFormat,
    L1OriginInfo,
    blob_base_fee,
    build_l1_block_info,
    decode_l1_info,
    decode_l1_info_tx,
    ecotone_scalars,
    encode_ecotone_scalar,
    encode_l1_info,
    l1_info_deposit_tx,
    l1_info_format_at,
    operator_fee_params,
)
from pyop.protocol.predeploys import L1_BLOCK, L1_INFO_DEPOSITOR
from tests.conftest import SPEC_VECTORS

VEC = SPEC_VECTORS / "l1info"


def _hex(s: str) -> bytes:
    return bytes.fromhex(s.strip().removeprefix("0x"))


def _read_hex(p: Path) -> bytes:
    return _hex(p.read_text())


# --- A fork schedule with op-node's activation-block semantics -----------------------------------


@dataclass
class Forks:
    """``is_<fork>(t)`` = time set and ``t >= time``; activation block = first block at/after
    the time, i.e. ``is_x(t) and t >= block_time and not is_x(t - block_time)`` (op-node)."""

    times: dict[str, int | None] = field(default_factory=dict)
    block_time: int = 2

    def _on(self, name: str, t: int) -> bool:
        x = self.times.get(name)
        return x is not None and t >= x

    def _act(self, name: str, t: int) -> bool:
        return self._on(name, t) and t >= self.block_time and not self._on(name, t - self.block_time)

    def is_regolith(self, t: int) -> bool:
        return self._on("regolith", t)

    def is_ecotone(self, t: int) -> bool:
        return self._on("ecotone", t)

    def is_ecotone_activation_block(self, t: int) -> bool:
        return self._act("ecotone", t)

    def is_isthmus(self, t: int) -> bool:
        return self._on("isthmus", t)

    def is_isthmus_activation_block(self, t: int) -> bool:
        return self._act("isthmus", t)

    def is_jovian(self, t: int) -> bool:
        return self._on("jovian", t)

    def is_jovian_activation_block(self, t: int) -> bool:
        return self._act("jovian", t)


# --- Selectors and lengths (spec tables) ---------------------------------------------------------


def test_selectors_match_the_spec_tables() -> None:
    assert SELECTORS[L1InfoFormat.BEDROCK] == _hex("015d8eb9")  # deposits.md / Go reference
    assert SELECTORS[L1InfoFormat.ECOTONE] == _hex("440a5e20")  # ecotone/l1-attributes.md
    assert SELECTORS[L1InfoFormat.ISTHMUS] == _hex("098999be")  # isthmus/l1-attributes.md
    assert SELECTORS[L1InfoFormat.JOVIAN] == _hex("3db6be2b")  # jovian/l1-attributes.md
    assert keccak(b"setL1BlockValuesJovian()")[:4] == _hex("3db6be2b")
    assert CALLDATA_LENGTHS == {
        L1InfoFormat.BEDROCK: 260,
        L1InfoFormat.ECOTONE: 164,
        L1InfoFormat.ISTHMUS: 176,
        L1InfoFormat.JOVIAN: 178,
    }


# --- Golden calldata (OP Mainnet, via kona) -----------------------------------------------------


def _golden() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VEC / "golden-l1-info-calldata.json").read_text())
    return data


def _check_common(info: L1BlockInfo, exp: dict[str, Any]) -> None:
    assert info.number == exp["number"]
    assert info.time == exp["time"]
    assert info.base_fee == exp["base_fee"]
    assert info.block_hash == _hex(exp["block_hash"])
    assert info.sequence_number == exp["sequence_number"]
    assert info.batcher_addr == _hex(exp["batcher_address"])


def test_golden_bedrock_calldata() -> None:
    case = _golden()["bedrock"]
    cd = _hex(case["calldata"])
    info = decode_l1_info(cd)
    assert info.format is L1InfoFormat.BEDROCK
    _check_common(info, case["expected"])
    assert int.from_bytes(info.l1_fee_overhead, "big") == int(case["expected"]["l1_fee_overhead"], 16)
    assert int.from_bytes(info.l1_fee_scalar, "big") == int(case["expected"]["l1_fee_scalar"], 16)
    assert encode_l1_info(info) == cd


def test_golden_ecotone_and_isthmus_calldata() -> None:
    g = _golden()
    eco = g["ecotone"]
    info = decode_l1_info(_hex(eco["calldata"]))
    assert info.format is L1InfoFormat.ECOTONE
    _check_common(info, eco["expected"])
    assert info.blob_base_fee == eco["expected"]["blob_base_fee"]
    assert info.blob_base_fee_scalar == eco["expected"]["blob_base_fee_scalar"]
    assert info.base_fee_scalar == eco["expected"]["base_fee_scalar"]
    assert encode_l1_info(info) == _hex(eco["calldata"])

    ist = g["isthmus_synthetic"]
    info2 = decode_l1_info(_hex(ist["calldata"]))
    assert info2.format is L1InfoFormat.ISTHMUS
    assert info2.operator_fee_scalar == ist["expected"]["operator_fee_scalar"]
    assert info2.operator_fee_constant == ist["expected"]["operator_fee_constant"]
    assert replace(info2, operator_fee_scalar=0, operator_fee_constant=0,
                   format=L1InfoFormat.ECOTONE) == info  # fmt: skip
    assert encode_l1_info(info2) == _hex(ist["calldata"])
    # The Isthmus calldata is the Ecotone one with 12 bytes appended.
    assert encode_l1_info(info2, L1InfoFormat.ECOTONE) == _hex(eco["calldata"])


@pytest.mark.parametrize("name", ["bedrock", "ecotone"])
def test_magi_op_goerli_calldata(name: str) -> None:
    cd = _read_hex(VEC / f"attributes_deposited_calldata_{name}.hex")
    exp = _golden()[f"magi_{name}_op_goerli"]["expected"]
    info = decode_l1_info(cd)
    assert info.block_hash == _hex(exp["hash"])  # the L1 block hash
    assert info.number == exp["number"]
    assert info.time == exp["timestamp"]
    if name == "ecotone":
        assert info.blob_base_fee_scalar == exp["blob_base_fee_scalar"]
        assert info.blob_base_fee == exp["blob_base_fee"]
    assert encode_l1_info(info) == cd


# --- Real OP Sepolia L1-info deposits -----------------------------------------------------------


def _sepolia() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VEC / "op-sepolia-l1-info-txs.json").read_text())
    return data


def test_op_sepolia_vectors_present() -> None:
    assert len(_sepolia()) >= 15


@pytest.mark.parametrize("key", sorted(_sepolia()))
def test_op_sepolia_l1_info_tx(key: str) -> None:
    case = _sepolia()[key]
    exp = case["expected"]
    raw = _hex(case["l1_info_tx"])
    tx, info = decode_l1_info_tx(raw)

    assert keccak(raw) == _hex(exp["l1info_tx_hash"])
    assert tx.tx_hash() == _hex(exp["l1info_tx_hash"])
    assert tx.source_hash == _hex(exp["l1info_source_hash"])
    assert tx.source_hash == l1_info_deposit_source_hash(info.block_hash, info.sequence_number)
    assert tx.data[:4] == _hex(exp["l1info_selector"])
    assert (tx.from_, tx.to, tx.mint, tx.value) == (L1_INFO_DEPOSITOR, L1_BLOCK, 0, 0)
    assert (tx.gas, tx.is_system_tx) == (1_000_000, False)
    assert info.number == exp["l1_origin_number"]
    assert info.time == exp["l1_origin_time"]
    assert info.block_hash == _hex(exp["l1_origin_hash"])
    assert info.sequence_number == exp["sequence_number"]
    assert info.base_fee == exp["l1_base_fee"]
    assert info.blob_base_fee == exp["l1_blob_base_fee"]
    assert info.base_fee_scalar == exp["base_fee_scalar"]
    assert info.blob_base_fee_scalar == exp["blob_base_fee_scalar"]
    assert b"\x00" * 12 + info.batcher_addr == _hex(exp["batcher_hash"])

    # Rebuild the tx from its inputs with the config-driven builder: must give the same bytes.
    ft = case["rollup_config_fork_times"]
    l2_time = int(case["payload_timestamp"], 16)
    assert l2_time == exp["timestamp"]
    canyon = ft["canyon_time"]
    forks = Forks(
        times={
            # Regolith is at genesis on OP Sepolia; the fixture omits it, Canyon implies it.
            "regolith": ft["regolith_time"] if ft["regolith_time"] is not None else canyon,
            "ecotone": ft["ecotone_time"],
            "isthmus": ft["isthmus_time"],
            "jovian": ft["jovian_time"],
        },
        block_time=case["block_time"],
    )
    sys_cfg = SystemConfig(
        batcher_addr=_hex(exp["batcher_hash"])[12:],
        overhead=b"\x00" * 32,
        scalar=b"\x01" + b"\x00" * 23
        + exp["blob_base_fee_scalar"].to_bytes(4, "big")
        + exp["base_fee_scalar"].to_bytes(4, "big"),
        gas_limit=exp["gas_limit"],
    )
    origin = L1OriginInfo(
        hash=_hex(exp["l1_origin_hash"]),
        number=exp["l1_origin_number"],
        timestamp=exp["l1_origin_time"],
        base_fee=exp["l1_base_fee"],
        blob_base_fee=exp["l1_blob_base_fee"],
    )
    rebuilt = l1_info_deposit_tx(forks, sys_cfg, origin, exp["sequence_number"], l2_time)
    assert rebuilt.encode() == raw


# --- Which format, gas and system flag ----------------------------------------------------------

T0 = 1_000_000  # a fork time well after genesis


def _sys(**kw: Any) -> SystemConfig:
    base: dict[str, Any] = {
        "batcher_addr": b"\xaa" * 20,
        "overhead": (188).to_bytes(32, "big"),
        "scalar": (684_000).to_bytes(32, "big"),
        "gas_limit": 30_000_000,
    }
    base.update(kw)
    return SystemConfig(**base)


ORIGIN = L1OriginInfo(hash=b"\x11" * 32, number=123, timestamp=T0 - 20, base_fee=7, blob_base_fee=None)


@pytest.mark.parametrize(
    ("times", "ts", "fmt"),
    [
        ({"ecotone": T0}, T0 - 2, L1InfoFormat.BEDROCK),
        ({"ecotone": T0}, T0, L1InfoFormat.BEDROCK),  # Ecotone activation block
        ({"ecotone": T0}, T0 + 1, L1InfoFormat.BEDROCK),  # still the activation block
        ({"ecotone": T0}, T0 + 2, L1InfoFormat.ECOTONE),
        ({"ecotone": 0, "isthmus": T0}, T0, L1InfoFormat.ECOTONE),  # Isthmus activation block
        ({"ecotone": 0, "isthmus": T0}, T0 + 2, L1InfoFormat.ISTHMUS),
        ({"ecotone": 0, "isthmus": 0, "jovian": T0}, T0, L1InfoFormat.ISTHMUS),
        ({"ecotone": 0, "isthmus": 0, "jovian": T0}, T0 + 2, L1InfoFormat.JOVIAN),
        ({"ecotone": 0, "isthmus": T0, "jovian": T0}, T0, L1InfoFormat.ECOTONE),
        ({"ecotone": T0, "isthmus": T0, "jovian": T0}, T0, L1InfoFormat.BEDROCK),
        ({"ecotone": T0, "isthmus": T0, "jovian": T0}, T0 + 2, L1InfoFormat.JOVIAN),
        ({"ecotone": 0, "isthmus": 0, "jovian": 0}, 0, L1InfoFormat.JOVIAN),  # genesis
        ({"ecotone": 0, "isthmus": 0, "jovian": 0}, 2, L1InfoFormat.JOVIAN),
    ],
)
def test_format_at(times: dict[str, int], ts: int, fmt: L1InfoFormat) -> None:
    forks = Forks(times={"regolith": 0, **times})
    assert l1_info_format_at(forks, ts) is fmt
    tx = l1_info_deposit_tx(forks, _sys(), ORIGIN, 3, ts)
    assert len(tx.data) == CALLDATA_LENGTHS[fmt]
    assert tx.data[:4] == SELECTORS[fmt]


def test_gas_and_system_flag_before_and_after_regolith() -> None:
    forks = Forks(times={"regolith": T0})
    pre = l1_info_deposit_tx(forks, _sys(), ORIGIN, 0, T0 - 2)
    post = l1_info_deposit_tx(forks, _sys(), ORIGIN, 0, T0)
    assert (pre.gas, pre.is_system_tx) == (150_000_000, True)
    assert (post.gas, post.is_system_tx) == (1_000_000, False)
    for tx in (pre, post):
        assert (tx.from_, tx.to, tx.mint, tx.value) == (L1_INFO_DEPOSITOR, L1_BLOCK, 0, 0)
        assert tx.source_hash == l1_info_deposit_source_hash(ORIGIN.hash, 0)
    assert pre.data == post.data


def test_bedrock_info_copies_overhead_and_scalar() -> None:
    info = build_l1_block_info(L1InfoFormat.BEDROCK, _sys(), ORIGIN, 5)
    assert info.l1_fee_overhead == (188).to_bytes(32, "big")
    assert info.l1_fee_scalar == (684_000).to_bytes(32, "big")
    assert (info.number, info.time, info.base_fee, info.sequence_number) == (123, T0 - 20, 7, 5)


def test_ecotone_info_blob_base_fee_defaults_to_one_and_scalars() -> None:
    scalar = encode_ecotone_scalar(base_fee_scalar=1368, blob_base_fee_scalar=810949)
    info = build_l1_block_info(L1InfoFormat.ECOTONE, _sys(scalar=scalar), ORIGIN, 0)
    assert info.blob_base_fee == 1  # no excessBlobGas on the origin: MIN_BLOB_GASPRICE
    assert (info.base_fee_scalar, info.blob_base_fee_scalar) == (1368, 810949)
    info2 = build_l1_block_info(L1InfoFormat.ECOTONE, _sys(scalar=scalar),
                                replace(ORIGIN, blob_base_fee=17683022066), 0)  # fmt: skip
    assert info2.blob_base_fee == 17683022066


def test_isthmus_and_jovian_info_from_system_config() -> None:
    params = ((0xABCD << 64) | 0xDCBA).to_bytes(32, "big")  # uint256(scalar) << 64 | constant
    assert operator_fee_params(params) == (0xABCD, 0xDCBA)
    cfg = _sys(operator_fee_params=params, da_footprint_gas_scalar=0)
    ist = build_l1_block_info(L1InfoFormat.ISTHMUS, cfg, ORIGIN, 1)
    assert (ist.operator_fee_scalar, ist.operator_fee_constant) == (0xABCD, 0xDCBA)
    assert ist.da_footprint_gas_scalar == 0
    jov = build_l1_block_info(L1InfoFormat.JOVIAN, cfg, ORIGIN, 1)
    assert jov.da_footprint_gas_scalar == 400  # jovian/l1-attributes.md: 0 -> default 400
    assert encode_l1_info(jov)[176:178] == (400).to_bytes(2, "big")
    jov2 = build_l1_block_info(L1InfoFormat.JOVIAN, replace(cfg, da_footprint_gas_scalar=7), ORIGIN, 1)
    assert jov2.da_footprint_gas_scalar == 7
    # Jovian = Isthmus calldata + 2 bytes, with its own selector.
    assert encode_l1_info(jov2)[4:176] == encode_l1_info(ist)[4:176]


def test_ecotone_scalars_versions() -> None:
    v0 = (684_000).to_bytes(32, "big")
    assert ecotone_scalars(v0) == (684_000, 0)
    dirty = b"\x00" + b"\x01" + b"\x00" * 26 + (5).to_bytes(4, "big")
    assert ecotone_scalars(dirty) == (0xFFFFFFFF, 0)  # system-config.md: MaxUint32
    v1 = b"\x01" + b"\x00" * 23 + (862000).to_bytes(4, "big") + (7600).to_bytes(4, "big")
    assert ecotone_scalars(v1) == (7600, 862000)
    assert encode_ecotone_scalar(7600, 862000) == v1
    with pytest.raises(L1InfoError):
        ecotone_scalars(b"\x01\x01" + b"\x00" * 30)
    with pytest.raises(L1InfoError):
        ecotone_scalars(b"\x02" + b"\x00" * 31)


def test_blob_base_fee() -> None:
    assert blob_base_fee(0) == 1
    assert blob_base_fee(0, BLOB_BASE_FEE_UPDATE_FRACTION_PRAGUE) == 1
    # fake_exponential(1, x, f) approximates e^(x/f) from below.
    for frac in (BLOB_BASE_FEE_UPDATE_FRACTION_CANCUN, BLOB_BASE_FEE_UPDATE_FRACTION_PRAGUE):
        for excess in (frac, 10 * frac, 30 * frac + 12345, 50_000_000):
            got = blob_base_fee(excess, frac)
            want = math.exp(excess / frac)
            assert abs(got - want) <= max(1.0, want * 1e-9), (excess, frac, got, want)
    assert blob_base_fee(100_000_000, BLOB_BASE_FEE_UPDATE_FRACTION_PRAGUE) < blob_base_fee(
        100_000_000, BLOB_BASE_FEE_UPDATE_FRACTION_CANCUN
    )
    with pytest.raises(L1InfoError):
        blob_base_fee(-1)


# --- Errors -------------------------------------------------------------------------------------


def _golden_bedrock() -> bytes:
    return _hex(_golden()["bedrock"]["calldata"])


def test_wrong_length_and_selector() -> None:
    cd = _golden_bedrock()
    with pytest.raises(L1InfoError) as e:
        decode_l1_info(cd + b"\x00")
    assert e.value.offset == 260
    with pytest.raises(L1InfoError):
        decode_l1_info(cd[:-1])
    with pytest.raises(L1InfoError) as e2:
        decode_l1_info(b"\xde\xad\xbe\xef" + cd[4:])
    assert e2.value.offset == 0
    with pytest.raises(L1InfoError):
        decode_l1_info(b"\x01")


@pytest.mark.parametrize(("offset", "name"), [(4, "number"), (36, "time"), (132, "sequence_number"),
                                              (164, "batcher_addr")])  # fmt: skip
def test_bedrock_padding_checks(offset: int, name: str) -> None:
    cd = bytearray(_golden_bedrock())
    cd[offset] = 1  # a high byte of a uint64 word / the address padding
    with pytest.raises(L1InfoError) as e:
        decode_l1_info(bytes(cd))
    assert e.value.offset == offset
    assert name in str(e.value)


def test_bedrock_uint256_and_bytes32_words_are_free() -> None:
    cd = bytearray(_golden_bedrock())
    cd[68] = 0xFF  # base fee: uint256
    cd[196] = 0xFF  # overhead: bytes32
    info = decode_l1_info(bytes(cd))
    assert info.base_fee >> 248 == 0xFF
    assert encode_l1_info(info) == bytes(cd)


def test_packed_batcher_padding_check() -> None:
    cd = bytearray(_hex(_golden()["ecotone"]["calldata"]))
    cd[140] = 1
    with pytest.raises(L1InfoError) as e:
        decode_l1_info(bytes(cd))
    assert e.value.offset == 132


def test_encode_rejects_values_that_do_not_fit() -> None:
    info = decode_l1_info(_hex(_golden()["ecotone"]["calldata"]))
    for bad in (replace(info, number=1 << 64), replace(info, base_fee_scalar=1 << 32),
                replace(info, sequence_number=-1), replace(info, batcher_addr=b"\x00" * 19),
                replace(info, da_footprint_gas_scalar=1 << 16, format=L1InfoFormat.JOVIAN)):  # fmt: skip
        with pytest.raises(L1InfoError):
            encode_l1_info(bad)


def test_decode_tx_rejects_non_l1_info_deposits() -> None:
    raw = _hex(next(iter(_sepolia().values()))["l1_info_tx"])
    tx, _ = decode_l1_info_tx(raw)
    for bad in (replace(tx, to=b"\x42" * 20), replace(tx, from_=b"\x00" * 20)):
        with pytest.raises(L1InfoError):
            decode_l1_info_tx(bad.encode())
    with pytest.raises(CodecError):
        decode_l1_info_tx(b"\x7e\xc0")


def test_to_json() -> None:
    info = decode_l1_info(_hex(_golden()["isthmus_synthetic"]["calldata"]))
    j = info.to_json()
    assert j["format"] == "isthmus"
    assert j["operator_fee_scalar"] == 43981
    assert j["block_hash"] == _golden()["ecotone"]["expected"]["block_hash"]
    assert "da_footprint_gas_scalar" not in j and "l1_fee_overhead" not in j
    json.dumps(j)


# --- Property tests -----------------------------------------------------------------------------

u16 = st.integers(0, (1 << 16) - 1)
u32 = st.integers(0, (1 << 32) - 1)
u64 = st.integers(0, (1 << 64) - 1)
u256 = st.integers(0, (1 << 256) - 1)
b32 = st.binary(min_size=32, max_size=32)
b20 = st.binary(min_size=20, max_size=20)


@st.composite
def infos(draw: st.DrawFn) -> L1BlockInfo:
    fmt = draw(st.sampled_from(list(L1InfoFormat)))
    common = {"number": draw(u64), "time": draw(u64), "base_fee": draw(u256),
              "block_hash": draw(b32), "sequence_number": draw(u64), "batcher_addr": draw(b20)}  # fmt: skip
    if fmt is L1InfoFormat.BEDROCK:
        return L1BlockInfo(**common, l1_fee_overhead=draw(b32), l1_fee_scalar=draw(b32), format=fmt)
    ext = fmt in (L1InfoFormat.ISTHMUS, L1InfoFormat.JOVIAN)
    return L1BlockInfo(
        **common,
        base_fee_scalar=draw(u32),
        blob_base_fee=draw(u256),
        blob_base_fee_scalar=draw(u32),
        operator_fee_scalar=draw(u32) if ext else 0,
        operator_fee_constant=draw(u64) if ext else 0,
        da_footprint_gas_scalar=draw(u16) if fmt is L1InfoFormat.JOVIAN else 0,
        format=fmt,
    )


@settings(max_examples=300, deadline=None)
@given(infos())
def test_round_trip(info: L1BlockInfo) -> None:
    cd = encode_l1_info(info)
    assert len(cd) == CALLDATA_LENGTHS[info.format]
    assert decode_l1_info(cd) == info
    tx = DepositTx(l1_info_deposit_source_hash(info.block_hash, info.sequence_number),
                   L1_INFO_DEPOSITOR, L1_BLOCK, 0, 0, 1_000_000, False, cd)  # fmt: skip
    assert decode_l1_info_tx(tx.encode()) == (tx, info)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_raise_only_l1_info_error(data: bytes) -> None:
    with contextlib.suppress(L1InfoError):
        decode_l1_info(data)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(list(L1InfoFormat)), st.data())
def test_right_selector_and_length_with_random_body(fmt: L1InfoFormat, data: st.DataObject) -> None:
    body = data.draw(st.binary(min_size=CALLDATA_LENGTHS[fmt] - 4, max_size=CALLDATA_LENGTHS[fmt] - 4))
    cd = SELECTORS[fmt] + body
    try:
        info = decode_l1_info(cd)
    except L1InfoError:
        return
    assert encode_l1_info(info) == cd


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_tx_bytes_raise_only_codec_errors(data: bytes) -> None:
    for raw in (data, b"\x7e" + data):
        with contextlib.suppress(CodecError):
            decode_l1_info_tx(raw)
