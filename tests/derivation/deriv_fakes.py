"""Small first-in-first-out fakes and builders for the derivation stage unit tests."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from eth_hash.auto import keccak

from pyop.codec.batch import SingularBatch
from pyop.codec.frame import Frame
from pyop.config import Genesis, RollupConfig
from pyop.derivation.drops import Explainer
from pyop.derivation.errors import EndOfSource
from pyop.derivation.interfaces import NotFound
from pyop.derivation.types import Batch
from pyop.primitives import BlockID, ExecutionPayload, L1BlockRef, L2BlockRef, SystemConfig

GENESIS_TIME = 1_000_000
BATCHER = bytes.fromhex("11" * 20)
INBOX = bytes.fromhex("ff" * 20)
SYSCFG = SystemConfig(BATCHER, b"\x00" * 32, (1).to_bytes(32, "big"), 30_000_000)


def h(*parts: object) -> bytes:
    return keccak(repr(parts).encode())


def make_cfg(**kw: Any) -> RollupConfig:
    """Block time 2, seq window 4, channel timeout 10, drift 600; forks from ``kw``
    (``<fork>_time`` absolute, or pass ``all_until="granite"`` for genesis activation)."""
    forks = ["regolith", "canyon", "delta", "ecotone", "fjord", "granite", "holocene",
             "isthmus", "jovian"]  # fmt: skip
    until = kw.pop("all_until", None)
    times: dict[str, Any] = {}
    if until is not None:
        for f in forks[: forks.index(until) + 1]:
            times[f"{f}_time"] = 0
    times.update(kw)
    base: dict[str, Any] = dict(
        genesis=Genesis(BlockID(h("l1", 0, ""), 0), BlockID(h("l2", 0), 0), GENESIS_TIME, SYSCFG),
        block_time=2, max_sequencer_drift=600, seq_window_size=4, channel_timeout=10,
        l1_chain_id=900, l2_chain_id=901, batch_inbox_address=INBOX,
        deposit_contract_address=bytes.fromhex("22" * 20),
        l1_system_config_address=bytes.fromhex("33" * 20),
    )  # fmt: skip
    for k in ("seq_window_size", "channel_timeout", "max_sequencer_drift", "block_time"):
        if k in times:
            base[k] = times.pop(k)
    return RollupConfig(**base, **times)


def l1(n: int, t: int | None = None, *, fork: str = "") -> L1BlockRef:
    """L1 block ``n`` of a fake chain (12 s blocks); ``fork`` names an alternative branch."""
    parent = b"\x00" * 32 if n == 0 else h("l1", n - 1, fork if n - 1 > 0 else "")
    return L1BlockRef(h("l1", n, fork if n > 0 else ""), n, parent,
                      GENESIS_TIME + 12 * n if t is None else t)  # fmt: skip


def l2(n: int, origin: L1BlockRef, seq: int = 0, t: int | None = None) -> L2BlockRef:
    return L2BlockRef(h("l2", n) if n else h("l2", 0), n, h("l2", n - 1) if n > 1 else h("l2", 0),
                      GENESIS_TIME + 2 * n if t is None else t, origin.id(), seq)  # fmt: skip


def batch_for(parent: L2BlockRef, origin: L1BlockRef, txs: Iterable[bytes] = (), *, dt: int = 2) -> SingularBatch:
    return SingularBatch(parent.hash, origin.number, origin.hash, parent.timestamp + dt, tuple(txs))


class OriginHolder:
    """Base for fakes: an ``origin`` the test moves by hand, and reset/flush bookkeeping."""

    def __init__(self, origin: L1BlockRef) -> None:
        self.origin = origin
        self.resets: list[L1BlockRef] = []
        self.flushes = 0

    def reset(self, base: L1BlockRef, sys_cfg: SystemConfig) -> None:
        self.resets.append(base)

    def flush_channel(self) -> None:
        self.flushes += 1


class FifoData(OriginHolder):
    """``next_data`` from a FIFO; EndOfSource when empty."""

    def __init__(self, origin: L1BlockRef, items: Iterable[bytes] = ()) -> None:
        super().__init__(origin)
        self.items: deque[bytes] = deque(items)

    def next_data(self) -> bytes:
        if not self.items:
            raise EndOfSource("fifo empty")
        return self.items.popleft()


class FifoFrames(OriginHolder):
    def __init__(self, origin: L1BlockRef, items: Iterable[Frame] = ()) -> None:
        super().__init__(origin)
        self.items: deque[Frame] = deque(items)

    def next_frame(self) -> Frame:
        if not self.items:
            raise EndOfSource("fifo empty")
        return self.items.popleft()


class FifoBatches(OriginHolder):
    def __init__(self, origin: L1BlockRef, items: Iterable[Batch] = ()) -> None:
        super().__init__(origin)
        self.items: deque[Batch] = deque(items)

    def next_batch(self) -> Batch:
        if not self.items:
            raise EndOfSource("fifo empty")
        return self.items.popleft()

    def flush_channel(self) -> None:
        super().flush_channel()
        self.items.clear()


@dataclass
class FakeL2:
    """``SafeBlockFetcher`` over a dict."""

    refs: dict[int, L2BlockRef] = field(default_factory=dict)
    payloads: dict[int, ExecutionPayload] = field(default_factory=dict)

    def l2_block_ref_by_number(self, number: int) -> L2BlockRef:
        if number not in self.refs:
            raise NotFound(f"L2 {number}")
        return self.refs[number]

    def payload_by_number(self, number: int) -> ExecutionPayload:
        if number not in self.payloads:
            raise NotFound(f"L2 payload {number}")
        return self.payloads[number]


def frame(cid: bytes, n: int, last: bool = False, data: bytes = b"x") -> Frame:
    return Frame(cid, n, data, last)


def explainer() -> Explainer:
    return Explainer()
