"""The block hash an execution payload implies (op-service ``ExecutionPayloadEnvelope.CheckBlockHash``):
rebuild the header from the payload and hash it, ``keccak256(rlp(header))``.

Header fields from the payload (execution-apis / EIP-1559, EIP-4895, EIP-4844, EIP-4788,
EIP-7685; OP specs isthmus/exec-engine.md "L2ToL1MessagePasser Storage Root in Header"):
``uncles`` is the empty-list hash, ``difficulty`` and ``nonce`` are zero, ``transactionsRoot`` is
the ordered trie root of the transactions, ``withdrawalsRoot`` is the payload's
``withdrawalsRoot`` from Isthmus (then ``requestsHash`` is the empty-requests hash
``sha256("")``) or the ordered trie root of the withdrawals from Canyon, then
``blobGasUsed``, ``excessBlobGas``, ``parentBeaconBlockRoot`` (the envelope's).
"""

from __future__ import annotations

import hashlib

import rlp

from pyop.primitives import ExecutionPayload, Hash32, to_hex
from pyop.sources.blockjson import compute_header_hash, ordered_trie_root

EMPTY_UNCLE_HASH = bytes.fromhex("1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347")
EMPTY_REQUESTS_HASH = hashlib.sha256(b"").digest()


def _withdrawals_root(p: ExecutionPayload) -> bytes | None:
    if p.withdrawals_root is not None:
        return p.withdrawals_root
    if p.withdrawals is None:
        return None
    return ordered_trie_root([rlp.encode([w.index, w.validator_index, w.address, w.amount]) for w in p.withdrawals])


def payload_block_hash(p: ExecutionPayload, parent_beacon_root: Hash32 | None = None) -> bytes:
    """The hash of the header ``p`` describes (see the module docstring)."""
    header: dict[str, object] = {
        "parentHash": to_hex(p.parent_hash),
        "sha3Uncles": to_hex(EMPTY_UNCLE_HASH),
        "miner": to_hex(p.fee_recipient),
        "stateRoot": to_hex(p.state_root),
        "transactionsRoot": to_hex(ordered_trie_root(list(p.transactions))),
        "receiptsRoot": to_hex(p.receipts_root),
        "logsBloom": to_hex(p.logs_bloom),
        "difficulty": "0x0",
        "number": hex(p.block_number),
        "gasLimit": hex(p.gas_limit),
        "gasUsed": hex(p.gas_used),
        "timestamp": hex(p.timestamp),
        "extraData": to_hex(p.extra_data),
        "mixHash": to_hex(p.prev_randao),
        "nonce": "0x0000000000000000",
        "baseFeePerGas": hex(p.base_fee_per_gas),
    }
    wr = _withdrawals_root(p)
    if wr is not None:
        header["withdrawalsRoot"] = to_hex(wr)
    if p.blob_gas_used is not None:
        header["blobGasUsed"] = hex(p.blob_gas_used)
    if p.excess_blob_gas is not None:
        header["excessBlobGas"] = hex(p.excess_blob_gas)
    root = parent_beacon_root if parent_beacon_root is not None else p.parent_beacon_block_root
    if root is not None:
        header["parentBeaconBlockRoot"] = to_hex(root)
    if p.withdrawals_root is not None:  # [New in Isthmus] (Prague header: requestsHash)
        header["requestsHash"] = to_hex(EMPTY_REQUESTS_HASH)
    return compute_header_hash(header)
