"""Generator of the derivation stage vectors in ``spec_vectors/derivation/<fork>/<stage>/``.

Run ``.venv/bin/python -m tests.derivation.gen_stage_vectors`` from the repo root. Inputs are
built by the scenario harness (:mod:`tests.derivation.harness`) from first principles with fixed
seeds; expected outputs are NOT computed by the pipeline:

- ``frame_queue``: the frames the harness's batcher cut (and, for malformed data, the rule the
  spec gives: derivation.md "Frame Format" / holocene/derivation.md "Frame Queue");
- ``channel_reader``: the batches the harness put into the channel;
- ``batch_validity``: a validity and drop reason written down per case from the spec's rule
  list (derivation.md "Batch Queue", delta/span-batches.md, holocene/isthmus/jovian deltas);
- ``attributes``: the attributes (without batch transactions) the harness's own builder
  computes for the true chain.

The format is documented in ``spec_vectors/derivation/README.md``.
"""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from pyop.codec.batch import SingularBatch
from pyop.codec.compression import CompressionAlgo
from pyop.codec.frame import Frame
from pyop.codec.span_batch import SpanBatch
from pyop.codec.tx import SET_CODE_TX_TYPE, make_signed_tx
from pyop.primitives import L1Header, to_hex
from pyop.protocol.l1_types import Receipt
from tests.derivation import harness as H

OUT = Path(__file__).resolve().parents[2] / "spec_vectors" / "derivation"

# ---------------------------------------------------------------------------------------------
# JSON forms (shared with the vector test)
# ---------------------------------------------------------------------------------------------


def frame_json(f: Frame) -> dict[str, object]:
    return {"channel_id": to_hex(f.channel_id), "frame_number": f.frame_number,
            "data": to_hex(f.data), "is_last": f.is_last}  # fmt: skip


def batch_json(b: SingularBatch | SpanBatch) -> dict[str, object]:
    if isinstance(b, SingularBatch):
        return {"type": "singular", "parent_hash": to_hex(b.parent_hash), "epoch_num": b.epoch_num,
                "epoch_hash": to_hex(b.epoch_hash), "timestamp": b.timestamp,
                "transactions": [to_hex(t) for t in b.transactions]}  # fmt: skip
    return {"type": "span", "parent_check": to_hex(b.parent_check),
            "l1_origin_check": to_hex(b.l1_origin_check),
            "blocks": [{"epoch_num": e.epoch_num, "timestamp": e.timestamp,
                        "transactions": [to_hex(t) for t in e.transactions]} for e in b.batches]}  # fmt: skip


def header_json(h: L1Header) -> dict[str, object]:
    return {"hash": to_hex(h.hash), "number": h.number, "parentHash": to_hex(h.parent_hash),
            "timestamp": h.timestamp, "baseFee": h.base_fee, "mixDigest": to_hex(h.mix_digest),
            "excessBlobGas": h.excess_blob_gas, "blobGasUsed": h.blob_gas_used,
            "parentBeaconRoot": None if h.parent_beacon_root is None else to_hex(h.parent_beacon_root)}  # fmt: skip


def receipt_json(r: Receipt) -> dict[str, object]:
    return {"status": hex(r.status), "type": hex(r.tx_type), "transactionHash": to_hex(r.tx_hash),
            "logs": [{"address": to_hex(lg.address), "topics": [to_hex(t) for t in lg.topics],
                      "data": to_hex(lg.data), "blockHash": to_hex(lg.block_hash),
                      "logIndex": hex(lg.log_index), "blockNumber": hex(lg.block_number)}
                     for lg in r.logs]}  # fmt: skip


def sysconfig_json(sc: Any) -> dict[str, object]:
    return {"batcherAddr": to_hex(sc.batcher_addr), "overhead": to_hex(sc.overhead),
            "scalar": to_hex(sc.scalar), "gasLimit": sc.gas_limit,
            "eip1559Params": to_hex(sc.eip1559_params),
            "operatorFeeParams": to_hex(sc.operator_fee_params), "minBaseFee": sc.min_base_fee,
            "daFootprintGasScalar": sc.da_footprint_gas_scalar}  # fmt: skip


