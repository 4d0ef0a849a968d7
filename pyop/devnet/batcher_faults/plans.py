"""Named fault steps for :class:`~pyop.devnet.batcher_faults.batcher.FaultyBatcher`, with the
drop reasons each is meant to cause.

A :class:`FaultStep` posts something wrong (or merely unusual) for the L2 blocks at the faulty
batcher's cursor and leaves the cursor where the chain will continue from: after the step the
caller posts valid batches again (:meth:`FaultyBatcher.post_valid`), so every block still gets
its real content and the safe chain equals the sequencer's unsafe chain. ``expect_pre`` /
``expect_post`` are the :class:`pyop.derivation.drops.DropReason` names a correct node records
when the step's transactions are included before / after Holocene (the batch rules switch on
the L1 inclusion block's time, holocene/derivation.md); they are what a fixture test asserts
to show the fixture really exercises the rule. They are written from the specs (section named
in each step), not from running pyop.

Steps marked ``finding`` trigger a pyop/op-node v1.19.6 divergence the derivation audit found
(its D-numbers; all fixed since): op-node dropped what pyop accepted or the reverse, so the
*content* of the next L2 block differed and a captured fixture failed ``pyop derive --check``
until the finding was fixed.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from eth_account import Account

from pyop.codec.batch import SingularBatch
from pyop.codec.span_batch import SpanBatch, SpanBatchElement
from pyop.devnet.batcher_faults.batcher import (
    FaultyBatcher,
    FaultyBatcherError,
    Posted,
    batcher_calldata,
    channel_data,
    cut_frames,
    l1_info_of,
)

DUMMY_L2_KEY = "0x" + "7e" * 32
"""A TEST key signing L2 transactions that only ever appear in dropped batches."""
DUMMY_TO = "0xdEDEDEDEdEdEdEDedEDeDedEdEdeDedEdEDedEdE"


def dummy_l2_tx(chain_id: int, i: int = 0, *, dynamic_fee: bool = False) -> bytes:
    """A validly signed L2 transfer (legacy EIP-155, or EIP-1559) with an absurd nonce:
    decodable in a span batch, never executable, never in a real block."""
    tx: dict[str, object] = {"chainId": chain_id, "nonce": 1_000_000 + i, "to": DUMMY_TO,
                             "value": 1, "gas": 21_000}  # fmt: skip
    if dynamic_fee:
        tx.update(type=2, maxFeePerGas=10**9, maxPriorityFeePerGas=10**6)
    else:
        tx["gasPrice"] = 10**9
    return bytes(Account.sign_transaction(tx, DUMMY_L2_KEY).raw_transaction)


@dataclass(frozen=True)
class FaultStep:
    """One fault: ``run(fb, holocene)`` posts it and sets ``fb.cursor`` to where valid posting
    continues; returns what it posted."""

    name: str
    what: str
    spec: str
    expect_pre: frozenset[str]
    expect_post: frozenset[str]
    run: Callable[[FaultyBatcher, bool], list[Posted]]
    needs_blocks: int = 3
    """How many L2 blocks from the cursor must exist (unsafe) before the step runs."""
    finding: str = ""
    """The audit finding (e.g. ``"D4"``) this step exposes, if any."""
    holocene_only: bool = False
    pre_holocene_only: bool = False
    decisions: frozenset[str] = frozenset()
    """:class:`pyop.derivation.drops.DecisionKind` names a correct node records (both eras)."""

    def expect(self, holocene: bool) -> frozenset[str]:
        return self.expect_post if holocene else self.expect_pre


def _fs(*names: str) -> frozenset[str]:
    return frozenset(names)


# --------------------------------------------------------------------------- frames / channels


def _garbage(fb: FaultyBatcher, holocene: bool) -> list[Posted]:
    c = fb.cursor
    bad_version = b"\x01" + os.urandom(64)
    truncated = batcher_calldata(cut_frames(channel_data([fb.batch(c)])))[:-5]
    return fb.send_together([bad_version, truncated, b"\x00"], label="garbage calldata")


def _wrong_sender(fb: FaultyBatcher, holocene: bool) -> list[Posted]:
    c = fb.cursor
    data = batcher_calldata(cut_frames(channel_data([fb.batch(c)])))
    other = "0x" + "5a" * 32  # not the SystemConfig batcher
    fund(fb, Account.from_key(other).address)
    return [fb.send(data, label="valid batch from the wrong sender", key=other, l2_blocks=(c, c))]


def fund(fb: FaultyBatcher, address: str) -> None:
    """Give ``address`` 1 ETH on L1 from anvil's unlocked dev account 9 (for TEST senders)."""
    bal = int(fb.l1.call("eth_getBalance", address, "latest"), 16)
    if bal >= 10**17:
        return
    src = fb.l1.call("eth_accounts")[-1]
    h = fb.l1.call("eth_sendTransaction", {"from": src, "to": address, "value": hex(10**18)})
    fb._receipt(str(h))


