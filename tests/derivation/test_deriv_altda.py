"""Alt-DA: commitments, the DataAvailabilityChallenge event, the DA manager's state and rules,
and the alt-DA data source (specs/experimental/alt-da.md; Go ``op-alt-da`` and
``op-node/rollup/derive/altda_data_source.go`` v1.19.6).

Expected values come from the Go reference: the state cases are Go's ``op-alt-da/damgr_test.go``
(``TestFinalization``, ``TestExpireChallenges``, ``TestDAChallengeDetached``,
``TestUpdateFinalizedHead``, ``TestAdvanceChallengeOrigin``, whose receipt is used byte for
byte), the data-source cases follow ``AltDADataSource.Next`` and
``altda_data_source_test.go`` (``TestAltDADataSource``: challenged commitments expire, the
source asks for a reset, re-derivation skips them).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest
from eth_account import Account
from eth_hash.auto import keccak

from pyop.config import AltDAConfig
from pyop.derivation.altda_manager import (
    CommitmentTypeMismatch,
    DAManager,
    ExpiredChallenge,
    MissingPastWindow,
    PendingChallenge,
)
from pyop.derivation.altda_state import ZERO_L1_REF, DAState, ReorgRequired
from pyop.derivation.data_source import AltDADataSource, DataSourceFactory
from pyop.derivation.drops import DropReason, Explainer
from pyop.derivation.errors import (
    CriticalError,
    EndOfSource,
    NotEnoughData,
    ResetError,
    TemporaryError,
)
from pyop.derivation.interfaces import NotFound
from pyop.primitives import ZERO_HASH, BlockID, L1BlockRef, L1Header
from pyop.protocol.altda import (
    CHALLENGE_STATUS_EVENT_ABI_HASH,
    AltDAFormatError,
    ChallengeStatus,
    Commitment,
    CommitmentType,
    decode_challenge_status_event,
    decode_commitment,
    decode_resolved_input,
)
from pyop.protocol.l1_types import Log, Receipt
from pyop.sources.altda import AltDAError
from pyop.sources.memory import MemoryAltDASource, MemoryL1Source
from tests.derivation.deriv_fakes import INBOX, make_cfg

DA_ADDR = bytes.fromhex("978e3286eb805934215a88694d80b09aded68d90")  # Go TestAdvanceChallengeOrigin
BATCHER_KEY = b"\x07" * 32
BATCHER = bytes.fromhex(Account.from_key(BATCHER_KEY).address[2:])


def l1ref(n: int) -> L1BlockRef:
    """Go's ``l1Ref(n)``: only the number set."""
    return L1BlockRef(ZERO_HASH, n, ZERO_HASH, 0)


def bid(n: int) -> BlockID:
    return BlockID(ZERO_HASH, n)


def comm(i: int) -> Commitment:
    return Commitment.keccak256(b"input %d" % i)


# ------------------------------------------------------------------ wire formats


def test_commitment_decoding_matches_op_alt_da() -> None:
    k = keccak(b"x")
    assert decode_commitment(b"\x00" + k) == Commitment(CommitmentType.KECCAK256, k)
    assert decode_commitment(b"\x01\x7eabc") == Commitment(CommitmentType.GENERIC, b"\x7eabc")
    for bad in (b"", b"\x00" + k[:31], b"\x00" + k + b"\x00", b"\x01", b"\x02" + k):
        with pytest.raises(AltDAFormatError):
            decode_commitment(bad)
    c = Commitment.keccak256(b"data")
    assert c.tx_data() == b"\x01\x00" + keccak(b"data")
    assert c.verify(b"data") and not c.verify(b"other")
    assert Commitment(CommitmentType.GENERIC, b"\x7e").verify(b"anything")
    assert CommitmentType.from_string("KeccakCommitment") is CommitmentType.KECCAK256
    assert CommitmentType.from_string("GenericCommitment") is CommitmentType.GENERIC
    with pytest.raises(AltDAFormatError):
        CommitmentType.from_string("keccak")


