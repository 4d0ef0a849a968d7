"""The derivation pipeline: L1 data -> payload attributes (specs/protocol/derivation.md).

Pure and pull-based: no I/O happens inside a stage; every stage pulls from the one below it
through a small ``typing.Protocol``, and the bottom stages read L1/L2 data through the
interfaces in :mod:`pyop.derivation.interfaces`.

Public API::

    from pyop.derivation import DerivationPipeline, derive_range, InvalidPayload
    p = DerivationPipeline(cfg, l1, l2, blobs=..., altda=..., observer=...)
    p.reset(safe_head); p.step(safe_head) -> StepResult; p.origin; p.drops; p.decisions
"""

from pyop.derivation.driver import (
    DerivationPipeline,
    InvalidPayload,
    SafeHeadExecutor,
    derive_range,
)
from pyop.derivation.drops import Decision, DecisionKind, Drop, DropReason, Observer
from pyop.derivation.errors import (
    CriticalError,
    DerivationError,
    EndOfSource,
    NotEnoughData,
    ResetError,
    TemporaryError,
)
from pyop.derivation.interfaces import (
    AltDASource,
    BlobSource,
    IndexedBlobHash,
    L1Source,
    L2Source,
    NotFound,
)
from pyop.derivation.types import AttributesWithParent, StepKind, StepResult

__all__ = [
    "AltDASource",
    "AttributesWithParent",
    "BlobSource",
    "CriticalError",
    "Decision",
    "DecisionKind",
    "DerivationError",
    "DerivationPipeline",
    "Drop",
    "DropReason",
    "EndOfSource",
    "IndexedBlobHash",
    "InvalidPayload",
    "L1Source",
    "L2Source",
    "NotEnoughData",
    "NotFound",
    "Observer",
    "ResetError",
    "SafeHeadExecutor",
    "StepKind",
    "StepResult",
    "TemporaryError",
    "derive_range",
]
