"""Deploy and initialize the OP Stack L1 contracts (L2OutputOracle flavour) on the devnet L1.

Follows the order and the initializer arguments of contracts-bedrock's ``scripts/Deploy.s.sol``
(the pre-OPCM script, ``setupSuperchain`` + ``setupOpChain`` with ``useFaultProofs = false``),
with the final system owner, the guardian and the deployer all being the admin TEST key (no
Safe):

1. ``AddressManager``; ``ProxyAdmin(admin)``; ``ProxyAdmin.setAddressManager``.
2. ERC-1967 ``Proxy(ProxyAdmin)`` for SuperchainConfig, ProtocolVersions, OptimismPortal,
   SystemConfig, OptimismMintableERC20Factory, L1ERC721Bridge, DisputeGameFactory and
   L2OutputOracle; ``L1ChugSplashProxy(ProxyAdmin)`` for the L1StandardBridge;
   ``ResolvedDelegateProxy(AddressManager, "OVM_L1CrossDomainMessenger")`` for the
   L1CrossDomainMessenger; ``AddressManager.transferOwnership(ProxyAdmin)``.
3. The implementations.
4. ``ProxyAdmin.setProxyType`` (CHUGSPLASH for the standard bridge, RESOLVED for the
   messenger) and ``setImplementationName(messenger proxy, "OVM_L1CrossDomainMessenger")``.
5. ``ProxyAdmin.upgradeAndCall(proxy, impl, initialize(...))`` for every proxy; the
   L2OutputOracle last, once the SystemConfig's ``startBlock`` is known, with
   ``startingTimestamp`` = the L2 genesis time (by default the timestamp of that start block,
   which is what ``op-node genesis l2`` uses as ``genesis.l2_time``).

Speed: all transactions are signed locally with explicit nonces and sent without waiting, so
anvil packs them into as few blocks as their gas limits allow; only the L2OutputOracle
initialization waits for the earlier receipts. Contract addresses are the CREATE addresses of
the deployer's nonces (``keccak256(rlp([sender, nonce]))[12:]``).

The rollup's genesis L1 block is the SystemConfig ``startBlock`` (set by ``initialize`` to
``block.number``); specs/protocol/system-config.md and the rollup-node spec read the initial
system config there.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_hash.auto import keccak
from eth_utils.address import to_checksum_address

from pyop.codec.tx import rlp_encode
from pyop.devnet.artifacts import Artifact, load_artifact
from pyop.devnet.keys import DevKey, DevKeys
from pyop.devnet.rpc import RpcClient
from pyop.primitives import L1BlockRef, PyopError, SystemConfig, from_hex, hex_to_int, to_hex

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
ETHER_GAS_PAYING_TOKEN = "0xEeeeeEeeeEeEeeEeEeEeeEEEeeeeEeeeeeeeEEeE"
"""contracts-bedrock ``Constants.ETHER``: the gas-paying-token marker for ETH."""
MESSENGER_IMPLEMENTATION_NAME = "OVM_L1CrossDomainMessenger"

PROXY_TYPE_ERC1967 = 0
PROXY_TYPE_CHUGSPLASH = 1
PROXY_TYPE_RESOLVED = 2

ARTIFACT_JSON_KEYS: tuple[str, ...] = (
    "AddressManager",
    "AnchorStateRegistry",
    "AnchorStateRegistryProxy",
    "DataAvailabilityChallenge",
    "DataAvailabilityChallengeProxy",
    "DelayedWETH",
    "DelayedWETHProxy",
    "DisputeGameFactory",
    "DisputeGameFactoryProxy",
    "L1CrossDomainMessenger",
    "L1CrossDomainMessengerProxy",
    "L1ERC721Bridge",
    "L1ERC721BridgeProxy",
    "L1StandardBridge",
    "L1StandardBridgeProxy",
    "L2OutputOracle",
    "L2OutputOracleProxy",
    "Mips",
    "OptimismMintableERC20Factory",
    "OptimismMintableERC20FactoryProxy",
    "OptimismPortal",
    "OptimismPortal2",
    "OptimismPortalProxy",
    "PreimageOracle",
    "ProtocolVersions",
    "ProtocolVersionsProxy",
    "ProxyAdmin",
    "SafeProxyFactory",
    "SafeSingleton",
    "SuperchainConfig",
    "SuperchainConfigProxy",
    "SystemConfig",
    "SystemConfigProxy",
    "SystemOwnerSafe",
)
"""Keys of ``deployments/artifact.json`` as written by ``Deploy.s.sol`` (the OP getting-started
example) plus the ``DataAvailabilityChallenge`` pair of op-chain-ops ``L1Deployments``. Contracts
this devnet does not deploy (fault proofs, Safe, alt-DA challenge) get the zero address, which
``L1Deployments.Check`` accepts for a chain without fault proofs or alt-DA challenges."""

# Proxied contracts: (artifact.json name, implementation artifact, proxy kind).
_ERC1967_PROXIED = (
    "SuperchainConfig",
    "ProtocolVersions",
    "OptimismPortal",
    "SystemConfig",
    "OptimismMintableERC20Factory",
    "L1ERC721Bridge",
    "DisputeGameFactory",
    "L2OutputOracle",
)


class DeployError(PyopError):
    """A deployment transaction failed (reverted, was dropped, or timed out)."""


@dataclass(frozen=True, slots=True)
class ResourceConfig:
    """``ResourceMetering.ResourceConfig``; defaults are ``Constants.DEFAULT_RESOURCE_CONFIG``."""

    max_resource_limit: int = 20_000_000
    elasticity_multiplier: int = 10
    base_fee_max_change_denominator: int = 8
    minimum_base_fee: int = 1_000_000_000
    system_tx_max_gas: int = 1_000_000
    maximum_base_fee: int = 2**128 - 1

    def as_tuple(self) -> tuple[int, int, int, int, int, int]:
        return (
            self.max_resource_limit,
            self.elasticity_multiplier,
            self.base_fee_max_change_denominator,
            self.minimum_base_fee,
            self.system_tx_max_gas,
            self.maximum_base_fee,
        )


def batch_inbox_address(l2_chain_id: int) -> str:
    """The devnet batch inbox: ``0xff00…00`` followed by the L2 chain id's decimal digits, the
    convention of the OP devnet and getting-started configs (chain 901 ->
    ``0xff00000000000000000000000000000000000901``)."""
    digits = str(l2_chain_id)
    if len(digits) > 38:
        raise DeployError(f"L2 chain id {l2_chain_id} is too long for a batch inbox address")
    return to_checksum_address("0xff" + digits.rjust(38, "0"))


@dataclass(frozen=True, slots=True)
class DeployConfig:
    """Parameters of the L1 deployment (deploy-config names in :meth:`to_json`)."""

    l2_chain_id: int = 901
    l2_block_time: int = 2
    l2_output_oracle_submission_interval: int = 10
    l2_output_oracle_starting_block_number: int = 0
    finalization_period_seconds: int = 12
    l2_genesis_time: int | None = None
    """``None``: the timestamp of the SystemConfig start block."""
    l2_gas_limit: int = 30_000_000
    basefee_scalar: int = 1368
    blobbasefee_scalar: int = 810949
    batch_inbox: str | None = None
    """``None``: :func:`batch_inbox_address` of the L2 chain id."""
    resource_config: ResourceConfig = field(default_factory=ResourceConfig)
    required_protocol_version: int = 0
    recommended_protocol_version: int = 0
    max_fee_per_gas: int | None = None
    """``None``: four times the latest base fee plus the tip."""
    max_priority_fee_per_gas: int = 1_000_000_000
    receipt_timeout: float = 120.0

    @property
    def batch_inbox_address(self) -> str:
        if self.batch_inbox is not None:
            return to_checksum_address(self.batch_inbox)
        return batch_inbox_address(self.l2_chain_id)

    def to_json(self) -> dict[str, Any]:
        """The parameters under contracts-bedrock deploy-config names."""
        rc = self.resource_config
        return {
            "l2ChainID": self.l2_chain_id,
            "l2BlockTime": self.l2_block_time,
            "l2OutputOracleSubmissionInterval": self.l2_output_oracle_submission_interval,
            "l2OutputOracleStartingBlockNumber": self.l2_output_oracle_starting_block_number,
            "finalizationPeriodSeconds": self.finalization_period_seconds,
            "l2GenesisBlockTimestamp": self.l2_genesis_time,
            "l2GenesisBlockGasLimit": self.l2_gas_limit,
            "gasPriceOracleBaseFeeScalar": self.basefee_scalar,
            "gasPriceOracleBlobBaseFeeScalar": self.blobbasefee_scalar,
            "batchInboxAddress": self.batch_inbox_address,
            "resourceConfig": {
                "maxResourceLimit": rc.max_resource_limit,
                "elasticityMultiplier": rc.elasticity_multiplier,
                "baseFeeMaxChangeDenominator": rc.base_fee_max_change_denominator,
                "minimumBaseFee": rc.minimum_base_fee,
                "systemTxMaxGas": rc.system_tx_max_gas,
                "maximumBaseFee": str(rc.maximum_base_fee),
            },
            "requiredProtocolVersion": to_hex(self.required_protocol_version.to_bytes(32, "big")),
            "recommendedProtocolVersion": to_hex(
                self.recommended_protocol_version.to_bytes(32, "big")
            ),
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> DeployConfig:
        rc = obj.get("resourceConfig") or {}
        genesis_time = obj.get("l2GenesisBlockTimestamp")
        return cls(
            l2_chain_id=int(obj["l2ChainID"]),
            l2_block_time=int(obj["l2BlockTime"]),
            l2_output_oracle_submission_interval=int(obj["l2OutputOracleSubmissionInterval"]),
            l2_output_oracle_starting_block_number=int(
                obj.get("l2OutputOracleStartingBlockNumber", 0)
            ),
            finalization_period_seconds=int(obj["finalizationPeriodSeconds"]),
            l2_genesis_time=None if genesis_time is None else int(genesis_time),
            l2_gas_limit=int(obj["l2GenesisBlockGasLimit"]),
            basefee_scalar=int(obj["gasPriceOracleBaseFeeScalar"]),
            blobbasefee_scalar=int(obj["gasPriceOracleBlobBaseFeeScalar"]),
            batch_inbox=obj.get("batchInboxAddress"),
            resource_config=ResourceConfig(
                max_resource_limit=int(rc.get("maxResourceLimit", 20_000_000)),
                elasticity_multiplier=int(rc.get("elasticityMultiplier", 10)),
                base_fee_max_change_denominator=int(rc.get("baseFeeMaxChangeDenominator", 8)),
                minimum_base_fee=int(rc.get("minimumBaseFee", 1_000_000_000)),
                system_tx_max_gas=int(rc.get("systemTxMaxGas", 1_000_000)),
                maximum_base_fee=int(rc.get("maximumBaseFee", 2**128 - 1)),
            ),
            required_protocol_version=hex_to_int(obj.get("requiredProtocolVersion", 0)),
            recommended_protocol_version=hex_to_int(obj.get("recommendedProtocolVersion", 0)),
        )


@dataclass(frozen=True, slots=True)
class Deployment:
    """The result of :func:`deploy_l1_contracts`."""

    l1_chain_id: int
    l2_chain_id: int
    addresses: Mapping[str, str]
    """artifact.json name -> checksum address (only deployed contracts)."""
    admin: str
    batcher: str
    proposer: str
    challenger: str
    unsafe_block_signer: str
    guardian: str
    batch_inbox_address: str
    start_block: L1BlockRef
    """The L1 block in which the SystemConfig was initialized: the rollup's genesis L1 block."""
    l2_genesis_time: int
    genesis_system_config: SystemConfig
    """The system config at ``start_block`` (rollup.json ``genesis.system_config``)."""
    config: DeployConfig
    versions: Mapping[str, str] = field(default_factory=dict)
    tx_count: int = 0
    gas_used: int = 0
    wall_time: float = 0.0

    def address(self, name: str) -> str:
        try:
            return self.addresses[name]
        except KeyError:
            raise DeployError(f"{name} was not deployed") from None

    @property
    def system_config_proxy(self) -> str:
        return self.address("SystemConfigProxy")

    @property
    def optimism_portal_proxy(self) -> str:
        """The deposit contract (rollup.json ``deposit_contract_address``)."""
        return self.address("OptimismPortalProxy")

    @property
    def l2_output_oracle_proxy(self) -> str:
        return self.address("L2OutputOracleProxy")

    @property
    def l1_cross_domain_messenger_proxy(self) -> str:
        return self.address("L1CrossDomainMessengerProxy")

    @property
    def l1_standard_bridge_proxy(self) -> str:
        return self.address("L1StandardBridgeProxy")

    @property
    def l1_erc721_bridge_proxy(self) -> str:
        return self.address("L1ERC721BridgeProxy")

    @property
    def protocol_versions_proxy(self) -> str:
        return self.address("ProtocolVersionsProxy")

    def artifact_json(self) -> dict[str, str]:
        """``deployments/artifact.json`` content (see :data:`ARTIFACT_JSON_KEYS`)."""
        return {k: self.addresses.get(k, ZERO_ADDRESS) for k in ARTIFACT_JSON_KEYS}

    def to_json(self) -> dict[str, Any]:
        """Everything, for ``pyop devnet`` (round-trips through :meth:`from_json`)."""
        sc = self.genesis_system_config
        return {
            "l1ChainId": self.l1_chain_id,
            "l2ChainId": self.l2_chain_id,
            "addresses": dict(sorted(self.addresses.items())),
            "roles": {
                "admin": self.admin,
                "batcher": self.batcher,
                "proposer": self.proposer,
                "challenger": self.challenger,
                "unsafeBlockSigner": self.unsafe_block_signer,
                "guardian": self.guardian,
            },
            "batchInboxAddress": self.batch_inbox_address,
            "startBlock": self.start_block.to_json(),
            "l2GenesisTime": self.l2_genesis_time,
            "genesisSystemConfig": {
                "batcherAddr": to_checksum_address(sc.batcher_addr),
                "overhead": to_hex(sc.overhead),
                "scalar": to_hex(sc.scalar),
                "gasLimit": sc.gas_limit,
            },
            "deployConfig": self.config.to_json(),
            "versions": dict(sorted(self.versions.items())),
            "txCount": self.tx_count,
            "gasUsed": self.gas_used,
            "wallTimeSeconds": round(self.wall_time, 3),
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> Deployment:
        roles = obj["roles"]
        sb = obj["startBlock"]
        sc = obj["genesisSystemConfig"]
        return cls(
            l1_chain_id=int(obj["l1ChainId"]),
            l2_chain_id=int(obj["l2ChainId"]),
            addresses=dict(obj["addresses"]),
            admin=roles["admin"],
            batcher=roles["batcher"],
            proposer=roles["proposer"],
            challenger=roles["challenger"],
            unsafe_block_signer=roles["unsafeBlockSigner"],
            guardian=roles["guardian"],
            batch_inbox_address=obj["batchInboxAddress"],
            start_block=L1BlockRef(
                hash=from_hex(sb["hash"], length=32),
                number=int(sb["number"]),
                parent_hash=from_hex(sb["parentHash"], length=32),
                timestamp=int(sb["timestamp"]),
            ),
            l2_genesis_time=int(obj["l2GenesisTime"]),
            genesis_system_config=SystemConfig(
                batcher_addr=from_hex(sc["batcherAddr"], length=20),
                overhead=from_hex(sc["overhead"], length=32),
                scalar=from_hex(sc["scalar"], length=32),
                gas_limit=int(sc["gasLimit"]),
            ),
            config=DeployConfig.from_json(obj["deployConfig"]),
            versions=dict(obj.get("versions", {})),
            tx_count=int(obj.get("txCount", 0)),
            gas_used=int(obj.get("gasUsed", 0)),
            wall_time=float(obj.get("wallTimeSeconds", 0.0)),
        )


def write_artifact_json(deployment: Deployment, path: Path) -> None:
    """Write ``deployments/artifact.json`` (the ``Deploy.s.sol`` output format)."""
    _write_json(path, deployment.artifact_json())


def write_deployment_json(deployment: Deployment, path: Path) -> None:
    """Write the full pyop deployment record (:meth:`Deployment.to_json`)."""
    _write_json(path, deployment.to_json())


def load_deployment_json(path: Path) -> Deployment:
    try:
        return Deployment.from_json(json.loads(Path(path).read_text()))
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise DeployError(f"cannot read deployment record {path}: {e}") from None


def _write_json(path: Path, obj: object) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2) + "\n")
    tmp.replace(path)


