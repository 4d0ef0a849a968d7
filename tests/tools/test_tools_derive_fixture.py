"""``pyop derive --fixture`` over fixtures built from the derivation scenario harness: the
harness's true L2 chain is the independent expectation."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from pathlib import Path

import pytest
from eth_hash.auto import keccak

from pyop.cli import main
from pyop.codec.tx import BLOB_TX_TYPE, decode_signed_tx
from pyop.config import ChainOpConfig
from pyop.derivation.interfaces import IndexedBlobHash
from pyop.primitives import to_hex
from pyop.tools.derive import compare_attributes, run_derive
from pyop.tools.fixture import (
    DerivationFixture,
    FixtureL1Block,
    fixture_sources,
    load_fixture,
    save_fixture,
)
from tests.derivation import harness as H


def fixture_from_builder(b: H.ChainBuilder, start: int, end: int) -> DerivationFixture:
    blocks = []
    for blk in b.l1.canonical_blocks():
        hashes, index = [], 0
        for raw in blk.txs:
            if raw[0] == BLOB_TX_TYPE:
                tx = decode_signed_tx(raw)
                if tx.to == b.cfg.batch_inbox_address:
                    hashes += [IndexedBlobHash(index + j, h) for j, h in enumerate(tx.blob_versioned_hashes)]
                index += len(tx.blob_versioned_hashes)
        blobs = tuple(b.blobs.get_blobs(blk.header.ref(), hashes)) if hashes else ()
        blocks.append(FixtureL1Block(blk.header, blk.txs, blobs, blk.receipts))
    true = b.l2[: end + 1]
    return DerivationFixture(
        rollup_config=b.cfg,
        l1_blocks=blocks,
        l2_cursor_start=start,
        l2_cursor_end=end,
        l2_payloads={t.number: t.attributes for t in true if t.number > start},
        ref_payloads={t.number: t.attributes for t in true if t.number <= start},
        l2_system_configs={t.number: t.system_config for t in true},
        l2_block_infos={t.number: t.ref for t in true},
        l2_blocks={t.number: t.payload for t in true},
        meta={"tool": "test"},
        l1_chain_config=H.L1_CHAIN_CONFIG,
    )


@pytest.fixture(scope="module")
def scenario() -> H.ChainBuilder:
    b = H.ChainBuilder(fork="holocene", seed=5, txs_per_block=(1, 2))
    b.deposit(2)
    b.submit(3, range(1, 7), span=True)
    b.submit(5, range(7, 12), da="blob")
    b.submit(7, range(12, 16))
    b.build(10)
    return b


def _lines(text: str) -> list[dict[str, object]]:
    return [json.loads(x) for x in text.splitlines() if x.strip()]


def test_fixture_round_trip_and_sources(scenario: H.ChainBuilder, tmp_path: Path) -> None:
    fx = fixture_from_builder(scenario, 0, 15)
    path = tmp_path / "fx.json"
    save_fixture(fx, path)
    back = load_fixture(path)
    assert back.to_json() == fx.to_json()
    assert back.l2_blocks == fx.l2_blocks
    assert back.l2_payloads == fx.l2_payloads
    l1, l2, _blobs = fixture_sources(back)
    for blk in scenario.l1.canonical_blocks():
        h = blk.header.hash
        assert l1.header_by_hash(h) == blk.header
        assert tuple(l1.transactions_by_hash(h)) == blk.txs
        assert tuple(l1.receipts_by_hash(h)) == blk.receipts
    for t in scenario.l2[:16]:
        assert l2.l2_block_ref_by_number(t.number) == t.ref
        assert l2.system_config_by_l2_hash(t.ref.hash) == t.system_config
    # the blob batch's blobs are served by versioned hash
    assert any(b.blobs for b in back.l1_blocks)


@pytest.mark.parametrize("start", [0, 4])
def test_derive_check_matches_true_chain(
    scenario: H.ChainBuilder, tmp_path: Path, start: int, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "fx.json"
    save_fixture(fixture_from_builder(scenario, start, 15), path)
    rc = main(["derive", "--fixture", str(path), "--check"])
    out, err = capsys.readouterr()
    assert rc == 0, err
    lines = _lines(out)
    assert [x["l2_block_number"] for x in lines] == list(range(start + 1, 16))
    for x in lines:
        true = scenario.l2[int(str(x["l2_block_number"]))]
        want = true.attributes.to_json()
        assert {k: v for k, v in x.items() if k in want} == want
        assert x["match"] is True
        assert isinstance(x["derived_from"], dict)
    assert err.strip().splitlines()[-1] == f"{15 - start} blocks: {15 - start} matched, 0 mismatched"


def test_derive_check_reports_first_tx_difference(
    scenario: H.ChainBuilder, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fx = fixture_from_builder(scenario, 0, 15)
    # the reference block 9 lost its last tx: derivation (which has it) must disagree there
    p9 = fx.l2_blocks[9]
    assert len(p9.transactions) >= 2
    fx.l2_blocks[9] = replace(p9, transactions=p9.transactions[:-1])
    path = tmp_path / "bad.json"
    save_fixture(fx, path)
    rc = main(["derive", "--fixture", str(path), "--check"])
    out, err = capsys.readouterr()
    assert rc == 1
    lines = _lines(out)
    assert [x["match"] for x in lines] == [True] * 8 + [False]
    missing = len(p9.transactions) - 1
    assert f"transactions[{missing}] differ" in err

    assert to_hex(keccak(p9.transactions[-1])) in err
    assert err.strip().splitlines()[-1] == "9 blocks: 8 matched, 1 mismatched"


def test_derive_explain_lists_decisions(
    scenario: H.ChainBuilder, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "fx.json"
    save_fixture(fixture_from_builder(scenario, 0, 6), path)
    rc = main(["derive", "--fixture", str(path), "--explain"])
    out, err = capsys.readouterr()
    assert rc == 0
    assert len(_lines(out)) == 6
    assert "decision: " in err and "RESET" in err
    assert "block 1: derived from L1 block 3" in err


def test_derive_short_fixture_fails_check(
    scenario: H.ChainBuilder, tmp_path: Path
) -> None:
    fx = fixture_from_builder(scenario, 0, 15)
    fx.l1_blocks = fx.l1_blocks[:6]  # the batch of blocks 12..15 (L1 block 7) is missing
    err_buf = io.StringIO()
    res = run_derive(fx, check=True, out=io.StringIO(), err=err_buf)
    assert not res.ok
    assert res.mismatched == 0 and res.derived < 15


def test_compare_attributes_eip1559_and_min_base_fee(scenario: H.ChainBuilder) -> None:
    t = scenario.l2[3]
    cfg = scenario.cfg
    assert compare_attributes(cfg, t.attributes, block=t.payload) == []
    bad = replace(t.payload, extra_data=b"\x00" + (250).to_bytes(4, "big") + (6).to_bytes(4, "big"))
    a = replace(t.attributes, eip1559_params=(50).to_bytes(4, "big") + (6).to_bytes(4, "big"))
    d = compare_attributes(cfg, a, block=bad)
    assert len(d) == 1 and d[0].startswith("eip1559Params")
    # a Jovian minBaseFee against a v0 extraData
    d2 = compare_attributes(cfg, replace(t.attributes, min_base_fee=7), block=t.payload)
    assert any(x.startswith("minBaseFee") for x in d2)
    v1 = replace(t.payload, extra_data=b"\x01" + t.payload.extra_data[1:9] + (7).to_bytes(8, "big"))
    assert compare_attributes(cfg, replace(t.attributes, min_base_fee=7), block=v1) == []


def test_compare_attributes_does_not_skip_zero_eip1559_params(scenario: H.ChainBuilder) -> None:
    """Audit F15: derived all-zero Holocene ``eip1559Params`` ("the chain's defaults") are
    compared too. op-geth's miner writes the chain's Canyon denominator and elasticity
    (rollup.json ``chain_op_config``) into extraData for zero params; other params in the
    reference block are a difference (e.g. D8: Go sent the SystemConfig's params on the
    Holocene activation block where the spec would send zeros)."""
    t = scenario.l2[3]
    zero = replace(t.attributes, eip1559_params=bytes(8))
    go_block = replace(t.payload, extra_data=b"\x00" + (100).to_bytes(4, "big") + (3).to_bytes(4, "big"))
    # no chain_op_config: the defaults are unknown, the zero params are compared as they are
    d = compare_attributes(scenario.cfg, zero, block=go_block)
    assert len(d) == 1 and d[0].startswith("eip1559Params"), d
    cfg = replace(scenario.cfg, chain_op_config=ChainOpConfig(6, 50, 250))
    d2 = compare_attributes(cfg, zero, block=go_block)
    assert len(d2) == 1 and "0x000000fa00000006" in d2[0], d2  # the defaults 250 / 6
    defaults = replace(t.payload, extra_data=b"\x00" + (250).to_bytes(4, "big") + (6).to_bytes(4, "big"))
    assert compare_attributes(cfg, zero, block=defaults) == []
    # against expected attributes: zero vs the SystemConfig's params is a difference
    want = replace(t.attributes, eip1559_params=(100).to_bytes(4, "big") + (3).to_bytes(4, "big"))
    d3 = compare_attributes(cfg, zero, expected=want)
    assert len(d3) == 1 and d3[0].startswith("eip1559Params"), d3
