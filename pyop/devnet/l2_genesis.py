"""The devnet L2 genesis: op-geth ``genesis.json`` (chain config, header fields, alloc) and the
genesis block's state root and hash computed in Python.

Facts followed (read, not copied):
- Chain config and header: op-chain-ops ``genesis.NewL2Genesis`` (optimism v1.19.6): every L1
  fork through the Merge at block 0, ``shanghaiTime = canyon``, ``cancunTime = ecotone``,
  ``pragueTime = isthmus`` (op-geth ``CheckOptimismValidity`` requires these equalities),
  TTD 0, ``bedrockBlock 0``, coinbase = SequencerFeeVault, base fee 1 gwei, difficulty 0,
  ``blobGasUsed``/``excessBlobGas`` 0 from Ecotone, Holocene extraData
  ``0x00 ‖ u32 denominator ‖ u32 elasticity`` (specs/protocol/holocene/exec-engine.md), Jovian
  extraData ``0x01 ‖ ... ‖ u64 minBaseFee`` (specs/protocol/jovian/exec-engine.md); with Isthmus
  at genesis the EIP-2935 contract is preinstalled. No ``blobSchedule`` (op-geth rejects one on
  OP chains). The Delta fork has no chain-config field (it does not touch the EL).
- Karst (only after genesis): ``karstTime`` and ``osakaTime = karst``. op-chain-ops v1.19.6 sets
  no ``osakaTime`` on L2, but op-node v1.19.6 calls ``engine_getPayloadV5`` from Karst
  (``GetPayloadVersion``, "Osaka") and op-geth v1.101702.3-rc.7 answers V5 only when its chain
  config's latest fork at the payload time is Osaka or a BPO fork (eth/catalyst ``checkFork``):
  without ``osakaTime`` the Go sequencer stops at the block before Karst with "Unsupported fork"
  (seen on this devnet). Osaka on L2 is what Karst brings to the EL (op-node's
  ``osaka_on_l2`` acceptance tests); op-geth runs the Karst NUT bundle's 31 deposits with it.
- Header hash: op-geth ``Genesis.toBlockWithRoot``: withdrawals root = empty trie from Shanghai,
  parent beacon root 0 from Cancun, ``requestsHash = sha256("")`` from Prague, and from Isthmus the
  withdrawals root is the L2ToL1MessagePasser storage root (specs/protocol/isthmus/exec-engine.md).
- Alloc: the layout of ``L2Genesis.s.sol`` (contracts-bedrock, the Oct 2024 version that matches
  the 0.17.3 artifacts): 1 wei to each of the 256 precompile addresses; an EIP-1967 ``Proxy``
  (admin = ProxyAdmin predeploy) at every ``0x4200…0000``-``0x4200…07ff`` except WETH and the
  governance token; the implementation of each supported predeploy at its code-namespace address
  ``0xc0d3…`` + low 2 bytes; proxied contracts initialized through the proxy and their
  implementations initialized with zero values; ProxyAdmin owner written to slot 0;
  GasPriceOracle ``setEcotone()``/``setFjord()``/``setIsthmus()``/``setJovian()`` called from the
  depositor account for forks active at genesis (specs/protocol/predeploys.md); the preinstalls
  (specs/protocol/preinstalls.md) with nonce 1 and the EIP-4788 sender's nonce set to 1.

How the alloc is built (reproducible, no Solidity toolchain needed): a throwaway anvil on the
L2 chain id is the "script host". Contracts whose constructors set immutables (fee vaults,
OptimismMintableERC721Factory, EAS) are deployed there with their constructors and their runtime
code copied to the code-namespace address; code that needs no constructor is placed with
``anvil_setCode`` from the artifacts' ``deployedBytecode``; initializers run as real calls (from
an impersonated, unfunded-in-genesis sender; ``setEcotone`` etc. from the depositor account).
The touched accounts are then read back from ``anvil_dumpState`` (gzip'd JSON). The ~2,000
proxies that are never called are built directly in Python (code + admin slot). Isthmus and
Jovian implementations at genesis come from the creation code of their network-upgrade
transactions (pyop/protocol/bytecode), since the 0.17.3 artifacts predate them.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import rlp
from eth_hash.auto import keccak

from pyop.config.forks import MAINLINE_FORKS, Fork
from pyop.devnet.anvil import start_anvil
from pyop.devnet.artifacts import load_artifact, node_modules_dir
from pyop.devnet.l1_chain_config import BLOCK_FORKS
from pyop.devnet.rpc import RpcClient
from pyop.primitives import PyopError
from pyop.protocol import predeploys as pd
from pyop.protocol.trie import (
    EMPTY_CODE_HASH,
    EMPTY_TRIE_ROOT,
    AccountState,
    state_root,
    storage_root,
)
from pyop.protocol.upgrades import load_bytecode

ETHER = 10**18
Address = bytes

ZERO_HASH = b"\x00" * 32
EMPTY_UNCLE_HASH = keccak(rlp.encode([]))
EMPTY_REQUESTS_HASH = hashlib.sha256(b"").digest()
"""EIP-7685 requests hash of no requests: sha256("") (op-geth ``types.EmptyRequestsHash``)."""

EIP1967_IMPLEMENTATION_SLOT = int(
    "360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc", 16
)
EIP1967_ADMIN_SLOT = int("b53127684a568b3173ae13b9f8a6016e243e63b6e8ee1178d6a717850b5d6103", 16)

PREDEPLOY_COUNT = 2048
PRECOMPILE_COUNT = 256
CODE_NAMESPACE = int("c0D3C0d3C0d3C0D3c0d3C0d3c0D3C0d3c0d30000", 16)
DEFAULT_INITIAL_BASE_FEE = 1_000_000_000
"""go-ethereum ``params.InitialBaseFee`` (1 gwei), op-chain-ops' default genesis base fee."""
DEFAULT_L2_GAS_LIMIT = 30_000_000

