"""Values that travel between the derivation stages and out of the pipeline.

- :data:`Batch`: what the channel reader hands to the batch stages (a singular batch, or a span
  batch in derived form; specs/protocol/derivation.md "Batch Format", delta/span-batches.md).
- :class:`AttributesWithParent`: the pipeline's output (op-node ``derive.AttributesWithParent``):
  payload attributes for the block after ``parent``, and the L1 block they were derived from.
- :class:`StepResult`: what one :meth:`DerivationPipeline.step` did.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

from pyop.codec.batch import SingularBatch
from pyop.codec.span_batch import SpanBatch
from pyop.codec.tx import DEPOSIT_TX_TYPE
from pyop.primitives import BlockID, L1BlockRef, L2BlockRef, PayloadAttributes

Batch = SingularBatch | SpanBatch



@dataclass(frozen=True, slots=True)
class AttributesWithParent:
    """Payload attributes derived for the L2 block after ``parent``.

    ``derived_from``: the pipeline's L1 origin when the attributes were produced (the L1 block
    whose data completed the batch; op-node ``DerivedFrom``). ``concluding`` (op-node
    ``Concluding``): the block concludes the pending-safe phase, so the engine makes it the
    (local) safe head, not only the pending-safe head (op-node ``tryUpdateLocalSafe``).
    Pre-Holocene that is a singular batch or the last block of a span batch (an invalid later
    block of the span invalidates the whole span); from Holocene every batch, including the
    generated empty batches of an expired sequencing window. ``l1_origin``: the L1 origin
    (epoch) of the new block. ``deposits_only``: Holocene's deposit-only replacement
    (holocene/derivation.md "Engine Queue").
    """

    attributes: PayloadAttributes
    parent: L2BlockRef
    derived_from: L1BlockRef
    concluding: bool
    l1_origin: BlockID | None = None
    deposits_only: bool = False

    def deposit_only(self) -> AttributesWithParent:
        """The same attributes with only the deposit transactions (type ``0x7E``) kept."""
        a = self.attributes
        txs = tuple(t for t in a.transactions if t[:1] == bytes([DEPOSIT_TX_TYPE]))
        # op-node ``AttributesWithParent.WithDepositsOnly``: a copy with only the deposits; the
        # other fields, ``concluding`` included, are those of the replaced attributes.
        return replace(self, attributes=replace(a, transactions=txs), deposits_only=True)


class StepKind(enum.Enum):
    """What a pipeline step produced."""

    #: Payload attributes are ready (``StepResult.attributes``).
    ATTRIBUTES = "attributes"
    #: The stages ran out of data for the current L1 block; the pipeline moved to the next one.
    ADVANCED_ORIGIN = "advanced_origin"
    #: Progress was made inside a stage, nothing to emit yet: step again.
    NOT_ENOUGH_DATA = "not_enough_data"


@dataclass(frozen=True, slots=True)
class StepResult:
    """The outcome of one :meth:`~pyop.derivation.driver.DerivationPipeline.step`."""

    kind: StepKind
    origin: L1BlockRef
    attributes: AttributesWithParent | None = None
