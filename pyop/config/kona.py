"""Read kona-format rollup configs (``kona_genesis::RollupConfig`` serde JSON) into ``RollupConfig``.

kona's JSON (e.g. the ``rollup_config`` of kona's executor fixtures, shared
``vectors/payloads/op-sepolia-block-*.json``) differs from op-node's ``rollup.json``:

- extra keys: ``granite_channel_timeout`` (must be 50 here: op-node has it as a constant),
  ``superchain_config_address`` (dropped), ``interop_message_expiry_window`` (kept only when not
  kona's default 3600), ``blobs_data`` / top-level ``da_challenge_address`` (must be unset),
  ``alt_da: null``; older kona wrote ``base_fee_params`` / ``canyon_base_fee_params``
  ``{elasticity_multiplier, max_change_denominator}`` instead of ``chain_op_config``;
- ``genesis.system_config`` carries kona's unpacked fields (``eip1559Denominator`` and
  ``eip1559Elasticity`` become op-node's ``eip1559Params``; ``minBaseFee``,
  ``daFootprintGasScalar`` map directly; base-fee/operator-fee scalars are not supported unless
  null), and ``overhead``/``scalar`` may be short hex (left-padded to 32 bytes);
- fork semantics: in kona a later fork implies every earlier one (``is_regolith_active`` is
  true once Canyon is). To keep predicate results equal under op-node's per-fork comparison,
  each fork time becomes the earliest time among it and every later fork that is set.
"""

from __future__ import annotations

from pyop.config.errors import RollupConfigError
from pyop.config.forks import CHANNEL_TIMEOUT_GRANITE, MAINLINE_FORKS, Fork
from pyop.config.jsonread import ObjectReader, check_int
from pyop.config.rollup import AltDAConfig, ChainOpConfig, Genesis, RollupConfig
from pyop.primitives import ZERO_ADDRESS, ZERO_HASH, BlockID, SystemConfig

KONA_DEFAULT_INTEROP_MESSAGE_EXPIRY_WINDOW = 3600

_KONA_FORK_ORDER: tuple[Fork, ...] = (*MAINLINE_FORKS, Fork.LAGOON)


def _quantity(r: ObjectReader, key: str) -> int | None:
    """An integer given as a JSON number or a hex/decimal string (alloy ``U64`` serde)."""
    v = r.raw(key, required=False)
    if v is None:
        return None
    if isinstance(v, str):
        t = v.strip()
        try:
            n = int(t[2:], 16) if t[:2] in ("0x", "0X") else int(t, 10)
        except ValueError:
            raise RollupConfigError(f"not a number: {v!r}", r.sub(key)) from None
        return check_int(n, r.sub(key))
    return check_int(v, r.sub(key))


def _u256_bytes32(r: ObjectReader, key: str) -> bytes:
    v = r.raw(key, required=True)
    if not isinstance(v, str) or v[:2] not in ("0x", "0X"):
        raise RollupConfigError(f"expected 0x-prefixed hex, got {v!r}", r.sub(key))
    try:
        n = int(v[2:] or "0", 16)
    except ValueError:
        raise RollupConfigError(f"not hex: {v!r}", r.sub(key)) from None
    if n >= 2**256:
        raise RollupConfigError("value exceeds 32 bytes", r.sub(key))
    return n.to_bytes(32, "big")


def _system_config(r: ObjectReader) -> SystemConfig:
    batcher_key = "batcherAddr" if r.present("batcherAddr") else "batcherAddress"
    for unsupported in ("baseFeeScalar", "blobBaseFeeScalar", "operatorFeeScalar",
                        "operatorFeeConstant"):
        if r.raw(unsupported, required=False) is not None:
            raise RollupConfigError("non-null value not supported", r.sub(unsupported))
    denom = r.opt_uint("eip1559Denominator", hi=2**32 - 1)
    elast = r.opt_uint("eip1559Elasticity", hi=2**32 - 1)
    if (denom is None) != (elast is None):
        raise RollupConfigError("eip1559Denominator and eip1559Elasticity must be set together",
                                r.path)
    params = b"\x00" * 8
    if denom is not None and elast is not None:
        params = denom.to_bytes(4, "big") + elast.to_bytes(4, "big")
    sc = SystemConfig(
        batcher_addr=r.hex(batcher_key, 20),
        overhead=_u256_bytes32(r, "overhead"),
        scalar=_u256_bytes32(r, "scalar"),
        gas_limit=r.uint("gasLimit"),
        eip1559_params=params,
        operator_fee_params=ZERO_HASH,
        min_base_fee=r.opt_uint("minBaseFee") or 0,
        da_footprint_gas_scalar=r.opt_uint("daFootprintGasScalar", hi=0xFFFF) or 0,
    )
    r.finish()
    return sc


