"""The OP blob encoding (rollup data <-> EIP-4844 blob) and the KZG checks of a blob.

Spec: specs/protocol/ecotone/derivation.md, "Blob Encoding" (linked from
specs/protocol/derivation.md). Each round packs 127 bytes of rollup data into 4 field elements
of 32 bytes: four 31-byte tails go into bytes ``[1:32]`` of the elements, and the remaining three
bytes are split into four 6-bit values that become the elements' high-order bytes (so the top two
bits of every element stay zero and the element is below the BLS modulus). The first field
element carries the encoding version (byte 1) and the data length (bytes 2-4, big-endian
``uint24``). 1024 rounds fill the 4096 field elements.

Decoding mirrors op-node (``op-service/eth/blob.go`` ``Blob.ToData``) and kona
(``BlobData::decode``) exactly, including two details the spec text does not spell out:

* The high-order byte of field element 0 (blob byte 0) is not checked for its top two bits:
  only its low 6 bits are used. Every other decoded field element must have them clear.
* Only the rounds needed to cover the declared length are decoded; the decoded bytes past the
  length within those rounds, and every blob byte after the last decoded round, must be zero.

KZG (EIP-4844) helpers wrap ``ckzg`` with the Ethereum trusted setup shipped with
``eth_account``; the setup is loaded once per process, lazily, on first use.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import threading
from pathlib import Path

import ckzg

from pyop.codec.errors import BlobError

BLOB_SIZE = 131072
"""Bytes in a blob: ``FIELD_ELEMENTS_PER_BLOB * 32``."""
FIELD_ELEMENTS_PER_BLOB = 4096
BYTES_PER_FIELD_ELEMENT = 32
ENCODING_VERSION = 0
"""The only blob encoding version (ecotone/derivation.md#blob-encoding)."""
VERSION_OFFSET = 1
"""Offset of the version byte in the blob (the second byte of field element 0)."""
ROUNDS = 1024
"""Encoding rounds: 4 field elements (127 bytes of rollup data) each."""
MAX_BLOB_DATA_SIZE = (4 * 31 + 3) * 1024 - 4
"""130044: the 130048 bytes of a blob's capacity minus the version byte and the 3-byte length."""

BYTES_PER_COMMITMENT = 48
BYTES_PER_PROOF = 48
VERSIONED_HASH_VERSION_KZG = 0x01
"""EIP-4844: the first byte of a blob's versioned hash."""

_ROUND_DATA = 127  # rollup-data bytes (incl. the 4-byte header in round 0) per round
_ROUND_BLOB = 128  # blob bytes per round


# ---------------------------------------------------------------------------------------------
# Encoding
# ---------------------------------------------------------------------------------------------


def encode_blob(data: bytes) -> bytes:
    """Encode rollup ``data`` (at most :data:`MAX_BLOB_DATA_SIZE` bytes) into a 131072-byte blob.

    ecotone/derivation.md#blob-encoding. Raises :class:`BlobError` if ``data`` is too large.
    Empty data encodes to the all-zero blob (version 0, length 0), as op-node's ``FromData``.
    """
    if len(data) > MAX_BLOB_DATA_SIZE:
        raise BlobError(
            f"too much data to encode in one blob: {len(data)} > {MAX_BLOB_DATA_SIZE} bytes"
        )
    # The stream read by the spec's read(N): version byte, uint24 length, data, zero padding.
    stream = (
        bytes([ENCODING_VERSION])
        + len(data).to_bytes(3, "big")
        + bytes(data)
        + bytes(ROUNDS * _ROUND_DATA - 4 - len(data))
    )
    rounds = 0 if not data else -(-(len(data) + 4) // _ROUND_DATA)
    out = bytearray(BLOB_SIZE)
    for r in range(rounds):
        s = r * _ROUND_DATA
        b = r * _ROUND_BLOB
        x = stream[s + 31]
        y = stream[s + 63]
        z = stream[s + 95]
        out[b] = x & 0b0011_1111
        out[b + 1 : b + 32] = stream[s : s + 31]
        out[b + 32] = (y & 0b0000_1111) | ((x & 0b1100_0000) >> 2)
        out[b + 33 : b + 64] = stream[s + 32 : s + 63]
        out[b + 64] = z & 0b0011_1111
        out[b + 65 : b + 96] = stream[s + 64 : s + 95]
        out[b + 96] = ((z & 0b1100_0000) >> 2) | ((y & 0b1111_0000) >> 4)
        out[b + 97 : b + 128] = stream[s + 96 : s + 127]
    return bytes(out)


# ---------------------------------------------------------------------------------------------
# Decoding
# ---------------------------------------------------------------------------------------------


def _blob_offset_of_stream_byte(s: int) -> int:
    """The blob offset holding byte ``s`` of the decoded stream (header + data).

    For the three bytes per round that are spread over 6-bit chunks, the offset of the field
    element's high-order byte holding the low bits is given.
    """
    r, local = divmod(s, _ROUND_DATA)
    j, k = divmod(local, 32)
    base = r * _ROUND_BLOB
    if k == 31:  # x, y or z: low 6 (x, z) or 4 (y) bits live in element j's / element 1's byte
        return base + (0, 32, 64)[j]
    return base + 32 * j + 1 + k


def decode_blob(blob: bytes) -> bytes:
    """Decode an OP-encoded blob into its rollup data; raises :class:`BlobError` with the offset.

    ecotone/derivation.md#blob-encoding: the checks (in op-node's order) are the blob length,
    the version byte (offset 1), the length field (offset 2, at most
    :data:`MAX_BLOB_DATA_SIZE`), the top two bits of each decoded field element's high-order byte
    (except element 0, see the module docstring), zero decoded bytes past the length, and zero
    blob bytes after the last decoded round.
    """
    if len(blob) != BLOB_SIZE:
        raise BlobError(f"invalid blob length: expected {BLOB_SIZE} bytes, got {len(blob)}", 0)
    blob = bytes(blob)
    if blob[VERSION_OFFSET] != ENCODING_VERSION:
        raise BlobError(
            f"invalid encoding version: expected {ENCODING_VERSION}, got {blob[VERSION_OFFSET]}",
            VERSION_OFFSET,
        )
    length = int.from_bytes(blob[2:5], "big")
    if length > MAX_BLOB_DATA_SIZE:
        raise BlobError(f"invalid length for blob: {length} > {MAX_BLOB_DATA_SIZE}", 2)

    stream = bytearray()
    rounds = 0
    # Round 0 is always decoded; later rounds only while the data decoded so far
    # (stream minus the 4 header bytes) is shorter than the declared length.
    while rounds < ROUNDS and (rounds == 0 or len(stream) - 4 < length):
        b = rounds * _ROUND_BLOB
        hi = blob[b : b + 128 : 32]  # the 4 high-order bytes
        for j in range(4):
            if (rounds > 0 or j > 0) and hi[j] & 0b1100_0000:
                raise BlobError(
                    f"invalid field element {rounds * 4 + j}: top two bits set "
                    f"(high-order byte 0x{hi[j]:02x})",
                    b + 32 * j,
                )
        x = (hi[0] & 0b0011_1111) | ((hi[1] & 0b0011_0000) << 2)
        y = (hi[1] & 0b0000_1111) | ((hi[3] & 0b0000_1111) << 4)
        z = (hi[2] & 0b0011_1111) | ((hi[3] & 0b0011_0000) << 2)
        stream += blob[b + 1 : b + 32]
        stream.append(x)
        stream += blob[b + 33 : b + 64]
        stream.append(y)
        stream += blob[b + 65 : b + 96]
        stream.append(z)
        stream += blob[b + 97 : b + 128]
        rounds += 1

    end = 4 + length
    tail = stream[end:]
    if any(tail):
        first = next(i for i, v in enumerate(tail) if v)
        s = end + first
        raise BlobError(
            f"non-zero data encountered where field element should be empty "
            f"(decoded byte {s - 4}, past the length {length})",
            _blob_offset_of_stream_byte(s),
        )
    rest_start = rounds * _ROUND_BLOB
    rest = blob[rest_start:]
    if any(rest):
        first = next(i for i, v in enumerate(rest) if v)
        raise BlobError(
            "non-zero data encountered where blob should be empty", rest_start + first
        )
    return bytes(stream[4:end])


# ---------------------------------------------------------------------------------------------
# KZG (EIP-4844)
# ---------------------------------------------------------------------------------------------

_setup_lock = threading.Lock()
_setup: object | None = None


def trusted_setup_path() -> Path:
    """The mainnet KZG trusted setup file shipped with ``eth_account``."""
    res = importlib.resources.files("eth_account").joinpath(
        "typed_transactions/blob_transactions/kzg_trusted_setup.txt"
    )
    return Path(str(res))


def kzg_settings() -> object:
    """The ``ckzg`` settings, loading the trusted setup on first use (once per process)."""
    global _setup
    if _setup is None:
        with _setup_lock:
            if _setup is None:
                _setup = ckzg.load_trusted_setup(str(trusted_setup_path()), 0)
    return _setup


def _check_len(value: bytes, n: int, what: str) -> None:
    if len(value) != n:
        raise BlobError(f"{what} must be {n} bytes, got {len(value)}")


def blob_to_kzg_commitment(blob: bytes) -> bytes:
    """The 48-byte KZG commitment of a blob; :class:`BlobError` if a field element is not
    canonical (not below the BLS modulus) or the length is wrong."""
    _check_len(blob, BLOB_SIZE, "blob")
    try:
        return bytes(ckzg.blob_to_kzg_commitment(bytes(blob), kzg_settings()))
    except (RuntimeError, ValueError) as e:
        raise BlobError(f"cannot compute the KZG commitment of the blob: {e}") from None


def kzg_to_versioned_hash(commitment: bytes) -> bytes:
    """EIP-4844 ``kzg_to_versioned_hash``: ``0x01 ++ sha256(commitment)[1:]``."""
    _check_len(commitment, BYTES_PER_COMMITMENT, "KZG commitment")
    return bytes([VERSIONED_HASH_VERSION_KZG]) + hashlib.sha256(commitment).digest()[1:]


def compute_blob_kzg_proof(blob: bytes, commitment: bytes) -> bytes:
    """The 48-byte KZG proof that ``blob`` matches ``commitment`` (EIP-4844 blob proof)."""
    _check_len(blob, BLOB_SIZE, "blob")
    _check_len(commitment, BYTES_PER_COMMITMENT, "KZG commitment")
    try:
        return bytes(ckzg.compute_blob_kzg_proof(bytes(blob), bytes(commitment), kzg_settings()))
    except (RuntimeError, ValueError) as e:
        raise BlobError(f"cannot compute the KZG proof of the blob: {e}") from None


def verify_blob_kzg_proof(blob: bytes, commitment: bytes, proof: bytes) -> bool:
    """Whether ``proof`` shows that ``blob`` matches ``commitment``.

    Malformed inputs (a non-canonical field element, a commitment or proof that is not a valid
    compressed G1 point) give ``False``; wrong lengths raise :class:`BlobError`.
    """
    _check_len(blob, BLOB_SIZE, "blob")
    _check_len(commitment, BYTES_PER_COMMITMENT, "KZG commitment")
    _check_len(proof, BYTES_PER_PROOF, "KZG proof")
    try:
        return bool(
            ckzg.verify_blob_kzg_proof(
                bytes(blob), bytes(commitment), bytes(proof), kzg_settings()
            )
        )
    except (RuntimeError, ValueError):
        return False


def verify_blob_against_hash(
    blob: bytes, commitment: bytes, versioned_hash: bytes, proof: bytes | None = None
) -> None:
    """Check a fetched blob (e.g. a beacon sidecar) against a blob tx's versioned hash.

    ecotone/derivation.md#ecotone-blob-retrieval: a blob "MUST, if the source is untrusted" be
    verified against its versioned hash. Checks ``kzg_to_versioned_hash(commitment) ==
    versioned_hash`` and then that the blob matches the commitment: with ``proof`` by verifying
    the KZG proof (what op-node does with sidecars), otherwise by recomputing the commitment.
    Raises :class:`BlobError` on any mismatch.
    """
    _check_len(versioned_hash, 32, "versioned hash")
    got = kzg_to_versioned_hash(commitment)
    if got != versioned_hash:
        raise BlobError(
            f"KZG commitment does not match the versioned hash: "
            f"0x{got.hex()} != 0x{bytes(versioned_hash).hex()}"
        )
    if proof is not None:
        if not verify_blob_kzg_proof(blob, commitment, proof):
            raise BlobError("blob KZG proof does not verify against its commitment")
        return
    if blob_to_kzg_commitment(blob) != commitment:
        raise BlobError("blob does not match its KZG commitment")
