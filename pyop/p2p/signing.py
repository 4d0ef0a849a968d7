"""Block signatures of the gossiped unsafe blocks (specs/protocol/rollup-node-p2p.md "Block
signatures"; op-node v1.19.6 ``op-service/signer``: ``BlockSigningMessage.ToSigningHash``,
``LocalSigner.SignBlockV1``, ``OPStackP2PBlockAuthV1.VerifyP2PBlockSignature``).

The sequencer signs ``keccak256(domain ++ chain_id ++ payload_hash)`` where ``domain`` is 32 zero
bytes (``SigningDomainBlocksV1``), ``chain_id`` the L2 chain id as a big-endian uint256 and
``payload_hash = keccak256(payload)``, ``payload`` being the SSZ bytes that follow the signature
in the message (the envelope from V3). The signature is 65 bytes ``r ++ s ++ y_parity``.

Recovery accepts what op-node's ``crypto.SigToPub`` accepts (op-node is built without cgo, so
decred's ``RecoverCompact``): a recovery byte 0..7 (4..7 set the "compressed" flag, which does not
change the key) and a high ``s`` (recovery does not enforce EIP-2's low-s rule; op-node accepts
both ``s`` and ``n - s``, so the same block can arrive under two valid signatures and the seen
block check catches the second). Signing produces low-``s`` RFC 6979 signatures, the same bytes
as op-node's ``LocalSigner``.
"""

from __future__ import annotations

from coincurve import PrivateKey, PublicKey
from eth_hash.auto import keccak

from pyop.primitives import Address, Hash32, PyopError

SIGNING_DOMAIN_BLOCKS_V1 = b"\x00" * 32


class SignatureError(PyopError):
    """A block signature that does not recover to a public key."""


def payload_hash(payload: bytes) -> Hash32:
    """``signer.PayloadHash``: keccak256 of the signed SSZ bytes."""
    return bytes(keccak(payload))


def signing_hash(chain_id: int, payload_hash_: Hash32, domain: bytes = SIGNING_DOMAIN_BLOCKS_V1) -> Hash32:
    """``BlockSigningMessage.ToSigningHash``."""
    return bytes(keccak(domain + chain_id.to_bytes(32, "big") + payload_hash_))


def sign_block(key: bytes, chain_id: int, payload: bytes) -> bytes:
    """``LocalSigner.SignBlockV1``: the 65-byte signature of ``payload`` by the 32-byte secp256k1
    private key ``key``."""
    return bytes(PrivateKey(key).sign_recoverable(signing_hash(chain_id, payload_hash(payload)), hasher=None))


def address_of_key(key: bytes) -> Address:
    """The Ethereum address of a secp256k1 private key."""
    return bytes(keccak(PrivateKey(key).public_key.format(compressed=False)[1:]))[12:]


def recover_signer(signature: bytes, chain_id: int, payload: bytes) -> Address:
    """The address that signed ``payload`` for ``chain_id`` (:class:`SignatureError` when nothing
    can be recovered; see the module docstring for what is accepted)."""
    if len(signature) != 65:
        raise SignatureError(f"signature must be 65 bytes, got {len(signature)}")
    v = signature[64]
    if v > 7:
        raise SignatureError(f"invalid signature recovery code {v}")
    sig = signature[:64] + bytes([v & 3])
    try:
        pub = PublicKey.from_signature_and_message(sig, signing_hash(chain_id, payload_hash(payload)), hasher=None)
    except Exception as e:  # coincurve raises plain Exception/ValueError for bad signatures
        raise SignatureError(f"failed to recover pubkey from signing hash: {e}") from None
    return bytes(keccak(pub.format(compressed=False)[1:]))[12:]


__all__ = [
    "SIGNING_DOMAIN_BLOCKS_V1",
    "SignatureError",
    "address_of_key",
    "payload_hash",
    "recover_signer",
    "sign_block",
    "signing_hash",
]
