"""Tests of pyop.codec.blob: the OP blob encoding and the KZG helpers.

Expected values come from hildr's blob tests (spec_vectors/blobs/README.md), real Goerli beacon
sidecars, and an independent transcription of the spec's encoding pseudo-code below.
"""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyop.codec.blob import (
    BLOB_SIZE,
    MAX_BLOB_DATA_SIZE,
    blob_to_kzg_commitment,
    compute_blob_kzg_proof,
    decode_blob,
    encode_blob,
    kzg_to_versioned_hash,
    verify_blob_against_hash,
    verify_blob_kzg_proof,
)
from pyop.codec.errors import BlobError
from tests.conftest import SHARED_VECTORS, SPEC_VECTORS


def _hex(text: str) -> bytes:
    text = text.strip()
    if text[:2] in ("0x", "0X"):
        text = text[2:]
    return bytes.fromhex(text)


def _load_hex(path: Path) -> bytes:
    return _hex(path.read_text())


def _spec_encode(data: bytes) -> bytes:
    """ecotone/derivation.md#blob-encoding pseudo-code, transcribed literally (read/write)."""
    stream = bytes([0]) + len(data).to_bytes(3, "big") + data
    pos = 0
    out = bytearray()

    def read(n: int) -> bytes:
        nonlocal pos
        chunk = stream[pos : pos + n]
        pos += n
        return chunk + bytes(n - len(chunk))

    for _ in range(1024):
        tail_a = read(31)
        x = read(1)[0]
        out.append(x & 0b0011_1111)
        out += tail_a
        tail_b = read(31)
        y = read(1)[0]
        out.append((y & 0b0000_1111) | ((x & 0b1100_0000) >> 2))
        out += tail_b
        tail_c = read(31)
        z = read(1)[0]
        out.append(z & 0b0011_1111)
        out += tail_c
        tail_d = read(31)
        out.append(((z & 0b1100_0000) >> 2) | ((y & 0b1111_0000) >> 4))
        out += tail_d
    return bytes(out)


HILDR_EXPECTED = {
    1: b"this is a test of blob encoding/decoding",
    2: b"short",
    3: b"\x00",
    4: b"\x00\x01\x00",
    5: b"\x00" * 27,
    6: b"\x00" * 26,
    7: b"\x00" * 25,
    8: b"",
}


@pytest.mark.parametrize("i", sorted(HILDR_EXPECTED))
def test_hildr_blobs_decode_and_reencode(i: int) -> None:
    blob = _load_hex(SHARED_VECTORS / "blobs" / f"blob{i}.txt")
    assert len(blob) == BLOB_SIZE
    assert decode_blob(blob) == HILDR_EXPECTED[i]
    assert encode_blob(HILDR_EXPECTED[i]) == blob


def test_real_sepolia_blob() -> None:
    blob = _load_hex(SPEC_VECTORS / "blobs" / "blob9.txt")
    expected = _load_hex(SPEC_VECTORS / "blobs" / "blob9_decode.txt")
    assert len(expected) > 3000
    assert decode_blob(blob) == expected
    assert encode_blob(expected) == blob
    assert _spec_encode(expected) == blob


def test_encode_matches_spec_pseudocode_at_boundaries() -> None:
    rng = random.Random(1)
    for n in (0, 1, 26, 27, 28, 122, 123, 124, 250, 251, 252, 4000, MAX_BLOB_DATA_SIZE):
        data = rng.randbytes(n)
        blob = encode_blob(data)
        assert blob == _spec_encode(data), n
        assert decode_blob(blob) == data, n


