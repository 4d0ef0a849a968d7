"""Floor 0: the rollup configuration (``rollup.json``), fork predicates and constants, and
network presets.

    from pyop.config import RollupConfig, load_rollup_config, network_config
    cfg = network_config("op-mainnet")
    cfg.is_holocene(ts); cfg.is_first_jovian_block(ts); cfg.channel_timeout_at(l1_ts)
"""

from pyop.config.errors import RollupConfigError
from pyop.config.forks import (
    CHANNEL_TIMEOUT_GRANITE,
    MAINLINE_FORKS,
    MAX_CHANNEL_BANK_SIZE_BEDROCK,
    MAX_CHANNEL_BANK_SIZE_FJORD,
    MAX_FRAME_LEN,
    MAX_RLP_BYTES_PER_CHANNEL_BEDROCK,
    MAX_RLP_BYTES_PER_CHANNEL_FJORD,
    MAX_SEQUENCER_DRIFT_FJORD,
    MAX_SPAN_BATCH_ELEMENT_COUNT,
    Fork,
)
from pyop.config.networks import (
    network_chain_name,
    network_config,
    network_name_for_chain_id,
    network_names,
)
from pyop.config.rollup import (
    GENERIC_COMMITMENT,
    KECCAK_COMMITMENT,
    AltDAConfig,
    ChainOpConfig,
    Genesis,
    RollupConfig,
    dump_rollup_config,
    dumps_rollup_config,
    load_rollup_config,
)

__all__ = [
    "CHANNEL_TIMEOUT_GRANITE",
    "GENERIC_COMMITMENT",
    "KECCAK_COMMITMENT",
    "MAINLINE_FORKS",
    "MAX_CHANNEL_BANK_SIZE_BEDROCK",
    "MAX_CHANNEL_BANK_SIZE_FJORD",
    "MAX_FRAME_LEN",
    "MAX_RLP_BYTES_PER_CHANNEL_BEDROCK",
    "MAX_RLP_BYTES_PER_CHANNEL_FJORD",
    "MAX_SEQUENCER_DRIFT_FJORD",
    "MAX_SPAN_BATCH_ELEMENT_COUNT",
    "AltDAConfig",
    "ChainOpConfig",
    "Fork",
    "Genesis",
    "RollupConfig",
    "RollupConfigError",
    "dump_rollup_config",
    "dumps_rollup_config",
    "load_rollup_config",
    "network_chain_name",
    "network_config",
    "network_name_for_chain_id",
    "network_names",
]
