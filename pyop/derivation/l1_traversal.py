"""L1 Traversal: walk the L1 chain one block at a time and track the SystemConfig.

Spec: specs/protocol/derivation.md "L1 Traversal": "the L1 Traversal stage simply reads the
header of the next L1 block ... the stage also updates the system configuration by reading the
L1 receipts of the new L1 block" (system-config.md#system-config-updates). A next block whose
parent hash is not the current block's hash is an L1 reorg: the pipeline must reset.
Go: op-node/rollup/derive/l1_traversal.go; kona: stages/traversal/polling.rs.
"""

from __future__ import annotations

from pyop.config import RollupConfig
from pyop.derivation.drops import DecisionKind, DropReason, Explainer, short_hash
from pyop.derivation.errors import EndOfSource, ResetError, TemporaryError
from pyop.derivation.interfaces import L1Source, NotFound
from pyop.primitives import L1BlockRef, SystemConfig
from pyop.protocol.system_config import update_system_config_from_receipts

STAGE = "l1_traversal"


class L1Traversal:
    """Holds the current L1 origin and the SystemConfig as of that block.

    ``next_l1_block`` hands the current block once to :mod:`l1_retrieval` (then raises
    :class:`EndOfSource`); ``advance_l1_block`` moves to the next L1 block.
    """

    def __init__(self, cfg: RollupConfig, l1: L1Source, explainer: Explainer) -> None:
        self.cfg = cfg
        self.l1 = l1
        self.explainer = explainer
        self._block: L1BlockRef | None = None
        self._done = False
        self._sys_cfg: SystemConfig = cfg.genesis.system_config

    @property
    def origin(self) -> L1BlockRef:
        if self._block is None:
            raise TemporaryError("L1 traversal has no origin: reset the pipeline first")
        return self._block

    @property
    def system_config(self) -> SystemConfig:
        """The SystemConfig after applying the current origin's ``ConfigUpdate`` logs."""
        return self._sys_cfg

    def next_l1_block(self) -> L1BlockRef:
        """The current origin, once; then :class:`EndOfSource` until the origin advances."""
        if not self._done:
            self._done = True
            return self.origin
        raise EndOfSource("no new L1 block")

    def advance_l1_block(self) -> L1BlockRef:
        """Move to the next L1 block by number (derivation.md "L1 Traversal").

        Raises :class:`EndOfSource` if L1 has no next block yet, :class:`ResetError` on a parent
        hash mismatch (reorg), :class:`TemporaryError` if data could not be fetched.
        """
        origin = self.origin
        try:
            nxt = self.l1.l1_block_ref_by_number(origin.number + 1)
        except NotFound:
            raise EndOfSource(f"L1 block {origin.number + 1} not available yet") from None
        if nxt.parent_hash != origin.hash:
            self.explainer.decide(
                STAGE,
                DecisionKind.REORG,
                f"L1 block {nxt.number} has parent {short_hash(nxt.parent_hash)}, "
                f"not the current origin {short_hash(origin.hash)}",
                {"origin": origin.number, "next": nxt.number},
                origin.id(),
            )
            raise ResetError(
                f"detected L1 reorg from {origin.number} ({short_hash(origin.hash)}) to "
                f"{nxt.number} with conflicting parent {short_hash(nxt.parent_hash)}"
            )
        try:
            receipts = self.l1.receipts_by_hash(nxt.hash)
        except NotFound as e:
            raise TemporaryError(f"receipts of L1 block {nxt.number} not found: {e}") from None
        res = update_system_config_from_receipts(
            self._sys_cfg,
            receipts,
            self.cfg.l1_system_config_address,
            ecotone_active=self.cfg.is_ecotone(nxt.timestamp),
        )
        for rec_i, log_i, err in res.errors:
            self.explainer.drop(
                STAGE,
                DropReason.SYSTEM_CONFIG_LOG_INVALID,
                str(err),
                {"receipt": rec_i, "log": log_i},
                nxt.id(),
            )
        if res.config != self._sys_cfg:
            self.explainer.decide(
                STAGE,
                DecisionKind.SYSTEM_CONFIG_UPDATED,
                f"SystemConfig updated in L1 block {nxt.number}",
                {"l1_block": nxt.number},
                nxt.id(),
            )
        self._sys_cfg = res.config
        self._block = nxt
        self._done = False
        return nxt

    def reset(self, base: L1BlockRef, sys_cfg: SystemConfig) -> None:
        """Start over at ``base`` with ``sys_cfg`` (the config of the reset L2 block)."""
        self._block = base
        self._done = False
        self._sys_cfg = sys_cfg