WITHDRAWAL_NETWORK_L1 = 0
WITHDRAWAL_NETWORK_L2 = 1

SCRIPT_SENDER = keccak(b"pyop.devnet.l2_genesis.sender")[12:]
"""Impersonated sender of the genesis-building calls on the throwaway anvil (not in the alloc)."""

#: Forks that exist in op-geth's chain config (Delta does not touch the execution layer).
_CHAIN_CONFIG_FORKS: tuple[Fork, ...] = (
    Fork.REGOLITH,
    Fork.CANYON,
    Fork.ECOTONE,
    Fork.FJORD,
    Fork.GRANITE,
    Fork.HOLOCENE,
    Fork.ISTHMUS,
    Fork.JOVIAN,
    Fork.KARST,
)
# The mainline forks this op-geth genesis knows: Regolith through Karst (Karst only after
# genesis: the alloc holds pre-Karst predeploys, which the Karst NUT bundle upgrades).
SUPPORTED_FORKS: tuple[Fork, ...] = MAINLINE_FORKS[: MAINLINE_FORKS.index(Fork.KARST) + 1]

DEFAULT_FORK_OFFSETS: dict[Fork, int | None] = {
    Fork.REGOLITH: 0,
    Fork.CANYON: 0,
    Fork.DELTA: 0,
    Fork.ECOTONE: 0,
    Fork.FJORD: 0,
    Fork.GRANITE: 0,
    Fork.HOLOCENE: 0,
    Fork.ISTHMUS: 180,
    Fork.JOVIAN: 300,
    Fork.KARST: None,
}
"""Devnet default: every fork through Holocene at genesis, Isthmus 3 min and Jovian 5 min in
(seconds after the L2 genesis time; ``None`` = not scheduled; Karst: ``--fork-offsets karst=N``)."""


class L2GenesisError(PyopError):
    """The L2 genesis could not be built (bad fork schedule, script-host call failed, ...)."""


# ----------------------------------------------------------------------------- alloc types


@dataclass(frozen=True, slots=True)
class GenesisAccount:
    """One ``alloc`` entry of genesis.json: storage maps uint256 slot -> uint256 value."""

    balance: int = 0
    nonce: int = 0
    code: bytes = b""
    storage: Mapping[int, int] = field(default_factory=dict)

    def account_state(self) -> AccountState:
        """The state-trie record (storage root, code hash) of this account."""
        return AccountState(
            nonce=self.nonce,
            balance=self.balance,
            storage_root=storage_root(self.storage) if self.storage else EMPTY_TRIE_ROOT,
            code_hash=keccak(self.code) if self.code else EMPTY_CODE_HASH,
        )

    def to_json(self) -> dict[str, object]:
        """geth ``types.Account`` JSON (hex quantities, 32-byte storage keys and values)."""
        out: dict[str, object] = {"balance": hex(self.balance)}
        if self.nonce:
            out["nonce"] = hex(self.nonce)
        if self.code:
            out["code"] = "0x" + self.code.hex()
        if self.storage:
            out["storage"] = {
                "0x" + k.to_bytes(32, "big").hex(): "0x" + v.to_bytes(32, "big").hex()
                for k, v in sorted(self.storage.items())
                if v
            }
        return out

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> GenesisAccount:
        storage = {int(k, 16): int(v, 16) for k, v in dict(obj.get("storage") or {}).items()}
        return cls(
            balance=_qty(obj.get("balance", "0x0")),
            nonce=_qty(obj.get("nonce", 0)),
            code=bytes.fromhex(str(obj.get("code", "0x")).removeprefix("0x")),
            storage={k: v for k, v in storage.items() if v},
        )


