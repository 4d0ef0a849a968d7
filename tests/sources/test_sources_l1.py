"""The L1 JSON-RPC source against a fake node serving real Goerli blocks (and their corrupted
variants, shared vectors ``l1-blocks/``) and a synthetic block with receipts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import rlp
from eth_account import Account
from eth_hash.auto import keccak
from eth_utils import to_checksum_address

from pyop.derivation.errors import TemporaryError
from pyop.derivation.interfaces import NotFound
from pyop.sources.blockjson import ordered_trie_root
from pyop.sources.l1 import L1RPCSource
from pyop.sources.rpc import RetryPolicy
from tests.conftest import SHARED_VECTORS
from tests.sources.sources_fake_server import FakeServer

BLOCKS = SHARED_VECTORS / "l1-blocks" / "blocks"
HEADERS = SHARED_VECTORS / "l1-blocks" / "headers"
FAST = RetryPolicy(retries=1, backoff=0.01, max_backoff=0.01)


def _cases(d: Path) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    out = []
    for meta in sorted(d.glob("*_metadata.json")):
        data = meta.with_name(meta.name.replace("_metadata", "_data"))
        out.append((meta.name, json.loads(meta.read_text()), json.loads(data.read_text())))
    return out


BLOCK_CASES = _cases(BLOCKS)
HEADER_CASES = _cases(HEADERS)


def test_vectors_present() -> None:
    assert len(BLOCK_CASES) >= 10 and len(HEADER_CASES) >= 6
    assert any(not m.get("fail") for _, m, _ in BLOCK_CASES)
    assert any(m.get("fail") for _, m, _ in BLOCK_CASES)


def _strip(block: dict[str, Any]) -> dict[str, Any]:
    b = dict(block)
    b["transactions"] = [t["hash"] if isinstance(t, dict) else t for t in block["transactions"]]
    return b


def serve_blocks(server: FakeServer, blocks: list[dict[str, Any]], receipts: dict[str, list[Any]] | None = None) -> None:
    by_hash = {b["hash"]: b for b in blocks}
    by_num = {int(b["number"], 16): b for b in blocks}

    def get(b: dict[str, Any] | None, full: bool) -> Any:
        if b is None:
            return None
        return b if full else _strip(b)

    def by_number(m: str, p: list[Any]) -> Any:
        n = p[0]
        if n in ("latest", "safe", "finalized"):
            return get(by_num[max(by_num)], p[1])
        return get(by_num.get(int(n, 16)), p[1])

    server.rpc["eth_getBlockByHash"] = lambda m, p: get(by_hash.get(p[0]), p[1])
    server.rpc["eth_getBlockByNumber"] = by_number
    if receipts is not None:
        server.rpc["eth_getBlockReceipts"] = lambda m, p: receipts.get(p[0])


@pytest.fixture
def server() -> Iterator[FakeServer]:
    s = FakeServer()
    yield s
    s.close()


@pytest.fixture
def source(server: FakeServer) -> Iterator[L1RPCSource]:
    src = L1RPCSource.connect(server.url, retry=FAST)
    yield src
    src.close()


@pytest.mark.parametrize("name,meta,block", [c for c in BLOCK_CASES if not c[1].get("fail")])
def test_real_blocks(server: FakeServer, source: L1RPCSource, name: str, meta: Any, block: Any) -> None:
    serve_blocks(server, [block])
    h = bytes.fromhex(block["hash"][2:])
    ref = source.l1_block_ref_by_hash(h)
    assert ref.hash == h
    assert ref.number == int(block["number"], 16)
    assert ref.parent_hash == bytes.fromhex(block["parentHash"][2:])
    assert ref.timestamp == int(block["timestamp"], 16)
    assert source.l1_block_ref_by_number(ref.number) == ref
    assert source.l1_block_ref_by_label("finalized") == ref
    header = source.header_by_hash(h)
    assert header.base_fee == int(block["baseFeePerGas"], 16)
    assert header.mix_digest == bytes.fromhex(block["mixHash"][2:])
    txs = source.transactions_by_hash(h)
    assert [keccak(t) for t in txs] == [bytes.fromhex(t["hash"][2:]) for t in block["transactions"]]


@pytest.mark.parametrize("name,meta,block", [c for c in BLOCK_CASES if c[1].get("fail")])
def test_corrupted_blocks_are_rejected(
    server: FakeServer, source: L1RPCSource, name: str, meta: Any, block: Any
) -> None:
    serve_blocks(server, [block])
    h = bytes.fromhex(block["hash"][2:])
    with pytest.raises(TemporaryError) as ei:
        source.transactions_by_hash(h)
    reason = meta["reason"]
    key = {"failed to verify block hash": "block hash", "block tx 0 is nil": "tx 0 is nil",
           "block withdrawal 0 is null": "withdrawal 0 is null",
           "failed to verify transactions list": "transactions list",
           "failed to verify withdrawals list": "withdrawals list"}[reason]  # fmt: skip
    assert key in str(ei.value)


@pytest.mark.parametrize("name,meta,header", HEADER_CASES)
def test_headers(server: FakeServer, source: L1RPCSource, name: str, meta: Any, header: Any) -> None:
    serve_blocks(server, [header])
    h = bytes.fromhex(header["hash"][2:])
    if meta.get("fail"):
        with pytest.raises(TemporaryError, match="block hash"):
            source.header_by_hash(h)
    else:
        assert source.header_by_hash(h).number == int(header["number"], 16)


def test_unknown_block_is_not_found(server: FakeServer, source: L1RPCSource) -> None:
    serve_blocks(server, [BLOCK_CASES[0][2]])
    with pytest.raises(NotFound):
        source.l1_block_ref_by_hash(b"\x42" * 32)
    with pytest.raises(NotFound):
        source.l1_block_ref_by_number(1)


def test_headers_are_cached(server: FakeServer, source: L1RPCSource) -> None:
    block = next(c[2] for c in BLOCK_CASES if not c[1].get("fail"))
    serve_blocks(server, [block])
    h = bytes.fromhex(block["hash"][2:])
    source.header_by_hash(h)
    n = len(server.posts)
    source.header_by_hash(h)
    source.l1_block_ref_by_hash(h)
    assert len(server.posts) == n


# --------------------------------------------------------------------------- receipts

DEPOSIT_CONTRACT = bytes.fromhex("deaddeaddeaddeaddeaddeaddeaddeaddead0001")
KEY = keccak(b"pyop l1 source test key")


def _header_hash(b: dict[str, Any]) -> str:
    """Independent header hash: keccak(rlp(Shanghai header fields))."""
    def d(k: str) -> bytes:
        return bytes.fromhex(b[k][2:])

    def q(k: str) -> int:
        return int(b[k], 16)

    fields = [d("parentHash"), d("sha3Uncles"), d("miner"), d("stateRoot"), d("transactionsRoot"),
              d("receiptsRoot"), d("logsBloom"), q("difficulty"), q("number"), q("gasLimit"),
              q("gasUsed"), q("timestamp"), d("extraData"), d("mixHash"), d("nonce"),
              q("baseFeePerGas"), d("withdrawalsRoot")]  # fmt: skip
    return "0x" + keccak(rlp.encode(fields)).hex()


def synthetic_block(extra_tx: dict[str, Any] | None = None, extra_raw: bytes | None = None) -> tuple[dict[str, Any], list[dict[str, Any]], bytes]:
    tx = {"type": 2, "chainId": 5, "nonce": 3, "gas": 100_000, "maxFeePerGas": 10**10,
          "maxPriorityFeePerGas": 10**9, "to": to_checksum_address(DEPOSIT_CONTRACT), "value": 10**18,
          "data": b"\x01\x02", "accessList": []}  # fmt: skip
    signed = Account.sign_transaction(tx, KEY)
    raw = bytes(signed.raw_transaction)
    tx_json = {"type": "0x2", "chainId": "0x5", "nonce": "0x3", "gas": hex(100_000),
               "maxFeePerGas": hex(10**10), "maxPriorityFeePerGas": hex(10**9),
               "to": "0x" + DEPOSIT_CONTRACT.hex(), "value": hex(10**18), "input": "0x0102", "accessList": [],
               "v": hex(signed.v), "yParity": hex(signed.v), "r": hex(signed.r), "s": hex(signed.s),
               "hash": "0x" + keccak(raw).hex()}  # fmt: skip
    log = {"address": "0x" + DEPOSIT_CONTRACT.hex(), "topics": ["0x" + "ab" * 32],
           "data": "0x1234", "logIndex": "0x0"}  # fmt: skip
    bloom = "0x" + "00" * 256
    receipt = {"type": "0x2", "status": "0x1", "cumulativeGasUsed": hex(50_000), "logsBloom": bloom,
               "logs": [log], "transactionHash": tx_json["hash"]}  # fmt: skip
    receipt_enc = b"\x02" + rlp.encode(
        [1, 50_000, bytes(256), [[DEPOSIT_CONTRACT, [b"\xab" * 32], b"\x12\x34"]]]
    )
    txs_json, raws, rcpts, rencs = [tx_json], [raw], [receipt], [receipt_enc]
    if extra_tx is not None and extra_raw is not None:
        txs_json.append(extra_tx)
        raws.append(extra_raw)
        rc2 = {"type": extra_tx["type"], "status": "0x0", "cumulativeGasUsed": hex(60_000),
               "logsBloom": bloom, "logs": [], "transactionHash": extra_tx["hash"]}  # fmt: skip
        rcpts.append(rc2)
        rencs.append(bytes([int(extra_tx["type"], 16)]) + rlp.encode([0, 60_000, bytes(256), []]))
    if len(raws) == 1:
        # a one-leaf trie: root = keccak(rlp([hex-prefix(path of rlp(0)=0x80), value]))
        tx_root = keccak(rlp.encode([b"\x20\x80", raw]))
        rc_root = keccak(rlp.encode([b"\x20\x80", receipt_enc]))
        assert tx_root == ordered_trie_root([raw])
    else:
        tx_root, rc_root = ordered_trie_root(raws), ordered_trie_root(rencs)
    base = dict(BLOCK_CASES[0][2])
    block = {k: base[k] for k in ("parentHash", "sha3Uncles", "miner", "stateRoot", "logsBloom",
                                  "difficulty", "gasLimit", "gasUsed", "extraData", "mixHash",
                                  "nonce", "baseFeePerGas")}  # fmt: skip
    block.update({"number": "0x100", "timestamp": "0x64110a5c", "transactionsRoot": "0x" + tx_root.hex(),
                  "receiptsRoot": "0x" + rc_root.hex(), "withdrawals": [],
                  "withdrawalsRoot": "0x" + keccak(rlp.encode(b"")).hex(),
                  "transactions": txs_json})  # fmt: skip
    block["hash"] = _header_hash(block)
    for r in rcpts:
        r["blockHash"] = block["hash"]
    return block, rcpts, raw


def test_receipts_via_get_block_receipts(server: FakeServer, source: L1RPCSource) -> None:
    block, receipts, raw = synthetic_block()
    serve_blocks(server, [block], {block["hash"]: receipts})
    h = bytes.fromhex(block["hash"][2:])
    assert list(source.transactions_by_hash(h)) == [raw]
    (r,) = source.receipts_by_hash(h)
    assert r.successful
    (lg,) = r.logs
    assert lg.address == DEPOSIT_CONTRACT and lg.data == b"\x12\x34" and lg.log_index == 0
    assert not any(p.get("method") == "eth_getTransactionReceipt" for p in _flat(server.posts))


def _flat(posts: list[Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for p in posts:
        out.extend(p if isinstance(p, list) else [p])
    return out


def test_receipts_fallback_to_per_tx(server: FakeServer, source: L1RPCSource) -> None:
    block, receipts, _ = synthetic_block()
    serve_blocks(server, [block])  # no eth_getBlockReceipts: "method does not exist"
    by_tx = {r["transactionHash"]: r for r in receipts}
    server.rpc["eth_getTransactionReceipt"] = lambda m, p: by_tx.get(p[0])
    h = bytes.fromhex(block["hash"][2:])
    (r,) = source.receipts_by_hash(h)
    assert r.logs[0].address == DEPOSIT_CONTRACT
    assert any(p.get("method") == "eth_getTransactionReceipt" for p in _flat(server.posts))


def test_tampered_receipts_are_rejected(server: FakeServer, source: L1RPCSource) -> None:
    block, receipts, _ = synthetic_block()
    receipts[0]["logs"][0]["data"] = "0x1235"
    serve_blocks(server, [block], {block["hash"]: receipts})
    with pytest.raises(TemporaryError, match="receipts"):
        source.receipts_by_hash(bytes.fromhex(block["hash"][2:]))


def test_unknown_tx_type_falls_back_to_raw_transactions(server: FakeServer, source: L1RPCSource) -> None:
    raw2 = b"\x64" + rlp.encode([b"future", 1, 2])
    tx2 = {"type": "0x64", "hash": "0x" + keccak(raw2).hex(), "whatever": "0x1"}
    block, receipts, raw = synthetic_block(tx2, raw2)
    serve_blocks(server, [block], {block["hash"]: receipts})
    raws = {"0x" + keccak(raw).hex(): raw, tx2["hash"]: raw2}
    server.rpc["eth_getRawTransactionByHash"] = lambda m, p: "0x" + raws[p[0]].hex()
    h = bytes.fromhex(block["hash"][2:])
    assert list(source.transactions_by_hash(h)) == [raw, raw2]
    assert len(source.receipts_by_hash(h)) == 2


def test_cache_lookups_and_additions_are_metered(server: FakeServer, source: L1RPCSource) -> None:
    """op-node's ``l1_source_cache_*`` counts (op-service ``caching.LRUCache``): a miss, the
    addition, then hits; the header cache ("headers") and the block cache ("txs")."""
    from pyop.node.metrics import NodeMetrics

    m = NodeMetrics()
    source.client._headers.metrics = m.l1_source_cache
    source.client._blocks.metrics = m.l1_source_cache
    block = next(c[2] for c in BLOCK_CASES if not c[1].get("fail"))
    serve_blocks(server, [block])
    h = bytes.fromhex(block["hash"][2:])
    source.header_by_hash(h)  # miss, fetched, added
    source.header_by_hash(h)  # hit
    source.l1_block_ref_by_hash(h)  # hit
    c = m.l1_source_cache
    assert (c.get.get("headers", "false"), c.get.get("headers", "true")) == (1, 2)
    assert c.add.get("headers", "false") == 1 and c.size.get("headers") == 1
    source.transactions_by_hash(h)  # the block cache: a miss, then the block and its header added
    assert c.get.get("txs", "false") == 1 and c.add.get("txs", "false") == 1
    assert c.add.get("headers", "false") == 2 and c.size.get("headers") == 1  # refreshed, not grown
