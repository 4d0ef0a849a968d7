"""The rollup configuration: op-node's ``rollup.json`` as a frozen dataclass.

JSON field names, order and omitempty behaviour follow op-node ``rollup.Config``
(``op-node/rollup/types.go``; v1.9.4 plus the later ``isthmus_time``, ``jovian_time``,
``karst_time``, ``chain_op_config``, ``pectra_blob_schedule_time`` fields as found in
superchain-registry generated configs, and v1.19.6's ``keep_karst_upgrade_gas`` and
``lagoon_time``) and ``eth.SystemConfig`` (``op-service/eth/types.go``).
Spec: specs/protocol/derivation.md (parameters), specs/protocol/system-config.md,
specs/protocol/superchain-upgrades.md (fork activation by timestamp).

Round trip: ``RollupConfig.from_json(x).to_json() == x`` (as JSON values) for any canonical
rollup.json: optional fields that were absent stay absent, optional fields that were present are
written back even if zero. Hex is written lowercase. ``null`` for an optional field reads as
absent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from itertools import pairwise
from os import PathLike
from pathlib import Path

from pyop.config.errors import RollupConfigError
from pyop.config.forks import (
    CHANNEL_TIMEOUT_GRANITE,
    LAGOON_PREREQUISITE,
    MAINLINE_FORKS,
    MAX_CHANNEL_BANK_SIZE_BEDROCK,
    MAX_CHANNEL_BANK_SIZE_FJORD,
    MAX_RLP_BYTES_PER_CHANNEL_BEDROCK,
    MAX_RLP_BYTES_PER_CHANNEL_FJORD,
    MAX_SEQUENCER_DRIFT_FJORD,
    MAX_SPAN_BATCH_ELEMENT_COUNT,
    Fork,
)
from pyop.config.jsonread import ObjectReader
from pyop.primitives import ZERO_ADDRESS, ZERO_HASH, BlockID, SystemConfig, to_hex

#: ``Fork -> "<fork>_time"`` (``Fork.json_key``) as a plain dict: the fork predicates run
#: dozens of times per derived block.
_FORK_TIME_KEYS: dict[Fork, str] = {f: f.json_key for f in Fork}

JSONObject = dict[str, object]

# Optional JSON fields whose Python value has a zero default; ``RollupConfig.present`` records
# which of them the input had, so output keeps them (omitempty in op-node drops zero values).
P_MAX_SEQ_DRIFT = "max_sequencer_drift"
P_PROTOCOL_VERSIONS = "protocol_versions_address"
P_KEEP_KARST_GAS = "keep_karst_upgrade_gas"
P_EIP1559_PARAMS = "genesis.system_config.eip1559Params"
P_OPERATOR_FEE = "genesis.system_config.operatorFeeParams"
P_MIN_BASE_FEE = "genesis.system_config.minBaseFee"
P_DA_FOOTPRINT = "genesis.system_config.daFootprintGasScalar"
P_DA_CHALLENGE = "alt_da.da_challenge_contract_address"

KECCAK_COMMITMENT = "KeccakCommitment"
GENERIC_COMMITMENT = "GenericCommitment"
#: ``MAX_L1_TX_SIZE`` (experimental/alt-da.md "Derivation"): the default of
#: ``alt_da.da_max_input_size`` (op-alt-da ``MaxInputSize``).
ALTDA_DEFAULT_MAX_INPUT_SIZE = 130672

# Keys older (or other) rollup.json producers wrote; op-node v1.9.4 rejects them too.
_TOP_LEVEL_HINTS = {
    "plasma_config": "op-node v1.7.6-v1.9.0 alt-DA config; it is now named 'alt_da'",
    "use_plasma": "op-node v1.7.6-v1.9.0 legacy alt-DA switch; use an 'alt_da' object",
    "da_challenge_contract_address": "legacy top-level alt-DA field; move it into 'alt_da'",
    "da_challenge_window": "legacy top-level alt-DA field; move it into 'alt_da'",
    "da_resolve_window": "legacy top-level alt-DA field; move it into 'alt_da'",
    "da_challenge_address": "op-node v1.7.0 / kona field; use 'alt_da.da_challenge_contract_address'",
    "blobs_data": "op-node v1.7.0 / kona field, removed: blobs follow ecotone_time",
    "channel_timeout_granite": "op-node v1.9.0 only; Granite's channel timeout is the constant 50",
    "granite_channel_timeout": "kona field; Granite's channel timeout is the constant 50 "
    "(use pyop.config.kona.rollup_config_from_kona_json for kona-format configs)",
    "superchain_config_address": "kona field, not part of op-node's rollup.json",
    "interop_time": "the interop fork's pre-v1.19 name: op-node v1.19.6 reads 'lagoon_time' "
    "(IsInterop = IsLagoon) and silently ignores 'interop_time'; rename the key",
    "base_fee_params": "kona field; op-node uses 'chain_op_config'",
    "canyon_base_fee_params": "kona field; op-node uses 'chain_op_config'",
}
_SYSTEM_CONFIG_HINTS = {
    k: "kona SystemConfig field, not in op-node's eth.SystemConfig"
    for k in (
        "baseFeeScalar",
        "blobBaseFeeScalar",
        "eip1559Denominator",
        "eip1559Elasticity",
        "operatorFeeScalar",
        "operatorFeeConstant",
        "batcherAddress",
    )
}
_ALT_DA_HINTS = {"da_challenge_address": "kona spelling of 'da_challenge_contract_address'"}


@dataclass(frozen=True, slots=True)
class Genesis:
    """op-node ``rollup.Genesis``: the rollup's anchor point.

    ``l1`` is the L1 block the rollup starts *after*; ``l2`` the L2 genesis block; ``l2_time``
    its timestamp; ``system_config`` the initial SystemConfig (specs/protocol/system-config.md).
    """

    l1: BlockID
    l2: BlockID
    l2_time: int
    system_config: SystemConfig


@dataclass(frozen=True, slots=True)
class AltDAConfig:
    """op-node ``rollup.AltDAConfig`` (rollup.json ``alt_da``); spec: specs/experimental/alt-da.md.

    ``da_challenge_address`` is the DataAvailabilityChallenge proxy (zero for generic
    commitments); the windows are in L1 blocks. ``da_max_input_size`` (op-node v1.19
    ``MaxInputSize``, rollup.json ``da_max_input_size``, keccak commitments only) caps the size of
    a keccak input; ``None`` means the protocol default :data:`ALTDA_DEFAULT_MAX_INPUT_SIZE`.
    """

    da_commitment_type: str
    da_challenge_window: int
    da_resolve_window: int
    da_challenge_address: bytes = ZERO_ADDRESS
    da_max_input_size: int | None = None

    def max_input_size_or_default(self) -> int:
        """op-node ``AltDAConfig.MaxInputSizeOrDefault``."""
        return ALTDA_DEFAULT_MAX_INPUT_SIZE if self.da_max_input_size is None else self.da_max_input_size


@dataclass(frozen=True, slots=True)
class ChainOpConfig:
    """The execution layer's EIP-1559 parameters (go-ethereum ``params.OptimismConfig``).

    rollup.json ``chain_op_config``: ``eip1559Elasticity``, ``eip1559Denominator``,
    ``eip1559DenominatorCanyon`` (the last is optional). Used to turn zero Holocene
    ``eip1559Params`` into the chain's defaults (specs/protocol/holocene/exec-engine.md).
    """

    eip1559_elasticity: int
    eip1559_denominator: int
    eip1559_denominator_canyon: int | None = None


def _fork_time_or_none(x: int | None) -> str:
    return "unset" if x is None else str(x)


@dataclass(frozen=True, slots=True, kw_only=True)
class RollupConfig:
    """op-node ``rollup.Config``. Fields are in rollup.json order; fork times are L2 timestamps.

    ``channel_timeout`` is the pre-Granite (Bedrock) value; use ``channel_timeout_at``.
    ``max_sequencer_drift`` is the pre-Fjord value; use ``max_sequencer_drift_at``.
    ``present`` records optional zero-default JSON fields seen on input (see module doc); it
    does not take part in equality.
    """

    genesis: Genesis
    block_time: int
    max_sequencer_drift: int = 0
    seq_window_size: int
    channel_timeout: int
    l1_chain_id: int
    l2_chain_id: int
    regolith_time: int | None = None
    canyon_time: int | None = None
    delta_time: int | None = None
    ecotone_time: int | None = None
    fjord_time: int | None = None
    granite_time: int | None = None
    holocene_time: int | None = None
    isthmus_time: int | None = None
    jovian_time: int | None = None
    karst_time: int | None = None
    lagoon_time: int | None = None
    batch_inbox_address: bytes
    deposit_contract_address: bytes
    l1_system_config_address: bytes
    protocol_versions_address: bytes = ZERO_ADDRESS
    alt_da: AltDAConfig | None = None
    chain_op_config: ChainOpConfig | None = None
    pectra_blob_schedule_time: int | None = None
    interop_message_expiry_window: int | None = None
    keep_karst_upgrade_gas: bool = False
    present: frozenset[str] = field(default=frozenset(), compare=False, repr=False)

    # ------------------------------------------------------------------ JSON

    @classmethod
    def from_json(cls, obj: object) -> RollupConfig:
        """Parse a decoded ``rollup.json`` object strictly (unknown fields are errors)."""
        top = ObjectReader(obj, "", _TOP_LEVEL_HINTS)
        present: set[str] = set()

        g = top.obj("genesis")
        genesis = Genesis(
            l1=_block_id(g.obj("l1")),
            l2=_block_id(g.obj("l2")),
            l2_time=g.uint("l2_time"),
            system_config=_system_config(g.obj("system_config", _SYSTEM_CONFIG_HINTS), present),
        )
        g.finish()

        if top.present(P_MAX_SEQ_DRIFT):
            present.add(P_MAX_SEQ_DRIFT)
        max_seq_drift = top.opt_uint("max_sequencer_drift") or 0
        fork_times = {f: top.opt_uint(f.json_key) for f in Fork}
        if top.present(P_PROTOCOL_VERSIONS):
            present.add(P_PROTOCOL_VERSIONS)
        protocol_versions = top.opt_hex("protocol_versions_address", 20) or ZERO_ADDRESS
        if top.present(P_KEEP_KARST_GAS):
            present.add(P_KEEP_KARST_GAS)

        a = top.opt_obj("alt_da", _ALT_DA_HINTS)
        alt_da = None
        if a is not None:
            if a.present("da_challenge_contract_address"):
                present.add(P_DA_CHALLENGE)
            alt_da = AltDAConfig(
                da_challenge_address=a.opt_hex("da_challenge_contract_address", 20)
                or ZERO_ADDRESS,
                da_commitment_type=a.string("da_commitment_type"),
                da_challenge_window=a.uint("da_challenge_window"),
                da_resolve_window=a.uint("da_resolve_window"),
                da_max_input_size=a.opt_uint("da_max_input_size"),
            )
            a.finish()

        c = top.opt_obj("chain_op_config")
        chain_op = None
        if c is not None:
            chain_op = ChainOpConfig(
                eip1559_elasticity=c.uint("eip1559Elasticity"),
                eip1559_denominator=c.uint("eip1559Denominator"),
                eip1559_denominator_canyon=c.opt_uint("eip1559DenominatorCanyon"),
            )
            c.finish()

        cfg = cls(
            genesis=genesis,
            block_time=top.uint("block_time"),
            max_sequencer_drift=max_seq_drift,
            seq_window_size=top.uint("seq_window_size"),
            channel_timeout=top.uint("channel_timeout"),
            l1_chain_id=top.uint("l1_chain_id", hi=None),
            l2_chain_id=top.uint("l2_chain_id", hi=None),
            regolith_time=fork_times[Fork.REGOLITH],
            canyon_time=fork_times[Fork.CANYON],
            delta_time=fork_times[Fork.DELTA],
            ecotone_time=fork_times[Fork.ECOTONE],
            fjord_time=fork_times[Fork.FJORD],
            granite_time=fork_times[Fork.GRANITE],
            holocene_time=fork_times[Fork.HOLOCENE],
            isthmus_time=fork_times[Fork.ISTHMUS],
            jovian_time=fork_times[Fork.JOVIAN],
            karst_time=fork_times[Fork.KARST],
            lagoon_time=fork_times[Fork.LAGOON],
            batch_inbox_address=top.hex("batch_inbox_address", 20),
            deposit_contract_address=top.hex("deposit_contract_address", 20),
            l1_system_config_address=top.hex("l1_system_config_address", 20),
            protocol_versions_address=protocol_versions,
            alt_da=alt_da,
            chain_op_config=chain_op,
            pectra_blob_schedule_time=top.opt_uint("pectra_blob_schedule_time"),
            interop_message_expiry_window=top.opt_uint("interop_message_expiry_window"),
            keep_karst_upgrade_gas=bool(top.opt_bool("keep_karst_upgrade_gas")),
            present=frozenset(present),
        )
        top.finish()
        return cfg

    def _emit(self, key: str, is_default: bool) -> bool:
        return key in self.present or not is_default

    def to_json(self) -> JSONObject:
        """The ``rollup.json`` object, keys in op-node struct order."""
        sc = self.genesis.system_config
        sys_json: JSONObject = {
            "batcherAddr": to_hex(sc.batcher_addr),
            "overhead": to_hex(sc.overhead),
            "scalar": to_hex(sc.scalar),
            "gasLimit": sc.gas_limit,
        }
        if self._emit(P_EIP1559_PARAMS, sc.eip1559_params == b"\x00" * 8):
            sys_json["eip1559Params"] = to_hex(sc.eip1559_params)
        if self._emit(P_OPERATOR_FEE, sc.operator_fee_params == ZERO_HASH):
            sys_json["operatorFeeParams"] = to_hex(sc.operator_fee_params)
        if self._emit(P_MIN_BASE_FEE, sc.min_base_fee == 0):
            sys_json["minBaseFee"] = sc.min_base_fee
        if self._emit(P_DA_FOOTPRINT, sc.da_footprint_gas_scalar == 0):
            sys_json["daFootprintGasScalar"] = sc.da_footprint_gas_scalar

        out: JSONObject = {
            "genesis": {
                "l1": self.genesis.l1.to_json(),
                "l2": self.genesis.l2.to_json(),
                "l2_time": self.genesis.l2_time,
                "system_config": sys_json,
            },
            "block_time": self.block_time,
        }
        if self._emit(P_MAX_SEQ_DRIFT, self.max_sequencer_drift == 0):
            out["max_sequencer_drift"] = self.max_sequencer_drift
        out["seq_window_size"] = self.seq_window_size
        out["channel_timeout"] = self.channel_timeout
        out["l1_chain_id"] = self.l1_chain_id
        out["l2_chain_id"] = self.l2_chain_id
        for fork in Fork:
            t = self.fork_time(fork)
            if t is not None:
                out[fork.json_key] = t
            if fork is Fork.KARST and self._emit(P_KEEP_KARST_GAS, not self.keep_karst_upgrade_gas):
                out["keep_karst_upgrade_gas"] = self.keep_karst_upgrade_gas  # op-node field order
        out["batch_inbox_address"] = to_hex(self.batch_inbox_address)
        out["deposit_contract_address"] = to_hex(self.deposit_contract_address)
        out["l1_system_config_address"] = to_hex(self.l1_system_config_address)
        if self._emit(P_PROTOCOL_VERSIONS, self.protocol_versions_address == ZERO_ADDRESS):
            out["protocol_versions_address"] = to_hex(self.protocol_versions_address)
        if self.alt_da is not None:
            a = self.alt_da
            alt: JSONObject = {}
            if self._emit(P_DA_CHALLENGE, a.da_challenge_address == ZERO_ADDRESS):
                alt["da_challenge_contract_address"] = to_hex(a.da_challenge_address)
            alt["da_commitment_type"] = a.da_commitment_type
            if a.da_max_input_size is not None:
                alt["da_max_input_size"] = a.da_max_input_size
            alt["da_challenge_window"] = a.da_challenge_window
            alt["da_resolve_window"] = a.da_resolve_window
            out["alt_da"] = alt
        if self.chain_op_config is not None:
            c = self.chain_op_config
            op: JSONObject = {
                "eip1559Elasticity": c.eip1559_elasticity,
                "eip1559Denominator": c.eip1559_denominator,
            }
            if c.eip1559_denominator_canyon is not None:
                op["eip1559DenominatorCanyon"] = c.eip1559_denominator_canyon
            out["chain_op_config"] = op
        if self.pectra_blob_schedule_time is not None:
            out["pectra_blob_schedule_time"] = self.pectra_blob_schedule_time
        if self.interop_message_expiry_window is not None:
            out["interop_message_expiry_window"] = self.interop_message_expiry_window
        return out

    # ------------------------------------------------------------------ validation

    def check(self) -> None:
        """Validate like op-node ``Config.Check``; raise ``RollupConfigError`` naming the problem.

        Rules (op-node v1.9.4 ``op-node/rollup/types.go``): block time, channel timeout > 0;
        sequencing window >= 2; max sequencer drift > 0 (pyop also accepts 0 when Fjord is
        active from L2 genesis, where the field is unused, as the op-node field doc allows);
        genesis hashes set and different; genesis L2 time, batcher address, scalar and gas
        limit set; inbox and deposit contract set; chain ids positive and different; alt-DA
        commitment type and challenge address consistent; forks in order (a set fork requires
        the previous mainline fork set and not later, through Karst; Lagoon requires Isthmus).
        op-node v1.19.6's ``Check`` orders only Regolith..Isthmus: pyop is stricter for Jovian
        and Karst (a chain that skips one of them is not a chain op-node was tested on).
        """
        if self.block_time == 0:
            raise RollupConfigError("block time cannot be 0", "block_time")
        if self.channel_timeout == 0:
            raise RollupConfigError(
                "channel timeout must be set, this should cover at least a L1 block time",
                "channel_timeout",
            )
        if self.seq_window_size < 2:
            raise RollupConfigError("sequencing window size must at least be 2", "seq_window_size")
        fjord_at_genesis = self.fjord_time is not None and self.fjord_time <= self.genesis.l2_time
        if self.max_sequencer_drift == 0 and not fjord_at_genesis:
            raise RollupConfigError(
                "maximum sequencer drift must be greater than 0", "max_sequencer_drift"
            )
        g = self.genesis
        if g.l1.hash == ZERO_HASH:
            raise RollupConfigError("genesis L1 hash cannot be empty", "genesis.l1.hash")
        if g.l2.hash == ZERO_HASH:
            raise RollupConfigError("genesis L2 hash cannot be empty", "genesis.l2.hash")
        if g.l1.hash == g.l2.hash:
            raise RollupConfigError("L1 and L2 genesis cannot be the same", "genesis.l2.hash")
        if g.l2_time == 0:
            raise RollupConfigError("missing L2 genesis time", "genesis.l2_time")
        sc = g.system_config
        if sc.batcher_addr == ZERO_ADDRESS:
            raise RollupConfigError(
                "missing genesis system config batcher address", "genesis.system_config.batcherAddr"
            )
        if sc.scalar == ZERO_HASH:
            raise RollupConfigError(
                "missing genesis system config scalar", "genesis.system_config.scalar"
            )
        if sc.gas_limit == 0:
            raise RollupConfigError(
                "missing genesis system config gas limit", "genesis.system_config.gasLimit"
            )
        if self.batch_inbox_address == ZERO_ADDRESS:
            raise RollupConfigError("missing batch inbox address", "batch_inbox_address")
        if self.deposit_contract_address == ZERO_ADDRESS:
            raise RollupConfigError("missing deposit contract address", "deposit_contract_address")
        if self.l1_chain_id == self.l2_chain_id:
            raise RollupConfigError("L1 and L2 chain IDs must be different", "l2_chain_id")
        if self.l1_chain_id < 1:
            raise RollupConfigError("L1 chain ID must be non-zero and positive", "l1_chain_id")
        if self.l2_chain_id < 1:
            raise RollupConfigError("L2 chain ID must be non-zero and positive", "l2_chain_id")
        self._check_alt_da()
        self._check_fork_order()

    def _check_alt_da(self) -> None:
        a = self.alt_da
        if a is None:
            return
        # op-node rollup.go validateAltDAConfig, in its order
        if a.da_commitment_type == GENERIC_COMMITMENT and a.da_max_input_size is not None:
            raise RollupConfigError(
                "altDA max input size must be omitted for generic commitments", "alt_da.da_max_input_size"
            )
        if a.da_max_input_size == 0:
            raise RollupConfigError("altDA max input size must be greater than zero", "alt_da.da_max_input_size")
        if a.da_commitment_type not in (KECCAK_COMMITMENT, GENERIC_COMMITMENT):
            raise RollupConfigError(
                f"invalid commitment type: {a.da_commitment_type!r}", "alt_da.da_commitment_type"
            )
        if a.da_commitment_type == KECCAK_COMMITMENT and a.da_challenge_address == ZERO_ADDRESS:
            raise RollupConfigError(
                "must set da_challenge_contract_address for keccak commitments",
                "alt_da.da_challenge_contract_address",
            )
        if a.da_commitment_type == GENERIC_COMMITMENT and a.da_challenge_address != ZERO_ADDRESS:
            raise RollupConfigError(
                "must set empty da_challenge_contract_address for generic commitments",
                "alt_da.da_challenge_contract_address",
            )

    def _check_fork_order(self) -> None:
        pairs = list(pairwise(MAINLINE_FORKS))
        pairs.append((LAGOON_PREREQUISITE, Fork.LAGOON))
        for prev, nxt in pairs:
            a, b = self.fork_time(prev), self.fork_time(nxt)
            if b is None:
                continue
            if a is None:
                raise RollupConfigError(
                    f"fork {nxt} set (to {b}), but prior fork {prev} missing", nxt.json_key
                )
            if a > b:
                raise RollupConfigError(
                    f"fork {nxt} set to {b}, but prior fork {prev} has higher offset {a}",
                    nxt.json_key,
                )

    # ------------------------------------------------------------------ forks

    def fork_time(self, fork: Fork) -> int | None:
        """The activation timestamp of ``fork`` (None: not scheduled)."""
        t: int | None = getattr(self, _FORK_TIME_KEYS[fork])
        return t

    def is_active(self, fork: Fork, ts: int) -> bool:
        """True if ``fork`` is active at L2 timestamp ``ts`` (time set and ``ts >= time``).

        Like op-node ``Config.Is<Fork>``, this looks only at the fork's own time; ``check()``
        enforces the fork order that makes a later active fork imply the earlier ones.
        """
        t = getattr(self, _FORK_TIME_KEYS[fork])  # fork_time, inlined: several calls per block
        return t is not None and ts >= t

    def is_activation_block(self, fork: Fork, l2_ts: int) -> bool:
        """True if the L2 block at ``l2_ts`` is the first block of ``fork``.

        op-node ``Is<Fork>ActivationBlock``: active at ``l2_ts``, ``l2_ts >= block_time`` and
        not active at ``l2_ts - block_time``. Activation at genesis does not count.
        """
        t = getattr(self, _FORK_TIME_KEYS[fork])
        # is_active(fork, l2_ts) and not is_active(fork, l2_ts - block_time), inlined
        return t is not None and l2_ts >= t and l2_ts >= self.block_time and l2_ts - self.block_time < t

    def is_regolith(self, ts: int) -> bool:
        """Regolith active at L2 timestamp ``ts`` (specs/protocol/regolith/overview.md)."""
        return self.is_active(Fork.REGOLITH, ts)

    def is_canyon(self, ts: int) -> bool:
        """Canyon active at L2 timestamp ``ts`` (specs/protocol/canyon/overview.md)."""
        return self.is_active(Fork.CANYON, ts)

    def is_delta(self, ts: int) -> bool:
        """Delta active at L2 timestamp ``ts`` (specs/protocol/delta/overview.md)."""
        return self.is_active(Fork.DELTA, ts)

    def is_ecotone(self, ts: int) -> bool:
        """Ecotone active at L2 timestamp ``ts`` (specs/protocol/ecotone/overview.md)."""
        return self.is_active(Fork.ECOTONE, ts)

    def is_fjord(self, ts: int) -> bool:
        """Fjord active at L2 timestamp ``ts`` (specs/protocol/fjord/overview.md)."""
        return self.is_active(Fork.FJORD, ts)

    def is_granite(self, ts: int) -> bool:
        """Granite active at L2 timestamp ``ts`` (specs/protocol/granite/overview.md)."""
        return self.is_active(Fork.GRANITE, ts)

    def is_holocene(self, ts: int) -> bool:
        """Holocene active at L2 timestamp ``ts`` (specs/protocol/holocene/overview.md)."""
        return self.is_active(Fork.HOLOCENE, ts)

    def is_isthmus(self, ts: int) -> bool:
        """Isthmus active at L2 timestamp ``ts`` (specs/protocol/isthmus/overview.md)."""
        return self.is_active(Fork.ISTHMUS, ts)

    def is_jovian(self, ts: int) -> bool:
        """Jovian active at L2 timestamp ``ts`` (specs/protocol/jovian/overview.md)."""
        return self.is_active(Fork.JOVIAN, ts)

    def is_karst(self, ts: int) -> bool:
        """Karst active at L2 timestamp ``ts`` (specs/protocol/karst/overview.md)."""
        return self.is_active(Fork.KARST, ts)

    def is_lagoon(self, ts: int) -> bool:
        """Lagoon active at L2 timestamp ``ts`` (op-node ``IsLagoon``)."""
        return self.is_active(Fork.LAGOON, ts)

    def is_interop(self, ts: int) -> bool:
        """The interop feature is active (op-node/rollup/toggles.go ``IsInterop`` = ``IsLagoon``;
        specs/interop/overview.md)."""
        return self.is_lagoon(ts)

    def is_sdm(self, ts: int) -> bool:
        """Sequencer-Defined Metering is active: PostExec (``0x7D``) txs may appear in batches
        (op-node/rollup/toggles.go ``IsSDM`` = ``IsLagoon``)."""
        return self.is_lagoon(ts)

    def is_pectra_blob_schedule(self, l1_origin_ts: int) -> bool:
        """The Pectra blob schedule fix is active for an L1 origin timestamp.

        specs/protocol/pectra-blob-schedule/derivation.md: if enabled, L2 blocks whose L1
        origin timestamp is >= the fork time use the Prague blob base fee update fraction for
        the L1 attributes; before it the Cancun fraction. Activates by L1 origin time.
        """
        t = self.pectra_blob_schedule_time
        return t is not None and l1_origin_ts >= t

    def is_regolith_activation_block(self, l2_ts: int) -> bool:
        """First Regolith block (see ``is_activation_block``)."""
        return self.is_activation_block(Fork.REGOLITH, l2_ts)

    def is_canyon_activation_block(self, l2_ts: int) -> bool:
        """First Canyon block (see ``is_activation_block``)."""
        return self.is_activation_block(Fork.CANYON, l2_ts)

    def is_delta_activation_block(self, l2_ts: int) -> bool:
        """First Delta block (see ``is_activation_block``)."""
        return self.is_activation_block(Fork.DELTA, l2_ts)

    def is_ecotone_activation_block(self, l2_ts: int) -> bool:
        """First Ecotone block: gets the Ecotone upgrade txs (ecotone/derivation.md)."""
        return self.is_activation_block(Fork.ECOTONE, l2_ts)

    def is_fjord_activation_block(self, l2_ts: int) -> bool:
        """First Fjord block: gets the Fjord upgrade txs (fjord/derivation.md)."""
        return self.is_activation_block(Fork.FJORD, l2_ts)

    def is_granite_activation_block(self, l2_ts: int) -> bool:
        """First Granite block (see ``is_activation_block``)."""
        return self.is_activation_block(Fork.GRANITE, l2_ts)

    def is_holocene_activation_block(self, l2_ts: int) -> bool:
        """First Holocene block (see ``is_activation_block``)."""
        return self.is_activation_block(Fork.HOLOCENE, l2_ts)

    def is_isthmus_activation_block(self, l2_ts: int) -> bool:
        """First Isthmus block: gets the Isthmus upgrade txs (isthmus/derivation.md)."""
        return self.is_activation_block(Fork.ISTHMUS, l2_ts)

    def is_jovian_activation_block(self, l2_ts: int) -> bool:
        """First Jovian block: upgrade txs, no user txs (jovian/derivation.md
        "Activation Block Rules")."""
        return self.is_activation_block(Fork.JOVIAN, l2_ts)

    def is_karst_activation_block(self, l2_ts: int) -> bool:
        """First Karst block (see ``is_activation_block``)."""
        return self.is_activation_block(Fork.KARST, l2_ts)

    def is_lagoon_activation_block(self, l2_ts: int) -> bool:
        """First Lagoon block: the Lagoon NUT-bundle upgrade txs, no user txs (op-node
        ``IsLagoonActivationBlock``)."""
        return self.is_activation_block(Fork.LAGOON, l2_ts)

    def is_interop_activation_block(self, l2_ts: int) -> bool:
        """First block of the interop feature = the Lagoon activation block (op-node
        toggles.go ``IsInteropActivationBlock``)."""
        return self.is_interop(l2_ts) and self.is_lagoon_activation_block(l2_ts)

    # ``is_first_<fork>_block`` aliases (ARCHITECTURE.md / kona naming).
    def is_first_regolith_block(self, l2_ts: int) -> bool:
        """Alias of ``is_regolith_activation_block``."""
        return self.is_activation_block(Fork.REGOLITH, l2_ts)

    def is_first_canyon_block(self, l2_ts: int) -> bool:
        """Alias of ``is_canyon_activation_block``."""
        return self.is_activation_block(Fork.CANYON, l2_ts)

    def is_first_delta_block(self, l2_ts: int) -> bool:
        """Alias of ``is_delta_activation_block``."""
        return self.is_activation_block(Fork.DELTA, l2_ts)

    def is_first_ecotone_block(self, l2_ts: int) -> bool:
        """Alias of ``is_ecotone_activation_block``."""
        return self.is_activation_block(Fork.ECOTONE, l2_ts)

    def is_first_fjord_block(self, l2_ts: int) -> bool:
        """Alias of ``is_fjord_activation_block``."""
        return self.is_activation_block(Fork.FJORD, l2_ts)

    def is_first_granite_block(self, l2_ts: int) -> bool:
        """Alias of ``is_granite_activation_block``."""
        return self.is_activation_block(Fork.GRANITE, l2_ts)

    def is_first_holocene_block(self, l2_ts: int) -> bool:
        """Alias of ``is_holocene_activation_block``."""
        return self.is_activation_block(Fork.HOLOCENE, l2_ts)

    def is_first_isthmus_block(self, l2_ts: int) -> bool:
        """Alias of ``is_isthmus_activation_block``."""
        return self.is_activation_block(Fork.ISTHMUS, l2_ts)

    def is_first_jovian_block(self, l2_ts: int) -> bool:
        """Alias of ``is_jovian_activation_block``."""
        return self.is_activation_block(Fork.JOVIAN, l2_ts)

    def is_first_karst_block(self, l2_ts: int) -> bool:
        """Alias of ``is_karst_activation_block``."""
        return self.is_activation_block(Fork.KARST, l2_ts)

    def is_first_lagoon_block(self, l2_ts: int) -> bool:
        """Alias of ``is_lagoon_activation_block``."""
        return self.is_activation_block(Fork.LAGOON, l2_ts)

    def is_first_interop_block(self, l2_ts: int) -> bool:
        """Alias of ``is_interop_activation_block``."""
        return self.is_interop_activation_block(l2_ts)

    # ------------------------------------------------------------------ protocol parameters

    def channel_timeout_at(self, l1_ts: int) -> int:
        """``CHANNEL_TIMEOUT`` in L1 blocks for a frame included in an L1 block at ``l1_ts``.

        granite/derivation.md "Reduce Channel Timeout": the rollup's ``channel_timeout`` before
        Granite, the constant 50 from Granite, by the including L1 block's timestamp.
        """
        return CHANNEL_TIMEOUT_GRANITE if self.is_granite(l1_ts) else self.channel_timeout

    def max_rlp_bytes_per_channel(self, l1_ts: int) -> int:
        """``MAX_RLP_BYTES_PER_CHANNEL``: 10,000,000 before Fjord, 100,000,000 from Fjord.

        derivation.md "Protocol Parameters"; fjord/derivation.md "Increasing
        MAX_RLP_BYTES_PER_CHANNEL and MAX_CHANNEL_BANK_SIZE" (by L1 origin timestamp).
        """
        if self.is_fjord(l1_ts):
            return MAX_RLP_BYTES_PER_CHANNEL_FJORD
        return MAX_RLP_BYTES_PER_CHANNEL_BEDROCK

    def max_channel_bank_size(self, l1_ts: int) -> int:
        """``MAX_CHANNEL_BANK_SIZE``: 100,000,000 before Fjord, 1,000,000,000 from Fjord.

        derivation.md "Protocol Parameters" and "Pruning"; fjord/derivation.md.
        """
        if self.is_fjord(l1_ts):
            return MAX_CHANNEL_BANK_SIZE_FJORD
        return MAX_CHANNEL_BANK_SIZE_BEDROCK

    def max_sequencer_drift_at(self, l1_origin_ts: int) -> int:
        """``max_sequencer_drift`` in seconds for an L1 origin at ``l1_origin_ts``.

        fjord/derivation.md "Constant Maximum Sequencer Drift": the rollup value before Fjord,
        the constant 1800 from Fjord, by L1 origin timestamp.
        """
        return MAX_SEQUENCER_DRIFT_FJORD if self.is_fjord(l1_origin_ts) else self.max_sequencer_drift

    def max_span_batch_element_count(self, l1_ts: int) -> int:
        """``MAX_SPAN_BATCH_ELEMENT_COUNT``: 10,000,000 at every fork.

        derivation.md "Protocol Parameters" lists 10,000,000 for Bedrock and latest
        ("effectively introduced in Fjord"); delta/span-batches.md "Span Batch Size Limits".
        """
        del l1_ts
        return MAX_SPAN_BATCH_ELEMENT_COUNT

    # ------------------------------------------------------------------ misc

    def timestamp_for_block(self, number: int) -> int:
        """L2 timestamp of L2 block ``number`` (op-node ``Config.TimestampForBlock``)."""
        return self.genesis.l2_time + (number - self.genesis.l2.number) * self.block_time

    def alt_da_enabled(self) -> bool:
        """True if an ``alt_da`` config is present (op-node ``Config.AltDAEnabled``)."""
        return self.alt_da is not None

    def describe(self) -> str:
        """A short human-readable summary (chain ids, genesis, fork times)."""
        lines = [
            f"L2 chain id {self.l2_chain_id}, L1 chain id {self.l1_chain_id}",
            f"genesis L2 #{self.genesis.l2.number} time {self.genesis.l2_time}, "
            f"L1 #{self.genesis.l1.number}",
        ]
        lines += [f"  {f.value}: {_fork_time_or_none(self.fork_time(f))}" for f in Fork]
        return "\n".join(lines)


def _block_id(r: ObjectReader) -> BlockID:
    b = BlockID(hash=r.hex("hash", 32), number=r.uint("number"))
    r.finish()
    return b


def _system_config(r: ObjectReader, present: set[str]) -> SystemConfig:
    for key, p in (
        ("eip1559Params", P_EIP1559_PARAMS),
        ("operatorFeeParams", P_OPERATOR_FEE),
        ("minBaseFee", P_MIN_BASE_FEE),
        ("daFootprintGasScalar", P_DA_FOOTPRINT),
    ):
        if r.present(key):
            present.add(p)
    sc = SystemConfig(
        batcher_addr=r.hex("batcherAddr", 20),
        overhead=r.hex("overhead", 32),
        scalar=r.hex("scalar", 32),
        gas_limit=r.uint("gasLimit"),
        eip1559_params=r.opt_hex("eip1559Params", 8) or b"\x00" * 8,
        operator_fee_params=r.opt_hex("operatorFeeParams", 32) or ZERO_HASH,
        min_base_fee=r.opt_uint("minBaseFee") or 0,
        da_footprint_gas_scalar=r.opt_uint("daFootprintGasScalar", hi=0xFFFF) or 0,
    )
    r.finish()
    return sc


def load_rollup_config(path: str | PathLike[str]) -> RollupConfig:
    """Read and parse a ``rollup.json`` file (does not call ``check()``)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise RollupConfigError(f"cannot read {p}: {e.strerror or e}") from None
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as e:
        raise RollupConfigError(f"{p}: not JSON: {e}") from None
    return RollupConfig.from_json(obj)


def dump_rollup_config(cfg: RollupConfig, path: str | PathLike[str]) -> None:
    """Write ``cfg`` as a ``rollup.json`` file (2-space indent, trailing newline)."""
    Path(path).write_text(dumps_rollup_config(cfg), encoding="utf-8")


def dumps_rollup_config(cfg: RollupConfig) -> str:
    """``cfg`` as ``rollup.json`` text (2-space indent, trailing newline)."""
    return json.dumps(cfg.to_json(), indent=2) + "\n"
