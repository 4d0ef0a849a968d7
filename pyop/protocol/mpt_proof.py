"""Merkle-Patricia proofs as ``eth_getProof`` returns them (EIP-1186), verified against a root.

The proposer reads the ``L2ToL1MessagePasser`` storage root from ``eth_getProof`` and, like
op-service ``eth.AccountResult.Verify`` (called from ``L2Client.outputV0``), checks the account
proof against the block's state root before trusting it: walking the proof from the root along
``keccak256(address)`` must end in the RLP account ``[nonce, balance, storageRoot, codeHash]``
with the values the node reported.

Trie format: the Ethereum yellow paper, appendix D (modified Merkle-Patricia trie): nodes are RLP
lists, a branch has 17 items, a leaf or extension 2 (hex-prefix encoded path first); a child
reference is the node's keccak256 when its RLP is at least 32 bytes, the node itself otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import rlp
from eth_hash.auto import keccak

from pyop.primitives import PyopError


class ProofError(PyopError):
    """A proof that does not verify against the root (the message says where it fails)."""


def _nibbles(key: bytes) -> list[int]:
    out: list[int] = []
    for b in key:
        out += (b >> 4, b & 0x0F)
    return out


def _hp_decode(path: bytes) -> tuple[list[int], bool]:
    """Hex-prefix decoding: (nibbles, is_leaf)."""
    if not path:
        raise ProofError("empty hex-prefix path")
    flag = path[0] >> 4
    if flag > 3:
        raise ProofError(f"bad hex-prefix flag {flag}")
    nib = _nibbles(path)
    nib = nib[1:] if flag & 1 else nib[2:]
    return nib, bool(flag & 2)


def verify_proof(root: bytes, key: bytes, proof: Sequence[bytes]) -> bytes | None:
    """The value stored under ``key`` (the full trie key, already hashed for a secure trie) in
    the trie with root ``root``, as proven by ``proof`` (RLP nodes, root first); ``None`` for a
    proven absence. :class:`ProofError` if the proof is incomplete or inconsistent."""
    by_hash = {keccak(n): n for n in proof}
    path = _nibbles(key)
    ref: object = root
    depth = 0
    while True:
        if isinstance(ref, bytes):
            if len(ref) == 0:
                return None
            if len(ref) != 32:
                raise ProofError(f"bad node reference of {len(ref)} bytes at depth {depth}")
            raw = by_hash.get(ref)
            if raw is None:
                raise ProofError(f"proof lacks node 0x{ref.hex()} at depth {depth}")
            node = rlp.decode(raw)
        else:
            node = ref  # an inline node (its RLP is shorter than 32 bytes)
        if not isinstance(node, list):
            raise ProofError(f"node at depth {depth} is not a list")
        if len(node) == 17:
            if not path:
                value = node[16]
                return bytes(value) if value else None
            ref, path = node[path[0]], path[1:]
        elif len(node) == 2:
            nib, leaf = _hp_decode(bytes(node[0]))
            if leaf:
                return bytes(node[1]) if path == nib else None
            if path[: len(nib)] != nib:
                return None
            ref, path = node[1], path[len(nib) :]
        else:
            raise ProofError(f"node at depth {depth} has {len(node)} items")
        depth += 1


@dataclass(frozen=True, slots=True)
class AccountProof:
    """The account part of an ``eth_getProof`` result."""

    address: bytes
    nonce: int
    balance: int
    storage_hash: bytes
    code_hash: bytes
    account_proof: tuple[bytes, ...]

    def verify(self, state_root: bytes) -> None:
        """op-service ``AccountResult.Verify``: the proof leads from ``state_root`` to exactly
        this account; :class:`ProofError` otherwise."""
        got = verify_proof(state_root, keccak(self.address), self.account_proof)
        if got is None:
            raise ProofError(f"account 0x{self.address.hex()} is absent under state root "
                             f"0x{state_root.hex()}")  # fmt: skip
        want = rlp.encode([self.nonce, self.balance, self.storage_hash, self.code_hash])
        if got != want:
            raise ProofError(f"account 0x{self.address.hex()} proven as 0x{got.hex()}, "
                             f"but reported as 0x{want.hex()}")  # fmt: skip


def account_proof_from_json(obj: dict[str, object]) -> AccountProof:
    """Parse an ``eth_getProof`` JSON result (hex quantities and data)."""
    def b(key: str) -> bytes:
        return bytes.fromhex(str(obj[key]).removeprefix("0x"))

    def q(key: str) -> int:
        return int(str(obj[key]), 16)

    proof = obj.get("accountProof")
    if not isinstance(proof, list):
        raise ProofError("eth_getProof result without accountProof")
    return AccountProof(
        address=b("address"), nonce=q("nonce"), balance=q("balance"),
        storage_hash=b("storageHash"), code_hash=b("codeHash"),
        account_proof=tuple(bytes.fromhex(str(n).removeprefix("0x")) for n in proof),
    )  # fmt: skip
