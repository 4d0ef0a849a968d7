"""The pipeline's error classes; defined on floor 0 (:mod:`pyop.errors`) so the sources below
the pipeline can raise them too. Re-exported here under the pipeline's name."""

from pyop.errors import (
    CriticalError,
    DerivationError,
    EndOfSource,
    NotEnoughData,
    ResetError,
    TemporaryError,
)

__all__ = [
    "CriticalError",
    "DerivationError",
    "EndOfSource",
    "NotEnoughData",
    "ResetError",
    "TemporaryError",
]
