"""The L2 output root (what the proposer posts and ``optimism_outputAtBlock`` returns).

Spec: specs/protocol/proposals.md, "L2 Output Commitment Construction"::

    output_root = keccak256(version_byte ++ payload)
    payload (version 0) = state_root ++ withdrawal_storage_root ++ latest_block_hash

with ``version_byte`` a 32-byte zero word, ``withdrawal_storage_root`` the storage root of the
``L2ToL1MessagePasser`` predeploy (``0x4200000000000000000000000000000000000016``).
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_hash.auto import keccak

from pyop.primitives import ZERO_HASH, Hash32, PyopError

OUTPUT_VERSION_V0: Hash32 = ZERO_HASH
"""The 32-byte version word of a v0 output (proposals.md)."""
OUTPUT_V0_SIZE = 128


class OutputRootError(PyopError, ValueError):
    """A marshalled output that is not a v0 output (wrong length or version)."""


@dataclass(frozen=True, slots=True)
class OutputV0:
    """A version-0 L2 output (op-node ``eth.OutputV0``)."""

    state_root: Hash32
    message_passer_storage_root: Hash32
    block_hash: Hash32

    def __post_init__(self) -> None:
        for name in ("state_root", "message_passer_storage_root", "block_hash"):
            v = getattr(self, name)
            if not isinstance(v, bytes) or len(v) != 32:
                raise OutputRootError(f"{name} must be 32 bytes")

    def version(self) -> Hash32:
        return OUTPUT_VERSION_V0

    def marshal(self) -> bytes:
        """``version(32) ++ state_root ++ message_passer_storage_root ++ block_hash`` (128)."""
        return OUTPUT_VERSION_V0 + self.state_root + self.message_passer_storage_root + (
            self.block_hash
        )

    def root(self) -> Hash32:
        """The output root: ``keccak256(marshal())`` (proposals.md)."""
        h: bytes = keccak(self.marshal())
        return h


def output_root(state_root: Hash32, message_passer_storage_root: Hash32, block_hash: Hash32) -> Hash32:
    """The v0 output root of the given roots and block hash."""
    return OutputV0(state_root, message_passer_storage_root, block_hash).root()


def unmarshal_output(data: bytes) -> OutputV0:
    """Parse a marshalled output; only version 0 exists. Raises :class:`OutputRootError`."""
    if len(data) < 32:
        raise OutputRootError(f"output too short for its version: {len(data)} bytes")
    version = bytes(data[:32])
    if version != OUTPUT_VERSION_V0:
        raise OutputRootError(f"unrecognized output version: 0x{version.hex()}")
    if len(data) != OUTPUT_V0_SIZE:
        raise OutputRootError(
            f"v0 output must be {OUTPUT_V0_SIZE} bytes, got {len(data)}"
        )
    return OutputV0(bytes(data[32:64]), bytes(data[64:96]), bytes(data[96:128]))
