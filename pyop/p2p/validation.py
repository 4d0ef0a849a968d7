"""Validation of gossiped blocks: ACCEPT, IGNORE or REJECT (specs/protocol/rollup-node-p2p.md
"Topic validation", "Block validation"; op-node v1.19.6 ``op-node/p2p/gossip.go``
``BuildBlocksValidator``, ``verifyBlockSignature``, ``guardGossipValidator``).

The checks, in op-node's order (the spec lists the signature check last; op-node checks it right
after decompression, so a block seen before but signed by someone else is REJECTed, not IGNOREd;
pyop follows op-node, the reference implementation):

1. ``[REJECT]`` the snappy length header is invalid, above 10 MiB (a "zip bomb"), or below 66
   bytes; the data does not decompress;
2. ``[IGNORE]`` no unsafe block signer is known yet; ``[REJECT]`` the signature
   (``data[:65]``, over ``data[65:]``) recovers to neither the current signer nor, during the
   grace period after a rotation, the previous one (:class:`SignerSource`);
3. ``[REJECT]`` the SSZ block (envelope from V3) does not decode for the topic's version;
4. ``[REJECT]`` ``timestamp < now - threshold`` (``--p2p.gossip.timestamp.threshold``, 60 s) or
   ``timestamp > now + 5`` (``now`` in whole seconds);
5. ``[REJECT]`` the block hash is not the hash of the header the payload implies;
6. ``[REJECT]`` withdrawals not empty (V2+); blob gas used not zero on V3+ before Jovian
   (``[New in Jovian]``: it carries the DA footprint); excess blob gas not zero (V3+);
7. ``[REJECT]`` more than 5 different blocks were already seen at this height;
   ``[IGNORE]`` this block hash was already seen at this height; otherwise the block is marked
   seen (per height, the last 1000 heights) and ACCEPTed.

Only ACCEPTed blocks are relayed and handed to the engine's unsafe-payload queue. An unexpected
error inside validation is a REJECT (op-node recovers validator panics the same way).
"""

from __future__ import annotations

import enum
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from pyop.config import RollupConfig
from pyop.config.forks import Fork
from pyop.engine.payload_hash import payload_block_hash
from pyop.p2p.signing import SignatureError, recover_signer
from pyop.p2p.ssz import BlockVersion, SSZError, decode_block
from pyop.p2p.topics import (
    MAX_GOSSIP_SIZE,
    MIN_GOSSIP_SIZE,
    SnappyError,
    snappy_decoded_len,
    snappy_decompress,
)
from pyop.primitives import ZERO_ADDRESS, Address, ExecutionPayload, to_hex

DEFAULT_TIMESTAMP_THRESHOLD = 60
"""``--p2p.gossip.timestamp.threshold`` default (seconds): older blocks are rejected."""
FUTURE_LIMIT = 5
"""A block more than 5 s ahead of the local clock is rejected."""
MAX_BLOCKS_PER_HEIGHT = 5
SEEN_HEIGHTS = 1000
"""op-node keeps the seen block hashes of the last 1000 heights (an LRU)."""


class Outcome(enum.Enum):
    """libp2p's extended-validator results (``pubsub.ValidationResult``)."""

    ACCEPT = "ACCEPT"
    IGNORE = "IGNORE"
    REJECT = "REJECT"


@dataclass(frozen=True, slots=True)
class Validation:
    """A validation result: the outcome, why (op-node's log message), and the decoded block when
    accepted."""

    outcome: Outcome
    reason: str
    payload: ExecutionPayload | None = None


class SignerSource(Protocol):
    """op-node ``GossipRuntimeConfig``: the unsafe block signer from the SystemConfig."""

    def p2p_sequencer_address(self) -> Address:
        """The current signer (zero address: not known yet)."""
        ...

    def previous_p2p_sequencer_address(self) -> Address:
        """The signer before the last rotation while its grace period lasts, else zero."""
        ...

    def confirm_current_signer(self) -> None:
        """A block by the current signer was verified: end the previous signer's grace."""
        ...


@dataclass
class StaticSigner:
    """A fixed signer (tests and tools)."""

    address: Address
    previous: Address = ZERO_ADDRESS

    def p2p_sequencer_address(self) -> Address:
        return self.address

    def previous_p2p_sequencer_address(self) -> Address:
        return self.previous

    def confirm_current_signer(self) -> None:
        self.previous = ZERO_ADDRESS


def _reject(reason: str) -> Validation:
    return Validation(Outcome.REJECT, reason)