def _frames_out_of_order(fb: FaultyBatcher, holocene: bool) -> list[Posted]:
    c = fb.cursor
    fs = cut_frames(channel_data(fb.batches(c, c + 2)), count=3)
    out = fb.send_together([batcher_calldata([f]) for f in (fs[2], fs[0], fs[1])],
                           label="frames 2, 0, 1 of one channel", l2_blocks=(c, c + 2))  # fmt: skip
    if not holocene:
        fb.cursor = c + 3  # the channel bank reassembles the channel (derivation.md "Channel Bank")
    return out


def _duplicate_frame(fb: FaultyBatcher, holocene: bool) -> list[Posted]:
    c = fb.cursor
    fs = cut_frames(channel_data(fb.batches(c, c + 1)), count=2)
    out = fb.send_together([batcher_calldata([f]) for f in (fs[0], fs[0], fs[1])],
                           label="frame 0 twice, then frame 1", l2_blocks=(c, c + 1))  # fmt: skip
    fb.cursor = c + 2
    return out


def _frames_disordered_in_one_tx(fb: FaultyBatcher, holocene: bool) -> list[Posted]:
    c = fb.cursor
    fs = cut_frames(channel_data(fb.batches(c, c + 2)), count=3)
    out = [fb.send(batcher_calldata([fs[0], fs[2], fs[1]]), label="frames 0, 2, 1 in one transaction",
                   l2_blocks=(c, c + 2))]  # fmt: skip
    if not holocene:
        fb.cursor = c + 3
    return out


def _duplicate_frame_in_one_tx(fb: FaultyBatcher, holocene: bool) -> list[Posted]:
    c = fb.cursor
    fs = cut_frames(channel_data(fb.batches(c, c + 1)), count=2)
    out = [fb.send(batcher_calldata([fs[0], fs[0], fs[1]]), label="frames 0, 0, 1 in one transaction",
                   l2_blocks=(c, c + 1))]  # fmt: skip
    fb.cursor = c + 2
    return out


def _duplicate_channel(fb: FaultyBatcher, holocene: bool) -> list[Posted]:
    c = fb.cursor
    data = batcher_calldata(cut_frames(channel_data(fb.batches(c, c + 1))))
    out = [fb.send(data, label="valid channel", l2_blocks=(c, c + 1))]
    fb.cursor = c + 2
    fb.wait_safe(c + 1)
    out.append(fb.send(data, label="the same channel again (same id, same frames)",
                       l2_blocks=(c, c + 1)))  # fmt: skip
    return out


def _non_first_frame_alone(fb: FaultyBatcher, holocene: bool) -> list[Posted]:
    c = fb.cursor
    fs = cut_frames(channel_data(fb.batches(c, c + 1)), count=2)
    return [fb.send(batcher_calldata([fs[1]]), label="last frame of a channel without its first",
                    l2_blocks=(c, c + 1))]  # fmt: skip


def _channel_replaced(fb: FaultyBatcher, holocene: bool) -> list[Posted]:
    c = fb.cursor
    x = cut_frames(channel_data(fb.batches(c, c + 1)), count=2)
    y = cut_frames(channel_data(fb.batches(c, c + 1)), count=1)
    out = fb.send_together([batcher_calldata([x[0]]), batcher_calldata(y)],
                           label="first frame of channel X, then all of channel Y",
                           l2_blocks=(c, c + 1))  # fmt: skip
    fb.cursor = c + 2
    return out