# ---------------------------------------------------------------------------------------------
# Transaction plumbing
# ---------------------------------------------------------------------------------------------


def create_address(sender: str, nonce: int) -> str:
    """The CREATE address of ``sender`` at ``nonce``: ``keccak256(rlp([sender, nonce]))[12:]``."""
    raw = keccak(rlp_encode([bytes.fromhex(sender[2:]), nonce]))
    return to_checksum_address(raw[12:])


def _deploy_gas(initcode: bytes, runtime_size: int, execution: int = 600_000) -> int:
    """A gas limit that covers a CREATE: intrinsic cost (EIP-2028 calldata, EIP-3860 initcode
    words), code deposit (200 per byte), a margin for the constructor, and at least the
    EIP-7623 calldata floor (Prague)."""
    zeros = initcode.count(0)
    nonzeros = len(initcode) - zeros
    standard = (
        21_000 + 32_000 + 4 * zeros + 16 * nonzeros + 2 * ((len(initcode) + 31) // 32)
        + 200 * runtime_size + execution
    )  # fmt: skip
    floor = 21_000 + 10 * (zeros + 4 * nonzeros)
    return max(standard, floor + 100_000)


@dataclass
class _Sent:
    label: str
    tx_hash: str
    contract: str | None = None


class _Sender:
    """Signs and sends transactions from one key with locally tracked nonces."""

    def __init__(self, rpc: RpcClient, key: DevKey, chain_id: int, cfg: DeployConfig) -> None:
        self.rpc = rpc
        self.key = key
        self.chain_id = chain_id
        self.nonce = hex_to_int(rpc.call("eth_getTransactionCount", key.address, "pending"))
        tip = cfg.max_priority_fee_per_gas
        if cfg.max_fee_per_gas is not None:
            max_fee = cfg.max_fee_per_gas
        else:
            latest = rpc.call("eth_getBlockByNumber", "latest", False)
            base = hex_to_int(latest.get("baseFeePerGas") or "0x3b9aca00")
            max_fee = 4 * base + tip
        self.max_fee = max_fee
        self.tip = min(tip, max_fee)
        self.pending: list[_Sent] = []
        self.receipts: list[tuple[_Sent, dict[str, Any]]] = []

    def send(self, label: str, to: str | None, data: bytes, gas: int, value: int = 0) -> _Sent:
        tx: dict[str, Any] = {
            "type": 2,
            "chainId": self.chain_id,
            "nonce": self.nonce,
            "maxFeePerGas": self.max_fee,
            "maxPriorityFeePerGas": self.tip,
            "gas": gas,
            "value": value,
            "data": data,
        }
        if to is not None:
            tx["to"] = to_checksum_address(to)
        signed = Account.sign_transaction(tx, self.key.private_key)
        contract = create_address(self.key.address, self.nonce) if to is None else None
        tx_hash = self.rpc.call("eth_sendRawTransaction", to_hex(bytes(signed.raw_transaction)))
        self.nonce += 1
        sent = _Sent(label=label, tx_hash=str(tx_hash), contract=contract)
        self.pending.append(sent)
        return sent

    def deploy(self, label: str, artifact: Artifact, *args: Any) -> str:
        data = artifact.deploy_data(*args)
        sent = self.send(label, None, data, _deploy_gas(data, len(artifact.deployed_bytecode)))
        if sent.contract is None:  # pragma: no cover - send() sets it for creations
            raise DeployError(f"{label}: no contract address")
        return sent.contract

    def call(self, label: str, to: str, data: bytes, gas: int = 1_000_000, value: int = 0) -> _Sent:
        return self.send(label, to, data, gas, value)

    def wait(self, timeout: float) -> list[tuple[_Sent, dict[str, Any]]]:
        """Wait for every pending transaction's receipt (polling the last one: a sender's
        transactions are mined in nonce order); :class:`DeployError` if any failed."""
        if not self.pending:
            return []
        deadline = time.monotonic() + timeout
        last = self.pending[-1]
        while self.rpc.call("eth_getTransactionReceipt", last.tx_hash) is None:
            if time.monotonic() >= deadline:
                raise DeployError(f"{last.label}: no receipt for {last.tx_hash} after {timeout}s")
            time.sleep(0.1)
        done: list[tuple[_Sent, dict[str, Any]]] = []
        for sent in self.pending:
            rcpt = self.rpc.call("eth_getTransactionReceipt", sent.tx_hash)
            if rcpt is None:
                raise DeployError(f"{sent.label}: transaction {sent.tx_hash} was dropped")
            if hex_to_int(rcpt["status"]) != 1:
                raise DeployError(
                    f"{sent.label}: transaction {sent.tx_hash} reverted "
                    f"(gas used {hex_to_int(rcpt['gasUsed'])})"
                )
            if sent.contract is not None:
                got = rcpt.get("contractAddress")
                if got is None or to_checksum_address(got) != sent.contract:
                    raise DeployError(
                        f"{sent.label}: deployed at {got}, expected {sent.contract}"
                    )
            done.append((sent, rcpt))
        self.receipts.extend(done)
        self.pending = []
        return done


def eth_call(rpc: RpcClient, to: str, artifact: Artifact, fn: str, *args: Any) -> tuple[Any, ...]:
    """``eth_call`` of ``fn(args)`` on ``to`` at ``latest``, decoded with the artifact's ABI."""
    f = artifact.function(fn, len(args))
    out = rpc.call("eth_call", {"to": to, "data": to_hex(f.encode(*args))}, "latest")
    return f.decode_output(from_hex(str(out)))


def _block_ref(rpc: RpcClient, number: int) -> L1BlockRef:
    blk = rpc.call("eth_getBlockByNumber", hex(number), False)
    if blk is None:
        raise DeployError(f"L1 block {number} not found")
    return L1BlockRef(
        hash=from_hex(blk["hash"], length=32),
        number=hex_to_int(blk["number"]),
        parent_hash=from_hex(blk["parentHash"], length=32),
        timestamp=hex_to_int(blk["timestamp"]),
    )


# ---------------------------------------------------------------------------------------------
# The deployment
# ---------------------------------------------------------------------------------------------


def deploy_l1_contracts(
    rpc_url: str,
    keys: DevKeys,
    config: DeployConfig | None = None,
    *,
    initialize_portal: bool = True,
) -> Deployment:
    """Deploy and initialize the OP L1 contracts (see the module docstring) from
    ``keys.admin``; the batcher, proposer, challenger and sequencer (unsafe block signer) come
    from ``keys``. Returns the :class:`Deployment`; :class:`DeployError` on any failure.

    ``initialize_portal=False`` leaves the OptimismPortal proxy without an implementation, for
    :func:`pyop.devnet.fault_proofs.deploy_fault_proof_contracts` to point it at
    OptimismPortal2 (``useFaultProofs``)."""
    cfg = config or DeployConfig()
    t0 = time.monotonic()
    rpc = RpcClient(rpc_url, timeout=30.0)
    chain_id = hex_to_int(rpc.call("eth_chainId"))
    admin = keys.admin.address
    guardian = admin
    s = _Sender(rpc, keys.admin, chain_id, cfg)
    a: dict[str, str] = {}

    art = {
        n: load_artifact(n)
        for n in (
            "AddressManager", "ProxyAdmin", "Proxy", "L1ChugSplashProxy",
            "ResolvedDelegateProxy", "L1CrossDomainMessenger", "L1StandardBridge",
            *_ERC1967_PROXIED,
        )
    }  # fmt: skip
    pa = art["ProxyAdmin"]

    # 1. AddressManager and ProxyAdmin (setupSuperchain: deployAddressManager, deployProxyAdmin).
    a["AddressManager"] = s.deploy("deploy AddressManager", art["AddressManager"])
    a["ProxyAdmin"] = s.deploy("deploy ProxyAdmin", pa, admin)
    s.call(
        "ProxyAdmin.setAddressManager",
        a["ProxyAdmin"],
        pa.encode_call("setAddressManager", a["AddressManager"]),
        gas=200_000,
    )

    # 2. Proxies (deployERC1967Proxy, deployL1StandardBridgeProxy,
    #    deployL1CrossDomainMessengerProxy) and AddressManager -> ProxyAdmin.
    for name in _ERC1967_PROXIED:
        a[f"{name}Proxy"] = s.deploy(f"deploy {name}Proxy", art["Proxy"], a["ProxyAdmin"])
    a["L1StandardBridgeProxy"] = s.deploy(
        "deploy L1StandardBridgeProxy (L1ChugSplashProxy)", art["L1ChugSplashProxy"],
        a["ProxyAdmin"],
    )  # fmt: skip
    a["L1CrossDomainMessengerProxy"] = s.deploy(
        "deploy L1CrossDomainMessengerProxy (ResolvedDelegateProxy)",
        art["ResolvedDelegateProxy"], a["AddressManager"], MESSENGER_IMPLEMENTATION_NAME,
    )  # fmt: skip
    s.call(
        "AddressManager.transferOwnership(ProxyAdmin)",
        a["AddressManager"],
        art["AddressManager"].encode_call("transferOwnership", a["ProxyAdmin"]),
        gas=200_000,
    )

    # 3. Implementations.
    for name in (*_ERC1967_PROXIED, "L1StandardBridge", "L1CrossDomainMessenger"):
        a[name] = s.deploy(f"deploy {name}", art[name])

    # 4. Legacy proxy types (initializeL1StandardBridge / initializeL1CrossDomainMessenger).
    s.call(
        "ProxyAdmin.setProxyType(L1StandardBridgeProxy, CHUGSPLASH)",
        a["ProxyAdmin"],
        pa.encode_call("setProxyType", a["L1StandardBridgeProxy"], PROXY_TYPE_CHUGSPLASH),
        gas=200_000,
    )
    s.call(
        "ProxyAdmin.setProxyType(L1CrossDomainMessengerProxy, RESOLVED)",
        a["ProxyAdmin"],
        pa.encode_call("setProxyType", a["L1CrossDomainMessengerProxy"], PROXY_TYPE_RESOLVED),
        gas=200_000,
    )
    s.call(
        "ProxyAdmin.setImplementationName(L1CrossDomainMessengerProxy)",
        a["ProxyAdmin"],
        pa.encode_call(
            "setImplementationName", a["L1CrossDomainMessengerProxy"],
            MESSENGER_IMPLEMENTATION_NAME,
        ),
        gas=300_000,
    )  # fmt: skip

    # 5. upgradeAndCall(proxy, impl, initialize(...)).
    def init(name: str, *args: Any) -> None:
        data = art[name].encode_call("initialize", *args)
        s.call(
            f"initialize {name}",
            a["ProxyAdmin"],
            pa.encode_call("upgradeAndCall", a[f"{name}Proxy"], a[name], data),
            gas=1_500_000,
        )

    init("SuperchainConfig", guardian, False)
    init(
        "ProtocolVersions", admin, cfg.required_protocol_version, cfg.recommended_protocol_version
    )
    init(
        "SystemConfig",
        admin,
        cfg.basefee_scalar,
        cfg.blobbasefee_scalar,
        b"\x00" * 12 + keys.batcher.address_bytes,
        cfg.l2_gas_limit,
        keys.sequencer.address,
        cfg.resource_config.as_tuple(),
        cfg.batch_inbox_address,
        (
            a["L1CrossDomainMessengerProxy"],
            a["L1ERC721BridgeProxy"],
            a["L1StandardBridgeProxy"],
            a["DisputeGameFactoryProxy"],
            a["OptimismPortalProxy"],
            a["OptimismMintableERC20FactoryProxy"],
            ETHER_GAS_PAYING_TOKEN,
        ),
    )
    if initialize_portal:
        init(
            "OptimismPortal",
            a["L2OutputOracleProxy"],
            a["SystemConfigProxy"],
            a["SuperchainConfigProxy"],
        )
    init(
        "L1StandardBridge",
        a["L1CrossDomainMessengerProxy"],
        a["SuperchainConfigProxy"],
        a["SystemConfigProxy"],
    )
    init("L1ERC721Bridge", a["L1CrossDomainMessengerProxy"], a["SuperchainConfigProxy"])
    init("OptimismMintableERC20Factory", a["L1StandardBridgeProxy"])
    init(
        "L1CrossDomainMessenger",
        a["SuperchainConfigProxy"],
        a["OptimismPortalProxy"],
        a["SystemConfigProxy"],
    )
    init("DisputeGameFactory", admin)
    s.wait(cfg.receipt_timeout)

    # The rollup starts at the SystemConfig start block.
    sysconf = art["SystemConfig"]
    (start_number,) = eth_call(rpc, a["SystemConfigProxy"], sysconf, "startBlock")
    start_block = _block_ref(rpc, int(start_number))
    l2_genesis_time = (
        cfg.l2_genesis_time if cfg.l2_genesis_time is not None else start_block.timestamp
    )

    init(
        "L2OutputOracle",
        cfg.l2_output_oracle_submission_interval,
        cfg.l2_block_time,
        cfg.l2_output_oracle_starting_block_number,
        l2_genesis_time,
        keys.proposer.address,
        keys.challenger.address,
        cfg.finalization_period_seconds,
    )
    s.wait(cfg.receipt_timeout)

    (batcher_hash,) = eth_call(rpc, a["SystemConfigProxy"], sysconf, "batcherHash")
    (overhead,) = eth_call(rpc, a["SystemConfigProxy"], sysconf, "overhead")
    (scalar,) = eth_call(rpc, a["SystemConfigProxy"], sysconf, "scalar")
    (gas_limit,) = eth_call(rpc, a["SystemConfigProxy"], sysconf, "gasLimit")
    versions: dict[str, str] = {}
    for name in (*_ERC1967_PROXIED, "L1StandardBridge", "L1CrossDomainMessenger"):
        if name == "OptimismPortal" and not initialize_portal:
            continue
        (v,) = eth_call(rpc, a[f"{name}Proxy"], art[name], "version")
        versions[name] = str(v)

    gas_used = sum(hex_to_int(r["gasUsed"]) for _, r in s.receipts)
    return Deployment(
        l1_chain_id=chain_id,
        l2_chain_id=cfg.l2_chain_id,
        addresses=a,
        admin=admin,
        batcher=keys.batcher.address,
        proposer=keys.proposer.address,
        challenger=keys.challenger.address,
        unsafe_block_signer=keys.sequencer.address,
        guardian=guardian,
        batch_inbox_address=cfg.batch_inbox_address,
        start_block=start_block,
        l2_genesis_time=l2_genesis_time,
        genesis_system_config=SystemConfig(
            batcher_addr=bytes(batcher_hash)[12:],
            overhead=int(overhead).to_bytes(32, "big"),
            scalar=int(scalar).to_bytes(32, "big"),
            gas_limit=int(gas_limit),
        ),
        config=cfg,
        versions=versions,
        tx_count=len(s.receipts),
        gas_used=gas_used,
        wall_time=time.monotonic() - t0,
    )


__all__ = [
    "ARTIFACT_JSON_KEYS",
    "DeployConfig",
    "DeployError",
    "Deployment",
    "ResourceConfig",
    "batch_inbox_address",
    "create_address",
    "deploy_l1_contracts",
    "eth_call",
    "load_deployment_json",
    "write_artifact_json",
    "write_deployment_json",
]
