"""Alt-DA wire formats: input commitments, and what derivation reads from the L1
``DataAvailabilityChallenge`` contract (its ``ChallengeStatusChanged`` event and the calldata of
``resolve``).

Spec: specs/experimental/alt-da.md, "Input Commitment Submission" (batcher tx data
``0x01 ++ encoded_commitment``; ``encoded_commitment = commitment_type_byte ++ commitment``:
type 0 = ``keccak256(input)``, type 1 = ``da_layer_byte ++ payload``), "Data Availability
Challenge Contract" and "Derivation". Go: ``op-alt-da/commitment.go`` (``DecodeCommitmentData``,
``Keccak256Commitment.Verify``), ``op-alt-da/damgr.go`` (``DecodeChallengeStatusEvent``,
``DecodeResolvedInput``, ``ChallengeStatusEventABI``), ``op-alt-da/params.go`` (``MaxInputSize``).

The event is declared by the contract (contracts-bedrock ``src/L1/DataAvailabilityChallenge.sol``)
as::

    event ChallengeStatusChanged(uint256 indexed challengedBlockNumber,
                                 bytes challengedCommitment, ChallengeStatus status);

so topic 1 is the block number of the challenged commitment and the data is
``abi.encode(bytes, uint8)``. (The spec's "Derivation" section prints the older declaration with
both first fields indexed; op-node and the deployed contract use the one above, and so does pyop.)
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from eth_abi.abi import decode as abi_decode
from eth_hash.auto import keccak

from pyop.config.rollup import ALTDA_DEFAULT_MAX_INPUT_SIZE, GENERIC_COMMITMENT, KECCAK_COMMITMENT
from pyop.primitives import Hash32, PyopError
from pyop.protocol.l1_types import Log

#: Batcher tx data version byte of an alt-DA commitment (alt-da.md; op-node ``DerivationVersion1``).
TX_DATA_VERSION_ALTDA = 0x01

#: rollup.json ``alt_da.da_commitment_type`` values (op-alt-da ``KeccakCommitmentString`` /
#: ``GenericCommitmentString``).
KECCAK_COMMITMENT_STRING = KECCAK_COMMITMENT
GENERIC_COMMITMENT_STRING = GENERIC_COMMITMENT

#: ``MAX_L1_TX_SIZE`` (alt-da.md "Derivation"): keccak inputs larger than this are skipped; the
#: default of rollup.json ``alt_da.da_max_input_size`` (op-alt-da ``MaxInputSize``).
MAX_INPUT_SIZE = ALTDA_DEFAULT_MAX_INPUT_SIZE

CHALLENGE_STATUS_EVENT_ABI = "ChallengeStatusChanged(uint256,bytes,uint8)"
CHALLENGE_STATUS_EVENT_ABI_HASH: Hash32 = keccak(CHALLENGE_STATUS_EVENT_ABI.encode())
RESOLVE_ABI = "resolve(uint256,bytes,bytes)"
RESOLVE_SELECTOR = keccak(RESOLVE_ABI.encode())[:4]
CHALLENGE_ABI = "challenge(uint256,bytes)"
CHALLENGE_SELECTOR = keccak(CHALLENGE_ABI.encode())[:4]


class AltDAFormatError(PyopError, ValueError):
    """A commitment, challenge event or resolve calldata that does not decode."""


class CommitmentType(IntEnum):
    """The commitment type byte (alt-da.md "Input Commitment Submission")."""

    KECCAK256 = 0
    GENERIC = 1

    @classmethod
    def from_string(cls, s: str) -> CommitmentType:
        """op-alt-da ``CommitmentTypeFromString`` (the rollup.json spelling)."""
        if s == KECCAK_COMMITMENT_STRING:
            return cls.KECCAK256
        if s == GENERIC_COMMITMENT_STRING:
            return cls.GENERIC
        raise AltDAFormatError(f"invalid commitment type: {s}")


class ChallengeStatus(IntEnum):
    """The contract's ``ChallengeStatus`` enum (also op-alt-da ``ChallengeStatus``)."""

    UNINITIALIZED = 0
    ACTIVE = 1
    RESOLVED = 2
    EXPIRED = 3