Alloc = dict[Address, GenesisAccount]


def _qty(v: object) -> int:
    if isinstance(v, int):
        return v
    s = str(v)
    return int(s, 16) if s.startswith(("0x", "0X")) else int(s)


def code_namespace(predeploy: Address) -> Address:
    """The implementation address of a predeploy: ``0xc0d3…`` + its low 2 bytes
    (contracts-bedrock ``Predeploys.predeployToCodeNamespace``)."""
    low = int.from_bytes(predeploy, "big") & 0xFFFF
    return (CODE_NAMESPACE | low).to_bytes(20, "big")


def _predeploy(i: int) -> Address:
    return ((0x420 << 148) | i).to_bytes(20, "big")


def _word(addr: Address) -> int:
    return int.from_bytes(addr, "big")


# ----------------------------------------------------------------------------- config


@dataclass(frozen=True, slots=True, kw_only=True)
class L2GenesisConfig:
    """Inputs of the devnet L2 genesis (the subset of op-chain-ops ``DeployConfig`` we use).

    ``fork_offsets``: seconds after ``l2_genesis_time`` per fork (``None``/absent = unset).
    Fee vaults get ``(recipient, fee_vault_min_withdrawal, fee_vault_withdrawal_network)``.
    """

    l1_chain_id: int
    l2_chain_id: int
    l2_genesis_time: int
    l1_cross_domain_messenger_proxy: Address
    l1_standard_bridge_proxy: Address
    l1_erc721_bridge_proxy: Address = pd.ZERO_ADDRESS
    proxy_admin_owner: Address
    sequencer_fee_vault_recipient: Address
    base_fee_vault_recipient: Address
    l1_fee_vault_recipient: Address
    fee_vault_min_withdrawal: int = 10 * ETHER
    fee_vault_withdrawal_network: int = WITHDRAWAL_NETWORK_L2
    fork_offsets: Mapping[Fork, int | None] = field(
        default_factory=lambda: dict(DEFAULT_FORK_OFFSETS)
    )
    gas_limit: int = DEFAULT_L2_GAS_LIMIT
    base_fee: int = DEFAULT_INITIAL_BASE_FEE
    eip1559_elasticity: int = 6
    eip1559_denominator: int = 50
    eip1559_denominator_canyon: int = 250
    min_base_fee: int = 0
    funded_accounts: tuple[Address, ...] = ()
    fund_amount: int = 10_000 * ETHER

    def fork_time(self, fork: Fork) -> int | None:
        """Absolute L2 activation time of ``fork`` (None: not scheduled)."""
        off = self.fork_offsets.get(fork)
        return None if off is None else self.l2_genesis_time + off

    def active_at_genesis(self, fork: Fork) -> bool:
        t = self.fork_time(fork)
        return t is not None and t <= self.l2_genesis_time

    def check(self) -> None:
        """Fork schedule sanity: known forks, ordered, non-negative offsets; Bedrock is the base."""
        prev: int | None = 0
        for f in SUPPORTED_FORKS:
            off = self.fork_offsets.get(f)
            if off is None:
                prev = None
                continue
            if off < 0:
                raise L2GenesisError(f"{f} offset {off} is negative")
            if prev is None:
                raise L2GenesisError(f"{f} is scheduled but an earlier fork is not")
            if off < prev:
                raise L2GenesisError(f"{f} at +{off}s is before the previous fork (+{prev}s)")
            prev = off
        unknown = [f for f, o in self.fork_offsets.items() if o is not None and f not in SUPPORTED_FORKS]
        if unknown:
            raise L2GenesisError(f"forks not supported by the devnet genesis: {unknown}")
        if not self.active_at_genesis(Fork.ECOTONE):
            raise L2GenesisError("the devnet genesis needs Ecotone (and earlier forks) at genesis")
        if self.active_at_genesis(Fork.KARST):
            raise L2GenesisError("Karst at genesis is not supported: the devnet alloc has pre-Karst "
                                 "predeploys; schedule Karst after genesis (karst=N, N > 0) so its "
                                 "NUT bundle upgrades them")  # fmt: skip


