"""Tests of pyop.codec.tx: signed transaction envelopes and the strict RLP codec.

Expected values come from transactions signed by eth_account (an independent encoder), pyrlp,
the real OP Mainnet batcher transaction in spec_vectors/span (expected.json) and the EIP-155 /
EIP-2718 rules written out in the tests.
"""

from __future__ import annotations

import contextlib
import json

import pytest
import rlp
from eth_account import Account
from eth_hash.auto import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from pyop.codec.errors import CodecError, TxError
from pyop.codec.tx import (
    Authorization,
    decode_signed_tx,
    make_signed_tx,
    rlp_decode,
    rlp_encode,
    tx_hash,
)
from tests.conftest import SPEC_VECTORS

VEC = SPEC_VECTORS / "span"
ACCT = Account.from_key(b"\x01" * 32)
TO = bytes.fromhex("11" * 20)


def _expected() -> dict[str, dict[str, object]]:
    data: dict[str, dict[str, object]] = json.loads((VEC / "expected.json").read_text())
    return data


# ---- RLP ------------------------------------------------------------------------------------


@given(
    st.recursive(
        st.binary(max_size=80) | st.integers(min_value=0, max_value=2**256 - 1),
        lambda kids: st.lists(kids, max_size=5),
        max_leaves=20,
    )
)
@settings(max_examples=200)
def test_rlp_encode_matches_pyrlp(item: object) -> None:
    assert rlp_encode(item) == rlp.encode(item)  # type: ignore[arg-type]
    # and our decoder reads pyrlp's encoding back (ints come back as bytes)
    assert rlp_encode(rlp_decode(rlp.encode(item))) == rlp.encode(item)


@pytest.mark.parametrize(
    "bad",
    [
        b"\x81\x05",  # single byte below 0x80 wrapped
        b"\xb8\x05abcde",  # long form for a short string
        b"\xb9\x00\x40" + b"a" * 64,  # leading zero in the length
        b"\xf8\x01\x80",  # long list form for a short list
        b"\x83ab",  # truncated
        b"\x80\x80",  # trailing bytes
        b"",
    ],
)
def test_rlp_rejects_non_canonical(bad: bytes) -> None:
    with pytest.raises(TxError):
        rlp_decode(bad)


# ---- signed transactions ----------------------------------------------------------------------

_BASE = {"nonce": 7, "gas": 50_000, "value": 12345, "data": b"\x01\x02\x03"}
_AL = [{"address": "0x" + "22" * 20, "storageKeys": ["0x" + "33" * 32, "0x" + "44" * 32]}]


def _signed_cases() -> list[tuple[str, dict[str, object]]]:
    auth = ACCT.sign_authorization({"chainId": 10, "address": "0x" + "55" * 20, "nonce": 3})
    return [
        ("legacy-unprotected", {**_BASE, "gasPrice": 10**9, "to": "0x" + TO.hex()}),
        ("legacy-eip155", {**_BASE, "gasPrice": 10**9, "to": "0x" + TO.hex(), "chainId": 10}),
        ("legacy-create", {**_BASE, "gasPrice": 10**9, "chainId": 10}),
        (
            "eip2930",
            {**_BASE, "type": 1, "gasPrice": 5, "to": "0x" + TO.hex(), "chainId": 10,
             "accessList": _AL},
        ),
        (
            "eip1559",
            {**_BASE, "type": 2, "maxFeePerGas": 100, "maxPriorityFeePerGas": 2,
             "to": "0x" + TO.hex(), "chainId": 10, "accessList": _AL},
        ),
        (
            "eip1559-create",
            {**_BASE, "type": 2, "maxFeePerGas": 100, "maxPriorityFeePerGas": 2, "chainId": 10},
        ),
        (
            "eip7702",
            {**_BASE, "type": 4, "maxFeePerGas": 100, "maxPriorityFeePerGas": 2,
             "to": "0x" + TO.hex(), "chainId": 10, "accessList": [], "authorizationList": [auth]},
        ),
    ]


