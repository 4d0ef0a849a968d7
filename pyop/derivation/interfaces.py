"""What the pipeline pulls from. The Protocols live with their implementations in
:mod:`pyop.sources.interfaces` (floor 1); re-exported here under the pipeline's name."""

from pyop.sources.interfaces import (
    AltDASource,
    BlobSource,
    BlockLabel,
    IndexedBlobHash,
    L1Source,
    L2Source,
    NotFound,
)

__all__ = [
    "AltDASource",
    "BlobSource",
    "BlockLabel",
    "IndexedBlobHash",
    "L1Source",
    "L2Source",
    "NotFound",
]
