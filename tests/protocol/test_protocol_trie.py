"""pyop.protocol.trie: roots checked against known vectors, the `trie` package (HexaryTrie) as
an independent oracle, and real block headers (Goerli withdrawals root, OP Sepolia tx roots)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import rlp
from eth_hash.auto import keccak
from hypothesis import given, settings
from hypothesis import strategies as st
from trie import HexaryTrie

from pyop.protocol.trie import (
    EMPTY_CODE_HASH,
    EMPTY_TRIE_ROOT,
    AccountState,
    ordered_trie_root,
    secure_trie_root,
    state_root,
    storage_root,
    trie_root,
)
from tests.conftest import SHARED_VECTORS


def oracle_root(items: dict[bytes, bytes]) -> bytes:
    t = HexaryTrie({})
    for k, v in items.items():
        t[k] = v
    return bytes(t.root_hash)


def test_empty_roots() -> None:
    assert EMPTY_TRIE_ROOT.hex() == "56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421"
    assert EMPTY_CODE_HASH.hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    assert trie_root([]) == EMPTY_TRIE_ROOT
    assert ordered_trie_root([]) == EMPTY_TRIE_ROOT
    assert storage_root({1: 0}) == EMPTY_TRIE_ROOT  # zero values are absent


def test_ethereum_tests_trieanyorder() -> None:
    """ethereum/tests TrieTests/trieanyorder.json cases "puppy" and "dogs"."""
    puppy = [(b"do", b"verb"), (b"horse", b"stallion"), (b"doge", b"coin"), (b"dog", b"puppy")]
    assert trie_root(puppy).hex() == (
        "5991bb8c6514148a29db676a14ac506cd2cd5775ace63c30a4fe457715e9ac84"
    )
    dogs = [(b"doe", b"reindeer"), (b"dog", b"puppy"), (b"dogglesworth", b"cat")]
    assert trie_root(dogs).hex() == (
        "8aad789dff2f538bca5d8ea56e8abe10f4c7ba3a5dea95fea4cd6e7c3a1168d3"
    )


def test_later_duplicate_wins_and_empty_deletes() -> None:
    assert trie_root([(b"a", b"1"), (b"a", b"2")]) == oracle_root({b"a": b"2"})
    assert trie_root([(b"a", b"1"), (b"b", b"2"), (b"a", b"")]) == oracle_root({b"b": b"2"})


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.binary(max_size=5), st.binary(min_size=1, max_size=70), max_size=40))
def test_matches_hexary_trie(items: dict[bytes, bytes]) -> None:
    assert trie_root(items.items()) == oracle_root(items)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.binary(min_size=32, max_size=32), st.binary(min_size=1, max_size=120), max_size=60))
def test_secure_and_storage_match_oracle(items: dict[bytes, bytes]) -> None:
    assert secure_trie_root(items.items()) == oracle_root({keccak(k): v for k, v in items.items()})
    storage = {int.from_bytes(k, "big"): int.from_bytes(v[:32], "big") for k, v in items.items()}
    expected = oracle_root(
        {keccak(k.to_bytes(32, "big")): rlp.encode(v) for k, v in storage.items() if v}
    )
    assert storage_root(storage) == expected


def test_state_root_matches_oracle() -> None:
    accounts = {
        bytes([i]) * 20: AccountState(nonce=i, balance=10**18 * i, storage_root=keccak(bytes([i])))
        for i in range(1, 30)
    }
    expected = oracle_root(
        {
            keccak(a): rlp.encode([s.nonce, s.balance, s.storage_root, s.code_hash])
            for a, s in accounts.items()
        }
    )
    assert state_root(accounts) == expected


def _vector_files(pattern: str) -> list[str]:
    files = sorted(str(p) for p in SHARED_VECTORS.glob(pattern))
    assert files, f"no vectors matched {pattern} under {SHARED_VECTORS}"
    return files


def test_real_goerli_withdrawals_root() -> None:
    """Goerli post-Shanghai block (optimism op-service testdata): withdrawalsRoot from the
    EIP-4895 withdrawal list, each rlp([index, validatorIndex, address, amount])."""
    (path,) = _vector_files("l1-blocks/blocks/post-shanghai-success_data.json")
    block = json.loads(Path(path).read_text())
    ws = [
        rlp.encode(
            [
                int(w["index"], 16),
                int(w["validatorIndex"], 16),
                bytes.fromhex(w["address"][2:]),
                int(w["amount"], 16),
            ]
        )
        for w in block["withdrawals"]
    ]
    assert ws, "vector has no withdrawals"
    assert ordered_trie_root(ws).hex() == block["withdrawalsRoot"][2:]


def test_real_op_sepolia_transaction_roots() -> None:
    """OP Sepolia blocks 26207960..63 are consecutive: the transactions of block N's payload
    must hash to the transactionsRoot in block N+1's parent header."""
    files = _vector_files("payloads/op-sepolia-block-262079*.json")
    by_num = {int(f.rsplit("-", 1)[1].split(".")[0]): json.loads(Path(f).read_text()) for f in files}
    checked = 0
    for n, fx in by_num.items():
        nxt = by_num.get(n + 1)
        if nxt is None:
            continue
        txs = [bytes.fromhex(t[2:]) for t in fx["executing_payload"]["transactions"]]
        want = nxt["parent_header"]["transactionsRoot"][2:]
        assert ordered_trie_root(txs).hex() == want
        assert oracle_root({rlp.encode(i): t for i, t in enumerate(txs)}).hex() == want
        checked += 1
    assert checked >= 2


