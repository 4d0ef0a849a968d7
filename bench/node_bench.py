"""pyop node on the live devnet: sequencer block-building overhead and verifier sync speed.

Run: ``.venv/bin/python -m bench.node_bench [--quick]`` (see bench/README.md). Needs the Go peers
(scripts/build-peers.sh) and anvil (npm install); every process is stopped by PID at the end.

1. **Sequencer overhead.** A devnet (anvil + op-geth) driven by ``pyop node --sequencer.enabled``
   run in this process (:class:`pyop.node.service.NodeService`, the Go op-node's flags) with the
   Go op-batcher posting, so derivation consolidates beside the sequencer as in production. The
   sequencer's methods are wrapped: for each sealed block, the wall time of ``prepare`` (L1
   origin + payload attributes: pyop plus its L1 reads), of ``start_building``
   (forkchoiceUpdated with attributes) and of ``seal`` (getPayload, newPayload,
   forkchoiceUpdated), and inside those two the time spent in Engine API calls
   (:meth:`pyop.engine.client.EngineClient.call`, i.e. op-geth plus HTTP/JSON). "pyop" time is
   the rest. The first blocks (catching up with the wall clock) are skipped.
2. **Verifier sync speed.** A devnet with the Go op-node sequencer and op-batcher builds
   ``--blocks`` L2 blocks; then a fresh Go op-node verifier and a fresh ``pyop node`` verifier
   (each with a new op-geth, one after the other so they do not share the 2 cores) derive from
   L1 to the sequencer's safe head at that moment. Reported: seconds and L2 blocks/s for each,
   the ratio, and that both reached the same block hash.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import contextvars
import itertools
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from pyop.devnet.anvil import set_time_lapse
from pyop.devnet.process import PidRegistry, start_process, wait_for_http
from pyop.devnet.rpc import RpcClient, RpcError, RpcTransportError
from pyop.devnet.stack import (
    DevnetInfo,
    StackError,
    init_devnet,
    op_batcher_argv,
    pyop_node_argv,
    require_peers,
    start_stack,
    start_verifier,
)
from pyop.node.config import parse_node_args
from pyop.node.service import NodeService

_IN_SEQ: contextvars.ContextVar[bool] = contextvars.ContextVar("in_sequencer", default=False)
_ENGINE_ACC: contextvars.ContextVar[list[float] | None] = contextvars.ContextVar("engine_acc", default=None)


def _quiet(_msg: str) -> None:
    pass


def _pct(xs: list[float], q: float) -> float:
    if not xs:
        return 0.0
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * (len(s) - 1) + 0.5))]


def _fmt_ms(xs: list[float]) -> str:
    if not xs:
        return "n/a"
    return (f"mean {1000 * statistics.fmean(xs):7.2f}  median {1000 * statistics.median(xs):7.2f}  "
            f"p95 {1000 * _pct(xs, 0.95):7.2f}  p99 {1000 * _pct(xs, 0.99):7.2f}  "
            f"max {1000 * max(xs):7.2f}")  # fmt: skip


# ----------------------------------------------------------------------------- sequencer


class SequencerProbe:
    """Wraps a running node's sequencer + engine controller + engine client (instance
    attributes shadow the methods) and records per-block timings."""

    def __init__(self, svc: NodeService) -> None:
        driver, engine = svc.driver, svc.engine
        if driver is None or engine is None or driver.sequencer is None:
            raise StackError("the node has no sequencer")
        self.blocks: list[dict[str, float]] = []
        self._cur: dict[str, float] = {}
        seq, client = driver.sequencer, engine.client
        self.client = client

        orig_call = client.call

        async def call(method: str, params: Any = ()) -> Any:
            t = time.perf_counter()
            try:
                return await orig_call(method, params)
            finally:
                acc = _ENGINE_ACC.get()
                if acc is not None:
                    acc[0] += time.perf_counter() - t
                    acc[1] += 1

        client.call = call  # type: ignore[method-assign]

        def timed(name: str, fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
            async def wrapper(*a: Any, **kw: Any) -> Any:
                if not _IN_SEQ.get():
                    return await fn(*a, **kw)
                acc = [0.0, 0.0]
                tok = _ENGINE_ACC.set(acc)
                t = time.perf_counter()
                try:
                    return await fn(*a, **kw)
                finally:
                    _ENGINE_ACC.reset(tok)
                    self._cur[name] = self._cur.get(name, 0.0) + time.perf_counter() - t
                    self._cur[name + "_engine"] = self._cur.get(name + "_engine", 0.0) + acc[0]
                    self._cur[name + "_calls"] = self._cur.get(name + "_calls", 0.0) + acc[1]

            return wrapper

        seq.prepare = timed("prepare", seq.prepare)  # type: ignore[method-assign,assignment]
        engine.start_building = timed("start", engine.start_building)  # type: ignore[method-assign,assignment]
        engine.seal = timed("seal", engine.seal)  # type: ignore[method-assign,assignment]
        orig_build = seq.build_block

        async def build_block() -> Any:
            _IN_SEQ.set(True)  # this task only (the sequencer's)
            self._cur = {}
            sealed = await orig_build()
            if sealed is not None and "seal" in self._cur:
                self._cur["sealed_at"] = time.time()  # wall clock, against the block's timestamp
                self._cur["timestamp"] = sealed.ref.timestamp
                self._cur["number"] = sealed.ref.number
                self._cur["txs"] = len(sealed.payload.transactions)
                self.blocks.append(self._cur)
            return sealed

        seq.build_block = build_block  # type: ignore[method-assign]


def bench_sequencer(workdir: Path, blocks: int, warmup: int, block_time: int = 1) -> dict[str, Any]:
    print(f"== sequencer: pyop node builds {blocks} blocks on op-geth at a {block_time}s block time "
          "(Go op-batcher posting) ==", flush=True)  # fmt: skip
    info = init_devnet(workdir / "seq", l2_block_time=block_time, log=_quiet)
    registry = PidRegistry(info.directory)
    try:
        start_stack(info, stack="none", log=_quiet)
        data_dir = info.directory / "pyop-node"
        data_dir.mkdir(exist_ok=True)  # its p2p key and sequencer state live there
        argv = pyop_node_argv(info, engine_url=info.url("gethAuth"), rpc_port=info.ports["opNodeRpc"],
                              data_dir=data_dir, sequencer=True)  # fmt: skip
        ncfg = parse_node_args(argv[4:], env={})
        ncfg.check()
        bins = require_peers(["op-batcher"])
        return asyncio.run(_run_sequencer(info, ncfg, bins["op-batcher"], registry, blocks, warmup))
    finally:
        registry.stop_all(sigint_timeout=20.0)


async def _run_sequencer(info: DevnetInfo, ncfg: Any, batcher_bin: Path, registry: PidRegistry,
                         blocks: int, warmup: int) -> dict[str, Any]:  # fmt: skip
    svc = NodeService(ncfg)
    task = asyncio.create_task(svc.run())
    try:
        ready = asyncio.create_task(svc.ready.wait())
        await asyncio.wait({ready, task}, timeout=90, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            task.result()  # the node stopped while starting: its error
            raise StackError("pyop node stopped while starting")
        if not ready.done():
            ready.cancel()
            raise StackError("pyop node not ready after 90 s")
        while svc.driver is None or not svc.driver.started.is_set():
            await asyncio.sleep(0.05)
        probe = SequencerProbe(svc)
        b = await asyncio.to_thread(start_process, "op-batcher", op_batcher_argv(batcher_bin, info, da="calldata"),
                                    log_path=info.logs_dir / "op-batcher.log", registry=registry)  # fmt: skip
        await asyncio.to_thread(wait_for_http, info.url("batcherRpc"), timeout=30, process=b)
        deadline = time.monotonic() + (blocks + warmup) * info.l2_block_time * 2 + 60
        while len(probe.blocks) < blocks + warmup:
            if task.done():
                task.result()
            if time.monotonic() > deadline:
                raise StackError(f"only {len(probe.blocks)} blocks sequenced in time")
            await asyncio.sleep(0.5)
        rows = probe.blocks[warmup : warmup + blocks]
        st = svc.driver.sync_status() if svc.driver else {}
        return {
            "rows": rows,
            "block_time": info.l2_block_time,
            "engine_stats": probe.client.stats.summary(),
            "safe": st.get("safe_l2", {}),
            "unsafe": st.get("unsafe_l2", {}),
        }
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


def report_sequencer(res: dict[str, Any]) -> dict[str, float]:
    rows = res["rows"]
    engine = [r.get("start_engine", 0) + r.get("seal_engine", 0) for r in rows]
    build = [r.get("start", 0) + r.get("seal", 0) for r in rows]
    pyop_build = [b - e for b, e in zip(build, engine, strict=True)]
    prepare = [r.get("prepare", 0) for r in rows]
    pyop_total = [p + q for p, q in zip(pyop_build, prepare, strict=True)]
    calls = [r.get("start_calls", 0) + r.get("seal_calls", 0) for r in rows]
    prep_l2 = [r.get("prepare_engine", 0) for r in rows]
    print(f"blocks measured: {len(rows)} (L2 {int(rows[0]['number'])}..{int(rows[-1]['number'])}, "
          f"{statistics.fmean(r['txs'] for r in rows):.1f} txs/block), engine calls/block "
          f"{statistics.fmean(calls):.1f}")  # fmt: skip
    print(f"  op-geth engine calls (fcu+attrs, getPayload, newPayload, fcu)  ms: {_fmt_ms(engine)}")
    print(f"  pyop in build + seal (outside engine calls)              ms: {_fmt_ms(pyop_build)}")
    print(f"  pyop prepare (L1 origin + attributes, incl. L1 reads)    ms: {_fmt_ms(prepare)}")
    print(f"    of which L2 eth_* reads on op-geth's engine endpoint   ms: {_fmt_ms(prep_l2)}")
    print(f"  pyop total per block (prepare + build/seal overhead)     ms: {_fmt_ms(pyop_total)}")
    share = statistics.fmean(pyop_total) / max(1e-9, statistics.fmean(pyop_total) + statistics.fmean(engine))
    print(f"  pyop share of active block-building time: {100 * share:.1f}%  "
          f"(engine {1000 * statistics.fmean(engine):.2f} ms vs pyop {1000 * statistics.fmean(pyop_total):.2f} ms)")
    print("  EngineClient.stats (whole run, all callers):")
    for m, s in res["engine_stats"].items():
        if m.startswith("engine_"):
            print(f"    {m:<28} count {int(s['count']):5d}  mean {s['mean_ms']:7.2f} ms  max {s['max_ms']:7.2f} ms")
    print(f"  heads at the end: unsafe {res['unsafe'].get('number')}, safe {res['safe'].get('number')}")
    # Slots: block n+1 must be sealed before its successor's slot starts (timestamp + block
    # time); later is a missed slot. Numbers must be consecutive (no block skipped or rebuilt).
    bt = res["block_time"]
    late = [r["sealed_at"] - r["timestamp"] for r in rows]
    missed = sum(1 for x in late if x > bt)
    gaps = sum(1 for a, b in itertools.pairwise(rows) if b["number"] != a["number"] + 1)
    span = rows[-1]["sealed_at"] - rows[0]["sealed_at"]
    print(f"  slots: {len(rows)} blocks over {span:.0f} s at {bt} s; sealed after its timestamp "
          f"ms: {_fmt_ms(late)}; missed slots (sealed > {bt} s after its timestamp): {missed}; "
          f"number gaps: {gaps}")  # fmt: skip
    return {"engine_ms": 1000 * statistics.fmean(engine), "pyop_ms": 1000 * statistics.fmean(pyop_total),
            "pyop_p50_ms": 1000 * statistics.median(pyop_total), "pyop_p99_ms": 1000 * _pct(pyop_total, 0.99),
            "missed_slots": missed, "gaps": gaps,
            "pyop_build_ms": 1000 * statistics.fmean(pyop_build), "prepare_ms": 1000 * statistics.fmean(prepare)}  # fmt: skip


# ----------------------------------------------------------------------------- verifier


def _peak_rss_mb(pid: int) -> float | None:
    """A live process's peak resident set (``VmHWM`` in /proc, Linux), MB; None elsewhere."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _safe(url: str) -> dict[str, Any] | None:
    try:
        return dict(RpcClient(url, timeout=5.0).call("optimism_syncStatus")["safe_l2"])
    except (RpcError, RpcTransportError, KeyError, TypeError):
        return None