def _channel_timeout(fb: FaultyBatcher, holocene: bool) -> list[Posted]:
    c = fb.cursor
    fs = cut_frames(channel_data(fb.batches(c, c + 1)), count=2)
    return [fb.send(batcher_calldata([fs[0]]), label="first frame of a channel never finished",
                    l2_blocks=(c, c + 1))]  # fmt: skip


def _bad_compression(fb: FaultyBatcher, holocene: bool) -> list[Posted]:
    zlib_garbage = b"\x78\xda" + os.urandom(200)
    brotli_garbage = b"\x01" + os.urandom(200)
    return fb.send_together(
        [batcher_calldata(cut_frames(zlib_garbage)), batcher_calldata(cut_frames(brotli_garbage))],
        label="channels that do not decompress (zlib, brotli)",
    )


def _undecodable_batch(fb: FaultyBatcher, holocene: bool) -> list[Posted]:
    c = fb.cursor
    data = channel_data([b"\x05" + os.urandom(40), fb.batch(c)])
    return [fb.send(batcher_calldata(cut_frames(data)), label="unknown batch type 5, then a valid batch",
                    l2_blocks=(c, c))]  # fmt: skip


# --------------------------------------------------------------------------- singular batches


def _send_batches(fb: FaultyBatcher, batches: Sequence[SingularBatch | SpanBatch | bytes], label: str,
                  first: int, last: int) -> list[Posted]:  # fmt: skip
    return [fb.send(batcher_calldata(cut_frames(channel_data(batches))), label=label,
                    l2_blocks=(first, last))]  # fmt: skip


def _wrong_parent(fb: FaultyBatcher, holocene: bool) -> list[Posted]:
    c = fb.cursor
    b = replace(fb.batch(c), parent_hash=os.urandom(32))
    return _send_batches(fb, [b], "batch on a parent that is not the safe head", c, c)


def _epoch_hash_mismatch(fb: FaultyBatcher, holocene: bool) -> list[Posted]:
    c = fb.cursor
    b = replace(fb.batch(c), epoch_hash=os.urandom(32))
    return _send_batches(fb, [b], "batch whose epoch hash is not the L1 block's", c, c)


def _stale_epoch(fb: FaultyBatcher, holocene: bool) -> list[Posted]:
    c = fb.cursor
    b = fb.batch(c)
    head = fb.l1_head()[0]
    old = max(0, head - fb.cfg.seq_window_size - 3)
    b = replace(b, epoch_num=old)
    return _send_batches(fb, [b], f"batch claiming epoch {old}, older than the sequencing window", c, c)


def _epoch_too_far(fb: FaultyBatcher, holocene: bool) -> list[Posted]:
    c = fb.cursor
    b = fb.batch(c)
    b = replace(b, epoch_num=b.epoch_num + 2, epoch_hash=os.urandom(32))
    return _send_batches(fb, [b], "batch two epochs ahead", c, c)


def _bad_txs(fb: FaultyBatcher, holocene: bool) -> list[Posted]:
    c = fb.cursor
    b = fb.batch(c)
    deposit = b"\x7e" + bytes.fromhex("c0")
    out = _send_batches(fb, [replace(b, transactions=(deposit, *b.transactions))],
                        "batch carrying a deposit transaction", c, c)  # fmt: skip
    out += _send_batches(fb, [replace(b, transactions=(*b.transactions, b""))],
                         "batch carrying an empty transaction", c, c)  # fmt: skip
    return out


def _future_batches(fb: FaultyBatcher, holocene: bool) -> list[Posted]:
    c = fb.cursor
    later = fb.batches(c + 2, c + 3)
    out = _send_batches(fb, list(later), "batches for blocks c+2, c+3 before c, c+1", c + 2, c + 3)
    out += _send_batches(fb, fb.batches(c, c + 1), "then batches for c, c+1", c, c + 1)
    # Pre-Holocene the batch queue keeps future batches (derivation.md "Batch Queue": future ->
    # keep); with Holocene they are dropped and their channel flushed.
    fb.cursor = c + 2 if holocene else c + 4
    return out


def _flush_after_invalid(fb: FaultyBatcher, holocene: bool) -> list[Posted]:
    c = fb.cursor
    good, bad, after = fb.batches(c, c + 2)
    bad = replace(bad, parent_hash=os.urandom(32))
    out = _send_batches(fb, [good, bad, after], "valid, wrong parent, valid in one channel", c, c + 2)
    fb.cursor = c + 1
    return out


