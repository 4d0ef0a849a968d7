"""Peer scores and bans (pyop/p2p/scoring.py) against op-node v1.19.6's parameters
(``spec_vectors/p2p/go-v1.19.6-gossip.json`` "scoring" / "thresholds", from
``LightPeerScoreParams``, ``LightApplicationScoreParams``, ``NewPeerScoreThresholds``), and the
REJECT penalty pyop applies per the spec."""

from __future__ import annotations

import pytest

from pyop.p2p import scoring
from pyop.p2p.scoring import BanBook, BanMonitor, LightScoreParams, ScoreBook
from tests.p2p.test_p2p_go_vectors import vectors


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.mark.parametrize("block_time", [1, 2, 12])
def test_light_params_match_go(block_time: int) -> None:
    go = vectors()["scoring"][str(block_time)]
    p = LightScoreParams.for_block_time(block_time)
    assert p.decay_interval == go["decayInterval"]
    assert p.retain_score == go["retainScore"]
    assert p.behaviour_penalty_decay == pytest.approx(go["behaviourPenaltyDecay"], rel=1e-15)
    assert p.rejected_payload_decay == pytest.approx(go["rejectedPayloadDecay"], rel=1e-15)
    assert p.valid_response_decay == pytest.approx(go["validResponseDecay"], rel=1e-15)
    assert p.error_response_decay == pytest.approx(go["errorResponseDecay"], rel=1e-15)
    assert (p.behaviour_penalty_weight, p.behaviour_penalty_threshold) == (go["behaviourPenaltyWeight"],
                                                                         go["behaviourPenaltyThreshold"])  # fmt: skip
    assert (p.ip_colocation_factor_weight, p.ip_colocation_factor_threshold) == (
        go["ipColocationFactorWeight"], go["ipColocationFactorThreshold"])  # fmt: skip


def test_thresholds_match_go() -> None:
    th = vectors()["thresholds"]
    ours = (scoring.GOSSIP_THRESHOLD, scoring.PUBLISH_THRESHOLD, scoring.GRAYLIST_THRESHOLD,
            scoring.ACCEPT_PX_THRESHOLD, scoring.OPPORTUNISTIC_GRAFT_THRESHOLD)  # fmt: skip
    assert ours == (th["gossip"], th["publish"], th["graylist"], th["acceptPX"], th["opportunisticGraft"])


def test_rejects_score_down_and_ban_after_six() -> None:
    """-20 per rejected payload (cap 20): five REJECTs make -100, not below the -100 ban
    threshold; the sixth bans the peer (for an hour, disconnected), a static peer never."""
    clock = Clock()
    book = ScoreBook(LightScoreParams.for_block_time(2), clock)
    bans = BanBook(clock)
    mon = BanMonitor(book, bans)
    book.connected("bad", "10.0.0.1")
    book.connected("static", "10.0.0.2")
    for _ in range(5):
        book.rejected_payload("bad")
        book.rejected_payload("static")
    assert book.score("bad") == -100.0
    assert mon.check_next(lambda: ["bad", "static"], lambda p: p == "static") is None
    book.rejected_payload("bad")
    book.rejected_payload("static")
    assert book.score("bad") == -120.0 and book.to_json("bad")["reqResp"] == {  # type: ignore[comparison-overlap]
        "validResponses": 0.0, "errorResponses": 0.0, "rejectedPayloads": 6.0}
    seen = {mon.check_next(lambda: ["bad", "static"], lambda p: p == "static") for _ in range(2)}
    assert seen == {"bad", None}
    assert not bans.peer_allowed("bad") and bans.peer_allowed("static")
    clock.t += scoring.DEFAULT_BAN_DURATION + 1
    assert bans.peer_allowed("bad")  # the ban expired


def test_cap_and_decay() -> None:
    clock = Clock()
    p = LightScoreParams.for_block_time(2)
    book = ScoreBook(p, clock)
    book.connected("x", None)
    for _ in range(30):
        book.rejected_payload("x")
    assert book.peers["x"].rejected_payloads == 20  # cap
    # ten epochs (60 slots) decay it to 1% of its value, and then to zero
    for _ in range(60):
        book.decay()
    assert book.peers["x"].rejected_payloads == pytest.approx(0.2, rel=1e-6)
    for _ in range(60):
        book.decay()
    assert book.peers["x"].rejected_payloads == 0.0


def test_disconnected_scores_are_retained_then_forgotten() -> None:
    clock = Clock()
    book = ScoreBook(LightScoreParams.for_block_time(2), clock)
    book.connected("x", None)
    book.rejected_payload("x")
    book.disconnected("x")
    book.decay()
    assert book.score("x") == -20.0  # application scores decay only while connected (op-node)
    clock.t += 100 * 6 * 2 + 1
    book.decay()
    assert "x" not in book.peers


def test_ip_colocation_and_behaviour_penalty() -> None:
    clock = Clock()
    book = ScoreBook(LightScoreParams.for_block_time(2), clock)
    for i in range(12):
        book.connected(f"p{i}", "1.2.3.4")
    assert book.score("p0") == -35 * 4  # two above the threshold of 10: 2^2 * -35
    for _ in range(8):
        book.behaviour_penalty("p0")
    assert book.score("p0") == -35 * 4 - 16 * 4  # (8 - 6)^2 * -16
