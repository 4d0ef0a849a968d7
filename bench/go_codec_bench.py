"""The channel codec, pyop against the Go op-node's own code, on the same bytes in one run.

Run: ``.venv/bin/python -m bench.go_codec_bench [--quick]`` (see bench/README.md).

Both sides do the same work on the same batcher transaction data, each timed in its own
process (best of ``--repeat`` runs, wall clock, no pipes or start-up in the timed part):

    frames (ParseFrames) -> channel (Channel.AddFrame / IsReady / Reader)
      -> batches (BatchReader: zlib or brotli, RLP) -> span batch (DeriveSpanBatch: every
      transaction rebuilt) -> singular batches (SpanBatch.GetSingularBatches)

The Go side is ``codecbench`` (``interop/go/codecbench``: our program calling op-node v1.19.6's
``op-node/rollup/derive`` package, built by ``scripts/build-peers.sh codecbench`` into the peers
cache). Both sides report a SHA-256 digest of the singular batches they produced (epoch number,
timestamp, each transaction); the bench fails if the digests differ, so the two sides are seen
to do the same work with the same result.

Data sets:

- ``op-mainnet-27``: the real OP Mainnet batcher transaction in ``spec_vectors/batcher/`` (one
  zlib channel, a span batch of 27 blocks, 240 KB decompressed). The repository and the shared
  vectors hold no longer real channel (the 143-block OP Mainnet channel named in issue 15 is
  not among them), so this is the only real one.
- ``bench-10000``: every batcher transaction of ``bench.derive_bench``'s 10,000-block Holocene
  fixture (90 zlib channels of ~110 KB, calldata and decoded blobs; generated on first use).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pyop.codec.batch import SingularBatch, decode_batch
from pyop.codec.channel import Channel, read_channel
from pyop.codec.frame import parse_frames
from pyop.codec.span_batch import RawSpanBatch
from pyop.codec.tx import decode_signed_tx
from pyop.config import RollupConfig
from pyop.config.rollup import load_rollup_config
from pyop.primitives import ZERO_HASH, BlockID, L1BlockRef, L2BlockRef

REPO = Path(__file__).resolve().parents[1]
OP_MAINNET_TX = REPO / "spec_vectors/batcher/op-mainnet-batcher-tx-0xe69d9433.bin"
OP_MAINNET_CFG = REPO / "spec_vectors/config/rollup-configs/op-mainnet-10.rollup.json"
GO_VERSION = "v1.19.6"


@dataclass(frozen=True)
class CodecInput:
    """What both sides get: the chain parameters and the batcher transactions' data."""

    name: str
    block_time: int
    genesis_time: int
    chain_id: int
    max_rlp_bytes: int
    fjord: bool
    payloads: tuple[bytes, ...]


def codec_run(inp: CodecInput) -> list[SingularBatch]:
    """pyop's codec on ``inp``, step for step the work of codecbench's ``run``."""
    out: list[SingularBatch] = []
    channels: dict[bytes, Channel] = {}
    for data in inp.payloads:
        for f in parse_frames(data):
            ch = channels.get(f.channel_id)
            if ch is None:
                ch = channels[f.channel_id] = Channel(f.channel_id)
            if ch.add_frame(f) is not None:
                raise SystemExit(f"FAIL: {inp.name}: frame dropped")
            if not ch.is_ready():
                continue
            del channels[f.channel_id]
            res = read_channel(ch.reader_data(), max_rlp_bytes=inp.max_rlp_bytes, allow_brotli=inp.fjord)
            if res.error is not None:
                raise SystemExit(f"FAIL: {inp.name}: {res.error}")
            for raw in res.batches:
                batch = decode_batch(raw)
                if isinstance(batch, SingularBatch):
                    out.append(batch)
                    continue
                assert isinstance(batch, RawSpanBatch)
                span = batch.derive(inp.block_time, inp.genesis_time, inp.chain_id)
                first, last = span.start_epoch_num(), span.final_epoch_num()
                origins = [L1BlockRef(ZERO_HASH, n, ZERO_HASH, 0) for n in range(first, last + 1)]
                safe = L2BlockRef(ZERO_HASH, 0, ZERO_HASH, span.first_timestamp() - inp.block_time,
                                  BlockID(ZERO_HASH, first), 0)  # fmt: skip
                out += span.get_singular_batches(origins, safe)
    return out


def digest(batches: Sequence[SingularBatch]) -> tuple[str, int]:
    """codecbench's digest: SHA-256 over (epoch, timestamp, len-prefixed txs) of each batch."""
    h = hashlib.sha256()
    txs = 0
    for b in batches:
        h.update(b.epoch_num.to_bytes(8, "big") + b.timestamp.to_bytes(8, "big"))
        for tx in b.transactions:
            h.update(len(tx).to_bytes(4, "big") + tx)
            txs += 1
    return h.hexdigest(), txs


