"""L1 chain configs and L1 headers for the L1-info and attributes targets.

Two modes: a custom go-ethereum ``params.ChainConfig`` JSON (what ``--rollup.l1-chain-config``
reads; both sides read the same JSON with their own reader), and the built-in ``"mainnet"``
config op-node picks by L1 chain id (pyop: its built-in schedule of chain id 1; before the D2
fix pyop had none)."""

from __future__ import annotations

from typing import Any

from pyop.config.l1_chains import (
    L1BlobSchedule,
    builtin_l1_blob_schedule,
    l1_blob_schedule_from_json,
)
from pyop.primitives import L1Header
from pyop.tools.difftest.canon import h, hexb
from pyop.tools.difftest.gen import Rng

BLOB_CONFIGS = {
    "cancun": {"target": 3, "max": 6, "baseFeeUpdateFraction": 3338477},
    "prague": {"target": 6, "max": 9, "baseFeeUpdateFraction": 5007716},
    "osaka": {"target": 6, "max": 9, "baseFeeUpdateFraction": 5007716},
    "bpo1": {"target": 10, "max": 15, "baseFeeUpdateFraction": 8346193},
    "bpo2": {"target": 14, "max": 21, "baseFeeUpdateFraction": 11684671},
}
#: L1 chain ids of go-ethereum's built-in configs (op-node picks them by L1 chain id).
BUILTIN_IDS = {"mainnet": 1, "sepolia": 11155111, "holesky": 17000, "hoodi": 560048}
#: go-ethereum's built-in mainnet config (params.MainnetChainConfig) fork times.
MAINNET = {"cancun": 1710338135, "prague": 1746612311, "osaka": 1764798551, "bpo1": 1765290071, "bpo2": 1767747671}
_BLOCK_FORKS = ("homesteadBlock", "eip150Block", "eip155Block", "eip158Block", "byzantiumBlock",
                "constantinopleBlock", "petersburgBlock", "istanbulBlock", "berlinBlock", "londonBlock")  # fmt: skip


def l1_chain(rng: Rng, around: int) -> tuple[Any, dict[str, int]]:
    """(the Go side's l1ChainConfig JSON, the L1 fork times in force)."""
    if rng.chance(0.15):
        return "mainnet", dict(MAINNET)
    times: dict[str, int] = {}
    t = max(0, around - rng.randrange(0, 100))
    for f in ("cancun", "prague", "osaka", "bpo1", "bpo2"):
        if f != "cancun" and rng.chance(0.3):
            break
        t += rng.pick([0, 0, 12, 24, 60])
        times[f] = t
    cfg: dict[str, Any] = {"chainId": 900}
    for k in _BLOCK_FORKS:
        cfg[k] = 0
    cfg["shanghaiTime"] = 0
    for f, ft in times.items():
        cfg[f + "Time"] = ft
    cfg["blobSchedule"] = {f: BLOB_CONFIGS[f] for f in times}
    cfg["terminalTotalDifficulty"] = 0
    return cfg, times


def schedule_of(l1cc: Any) -> L1BlobSchedule:
    """pyop's blob schedule for the same L1 config: a built-in one by name (what pyop's node
    resolves for that L1 chain id, as op-node does), or the go-ethereum ChainConfig JSON read by
    pyop's own reader."""
    if isinstance(l1cc, str):
        sched = builtin_l1_blob_schedule(BUILTIN_IDS[l1cc])
        if sched is None:
            raise ValueError(f"no built-in L1 blob schedule for {l1cc}")
        return sched
    return l1_blob_schedule_from_json(l1cc)


def header(rng: Rng, times: dict[str, int], *, number: int | None = None, timestamp: int | None = None,
           parent_hash: bytes | None = None, hash_: bytes | None = None) -> dict[str, Any]:  # fmt: skip
    """An L1 header (input JSON): blob fields only from Cancun, requestsHash from Prague."""
    if timestamp is None:
        f = rng.pick(list(times)) if times else None
        timestamp = max(0, (times[f] if f else 1_700_000_000) + rng.pick([-12, -1, 0, 0, 1, 12, 1000]))
    cancun = "cancun" in times and timestamp >= times["cancun"]
    prague = "prague" in times and timestamp >= times["prague"]
    ebg = None
    if cancun:
        ebg = rng.pick([0, 0, 1, 131072, 393216, rng.randrange(0, 1 << 27), rng.randrange(0, 1 << 27)]) if rng.chance(0.97) else rng.randrange(0, 1 << 32)
    return {
        "hash": h(hash_ if hash_ is not None else rng.hash32()),
        "number": number if number is not None else rng.u(32),
        "parentHash": h(parent_hash if parent_hash is not None else rng.hash32()),
        "timestamp": timestamp,
        "baseFee": hex(rng.pick([0, 1, 7, 10**9, rng.u(64), (1 << 256) - 1])),
        "mixDigest": h(rng.hash32()),
        "excessBlobGas": ebg,
        "blobGasUsed": rng.pick([0, 131072]) if cancun else None,
        "parentBeaconRoot": h(rng.hash32()) if cancun and rng.chance(0.9) else None,
        "requestsHash": h(rng.hash32()) if prague else None,
        "receipts": [],
    }


def l1_header(d: dict[str, Any]) -> L1Header:
    def opt(k: str) -> bytes | None:
        return None if d.get(k) is None else hexb(d[k])

    return L1Header(
        hash=hexb(d["hash"]), number=int(d["number"]), parent_hash=hexb(d["parentHash"]),
        timestamp=int(d["timestamp"]), base_fee=int(d["baseFee"], 16), mix_digest=hexb(d["mixDigest"]),
        excess_blob_gas=d.get("excessBlobGas"), blob_gas_used=d.get("blobGasUsed"),
        parent_beacon_root=opt("parentBeaconRoot"), requests_hash=opt("requestsHash"),
    )  # fmt: skip
