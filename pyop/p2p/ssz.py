"""SSZ encoding of the execution payload that block gossip carries (specs/protocol/rollup-node-p2p.md
"Block encoding"; op-node v1.19.6 ``op-service/eth/ssz.go``: ``ExecutionPayload.MarshalSSZ`` /
``UnmarshalSSZ``, ``ExecutionPayloadEnvelope.MarshalSSZ`` / ``UnmarshalSSZ``).

The container is the consensus-specs ``ExecutionPayload`` of the matching L1 fork, plus OP's
``withdrawalsRoot`` in V4 (specs/protocol/isthmus/exec-engine.md "Update to ExecutionPayload"):

========  ===============================================================  ====================
version   fixed part (after the common fields)                              topic
========  ===============================================================  ====================
V1        ``transactions`` offset                                          ``/0/blocks``
V2        + ``withdrawals`` offset                          [Canyon]       ``/1/blocks``
V3        + ``blobGasUsed``, ``excessBlobGas`` (uint64)     [Ecotone]      ``/2/blocks``
V4        + ``withdrawalsRoot`` (bytes32)                   [Isthmus]      ``/3/blocks``
========  ===============================================================  ====================

Common fields, in order: parentHash, feeRecipient, stateRoot, receiptsRoot, logsBloom (256),
prevRandao, blockNumber, gasLimit, gasUsed, timestamp (uint64 LE), extraData offset,
baseFeePerGas (uint256 LE), blockHash. Variable parts follow: extraData (at most 32 bytes),
transactions (a list of offsets, then the bodies), withdrawals (44 bytes each, at most 16).
From V3 the gossiped object is the *envelope*: ``parentBeaconBlockRoot`` (32 bytes) then the
payload.

Decoding follows op-service's ``UnmarshalSSZ`` check for check (the same inputs fail), so a
message op-node rejects as "invalid execution payload" is rejected here too, e.g. the extraData
offset must equal the fixed size, offsets must not decrease, the first transaction offset must be
a multiple of 4. Encoding takes the version explicitly (op-node infers it from which fields are
set, ``inferVersion``; for a payload built for a fork the two agree).
"""

from __future__ import annotations

import enum
import struct

from pyop.primitives import ExecutionPayload, PyopError, Withdrawal


class SSZError(PyopError):
    """Bytes that are not a valid SSZ execution payload of the given version."""


class BlockVersion(enum.IntEnum):
    """op-service ``eth.BlockVersion``; the value is the topic's version number."""

    V1 = 0  # Bedrock
    V2 = 1  # [New in Canyon] withdrawals (always empty)
    V3 = 2  # [New in Ecotone] blob gas fields, envelope with parentBeaconBlockRoot
    V4 = 3  # [New in Isthmus] withdrawalsRoot

    @property
    def has_withdrawals(self) -> bool:
        return self >= BlockVersion.V2

    @property
    def has_blob_properties(self) -> bool:
        return self >= BlockVersion.V3

    @property
    def has_parent_beacon_block_root(self) -> bool:
        return self >= BlockVersion.V3

    @property
    def has_withdrawals_root(self) -> bool:
        return self == BlockVersion.V4


_V1_FIXED = 32 + 20 + 32 + 32 + 256 + 32 + 8 + 8 + 8 + 8 + 4 + 32 + 32 + 4  # 508
_FIXED = {
    BlockVersion.V1: _V1_FIXED,
    BlockVersion.V2: _V1_FIXED + 4,
    BlockVersion.V3: _V1_FIXED + 4 + 8 + 8,
    BlockVersion.V4: _V1_FIXED + 4 + 8 + 8 + 32,
}
WITHDRAWAL_SIZE = 8 + 8 + 20 + 8
MAX_TRANSACTIONS_PER_PAYLOAD = 1 << 20
MAX_WITHDRAWALS_PER_PAYLOAD = 1 << 4
MAX_EXTRA_DATA = 32
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")


def fixed_size(version: BlockVersion) -> int:
    """op-service ``executionPayloadFixedPart``."""
    return _FIXED[version]


# --------------------------------------------------------------------------- encoding