class Writer:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.count = 0

    def write(self, fork: str, stage: str, case: str, cfg: Any, description: str,
              inputs: dict[str, object], expected: dict[str, object]) -> None:  # fmt: skip
        d = self.root / fork / stage
        d.mkdir(parents=True, exist_ok=True)
        doc = {"stage": stage, "fork": fork, "case": case, "description": description,
               "config": cfg.to_json(), "inputs": inputs, "expected": expected}  # fmt: skip
        (d / f"{case}.json").write_text(json.dumps(doc, indent=1) + "\n")
        self.count += 1


# ---------------------------------------------------------------------------------------------
# frame_queue
# ---------------------------------------------------------------------------------------------


def gen_frame_queue(w: Writer) -> None:
    for fork, holo in (("granite", False), ("holocene", True)):
        b = H.ChainBuilder(fork=fork, seed=11).build(2)
        ch = b.channel(range(1, 7), n_frames=3)
        b._materialize(ch, 2)
        f0, f1, f2 = ch.frames
        other = b.channel(range(1, 4), n_frames=2)
        b._materialize(other, 2)
        g0, g1 = other.frames
        origin = b.header(2).ref()

        def case(name: str, desc: str, txs: list[bytes], frames: list[Frame], drops: list[str],
                 fork: str = fork, cfg: Any = b.cfg, origin: Any = origin) -> None:  # fmt: skip
            w.write(fork, "frame_queue", name, cfg, desc,
                    {"origin": origin.to_json(), "tx_data": [to_hex(t) for t in txs]},
                    {"frames": [frame_json(f) for f in frames], "drops": drops})  # fmt: skip

        def data(*fs: Frame) -> bytes:
            return b"\x00" + b"".join(f.encode() for f in fs)

        case("in_order_one_tx", "three frames of one channel in one tx", [data(f0, f1, f2)],
             [f0, f1, f2], [])
        case("one_frame_per_tx", "one frame per tx", [data(f0), data(f1), data(f2)],
             [f0, f1, f2], [])
        bad_version = b"\x01" + data(f0)[1:]
        case("bad_version", "derivation version byte 1 on a calldata tx: all frames dropped",
             [bad_version], [], ["FRAME_INVALID"])
        truncated = data(f0, f1)[:-3]
        case("truncated", "a truncated frame invalidates all frames of the tx (derivation.md "
             "'Frame Format')", [truncated], [], ["FRAME_INVALID"])
        bad_last = bytearray(data(f0))
        bad_last[-1] = 2
        case("bad_is_last", "is_last byte 2 is invalid", [bytes(bad_last)], [], ["FRAME_INVALID"])
        case("empty_data", "no data after the version byte: no frames", [b"\x00"], [],
             ["FRAME_INVALID"])
        if not holo:
            case("out_of_order", "pre-Holocene: out-of-order frames pass the frame queue",
                 [data(f1, f0, f2)], [f1, f0, f2], [])
            case("duplicate", "pre-Holocene: duplicates pass the frame queue (dropped later)",
                 [data(f0, f0, f1)], [f0, f0, f1], [])
        else:
            # The spec text ("a first frame ... previous frames for the same channel are
            # dropped") could be read as keeping frame 0; op-node's pruneFrameQueue and kona's
            # FrameQueue::prune check "same channel, not previous + 1" first and drop frame 0,
            # keeping [1, 2] (which the channel assembler then drops: no channel open).
            case("out_of_order", "Holocene: frame 0 after frame 1 of the same channel does not "
                 "follow it and is dropped (op-node/kona order of checks)", [data(f1, f0, f2)],
                 [f1, f2], ["FRAME_OUT_OF_ORDER"])
            case("duplicate", "Holocene: a repeated frame number is dropped",
                 [data(f0, f0, f1)], [f0, f1], ["FRAME_OUT_OF_ORDER"])
            case("new_channel_replaces_unclosed", "Holocene: a first frame of a new channel "
                 "drops the unclosed previous channel's frames", [data(f0, f1, g0, g1)],
                 [g0, g1], ["FRAME_OUT_OF_ORDER", "FRAME_OUT_OF_ORDER"])
            case("after_close", "Holocene: a frame after its channel's closing frame is dropped",
                 [data(g0, g1, g1)], [g0, g1], ["FRAME_OUT_OF_ORDER"])


