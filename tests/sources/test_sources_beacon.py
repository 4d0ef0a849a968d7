"""Blob retrieval from a fake beacon node serving real Goerli responses (shared vectors
``beacon/``), and from an anvil-style ``/eth/v1/beacon/blobs/{block}`` endpoint."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pytest

from pyop.derivation.errors import TemporaryError
from pyop.derivation.interfaces import IndexedBlobHash, NotFound
from pyop.primitives import L1BlockRef
from pyop.sources.beacon import BeaconBlobSource
from tests.conftest import SHARED_VECTORS
from tests.sources.sources_fake_server import FakeServer

BEACON = SHARED_VECTORS / "beacon"
SLOT = 7422094


def _load(name: str) -> Any:
    return json.loads((BEACON / name).read_text())


GENESIS = _load("eth_v1_beacon_genesis_goerli.json")
SPEC = _load("eth_v1_config_spec_goerli.json")
SIDECARS = _load(f"eth_v1_beacon_blob_sidecars_{SLOT}_goerli.json")


def _vh(commitment_hex: str) -> bytes:
    """EIP-4844 kzg_to_versioned_hash, computed here with hashlib."""
    return b"\x01" + hashlib.sha256(bytes.fromhex(commitment_hex[2:])).digest()[1:]


def _blob(i: int) -> bytes:
    return bytes.fromhex(SIDECARS["data"][i]["blob"][2:])


BLOCK = L1BlockRef(
    hash=b"\x11" * 32,
    number=10_000_000,
    parent_hash=b"\x10" * 32,
    timestamp=int(GENESIS["data"]["genesis_time"]) + SLOT * int(SPEC["data"]["SECONDS_PER_SLOT"]),
)


def test_vectors_present() -> None:
    assert len(SIDECARS["data"]) >= 3


@pytest.fixture
def server() -> Iterator[FakeServer]:
    s = FakeServer()
    s.routes["/eth/v1/beacon/genesis"] = (200, GENESIS)
    s.routes["/eth/v1/config/spec"] = (200, SPEC)
    yield s
    s.close()


@pytest.fixture
def source(server: FakeServer) -> Iterator[BeaconBlobSource]:
    src = BeaconBlobSource.connect(server.url)
    yield src
    src.close()


def test_sidecars_by_slot(server: FakeServer, source: BeaconBlobSource) -> None:
    server.routes[f"/eth/v1/beacon/blob_sidecars/{SLOT}"] = (200, SIDECARS)
    d = SIDECARS["data"]
    want = [IndexedBlobHash(3, _vh(d[3]["kzg_commitment"])), IndexedBlobHash(1, _vh(d[1]["kzg_commitment"]))]
    assert list(source.get_blobs(BLOCK, want)) == [_blob(3), _blob(1)]
    assert source.client.mode == "auto"
    assert f"/eth/v1/beacon/blob_sidecars/{SLOT}" in server.gets


def test_sidecar_hash_mismatch_is_rejected(server: FakeServer, source: BeaconBlobSource) -> None:
    server.routes[f"/eth/v1/beacon/blob_sidecars/{SLOT}"] = (200, SIDECARS)
    wrong = IndexedBlobHash(0, _vh(SIDECARS["data"][1]["kzg_commitment"]))
    with pytest.raises(TemporaryError, match="versioned hash"):
        source.get_blobs(BLOCK, [wrong])


def test_sidecar_bad_proof_is_rejected(server: FakeServer, source: BeaconBlobSource) -> None:
    bad = json.loads(json.dumps(SIDECARS))
    bad["data"][0]["kzg_proof"] = bad["data"][1]["kzg_proof"]
    server.routes[f"/eth/v1/beacon/blob_sidecars/{SLOT}"] = (200, bad)
    with pytest.raises(TemporaryError, match="proof"):
        source.get_blobs(BLOCK, [IndexedBlobHash(0, _vh(bad["data"][0]["kzg_commitment"]))])


def test_missing_index_is_not_found(server: FakeServer, source: BeaconBlobSource) -> None:
    server.routes[f"/eth/v1/beacon/blob_sidecars/{SLOT}"] = (200, SIDECARS)
    with pytest.raises(NotFound):
        source.get_blobs(BLOCK, [IndexedBlobHash(9, b"\x01" + b"\x00" * 31)])


@pytest.mark.parametrize("status", [404, 410])
def test_anvil_mode_is_detected(server: FakeServer, source: BeaconBlobSource, status: int) -> None:
    server.routes[f"/eth/v1/beacon/blob_sidecars/{SLOT}"] = (status, {"message": "gone"})
    # anvil serves the blobs of the EL block, without commitments
    server.routes["/eth/v1/beacon/blobs/0x" + BLOCK.hash.hex()] = (
        200, {"data": [SIDECARS["data"][0]["blob"], SIDECARS["data"][2]["blob"]]}
    )
    d = SIDECARS["data"]
    # the requested index (4) differs from the position anvil serves it at (1): found by hash
    want = [IndexedBlobHash(4, _vh(d[2]["kzg_commitment"])), IndexedBlobHash(0, _vh(d[0]["kzg_commitment"]))]
    assert list(source.get_blobs(BLOCK, want)) == [_blob(2), _blob(0)]
    assert source.client.mode == "anvil"
    n = len(server.gets)
    source.get_blobs(BLOCK, want[1:])
    assert server.gets[n:] == ["/eth/v1/beacon/blobs/0x" + BLOCK.hash.hex()]
    with pytest.raises(NotFound):
        source.get_blobs(BLOCK, [IndexedBlobHash(1, _vh(d[1]["kzg_commitment"]))])


def test_no_blobs_anywhere_is_not_found(server: FakeServer, source: BeaconBlobSource) -> None:
    with pytest.raises(NotFound):
        source.get_blobs(BLOCK, [IndexedBlobHash(0, b"\x01" + b"\x00" * 31)])


def test_malformed_sidecars_are_typed(server: FakeServer, source: BeaconBlobSource) -> None:
    server.routes[f"/eth/v1/beacon/blob_sidecars/{SLOT}"] = (200, {"data": [{"index": "0"}]})
    with pytest.raises(TemporaryError, match="blob"):
        source.get_blobs(BLOCK, [IndexedBlobHash(0, b"\x01" + b"\x00" * 31)])


# --------------------------------------------------------------------------- op-node v1.19.6's endpoint


def test_blobs_by_slot_and_versioned_hashes_as_op_node(server: FakeServer, source: BeaconBlobSource) -> None:
    """op-node v1.19.6 asks ``/eth/v1/beacon/blobs/{slot}?versioned_hashes=..``; the server
    orders blobs by their commitment in the block, the caller gets them in the order asked."""
    d = SIDECARS["data"]
    server.routes[f"/eth/v1/beacon/blobs/{SLOT}"] = (200, {"data": [d[1]["blob"], d[3]["blob"]]})
    want = [IndexedBlobHash(3, _vh(d[3]["kzg_commitment"])), IndexedBlobHash(1, _vh(d[1]["kzg_commitment"]))]
    assert list(source.get_blobs(BLOCK, want)) == [_blob(3), _blob(1)]
    assert source.client.mode == "blobs"
    assert server.gets == ["/eth/v1/beacon/genesis", "/eth/v1/config/spec", f"/eth/v1/beacon/blobs/{SLOT}"]
    assert server.queries[-1] == [("versioned_hashes", "0x" + w.hash.hex()) for w in want]
    # a blob it does not serve, and no older endpoint has it either: op-node's error
    # ("#returned blobs != #requested blobs")
    with pytest.raises(TemporaryError, match="expected 1 blobs but got 2"):
        source.get_blobs(BLOCK, [want[0]])


def test_blobs_that_do_not_verify_are_refused(server: FakeServer, source: BeaconBlobSource) -> None:
    d = SIDECARS["data"]
    server.routes[f"/eth/v1/beacon/blobs/{SLOT}"] = (200, {"data": [d[0]["blob"]]})
    source.get_blobs(BLOCK, [IndexedBlobHash(0, _vh(d[0]["kzg_commitment"]))])
    assert source.client.mode == "blobs"
    with pytest.raises(TemporaryError, match="does not match any expected hash"):
        source.get_blobs(BLOCK, [IndexedBlobHash(2, _vh(d[2]["kzg_commitment"]))])


def test_a_server_without_the_blobs_endpoint_falls_back_to_sidecars(server: FakeServer, source: BeaconBlobSource) -> None:
    """A beacon node older than the ``blobs`` endpoint (404), or anvil reading ``{slot}`` as
    another EL block (blobs that do not verify): the sidecars endpoint is asked instead."""
    d = SIDECARS["data"]
    want = [IndexedBlobHash(2, _vh(d[2]["kzg_commitment"]))]
    server.routes[f"/eth/v1/beacon/blob_sidecars/{SLOT}"] = (200, SIDECARS)
    assert list(source.get_blobs(BLOCK, want)) == [_blob(2)]  # blobs/{slot}: 404
    server.routes[f"/eth/v1/beacon/blobs/{SLOT}"] = (200, {"data": [d[0]["blob"]]})  # another block's
    assert list(source.get_blobs(BLOCK, want)) == [_blob(2)]
    assert source.client.mode == "auto"
    assert server.gets.count(f"/eth/v1/beacon/blob_sidecars/{SLOT}") == 2


# --------------------------------------------------------------------------- fallbacks, header, slot override


def test_fallbacks_header_and_slot_duration_override(server: FakeServer) -> None:
    """op-node --l1.beacon-fallbacks: a blob the main endpoint does not serve (e.g. expired) is
    fetched from the fallbacks, with the main endpoint's slot clock; --l1.beacon-header goes to
    the main endpoint only (op-node L1BeaconEndpointConfig.Setup); --l1.beacon.slot-duration-
    override: /eth/v1/config/spec is not asked (was: flags refused / accepted without effect)."""
    d = SIDECARS["data"]
    want = [IndexedBlobHash(2, _vh(d[2]["kzg_commitment"]))]
    archive, broken = FakeServer(), FakeServer()
    archive.routes[f"/eth/v1/beacon/blobs/{SLOT}"] = (200, {"data": [d[2]["blob"]]})
    broken.routes[f"/eth/v1/beacon/blobs/{SLOT}"] = (500, {"message": "down"})
    sps = int(SPEC["data"]["SECONDS_PER_SLOT"])
    src = BeaconBlobSource.connect(server.url, fallbacks=[broken.url, archive.url],
                                   headers={"X-Api-Key": "k1"}, seconds_per_slot=sps)  # fmt: skip
    try:
        assert list(src.get_blobs(BLOCK, want)) == [_blob(2)]
        assert "/eth/v1/config/spec" not in server.gets
        assert all(h.get("X-Api-Key") == "k1" for h in server.headers)
        assert archive.gets == [f"/eth/v1/beacon/blobs/{SLOT}"]  # genesis/spec from the main endpoint
        assert all("X-Api-Key" not in h for h in archive.headers + broken.headers)
        archive.routes.clear()
        with pytest.raises(NotFound):  # nobody has it: the main endpoint's error
            src.get_blobs(BLOCK, want)
    finally:
        src.close()
        archive.close()
        broken.close()
