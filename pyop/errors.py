"""Errors of the derivation pipeline and the sources it reads, classified by what the caller must do (kona's
``PipelineErrorKind``; op-node's ``ErrTemporary`` / ``ErrReset`` / ``ErrCritical``).

- :class:`NotEnoughData`: not an error, the stage made progress or needs another step.
- :class:`EndOfSource` (``io.EOF``): the stage below is exhausted for now; advance L1.
- :class:`TemporaryError`: retry the same step later (an RPC failed, data not yet available).
- :class:`ResetError`: the pipeline must be reset (an L1 reorg was detected, ...).
- :class:`CriticalError`: halt: continuing would derive a wrong chain.
"""

from __future__ import annotations

from pyop.primitives import PyopError


class DerivationError(PyopError):
    """Base of every pipeline signal and error."""


class EndOfSource(DerivationError):
    """The source below has no more data for the current L1 block (op-node ``io.EOF``)."""


class NotEnoughData(DerivationError):
    """Progress was made but no output yet: step again (op-node ``NotEnoughData``)."""


class TemporaryError(DerivationError):
    """A transient failure: the same step may succeed later (op-node ``ErrTemporary``)."""


class ResetError(DerivationError):
    """The pipeline must reset from the L2 safe head (op-node ``ErrReset``)."""


class CriticalError(DerivationError):
    """Unrecoverable: stop deriving (op-node ``ErrCritical``)."""
