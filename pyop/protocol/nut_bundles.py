"""Network Upgrade Transaction (NUT) bundles: the upgrade deposits of Karst and Lagoon.

From Karst on, op-node v1.19.6 no longer writes a fork's upgrade deposits in code: it reads them
from a JSON bundle embedded in the binary (op-node/rollup/derive/upgrade_transaction.go,
``op-core/nuts/bundles/<fork>_nut_bundle.json``; kona generates the same deposits from the same
files). The specs mirror (Apr 2026) has no consensus text for Karst, so op-node is the reference.
The bundles ship as data in ``pyop/protocol/bundles/`` (README there: provenance and hashes).

Bundle format (``metadata.version`` must be ``"1.0.0"``)::

    {"metadata": {"version": "1.0.0"},
     "transactions": [{"intent": "...", "from": "0x..", "to": "0x.." | null,
                       "data": "0x..", "gasLimit": N}, ...]}

Transaction ``i`` becomes a deposit (deposits.md "Upgrade-deposited") with ``mint = value = 0``,
``isSystemTx = false``, the bundle's ``from``/``to``/``gasLimit``/``data``, and the source hash of
the *qualified* intent ``"<Label> <i>: <intent>"`` where the label is the bundle's name with its
first letter upper-cased (op-node ``capitalizeForkName``, kona ``build_helpers.rs::capitalize``).
The Lagoon bundle keeps the label ``interop`` (op-node ``nutBundleForFork``: the fork was renamed,
the source hashes were not).

Upgrade gas: op-node adds gas to the activation block's gas limit so the bundle need not fit in
the SystemConfig gas limit (``PreparePayloadAttributes``: ``gasLimit = sysConfig.GasLimit +
upgradeGas``): the bundle's total ``gasLimit``, plus for Lagoon the two interop wrapper deposits'
gas (``UpgradeGas``), whether or not the wrappers are emitted.

Lagoon wrappers (op-node lagoon_activation_transactions.go): on a chain whose dependency set has
more than one chain, the bundle is preceded by ``setFeature(bytes32("INTEROP"))`` on L1Block
(intent ``"Interop pre: setFeature(INTEROP)"``, gas 100,000) and followed by ``fund()`` on
ETHLiquidity minting ``2**128 - 1`` (intent ``"Interop post: ETHLiquidity Funding"``, gas 50,000),
both from the L1-info depositor.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

from eth_hash.auto import keccak

from pyop.codec.errors import CodecError
from pyop.primitives import Address
from pyop.protocol import predeploys as pd
from pyop.protocol.deposits import DepositTx, upgrade_deposit_source_hash

NUT_BUNDLE_VERSION = "1.0.0"
"""The only bundle schema version op-node v1.19.6 accepts (``nutBundleVersion``)."""

INTEROP_SET_FEATURE_GAS = 100_000
INTEROP_ETH_LIQUIDITY_FUND_GAS = 50_000
INTEROP_ETH_LIQUIDITY_FUNDING = (1 << 128) - 1
"""``InteropETHLiquidityFundingAmount``: the max uint128, minted into ETHLiquidity."""
ETH_LIQUIDITY = bytes.fromhex("4200000000000000000000000000000000000025")


class NUTBundleError(CodecError):
    """A NUT bundle that does not parse (op-node: a critical error)."""


@dataclass(frozen=True, slots=True)
class NUTTransaction:
    """One bundle entry (op-node ``networkUpgradeTransaction``)."""

    intent: str
    from_: Address
    to: Address | None
    data: bytes
    gas_limit: int


@dataclass(frozen=True, slots=True)
class NUTBundle:
    """A parsed bundle; ``label`` qualifies the intents (``"karst"``, ``"interop"``)."""

    label: str
    transactions: tuple[NUTTransaction, ...]

    def total_gas(self) -> int:
        """Sum of the entries' ``gasLimit`` (op-node ``totalGas``)."""
        return sum(t.gas_limit for t in self.transactions)

    def qualified_intent(self, index: int) -> str:
        """``"<Label> <index>: <intent>"`` (op-node ``toDepositTransactions``)."""
        return (
            f"{self.label[:1].upper()}{self.label[1:]} {index}: {self.transactions[index].intent}"
        )

    def deposits(self) -> list[DepositTx]:
        """The bundle as upgrade deposits, in bundle order."""
        return [
            DepositTx(
                source_hash=upgrade_deposit_source_hash(self.qualified_intent(i)),
                from_=t.from_,
                to=t.to,
                mint=0,
                value=0,
                gas=t.gas_limit,
                is_system_tx=False,
                data=t.data,
            )
            for i, t in enumerate(self.transactions)
        ]


def _hex(v: object, what: str, size: int | None = None) -> bytes:
    if not isinstance(v, str) or not v.startswith("0x"):
        raise NUTBundleError(f"{what}: expected 0x-hex, got {v!r}")
    try:
        b = bytes.fromhex(v[2:])
    except ValueError:
        raise NUTBundleError(f"{what}: bad hex") from None
    if size is not None and len(b) != size:
        raise NUTBundleError(f"{what}: expected {size} bytes, got {len(b)}")
    return b