def chain_config(cfg: L2GenesisConfig) -> dict[str, object]:
    """op-geth ``params.ChainConfig`` JSON for the L2 (see the module docstring)."""
    out: dict[str, object] = {"chainId": cfg.l2_chain_id}
    for k in BLOCK_FORKS:
        out[k] = 0
    for key, fork in (
        ("shanghaiTime", Fork.CANYON),
        ("cancunTime", Fork.ECOTONE),
        ("pragueTime", Fork.ISTHMUS),
        ("osakaTime", Fork.KARST),
    ):
        t = cfg.fork_time(fork)
        if t is not None:
            out[key] = t
    out["bedrockBlock"] = 0
    for fork in _CHAIN_CONFIG_FORKS:
        t = cfg.fork_time(fork)
        if t is not None:
            out[f"{fork.value}Time"] = t
    out["terminalTotalDifficulty"] = 0
    out["optimism"] = {
        "eip1559Elasticity": cfg.eip1559_elasticity,
        "eip1559Denominator": cfg.eip1559_denominator,
        "eip1559DenominatorCanyon": cfg.eip1559_denominator_canyon,
    }
    return out


def genesis_extra_data(cfg: L2GenesisConfig) -> bytes:
    """Header extraData of the genesis block: empty before Holocene, the Holocene v0 encoding
    (9 bytes) or the Jovian v1 encoding with the min base fee (17 bytes) when active at genesis."""
    d = cfg.eip1559_denominator_canyon.to_bytes(4, "big")
    e = cfg.eip1559_elasticity.to_bytes(4, "big")
    if cfg.active_at_genesis(Fork.JOVIAN):
        return b"\x01" + d + e + cfg.min_base_fee.to_bytes(8, "big")
    if cfg.active_at_genesis(Fork.HOLOCENE):
        return b"\x00" + d + e
    return b""


# ----------------------------------------------------------------------------- header


@dataclass(frozen=True, slots=True)
class GenesisHeader:
    """The genesis block header as op-geth builds it; ``hash()`` = keccak(rlp(header))."""

    state_root: bytes
    timestamp: int
    gas_limit: int
    base_fee: int
    extra_data: bytes
    coinbase: Address
    withdrawals_root: bytes | None
    blob_gas_used: int | None
    excess_blob_gas: int | None
    parent_beacon_root: bytes | None
    requests_hash: bytes | None
    mix_digest: bytes = ZERO_HASH
    difficulty: int = 0
    number: int = 0
    gas_used: int = 0
    parent_hash: bytes = ZERO_HASH
    nonce: bytes = b"\x00" * 8

    def rlp(self) -> bytes:
        """RLP in go-ethereum ``types.Header`` field order (optional tail fields in order)."""
        fields: list[object] = [
            self.parent_hash,
            EMPTY_UNCLE_HASH,
            self.coinbase,
            self.state_root,
            EMPTY_TRIE_ROOT,  # transactions
            EMPTY_TRIE_ROOT,  # receipts
            b"\x00" * 256,  # logs bloom
            self.difficulty,
            self.number,
            self.gas_limit,
            self.gas_used,
            self.timestamp,
            self.extra_data,
            self.mix_digest,
            self.nonce,
            self.base_fee,
        ]
        tail: list[object | None] = [
            self.withdrawals_root,
            self.blob_gas_used,
            self.excess_blob_gas,
            self.parent_beacon_root,
            self.requests_hash,
        ]
        while tail and tail[-1] is None:
            tail.pop()
        if any(t is None for t in tail):
            raise L2GenesisError("header optional fields must be set in order")
        fields += tail
        out: bytes = rlp.encode(fields)
        return out

    def hash(self) -> bytes:
        return keccak(self.rlp())


def genesis_header(cfg: L2GenesisConfig, alloc: Mapping[Address, GenesisAccount]) -> GenesisHeader:
    """The genesis header op-geth computes for ``make_genesis_json(cfg, alloc)``."""
    root = alloc_state_root(alloc)
    ts = cfg.l2_genesis_time
    withdrawals: bytes | None = EMPTY_TRIE_ROOT if cfg.active_at_genesis(Fork.CANYON) else None
    if cfg.active_at_genesis(Fork.ISTHMUS):
        passer = alloc.get(pd.L2_TO_L1_MESSAGE_PASSER)
        withdrawals = passer.account_state().storage_root if passer else EMPTY_TRIE_ROOT
    cancun = cfg.active_at_genesis(Fork.ECOTONE)
    return GenesisHeader(
        state_root=root,
        timestamp=ts,
        gas_limit=cfg.gas_limit,
        base_fee=cfg.base_fee,
        extra_data=genesis_extra_data(cfg),
        coinbase=pd.SEQUENCER_FEE_VAULT,
        withdrawals_root=withdrawals,
        blob_gas_used=0 if cancun else None,
        excess_blob_gas=0 if cancun else None,
        parent_beacon_root=ZERO_HASH if cancun else None,
        requests_hash=EMPTY_REQUESTS_HASH if cfg.active_at_genesis(Fork.ISTHMUS) else None,
    )