@pytest.mark.parametrize(("name", "fields"), _signed_cases())
def test_decode_eth_account_signed(name: str, fields: dict[str, object]) -> None:
    signed = ACCT.sign_transaction(fields)
    raw = bytes(signed.raw_transaction)
    tx = decode_signed_tx(raw)
    assert tx.hash == bytes(signed.hash) == keccak(raw) == tx_hash(raw)
    assert tx.encode() == raw
    assert tx.nonce == fields["nonce"] and tx.gas == fields["gas"]
    assert tx.value == fields["value"] and tx.data == fields["data"]
    assert tx.to == (TO if "to" in fields else None)
    assert tx.tx_type == fields.get("type", 0)
    assert tx.chain_id == fields.get("chainId")
    assert (tx.r, tx.s) == (signed.r, signed.s)
    if tx.tx_type == 0:
        # EIP-155: v = chain_id * 2 + 35 + y, else 27 + y
        assert tx.v == signed.v
        base = 27 if "chainId" not in fields else 2 * 10 + 35
        assert tx.y_parity == signed.v - base
        assert tx.protected == ("chainId" in fields)
        assert tx.gas_price == fields["gasPrice"]
    else:
        assert tx.y_parity == signed.v in (0, 1)
        assert tx.protected
    if fields.get("accessList"):
        assert tx.access_list == (
            (bytes.fromhex("22" * 20), (bytes.fromhex("33" * 32), bytes.fromhex("44" * 32))),
        )
    if tx.tx_type == 4:
        (a,) = tx.authorization_list
        assert isinstance(a, Authorization)
        assert (a.chain_id, a.address, a.nonce) == (10, bytes.fromhex("55" * 20), 3)
    # eth_account recovers the same sender from our re-encoding
    assert Account.recover_transaction(tx.encode()) == ACCT.address


@pytest.mark.parametrize("wrapper_version", [None, 1])
def test_blob_tx_network_form_and_canonical(wrapper_version: int | None) -> None:
    # Canonical EIP-4844 body built with pyrlp (signature values are arbitrary: not verified).
    vhash = b"\x01" + bytes(range(31))
    body = [1, 7, 2, 100, 50_000, TO, 12345, b"\x01\x02", [[TO, [b"\x33" * 32]]], 9, [vhash],
            1, 2**255 + 5, 3]  # fmt: skip
    canonical = b"\x03" + rlp.encode(body)
    sidecar = [[b"\x00" * 64], [b"\xc0" * 48], [b"\xc0" * 48]]
    if wrapper_version is None:
        network = b"\x03" + rlp.encode([body, *sidecar])
    else:
        network = b"\x03" + rlp.encode([body, wrapper_version, *sidecar])
    tx = decode_signed_tx(network)
    assert tx.tx_type == 3 and tx.chain_id == 1 and tx.nonce == 7
    assert (tx.max_priority_fee_per_gas, tx.max_fee_per_gas, tx.gas) == (2, 100, 50_000)
    assert tx.to == TO and tx.value == 12345 and tx.data == b"\x01\x02"
    assert tx.access_list == ((TO, (b"\x33" * 32,)),)
    assert tx.max_fee_per_blob_gas == 9 and tx.blob_versioned_hashes == (vhash,)
    assert (tx.v, tx.r, tx.s) == (1, 2**255 + 5, 3)
    # the tx hash is keccak(0x03 ++ rlp(tx_payload_body)) in both forms (EIP-4844)
    assert tx.hash == keccak(canonical)
    assert tx.encode() == canonical
    assert decode_signed_tx(canonical) == tx
    with pytest.raises(TxError):
        decode_signed_tx(network + b"\x00")
    with pytest.raises(TxError):  # blob txs cannot create contracts
        decode_signed_tx(b"\x03" + rlp.encode([*body[:5], b"", *body[6:]]))


def test_real_batcher_tx() -> None:
    raw = (VEC / "op-mainnet-batcher-tx-0xe69d9433.bin").read_bytes()
    exp = _expected()["batcher/op-mainnet-batcher-tx-0xe69d9433.bin"]
    tx = decode_signed_tx(raw)
    assert "0x" + tx.hash.hex() == exp["tx_hash"]
    assert tx.tx_type == 2
    assert tx.chain_id == exp["chain_id"]
    assert tx.nonce == exp["nonce"]
    assert "0x" + tx.to.hex() == exp["to"]  # type: ignore[union-attr]
    assert tx.gas == exp["gas"]
    assert len(tx.data) == exp["calldata_len"]
    assert tx.encode() == raw
    sender = str(exp["expected_sender"]).split()[0]
    assert Account.recover_transaction(raw).lower() == sender


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (b"", "empty"),
        (b"\x7e" + rlp.encode([b"a"]), "deposit"),
        (b"\x05" + rlp.encode([]), "unknown type"),
        (b"\x02", "no payload"),
        (b"\x80", "string prefix"),
        (rlp.encode([1, 2, 3]), "wrong field count"),
        (rlp.encode([1, 1, 21000, TO, 0, b"", 5, 1, 1]), "legacy v 5"),
        (rlp.encode([1, 1, 21000, TO, 0, b"", 27, 1, 1]) + b"\x00", "trailing"),
        (rlp.encode([1, 1, 21000, b"\x11" * 19, 0, b"", 27, 1, 1]), "short to"),
        (b"\x02" + rlp.encode([10, 1, 1, 1, 21000, TO, 0, b"", [], 2, 1, 1]), "y parity 2"),
        (b"\x04" + rlp.encode([10, 1, 1, 1, 21000, b"", 0, b"", [], [], 0, 1, 1]), "7702 create"),
        (b"\x02" + rlp.encode([10, b"\x00\x01", 1, 1, 21000, TO, 0, b"", [], 0, 1, 1]), "lead 0"),
        (b"\x02" + rlp.encode([10, 1, 1, 1, 2**64, TO, 0, b"", [], 0, 1, 1]), "gas > u64"),
        (b"\x01" + rlp.encode([10, 1, 1, 21000, TO, 0, b"", [[TO]], 0, 1, 1]), "bad access list"),
    ],
)
def test_malformed_txs_raise_tx_error(raw: bytes, why: str) -> None:
    with pytest.raises(TxError):
        decode_signed_tx(raw)


