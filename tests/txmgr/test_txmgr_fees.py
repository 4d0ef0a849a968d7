"""Fee arithmetic of pyop.txmgr against the Go reference's own tables.

Expected values: optimism v1.19.6 op-service/txmgr/price_bump_test.go ``TestUpdateFees`` and
op-geth v1.101702.3-rc.7 consensus/misc/eip4844/eip4844_test.go ``TestFakeExponential`` /
``TestCalcBlobFee`` (Cancun schedule, fraction 3338477).
"""

from __future__ import annotations

import pytest

from pyop.txmgr.errors import BlobFeeLimitError, FeeLimitError
from pyop.txmgr.fees import (
    CANCUN_UPDATE_FRACTION,
    blob_base_fee_from_excess,
    calc_blob_fee_cap,
    calc_gas_fee_cap,
    calc_threshold_value,
    check_blob_fee_limits,
    check_limits,
    fake_exponential,
    update_fees,
)

# (prevGasTip, prevBaseFee, newGasTip, newBaseFee, expectedTip, expectedFC, isBlobTx)
GO_UPDATE_FEES = [
    (100, 1000, 90, 900, 110, 2310, False),
    (100, 1000, 90, 900, 200, 4200, True),
    (100, 1000, 101, 1000, 110, 2310, False),
    (100, 1000, 101, 1000, 200, 4200, True),
    (100, 1000, 100, 1001, 110, 2310, False),
    (100, 1000, 100, 1001, 200, 4200, True),
    (100, 1000, 101, 900, 110, 2310, False),
    (100, 1000, 101, 900, 200, 4200, True),
    (100, 1000, 90, 1010, 110, 2310, False),
    (100, 1000, 90, 1010, 200, 4200, True),
    (100, 1000, 101, 2000, 110, 4110, False),
    (100, 1000, 101, 3000, 200, 6200, True),
    (100, 1000, 120, 900, 120, 2310, False),
    (100, 1000, 220, 900, 220, 4200, True),
    (100, 1000, 120, 1100, 120, 2320, False),
    (100, 1000, 220, 2000, 220, 4220, True),
    (100, 1000, 120, 1140, 120, 2400, False),
    (100, 1000, 220, 2040, 220, 4300, True),
    (100, 1000, 120, 1200, 120, 2520, False),
    (100, 1000, 220, 2100, 220, 4420, True),
]


@pytest.mark.parametrize("prev_tip,prev_base,new_tip,new_base,want_tip,want_fc,blob", GO_UPDATE_FEES)
def test_update_fees_matches_go(prev_tip: int, prev_base: int, new_tip: int, new_base: int,
                                want_tip: int, want_fc: int, blob: bool) -> None:  # fmt: skip
    prev_fc = calc_gas_fee_cap(prev_base, prev_tip)
    assert update_fees(prev_tip, prev_fc, new_tip, new_base, blob) == (want_tip, want_fc)


def test_threshold_is_a_ceiling_and_at_least_plus_one() -> None:
    assert calc_threshold_value(100, False) == 110
    assert calc_threshold_value(101, False) == 112  # ceil(111.1)
    assert calc_threshold_value(1, False) == 2  # 1.1 rounds up: a replacement always pays more
    assert calc_threshold_value(100, True) == 200
    assert calc_threshold_value(0, False) == 0


def test_fee_cap_is_tip_plus_twice_base_fee() -> None:
    assert calc_gas_fee_cap(base_fee=1000, tip_cap=7) == 2007


# op-geth TestFakeExponential
GO_FAKE_EXP = [
    (1, 0, 1, 1), (38493, 0, 1000, 38493), (0, 1234, 2345, 0), (1, 2, 1, 6), (1, 4, 2, 6),
    (1, 3, 1, 16), (1, 6, 2, 18), (1, 4, 1, 49), (1, 8, 2, 50), (10, 8, 2, 542), (11, 8, 2, 596),
    (1, 5, 1, 136), (1, 5, 2, 11), (2, 5, 2, 23), (1, 50000000, 2225652, 5709098764),
]  # fmt: skip


@pytest.mark.parametrize("factor,num,den,want", GO_FAKE_EXP)
def test_fake_exponential_matches_geth(factor: int, num: int, den: int, want: int) -> None:
    assert fake_exponential(factor, num, den) == want


@pytest.mark.parametrize("excess,fee", [(0, 1), (2314057, 1), (2314058, 2), (10 * 1024 * 1024, 23)])
def test_blob_base_fee_from_excess_matches_geth_cancun(excess: int, fee: int) -> None:
    assert blob_base_fee_from_excess(excess, CANCUN_UPDATE_FRACTION) == fee


def test_check_limits_multiplier_and_threshold() -> None:
    # suggested tip 10, base 100, multiplier 5 -> max tip 50, max fee 50 + 2*500 = 1050
    check_limits(10, 100, 50, 1050, 5, None)
    with pytest.raises(FeeLimitError, match="tip cap 51"):
        check_limits(10, 100, 51, 1050, 5, None)
    with pytest.raises(FeeLimitError, match="fee cap 1051"):
        check_limits(10, 100, 50, 1051, 5, None)
    # below the threshold anything goes
    check_limits(10, 100, 10_000, 10_000, 5, 10_001)


def test_blob_fee_cap_and_limit() -> None:
    assert calc_blob_fee_cap(3, 10**9) == 10**9  # geth's 1 gwei minimum
    assert calc_blob_fee_cap(10**10, 10**9) == 2 * 10**10
    check_blob_fee_limits(10**10, 10 * 10**10, 5, None, 10**9)
    with pytest.raises(BlobFeeLimitError):
        check_blob_fee_limits(10**10, 10 * 10**10 + 1, 5, None, 10**9)


def test_blob_fee_schedule_follows_the_l1_bpo_forks() -> None:
    """Sepolia's update fraction by L1 time (op-geth v1.101702.3-rc.7 params/config.go:
    Prague 1741159776, BPO1 1761017184 with 8346193, BPO2 1761607008 with 11684671); an unknown
    L1 (the devnet's 900) uses Prague's 5007716."""
    from pyop.txmgr.fees import default_blob_fee_schedule

    sep = default_blob_fee_schedule(11155111)
    assert sep.fraction_at(1741159776) == 5_007_716
    assert sep.fraction_at(1761017184) == 8_346_193
    assert sep.fraction_at(1761607008) == 11_684_671
    assert default_blob_fee_schedule(900).fraction_at(0) == 5_007_716