def alloc_state_root(alloc: Mapping[Address, GenesisAccount]) -> bytes:
    """The genesis state root of ``alloc`` (pyop.protocol.trie)."""
    return state_root({a: acct.account_state() for a, acct in alloc.items()})


# ----------------------------------------------------------------------------- genesis.json


@dataclass(frozen=True, slots=True)
class L2Genesis:
    """A built L2 genesis: the config it came from, its alloc, and its header."""

    config: L2GenesisConfig
    alloc: Alloc
    header: GenesisHeader

    @property
    def block_hash(self) -> bytes:
        return self.header.hash()

    @property
    def state_root(self) -> bytes:
        return self.header.state_root

    def to_json(self) -> dict[str, object]:
        """op-geth ``genesis.json`` (``core.Genesis``)."""
        cfg, h = self.config, self.header
        out: dict[str, object] = {
            "config": chain_config(cfg),
            "nonce": "0x0",
            "timestamp": hex(h.timestamp),
            "extraData": "0x" + h.extra_data.hex(),
            "gasLimit": hex(h.gas_limit),
            "difficulty": hex(h.difficulty),
            "mixHash": "0x" + h.mix_digest.hex(),
            "coinbase": "0x" + h.coinbase.hex(),
            "alloc": {
                "0x" + a.hex(): acct.to_json() for a, acct in sorted(self.alloc.items())
            },
            "number": "0x0",
            "gasUsed": "0x0",
            "parentHash": "0x" + h.parent_hash.hex(),
            "baseFeePerGas": hex(h.base_fee),
        }
        if h.excess_blob_gas is not None:
            out["excessBlobGas"] = hex(h.excess_blob_gas)
            out["blobGasUsed"] = hex(h.blob_gas_used or 0)
        return out

    def write(self, path: str | Path) -> Path:
        """Write ``genesis.json`` (compact, sorted alloc) and return its path."""
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps(self.to_json(), indent=1) + "\n", encoding="utf-8")
        return p


def make_l2_genesis(cfg: L2GenesisConfig, alloc: Alloc) -> L2Genesis:
    """Assemble the genesis (chain config, header) around a prebuilt ``alloc``."""
    cfg.check()
    return L2Genesis(config=cfg, alloc=alloc, header=genesis_header(cfg, alloc))


def build_l2_genesis(cfg: L2GenesisConfig, *, workdir: Path | None = None) -> L2Genesis:
    """Build the alloc on a throwaway anvil (:func:`build_l2_alloc`) and assemble the genesis."""
    cfg.check()
    return make_l2_genesis(cfg, build_l2_alloc(cfg, workdir=workdir))


# ----------------------------------------------------------------------------- preinstalls

_PREINSTALL_SKIP = {"Permit2"}  # its code is templated per chain id; optional for the devnet


def preinstalls() -> dict[Address, bytes]:
    """Preinstall runtime code by address, read from contracts-bedrock's
    ``src/libraries/Preinstalls.sol`` constants (Permit2 skipped: chain-templated)."""
    src = node_modules_dir() / "@eth-optimism/contracts-bedrock/src/libraries/Preinstalls.sol"
    try:
        text = src.read_text()
    except OSError as e:
        raise L2GenesisError(
            f"cannot read {src}: {e}; run `npm install` (or `make deps`)"
        ) from None
    addrs = dict(re.findall(r"address internal constant (\w+) = (0x[0-9a-fA-F]{40});", text))
    codes = dict(re.findall(r'bytes internal constant (\w+)Code =\s*hex"([0-9a-fA-F]*)";', text))
    out: dict[Address, bytes] = {}
    for name, code in codes.items():
        if name in _PREINSTALL_SKIP or name not in addrs:
            continue
        out[bytes.fromhex(addrs[name][2:])] = bytes.fromhex(code)
    if pd.BEACON_ROOTS not in out or pd.CREATE2_DEPLOYER not in out:
        raise L2GenesisError(f"{src}: beacon-roots or create2Deployer preinstall missing")
    return out


# ----------------------------------------------------------------------------- script host


