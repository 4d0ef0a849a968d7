"""``superroot_atTimestamp`` pieces (op-node v1.19.6 ``superroot_api.go``, ``op-service/eth/
super_root.go``, ``safedb.L1AtSafeHead``); the whole answer is compared with the Go op-node's in
tests/node/test_node_differential.py. Expected bytes follow the Go marshalling (version byte,
uint64 BE timestamp, uint256 BE chain id, output root; chains sorted by id), hashed here with
pycryptodome's keccak directly."""

from __future__ import annotations

from pathlib import Path

import pytest
from Crypto.Hash import keccak as pkeccak

from pyop.node.safedb import DisabledSafeDB, SafeDB, SafeDBError
from pyop.node.superroot import (
    L1AtSafeHeadError,
    l1_at_safe_head,
    super_root_v1,
    super_v1_bytes,
    target_block_number,
)
from pyop.primitives import BlockID, PyopError


def _k(b: bytes) -> bytes:
    return pkeccak.new(digest_bits=256, data=b).digest()


def test_super_v1_layout_and_root() -> None:
    a, b = b"\x01" + bytes(31), b"\x02" + bytes(31)
    want = bytes([1]) + (1234).to_bytes(8, "big") + (11).to_bytes(32, "big") + a + (12).to_bytes(32, "big") + b
    assert super_v1_bytes(1234, [(12, b), (11, a)]) == want  # sorted by chain id (NewSuperV1)
    assert super_root_v1(1234, [(11, a), (12, b)]) == _k(want)


def test_target_block_number() -> None:
    assert target_block_number(5, 1000, 2, 1000) == 5
    assert target_block_number(5, 1000, 2, 1003) == 6  # rounds down
    with pytest.raises(PyopError, match=r"did not reach genesis time \(1000\) yet"):
        target_block_number(5, 1000, 2, 999)


def _e(l1: int, l2: int) -> tuple[BlockID, BlockID]:
    return BlockID(bytes([l1]) * 32, l1), BlockID(bytes([l2]) * 32, l2)


def test_l1_at_safe_head_as_op_node() -> None:
    entries = [_e(10, 3), _e(11, 6), _e(12, 6), _e(13, 9)]
    assert l1_at_safe_head(entries, 9) == _e(13, 9)
    assert l1_at_safe_head(entries, 7) == _e(13, 9)  # first L1 block whose safe head reached 7
    assert l1_at_safe_head(entries, 6) == _e(11, 6)  # the earliest of equal safe heads
    assert l1_at_safe_head(entries, 3) == _e(10, 3)
    with pytest.raises(L1AtSafeHeadError, match="l1 at safe head not found"):
        l1_at_safe_head(entries, 10)
    with pytest.raises(L1AtSafeHeadError, match="history unavailable"):
        l1_at_safe_head(entries, 2)  # below the oldest record
    with pytest.raises(L1AtSafeHeadError, match="not found"):
        l1_at_safe_head([], 1)


def test_sqlite_safedb_answers_as_the_walk(tmp_path: Path) -> None:
    """pyop's SQLite safe-head db answers L1AtSafeHead with indexed queries; the same answers
    (and errors) as op-node's backward walk for every target."""
    db = SafeDB(tmp_path)
    with pytest.raises(SafeDBError, match="l1 at safe head not found"):
        db.l1_at_safe_head(1)
    entries = [_e(10, 3), _e(11, 6), _e(12, 6), _e(13, 9)]
    for l1, l2 in entries:
        db.safe_head_updated(l2, l1)
    try:
        for target in range(0, 12):
            try:
                want: object = l1_at_safe_head(entries, target)
            except L1AtSafeHeadError as e:
                want = str(e)
            try:
                got: object = db.l1_at_safe_head(target)
            except SafeDBError as e:
                got = str(e)
            assert got == want, target
    finally:
        db.close()
    with pytest.raises(SafeDBError, match="not enabled"):
        DisabledSafeDB().l1_at_safe_head(1)
