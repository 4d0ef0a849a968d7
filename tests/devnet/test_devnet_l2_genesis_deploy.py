"""End to end on the L1 side: deploy the OP L1 contracts on an automining anvil, derive the L2
genesis inputs and rollup.json from that deployment, and check they agree with it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pyop.config import RollupConfig
from pyop.devnet.anvil import start_anvil
from pyop.devnet.keys import dev_keys
from pyop.devnet.l1_deploy import DeployConfig, Deployment, deploy_l1_contracts
from pyop.devnet.l2_genesis import EIP1967_IMPLEMENTATION_SLOT, build_l2_genesis, code_namespace
from pyop.devnet.rollup_json import ecotone_scalar, l2_genesis_config_for, rollup_config_for
from pyop.protocol import predeploys as pd


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    tmp: Path = tmp_path_factory.mktemp("l1")
    anvil = start_anvil(tmp, block_time=None, chain_id=900)
    try:
        yield deploy_l1_contracts(anvil.rpc_url, dev_keys(), DeployConfig())
    finally:
        anvil.stop()


def test_rollup_config_from_deployment(deployment: Deployment) -> None:
    keys = dev_keys()
    gcfg = l2_genesis_config_for(deployment, keys=keys)
    genesis = build_l2_genesis(gcfg)
    assert genesis.config.l2_genesis_time == deployment.l2_genesis_time
    for k in keys.all():
        assert genesis.alloc[k.address_bytes].balance == 10_000 * 10**18
    xdm_impl = genesis.alloc[pd.L2_CROSS_DOMAIN_MESSENGER]
    assert xdm_impl.storage[EIP1967_IMPLEMENTATION_SLOT] == int.from_bytes(
        code_namespace(pd.L2_CROSS_DOMAIN_MESSENGER), "big"
    )
    l1_xdm = int(deployment.l1_cross_domain_messenger_proxy, 16)
    assert l1_xdm in xdm_impl.storage.values()

    cfg = rollup_config_for(deployment, genesis)
    cfg.check()
    assert cfg.genesis.l1 == deployment.start_block.id()
    assert cfg.genesis.l2.hash == genesis.block_hash and cfg.genesis.l2.number == 0
    assert cfg.genesis.l2_time == genesis.header.timestamp
    dc = deployment.config
    assert cfg.genesis.system_config.scalar == ecotone_scalar(dc.basefee_scalar, dc.blobbasefee_scalar)
    assert cfg.genesis.system_config.gas_limit == genesis.header.gas_limit
    assert cfg.deposit_contract_address.hex() == deployment.optimism_portal_proxy[2:].lower()
    assert cfg.l1_system_config_address.hex() == deployment.system_config_proxy[2:].lower()
    assert RollupConfig.from_json(cfg.to_json()) == cfg
