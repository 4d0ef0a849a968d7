"""Values that travel between the derivation stages and out of the pipeline.

- :data:`Batch`: what the channel reader hands to the batch stages (a singular batch, or a span
  batch in derived form; specs/protocol/derivation.md "Batch Format", delta/span-batches.md).
- :class:`AttributesWithParent`: the pipeline's output (op-node ``derive.AttributesWithParent``):
  payload attributes for the block after ``parent``, and the L1 block they were derived from.
- :class:`StepResult`: what one :meth:`DerivationPipeline.step` did.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from pyop.codec.batch import SingularBatch
from pyop.codec.span_batch import SpanBatch
from pyop.primitives import BlockID, L1BlockRef, L2BlockRef, PayloadAttributes

Batch = SingularBatch | SpanBatch

DEPOSIT_TX_TYPE_BYTE = 0x7E
#: op-geth ``types.PostExecTxType``: the Sequencer-Defined Metering tx, allowed in batches only
#: from Lagoon (op-node ``checkSequencerTxData``).
POST_EXEC_TX_TYPE_BYTE = 0x7D


@dataclass(frozen=True, slots=True)
class AttributesWithParent:
    """Payload attributes derived for the L2 block after ``parent``.

    ``derived_from``: the pipeline's L1 origin when the attributes were produced (the L1 block
    whose data completed the batch; op-node ``DerivedFrom``). ``is_last_in_span``: the batch was
    the last singular batch of its span batch (or a singular batch): op-node only advances the
    *safe* head (vs. pending-safe) on such blocks. ``l1_origin``: the L1 origin (epoch) of the
    new block. ``deposits_only``: Holocene's deposit-only replacement
    (holocene/derivation.md "Engine Queue").
    """

    attributes: PayloadAttributes
    parent: L2BlockRef
    derived_from: L1BlockRef
    is_last_in_span: bool
    l1_origin: BlockID | None = None
    deposits_only: bool = False

    def deposit_only(self) -> AttributesWithParent:
        """The same attributes with only the deposit transactions (type ``0x7E``) kept."""
        a = self.attributes
        txs = tuple(t for t in a.transactions if t[:1] == bytes([DEPOSIT_TX_TYPE_BYTE]))
        new = PayloadAttributes(
            timestamp=a.timestamp,
            prev_randao=a.prev_randao,
            suggested_fee_recipient=a.suggested_fee_recipient,
            transactions=txs,
            no_tx_pool=a.no_tx_pool,
            gas_limit=a.gas_limit,
            withdrawals=a.withdrawals,
            parent_beacon_block_root=a.parent_beacon_block_root,
            eip1559_params=a.eip1559_params,
            min_base_fee=a.min_base_fee,
        )
        return AttributesWithParent(
            attributes=new,
            parent=self.parent,
            derived_from=self.derived_from,
            is_last_in_span=True,
            l1_origin=self.l1_origin,
            deposits_only=True,
        )


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
