"""End to end: ``pyop batcher`` batches a live devnet (issue 10, "Proof").

anvil L1 (Prague) + OP contracts + op-geth sequenced by the Go op-node; ``pyop batcher`` (a
process, op-batcher's command line) posts the batches; two verifiers derive from L1 only: the Go
op-node (the reference) and ``pyop node``. A sender keeps user transactions flowing on L2.
Isthmus and Jovian activate mid-run. L1 blocks come every 4 s and L2 blocks every 2 s (as on a
real chain, L2 runs faster than L1, so after a sequencing-window expiry the L2 chain's L1 origins
catch up again; with equal block times they never would), and the sequencing window is 12 L1
blocks. The tests run in order on one devnet, each a phase:

1. calldata, singular batches, zlib (across the Isthmus activation);
2. blobs, span batches, brotli (across the Jovian activation);
3. DA ``auto`` (blobs win at anvil's prices), span, zlib; a tx stuck under a raised L1 base fee;
4. SIGKILL mid-channel and restart (no block left out, no bad frame order under Holocene);
5. an L1 reorg that removes confirmed batcher txs (re-sent; the safe head recovers);
6. the batcher frozen past the sequencing window, then resumed (notices the reorged chain);
   ``admin_stopBatcher`` / ``admin_startBatcher`` / ``admin_flushBatcher``;
7. a fixture captured from the whole chain checks clean with ``pyop derive --fixture --check``.

After each phase both verifiers must have the sequencer's block (same hash) as safe: the Go
op-node is the independent judge of what pyop batcher posted. The posted channels are read back
from L1 to check the DA type, batch type and compression of each phase.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyop.codec.compression import CompressionAlgo
from pyop.config import Fork
from pyop.devnet.l2_genesis import DEFAULT_FORK_OFFSETS
from pyop.devnet.process import free_port
from pyop.primitives import hex_to_int
from tests.batcher.batcher_devnet_harness import (
    BatcherDevnet,
    bring_up,
    metrics_text,
    posted_channels,
)
from tests.devnet.devnet_stack_harness import fork_block_number, wait_for

pytestmark = pytest.mark.slow

FORK_OFFSETS = {**DEFAULT_FORK_OFFSETS, Fork.ISTHMUS: 30, Fork.JOVIAN: 80}
METRICS_PORT = free_port()
COMMON = ["--resubmission-timeout=8s", "--metrics.enabled=true", "--metrics.addr=127.0.0.1",
          f"--metrics.port={METRICS_PORT}", "--log.level=debug"]  # fmt: skip
PHASE1 = [*COMMON, "--batch-type=0", "--compression-algo=zlib"]
PHASE2 = [*COMMON, "--batch-type=1", "--compression-algo=brotli", "--target-num-frames=2"]
PHASE3 = [*COMMON, "--batch-type=1", "--compression-algo=zlib", "--resubmission-timeout=4s"]
# small frames, several per channel: a channel takes a few L1 blocks to post (3 frames in flight,
# 6 KB per 4 s L1 block: more than the ~0.7 KB/s of L2 data, so nothing falls behind the window)
PHASE4 = [*COMMON, "--batch-type=1", "--max-l1-tx-size-bytes=2000", "--target-num-frames=8",
          "--max-channel-duration=8", "--max-pending-tx=3"]  # fmt: skip
TIMEOUT = 150.0
SEQ_WINDOW = 12


@pytest.fixture(scope="module")
def bd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BatcherDevnet]:
    yield from bring_up(tmp_path_factory.mktemp("batcher"), fork_offsets=FORK_OFFSETS,
                        batcher_flags=PHASE1, l1_block_time=4, seq_window_size=SEQ_WINDOW,
                        label="pyop batcher")  # fmt: skip


def channel_summary(bd: BatcherDevnet, from_l1: int, to_l1: int) -> list[tuple[set[int], CompressionAlgo, set[str]]]:
    out = []
    for ch in posted_channels(bd.dn, from_l1, to_l1).values():
        if ch.complete():
            algo, kinds = ch.read()
            out.append((ch.tx_types, algo, set(kinds)))
    return out


def test_phase1_calldata_singular_zlib_across_isthmus(bd: BatcherDevnet) -> None:
    isthmus = fork_block_number(bd.dn.info, "isthmus")
    bd.wait_verified(isthmus + 4, TIMEOUT, "(phase 1)")
    chans = channel_summary(bd, 1, bd.l1_head())
    assert chans, "no complete channel posted"
    assert all(t == {2} and algo is CompressionAlgo.ZLIB and kinds == {"singular"}
               for t, algo, kinds in chans), chans  # fmt: skip
    m = metrics_text(f"http://127.0.0.1:{METRICS_PORT}")
    assert "op_batcher_default_up 1" in m
    assert re.search(r'op_batcher_default_batcher_tx_total\{stage="success"\} [1-9]', m)
    assert "op_batcher_default_txmgr_current_nonce" in m


def test_phase2_blobs_span_brotli_across_jovian(bd: BatcherDevnet) -> None:
    bd.restart_batcher(PHASE2, da="blobs")
    start = bd.l1_head()  # the previous batcher's txs are all in (it stops after confirmations)
    jovian = fork_block_number(bd.dn.info, "jovian")
    bd.wait_verified(max(jovian + 4, bd.unsafe() + 4), TIMEOUT, "(phase 2)")
    chans = channel_summary(bd, start + 1, bd.l1_head())
    assert chans and all(t == {3} and algo is CompressionAlgo.BROTLI and kinds == {"span"}
                         for t, algo, kinds in chans), chans  # fmt: skip


def test_phase3_auto_picks_blobs_and_a_stuck_tx_is_bumped(bd: BatcherDevnet) -> None:
    bd.restart_batcher(PHASE3, da="auto")
    start = bd.l1_head()
    since = bd.batcher_log_size()
    bd.wait_verified(bd.unsafe() + 3, TIMEOUT, "(phase 3, auto)")
    log = bd.batcher_log(since)
    assert "Using blob channel config" in log  # anvil: blob base fee 1 wei
    chans = channel_summary(bd, start + 1, bd.l1_head())
    assert chans and all(t == {3} and kinds == {"span"} for t, _, kinds in chans), chans
    # a raised L1 base fee leaves the batcher's next tx underpriced; after the resubmission
    # timeout (4 s) the txmgr bumps it and it is mined
    since = bd.batcher_log_size()
    stop = threading.Event()

    def hold_base_fee() -> None:
        end = time.monotonic() + 10
        while not stop.is_set() and time.monotonic() < end:
            bd.dn.l1.call("anvil_setNextBlockBaseFeePerGas", hex(60 * 10**9))
            time.sleep(0.4)

    t = threading.Thread(target=hold_base_fee)
    t.start()
    try:
        wait_for(lambda: "bumping gas price" in bd.batcher_log(since), 60, "a fee bump")
    finally:
        stop.set()
        t.join()
    target = bd.unsafe() + 3
    bd.wait_verified(target, TIMEOUT, "(after the fee bump)")
    log = bd.batcher_log(since)
    bumped = re.findall(r'msg="Transaction confirmed" logger=pyop\.txmgr\.batcher tx=(0x[0-9a-f]+)', log)
    assert bumped
    high = [h for h in bumped
            if hex_to_int(bd.dn.l1.call("eth_getTransactionByHash", h)["maxFeePerGas"]) >= 60 * 10**9]
    assert high, "no tx with a bumped fee cap above the raised base fee was confirmed"


def test_phase4_sigkill_mid_channel_then_restart(bd: BatcherDevnet) -> None:
    bd.restart_batcher(PHASE4, da="calldata")
    since = bd.batcher_log_size()
    py_since = bd.py.op_node.log_path.stat().st_size if bd.py else 0

    def mid_channel() -> str | None:
        log = bd.batcher_log(since)
        for cid, n in re.findall(r'msg="Channel closed" id=([0-9a-f]+) .*?num_frames=(\d+)', log):
            if int(n) >= 3 and f"tx_id={cid}:0 tx=" in log and f"tx_id={cid}:{int(n) - 1} tx=" not in log:
                return cid
        return None

    cid = wait_for(mid_channel, 150, "a channel of 3+ frames with only its first frames confirmed",
                   interval=0.2)  # fmt: skip
    unsafe_at_kill = bd.unsafe()
    bd.stop_batcher(kill=True)
    bd.start_batcher(PHASE4, da="calldata")
    # every block the sequencer had at the kill becomes safe with its own hash on both
    # verifiers: nothing was left out, nothing replaced by deposit-only blocks
    bd.wait_verified(unsafe_at_kill + 2, TIMEOUT, f"(after SIGKILL in channel {cid})")
    if bd.py is not None:
        text = bd.py.op_node.log_path.read_bytes()[py_since:].decode("utf-8", "replace")
        for bad in ("FRAME_OUT_OF_ORDER", "FRAME_INVALID", "FRAME_WITHOUT_CHANNEL"):
            assert f"reason={bad}" not in text, f"pyop verifier dropped {bad} after the SIGKILL"


def test_phase5_l1_reorg_removing_batcher_txs_is_resent(bd: BatcherDevnet) -> None:
    dn = bd.dn
    batcher = str(dn.info.keys["batcher"]["address"]).lower()
    since = bd.batcher_log_size()
    safe_before = int(dn.sync_status()["safe_l2"]["number"])

    def reorg() -> dict[str, int] | None:
        head = bd.l1_head()
        fin = hex_to_int(dn.l1.call("eth_getBlockByNumber", "finalized", False)["number"])
        depth = min(3, head - fin)
        ours, others = [], []
        for n in range(head - depth + 1, head + 1):
            for tx in dn.l1.call("eth_getBlockByNumber", hex(n), True)["transactions"]:
                (ours if tx["from"].lower() == batcher else others).append(tx["hash"])
        if not ours or bd.l1_head() != head:
            return None
        raws = [dn.l1.call("eth_getRawTransactionByHash", h) for h in others]
        dn.l1.call("anvil_reorg", depth, [[r, 0] for r in raws])  # batcher txs are not re-added
        for h in ours:
            assert dn.l1.call("eth_getTransactionReceipt", h) is None
        return {"depth": depth, "removed": len(ours)}

    info = wait_for(reorg, 60, "confirmed batcher txs above the L1 finalized block to reorg out")
    wait_for(lambda: "confirmed transaction removed by an L1 reorg, re-sending it" in bd.batcher_log(since),
             60, "the txmgr to notice the removed batcher txs")  # fmt: skip
    assert info["removed"] >= 1
    bd.wait_verified(max(safe_before, bd.unsafe()) + 3, TIMEOUT, "(after the L1 reorg)")


def test_phase6_stopped_past_the_sequencing_window_then_continued(bd: BatcherDevnet) -> None:
    """The batcher process is frozen (SIGSTOP) with its state (loaded unsafe blocks, open
    channel) while the sequencing window of its next epoch passes; the chain it holds is replaced
    by deposit-only blocks. Resumed (SIGCONT), it must notice that its blocks are no longer the
    chain, start again from the safe head and keep batching."""
    dn = bd.dn
    bd.restart_batcher(PHASE1, da="calldata")
    bd.wait_verified(bd.unsafe() + 1, TIMEOUT, "(before the freeze)")
    pid = bd.batcher.pid
    os.kill(pid, signal.SIGSTOP)
    try:
        stopped_unsafe = bd.unsafe()

        def deposit_only_safe_block() -> int | None:
            # blocks the frozen batcher never posted become deposit-only once their epoch's
            # window expires (the sender puts user txs into every sequenced block)
            safe = int(dn.sync_status()["safe_l2"]["number"])
            for n in range(stopped_unsafe + 1, min(safe, stopped_unsafe + 30) + 1):
                b = dn.l2.call("eth_getBlockByNumber", hex(n), True)
                if b and all(hex_to_int(tx["type"]) == 0x7E for tx in b["transactions"]):
                    return n
            return None

        replaced = wait_for(deposit_only_safe_block, 180,
                            "a deposit-only safe block where the sequencer had user txs")  # fmt: skip
        since = bd.batcher_log_size()
    finally:
        os.kill(pid, signal.SIGCONT)
    assert replaced > stopped_unsafe
    target = bd.unsafe() + 3
    bd.wait_verified(target, 240, "(after the sequencing window passed)")
    log = bd.batcher_log(since)
    # the batcher saw the L2 chain change under it and started again from the safe head
    assert any(m in log for m in ("safe chain reorg", "does not extend existing chain",
                                  "next safe block is below oldest block in state",
                                  "safe head above newest block in state")), "no L2 reorg noticed"


def test_admin_flush_and_stopped_errors(bd: BatcherDevnet) -> None:
    assert bd.admin("admin_flushBatcher") is None
    from pyop.devnet.rpc import RpcError

    assert bd.admin("admin_stopBatcher") is None
    with pytest.raises(RpcError, match="batcher is not running"):
        bd.admin("admin_stopBatcher")
    with pytest.raises(RpcError, match="batcher is not running"):
        bd.admin("admin_flushBatcher")
    assert bd.admin("admin_startBatcher") is None
    bd.wait_verified(bd.unsafe() + 2, TIMEOUT, "(after admin restart)")


def test_phase7_fixture_from_the_chain_checks_clean(bd: BatcherDevnet, tmp_path: Path) -> None:
    dn = bd.dn
    safe = min(int(dn.sync_status()["safe_l2"]["number"]), fork_block_number(dn.info, "jovian") + 20)
    fx = tmp_path / "fixture.json"
    common = ["--l1", dn.info.l1_url, "--l1.beacon", dn.info.l1_beacon_url, "--l2", dn.info.l2_rpc_url,
              "--rollup-config", str(dn.info.rollup_path)]  # fmt: skip
    # anvil's L1 (chain 900) has no built-in blob schedule: the devnet's L1 chain config
    cap = subprocess.run([sys.executable, "-m", "pyop.cli", "capture", *common, "--from-l2", "1",
                          "--to-l2", str(safe), "-o", str(fx),
                          f"--rollup.l1-chain-config={dn.info.l1_chain_config_path}"],
                         capture_output=True, text=True, timeout=300)  # fmt: skip
    assert cap.returncode == 0, cap.stderr[-2000:]
    der = subprocess.run([sys.executable, "-m", "pyop.cli", "derive", "--fixture", str(fx), "--check"],
                         capture_output=True, text=True, timeout=300)  # fmt: skip
    assert der.returncode == 0, der.stderr[-2000:]
    assert len(der.stdout.splitlines()) >= safe - 1
