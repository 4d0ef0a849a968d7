"""The devnet ``rollup.json``: a :class:`pyop.config.RollupConfig` tying the L1 deployment and
the L2 genesis together.

Spec: specs/protocol/derivation.md (protocol parameters: sequencing window, channel timeout,
max sequencer drift), specs/protocol/system-config.md (``scalar``: the Ecotone encoding, version
byte 1, blob base fee scalar in bytes 24..28, base fee scalar in bytes 28..32),
specs/experimental/alt-da.md (``alt_da``). ``genesis.l1`` is the L1 block in which the
SystemConfig was initialized (the rollup starts there), ``genesis.l2`` the L2 genesis block,
``l2_time`` its timestamp (op-node ``rollup.Genesis``).
"""

from __future__ import annotations

from collections.abc import Mapping

from pyop.config import AltDAConfig, ChainOpConfig, Fork, Genesis, RollupConfig
from pyop.devnet.keys import DevKeys, dev_keys
from pyop.devnet.l1_deploy import Deployment
from pyop.devnet.l2_genesis import (
    DEFAULT_FORK_OFFSETS,
    SUPPORTED_FORKS,
    L2Genesis,
    L2GenesisConfig,
)
from pyop.primitives import BlockID, SystemConfig

DEFAULT_SEQ_WINDOW_SIZE = 20
"""Sequencing window in L1 blocks: small, so that a devnet shows safe-head progress (and
deposit-only fallback) quickly; 40 s at a 2 s L1 block time."""
DEFAULT_CHANNEL_TIMEOUT = 120
"""Pre-Granite channel timeout (L1 blocks); with Granite at genesis op-node uses 50."""
DEFAULT_MAX_SEQUENCER_DRIFT = 600
"""Pre-Fjord drift; from Fjord the constant 1800 applies."""


def ecotone_scalar(basefee_scalar: int, blobbasefee_scalar: int) -> bytes:
    """The Ecotone ``scalar`` word: ``0x01``, zero padding, u32 blob base fee scalar, u32 base
    fee scalar (specs/protocol/system-config.md "scalars")."""
    return (
        b"\x01"
        + b"\x00" * 23
        + blobbasefee_scalar.to_bytes(4, "big")
        + basefee_scalar.to_bytes(4, "big")
    )


def devnet_rollup_config(
    *,
    l1_genesis: BlockID,
    l2_genesis: BlockID,
    l2_time: int,
    system_config: SystemConfig,
    l1_chain_id: int,
    l2_chain_id: int,
    fork_times: Mapping[Fork, int | None],
    batch_inbox_address: bytes,
    deposit_contract_address: bytes,
    l1_system_config_address: bytes,
    protocol_versions_address: bytes | None = None,
    chain_op_config: ChainOpConfig | None = None,
    alt_da: AltDAConfig | None = None,
    block_time: int = 2,
    max_sequencer_drift: int = DEFAULT_MAX_SEQUENCER_DRIFT,
    seq_window_size: int = DEFAULT_SEQ_WINDOW_SIZE,
    channel_timeout: int = DEFAULT_CHANNEL_TIMEOUT,
) -> RollupConfig:
    """Build and ``check()`` the devnet rollup config (fork times are absolute L2 times)."""
    times = {f.json_key: fork_times.get(f) for f in SUPPORTED_FORKS}
    present = frozenset({"max_sequencer_drift"}) | (
        frozenset({"protocol_versions_address"}) if protocol_versions_address else frozenset()
    )
    cfg = RollupConfig(
        genesis=Genesis(l1=l1_genesis, l2=l2_genesis, l2_time=l2_time, system_config=system_config),
        block_time=block_time,
        max_sequencer_drift=max_sequencer_drift,
        seq_window_size=seq_window_size,
        channel_timeout=channel_timeout,
        l1_chain_id=l1_chain_id,
        l2_chain_id=l2_chain_id,
        batch_inbox_address=batch_inbox_address,
        deposit_contract_address=deposit_contract_address,
        l1_system_config_address=l1_system_config_address,
        protocol_versions_address=protocol_versions_address or b"\x00" * 20,
        alt_da=alt_da,
        chain_op_config=chain_op_config or ChainOpConfig(6, 50, 250),
        present=present,
        **times,  # type: ignore[arg-type]
    )
    cfg.check()
    return cfg