# ---------------------------------------------------------------------------------------------
# channel_reader
# ---------------------------------------------------------------------------------------------


def gen_channel_reader(w: Writer) -> None:
    for fork in ("ecotone", "fjord", "holocene"):
        b = H.ChainBuilder(fork=fork, seed=22).build(3)
        origin = b.header(3).ref()

        def case(name: str, desc: str, channels: list[bytes], batches: list[Any],
                 drops: list[str], fork: str = fork, b: H.ChainBuilder = b,
                 origin: Any = origin) -> None:  # fmt: skip
            w.write(fork, "channel_reader", name, b.cfg, desc,
                    {"origin": origin.to_json(), "channels": [to_hex(c) for c in channels]},
                    {"batches": [batch_json(x) for x in batches], "drops": drops})  # fmt: skip

        def chan(b: H.ChainBuilder = b, **kw: Any) -> H.Channel:
            ch = b.channel(range(1, 13), **kw)
            b._materialize(ch, 3)
            return ch

        singulars = [b.l2[i].batch() for i in range(1, 13)]
        ch = chan()
        case("singular_zlib", "12 singular batches, zlib", [b"".join(f.data for f in ch.frames)],
             singulars, [])
        sp = chan(span=True)
        span = SpanBatch.from_singular_batches(singulars, H.GENESIS_TIME, H.L2_CHAIN_ID,
                                               origin_changed_bit=True)
        case("span_zlib", "one span batch of 12 blocks, zlib",
             [b"".join(f.data for f in sp.frames)], [span], [])
        br = chan(compression=CompressionAlgo.BROTLI)
        brotli_data = b"".join(f.data for f in br.frames)
        if fork == "ecotone":
            case("singular_brotli", "brotli before Fjord: channel dropped", [brotli_data], [],
                 ["CHANNEL_DECOMPRESS_ERROR"])
        else:
            case("singular_brotli", "brotli from Fjord: accepted", [brotli_data], singulars, [])
        case("garbage", "not a zlib/brotli stream", [b"\x78\x9c" + b"\xff" * 20], [],
             ["CHANNEL_DECOMPRESS_ERROR"])


# ---------------------------------------------------------------------------------------------
# batch_validity
# ---------------------------------------------------------------------------------------------