def bench_verifier(workdir: Path, blocks: int, block_time: int, timeout: float,
                   timelapse: int | None = None) -> dict[str, Any]:  # fmt: skip
    """Part 2. ``timelapse=N``: the devnet lives in the past (anvil genesis ``blocks * block_time``
    + 900 s before now) and L1 runs N times faster than the wall clock (one block per second, N
    seconds apart: :func:`pyop.devnet.anvil.set_time_lapse`), so the Go sequencer, which builds
    back to back while its chain is behind the wall clock, makes the chain in about
    ``blocks * block_time / N`` seconds instead of ``blocks * block_time`` (10,000 blocks at
    1 s: ~14 min at N=12 instead of ~2.8 h). The sequencing window is widened to 120 L1 blocks
    (two minutes of wall clock) so the batcher keeps up with the faster L1. The lapse ends when
    the chain is built; the verifiers then sync from L1 as usual."""
    lapse = f", L1 time lapse {timelapse}x" if timelapse else ""
    print(f"\n== verifier sync: Go sequencer builds {blocks} L2 blocks ({block_time}s block time{lapse}), "
          "then a fresh Go op-node and a fresh pyop node each sync to its safe head ==", flush=True)  # fmt: skip
    info = init_devnet(workdir / "ver", l2_block_time=block_time, log=_quiet,
                       l1_genesis_time=int(time.time()) - blocks * block_time - 900 if timelapse else None,
                       seq_window_size=120 if timelapse else None)  # fmt: skip
    registry = PidRegistry(info.directory)
    out: dict[str, Any] = {}
    try:
        if timelapse:
            set_time_lapse(RpcClient(info.l1_url), seconds_per_block=timelapse, mine_every=1)
        start_stack(info, stack="go", proposer=False, log=_quiet, catch_up_timeout=None if timelapse else 180.0)
        t0 = time.monotonic()
        last = -1
        every = max(50, blocks // 20)
        limit = blocks * block_time * 2 / (timelapse or 1) + 300
        while True:
            s = _safe(info.rollup_rpc_url)
            n = int(s["number"]) if s else 0
            if n >= blocks:
                break
            if n // every != last // every:
                print(f"  sequencer safe head {n} ({time.monotonic() - t0:.0f}s)", flush=True)
            last = n
            if time.monotonic() - t0 > limit:
                raise StackError(f"the Go sequencer's safe head is only at {n} after {limit:.0f}s")
            time.sleep(2)
        out["build_seconds"] = time.monotonic() - t0
        if timelapse:  # L1 back to its own pace while the verifiers sync
            set_time_lapse(RpcClient(info.l1_url), seconds_per_block=None, mine_every=info.l1_block_time or 2)
        target = _safe(info.rollup_rpc_url)
        assert target is not None
        tn, th = int(target["number"]), str(target["hash"])
        print(f"  target: safe head {tn} {th}", flush=True)
        out["target"] = tn
        for kind in ("go", "pyop"):
            t_start = time.monotonic()
            v = start_verifier(info, name=f"bench-{kind}", kind=kind)
            t_rpc = time.monotonic()
            t_first: float | None = None
            try:
                while True:
                    s = _safe(v.rollup_rpc_url)
                    n = int(s["number"]) if s else 0
                    if n > 0 and t_first is None:
                        t_first = time.monotonic()
                    if n >= tn:
                        break
                    if not v.op_node.alive():
                        raise StackError(f"{kind} verifier exited:\n{v.op_node.log_tail(20)}")
                    if time.monotonic() - t_start > timeout:
                        raise StackError(f"{kind} verifier at safe {n} of {tn} after {timeout:.0f}s")
                    time.sleep(0.25)
                t_end = time.monotonic()
                got = v.op_geth.rpc().call("eth_getBlockByNumber", hex(tn), False)["hash"]
                rss = _peak_rss_mb(v.op_node.pid)  # the node's peak over the whole sync
            finally:
                v.stop(registry)
            total = t_end - t_start
            sync = t_end - (t_first or t_rpc)
            out[kind] = {"seconds": total, "sync_seconds": sync, "startup_seconds": t_rpc - t_start,
                         "blocks_per_s": tn / total, "same_hash": got == th, "peak_rss_mb": rss}  # fmt: skip
            print(f"  {kind:>4} verifier: safe head {tn} in {total:6.1f}s ({tn / total:6.1f} L2 blocks/s; "
                  f"{sync:.1f}s after its first safe block, start-up {t_rpc - t_start:.1f}s); "
                  f"same hash: {got == th}; node peak RSS "
                  f"{'n/a' if rss is None else f'{rss:.0f} MB'}", flush=True)  # fmt: skip
        ratio = out["pyop"]["seconds"] / out["go"]["seconds"]
        out["ratio"] = ratio
        print(f"  pyop / Go op-node sync time: {ratio:.2f}x  (Go {out['go']['blocks_per_s']:.1f} vs pyop "
              f"{out['pyop']['blocks_per_s']:.1f} L2 blocks/s)")  # fmt: skip
        return out
    finally:
        registry.stop_all(sigint_timeout=20.0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.node_bench", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="30 sequenced blocks, a 100-block chain to sync")
    ap.add_argument("--seq-blocks", type=int, default=None,
                    help="blocks measured in part 1 (default 600: 10 minutes at 1 s)")
    ap.add_argument("--seq-block-time", type=int, default=1, help="L2 block time of the part-1 devnet (s)")
    ap.add_argument("--blocks", type=int, default=None, help="L2 chain length for part 2 (default 300)")
    ap.add_argument("--block-time", type=int, default=1, help="L2 block time of the part-2 devnet (s)")
    ap.add_argument("--only", choices=("sequencer", "verifier"), default=None)
    ap.add_argument("--timeout", type=float, default=600.0, help="max seconds per verifier sync")
    ap.add_argument("--timelapse", type=int, default=None, metavar="N",
                    help="part 2: build the chain with L1 running N times the wall clock, the devnet "
                         "in the past (12 makes 10,000 1-s blocks in ~14 min); see bench_verifier")
    args = ap.parse_args(argv)
    # SIGTERM (timeout, kill) unwinds like Ctrl-C, so every devnet process is stopped by PID.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    seq_blocks = args.seq_blocks or (30 if args.quick else 600)
    blocks = args.blocks or (100 if args.quick else 300)
    try:
        require_peers(["geth", "op-node", "op-batcher"])
    except StackError as e:
        print(f"node_bench: {e}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="pyop-node-bench-") as tmp:
        if args.only in (None, "sequencer"):
            report_sequencer(bench_sequencer(Path(tmp), seq_blocks, warmup=5, block_time=args.seq_block_time))
        if args.only in (None, "verifier"):
            bench_verifier(Path(tmp), blocks, args.block_time, args.timeout, args.timelapse)
    return 0


if __name__ == "__main__":
    sys.exit(main())