class _Host:
    """The throwaway anvil used to run constructors and initializers."""

    def __init__(self, rpc: RpcClient) -> None:
        self.rpc = rpc
        self.touched: set[Address] = set()

    def set_code(self, addr: Address, code: bytes) -> None:
        self.rpc.call("anvil_setCode", "0x" + addr.hex(), "0x" + code.hex())
        self.touched.add(addr)

    def set_storage(self, addr: Address, slot: int, value: int) -> None:
        self.rpc.call(
            "anvil_setStorageAt",
            "0x" + addr.hex(),
            "0x" + slot.to_bytes(32, "big").hex(),
            "0x" + value.to_bytes(32, "big").hex(),
        )
        self.touched.add(addr)

    def set_nonce(self, addr: Address, nonce: int) -> None:
        self.rpc.call("anvil_setNonce", "0x" + addr.hex(), hex(nonce))
        self.touched.add(addr)

    def _send(self, sender: Address, to: Address | None, data: bytes, what: str) -> dict[str, Any]:
        self.rpc.call("anvil_impersonateAccount", "0x" + sender.hex())
        self.rpc.call("anvil_setBalance", "0x" + sender.hex(), hex(10 * ETHER))
        tx: dict[str, str] = {
            "from": "0x" + sender.hex(),
            "data": "0x" + data.hex(),
            "gas": hex(15_000_000),
            "maxFeePerGas": hex(10**11),
            "maxPriorityFeePerGas": "0x0",
        }
        if to is not None:
            tx["to"] = "0x" + to.hex()
        txh = self.rpc.call("eth_sendTransaction", tx)
        rcpt = None
        for _ in range(200):  # automine answers within a few ms
            rcpt = self.rpc.call("eth_getTransactionReceipt", txh)
            if rcpt is not None:
                break
            time.sleep(0.01)
        if not isinstance(rcpt, dict) or rcpt.get("status") != "0x1":
            raise L2GenesisError(f"genesis script step failed: {what} (receipt {rcpt})")
        return rcpt

    def call(self, to: Address, data: bytes, what: str, sender: Address = SCRIPT_SENDER) -> None:
        self._send(sender, to, data, what)

    def runtime_of(self, creation: bytes, what: str) -> bytes:
        """Run creation code (constructor included) and return the deployed runtime code."""
        rcpt = self._send(SCRIPT_SENDER, None, creation, what)
        created = str(rcpt.get("contractAddress"))
        code = bytes.fromhex(str(self.rpc.call("eth_getCode", created, "latest"))[2:])
        if not code:
            raise L2GenesisError(f"{what}: deployment left no code")
        return code

    def dump(self) -> dict[Address, GenesisAccount]:
        raw = str(self.rpc.call("anvil_dumpState"))
        try:
            state = json.loads(gzip.decompress(bytes.fromhex(raw.removeprefix("0x"))))
        except (ValueError, OSError) as e:
            raise L2GenesisError(f"anvil_dumpState: cannot decode: {e}") from None
        out: dict[Address, GenesisAccount] = {}
        for a, acct in state["accounts"].items():
            addr = bytes.fromhex(a[2:])
            if addr in self.touched:
                out[addr] = GenesisAccount.from_json(acct)
        return out


def _impl_code(host: _Host, predeploy: Address, code: bytes) -> Address:
    impl = code_namespace(predeploy)
    host.set_code(impl, code)
    return impl


def _artifact_impl(host: _Host, predeploy: Address, name: str) -> Address:
    return _impl_code(host, predeploy, load_artifact(name).deployed_bytecode)


def _constructed_impl(host: _Host, predeploy: Address, name: str, *args: object) -> Address:
    art = load_artifact(name)
    return _impl_code(host, predeploy, host.runtime_of(art.deploy_data(*args), f"deploy {name}"))


def _upgrade_impl(host: _Host, predeploy: Address, bytecode_name: str) -> Address:
    code = host.runtime_of(load_bytecode(bytecode_name), f"deploy {bytecode_name}")
    return _impl_code(host, predeploy, code)


def _init_both(host: _Host, predeploy: Address, impl: Address, name: str, arg: bytes) -> None:
    """Initialize the implementation with zero (as its constructor would) and the proxy."""
    art = load_artifact(name)
    host.call(impl, art.encode_call("initialize", "0x" + "00" * 20), f"{name} impl initialize")
    host.call(predeploy, art.encode_call("initialize", "0x" + arg.hex()), f"{name} initialize")