# The receipt of Go's TestAdvanceChallengeOrigin: an unrelated event of the contract, then
# ChallengeStatusChanged(14, 0x00eed82c..., Active).
GO_EVENT_DATA = bytes.fromhex(
    "0000000000000000000000000000000000000000000000000000000000000040"
    "0000000000000000000000000000000000000000000000000000000000000001"
    "0000000000000000000000000000000000000000000000000000000000000021"
    "00eed82c1026bdd0f23461dd6ca515ef677624e63e6fc0ff91e3672af8eddf579d"
    "00000000000000000000000000000000000000000000000000000000000000"
)
GO_COMM = Commitment(CommitmentType.KECCAK256,
                     bytes.fromhex("eed82c1026bdd0f23461dd6ca515ef677624e63e6fc0ff91e3672af8eddf579d"))  # fmt: skip


def go_receipts() -> list[Receipt]:
    other = Log(DA_ADDR, (bytes.fromhex("a448afda7ea1e3a7a10fcab0c29fe9a9dd85791503bf0171f281521551c7ec05"),), b"")
    ev = Log(DA_ADDR, (CHALLENGE_STATUS_EVENT_ABI_HASH, (14).to_bytes(32, "big")), GO_EVENT_DATA)
    return [Receipt(1, (other, ev))]


def test_challenge_event_decodes_go_vector() -> None:
    assert CHALLENGE_STATUS_EVENT_ABI_HASH.hex() == "c5d8c630ba2fdacb1db24c4599df78c7fb8cf97b5aecde34939597f6697bb1ad"
    ev = decode_challenge_status_event(go_receipts()[0].logs[1])
    assert (ev.challenged_block_number, ev.commitment, ev.known_status) == (14, GO_COMM, ChallengeStatus.ACTIVE)
    with pytest.raises(AltDAFormatError):  # block number beyond uint64
        decode_challenge_status_event(Log(DA_ADDR, (CHALLENGE_STATUS_EVENT_ABI_HASH, b"\x01" + bytes(31)),
                                          GO_EVENT_DATA))  # fmt: skip
    with pytest.raises(AltDAFormatError):  # truncated data
        decode_challenge_status_event(Log(DA_ADDR, (CHALLENGE_STATUS_EVENT_ABI_HASH, bytes(32)), GO_EVENT_DATA[:64]))


def test_resolved_input_decoding() -> None:
    from eth_abi.abi import encode

    args = encode(["uint256", "bytes", "bytes"], [14, GO_COMM.encode(), b"the input"])
    assert decode_resolved_input(b"\x12\x34\x56\x78" + args) == b"the input"  # selector not checked (Go)
    with pytest.raises(AltDAFormatError):
        decode_resolved_input(b"\x00\x01")
    with pytest.raises(AltDAFormatError):  # empty resolve data
        decode_resolved_input(bytes(4) + encode(["uint256", "bytes", "bytes"], [14, b"\x00", b""]))


# ------------------------------------------------------------------ state (Go damgr_test.go)


def test_finalization_go() -> None:
    """Go ``TestFinalization``."""
    s = DAState(challenge_window=6, resolve_window=6)
    c1, bn1 = comm(1), 2
    s.track_commitment(c1, l1ref(bn1))
    s.expire_commitments(bid(7))
    assert s.expired_commitments == []
    s.expire_commitments(bid(8))
    assert s.commitments == []
    s.prune(bid(bn1))
    assert s.last_pruned_commitment == ZERO_L1_REF
    s.prune(bid(7))
    assert s.last_pruned_commitment == ZERO_L1_REF
    s.prune(bid(8))
    assert s.last_pruned_commitment == l1ref(bn1)

    c2, bn2 = comm(2), 20
    s.track_commitment(c2, l1ref(bn2))
    assert s.challenge_status(c2, bn2) is ChallengeStatus.UNINITIALIZED
    s.create_challenge(c2, bid(24), bn2)
    assert s.challenge_status(c2, bn2) is ChallengeStatus.ACTIVE
    assert s.resolve_challenge(c2, bn2, None)
    assert s.challenge_status(c2, bn2) is ChallengeStatus.RESOLVED
    s.expire_commitments(bid(28))
    assert s.expired_commitments == []
    s.expire_challenges(bid(28))
    assert s.expired_challenges == []
    s.expire_commitments(bid(30))
    assert s.commitments == []
    s.expire_challenges(bid(30))
    assert s.challenges == []
    s.prune(bid(20))
    assert s.last_pruned_commitment == l1ref(bn1)
    s.prune(bid(28))
    assert s.last_pruned_commitment == l1ref(bn1)
    s.prune(bid(32))
    assert s.last_pruned_commitment == l1ref(bn2)


