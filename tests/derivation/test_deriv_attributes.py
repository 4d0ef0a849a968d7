"""Payload attributes (pyop.derivation.attributes, attributes_queue): per fork, and against
real OP Sepolia payloads (shared vectors ``payloads/op-sepolia-block-*.json``)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from pyop.codec.batch import SingularBatch
from pyop.config.l1_chains import BlobConfig
from pyop.derivation.attributes import (
    AttributesBuilder,
    L1BlobSchedule,
    blob_base_fee_update_fraction,
    build_payload_attributes,
    eip1559_params_for,
)
from pyop.derivation.attributes_queue import AttributesQueue
from pyop.derivation.errors import CriticalError, ResetError, TemporaryError
from pyop.derivation.interfaces import NotFound
from pyop.primitives import BlockID, L1Header, L2BlockRef, SystemConfig, from_hex, hex_to_int
from pyop.protocol.deposit_log import encode_deposit_log
from pyop.protocol.deposits import DepositTx
from pyop.protocol.l1_info import (
    BLOB_BASE_FEE_UPDATE_FRACTION_CANCUN,
    L1InfoFormat,
    decode_l1_info_tx,
)
from pyop.protocol.l1_types import Receipt
from pyop.protocol.predeploys import SEQUENCER_FEE_VAULT
from pyop.protocol.system_config import encode_ecotone_scalar
from pyop.protocol.upgrades import ecotone_upgrade_txs, jovian_upgrade_txs
from tests.conftest import SHARED_VECTORS
from tests.derivation.deriv_fakes import GENESIS_TIME, SYSCFG, FifoBatches, h, l1, l2, make_cfg


def header(ref_n: int, **kw: object) -> L1Header:
    r = l1(ref_n)
    base: dict[str, object] = dict(hash=r.hash, number=r.number, parent_hash=r.parent_hash,
                                   timestamp=r.timestamp, base_fee=7, mix_digest=h("mix", ref_n),
                                   excess_blob_gas=0, parent_beacon_root=h("beacon", ref_n))  # fmt: skip
    base.update(kw)
    return L1Header(**base)  # type: ignore[arg-type]


PARENT = l2(10, l1(1), seq=4)  # time G+20


def attrs_at(cfg, parent=PARENT, **kw):  # type: ignore[no-untyped-def]
    return build_payload_attributes(cfg, SYSCFG, header(1), parent, seq_number=5, **kw)


def test_bedrock_fields() -> None:
    a = attrs_at(make_cfg(regolith_time=0))
    assert a.timestamp == GENESIS_TIME + 22 and a.no_tx_pool and a.gas_limit == SYSCFG.gas_limit
    assert a.prev_randao == h("mix", 1) and a.suggested_fee_recipient == SEQUENCER_FEE_VAULT
    assert a.withdrawals is None and a.parent_beacon_block_root is None
    assert a.eip1559_params is None and a.min_base_fee is None
    _, info = decode_l1_info_tx(a.transactions[0])
    assert info.format is L1InfoFormat.BEDROCK and info.sequence_number == 5 and info.number == 1


def test_canyon_withdrawals_and_ecotone_beacon_root() -> None:
    a = attrs_at(make_cfg(all_until="canyon"))
    assert a.withdrawals == () and a.parent_beacon_block_root is None
    b = attrs_at(make_cfg(all_until="ecotone"))
    assert b.parent_beacon_block_root == h("beacon", 1)
    # no beacon root on the L1 origin: zero hash (op-node)
    c = build_payload_attributes(make_cfg(all_until="ecotone"), SYSCFG, header(1, parent_beacon_root=None),
                                 PARENT, seq_number=0)  # fmt: skip
    assert c.parent_beacon_block_root == b"\x00" * 32


def test_ecotone_activation_block() -> None:
    cfg = make_cfg(all_until="delta", ecotone_time=GENESIS_TIME + 22)
    a = attrs_at(cfg)
    assert a.transactions[1:] == tuple(t.encode() for t in ecotone_upgrade_txs())
    assert len(a.transactions) == 7
    _, info = decode_l1_info_tx(a.transactions[0])
    assert info.format is L1InfoFormat.BEDROCK  # ecotone/l1-attributes.md: activation block
    nxt = attrs_at(cfg, parent=replace(PARENT, timestamp=GENESIS_TIME + 22, number=11))
    _, info2 = decode_l1_info_tx(nxt.transactions[0])
    assert info2.format is L1InfoFormat.ECOTONE and len(nxt.transactions) == 1


def test_user_deposits_after_l1_info_before_upgrades() -> None:
    cfg = make_cfg(all_until="delta", ecotone_time=GENESIS_TIME + 22)
    a = attrs_at(cfg, user_deposits=[b"\x7edep"])
    assert a.transactions[1] == b"\x7edep" and len(a.transactions) == 8


def test_holocene_eip1559_params() -> None:
    """op-node attributes.go: ``if IsHolocene(nextL2Time) { EIP1559Params =
    sysConfig.EIP1559Params }``, also on the activation block (the spec and kona put zeros
    there; pyop follows op-node, see ``eip1559_params_for``)."""
    sc = replace(SYSCFG, eip1559_params=bytes.fromhex("000000fa00000006"))
    cfg = make_cfg(all_until="granite", holocene_time=GENESIS_TIME + 22)
    assert eip1559_params_for(cfg, sc, GENESIS_TIME + 20) is None
    assert eip1559_params_for(cfg, sc, GENESIS_TIME + 22) == bytes.fromhex("000000fa00000006")
    assert eip1559_params_for(cfg, sc, GENESIS_TIME + 24) == bytes.fromhex("000000fa00000006")
    # PARENT is at G+20: the attributes are for the activation block at G+22
    a = build_payload_attributes(cfg, sc, header(1), PARENT, seq_number=5)
    assert a.eip1559_params == bytes.fromhex("000000fa00000006")
    # the usual case: the SystemConfig rebuilt from a pre-Holocene parent has zero params
    assert build_payload_attributes(cfg, SYSCFG, header(1), PARENT, seq_number=5).eip1559_params == bytes(8)


def test_jovian_min_base_fee_and_activation() -> None:
    sc = replace(SYSCFG, min_base_fee=123)
    cfg = make_cfg(all_until="isthmus", jovian_time=GENESIS_TIME + 22)
    a = build_payload_attributes(cfg, sc, header(1), PARENT, seq_number=5)
    assert a.min_base_fee == 123
    assert a.transactions[1:] == tuple(t.encode() for t in jovian_upgrade_txs())
    _, info = decode_l1_info_tx(a.transactions[0])
    assert info.format is L1InfoFormat.ISTHMUS  # jovian/l1-attributes.md: activation block
    pre = build_payload_attributes(cfg, sc, header(1), replace(PARENT, timestamp=GENESIS_TIME + 18), seq_number=5)
    assert pre.min_base_fee is None


def test_time_invariant_reset() -> None:
    with pytest.raises(ResetError):
        build_payload_attributes(make_cfg(), SYSCFG, header(3), PARENT, seq_number=0)  # L1 time G+36 > G+22


def test_blob_fee_fraction_rules() -> None:
    """The fraction comes from the L1 chain's schedule, never from the header's shape (the old
    ``requests_hash`` guess could not see BPO forks)."""
    cfg = make_cfg(all_until="ecotone")  # L1 chain 900: no built-in schedule
    prague = header(1, requests_hash=b"\x00" * 32, excess_blob_gas=1)
    with pytest.raises(CriticalError, match="no blob schedule"):
        blob_base_fee_update_fraction(cfg, prague)
    sched = L1BlobSchedule(900, (("cancun", 0, BlobConfig(3, 6, 41)), ("prague", l1(1).timestamp, BlobConfig(6, 9, 42))))
    assert blob_base_fee_update_fraction(cfg, header(1), sched) == 42
    assert blob_base_fee_update_fraction(cfg, header(0), sched) == 41
    # pectra blob schedule: before its (L1 origin) time the Cancun fraction is kept
    cfg2 = make_cfg(all_until="ecotone", pectra_blob_schedule_time=l1(2).timestamp)
    assert blob_base_fee_update_fraction(cfg2, prague, sched) == BLOB_BASE_FEE_UPDATE_FRACTION_CANCUN
    assert blob_base_fee_update_fraction(cfg2, header(2), sched) == 42
    # no schedule is needed for excess blob gas 0 (the fee is 1 for every fraction) ...
    a = build_payload_attributes(cfg, SYSCFG, header(1, excess_blob_gas=0), PARENT, seq_number=5)
    assert decode_l1_info_tx(a.transactions[0])[1].blob_base_fee == 1
    # ... but it is for a non-zero one
    with pytest.raises(CriticalError):
        build_payload_attributes(cfg, SYSCFG, header(1, excess_blob_gas=10), PARENT, seq_number=5)
    # a header before the first blob fork of the schedule: no parameters (op-geth panics)
    late = L1BlobSchedule(900, (("cancun", l1(2).timestamp, BlobConfig(3, 6, 41)),))
    with pytest.raises(CriticalError, match="no blob parameters"):
        blob_base_fee_update_fraction(cfg, header(1, excess_blob_gas=5), late)


GO_BLOB_FEES = json.loads((Path(__file__).parents[2] / "spec_vectors/l1info/go-v1.19.6-blob-fees.json").read_text())


def _l1_header_from_go(obj: dict[str, object]) -> L1Header:
    from pyop.sources.blockjson import header_from_json

    return header_from_json({k: v for k, v in obj.items() if v is not None})


@dataclass
class _FixedSysCfg:
    sys_cfg: SystemConfig

    def system_config_by_l2_hash(self, block_hash: bytes) -> SystemConfig:
        return self.sys_cfg


@pytest.mark.parametrize("case", GO_BLOB_FEES["l1InfoDeposits"], ids=lambda c: c["name"])
def test_l1_info_deposit_after_bpo_forks_matches_go(case: dict[str, object]) -> None:
    """D2: the L1-info deposit of an OP Mainnet / OP Sepolia block whose L1 origin is after the
    L1's BPO forks (or, on OP Sepolia, before pectra_blob_schedule_time), built by
    :class:`AttributesBuilder` with no L1 chain config given (the built-in schedule of the L1
    chain id, as op-node) equals the deposit op-node v1.19.6's ``L1InfoDepositBytes`` built with
    op-geth's ``CalcBlobFee`` (``interop/go/vectors``). The old code (Prague fraction guessed
    from ``requests_hash``) gives a different blobBaseFee here."""
    from pyop.config import load_rollup_config
    from pyop.tools.fixture import system_config_from_json

    cfg = load_rollup_config(Path(__file__).parents[2] / "spec_vectors/config/rollup-configs" / str(case["rollupConfig"]))
    origin = _l1_header_from_go(case["l1Header"])  # type: ignore[arg-type]
    sys_cfg = system_config_from_json(case["systemConfig"], "systemConfig")
    l2_time = int(case["l2Timestamp"])  # type: ignore[call-overload]
    seq = int(case["sequenceNumber"])  # type: ignore[call-overload]
    want = from_hex(str(case["l1InfoDeposit"]))
    parent_origin = BlockID(origin.hash, origin.number) if seq else BlockID(origin.parent_hash, origin.number - 1)
    parent = L2BlockRef(h("l2 parent"), 1000, h("l2 grandparent"), l2_time - cfg.block_time, parent_origin, max(seq - 1, 0))
    builder = AttributesBuilder(cfg, FakeL1({origin.hash: origin}), _FixedSysCfg(sys_cfg))  # type: ignore[arg-type]
    got = builder.prepare_payload_attributes(parent, BlockID(origin.hash, origin.number))
    assert got.timestamp == l2_time
    _, info = decode_l1_info_tx(got.transactions[0])
    assert info.blob_base_fee == int(str(case["blobBaseFee"]))
    assert got.transactions[0] == want


# ------------------------------------------------------------------ builder with sources


@dataclass
class FakeL1:
    headers: dict[bytes, L1Header] = field(default_factory=dict)
    receipts: dict[bytes, list[Receipt]] = field(default_factory=dict)

    def header_by_hash(self, block_hash: bytes) -> L1Header:
        if block_hash not in self.headers:
            raise NotFound("header")
        return self.headers[block_hash]

    def receipts_by_hash(self, block_hash: bytes) -> list[Receipt]:
        return self.receipts.get(block_hash, [])


class FakeSysCfg:
    def system_config_by_l2_hash(self, block_hash: bytes) -> SystemConfig:
        return SYSCFG


def test_builder_epochs_and_deposits() -> None:
    cfg = make_cfg(all_until="granite")
    dep = DepositTx(b"\x00" * 32, b"\x01" * 20, b"\x02" * 20, 5, 5, 100_000, False, b"")
    log = encode_deposit_log(cfg.deposit_contract_address, dep, block_hash=l1(2).hash, log_index=3)
    fl1 = FakeL1({l1(1).hash: header(1), l1(2).hash: header(2)}, {l1(2).hash: [Receipt(1, (log,))]})
    b = AttributesBuilder(cfg, fl1, FakeSysCfg())  # type: ignore[arg-type]
    parent = l2(12, l1(1), seq=3, t=GENESIS_TIME + 24)
    same = b.prepare_payload_attributes(parent, l1(1).id())
    _, info = decode_l1_info_tx(same.transactions[0])
    assert info.sequence_number == 4 and len(same.transactions) == 1
    new = b.prepare_payload_attributes(parent, l1(2).id())
    _, info2 = decode_l1_info_tx(new.transactions[0])
    assert info2.sequence_number == 0 and info2.number == 2 and len(new.transactions) == 2
    assert new.transactions[1][0] == 0x7E
    with pytest.raises(ResetError):  # same epoch number, other hash
        b.prepare_payload_attributes(parent, BlockID(h("x"), 1))
    with pytest.raises(ResetError):  # new epoch not a child of the parent's origin
        b.prepare_payload_attributes(l2(12, l1(0), t=GENESIS_TIME + 24), l1(2).id())
    with pytest.raises(TemporaryError):  # header missing
        b.prepare_payload_attributes(parent, l1(3).id())


def test_attributes_queue_appends_batch_txs() -> None:
    cfg = make_cfg(all_until="granite")
    fl1 = FakeL1({l1(1).hash: header(1)})
    parent = PARENT
    batch = SingularBatch(parent.hash, 1, l1(1).hash, parent.timestamp + 2, (b"\x02a", b"\x02b"))

    class Prov(FifoBatches):
        def next_batch(self, parent: L2BlockRef) -> tuple[SingularBatch, bool]:  # type: ignore[override]
            b = self.items.popleft()
            assert isinstance(b, SingularBatch)
            return b, True

    aq = AttributesQueue(cfg, AttributesBuilder(cfg, fl1, FakeSysCfg()), Prov(l1(3), [batch]))  # type: ignore[arg-type]
    out = aq.next_attributes(parent)
    assert out.attributes.transactions[1:] == (b"\x02a", b"\x02b")
    assert out.derived_from == l1(3) and out.concluding and out.l1_origin == l1(1).id()
    bad = replace(batch, parent_hash=h("other"))
    with pytest.raises(ResetError):
        aq.create_next_attributes(bad, parent)


# ------------------------------------------------------------------ OP Sepolia payloads


def _payload_files() -> list[Path]:
    return sorted((SHARED_VECTORS / "payloads").glob("op-sepolia-block-*.json"))


def test_payload_vectors_exist() -> None:
    assert len(_payload_files()) >= 10


@pytest.mark.parametrize("path", _payload_files(), ids=lambda p: p.stem)
def test_op_sepolia_l1_info_and_attributes(path: Path) -> None:
    from pyop.config.kona import rollup_config_from_kona_json

    d = json.loads(path.read_text())
    cfg = rollup_config_from_kona_json(d["rollup_config"])
    a = d["executing_payload"]
    ph = d["parent_header"]
    txs = [from_hex(t) for t in a["transactions"]]
    _, info = decode_l1_info_tx(txs[0])
    ts = hex_to_int(a["timestamp"])
    parent_ts = hex_to_int(ph["timestamp"])
    assert ts == parent_ts + cfg.block_time
    # Rebuild the inputs from the decoded L1-info fields and the attributes.
    sc = SystemConfig(
        batcher_addr=info.batcher_addr,
        overhead=b"\x00" * 32,
        scalar=encode_ecotone_scalar(info.base_fee_scalar, info.blob_base_fee_scalar),
        gas_limit=hex_to_int(a["gasLimit"]),
        eip1559_params=from_hex(a["eip1559Params"]),
    )
    origin = L1Header(hash=info.block_hash, number=info.number, parent_hash=h("unknown"),
                      timestamp=info.time, base_fee=info.base_fee,
                      mix_digest=from_hex(a["prevRandao"]),
                      parent_beacon_root=from_hex(a["parentBeaconBlockRoot"]), excess_blob_gas=0)  # fmt: skip
    parent = L2BlockRef(h("parent"), hex_to_int(ph["number"]), from_hex(ph["parentHash"]), parent_ts,
                        BlockID(info.block_hash, info.number), max(info.sequence_number - 1, 0))  # fmt: skip
    n_deposits = sum(1 for t in txs if t[0] == 0x7E)
    user_deposits = txs[1:n_deposits] if info.sequence_number == 0 else []
    got = build_payload_attributes(
        cfg, sc, origin, parent, seq_number=info.sequence_number, user_deposits=user_deposits,
        blob_base_fee_override=info.blob_base_fee,
    )  # fmt: skip
    assert got.transactions[0] == txs[0]  # byte-exact L1-info deposit
    assert got.transactions == tuple(txs[:n_deposits])
    assert got.timestamp == ts
    assert got.gas_limit == hex_to_int(a["gasLimit"])
    assert got.prev_randao == from_hex(a["prevRandao"])
    assert got.suggested_fee_recipient == from_hex(a["suggestedFeeRecipient"])
    assert got.parent_beacon_block_root == from_hex(a["parentBeaconBlockRoot"])
    assert got.eip1559_params == from_hex(a["eip1559Params"])  # not the activation block
    assert got.withdrawals == ()
    assert info.time <= ts  # L2 time >= L1 origin time
    assert got.to_json()["timestamp"] == a["timestamp"]
    if info.blob_base_fee == 1:  # excess blob gas 0 on the origin gives exactly 1
        again = build_payload_attributes(cfg, sc, origin, parent, seq_number=info.sequence_number,
                                         user_deposits=user_deposits)  # fmt: skip
        assert again.transactions[0] == txs[0]
