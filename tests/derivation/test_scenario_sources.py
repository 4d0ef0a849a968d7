"""Scenario tests for the data sources (calldata signatures, blobs, alt-DA) and unit tests of
the in-memory sources (pyop/sources/memory.py).

Spec: specs/protocol/derivation.md "L1 Retrieval" (batcher txs: to the inbox, signed by the
batcher), ecotone/derivation.md "Blob Retrieval" (blobs checked against versioned hashes),
specs/experimental/alt-da.md "Input Commitment Submission".
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from eth_account import Account
from eth_hash.auto import keccak

from pyop.codec.blob import encode_blob
from pyop.config import AltDAConfig
from pyop.derivation.errors import CriticalError, TemporaryError
from pyop.derivation.interfaces import IndexedBlobHash, NotFound
from pyop.primitives import L1BlockRef, L1Header
from pyop.protocol.l1_types import Receipt
from pyop.sources.memory import (
    L1Block,
    MemoryAltDASource,
    MemoryBlobSource,
    MemoryL1Source,
    MemoryL2Source,
    SourceError,
)
from tests.derivation.harness import (
    ALTDA_CHALLENGE_WINDOW,
    ALTDA_RESOLVE_WINDOW,
    BATCHER,
    BATCHER_KEY,
    BLOB_TX_TYPE,
    DYNAMIC_FEE_TX_TYPE,
    ChainBuilder,
    assert_truth,
    run,
    sign_l1_tx,
)


def test_batcher_txs_are_really_signed() -> None:
    """The harness's batcher txs recover to the batcher address with eth_account (an
    implementation independent of the pipeline's sender recovery)."""
    raw = sign_l1_tx(BATCHER_KEY, DYNAMIC_FEE_TX_TYPE, nonce=3, gas=100_000, to=b"\x11" * 20,
                     value=0, data=b"\x00abc", max_priority_fee_per_gas=1, max_fee_per_gas=2)  # fmt: skip
    assert bytes.fromhex(Account.recover_transaction(raw)[2:]) == BATCHER
    b = ChainBuilder(fork="ecotone", seed=60)
    b.submit(2, range(1, 6), da="blob")
    b.build(2)
    blob_tx = b.l1.transactions_by_hash(b.header(2).hash)[0]
    assert blob_tx[0] == BLOB_TX_TYPE


def test_corrupt_blob_is_a_temporary_error() -> None:
    """A blob that does not match its versioned hash is not used: the source reports a
    temporary failure (op-node: the sidecar fetch fails) and derivation cannot proceed."""
    b = ChainBuilder(fork="ecotone", seed=61)
    b.submit(2, range(1, 6), da="blob")
    b.build(3)
    good = b.blobs
    bad = MemoryBlobSource()
    (vh,) = [ih.hash for ih in _blob_hashes(b, 2)]
    bad.put_unchecked(b.header(2).hash, 0, vh, encode_blob(b"not the batch data"))
    b.blobs = bad
    with pytest.raises(TemporaryError):
        run(b)
    b.blobs = good
    res = run(b)
    assert_truth(res, 5)


def _blob_hashes(b: ChainBuilder, n: int) -> list[IndexedBlobHash]:
    from pyop.codec.tx import decode_signed_tx

    out = []
    for raw in b.l1.transactions_by_hash(b.header(n).hash):
        if raw[0] == BLOB_TX_TYPE:
            out += [IndexedBlobHash(len(out), h) for h in decode_signed_tx(raw).blob_versioned_hashes]
    return out


def test_altda_keccak_commitments() -> None:
    """Alt-DA: a ``0x01 ++ 0x00 ++ keccak(input)`` commitment is resolved through the DA
    server; plain calldata frames still work next to commitments."""
    b = ChainBuilder(fork="granite", alt_da=True, seed=62)
    b.submit(2, range(1, 12), da="altda")
    b.submit(3, range(12, 18))
    b.build(4)
    res = run(b)
    assert res.reasons() == []
    assert_truth(res, 17)
    assert len(b.altda.requests) == 1


def test_altda_generic_commitments() -> None:
    b = ChainBuilder(fork="granite", alt_da="generic", seed=65)
    b.submit(2, range(1, 12), da="altda")
    b.build(3)
    res = run(b)
    assert res.reasons() == []
    assert_truth(res, 11)
    assert b.altda.requests[0][0][:2] == b"\x01\x7e"


