"""Merkle-Patricia trie roots (root only, no database), for genesis state and header roots.

Spec: Ethereum Yellow Paper appendix D ("Modified Merkle Patricia Tree") and appendix C
(hex-prefix encoding); the "secure" trie hashes each key with keccak256 (state and storage
tries); ordered tries (transactions, receipts, withdrawals) key item ``i`` by ``rlp(i)``.
OP Stack uses: the L2 genesis state root (specs/protocol/exec-engine.md, op-geth genesis), the
L2ToL1MessagePasser storage root (specs/protocol/proposals.md output root v0, and the Isthmus
header ``withdrawalsRoot``, specs/protocol/isthmus/exec-engine.md).

The builder sorts the keys once and encodes each node bottom-up by recursion over the sorted
range, so it never stores or rehashes intermediate nodes: O(n * key length) work. A node whose
RLP is shorter than 32 bytes is embedded in its parent; the root is always hashed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from eth_hash.auto import keccak

EMPTY_TRIE_ROOT = keccak(b"\x80")
"""Root of the empty trie: keccak256(rlp(b"")) = 0x56e81f17...b421."""
EMPTY_CODE_HASH = keccak(b"")
"""keccak256 of empty code: 0xc5d2460186f7...a470."""

# eth-hash's bound backend function (``keccak.hasher``, set by the first call above): the same
# hash as ``keccak(x)`` without the wrapper's type check, ~0.6 us less per node (issue 15; the
# hashes are checked against HexaryTrie in tests/protocol/test_protocol_trie.py).
_keccak = keccak.hasher

_EMPTY_STRING = b"\x80"


def _rlp_str(b: bytes) -> bytes:
    n = len(b)
    if n == 1 and b[0] < 0x80:
        return b
    if n < 56:
        return bytes((0x80 + n,)) + b
    ln = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0xB7 + len(ln),)) + ln + b


def _rlp_list(payload: bytes) -> bytes:
    n = len(payload)
    if n < 56:
        return bytes((0xC0 + n,)) + payload
    ln = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0xF7 + len(ln),)) + ln + payload


def _rlp_uint(v: int) -> bytes:
    """rlp(v) of an unsigned integer: big-endian bytes without leading zeros as a string (the
    same bytes as ``rlp.encode(v)``, tests/protocol/test_protocol_trie.py checks; a direct
    encoder because pyrlp's sedes inference was most of a state root's time, issue 15)."""
    if v < 0x80:
        return b"\x80" if v == 0 else bytes((v,))
    b = v.to_bytes((v.bit_length() + 7) // 8, "big")
    n = len(b)
    if n < 56:
        return bytes((0x80 + n,)) + b
    ln = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0xB7 + len(ln),)) + ln + b


def _ref(node: bytes) -> bytes:
    """A child reference: the node itself if its RLP is < 32 bytes, else rlp(keccak(node))."""
    if len(node) < 32:
        return node
    return b"\xa0" + _keccak(node)


def _hex_prefix(path: str, leaf: bool) -> bytes:
    """Hex-prefix encoding (Yellow Paper appendix C) of a nibble path given as hex chars."""
    if len(path) % 2:
        return bytes.fromhex(("3" if leaf else "1") + path)
    return bytes.fromhex(("20" if leaf else "00") + path)


def _node(keys: Sequence[str], values: Sequence[bytes], lo: int, hi: int, depth: int) -> bytes:
    """RLP of the node holding sorted ``keys[lo:hi]`` below nibble ``depth``."""
    first = keys[lo]
    if hi - lo == 1:
        return _rlp_list(_rlp_str(_hex_prefix(first[depth:], True)) + _rlp_str(values[lo]))
    last = keys[hi - 1]
    # Common prefix of a sorted range = common prefix of its first and last key.
    end = min(len(first), len(last))
    cp = depth
    while cp < end and first[cp] == last[cp]:
        cp += 1
    if cp > depth:
        child = _branch(keys, values, lo, hi, cp)
        return _rlp_list(_rlp_str(_hex_prefix(first[depth:cp], False)) + _ref(child))
    return _branch(keys, values, lo, hi, depth)


def _branch(keys: Sequence[str], values: Sequence[bytes], lo: int, hi: int, depth: int) -> bytes:
    slots = [_EMPTY_STRING] * 16
    value = _EMPTY_STRING
    i = lo
    if len(keys[i]) == depth:  # a key ending here sorts first: it is the branch's value
        value = _rlp_str(values[i])
        i += 1
    while i < hi:
        key = keys[i]
        c = key[depth]
        j = i + 1
        while j < hi and keys[j][depth] == c:
            j += 1
        if j == i + 1:  # a leaf (most children): _node's leaf case, inlined for the hot path
            path = key[depth + 1 :]
            hp = bytes.fromhex("3" + path if len(path) % 2 else "20" + path)
            # a one-byte hex prefix (0x20, 0x3N) is its own RLP; longer ones are < 56 bytes
            leaf = _rlp_list(
                (hp if len(hp) == 1 else bytes((0x80 + len(hp),)) + hp) + _rlp_str(values[i])
            )
            slots[int(c, 16)] = leaf if len(leaf) < 32 else b"\xa0" + _keccak(leaf)
        else:
            slots[int(c, 16)] = _ref(_node(keys, values, i, j, depth + 1))
        i = j
    return _rlp_list(b"".join(slots) + value)


def trie_root(items: Iterable[tuple[bytes, bytes]]) -> bytes:
    """Root hash of the trie mapping raw ``key -> value`` (a later duplicate key wins).

    Empty values mean "absent", as in a trie that deletes on empty writes.
    """
    d: dict[str, bytes] = {}
    for k, v in items:
        if v:
            d[k.hex()] = v
        else:
            d.pop(k.hex(), None)
    return _root(d)


def _root(d: dict[str, bytes]) -> bytes:
    """Root of the trie of hex-string keys -> non-empty values."""
    if not d:
        return EMPTY_TRIE_ROOT
    keys = sorted(d)
    values = [d[k] for k in keys]
    return _keccak(_node(keys, values, 0, len(keys), 0))


def secure_trie_root(items: Iterable[tuple[bytes, bytes]]) -> bytes:
    """Root of the "secure" trie: each key replaced by keccak256(key) (state/storage tries)."""
    h = _keccak
    d: dict[str, bytes] = {}
    for k, v in items:
        if v:
            d[h(k).hex()] = v
        else:
            d.pop(h(k).hex(), None)
    return _root(d)


def ordered_trie_root(values: Sequence[bytes]) -> bytes:
    """Root of a list trie keyed by ``rlp(index)`` (transactions, receipts, withdrawals roots)."""
    return trie_root((_rlp_uint(i), v) for i, v in enumerate(values))


def storage_root(storage: Mapping[int, int]) -> bytes:
    """Storage root of an account: slot (uint256) -> value (uint256); zero values are absent.

    Leaf key keccak256(slot as 32 bytes), leaf value rlp(value without leading zeros).
    """
    if any(v < 0 for v in storage.values()):
        raise ValueError("storage values are uint256: a negative value has no RLP encoding")
    h = _keccak
    return _root(
        {h(slot.to_bytes(32, "big")).hex(): _rlp_uint(val) for slot, val in storage.items() if val}
    )


@dataclass(frozen=True, slots=True)
class AccountState:
    """What the state trie stores for an account (Yellow Paper section 4.1)."""

    nonce: int = 0
    balance: int = 0
    storage_root: bytes = EMPTY_TRIE_ROOT
    code_hash: bytes = EMPTY_CODE_HASH

    def rlp(self) -> bytes:
        """rlp([nonce, balance, storageRoot, codeHash])."""
        if self.nonce < 0 or self.balance < 0:
            raise ValueError("nonce and balance are unsigned: a negative value has no RLP encoding")
        return _rlp_list(
            _rlp_uint(self.nonce) + _rlp_uint(self.balance)
            + _rlp_str(self.storage_root) + _rlp_str(self.code_hash)
        )  # fmt: skip


def state_root(accounts: Mapping[bytes, AccountState]) -> bytes:
    """State root of ``address (20 bytes) -> AccountState`` (the secure account trie)."""
    return secure_trie_root((addr, acct.rlp()) for addr, acct in accounts.items())
