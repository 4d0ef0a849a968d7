"""Fills :class:`pyop.dashboard.state.DashboardState` from a running devnet, over RPC only.

Sources (all read, never written):

- the rollup node: ``optimism_syncStatus`` (the three L2 heads, their L1 origins, the L1 block
  derivation has reached) and ``optimism_safeHeadAtL1Block`` (the safe-head database: which L2
  safe head was derived after each L1 block);
- the L2 EL (op-geth): blocks with transactions; the first transaction of each block is the
  L1-info deposit (specs/protocol/deposits.md "L1 Attributes Deposited Transaction"), whose
  calldata names the block's L1 origin; user deposits carry the ``sourceHash`` of their L1 log;
- the L1 (anvil): blocks with transactions (batcher transactions to the batch inbox, decoded by
  :mod:`pyop.dashboard.chaindata`; blobs through ``anvil_getBlobsByTransactionHash``),
  ``TransactionDeposited`` logs of the OptimismPortal, ``OutputProposed`` logs of the
  L2OutputOracle or ``DisputeGameCreated`` of the DisputeGameFactory;
- the alt-DA server (``GET /get/0x<commitment>``) for alt-DA batcher transactions;
- the devnet's files: ``devnet.json``, ``rollup.json``, ``pids.json``, ``roles.json``,
  ``faults.json`` (which processes run).

Each tick the chains are followed from the stored top to the new head; a block whose hash no
longer matches is a reorg: the rows above the common ancestor are replaced and a ``reorg`` event
says which blocks went, how many user transactions they held and what replaced them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
from eth_utils.address import to_checksum_address

from pyop.config.rollup import RollupConfig
from pyop.dashboard.chaindata import ChannelInfo, ChannelTracker, tx_payloads
from pyop.dashboard.state import DashboardState
from pyop.devnet.artifacts import load_artifact
from pyop.devnet.live_faults import deliberately_down
from pyop.devnet.process import PidRegistry, ProcessError
from pyop.devnet.roles import read_roles
from pyop.devnet.stack import DevnetInfo
from pyop.primitives import PyopError, from_hex, hex_to_int, to_hex
from pyop.protocol.deposits import user_deposit_source_hash
from pyop.protocol.l1_info import decode_l1_info
from pyop.sources.rpc import AsyncRPCClient, RetryPolicy, RPCError

log = logging.getLogger("pyop.dashboard.collector")

DEPOSIT_TX_TYPE = 0x7E
INITIAL_L2 = 600
"""How many L2 blocks to read back when the dashboard attaches to a running devnet."""
INITIAL_L1 = 300
FETCH_CHUNK = 50
MAX_LINKS = 50_000

__all__ = ["Collector", "devnet_config"]


def devnet_config(info: DevnetInfo, cfg: RollupConfig) -> dict[str, Any]:
    """The static facts the page needs (block times, window, drift, addresses, URLs)."""
    return {
        "l1ChainId": info.l1_chain_id,
        "l2ChainId": info.l2_chain_id,
        "l1BlockTime": info.l1_block_time,
        "l2BlockTime": cfg.block_time,
        "l2GenesisTime": cfg.genesis.l2_time,
        "l2GenesisNumber": cfg.genesis.l2.number,
        "seqWindowSize": cfg.seq_window_size,
        "maxSequencerDrift": cfg.max_sequencer_drift_at(cfg.genesis.l2_time),
        "channelTimeout": cfg.channel_timeout_at(cfg.genesis.l2_time),
        "batchInbox": to_checksum_address(cfg.batch_inbox_address),
        "altda": info.altda,
        "faultProofs": info.fault_proofs is not None,
        "directory": str(info.directory),
        "urls": {"l1": info.l1_url, "l2": info.l2_rpc_url, "rollup": info.rollup_rpc_url},
    }


def _short(h: str) -> str:
    return h[:10]


class Collector:
    """Polls the devnet every ``interval`` seconds (server side; pages get pushed updates)."""

    def __init__(self, info: DevnetInfo, state: DashboardState, *, interval: float = 0.5) -> None:
        self.info = info
        self.state = state
        self.interval = interval
        self.cfg = RollupConfig.from_json(__import__("json").loads(info.rollup_path.read_text()))
        retry = RetryPolicy(retries=0)
        self.l1 = AsyncRPCClient(info.l1_url, retry=retry, timeout=10.0, max_batch=50)
        self.l2 = AsyncRPCClient(info.l2_rpc_url, retry=retry, timeout=10.0, max_batch=50)
        self.rollup = AsyncRPCClient(info.rollup_rpc_url, retry=retry, timeout=5.0)
        self.http: aiohttp.ClientSession | None = None
        self.tracker = ChannelTracker(self.cfg)
        self.inbox = to_hex(self.cfg.batch_inbox_address).lower()
        self.batcher = str(info.keys.get("batcher", {}).get("address", "")).lower()
        self.portal = info.addresses.get("OptimismPortalProxy", "").lower()
        self.l2oo = info.addresses.get("L2OutputOracleProxy", "").lower()
        self.dgf = info.addresses.get("DisputeGameFactoryProxy", "").lower()
        self.topic_deposit = to_hex(load_artifact("OptimismPortal").event_topic("TransactionDeposited"))
        self.topic_output = to_hex(load_artifact("L2OutputOracle").event_topic("OutputProposed"))
        self.topic_game = to_hex(load_artifact("DisputeGameFactory").event_topic("DisputeGameCreated"))
        self.sel_l2_block = to_hex(load_artifact("FaultDisputeGame").function("l2BlockNumber").selector)
        # links that may arrive before or after the row they point at (bounded)
        self.deposit_by_source: OrderedDict[str, tuple[int, int]] = OrderedDict()  # -> (l1 n, idx)
        self.batch_of: OrderedDict[int, int] = OrderedDict()  # L2 n -> L1 n
        self.proposal_of: OrderedDict[int, int] = OrderedDict()  # L2 n -> L1 n
        self.pending_altda: list[tuple[int, int, bytes]] = []  # (l1 n, bt index, commitment)
        self.sh_done = 0
        self.sync: dict[str, Any] | None = None
        self.node_ok = False
        self.tick_ms = 0.0
        self.ticks = 0
        self.listeners: list[Callable[[], Awaitable[None]]] = []
        self._last_procs = 0.0

    async def close(self) -> None:
        for c in (self.l1, self.l2, self.rollup):
            await c.close()
        if self.http is not None:
            await self.http.close()

    # ------------------------------------------------------------------ loop

    async def run(self) -> None:
        while True:
            t0 = time.monotonic()
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except (RPCError, PyopError, aiohttp.ClientError, OSError, KeyError, TypeError,
                    ValueError) as e:  # fmt: skip
                log.info("collector tick failed: %s", e)
            self.tick_ms = (time.monotonic() - t0) * 1000
            for f in list(self.listeners):
                try:
                    await f()
                except (RPCError, PyopError, OSError, KeyError, TypeError, ValueError) as e:
                    log.info("scenario watcher failed: %s", e)
            self.state.flush()
            self.ticks += 1
            await asyncio.sleep(max(0.05, self.interval - (time.monotonic() - t0)))

    async def tick(self) -> None:
        """One read of everything. Each source is read on its own, so a fault in one (op-geth
        killed, the rollup node restarting) does not hide what the others show."""
        try:
            self.sync = dict(await self.rollup.call("optimism_syncStatus"))
            self.node_ok = True
        except (RPCError, TypeError, ValueError):
            self.sync = None
            self.node_ok = False
        await self._step("L1", self._follow_l1)
        await self._step("L2", self._follow_l2)
        await self._step("safe-head db", self._safe_heads)
        await self._step("alt-DA", self._retry_altda)
        self.state.set_heads(await self._heads())
        if time.monotonic() - self._last_procs > 2.0:
            self._last_procs = time.monotonic()
            self.state.set_procs(self.processes())

    async def _step(self, what: str, fn: Callable[[], Awaitable[None]]) -> None:
        try:
            await fn()
        except asyncio.CancelledError:
            raise
        except (RPCError, PyopError, aiohttp.ClientError, OSError, KeyError, TypeError,
                ValueError) as e:  # fmt: skip
            log.info("reading %s failed: %s", what, e)

    async def _follow_l1(self) -> None:
        l1_head = await self.l1.call("eth_getBlockByNumber", ["latest", False])
        await self._sync_l1(hex_to_int(l1_head["number"]), str(l1_head["hash"]))

    async def _follow_l2(self) -> None:
        if self.sync is not None:
            u = self.sync["unsafe_l2"]
            await self._sync_l2(int(u["number"]), str(u["hash"]))
        else:
            b = await self.l2.call("eth_getBlockByNumber", ["latest", False])
            await self._sync_l2(hex_to_int(b["number"]), str(b["hash"]))

    # ------------------------------------------------------------------ heads

    async def _heads(self) -> dict[str, Any]:
        st = self.sync
        l1: dict[str, Any] = {}
        top1 = self.state.top("l1")
        if top1 is not None:
            l1["head"] = {"number": top1["n"], "hash": top1["h"], "timestamp": top1["t"]}
        l2: dict[str, Any] = {}
        if st is not None:
            for k, name in (("safe_l1", "safe"), ("finalized_l1", "finalized")):
                if st.get(k):
                    l1[name] = {"number": st[k]["number"], "hash": st[k]["hash"]}
            for k, name in (("unsafe_l2", "unsafe"), ("safe_l2", "safe"),
                            ("finalized_l2", "finalized"), ("pending_safe_l2", "pendingSafe")):  # fmt: skip
                r = st.get(k)
                if r:
                    l2[name] = {"number": r["number"], "hash": r["hash"], "timestamp": r["timestamp"],
                                "origin": r["l1origin"]["number"]}  # fmt: skip
            if st.get("current_l1"):
                l1["derived"] = {"number": st["current_l1"]["number"], "hash": st["current_l1"]["hash"]}
        else:
            top2 = self.state.top("l2")
            if top2 is not None:
                l2["unsafe"] = {"number": top2["n"], "hash": top2["h"], "timestamp": top2["t"],
                                "origin": top2["o"]}  # fmt: skip
        return {"l1": l1, "l2": l2, "window": self._window(l1, l2), "nodeOk": self.node_ok}

    def _window(self, l1: dict[str, Any], l2: dict[str, Any]) -> dict[str, Any]:
        """The sequencing window and the max sequencer drift for the epochs that matter now
        (derivation.md "Sequencing Window", "Batch Queue"; fjord: MAX_SEQUENCER_DRIFT 1800 s).

        ``safeEpoch``: the L1 origin of the first block that is not safe yet. Its batch must be
        included by L1 block ``safeEpoch + seq_window_size - 1``; once L1 block
        ``safeEpoch + seq_window_size`` is derived without it, deposit-only blocks are
        generated. ``unsafeEpoch``: the origin of the unsafe head; a block with this origin and
        user transactions may not have a timestamp past ``origin time + max drift``."""
        cfg = self.cfg
        out: dict[str, Any] = {"seqWindowSize": cfg.seq_window_size}
        safe, unsafe = l2.get("safe"), l2.get("unsafe")
        if safe is not None:
            nxt = self.state.l2.get(int(safe["number"]) + 1)
            epoch = int(nxt["o"]) if nxt is not None else int(safe["origin"])
            out["safeEpoch"] = epoch
            out["closesAt"] = epoch + cfg.seq_window_size
            head = (l1.get("head") or {}).get("number")
            if head is not None:
                out["blocksLeft"] = epoch + cfg.seq_window_size - int(head)
        if unsafe is not None:
            origin = int(unsafe["origin"])
            row = self.state.l1.get(origin)
            out["unsafeEpoch"] = origin
            if row is not None:
                drift = cfg.max_sequencer_drift_at(int(row["t"]))
                out["maxDrift"] = drift
                out["driftDeadline"] = int(row["t"]) + drift
                out["drift"] = int(unsafe["timestamp"]) - int(row["t"])
        return out

    # ------------------------------------------------------------------ chains

    async def _fetch(self, client: AsyncRPCClient, numbers: list[int], full: bool) -> list[Any]:
        out: list[Any] = []
        for i in range(0, len(numbers), FETCH_CHUNK):
            part = numbers[i : i + FETCH_CHUNK]
            out += await client.batch([("eth_getBlockByNumber", [hex(n), full]) for n in part])
        return out

    async def _common_ancestor(self, chain: str, client: AsyncRPCClient, start: int) -> int:
        """The highest stored number ``<= start`` whose stored hash is still canonical."""
        rows = self.state.l2 if chain == "l2" else self.state.l1
        lowest = next(iter(rows)) if rows else 0
        n = start
        while n >= lowest:
            nums = [m for m in range(n, max(lowest, n - 15) - 1, -1) if m in rows]
            if not nums:
                return n
            blocks = await self._fetch(client, nums, False)
            for m, b in zip(nums, blocks, strict=True):
                if b is not None and b["hash"] == rows[m]["h"]:
                    return m
            n = nums[-1] - 1
        return lowest - 1

    async def _sync(self, chain: str, head: int, head_hash: str) -> None:
        rows = self.state.l2 if chain == "l2" else self.state.l1
        client = self.l2 if chain == "l2" else self.l1
        top = self.state.top(chain)
        if top is not None and top["n"] == head and top["h"] == head_hash:
            return
        if top is None:
            first = max(0 if chain == "l1" else self.cfg.genesis.l2.number,
                        head - (INITIAL_L2 if chain == "l2" else INITIAL_L1))  # fmt: skip
        else:
            fork = await self._common_ancestor(chain, client, min(int(top["n"]), head))
            gone = self.state.drop_above(chain, fork)
            first = fork + 1
            if gone:
                await self._on_reorg(chain, fork, gone, head)
        numbers = list(range(first, head + 1))
        # newest first when attaching, so the page fills from the top
        for i in range(0, len(numbers), 200):
            blocks = await self._fetch(client, numbers[i : i + 200], True)
            for b in blocks:
                if b is None:
                    return
                prev = rows.get(hex_to_int(b["number"]) - 1)
                if prev is not None and prev["h"] != b["parentHash"]:
                    return  # the chain moved under us: the next tick finds the fork
                if chain == "l2":
                    self._add_l2(b)
                else:
                    await self._add_l1(b)

    async def _sync_l1(self, head: int, head_hash: str) -> None:
        await self._sync("l1", head, head_hash)

    async def _sync_l2(self, head: int, head_hash: str) -> None:
        await self._sync("l2", head, head_hash)

    async def _on_reorg(self, chain: str, fork: int, gone: list[dict[str, Any]], head: int) -> None:
        data: dict[str, Any] = {
            "chain": chain,
            "first": fork + 1,
            "last": int(gone[-1]["n"]),
            "newHead": head,
            "old": [[r["n"], r["h"]] for r in gone[:64]],
        }
        if chain == "l2":
            data["userTxs"] = sum(int(r["tx"]) for r in gone)
            data["deposits"] = sum(len(r["dep"]) for r in gone)
            data["reason"] = self._l2_reorg_reason(fork)
        else:
            self.tracker.forget_l1_from(fork + 1)
            self.sh_done = min(self.sh_done, fork)
            for src, (n, _i) in list(self.deposit_by_source.items()):
                if n > fork:
                    del self.deposit_by_source[src]
        self.state.add_event("reorg", data)

    def _l2_reorg_reason(self, fork: int) -> str:
        st = self.sync or {}
        safe = int((st.get("safe_l2") or {}).get("number", -1))
        if safe > fork:
            return "derived-replaced-unsafe"
        return "unsafe-reset"

    # ------------------------------------------------------------------ L2 rows

    def _add_l2(self, b: dict[str, Any]) -> None:
        n = hex_to_int(b["number"])
        origin, origin_hash, seq = -1, "", 0
        user = 0
        deps: list[list[Any]] = []
        for i, tx in enumerate(b["transactions"]):
            if hex_to_int(tx["type"]) != DEPOSIT_TX_TYPE:
                user += 1
                continue
            if i == 0:
                try:
                    info = decode_l1_info(from_hex(tx["input"]))
                    origin, origin_hash, seq = info.number, to_hex(info.block_hash), info.sequence_number
                except PyopError:
                    pass
                continue
            src = str(tx.get("sourceHash") or "").lower()
            hit = self.deposit_by_source.get(src)
            if hit is not None:
                l1n, idx = hit
                deps.append([l1n, tx["hash"]])
                l1row = self.state.l1.get(l1n)
                if l1row is not None and idx < len(l1row["dep"]):
                    l1row["dep"][idx]["l2"] = n
                    self.state.touch_l1(l1n)
        row = {"n": n, "h": b["hash"], "p": b["parentHash"], "t": hex_to_int(b["timestamp"]),
               "o": origin, "oh": origin_hash, "sq": seq, "tx": user, "dep": deps,
               "b": self.batch_of.get(n), "pr": self.proposal_of.get(n)}  # fmt: skip
        self.state.upsert_l2(row)

    # ------------------------------------------------------------------ L1 rows

    async def _add_l1(self, b: dict[str, Any]) -> None:
        n = hex_to_int(b["number"])
        row: dict[str, Any] = {"n": n, "h": b["hash"], "p": b["parentHash"],
                               "t": hex_to_int(b["timestamp"]), "bt": [], "dep": [], "pr": [],
                               "sh": None, "txs": len(b["transactions"])}  # fmt: skip
        self.state.upsert_l1(row)
        for tx in b["transactions"]:
            if (tx.get("to") or "").lower() == self.inbox and tx["from"].lower() == self.batcher:
                await self._batcher_tx(row, tx)
        if self.portal or self.l2oo or self.dgf:
            addrs = [a for a in (self.portal, self.l2oo, self.dgf) if a]
            logs = await self.l1.call("eth_getLogs", [{"blockHash": b["hash"], "address": addrs}])
            for lg in logs or []:
                await self._log(row, lg)

    async def _batcher_tx(self, row: dict[str, Any], tx: dict[str, Any]) -> None:
        t = hex_to_int(tx["type"])
        blobs: list[bytes] = []
        if t == 3:
            try:
                raw = await self.l1.call("anvil_getBlobsByTransactionHash", [tx["hash"]])
                blobs = [from_hex(x) for x in raw or []]
            except RPCError:
                blobs = []
        kind, payloads = tx_payloads(t, from_hex(tx["input"]), blobs)
        entry: dict[str, Any] = {"h": tx["hash"], "kind": kind, "frames": [], "ch": [], "l2": None,
                                 "err": ""}  # fmt: skip
        row["bt"].append(entry)
        idx = len(row["bt"]) - 1
        for p in payloads:
            if kind == "alt-da":
                data = await self._altda_input(p)
                if data is None:
                    entry["err"] = "alt-DA input not available (DA server down?)"
                    self.pending_altda.append((int(row["n"]), idx, p))
                    continue
                p = data
            self._frames_into(row, entry, p)

    def _frames_into(self, row: dict[str, Any], entry: dict[str, Any], payload: bytes) -> None:
        frames, done, err = self.tracker.add_payload(payload, entry["h"], int(row["n"]))
        if err:
            entry["err"] = err
        for f in frames:
            cid = "0x" + f.channel_id.hex()
            entry["frames"].append([cid, f.number, f.is_last, f.size])
            if cid not in entry["ch"]:
                entry["ch"].append(cid)
        for ch in done:
            self._channel_done(ch)
        self._refresh_entry(entry)

    def _refresh_entry(self, entry: dict[str, Any]) -> None:
        lo, hi = None, None
        for cid in entry["ch"]:
            ch = self.tracker.channels.get(from_hex(cid))
            if ch is not None and ch.l2_range is not None:
                a, b = ch.l2_range
                lo = a if lo is None else min(lo, a)
                hi = b if hi is None else max(hi, b)
        entry["l2"] = None if lo is None else [lo, hi]

    def _channel_done(self, ch: ChannelInfo) -> None:
        rng = ch.l2_range
        last_l1 = max(f.l1_block for f in ch.frames.values())
        if rng is not None:
            for m in range(rng[0], rng[1] + 1):
                self.batch_of[m] = last_l1
                r = self.state.l2.get(m)
                if r is not None:
                    r["b"] = last_l1
                    self.state.touch_l2(m)
            while len(self.batch_of) > MAX_LINKS:
                self.batch_of.popitem(last=False)
        for l1n in {f.l1_block for f in ch.frames.values()}:
            r = self.state.l1.get(l1n)
            if r is None:
                continue
            for e in r["bt"]:
                if "0x" + ch.id.hex() in e["ch"]:
                    self._refresh_entry(e)
            self.state.touch_l1(l1n)

    async def _altda_input(self, commitment: bytes) -> bytes | None:
        if self.http is None:
            self.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))
        try:
            async with self.http.get(f"{self.info.url('daServer')}/get/{to_hex(commitment)}") as r:
                if r.status != 200:
                    return None
                return await r.read()
        except (aiohttp.ClientError, TimeoutError, OSError):
            return None

    async def _retry_altda(self) -> None:
        if not self.pending_altda:
            return
        left = []
        for l1n, idx, comm in self.pending_altda[-50:]:
            row = self.state.l1.get(l1n)
            if row is None or idx >= len(row["bt"]):
                continue
            data = await self._altda_input(comm)
            if data is None:
                left.append((l1n, idx, comm))
                continue
            entry = row["bt"][idx]
            entry["err"] = ""
            self._frames_into(row, entry, data)
            self.state.touch_l1(l1n)
        self.pending_altda = left

    async def _log(self, row: dict[str, Any], lg: dict[str, Any]) -> None:
        addr = lg["address"].lower()
        topic = lg["topics"][0] if lg["topics"] else ""
        if addr == self.portal and topic == self.topic_deposit:
            from pyop.devnet.bridge import log_from_json
            from pyop.protocol.deposit_log import deposit_tx_from_log

            try:
                dep = deposit_tx_from_log(log_from_json(lg))
            except PyopError:
                return
            src = to_hex(user_deposit_source_hash(from_hex(row["h"]), hex_to_int(lg["logIndex"])))
            row["dep"].append({"h": lg["transactionHash"], "v": str(dep.value), "mint": str(dep.mint),
                               "to": None if dep.to is None else to_checksum_address(dep.to),
                               "from": to_checksum_address(dep.from_), "l2tx": to_hex(dep.tx_hash()),
                               "l2": None})  # fmt: skip
            self.deposit_by_source[src.lower()] = (int(row["n"]), len(row["dep"]) - 1)
            while len(self.deposit_by_source) > MAX_LINKS:
                self.deposit_by_source.popitem(last=False)
        elif addr == self.l2oo and topic == self.topic_output:
            l2n = hex_to_int(lg["topics"][3])
            self._proposal(row, lg, l2n, lg["topics"][1], "L2OutputOracle")
        elif addr == self.dgf and topic == self.topic_game:
            game = "0x" + lg["topics"][1][-40:]
            try:
                res = await self.l1.call("eth_call", [{"to": game, "data": self.sel_l2_block}, "latest"])
                l2n = hex_to_int(res)
            except (RPCError, PyopError):
                return
            self._proposal(row, lg, l2n, lg["topics"][3], f"dispute game {hex_to_int(lg['topics'][2])}")

    def _proposal(self, row: dict[str, Any], lg: dict[str, Any], l2n: int, root: str, kind: str) -> None:
        row["pr"].append({"h": lg["transactionHash"], "l2": l2n, "root": root, "kind": kind})
        self.proposal_of[l2n] = int(row["n"])
        while len(self.proposal_of) > MAX_LINKS:
            self.proposal_of.popitem(last=False)
        r = self.state.l2.get(l2n)
        if r is not None:
            r["pr"] = int(row["n"])
            self.state.touch_l2(l2n)

    async def _safe_heads(self) -> None:
        """``optimism_safeHeadAtL1Block`` for each L1 block derivation has passed."""
        if self.sync is None or not self.sync.get("current_l1"):
            return
        cur = int(self.sync["current_l1"]["number"])
        rows = self.state.l1
        if not rows:
            return
        start = max(self.sh_done + 1, next(iter(rows)), cur - 20)
        for n in range(start, cur + 1):
            if n not in rows:
                continue
            try:
                res = await self.rollup.call("optimism_safeHeadAtL1Block", [hex(n)])
            except RPCError:
                break
            sh = (res or {}).get("safeHead") or {}
            if "number" in sh:
                rows[n]["sh"] = int(sh["number"])
                self.state.touch_l1(n)
            self.sh_done = n

    # ------------------------------------------------------------------ processes

    def processes(self) -> list[dict[str, Any]]:
        """Every registered process of the devnet (``pids.json``), with its role and whether it
        runs or was stopped on purpose (``faults.json``)."""
        d = Path(self.info.directory)
        try:
            entries = PidRegistry(d).entries()
        except ProcessError:
            return []
        down = deliberately_down(d)
        roles = read_roles(d)
        kinds = {} if roles is None else {roles.process_name(r): f"{r} ({roles.kind(r)})"
                                          for r in ("node", "batcher", "proposer")}  # fmt: skip
        return [{"name": p.name, "pid": p.pid, "alive": p.alive(), "role": kinds.get(p.name, ""),
                 "down": down.get(p.name, {}).get("why", "")} for p in entries]  # fmt: skip
