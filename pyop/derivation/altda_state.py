"""The DA manager's state: the input commitments derivation has used and the challenges against
them, in L1 inclusion order (specs/experimental/alt-da.md "Derivation", "Safety and Finality";
Go: ``op-alt-da/dastate.go`` ``State``).

Every rule is op-node's, with op-node's names:

- a commitment included in L1 block ``b`` can be challenged until ``b + challenge_window``
  (``challengeWindowEnd``); a challenge created in block ``c`` must be resolved by
  ``c + resolve_window`` (``resolveWindowEnd``);
- :meth:`DAState.expire_commitments` moves commitments whose window (or whose challenge's
  resolve window) has ended at the given origin to the expired queue, and reports
  :class:`ReorgRequired` if one of them was challenged and never resolved: the L2 blocks derived
  from it must go (alt-da.md: "chain derivation must be reset, omitting the input data");
- :meth:`DAState.expire_challenges` marks unresolved challenges past their resolve window as
  expired (no contract event says so);
- :meth:`DAState.prune` drops expired commitments and challenges at or below an L1 finalized
  block; the inclusion block of the last pruned commitment is what the DA manager signals as
  "finalized" (the L2 blocks derived from it can no longer be invalidated).

Challenges are keyed by (inclusion block number, encoded commitment); op-node concatenates the
two as a string (``challengeKey``), which is the same key for every commitment op-node can
challenge (fixed-length keccak commitments).
"""

from __future__ import annotations

from dataclasses import dataclass

from pyop.derivation.errors import DerivationError
from pyop.primitives import ZERO_HASH, BlockID, L1BlockRef
from pyop.protocol.altda import ChallengeStatus, Commitment

ZERO_L1_REF = L1BlockRef(ZERO_HASH, 0, ZERO_HASH, 0)


class ReorgRequired(DerivationError):
    """A commitment used by derivation expired with an unresolved challenge (op-alt-da
    ``ErrReorgRequired``): derivation must be reset and re-run without its input."""


@dataclass(frozen=True, slots=True)
class TrackedCommitment:
    """op-alt-da ``Commitment``: a commitment derivation read, and where."""

    data: Commitment
    inclusion_block: L1BlockRef
    challenge_window_end: int


@dataclass(slots=True)
class Challenge:
    """op-alt-da ``Challenge``: a challenge against (commitment, inclusion block number)."""

    commitment: Commitment
    inclusion_block_number: int
    resolve_window_end: int
    status: ChallengeStatus
    input: bytes | None = None  # the resolved input (keccak commitments)

    @property
    def key(self) -> tuple[int, bytes]:
        return (self.inclusion_block_number, self.commitment.encode())


