"""Signing, blob sidecars and txmgr flags, checked against an independent library
(eth-account 0.14) and op-service's flag table."""

from __future__ import annotations

import pytest
from eth_account import Account

from pyop.codec.blob import encode_blob, kzg_to_versioned_hash, verify_blob_kzg_proof
from pyop.codec.tx import decode_signed_tx
from pyop.opservice.flags import FlagError, parse_flags
from pyop.txmgr import (
    TXMGR_FLAGS,
    LocalSigner,
    SignerError,
    UnsignedTx,
    make_sidecar,
    network_encoding,
    signer_from_flags,
    txmgr_config_from_flags,
)

KEY_HEX = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
ADDR = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"  # anvil's account 0
TO = "0x000000000000000000000000000000000000dEaD"


def test_signer_address_and_eip1559_encoding_match_eth_account() -> None:
    s = LocalSigner(bytes.fromhex(KEY_HEX))
    assert "0x" + s.address.hex() == ADDR.lower()
    u = UnsignedTx(2, 900, 7, 50_000, bytes.fromhex(TO[2:]), 3, b"\x00\x01\xff", 10**9, 3 * 10**9)
    tx, raw = s.sign(u)
    theirs = Account.sign_transaction(
        {"type": 2, "chainId": 900, "nonce": 7, "gas": 50_000, "to": TO, "value": 3,
         "data": b"\x00\x01\xff", "maxPriorityFeePerGas": 10**9, "maxFeePerGas": 3 * 10**9},
        "0x" + KEY_HEX,
    )  # fmt: skip
    assert raw == bytes(theirs.raw_transaction)  # RFC 6979: identical signatures
    assert tx.hash == bytes(theirs.hash)
    assert Account.recover_transaction(raw).lower() == ADDR.lower()


def test_blob_tx_v1_network_form_matches_eth_account() -> None:
    """eth-account 0.14 builds only the EIP-7594 (version 1, cell proofs) wrapper."""
    blob = encode_blob(b"\x00" + b"pyop" * 1000)
    sc = make_sidecar([blob], cell_proofs=True)
    assert sc.version == 1 and len(sc.proofs) == 128
    s = LocalSigner(bytes.fromhex(KEY_HEX))
    u = UnsignedTx(3, 900, 0, 21_000, bytes.fromhex(TO[2:]), 0, b"", 1, 2, 3, sc.versioned_hashes())
    _tx, raw = s.sign(u)
    wire = network_encoding(raw, sc)
    theirs = Account.sign_transaction(
        {"type": 3, "chainId": 900, "nonce": 0, "gas": 21_000, "to": TO, "value": 0, "data": b"",
         "maxPriorityFeePerGas": 1, "maxFeePerGas": 2, "maxFeePerBlobGas": 3},
        "0x" + KEY_HEX, blobs=[blob],
    )  # fmt: skip
    assert wire == bytes(theirs.raw_transaction)


def test_blob_tx_v0_sidecar_proofs_verify_and_hash_covers_only_the_body() -> None:
    blobs = [encode_blob(b"\x00" + bytes([i]) * 5000) for i in range(3)]
    sc = make_sidecar(blobs)
    assert sc.version == 0 and len(sc.proofs) == 3
    for b, c, p in zip(sc.blobs, sc.commitments, sc.proofs, strict=True):
        assert verify_blob_kzg_proof(b, c, p)
        assert kzg_to_versioned_hash(c)[0] == 1
    s = LocalSigner(bytes.fromhex(KEY_HEX))
    u = UnsignedTx(3, 900, 1, 21_000, bytes.fromhex(TO[2:]), 0, b"", 1, 2, 3, sc.versioned_hashes())
    tx, raw = s.sign(u)
    wire = network_encoding(raw, sc)
    assert decode_signed_tx(wire).hash == tx.hash == decode_signed_tx(raw).hash
    assert Account.recover_transaction(raw).lower() == ADDR.lower()


def test_txmgr_flags_env_and_defaults() -> None:
    p = parse_flags(["--num-confirmations=2", "--resubmission-timeout", "30s",
                     "--txmgr.min-tip-cap=2.5", "--txmgr.min-basefee=3", "--private-key", "0x" + KEY_HEX],
                    TXMGR_FLAGS, env_prefix="OP_BATCHER_", service="pyop batcher",
                    env={"OP_BATCHER_TXMGR_FEE_LIMIT_MULTIPLIER": "7",
                         "OP_BATCHER_NUM_CONFIRMATIONS": "9"})  # fmt: skip
    cfg = txmgr_config_from_flags(p)
    assert cfg.num_confirmations == 2  # the flag beats the environment
    assert cfg.fee_limit_multiplier == 7
    assert cfg.resubmission_timeout == 30.0
    assert cfg.min_tip_cap == 2_500_000_000
    assert cfg.safe_abort_nonce_too_low_count == 3  # op-service default
    assert cfg.receipt_query_interval == 12.0
    assert signer_from_flags(p).address.hex() == ADDR[2:].lower()


def test_txmgr_flags_refuse_unknown_and_bad_values() -> None:
    def parse(argv: list[str], env: dict[str, str] | None = None) -> object:
        return parse_flags(argv, TXMGR_FLAGS, env_prefix="OP_BATCHER_", service="pyop batcher",
                           env=env or {})  # fmt: skip

    with pytest.raises(FlagError, match=r"--signer\.endpoint is not supported by pyop batcher"):
        parse(["--signer.endpoint=http://x"])
    with pytest.raises(FlagError, match="OP_BATCHER_TXMGR_BLOB_TIP_CAP_DYNAMIC"):
        parse([], {"OP_BATCHER_TXMGR_BLOB_TIP_CAP_DYNAMIC": "true"})
    with pytest.raises(FlagError, match="invalid duration"):
        parse(["--resubmission-timeout=soon"])
    with pytest.raises(SignerError, match="at most one"):
        signer_from_flags(parse(["--private-key", KEY_HEX, "--mnemonic", "test test"]))  # type: ignore[arg-type]
    with pytest.raises(SignerError, match="no key"):
        signer_from_flags(parse([]))  # type: ignore[arg-type]
