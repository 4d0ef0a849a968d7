"""pyop/p2p against op-node v1.19.6 itself: SSZ bytes, signing hashes, signatures, message ids,
and the ACCEPT/IGNORE/REJECT outcome of every gossip message in the Go validator's sequence
(``spec_vectors/p2p/go-v1.19.6-gossip.json``, written by ``interop/go/vectors p2p`` with
op-node's ``BuildBlocksValidator`` / ``BuildMsgIdFn`` and op-service's SSZ and signer code)."""

from __future__ import annotations

import dataclasses
import json
from functools import cache
from typing import Any

import pytest

from pyop.config.forks import Fork
from pyop.p2p.signing import address_of_key, payload_hash, recover_signer, sign_block, signing_hash
from pyop.p2p.ssz import BlockVersion, decode_block, encode_block
from pyop.p2p.topics import (
    block_version_at,
    blocks_topic,
    message_id,
    snappy_compress,
    snappy_decompress,
)
from pyop.p2p.validation import BlockValidator, Outcome, StaticSigner
from pyop.primitives import ZERO_ADDRESS, from_hex
from pyop.sources.blockjson import payload_from_engine_json
from tests.conftest import SPEC_VECTORS
from tests.p2p.helpers import rollup_config

VECTORS = SPEC_VECTORS / "p2p" / "go-v1.19.6-gossip.json"


@cache
def vectors() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(VECTORS.read_text())
    assert data["encodings"] and data["validation"] and data["messageIds"], "no vectors found"
    return data


def envelope_payload(env: dict[str, Any]):  # type: ignore[no-untyped-def]
    obj = dict(env["executionPayload"])
    if env.get("parentBeaconBlockRoot"):
        obj["parentBeaconBlockRoot"] = env["parentBeaconBlockRoot"]
    return payload_from_engine_json(obj)


def test_vector_counts() -> None:
    d = vectors()
    assert {e["version"] for e in d["encodings"]} == {0, 1, 2, 3}
    assert len(d["validation"]) > 100
    assert {v["outcome"] for v in d["validation"]} == {"ACCEPT", "IGNORE", "REJECT"}


@pytest.mark.parametrize("case", vectors()["encodings"], ids=lambda c: c["name"])
def test_encoding_matches_go(case: dict[str, Any]) -> None:
    d = vectors()
    version = BlockVersion(case["version"])
    p = envelope_payload(case["envelope"])
    ssz = encode_block(p, version)
    assert ssz.hex() == case["ssz"]
    assert decode_block(ssz, version) == p
    assert "0x" + payload_hash(ssz).hex() == case["payloadHash"]
    assert "0x" + signing_hash(d["chainId"], payload_hash(ssz)).hex() == case["signingHash"]
    key = bytes.fromhex(d["sequencerKey"])
    # RFC 6979, low s: the same bytes as op-node's LocalSigner
    assert sign_block(key, d["chainId"], ssz).hex() == case["signature"]
    go_msg = bytes.fromhex(case["message"])
    assert snappy_decompress(go_msg) == bytes.fromhex(case["signature"]) + ssz
    assert message_id(case["topic"], go_msg).hex() == case["messageId"]
    # our compressor may choose other matches; the id is over the decompressed bytes
    assert message_id(case["topic"], snappy_compress(snappy_decompress(go_msg))).hex() == case["messageId"]
    assert blocks_topic(d["chainId"], version) == case["topic"]
    assert "0x" + recover_signer(bytes.fromhex(case["signature"]), d["chainId"], ssz).hex() == d["sequencerAddress"].lower()


def test_keys_and_addresses() -> None:
    d = vectors()
    assert "0x" + address_of_key(bytes.fromhex(d["sequencerKey"])).hex() == d["sequencerAddress"].lower()
    assert "0x" + address_of_key(bytes.fromhex(d["otherKey"])).hex() == d["otherAddress"].lower()


@pytest.mark.parametrize("case", vectors()["messageIds"], ids=lambda c: c["data"][:16] or "empty")
def test_message_id_of_invalid_snappy(case: dict[str, Any]) -> None:
    assert message_id(case["topic"], bytes.fromhex(case["data"])).hex() == case["messageId"]