def encode_payload(p: ExecutionPayload, version: BlockVersion) -> bytes:
    """``ExecutionPayload.MarshalSSZ`` for ``version`` (:class:`SSZError` if ``p`` lacks a field
    the version needs, or has one it cannot carry)."""
    if version.has_withdrawals and p.withdrawals is None:
        raise SSZError(f"a {version.name} payload needs a withdrawals list")
    if not version.has_withdrawals and p.withdrawals is not None:
        raise SSZError(f"a {version.name} payload cannot carry withdrawals")
    if version.has_blob_properties and (p.blob_gas_used is None or p.excess_blob_gas is None):
        raise SSZError("cannot encode ecotone payload without dencun header attributes")
    if version.has_withdrawals_root and p.withdrawals_root is None:
        raise SSZError("cannot encode Isthmus payload without withdrawals root")
    fixed = _FIXED[version]
    txs_len = 4 * len(p.transactions) + sum(len(t) for t in p.transactions)
    out = bytearray()
    out += p.parent_hash + p.fee_recipient + p.state_root + p.receipts_root + p.logs_bloom
    out += p.prev_randao
    out += _U64.pack(p.block_number) + _U64.pack(p.gas_limit) + _U64.pack(p.gas_used)
    out += _U64.pack(p.timestamp)
    out += _U32.pack(fixed)  # extraData offset
    out += p.base_fee_per_gas.to_bytes(32, "little")
    out += p.block_hash
    out += _U32.pack(fixed + len(p.extra_data))  # transactions offset
    if version.has_withdrawals:
        out += _U32.pack(fixed + len(p.extra_data) + txs_len)
    if version.has_blob_properties:
        out += _U64.pack(p.blob_gas_used or 0) + _U64.pack(p.excess_blob_gas or 0)  # set: checked above
    if version.has_withdrawals_root:
        out += p.withdrawals_root or b""  # set: checked above
    if len(out) != fixed:
        raise SSZError(f"fixed part is {len(out)} bytes, expected {fixed} (a field has the wrong length)")
    out += p.extra_data
    offset = 4 * len(p.transactions)
    for tx in p.transactions:
        out += _U32.pack(offset)
        offset += len(tx)
    for tx in p.transactions:
        out += tx
    for w in p.withdrawals or ():
        out += _U64.pack(w.index) + _U64.pack(w.validator_index) + w.address + _U64.pack(w.amount)
    return bytes(out)


def encode_block(p: ExecutionPayload, version: BlockVersion) -> bytes:
    """The gossiped object of ``version``: the payload (V1, V2) or the envelope
    ``parentBeaconBlockRoot ++ payload`` (V3, V4; ``ExecutionPayloadEnvelope.MarshalSSZ``)."""
    body = encode_payload(p, version)
    if not version.has_parent_beacon_block_root:
        return body
    if p.parent_beacon_block_root is None:
        raise SSZError("execution payload envelope is missing data (parentBeaconBlockRoot)")
    return p.parent_beacon_block_root + body


# --------------------------------------------------------------------------- decoding


def _u32(b: bytes, at: int) -> int:
    return int(_U32.unpack_from(b, at)[0])


def _u64(b: bytes, at: int) -> int:
    return int(_U64.unpack_from(b, at)[0])


def decode_transactions(b: bytes) -> tuple[bytes, ...]:
    """op-service ``unmarshalTransactions``."""
    scope = len(b)
    if scope == 0:
        return ()
    if scope < 4:
        raise SSZError(f"not enough scope to read first tx offset: {scope}")
    first = _u32(b, 0)
    if first % 4:
        raise SSZError(f"invalid first tx offset: {first}, not a multiple of offset size")
    if first > scope:
        raise SSZError(f"invalid first tx offset: {first}, out of scope {scope}")
    count = first // 4
    if count == 0:
        raise SSZError(f"invalid first tx offset: {first}, no transactions in scope {scope}")
    if count > MAX_TRANSACTIONS_PER_PAYLOAD:
        raise SSZError(f"too many transactions: {count} > {MAX_TRANSACTIONS_PER_PAYLOAD}")
    txs: list[bytes] = []
    cur = first
    for i in range(count):
        nxt = _u32(b, 4 * (i + 1)) if i + 1 < count else scope
        if nxt < cur or nxt > scope:
            raise SSZError(f"tx {i} has bad next offset: {nxt}, current is {cur}, scope is {scope}")
        txs.append(bytes(b[cur:nxt]))
        cur = nxt
    return tuple(txs)


