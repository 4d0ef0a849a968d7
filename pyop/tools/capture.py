"""``pyop capture``: record from live endpoints everything derivation of an L2 range needs, as a
derivation fixture (:mod:`pyop.tools.fixture`).

For ``--from-l2 A --to-l2 B``:

1. L2 (``eth_*`` of the L2 EL): the starting safe head ``A-1`` and, walking back from it as the
   pipeline reset does (op-node ``initialReset``; specs/protocol/derivation.md "Resetting the
   Pipeline"), every L2 block whose L1 origin is within one channel timeout of the safe head's
   origin, down to the first one that is not (its origin is where the pipeline restarts), plus
   the blocks ``A..B``: payloads, refs and system configs.
2. L1: every block from that restart origin to ``origin(B) + l1_margin`` (default: the
   sequencing window, so batches submitted as late as allowed are included; capped at the L1
   head): header, transactions (EIP-2718), receipts of blocks whose ``logsBloom`` may hold a log
   of the deposit contract or the SystemConfig (others: none recorded), and the blobs of blob
   transactions to the batch inbox (from the beacon API or anvil, verified).

Progress goes to ``progress`` (stderr in the CLI). Fetching is concurrent: batched JSON-RPC
requests and up to ``concurrency`` blocks in flight.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from itertools import pairwise

from eth_hash.auto import keccak

from pyop.codec.errors import CodecError
from pyop.codec.tx import BLOB_TX_TYPE, decode_signed_tx
from pyop.config.rollup import RollupConfig
from pyop.derivation.interfaces import IndexedBlobHash
from pyop.primitives import ExecutionPayload, L2BlockRef, PyopError, SystemConfig
from pyop.protocol.l1_types import Receipt
from pyop.sources.beacon import AsyncBeaconClient
from pyop.sources.blockjson import header_to_json
from pyop.sources.l1 import AsyncL1Client, L1Block
from pyop.sources.l2 import AsyncL2Client, l2_block_ref_from_payload, system_config_from_payload
from pyop.tools.fixture import (
    DerivationFixture,
    FixtureL1Block,
    attributes_from_payload,
    slim_receipt_json,
)

Progress = Callable[[str], None]

__all__ = ["CaptureError", "bloom_may_contain", "capture_fixture"]


class CaptureError(PyopError):
    """The range cannot be captured (bad range, missing beacon endpoint, ...)."""


def bloom_may_contain(bloom: bytes, value: bytes) -> bool:
    """Whether a 2048-bit logs bloom may contain ``value`` (an address or a topic): the three
    bits chosen by ``keccak256(value)`` are set (yellow paper section 4.3.1, ``M3:2048``)."""
    if len(bloom) != 256:
        return True
    h = keccak(value)
    for i in (0, 2, 4):
        bit = ((h[i] << 8) | h[i + 1]) & 2047
        if not bloom[255 - bit // 8] & (1 << (bit % 8)):
            return False
    return True


def _quiet(_: str) -> None:
    pass


async def _l2_range(
    l2: AsyncL2Client, numbers: Sequence[int], chunk: int = 16
) -> dict[int, ExecutionPayload]:
    out: dict[int, ExecutionPayload] = {}
    for i in range(0, len(numbers), chunk):
        for p in await l2.payloads_by_numbers(list(numbers[i : i + chunk])):
            out[p.block_number] = p
    return out


async def capture_fixture(
    cfg: RollupConfig,
    l1: AsyncL1Client,
    l2: AsyncL2Client,
    beacon: AsyncBeaconClient | None,
    from_l2: int,
    to_l2: int,
    *,
    l1_margin: int | None = None,
    concurrency: int = 8,
    progress: Progress = _quiet,
) -> DerivationFixture:
    """Capture the fixture for deriving L2 blocks ``from_l2..to_l2`` (see the module doc)."""
    if from_l2 <= cfg.genesis.l2.number:
        raise CaptureError(
            f"--from-l2 must be after the L2 genesis block {cfg.genesis.l2.number} "
            "(the block before it is the starting safe head)"
        )
    if to_l2 < from_l2:
        raise CaptureError(f"--to-l2 {to_l2} is before --from-l2 {from_l2}")
    t0 = time.monotonic()
    start = from_l2 - 1

    # --- L2: the derived range and the starting safe head
    progress(f"L2 blocks {start}..{to_l2}")
    payloads = await _l2_range(l2, list(range(start, to_l2 + 1)))
    refs: dict[int, L2BlockRef] = {}
    configs: dict[int, SystemConfig] = {}

    def index(p: ExecutionPayload) -> None:
        refs[p.block_number] = l2_block_ref_from_payload(cfg, p)
        configs[p.block_number] = system_config_from_payload(cfg, p)

    for p in payloads.values():
        index(p)
    for n in range(start + 1, to_l2 + 1):
        if refs[n].parent_hash != refs[n - 1].hash:
            raise CaptureError(f"L2 block {n} does not build on block {n - 1} (reorg during capture?)")

    # --- L2 history: walk back one channel timeout of L1 origins (as the pipeline reset does)
    safe = refs[start]
    origin_ts: dict[bytes, int] = {}

    async def origin_time(ref: L2BlockRef) -> int:
        h = ref.l1_origin.hash
        if h not in origin_ts:
            origin_ts[h] = (await l1.header_by_hash(h)).timestamp
        return origin_ts[h]

    block = safe
    while (
        block.number > cfg.genesis.l2.number
        and block.l1_origin.number > cfg.genesis.l1.number
        and block.l1_origin.number + cfg.channel_timeout_at(await origin_time(block))
        > safe.l1_origin.number
    ):
        parent_n = block.number - 1
        if parent_n not in refs:
            lo = max(cfg.genesis.l2.number, parent_n - 63)
            progress(f"L2 history blocks {lo}..{parent_n}")
            more = await _l2_range(l2, list(range(lo, parent_n + 1)))
            payloads.update(more)
            for p in more.values():
                index(p)
        parent = refs[parent_n]
        if parent.hash != block.parent_hash:
            raise CaptureError(f"L2 block {block.number}: parent hash mismatch (reorg?)")
        block = parent
    history_start = block.number
    for n in [n for n in payloads if n < history_start]:
        del payloads[n], refs[n], configs[n]

    # --- L1 range
    l1_start = block.l1_origin.number
    head = await l1.header_by_number("latest")
    margin = cfg.seq_window_size if l1_margin is None else l1_margin
    l1_end = min(head.number, refs[to_l2].l1_origin.number + margin)
    if l1_end < refs[to_l2].l1_origin.number:
        raise CaptureError("the L1 head is behind the L1 origin of --to-l2")
    numbers = list(range(l1_start, l1_end + 1))
    progress(
        f"L2 {history_start}..{to_l2} (safe head {start}); L1 {l1_start}..{l1_end} "
        f"({len(numbers)} blocks)"
    )
    watched = (cfg.deposit_contract_address, cfg.l1_system_config_address)
    sem = asyncio.Semaphore(max(1, concurrency))
    done = 0
    blocks: dict[int, FixtureL1Block] = {}

    async def fetch(n: int) -> None:
        nonlocal done
        async with sem:
            b: L1Block = await l1.block_by_number(n)
            bloom = bytes.fromhex(str(b.json.get("logsBloom", "0x"))[2:])
            receipts_json: list[dict[str, object]] = []
            receipts: tuple[Receipt, ...] = ()
            if any(bloom_may_contain(bloom, a) for a in watched):
                raw = await l1.receipts_json(b.header.hash)
                receipts = await l1.receipts_by_hash(b.header.hash)
                receipts_json = [slim_receipt_json(r) for r in raw]
            blobs = await _inbox_blobs(cfg, beacon, b)
            blocks[n] = FixtureL1Block(
                b.header, b.txs, tuple(blobs), receipts, header_to_json(b.json), receipts_json
            )
            done += 1
            if done % 25 == 0 or done == len(numbers):
                progress(f"L1 block {done}/{len(numbers)}")

    await asyncio.gather(*(fetch(n) for n in numbers))
    ordered = [blocks[n] for n in numbers]
    for a, b in pairwise(ordered):
        if b.header.parent_hash != a.header.hash:
            raise CaptureError(f"L1 block {b.header.number} does not build on {a.header.number} (reorg?)")

    fx = DerivationFixture(
        rollup_config=cfg,
        l1_blocks=ordered,
        l2_cursor_start=start,
        l2_cursor_end=to_l2,
        l2_payloads={n: attributes_from_payload(cfg, payloads[n]) for n in range(from_l2, to_l2 + 1)},
        ref_payloads={n: attributes_from_payload(cfg, p) for n, p in payloads.items() if n <= start},
        l2_system_configs=configs,
        l2_block_infos=refs,
        l2_blocks=dict(sorted(payloads.items())),
        meta={
            "tool": "pyop capture",
            "fromL2": from_l2,
            "toL2": to_l2,
            "l1Range": [l1_start, l1_end],
            "l1Head": head.number,
            "l2HistoryStart": history_start,
            "capturedAt": int(time.time()),
        },
    )
    progress(f"captured in {time.monotonic() - t0:.1f}s")
    return fx


async def _inbox_blobs(cfg: RollupConfig, beacon: AsyncBeaconClient | None, b: L1Block) -> list[bytes]:
    """Blobs of the block's blob transactions to the batch inbox (any sender)."""
    hashes: list[IndexedBlobHash] = []
    index = 0
    for raw in b.txs:
        if not raw or raw[0] != BLOB_TX_TYPE:
            continue
        try:
            tx = decode_signed_tx(raw)
        except CodecError:
            continue
        if tx.to == cfg.batch_inbox_address:
            hashes.extend(IndexedBlobHash(index + j, h) for j, h in enumerate(tx.blob_versioned_hashes))
        index += len(tx.blob_versioned_hashes)
    if not hashes:
        return []
    if beacon is None:
        raise CaptureError(
            f"L1 block {b.header.number} has batcher blobs: give --l1.beacon to fetch them"
        )
    return list(await beacon.get_blobs(b.header.ref(), hashes))
