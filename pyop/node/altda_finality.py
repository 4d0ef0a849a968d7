"""Alt-DA finality: L1 finality reaches the finalizer only through the DA manager
(specs/experimental/alt-da.md "Safety and Finality"; Go: ``op-node/rollup/finality/altda.go``
``AltDAFinalizer`` + ``op-alt-da/damgr.go`` ``Finalize``).

On an alt-DA chain an L2 block derived from L1 block ``B`` is only final once its input can no
longer be challenged away: the commitment's challenge window (and the resolve window of any
challenge) must have ended at or below the finalized L1 block. op-node routes every L1
finality signal to the DA manager, which prunes the commitments that are past their windows at
the finalized L1 block and answers with the inclusion block of the last one pruned (or, with no
commitment tracked, the L1 block ``challenge_window`` below L1 finality). That block, not the
L1 finalized block, is what the finalizer compares derived-from L1 blocks with, so L2 finality
lags L1 finality by about the challenge window (300 L1 blocks, about an hour, on the seed's
Meeda chain).

Like op-node's inner ``Finalizer.OnL1Finalized``, a signal older than the last one is ignored
(logged). A zero head (nothing past its windows yet) finalizes nothing. op-node re-sends the L1
finalized block every ``--l1.epoch-poll-interval``; pyop re-sends it on every finality attempt
(each L1 origin step, each idle step and each new L1 finalized block), so newly expired
commitments are pruned just as they are in op-node, only without waiting for the next poll.
"""

from __future__ import annotations

import logging

from pyop.derivation.altda_manager import DAManager
from pyop.node.logs import kv
from pyop.primitives import ZERO_HASH, L1BlockRef

log = logging.getLogger("pyop.node.finality")


class AltDAFinality:
    """The DA manager between the L1 watcher's finalized block and the driver's finalizer."""

    def __init__(self, manager: DAManager) -> None:
        self.manager = manager
        #: The last DA finalized head accepted (op-node ``Finalizer.finalizedL1`` in alt-DA mode).
        self.finalized_l1: L1BlockRef | None = None

    def on_l1_finalized(self, l1_finalized: L1BlockRef) -> L1BlockRef | None:
        """Signal ``l1_finalized`` to the DA manager; returns the L1 block up to which derived
        L2 blocks may be finalized (``None``: none yet)."""
        head = self.manager.finalize(l1_finalized)
        if head.hash == ZERO_HASH:
            return self.finalized_l1
        prev = self.finalized_l1
        if prev is not None and head.number < prev.number:
            log.error("ignoring old alt-DA finalized head signal", extra=kv(
                stage="finalizer", prev=prev.number, signaled=head.number))  # fmt: skip
            return prev
        if prev is None or prev != head:
            log.debug("alt-DA finalized head", extra=kv(
                stage="finalizer", l1_finalized=l1_finalized.number, altda_finalized=head.number))  # fmt: skip
        self.finalized_l1 = head
        return head