def _late_batch(fb: FaultyBatcher, holocene: bool) -> list[Posted]:
    """Hold the next batch back until its sequencing window has passed, then post it: it is
    included too late, and the window expiry makes the node derive empty blocks instead (the
    sequencer's unsafe blocks are replaced)."""
    c = fb.cursor
    b = fb.batch(c)
    target = b.epoch_num + fb.cfg.seq_window_size + 1
    fb.log(f"late batch: holding block {c} (epoch {b.epoch_num}) until L1 block {target}")
    fb._wait(lambda: fb.l1_head()[0] >= target, f"L1 block {target}", 30.0 + 4.0 * fb.cfg.seq_window_size)
    out = _send_batches(fb, [b], f"batch for block {c} held back past its sequencing window", c, c)
    out += recover_after_window_expiry(fb)
    return out


def catch_up(fb: FaultyBatcher) -> list[Posted]:
    """Start posting: from the rollup node's safe head + 1 to the unsafe head, recovering first
    if the sequencing window of that block has already expired (e.g. the sequencer ran for a
    while without a batcher)."""
    fb.sync_cursor()
    fb.wait_unsafe(fb.cursor)
    epoch = l1_info_of(fb.payload(fb.cursor)).number
    if epoch + fb.cfg.seq_window_size < fb.l1_head()[0] + 2:
        return recover_after_window_expiry(fb)
    out = fb.post_valid(label="valid (start)")
    fb.wait_safe(fb.cursor - 1)
    return out


def advance_to_block_with_txs(fb: FaultyBatcher, limit: int = 20) -> None:
    """Post valid batches one block at a time until the cursor's block carries user txs."""
    for _ in range(limit):
        fb.wait_unsafe(fb.cursor)
        if fb.batch(fb.cursor).transactions:
            return
        fb.post_valid(upto=fb.cursor, label="valid (looking for a block with txs)")
    raise FaultyBatcherError(f"no block with user txs in {limit} blocks: is L2 traffic running?")


def recover_after_window_expiry(fb: FaultyBatcher, *, slow_l1: int = 6, timeout: float = 300.0) -> list[Posted]:
    """Get batches accepted again after a sequencing-window expiry.

    While the window is expired the node forces empty blocks epoch by epoch (derivation.md
    "Batch Queue"), each replacing the sequencer's unsafe block; the first block after the
    forced ones is valid only if its batch lands in the very next L1 block. On a 2 s anvil L1
    that leaves no time to read the rebuilt block and post it, so the L1 block time is raised
    to ``slow_l1`` seconds (anvil ``evm_setIntervalMining``) until a batch is accepted, then
    restored. Returns what was posted; the cursor ends past the accepted blocks."""
    out: list[Posted] = []
    normal = max(1, fb.l1_block_time)
    fb.set_l1_block_time(slow_l1)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            _, safe = fb.heads()
            fb._wait(lambda: fb.heads()[1] > safe, "forced empty blocks", 6.0 * slow_l1 + 30)  # noqa: B023
            time.sleep(1.0)  # the sequencer rebuilds on the forced blocks
            fb.sync_cursor()
            unsafe = fb.heads()[0]
            last = min(unsafe, fb.cursor + 8)
            if last < fb.cursor:
                continue
            first = fb.cursor
            out += _send_batches(fb, fb.batches(first, last), "valid after the window expiry", first, last)
            try:
                fb.wait_safe(last, timeout=3.0 * slow_l1 + 10)
            except FaultyBatcherError:
                fb.log("recovery batch was late again; retrying")
                continue
            fb.cursor = last + 1
            return out
        raise FaultyBatcherError("the chain did not recover from the window expiry")
    finally:
        fb.set_l1_block_time(normal)


# --------------------------------------------------------------------------- span batches


def _span_overlap_match(fb: FaultyBatcher, holocene: bool) -> list[Posted]:
    c = fb.cursor
    out = _send_batches(fb, [fb.span(c - 3, c + 1)], "span batch c-3..c+1 overlapping 3 safe blocks",
                        c - 3, c + 1)  # fmt: skip
    fb.cursor = c + 2
    return out