def test_validation_sequence_matches_go() -> None:
    """Every message through one validator per (version, signer setting), in Go's order: the
    validators remember the blocks they saw, so the order matters."""
    d = vectors()
    now = d["now"]
    cfg = rollup_config(chain_id=d["chainId"], forks={f: 0 for f in Fork if f < Fork.JOVIAN} | {Fork.JOVIAN: d["jovianTime"]})
    validators: dict[tuple[int, str, str], BlockValidator] = {}
    mismatches = []
    for case in d["validation"]:
        prev = case.get("previousSigner", "")
        key = (case["version"], case["signer"], prev)
        if key not in validators:
            signer = StaticSigner(from_hex(case["signer"]), from_hex(prev) if prev else ZERO_ADDRESS)
            validators[key] = BlockValidator(cfg, BlockVersion(case["version"]), signer, clock=lambda: float(now))
        got = validators[key](bytes.fromhex(case["data"]))
        if got.outcome.value != case["outcome"]:
            mismatches.append((case["name"], case["outcome"], got.outcome.value, got.reason))
    assert mismatches == []


def test_accepted_blocks_carry_the_payload() -> None:
    d = vectors()
    cfg = rollup_config(chain_id=d["chainId"], forks={f: 0 for f in Fork if f < Fork.JOVIAN})
    case = next(c for c in d["encodings"] if c["name"] == "v4-txs")
    v = BlockValidator(cfg, BlockVersion.V4, StaticSigner(from_hex(d["sequencerAddress"])), clock=lambda: float(d["now"]))
    res = v(bytes.fromhex(case["message"]))
    assert res.outcome is Outcome.ACCEPT
    assert res.payload == envelope_payload(case["envelope"])


def test_block_version_by_fork() -> None:
    """op-node ``publishRawSignedPayload``: the topic follows the block's timestamp."""
    cfg = rollup_config(chain_id=901, forks={Fork.REGOLITH: 0, Fork.CANYON: 10, Fork.DELTA: 10,
                                               Fork.ECOTONE: 20, Fork.FJORD: 20, Fork.GRANITE: 20,
                                               Fork.HOLOCENE: 20, Fork.ISTHMUS: 30, Fork.JOVIAN: 40})  # fmt: skip
    assert [block_version_at(cfg, t) for t in (0, 9, 10, 19, 20, 29, 30, 40, 10**9)] == [
        BlockVersion.V1, BlockVersion.V1, BlockVersion.V2, BlockVersion.V2, BlockVersion.V3,
        BlockVersion.V3, BlockVersion.V4, BlockVersion.V4, BlockVersion.V4,
    ]  # fmt: skip
    assert dataclasses.is_dataclass(cfg)


def test_gossipsub_params_match_go() -> None:
    """op-node ``BuildGlobalGossipParams`` (on go-libp2p-pubsub's defaults): pyop's router has
    the same mesh degrees, heartbeat, fanout TTL, message-cache windows, gossip factor and
    backoffs (the flags' defaults, ``--p2p.gossip.mesh.*``)."""
    from pyop.p2p.host import HostConfig, OpGossipSub

    go = vectors()["gossipParams"]
    r = OpGossipSub(HostConfig(chain_id=901, priv_key=b"\x01" * 32), None)
    assert (r.degree, r.degree_low, r.degree_high, r.dlazy) == (go["D"], go["Dlo"], go["Dhi"], go["Dlazy"])
    assert r.heartbeat_interval * 1000 == go["heartbeatIntervalMs"]
    assert r.time_to_live == go["fanoutTTLSeconds"]
    assert (r.mcache.history_size, r.mcache.window_size) == (go["historyLength"], go["historyGossip"])
    assert r.gossip_factor == go["gossipFactor"]
    assert (r.prune_back_off, r.unsubscribe_back_off) == (go["pruneBackoffSeconds"], go["unsubscribeBackoffSeconds"])