def gen_batch_validity(w: Writer) -> None:
    def emit(fork: str, name: str, desc: str, b: H.ChainBuilder, *, safe: int,
             l1: list[int], inclusion: int, batch: SingularBatch | SpanBatch, validity: str,
             reason: str | None) -> None:  # fmt: skip
        refs = [b.header(n).ref().to_json() for n in l1]
        chain = [{"ref": blk.ref.to_json(), "transactions": [to_hex(t) for t in blk.payload.transactions]}
                 for blk in b.l2[: safe + 1]]  # fmt: skip
        w.write(fork, "batch_validity", name, b.cfg, desc,
                {"l1_blocks": refs, "l2_safe_head": b.l2[safe].ref.to_json(),
                 "inclusion": b.header(inclusion).ref().to_json(), "batch": batch_json(batch),
                 "l2_chain": chain},
                {"validity": validity, "drop_reason": reason})  # fmt: skip

    for fork in ("granite", "holocene"):
        holo = fork == "holocene"
        b = H.ChainBuilder(fork=fork, seed=33, txs_per_block=(1, 2)).build(12)
        L = b.l2
        t = L[8].batch()
        e = dict(b=b, l1=[1, 2], inclusion=3)
        emit(fork, "accept", "the batch for the next block", safe=7, batch=t, validity="accept",
             reason=None, **e)  # type: ignore[arg-type]
        emit(fork, "future", "timestamp > next timestamp: future (Holocene: drop)", safe=7,
             batch=L[9].batch(), validity="drop" if holo else "future",
             reason="FUTURE_TIMESTAMP" if holo else None, **e)  # type: ignore[arg-type]
        emit(fork, "past", "timestamp < next timestamp: drop (Holocene: past)", safe=7,
             batch=L[7].batch(), validity="past" if holo else "drop",
             reason="PAST_BATCH" if holo else "PAST_TIMESTAMP", **e)  # type: ignore[arg-type]
        emit(fork, "wrong_parent", "parent hash is not the safe head", safe=7,
             batch=replace(t, parent_hash=b"\x11" * 32), validity="drop", reason="WRONG_PARENT",
             **e)  # type: ignore[arg-type]
        emit(fork, "included_too_late", "epoch 1 + seq window 8 < inclusion 10", b=b, safe=7,
             l1=[1, 2], inclusion=10, batch=t, validity="drop", reason="INCLUDED_TOO_LATE")
        emit(fork, "included_at_window_end", "epoch 1 + seq window 8 == inclusion 9: still in "
             "the window (derivation.md: drop only if epoch + window < inclusion)", b=b, safe=7,
             l1=[1, 2], inclusion=9, batch=t, validity="accept", reason=None)
        emit(fork, "epoch_too_old", "epoch 1 < safe head epoch 2", b=b, safe=12, l1=[2, 3],
             inclusion=4, batch=replace(L[13].batch(), epoch_num=1, epoch_hash=b.header(1).hash),
             validity="drop", reason="EPOCH_TOO_OLD")
        emit(fork, "epoch_too_far", "epoch 3 > epoch 1 + 1", b=b, safe=7, l1=[1, 2, 3],
             inclusion=4, batch=replace(t, epoch_num=3, epoch_hash=b.header(3).hash),
             validity="drop", reason="EPOCH_TOO_FAR_IN_FUTURE")
        emit(fork, "next_epoch_unknown", "batch advances the epoch, next L1 block unknown",
             b=b, safe=11, l1=[1], inclusion=2, batch=L[12].batch(), validity="undecided",
             reason=None)
        emit(fork, "next_epoch_accept", "batch advances the epoch to the known next block",
             b=b, safe=11, l1=[1, 2], inclusion=3, batch=L[12].batch(), validity="accept",
             reason=None)
        emit(fork, "epoch_hash_mismatch", "epoch hash is not L1 block 1's", safe=7,
             batch=replace(t, epoch_hash=b"\x22" * 32), validity="drop",
             reason="EPOCH_HASH_MISMATCH", **e)  # type: ignore[arg-type]
        emit(fork, "before_l1_origin", "timestamp 20 s < L1 origin 2's 24 s", b=b, safe=9,
             l1=[1, 2], inclusion=3,
             batch=replace(L[10].batch(), epoch_num=2, epoch_hash=b.header(2).hash),
             validity="drop", reason="TIMESTAMP_BEFORE_L1_ORIGIN")
        emit(fork, "empty_tx", "an empty transaction", safe=7,
             batch=replace(t, transactions=(b"",)), validity="drop", reason="EMPTY_BATCH_TXS",
             **e)  # type: ignore[arg-type]
        emit(fork, "deposit_tx", "a deposit transaction", safe=7,
             batch=replace(t, transactions=(L[8].attributes.transactions[0],)), validity="drop",
             reason="DEPOSIT_TX_IN_BATCH", **e)  # type: ignore[arg-type]
        _, setcode = make_signed_tx(SET_CODE_TX_TYPE, chain_id=H.L2_CHAIN_ID, nonce=1, gas=50000,
                                    to=b"\x33" * 20, value=0, data=b"", v=0, r=1, s=1,
                                    max_priority_fee_per_gas=1, max_fee_per_gas=2)  # fmt: skip
        emit(fork, "set_code_before_isthmus", "type-4 tx before Isthmus", safe=7,
             batch=replace(t, transactions=(setcode,)), validity="drop",
             reason="SET_CODE_TX_BEFORE_ISTHMUS", **e)  # type: ignore[arg-type]
        # span batches
        singulars = [L[i].batch() for i in range(8, 14)]
        span = SpanBatch.from_singular_batches(singulars, H.GENESIS_TIME, H.L2_CHAIN_ID)
        emit(fork, "span_accept", "span of blocks 8..13 on safe head 7", b=b, safe=7, l1=[1, 2],
             inclusion=3, batch=span, validity="accept", reason=None)
        ov = SpanBatch.from_singular_batches([L[i].batch() for i in range(5, 14)], H.GENESIS_TIME,
                                             H.L2_CHAIN_ID)  # fmt: skip
        emit(fork, "span_overlap_accept", "span 5..13 overlapping safe blocks 5..7 exactly",
             b=b, safe=7, l1=[1, 2], inclusion=3, batch=ov,
             validity="accept", reason=None)
        bad = [L[i].batch() for i in range(5, 14)]
        bad[1] = replace(bad[1], transactions=(H.random_user_tx(random.Random(1), 7),))
        ovb = SpanBatch.from_singular_batches(bad, H.GENESIS_TIME, H.L2_CHAIN_ID)
        # Pre-Holocene: delta/span-batches.md; Holocene: op-node v1.19.6 checkSpanBatchHolocene =
        # prefix + checkSpanBatchOverlap (specs PR #928), the same overlap rule
        emit(fork, "span_overlap_mismatch", "overlapped block 6 has different txs", b=b,
             safe=7, l1=[1, 2], inclusion=3, batch=ovb, validity="drop",
             reason="OVERLAP_TX_COUNT_MISMATCH" if len(L[6].user_txs) != 1
             else "OVERLAP_TX_MISMATCH")  # fmt: skip
        # the last overlapped block is the safe head itself (block 7): it is compared too
        at_head = [L[i].batch() for i in range(5, 14)]
        at_head[2] = replace(at_head[2], transactions=(*at_head[2].transactions,
                                                       H.random_user_tx(random.Random(2), 8)))
        emit(fork, "span_overlap_mismatch_at_safe_head", "overlapped block 7 (= the safe head) "
             "has one tx more than the safe block", b=b, safe=7, l1=[1, 2], inclusion=3,
             batch=SpanBatch.from_singular_batches(at_head, H.GENESIS_TIME, H.L2_CHAIN_ID),
             validity="drop", reason="OVERLAP_TX_COUNT_MISMATCH")
        e7 = L[7].ref.l1_origin.number
        wrong_origin = SpanBatch.from_singular_batches([L[i].batch() for i in range(5, 14)],
                                                       H.GENESIS_TIME, H.L2_CHAIN_ID)  # fmt: skip
        els = list(wrong_origin.batches)
        els[2] = replace(els[2], epoch_num=e7 + 1)
        emit(fork, "span_overlap_origin_mismatch", f"overlapped block 7 claims L1 origin {e7 + 1}, "
             f"the safe block 7 has origin {e7}", b=b, safe=7, l1=[1, 2], inclusion=3,
             batch=replace(wrong_origin, batches=tuple(els)), validity="drop",
             reason="OVERLAP_L1_ORIGIN_MISMATCH")
        at_safe = SpanBatch.from_singular_batches([L[i].batch() for i in range(7, 14)],
                                                  H.GENESIS_TIME, H.L2_CHAIN_ID)  # fmt: skip
        emit(fork, "span_starts_at_safe_head", "span 7..13 starts exactly at the safe head 7 "
             "(first timestamp == safe head time: aligned, parent = block 6)", b=b, safe=7,
             l1=[1, 2], inclusion=3, batch=at_safe, validity="accept", reason=None)
        e8 = L[8].ref.l1_origin.number
        emit(fork, "span_included_at_window_end", f"span start epoch {e8} + seq window 8 == "
             f"inclusion {e8 + 8}: still in the window", b=b, safe=7, l1=[1, 2],
             inclusion=e8 + 8, batch=span, validity="accept", reason=None)
        emit(fork, "span_included_too_late", f"span start epoch {e8} + seq window 8 < "
             f"inclusion {e8 + 9}", b=b, safe=7, l1=[1, 2], inclusion=e8 + 9, batch=span,
             validity="drop", reason="INCLUDED_TOO_LATE")
        old = SpanBatch.from_singular_batches([L[i].batch() for i in range(3, 8)], H.GENESIS_TIME,
                                              H.L2_CHAIN_ID)  # fmt: skip
        emit(fork, "span_no_new_blocks", "span 3..7 ends at the safe head", b=b, safe=7,
             l1=[1, 2], inclusion=3, batch=old, validity="past" if holo else "drop",
             reason="PAST_BATCH" if holo else "SPAN_BATCH_NO_NEW_BLOCKS")
        emit(fork, "span_wrong_parent", "span parent check mismatch", b=b, safe=7, l1=[1, 2],
             inclusion=3, batch=replace(span, parent_check=b"\x44" * 20), validity="drop",
             reason="WRONG_PARENT")
        emit(fork, "span_origin_check", "span L1 origin check mismatch", b=b, safe=7, l1=[1, 2],
             inclusion=3, batch=replace(span, l1_origin_check=b"\x55" * 20), validity="drop",
             reason="EPOCH_HASH_MISMATCH")
        fut = SpanBatch.from_singular_batches([L[i].batch() for i in range(9, 14)], H.GENESIS_TIME,
                                              H.L2_CHAIN_ID)  # fmt: skip
        emit(fork, "span_future", "span starts after the next block", b=b, safe=7, l1=[1, 2],
             inclusion=3, batch=fut, validity="drop" if holo else "future",
             reason="FUTURE_TIMESTAMP" if holo else None)

    # drift (pre-Fjord: max_sequencer_drift is a config value; here 4 s)
    b = H.ChainBuilder(fork="ecotone", seed=44, max_sequencer_drift=4, txs_per_block=(1, 1))
    b.build(3)
    L = b.l2
    emit("ecotone", "drift_with_txs", "timestamp 6 s > origin 0 s + drift 4 s with txs", b=b,
         safe=2, l1=[0, 1], inclusion=1,
         batch=replace(L[3].batch(), transactions=(H.random_user_tx(random.Random(3), 1),)),
         validity="drop", reason="SEQUENCER_DRIFT_EXCEEDED")  # fmt: skip
    emit("ecotone", "drift_empty_next_unknown", "empty batch past the drift, next L1 unknown",
         b=b, safe=4, l1=[0], inclusion=1, batch=L[5].batch(), validity="undecided", reason=None)
    emit("ecotone", "drift_empty_allowed", "empty batch at 10 s past the drift, next origin at "
         "12 s not yet eligible: accepted", b=b, safe=4, l1=[0, 1], inclusion=1,
         batch=L[5].batch(), validity="accept", reason=None)
    emit("ecotone", "drift_empty_not_adopted", "empty batch at 12 s keeps origin 0 though L1 "
         "block 1 (12 s) was eligible", b=b, safe=5, l1=[0, 1], inclusion=2,
         batch=replace(L[6].batch(), epoch_num=0, epoch_hash=b.header(0).hash,
                       transactions=()), validity="drop",
         reason="SEQUENCER_DRIFT_NOT_ADOPTED_NEXT_ORIGIN")  # fmt: skip
    # span batch before Delta
    b = H.ChainBuilder(fork="canyon", seed=55).build(3)
    span = SpanBatch.from_singular_batches([b.l2[i].batch() for i in range(8, 12)],
                                           H.GENESIS_TIME, H.L2_CHAIN_ID)  # fmt: skip
    emit("canyon", "span_before_delta", "span batch before Delta", b=b, safe=7, l1=[1],
         inclusion=2, batch=span, validity="drop", reason="SPAN_BATCH_BEFORE_DELTA")
    # Isthmus: SetCode allowed; Jovian activation block must be empty
    b = H.ChainBuilder(fork="isthmus", seed=66, fork_times={"jovian": 16},
                       txs_per_block=(1, 1)).build(3)  # fmt: skip
    L = b.l2
    _, setcode = make_signed_tx(SET_CODE_TX_TYPE, chain_id=H.L2_CHAIN_ID, nonce=1, gas=50000,
                                to=b"\x33" * 20, value=0, data=b"", v=0, r=1, s=1,
                                max_priority_fee_per_gas=1, max_fee_per_gas=2)  # fmt: skip
    emit("isthmus", "set_code_accept", "SetCode tx from Isthmus", b=b, safe=6, l1=[1, 2],
         inclusion=2, batch=replace(L[7].batch(), transactions=(setcode,)), validity="accept",
         reason=None)
    emit("jovian", "activation_block_with_txs", "Jovian activation block (L2 block 8) with a "
         "user tx", b=b, safe=7, l1=[1, 2], inclusion=2,
         batch=replace(L[8].batch(), transactions=(L[7].user_txs[0],)), validity="drop",
         reason="JOVIAN_ACTIVATION_BLOCK_USER_TXS")  # fmt: skip
    emit("jovian", "activation_block_empty", "Jovian activation block without user txs", b=b,
         safe=7, l1=[1, 2], inclusion=2, batch=L[8].batch(), validity="accept", reason=None)