def test_expire_challenges_go() -> None:
    """Go ``TestExpireChallenges``: commitments every 6 blocks, two challenged; the end of the
    first one's resolve window requires a reorg."""
    s = DAState(challenge_window=90, resolve_window=90)
    comms: dict[int, Commitment] = {}
    i = 3713854
    while i < 3713948:
        comms[i] = comm(i)
        s.track_commitment(comms[i], l1ref(i))
        s.expire_commitments(bid(i))
        s.expire_challenges(bid(i))
        i += 6
    s.create_challenge(comms[3713926], bid(3713948), 3713926)
    s.create_challenge(comms[3713932], bid(3713950), 3713932)
    while i < 3714038:
        comms[i] = comm(i)
        s.track_commitment(comms[i], l1ref(i))
        s.expire_commitments(bid(i))
        s.expire_challenges(bid(i))
        i += 6
    s.expire_challenges(bid(3714106))
    with pytest.raises(ReorgRequired):
        s.expire_commitments(bid(3714106))


def test_challenge_detached_go() -> None:
    """Go ``TestDAChallengeDetached``: look-ahead + reorg handling."""
    s = DAState(challenge_window=6, resolve_window=6)
    c1, c2 = comm(1), comm(2)
    s.track_commitment(c1, l1ref(1))
    s.create_challenge(c2, bid(3), 2)
    assert s.challenge_status(c2, 2) is ChallengeStatus.ACTIVE
    s.create_challenge(c1, bid(5), 1)
    s.expire_challenges(bid(10))
    s.expire_commitments(bid(10))  # c2 expired, but the pipeline waits for c1: no reorg yet
    s.expire_challenges(bid(11))
    with pytest.raises(ReorgRequired):
        s.expire_commitments(bid(11))
    s.prune(bid(1))
    assert s.last_pruned_commitment == ZERO_L1_REF
    s.clear_commitments()
    s.track_commitment(c2, l1ref(2))
    assert s.challenge_status(c2, 2) is ChallengeStatus.EXPIRED
    s.expire_challenges(bid(201))
    with pytest.raises(ReorgRequired):
        s.expire_commitments(bid(201))
    s.prune(bid(201))
    assert s.no_commitments()


def manager(cw: int = 6, rw: int = 6, *, kind: str = "KeccakCommitment", storage: object = None,
            **kw: object) -> DAManager:  # fmt: skip
    addr = DA_ADDR if kind == "KeccakCommitment" else bytes(20)
    cfg = AltDAConfig(kind, cw, rw, addr, **kw)  # type: ignore[arg-type]
    return DAManager(cfg, storage if storage is not None else MemoryAltDASource())  # type: ignore[arg-type]


def test_update_finalized_head_go() -> None:
    """Go ``TestUpdateFinalizedHead``: with nothing tracked the head computed from L1 finality
    stays; with commitments, pruning decides."""
    m = manager()
    m.finalized_head = l1ref(50)
    assert m.finalize(l1ref(100)) == l1ref(50)
    assert m.l1_finalized_head == l1ref(100)

    m = manager()
    m.state.track_commitment(comm(1), l1ref(10))
    m.state.expire_commitments(bid(16))
    m.state.prune(bid(16))
    assert m.state.last_pruned_commitment == l1ref(10) and m.state.no_commitments()
    m.finalized_head = l1ref(80)
    assert m.finalize(l1ref(100)) == l1ref(80)

    m = manager()
    m.state.track_commitment(comm(1), l1ref(10))
    m.state.expire_commitments(bid(16))
    m.state.prune(bid(16))
    m.state.track_commitment(comm(2), l1ref(50))
    assert m.finalize(l1ref(100)) == l1ref(10)

    m = manager()
    m.state.track_commitment(comm(1), l1ref(10))
    m.state.track_commitment(comm(2), l1ref(20))
    m.state.expire_commitments(bid(26))
    assert m.finalize(l1ref(26)) == l1ref(20)