def parse_nut_bundle(label: str, obj: object) -> NUTBundle:
    """Parse a decoded bundle JSON object (see the module docstring for the format)."""
    if not isinstance(obj, dict):
        raise NUTBundleError("bundle: expected an object")
    meta = obj.get("metadata")
    version = meta.get("version") if isinstance(meta, dict) else None
    if version != NUT_BUNDLE_VERSION:
        raise NUTBundleError(
            f"unsupported NUT bundle version: got {version!r}, want {NUT_BUNDLE_VERSION!r}"
        )
    raw = obj.get("transactions")
    if not isinstance(raw, list):
        raise NUTBundleError("bundle: transactions must be a list")
    txs: list[NUTTransaction] = []
    for i, t in enumerate(raw):
        w = f"transactions[{i}]"
        if not isinstance(t, dict):
            raise NUTBundleError(f"{w}: expected an object")
        intent = t.get("intent")
        if not isinstance(intent, str) or not intent:
            raise NUTBundleError(f"tx {i}: missing intent")
        gas = t.get("gasLimit")
        if isinstance(gas, bool) or not isinstance(gas, int) or not 0 <= gas < 1 << 64:
            raise NUTBundleError(f"{w}.gasLimit: expected a uint64, got {gas!r}")
        to = t.get("to")
        txs.append(NUTTransaction(
            intent=intent,
            from_=_hex(t.get("from"), f"{w}.from", 20),
            to=None if to is None else _hex(to, f"{w}.to", 20),
            data=_hex(t.get("data", "0x"), f"{w}.data"),
            gas_limit=gas,
        ))  # fmt: skip
    return NUTBundle(label, tuple(txs))


@cache
def load_nut_bundle(name: str, label: str) -> NUTBundle:
    """The shipped bundle ``pyop/protocol/bundles/<name>_nut_bundle.json``."""
    text = (
        resources.files("pyop.protocol").joinpath("bundles", f"{name}_nut_bundle.json").read_text()
    )
    try:
        obj = json.loads(text)
    except ValueError as e:
        raise NUTBundleError(f"{name} NUT bundle: not JSON: {e}") from None
    return parse_nut_bundle(label, obj)


def karst_bundle() -> NUTBundle:
    """The Karst bundle (31 deposits; op-node ``UpgradeTransactions(forks.Karst)``)."""
    return load_nut_bundle("karst", "karst")


def lagoon_bundle() -> NUTBundle:
    """The Lagoon bundle, labelled ``interop`` (op-node ``nutBundleForFork``)."""
    return load_nut_bundle("lagoon", "interop")


def interop_set_feature_deposit() -> DepositTx:
    """The pre-bundle ``setFeature(bytes32("INTEROP"))`` wrapper on L1Block."""
    data = bytes(keccak(b"setFeature(bytes32)"))[:4] + b"INTEROP".ljust(32, b"\x00")
    return DepositTx(upgrade_deposit_source_hash("Interop pre: setFeature(INTEROP)"),
                     pd.L1_INFO_DEPOSITOR, pd.L1_BLOCK, 0, 0, INTEROP_SET_FEATURE_GAS, False, data)  # fmt: skip


def interop_eth_liquidity_funding_deposit() -> DepositTx:
    """The post-bundle ``fund()`` wrapper minting ``2**128 - 1`` into ETHLiquidity."""
    amount = INTEROP_ETH_LIQUIDITY_FUNDING
    return DepositTx(upgrade_deposit_source_hash("Interop post: ETHLiquidity Funding"),
                     pd.L1_INFO_DEPOSITOR, ETH_LIQUIDITY, amount, amount,
                     INTEROP_ETH_LIQUIDITY_FUND_GAS, False, bytes(keccak(b"fund()"))[:4])  # fmt: skip


def karst_upgrade_deposits() -> list[DepositTx]:
    """The Karst activation block's upgrade deposits."""
    return karst_bundle().deposits()


def karst_upgrade_gas() -> int:
    """Gas added to the Karst activation block (op-node ``UpgradeGas(forks.Karst)``)."""
    return karst_bundle().total_gas()


def lagoon_upgrade_deposits(activate_interop_contracts: bool) -> list[DepositTx]:
    """The Lagoon activation block's upgrade deposits (op-node
    ``LagoonActivationUpgradeTransactions``): the bundle, wrapped by the two interop deposits
    when ``activate_interop_contracts`` (interop active and more than one chain in the
    dependency set)."""
    txs = lagoon_bundle().deposits()
    if activate_interop_contracts:
        txs = [interop_set_feature_deposit(), *txs, interop_eth_liquidity_funding_deposit()]
    return txs


def lagoon_upgrade_gas() -> int:
    """Gas added to the Lagoon activation block, wrappers included either way (op-node
    ``UpgradeGas(forks.Lagoon)``)."""
    return lagoon_bundle().total_gas() + INTEROP_SET_FEATURE_GAS + INTEROP_ETH_LIQUIDITY_FUND_GAS
