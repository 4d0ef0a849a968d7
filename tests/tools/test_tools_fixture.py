"""The derivation fixture format: reading ethereum-optimism/tests' example fixture
(``spec_vectors/derivation/op-test-vectors-derivation_fixture.json``) and round trips."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import rlp
from eth_hash.auto import keccak

from pyop.config import network_config
from pyop.primitives import BlockID, L2BlockRef, SystemConfig
from pyop.tools.fixture import (
    DerivationFixture,
    FixtureError,
    attributes_from_json,
    l2_ref_from_json,
    load_fixture,
    system_config_from_json,
    system_config_to_json,
)

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "spec_vectors" / "derivation" / "op-test-vectors-derivation_fixture.json"


def _example() -> dict[str, object]:
    obj = json.loads(EXAMPLE.read_text())
    # the example's rollupConfig is kona's all-zero default (no genesis system config), which no
    # rollup.json reader accepts; the rest of the layout is what this test is about
    obj["rollupConfig"] = network_config("op-mainnet").to_json()
    return obj


def test_reads_the_op_test_vectors_example() -> None:
    raw = json.loads(EXAMPLE.read_text())
    fx = DerivationFixture.from_json(_example())
    assert fx.l2_cursor_start == raw["l2CursorStart"] == 1
    assert fx.l2_cursor_end == raw["l2CursorEnd"] == 3
    assert len(fx.l1_blocks) == len(raw["l1Blocks"]) == 3
    b0, h0 = fx.l1_blocks[0], raw["l1Blocks"][0]["header"]
    assert b0.header.number == 1 and b0.header.timestamp == 102
    # the header has every pre-London field and no hash: pyop computes keccak(rlp(header))
    fields = [bytes.fromhex(h0[k][2:]) for k in ("parentHash", "ommersHash", "beneficiary",
              "stateRoot", "transactionsRoot", "receiptsRoot", "logsBloom")]  # fmt: skip
    fields += [int(h0["difficulty"], 16), int(h0["number"], 16), int(h0["gasLimit"], 16),
               int(h0["gasUsed"], 16), h0["timestamp"], bytes.fromhex(h0["extraData"][2:]),
               bytes.fromhex(h0["mixHash"][2:]), bytes.fromhex(h0["nonce"][2:])]  # fmt: skip
    assert b0.header.hash == keccak(rlp.encode(fields))
    assert [t.hex() for t in b0.transactions] == [t[2:] for t in raw["l1Blocks"][0]["transactions"]]
    (r,) = b0.receipts
    assert r.successful and r.logs[0].address == bytes.fromhex("4200000000000000000000000000000000000011")
    # payload attributes with decimal numbers
    p1 = fx.l2_payloads[1]
    assert p1.timestamp == 1722550777 and p1.gas_limit == 30_000_000 and p1.withdrawals == ()
    # the older kona system config ("batcherAddress", U256 quantities) and block-info spellings
    sc = fx.l2_system_configs[1]
    assert sc.batcher_addr == b"\x33" * 20
    assert sc.overhead == (8).to_bytes(32, "big") and sc.scalar == (7).to_bytes(32, "big")
    ref = fx.l2_block_infos[2]
    assert ref.number == 2 and ref.timestamp == 104 and ref.parent_hash == b"\xbb" * 32
    assert ref.l1_origin.number == 1 and ref.sequence_number == 0


def test_example_round_trip(tmp_path: Path) -> None:
    fx = DerivationFixture.from_json(_example())
    j = fx.to_json()
    again = DerivationFixture.from_json(json.loads(json.dumps(j)))
    assert again.to_json() == j
    assert again.l2_payloads == fx.l2_payloads
    assert again.l2_block_infos == fx.l2_block_infos
    assert [b.header for b in again.l1_blocks] == [b.header for b in fx.l1_blocks]


def test_system_config_spellings() -> None:
    sc = SystemConfig(b"\x01" * 20, (5).to_bytes(32, "big"), b"\x01" + bytes(23) + (7).to_bytes(4, "big") + (9).to_bytes(4, "big"),
                      30_000_000, (250).to_bytes(4, "big") + (6).to_bytes(4, "big"),
                      bytes(20) + (3).to_bytes(4, "big") + (4).to_bytes(8, "big"), 10**9, 400)  # fmt: skip
    assert system_config_from_json(system_config_to_json(sc)) == sc
    kona = {"batcherAddress": "0x" + "01" * 20, "overhead": "0x5", "gasLimit": 30_000_000,
            "baseFeeScalar": 9, "blobBaseFeeScalar": 7, "eip1559Denominator": 250,
            "eip1559Elasticity": 6, "operatorFeeScalar": 3, "operatorFeeConstant": 4,
            "minBaseFee": 10**9, "daFootprintGasScalar": 400}  # fmt: skip
    assert system_config_from_json(kona) == sc


def test_l2_ref_spellings() -> None:
    ref = L2BlockRef(b"\x02" * 32, 7, b"\x01" * 32, 99, BlockID(b"\x03" * 32, 4), 2)
    assert l2_ref_from_json(ref.to_json()) == ref


@pytest.mark.parametrize(
    "mutate",
    [
        lambda o: o.pop("l2CursorStart"),
        lambda o: o["l1Blocks"][0]["header"].__setitem__("hash", "0x" + "00" * 32),
        lambda o: o["l1Blocks"][0].__setitem__("transactions", [{"EIP1559": {}}]),
        lambda o: o["l2Payloads"]["1"].pop("prevRandao"),
        lambda o: o["l2SystemConfigs"]["1"].pop("batcherAddress"),
        lambda o: o.__setitem__("rollupConfig", {"nope": 1}),
    ],
)
def test_bad_fixtures_raise_fixture_error(mutate: object) -> None:
    obj = _example()
    mutate(obj)  # type: ignore[operator]
    with pytest.raises(FixtureError):
        DerivationFixture.from_json(obj)


def test_load_errors(tmp_path: Path) -> None:
    with pytest.raises(FixtureError):
        load_fixture(tmp_path / "missing.json")
    p = tmp_path / "bad.json"
    p.write_text("{")
    with pytest.raises(FixtureError):
        load_fixture(p)
    with pytest.raises(FixtureError):
        attributes_from_json([])
