"""``capture`` then ``derive --check`` end to end: a harness chain served by fake L1 / L2 /
beacon (anvil-style) servers; the harness's true L2 chain is the expectation."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_hash.auto import keccak

from pyop.cli import main
from pyop.codec.tx import BLOB_TX_TYPE, decode_signed_tx
from pyop.config.rollup import dump_rollup_config
from pyop.derivation.interfaces import IndexedBlobHash
from pyop.primitives import ExecutionPayload, L1Header
from pyop.protocol.l1_types import Receipt
from pyop.sources.beacon import AsyncBeaconClient
from pyop.sources.l1 import AsyncL1Client
from pyop.sources.l2 import AsyncL2Client
from pyop.sources.rpc import AsyncHTTPClient, AsyncRPCClient
from pyop.tools.capture import bloom_may_contain, capture_fixture
from pyop.tools.derive import run_derive
from pyop.tools.fixture import FixtureError, load_fixture, receipt_to_json
from tests.derivation import harness as H
from tests.sources.sources_fake_server import FakeServer
from tests.sources.test_sources_l2 import tx_json


def _h(b: bytes | None) -> str | None:
    return None if b is None else "0x" + b.hex()


def l1_json(h: L1Header, txs: tuple[bytes, ...], full: bool) -> dict[str, Any]:
    return {"hash": _h(h.hash), "parentHash": _h(h.parent_hash), "number": hex(h.number),
            "timestamp": hex(h.timestamp), "baseFeePerGas": hex(h.base_fee),
            "mixHash": _h(h.mix_digest), "gasLimit": hex(h.gas_limit),
            "receiptsRoot": _h(h.receipts_root), "logsBloom": "0x" + "ff" * 256,
            "excessBlobGas": hex(h.excess_blob_gas or 0), "blobGasUsed": hex(h.blob_gas_used or 0),
            "parentBeaconBlockRoot": _h(h.parent_beacon_root),
            "transactions": [tx_json(t) if full else _h(keccak(t)) for t in txs]}  # fmt: skip


def l2_json(p: ExecutionPayload) -> dict[str, Any]:
    out = p.to_json()
    out["hash"] = out.pop("blockHash")
    out["number"] = out.pop("blockNumber")
    out["miner"] = out.pop("feeRecipient")
    out["mixHash"] = out.pop("prevRandao")
    out["transactions"] = [tx_json(t) for t in p.transactions]
    if p.parent_beacon_block_root is not None:
        out["parentBeaconBlockRoot"] = _h(p.parent_beacon_block_root)
    return out


@pytest.fixture(scope="module")
def chain() -> H.ChainBuilder:
    b = H.ChainBuilder(fork="holocene", seed=9, txs_per_block=(0, 2))
    for n in range(2, 14):
        b.submit(n, range(6 * (n - 2) + 1, 6 * (n - 1) + 1), da="blob" if n == 7 else "calldata",
                 span=n % 2 == 0)  # fmt: skip
    b.deposit(5)
    b.build(14)
    return b


@pytest.fixture(scope="module")
def servers(chain: H.ChainBuilder) -> Iterator[tuple[FakeServer, FakeServer]]:
    l1s, l2s = FakeServer(), FakeServer()
    blocks = chain.l1.canonical_blocks()
    by_hash = {_h(b.header.hash): b for b in blocks}
    by_num = {b.header.number: b for b in blocks}

    def get(b: Any, full: bool) -> Any:
        return None if b is None else l1_json(b.header, b.txs, full)

    def by_number(m: str, p: list[Any]) -> Any:
        n = max(by_num) if p[0] in ("latest", "safe", "finalized") else int(p[0], 16)
        return get(by_num.get(n), p[1])

    def receipts(m: str, p: list[Any]) -> Any:
        b = by_hash.get(p[0])
        return None if b is None else [receipt_to_json(r) | {"cumulativeGasUsed": "0x0"} for r in b.receipts]

    l1s.rpc["eth_getBlockByHash"] = lambda m, p: get(by_hash.get(p[0]), p[1])
    l1s.rpc["eth_getBlockByNumber"] = by_number
    l1s.rpc["eth_getBlockReceipts"] = receipts
    # anvil-style blobs
    for b in blocks:
        hashes, index = [], 0
        for raw in b.txs:
            if raw[0] == BLOB_TX_TYPE:
                tx = decode_signed_tx(raw)
                hashes += [IndexedBlobHash(index + j, h) for j, h in enumerate(tx.blob_versioned_hashes)]
                index += len(tx.blob_versioned_hashes)
        if hashes:
            blobs = chain.blobs.get_blobs(b.header.ref(), hashes)
            l1s.routes[f"/eth/v1/beacon/blobs/{_h(b.header.hash)}"] = (200, {"data": [_h(x) for x in blobs]})
    l2_by_num = {t.number: l2_json(t.payload) for t in chain.l2}
    l2_by_hash = {v["hash"]: v for v in l2_by_num.values()}
    l2s.rpc["eth_getBlockByNumber"] = lambda m, p: l2_by_num.get(int(p[0], 16))
    l2s.rpc["eth_getBlockByHash"] = lambda m, p: l2_by_hash.get(p[0])
    yield l1s, l2s
    l1s.close()
    l2s.close()


def test_bloom_may_contain() -> None:
    from eth_hash.auto import keccak

    addr = b"\x42" * 20
    bloom = bytearray(256)
    h = keccak(addr)
    for i in (0, 2, 4):
        bit = ((h[i] << 8) | h[i + 1]) & 2047
        bloom[255 - bit // 8] |= 1 << (bit % 8)
    assert bloom_may_contain(bytes(bloom), addr)
    assert not bloom_may_contain(bytes(256), addr)


def test_capture_then_derive_check(chain: H.ChainBuilder, servers: Any, tmp_path: Path) -> None:
    l1s, l2s = servers
    progress: list[str] = []

    async def go() -> Any:
        l1 = AsyncL1Client(AsyncRPCClient(l1s.url), verify=False)
        l2 = AsyncL2Client(AsyncRPCClient(l2s.url), chain.cfg, verify=False)
        beacon = AsyncBeaconClient(AsyncHTTPClient(l1s.url))
        try:
            return await capture_fixture(chain.cfg, l1, l2, beacon, 40, 50, progress=progress.append)
        finally:
            await l1.close()
            await l2.close()
            await beacon.close()

    fx = asyncio.run(go())
    assert fx.l2_cursor_start == 39 and fx.l2_cursor_end == 50
    # the reset walk: back to the first block whose L1 origin is a channel timeout older
    # (derivation.md "Resetting the Pipeline"; op-node initialReset), computed here on the true chain
    cfg = chain.cfg
    safe = chain.l2[39].ref
    k = 39
    while k > 0 and chain.l2[k].ref.l1_origin.number > 0 and (
        chain.l2[k].ref.l1_origin.number
        + cfg.channel_timeout_at(chain.header(chain.l2[k].ref.l1_origin.number).timestamp)
        > safe.l1_origin.number
    ):
        k -= 1
    first = min(fx.l2_blocks)
    assert first == k
    assert fx.l1_blocks[0].header.number == chain.l2[first].ref.l1_origin.number
    assert fx.l1_blocks[-1].header.number == 14  # capped at the L1 head
    assert any(b.blobs for b in fx.l1_blocks)
    assert any("L1 block" in p for p in progress)
    for n in range(40, 51):
        assert fx.l2_payloads[n] == chain.l2[n].attributes
    # L1 chain 900 has no built-in blob schedule: refused without the L1 chain config (op-node)
    with pytest.raises(FixtureError, match="no built-in blob schedule"):
        run_derive(fx, check=True, out=io.StringIO(), err=io.StringIO())
    fx.l1_chain_config = H.L1_CHAIN_CONFIG
    err_buf = io.StringIO()
    res = run_derive(fx, check=True, out=io.StringIO(), err=err_buf)
    assert res.ok, err_buf.getvalue()
    assert res.matched == 11


def test_cli_capture_and_live_derive(chain: H.ChainBuilder, servers: Any, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    l1s, l2s = servers
    rc_path = tmp_path / "rollup.json"
    dump_rollup_config(chain.cfg, rc_path)
    out = tmp_path / "fx.json"
    l1cc = tmp_path / "l1-chain-config.json"
    l1cc.write_text(json.dumps(H.L1_CHAIN_CONFIG))
    args = ["--l1", l1s.url, "--l1.beacon", l1s.url, "--l2", l2s.url, "--rollup-config",
            str(rc_path), "--from-l2", "30", "--to-l2", "36", "--no-verify"]  # fmt: skip
    # an unknown L1 without its chain config is refused before anything is fetched
    assert main(["capture", *args, "-o", str(out)]) == 1
    assert "no built-in blob schedule" in capsys.readouterr().err
    assert not out.exists()
    args.append(f"--rollup.l1-chain-config={l1cc}")
    assert main(["capture", *args, "-o", str(out)]) == 0
    _, err = capsys.readouterr()
    assert "L1 block" in err
    fx = load_fixture(out)
    assert fx.l2_cursor_start == 29 and fx.l2_cursor_end == 36
    assert main(["derive", "--fixture", str(out), "--check"]) == 0
    o1, e1 = capsys.readouterr()
    assert e1.strip().splitlines()[-1] == "7 blocks: 7 matched, 0 mismatched"
    assert main(["derive", *args, "--check"]) == 0
    o2, _ = capsys.readouterr()
    assert [json.loads(x)["l2_block_number"] for x in o2.splitlines()] == list(range(30, 37))
    assert o1 == o2


def test_receipt_json_round_trip() -> None:
    r = Receipt(status=1, tx_type=2)
    assert Receipt.from_json(receipt_to_json(r)) == r
