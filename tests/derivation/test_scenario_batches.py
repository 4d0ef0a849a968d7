"""Scenario tests: batches reach L1 in the usual ways and the derived chain is the true chain.

Each test builds an L1 chain carrying a true L2 chain's batches (tests/derivation/harness.py),
derives from genesis and checks the derived attributes/blocks and the recorded drops.
Spec: specs/protocol/derivation.md (Batch Submission, Deriving Payload Attributes),
delta/span-batches.md, ecotone/derivation.md (blobs), fjord/derivation.md (brotli),
system-config.md (updates), deposits.md (user deposits), the fork pages (upgrade txs).
"""

from __future__ import annotations

import pytest
from eth_hash.auto import keccak

from pyop.codec.compression import CompressionAlgo
from pyop.protocol.deposits import decode_deposit_tx
from tests.derivation.harness import (
    BATCHER,
    MALLORY_KEY,
    OTHER_BATCHER,
    OTHER_BATCHER_KEY,
    ChainBuilder,
    assert_truth,
    run,
)


def _post_epochs(b: ChainBuilder, first_l1: int, epochs: int, **kw: object) -> None:
    """Post the 6 blocks of epoch i (L2 blocks 6i..6i+5, block 0 is genesis) in L1 block
    i + first_l1 - 0 ... one channel per epoch."""
    for i in range(epochs):
        lo = max(1, 6 * i)
        b.submit(i + first_l1, range(lo, 6 * i + 6), **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kw", "fork"),
    [
        ({}, "granite"),
        ({"span": True}, "granite"),
        ({"n_frames": 3}, "granite"),
        ({"compression": CompressionAlgo.BROTLI}, "fjord"),
        ({"span": True, "compression": CompressionAlgo.BROTLI, "da": "blob"}, "holocene"),
        ({"da": "blob"}, "ecotone"),
        ({"da": "blob", "span": True}, "jovian"),
    ],
    ids=["singular", "span", "multi-frame", "brotli", "span-brotli-blob-holocene", "blob", "jovian-span-blob"],
)
def test_timely_batches_derive_true_chain(kw: dict[str, object], fork: str) -> None:
    b = ChainBuilder(fork=fork, seed=1)
    _post_epochs(b, 1, 8, **kw)
    b.build(9)
    res = run(b)
    assert res.reasons() == []
    assert_truth(res, 47)
    # every block came from the L1 block after its epoch
    for e in res.blocks:
        assert e.derived_from == e.ref.l1_origin.number + 1


def test_many_channels_and_frames_in_one_l1_block() -> None:
    """Several channels, one frame per tx, all in one L1 block; frames of a channel spread over
    two L1 blocks (pre-Holocene and Holocene both accept in-order frames across txs)."""
    for fork in ("granite", "holocene"):
        b = ChainBuilder(fork=fork, seed=2)
        c1 = b.channel(range(1, 6), n_frames=2)
        c2 = b.channel(range(6, 12), n_frames=3)
        b.post(2, c1, [0])
        b.post(2, c1, [1])
        b.post(2, c2, [0, 1])
        b.post(3, c2, [2])
        b.build(4)
        res = run(b)
        assert res.reasons() == []
        assert_truth(res, 11)
        assert [e.derived_from for e in res.blocks] == [2] * 5 + [3] * 6


