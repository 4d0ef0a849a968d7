"""OP Stack network upgrades (forks) and the protocol constants that change with them.

Spec: specs/protocol/derivation.md "Protocol Parameters" (table), fjord/derivation.md
"Protocol Parameter Changes", granite/derivation.md "Protocol Parameter Changes",
specs/protocol/superchain-upgrades.md / each ``<fork>/overview.md`` for the upgrade list.

Every fork activates by L2 block timestamp (``<fork>_time`` in rollup.json): active at ``ts`` iff
the time is set and ``ts >= time``. Changes to derivation apply by the timestamp of the L1 block
being considered (the callers pass that timestamp to the ``*_at`` helpers of ``RollupConfig``).
"""

from __future__ import annotations

from enum import StrEnum


class Fork(StrEnum):
    """The timestamp-activated OP Stack upgrades after Bedrock, in activation order.

    ``Lagoon`` is the fork that carries the interop feature set (op-node v1.19 renamed the
    "interop" fork to Lagoon: ``rollup.Config.LagoonTime``, ``IsInterop = IsLagoon`` in
    op-node/rollup/toggles.go); op-node's ``forks.All`` lists it last. The value is the fork name
    used in ``rollup.json`` keys (``<value>_time``).
    """

    REGOLITH = "regolith"
    CANYON = "canyon"
    DELTA = "delta"
    ECOTONE = "ecotone"
    FJORD = "fjord"
    GRANITE = "granite"
    HOLOCENE = "holocene"
    ISTHMUS = "isthmus"
    JOVIAN = "jovian"
    KARST = "karst"
    LAGOON = "lagoon"

    @property
    def json_key(self) -> str:
        """The rollup.json key of the activation time, e.g. ``"ecotone_time"``."""
        return _JSON_KEYS[self]


# Looked up on every fork predicate call (several per derived block): computed once.
_JSON_KEYS: dict[Fork, str] = {f: f"{f.value}_time" for f in Fork}


#: The mainline forks in required activation order (op-node ``Config.Check`` / ``checkFork``):
#: each one set requires the previous one set and not later.
MAINLINE_FORKS: tuple[Fork, ...] = (
    Fork.REGOLITH,
    Fork.CANYON,
    Fork.DELTA,
    Fork.ECOTONE,
    Fork.FJORD,
    Fork.GRANITE,
    Fork.HOLOCENE,
    Fork.ISTHMUS,
    Fork.JOVIAN,
    Fork.KARST,
)

#: The fork pyop requires before Lagoon. op-node v1.19.6 ``forks.All`` lists Lagoon after Karst,
#: but its ``Config.Check`` orders only Regolith..Isthmus, and the superchain registry's interop
#: rehearsal chains (``interop_time``, the fork's pre-v1.19 name) activate it on top of Isthmus
#: without Jovian: only Isthmus is required before it.
LAGOON_PREREQUISITE: Fork = Fork.ISTHMUS

# --- protocol constants -------------------------------------------------------------------

#: ``frame_data_length`` is capped to 1,000,000 bytes (derivation.md "Frame Format").
MAX_FRAME_LEN = 1_000_000

#: ``MAX_RLP_BYTES_PER_CHANNEL`` before Fjord (derivation.md "Protocol Parameters").
MAX_RLP_BYTES_PER_CHANNEL_BEDROCK = 10_000_000
#: ``MAX_RLP_BYTES_PER_CHANNEL`` from Fjord (fjord/derivation.md).
MAX_RLP_BYTES_PER_CHANNEL_FJORD = 100_000_000

#: ``MAX_CHANNEL_BANK_SIZE`` before Fjord (derivation.md "Protocol Parameters").
MAX_CHANNEL_BANK_SIZE_BEDROCK = 100_000_000
#: ``MAX_CHANNEL_BANK_SIZE`` from Fjord (fjord/derivation.md).
MAX_CHANNEL_BANK_SIZE_FJORD = 1_000_000_000

#: ``MAX_SPAN_BATCH_ELEMENT_COUNT``: 10,000,000 in both the Bedrock and the latest column of the
#: derivation.md "Protocol Parameters" table ("effectively introduced in Fjord"; before Fjord
#: the span-batch limit was the byte limit ``MAX_SPAN_BATCH_SIZE`` = ``MAX_RLP_BYTES_PER_CHANNEL``,
#: numerically the same 10,000,000). op-node v1.9.4 ``derive.MaxSpanBatchElementCount``.
MAX_SPAN_BATCH_ELEMENT_COUNT = 10_000_000

#: ``max_sequencer_drift`` becomes this constant with Fjord (fjord/derivation.md
#: "Constant Maximum Sequencer Drift"), by L1 origin timestamp.
MAX_SEQUENCER_DRIFT_FJORD = 1800

#: ``CHANNEL_TIMEOUT`` from Granite, in L1 blocks (granite/derivation.md "Reduce Channel
#: Timeout"), by the timestamp of the L1 block that includes the frame.
CHANNEL_TIMEOUT_GRANITE = 50

#: Channel timeout op-node uses for every superchain-registry chain (``ChannelTimeoutBedrock``
#: in op-node ``rollup.LoadOPStackRollupConfig``), in L1 blocks.
CHANNEL_TIMEOUT_BEDROCK_REGISTRY = 300
