"""The rollup RPC server: op-node's method names and the exact JSON field names of the Go
structs, spelled out here from the optimism monorepo (v1.9.4):

- op-service/eth/sync_status.go ``SyncStatus``: ``current_l1``, ``current_l1_finalized``,
  ``head_l1``, ``safe_l1``, ``finalized_l1``, ``unsafe_l2``, ``safe_l2``, ``finalized_l2``,
  ``pending_safe_l2``, ``cross_unsafe_l2``, ``local_safe_l2``;
- op-service/eth/id.go ``L1BlockRef`` {``hash``, ``number``, ``parentHash``, ``timestamp``},
  ``L2BlockRef`` {+ ``l1origin``, ``sequenceNumber``}, ``BlockID`` {``hash``, ``number``};
- op-service/eth/output.go ``OutputResponse`` {``version``, ``outputRoot``, ``blockRef``,
  ``withdrawalStorageRoot``, ``stateRoot``, ``syncStatus``}, ``SafeHeadResponse``
  {``l1Block``, ``safeHead``}.

The output root is recomputed independently (keccak256 of version ++ stateRoot ++ storage root ++
block hash, specs/protocol/proposals.md) over an account proof built with the ``trie`` package.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
import rlp
from eth_hash.auto import keccak
from trie import HexaryTrie

from pyop.node.api import VERSION, ProofError, RollupAPI, verify_account_proof
from pyop.node.driver import Driver
from pyop.node.l1_watcher import L1Watcher
from pyop.node.rpc_server import HTTPServer, rpc_app
from pyop.node.safedb import SafeDB
from pyop.primitives import ZERO_HASH, BlockID, ExecutionPayload, L1BlockRef, L2BlockRef
from pyop.protocol.predeploys import L2_TO_L1_MESSAGE_PASSER
from pyop.sources.interfaces import NotFound
from tests.derivation.harness import GENESIS_TIME, make_config

SYNC_STATUS_KEYS = ["current_l1", "current_l1_finalized", "head_l1", "safe_l1", "finalized_l1",
                    "unsafe_l2", "safe_l2", "finalized_l2", "pending_safe_l2", "cross_unsafe_l2",
                    "local_safe_l2"]  # fmt: skip
L1_REF_KEYS = ["hash", "number", "parentHash", "timestamp"]
L2_REF_KEYS = ["hash", "number", "parentHash", "timestamp", "l1origin", "sequenceNumber"]
BLOCK_ID_KEYS = ["hash", "number"]
OUTPUT_KEYS = ["version", "outputRoot", "blockRef", "withdrawalStorageRoot", "stateRoot", "syncStatus"]

STORAGE_ROOT = keccak(b"message passer storage")


def h(s: str) -> bytes:
    return keccak(s.encode())


def l2ref(n: int) -> L2BlockRef:
    return L2BlockRef(h(f"l2-{n}"), n, h(f"l2-{n - 1}"), GENESIS_TIME + 2 * n, BlockID(h(f"l1-{n // 3}"), n // 3), n % 3)


class FakeL2:
    def __init__(self, payloads: dict[int, ExecutionPayload]) -> None:
        self.payloads = payloads

    async def payload_by_number(self, n: int | str) -> ExecutionPayload:
        if n not in self.payloads:
            raise NotFound(f"L2 block {n}")
        return self.payloads[n]  # type: ignore[index]

    async def ref_by_hash(self, block_hash: bytes) -> L2BlockRef:
        for n, p in self.payloads.items():
            if p.block_hash == block_hash:
                r = l2ref(n)
                return L2BlockRef(p.block_hash, n, r.parent_hash, p.timestamp, r.l1_origin, r.sequence_number)
        raise NotFound("hash")


def state_trie() -> tuple[bytes, list[bytes]]:
    t = HexaryTrie(db={})
    for i in range(50):  # other accounts, so the proof has branch nodes
        t[keccak(i.to_bytes(20, "big"))] = rlp.encode([i, 10**18, ZERO_HASH, keccak(b"")])
    t[keccak(L2_TO_L1_MESSAGE_PASSER)] = rlp.encode([0, 0, STORAGE_ROOT, keccak(b"code")])
    proof = [rlp.encode(node) for node in t.get_proof(keccak(L2_TO_L1_MESSAGE_PASSER))]
    return t.root_hash, proof


STATE_ROOT, PROOF = state_trie()


class FakeClient:
    def __init__(self) -> None:
        self.calls: list[tuple[str, list[Any]]] = []

    async def call(self, method: str, params: list[Any]) -> Any:
        self.calls.append((method, params))
        assert method == "eth_getProof"
        return {"address": params[0], "storageHash": "0x" + STORAGE_ROOT.hex(),
                "accountProof": ["0x" + p.hex() for p in PROOF], "storageProof": []}  # fmt: skip


def payload(n: int, *, ts: int, withdrawals_root: bytes | None = None) -> ExecutionPayload:
    return ExecutionPayload(
        parent_hash=h(f"l2-{n - 1}"), fee_recipient=b"\x00" * 20, state_root=STATE_ROOT,
        receipts_root=ZERO_HASH, logs_bloom=b"\x00" * 256, prev_randao=ZERO_HASH, block_number=n,
        gas_limit=30_000_000, gas_used=0, timestamp=ts, extra_data=b"", base_fee_per_gas=1,
        block_hash=h(f"l2-{n}"), transactions=(), withdrawals=(), withdrawals_root=withdrawals_root,
    )  # fmt: skip


class FakeL1Reader:
    async def header_by_number(self, n: int | str) -> Any:
        raise NotFound("no L1")

    async def header_by_hash(self, block_hash: bytes) -> Any:
        raise NotFound("no L1")


def make_api(tmp: Path, *, admin: bool, cfg: Any = None) -> tuple[RollupAPI, Driver, SafeDB, FakeClient]:
    cfg = cfg or make_config(fork="holocene")
    engine = SimpleNamespace(
        unsafe=l2ref(12), cross_unsafe=l2ref(12), pending_safe=l2ref(9), local_safe=l2ref(9),
        safe=l2ref(9), finalized=l2ref(3), on_safe_head=lambda cb: None, on_heads=lambda cb: None,
    )  # fmt: skip
    watcher = L1Watcher(FakeL1Reader())
    watcher.head = L1BlockRef(h("l1-20"), 20, h("l1-19"), GENESIS_TIME + 40)
    watcher.safe = L1BlockRef(h("l1-18"), 18, h("l1-17"), GENESIS_TIME + 36)
    watcher.finalized = L1BlockRef(h("l1-10"), 10, h("l1-9"), GENESIS_TIME + 20)
    driver = Driver(cfg, engine, None, watcher, FakeL1Reader())  # type: ignore[arg-type]
    driver.current_l1 = L1BlockRef(h("l1-19"), 19, h("l1-18"), GENESIS_TIME + 38)
    db = SafeDB(tmp / "safedb")
    client = FakeClient()
    l2 = FakeL2({9: payload(9, ts=GENESIS_TIME + 18),
                 11: payload(11, ts=GENESIS_TIME + 22, withdrawals_root=keccak(b"isthmus root"))})  # fmt: skip
    api = RollupAPI(cfg, driver, client, l2, db, admin=admin)  # type: ignore[arg-type]
    return api, driver, db, client


async def post(url: str, body: object) -> Any:
    async with aiohttp.ClientSession() as s, s.post(url, data=json.dumps(body)) as r:
        assert r.status == 200
        text = await r.text()
        return json.loads(text) if text else None


def call(method: str, *params: object, id: int = 1) -> dict[str, object]:
    return {"jsonrpc": "2.0", "id": id, "method": method, "params": list(params)}


def run_server(tmp: Path, admin: bool, scenario: Any, cfg: Any = None) -> None:
    async def main() -> None:
        api, driver, db, client = make_api(tmp, admin=admin, cfg=cfg)
        srv = HTTPServer(rpc_app(api), "127.0.0.1", 0)
        await srv.start()
        try:
            await scenario(srv.url, api, driver, db, client)
        finally:
            await srv.close()
            db.close()

    asyncio.run(main())


def check_l1(obj: Any) -> None:
    assert list(obj) == L1_REF_KEYS
    assert isinstance(obj["number"], int) and isinstance(obj["timestamp"], int)
    assert obj["hash"].startswith("0x") and len(obj["hash"]) == 66


def check_l2(obj: Any) -> None:
    assert list(obj) == L2_REF_KEYS
    assert list(obj["l1origin"]) == BLOCK_ID_KEYS
    assert isinstance(obj["number"], int) and isinstance(obj["sequenceNumber"], int)


def check_sync_status(st: Any) -> None:
    assert list(st) == SYNC_STATUS_KEYS
    for k in SYNC_STATUS_KEYS:
        (check_l1 if k.endswith("_l1") or k == "current_l1_finalized" else check_l2)(st[k])


def test_sync_status_shape(tmp_path: Path) -> None:
    async def sc(url: str, api: RollupAPI, driver: Driver, db: SafeDB, client: FakeClient) -> None:
        res = await post(url, call("optimism_syncStatus"))
        assert res["jsonrpc"] == "2.0" and res["id"] == 1
        st = res["result"]
        check_sync_status(st)
        assert st["head_l1"]["number"] == 20 and st["safe_l1"]["number"] == 18
        assert st["current_l1"]["number"] == 19
        assert st["current_l1_finalized"] == st["finalized_l1"]  # deprecated mirror (sync_status.go)
        assert st["unsafe_l2"]["number"] == 12 and st["safe_l2"]["number"] == 9
        assert st["finalized_l2"]["number"] == 3 and st["pending_safe_l2"]["number"] == 9
        assert st["unsafe_l2"]["l1origin"] == {"hash": "0x" + h("l1-4").hex(), "number": 4}

    run_server(tmp_path, False, sc)


def test_output_at_block(tmp_path: Path) -> None:
    async def sc(url: str, api: RollupAPI, driver: Driver, db: SafeDB, client: FakeClient) -> None:
        res = (await post(url, call("optimism_outputAtBlock", "0x9")))["result"]
        assert list(res) == OUTPUT_KEYS
        want = keccak(ZERO_HASH + STATE_ROOT + STORAGE_ROOT + h("l2-9"))
        assert res["version"] == "0x" + "00" * 32
        assert res["outputRoot"] == "0x" + want.hex()
        assert res["withdrawalStorageRoot"] == "0x" + STORAGE_ROOT.hex()
        assert res["stateRoot"] == "0x" + STATE_ROOT.hex()
        check_l2(res["blockRef"])
        assert res["blockRef"]["number"] == 9
        check_sync_status(res["syncStatus"])
        assert client.calls == [("eth_getProof", ["0x" + L2_TO_L1_MESSAGE_PASSER.hex(), [], "0x" + h("l2-9").hex()])]
        err = (await post(url, call("optimism_outputAtBlock", "0x64")))["error"]
        assert err["code"] == -32000 and "not found" in err["message"]
        err = (await post(url, call("optimism_outputAtBlock", 9)))["error"]
        assert err["code"] == -32602
        err = (await post(url, call("optimism_outputAtBlock", "0x09")))["error"]
        assert err["code"] == -32602 and "leading zero" in err["message"]

    run_server(tmp_path, False, sc)


def test_output_at_block_isthmus_uses_header_withdrawals_root(tmp_path: Path) -> None:
    cfg = make_config(fork="holocene", fork_times={"isthmus": 20})

    async def sc(url: str, api: RollupAPI, driver: Driver, db: SafeDB, client: FakeClient) -> None:
        res = (await post(url, call("optimism_outputAtBlock", "0xb")))["result"]
        root = keccak(b"isthmus root")
        assert res["withdrawalStorageRoot"] == "0x" + root.hex()
        assert res["outputRoot"] == "0x" + keccak(ZERO_HASH + STATE_ROOT + root + h("l2-11")).hex()
        assert client.calls == []

    run_server(tmp_path, False, sc, cfg)


def test_safe_head_at_l1_block_rollup_config_version(tmp_path: Path) -> None:
    async def sc(url: str, api: RollupAPI, driver: Driver, db: SafeDB, client: FakeClient) -> None:
        db.safe_head_updated(l2ref(9), BlockID(h("l1-15"), 15))
        batch = [call("optimism_safeHeadAtL1Block", "0x10", id=1), call("optimism_safeHeadAtL1Block", "0x3", id=2),
                 call("optimism_rollupConfig", id=3), call("optimism_version", id=4)]  # fmt: skip
        r1, r2, r3, r4 = await post(url, batch)
        assert [r["id"] for r in (r1, r2, r3, r4)] == [1, 2, 3, 4]
        assert r1["result"] == {"l1Block": {"hash": "0x" + h("l1-15").hex(), "number": 15},
                                "safeHead": {"hash": "0x" + h("l2-9").hex(), "number": 9}}  # fmt: skip
        assert r2["error"] == {"code": -32000, "message": "not found"}
        assert r3["result"] == api.cfg.to_json()
        assert r3["result"]["genesis"]["l2"]["number"] == 0 and "block_time" in r3["result"]
        assert isinstance(r4["result"], str) and r4["result"].startswith("v")

    run_server(tmp_path, False, sc)


def test_admin_only_with_flag_and_protocol_errors(tmp_path: Path) -> None:
    async def sc(url: str, api: RollupAPI, driver: Driver, db: SafeDB, client: FakeClient) -> None:
        for m in ("admin_sequencerActive", "admin_stopSequencer", "admin_resetDerivationPipeline"):
            err = (await post(url, call(m)))["error"]
            assert err == {"code": -32601, "message": f"the method {m} does not exist/is not available"}
        err = (await post(url, call("optimism_nope")))["error"]
        assert err["code"] == -32601
        async with aiohttp.ClientSession() as s, s.post(url, data=b"{not json") as r:
            assert (await r.json())["error"]["code"] == -32700
        assert (await post(url, []))["error"]["code"] == -32600
        assert (await post(url, {"jsonrpc": "2.0", "method": "optimism_version"})) is None  # notification
        assert (await post(url, {"id": 1, "method": "optimism_version"}))["error"]["code"] == -32600

    run_server(tmp_path, False, sc)


def test_admin_methods_with_flag(tmp_path: Path) -> None:
    async def sc(url: str, api: RollupAPI, driver: Driver, db: SafeDB, client: FakeClient) -> None:
        assert (await post(url, call("admin_sequencerActive")))["result"] is False
        err = (await post(url, call("admin_stopSequencer")))["error"]
        assert err == {"code": -32000, "message": "sequencer is not enabled"}
        err = (await post(url, call("admin_startSequencer", "0x" + "11" * 32)))["error"]
        assert err == {"code": -32000, "message": "sequencer is not enabled"}
        err = (await post(url, call("admin_startSequencer", "0x11")))["error"]
        assert err["code"] == -32602

    run_server(tmp_path, True, sc)


def test_account_proof_verification() -> None:
    acct = verify_account_proof(STATE_ROOT, L2_TO_L1_MESSAGE_PASSER, PROOF)
    assert acct[2] == STORAGE_ROOT
    with pytest.raises(ProofError):
        verify_account_proof(keccak(b"other root"), L2_TO_L1_MESSAGE_PASSER, PROOF)
    with pytest.raises(ProofError):
        verify_account_proof(STATE_ROOT, L2_TO_L1_MESSAGE_PASSER, PROOF[:-1])
    with pytest.raises(ProofError):
        verify_account_proof(STATE_ROOT, b"\x42" * 20, PROOF)


def test_health_status_and_cors_preflight(tmp_path: Path) -> None:
    """op-service's health_status and op-node's CORS (rs/cors via go-ethereum newCorsHandler:
    preflight 204 with the method and headers echoed, max age 600; Allow-Origin * on calls from
    an origin). The same answers are compared with the Go op-node in
    tests/node/test_node_differential.py."""

    async def sc(url: str, api: RollupAPI, driver: Any, db: Any, client: Any) -> None:
        assert (await post(url, call("health_status")))["result"] == VERSION
        err = (await post(url, call("optimism_dependencySet")))["error"]
        assert err == {"code": -32000, "message": "not found"}  # op-node: ethereum.NotFound
        pre = {"Origin": "http://x.test", "Access-Control-Request-Method": "POST",
               "Access-Control-Request-Headers": "content-type"}  # fmt: skip
        async with aiohttp.ClientSession() as s:
            async with s.options(url, headers=pre) as r:
                assert r.status == 204
                assert r.headers["Access-Control-Allow-Origin"] == "*"
                assert r.headers["Access-Control-Allow-Methods"] == "POST"
                assert r.headers["Access-Control-Allow-Headers"] == "content-type"
                assert r.headers["Access-Control-Max-Age"] == "600"
            async with s.options(url, headers={**pre, "Access-Control-Request-Method": "PUT"}) as r:
                assert r.status == 204 and "Access-Control-Allow-Origin" not in r.headers
            async with s.post(url, data=json.dumps(call("optimism_version")), headers={"Origin": "http://x.test"}) as r:
                assert r.headers["Access-Control-Allow-Origin"] == "*" and r.headers["Vary"] == "Origin"

    run_server(tmp_path, False, sc)