# The proxied predeploys that get an implementation (contracts-bedrock Predeploys
# ``isSupportedPredeploy`` without interop), by artifact name.
_SUPPORTED: dict[Address, str] = {
    pd.LEGACY_MESSAGE_PASSER: "LegacyMessagePasser",
    pd.DEPLOYER_WHITELIST: "DeployerWhitelist",
    pd.L2_CROSS_DOMAIN_MESSENGER: "L2CrossDomainMessenger",
    pd.GAS_PRICE_ORACLE: "GasPriceOracle",
    pd.L2_STANDARD_BRIDGE: "L2StandardBridge",
    pd.SEQUENCER_FEE_VAULT: "SequencerFeeVault",
    pd.OPTIMISM_MINTABLE_ERC20_FACTORY: "OptimismMintableERC20Factory",
    pd.L1_BLOCK_NUMBER: "L1BlockNumber",
    pd.L2_ERC721_BRIDGE: "L2ERC721Bridge",
    pd.L1_BLOCK: "L1Block",
    pd.L2_TO_L1_MESSAGE_PASSER: "L2ToL1MessagePasser",
    pd.OPTIMISM_MINTABLE_ERC721_FACTORY: "OptimismMintableERC721Factory",
    pd.PROXY_ADMIN: "ProxyAdmin",
    pd.BASE_FEE_VAULT: "BaseFeeVault",
    pd.L1_FEE_VAULT: "L1FeeVault",
    pd.SCHEMA_REGISTRY: "SchemaRegistry",
    pd.EAS: "EAS",
}
_NOT_PROXIED = {pd.WETH9, pd.GOVERNANCE_TOKEN}


def _proxied_predeploys(cfg: L2GenesisConfig) -> dict[Address, Address | None]:
    """Every proxied predeploy address -> its implementation address (None: no implementation)."""
    supported = set(_SUPPORTED)
    if cfg.active_at_genesis(Fork.ISTHMUS):
        supported.add(pd.OPERATOR_FEE_VAULT)
    out: dict[Address, Address | None] = {}
    for i in range(PREDEPLOY_COUNT):
        a = _predeploy(i)
        if a in _NOT_PROXIED:
            continue
        out[a] = code_namespace(a) if a in supported else None
    return out


def build_l2_alloc(cfg: L2GenesisConfig, *, workdir: Path | None = None) -> Alloc:
    """Build the genesis alloc (see the module docstring for the method)."""
    cfg.check()
    proxy_code = load_artifact("Proxy").deployed_bytecode
    proxies = _proxied_predeploys(cfg)
    with tempfile.TemporaryDirectory(prefix="pyop-l2genesis-") as tmp:
        d = Path(workdir) if workdir is not None else Path(tmp)
        anvil = start_anvil(
            d, block_time=None, hardfork="prague", chain_id=cfg.l2_chain_id, name="l2genesis-anvil"
        )
        try:
            host = _Host(anvil.rpc())
            extra = _run_script(host, cfg, proxies, proxy_code)
            dumped = host.dump()
        finally:
            anvil.stop()

    alloc: Alloc = {}
    for i in range(PRECOMPILE_COUNT):
        alloc[i.to_bytes(20, "big")] = GenesisAccount(balance=1)
    # Proxies never touched by the script: code + admin slot (+ implementation slot).
    for a, impl in proxies.items():
        if a in dumped:
            continue
        storage = {EIP1967_ADMIN_SLOT: _word(pd.PROXY_ADMIN)}
        if impl is not None:
            storage[EIP1967_IMPLEMENTATION_SLOT] = _word(impl)
        alloc[a] = GenesisAccount(code=proxy_code, storage=storage)
    alloc.update(dumped)
    alloc.update(extra)
    for a in cfg.funded_accounts:
        prev = alloc.get(a, GenesisAccount())
        alloc[a] = GenesisAccount(
            balance=prev.balance + cfg.fund_amount,
            nonce=prev.nonce,
            code=prev.code,
            storage=prev.storage,
        )
    return alloc


