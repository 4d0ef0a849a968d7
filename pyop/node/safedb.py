"""The safe head database: which L2 safe head the node had after deriving from each L1 block
(``optimism_safeHeadAtL1Block``), kept on disk so it survives a restart.

Semantics are op-node's ``op-node/node/safedb/safedb.go`` (v1.9.4):

- ``safe_head_updated(safe, l1)``: record (or overwrite) the entry for L1 block number
  ``l1.number``: ``(l1 hash, safe head id)``.
- ``safe_head_reset(safe)``: after a pipeline reset to ``safe``: find the first entry at or after
  ``safe.l1_origin.number`` whose safe head number is ``>= safe.number``; delete it and every later
  entry; if an entry exists before it, re-record that L1 block with the new safe head (it is now
  the block that made ``safe`` safe); if none precedes it, record nothing (we do not know where
  ``safe`` became safe).
- ``safe_head_at_l1(n)``: the entry with the highest L1 number ``<= n``, else :class:`SafeDBNotFound`
  (op-node ``ErrNotFound``, message ``not found``).

Storage: one SQLite file (stdlib ``sqlite3``) ``<path>/safedb.sqlite``; each write is its own
transaction. A storage failure (disk full, file removed, ...) raises :class:`SafeDBError`; the
driver answers it with a reset as op-node does (``SyncDeriver.onSafeDerivedBlock``), so the entry
is written again instead of the node stopping.

Not op-node's pebble format: an existing op-node ``--safedb.path`` is not read (pyop starts an
empty history there, in its own file). Deliberate: pyop has no pebble reader, and the history
is re-created as blocks are derived. :class:`DisabledSafeDB` answers ``safe head database not enabled`` (op-node
``ErrNotEnabled``) when ``--safedb.path`` is not given.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from pyop.primitives import BlockID, L2BlockRef, PyopError


class SafeDBError(PyopError):
    """A safe db failure."""


class SafeDBNotFound(SafeDBError):
    """No entry at or before the requested L1 block (op-node ``safedb.ErrNotFound``)."""

    def __init__(self) -> None:
        super().__init__("not found")


class SafeDBNotEnabled(SafeDBError):
    """The database is disabled (op-node ``ErrNotEnabled``)."""

    def __init__(self) -> None:
        super().__init__("safe head database not enabled")


FILE_NAME = "safedb.sqlite"


class SafeDB:
    """See the module docstring. Thread-safe (one connection, one lock)."""

    enabled = True

    def __init__(self, path: str | Path) -> None:
        p = Path(path)
        if p.suffix in (".sqlite", ".db"):
            p.parent.mkdir(parents=True, exist_ok=True)
            self.file = p
        else:
            p.mkdir(parents=True, exist_ok=True)
            self.file = p / FILE_NAME
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.file), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS safe_by_l1 ("
            " l1_number INTEGER PRIMARY KEY, l1_hash BLOB NOT NULL,"
            " l2_hash BLOB NOT NULL, l2_number INTEGER NOT NULL)"
        )
        self._closed = False

    def safe_head_updated(self, safe_head: L2BlockRef | BlockID, l1: BlockID) -> None:
        with self._lock:
            self._check_open()
            try:
                self._db.execute(
                    "INSERT OR REPLACE INTO safe_by_l1 VALUES (?, ?, ?, ?)",
                    (l1.number, l1.hash, safe_head.hash, safe_head.number),
                )
            except sqlite3.Error as e:
                raise SafeDBError(f"failed to record safe head update: {e}") from None

    def safe_head_reset(self, safe_head: L2BlockRef) -> None:
        try:
            self._safe_head_reset(safe_head)
        except sqlite3.Error as e:
            raise SafeDBError(f"failed to reset safe head db: {e}") from None

    def _safe_head_reset(self, safe_head: L2BlockRef) -> None:
        with self._lock:
            self._check_open()
            row = self._db.execute(
                "SELECT l1_number, l1_hash FROM safe_by_l1 WHERE l1_number >= ? AND l2_number >= ?"
                " ORDER BY l1_number LIMIT 1",
                (safe_head.l1_origin.number, safe_head.number),
            ).fetchone()
            if row is None:
                return
            l1_number, l1_hash = int(row[0]), bytes(row[1])
            prev = self._db.execute(
                "SELECT 1 FROM safe_by_l1 WHERE l1_number < ? LIMIT 1", (l1_number,)
            ).fetchone()
            self._db.execute("BEGIN")
            try:
                self._db.execute("DELETE FROM safe_by_l1 WHERE l1_number >= ?", (l1_number,))
                if prev is not None:
                    self._db.execute(
                        "INSERT INTO safe_by_l1 VALUES (?, ?, ?, ?)",
                        (l1_number, l1_hash, safe_head.hash, safe_head.number),
                    )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def safe_head_at_l1(self, l1_number: int) -> tuple[BlockID, BlockID]:
        """``(L1 block, safe head)`` of the last entry at or before L1 block ``l1_number``."""
        with self._lock:
            self._check_open()
            row = self._db.execute(
                "SELECT l1_number, l1_hash, l2_hash, l2_number FROM safe_by_l1"
                " WHERE l1_number <= ? ORDER BY l1_number DESC LIMIT 1",
                (l1_number,),
            ).fetchone()
        if row is None:
            raise SafeDBNotFound()
        return BlockID(bytes(row[1]), int(row[0])), BlockID(bytes(row[2]), int(row[3]))

    def l1_at_safe_head(self, target: int) -> tuple[BlockID, BlockID]:
        """op-node ``SafeDB.L1AtSafeHead`` (the walk of :func:`pyop.node.superroot.l1_at_safe_head`
        as two indexed queries): the entry after the newest one whose safe head is below
        ``target``; raises ``SafeDBError`` with op-node's messages."""
        q = "SELECT l1_number, l1_hash, l2_hash, l2_number FROM safe_by_l1"
        with self._lock:
            self._check_open()
            last = self._db.execute(f"{q} ORDER BY l1_number DESC LIMIT 1").fetchone()
            if last is None or target > int(last[3]):
                raise SafeDBError("l1 at safe head not found")
            below = self._db.execute(f"{q} WHERE l2_number < ? ORDER BY l1_number DESC LIMIT 1", (target,)).fetchone()
            if below is None:
                row = self._db.execute(f"{q} ORDER BY l1_number ASC LIMIT 1").fetchone()
                if int(row[3]) != target:
                    raise SafeDBError("l1 at safe head history unavailable")
            else:
                row = self._db.execute(f"{q} WHERE l1_number > ? ORDER BY l1_number ASC LIMIT 1",
                                       (int(below[0]),)).fetchone()  # fmt: skip
        return BlockID(bytes(row[1]), int(row[0])), BlockID(bytes(row[2]), int(row[3]))

    def entries(self) -> list[tuple[BlockID, BlockID]]:
        with self._lock:
            self._check_open()
            rows = self._db.execute(
                "SELECT l1_number, l1_hash, l2_hash, l2_number FROM safe_by_l1 ORDER BY l1_number"
            ).fetchall()
        return [(BlockID(bytes(r[1]), int(r[0])), BlockID(bytes(r[2]), int(r[3]))) for r in rows]

    def _check_open(self) -> None:
        if self._closed:
            raise SafeDBError("safe db is closed")

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._db.close()


class DisabledSafeDB:
    """No ``--safedb.path``: writes are no-ops, reads raise :class:`SafeDBNotEnabled`."""

    enabled = False

    def safe_head_updated(self, safe_head: L2BlockRef | BlockID, l1: BlockID) -> None:
        return None

    def safe_head_reset(self, safe_head: L2BlockRef) -> None:
        return None

    def safe_head_at_l1(self, l1_number: int) -> tuple[BlockID, BlockID]:
        raise SafeDBNotEnabled()

    def l1_at_safe_head(self, target: int) -> tuple[BlockID, BlockID]:
        raise SafeDBNotEnabled()

    def entries(self) -> list[tuple[BlockID, BlockID]]:
        return []

    def close(self) -> None:
        return None


def open_safedb(path: str) -> SafeDB | DisabledSafeDB:
    return SafeDB(path) if path else DisabledSafeDB()
