"""Attributes Queue: a singular batch + the attributes builder -> payload attributes.

Spec: specs/protocol/derivation.md "Payload Attributes Derivation". Go:
op-node/rollup/derive/attributes_queue.go.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol

from pyop.codec.batch import SingularBatch
from pyop.config import RollupConfig
from pyop.derivation.errors import ResetError
from pyop.derivation.types import AttributesWithParent
from pyop.primitives import BlockID, L1BlockRef, L2BlockRef, PayloadAttributes, SystemConfig, to_hex


class SingularBatchProvider(Protocol):
    """What the attributes queue pulls from (batch queue / batch stage)."""

    @property
    def origin(self) -> L1BlockRef: ...

    def next_batch(self, parent: L2BlockRef) -> tuple[SingularBatch, bool]: ...

    def flush_channel(self) -> None: ...

    def reset(self, base: L1BlockRef, sys_cfg: SystemConfig) -> None: ...


class AttributesPreparer(Protocol):
    def prepare_payload_attributes(self, l2_parent: L2BlockRef, epoch: BlockID) -> PayloadAttributes: ...


class AttributesQueue:
    """Turns the next batch into :class:`AttributesWithParent`. A batch whose attributes could
    not be built yet (temporary error) is kept and retried on the next call."""

    def __init__(self, cfg: RollupConfig, builder: AttributesPreparer, prev: SingularBatchProvider) -> None:
        self.cfg = cfg
        self.builder = builder
        self.prev = prev
        self._batch: SingularBatch | None = None
        self._concluding = False

    @property
    def origin(self) -> L1BlockRef:
        return self.prev.origin

    def next_attributes(self, parent: L2BlockRef) -> AttributesWithParent:
        if self._batch is None:
            self._batch, self._concluding = self.prev.next_batch(parent)
        batch = self._batch
        attrs = self.create_next_attributes(batch, parent)
        out = AttributesWithParent(
            attributes=attrs,
            parent=parent,
            derived_from=self.origin,
            concluding=self._concluding,
            l1_origin=batch.epoch(),
        )
        self._batch = None
        self._concluding = False
        return out

    def create_next_attributes(self, batch: SingularBatch, parent: L2BlockRef) -> PayloadAttributes:
        """derivation.md "Payload Attributes Derivation": the builder's attributes plus the
        batch's transactions, ``noTxPool = true``."""
        if batch.parent_hash != parent.hash:
            raise ResetError(
                f"valid batch has bad parent hash {to_hex(batch.parent_hash)}, expected {to_hex(parent.hash)}"
            )
        expected = parent.timestamp + self.cfg.block_time
        if batch.timestamp != expected:
            raise ResetError(f"valid batch has bad timestamp {batch.timestamp}, expected {expected}")
        attrs = self.builder.prepare_payload_attributes(parent, batch.epoch())
        return replace(attrs, no_tx_pool=True, transactions=(*attrs.transactions, *batch.transactions))

    def flush_channel(self) -> None:
        self.prev.flush_channel()

    def reset(self, base: L1BlockRef, sys_cfg: SystemConfig) -> None:
        self.prev.reset(base, sys_cfg)
        self._batch = None
        self._concluding = False
