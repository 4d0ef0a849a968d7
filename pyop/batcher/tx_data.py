"""What one batcher transaction carries (op-batcher/batcher/tx_data.go).

specs/protocol/derivation.md "Batcher Transaction Format": calldata is ``version_byte ++
frame ...`` with ``DERIVATION_VERSION_0 = 0x00``; op-batcher puts one frame in a calldata tx.
ecotone/derivation.md "Blob Retrieval": a blob tx carries one frame per blob, each blob's data
being ``0x00 ++ frame`` in the OP blob encoding (:func:`pyop.codec.blob.encode_blob`).
"""

from __future__ import annotations

from dataclasses import dataclass

from pyop.codec.blob import encode_blob
from pyop.codec.frame import ChannelID

DERIVATION_VERSION_0 = 0x00

__all__ = ["DERIVATION_VERSION_0", "FrameData", "FrameID", "TxData", "tx_id_string"]


@dataclass(frozen=True, slots=True)
class FrameID:
    """A frame's channel id and number (Go ``frameID``)."""

    channel_id: ChannelID
    frame_number: int


@dataclass(frozen=True, slots=True)
class FrameData:
    """An encoded frame (``channel_id ++ frame_number ++ frame_data_length ++ frame_data ++
    is_last``) with its id."""

    data: bytes
    id: FrameID


TxID = tuple[FrameID, ...]


def tx_id_string(tx_id: TxID) -> str:
    """Go ``txID.String``: ``<channel id hex>:<n>+<n>...`` with ``|`` between channels."""
    out: list[str] = []
    cur: ChannelID | None = None
    for f in tx_id:
        if f.channel_id == cur:
            out.append(f"+{f.frame_number}")
        else:
            if cur is not None:
                out.append("|")
            cur = f.channel_id
            out.append(f"{f.channel_id.hex()}:{f.frame_number}")
    return "".join(out)


@dataclass(frozen=True, slots=True)
class TxData:
    """The frames of one L1 transaction and whether they go as blobs (Go ``txData``)."""

    frames: tuple[FrameData, ...]
    as_blob: bool = False

    @property
    def id(self) -> TxID:
        return tuple(f.id for f in self.frames)

    def __str__(self) -> str:
        return tx_id_string(self.id)

    def call_data(self) -> bytes:
        """``0x00 ++ frames`` (Go ``CallData``)."""
        return bytes([DERIVATION_VERSION_0]) + b"".join(f.data for f in self.frames)

    def blobs(self) -> tuple[bytes, ...]:
        """One blob per frame, each encoding ``0x00 ++ frame`` (Go ``Blobs``)."""
        return tuple(encode_blob(bytes([DERIVATION_VERSION_0]) + f.data) for f in self.frames)

    def __len__(self) -> int:
        return sum(len(f.data) for f in self.frames)