class RefL1:
    """L1 refs by number (hash = keccak(number)), receipts / txs by hash."""

    def __init__(self, head: int) -> None:
        self.head = head
        self.receipts: dict[bytes, list[Receipt]] = {}
        self.txs: dict[bytes, list[bytes]] = {}
        self.by_number_calls: list[int] = []

    @staticmethod
    def ref(n: int) -> L1BlockRef:
        return L1BlockRef(keccak(b"%d" % n), n, keccak(b"%d" % (n - 1)), 1000 + 2 * n)

    def l1_block_ref_by_number(self, n: int) -> L1BlockRef:
        self.by_number_calls.append(n)
        if n > self.head:
            raise NotFound(f"L1 block {n}")
        return self.ref(n)

    def receipts_by_hash(self, h: bytes) -> list[Receipt]:
        return self.receipts.get(h, [])

    def transactions_by_hash(self, h: bytes) -> list[bytes]:
        return self.txs.get(h, [])


def test_advance_challenge_origin_go() -> None:
    """Go ``TestAdvanceChallengeOrigin``: the challenge in Go's receipt is tracked, expires
    after the resolve window and is pruned."""
    m = manager(90, 90)
    l1 = RefL1(10_000)
    bn = 19
    l1.receipts[RefL1.ref(bn).hash] = go_receipts()
    m.advance_challenge_origin(l1, RefL1.ref(bn).id())  # type: ignore[arg-type]
    ch = m.state.get_challenge(GO_COMM, 14)
    assert ch is not None and ch.status is ChallengeStatus.ACTIVE
    for i in range(bn + 1, bn + 1 + 90):
        m.advance_challenge_origin(l1, RefL1.ref(i).id())  # type: ignore[arg-type]
    m.state.prune(bid(bn + 1 + 90 + 90))
    assert m.state.get_challenge(GO_COMM, 14) is None


def test_generic_chains_read_no_challenge_events() -> None:
    """No challenge contract for generic commitments: receipts are not even read."""
    m = manager(kind="GenericCommitment")

    class NoReceipts(RefL1):
        def receipts_by_hash(self, h: bytes) -> list[Receipt]:
            raise AssertionError("receipts read on a generic-commitment chain")

    m.advance_challenge_origin(NoReceipts(100), RefL1.ref(5).id())  # type: ignore[arg-type]
    assert m.challenge_origin.number == 5


# ------------------------------------------------------------------ get_input rules


def test_get_input_outcomes() -> None:
    da = MemoryAltDASource()
    m = manager(6, 6, storage=da)
    l1 = RefL1(head=8)
    m.reset(RefL1.ref(2))
    c = Commitment.keccak256(b"abc")
    # wrong commitment type: skipped, not tracked
    with pytest.raises(CommitmentTypeMismatch):
        m.get_input(l1, Commitment(CommitmentType.GENERIC, b"\x7e"), RefL1.ref(2))  # type: ignore[arg-type]
    assert m.state.no_commitments()
    # 404, window open: look ahead one L1 block, wait
    with pytest.raises(PendingChallenge):
        m.get_input(l1, c, RefL1.ref(2))  # type: ignore[arg-type]
    assert m.challenge_origin.number == 3 and l1.by_number_calls == [3]
    # data back: returned
    da.put(c.encode(), b"abc")
    assert m.get_input(l1, c, RefL1.ref(2)) == b"abc"  # type: ignore[arg-type]
    # 404 past the challenge window: critical
    c2 = Commitment.keccak256(b"lost")
    m.challenge_origin = BlockID(ZERO_HASH, 2 + 6 + 1)
    with pytest.raises(MissingPastWindow):
        m.get_input(l1, c2, RefL1.ref(2))  # type: ignore[arg-type]
    # look-ahead beyond the L1 head: the L1 source's NotFound passes (the data source retries)
    m.challenge_origin = BlockID(ZERO_HASH, 8)
    with pytest.raises(NotFound):
        m.get_input(l1, c2, RefL1.ref(5))  # type: ignore[arg-type]
    # expired challenge: skipped before asking the DA server
    m.state.create_challenge(c2, bid(6), 5)
    m.state.expire_challenges(bid(12))
    n = len(da.requests)
    with pytest.raises(ExpiredChallenge):
        m.get_input(l1, c2, RefL1.ref(5))  # type: ignore[arg-type]
    assert len(da.requests) == n