def verify_block_signature(cfg: RollupConfig, signers: SignerSource, signature: bytes, payload: bytes) -> Validation:
    """op-node ``verifyBlockSignature``: ACCEPT (go on), IGNORE (no signer yet) or REJECT."""
    current = signers.p2p_sequencer_address()
    if current == ZERO_ADDRESS:
        return Validation(Outcome.IGNORE, "no configured p2p sequencer address, ignoring gossiped block")
    try:
        signer = recover_signer(signature, cfg.l2_chain_id, payload)
    except SignatureError as e:
        return _reject(f"invalid block signature: {e}")
    if signer == current:
        signers.confirm_current_signer()
        return Validation(Outcome.ACCEPT, "signed by the current signer")
    previous = signers.previous_p2p_sequencer_address()
    if previous != ZERO_ADDRESS and signer == previous:
        return Validation(Outcome.ACCEPT, "accepted block from previous signer during grace period")
    return _reject(f"invalid block signature: unrecognized signer {to_hex(signer)}")


class SeenBlocks:
    """Block hashes seen per height, for the last :data:`SEEN_HEIGHTS` heights (an LRU)."""

    def __init__(self, heights: int = SEEN_HEIGHTS) -> None:
        self.heights = heights
        self._by_height: OrderedDict[int, list[bytes]] = OrderedDict()

    def at(self, number: int) -> list[bytes]:
        seen = self._by_height.get(number)
        if seen is None:
            seen = self._by_height[number] = []
            while len(self._by_height) > self.heights:
                self._by_height.popitem(last=False)
        else:
            self._by_height.move_to_end(number)
        return seen


class BlockValidator:
    """``BuildBlocksValidator`` for one topic (one block version); keeps its own seen blocks, as
    op-node keeps one validator (and one LRU) per topic."""

    def __init__(
        self,
        cfg: RollupConfig,
        version: BlockVersion,
        signers: SignerSource,
        *,
        timestamp_threshold: int = DEFAULT_TIMESTAMP_THRESHOLD,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.cfg = cfg
        self.version = version
        self.signers = signers
        self.timestamp_threshold = timestamp_threshold
        self.clock = clock
        self.seen = SeenBlocks()

    def __call__(self, data: bytes) -> Validation:
        try:
            return self._validate(data)
        except Exception as e:  # op-node guardGossipValidator: a panic is a REJECT
            return _reject(f"gossip validation panic: {type(e).__name__}: {e}")

    def _validate(self, data: bytes) -> Validation:
        v = self.version
        try:
            out_len = snappy_decoded_len(data)
        except SnappyError as e:
            return _reject(f"invalid snappy compression length data: {e}")
        if out_len > MAX_GOSSIP_SIZE:
            return _reject(f"possible snappy zip bomb, decoded length is too large: {out_len}")
        if out_len < MIN_GOSSIP_SIZE:
            return _reject("rejecting undersized gossip payload")
        try:
            raw = snappy_decompress(data)
        except SnappyError as e:
            return _reject(f"invalid snappy compression: {e}")
        signature, signed = raw[:65], raw[65:]
        sig = verify_block_signature(self.cfg, self.signers, signature, signed)
        if sig.outcome is not Outcome.ACCEPT:
            return sig
        try:
            payload = decode_block(signed, v)
        except SSZError as e:
            what = "envelope payload" if v.has_parent_beacon_block_root else "execution payload"
            return _reject(f"invalid {what}: {e}")
        now = int(self.clock())
        ts = payload.timestamp
        if ts < now - self.timestamp_threshold:
            return _reject(f"payload is too old: timestamp {ts}, threshold {self.timestamp_threshold}s")
        if ts > now + FUTURE_LIMIT:
            return _reject(f"payload is too new: timestamp {ts}")
        actual = payload_block_hash(payload, payload.parent_beacon_block_root)
        if actual != payload.block_hash:
            return _reject(f"payload has bad block hash {to_hex(payload.block_hash)}, actual {to_hex(actual)}")
        if v.has_withdrawals and payload.withdrawals:
            return _reject(f"payload is on v2/v3 topic, but has non-empty withdrawals ({len(payload.withdrawals)})")
        if v.has_blob_properties:
            # [New in Jovian] blobGasUsed carries the DA footprint
            if not self.cfg.is_active(Fork.JOVIAN, ts) and payload.blob_gas_used != 0:
                return _reject(f"payload is on v3 topic, but has non-zero blob gas used ({payload.blob_gas_used})")
            if payload.excess_blob_gas != 0:
                return _reject(f"payload is on v3 topic, but has non-zero excess blob gas ({payload.excess_blob_gas})")
        seen = self.seen.at(payload.block_number)
        if len(seen) > MAX_BLOCKS_PER_HEIGHT:
            return _reject(f"seen too many different blocks at same height {payload.block_number}")
        if payload.block_hash in seen:
            return Validation(Outcome.IGNORE, "validated already seen message again")
        seen.append(payload.block_hash)
        return Validation(Outcome.ACCEPT, "valid block", payload)


__all__ = [
    "DEFAULT_TIMESTAMP_THRESHOLD",
    "FUTURE_LIMIT",
    "MAX_BLOCKS_PER_HEIGHT",
    "BlockValidator",
    "Outcome",
    "SeenBlocks",
    "SignerSource",
    "StaticSigner",
    "Validation",
    "verify_block_signature",
]