@settings(max_examples=15, deadline=None)
@given(n=st.integers(0, MAX_BLOB_DATA_SIZE), seed=st.integers(0, 2**32))
def test_round_trip(n: int, seed: int) -> None:
    data = random.Random(seed).randbytes(n)
    blob = encode_blob(data)
    assert len(blob) == BLOB_SIZE
    assert decode_blob(blob) == data


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(0, 2000),
    flips=st.lists(st.tuples(st.integers(0, 4 * 128 * 20), st.integers(1, 255)), max_size=4),
)
def test_corrupted_blobs_raise_only_blob_error(n: int, flips: list[tuple[int, int]]) -> None:
    blob = bytearray(encode_blob(bytes(range(256)) * (n // 256) + bytes(n % 256)))
    for pos, mask in flips:
        blob[pos] ^= mask
    try:
        out = decode_blob(bytes(blob))
    except BlobError as e:
        assert e.offset is not None
    else:
        assert len(out) <= MAX_BLOB_DATA_SIZE


@settings(max_examples=20, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_short_input_raises_blob_error(raw: bytes) -> None:
    with pytest.raises(BlobError):
        decode_blob(raw)


def test_encode_too_large() -> None:
    encode_blob(bytes(MAX_BLOB_DATA_SIZE))
    with pytest.raises(BlobError, match="too much data"):
        encode_blob(bytes(MAX_BLOB_DATA_SIZE + 1))


def _err(blob: bytes | bytearray) -> BlobError:
    with pytest.raises(BlobError) as info:
        decode_blob(bytes(blob))
    return info.value


def test_decode_checks_and_offsets() -> None:
    good = bytearray(encode_blob(b"hello world" * 20))  # 220 bytes: two rounds
    assert decode_blob(bytes(good)) == b"hello world" * 20

    assert "length" in str(_err(good[:-1]))

    bad = bytearray(good)
    bad[1] = 1
    e = _err(bad)
    assert e.offset == 1 and "version" in e.message

    bad = bytearray(bytes(BLOB_SIZE))
    bad[2:5] = (MAX_BLOB_DATA_SIZE + 1).to_bytes(3, "big")
    e = _err(bad)
    assert e.offset == 2 and "length" in e.message
    bad[2:5] = MAX_BLOB_DATA_SIZE.to_bytes(3, "big")
    decode_blob(bytes(bad))  # max length of zero bytes is fine

    # top two bits of a field element's high-order byte (element 1, and element 5 in round 1)
    for off in (32, 128 + 32):
        bad = bytearray(good)
        bad[off] |= 0x80
        e = _err(bad)
        assert e.offset == off and "field element" in e.message

    # ... but not of element 0: op-node and kona only use its low 6 bits
    bad = bytearray(good)
    bad[0] |= 0xC0
    assert decode_blob(bytes(bad)) == b"hello world" * 20

    # a non-zero decoded byte past the length, inside the decoded rounds (round 1 tail D)
    bad = bytearray(good)
    bad[128 + 127] = 7
    e = _err(bad)
    assert e.offset == 128 + 127 and "field element should be empty" in e.message

    # a non-zero byte after the last decoded round
    bad = bytearray(good)
    bad[3 * 128 + 5] = 1
    e = _err(bad)
    assert e.offset == 3 * 128 + 5 and "blob should be empty" in e.message

    # a field element with top bits set in an undecoded round is extraneous data
    bad = bytearray(good)
    bad[2 * 128] = 0x40
    e = _err(bad)
    assert e.offset == 2 * 128


def test_length_beyond_decoded_round_is_checked_via_6bit_chunks() -> None:
    # 123 bytes fit exactly in round 0; a set bit in the 6-bit chunk area past a shorter
    # length must be rejected (x lives in element 0's high byte: decoded byte 27).
    blob = bytearray(encode_blob(b"\x01" * 20))
    blob[0] = 0x01
    e = _err(blob)
    assert "field element should be empty" in e.message
    assert e.offset == 0


# --- KZG -----------------------------------------------------------------------------------

VERIFY_BLOB_COMMITMENT = bytes.fromhex(
    "8fa54464cc0e8239eece0aaece71c0a77c3982458c90e23cf7d76047e4bc18ca53b9db993ea7c3f9c46e02a3e18c6f3f"
)
VERIFY_BLOB_PROOF = bytes.fromhex(
    "86d8f4e5064978a200d4b3f14433f9027b3e9fbcadf9c55cba620f188b2bb478716b0ca0fc3baa9127078696a3fc52c1"
)
VERIFY_BLOB_HASH = bytes.fromhex("0117c47bf5c7f09ff5bf881d102ed3896050fdd3eccda6f46d94698d77b20331")


def test_hildr_verify_blob() -> None:
    blob = _load_hex(SHARED_VECTORS / "blobs" / "verify_blob.txt")
    assert _err(blob).offset == 1  # not OP-encoded: version byte 0x16
    assert blob_to_kzg_commitment(blob) == VERIFY_BLOB_COMMITMENT
    assert kzg_to_versioned_hash(VERIFY_BLOB_COMMITMENT) == VERIFY_BLOB_HASH
    assert verify_blob_kzg_proof(blob, VERIFY_BLOB_COMMITMENT, VERIFY_BLOB_PROOF)
    verify_blob_against_hash(blob, VERIFY_BLOB_COMMITMENT, VERIFY_BLOB_HASH)
    verify_blob_against_hash(blob, VERIFY_BLOB_COMMITMENT, VERIFY_BLOB_HASH, VERIFY_BLOB_PROOF)
    wrong = bytes([1]) + VERIFY_BLOB_HASH[1:31] + bytes([VERIFY_BLOB_HASH[31] ^ 1])
    with pytest.raises(BlobError, match="versioned hash"):
        verify_blob_against_hash(blob, VERIFY_BLOB_COMMITMENT, wrong)


def _sidecars() -> list[dict[str, str]]:
    path = SHARED_VECTORS / "beacon" / "eth_v1_beacon_blob_sidecars_7422094_goerli.json"
    data: list[dict[str, str]] = json.loads(path.read_text())["data"]
    assert len(data) == 5
    return data


def test_goerli_sidecars() -> None:
    sidecars = _sidecars()
    blobs = [_hex(s["blob"]) for s in sidecars]
    commitments = [_hex(s["kzg_commitment"]) for s in sidecars]
    proofs = [_hex(s["kzg_proof"]) for s in sidecars]
    for blob, commitment, proof in zip(blobs, commitments, proofs, strict=True):
        assert blob_to_kzg_commitment(blob) == commitment
        assert verify_blob_kzg_proof(blob, commitment, proof)
        vhash = b"\x01" + hashlib.sha256(commitment).digest()[1:]
        assert kzg_to_versioned_hash(commitment) == vhash
        verify_blob_against_hash(blob, commitment, vhash, proof)
    # a proof of another blob does not verify; a blob against another commitment fails
    assert not verify_blob_kzg_proof(blobs[0], commitments[0], proofs[1])
    vhash1 = kzg_to_versioned_hash(commitments[1])
    with pytest.raises(BlobError):
        verify_blob_against_hash(blobs[0], commitments[1], vhash1)
    with pytest.raises(BlobError):
        verify_blob_against_hash(blobs[0], commitments[1], vhash1, proofs[1])


def test_compute_proof_and_bad_inputs() -> None:
    blob = encode_blob(b"pyop blob proof")
    commitment = blob_to_kzg_commitment(blob)
    proof = compute_blob_kzg_proof(blob, commitment)
    assert verify_blob_kzg_proof(blob, commitment, proof)
    other = encode_blob(b"pyop blob proof!")
    assert not verify_blob_kzg_proof(other, commitment, proof)
    # a field element not below the BLS modulus
    with pytest.raises(BlobError):
        blob_to_kzg_commitment(b"\xff" * BLOB_SIZE)
    assert not verify_blob_kzg_proof(b"\xff" * BLOB_SIZE, commitment, proof)
    assert not verify_blob_kzg_proof(blob, b"\x12" * 48, proof)
    with pytest.raises(BlobError):
        blob_to_kzg_commitment(b"\x00" * 100)
    with pytest.raises(BlobError):
        kzg_to_versioned_hash(b"\x00" * 47)
