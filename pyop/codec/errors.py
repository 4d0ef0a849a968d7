"""Typed errors of the codec. Every decoder raises only these (or subclasses) on bad input."""

from __future__ import annotations

from pyop.primitives import PyopError


class CodecError(PyopError, ValueError):
    """Malformed wire data. ``offset`` is the byte offset in the input where it went wrong."""

    def __init__(self, message: str, offset: int | None = None) -> None:
        self.message = message
        self.offset = offset
        super().__init__(message if offset is None else f"{message} (at byte offset {offset})")


class FrameError(CodecError):
    """Malformed batcher transaction data or frame (specs/protocol/derivation.md#frame-format)."""


class ChannelError(CodecError):
    """A channel that cannot be decompressed or is over its size limit."""


class BatchError(CodecError):
    """A malformed singular or span batch."""


class SpanBatchError(BatchError):
    """A malformed span batch (specs/protocol/delta/span-batches.md)."""


class BlobError(CodecError):
    """A blob that does not follow the OP blob encoding or fails the KZG checks."""


class TxError(CodecError):
    """A malformed L1/L2 transaction envelope."""
