"""``pyop devnet`` without the Go node: argument parsing, the L1 chain config op-node reads,
the beacon shim's slot mapping, and a CLI round trip (init, ``up --stack none --verifier pyop
--detach``, status, down) that must leave no process behind."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from pyop.cli import main
from pyop.config import Fork
from pyop.devnet.beacon_shim import create_app
from pyop.devnet.l1_chain_config import l1_chain_config
from pyop.devnet.l2_genesis import DEFAULT_FORK_OFFSETS
from pyop.devnet.process import PidRegistry, pid_alive
from pyop.devnet.rpc import RpcClient
from pyop.devnet.stack import (
    PORT_NAMES,
    StackError,
    allocate_ports,
    find_peer,
    init_devnet,
    load_devnet,
    parse_fork_offsets,
)
from pyop.devnet.status import HeadRow, format_table, short_hash


def test_parse_fork_offsets() -> None:
    got = parse_fork_offsets("isthmus=40, jovian=60")
    assert got[Fork.ISTHMUS] == 40 and got[Fork.JOVIAN] == 60
    assert got[Fork.HOLOCENE] == DEFAULT_FORK_OFFSETS[Fork.HOLOCENE] == 0
    assert parse_fork_offsets("jovian=none")[Fork.JOVIAN] is None
    assert parse_fork_offsets(None) == DEFAULT_FORK_OFFSETS
    assert parse_fork_offsets("karst=30")[Fork.KARST] == 30  # op-geth v1.101702.3-rc.7 knows Karst
    assert DEFAULT_FORK_OFFSETS[Fork.KARST] is None
    for bad in ("isthmus", "karstx=3", "jovian=soon", "lagoon=5"):
        with pytest.raises(StackError):
            parse_fork_offsets(bad)


def test_allocate_ports() -> None:
    fixed = allocate_ports(20000)
    assert list(fixed) == list(PORT_NAMES)
    assert sorted(fixed.values()) == list(range(20000, 20000 + len(PORT_NAMES)))
    free = allocate_ports(None)
    assert len(set(free.values())) == len(PORT_NAMES)
    with pytest.raises(StackError):
        allocate_ports(80)


def test_l1_chain_config_blob_schedule() -> None:
    cfg = l1_chain_config(900, "prague")
    assert cfg["chainId"] == 900 and cfg["pragueTime"] == 0 and cfg["cancunTime"] == 0
    # EIP-7840 / EIP-7691 values.
    assert cfg["blobSchedule"] == {
        "cancun": {"target": 3, "max": 6, "baseFeeUpdateFraction": 3338477},
        "prague": {"target": 6, "max": 9, "baseFeeUpdateFraction": 5007716},
    }
    assert "pragueTime" not in l1_chain_config(900, "cancun")


def test_status_table() -> None:
    h = "0x" + "ab" * 32
    assert short_hash(h) == "0xababab..ababab"
    text = format_table([HeadRow("L1", "head", 7, h, 100, "x"), HeadRow("L2", "safe", None, None,
                                                                         None, "y")], now=110)  # fmt: skip
    lines = text.splitlines()
    assert len(lines) == 3 and "7" in lines[1] and "10s" in lines[1]
    assert lines[2].split()[2] == "-"


def test_init_refuses_non_empty_dir(tmp_path: Path) -> None:
    (tmp_path / "x").write_text("1")
    with pytest.raises(StackError, match="not empty"):
        init_devnet(tmp_path, log=lambda _m: None)
    assert main(["devnet", "status", str(tmp_path / "nothing")]) == 1


class _FakeAnvil:
    """JSON-RPC + beacon endpoints of an anvil whose block 3 slipped by 3 s."""

    def __init__(self, genesis: int, times: list[int]) -> None:
        self.genesis, self.times = genesis, times

    def app(self) -> web.Application:
        async def rpc(req: web.Request) -> web.Response:
            body = await req.json()
            if body["method"] == "eth_blockNumber":
                res: object = hex(len(self.times) - 1)
            else:
                res = {"number": body["params"][0],
                       "timestamp": hex(self.times[int(body["params"][0], 16)])}  # fmt: skip
            return web.json_response({"jsonrpc": "2.0", "id": body["id"], "result": res})

        async def genesis(_req: web.Request) -> web.Response:
            return web.json_response({"data": {"genesis_time": str(self.genesis)}})

        async def blobs(req: web.Request) -> web.Response:
            n = int(req.match_info["n"])
            # Like anvil 1.7.1: only one value of a repeated versioned_hashes is applied.
            h = req.query.get("versioned_hashes")
            data = [f"0x{n:02x}"] if h is None else [f"0x{n:02x}{h[2:]}"]
            return web.json_response({"execution_optimistic": False, "data": data})

        app = web.Application()
        app.router.add_post("/", rpc)
        app.router.add_get("/eth/v1/beacon/genesis", genesis)
        app.router.add_get("/eth/v1/beacon/blobs/{n}", blobs)
        return app


def test_beacon_shim_maps_slots_to_blocks() -> None:
    g = 1000
    times = [g, g + 2, g + 4, g + 9, g + 11, g + 13]  # slots 0, 1, 2, 4, 5, 6

    async def run() -> None:
        anvil = TestServer(_FakeAnvil(g, times).app())
        await anvil.start_server()
        try:
            shim = TestClient(TestServer(create_app(str(anvil.make_url("")), 2)))
            await shim.start_server()
            try:
                r = await shim.get("/eth/v1/config/spec")
                assert (await r.json())["data"]["SECONDS_PER_SLOT"] == "2"
                for slot, block in ((2, 2), (4, 3), (6, 5), (0, 0)):
                    r = await shim.get(f"/eth/v1/beacon/blobs/{slot}")
                    assert r.status == 200
                    assert (await r.json())["data"] == [f"0x{block:02x}"], slot
                r = await shim.get("/eth/v1/beacon/blobs/4?versioned_hashes=0x01aa"
                                   "&versioned_hashes=0x01bb")  # fmt: skip
                assert (await r.json())["data"] == ["0x0301aa", "0x0301bb"]
                r = await shim.get("/eth/v1/beacon/blobs/3")  # the slot anvil skipped
                assert r.status == 404
                r = await shim.get("/eth/v1/beacon/genesis")
                assert (await r.json())["data"]["genesis_time"] == str(g)
            finally:
                await shim.close()
        finally:
            await anvil.close()

    asyncio.run(run())


@pytest.mark.slow
def test_cli_init_up_none_status_down(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if find_peer("geth") is None:
        pytest.skip("op-geth not built (scripts/build-peers.sh)")
    d = tmp_path / "dn"
    try:
        assert main(["devnet", "init", str(d), "--fork-offsets", "isthmus=0,jovian=0"]) == 0
        out = capsys.readouterr().out
        assert "TEST KEY" in out and "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266" in out
        for f in ("artifact.json", "deployment.json", "genesis.json", "rollup.json", "jwt.txt",
                  "l1-chain-config.json", "devnet.json"):  # fmt: skip
            assert (d / f).is_file(), f
        artifact = json.loads((d / "artifact.json").read_text())
        assert int(artifact["L2OutputOracleProxy"], 16) != 0
        info = load_devnet(d)
        assert info.l1_managed and info.fork_times["jovian"] == info.l2_genesis_time
        assert main(["devnet", "init", str(d)]) == 1  # refuses a non-empty dir
        # the differential devnet's verifier (issue 9): a second op-geth + pyop node on the
        # devnet's verifier ports, its URLs in devnet.json
        assert main(["devnet", "up", str(d), "--stack", "none", "--verifier", "pyop", "--detach"]) == 0
        names = {p.name for p in PidRegistry(d).entries()}
        assert names == {"anvil", "op-geth", "beacon-shim", "verifier-op-geth", "verifier-pyop-node"}
        urls = json.loads((d / "devnet.json").read_text())["urls"]
        assert urls["verifierL2"] == f"http://127.0.0.1:{info.ports['verifierGethHttp']}"
        assert urls["verifierRollup"] == f"http://127.0.0.1:{info.ports['verifierOpNodeRpc']}"
        st = RpcClient(urls["verifierRollup"]).call("optimism_syncStatus")
        genesis = RpcClient(urls["verifierL2"]).call("eth_getBlockByNumber", "0x0", False)["hash"]
        assert st["safe_l2"]["hash"] == genesis == info.l2_genesis_hash
        capsys.readouterr()
        assert main(["devnet", "status", str(d)]) == 0
        out = capsys.readouterr().out
        assert "L1    head" in out and "(no rollup node)" in out
        # both nodes side by side: no sequencer node with --stack none, the verifier at genesis
        rows = {ln.split()[0]: ln for ln in out.splitlines() if ln.split()[:1] in (["unsafe"], ["safe"], ["finalized"])}
        assert "verifier (pyop)" in out and set(rows) == {"unsafe", "safe", "finalized"}
        for ln in rows.values():
            assert "(not answering)" in ln and f"{genesis[:10]}..{genesis[-4:]}" in ln and "differs" not in ln
        pids = [p.pid for p in PidRegistry(d).entries()]
    finally:
        assert main(["devnet", "down", str(d)]) == 0
    assert PidRegistry(d).entries() == []
    assert not any(pid_alive(p) for p in pids)