def decode_withdrawals(b: bytes) -> tuple[Withdrawal, ...]:
    """op-service ``unmarshalWithdrawals``."""
    if len(b) % WITHDRAWAL_SIZE:
        raise SSZError("invalid withdrawals data")
    count = len(b) // WITHDRAWAL_SIZE
    if count > MAX_WITHDRAWALS_PER_PAYLOAD:
        raise SSZError(f"too many withdrawals: {count} > {MAX_WITHDRAWALS_PER_PAYLOAD}")
    out = []
    for i in range(count):
        o = i * WITHDRAWAL_SIZE
        out.append(Withdrawal(index=_u64(b, o), validator_index=_u64(b, o + 8),
                              address=bytes(b[o + 16:o + 36]), amount=_u64(b, o + 36)))  # fmt: skip
    return tuple(out)


def decode_payload(b: bytes, version: BlockVersion, *, parent_beacon_block_root: bytes | None = None) -> ExecutionPayload:
    """``ExecutionPayload.UnmarshalSSZ(version, len(b))`` (see the module docstring)."""
    fixed = _FIXED[version]
    scope = len(b)
    if scope < fixed:
        raise SSZError(f"scope too small to decode execution payload: {scope}, version is: {version.name}")
    extra_off = _u32(b, 436)
    if extra_off != fixed:
        raise SSZError(f"unexpected extra data offset: {extra_off} <> {fixed}")
    txs_off = _u32(b, 504)
    if txs_off < extra_off:
        raise SSZError("transactions offset is smaller than extra data offset, aborting")
    at = 508
    wd_off = scope
    if version.has_withdrawals:
        wd_off = _u32(b, at)
        at += 4
        if wd_off < txs_off:
            raise SSZError("withdrawals offset is smaller than transaction offset, aborting")
        if wd_off > scope:
            raise SSZError(f"withdrawals offset is too large: {wd_off}")
    blob_gas_used = excess_blob_gas = None
    if version.has_blob_properties:
        blob_gas_used, excess_blob_gas = _u64(b, at), _u64(b, at + 8)
        at += 16
    withdrawals_root = None
    if version.has_withdrawals_root:
        withdrawals_root = bytes(b[at:at + 32])
        at += 32
    if txs_off > extra_off + MAX_EXTRA_DATA or txs_off > scope:
        raise SSZError(f"extra-data is too large: {txs_off - extra_off}")
    txs = decode_transactions(b[txs_off:wd_off])
    withdrawals = decode_withdrawals(b[wd_off:]) if version.has_withdrawals else None
    return ExecutionPayload(
        parent_hash=bytes(b[0:32]),
        fee_recipient=bytes(b[32:52]),
        state_root=bytes(b[52:84]),
        receipts_root=bytes(b[84:116]),
        logs_bloom=bytes(b[116:372]),
        prev_randao=bytes(b[372:404]),
        block_number=_u64(b, 404),
        gas_limit=_u64(b, 412),
        gas_used=_u64(b, 420),
        timestamp=_u64(b, 428),
        extra_data=bytes(b[extra_off:txs_off]),
        base_fee_per_gas=int.from_bytes(b[440:472], "little"),
        block_hash=bytes(b[472:504]),
        transactions=txs,
        withdrawals=withdrawals,
        blob_gas_used=blob_gas_used,
        excess_blob_gas=excess_blob_gas,
        withdrawals_root=withdrawals_root,
        parent_beacon_block_root=parent_beacon_block_root,
    )


def decode_block(b: bytes, version: BlockVersion) -> ExecutionPayload:
    """The gossiped object of ``version`` (:func:`encode_block`'s inverse;
    ``ExecutionPayloadEnvelope.UnmarshalSSZ`` from V3). The envelope's parent beacon block root
    is set on the returned payload."""
    if not version.has_parent_beacon_block_root:
        return decode_payload(b, version)
    if len(b) < 32:
        raise SSZError(f"scope too small to decode execution payload envelope: {len(b)}")
    return decode_payload(b[32:], version, parent_beacon_block_root=bytes(b[:32]))


__all__ = [
    "MAX_EXTRA_DATA",
    "BlockVersion",
    "SSZError",
    "decode_block",
    "decode_payload",
    "decode_transactions",
    "decode_withdrawals",
    "encode_block",
    "encode_payload",
    "fixed_size",
]