def test_resolved_challenge_yields_the_resolve_calldata() -> None:
    """404 on a challenged keccak commitment that was resolved on L1: the input is the
    ``resolveData`` of the resolving transaction (checked against the commitment)."""
    from eth_abi.abi import encode

    from pyop.codec.tx import DYNAMIC_FEE_TX_TYPE, make_signed_tx
    from pyop.protocol.altda import RESOLVE_SELECTOR

    data = b"\x00frames of the batch"
    c = Commitment.keccak256(data)
    m = manager(6, 6)
    l1 = RefL1(head=20)
    m.reset(RefL1.ref(1))
    _, tx = make_signed_tx(DYNAMIC_FEE_TX_TYPE, chain_id=900, nonce=0, gas=1, to=DA_ADDR, value=0,
                           data=RESOLVE_SELECTOR + encode(["uint256", "bytes", "bytes"], [2, c.encode(), data]),
                           v=0, r=1, s=1, max_priority_fee_per_gas=1, max_fee_per_gas=1)  # fmt: skip

    def ev(status: int, tx_index: int, tx_hash: bytes) -> Log:
        payload = encode(["bytes", "uint8"], [c.encode(), status])
        return Log(DA_ADDR, (CHALLENGE_STATUS_EVENT_ABI_HASH, (2).to_bytes(32, "big")), payload,
                   tx_index=tx_index, tx_hash=tx_hash)  # fmt: skip

    l1.receipts[RefL1.ref(3).hash] = [Receipt(1, (ev(1, 0, keccak(b"challenge tx")),))]
    # a failed receipt with a Resolved event counts for nothing; the successful one does
    l1.receipts[RefL1.ref(4).hash] = [Receipt(0, (ev(2, 0, keccak(tx)),)), Receipt(1, (ev(2, 1, keccak(tx)),))]
    l1.txs[RefL1.ref(4).hash] = [b"\x02other", tx]
    for n in (2, 3):
        m.advance_l1_origin(l1, RefL1.ref(n).id())  # type: ignore[arg-type]
    assert m.state.challenge_status(c, 2) is ChallengeStatus.ACTIVE
    with pytest.raises(PendingChallenge):  # 404 + active: look ahead (reads block 4: resolved)
        m.get_input(l1, c, RefL1.ref(2))  # type: ignore[arg-type]
    assert m.state.challenge_status(c, 2) is ChallengeStatus.RESOLVED
    assert m.get_input(l1, c, RefL1.ref(2)) == data  # type: ignore[arg-type]


# ------------------------------------------------------------------ the data source


class Items:
    """The inner data iterator: batcher data items, then EndOfSource."""

    def __init__(self, *items: bytes) -> None:
        self.items = list(items)
        self.reads = 0

    def next(self) -> bytes:
        if not self.items:
            raise EndOfSource("done")
        self.reads += 1
        return self.items.pop(0)


