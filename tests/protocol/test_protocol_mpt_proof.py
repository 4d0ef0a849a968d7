"""MPT proof verification (pyop.protocol.mpt_proof) against proofs made by an independent trie
implementation (py-trie's ``HexaryTrie.get_proof``), including absent keys, inline nodes and
tampered proofs."""

from __future__ import annotations

import pytest
import rlp
from eth_hash.auto import keccak
from hypothesis import given, settings
from hypothesis import strategies as st
from trie import HexaryTrie

from pyop.protocol.mpt_proof import AccountProof, ProofError, verify_proof


def _trie(items: dict[bytes, bytes]) -> HexaryTrie:
    t = HexaryTrie(db={})
    for k, v in items.items():
        t[k] = v
    return t


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(
        st.binary(min_size=1, max_size=8), st.binary(min_size=1, max_size=40), min_size=1,
        max_size=40,
    ),
    st.binary(min_size=1, max_size=8),
)
def test_proofs_of_present_and_absent_keys(items: dict[bytes, bytes], probe: bytes) -> None:
    t = _trie(items)
    for k, v in items.items():
        proof = [rlp.encode(n) for n in t.get_proof(k)]
        assert verify_proof(t.root_hash, k, proof) == v
    proof = [rlp.encode(n) for n in t.get_proof(probe)]
    assert verify_proof(t.root_hash, probe, proof) == items.get(probe)


def _account_trie() -> tuple[HexaryTrie, bytes, AccountProof]:
    t = HexaryTrie(db={})
    for i in range(50):
        addr = keccak(bytes([i]))[:20]
        t[keccak(addr)] = rlp.encode([i, 10**18 + i, keccak(b"s%d" % i), keccak(b"c%d" % i)])
    addr = keccak(bytes([7]))[:20]
    proof = tuple(rlp.encode(n) for n in t.get_proof(keccak(addr)))
    acct = AccountProof(addr, 7, 10**18 + 7, keccak(b"s7"), keccak(b"c7"), proof)
    return t, addr, acct


def test_account_proof_verifies_and_rejects_wrong_values() -> None:
    t, addr, acct = _account_trie()
    acct.verify(t.root_hash)
    bad = AccountProof(addr, 7, 10**18 + 7, keccak(b"other storage root"), keccak(b"c7"),
                       acct.account_proof)  # fmt: skip
    with pytest.raises(ProofError, match="proven as"):
        bad.verify(t.root_hash)
    with pytest.raises(ProofError, match="lacks node"):
        acct.verify(keccak(b"another state root"))
    # A missing middle node.
    short = AccountProof(addr, 7, 10**18 + 7, keccak(b"s7"), keccak(b"c7"),
                         acct.account_proof[:1])  # fmt: skip
    with pytest.raises(ProofError, match="lacks node"):
        short.verify(t.root_hash)
