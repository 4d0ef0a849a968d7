"""A consistent little world for the batch-validity targets: an L1 chain, an L2 safe head with
some history (block refs and payloads whose first tx is a real L1-info deposit), and batches
(singular or span) aimed at the edges of the rules: next timestamp +-, parent hash, epoch
+0/+1/+2/-1 and hash, sequencing window, L1 origin time, max sequencer drift (before and from
Fjord), span overlap with the safe chain (matching and not), every fork boundary (configs from
:mod:`~pyop.tools.difftest.gen`). Built with pyop's L1-info encoder and span decoder only to
produce consistent inputs; both sides then judge the same inputs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pyop.codec.batch import decode_batch
from pyop.codec.span_batch import RawSpanBatch
from pyop.primitives import PyopError
from pyop.protocol.l1_info import L1OriginInfo, l1_info_deposit_tx
from pyop.tools.difftest.batches import SpanSpec, rand_span, rand_user_txs
from pyop.tools.difftest.canon import h, hexb
from pyop.tools.difftest.gen import ConfigCase, Rng, near_time
from pyop.tools.difftest.mutate import mutate
from pyop.tools.difftest.targets._common import sys_cfg

VALID_KINDS = ("legacy", "access_list", "dynamic_fee", "set_code")


@dataclass
class Scenario:
    case: ConfigCase
    l1: list[dict[str, Any]]
    safe: dict[str, Any]
    #: L2 blocks by number (strings, as JSON keys): refs and payloads.
    refs: dict[str, dict[str, Any]] = field(default_factory=dict)
    payloads: dict[str, dict[str, Any]] = field(default_factory=dict)

    def l2_json(self) -> dict[str, Any]:
        return {"refs": self.refs, "payloads": self.payloads}


def _l1_chain(rng: Rng, first: int, n: int, t0: int) -> list[dict[str, Any]]:
    out = []
    parent = rng.hash32()
    t = t0
    for i in range(n):
        hsh = rng.hash32()
        out.append({"hash": h(hsh), "number": first + i, "parentHash": h(parent), "timestamp": t})
        parent = hsh
        t += rng.pick([12, 12, 12, 2, 1, 30])
    return out


def _l1_info_tx(case: ConfigCase, rng: Rng, origin_num: int, origin_hash: bytes, seq: int, ts: int) -> bytes:
    sc = sys_cfg(case.json["genesis"]["system_config"])
    info = L1OriginInfo(origin_hash, origin_num, max(0, ts - 12), rng.pick([1, 7, 10**9]), rng.pick([None, 1, 5]))
    try:
        return l1_info_deposit_tx(case.cfg, sc, info, seq, ts).encode()
    except PyopError:
        return b"\x7e" + rng.raw(40)


def scenario(rng: Rng, case: ConfigCase) -> Scenario:
    """L1 blocks ``l1`` (``l1[0]`` the safe head's origin), the safe head and ~4 blocks of L2
    history before it."""
    cfg = case.cfg
    bt = cfg.block_time
    S = max(bt * 8, near_time(rng, case))
    drift = cfg.max_sequencer_drift_at(max(0, S - 12))
    r = rng.random()
    if r < 0.2:  # safe head near the drift limit of its origin
        origin_t = max(0, S - drift + rng.randint(-2 * bt, 2 * bt))
    else:
        origin_t = max(0, S - rng.pick([0, 0, 1, bt, 12, 24]))
    first = rng.pick([1, 2, 50, rng.randrange(3, 1 << 32)])
    l1 = _l1_chain(rng, first, rng.pick([1, 2, 2, 3, 3, 4, 6]), origin_t)
    n = rng.randrange(10, 1 << 20)
    # History: blocks n-4 .. n; origins walk back by at most one per block.
    hist: list[dict[str, Any]] = []
    origin_num, origin_hash = first, hexb(l1[0]["hash"])
    seq = rng.randrange(0, 4)
    hashes = [rng.hash32() for _ in range(6)]
    for i in range(4, -1, -1):  # i = distance below the safe head
        num = n - i
        ts = S - i * bt
        hist.append({"number": num, "ts": ts})
    # assign origins backwards from the safe head
    origins: list[tuple[int, bytes, int]] = []
    cur_num, cur_hash, cur_seq = origin_num, origin_hash, seq
    for _ in range(5):
        origins.append((cur_num, cur_hash, cur_seq))
        if cur_seq == 0 and cur_num > 0:
            cur_num, cur_hash, cur_seq = cur_num - 1, rng.hash32(), rng.randrange(0, 3)
        else:
            cur_seq = max(0, cur_seq - 1)
    origins.reverse()
    sc = Scenario(case, l1, {})
    for k, blk in enumerate(hist):
        onum, ohash, oseq = origins[k]
        ref = {"hash": h(hashes[k + 1]), "number": blk["number"], "parentHash": h(hashes[k]),
               "timestamp": blk["ts"], "l1origin": {"hash": h(ohash), "number": onum},
               "sequenceNumber": oseq}  # fmt: skip
        sc.refs[str(blk["number"])] = ref
        # A real L2 block has no empty transactions (op-node's overlap check indexes tx[0]).
        txs = [_l1_info_tx(case, rng, onum, ohash, oseq, blk["ts"])] + [t for t in rand_user_txs(rng, 2) if t]
        sc.payloads[str(blk["number"])] = {"blockHash": ref["hash"], "parentHash": ref["parentHash"],
                                           "blockNumber": blk["number"], "timestamp": blk["ts"],
                                           "txs": [h(t) for t in txs]}  # fmt: skip
    sc.safe = sc.refs[str(n)]
    if rng.chance(0.05):  # an L2 fetch that fails
        del sc.refs[str(n - rng.randrange(1, 4))]
    return sc


def singular(rng: Rng, sc: Scenario) -> dict[str, Any]:
    """A singular batch for the block after the safe head, at the edges of every rule."""
    bt = sc.case.cfg.block_time
    safe = sc.safe
    ts = safe["timestamp"] + bt + (0 if rng.chance(0.7) else rng.pick([-bt, bt, -1, 1, -2 * bt]))
    k = rng.pick([0, 0, 0, 1, 1, 2, -1])
    if 0 <= k < len(sc.l1):
        epoch_num, epoch_hash = sc.l1[k]["number"], sc.l1[k]["hash"]
    else:
        epoch_num = sc.l1[0]["number"] + (k if k >= 0 else -1)
        epoch_hash = h(rng.hash32())
    if rng.chance(0.05):
        epoch_hash = h(rng.hash32())
    parent = safe["hash"] if rng.chance(0.92) else h(rng.hash32())
    txs = rand_user_txs(rng) if rng.chance(0.7) else []
    return {"parentHash": parent, "epochNum": max(0, epoch_num), "epochHash": epoch_hash,
            "timestamp": max(0, ts), "txs": [h(t) for t in txs]}  # fmt: skip


def span(rng: Rng, sc: Scenario) -> str:
    """Span batch bytes starting at or before the next block (overlapping the safe chain by
    0-3 blocks), with epochs following the history and the L1 chain; the overlapped part
    matches the safe blocks' txs and origins, or not."""
    cfg = sc.case.cfg
    bt = cfg.block_time
    safe = sc.safe
    n = safe["number"]
    j = rng.pick([0, 0, 0, 1, 2, 3])  # blocks overlapped
    new = rng.pick([1, 1, 2, 3, 5])
    elems: list[tuple[int, int]] = []  # (ts, epoch)
    for i in range(j, 0, -1):
        ref = sc.refs.get(str(n - i + 1)) or sc.refs.get(str(n)) or safe
        elems.append((safe["timestamp"] - (i - 1) * bt, ref["l1origin"]["number"]))
    epoch = safe["l1origin"]["number"]
    maxe = sc.l1[-1]["number"]
    for _ in range(new):
        if epoch < maxe and rng.chance(0.3):
            epoch += 1
        elems.append((elems[-1][0] + bt if elems else safe["timestamp"] + bt, epoch))
    if rng.chance(0.05):  # an epoch jump of 2 (cannot be encoded exactly: bits say +1)
        elems[-1] = (elems[-1][0], elems[-1][1] + 1)
    bits = 0
    for i in range(1, len(elems)):
        if elems[i][1] > elems[i - 1][1]:
            bits |= 1 << i
    if rng.chance(0.3):
        bits |= 1
    first_ts = elems[0][0] + (0 if rng.chance(0.93) else rng.pick([-1, 1, bt]))
    rel = max(0, first_ts - cfg.genesis.l2_time)
    parent_ref = sc.refs.get(str(n - j)) if j else safe
    parent_hash = hexb(parent_ref["parentHash"] if j and parent_ref else safe["hash"]) if parent_ref else rng.raw(32)
    if j and parent_ref:  # the parent of the first overlapped block (n - j + 1) is block n - j
        parent_hash = hexb(parent_ref["hash"])
    end_l1 = next((b for b in sc.l1 if b["number"] == elems[-1][1]), None)
    origin_check = hexb(end_l1["hash"])[:20] if end_l1 and rng.chance(0.92) else rng.raw(20)
    kinds = VALID_KINDS if rng.chance(0.9) else ("legacy", "dynamic_fee", "bad_type", "big_int")
    spec: SpanSpec = rand_span(
        rng, block_count=len(elems), l1_origin_num=elems[-1][1], rel_timestamp=rel, origin_bits=bits,
        parent_check=parent_hash[:20] if rng.chance(0.93) else rng.raw(20),
        l1_origin_check=origin_check, tx_kinds=kinds, max_txs_per_block=2,
    )  # fmt: skip
    data = spec.encode()
    # Make the overlapped safe blocks carry the span's txs (mostly), so the overlap can match.
    try:
        raw = decode_batch(data)
        derived = raw.derive(bt, cfg.genesis.l2_time, cfg.l2_chain_id) if isinstance(raw, RawSpanBatch) else None
    except PyopError:
        derived = None
    if derived is not None:
        for i in range(j):
            num = str(n - j + 1 + i)
            p = sc.payloads.get(num)
            if p is not None and rng.chance(0.8):
                p["txs"] = p["txs"][:1] + [h(t) for t in derived.batches[i].transactions]
    if rng.chance(0.05):
        data = mutate(rng, data)
    return h(data)


def inclusion(rng: Rng, sc: Scenario, epoch_num: int) -> dict[str, Any]:
    """The L1 block the batch was read from: the last L1 block, or one at the sequencing
    window's edge; its time near Holocene's activation when the config has it."""
    cfg = sc.case.cfg
    last = sc.l1[-1]
    if rng.chance(0.7):
        return last
    num = epoch_num + cfg.seq_window_size + rng.pick([-1, 0, 1])
    t = last["timestamp"] + 12 * max(0, num - last["number"])
    if cfg.holocene_time is not None and rng.chance(0.5):
        t = max(0, cfg.holocene_time + rng.pick([-1, 0, 1]))
    return {"hash": h(rng.hash32()), "number": max(0, num), "parentHash": h(rng.hash32()), "timestamp": t}
