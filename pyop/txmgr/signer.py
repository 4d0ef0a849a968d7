"""The sending key and transaction signing (op-service/crypto ``SignerFactoryFromConfig``,
go-ethereum ``types.LatestSignerForChainID``).

A typed transaction is signed over ``keccak256(type || rlp(fields))`` (EIP-2718, EIP-1559,
EIP-4844); the signature is the secp256k1 ``(y_parity, r, s)``. Keys come from
``--private-key`` (hex, ``0x`` optional) or ``--mnemonic`` + ``--hd-path`` (BIP-32/BIP-44, as
op-service derives them); giving both is refused, as in Go.
"""

from __future__ import annotations

from dataclasses import dataclass

from coincurve import PrivateKey
from eth_hash.auto import keccak

from pyop.codec.tx import (
    BLOB_TX_TYPE,
    DYNAMIC_FEE_TX_TYPE,
    SignedTx,
    make_signed_tx,
    signing_payload,
)
from pyop.opservice.flags import ParsedFlags
from pyop.primitives import to_hex
from pyop.txmgr.errors import SignerError

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

__all__ = ["LocalSigner", "UnsignedTx", "address_of_key", "signer_from_flags"]


@dataclass(frozen=True, slots=True)
class UnsignedTx:
    """An EIP-1559 (type 2) or blob (type 3) transaction before signing."""

    tx_type: int
    chain_id: int
    nonce: int
    gas: int
    to: bytes | None
    value: int
    data: bytes
    max_priority_fee_per_gas: int
    max_fee_per_gas: int
    max_fee_per_blob_gas: int | None = None
    blob_versioned_hashes: tuple[bytes, ...] = ()

    @property
    def is_blob(self) -> bool:
        return self.tx_type == BLOB_TX_TYPE


def address_of_key(key: bytes) -> bytes:
    """The 20-byte address of a secp256k1 private key: ``keccak256(pubkey)[12:]``."""
    pub = PrivateKey(key).public_key.format(compressed=False)[1:]
    return keccak(pub)[12:]


class LocalSigner:
    """Signs with a private key held in memory."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32 or not 0 < int.from_bytes(key, "big") < SECP256K1_N:
            raise SignerError("the private key must be 32 bytes and a valid secp256k1 scalar")
        self._key = PrivateKey(key)
        self.address = address_of_key(key)

    def __repr__(self) -> str:
        return f"LocalSigner({to_hex(self.address)})"

    def sign(self, tx: UnsignedTx) -> tuple[SignedTx, bytes]:
        """``(signed tx, canonical encoding)``; the hash is ``keccak256`` of the encoding."""
        if tx.tx_type not in (DYNAMIC_FEE_TX_TYPE, BLOB_TX_TYPE):
            raise SignerError(f"cannot sign transaction type {tx.tx_type}")
        fields: dict[str, object] = dict(
            chain_id=tx.chain_id, nonce=tx.nonce, gas=tx.gas, to=tx.to, value=tx.value,
            data=tx.data, max_priority_fee_per_gas=tx.max_priority_fee_per_gas,
            max_fee_per_gas=tx.max_fee_per_gas,
        )  # fmt: skip
        if tx.is_blob:
            if tx.to is None:
                raise SignerError("blob txs cannot deploy contracts")
            fields.update(max_fee_per_blob_gas=tx.max_fee_per_blob_gas,
                          blob_versioned_hashes=tx.blob_versioned_hashes)  # fmt: skip
        unsigned, _ = make_signed_tx(tx.tx_type, v=0, r=0, s=0, **fields)  # type: ignore[arg-type]
        digest = keccak(signing_payload(unsigned))
        sig = self._key.sign_recoverable(digest, hasher=None)
        r, s, v = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:64], "big"), sig[64]
        return make_signed_tx(tx.tx_type, v=v, r=r, s=s, **fields)  # type: ignore[arg-type]


def _parse_key(text: str) -> bytes:
    t = text.strip().removeprefix("0x").removeprefix("0X")
    try:
        key = bytes.fromhex(t)
    except ValueError:
        raise SignerError("--private-key is not hex") from None
    if len(key) != 32:
        raise SignerError(f"--private-key must be 32 bytes (64 hex digits), got {len(key)} bytes")
    return key


def signer_from_flags(p: ParsedFlags) -> LocalSigner:
    """The signer of ``--private-key`` or ``--mnemonic`` + ``--hd-path`` (``--sequencer-hd-path``
    / ``--l2-output-hd-path`` as deprecated fallbacks, as in Go)."""
    v = p.values
    key_hex = str(v.get("private_key") or "")
    mnemonic = str(v.get("mnemonic") or "")
    if key_hex and mnemonic:
        raise SignerError("can only provide at most one of: [private key, mnemonic, remote signer]")
    if key_hex:
        return LocalSigner(_parse_key(key_hex))
    if mnemonic:
        hd = str(v.get("hd_path") or v.get("sequencer_hd_path") or v.get("l2_output_hd_path") or "")
        if not hd:
            raise SignerError("--mnemonic needs --hd-path (e.g. m/44'/60'/0'/0/0)")
        from eth_account import Account

        Account.enable_unaudited_hdwallet_features()
        try:
            acct = Account.from_mnemonic(mnemonic, account_path=hd)
        except Exception as e:  # eth-account raises several kinds for a bad phrase or path
            raise SignerError(f"cannot derive a key from --mnemonic/--hd-path: {e}") from None
        return LocalSigner(bytes(acct.key))
    raise SignerError("no key: give --private-key or --mnemonic with --hd-path")