class FlakyDA:
    """A DA source failing with the given exceptions first (one per call), then serving."""

    def __init__(self, inner: MemoryAltDASource, failures: list[Exception]) -> None:
        self.inner = inner
        self.failures = list(failures)
        self.asked: list[bytes] = []

    def get_input(self, commitment: bytes, l1_block: L1BlockRef) -> bytes:
        self.asked.append(commitment)
        if self.failures:
            raise self.failures.pop(0)
        return self.inner.get_input(commitment, l1_block)


FAILURES: dict[str, Callable[[], Exception]] = {
    "transport": lambda: TemporaryError("RPCTransportError: GET /get/0x..: connection refused"),
    "timeout": lambda: TemporaryError("TimeoutError: alt-DA server did not answer"),
    "http-500": lambda: TemporaryError("RPCTransportError: HTTP 500"),
    "keccak-verify": lambda: AltDAError("alt-DA input does not match commitment"),
}


@pytest.mark.parametrize("kind", sorted(FAILURES))
def test_failed_fetch_keeps_the_commitment(kind: str) -> None:
    """op-node keeps ``s.comm``: after a failed fetch the next call asks for the same
    commitment (the batcher data below is read once), and its input comes out."""
    data = b"\x00frames"
    c = Commitment.keccak256(data)
    store = MemoryAltDASource()
    store.put(c.encode(), data)
    da = FlakyDA(store, [FAILURES[kind](), FAILURES[kind]()])
    m = manager(storage=da)
    l1 = RefL1(100)
    m.reset(RefL1.ref(1))
    inner = Items(c.tx_data(), b"\x00plain")
    src = AltDADataSource(inner, m, l1, RefL1.ref(1), Explainer())  # type: ignore[arg-type]
    for _ in range(2):
        with pytest.raises(TemporaryError):
            src.next()
        assert src.comm == c
    assert src.next() == data
    assert src.next() == b"\x00plain"
    with pytest.raises(EndOfSource):
        src.next()
    assert da.asked == [c.encode()] * 3
    assert inner.reads == 2


def test_skips_and_drops() -> None:
    """Skipped with a drop: an undecodable commitment (NotEnoughData, next call reads on),
    a generic commitment on a keccak chain (``ErrCommitmentTypeMismatch``), a keccak input above
    ``da_max_input_size``. Non-commitment data passes through."""
    small, big = b"\x00" + b"s" * 9, b"\x00" + b"b" * 50
    store = MemoryAltDASource()
    for d in (small, big):
        store.put_keccak(d)
    store.put(b"\x01\x7e" + keccak(small), small)
    m = manager(storage=store, da_max_input_size=20)
    m.reset(RefL1.ref(1))
    ex = Explainer()
    inner = Items(b"\x01\x00\x01", b"\x01\x01\x7e" + keccak(small), Commitment.keccak256(big).tx_data(),
                  Commitment.keccak256(small).tx_data(), b"\x00frames")  # fmt: skip
    src = AltDADataSource(inner, m, RefL1(100), RefL1.ref(1), ex, max_input_size=20)  # type: ignore[arg-type]
    with pytest.raises(NotEnoughData):
        src.next()
    assert src.next() == small
    assert src.next() == b"\x00frames"
    assert [d.reason for d in ex.drops] == [DropReason.ALTDA_INVALID_COMMITMENT,
                                            DropReason.ALTDA_COMMITMENT_TYPE_MISMATCH,
                                            DropReason.ALTDA_INPUT_TOO_LARGE]  # fmt: skip


def test_generic_chain_skips_keccak_commitments_and_has_no_size_limit() -> None:
    big = b"\x00" + b"g" * 200_000
    store = MemoryAltDASource()
    store.put(b"\x01\x7eXYZ", big)
    k = store.put_keccak(b"\x00k")
    m = manager(kind="GenericCommitment", storage=store)
    m.reset(RefL1.ref(1))
    ex = Explainer()
    src = AltDADataSource(Items(b"\x01" + k, b"\x01\x01\x7eXYZ"), m, RefL1(100), RefL1.ref(1), ex)  # type: ignore[arg-type]
    assert src.next() == big
    assert [d.reason for d in ex.drops] == [DropReason.ALTDA_COMMITMENT_TYPE_MISMATCH]


