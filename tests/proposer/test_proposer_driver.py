"""The proposal loop (pyop.proposer.driver) against in-memory L1 / rollup node / L2 EL fakes.

Expected calldata is built here from the contract signatures (keccak of the Solidity signature,
eth_abi encoding) and expected output roots from specs/protocol/proposals.md directly
(``keccak256(0^32 ‖ stateRoot ‖ storageRoot ‖ blockHash)``), not from pyop's encoders.
"""

from __future__ import annotations

import asyncio
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_hash.auto import keccak

from pyop.proposer.driver import DriverConfig, ProposerDriver, SendResult
from pyop.proposer.output import OutputSource

ORACLE = "0x" + "11" * 20
FACTORY = "0x" + "22" * 20
ME = "0x" + "33" * 20
L1_HASH = "0x" + "44" * 32


def sel(sig: str) -> str:
    return "0x" + keccak(sig.encode())[:4].hex()


def block(n: int) -> dict[str, str]:
    return {"hash": "0x" + keccak(b"block%d" % n).hex(), "stateRoot": "0x" + keccak(b"sr%d" % n).hex(),
            "withdrawalsRoot": "0x" + keccak(b"wr%d" % n).hex(), "timestamp": hex(1000 + 2 * n),
            "number": hex(n)}  # fmt: skip


def root_of(n: int) -> bytes:
    b = block(n)
    return keccak(b"\x00" * 32 + bytes.fromhex(b["stateRoot"][2:]) +
                  bytes.fromhex(b["withdrawalsRoot"][2:]) + bytes.fromhex(b["hash"][2:]))  # fmt: skip


class FakeRPC:
    def __init__(self, handler: Any) -> None:
        self.handler = handler
        self.calls: list[tuple[str, list[Any]]] = []

    async def call(self, method: str, params: Any = ()) -> Any:
        self.calls.append((method, list(params)))
        return self.handler(method, list(params))


class World:
    def __init__(self) -> None:
        self.next_block = 10
        self.safe = 12
        self.finalized = 4
        self.bad_root_at: int | None = None
        self.games: list[tuple[int, int, str, str, bytes]] = []  # type, ts, addr, creator, root
        self.bond = 10**16
        self.now = 5000
        self.sent: list[tuple[str, bytes, int]] = []

    def l1(self, method: str, params: list[Any]) -> Any:
        if method == "eth_blockNumber":
            return hex(101)
        assert method == "eth_call", method
        to, data = params[0]["to"], params[0]["data"]
        s, args = data[:10], bytes.fromhex(data[10:])
        if to == ORACLE and s == sel("nextBlockNumber()"):
            return "0x" + abi_encode(["uint256"], [self.next_block]).hex()
        if to == FACTORY and s == sel("gameCount()"):
            return "0x" + abi_encode(["uint256"], [len(self.games)]).hex()
        if to == FACTORY and s == sel("gameAtIndex(uint256)"):
            (i,) = abi_decode(["uint256"], args)
            g = self.games[i]
            return "0x" + abi_encode(["uint32", "uint64", "address"], [g[0], g[1], g[2]]).hex()
        if to == FACTORY and s == sel("initBonds(uint32)"):
            return "0x" + abi_encode(["uint256"], [self.bond]).hex()
        if to == FACTORY and s == sel("games(uint32,bytes32,bytes)"):
            return "0x" + abi_encode(["address", "uint64"], ["0x" + "00" * 20, 0]).hex()
        for g in self.games:
            if to == g[2] and s == sel("gameCreator()"):
                return "0x" + abi_encode(["address"], [g[3]]).hex()
            if to == g[2] and s == sel("rootClaim()"):
                return "0x" + abi_encode(["bytes32"], [g[4]]).hex()
        raise AssertionError(f"unexpected call {to} {s}")

    def rollup(self, method: str, params: list[Any]) -> Any:
        status = {"safe_l2": {"number": self.safe}, "finalized_l2": {"number": self.finalized},
                  "current_l1": {"number": 100, "hash": L1_HASH}}  # fmt: skip
        if method == "optimism_syncStatus":
            return status
        assert method == "optimism_outputAtBlock"
        n = int(params[0], 16)
        root = root_of(n) if n != self.bad_root_at else keccak(b"wrong")
        return {"outputRoot": "0x" + root.hex(), "blockRef": {"hash": block(n)["hash"], "number": n},
                "syncStatus": status}  # fmt: skip

    def l2(self, method: str, params: list[Any]) -> Any:
        assert method == "eth_getBlockByNumber"
        return block(int(params[0], 16))


