"""Devnet L1 against a real anvil: contract deployment, read-back, deposits, config updates and
a blob transaction to the batch inbox.

Each module run starts its own anvil on 127.0.0.1 with a free port and stops it by PID. Skipped
only when ``node_modules`` (anvil, contract artifacts) is absent: run ``npm install`` (or
``make deps``).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_hash.auto import keccak
from eth_keys.datatypes import PrivateKey

from pyop.codec.blob import (
    BLOB_SIZE,
    blob_to_kzg_commitment,
    compute_blob_kzg_proof,
    decode_blob,
    encode_blob,
)
from pyop.codec.tx import decode_signed_tx, rlp_encode
from pyop.devnet.anvil import AnvilError, AnvilProcess, anvil_binary, start_anvil
from pyop.devnet.artifacts import ArtifactError, forge_artifacts_dir, load_artifact
from pyop.devnet.keys import TEST_KEY_LABEL, DevKeys, dev_keys
from pyop.devnet.l1_deploy import (
    ARTIFACT_JSON_KEYS,
    DeployConfig,
    Deployment,
    batch_inbox_address,
    create_address,
    deploy_l1_contracts,
    eth_call,
    load_deployment_json,
    write_artifact_json,
    write_deployment_json,
)
from pyop.devnet.process import PidRegistry, pid_alive
from pyop.devnet.rpc import RpcClient
from pyop.primitives import from_hex, hex_to_int, to_hex
from pyop.protocol.deposit_log import deposit_tx_from_log
from pyop.protocol.deposits import DepositTx
from pyop.protocol.l1_types import Log
from pyop.protocol.system_config import (
    BatcherUpdate,
    GasLimitUpdate,
    decode_config_update_log,
)


def _require_node_modules() -> None:
    try:
        anvil_binary()
    except AnvilError as e:
        pytest.skip(f"{e} (the devnet tests need `npm install` (or `make deps`))")
    if not (forge_artifacts_dir() / "SystemConfig.sol" / "SystemConfig.json").is_file():
        pytest.skip("contracts-bedrock forge artifacts missing: run `npm install` (or `make deps`)")


# Keys of deployments/artifact.json in the OP getting-started example (Deploy.s.sol output),
# typed from that document, plus op-chain-ops L1Deployments' DataAvailabilityChallenge pair.
GETTING_STARTED_ARTIFACT_KEYS = {
    "AddressManager", "AnchorStateRegistry", "AnchorStateRegistryProxy", "DelayedWETH",
    "DelayedWETHProxy", "DisputeGameFactory", "DisputeGameFactoryProxy",
    "L1CrossDomainMessenger", "L1CrossDomainMessengerProxy", "L1ERC721Bridge",
    "L1ERC721BridgeProxy", "L1StandardBridge", "L1StandardBridgeProxy", "L2OutputOracle",
    "L2OutputOracleProxy", "Mips", "OptimismMintableERC20Factory",
    "OptimismMintableERC20FactoryProxy", "OptimismPortal", "OptimismPortal2",
    "OptimismPortalProxy", "PreimageOracle", "ProtocolVersions", "ProtocolVersionsProxy",
    "ProxyAdmin", "SafeProxyFactory", "SafeSingleton", "SuperchainConfig",
    "SuperchainConfigProxy", "SystemConfig", "SystemConfigProxy", "SystemOwnerSafe",
}  # fmt: skip
L1_DEPLOYMENTS_EXTRA = {"DataAvailabilityChallenge", "DataAvailabilityChallengeProxy"}

L2_CROSS_DOMAIN_MESSENGER = "0x4200000000000000000000000000000000000007"
L2_STANDARD_BRIDGE = "0x4200000000000000000000000000000000000010"
L2_ERC721_BRIDGE = "0x4200000000000000000000000000000000000014"

CONFIG = DeployConfig(
    l2_chain_id=901,
    l2_block_time=2,
    l2_output_oracle_submission_interval=6,
    finalization_period_seconds=12,
    l2_gas_limit=30_000_000,
    basefee_scalar=1368,
    blobbasefee_scalar=810949,
)


class Env:
    def __init__(self, anvil: AnvilProcess, keys: DevKeys, dep: Deployment, tmp: Path) -> None:
        self.anvil = anvil
        self.keys = keys
        self.dep = dep
        self.tmp = tmp
        self.rpc = RpcClient(anvil.rpc_url, timeout=30.0)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    _require_node_modules()
    tmp = tmp_path_factory.mktemp("devnet-l1")
    registry = PidRegistry(tmp)
    t0 = time.monotonic()
    anvil = start_anvil(tmp, block_time=1, registry=registry)
    print(f"anvil ready in {time.monotonic() - t0:.2f}s (pid {anvil.pid})")
    try:
        keys = dev_keys()
        dep = deploy_l1_contracts(anvil.rpc_url, keys, CONFIG)
        print(f"deployed {dep.tx_count} txs in {dep.wall_time:.2f}s")
        yield Env(anvil, keys, dep, tmp)
    finally:
        outcomes = registry.stop_all(sigint_timeout=5.0)
        assert outcomes == {"anvil": "sigint"}
        assert not pid_alive(anvil.pid)


def call(e: Env, contract: str, name: str, fn: str, *args: Any) -> Any:
    out = eth_call(e.rpc, e.dep.address(contract), load_artifact(name), fn, *args)
    return out[0] if len(out) == 1 else out


def addr(x: Any) -> str:
    return str(x).lower()


def send_tx(e: Env, key: bytes, to: str, data: bytes, *, value: int = 0, gas: int = 500_000) -> dict[str, Any]:
    sender = Account.from_key(key).address
    nonce = hex_to_int(e.rpc.call("eth_getTransactionCount", sender, "pending"))
    tx = {
        "type": 2, "chainId": 900, "nonce": nonce, "to": to, "value": value, "data": data,
        "gas": gas, "maxFeePerGas": 20 * 10**9, "maxPriorityFeePerGas": 10**9,
    }  # fmt: skip
    signed = Account.sign_transaction(tx, key)
    h = e.rpc.call("eth_sendRawTransaction", to_hex(bytes(signed.raw_transaction)))
    return wait_receipt(e, h)


def wait_receipt(e: Env, tx_hash: str, timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        r = e.rpc.call("eth_getTransactionReceipt", tx_hash)
        if r is not None:
            return dict(r)
        assert time.monotonic() < deadline, f"no receipt for {tx_hash}"
        time.sleep(0.1)


# --- keys --------------------------------------------------------------------------------------


def test_keys_are_anvils_dev_accounts_and_labelled(env: Env) -> None:
    accounts = [a.lower() for a in env.rpc.call("eth_accounts")]
    for k in env.keys.all():
        assert accounts[k.index] == k.address.lower()
        assert Account.from_key(k.private_key).address == k.address
        assert TEST_KEY_LABEL in str(k) and TEST_KEY_LABEL in repr(k)
    assert len({k.address for k in env.keys.all()}) == len(env.keys.all())
    assert json.loads(json.dumps(env.keys.to_json()))["_warning"] == TEST_KEY_LABEL


def test_anvil_chain_id_and_safe_finalized_lag(env: Env) -> None:
    assert hex_to_int(env.rpc.call("eth_chainId")) == 900
    latest = hex_to_int(env.rpc.call("eth_getBlockByNumber", "latest", False)["number"])
    safe = hex_to_int(env.rpc.call("eth_getBlockByNumber", "safe", False)["number"])
    fin = hex_to_int(env.rpc.call("eth_getBlockByNumber", "finalized", False)["number"])
    # slots_in_an_epoch=2: safe = latest - 2, finalized = latest - 4 (clamped at 0); the head
    # may move by one block between the calls.
    assert latest - 3 <= safe <= latest - 2 or safe == 0
    assert latest - 5 <= fin <= latest - 4 or fin == 0
    assert env.anvil.beacon_url == env.anvil.rpc_url
    status, body = env.rpc.http_get("/eth/v1/beacon/genesis")
    assert status == 200 and "genesis_time" in json.loads(body)["data"]


# --- deployment read-back ----------------------------------------------------------------------


def test_addresses_are_create_addresses_with_code(env: Env) -> None:
    admin = env.keys.admin.address
    assert env.dep.address("AddressManager") == create_address(admin, 0)
    assert env.dep.address("ProxyAdmin") == create_address(admin, 1)
    for name, a in env.dep.addresses.items():
        code = from_hex(env.rpc.call("eth_getCode", a, "latest"))
        assert len(code) > 0, name
    # Implementations carry the artifact's runtime code (immutable values may differ from the
    # artifact's placeholders, lengths may not).
    for name in ("SystemConfig", "L2OutputOracle", "OptimismPortal", "L1StandardBridge"):
        code = from_hex(env.rpc.call("eth_getCode", env.dep.address(name), "latest"))
        assert len(code) == len(load_artifact(name).deployed_bytecode), name


def test_proxies_point_at_implementations(env: Env) -> None:
    for name in (
        "SuperchainConfig", "ProtocolVersions", "OptimismPortal", "SystemConfig",
        "OptimismMintableERC20Factory", "L1ERC721Bridge", "DisputeGameFactory",
        "L2OutputOracle", "L1StandardBridge", "L1CrossDomainMessenger",
    ):  # fmt: skip
        impl = call(env, "ProxyAdmin", "ProxyAdmin", "getProxyImplementation",
                    env.dep.address(f"{name}Proxy"))  # fmt: skip
        assert addr(impl) == env.dep.address(name).lower(), name
    pa = env.dep.address("ProxyAdmin")
    assert addr(call(env, "ProxyAdmin", "ProxyAdmin", "owner")) == env.keys.admin.address.lower()
    assert addr(call(env, "AddressManager", "AddressManager", "owner")) == pa.lower()
    resolved = call(env, "AddressManager", "AddressManager", "getAddress",
                    "OVM_L1CrossDomainMessenger")  # fmt: skip
    assert addr(resolved) == env.dep.address("L1CrossDomainMessenger").lower()
    sb_proxy = env.dep.address("L1StandardBridgeProxy")
    assert call(env, "ProxyAdmin", "ProxyAdmin", "proxyType", sb_proxy) == 1
    assert call(env, "ProxyAdmin", "ProxyAdmin", "proxyType",
                env.dep.address("L1CrossDomainMessengerProxy")) == 2  # fmt: skip


def test_system_config_values(env: Env) -> None:
    k = env.keys
    sc = ("SystemConfigProxy", "SystemConfig")
    batcher_hash = call(env, *sc, "batcherHash")
    assert batcher_hash == bytes(12) + bytes.fromhex(k.batcher.address[2:])
    assert call(env, *sc, "gasLimit") == 30_000_000
    # Ecotone scalar: version byte 1, blob base fee scalar at bytes [24:28], base fee scalar
    # at bytes [28:32] (system-config.md, "Scalars").
    expected_scalar = (1 << 248) | (810949 << 32) | 1368
    assert call(env, *sc, "scalar") == expected_scalar
    assert call(env, *sc, "basefeeScalar") == 1368
    assert call(env, *sc, "blobbasefeeScalar") == 810949
    assert call(env, *sc, "overhead") == 0
    assert addr(call(env, *sc, "owner")) == k.admin.address.lower()
    assert addr(call(env, *sc, "unsafeBlockSigner")) == k.sequencer.address.lower()
    assert addr(call(env, *sc, "batchInbox")) == "0xff00000000000000000000000000000000000901"
    assert addr(call(env, *sc, "optimismPortal")) == env.dep.optimism_portal_proxy.lower()
    assert addr(call(env, *sc, "l1CrossDomainMessenger")) == (
        env.dep.l1_cross_domain_messenger_proxy.lower()
    )
    assert addr(call(env, *sc, "l1StandardBridge")) == env.dep.l1_standard_bridge_proxy.lower()
    rc = call(env, *sc, "resourceConfig")
    assert tuple(rc) == (20_000_000, 10, 8, 10**9, 1_000_000, 2**128 - 1)
    # startBlock: the L1 block of the initialize transaction, as recorded in the deployment.
    start = call(env, *sc, "startBlock")
    assert start == env.dep.start_block.number > 0
    blk = env.rpc.call("eth_getBlockByNumber", hex(start), False)
    assert from_hex(blk["hash"]) == env.dep.start_block.hash
    assert hex_to_int(blk["timestamp"]) == env.dep.start_block.timestamp
    assert env.dep.l2_genesis_time == env.dep.start_block.timestamp
    gsc = env.dep.genesis_system_config
    assert gsc.batcher_addr == bytes.fromhex(k.batcher.address[2:])
    assert gsc.scalar == expected_scalar.to_bytes(32, "big")
    assert gsc.gas_limit == 30_000_000


def test_l2_output_oracle_values(env: Env) -> None:
    oo = ("L2OutputOracleProxy", "L2OutputOracle")
    assert call(env, *oo, "SUBMISSION_INTERVAL") == 6
    assert call(env, *oo, "L2_BLOCK_TIME") == 2
    assert call(env, *oo, "startingBlockNumber") == 0
    assert call(env, *oo, "nextBlockNumber") == 6
    assert call(env, *oo, "startingTimestamp") == env.dep.l2_genesis_time
    assert call(env, *oo, "FINALIZATION_PERIOD_SECONDS") == 12
    assert addr(call(env, *oo, "PROPOSER")) == env.keys.proposer.address.lower()
    assert addr(call(env, *oo, "CHALLENGER")) == env.keys.challenger.address.lower()
    assert call(env, *oo, "nextOutputIndex") == 0


def test_portal_messenger_bridges_wiring(env: Env) -> None:
    d = env.dep
    p = ("OptimismPortalProxy", "OptimismPortal")
    assert addr(call(env, *p, "l2Oracle")) == d.l2_output_oracle_proxy.lower()
    assert addr(call(env, *p, "systemConfig")) == d.system_config_proxy.lower()
    assert addr(call(env, *p, "superchainConfig")) == d.address("SuperchainConfigProxy").lower()
    assert call(env, *p, "paused") is False
    assert addr(call(env, *p, "l2Sender")) == "0x000000000000000000000000000000000000dead"
    prev_base_fee, prev_boughtgas, prev_block = call(env, *p, "params")
    assert prev_base_fee == 10**9 and prev_boughtgas == 0 and prev_block > 0
    sc = ("SuperchainConfigProxy", "SuperchainConfig")
    assert addr(call(env, *sc, "guardian")) == env.keys.admin.address.lower()
    assert call(env, *sc, "paused") is False

    m = ("L1CrossDomainMessengerProxy", "L1CrossDomainMessenger")
    assert addr(call(env, *m, "portal")) == d.optimism_portal_proxy.lower()
    assert addr(call(env, *m, "OTHER_MESSENGER")) == L2_CROSS_DOMAIN_MESSENGER
    assert addr(call(env, *m, "systemConfig")) == d.system_config_proxy.lower()

    b = ("L1StandardBridgeProxy", "L1StandardBridge")
    assert addr(call(env, *b, "messenger")) == d.l1_cross_domain_messenger_proxy.lower()
    assert addr(call(env, *b, "OTHER_BRIDGE")) == L2_STANDARD_BRIDGE
    assert addr(call(env, *b, "systemConfig")) == d.system_config_proxy.lower()

    nft = ("L1ERC721BridgeProxy", "L1ERC721Bridge")
    assert addr(call(env, *nft, "messenger")) == d.l1_cross_domain_messenger_proxy.lower()
    assert addr(call(env, *nft, "OTHER_BRIDGE")) == L2_ERC721_BRIDGE

    f = ("OptimismMintableERC20FactoryProxy", "OptimismMintableERC20Factory")
    assert addr(call(env, *f, "BRIDGE")) == d.l1_standard_bridge_proxy.lower()

    pv = ("ProtocolVersionsProxy", "ProtocolVersions")
    assert addr(call(env, *pv, "owner")) == env.keys.admin.address.lower()
    assert addr(call(env, "DisputeGameFactoryProxy", "DisputeGameFactory", "owner")) == (
        env.keys.admin.address.lower()
    )
    assert set(d.versions) >= {"SystemConfig", "OptimismPortal", "L2OutputOracle"}


def test_artifact_and_deployment_json(env: Env) -> None:
    assert set(ARTIFACT_JSON_KEYS) == GETTING_STARTED_ARTIFACT_KEYS | L1_DEPLOYMENTS_EXTRA
    path = env.tmp / "deployments" / "artifact.json"
    write_artifact_json(env.dep, path)
    art = json.loads(path.read_text())
    assert set(art) == GETTING_STARTED_ARTIFACT_KEYS | L1_DEPLOYMENTS_EXTRA
    for k, v in art.items():
        if k in env.dep.addresses:
            assert v == env.dep.addresses[k]
        else:
            assert v == "0x" + "00" * 20, k
    assert art["OptimismPortalProxy"] != "0x" + "00" * 20
    full = env.tmp / "deployment.json"
    write_deployment_json(env.dep, full)
    again = load_deployment_json(full)
    assert again.to_json() == env.dep.to_json()
    assert again.start_block == env.dep.start_block
    assert again.config.to_json() == env.dep.config.to_json()
    # The getting-started example's inbox for chain 11155986, and the OP devnet's for 901.
    assert batch_inbox_address(11155986).lower() == "0xff00000000000000000000000000000011155986"
    assert batch_inbox_address(901).lower() == "0xff00000000000000000000000000000000000901"


# --- deposits and config updates -----------------------------------------------------------------


def test_deposit_transaction_log_decodes(env: Env) -> None:
    user = env.keys.user
    portal = env.dep.optimism_portal_proxy
    to = "0x" + "ab" * 20
    payload = b"hello pyop"
    data = load_artifact("OptimismPortal").encode_call(
        "depositTransaction", to, 5 * 10**17, 100_000, False, payload
    )
    rcpt = send_tx(env, user.private_key, portal, data, value=10**18)
    assert hex_to_int(rcpt["status"]) == 1
    logs = [lg for lg in rcpt["logs"] if lg["address"].lower() == portal.lower()]
    assert len(logs) == 1
    log = Log.from_json(logs[0])
    got = deposit_tx_from_log(log)
    # Independent expectations: deposits.md source hash, domain 0.
    block_hash = from_hex(rcpt["blockHash"])
    log_index = hex_to_int(logs[0]["logIndex"])
    inner = keccak(block_hash + log_index.to_bytes(32, "big"))
    expected = DepositTx(
        source_hash=keccak(bytes(32) + inner),
        from_=bytes.fromhex(user.address[2:]),
        to=bytes.fromhex(to[2:]),
        mint=10**18,
        value=5 * 10**17,
        gas=100_000,
        is_system_tx=False,
        data=payload,
    )
    assert got == expected


def test_deposit_contract_creation_and_plain_transfer(env: Env) -> None:
    user = env.keys.user
    portal = env.dep.optimism_portal_proxy
    init = bytes.fromhex("602a60005260206000f3")
    data = load_artifact("OptimismPortal").encode_call(
        "depositTransaction", "0x" + "00" * 20, 0, 200_000, True, init
    )
    rcpt = send_tx(env, user.private_key, portal, data)
    (lg,) = [x for x in rcpt["logs"] if x["address"].lower() == portal.lower()]
    got = deposit_tx_from_log(Log.from_json(lg))
    assert got.to is None and got.data == init and got.gas == 200_000 and got.mint == 0
    # A plain ETH transfer to the portal deposits to the sender itself with gas 100000.
    rcpt = send_tx(env, user.private_key, portal, b"", value=12345, gas=200_000)
    (lg,) = [x for x in rcpt["logs"] if x["address"].lower() == portal.lower()]
    got = deposit_tx_from_log(Log.from_json(lg))
    me = bytes.fromhex(user.address[2:])
    assert (got.from_, got.to, got.mint, got.value, got.gas, got.data) == (
        me, me, 12345, 12345, 100_000, b""
    )


def test_system_config_updates_emit_decodable_logs(env: Env) -> None:
    sysconf = env.dep.system_config_proxy
    art = load_artifact("SystemConfig")
    admin = env.keys.admin
    rcpt = send_tx(env, admin.private_key, sysconf, art.encode_call("setGasLimit", 45_000_000))
    assert hex_to_int(rcpt["status"]) == 1
    (lg,) = rcpt["logs"]
    assert decode_config_update_log(Log.from_json(lg)) == GasLimitUpdate(45_000_000)
    new_batcher = bytes.fromhex("12" * 20)
    rcpt = send_tx(
        env, admin.private_key, sysconf,
        art.encode_call("setBatcherHash", bytes(12) + new_batcher),
    )  # fmt: skip
    (lg,) = rcpt["logs"]
    assert decode_config_update_log(Log.from_json(lg)) == BatcherUpdate(new_batcher)
    # Restore, so the other tests see the deployed values whatever the order.
    send_tx(env, admin.private_key, sysconf, art.encode_call("setGasLimit", 30_000_000))
    send_tx(
        env, admin.private_key, sysconf,
        art.encode_call("setBatcherHash", bytes(12) + env.keys.batcher.address_bytes),
    )  # fmt: skip
    # Only the owner may update.
    rcpt = send_tx(env, env.keys.user.private_key, sysconf, art.encode_call("setGasLimit", 1))
    assert hex_to_int(rcpt["status"]) == 0


# --- blobs -------------------------------------------------------------------------------------


def _blob_tx_network_form(
    key: bytes, *, chain_id: int, nonce: int, to: bytes, blobs: list[bytes]
) -> tuple[bytes, list[bytes]]:
    """EIP-4844 network wrapper ``0x03 ++ rlp([tx_payload_body, blobs, commitments, proofs])``
    built by hand; returns it and the versioned hashes."""
    commitments = [blob_to_kzg_commitment(b) for b in blobs]
    proofs = [compute_blob_kzg_proof(b, c) for b, c in zip(blobs, commitments, strict=True)]
    vhashes = [b"\x01" + hashlib.sha256(c).digest()[1:] for c in commitments]
    fields: list[Any] = [
        chain_id, nonce, 10**9, 20 * 10**9, 100_000, to, 0, b"", [], 1000, vhashes,
    ]  # fmt: skip
    sig = PrivateKey(key).sign_msg_hash(keccak(b"\x03" + rlp_encode(fields)))
    body = [*fields, sig.v, sig.r, sig.s]
    wrapper = b"\x03" + rlp_encode([body, blobs, commitments, proofs])
    return wrapper, vhashes


def test_blob_tx_to_batch_inbox_and_beacon_blobs(env: Env) -> None:
    batcher = env.keys.batcher
    inbox = from_hex(env.dep.batch_inbox_address, length=20)
    payload = bytes(range(256)) * 40
    blob = encode_blob(payload)
    assert len(blob) == BLOB_SIZE
    nonce = hex_to_int(env.rpc.call("eth_getTransactionCount", batcher.address, "pending"))
    raw, vhashes = _blob_tx_network_form(
        batcher.private_key, chain_id=900, nonce=nonce, to=inbox, blobs=[blob]
    )
    tx_hash = env.rpc.call("eth_sendRawTransaction", to_hex(raw))
    assert from_hex(tx_hash) == decode_signed_tx(raw).hash
    rcpt = wait_receipt(env, tx_hash)
    assert hex_to_int(rcpt["status"]) == 1 and hex_to_int(rcpt["type"]) == 3
    assert hex_to_int(rcpt["blobGasUsed"]) == 131072
    tx = env.rpc.call("eth_getTransactionByHash", tx_hash)
    assert [from_hex(h) for h in tx["blobVersionedHashes"]] == vhashes
    assert tx["to"].lower() == env.dep.batch_inbox_address.lower()
    assert tx["from"].lower() == batcher.address.lower()
    number = hex_to_int(rcpt["blockNumber"])
    status, body = env.rpc.http_get(f"/eth/v1/beacon/blobs/{number}")
    assert status == 200, body[:200]
    blobs = [from_hex(b) for b in json.loads(body)["data"]]
    assert blobs == [blob]
    assert decode_blob(blobs[0]) == payload
    # The same blob by block hash, filtered by versioned hash.
    status, body = env.rpc.http_get(
        f"/eth/v1/beacon/blobs/{rcpt['blockHash']}?versioned_hashes={to_hex(vhashes[0])}"
    )
    assert status == 200 and [from_hex(b) for b in json.loads(body)["data"]] == [blob]


def test_artifact_errors_are_typed() -> None:
    _require_node_modules()
    with pytest.raises(ArtifactError):
        load_artifact("NoSuchContract")
    with pytest.raises(ArtifactError):
        load_artifact("SystemConfig").encode_call("setGasLimit", 1, 2)
    with pytest.raises(ArtifactError):
        load_artifact("SystemConfig").function("noSuchFunction")
