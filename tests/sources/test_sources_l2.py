"""The L2 source against a fake op-geth serving real OP Sepolia blocks (shared vectors
``payloads/``: the header of block n is the ``parent_header`` of the fixture of n+1, its
transactions the ``executing_payload`` of n)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from pyop.codec.tx import LEGACY_TX_TYPE, decode_signed_tx
from pyop.config.kona import rollup_config_from_kona_json
from pyop.derivation.errors import TemporaryError
from pyop.derivation.interfaces import NotFound
from pyop.primitives import BlockID
from pyop.protocol.deposits import decode_deposit_tx
from pyop.sources.l2 import (
    L2DataError,
    L2RPCSource,
    decode_holocene_extra_data,
    decode_jovian_extra_data,
)
from pyop.sources.rpc import RetryPolicy
from tests.conftest import SHARED_VECTORS
from tests.sources.sources_fake_server import FakeServer

PAYLOADS = SHARED_VECTORS / "payloads"
EXPECTED = json.loads((SHARED_VECTORS / "expected.json").read_text())["payloads (L1-info fields per fixture)"]
FAST = RetryPolicy(retries=1, backoff=0.01, max_backoff=0.01)
NUMBERS = (26207960, 26207961, 26207962)


def _fixture(n: int) -> Any:
    return json.loads((PAYLOADS / f"op-sepolia-block-{n}.json").read_text())


def _h(x: bytes | None) -> str | None:
    return None if x is None else "0x" + x.hex()


def tx_json(raw: bytes) -> dict[str, Any]:
    """An eth_getBlockByHash-style transaction object for ``raw``."""
    if raw[0] == 0x7E:
        d = decode_deposit_tx(raw)
        return {"type": "0x7e", "sourceHash": _h(d.source_hash), "from": _h(d.from_), "to": _h(d.to),
                "mint": hex(d.mint), "value": hex(d.value), "gas": hex(d.gas),
                "isSystemTx": d.is_system_tx, "input": _h(d.data), "hash": _h(d.tx_hash())}  # fmt: skip
    t = decode_signed_tx(raw)
    out: dict[str, Any] = {"type": hex(t.tx_type), "nonce": hex(t.nonce), "gas": hex(t.gas),
                           "to": _h(t.to), "value": hex(t.value), "input": _h(t.data),
                           "v": hex(t.v), "r": hex(t.r), "s": hex(t.s), "hash": _h(t.hash)}  # fmt: skip
    if t.chain_id is not None:
        out["chainId"] = hex(t.chain_id)
    if t.tx_type == LEGACY_TX_TYPE or t.gas_price is not None:
        out["gasPrice"] = hex(t.gas_price or 0)
    if t.max_fee_per_gas is not None:
        out["maxFeePerGas"] = hex(t.max_fee_per_gas)
        out["maxPriorityFeePerGas"] = hex(t.max_priority_fee_per_gas or 0)
    if t.tx_type != LEGACY_TX_TYPE:
        out["yParity"] = hex(t.v)
        out["accessList"] = [{"address": _h(a), "storageKeys": [_h(k) for k in ks]} for a, ks in t.access_list]
    if t.max_fee_per_blob_gas is not None:
        out["maxFeePerBlobGas"] = hex(t.max_fee_per_blob_gas)
        out["blobVersionedHashes"] = [_h(x) for x in t.blob_versioned_hashes]
    return out


def real_block(n: int) -> tuple[dict[str, Any], list[bytes]]:
    header = dict(_fixture(n + 1)["parent_header"])
    raws = [bytes.fromhex(t[2:]) for t in _fixture(n)["executing_payload"]["transactions"]]
    header["hash"] = _fixture(n)["expected_block_hash"]
    header["transactions"] = [tx_json(r) for r in raws]
    header["withdrawals"] = []
    return header, raws


CFG = rollup_config_from_kona_json(_fixture(NUMBERS[0])["rollup_config"])


@pytest.fixture(scope="module")
def blocks() -> dict[int, tuple[dict[str, Any], list[bytes]]]:
    return {n: real_block(n) for n in NUMBERS}


@pytest.fixture
def server(blocks: dict[int, tuple[dict[str, Any], list[bytes]]]) -> Iterator[FakeServer]:
    s = FakeServer()
    by_hash = {b["hash"]: b for b, _ in blocks.values()}
    s.rpc["eth_getBlockByHash"] = lambda m, p: by_hash.get(p[0])
    s.rpc["eth_getBlockByNumber"] = lambda m, p: blocks[int(p[0], 16)][0] if int(p[0], 16) in blocks else None
    yield s
    s.close()


def _source(server: FakeServer, cfg: Any = CFG) -> L2RPCSource:
    return L2RPCSource.connect(server.url, cfg, retry=FAST)


def test_vectors_present(blocks: Any) -> None:
    assert len(blocks) == 3 and all(len(r) >= 1 for _, r in blocks.values())


@pytest.mark.parametrize("n", NUMBERS)
def test_payload_ref_and_system_config(server: FakeServer, blocks: Any, n: int) -> None:
    src = _source(server)
    try:
        block, raws = blocks[n]
        exp = EXPECTED[f"block-{n}"]
        p = src.payload_by_number(n)
        assert p.block_hash.hex() == exp["expected_block_hash"][2:]
        assert list(p.transactions) == raws
        assert p.gas_limit == exp["gas_limit"]
        assert p.prev_randao.hex() == exp["prev_randao"][2:]
        ref = src.l2_block_ref_by_number(n)
        assert ref.l1_origin == BlockID(bytes.fromhex(exp["l1_origin_hash"][2:]), exp["l1_origin_number"])
        assert ref.sequence_number == exp["sequence_number"]
        assert ref.parent_hash.hex() == block["parentHash"][2:]
        assert src.l2_block_ref_by_hash(ref.hash) == ref
        sc = src.system_config_by_l2_hash(ref.hash)
        assert sc.batcher_addr.hex() == exp["batcher_hash"][-40:]
        assert sc.gas_limit == exp["gas_limit"]
        assert sc.eip1559_params.hex() == exp["eip1559Params"][2:]
        # Ecotone+ scalars come back as a version-1 scalar
        assert sc.scalar == b"\x01" + bytes(23) + exp["blob_base_fee_scalar"].to_bytes(4, "big") + exp["base_fee_scalar"].to_bytes(4, "big")
        assert sc.min_base_fee == 0 and sc.operator_fee_params == bytes(32)
    finally:
        src.close()


def test_genesis_block_special_case(server: FakeServer, blocks: Any) -> None:
    n = NUMBERS[0]
    h = bytes.fromhex(blocks[n][0]["hash"][2:])
    cfg = replace(CFG, genesis=replace(CFG.genesis, l2=BlockID(h, n)))
    src = _source(server, cfg)
    try:
        ref = src.l2_block_ref_by_number(n)
        assert ref.l1_origin == cfg.genesis.l1 and ref.sequence_number == 0
        assert src.system_config_by_l2_hash(h) == cfg.genesis.system_config
    finally:
        src.close()
    bad = replace(CFG, genesis=replace(CFG.genesis, l2=BlockID(b"\x01" * 32, n)))
    src = _source(server, bad)
    try:
        with pytest.raises(TemporaryError, match="genesis"):
            src.l2_block_ref_by_number(n)
    finally:
        src.close()


def test_missing_block_is_not_found(server: FakeServer) -> None:
    src = _source(server)
    try:
        with pytest.raises(NotFound):
            src.l2_block_ref_by_number(1)
    finally:
        src.close()


def test_tampered_block_is_rejected(server: FakeServer, blocks: Any) -> None:
    n = NUMBERS[1]
    blocks[n][0]["extraData"] = "0x00000000fa00000007"
    src = _source(server)
    try:
        with pytest.raises(TemporaryError, match="block hash"):
            src.payload_by_number(n)
    finally:
        src.close()
        blocks[n][0]["extraData"] = _fixture(n + 1)["parent_header"]["extraData"]


def test_extra_data_decoding() -> None:
    assert decode_holocene_extra_data(bytes.fromhex("00000000fa00000006")) == (250, 6)
    assert decode_jovian_extra_data(bytes.fromhex("01000000fa00000006") + (10**9).to_bytes(8, "big")) == (250, 6, 10**9)
    for bad in (b"", bytes.fromhex("01000000fa00000006"), bytes.fromhex("00000000fa0000000600")):
        with pytest.raises(L2DataError):
            decode_holocene_extra_data(bad)
    with pytest.raises(L2DataError):
        decode_jovian_extra_data(bytes.fromhex("00000000fa00000006") + bytes(8))


# ---- audit D14: decoding by timestamp, extraData validation (op-node PayloadToBlockRef /
# PayloadToSystemConfig) -------------------------------------------------------------------------


def _harness_block(fork: str, n: int = 3) -> tuple[Any, Any]:
    from tests.derivation import harness as H

    b = H.ChainBuilder(fork=fork, seed=3)
    b.build(1)
    return b.cfg, b.l2[n].payload


def _with_l1_info_format(payload: Any, fmt: Any) -> Any:
    from pyop.protocol.l1_info import decode_l1_info_tx, encode_l1_info

    dep, info = decode_l1_info_tx(payload.transactions[0])
    first = replace(dep, data=encode_l1_info(info, fmt)).encode()
    return replace(payload, transactions=(first, *payload.transactions[1:]))


def test_l1_info_is_decoded_in_the_format_the_timestamp_requires() -> None:
    """op-node ``L1BlockInfoFromBytes`` picks the calldata format by the L2 block's time and
    validates the selector: a Jovian-era block whose L1-info deposit uses the Isthmus
    ``setL1BlockValuesIsthmus`` layout is not accepted (before: decoded by its selector)."""
    from pyop.protocol.l1_info import L1InfoFormat
    from pyop.sources.l2 import l2_block_ref_from_payload, system_config_from_payload

    cfg, p = _harness_block("jovian")
    assert l2_block_ref_from_payload(cfg, p).number == 3
    wrong = _with_l1_info_format(p, L1InfoFormat.ISTHMUS)
    with pytest.raises(L2DataError, match="requires jovian"):
        l2_block_ref_from_payload(cfg, wrong)
    with pytest.raises(L2DataError):
        system_config_from_payload(cfg, wrong)


def test_system_config_validates_extra_data() -> None:
    """op-node ``PayloadToSystemConfig`` -> ``eip1559.ValidateOptimismExtraData``: Holocene
    ``extraData`` is 9 bytes, version 0, non-zero denominator and elasticity; Jovian 17 bytes,
    version 1, the same; before Holocene it must be empty."""
    from pyop.sources.l2 import system_config_from_payload

    cfg, p = _harness_block("holocene")
    assert system_config_from_payload(cfg, p).eip1559_params == p.extra_data[1:9]
    for bad in (b"\x00" + bytes(8), b"\x00" + (250).to_bytes(4, "big") + bytes(4),
                b"\x00" + bytes(4) + (6).to_bytes(4, "big")):  # fmt: skip
        with pytest.raises(L2DataError, match="non-zero"):
            system_config_from_payload(cfg, replace(p, extra_data=bad))
    jcfg, jp = _harness_block("jovian")
    assert len(jp.extra_data) == 17 and system_config_from_payload(jcfg, jp).min_base_fee == 0
    with pytest.raises(L2DataError, match="non-zero"):
        system_config_from_payload(jcfg, replace(jp, extra_data=b"\x01" + bytes(4) + (6).to_bytes(4, "big") + bytes(8)))
    gcfg, gp = _harness_block("granite")
    assert gp.extra_data == b""
    system_config_from_payload(gcfg, gp)
    with pytest.raises(L2DataError, match="empty before Holocene"):
        system_config_from_payload(gcfg, replace(gp, extra_data=b"\x00"))