def _altda_builder(seed: int, **kw: object) -> ChainBuilder:
    b = ChainBuilder(fork="granite", alt_da=kw.pop("alt_da", True), seed=seed, **kw)
    b.submit(2, range(1, 12), da="altda")
    b.build(3)
    return b


class _FlakyDA:
    """The builder's DA server, failing with ``make_error()`` while ``down`` (every call)."""

    def __init__(self, inner: MemoryAltDASource, make_error: Callable[[], Exception]) -> None:
        self.inner, self.make_error = inner, make_error
        self.down = True
        self.asked: list[bytes] = []

    def get_input(self, commitment: bytes, l1_block: L1BlockRef) -> bytes:
        self.asked.append(commitment)
        if self.down:
            raise self.make_error()
        return self.inner.get_input(commitment, l1_block)


_DA_FAILURES: dict[str, Callable[[], Exception]] = {
    "404": lambda: NotFound("alt-DA input not found"),
    "transport": lambda: TemporaryError("RPCTransportError: GET /get/0x01..: connection refused"),
    "timeout": lambda: TemporaryError("TimeoutError: alt-DA GET timed out"),
}


@pytest.mark.parametrize("kind", [*sorted(_DA_FAILURES), "keccak-mismatch"])
def test_altda_failed_fetch_is_retried_on_the_same_pipeline(kind: str) -> None:
    """A commitment whose input cannot be fetched (404, transport error, timeout, an input
    that fails the keccak check on read) is kept and asked for again: the SAME pipeline, run
    again once the DA server answers, derives all 11 blocks (op-node ``AltDADataSource`` keeps
    ``s.comm``; audit note F1: 0 of 11 before). Every request is for that one commitment."""
    b = _altda_builder(63)
    good = b.altda
    comm = _only_commitment(b)
    if kind == "keccak-mismatch":
        bad = MemoryAltDASource({comm: b"\x00" + b"not the batch"}, verify=True)
        da: Any = _FlakyDA(bad, lambda: AssertionError("unused"))
        da.down = False
    else:
        da = _FlakyDA(good, _DA_FAILURES[kind])
    b.altda = da
    res = run(b, until_l2_number=0)  # a pipeline, reset at genesis, nothing derived yet
    for _ in range(3):
        with pytest.raises(TemporaryError):
            run(b, previous=res, reset=False)
    assert res.executor.executed == []
    # the DA server answers again (with the right data)
    if kind == "keccak-mismatch":
        bad.put(comm, good.get_input(comm, b.header(2).ref()))
    else:
        da.down = False
    res2 = run(b, previous=res, reset=False)
    assert res2.pipeline is res.pipeline
    assert_truth(res2, 11)
    assert res2.reasons() == []
    asked = da.asked if kind != "keccak-mismatch" else [c for c, _ in bad.requests]
    assert set(asked) == {comm} and len(asked) >= 4


def _only_commitment(b: ChainBuilder) -> bytes:
    from pyop.codec.tx import decode_signed_tx

    data = decode_signed_tx(b.l1.transactions_by_hash(b.header(2).hash)[0]).data
    assert data[:2] == b"\x01\x00" and len(data) == 34
    return data[1:]


def test_altda_input_missing_past_the_challenge_window_is_critical() -> None:
    """op-node ``ErrMissingPastWindow``: a 404 for a commitment nobody challenged, once the DA
    manager has looked ahead past ``inclusion + challenge_window``, halts derivation."""
    b = ChainBuilder(fork="granite", alt_da=True, seed=66)
    b.submit(2, range(1, 12), da="altda")
    b.build(2 + ALTDA_CHALLENGE_WINDOW + 3)
    b.altda = MemoryAltDASource()
    with pytest.raises(CriticalError, match="not available"):
        run(b)


def test_altda_commitment_type_mismatch_is_skipped() -> None:
    """op-node ``ErrCommitmentTypeMismatch``: keccak commitments on a generic-commitment chain
    are skipped (the DA server is not even asked); later calldata batches still derive."""
    b = ChainBuilder(fork="granite", alt_da=True, seed=67)
    b.submit(2, range(1, 12), da="altda")
    b.submit(3, range(1, 18))
    b.build(4)
    generic = dataclasses.replace(b.cfg, alt_da=_generic_altda())
    b.cfg = generic
    res = run(b)
    assert res.reasons() == ["ALTDA_COMMITMENT_TYPE_MISMATCH"]
    assert res.drops[0].l1_origin.number == 2
    assert b.altda.requests == []
    assert_truth(res, 17)


def _generic_altda() -> AltDAConfig:
    return AltDAConfig("GenericCommitment", ALTDA_CHALLENGE_WINDOW, ALTDA_RESOLVE_WINDOW)


