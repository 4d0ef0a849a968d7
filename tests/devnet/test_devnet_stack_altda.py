"""Live devnet in alt-DA mode: the Go op-batcher stores each batch in pyop's DA server
(``pyop.devnet.da_server``, generic commitments) and posts only the commitment to L1; the Go
op-node reads the batch back from the DA server and the safe head advances.

Expected formats (specs/experimental/alt-da.md "Input Commitment Submission"): batcher calldata
``0x01 ‖ 0x01 (generic) ‖ da_layer_byte ‖ payload``; this DA server's payload is
``keccak256(input)`` (checked here against the data it serves).
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator

import pytest
from eth_hash.auto import keccak

from pyop.config import Fork
from pyop.devnet.l2_genesis import DEFAULT_FORK_OFFSETS
from pyop.primitives import from_hex, hex_to_int
from tests.devnet.devnet_stack_harness import (
    Devnet,
    batcher_txs,
    bring_up,
    l2_block,
    safe_head_advances,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def dn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devnet]:
    yield from bring_up(tmp_path_factory.mktemp("altda"), altda=True,
                        fork_offsets={**DEFAULT_FORK_OFFSETS, Fork.ISTHMUS: 0, Fork.JOVIAN: None})  # fmt: skip


def test_rollup_config_has_generic_alt_da(dn: Devnet) -> None:
    rollup = json.loads(dn.info.rollup_path.read_text())
    assert rollup["alt_da"]["da_commitment_type"] == "GenericCommitment"
    # Generic commitments have no DataAvailabilityChallenge contract (op-node rejects one).
    assert int(rollup["alt_da"].get("da_challenge_contract_address", "0x0"), 16) == 0
    for name in ("op-node", "op-batcher"):
        argv = dn.stack.processes[name].argv
        assert "--altda.enabled=true" in argv and f"--altda.da-server={dn.info.url('daServer')}" in argv


def test_safe_head_advances_through_the_da_server(dn: Devnet) -> None:
    dn.assert_alive()
    before, after = safe_head_advances(dn, blocks=4, timeout=90)
    assert after > before
    txs = batcher_txs(dn, 1, hex_to_int(dn.l1.call("eth_blockNumber")))
    assert txs, "no batcher commitments on L1"
    for tx in txs:
        data = from_hex(tx["input"])
        assert data[:2] == b"\x01\x01", f"not a generic alt-DA commitment: {tx['input'][:10]}"
        assert len(data) == 2 + 1 + 32
        url = f"{dn.info.url('daServer')}/get/0x{data[1:].hex()}"
        with urllib.request.urlopen(url, timeout=5) as resp:
            preimage = resp.read()
        assert keccak(preimage) == data[3:]
        assert preimage[0] == 0, "DA input must be derivation version 0 frames"
    safe = dn.sync_status()["safe_l2"]
    assert l2_block(dn, int(safe["number"]))["hash"] == safe["hash"]
