"""anvil puts blob transactions into ``transactionsRoot`` in their network form (with the
sidecar); ``verify_block_json`` accepts that root, and only that alternative.

Found by the differential capture (spec_vectors/derivation/differential/README.md): anvil 1.7.1
blocks holding op-batcher blob transactions failed ``pyop capture`` with "failed to verify
transactions list" although every transaction hashed to its ``hash``; the root anvil reports
is the trie root of ``0x03 ++ rlp([tx_payload_body, blobs, commitments, proofs])``.
"""

from __future__ import annotations

from typing import Any

import pytest
import rlp
from eth_hash.auto import keccak
from eth_keys.datatypes import PrivateKey

from pyop.sources.blockjson import (
    BlockVerificationError,
    anvil_blob_tx_wrappers,
    compute_header_hash,
    ordered_trie_root,
    verify_block_json,
)

KEY = PrivateKey(keccak(b"pyop anvil blob root test"))
INBOX = bytes.fromhex("ff00000000000000000000000000000000000901")


def _hex(b: bytes) -> str:
    return "0x" + b.hex()


def blob_tx() -> tuple[dict[str, Any], bytes, bytes]:
    """(tx JSON as anvil serves it, EIP-2718 payload form, network form)."""
    blob = (b"\x00" + bytes(range(1, 32))) * 4096
    commitment, proof = b"\xc0" + bytes(47), b"\xc1" + bytes(47)
    vhash = b"\x01" + keccak(b"versioned")[1:]
    fields: list[Any] = [900, 7, 10**9, 3 * 10**9, 21_000, INBOX, 0, b"\xaa", [], 1000, [vhash]]
    sig = KEY.sign_msg_hash(keccak(b"\x03" + rlp.encode(fields)))
    body = [*fields, sig.v, sig.r, sig.s]
    payload = b"\x03" + rlp.encode(body)
    network = b"\x03" + rlp.encode([body, [blob], [commitment], [proof]])
    js = {
        "type": "0x3", "chainId": hex(900), "nonce": "0x7", "maxPriorityFeePerGas": hex(10**9),
        "maxFeePerGas": hex(3 * 10**9), "gas": hex(21_000), "to": _hex(INBOX), "value": "0x0",
        "input": "0xaa", "accessList": [], "maxFeePerBlobGas": hex(1000),
        "blobVersionedHashes": [_hex(vhash)], "v": hex(sig.v), "yParity": hex(sig.v),
        "r": hex(sig.r), "s": hex(sig.s), "hash": _hex(keccak(payload)),
        "blobs": [_hex(blob)], "commitments": [_hex(commitment)], "proofs": [_hex(proof)],
    }  # fmt: skip
    return js, payload, network


def block_with_root(tx: dict[str, Any], root: bytes) -> dict[str, Any]:
    block: dict[str, Any] = {
        "parentHash": _hex(keccak(b"parent")), "sha3Uncles": _hex(keccak(rlp.encode([]))),
        "miner": _hex(bytes(20)), "stateRoot": _hex(keccak(b"state")),
        "transactionsRoot": _hex(root), "receiptsRoot": _hex(keccak(b"receipts")),
        "logsBloom": _hex(bytes(256)), "difficulty": "0x0", "number": "0x10",
        "gasLimit": hex(30_000_000), "gasUsed": hex(21_000), "timestamp": hex(1_700_000_000),
        "extraData": "0x", "mixHash": _hex(bytes(32)), "nonce": _hex(bytes(8)),
        "baseFeePerGas": "0x7", "withdrawalsRoot": _hex(keccak(rlp.encode(b""))),
        "blobGasUsed": hex(131072), "excessBlobGas": "0x0",
        "parentBeaconBlockRoot": _hex(bytes(32)), "withdrawals": [], "transactions": [tx],
    }  # fmt: skip
    block["hash"] = _hex(compute_header_hash(block))
    return block


def test_wrappers_rebuild_the_network_form() -> None:
    js, payload, network = blob_tx()
    assert anvil_blob_tx_wrappers([js], [payload]) == [network]
    # Without a sidecar in the JSON (a real node) the list is unchanged.
    bare = {k: v for k, v in js.items() if k not in ("blobs", "commitments", "proofs")}
    assert anvil_blob_tx_wrappers([bare], [payload]) == [payload]


def test_anvil_root_over_network_form_verifies() -> None:
    js, payload, network = blob_tx()
    # the one-leaf trie root, computed by hand: keccak(rlp([hex-prefix(rlp(0)), value]))
    root = keccak(rlp.encode([b"\x20\x80", network]))
    assert verify_block_json(block_with_root(js, root)) == [payload]


def test_canonical_root_still_verifies() -> None:
    js, payload, _ = blob_tx()
    root = keccak(rlp.encode([b"\x20\x80", payload]))
    assert verify_block_json(block_with_root(js, root)) == [payload]


def test_other_roots_are_rejected() -> None:
    js, payload, network = blob_tx()
    root = keccak(rlp.encode([b"\x20\x80", network]))
    tampered = dict(js, blobs=["0x" + "00" * 131072])
    with pytest.raises(BlockVerificationError):
        verify_block_json(block_with_root(tampered, root))
    with pytest.raises(BlockVerificationError):
        verify_block_json(block_with_root(js, ordered_trie_root([payload, payload])))
