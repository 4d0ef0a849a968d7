"""The node's network identity (specs/protocol/rollup-node-p2p.md "Identification"; op-node
v1.19.6 ``op-node/p2p/cli/load_config.go`` ``loadNetworkPrivKey`` / ``parsePriv``).

The network key is a secp256k1 private key, separate from the sequencer's signing key. It comes
from ``--p2p.priv.raw`` (hex), else from the ``--p2p.priv.path`` file (hex, optional ``0x``,
surrounding white space ignored); a missing file is created with a new random key (hex, no
``0x``, mode 0600), as op-node does. The libp2p peer ID is derived from the public key by
py-libp2p (identity multihash of the protobuf key, base58: ``16Uiu2...``); the discv5 node ID is
``keccak256(x ++ y)`` of the uncompressed public key (go-ethereum ``enode.PubkeyToIDV4``).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from coincurve import PrivateKey
from eth_hash.auto import keccak

from pyop.primitives import PyopError

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


class NetworkKeyError(PyopError):
    """A network private key that cannot be read or parsed."""


def parse_priv(text: str) -> bytes:
    """op-node ``parsePriv``: 32 bytes of hex, ``0x`` optional."""
    t = text[2:] if len(text) > 2 and text[:2] == "0x" else text
    try:
        b = bytes.fromhex(t)
    except ValueError:
        raise NetworkKeyError("p2p priv key is not formatted in hex chars") from None
    if len(b) != 32 or not 0 < int.from_bytes(b, "big") < SECP256K1_N:
        raise NetworkKeyError(f"failed to parse priv key from {len(b)} bytes")
    return b


def load_network_key(raw: str = "", path: str = "") -> bytes:
    """The network private key from ``--p2p.priv.raw`` or the ``--p2p.priv.path`` file."""
    if raw:
        return parse_priv(raw)
    if not path:
        raise NetworkKeyError("no p2p private key path specified, cannot auto-generate key without path")
    p = Path(path)
    if not p.exists():
        key = secrets.token_bytes(32)
        while not 0 < int.from_bytes(key, "big") < SECP256K1_N:
            key = secrets.token_bytes(32)
        try:
            fd = os.open(p, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(key.hex())
        except OSError as e:
            raise NetworkKeyError(f"failed to store new p2p priv key: {e}") from None
        return key
    try:
        return parse_priv(p.read_text().strip())
    except OSError as e:
        raise NetworkKeyError(f"failed to read priv key file: {e}") from None


def node_id(key: bytes) -> bytes:
    """The discv5 node ID of the network key (``enode.PubkeyToIDV4``)."""
    return bytes(keccak(PrivateKey(key).public_key.format(compressed=False)[1:]))


def node_id_of_public_key(compressed: bytes) -> bytes:
    """The discv5 node ID of a (compressed) secp256k1 public key."""
    from coincurve import PublicKey

    return bytes(keccak(PublicKey(compressed).format(compressed=False)[1:]))


def peer_id(key: bytes) -> str:
    """The libp2p peer ID (base58) of the network key."""
    from libp2p.crypto.secp256k1 import create_new_key_pair
    from libp2p.peer.id import ID

    return str(ID.from_pubkey(create_new_key_pair(key).public_key))


__all__ = ["NetworkKeyError", "load_network_key", "node_id", "node_id_of_public_key", "parse_priv", "peer_id"]