def _span_from_safe_head(fb: FaultyBatcher, holocene: bool) -> list[Posted]:
    c = fb.cursor
    out = _send_batches(fb, [fb.span(c - 1, c + 1)], "span batch starting at the safe head", c - 1, c + 1)
    fb.cursor = c + 2
    return out


def _span_misaligned(fb: FaultyBatcher, holocene: bool) -> list[Posted]:
    c = fb.cursor
    s = fb.span(c, c + 1)
    shifted = tuple(SpanBatchElement(e.epoch_num, e.timestamp - 1, e.transactions) for e in s.batches)
    s = replace(s, batches=shifted)
    return _send_batches(fb, [s], "span batch starting between the safe head and the next block", c, c + 1)


def _span_overlap_mismatch_pre(fb: FaultyBatcher, holocene: bool) -> list[Posted]:
    """Two span batches overlapping the safe chain wrongly: one with an extra tx in an
    overlapped block (tx count differs), one with an overlapped block's tx replaced (same
    count, other bytes; the step first makes sure a recent safe block has a user tx)."""
    advance_to_block_with_txs(fb)
    fb.post_valid(upto=fb.cursor + 1, label="valid (safe blocks to overlap)")
    fb.wait_safe(fb.cursor - 1)
    c = fb.cursor
    dummy = dummy_l2_tx(fb.cfg.l2_chain_id)
    real = fb.batch(c - 2).transactions
    more = fb.span(c - 2, c + 1, txs={c - 2: (*real, dummy)})
    other = fb.span(c - 2, c + 1, txs={c - 2: (dummy, *real[1:])})
    out = _send_batches(fb, [more], "span batch whose overlapped block c-2 has one tx more", c - 2, c + 1)
    out += _send_batches(fb, [other], "span batch whose overlapped block c-2 has another first tx",
                         c - 2, c + 1)  # fmt: skip
    return out


def _span_no_new_blocks(fb: FaultyBatcher, holocene: bool) -> list[Posted]:
    c = fb.cursor
    return _send_batches(fb, [fb.span(c - 3, c - 1)], "span batch entirely before the safe head",
                         c - 3, c - 1)  # fmt: skip


# --------------------------------------------------------------------------- findings


def _d4_overlap_mismatch_holocene(fb: FaultyBatcher, holocene: bool) -> list[Posted]:
    c = fb.cursor
    dummy = dummy_l2_tx(fb.cfg.l2_chain_id, 1)
    real = fb.batch(c).transactions
    s = fb.span(c - 2, c, txs={c - 1: (dummy,), c: (*real, dummy)})
    return _send_batches(fb, [s], "D4: Holocene span batch whose overlapped block c-1 differs "
                         "(its new block c carries an extra tx)", c - 2, c)  # fmt: skip


def _d6_bad_span_tx_type(fb: FaultyBatcher, holocene: bool) -> list[Posted]:
    advance_to_block_with_txs(fb)  # so that a forced empty block would differ from it
    c = fb.cursor
    after = fb.batches(c, c + 1)
    out = _send_batches(fb, [span_with_bad_tx_type(fb, c), *after],
                        "D6: span batch with a tx of type 0x03, then valid singular batches in "
                        "the same channel", c, c + 1)  # fmt: skip
    fb.cursor = c + 2
    return out


def span_with_bad_tx_type(fb: FaultyBatcher, c: int, type_byte: int = 0x03) -> bytes:
    """A span batch for block ``c`` whose one tx entry has the type byte ``type_byte`` (0x03,
    a blob tx, which span batches cannot carry: delta/span-batches.md "tx_datas"). op-node
    decodes it and fails when deriving the batch; pyop failed in decoding before the D6 fix."""
    s = fb.span(c, c, txs={c: (dummy_l2_tx(fb.cfg.l2_chain_id, 3, dynamic_fee=True),)})
    raw = s.to_raw()
    datas = list(raw.txs.tx_datas)
    datas[0] = bytes([type_byte]) + datas[0][1:]
    return replace(raw, txs=replace(raw.txs, tx_datas=tuple(datas))).encode()


def _d7_setcode_batcher_tx(fb: FaultyBatcher, holocene: bool) -> list[Posted]:
    c = fb.cursor
    b = fb.batch(c)
    other = replace(b, transactions=(*b.transactions, dummy_l2_tx(fb.cfg.l2_chain_id, 4)))
    data = batcher_calldata(cut_frames(channel_data([other])))
    return [fb.send(data, label="D7: batch for block c (extra tx) in a SetCode (type 4) L1 tx",
                    tx_type=4, l2_blocks=(c, c))]  # fmt: skip


