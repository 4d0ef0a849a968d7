"""The devnet L2 genesis and rollup.json, checked against op-geth itself: the genesis block hash
and state root computed in Python must equal what ``geth init`` writes, and the predeploys must
answer as configured on a running op-geth."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import eth_abi
import pytest
from eth_hash.auto import keccak

from pyop.config import AltDAConfig, Fork, RollupConfig, load_rollup_config
from pyop.config.rollup import GENERIC_COMMITMENT, dump_rollup_config
from pyop.devnet.geth import (
    find_geth,
    geth_init,
    init_genesis_hash_prefix,
    start_op_geth,
    write_jwt_secret,
)
from pyop.devnet.l2_genesis import (
    DEFAULT_FORK_OFFSETS,
    EIP1967_ADMIN_SLOT,
    EIP1967_IMPLEMENTATION_SLOT,
    SUPPORTED_FORKS,
    L2Genesis,
    L2GenesisConfig,
    L2GenesisError,
    build_l2_genesis,
    chain_config,
    code_namespace,
)
from pyop.devnet.rollup_json import devnet_rollup_config, ecotone_scalar
from pyop.primitives import BlockID, SystemConfig
from pyop.protocol import predeploys as pd

L1_XDM = bytes.fromhex("1111111111111111111111111111111111111111")
L1_BRIDGE = bytes.fromhex("2222222222222222222222222222222222222222")
L1_721 = bytes.fromhex("3333333333333333333333333333333333333333")
OWNER = bytes.fromhex("4444444444444444444444444444444444444444")
VAULT = bytes.fromhex("5555555555555555555555555555555555555555")
USER = bytes.fromhex("6666666666666666666666666666666666666666")
GENESIS_TIME = 1_750_000_000

GETH = find_geth()
NEEDS_GETH = pytest.mark.skipif(
    GETH is None,
    reason="op-geth not found at ~/.cache/pyop/peers/*/bin/geth ($PYOP_GETH unset): the Go "
    "peers are not built on this machine (see interop/go/BUILD-NOTES.md)",
)


def make_cfg(**kw: object) -> L2GenesisConfig:
    base: dict[str, object] = dict(
        l1_chain_id=900,
        l2_chain_id=901,
        l2_genesis_time=GENESIS_TIME,
        l1_cross_domain_messenger_proxy=L1_XDM,
        l1_standard_bridge_proxy=L1_BRIDGE,
        l1_erc721_bridge_proxy=L1_721,
        proxy_admin_owner=OWNER,
        sequencer_fee_vault_recipient=VAULT,
        base_fee_vault_recipient=VAULT,
        l1_fee_vault_recipient=VAULT,
        funded_accounts=(USER,),
    )
    base.update(kw)
    return L2GenesisConfig(**base)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def genesis() -> L2Genesis:
    return build_l2_genesis(make_cfg())


@pytest.fixture(scope="module")
def genesis_jovian() -> L2Genesis:
    offsets = {f: 0 for f in Fork if f not in (Fork.KARST, Fork.LAGOON)}
    return build_l2_genesis(make_cfg(fork_offsets=offsets, min_base_fee=1000))


def _word(a: bytes) -> int:
    return int.from_bytes(a, "big")


# ------------------------------------------------------------------------------- pure checks


def test_chain_config_fields(genesis: L2Genesis) -> None:
    cc = chain_config(genesis.config)
    assert cc["chainId"] == 901
    assert cc["shanghaiTime"] == cc["canyonTime"] == GENESIS_TIME
    assert cc["cancunTime"] == cc["ecotoneTime"] == GENESIS_TIME
    assert cc["pragueTime"] == cc["isthmusTime"] == GENESIS_TIME + 180
    assert cc["jovianTime"] == GENESIS_TIME + 300
    assert "deltaTime" not in cc and "blobSchedule" not in cc
    assert cc["terminalTotalDifficulty"] == 0 and cc["bedrockBlock"] == 0
    assert cc["optimism"] == {
        "eip1559Elasticity": 6,
        "eip1559Denominator": 50,
        "eip1559DenominatorCanyon": 250,
    }
    j = genesis.to_json()
    assert j["extraData"] == "0x00000000fa00000006"  # Holocene v0: denominator 250, elasticity 6
    assert j["coinbase"] == "0x" + pd.SEQUENCER_FEE_VAULT.hex()


def test_karst_chain_config_and_schedule_checks() -> None:
    """Karst after genesis: ``karstTime`` and ``osakaTime`` (op-node v1.19.6 calls
    engine_getPayloadV5 from Karst, which op-geth serves only under Osaka); at genesis refused
    (the alloc holds pre-Karst predeploys)."""
    offsets = {**DEFAULT_FORK_OFFSETS, Fork.KARST: 400}
    cfg = make_cfg(fork_offsets=offsets)
    cfg.check()
    cc = chain_config(cfg)
    assert cc["karstTime"] == cc["osakaTime"] == GENESIS_TIME + 400
    assert "osakaTime" not in chain_config(make_cfg())
    with pytest.raises(L2GenesisError, match="Karst at genesis"):
        make_cfg(fork_offsets={f: 0 for f in SUPPORTED_FORKS}).check()
    with pytest.raises(L2GenesisError, match="not supported"):
        make_cfg(fork_offsets={**offsets, Fork.LAGOON: 500}).check()


def test_alloc_layout(genesis: L2Genesis) -> None:
    alloc = genesis.alloc
    proxies = [a for a in alloc if a[:2] == b"\x42\x00" and int.from_bytes(a, "big") >> 11
               == int.from_bytes(pd.LEGACY_MESSAGE_PASSER, "big") >> 11]  # fmt: skip
    assert len(proxies) == 2048 - 1  # all but WETH (no governance token)
    proxy_code = alloc[pd.L1_BLOCK].code
    for a in proxies:
        if a == pd.WETH9:
            continue
        assert alloc[a].code == proxy_code
        assert alloc[a].storage[EIP1967_ADMIN_SLOT] == _word(pd.PROXY_ADMIN)
    assert alloc[pd.L1_BLOCK].storage[EIP1967_IMPLEMENTATION_SLOT] == _word(
        code_namespace(pd.L1_BLOCK)
    )
    assert EIP1967_IMPLEMENTATION_SLOT not in alloc[pd.OPERATOR_FEE_VAULT].storage
    assert alloc[pd.WETH9].code and alloc[pd.WETH9].code != proxy_code
    assert alloc[pd.PROXY_ADMIN].storage[0] == _word(OWNER)
    assert alloc[USER].balance == 10_000 * 10**18
    assert all(alloc[i.to_bytes(20, "big")].balance == 1 for i in range(256))
    assert alloc[pd.BEACON_ROOTS].nonce == 1 and alloc[pd.BEACON_ROOTS].code
    assert alloc[pd.CREATE2_DEPLOYER].code
    assert alloc[pd.EIP4788_DEPLOYER].nonce == 1
    assert pd.HISTORY_STORAGE not in alloc  # Isthmus is not at genesis by default
    # Immutables were set by real constructors: the recipient appears in the vault's code.
    assert VAULT in alloc[code_namespace(pd.SEQUENCER_FEE_VAULT)].code


def test_fork_schedule_checks() -> None:
    with pytest.raises(L2GenesisError):
        make_cfg(fork_offsets={Fork.REGOLITH: 0, Fork.CANYON: None, Fork.DELTA: 0}).check()
    with pytest.raises(L2GenesisError):
        make_cfg(fork_offsets={Fork.REGOLITH: 0, Fork.CANYON: 10, Fork.DELTA: 5}).check()
    with pytest.raises(L2GenesisError):  # Ecotone is required at genesis
        make_cfg(fork_offsets={Fork.REGOLITH: 0, Fork.CANYON: 0}).check()


def test_build_is_reproducible(genesis: L2Genesis) -> None:
    assert build_l2_genesis(genesis.config).block_hash == genesis.block_hash


def test_jovian_genesis_header(genesis_jovian: L2Genesis) -> None:
    h = genesis_jovian.header
    assert h.extra_data == bytes.fromhex("01000000fa00000006") + (1000).to_bytes(8, "big")
    passer = genesis_jovian.alloc[pd.L2_TO_L1_MESSAGE_PASSER].account_state()
    assert h.withdrawals_root == passer.storage_root
    assert h.requests_hash == bytes.fromhex(
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )
    assert genesis_jovian.alloc[pd.HISTORY_STORAGE].nonce == 1
    assert pd.OPERATOR_FEE_VAULT in genesis_jovian.alloc


# ------------------------------------------------------------------------------- rollup.json


def _rollup(genesis: L2Genesis, **kw: object) -> RollupConfig:
    g = genesis.config
    sc = SystemConfig(
        batcher_addr=bytes.fromhex("70997970C51812dc3A010C7d01b50e0d17dc79C8"),
        overhead=b"\x00" * 32,
        scalar=ecotone_scalar(1368, 810949),
        gas_limit=g.gas_limit,
    )
    args: dict[str, object] = dict(
        l1_genesis=BlockID(keccak(b"l1 start"), 7),
        l2_genesis=BlockID(genesis.block_hash, 0),
        l2_time=g.l2_genesis_time,
        system_config=sc,
        l1_chain_id=g.l1_chain_id,
        l2_chain_id=g.l2_chain_id,
        fork_times={f: g.fork_time(f) for f in Fork},
        batch_inbox_address=bytes.fromhex("ff00000000000000000000000000000000000901"),
        deposit_contract_address=b"\x77" * 20,
        l1_system_config_address=b"\x78" * 20,
        protocol_versions_address=b"\x79" * 20,
    )
    args.update(kw)
    return devnet_rollup_config(**args)  # type: ignore[arg-type]


def test_ecotone_scalar_matches_systemconfig_readback() -> None:
    # SystemConfig.initialize(..., basefeeScalar 1368, blobbasefeeScalar 810949, ...) read back
    # scalar() = 0x01...000c5fc500000558 (shared/notes/local-devnet-facts.md section 2).
    assert ecotone_scalar(1368, 810949).hex() == "01" + "00" * 23 + "000c5fc5" + "00000558"


def test_rollup_json_round_trip(genesis: L2Genesis, tmp_path: Path) -> None:
    cfg = _rollup(genesis)
    j = cfg.to_json()
    assert j["genesis"]["l2"] == {"hash": "0x" + genesis.block_hash.hex(), "number": 0}
    assert j["ecotone_time"] == GENESIS_TIME and j["isthmus_time"] == GENESIS_TIME + 180
    assert j["delta_time"] == GENESIS_TIME and "karst_time" not in j
    assert j["chain_op_config"] == {
        "eip1559Elasticity": 6,
        "eip1559Denominator": 50,
        "eip1559DenominatorCanyon": 250,
    }
    assert RollupConfig.from_json(j) == cfg
    assert RollupConfig.from_json(j).to_json() == j
    p = tmp_path / "rollup.json"
    dump_rollup_config(cfg, p)
    again = load_rollup_config(p)
    again.check()
    assert again == cfg and json.loads(p.read_text()) == j


def test_rollup_json_alt_da(genesis: L2Genesis) -> None:
    cfg = _rollup(genesis, alt_da=AltDAConfig(GENERIC_COMMITMENT, 160, 160))
    j = cfg.to_json()
    assert j["alt_da"] == {
        "da_commitment_type": "GenericCommitment",
        "da_challenge_window": 160,
        "da_resolve_window": 160,
    }
    assert RollupConfig.from_json(j) == cfg


# ------------------------------------------------------------------------------- op-geth


def _geth_up(genesis: L2Genesis, tmp: Path) -> Iterator[tuple[object, str]]:
    assert GETH is not None
    gpath = genesis.write(tmp / "genesis.json")
    log = geth_init(GETH, tmp / "datadir", gpath)
    jwt = tmp / "jwt.txt"
    write_jwt_secret(jwt)
    geth = start_op_geth(
        GETH,
        tmp / "datadir",
        jwt_path=jwt,
        log_path=tmp / "op-geth.log",
        network_id=genesis.config.l2_chain_id,
    )
    try:
        yield geth, log
    finally:
        outcome = geth.stop()
        assert outcome in ("sigint", "sigterm", "sigkill", "not-running")


@pytest.fixture(scope="module")
def geth_default(genesis: L2Genesis, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[object, str]]:
    if GETH is None:
        pytest.skip(str(NEEDS_GETH.kwargs["reason"]))
    yield from _geth_up(genesis, tmp_path_factory.mktemp("geth-default"))


def _call(rpc: object, to: bytes, sig: str, out: str) -> object:
    data = "0x" + keccak(sig.encode())[:4].hex()
    res = rpc.call("eth_call", {"to": "0x" + to.hex(), "data": data}, "latest")  # type: ignore[attr-defined]
    (val,) = eth_abi.decode([out], bytes.fromhex(res[2:]))
    return val


@NEEDS_GETH
def test_geth_genesis_hash_matches_python(
    genesis: L2Genesis, geth_default: tuple[object, str]
) -> None:
    geth, log = geth_default
    rpc = geth.rpc()  # type: ignore[attr-defined]
    blk = rpc.call("eth_getBlockByNumber", "0x0", False)
    assert blk["stateRoot"] == "0x" + genesis.state_root.hex()
    assert blk["hash"] == "0x" + genesis.block_hash.hex()
    h = genesis.block_hash.hex()
    assert init_genesis_hash_prefix(log) == f"{h[:6]}..{h[-6:]}"
    assert blk["extraData"] == "0x00000000fa00000006"
    assert int(rpc.call("eth_chainId"), 16) == 901


@NEEDS_GETH
def test_geth_predeploys(genesis: L2Genesis, geth_default: tuple[object, str]) -> None:
    geth, _ = geth_default
    rpc = geth.rpc()  # type: ignore[attr-defined]
    for a in (pd.L1_BLOCK, pd.GAS_PRICE_ORACLE, pd.L2_TO_L1_MESSAGE_PASSER,
              pd.L2_CROSS_DOMAIN_MESSENGER, pd.BEACON_ROOTS, pd.CREATE2_DEPLOYER):  # fmt: skip
        assert len(rpc.call("eth_getCode", "0x" + a.hex(), "latest")) > 2, a.hex()
    assert _call(rpc, pd.L2_CROSS_DOMAIN_MESSENGER, "OTHER_MESSENGER()", "address") == (
        "0x" + L1_XDM.hex()
    )
    assert _call(rpc, pd.L2_STANDARD_BRIDGE, "OTHER_BRIDGE()", "address") == "0x" + L1_BRIDGE.hex()
    assert _call(rpc, pd.GAS_PRICE_ORACLE, "isEcotone()", "bool") is True
    assert _call(rpc, pd.GAS_PRICE_ORACLE, "isFjord()", "bool") is True
    assert _call(rpc, pd.SEQUENCER_FEE_VAULT, "RECIPIENT()", "address") == "0x" + VAULT.hex()
    assert _call(rpc, pd.BASE_FEE_VAULT, "WITHDRAWAL_NETWORK()", "uint8") == 1
    assert _call(rpc, pd.OPTIMISM_MINTABLE_ERC721_FACTORY, "REMOTE_CHAIN_ID()", "uint256") == 900
    assert _call(rpc, pd.PROXY_ADMIN, "owner()", "address") == "0x" + OWNER.hex()
    assert _call(rpc, pd.OPTIMISM_MINTABLE_ERC20_FACTORY, "BRIDGE()", "address") == (
        "0x" + pd.L2_STANDARD_BRIDGE.hex()
    )
    assert int(rpc.call("eth_getBalance", "0x" + USER.hex(), "latest"), 16) == 10_000 * 10**18


@NEEDS_GETH
def test_geth_jovian_at_genesis(genesis_jovian: L2Genesis, tmp_path: Path) -> None:
    """Isthmus + Jovian at genesis: withdrawalsRoot, requestsHash, extraData v1 and the
    upgrade-tx implementations all agree with op-geth."""
    for geth, _ in _geth_up(genesis_jovian, tmp_path):
        rpc = geth.rpc()  # type: ignore[attr-defined]
        blk = rpc.call("eth_getBlockByNumber", "0x0", False)
        assert blk["hash"] == "0x" + genesis_jovian.block_hash.hex()
        assert blk["withdrawalsRoot"] == "0x" + genesis_jovian.header.withdrawals_root.hex()  # type: ignore[union-attr]
        assert _call(rpc, pd.GAS_PRICE_ORACLE, "isIsthmus()", "bool") is True
        assert _call(rpc, pd.GAS_PRICE_ORACLE, "isJovian()", "bool") is True
        assert len(rpc.call("eth_getCode", "0x" + pd.HISTORY_STORAGE.hex(), "latest")) > 2