class DAState:
    """See the module docstring."""

    def __init__(self, challenge_window: int, resolve_window: int) -> None:
        self.challenge_window = challenge_window
        self.resolve_window = resolve_window
        self.commitments: list[TrackedCommitment] = []
        self.expired_commitments: list[TrackedCommitment] = []
        self.challenges: list[Challenge] = []
        self.expired_challenges: list[Challenge] = []
        self.challenges_by_key: dict[tuple[int, bytes], Challenge] = {}
        self.last_pruned_commitment: L1BlockRef = ZERO_L1_REF

    # ------------------------------------------------------------------ resets

    def clear_commitments(self) -> None:
        """Forget the commitments, keep the challenges (an L2 reorg after an expired challenge:
        re-derivation must still see that challenge; ``ClearCommitments``)."""
        self.commitments.clear()
        self.expired_commitments.clear()

    def reset(self) -> None:
        """Forget everything (an L1 reorg; ``Reset``). ``last_pruned_commitment`` stays, as in
        op-node."""
        self.clear_commitments()
        self.challenges.clear()
        self.expired_challenges.clear()
        self.challenges_by_key.clear()

    # ------------------------------------------------------------------ tracking

    def create_challenge(self, comm: Commitment, challenge_block: BlockID, comm_block_number: int) -> None:
        """A ``ChallengeStatusChanged(Active)`` seen in ``challenge_block`` (``CreateChallenge``;
        replaces an earlier challenge of the same key in the lookup)."""
        c = Challenge(comm, comm_block_number, challenge_block.number + self.resolve_window, ChallengeStatus.ACTIVE)
        self.challenges.append(c)
        self.challenges_by_key[c.key] = c

    def resolve_challenge(self, comm: Commitment, comm_block_number: int, data: bytes | None) -> bool:
        """A ``ChallengeStatusChanged(Resolved)``; ``False`` if that challenge is not tracked
        (``ResolveChallenge`` returns an error then)."""
        c = self.challenges_by_key.get((comm_block_number, comm.encode()))
        if c is None:
            return False
        c.input = data
        c.status = ChallengeStatus.RESOLVED
        return True

    def track_commitment(self, comm: Commitment, inclusion_block: L1BlockRef) -> None:
        """Record a commitment derivation is reading (``TrackCommitment``; op-node appends one
        entry per read attempt, so a retried fetch is tracked again: the duplicates expire and
        prune together and change nothing)."""
        self.commitments.append(
            TrackedCommitment(comm, inclusion_block, inclusion_block.number + self.challenge_window)
        )

    def get_challenge(self, comm: Commitment, comm_block_number: int) -> Challenge | None:
        return self.challenges_by_key.get((comm_block_number, comm.encode()))

    def challenge_status(self, comm: Commitment, comm_block_number: int) -> ChallengeStatus:
        c = self.get_challenge(comm, comm_block_number)
        return ChallengeStatus.UNINITIALIZED if c is None else c.status

    def no_commitments(self) -> bool:
        """Nothing tracked at all (``NoCommitments``)."""
        return not (self.challenges or self.expired_challenges or self.commitments or self.expired_commitments)

    # ------------------------------------------------------------------ expiry

    def _expires_at(self, c: TrackedCommitment) -> int:
        ch = self.get_challenge(c.data, c.inclusion_block.number)
        return c.challenge_window_end if ch is None else ch.resolve_window_end

    def expire_commitments(self, origin: BlockID) -> None:
        """Move the commitments whose challenge (or resolve) window has ended at ``origin`` to
        the expired queue, oldest first, stopping at the first that has not; raises
        :class:`ReorgRequired` after moving them if one had an unresolved challenge
        (``ExpireCommitments``)."""
        reorg: TrackedCommitment | None = None
        while self.commitments:
            c = self.commitments[0]
            if self._expires_at(c) > origin.number:
                break
            self.expired_commitments.append(c)
            self.commitments.pop(0)
            ch = self.get_challenge(c.data, c.inclusion_block.number)
            if ch is not None and ch.status is not ChallengeStatus.RESOLVED:
                reorg = c
        if reorg is not None:
            raise ReorgRequired(
                f"challenge of alt-DA commitment {reorg.data.short()} (L1 block "
                f"{reorg.inclusion_block.number}) expired unresolved at L1 block {origin.number}"
            )

    def expire_challenges(self, origin: BlockID) -> None:
        """Challenges whose resolve window has ended at ``origin`` move to the expired queue;
        unresolved ones become :attr:`ChallengeStatus.EXPIRED` (``ExpireChallenges``)."""
        while self.challenges:
            c = self.challenges[0]
            if c.resolve_window_end > origin.number:
                return
            self.expired_challenges.append(c)
            self.challenges.pop(0)
            if c.status is ChallengeStatus.ACTIVE:
                c.status = ChallengeStatus.EXPIRED

    # ------------------------------------------------------------------ pruning

    def prune(self, origin: BlockID) -> None:
        """Drop expired commitments, then expired challenges, whose windows end at or below
        ``origin`` (an L1 finalized block); remember the last pruned commitment's inclusion
        block (``Prune``)."""
        while self.expired_commitments:
            c = self.expired_commitments[0]
            if self._expires_at(c) > origin.number:
                break
            self.expired_commitments.pop(0)
            self.last_pruned_commitment = c.inclusion_block
        while self.expired_challenges:
            ch = self.expired_challenges[0]
            if ch.resolve_window_end > origin.number:
                break
            self.expired_challenges.pop(0)
            self.challenges_by_key.pop(ch.key, None)