def test_altda_keccak_mismatch_without_verify_is_used_as_is() -> None:
    """With ``--altda.verify-on-read=false`` (the seed's and the devnet's flag) op-node does not
    check keccak inputs at all: whatever the DA server returns goes to the frame decoder."""
    b = ChainBuilder(fork="granite", alt_da=True, seed=62)
    b.submit(2, range(1, 12), da="altda")
    b.submit(3, range(1, 18))
    b.build(4)
    comm = _only_commitment(b)
    b.altda.put(comm, b"\x00" + b"garbage")
    res = run(b)
    assert res.reasons() == ["FRAME_INVALID"]
    assert res.drops[0].l1_origin.number == 2
    assert_truth(res, 17)


# --- in-memory sources ------------------------------------------------------------------------


def _hdr(n: int, parent: bytes, salt: bytes = b"") -> L1Header:
    return L1Header(keccak(b"h" + bytes([n]) + salt), n, parent, 1000 + 12 * n, 7, b"\x00" * 32)


def test_memory_l1_source_labels_and_reorg() -> None:
    l1 = MemoryL1Source()
    h0 = _hdr(0, b"\x00" * 32)
    h1 = _hdr(1, h0.hash)
    h2 = _hdr(2, h1.hash)
    for h in (h0, h1, h2):
        l1.add_block(h)
    assert l1.l1_block_ref_by_label("latest") == h2.ref()
    with pytest.raises(NotFound):
        l1.l1_block_ref_by_label("finalized")
    l1.set_label("finalized", 1)
    l1.set_label("safe", 2)
    assert l1.l1_block_ref_by_label("finalized") == h1.ref()
    with pytest.raises(SourceError):
        l1.add_block(_hdr(3, b"\x01" * 32))  # does not extend the canonical block 2
    with pytest.raises(SourceError):
        l1.add_block(_hdr(2, h1.hash, b"x"))  # number taken: needs reorg()
    h2b = _hdr(2, h1.hash, b"b")
    l1.reorg(2, [L1Block(h2b, (), ())])
    assert l1.l1_block_ref_by_number(2) == h2b.ref()
    assert l1.l1_block_ref_by_hash(h2.hash) == h2.ref()  # the old block stays known by hash
    assert l1.l1_block_ref_by_label("safe") == h2b.ref()
    l1.reorg(2, [])
    assert l1.l1_block_ref_by_label("safe") == h1.ref()
    with pytest.raises(NotFound):
        l1.l1_block_ref_by_number(2)
    with pytest.raises(SourceError):  # receipts must match the transactions
        l1.add_block(_hdr(2, h1.hash, b"c"), [b"a", b"b"], [Receipt(1)])


def test_memory_blob_source_checks_hashes() -> None:
    src = MemoryBlobSource()
    block = _hdr(5, b"\x00" * 32)
    blob = encode_blob(b"hello")
    vh = src.add_blob(block.hash, blob)
    assert vh[0] == 1
    assert list(src.get_blobs(block.ref(), [IndexedBlobHash(0, vh)])) == [blob]
    with pytest.raises(NotFound):
        src.get_blobs(block.ref(), [IndexedBlobHash(1, keccak(b"other"))])
    src.put_unchecked(block.hash, 1, keccak(b"claimed"), encode_blob(b"x"))
    with pytest.raises(TemporaryError):
        src.get_blobs(block.ref(), [IndexedBlobHash(1, keccak(b"claimed"))])


def test_memory_l2_and_altda_sources() -> None:
    b = ChainBuilder(fork="granite", seed=64).build(2)
    l2 = MemoryL2Source()
    for blk in b.l2[:6]:
        l2.add(blk.payload, blk.ref, blk.system_config)
    assert l2.head() == b.l2[5].ref
    assert l2.l2_block_ref_by_hash(b.l2[3].ref.hash) == b.l2[3].ref
    assert l2.payload_by_number(4) == b.l2[4].payload
    l2.truncate(3)
    with pytest.raises(NotFound):
        l2.l2_block_ref_by_number(4)
    with pytest.raises(NotFound):
        l2.system_config_by_l2_hash(b.l2[5].ref.hash)
    da = MemoryAltDASource()
    c = da.put_keccak(b"data")
    assert c == b"\x00" + keccak(b"data")
    assert da.get_input(c, b.header(1).ref()) == b"data"
    with pytest.raises(NotFound):
        da.get_input(b"\x01\x02", b.header(1).ref())
