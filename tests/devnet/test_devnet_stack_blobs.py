"""Live devnet, batches as blobs (op-batcher ``--data-availability-type blobs``), with every fork
through Jovian active at genesis. op-node fetches the blobs from anvil's beacon API
through pyop's beacon shim (``/eth/v1/beacon/blobs/{slot}``, slot = (L1 time - beacon genesis
time) / L1 block time, mapped to the anvil block in that slot; pyop.devnet.beacon_shim).

The blob checks are independent of op-node: each blob anvil serves is committed to with ckzg
(pyop.codec.blob) and must hash to one of the transaction's versioned hashes (EIP-4844), and
it must decode (specs/protocol/derivation.md "Blob Encoding") to derivation version 0 frames.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from pyop.codec.blob import blob_to_kzg_commitment, decode_blob, kzg_to_versioned_hash
from pyop.config import Fork
from pyop.devnet.l2_genesis import DEFAULT_FORK_OFFSETS
from pyop.devnet.rpc import RpcClient
from pyop.primitives import L1BlockRef, from_hex, hex_to_int, to_hex
from pyop.sources.beacon import BeaconBlobSource
from pyop.sources.interfaces import IndexedBlobHash
from tests.devnet.devnet_stack_harness import (
    Devnet,
    batcher_txs,
    bring_up,
    l2_block,
    safe_head_advances,
    wait_for,
)

pytestmark = pytest.mark.slow

FORK_OFFSETS = {**DEFAULT_FORK_OFFSETS, Fork.ISTHMUS: 0, Fork.JOVIAN: 0}


@pytest.fixture(scope="module")
def dn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devnet]:
    yield from bring_up(tmp_path_factory.mktemp("blobs"), da="blobs", fork_offsets=FORK_OFFSETS)


def test_safe_head_advances_with_blob_batches(dn: Devnet) -> None:
    dn.assert_alive()
    assert "--data-availability-type=blobs" in dn.stack.processes["op-batcher"].argv
    before, after = safe_head_advances(dn, blocks=4, timeout=90)
    assert after > before
    head = hex_to_int(dn.l1.call("eth_blockNumber"))
    txs = batcher_txs(dn, 1, head)
    blob_txs = [tx for tx in txs if tx["type"] == "0x3"]
    assert blob_txs, f"no blob batcher txs among {len(txs)}"
    assert all(tx["type"] == "0x3" for tx in txs), "the batcher also posted non-blob batches"
    safe = dn.sync_status()["safe_l2"]
    assert l2_block(dn, int(safe["number"]))["hash"] == safe["hash"]


def test_blobs_served_by_the_l1_beacon_api(dn: Devnet) -> None:
    head = hex_to_int(dn.l1.call("eth_blockNumber"))
    tx = wait_for(lambda: next(iter(t for t in batcher_txs(dn, 1, head) if t["type"] == "0x3"),
                               None), 30, "a blob batcher tx")  # fmt: skip
    blk = dn.l1.call("eth_getBlockByNumber", tx["blockNumber"], False)
    beacon = RpcClient(dn.info.l1_beacon_url)
    status, body = beacon.http_get("/eth/v1/config/spec")
    assert status == 200
    assert int(json.loads(body)["data"]["SECONDS_PER_SLOT"]) == dn.info.l1_block_time
    status, body = beacon.http_get("/eth/v1/beacon/genesis")
    assert status == 200
    genesis_time = int(json.loads(body)["data"]["genesis_time"])
    assert genesis_time == hex_to_int(dn.l1.call("eth_getBlockByNumber", "0x0", False)["timestamp"])
    # The request op-node makes (slot from the block time), and anvil's own by block number.
    slot = (hex_to_int(blk["timestamp"]) - genesis_time) // dn.info.l1_block_time
    wanted = set(tx["blobVersionedHashes"])
    for client, block_id in ((beacon, slot), (dn.l1, hex_to_int(blk["number"]))):
        status, body = client.http_get(f"/eth/v1/beacon/blobs/{block_id}")
        assert status == 200, body[:200]
        blobs = [from_hex(b) for b in json.loads(body)["data"]]
        got = {to_hex(kzg_to_versioned_hash(blob_to_kzg_commitment(b))): b for b in blobs}
        assert wanted <= set(got)
        for vh in wanted:
            data = decode_blob(got[vh])
            assert data[0] == 0, "batcher data must start with derivation version 0"
    # pyop's beacon client asks what op-node v1.19.6 asks (blobs/{slot}?versioned_hashes=..)
    src = BeaconBlobSource.connect(dn.info.l1_beacon_url)
    try:
        ref = L1BlockRef(from_hex(blk["hash"]), hex_to_int(blk["number"]), from_hex(blk["parentHash"]),
                         hex_to_int(blk["timestamp"]))  # fmt: skip
        want = [IndexedBlobHash(i, from_hex(h)) for i, h in enumerate(tx["blobVersionedHashes"])]
        fetched = src.get_blobs(ref, want)
        assert src.client.mode == "blobs"
        assert [kzg_to_versioned_hash(blob_to_kzg_commitment(b)) for b in fetched] == [w.hash for w in want]
    finally:
        src.close()


def test_forks_active_at_genesis(dn: Devnet) -> None:
    rollup = json.loads(dn.info.rollup_path.read_text())
    assert rollup["isthmus_time"] == rollup["jovian_time"] == dn.info.l2_genesis_time
    st = dn.sync_status()
    assert int(st["unsafe_l2"]["number"]) > 0
    # Jovian blocks carry the v1 extraData (0x01 ‖ denominator ‖ elasticity ‖ min base fee).
    blk = l2_block(dn, int(st["unsafe_l2"]["number"]))
    extra = from_hex(blk["extraData"])
    assert len(extra) == 17 and extra[0] == 1
