"""Fault injection on a devnet: things a correct rollup node must survive, posted for real.

- :mod:`pyop.devnet.faults.batcher`: :class:`FaultyBatcher`, a batcher of our own (built on
  :mod:`pyop.codec`) that posts whatever it is told to the batch inbox: valid batches read
  from the sequencer's unsafe chain, and invalid, late, duplicate, out-of-order and
  overlapping batches, frames and channels.
- :mod:`pyop.devnet.faults.plans`: named fault steps over a :class:`FaultyBatcher`, each with
  the drop reasons (:class:`pyop.derivation.drops.DropReason` names) it is meant to cause
  before and after Holocene, for fixtures and tests to reuse.
- :mod:`pyop.devnet.faults.blob_load`: fills L1 blocks with blob transactions (not to the
  inbox) so the L1 blob base fee rises above 1.
"""

from pyop.devnet.faults.batcher import FaultyBatcher, Posted

__all__ = ["FaultyBatcher", "Posted"]