class Sender:
    def __init__(self, w: World) -> None:
        self.w = w

    @property
    def from_address(self) -> str:
        return ME

    async def send(self, to: str, data: bytes, value: int = 0) -> SendResult:
        self.w.sent.append((to, data, value))
        return SendResult("0x" + "ab" * 32, 1, 80_000, 102)


def driver(w: World, cfg: DriverConfig) -> ProposerDriver:
    outputs = OutputSource(FakeRPC(w.l2), FakeRPC(w.rollup), isthmus_time=0)
    return ProposerDriver(cfg, l1=FakeRPC(w.l1), rollup=FakeRPC(w.rollup), outputs=outputs,
                          sender=Sender(w), clock=lambda: w.now)  # fmt: skip


L2OO = DriverConfig(mode="l2oo", contract=ORACLE, poll_interval=0.01)


def test_l2oo_waits_for_finalized_unless_allowed() -> None:
    w = World()
    r = asyncio.run(driver(w, L2OO).step())  # finalized 4 < next 10
    assert r.action == "wait" and not w.sent
    r = asyncio.run(driver(w, DriverConfig("l2oo", ORACLE, allow_non_finalized=True)).step())
    assert r.action == "proposed" and r.l2_block == 10
    (to, data, value) = w.sent[0]
    assert to == ORACLE and value == 0
    expect = bytes.fromhex(sel("proposeL2Output(bytes32,uint256,bytes32,uint256)")[2:]) + abi_encode(
        ["bytes32", "uint256", "bytes32", "uint256"], [root_of(10), 10, bytes.fromhex(L1_HASH[2:]), 100])
    assert data == expect


def test_l2oo_refuses_on_output_mismatch() -> None:
    w = World()
    w.bad_root_at = 10
    r = asyncio.run(driver(w, DriverConfig("l2oo", ORACLE, allow_non_finalized=True)).step())
    assert r.action == "mismatch" and not w.sent
    assert "0x" + root_of(10).hex() in r.reason and "0x" + keccak(b"wrong").hex() in r.reason


DGF = DriverConfig(mode="dgf", contract=FACTORY, allow_non_finalized=True, game_type=1,
                   proposal_interval=60)  # fmt: skip


def test_dgf_creates_game_with_bond_and_block_extra_data() -> None:
    w = World()
    r = asyncio.run(driver(w, DGF).step())
    assert r.action == "proposed" and r.l2_block == 12
    (to, data, value) = w.sent[0]
    assert to == FACTORY and value == w.bond
    assert data[:4].hex() == sel("create(uint32,bytes32,bytes)")[2:]
    gtype, root, extra = abi_decode(["uint32", "bytes32", "bytes"], data[4:])
    assert (gtype, root, extra) == (1, root_of(12), (12).to_bytes(32, "big"))


def test_dgf_waits_within_the_proposal_interval_and_skips_genesis() -> None:
    w = World()
    w.games.append((1, w.now - 30, "0x" + "55" * 20, ME, keccak(b"x")))
    assert asyncio.run(driver(w, DGF).step()).action == "wait"
    # Another proposer's recent game does not count.
    w.games[0] = (1, w.now - 30, "0x" + "55" * 20, "0x" + "66" * 20, keccak(b"x"))
    assert asyncio.run(driver(w, DGF).step()).action == "proposed"
    w2 = World()
    w2.safe = 0
    r = asyncio.run(driver(w2, DGF).step())
    assert r.action == "wait" and "genesis" in r.reason and not w2.sent


def test_admin_start_stop() -> None:
    import pytest

    from pyop.primitives import PyopError

    d = driver(World(), L2OO)
    with pytest.raises(PyopError, match="not running"):
        d.stop()
    d.start()
    with pytest.raises(PyopError, match="already running"):
        d.start()
    d.stop()