def test_user_deposits_in_epoch_first_block() -> None:
    """deposits.md "User-Deposited Transactions": deposits of L1 block n appear in the first
    L2 block with origin n, right after the L1-info deposit, with source hash
    ``keccak256(bytes32(0) ++ keccak256(l1_block_hash ++ bytes32(log_index)))``."""
    b = ChainBuilder(fork="granite", seed=3)
    b.deposit(2, value=5, data=b"\xaa")
    b.deposit(2, value=6)
    b.set_gas_limit(2, 31_000_000)  # a ConfigUpdate log between: log indices 0, 1, 2 ...
    b.deposit(2, value=7, to=None, data=b"\x60\x00")
    _post_epochs(b, 1, 4)
    b.build(5)
    res = run(b)
    assert res.reasons() == []
    assert_truth(res, 23)
    first = res.blocks[11]  # L2 block 12: first block of epoch 2
    assert first.ref.number == 12 and first.ref.l1_origin.number == 2
    assert first.ref.sequence_number == 0
    l1_hash = b.header(2).hash
    deps = [decode_deposit_tx(t) for t in first.attributes.transactions[1:4]]
    assert [d.value for d in deps] == [5, 6, 7]
    assert deps[2].to is None
    # log indices: deposit, deposit, (config update log at 2), deposit at 3
    for d, log_index in zip(deps, (0, 1, 3), strict=True):
        inner = keccak(l1_hash + log_index.to_bytes(32, "big"))
        assert d.source_hash == keccak(bytes(32) + inner)
        assert d.mint == d.value and not d.is_system_tx
    # no deposits in the other blocks of the epoch
    for e in res.blocks[12:17]:
        assert all(t[0] != 0x7E for t in e.attributes.transactions[1:])
    assert first.attributes.gas_limit == 31_000_000
    assert res.blocks[10].attributes.gas_limit == 30_000_000


def test_batcher_address_change() -> None:
    """system-config.md "batcherHash": the update in L1 block 3 applies to batcher txs of block 3
    itself (L1 traversal applies the receipts before retrieval)."""
    b = ChainBuilder(fork="granite", seed=4)
    b.submit(2, range(1, 6))  # old batcher, before the change: accepted
    b.set_batcher(3, OTHER_BATCHER)
    b.submit(3, range(6, 12))  # old batcher key in block 3: dropped
    b.submit(3, range(6, 12), key=OTHER_BATCHER_KEY)  # new batcher: accepted
    b.submit(4, range(12, 18), key=MALLORY_KEY)  # someone else: dropped
    b.submit(4, range(12, 18), key=OTHER_BATCHER_KEY)
    b.build(5)
    res = run(b)
    assert res.reasons() == ["WRONG_BATCHER", "WRONG_BATCHER"]
    assert [d.l1_origin.number for d in res.drops] == [3, 4]
    assert_truth(res, 17)
    # the L1-info deposit carries the new batcher from epoch 3 on
    from pyop.protocol.l1_info import decode_l1_info_tx

    assert decode_l1_info_tx(res.blocks[16].attributes.transactions[0])[1].batcher_addr == BATCHER
    b2 = ChainBuilder(fork="granite", seed=4)
    b2.set_batcher(3, OTHER_BATCHER)
    b2.submit(4, range(1, 24), key=OTHER_BATCHER_KEY)
    b2.build(4)
    res2 = run(b2)
    assert_truth(res2, 23)
    info = decode_l1_info_tx(res2.blocks[17].attributes.transactions[0])[1]
    assert info.number == 3 and info.batcher_addr == OTHER_BATCHER


def test_gas_limit_and_eip1559_params_holocene() -> None:
    """``eip1559Params`` are zero in the Holocene activation block here (its epoch's L1 block
    carries no EIP-1559 update and the SystemConfig rebuilt from the pre-Holocene parent has
    zero params), then the SystemConfig's; gasLimit follows GAS_LIMIT updates by epoch."""
    b = ChainBuilder(fork="granite", fork_times={"holocene": 24}, seed=5)
    b.set_eip1559_params(1, 250, 6)
    b.set_gas_limit(3, 60_000_000)
    b.set_eip1559_params(3, 50, 2)
    _post_epochs(b, 1, 5)
    b.build(6)
    res = run(b)
    assert res.reasons() == []
    assert_truth(res, 29)
    params = {e.ref.number: e.attributes.eip1559_params for e in res.blocks}
    assert all(params[n] is None for n in range(1, 12))
    assert params[12] == bytes(8)  # activation block
    assert params[13] == (250).to_bytes(4, "big") + (6).to_bytes(4, "big")
    assert params[18] == (50).to_bytes(4, "big") + (2).to_bytes(4, "big")
    gas = {e.ref.number: e.attributes.gas_limit for e in res.blocks}
    assert gas[17] == 30_000_000 and gas[18] == 60_000_000
    assert [d.kind.name for d in res.decisions_of("SYSTEM_CONFIG_UPDATED")] == ["SYSTEM_CONFIG_UPDATED"] * 2