@dataclass(frozen=True, slots=True)
class Commitment:
    """A decoded input commitment: its type and the bytes after the type byte (op-alt-da
    ``Keccak256Commitment`` / ``GenericCommitment``)."""

    type: CommitmentType
    payload: bytes

    def encode(self) -> bytes:
        """``commitment_type_byte ++ commitment`` (what the DA server and the contract see)."""
        return bytes([self.type]) + self.payload

    def tx_data(self) -> bytes:
        """Batcher transaction data: ``0x01 ++ encode()``."""
        return bytes([TX_DATA_VERSION_ALTDA]) + self.encode()

    def verify(self, data: bytes) -> bool:
        """Keccak commitments: ``keccak256(data) == payload``. Generic commitments are opaque
        to the node (the DA server verifies them): always true."""
        if self.type is CommitmentType.KECCAK256:
            return keccak(data) == self.payload
        return True

    def short(self) -> str:
        return "0x" + self.encode().hex()[:72]

    @classmethod
    def keccak256(cls, data: bytes) -> Commitment:
        return cls(CommitmentType.KECCAK256, keccak(data))


def decode_commitment(encoded: bytes) -> Commitment:
    """op-alt-da ``DecodeCommitmentData``: type 0 needs exactly 32 bytes after the type byte,
    type 1 at least one; anything else is invalid."""
    if not encoded:
        raise AltDAFormatError("empty commitment")
    t, rest = encoded[0], encoded[1:]
    if t == CommitmentType.KECCAK256:
        if len(rest) != 32:
            raise AltDAFormatError(f"keccak256 commitment of {len(rest)} bytes, want 32")
        return Commitment(CommitmentType.KECCAK256, bytes(rest))
    if t == CommitmentType.GENERIC:
        if not rest:
            raise AltDAFormatError("empty generic commitment")
        return Commitment(CommitmentType.GENERIC, bytes(rest))
    raise AltDAFormatError(f"unknown commitment type {t}")


@dataclass(frozen=True, slots=True)
class ChallengeStatusEvent:
    """A decoded ``ChallengeStatusChanged`` log."""

    challenged_block_number: int
    commitment: Commitment
    status: int  # a ChallengeStatus value; other values are reported as they are

    @property
    def known_status(self) -> ChallengeStatus | None:
        try:
            return ChallengeStatus(self.status)
        except ValueError:
            return None


def is_challenge_status_log(log: Log, contract: bytes) -> bool:
    """op-alt-da ``fetchChallengeLogs``: emitted by the challenge contract with the event's
    topic 0."""
    return log.address == contract and len(log.topics) > 0 and log.topics[0] == CHALLENGE_STATUS_EVENT_ABI_HASH


def decode_challenge_status_event(log: Log) -> ChallengeStatusEvent:
    """op-alt-da ``decodeChallengeStatus``: topic 1 is the block number (must fit in a uint64),
    the data ``abi.encode(bytes commitment, uint8 status)``; the commitment must decode."""
    if len(log.topics) != 2:
        raise AltDAFormatError(f"ChallengeStatusChanged log with {len(log.topics)} topics, want 2")
    try:
        raw_comm, status = abi_decode(["bytes", "uint8"], log.data, strict=False)
    except Exception as e:  # eth_abi raises its own DecodingError family
        raise AltDAFormatError(f"ChallengeStatusChanged data does not decode: {e}") from None
    number = int.from_bytes(log.topics[1], "big")
    if number >= 1 << 64:
        raise AltDAFormatError("challenged block number is not a uint64")
    return ChallengeStatusEvent(number, decode_commitment(bytes(raw_comm)), int(status))


def decode_resolved_input(calldata: bytes) -> bytes:
    """op-alt-da ``DecodeResolvedInput``: the ``resolveData`` argument of a
    ``resolve(uint256,bytes,bytes)`` call; must be non-empty.

    As op-node, the 4-byte selector is not checked (the arguments after it are decoded whatever
    it is); a transaction shorter than 4 bytes is an error here (op-node would index out of
    range)."""
    if len(calldata) < 4:
        raise AltDAFormatError("resolve calldata shorter than a selector")
    try:
        _, _, resolve_data = abi_decode(["uint256", "bytes", "bytes"], calldata[4:], strict=False)
    except Exception as e:
        raise AltDAFormatError(f"resolve calldata does not decode: {e}") from None
    if not resolve_data:
        raise AltDAFormatError("invalid resolve data")
    return bytes(resolve_data)


__all__ = [
    "CHALLENGE_SELECTOR",
    "CHALLENGE_STATUS_EVENT_ABI_HASH",
    "GENERIC_COMMITMENT_STRING",
    "KECCAK_COMMITMENT_STRING",
    "MAX_INPUT_SIZE",
    "RESOLVE_SELECTOR",
    "TX_DATA_VERSION_ALTDA",
    "AltDAFormatError",
    "ChallengeStatus",
    "ChallengeStatusEvent",
    "Commitment",
    "CommitmentType",
    "decode_challenge_status_event",
    "decode_commitment",
    "decode_resolved_input",
    "is_challenge_status_log",
]