# ---------------------------------------------------------------------------------------------
# attributes
# ---------------------------------------------------------------------------------------------


def gen_attributes(w: Writer) -> None:
    for fork, kw in (
        ("granite", {"fork": "granite"}),
        ("holocene", {"fork": "holocene"}),
        ("jovian", {"fork": "jovian"}),
        ("ecotone_activation", {"fork": "delta", "fork_times": {"ecotone": 24}}),
        ("fjord_activation", {"fork": "ecotone", "fork_times": {"fjord": 24}}),
        ("isthmus_activation", {"fork": "holocene", "fork_times": {"isthmus": 24}}),
        ("jovian_activation", {"fork": "isthmus", "fork_times": {"jovian": 24}}),
        ("holocene_activation", {"fork": "granite", "fork_times": {"holocene": 24}}),
    ):
        b = H.ChainBuilder(seed=77, **kw)  # type: ignore[arg-type]
        b.deposit(2)
        b.deposit(2, value=7, data=b"\x01\x02")
        b.set_gas_limit(2, 45_000_000)
        if b.cfg.holocene_time is not None:
            b.set_eip1559_params(2, 250, 6)
        b.build(3)
        for num in (11, 12, 13):
            blk = b.l2[num]
            parent = b.l2[num - 1].ref
            origin = b.l1.header_by_hash(blk.ref.l1_origin.hash)
            receipts = b.l1.receipts_by_hash(origin.hash)
            sc_parent = b.l2[num - 1].system_config
            w.write(fork.split("_")[0], "attributes",
                    f"{fork}_block_{num}", b.cfg,
                    f"attributes of L2 block {num} (origin {origin.number}, seq "
                    f"{blk.ref.sequence_number}) {fork}",
                    {"parent": parent.to_json(), "parent_system_config": sysconfig_json(sc_parent),
                     "epoch": {"hash": to_hex(origin.hash), "number": origin.number},
                     "l1_origin": header_json(origin),
                     "receipts": [receipt_json(r) for r in receipts]},
                    {"attributes": b.attributes_for(parent, origin, ())[0].to_json(),
                     "system_config": sysconfig_json(blk.system_config)})  # fmt: skip


GENERATORS: dict[str, Callable[[Writer], None]] = {
    "frame_queue": gen_frame_queue,
    "channel_reader": gen_channel_reader,
    "batch_validity": gen_batch_validity,
    "attributes": gen_attributes,
}


def main() -> int:
    for stage in GENERATORS:
        for d in OUT.glob(f"*/{stage}"):
            shutil.rmtree(d)
    w = Writer(OUT)
    for gen in GENERATORS.values():
        gen(w)
    print(f"wrote {w.count} vectors under {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