@pytest.mark.parametrize("n", [1, 2, 127, 128, 129, 1000])
def test_ordered_root_key_encoding(n: int) -> None:
    """Index keys rlp(i) cross the single-byte/long-form boundary at 128."""
    values = [keccak(i.to_bytes(4, "big")) for i in range(n)]
    assert ordered_trie_root(values) == oracle_root(
        {rlp.encode(i): v for i, v in enumerate(values)}
    )


_UINT = st.one_of(
    st.integers(min_value=0, max_value=300),
    st.integers(min_value=0, max_value=2**256 - 1),
    st.integers(min_value=0, max_value=2**600),  # long-form string length (> 55 bytes)
)


@settings(max_examples=500, deadline=None)
@given(_UINT)
def test_direct_uint_rlp_matches_pyrlp(v: int) -> None:
    """The direct encoder (issue 15) gives pyrlp's bytes: 0, single bytes, the 0x80/0xb7
    boundaries, long-form lengths."""
    from pyop.protocol.trie import _rlp_uint

    assert _rlp_uint(v) == rlp.encode(v)


@settings(max_examples=300, deadline=None)
@given(_UINT, _UINT, st.binary(min_size=32, max_size=32), st.binary(min_size=32, max_size=32))
def test_account_rlp_matches_pyrlp(nonce: int, balance: int, sroot: bytes, code: bytes) -> None:
    acct = AccountState(nonce, balance, sroot, code)
    assert acct.rlp() == rlp.encode([nonce, balance, sroot, code])


@pytest.mark.parametrize("bad", [AccountState(nonce=-1), AccountState(balance=-5)])
def test_negative_account_fields_rejected(bad: AccountState) -> None:
    with pytest.raises(ValueError, match="unsigned"):
        bad.rlp()


def test_negative_storage_value_rejected() -> None:
    with pytest.raises(ValueError, match="uint256"):
        storage_root({1: -1})


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.binary(min_size=20, max_size=20),
                       st.tuples(_UINT, _UINT, st.dictionaries(st.integers(0, 2**256 - 1), st.integers(0, 2**256 - 1), max_size=4)),
                       max_size=12))  # fmt: skip
def test_state_root_with_storage_matches_oracle(accts: dict[bytes, tuple[int, int, dict[int, int]]]) -> None:
    """Whole state roots (storage tries, big balances and nonces) against HexaryTrie + pyrlp."""
    accounts = {a: AccountState(n, b, storage_root(s)) for a, (n, b, s) in accts.items()}
    want = {}
    for a, (n, b, s) in accts.items():
        sroot = oracle_root({keccak(k.to_bytes(32, "big")): rlp.encode(v) for k, v in s.items() if v})
        want[keccak(a)] = rlp.encode([n, b, sroot, EMPTY_CODE_HASH])
    assert state_root(accounts) == oracle_root(want)