def _chain_op_config(top: ObjectReader) -> ChainOpConfig | None:
    c = top.opt_obj("chain_op_config")
    if c is not None:
        cfg = ChainOpConfig(
            eip1559_elasticity=_required(_quantity(c, "eip1559Elasticity"), c, "eip1559Elasticity"),
            eip1559_denominator=_required(
                _quantity(c, "eip1559Denominator"), c, "eip1559Denominator"
            ),
            eip1559_denominator_canyon=_quantity(c, "eip1559DenominatorCanyon"),
        )
        c.finish()
        top.skip("base_fee_params", "canyon_base_fee_params")
        return cfg
    b = top.opt_obj("base_fee_params")
    if b is None:
        top.skip("canyon_base_fee_params")
        return None
    elasticity = _required(_quantity(b, "elasticity_multiplier"), b, "elasticity_multiplier")
    denominator = _required(_quantity(b, "max_change_denominator"), b, "max_change_denominator")
    b.finish()
    canyon = None
    cb = top.opt_obj("canyon_base_fee_params")
    if cb is not None:
        canyon = _required(_quantity(cb, "max_change_denominator"), cb, "max_change_denominator")
        cb.skip("elasticity_multiplier")
        cb.finish()
    return ChainOpConfig(elasticity, denominator, canyon)


def _required(v: int | None, r: ObjectReader, key: str) -> int:
    if v is None:
        raise RollupConfigError("required field is missing", r.sub(key))
    return v


def rollup_config_from_kona_json(obj: object) -> RollupConfig:
    """Convert a kona-format rollup config object (see module doc) to a ``RollupConfig``."""
    top = ObjectReader(obj, "")
    g = top.obj("genesis")
    l1, l2 = g.obj("l1"), g.obj("l2")
    genesis = Genesis(
        l1=BlockID(l1.hex("hash", 32), l1.uint("number")),
        l2=BlockID(l2.hex("hash", 32), l2.uint("number")),
        l2_time=g.uint("l2_time"),
        system_config=_system_config(g.obj("system_config")),
    )
    l1.finish()
    l2.finish()
    g.finish()

    gct = top.opt_uint("granite_channel_timeout")
    if gct is not None and gct != CHANNEL_TIMEOUT_GRANITE:
        raise RollupConfigError(
            f"only {CHANNEL_TIMEOUT_GRANITE} is supported (op-node constant)",
            "granite_channel_timeout",
        )
    top.skip("superchain_config_address")
    if top.raw("blobs_data", required=False) is not None:
        raise RollupConfigError("not supported (blobs follow ecotone_time)", "blobs_data")
    da = top.opt_hex("da_challenge_address", 20)
    if da is not None and da != ZERO_ADDRESS:
        raise RollupConfigError("set the address in alt_da instead", "da_challenge_address")
    window = top.opt_uint("interop_message_expiry_window")
    if window == KONA_DEFAULT_INTEROP_MESSAGE_EXPIRY_WINDOW:
        window = None

    times: dict[Fork, int | None] = {f: top.opt_uint(f.json_key) for f in Fork}
    # kona spells the Lagoon fork by its pre-rename name (op-node v1.19: interop -> lagoon).
    interop = top.opt_uint("interop_time")
    if interop is not None:
        if times[Fork.LAGOON] is not None:
            raise RollupConfigError("both interop_time and lagoon_time set", "interop_time")
        times[Fork.LAGOON] = interop
    earliest: int | None = None
    for f in reversed(_KONA_FORK_ORDER):
        t = times[f]
        if t is not None and (earliest is None or t < earliest):
            earliest = t
        times[f] = earliest

    alt_da = None
    a = top.opt_obj("alt_da")
    if a is not None:
        addr_key = (
            "da_challenge_address" if a.present("da_challenge_address")
            else "da_challenge_contract_address"
        )
        ctype = a.raw("da_commitment_type", required=False)
        if ctype is not None and not isinstance(ctype, str):
            raise RollupConfigError("expected a string", a.sub("da_commitment_type"))
        alt_da = AltDAConfig(
            da_challenge_address=a.opt_hex(addr_key, 20) or ZERO_ADDRESS,
            da_commitment_type=ctype or "KeccakCommitment",
            da_challenge_window=a.opt_uint("da_challenge_window") or 0,
            da_resolve_window=a.opt_uint("da_resolve_window") or 0,
        )
        a.finish()

    cfg = RollupConfig(
        genesis=genesis,
        block_time=top.uint("block_time"),
        max_sequencer_drift=top.uint("max_sequencer_drift"),
        seq_window_size=top.uint("seq_window_size"),
        channel_timeout=top.uint("channel_timeout"),
        l1_chain_id=top.uint("l1_chain_id", hi=None),
        l2_chain_id=top.uint("l2_chain_id", hi=None),
        regolith_time=times[Fork.REGOLITH],
        canyon_time=times[Fork.CANYON],
        delta_time=times[Fork.DELTA],
        ecotone_time=times[Fork.ECOTONE],
        fjord_time=times[Fork.FJORD],
        granite_time=times[Fork.GRANITE],
        holocene_time=times[Fork.HOLOCENE],
        isthmus_time=times[Fork.ISTHMUS],
        jovian_time=times[Fork.JOVIAN],
        karst_time=times[Fork.KARST],
        lagoon_time=times[Fork.LAGOON],
        batch_inbox_address=top.hex("batch_inbox_address", 20),
        deposit_contract_address=top.hex("deposit_contract_address", 20),
        l1_system_config_address=top.hex("l1_system_config_address", 20),
        protocol_versions_address=top.opt_hex("protocol_versions_address", 20) or ZERO_ADDRESS,
        alt_da=alt_da,
        chain_op_config=_chain_op_config(top),
        pectra_blob_schedule_time=top.opt_uint("pectra_blob_schedule_time"),
        interop_message_expiry_window=window,
    )
    top.finish()
    return cfg
