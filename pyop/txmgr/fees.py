"""Fee arithmetic of the transaction manager (op-service/txmgr/txmgr.go) and the L1 blob base
fee (EIP-4844).

EIP-1559 fee caps (Go ``calcGasFeeCap``): ``gasFeeCap = gasTipCap + 2 * baseFee``, so the tx
stays includable while the base fee doubles (six full blocks of +12.5%).

Replacement (geth's txpool rules, Go ``priceBump`` / ``blobPriceBump``): a replacement for a
pending transaction with the same nonce must raise both the tip and the fee cap by at least
10%, and for a blob transaction (EIP-4844 blob pool) by 100%, also its blob fee cap.
``calc_threshold_value`` is ``ceil(x * (100 + bump) / 100)``; ``update_fees`` picks the new
caps (Go ``updateFees``).

Limits (Go ``checkLimits`` / ``checkBlobFeeLimits``): a bumped fee may not pass
``fee_limit_multiplier`` times the currently suggested one, unless it is below
``fee_limit_threshold`` (so test networks with tiny fees can bump freely).

The L1 blob base fee comes from the L1 (``eth_blobBaseFee``, the fee for the next block); when
the L1 does not serve it, :func:`blob_base_fee_from_excess` computes it from a header's
``excessBlobGas`` with EIP-4844's ``fake_exponential`` and the update fraction of the L1 fork in
force (Cancun 3338477, Prague/Osaka 5007716 (EIP-7691), BPO1 8346193, BPO2 11684671
(EIP-7892)). Which fraction applies comes from the L1 blob schedule
(:func:`default_blob_fee_schedule`: pyop.config's built-in schedule of a public L1 by chain id,
else Prague's fraction, the devnet L1's fork).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from pyop.config.l1_chains import builtin_l1_blob_schedule
from pyop.txmgr.errors import BlobFeeLimitError, FeeLimitError

PRICE_BUMP = 10
"""Minimum fee bump in percent to replace a pending transaction (geth txpool)."""
BLOB_PRICE_BUMP = 100
"""Minimum fee bump in percent to replace a pending blob transaction (geth blobpool)."""
MIN_BLOB_BASE_FEE = 1
"""EIP-4844 ``MIN_BASE_FEE_PER_BLOB_GAS``."""
GAS_PER_BLOB = 2**17
"""EIP-4844 ``GAS_PER_BLOB``."""
CANCUN_UPDATE_FRACTION = 3_338_477
PRAGUE_UPDATE_FRACTION = 5_007_716

__all__ = [
    "BLOB_PRICE_BUMP",
    "GAS_PER_BLOB",
    "PRICE_BUMP",
    "BlobFeeSchedule",
    "GasPriceCaps",
    "blob_base_fee_from_excess",
    "calc_blob_fee_cap",
    "calc_gas_fee_cap",
    "calc_threshold_value",
    "check_blob_fee_limits",
    "check_limits",
    "default_blob_fee_schedule",
    "fake_exponential",
    "update_fees",
]


@dataclass(frozen=True, slots=True)
class GasPriceCaps:
    """What :meth:`TxManager.suggest_gas_price_caps` returns (Go ``SuggestGasPriceCaps``):
    the tip, base fee, blob tip and blob base fee, min/max limits applied; wei."""

    tip_cap: int
    base_fee: int
    blob_tip_cap: int
    blob_base_fee: int


def calc_gas_fee_cap(base_fee: int, tip_cap: int) -> int:
    """``gasTipCap + 2 * baseFee`` (Go ``calcGasFeeCap``)."""
    return tip_cap + 2 * base_fee


def calc_threshold_value(x: int, is_blob_tx: bool) -> int:
    """The least value a replacement must offer: ``ceil(x * (100 + bump) / 100)`` with a 10%
    bump, 100% for blob transactions; at least ``x + 1`` for ``x > 0`` (Go
    ``calcThresholdValue``)."""
    pct = 100 + (BLOB_PRICE_BUMP if is_blob_tx else PRICE_BUMP)
    return (pct * x + 99) // 100


def update_fees(old_tip: int, old_fee_cap: int, new_tip: int, new_base_fee: int,
                is_blob_tx: bool) -> tuple[int, int]:  # fmt: skip
    """The tip and fee cap of a replacement (Go ``updateFees``): each at least the replacement
    threshold of the old one, the tip at least the new suggestion, and the fee cap at least
    ``calc_gas_fee_cap(new_base_fee, tip)`` when the base fee went up."""
    new_fee_cap = calc_gas_fee_cap(new_base_fee, new_tip)
    threshold_tip = calc_threshold_value(old_tip, is_blob_tx)
    threshold_fee_cap = calc_threshold_value(old_fee_cap, is_blob_tx)
    if new_tip >= threshold_tip and new_fee_cap >= threshold_fee_cap:
        return new_tip, new_fee_cap
    if new_tip >= threshold_tip:
        # the tip went up, the base fee is flat or down
        return new_tip, threshold_fee_cap
    if new_fee_cap >= threshold_fee_cap:
        # the base fee went up, the tip did not: recompute the fee cap so enough of it pays
        # the base fee
        return threshold_tip, calc_gas_fee_cap(new_base_fee, threshold_tip)
    return threshold_tip, threshold_fee_cap


def check_limits(tip: int, base_fee: int, bumped_tip: int, bumped_fee_cap: int,
                 fee_limit_multiplier: int, fee_limit_threshold: int | None) -> None:  # fmt: skip
    """Raise :class:`FeeLimitError` if a bumped tip or fee cap is above ``multiplier`` times the
    suggestion (and not below ``fee_limit_threshold``) (Go ``checkLimits``)."""
    max_tip = tip * fee_limit_multiplier
    max_fee = calc_gas_fee_cap(base_fee * fee_limit_multiplier, max_tip)
    errs = []
    for value, limit, name in ((bumped_tip, max_tip, "tip"), (bumped_fee_cap, max_fee, "fee")):
        if fee_limit_threshold is not None and fee_limit_threshold > value:
            continue
        if value > limit:
            errs.append(f"bumped {name} cap {value} is over {fee_limit_multiplier}x multiple of "
                        "the suggested value")  # fmt: skip
    if errs:
        raise FeeLimitError("; ".join(errs))


def calc_blob_fee_cap(blob_base_fee: int, min_blob_tx_fee: int) -> int:
    """Twice the blob base fee, at least ``min_blob_tx_fee`` (Go ``calcBlobFeeCap``)."""
    return max(2 * blob_base_fee, min_blob_tx_fee)


def check_blob_fee_limits(blob_base_fee: int, bumped_blob_fee_cap: int, fee_limit_multiplier: int,
                          fee_limit_threshold: int | None, min_blob_tx_fee: int) -> None:  # fmt: skip
    """Raise :class:`BlobFeeLimitError` if a bumped blob fee cap passes ``multiplier`` times
    the suggested blob fee cap (Go ``checkBlobFeeLimits``)."""
    if fee_limit_threshold is not None and fee_limit_threshold > bumped_blob_fee_cap:
        return
    limit = calc_blob_fee_cap(blob_base_fee, min_blob_tx_fee) * fee_limit_multiplier
    if bumped_blob_fee_cap > limit:
        raise BlobFeeLimitError(f"bumped blob fee {bumped_blob_fee_cap} is over "
                                f"{fee_limit_multiplier}x multiple of the suggested value")  # fmt: skip


# ----------------------------------------------------------------------- L1 blob base fee


def fake_exponential(factor: int, numerator: int, denominator: int) -> int:
    """EIP-4844 ``fake_exponential``: ``factor * e ** (numerator / denominator)`` in integers."""
    i = 1
    output = 0
    acc = factor * denominator
    while acc > 0:
        output += acc
        acc = (acc * numerator) // (denominator * i)
        i += 1
    return output // denominator


def blob_base_fee_from_excess(excess_blob_gas: int, update_fraction: int) -> int:
    """EIP-4844 ``get_base_fee_per_blob_gas`` of a header with ``excess_blob_gas``."""
    return fake_exponential(MIN_BLOB_BASE_FEE, excess_blob_gas, update_fraction)


class BlobFeeSchedule(Protocol):
    """An L1 blob schedule: the ``BLOB_BASE_FEE_UPDATE_FRACTION`` in force at an L1 time
    (pyop.config's L1 blob schedules have this method)."""

    def fraction_at(self, l1_timestamp: int) -> int: ...


class PragueBlobFeeSchedule:
    """Prague's update fraction at every time (the devnet L1 runs Prague from genesis)."""

    def fraction_at(self, l1_timestamp: int) -> int:
        return PRAGUE_UPDATE_FRACTION


def default_blob_fee_schedule(l1_chain_id: int) -> BlobFeeSchedule:
    """The built-in blob schedule of a public L1 (mainnet, Sepolia, Holesky, Hoodi: Cancun
    through BPO2, :func:`pyop.config.l1_chains.builtin_l1_blob_schedule`), else Prague's."""
    sched = builtin_l1_blob_schedule(l1_chain_id)
    return sched if sched is not None else PragueBlobFeeSchedule()
