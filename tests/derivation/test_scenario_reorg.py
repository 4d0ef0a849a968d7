"""Scenario test: an L1 reorg under the pipeline.

Spec: specs/protocol/derivation.md "L1 Traversal" (a next block whose parent is not the
current origin means a reorg), "Resetting the Pipeline" (the engine finds the safe head whose
L1 origin is canonical; the pipeline restarts a channel timeout before it).
"""

from __future__ import annotations

import pytest

from pyop.derivation.errors import ResetError
from pyop.sources.memory import L1Block
from tests.derivation.harness import ChainBuilder, assert_truth, run


def _builder(alt: bool, **kw: object) -> ChainBuilder:
    b = ChainBuilder(fork="granite", seed=40, **kw)  # type: ignore[arg-type]
    for i in range(4):  # epochs 0..3 in L1 blocks 1..4: identical in both chains
        b.submit(i + 1, range(max(1, 6 * i), 6 * i + 6))
    if not alt:
        b.submit(5, range(24, 30))
        b.submit(6, range(30, 36))
    else:  # the new chain: L1 block 5 differs (a deposit), so do all L2 blocks from epoch 5
        b.deposit(5, value=77)
        for i in range(4, 9):
            b.submit(i + 1, range(6 * i, 6 * i + 6), span=True)
    return b


def test_l1_reorg_resets_and_rederives() -> None:
    a = _builder(False).build(8)
    b = _builder(True, blobs=a.blobs, altda=a.altda).build(10)
    assert [h.hash for h in a.l1_headers[:5]] == [h.hash for h in b.l1_headers[:5]]
    assert a.header(5).hash != b.header(5).hash
    assert a.l2[29].ref == b.l2[29].ref and a.l2[30].ref != b.l2[30].ref

    res = run(a)
    assert_truth(res, 35)
    assert res.safe == a.l2[35].ref

    # L1 reorgs from block 5 on: blocks 5..8 of chain a are replaced by 5..10 of chain b
    a.l1.reorg(5, [L1Block(h.header, h.txs, h.receipts) for h in b.l1.canonical_blocks()[5:]])
    with pytest.raises(ResetError):
        run(a, extra_builders=[b], previous=res, reset=False)
    reorgs = res.decisions_of("REORG")
    assert reorgs and reorgs[0].numbers == {"origin": 8, "next": 9}

    # the engine's part (op-node FindL2Heads): the newest safe block with a canonical L1
    # origin is block 29 (origin 4); derivation restarts from it
    assert b.l1.l1_block_ref_by_number(4).hash == a.l2[29].ref.l1_origin.hash
    res2 = run(b, extra_builders=[a], previous=res, start=a.l2[29].ref)
    res2.builder = b
    assert_truth(res2, 53)
    assert res2.blocks[29].attributes.transactions[1:2] == tuple(b.l1_deposits[b.header(5).hash])
    assert res2.decisions_of("RESET")
