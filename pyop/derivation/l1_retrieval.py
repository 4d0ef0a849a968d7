"""L1 Retrieval: the batcher data of the current L1 origin, one batcher transaction at a time.

Spec: specs/protocol/derivation.md "L1 Retrieval". Go: op-node/rollup/derive/l1_retrieval.go.
The source per block (calldata / blobs / alt-DA) is chosen by :mod:`data_source`.
"""

from __future__ import annotations

from typing import Protocol

from pyop.derivation.data_source import DataIter, DataSourceFactory
from pyop.derivation.errors import EndOfSource
from pyop.primitives import L1BlockRef, SystemConfig


class L1BlockProvider(Protocol):
    """What L1 retrieval pulls from (the L1 traversal)."""

    @property
    def origin(self) -> L1BlockRef: ...

    @property
    def system_config(self) -> SystemConfig: ...

    def next_l1_block(self) -> L1BlockRef: ...

    def reset(self, base: L1BlockRef, sys_cfg: SystemConfig) -> None: ...


class L1Retrieval:
    """Yields each batcher-transaction payload of the current origin, then :class:`EndOfSource`."""

    def __init__(self, prev: L1BlockProvider, sources: DataSourceFactory) -> None:
        self.prev = prev
        self.sources = sources
        self._data: DataIter | None = None

    @property
    def origin(self) -> L1BlockRef:
        return self.prev.origin

    def next_data(self) -> bytes:
        if self._data is None:
            block = self.prev.next_l1_block()  # EndOfSource passes up
            self._data = self.sources.open_data(block, self.prev.system_config.batcher_addr)
        try:
            return self._data.next()
        except EndOfSource:
            self._data = None
            raise

    def reset(self, base: L1BlockRef, sys_cfg: SystemConfig) -> None:
        """Open the data of ``base`` (op-node ``L1Retrieval.Reset``). As in op-node and kona,
        the traversal hands out ``base`` once more afterwards, so the base block's data is read
        twice after a reset; the duplicates are dropped by the later stages."""
        self.prev.reset(base, sys_cfg)
        self._data = self.sources.open_data(base, sys_cfg.batcher_addr)
        self.sources.reset(base)  # the alt-DA manager, if any (op-node: the stage after this one)
