"""``--rpc.admin-state``: the sequencer's started/stopped state, as changed through the admin
API, kept in a file so that it survives a restart (op-node v1.19.6
``op-node/config/config_persistence.go`` ``ActiveConfigPersistence``, ``LoadPersisted`` in
``op-node/config/config.go``).

The file is op-node's JSON, ``{"sequencerStarted": true|false}`` (a missing file or key: no state
yet; an unknown key is refused, as Go's ``DisallowUnknownFields``). Every write merges into what
is there, goes to ``<file>.tmp`` first, is synced, and is renamed into place, so a full disk or
an I/O error leaves the old file intact. At start-up a persisted state wins over
``--sequencer.stopped`` (with a warning when they differ), and only when the sequencer is
enabled. The sequencer reports every start and stop before it changes state (op-node
``SequencerStateListener``); a failed write fails the admin call and the state does not change.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from pyop.primitives import PyopError

__all__ = ["AdminState", "AdminStateError"]

_KEYS = frozenset({"sequencerStarted"})


class AdminStateError(PyopError):
    """The admin state file cannot be read or written."""


class AdminState:
    """op-node ``ActiveConfigPersistence`` over ``path``."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def sequencer_started(self) -> None:
        self._persist(True)

    def sequencer_stopped(self) -> None:
        self._persist(False)

    def sequencer_state(self) -> bool | None:
        """``True`` started, ``False`` stopped, ``None`` no persisted state (op-node
        ``SequencerState``: ``StateStarted`` / ``StateStopped`` / ``StateUnset``)."""
        with self._lock:
            v = self._read().get("sequencerStarted")
        return None if v is None else bool(v)

    def _read(self) -> dict[str, object]:
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return {}
        except OSError as e:
            raise AdminStateError(f"read config file ({self.path}): {e}") from None
        try:
            state = json.loads(text)
        except ValueError as e:
            raise AdminStateError(f"invalid config file ({self.path}): {e}") from None
        if not isinstance(state, dict):
            raise AdminStateError(f"invalid config file ({self.path}): not a JSON object")
        unknown = set(state) - _KEYS
        if unknown:
            raise AdminStateError(f"invalid config file ({self.path}): unknown field {sorted(unknown)[0]!r}")
        v = state.get("sequencerStarted")
        if v is not None and not isinstance(v, bool):
            raise AdminStateError(f"invalid config file ({self.path}): sequencerStarted is not a boolean")
        return state

    def _persist(self, started: bool) -> None:
        with self._lock:
            state = self._read()
            state["sequencerStarted"] = started
            data = json.dumps(state, separators=(",", ":")).encode()
            tmp = self.path.with_name(self.path.name + ".tmp")
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with open(tmp, "wb") as f:
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, self.path)
            except OSError as e:
                raise AdminStateError(f"persist admin state to {self.path}: {e}") from None
