"""The safe head database: records survive a restart; reset and lookup follow op-node
``op-node/node/safedb/safedb.go`` (SafeHeadUpdated / SafeHeadReset / SafeHeadAtL1)."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_hash.auto import keccak

from pyop.node.safedb import DisabledSafeDB, SafeDB, SafeDBNotEnabled, SafeDBNotFound, open_safedb
from pyop.primitives import ZERO_HASH, BlockID, L2BlockRef


def l1(n: int) -> BlockID:
    return BlockID(keccak(b"l1-%d" % n), n)


def l2(n: int, origin: int) -> L2BlockRef:
    return L2BlockRef(keccak(b"l2-%d" % n), n, ZERO_HASH, 1000 + n, l1(origin), 0)


def test_lookup_at_or_before(tmp_path: Path) -> None:
    db = SafeDB(tmp_path / "safedb")
    db.safe_head_updated(l2(10, 5), l1(8))
    db.safe_head_updated(l2(14, 7), l1(12))
    with pytest.raises(SafeDBNotFound, match=r"^not found$"):
        db.safe_head_at_l1(7)
    assert db.safe_head_at_l1(8) == (l1(8), l2(10, 5).id())
    assert db.safe_head_at_l1(11) == (l1(8), l2(10, 5).id())
    assert db.safe_head_at_l1(12) == (l1(12), l2(14, 7).id())
    assert db.safe_head_at_l1(10**9) == (l1(12), l2(14, 7).id())
    db.safe_head_updated(l2(15, 7), l1(12))  # same L1 block: overwritten
    assert db.safe_head_at_l1(12) == (l1(12), l2(15, 7).id())
    db.close()


def test_survives_restart(tmp_path: Path) -> None:
    p = tmp_path / "safedb"
    db = SafeDB(p)
    for i in range(1, 6):
        db.safe_head_updated(l2(2 * i, i), l1(i + 3))
    db.close()
    db2 = SafeDB(p)
    assert db2.safe_head_at_l1(6) == (l1(6), l2(6, 3).id())
    assert len(db2.entries()) == 5
    db2.close()


def test_reset_truncates_and_rerecords(tmp_path: Path) -> None:
    db = SafeDB(tmp_path)
    db.safe_head_updated(l2(10, 2), l1(4))
    db.safe_head_updated(l2(20, 5), l1(7))
    db.safe_head_updated(l2(30, 8), l1(10))
    # reset to L2 block 15 (origin 4): the first entry at L1 >= 4 with L2 >= 15 is L1 7;
    # entries from L1 7 on are deleted and L1 7 re-recorded with the new safe head 15
    db.safe_head_reset(l2(15, 4))
    assert [(a.number, b.number) for a, b in db.entries()] == [(4, 10), (7, 15)]
    assert db.safe_head_at_l1(100) == (l1(7), l2(15, 4).id())


def test_reset_before_first_entry_records_nothing(tmp_path: Path) -> None:
    db = SafeDB(tmp_path)
    db.safe_head_updated(l2(10, 2), l1(4))
    db.safe_head_updated(l2(20, 5), l1(7))
    db.safe_head_reset(l2(5, 1))  # before all records: we do not know where 5 became safe
    assert db.entries() == []
    with pytest.raises(SafeDBNotFound):
        db.safe_head_at_l1(10)


def test_reset_after_all_entries_keeps_them(tmp_path: Path) -> None:
    db = SafeDB(tmp_path)
    db.safe_head_updated(l2(10, 2), l1(4))
    db.safe_head_reset(l2(50, 9))
    assert [(a.number, b.number) for a, b in db.entries()] == [(4, 10)]


def test_disabled() -> None:
    db = open_safedb("")
    assert isinstance(db, DisabledSafeDB)
    db.safe_head_updated(l2(1, 1), l1(1))
    with pytest.raises(SafeDBNotEnabled, match=r"^safe head database not enabled$"):
        db.safe_head_at_l1(1)