def _run_script(
    host: _Host, cfg: L2GenesisConfig, proxies: Mapping[Address, Address | None], proxy_code: bytes
) -> Alloc:
    """Run the genesis "script" on ``host``; return accounts built outside the host (system
    contracts whose storage the host's own block processing would write to)."""
    # Preinstalls (nonce 1), and the EIP-4788 deployer's nonce as if it had deployed.
    extra: Alloc = {a: GenesisAccount(nonce=1, code=code) for a, code in preinstalls().items()}
    extra[pd.EIP4788_DEPLOYER] = GenesisAccount(nonce=1)
    # Proxies that the script calls through (they must exist on the host).
    for a in (*_SUPPORTED, *((pd.OPERATOR_FEE_VAULT,) if proxies.get(pd.OPERATOR_FEE_VAULT) else ())):
        impl = proxies[a]
        host.set_code(a, proxy_code)
        host.set_storage(a, EIP1967_ADMIN_SLOT, _word(pd.PROXY_ADMIN))
        if impl is not None:
            host.set_storage(a, EIP1967_IMPLEMENTATION_SLOT, _word(impl))

    # Implementations without constructors: the artifacts' runtime code.
    for a in (
        pd.LEGACY_MESSAGE_PASSER,
        pd.DEPLOYER_WHITELIST,
        pd.L1_BLOCK_NUMBER,
        pd.L1_BLOCK,
        pd.L2_TO_L1_MESSAGE_PASSER,
        pd.GAS_PRICE_ORACLE,
        pd.SCHEMA_REGISTRY,
    ):
        _artifact_impl(host, a, _SUPPORTED[a])
    host.set_code(pd.WETH9, load_artifact("WETH").deployed_bytecode)

    # ProxyAdmin: no initializer; owner in slot 0 of the proxy and of the implementation.
    pa_impl = _artifact_impl(host, pd.PROXY_ADMIN, "ProxyAdmin")
    host.set_storage(pd.PROXY_ADMIN, 0, _word(cfg.proxy_admin_owner))
    host.set_storage(pa_impl, 0, _word(cfg.proxy_admin_owner))

    # Initialized through the proxy (implementation initialized with zero values).
    for a, name, arg in (
        (pd.L2_CROSS_DOMAIN_MESSENGER, "L2CrossDomainMessenger", cfg.l1_cross_domain_messenger_proxy),
        (pd.L2_STANDARD_BRIDGE, "L2StandardBridge", cfg.l1_standard_bridge_proxy),
        (pd.L2_ERC721_BRIDGE, "L2ERC721Bridge", cfg.l1_erc721_bridge_proxy),
        (pd.OPTIMISM_MINTABLE_ERC20_FACTORY, "OptimismMintableERC20Factory", pd.L2_STANDARD_BRIDGE),
    ):
        impl = _artifact_impl(host, a, name)
        _init_both(host, a, impl, name, arg)

    # Constructors with immutables.
    for a, name, recipient in (
        (pd.SEQUENCER_FEE_VAULT, "SequencerFeeVault", cfg.sequencer_fee_vault_recipient),
        (pd.BASE_FEE_VAULT, "BaseFeeVault", cfg.base_fee_vault_recipient),
        (pd.L1_FEE_VAULT, "L1FeeVault", cfg.l1_fee_vault_recipient),
    ):
        _constructed_impl(
            host,
            a,
            name,
            "0x" + recipient.hex(),
            cfg.fee_vault_min_withdrawal,
            cfg.fee_vault_withdrawal_network,
        )
    _constructed_impl(
        host,
        pd.OPTIMISM_MINTABLE_ERC721_FACTORY,
        "OptimismMintableERC721Factory",
        "0x" + pd.L2_ERC721_BRIDGE.hex(),
        cfg.l1_chain_id,
    )
    _constructed_impl(host, pd.EAS, "EAS")

    # Network upgrades active at genesis (GasPriceOracle flags; newer implementations).
    gpo = load_artifact("GasPriceOracle")
    host.call(pd.GAS_PRICE_ORACLE, gpo.encode_call("setEcotone"), "setEcotone", pd.L1_INFO_DEPOSITOR)
    if cfg.active_at_genesis(Fork.FJORD):
        host.call(pd.GAS_PRICE_ORACLE, gpo.encode_call("setFjord"), "setFjord", pd.L1_INFO_DEPOSITOR)
    if cfg.active_at_genesis(Fork.ISTHMUS):
        _upgrade_impl(host, pd.L1_BLOCK, "isthmus-l1-block-deployment")
        _upgrade_impl(host, pd.GAS_PRICE_ORACLE, "isthmus-gas-price-oracle-deployment")
        _upgrade_impl(host, pd.OPERATOR_FEE_VAULT, "isthmus-operator-fee-vault-deployment")
        history = host.runtime_of(load_bytecode("isthmus-eip2935-deployment"), "EIP-2935")
        extra[pd.HISTORY_STORAGE] = GenesisAccount(nonce=1, code=history)
        host.call(pd.GAS_PRICE_ORACLE, _selector("setIsthmus()"), "setIsthmus", pd.L1_INFO_DEPOSITOR)
    if cfg.active_at_genesis(Fork.JOVIAN):
        _upgrade_impl(host, pd.L1_BLOCK, "jovian-l1-block-deployment")
        _upgrade_impl(host, pd.GAS_PRICE_ORACLE, "jovian-gas-price-oracle-deployment")
        host.call(pd.GAS_PRICE_ORACLE, _selector("setJovian()"), "setJovian", pd.L1_INFO_DEPOSITOR)
    return extra


def _selector(sig: str) -> bytes:
    return keccak(sig.encode())[:4]


def funded_dev_accounts(addresses: Iterable[str | bytes]) -> tuple[Address, ...]:
    """Normalize 0x strings / bytes to 20-byte addresses (for ``funded_accounts``)."""
    out: list[Address] = []
    for a in addresses:
        b = a if isinstance(a, bytes) else bytes.fromhex(a.removeprefix("0x"))
        if len(b) != 20:
            raise L2GenesisError(f"not an address: {a!r}")
        out.append(b)
    return tuple(out)
