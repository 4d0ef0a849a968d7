"""Differential test across a Karst activation (derivation audit D1).

``spec_vectors/derivation/differential/go-devnet-karst.json.gz``: 200 L2 blocks produced by the
Go op-node v1.19.6 sequencer (op-geth v1.101702.3-rc.7) and posted by the Go op-batcher, Karst
activating at L2 block 90 (README next to the fixture). ``pyop derive --fixture F --check`` must
reproduce every Go block, also when derivation restarts with the activation block as the safe
head (the SystemConfig is then rebuilt from that block, whose gas limit carries the one-time
upgrade gas: op-node ``upgradeGasToStrip``). The content checks read the raw JSON and compare
with op-node's own deposits (``spec_vectors/upgrades/go-v1.19.6-nut-upgrades.json``), not with
pyop's code.
"""

from __future__ import annotations

import io
import json
from dataclasses import replace
from typing import Any

import pytest
from eth_hash.auto import keccak

from pyop.tools.derive import run_derive
from pyop.tools.fixture import DerivationFixture, load_fixture
from tests.conftest import REPO
from tests.derivation.go_fixture_files import num, read_raw

FIXTURE = REPO / "spec_vectors" / "derivation" / "differential" / "go-devnet-karst.json.gz"
GO_UPGRADES = {s["name"]: s for s in json.loads(
    (REPO / "spec_vectors/upgrades/go-v1.19.6-nut-upgrades.json").read_text())["sets"]}  # fmt: skip


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    return read_raw(FIXTURE)


@pytest.fixture(scope="module")
def fx() -> DerivationFixture:
    return load_fixture(FIXTURE)


@pytest.fixture(scope="module")
def activation(raw: dict[str, Any]) -> int:
    """The Karst activation block's number (from the raw JSON)."""
    t = raw["rollupConfig"]["karst_time"]
    blocks = raw["pyopL2Blocks"]
    (n,) = [int(k) for k, b in blocks.items() if num(b["timestamp"]) == t]
    return n


def _check(fx: DerivationFixture) -> None:
    out, err = io.StringIO(), io.StringIO()
    res = run_derive(fx, check=True, out=out, err=err)
    log = err.getvalue()
    assert res.ok and res.mismatched == 0, log[-3000:]
    assert res.derived == fx.l2_cursor_end - fx.l2_cursor_start
    assert log.strip().splitlines()[-1] == f"{res.derived} blocks: {res.derived} matched, 0 mismatched"


def test_derive_check_matches_every_go_block_across_karst(fx: DerivationFixture, activation: int) -> None:
    assert fx.l2_cursor_start < activation - 1 and fx.l2_cursor_end > activation + 50
    _check(fx)


def test_derive_from_the_activation_block_as_safe_head(fx: DerivationFixture, activation: int) -> None:
    """A pipeline (re)started on the activation block: the SystemConfig of the next block comes
    from that block's payload (no captured SystemConfig), minus the upgrade gas, so the next
    block's gas limit is the steady-state one, as in the Go chain."""
    sub = replace(
        fx,
        l2_cursor_start=activation,
        l2_system_configs={n: c for n, c in fx.l2_system_configs.items() if n < activation},
        l2_payloads={n: a for n, a in fx.l2_payloads.items() if n > activation},
    )
    _check(sub)


def test_fixture_has_the_karst_activation_block(raw: dict[str, Any], activation: int) -> None:
    """The Go activation block: L1-info deposit, then op-node's 31 Karst deposits, gas limit =
    the SystemConfig's + op-node's upgrade gas; the next block is back to the SystemConfig's
    limit; the block before is not genesis."""
    blocks = {int(k): v for k, v in raw["pyopL2Blocks"].items()}
    assert activation - 1 > raw["l2CursorStart"]
    blk = blocks[activation]
    txs = [bytes.fromhex(t[2:]) for t in blk["transactions"]]
    want = [t["hash"] for t in GO_UPGRADES["karst"]["txs"]]
    assert ["0x" + keccak(t).hex() for t in txs[-len(want):]] == want
    assert all(t[0] == 0x7E for t in txs)  # no user txs in the activation block
    before, after = num(blocks[activation - 1]["gasLimit"]), num(blocks[activation + 1]["gasLimit"])
    assert num(blk["gasLimit"]) == before + GO_UPGRADES["karst"]["upgradeGas"]
    assert after == before
    # the devnet's L1 chain config travels with the fixture (L1 chain 900 is not built in)
    assert raw["pyopL1ChainConfig"]["chainId"] == raw["rollupConfig"]["l1_chain_id"]