def test_holocene_activation_block_takes_the_epochs_eip1559_update() -> None:
    """Audit D8: the Holocene activation block 12 is the first block of epoch 2, whose L1
    receipts carry an ``EIP_1559_PARAMS`` update to (100, 3). op-node v1.19.6 (attributes.go)
    sends ``sysConfig.EIP1559Params`` = the updated (100, 3); the spec and kona would send 8
    zero bytes. pyop follows op-node (the reference), so the derived block matches Go's."""
    b = ChainBuilder(fork="granite", fork_times={"holocene": 24}, seed=6)
    b.set_eip1559_params(2, 100, 3)
    _post_epochs(b, 1, 4)
    b.build(5)
    res = run(b)
    assert res.reasons() == []
    assert_truth(res, 23)
    blk = next(e for e in res.blocks if e.ref.number == 12)
    assert blk.ref.l1_origin.number == 2 and blk.ref.sequence_number == 0
    assert blk.attributes.eip1559_params == (100).to_bytes(4, "big") + (3).to_bytes(4, "big")
    pre = next(e for e in res.blocks if e.ref.number == 11)
    assert pre.attributes.eip1559_params is None


_UPGRADE_INTENTS = {
    "ecotone": ["Ecotone: L1 Block Deployment", "Ecotone: Gas Price Oracle Deployment",
                "Ecotone: L1 Block Proxy Update", "Ecotone: Gas Price Oracle Proxy Update",
                "Ecotone: Gas Price Oracle Set Ecotone",
                "Ecotone: beacon block roots contract deployment"],
    "fjord": ["Fjord: Gas Price Oracle Deployment", "Fjord: Gas Price Oracle Proxy Update",
              "Fjord: Gas Price Oracle Set Fjord"],
    "isthmus": ["Isthmus: L1 Block Deployment", "Isthmus: Gas Price Oracle Deployment",
                "Isthmus: Operator Fee Vault Deployment", "Isthmus: L1 Block Proxy Update",
                "Isthmus: Gas Price Oracle Proxy Update",
                "Isthmus: Operator Fee Vault Proxy Update",
                "Isthmus: Gas Price Oracle Set Isthmus", "Isthmus: EIP-2935 Contract Deployment"],
    # kona / op-node spelling; specs/protocol/jovian/derivation.md spells the first four
    # "Jovian: L1Block Deployment" etc. (known discrepancy: shared/vectors/golden-values.json
    # "jovian_intent_discrepancy"; pyop.protocol.upgrades follows the implementations).
    "jovian": ["Jovian: L1 Block Deployment", "Jovian: L1 Block Proxy Update",
               "Jovian: Gas Price Oracle Deployment", "Jovian: Gas Price Oracle Proxy Update",
               "Jovian: Gas Price Oracle Set Jovian"],
}  # fmt: skip


def _upgrade_source_hash(intent: str) -> bytes:
    """deposits.md "Upgrade-deposited": ``keccak256(bytes32(2) ++ keccak256(intent))``."""
    return keccak((2).to_bytes(32, "big") + keccak(intent.encode()))