def _d9_post_exec_tx(fb: FaultyBatcher, holocene: bool) -> list[Posted]:
    c = fb.cursor
    b = fb.batch(c)
    post_exec = b"\x7d" + bytes.fromhex("c180")
    bad = replace(b, transactions=(*b.transactions, post_exec))
    return _send_batches(fb, [bad], "D9: batch carrying a PostExec (0x7D) tx", c, c)


# --------------------------------------------------------------------------- the catalogue

_BQ = "derivation.md#batch-queue"

_CB = "derivation.md#channel-bank"
_HOLO_FQ = "holocene/derivation.md#frame-queue"
_HOLO_CB = "holocene/derivation.md#channel-bank"
_SPAN = "delta/span-batches.md#span-batch-validation"

# Expected drops (DropReason names), from the specs:
# - derivation.md "Channel Bank": frames are added to the channel with their id, in any order;
#   a duplicate frame number is rejected; a channel not ready within CHANNEL_TIMEOUT L1 blocks
#   (50 from Granite) is dropped.
# - holocene/derivation.md "Frame Queue": within the queue, a frame that does not follow the
#   previous one of its channel (or comes after the closing frame) is dropped;
#   "Channel Bank" (channel assembler): a non-first frame with no open channel is dropped, a
#   first frame replaces the open (unfinished) channel.
# - derivation.md "Batch Queue" / holocene/derivation.md "Batch Queue": future batches are kept
#   before Holocene, dropped (and the channel flushed) after; past batches dropped / "past".
STEPS: tuple[FaultStep, ...] = (
    FaultStep("garbage", "calldata with version byte 1, a truncated frame, a lone version byte",
              "derivation.md#batcher-transaction-format", _fs("FRAME_INVALID"), _fs("FRAME_INVALID"),
              _garbage),
    FaultStep("wrong_sender", "a valid batch sent by a key that is not the batcher",
              "derivation.md#l1-retrieval", _fs("WRONG_BATCHER"), _fs("WRONG_BATCHER"), _wrong_sender),
    FaultStep("frames_out_of_order", "one channel's frames posted 2, 0, 1 in three transactions",
              f"{_CB} / {_HOLO_CB}", _fs(), _fs("FRAME_WITHOUT_CHANNEL", "CHANNEL_REPLACED"),
              _frames_out_of_order, needs_blocks=3),
    FaultStep("frames_disordered_in_one_tx", "one channel's frames 0, 2, 1 in one transaction",
              f"{_CB} / {_HOLO_FQ}", _fs(), _fs("FRAME_OUT_OF_ORDER", "CHANNEL_REPLACED"),
              _frames_disordered_in_one_tx, needs_blocks=3),
    FaultStep("duplicate_frame", "frame 0 posted twice (two transactions) before frame 1",
              f"{_CB} / {_HOLO_CB}", _fs("FRAME_REJECTED"), _fs("CHANNEL_REPLACED"), _duplicate_frame,
              needs_blocks=2),
    FaultStep("duplicate_frame_in_one_tx", "frames 0, 0, 1 of one channel in one transaction",
              f"{_CB} / {_HOLO_FQ}", _fs("FRAME_REJECTED"), _fs("FRAME_OUT_OF_ORDER"),
              _duplicate_frame_in_one_tx, needs_blocks=2),
    FaultStep("duplicate_channel", "a valid channel posted twice (same id and frames)", _BQ,
              _fs("PAST_TIMESTAMP"), _fs("PAST_BATCH"), _duplicate_channel, needs_blocks=2),
    FaultStep("non_first_frame_alone", "the last frame of a channel whose first frame never comes",
              f"{_CB} / {_HOLO_CB}", _fs("CHANNEL_TIMED_OUT"), _fs("FRAME_WITHOUT_CHANNEL"),
              _non_first_frame_alone, needs_blocks=2),
    FaultStep("channel_replaced", "first frame of channel X, then a complete channel Y",
              f"{_CB} / {_HOLO_CB}", _fs("CHANNEL_TIMED_OUT"), _fs("CHANNEL_REPLACED"),
              _channel_replaced, needs_blocks=2),
    FaultStep("channel_timeout", "the first frame of a channel that never gets its last frame",
              _CB, _fs("CHANNEL_TIMED_OUT"), _fs(), _channel_timeout,
              needs_blocks=2, pre_holocene_only=True),
    FaultStep("bad_compression", "channels whose zlib / brotli data does not decompress",
              "derivation.md#channel-format", _fs("CHANNEL_DECOMPRESS_ERROR"),
              _fs("CHANNEL_DECOMPRESS_ERROR"), _bad_compression),
    FaultStep("undecodable_batch", "unknown batch type 5 first in a channel, a valid batch after it",
              "derivation.md#channel-reader-batch-decoding", _fs("BATCH_DECODE_ERROR"),
              _fs("BATCH_DECODE_ERROR"), _undecodable_batch, needs_blocks=1),
    FaultStep("wrong_parent", "a batch whose parent is not the safe head", _BQ, _fs("WRONG_PARENT"),
              _fs("WRONG_PARENT"), _wrong_parent, needs_blocks=1),
    FaultStep("epoch_hash_mismatch", "a batch whose epoch hash is wrong", _BQ,
              _fs("EPOCH_HASH_MISMATCH"), _fs("EPOCH_HASH_MISMATCH"), _epoch_hash_mismatch,
              needs_blocks=1),
    FaultStep("stale_epoch", "a batch claiming an epoch older than the sequencing window", _BQ,
              _fs("INCLUDED_TOO_LATE"), _fs("INCLUDED_TOO_LATE"), _stale_epoch, needs_blocks=1),
    FaultStep("epoch_too_far", "a batch two epochs ahead of the safe head's", _BQ,
              _fs("EPOCH_TOO_FAR_IN_FUTURE"), _fs("EPOCH_TOO_FAR_IN_FUTURE"), _epoch_too_far,
              needs_blocks=1),
    FaultStep("bad_txs", "batches carrying a deposit tx and an empty tx", _BQ,
              _fs("DEPOSIT_TX_IN_BATCH", "EMPTY_BATCH_TXS"),
              _fs("DEPOSIT_TX_IN_BATCH", "EMPTY_BATCH_TXS"), _bad_txs, needs_blocks=1),
    FaultStep("future_batches", "batches for c+2, c+3 posted before those for c, c+1",
              f"{_BQ} / holocene/derivation.md#batch-queue", _fs(),
              _fs("FUTURE_TIMESTAMP", "CHANNEL_FLUSHED"), _future_batches, needs_blocks=4),
    # Pre-Holocene the third batch is kept as a future batch and used once its parent is
    # safe; the copy of it in the valid batches posted next is then past.
    FaultStep("flush_after_invalid", "valid, invalid (wrong parent), valid batches in one channel",
              "holocene/derivation.md#fast-channel-invalidation", _fs("WRONG_PARENT", "PAST_TIMESTAMP"),
              _fs("WRONG_PARENT", "CHANNEL_FLUSHED"), _flush_after_invalid, needs_blocks=3),
    FaultStep("span_overlap_match", "a span batch overlapping 3 safe blocks with their exact content",
              _SPAN, _fs(), _fs(), _span_overlap_match, needs_blocks=2,
              decisions=_fs("SPAN_BATCH_ACCEPTED")),
    FaultStep("span_from_safe_head", "a span batch whose first block is the safe head",
              _SPAN, _fs(), _fs(), _span_from_safe_head, needs_blocks=2,
              decisions=_fs("SPAN_BATCH_ACCEPTED")),
    FaultStep("span_misaligned", "a span batch starting 1 s after the safe head (block time 2 s)",
              _SPAN, _fs("TIMESTAMP_NOT_ALIGNED"), _fs("TIMESTAMP_NOT_ALIGNED"), _span_misaligned,
              needs_blocks=2),
    FaultStep("span_no_new_blocks", "a span batch that ends before the next block",
              _SPAN, _fs("SPAN_BATCH_NO_NEW_BLOCKS"), _fs("PAST_BATCH"), _span_no_new_blocks,
              needs_blocks=1),
    FaultStep("span_overlap_mismatch", "span batches whose overlapped safe block has other txs",
              _SPAN, _fs("OVERLAP_TX_COUNT_MISMATCH", "OVERLAP_TX_MISMATCH"), _fs(),
              _span_overlap_mismatch_pre, needs_blocks=2, pre_holocene_only=True),
    # The held batch's block was already filled by the window expiry (forced empty batches at
    # L1 block epoch + SEQ_WINDOW_SIZE once its data is exhausted), so the batch is past.
    FaultStep("late_batch", "the next batch held back until its sequencing window expired", _BQ,
              _fs("PAST_TIMESTAMP"), _fs("PAST_BATCH"), _late_batch, needs_blocks=1,
              decisions=_fs("EMPTY_BATCH_GENERATED")),
)
"""Faults pyop and op-node v1.19.6 must agree on (all of them checked by the faults fixture)."""

