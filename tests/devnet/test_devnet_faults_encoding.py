"""The faulty batcher's encoders (no devnet): what it posts decodes back as intended, with
independent decoders where they exist (Python ``zlib``, ``rlp``), so a fixture made with it
contains the faults its manifest claims."""

from __future__ import annotations

import zlib

import pytest
import rlp
from eth_hash.auto import keccak

from pyop.codec.batch import SingularBatch, decode_batch
from pyop.codec.compression import CompressionAlgo
from pyop.codec.errors import CodecError, SpanBatchError
from pyop.codec.frame import FRAME_OVERHEAD, parse_frames
from pyop.codec.span_batch import SpanBatch, decode_span_batch_body
from pyop.devnet.batcher_faults.batcher import (
    MAX_CALLDATA_PER_TX,
    batch_of,
    batcher_calldata,
    channel_data,
    cut_frames,
    frames_for_size,
    non_deposit_txs,
)
from pyop.devnet.batcher_faults.plans import FINDING_STEPS, STEPS, dummy_l2_tx
from pyop.devnet.blob_load import random_blob
from pyop.primitives import ExecutionPayload
from pyop.protocol.l1_info import L1BlockInfo, L1InfoFormat, l1_info_deposit

CHAIN_ID = 901


def _batch(i: int, txs: tuple[bytes, ...] = ()) -> SingularBatch:
    return SingularBatch(keccak(b"parent%d" % i), 10 + i, keccak(b"epoch%d" % i), 1000 + 2 * i, txs)


def test_calldata_is_version_zero_then_frames_of_one_channel() -> None:
    data = channel_data([_batch(0), _batch(1)])
    frames = cut_frames(data, count=3)
    assert [f.frame_number for f in frames] == [0, 1, 2]
    assert [f.is_last for f in frames] == [False, False, True]
    assert len({f.channel_id for f in frames}) == 1
    assert b"".join(f.data for f in frames) == data
    calldata = batcher_calldata(frames)
    assert calldata[0] == 0
    # Frame layout by hand (derivation.md "Frame Format"): id 16, number u16, length u32, data, is_last.
    f0 = calldata[1 : 1 + FRAME_OVERHEAD + len(frames[0].data)]
    assert f0[:16] == frames[0].channel_id
    assert int.from_bytes(f0[16:18], "big") == 0
    assert int.from_bytes(f0[18:22], "big") == len(frames[0].data)
    assert f0[-1] == 0
    assert parse_frames(calldata) == frames


def test_channel_is_zlib_of_rlp_strings_of_typed_batches() -> None:
    b0, b1 = _batch(0, (b"\x02\xc0",)), _batch(1)
    raw = zlib.decompress(channel_data([b0, b1], CompressionAlgo.ZLIB))
    # Each batch is an RLP byte string of ``type ++ rlp(fields)`` (derivation.md "Channel Format").
    item, _, end = rlp.codec.consume_item(raw, 0)
    assert item[0] == 0
    fields = rlp.decode(item[1:])
    assert fields[0] == b0.parent_hash and int.from_bytes(fields[1], "big") == b0.epoch_num
    assert fields[4] == [b"\x02\xc0"]
    second = rlp.decode(raw[end:])
    assert second[0] == 0
    assert decode_batch(second) == b1


def test_undecodable_batch_bytes_pass_through() -> None:
    raw = zlib.decompress(channel_data([b"\x05junk", _batch(0)]))
    assert rlp.codec.consume_item(raw, 0)[0] == b"\x05junk"


def test_frames_for_size_fit_one_per_transaction() -> None:
    data = bytes(range(256)) * 1000
    frames = frames_for_size(data, max_calldata=100_000)
    assert len(frames) == 3
    assert all(len(batcher_calldata([f])) <= 100_000 for f in frames)
    assert b"".join(f.data for f in frames) == data
    assert len(frames_for_size(b"x")) == 1 and MAX_CALLDATA_PER_TX == 120_000


def test_batch_of_payload_drops_deposits_and_reads_the_epoch() -> None:
    info = L1BlockInfo(number=77, time=5, base_fee=7, block_hash=keccak(b"l1"), sequence_number=2,
                       batcher_addr=b"\x11" * 20, format=L1InfoFormat.ECOTONE)  # fmt: skip
    l1_info = l1_info_deposit(info, regolith=True).encode()
    user = dummy_l2_tx(CHAIN_ID)
    p = ExecutionPayload(
        parent_hash=keccak(b"p"), fee_recipient=b"\x00" * 20, state_root=b"\x00" * 32,
        receipts_root=b"\x00" * 32, logs_bloom=b"\x00" * 256, prev_randao=b"\x00" * 32,
        block_number=9, gas_limit=1, gas_used=0, timestamp=1234, extra_data=b"",
        base_fee_per_gas=1, block_hash=keccak(b"b"), transactions=(l1_info, user),
    )  # fmt: skip
    assert non_deposit_txs(p) == (user,)
    assert batch_of(p) == SingularBatch(keccak(b"p"), 77, keccak(b"l1"), 1234, (user,))


def test_dummy_tx_is_a_signed_l2_tx() -> None:
    legacy = dummy_l2_tx(CHAIN_ID, 1)
    fields = rlp.decode(legacy)
    assert int.from_bytes(fields[0], "big") == 1_000_001
    v = int.from_bytes(fields[6], "big")
    assert v in (CHAIN_ID * 2 + 35, CHAIN_ID * 2 + 36)  # EIP-155
    assert dummy_l2_tx(CHAIN_ID, 1, dynamic_fee=True)[0] == 2


def test_span_with_a_blob_tx_type_byte_decodes_but_does_not_derive() -> None:
    """The D6 construct: a span batch whose tx entry starts with 0x03. As op-node v1.19.6
    (``ReadTxData`` takes any type byte <= 0x7F; ``recoverV`` fails in derive), it decodes and
    only deriving it fails, so the rest of its channel is still read (audit D6)."""
    b = _batch(0, (dummy_l2_tx(CHAIN_ID, 3, dynamic_fee=True),))
    span = SpanBatch.from_singular_batches([b], 0, CHAIN_ID)
    raw = span.to_raw()
    datas = (b"\x03" + raw.txs.tx_datas[0][1:],)
    from dataclasses import replace

    bad = replace(raw, txs=replace(raw.txs, tx_datas=datas)).encode()
    assert bad[0] == 1
    decoded = decode_span_batch_body(bad[1:])
    with pytest.raises(SpanBatchError):
        decoded.derive(2, 0, CHAIN_ID)
    good = decode_span_batch_body(raw.encode()[1:])
    assert good.derive(2, 0, CHAIN_ID).batches[0].transactions == b.transactions


def test_step_catalogue_is_consistent() -> None:
    names = [s.name for s in (*STEPS, *FINDING_STEPS)]
    assert len(names) == len(set(names))
    assert all(s.spec and s.what for s in (*STEPS, *FINDING_STEPS))
    assert {s.finding for s in FINDING_STEPS} == {"D4", "D6", "D7", "D9"}
    assert not any(s.holocene_only and s.pre_holocene_only for s in STEPS)
    # Every step names what a correct node records, before or after Holocene.
    assert all(s.expect_pre or s.expect_post or s.decisions for s in STEPS)


def test_random_blob_is_canonical() -> None:
    blob = random_blob(b"seed")
    assert len(blob) == 131072
    assert all(blob[i] == 0 for i in range(0, len(blob), 32))
    with pytest.raises(CodecError):
        decode_batch(b"\x05")
