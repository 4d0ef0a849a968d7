"""Tests of pyop.codec.span_txs: the ``txs`` section of span batches
(specs/protocol/delta/span-batches.md; type 4 from specs/protocol/isthmus/derivation.md).

Vectors: hildr's Go-generated field encodings (spec_vectors/span/span-tx-fields/, parameters and
expected ``v`` values in spec_vectors/span/hildr-test-params.json). Independent checks: pyrlp
for the ``tx_datas`` layout, eth_account for signed transactions.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import rlp
from eth_account import Account
from hypothesis import given, settings
from hypothesis import strategies as st

from pyop.codec.errors import CodecError, SpanBatchError
from pyop.codec.span_txs import (
    MAX_SPAN_BATCH_ELEMENT_COUNT,
    SpanBatchTxs,
    decode_bits,
    decode_tx_sigs,
    decode_tx_tos,
    encode_bits,
    encode_tx_sigs,
    read_tx_data,
    read_uvarint,
    read_uvarints,
    write_uvarint,
)
from pyop.codec.tx import Authorization, decode_signed_tx, make_signed_tx
from tests.conftest import SPEC_VECTORS

VEC = SPEC_VECTORS / "span" / "span-tx-fields"
PARAMS: dict[str, Any] = json.loads((SPEC_VECTORS / "span" / "hildr-test-params.json").read_text())
FIELD = PARAMS["field_files"]


def _hex(name: str) -> bytes:
    text = (VEC / name).read_text().strip()
    assert text.startswith("0x"), name
    return bytes.fromhex(text[2:])


def _hex_lines(name: str) -> list[bytes]:
    out = [
        bytes.fromhex(ln.strip().removeprefix("0x"))
        for ln in (VEC / name).read_text().splitlines()
        if ln.strip()
    ]
    assert out, f"no vectors in {name}"
    return out


# ---- primitives ---------------------------------------------------------------------------


def test_uvarint_protobuf_examples() -> None:
    # protobuf encoding guide: 1 -> 01, 150 -> 96 01, 300 -> ac 02
    for n, enc in [(0, "00"), (1, "01"), (127, "7f"), (150, "9601"), (300, "ac02"),
                   (2**64 - 1, "ffffffffffffffffff01")]:  # fmt: skip
        assert write_uvarint(n).hex() == enc
        assert read_uvarint(bytes.fromhex(enc) + b"\xee", 0) == (n, len(enc) // 2)
    with pytest.raises(SpanBatchError):
        write_uvarint(2**64)


def test_uvarint_go_compat() -> None:
    # Go binary.ReadUvarint accepts non-minimal encodings ...
    assert read_uvarint(b"\x80\x00", 0) == (0, 2)
    assert read_uvarint(b"\x81\x80\x80\x00", 0) == (1, 4)
    # ... rejects a 10th byte above 1 (64-bit overflow) and an 11-byte varint ...
    with pytest.raises(SpanBatchError):
        read_uvarint(b"\xff" * 9 + b"\x02", 0)
    with pytest.raises(SpanBatchError):
        read_uvarint(b"\x80" * 10 + b"\x00", 0)
    # ... and truncated input.
    with pytest.raises(SpanBatchError) as ei:
        read_uvarint(b"\x01\x80", 1)
    assert ei.value.offset == 2


def test_bitlists() -> None:
    # span-batches.md: big-endian, left-padded to a multiple of 8 bits
    assert encode_bits(0b1100, 4) == b"\x0c"
    assert encode_bits(1 << 8, 9) == b"\x01\x00"
    assert encode_bits(0, 0) == b""
    assert decode_bits(b"\x01\x00\xff", 0, 9) == (256, 2)
    with pytest.raises(SpanBatchError):
        encode_bits(1 << 9, 9)
    with pytest.raises(SpanBatchError):  # bit 9 set in a 9-bit list
        decode_bits(b"\x02\x00", 0, 9)
    with pytest.raises(SpanBatchError):  # not enough bytes
        decode_bits(b"\x01", 0, 9)


# ---- hildr field vectors: encode(decode(x)) == x ---------------------------------------------


def test_field_tx_sigs() -> None:
    data = _hex("txsigs.txt")
    n = FIELD["txsigs.txt"]["total_block_tx_count"]
    sigs, end = decode_tx_sigs(data, 0, n)
    assert end == len(data) == 64 * n
    assert encode_tx_sigs(sigs) == data


@pytest.mark.parametrize("name", ["txnonces.txt", "txgases.txt"])
def test_field_uvarints(name: str) -> None:
    data = _hex(name)
    vals, end = read_uvarints(data, 0, FIELD[name]["total_block_tx_count"])
    assert end == len(data)
    assert b"".join(write_uvarint(v) for v in vals) == data


def test_field_tx_tos() -> None:
    data = _hex("txtos.txt")
    n = FIELD["txtos.txt"]["total_block_tx_count"]
    cc = int(FIELD["txtos.txt"]["contract_creation_bits"], 16)
    count = n - bin(cc).count("1")
    tos, end = decode_tx_tos(data, 0, count)
    assert end == len(data) == 20 * count
    assert b"".join(tos) == data


def test_field_tx_datas() -> None:
    data = _hex("txdatas.txt")
    p = 0
    parts = []
    for _ in range(FIELD["txdatas.txt"]["total_block_tx_count"]):
        d, t, p = read_tx_data(data, p)
        parts.append(d)
        # independent: the entry is [type byte] ++ one RLP list (pyrlp)
        assert t in (0, 1, 2)
        body = d if t == 0 else d[1:]
        assert isinstance(rlp.decode(body), list)
    assert p == len(data)
    assert b"".join(parts) == data


@pytest.mark.parametrize(
    ("name", "key"),
    [("contractcreationbits.txt", "total_block_tx_count"),
     ("yparitybits.txt", "total_block_tx_count"),
     ("protectedbits.txt", "legacy_tx_count")],
)  # fmt: skip
def test_field_bits(name: str, key: str) -> None:
    data = _hex(name)
    n = FIELD[name][key]
    bits, end = decode_bits(data, 0, n)
    assert end == len(data)
    assert encode_bits(bits, n) == data
    if "contract_creation_count" in FIELD[name]:
        assert bin(bits).count("1") == FIELD[name]["contract_creation_count"]


def test_hildr_protected_bits_literal() -> None:
    # SpanBatchTxsTest.decodeAndEncodeSpanBatchBits: 544 bits of 0xaa..
    data = bytes.fromhex("aa" * 68)
    bits, _ = decode_bits(data, 0, 544)
    assert encode_bits(bits, 544) == data


def test_spanbatchtxs_section_round_trip() -> None:
    data = _hex("spanbatchtxs.txt")
    txs, end = SpanBatchTxs.decode(data, 0, FIELD["spanbatchtxs.txt"]["total_block_tx_count"])
    assert end == len(data)
    assert txs.encode() == data
    assert len(txs.tx_tos) == txs.total_block_tx_count - txs.contract_creation_count()
    # full txs with an arbitrary chain id re-encode to the same section
    full = txs.full_txs(28)
    for raw in full:
        decode_signed_tx(raw)
    assert SpanBatchTxs.from_full_txs(full, 28) == txs


@pytest.mark.parametrize("case", ["recunprotected", "reclegcy", "recacc", "rece1559"])
def test_recover_v(case: str) -> None:
    spec = PARAMS["cases"][case]
    n = PARAMS["total_block_tx_count"]
    sigs, _ = decode_tx_sigs(_hex(f"{case}sigs.txt"), 0, n)
    y_bits, _ = decode_bits(_hex(f"{case}yparity.txt"), 0, n)
    prot, _ = decode_bits(_hex(f"{case}protectedbits.txt"), 0, spec["legacy_tx_count_for_protected_bits"])
    txs = SpanBatchTxs(
        total_block_tx_count=n, contract_creation_bits=0, y_parity_bits=y_bits, tx_sigs=sigs,
        tx_tos=(), tx_datas=(), tx_nonces=(), tx_gases=(), protected_bits=prot,
        tx_types=(spec["tx_type"],) * n,
    )  # fmt: skip
    assert list(txs.recover_v(PARAMS["chain_id"])) == spec["v"]


@pytest.mark.parametrize(
    "name", ["fulltxlegacy.txt", "fulltxunprotected.txt", "fulltxacc.txt", "fulltxdyn.txt"]
)
def test_full_txs_round_trip(name: str) -> None:
    chain_id = FIELD["fulltx*.txt"]["chain_id"]
    raws = _hex_lines(name)
    assert len(raws) == 27
    txs = SpanBatchTxs.from_full_txs(raws, chain_id)
    assert txs.full_txs(chain_id) == raws
    enc = txs.encode()
    dec, end = SpanBatchTxs.decode(enc, 0, len(raws))
    assert end == len(enc) and dec == txs
    assert dec.full_txs(chain_id) == raws


def test_protected_tx_of_other_chain_rejected() -> None:
    raws = _hex_lines("fulltxdyn.txt")
    with pytest.raises(SpanBatchError):
        SpanBatchTxs.from_full_txs(raws, 698)
    # unprotected legacy txs fit any chain
    unprot = _hex_lines("fulltxunprotected.txt")
    assert SpanBatchTxs.from_full_txs(unprot, 1).full_txs(1) == unprot


# ---- independent checks with eth_account ----------------------------------------------------

ACCT = Account.from_key(b"\x02" * 32)
TO = bytes.fromhex("11" * 20)


def _eth_account_txs() -> list[bytes]:
    auth = ACCT.sign_authorization({"chainId": 10, "address": "0x" + "55" * 20, "nonce": 3})
    al = [{"address": "0x" + "22" * 20, "storageKeys": ["0x" + "33" * 32]}]
    base = {"nonce": 1, "gas": 90_000, "value": 5, "data": b"\xca\xfe"}
    fields = [
        {**base, "gasPrice": 7, "to": "0x" + TO.hex()},
        {**base, "gasPrice": 7, "chainId": 10},
        {**base, "type": 1, "gasPrice": 7, "chainId": 10, "to": "0x" + TO.hex(), "accessList": al},
        {**base, "type": 2, "maxFeePerGas": 9, "maxPriorityFeePerGas": 1, "chainId": 10,
         "accessList": al},
        {**base, "type": 4, "maxFeePerGas": 9, "maxPriorityFeePerGas": 1, "chainId": 10,
         "to": "0x" + TO.hex(), "accessList": [], "authorizationList": [auth]},
    ]  # fmt: skip
    return [bytes(ACCT.sign_transaction(f).raw_transaction) for f in fields]


def test_eth_account_txs_through_span_txs() -> None:
    raws = _eth_account_txs()
    txs = SpanBatchTxs.from_full_txs(raws, 10)
    assert txs.tx_types == (0, 0, 1, 2, 4)
    assert txs.contract_creation_bits == 0b01010
    assert txs.protected_bits == 0b10  # second legacy tx is EIP-155 protected
    # tx_datas layout per span-batches.md / isthmus/derivation.md, rebuilt with pyrlp
    al = [[b"\x22" * 20, [b"\x33" * 32]]]
    assert txs.tx_datas[0] == rlp.encode([5, 7, b"\xca\xfe"])
    assert txs.tx_datas[2] == b"\x01" + rlp.encode([5, 7, b"\xca\xfe", al])
    assert txs.tx_datas[3] == b"\x02" + rlp.encode([5, 1, 9, b"\xca\xfe", al])
    auth = decode_signed_tx(raws[4]).authorization_list[0]
    assert txs.tx_datas[4] == b"\x04" + rlp.encode(
        [5, 1, 9, b"\xca\xfe", [], [[10, b"\x55" * 20, 3, auth.y_parity, auth.r, auth.s]]]
    )
    dec, _ = SpanBatchTxs.decode(txs.encode(), 0, len(raws))
    full = dec.full_txs(10)
    assert full == raws
    assert all(Account.recover_transaction(r) == ACCT.address for r in full)


def test_rejected_types() -> None:
    blob_body = [10, 1, 1, 1, 21000, TO, 0, b"", [], 1, [b"\x01" * 32], 0, 1, 1]
    with pytest.raises(SpanBatchError):
        SpanBatchTxs.from_full_txs([b"\x03" + rlp.encode(blob_body)], 10)
    with pytest.raises(SpanBatchError):
        SpanBatchTxs.from_full_txs([b"\x7e" + rlp.encode([b"\x00" * 32])], 10)
    with pytest.raises(SpanBatchError):
        SpanBatchTxs.from_full_txs([b"\x02\xc0"], 10)
    # at decode time any type byte <= 0x7F is accepted (op-node ReadTxData); the type is checked
    # when deriving: see test_tx_type_bytes_as_op_node
    for t in (0, 3, 0x7E, 5, 0x7F):
        entry = bytes([t]) + rlp.encode([1, 2, b""])
        assert read_tx_data(entry + b"\xff", 0) == (entry, t, len(entry))
    with pytest.raises(SpanBatchError):  # legacy entry must be a list
        read_tx_data(rlp.encode(b"\xff" * 3), 0)
    with pytest.raises(SpanBatchError):  # so must a typed entry's payload
        read_tx_data(b"\x05" + rlp.encode(b"\xff" * 3), 0)


# Bodies of well-formed span-batch tx data per signed type (span-batches.md "tx_datas").
_BODY = {
    1: [1, 2, b"", []],  # value, gasPrice, data, accessList
    2: [1, 2, 3, b"", []],  # value, tip, feeCap, data, accessList
    4: [1, 2, 3, b"", [], []],  # ... authorizationList
}


@pytest.mark.parametrize("t", range(0x80), ids=lambda t: f"0x{t:02x}")
def test_tx_type_bytes_as_op_node(t: int) -> None:
    """Audit D6. Expected by hand from op-node v1.19.6: ``ReadTxData`` takes any first byte
    ``<= 0x7F`` as a type byte (decode never fails on the type; 0x00 counts as legacy, so it
    takes a protected bit); ``recoverV`` accepts 0 (legacy), 1, 2, 4 and 0x7D (PostExec, v = 0)
    and fails on any other type; ``spanBatchTx.UnmarshalBinary`` then rejects the 0x00-prefixed
    entry (``ErrTxTypeNotSupported``); a PostExec entry becomes ``0x7D ++ data`` unchanged."""
    entry = bytes([t]) + rlp.encode(_BODY.get(t, [1, 2, b""]))
    txs = SpanBatchTxs(
        total_block_tx_count=1, contract_creation_bits=0, y_parity_bits=0, tx_sigs=((1, 1),),
        tx_tos=(TO,), tx_datas=(entry,), tx_nonces=(7,), tx_gases=(21000,), protected_bits=0,
        tx_types=(t,),
    )  # fmt: skip
    enc = txs.encode()
    dec, end = SpanBatchTxs.decode(enc, 0, 1)
    assert end == len(enc) and dec == txs
    assert dec.legacy_tx_count == (1 if t == 0 else 0)
    if t in (1, 2, 4):
        (full,) = dec.full_txs(10)
        assert full[0] == t
        body = rlp.decode(full[1:])
        assert body[0] == b"\x0a" and body[1] == b"\x07"  # chain id 10, nonce 7
    elif t == 0x7D:
        assert dec.recover_v(10) == (0,)
        assert dec.full_txs(10) == [entry]
    elif t == 0:
        assert dec.recover_v(10) == (27,)  # unprotected legacy, y = 0
        with pytest.raises(SpanBatchError, match="not supported"):
            dec.full_txs(10)
    else:
        with pytest.raises(SpanBatchError, match="invalid span batch tx type"):
            dec.recover_v(10)
        with pytest.raises(SpanBatchError):
            dec.full_txs(10)


def test_post_exec_tx_round_trip() -> None:
    """op-node ``addPostExecTx``: a 0x7D tx is stored as its own bytes, with the
    contract-creation bit set (no ``to``) and zero signature, nonce and gas; it derives back to
    the same bytes. Mixed with a signed tx, the ``to`` and signature columns stay aligned."""
    post = b"\x7d" + rlp.encode([b"\x01" * 3, [1, 2]])
    signed = make_signed_tx(2, chain_id=10, nonce=1, gas=21000, to=TO, value=5, data=b"", v=1,
                            r=3, s=4, max_priority_fee_per_gas=1, max_fee_per_gas=2)[1]  # fmt: skip
    txs = SpanBatchTxs.from_full_txs([post, signed], 10)
    assert txs.tx_types == (0x7D, 2)
    assert txs.contract_creation_bits == 0b01 and txs.tx_tos == (TO,)
    assert txs.tx_sigs == ((0, 0), (3, 4)) and txs.tx_nonces == (0, 1) and txs.tx_gases == (0, 21000)
    assert txs.tx_datas[0] == post
    dec, _ = SpanBatchTxs.decode(txs.encode(), 0, 2)
    assert dec.full_txs(10) == [post, signed]
    with pytest.raises(SpanBatchError):
        SpanBatchTxs.from_full_txs([b"\x7d"], 10)  # op-core: "post-exec tx payload is empty"


def test_big_integer_fields_as_go_big_int() -> None:
    """Audit D11: legacy / 2930 / 1559 ``value`` and fee fields are Go ``*big.Int`` in
    span_batch_tx.go (canonical RLP, no width limit), SetCode's are ``uint256``. The full tx is
    re-encoded with the same integer (expected bytes from pyrlp)."""
    big = (1 << 300) + 5  # 38 bytes
    cases = {
        0: (rlp.encode([big, big, b""]),
            lambda v: rlp.encode([7, big, 21000, TO, big, b"", v, 1, 1])),
        1: (b"\x01" + rlp.encode([big, big, b"", []]),
            lambda v: b"\x01" + rlp.encode([10, 7, big, 21000, TO, big, b"", [], v, 1, 1])),
        2: (b"\x02" + rlp.encode([big, big, big, b"", []]),
            lambda v: b"\x02" + rlp.encode([10, 7, big, big, 21000, TO, big, b"", [], v, 1, 1])),
    }  # fmt: skip
    for t, (entry, want) in cases.items():
        txs = SpanBatchTxs(
            total_block_tx_count=1, contract_creation_bits=0, y_parity_bits=0, tx_sigs=((1, 1),),
            tx_tos=(TO,), tx_datas=(entry,), tx_nonces=(7,), tx_gases=(21000,), protected_bits=0,
            tx_types=(t,),
        )  # fmt: skip
        assert txs.full_txs(10) == [want(27 if t == 0 else 0)], t
    setcode = b"\x04" + rlp.encode([big, 1, 2, b"", [], []])
    txs4 = SpanBatchTxs(
        total_block_tx_count=1, contract_creation_bits=0, y_parity_bits=0, tx_sigs=((1, 1),),
        tx_tos=(TO,), tx_datas=(setcode,), tx_nonces=(7,), tx_gases=(21000,), protected_bits=0,
        tx_types=(4,),
    )  # fmt: skip
    with pytest.raises(SpanBatchError, match="wider than 32 bytes"):
        txs4.full_txs(10)
    # non-canonical integers stay errors, as in go-ethereum's rlp (ErrCanonInt)
    bad = rlp.encode([b"\x00\x01", 1, b""])
    txs0 = SpanBatchTxs(
        total_block_tx_count=1, contract_creation_bits=0, y_parity_bits=0, tx_sigs=((1, 1),),
        tx_tos=(TO,), tx_datas=(bad,), tx_nonces=(7,), tx_gases=(21000,), protected_bits=0,
        tx_types=(0,),
    )  # fmt: skip
    with pytest.raises(SpanBatchError, match="leading zero"):
        txs0.full_txs(10)


def test_bad_tx_data_fails_at_full_txs() -> None:
    # the envelope is fine, but a type-2 entry with 3 fields is not a valid tx
    entry = b"\x02" + rlp.encode([1, 2, 3])
    txs = SpanBatchTxs(
        total_block_tx_count=1, contract_creation_bits=0, y_parity_bits=0, tx_sigs=((1, 1),),
        tx_tos=(TO,), tx_datas=(entry,), tx_nonces=(0,), tx_gases=(21000,), protected_bits=0,
        tx_types=(2,),
    )  # fmt: skip
    enc = txs.encode()
    dec, _ = SpanBatchTxs.decode(enc, 0, 1)
    assert dec == txs
    with pytest.raises(SpanBatchError):
        dec.full_txs(10)
    # a SetCode tx cannot be a contract creation
    entry4 = b"\x04" + rlp.encode([0, 1, 2, b"", [], []])
    txs4 = SpanBatchTxs(
        total_block_tx_count=1, contract_creation_bits=1, y_parity_bits=0, tx_sigs=((1, 1),),
        tx_tos=(), tx_datas=(entry4,), tx_nonces=(0,), tx_gases=(21000,), protected_bits=0,
        tx_types=(4,),
    )  # fmt: skip
    with pytest.raises(SpanBatchError):
        txs4.full_txs(10)


def test_element_limits() -> None:
    with pytest.raises(SpanBatchError):
        SpanBatchTxs.decode(b"", 0, MAX_SPAN_BATCH_ELEMENT_COUNT + 1)
    raws = _hex_lines("fulltxdyn.txt")
    enc = SpanBatchTxs.from_full_txs(raws, 697).encode()
    with pytest.raises(SpanBatchError):
        SpanBatchTxs.decode(enc, 0, len(raws), max_elements=len(raws) - 1)
    # the per-tx RLP size limit (op-node uses MaxSpanBatchElementCount as the RLP stream limit)
    big = b"\x02" + rlp.encode([0, 0, 0, b"\x00" * 200, []])
    with pytest.raises(SpanBatchError):
        read_tx_data(big, 0, max_size=100)
    assert read_tx_data(big, 0, max_size=1000)[0] == big


# ---- hypothesis: every tx type round-trips ---------------------------------------------------

_u256 = st.integers(min_value=0, max_value=2**256 - 1)
_u64 = st.integers(min_value=0, max_value=2**64 - 1)
CHAIN_ID = 901


@st.composite
def span_txs(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["legacy", "unprotected", 1, 2, 4]))
    create = draw(st.booleans()) and kind != 4
    y = draw(st.integers(0, 1))
    access = tuple(
        (draw(st.binary(min_size=20, max_size=20)),
         tuple(draw(st.lists(st.binary(min_size=32, max_size=32), max_size=2))))
        for _ in range(draw(st.integers(0, 2)))
    )  # fmt: skip
    common: dict[str, Any] = dict(
        nonce=draw(_u64), gas=draw(_u64), to=None if create else draw(st.binary(min_size=20, max_size=20)),
        value=draw(_u256), data=draw(st.binary(max_size=64)), r=draw(_u256), s=draw(_u256),
    )  # fmt: skip
    if kind in ("legacy", "unprotected"):
        v = CHAIN_ID * 2 + 35 + y if kind == "legacy" else 27 + y
        _, raw = make_signed_tx(0, chain_id=None, v=v, gas_price=draw(_u256), **common)
    elif kind == 1:
        _, raw = make_signed_tx(1, chain_id=CHAIN_ID, v=y, gas_price=draw(_u256),
                                access_list=access, **common)  # fmt: skip
    else:
        auths: tuple[Authorization, ...] = ()
        if kind == 4:
            auths = tuple(
                Authorization(draw(_u256), draw(st.binary(min_size=20, max_size=20)), draw(_u64),
                              draw(st.integers(0, 1)), draw(_u256), draw(_u256))
                for _ in range(draw(st.integers(0, 2)))
            )  # fmt: skip
        _, raw = make_signed_tx(
            int(kind), chain_id=CHAIN_ID, v=y, max_priority_fee_per_gas=draw(_u256),
            max_fee_per_gas=draw(_u256), access_list=access, authorization_list=auths, **common,
        )  # fmt: skip
    return raw


@given(st.lists(span_txs(), max_size=12))
@settings(max_examples=150, deadline=None)
def test_span_txs_round_trip_all_types(raws: list[bytes]) -> None:
    txs = SpanBatchTxs.from_full_txs(raws, CHAIN_ID)
    enc = txs.encode()
    dec, end = SpanBatchTxs.decode(enc + b"\x99", 0, len(raws))
    assert end == len(enc)
    assert dec == txs
    assert dec.full_txs(CHAIN_ID) == raws
    assert txs.legacy_tx_count == sum(1 for r in raws if r[0] >= 0xC0)


@given(st.binary(max_size=300), st.integers(0, 20))
@settings(max_examples=400)
def test_arbitrary_bytes_only_span_batch_errors(data: bytes, n: int) -> None:
    try:
        txs, _ = SpanBatchTxs.decode(data, 0, n)
        txs.full_txs(10)
    except CodecError as e:
        assert isinstance(e, SpanBatchError)