def test_missing_past_window_is_critical_and_pending_is_not_enough_data() -> None:
    c = Commitment.keccak256(b"\x00gone")
    m = manager(2, 2)
    l1 = RefL1(100)
    m.reset(RefL1.ref(1))
    src = AltDADataSource(Items(c.tx_data()), m, l1, RefL1.ref(1), Explainer())  # type: ignore[arg-type]
    seen = []
    with pytest.raises(CriticalError):
        for _ in range(10):
            try:
                src.next()
            except NotEnoughData:
                seen.append(m.challenge_origin.number)
    # looked ahead block by block until the challenge origin passed 1 + 2
    assert seen == [2, 3, 4]


def test_data_source_advances_the_manager_every_call() -> None:
    """``AdvanceL1Origin`` runs first on every call, also for blocks without commitments, and
    a used commitment whose challenge expired unresolved asks for a reset."""
    m = manager(2, 2)
    l1 = RefL1(100)
    m.reset(RefL1.ref(1))
    c = Commitment.keccak256(b"\x00x")
    m.state.track_commitment(c, RefL1.ref(1))
    m.state.create_challenge(c, bid(2), 1)
    src = AltDADataSource(Items(), m, l1, RefL1.ref(3), Explainer())  # type: ignore[arg-type]
    with pytest.raises(EndOfSource):  # the resolve window (2 + 2) has not ended at block 3
        src.next()
    src = AltDADataSource(Items(), m, l1, RefL1.ref(4), Explainer())  # type: ignore[arg-type]
    with pytest.raises(ResetError):
        src.next()
    assert m.resetting and m.challenge_origin.number == 4 and m.commitment_origin.number == 3
    m.reset(RefL1.ref(1))  # the reset after an expired challenge keeps the challenge
    assert m.state.challenge_status(c, 1) is ChallengeStatus.EXPIRED
    assert m.commitment_origin.number == 1 and m.challenge_origin.number == 4


