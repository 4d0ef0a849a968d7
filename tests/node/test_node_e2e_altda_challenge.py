"""End to end: a keccak alt-DA devnet with a ``DataAvailabilityChallenge`` contract, and an
input commitment challenged on L1 and never resolved: ``pyop node`` (verifier) and the Go
op-node (sequencer) must both reset when the challenge expires, skip that input when deriving
again, and keep the same safe chain at every poll (specs/experimental/alt-da.md "Derivation":
"If a challenge is not resolved by the time resolve_window of L1 blocks have passed, chain
derivation must be reset, omitting the input data when rederiving therefore causing a reorg").

anvil L1 + OP contracts + the challenge contract (challenge window 8, resolve window 4 L1 blocks)
+ op-geth + the Go op-node sequencer + the Go op-batcher computing keccak commitments
(``--altda.da-service=false``) into pyop's DA server; ``pyop node`` on a second op-geth. The
input stays on the DA server: only the unresolved challenge makes it invalid.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from pyop.devnet.da_challenge import DEVNET_BOND_SIZE, DAChallengeClient
from pyop.devnet.process import PidRegistry
from pyop.devnet.rpc import RpcClient
from pyop.devnet.stack import Verifier, start_verifier
from pyop.primitives import from_hex, hex_to_int
from pyop.protocol.altda import ChallengeStatus
from tests.devnet.devnet_stack_harness import Devnet, batcher_txs, wait_for
from tests.node.node_e2e_harness import bring_up, compare_safe_heads, count_in_log, sync_status

pytestmark = pytest.mark.slow

CW, RW = 8, 4


@pytest.fixture(scope="module")
def dn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devnet]:
    yield from bring_up(tmp_path_factory.mktemp("e2e-altda-keccak"), stack="go", proposer=False,
                        label="keccak alt-DA Go sequencer", altda=True, altda_commitment="keccak",
                        altda_windows=(CW, RW))  # fmt: skip


@pytest.fixture(scope="module")
def verifier(dn: Devnet) -> Iterator[Verifier]:
    v = start_verifier(dn.info, name="pyop-verifier", kind="pyop")
    try:
        yield v
    finally:
        v.stop(PidRegistry(dn.info.directory))


def test_unresolved_challenge_reorgs_both_nodes_alike(dn: Devnet, verifier: Verifier) -> None:
    v = verifier
    py_l2 = RpcClient(v.op_geth.http_url)

    def compare() -> int:
        return compare_safe_heads(dn.info.rollup_rpc_url, dn.l2, v.rollup_rpc_url, py_l2)

    wait_for(lambda: compare() >= 6, 120, "both nodes safe past block 6")
    # the newest commitment both nodes have derived from
    head = hex_to_int(dn.l1.call("eth_blockNumber"))
    txs = batcher_txs(dn, head - 4, head)
    assert txs, "no batcher commitment in the last L1 blocks"
    tx = txs[-1]
    b = hex_to_int(tx["blockNumber"])
    data = from_hex(tx["input"])
    assert data[:2] == b"\x01\x00" and len(data) == 34, "not a keccak commitment"
    comm = data[1:]
    wait_for(lambda: all(int(sync_status(u)["current_l1"]["number"]) > b
                         for u in (dn.info.rollup_rpc_url, v.rollup_rpc_url)), 30, "both nodes past the commitment")  # fmt: skip
    safe_before = int(dn.sync_status()["safe_l2"]["number"])
    dac = DAChallengeClient(dn.l1, dn.info.key("challenger"), dn.info.addresses["DataAvailabilityChallengeProxy"])
    cb = dac.challenge(b, comm, bond=DEVNET_BOND_SIZE).block_number
    assert cb <= b + CW
    t0 = time.monotonic()
    go_log = dn.stack.processes["op-node"]
    polls = 0

    def both_skipped() -> bool:
        nonlocal polls
        compare()
        polls += 1
        return (count_in_log(v.op_node, "ALTDA_CHALLENGE_EXPIRED") > 0
                and count_in_log(go_log, "challenge expired, skipping batch") > 0)  # fmt: skip

    wait_for(both_skipped, 120, "both nodes skipping the expired input", 1.0)
    t_skip = time.monotonic() - t0
    assert dac.status(b, comm) == ChallengeStatus.EXPIRED
    assert count_in_log(v.op_node, "new expired challenge") > 0  # pyop reset for it, as Go
    assert count_in_log(go_log, "new expired challenge") > 0

    def recovered() -> bool:
        nonlocal polls
        polls += 1
        return compare() > safe_before + 4

    wait_for(recovered, 180, "both safe heads past the challenged batch again", 1.0)
    wait_for(lambda: dn.sync_status()["safe_l2"]["hash"] == sync_status(v.rollup_rpc_url)["safe_l2"]["hash"],
             60, "equal safe heads", 0.5)  # fmt: skip
    print(f"\n[alt-DA challenge] commitment in L1 {b} challenged in {cb}; both skipped it {t_skip:.1f}s later; "
          f"recovered {time.monotonic() - t0:.1f}s after the challenge; {polls} safe-head comparisons, all equal; "
          f"safe head {dn.sync_status()['safe_l2']['number']} (was {safe_before})")  # fmt: skip
