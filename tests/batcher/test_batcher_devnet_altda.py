"""End to end: ``pyop batcher`` on an alt-DA devnet (issue 10, "Proof": alt-DA and "DA server
down for a minute").

The rollup uses generic commitments (``alt_da.da_commitment_type = GenericCommitment``): the
batcher puts each frame's calldata on pyop's DA server (``POST /put``, which answers the
commitment) and posts ``0x01 ++ commitment`` to L1; both verifiers (Go op-node, ``pyop node``)
fetch the input back from the DA server. The sequencing window is 90 L1 blocks (3 minutes) so a
one-minute DA outage is survivable: the batcher must retry in order and lose nothing.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from pyop.devnet.da_server import start_da_server_process
from pyop.devnet.process import PidRegistry
from tests.batcher.batcher_devnet_harness import BatcherDevnet, bring_up, posted_channels
from tests.devnet.devnet_stack_harness import wait_for

pytestmark = pytest.mark.slow
TIMEOUT = 150.0
OUTAGE = 60.0


@pytest.fixture(scope="module")
def bd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BatcherDevnet]:
    yield from bring_up(tmp_path_factory.mktemp("batcher-altda"), altda=True, seq_window_size=90,
                        batcher_flags=["--batch-type=1", "--log.level=debug"], label="pyop batcher alt-DA")  # fmt: skip


def test_altda_generic_commitments_derive_on_both_verifiers(bd: BatcherDevnet) -> None:
    bd.wait_verified(bd.unsafe() + 4, TIMEOUT, "(alt-DA)")
    posted = posted_channels(bd.dn, 1, bd.l1_head())
    assert set(posted) == {b"altda"}, "frames went to L1 instead of commitments"
    assert posted[b"altda"].commitments >= 2 and posted[b"altda"].tx_types == {2}
    # every batcher tx is 0x01 (alt-DA) ++ 0x01 (generic commitment) ++ da layer byte ++ hash
    log = bd.batcher_log()
    assert "Set altda input" in log


def test_da_server_down_for_a_minute_nothing_lost(bd: BatcherDevnet) -> None:
    info = bd.dn.info
    reg = PidRegistry(info.directory)
    da = reg.get("da-server")
    assert da is not None
    since = bd.batcher_log_size()
    da.stop()
    reg.remove("da-server")
    down_at = time.monotonic()
    unsafe_at_outage = bd.unsafe()
    wait_for(lambda: "DA request failed" in bd.batcher_log(since), 60, "a failed DA put")
    time.sleep(max(0.0, OUTAGE - (time.monotonic() - down_at)))
    proc, _url = start_da_server_process(info.logs_dir, info.ports["daServer"], registry=reg)
    bd.dn.stack.processes["da-server"] = proc
    # every block the sequencer had when the DA server went down, and those made during the
    # outage, become safe with the sequencer's hashes on both verifiers
    bd.wait_verified(max(unsafe_at_outage, bd.unsafe()) + 3, 240, "(after the DA outage)")
    log = bd.batcher_log(since)
    assert log.count("DA request failed") >= 1