def test_altda_data_source_go_scenario() -> None:
    """Go ``TestAltDADataSource`` in small: L1 blocks with keccak commitments; the first two
    commitments (both in block 1) are challenged in blocks 2 and 3 and never resolved. When the
    first challenge's resolve window ends (block 6) the source asks for a reset; re-derivation
    from the start skips that input (expired challenge) until the second challenge's window ends
    (block 7: another reset); the third pass skips both and yields every other input once, in
    order."""
    cw = rw = 4
    cfg = dataclasses.replace(
        make_cfg(all_until="granite"), alt_da=AltDAConfig("KeccakCommitment", cw, rw, DA_ADDR),
    )  # fmt: skip
    cfg = dataclasses.replace(cfg, genesis=dataclasses.replace(
        cfg.genesis, system_config=dataclasses.replace(cfg.genesis.system_config, batcher_addr=BATCHER)))  # fmt: skip
    l1 = MemoryL1Source()
    store = MemoryAltDASource()
    ex = Explainer()
    factory = DataSourceFactory(cfg, l1, ex, altda=store)
    mgr = factory.altda_manager
    assert mgr is not None
    inputs: list[bytes] = []
    comms: list[tuple[Commitment, int]] = []
    parent = ZERO_HASH
    headers: list[L1Header] = []
    nonce = 0

    def tx(data: bytes) -> bytes:
        nonlocal nonce
        nonce += 1
        raw = Account.sign_transaction({"nonce": nonce, "gas": 100_000, "to": INBOX, "value": 0, "data": data,
                                        "chainId": cfg.l1_chain_id, "maxFeePerGas": 2, "maxPriorityFeePerGas": 1,
                                        "type": 2}, BATCHER_KEY).raw_transaction  # fmt: skip
        return bytes(raw)

    def add_block(n: int, n_comms: int, logs: tuple[Log, ...] = ()) -> L1Header:
        nonlocal parent
        txs = []
        for j in range(n_comms):
            data = b"\x00input %d.%d" % (n, j)
            c = Commitment.keccak256(data)
            store.put(c.encode(), data)
            inputs.append(data)
            comms.append((c, n))
            txs.append(tx(c.tx_data()))
        h = L1Header(keccak(b"l1 %d" % n), n, parent, 1000 + 2 * n, 1, ZERO_HASH)
        receipts = [Receipt(1, logs if j == 0 else (), tx_hash=keccak(t)) for j, t in enumerate(txs)]
        if logs and not txs:
            txs, receipts = [tx(b"challenge")], [Receipt(1, logs)]
        l1.add_block(h, txs, receipts)
        parent = h.hash
        headers.append(h)
        return h

    def challenge_log(c: Commitment, n: int) -> Log:
        from eth_abi.abi import encode

        return Log(DA_ADDR, (CHALLENGE_STATUS_EVENT_ABI_HASH, n.to_bytes(32, "big")),
                   encode(["bytes", "uint8"], [c.encode(), 1]))  # fmt: skip

    def drain(h: L1Header) -> list[bytes]:
        src = factory.open_data(h.ref(), BATCHER)
        out = []
        while True:
            try:
                out.append(src.next())
            except EndOfSource:
                return out

    add_block(0, 0)
    mgr.reset(headers[0].ref())
    got: list[bytes] = []
    # blocks 1..3 carry 2 commitments each, later blocks one
    for n in range(1, 7):
        logs = (challenge_log(*comms[n - 2]),) if n in (2, 3) else ()
        h = add_block(n, 2 if n <= 3 else 1, logs)
        if n == 2 + rw:  # the first challenge (created in block 2) expires unresolved
            with pytest.raises(ResetError):
                drain(h)
            break
        got += drain(h)
    assert got == inputs[:8]

    factory.reset(headers[0].ref())  # what the pipeline does on the reset
    again: list[bytes] = []
    for h in headers[1:]:
        again += drain(h)
    assert again == inputs[1:]
    with pytest.raises(ResetError):  # block 7: the second challenge (block 3) expires
        drain(add_block(7, 1))

    factory.reset(headers[0].ref())
    third: list[bytes] = []
    for h in headers[1:]:
        third += drain(h)
    assert third == inputs[2:]
    assert [d.reason for d in ex.drops] == [DropReason.ALTDA_CHALLENGE_EXPIRED] * 3

    # finality: after everything expired, L1 finality prunes up to the last commitment's block
    for n in range(8, 8 + cw + rw + 2):
        drain(add_block(n, 0))
    fin = mgr.finalize(headers[-1].ref())
    assert fin.number == comms[-1][1]


def test_reset_after_l1_reorg_forgets_everything() -> None:
    m = manager()
    m.state.track_commitment(comm(1), l1ref(3))
    m.state.create_challenge(comm(1), bid(4), 3)
    m.challenge_origin = bid(9)
    m.reset(RefL1.ref(2))
    assert m.state.no_commitments() and m.challenge_origin.number == 2 and m.commitment_origin.number == 2


def test_finalized_head_from_l1_when_nothing_is_tracked() -> None:
    """``updateFinalizedFromL1``: with no commitment tracked the head is the L1 block
    ``challenge_window`` below the last L1 finality signal (read once per signal)."""
    m = manager(6, 6)
    l1 = RefL1(100)
    m.reset(RefL1.ref(1))
    m.advance_l1_origin(l1, RefL1.ref(2).id())  # type: ignore[arg-type]
    assert m.finalized_head == ZERO_L1_REF  # no L1 finality yet
    assert m.finalize(RefL1.ref(20)) == ZERO_L1_REF  # the head moves on the next origin step
    m.advance_l1_origin(l1, RefL1.ref(3).id())  # type: ignore[arg-type]
    assert m.finalized_head == RefL1.ref(14)
    m.advance_l1_origin(l1, RefL1.ref(4).id())  # type: ignore[arg-type]
    assert l1.by_number_calls == [14]
    assert m.finalize(RefL1.ref(21)) == RefL1.ref(14)