@pytest.mark.parametrize(
    ("fork", "base"), [("ecotone", "delta"), ("fjord", "ecotone"), ("isthmus", "holocene"), ("jovian", "isthmus")]
)
def test_fork_activation_block(fork: str, base: str) -> None:
    """The activation block (L2 block 13, mid-epoch) carries the L1-info deposit, then the
    fork's upgrade deposits in spec order, and no sequenced txs."""
    b = ChainBuilder(fork=base, fork_times={fork: 26}, seed=6)
    _post_epochs(b, 1, 4, span=True)
    b.build(5)
    res = run(b)
    assert res.reasons() == []
    assert_truth(res, 23)
    act = res.blocks[12]
    assert act.ref.number == 13 and act.attributes.timestamp == b.cfg.genesis.l2_time + 26
    txs = act.attributes.transactions
    assert all(t[0] == 0x7E for t in txs)
    hashes = [decode_deposit_tx(t).source_hash for t in txs[1:]]
    assert hashes == [_upgrade_source_hash(i) for i in _UPGRADE_INTENTS[fork]]
    for e in res.blocks:  # every other block: only the L1-info deposit (no user deposits here)
        if e.ref.number != 13:
            assert len([t for t in e.attributes.transactions if t[0] == 0x7E]) == 1


def test_jovian_activation_block_with_user_txs_dropped() -> None:
    """jovian/derivation.md "Activation Block Rules": a batch with user txs for the activation
    block is dropped; the slot is filled by a later valid batch (here re-posted empty)."""
    b = ChainBuilder(fork="isthmus", fork_times={"jovian": 16}, seed=7, txs_per_block=(1, 1))
    b.build(0)
    bad = b.channel(range(1, 12), mutate=lambda bs: [
        x if x.timestamp != b.cfg.genesis.l2_time + 16 else
        type(x)(x.parent_hash, x.epoch_num, x.epoch_hash, x.timestamp, bs[0].transactions)
        for x in bs
    ])  # fmt: skip
    b.post(2, bad)
    b.submit(3, range(8, 18))
    b.build(4)
    res = run(b)
    assert res.reasons() == ["JOVIAN_ACTIVATION_BLOCK_USER_TXS", "CHANNEL_FLUSHED"]
    d = res.drops[0]
    assert d.numbers["timestamp"] == b.cfg.genesis.l2_time + 16 and d.l1_origin.number == 2
    assert_truth(res, 17)
    assert [e.derived_from for e in res.blocks[:7]] == [2] * 7
    assert res.blocks[7].derived_from == 3


def test_blob_and_calldata_in_same_block() -> None:
    """ecotone/derivation.md: blob txs and calldata txs of the batcher are both read, in tx
    order; a blob tx to another address is ignored (no drop: not a batcher tx)."""
    b = ChainBuilder(fork="ecotone", seed=8)
    b.submit(2, range(1, 6), da="blob")
    b.submit(2, range(6, 12))
    b.submit(3, range(12, 18), da="blob", to=b"\x99" * 20)
    b.submit(3, range(12, 18), da="blob")
    b.build(4)
    res = run(b)
    assert res.reasons() == []
    assert_truth(res, 17)
    assert len(b.blobs.requests) == 2


def test_brotli_before_fjord_dropped() -> None:
    """fjord/derivation.md "Brotli Channel Compression": before Fjord (by the L1 inclusion
    block time) a brotli channel does not decompress and is dropped; from Fjord it is read."""
    b = ChainBuilder(fork="ecotone", fork_times={"fjord": 36}, seed=9)
    b.submit(2, range(1, 12), compression=CompressionAlgo.BROTLI)  # L1 2 at 24 s: pre-Fjord
    b.submit(3, range(1, 12), compression=CompressionAlgo.BROTLI)  # L1 3 at 36 s: Fjord
    b.build(4)
    res = run(b)
    assert res.reasons() == ["CHANNEL_DECOMPRESS_ERROR"]
    assert res.drops[0].l1_origin.number == 2
    assert_truth(res, 11)
    assert {e.derived_from for e in res.blocks} == {3}