# No drop names are asserted for the findings: what pyop records once a finding is fixed is the
# fixer's choice; the fixtures check the derived chain against op-node's instead.
FINDING_STEPS: tuple[FaultStep, ...] = (
    FaultStep("d4_overlap_mismatch", "Holocene span batch overlapping the safe chain with other txs",
              "holocene/derivation.md#span-batches (specs PR #928)", _fs(), _fs(),
              _d4_overlap_mismatch_holocene, needs_blocks=1, finding="D4", holocene_only=True),
    FaultStep("d6_bad_span_tx_type", "span batch with a type-0x03 tx, then valid batches in its channel",
              "delta/span-batches.md#span-batch-format", _fs(), _fs(), _d6_bad_span_tx_type,
              needs_blocks=2, finding="D6"),
    FaultStep("d7_setcode_batcher_tx", "batcher data in an L1 SetCode (type 4) transaction",
              "derivation.md#l1-retrieval (op-node isValidBatchTx)", _fs(), _fs(),
              _d7_setcode_batcher_tx, needs_blocks=1, finding="D7"),
    FaultStep("d9_post_exec_tx", "singular batch carrying a PostExec (0x7D) tx",
              "derivation.md#batch-queue (op-node checkSequencerTxData)", _fs(), _fs(),
              _d9_post_exec_tx, needs_blocks=1, finding="D9"),
)
"""Faults on which pyop (today) and op-node v1.19.6 disagree (audit D4, D6, D7, D9)."""


