"""Seeded generators of test inputs with edge values, shared by the targets.

Everything is drawn from one :class:`Rng` (a seeded ``random.Random``), so a run is reproduced
by its seed and a single input by (seed, index). Integers favour the edges where decoders and
rules differ: 0, 1, type limits and their neighbours, values next to fork times, windows and
drift limits. Rollup configs put every fork boundary (Regolith ... Karst) near the timestamps
the targets generate.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pyop.config import RollupConfig
from pyop.config.forks import MAINLINE_FORKS

T = TypeVar("T")

U64 = (1 << 64) - 1
EDGE_INTS = (0, 1, 2, 0x7F, 0x80, 0xFF, 0x100, 0xFFFF, 0x10000, (1 << 32) - 1, 1 << 32,
             (1 << 63) - 1, 1 << 63, U64)  # fmt: skip


class Rng(random.Random):
    """``random.Random`` with helpers for edge-heavy values."""

    def chance(self, p: float) -> bool:
        return self.random() < p

    def pick(self, items: Sequence[T]) -> T:
        return items[self.randrange(len(items))]

    def u(self, bits: int) -> int:
        """An unsigned ``bits``-bit integer: an edge value a third of the time."""
        hi = (1 << bits) - 1
        r = self.random()
        if r < 0.2:
            return self.pick([x for x in EDGE_INTS if x <= hi] + [hi, hi - 1])
        if r < 0.5:
            return self.randrange(0, min(hi, 1000) + 1)
        return self.randrange(0, hi + 1)

    def near(self, x: int, spread: int = 2, lo: int = 0, hi: int = U64) -> int:
        """``x`` plus a small offset (clamped to ``[lo, hi]``)."""
        return max(lo, min(hi, x + self.randint(-spread, spread)))

    def raw(self, n: int) -> bytes:
        return self.randbytes(n)

    def blob_of(self, max_len: int) -> bytes:
        """Bytes of an edge-heavy length up to ``max_len``: empty, tiny, random, or maximal."""
        r = self.random()
        if r < 0.1 or max_len == 0:
            n = 0
        elif r < 0.6:
            n = self.randrange(1, min(max_len, 64) + 1)
        elif r < 0.9:
            n = self.randrange(0, max_len + 1)
        else:
            n = max_len
        if self.chance(0.2):
            return bytes([self.pick((0, 0xFF))]) * n
        return self.randbytes(n)

    def hash32(self) -> bytes:
        return self.randbytes(32)

    def addr(self) -> bytes:
        return self.randbytes(20)


# ---------------------------------------------------------------------------------------------
# Rollup configs with fork boundaries near the generated timestamps
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConfigCase:
    """A rollup config as JSON (sent to both sides) and as pyop parsed it."""

    json: dict[str, Any]
    cfg: RollupConfig
    #: Interesting L2 timestamps: fork activation times and genesis.
    times: tuple[int, ...]


def rand_system_config(rng: Rng) -> dict[str, Any]:
    """``genesis.system_config`` JSON with edge values (all fields of op-node's SystemConfig)."""
    scalar = bytearray(32)
    kind = rng.random()
    if kind < 0.55:  # Ecotone v1 scalar: version 1, blob scalar, base scalar
        scalar[0] = 1
        scalar[24:28] = rng.u(32).to_bytes(4, "big")
        scalar[28:32] = rng.u(32).to_bytes(4, "big")
    elif kind < 0.92:  # v0 / Bedrock scalar: a uint32 in the low bytes
        scalar[28:32] = rng.u(32).to_bytes(4, "big")
    else:
        scalar = bytearray(rng.raw(32))
    ep = rng.pick([b"\x00" * 8, rng.u(32).to_bytes(4, "big") + rng.u(32).to_bytes(4, "big")])
    return {
        "batcherAddr": "0x" + rng.addr().hex(),
        "overhead": "0x" + (rng.u(64).to_bytes(32, "big") if rng.chance(0.7) else rng.raw(32)).hex(),
        "scalar": "0x" + bytes(scalar).hex(),
        "gasLimit": rng.u(64),
        "eip1559Params": "0x" + ep.hex(),
        "operatorFeeParams": "0x" + (rng.raw(32) if rng.chance(0.5) else bytes(32)).hex(),
        "minBaseFee": rng.u(64),
        "daFootprintGasScalar": rng.u(16),
    }


def rand_config(rng: Rng, *, genesis_time: int | None = None) -> ConfigCase:
    """A rollup config whose fork times cluster around one point, so inputs straddle every
    boundary: a prefix of the mainline forks active from genesis, then forks activating at
    increasing times (possibly several at the same time), then forks unset."""
    block_time = rng.pick([1, 2, 2, 2, 12])
    l2_time = genesis_time if genesis_time is not None else rng.pick(
        [0, 1_000, 1_700_000_000, rng.randrange(0, 1 << 32)])  # fmt: skip
    base = l2_time + block_time * rng.randrange(0, 40)
    forks = list(MAINLINE_FORKS)
    n_genesis = rng.randrange(0, len(forks) + 1)
    n_set = rng.randrange(n_genesis, len(forks) + 1)
    times: dict[str, int] = {}
    t = base
    for i, f in enumerate(forks):
        if i < n_genesis:
            times[f.json_key] = rng.pick([0, l2_time]) if i == 0 or rng.chance(0.5) else l2_time
        elif i < n_set:
            step = rng.pick([0, 0, block_time, 2 * block_time, 5 * block_time, 1])
            t += step
            times[f.json_key] = t
    # Fork times must not decrease (op-node Config.Check); 0 then l2_time is fine.
    prev = 0
    for f in forks:
        k = f.json_key
        if k in times:
            times[k] = max(times[k], prev)
            prev = times[k]
    sc = rand_system_config(rng)
    obj: dict[str, Any] = {
        "genesis": {
            "l1": {"hash": "0x" + rng.hash32().hex(), "number": rng.pick([0, 1, 100, rng.u(32)])},
            "l2": {"hash": "0x" + rng.hash32().hex(), "number": rng.pick([0, 0, 7, rng.u(32)])},
            "l2_time": l2_time,
            "system_config": sc,
        },
        "block_time": block_time,
        "max_sequencer_drift": rng.pick([600, 10, 1800]),
        "seq_window_size": rng.pick([2, 4, 10, 3600]),
        "channel_timeout": rng.pick([1, 5, 300]),
        "l1_chain_id": rng.pick([1, 11155111, 900]),
        "l2_chain_id": rng.pick([10, 901, 11155420, (1 << 31) - 1, 1 << 40]),
        **times,
        "batch_inbox_address": "0xff00000000000000000000000000000000000901",
        "deposit_contract_address": "0x" + rng.addr().hex(),
        "l1_system_config_address": "0x" + rng.addr().hex(),
    }
    if rng.chance(0.3):
        obj["pectra_blob_schedule_time"] = rng.pick([0, base, base + block_time * rng.randrange(0, 10)])
    cfg = RollupConfig.from_json(obj)
    interesting = sorted({l2_time, *times.values(), *([obj["pectra_blob_schedule_time"]] if "pectra_blob_schedule_time" in obj else [])})
    return ConfigCase(obj, cfg, tuple(interesting))


class ConfigPool:
    """A fixed pool of configs per run (both sides cache parsed configs by their JSON text)."""

    def __init__(self, rng: Rng, size: int = 48) -> None:
        self.cases = [rand_config(rng) for _ in range(size)]

    def pick(self, rng: Rng) -> ConfigCase:
        return rng.pick(self.cases)


def near_time(rng: Rng, case: ConfigCase) -> int:
    """An L2 timestamp next to one of the config's interesting times (fork boundaries)."""
    bt = case.cfg.block_time
    t = rng.pick(case.times)
    return max(0, t + bt * rng.randint(-2, 2) + rng.pick([0, 0, 0, -1, 1]))