@given(st.binary(max_size=300))
@settings(max_examples=500)
def test_arbitrary_bytes_only_tx_error(data: bytes) -> None:
    with contextlib.suppress(TxError):
        decode_signed_tx(data)


@given(st.sampled_from([0x00, 0x01, 0x02, 0x03, 0x04, 0xC0, 0xF8]), st.binary(max_size=200))
@settings(max_examples=300)
def test_prefixed_garbage_only_tx_error(prefix: int, rest: bytes) -> None:
    try:
        decode_signed_tx(bytes([prefix]) + rest)
    except CodecError as e:
        assert isinstance(e, TxError)


_u256 = st.integers(min_value=0, max_value=2**256 - 1)
_u64 = st.integers(min_value=0, max_value=2**64 - 1)


@given(
    tx_type=st.sampled_from([0, 1, 2, 3, 4]),
    nonce=_u64,
    gas=_u64,
    value=_u256,
    fee=_u256,
    data=st.binary(max_size=100),
    create=st.booleans(),
    y=st.integers(0, 1),
    r=_u256,
    s=_u256,
    chain_id=st.integers(min_value=1, max_value=2**40),
)
@settings(max_examples=200)
def test_make_and_decode_round_trip(
    tx_type: int, nonce: int, gas: int, value: int, fee: int, data: bytes, create: bool,
    y: int, r: int, s: int, chain_id: int,
) -> None:  # fmt: skip
    to = None if create and tx_type in (0, 1, 2) else TO
    kw: dict[str, object] = {}
    if tx_type in (0, 1):
        kw["gas_price"] = fee
    else:
        kw["max_priority_fee_per_gas"] = fee
        kw["max_fee_per_gas"] = fee
    if tx_type == 3:
        kw["max_fee_per_blob_gas"] = 1
        kw["blob_versioned_hashes"] = (b"\x01" * 32,)
    if tx_type == 4:
        kw["authorization_list"] = (Authorization(chain_id, TO, nonce, y, r, s),)
    v = chain_id * 2 + 35 + y if tx_type == 0 else y
    tx, raw = make_signed_tx(
        tx_type, chain_id=chain_id, nonce=nonce, gas=gas, to=to, value=value, data=data,
        v=v, r=r, s=s, **kw,  # type: ignore[arg-type]
    )  # fmt: skip
    assert decode_signed_tx(raw) == tx
    assert tx.hash == keccak(raw)
    # independent structure check with pyrlp
    body = rlp.decode(raw if tx_type == 0 else raw[1:])
    assert rlp.sedes.big_endian_int.deserialize(body[-3]) == v


@pytest.mark.parametrize(
    "fields",
    [
        {"nonce": 3, "gasPrice": 10**9, "gas": 21000, "to": "0x" + "11" * 20, "value": 5, "data": b"", "chainId": 900},
        {"type": 1, "nonce": 4, "gasPrice": 10**9, "gas": 50000, "to": "0x" + "22" * 20, "value": 0,
         "data": b"\x01\x02", "chainId": 900, "accessList": [{"address": "0x" + "33" * 20, "storageKeys": ["0x" + "00" * 32]}]},
        {"type": 2, "nonce": 5, "maxFeePerGas": 2 * 10**9, "maxPriorityFeePerGas": 10**9, "gas": 90000,
         "to": "0x" + "44" * 20, "value": 7, "data": b"\xde\xad", "chainId": 900},
    ],
)
def test_signing_payload_recovers_the_eth_account_signer(fields: dict) -> None:
    """keccak(signing_payload) is the digest eth_account signed: recovering the public key from
    it gives the signer's address (EIP-155 for legacy, EIP-2718 for typed txs)."""
    import coincurve
    from eth_account import Account
    from eth_hash.auto import keccak

    from pyop.codec.tx import signing_payload

    acct = Account.from_key(b"\x07" * 32)
    raw = bytes(Account.sign_transaction(fields, acct.key).raw_transaction)
    tx = decode_signed_tx(raw)
    sig = tx.r.to_bytes(32, "big") + tx.s.to_bytes(32, "big") + bytes([tx.y_parity])
    pub = coincurve.PublicKey.from_signature_and_message(sig, keccak(signing_payload(tx)), hasher=None)
    assert keccak(pub.format(compressed=False)[1:])[12:] == bytes.fromhex(acct.address[2:])
