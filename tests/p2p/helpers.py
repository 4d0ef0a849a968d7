"""Small builders for the p2p unit tests."""

from __future__ import annotations

from collections.abc import Mapping

from pyop.config import RollupConfig
from pyop.config.forks import Fork
from pyop.config.rollup import Genesis
from pyop.primitives import BlockID, SystemConfig


def rollup_config(*, chain_id: int = 901, forks: Mapping[Fork, int] | None = None, block_time: int = 2) -> RollupConfig:
    """A rollup config with the given L2 chain id and fork times (others unset)."""
    times = {f"{f.value}_time": t for f, t in (forks or {}).items()}
    return RollupConfig(
        genesis=Genesis(BlockID(b"\x01" * 32, 0), BlockID(b"\x02" * 32, 0), 0,
                        SystemConfig(b"\x03" * 20, b"\x00" * 32, b"\x00" * 32, 30_000_000)),
        block_time=block_time, seq_window_size=100, channel_timeout=50, l1_chain_id=900,
        l2_chain_id=chain_id, batch_inbox_address=b"\x04" * 20, deposit_contract_address=b"\x05" * 20,
        l1_system_config_address=b"\x06" * 20, **times,
    )  # fmt: skip
