"""EIP-4844 blob-transaction sidecars and their network encoding.

A blob transaction (type 3) carries ``blob_versioned_hashes`` in its signed body; the blobs, their
KZG commitments and proofs travel beside it only on the network ("sidecar"), never on chain.
Go: op-service/txmgr ``MakeSidecar``; go-ethereum ``types.BlobTxSidecar``.

- Version 0 (EIP-4844): one KZG blob proof per blob; network form
  ``0x03 || rlp([tx_payload_body, blobs, commitments, proofs])``.
- Version 1 (EIP-7594, PeerDAS, from the L1's Osaka/Fusaka): ``CELLS_PER_EXT_BLOB`` (128) cell
  proofs per blob; network form ``0x03 || rlp([tx_payload_body, 1, blobs, commitments,
  cell_proofs])``.

``tx_payload_body`` is the signed transaction's field list (the canonical encoding without the
type byte); the transaction hash covers only ``0x03 || rlp(tx_payload_body)``. The versioned
hash of a commitment is ``0x01 || sha256(commitment)[1:]``. The devnet L1 (anvil 1.7.1, Prague)
accepts version 0; a Fusaka L1 wants version 1 (``--txmgr.cell-proof-time``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import ckzg

from pyop.codec.blob import (
    BLOB_SIZE,
    blob_to_kzg_commitment,
    compute_blob_kzg_proof,
    kzg_settings,
    kzg_to_versioned_hash,
)
from pyop.codec.tx import BLOB_TX_TYPE, rlp_encode
from pyop.txmgr.errors import TxManagerError

CELLS_PER_EXT_BLOB = 128
"""EIP-7594: cell proofs per blob in a version-1 sidecar."""
MAX_BLOBS_PER_TX = 6
"""The most blobs op-batcher puts in one tx (``--target-num-frames`` is checked against the
Prague per-block maximum; EIP-7594 caps a tx at 6 from Osaka)."""

__all__ = ["CELLS_PER_EXT_BLOB", "BlobSidecar", "make_sidecar", "network_encoding"]


@dataclass(frozen=True, slots=True)
class BlobSidecar:
    """Blobs, commitments and proofs of one blob transaction (go-ethereum
    ``BlobTxSidecar``); ``version`` 0 (blob proofs) or 1 (cell proofs)."""

    blobs: tuple[bytes, ...]
    commitments: tuple[bytes, ...]
    proofs: tuple[bytes, ...]
    version: int = 0

    def versioned_hashes(self) -> tuple[bytes, ...]:
        return tuple(kzg_to_versioned_hash(c) for c in self.commitments)


def make_sidecar(blobs: Sequence[bytes], *, cell_proofs: bool = False) -> BlobSidecar:
    """Commit to each blob and prove it (Go ``MakeSidecar``): version 1 with 128 cell proofs
    per blob when ``cell_proofs``, else version 0 with one blob proof per blob."""
    if not blobs:
        raise TxManagerError("a blob transaction needs at least one blob")
    commitments: list[bytes] = []
    proofs: list[bytes] = []
    for i, blob in enumerate(blobs):
        if len(blob) != BLOB_SIZE:
            raise TxManagerError(f"blob {i} is {len(blob)} bytes, want {BLOB_SIZE}")
        c = blob_to_kzg_commitment(blob)
        commitments.append(c)
        if cell_proofs:
            _cells, cps = ckzg.compute_cells_and_kzg_proofs(bytes(blob), kzg_settings())
            proofs.extend(bytes(p) for p in cps)
        else:
            proofs.append(compute_blob_kzg_proof(blob, c))
    return BlobSidecar(tuple(bytes(b) for b in blobs), tuple(commitments), tuple(proofs),
                       1 if cell_proofs else 0)  # fmt: skip


def network_encoding(signed_tx: bytes, sidecar: BlobSidecar) -> bytes:
    """The network form of a signed blob tx (its canonical ``0x03 || rlp(body)`` encoding) with
    ``sidecar`` (module docstring), as ``eth_sendRawTransaction`` takes it."""
    if not signed_tx or signed_tx[0] != BLOB_TX_TYPE:
        raise TxManagerError("not a blob transaction")
    parts = [bytes(signed_tx[1:])]  # rlp(tx_payload_body), already encoded
    if sidecar.version == 1:
        parts.append(rlp_encode(1))
    parts += [rlp_encode(list(sidecar.blobs)), rlp_encode(list(sidecar.commitments)),
              rlp_encode(list(sidecar.proofs))]  # fmt: skip
    payload = b"".join(parts)
    n = len(payload)
    if n < 56:
        head = bytes([0xC0 + n])
    else:
        size = n.to_bytes((n.bit_length() + 7) // 8, "big")
        head = bytes([0xF7 + len(size)]) + size
    return bytes([BLOB_TX_TYPE]) + head + payload