def time_pyop(inp: CodecInput, repeat: int) -> tuple[float, list[SingularBatch]]:
    best, res = float("inf"), []
    for _ in range(repeat):
        t0 = time.perf_counter()
        res = codec_run(inp)
        best = min(best, time.perf_counter() - t0)
    return best, res


def go_binary() -> Path:
    root = Path(os.environ.get("PYOP_PEERS_CACHE") or Path.home() / ".cache/pyop/peers")
    return root / GO_VERSION / "bin" / "codecbench"


def time_go(inp: CodecInput, repeat: int) -> dict[str, object]:
    exe = go_binary()
    if not exe.exists():
        raise SystemExit(f"no {exe}: build it with `scripts/build-peers.sh codecbench`")
    doc = {
        "block_time": inp.block_time, "genesis_time": inp.genesis_time, "chain_id": inp.chain_id,
        "max_rlp_bytes": inp.max_rlp_bytes, "fjord": inp.fjord, "repeat": repeat,
        "payloads": ["0x" + p.hex() for p in inp.payloads],
    }  # fmt: skip
    with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
        json.dump(doc, f)
        f.flush()
        out = subprocess.run([str(exe), f.name], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"FAIL: codecbench: {out.stderr.strip()}")
    res: dict[str, object] = json.loads(out.stdout)
    return res


# ---------------------------------------------------------------------------------------------
# data sets
# ---------------------------------------------------------------------------------------------


def op_mainnet_input() -> CodecInput:
    cfg = load_rollup_config(OP_MAINNET_CFG)
    tx = decode_signed_tx(OP_MAINNET_TX.read_bytes())
    # The tx was included in March 2024 (OP Mainnet #117369690..716), before Fjord: the
    # pre-Fjord channel limits apply (the L2 time of the span is a stand-in for the L1 time).
    ts = cfg.genesis.l2_time + (117_369_690 - cfg.genesis.l2.number) * cfg.block_time
    return _input("op-mainnet-27", cfg, ts, [tx.data])


def bench_fixture_input(blocks: int) -> CodecInput:
    from bench.derive_bench import Params, batcher_payloads, get_fixture

    fx, _ = get_fixture(Params(blocks=blocks))
    payloads = batcher_payloads(fx)
    return _input(f"bench-{blocks}", fx.rollup_config, payloads[-1][0], [p for _, p in payloads])


def _input(name: str, cfg: RollupConfig, l1_time: int, payloads: Sequence[bytes]) -> CodecInput:
    return CodecInput(name, cfg.block_time, cfg.genesis.l2_time, cfg.l2_chain_id,
                      cfg.max_rlp_bytes_per_channel(l1_time), cfg.is_fjord(l1_time), tuple(payloads))  # fmt: skip


# ---------------------------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------------------------


def compare(inp: CodecInput, repeat: int, log: Callable[[str], None] = print) -> float:
    """Run both sides on ``inp``; print the figures; return pyop time / Go time."""
    t_py, batches = time_pyop(inp, repeat)
    dg, txs = digest(batches)
    go = time_go(inp, repeat)
    t_go = int(go["ns"]) / 1e9  # type: ignore[call-overload]
    if go["digest"] != dg or go["blocks"] != len(batches):
        raise SystemExit(f"FAIL: {inp.name}: pyop and op-node produced different singular batches "
                         f"({len(batches)} vs {go['blocks']} blocks)")  # fmt: skip
    size = sum(len(p) for p in inp.payloads)
    ratio = t_py / t_go
    log(f"  {inp.name:<14} {len(inp.payloads):4} txs {size / 1e6:6.2f} MB {len(batches):6} blocks "
        f"{txs:7} txs | Go op-node {t_go * 1e3:8.2f} ms  pyop {t_py * 1e3:8.2f} ms  "
        f"pyop/Go x{ratio:5.2f}  (digest {dg[:12]} equal)")  # fmt: skip
    return ratio


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="the 1,000-block bench fixture")
    ap.add_argument("--blocks", type=int, help="bench fixture blocks (default 10,000)")
    ap.add_argument("--repeat", type=int, default=5, help="timed runs per side; the best is shown")
    a = ap.parse_args(argv)
    blocks = a.blocks or (1_000 if a.quick else 10_000)
    print(f"channel codec: pyop (python {sys.version.split()[0]}) vs Go op-node {GO_VERSION} "
          f"derive package ({go_binary()}), best of {a.repeat}")  # fmt: skip
    ratios = [compare(op_mainnet_input(), max(a.repeat, 50)), compare(bench_fixture_input(blocks), a.repeat)]
    print(f"  worst pyop/Go x{max(ratios):.2f} (target <= 2)")


if __name__ == "__main__":
    main()