def _addr(s: str) -> bytes:
    return bytes.fromhex(s.removeprefix("0x"))


def l2_genesis_config_for(
    deployment: Deployment,
    *,
    keys: DevKeys | None = None,
    fork_offsets: Mapping[Fork, int | None] | None = None,
    extra_funded: tuple[bytes, ...] = (),
    gas_limit: int | None = None,
) -> L2GenesisConfig:
    """The L2 genesis inputs for an L1 ``deployment``: L1 bridge/messenger proxies, genesis time
    and gas limit from the deployment; the admin owns the L2 ProxyAdmin and receives the fee
    vaults; every dev key (plus ``extra_funded``) gets 10,000 ETH."""
    keys = keys or dev_keys()
    admin = _addr(deployment.admin)
    funded = tuple(k.address_bytes for k in keys.all()) + tuple(extra_funded)
    l1_erc721 = deployment.addresses.get("L1ERC721BridgeProxy")
    return L2GenesisConfig(
        l1_chain_id=deployment.l1_chain_id,
        l2_chain_id=deployment.l2_chain_id,
        l2_genesis_time=deployment.l2_genesis_time,
        l1_cross_domain_messenger_proxy=_addr(deployment.l1_cross_domain_messenger_proxy),
        l1_standard_bridge_proxy=_addr(deployment.l1_standard_bridge_proxy),
        l1_erc721_bridge_proxy=_addr(l1_erc721) if l1_erc721 else b"\x00" * 20,
        proxy_admin_owner=admin,
        sequencer_fee_vault_recipient=admin,
        base_fee_vault_recipient=admin,
        l1_fee_vault_recipient=admin,
        fork_offsets=dict(fork_offsets if fork_offsets is not None else DEFAULT_FORK_OFFSETS),
        gas_limit=gas_limit or deployment.genesis_system_config.gas_limit,
        funded_accounts=funded,
    )


def rollup_config_for(
    deployment: Deployment,
    genesis: L2Genesis,
    *,
    alt_da: AltDAConfig | None = None,
    block_time: int | None = None,
    seq_window_size: int = DEFAULT_SEQ_WINDOW_SIZE,
    channel_timeout: int = DEFAULT_CHANNEL_TIMEOUT,
    max_sequencer_drift: int = DEFAULT_MAX_SEQUENCER_DRIFT,
) -> RollupConfig:
    """The rollup config of an L1 ``deployment`` plus its L2 ``genesis``."""
    g = genesis.config
    pv = deployment.addresses.get("ProtocolVersionsProxy")
    return devnet_rollup_config(
        l1_genesis=deployment.start_block.id(),
        l2_genesis=BlockID(genesis.block_hash, 0),
        l2_time=g.l2_genesis_time,
        system_config=deployment.genesis_system_config,
        l1_chain_id=deployment.l1_chain_id,
        l2_chain_id=deployment.l2_chain_id,
        fork_times={f: g.fork_time(f) for f in SUPPORTED_FORKS},
        batch_inbox_address=_addr(deployment.batch_inbox_address),
        deposit_contract_address=_addr(deployment.optimism_portal_proxy),
        l1_system_config_address=_addr(deployment.system_config_proxy),
        protocol_versions_address=_addr(pv) if pv else None,
        chain_op_config=ChainOpConfig(
            g.eip1559_elasticity, g.eip1559_denominator, g.eip1559_denominator_canyon
        ),
        alt_da=alt_da,
        block_time=block_time or deployment.config.l2_block_time,
        max_sequencer_drift=max_sequencer_drift,
        seq_window_size=seq_window_size,
        channel_timeout=channel_timeout,
    )
