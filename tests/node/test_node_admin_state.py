"""``--rpc.admin-state`` (audit section 4 row 10, section 2 ``admin_startSequencer`` row): the
sequencer's started/stopped state set through the admin API survives a restart, as op-node
v1.19.6 ``ActiveConfigPersistence`` / ``LoadPersisted`` / ``SequencerStateListener``.

Expected values: the file format is what op-node writes (Go ``json.Marshal`` of
``persistedState``: ``{"sequencerStarted":true}``), the rules are op-node's code paths."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest

from pyop.engine.sequencer import SequencerError
from pyop.node.admin_state import AdminState, AdminStateError
from pyop.node.config import parse_node_args
from pyop.node.service import load_persisted_sequencer_state
from tests.node.test_node_operator_controls import Engine, _seq
from tests.node.test_node_sequencer import FakeL1, l1, l2_head


def test_file_format_merge_and_refusals(tmp_path: Path) -> None:
    f = tmp_path / "state" / "admin.json"
    st = AdminState(f)
    assert st.sequencer_state() is None  # no file: StateUnset
    st.sequencer_started()
    assert f.read_text() == '{"sequencerStarted":true}' and st.sequencer_state() is True
    st.sequencer_stopped()
    assert json.loads(f.read_text()) == {"sequencerStarted": False} and st.sequencer_state() is False
    assert not (tmp_path / "state" / "admin.json.tmp").exists()  # written to .tmp, renamed
    f.write_text('{"sequencerStarted":true,"other":1}')  # Go: DisallowUnknownFields
    with pytest.raises(AdminStateError, match="unknown field 'other'"):
        st.sequencer_state()
    f.write_text("{")
    with pytest.raises(AdminStateError, match="invalid config file"):
        st.sequencer_started()


def test_persisted_state_wins_over_the_flag(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    f = tmp_path / "admin.json"
    base = ["--sequencer.enabled", f"--rpc.admin-state={f}"]
    _, stopped = load_persisted_sequencer_state(parse_node_args([*base, "--sequencer.stopped"], env={}))
    assert stopped is True  # nothing persisted yet: the flag
    AdminState(f).sequencer_started()
    with caplog.at_level(logging.WARNING, logger="pyop.node.service"):
        store, stopped = load_persisted_sequencer_state(parse_node_args([*base, "--sequencer.stopped"], env={}))
    assert store is not None and stopped is False
    assert any("Overriding --sequencer.stopped with persisted state" in r.getMessage() for r in caplog.records)
    assert load_persisted_sequencer_state(parse_node_args(["--sequencer.stopped"], env={})) == (None, True)


def test_sequencer_start_and_stop_are_persisted_before_they_happen(tmp_path: Path) -> None:
    """op-node forceStart / Stop: the listener is told first; when it fails, the admin call
    fails and the sequencer keeps its state. Init reports the initial state."""
    chain = [l1(n, 1000 + 12 * n) for n in range(10, 13)]
    head = l2_head(1100, chain[0])
    f = tmp_path / "admin.json"

    async def go() -> None:
        s = _seq(Engine(head, head), FakeL1(chain), active=False)
        s.state_listener = AdminState(f)
        s.init_state()
        assert AdminState(f).sequencer_state() is False
        await s.start(head.hash)
        assert s.active and AdminState(f).sequencer_state() is True
        assert await s.stop() == head.hash
        assert not s.active and AdminState(f).sequencer_state() is False
        f.write_text('{"bad":1}')  # the state cannot be recorded
        with pytest.raises(SequencerError, match="failed to notify sequencer-state listener of start"):
            await s.start(head.hash)
        assert not s.active

    asyncio.run(go())