def step(name: str) -> FaultStep:
    for s in (*STEPS, *FINDING_STEPS):
        if s.name == name:
            return s
    raise KeyError(name)


@dataclass
class StepRecord:
    """What a run of one step did: for the README and the fixture test."""

    name: str
    holocene: bool
    posted: list[Posted]
    cursor_before: int
    cursor_after: int
    expect: frozenset[str] = field(default_factory=frozenset)
    finding: str = ""
    decisions: frozenset[str] = field(default_factory=frozenset)

    def to_json(self) -> dict[str, object]:
        return {
            "step": self.name, "holocene": self.holocene, "finding": self.finding,
            "expectDrops": sorted(self.expect), "expectDecisions": sorted(self.decisions),
            "cursorBefore": self.cursor_before,
            "cursorAfter": self.cursor_after, "posted": [p.to_json() for p in self.posted],
        }  # fmt: skip


def run_step(fb: FaultyBatcher, s: FaultStep, holocene: bool) -> StepRecord:
    """Run ``s`` once the L2 blocks it needs exist, then post valid batches from the cursor to
    the unsafe head and wait until the rollup node's safe head reaches them (so the next step
    starts from a known safe head)."""
    before = fb.cursor
    fb.wait_unsafe(fb.cursor + s.needs_blocks)
    posted = s.run(fb, holocene)
    after = fb.cursor
    posted += fb.post_valid(label=f"valid after {s.name}")
    fb.wait_safe(fb.cursor - 1, timeout=60.0 + 4.0 * fb.cfg.seq_window_size)
    return StepRecord(s.name, holocene, posted, before, after, s.expect(holocene), s.finding,
                      s.decisions)  # fmt: skip


__all__ = [
    "FINDING_STEPS",
    "STEPS",
    "FaultStep",
    "StepRecord",
    "advance_to_block_with_txs",
    "catch_up",
    "dummy_l2_tx",
    "fund",
    "recover_after_window_expiry",
    "run_step",
    "step",
]
