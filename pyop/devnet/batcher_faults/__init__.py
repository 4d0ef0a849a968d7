"""Batcher faults on a devnet: batcher data a correct rollup node must survive, posted for real.

- :mod:`pyop.devnet.batcher_faults.batcher`: :class:`FaultyBatcher`, a batcher of our own (built on
  :mod:`pyop.codec`) that posts whatever it is told to the batch inbox: valid batches read
  from the sequencer's unsafe chain, and invalid, late, duplicate, out-of-order and
  overlapping batches, frames and channels.
- :mod:`pyop.devnet.batcher_faults.plans`: named fault steps over a :class:`FaultyBatcher`, each with
  the drop reasons (:class:`pyop.derivation.drops.DropReason` names) it is meant to cause
  before and after Holocene, for fixtures and tests to reuse.

Related: :mod:`pyop.devnet.blob_load` (L1 blob usage above target, for a blob base fee above 1)
and :mod:`pyop.devnet.traffic` (L2 user txs, deposits, SystemConfig calls).
"""

from pyop.devnet.batcher_faults.batcher import FaultyBatcher, Posted

__all__ = ["FaultyBatcher", "Posted"]
