"""Well-known L2 addresses: predeploys, system accounts, and the deployer accounts of the
network-upgrade transactions.

Spec: specs/protocol/predeploys.md (the ``0x4200…`` table), specs/protocol/deposits.md
"Special Accounts on L2" (the L1 attributes depositor), ecotone/derivation.md (EIP-4788),
isthmus/derivation.md (EIP-2935), and each fork's derivation.md "Network upgrade automation
transactions" (the ``0x4210…``/``0x4220…`` deployers).

All values are 20-byte ``bytes``; ``to_checksum`` gives the EIP-55 spelling for display.
"""

from __future__ import annotations

from eth_utils.address import to_checksum_address

from pyop.primitives import Address


def _addr(hex_str: str) -> Address:
    b = bytes.fromhex(hex_str.removeprefix("0x"))
    if len(b) != 20:  # pragma: no cover - guards the constants below
        raise ValueError(f"not an address: {hex_str}")
    return b


def to_checksum(address: Address) -> str:
    """EIP-55 mixed-case hex of a 20-byte address."""
    return str(to_checksum_address(address))


# --- Predeploys (specs/protocol/predeploys.md) -------------------------------------------------
LEGACY_MESSAGE_PASSER = _addr("0x4200000000000000000000000000000000000000")
DEPLOYER_WHITELIST = _addr("0x4200000000000000000000000000000000000002")
WETH9 = _addr("0x4200000000000000000000000000000000000006")
L2_CROSS_DOMAIN_MESSENGER = _addr("0x4200000000000000000000000000000000000007")
GAS_PRICE_ORACLE = _addr("0x420000000000000000000000000000000000000F")
L2_STANDARD_BRIDGE = _addr("0x4200000000000000000000000000000000000010")
SEQUENCER_FEE_VAULT = _addr("0x4200000000000000000000000000000000000011")
OPTIMISM_MINTABLE_ERC20_FACTORY = _addr("0x4200000000000000000000000000000000000012")
L1_BLOCK_NUMBER = _addr("0x4200000000000000000000000000000000000013")
L2_ERC721_BRIDGE = _addr("0x4200000000000000000000000000000000000014")
L1_BLOCK = _addr("0x4200000000000000000000000000000000000015")
"""The L1 attributes predeploy (``L1Block``): target of the L1-info deposit."""
L2_TO_L1_MESSAGE_PASSER = _addr("0x4200000000000000000000000000000000000016")
OPTIMISM_MINTABLE_ERC721_FACTORY = _addr("0x4200000000000000000000000000000000000017")
PROXY_ADMIN = _addr("0x4200000000000000000000000000000000000018")
BASE_FEE_VAULT = _addr("0x4200000000000000000000000000000000000019")
L1_FEE_VAULT = _addr("0x420000000000000000000000000000000000001A")
OPERATOR_FEE_VAULT = _addr("0x420000000000000000000000000000000000001B")  # [New in Isthmus]
SCHEMA_REGISTRY = _addr("0x4200000000000000000000000000000000000020")
EAS = _addr("0x4200000000000000000000000000000000000021")
CROSS_L2_INBOX = _addr("0x4200000000000000000000000000000000000022")  # [Interop]
L2_TO_L2_CROSS_DOMAIN_MESSENGER = _addr("0x4200000000000000000000000000000000000023")  # [Interop]
GOVERNANCE_TOKEN = _addr("0x4200000000000000000000000000000000000042")
LEGACY_ERC20_ETH = _addr("0xDeadDeAddeAddEAddeadDEaDDEAdDeaDDeAD0000")

# --- Preinstalls placed by forks ---------------------------------------------------------------
BEACON_ROOTS = _addr("0x000F3df6D732807Ef1319fB7B8bB8522d0Beac02")
"""EIP-4788 beacon block roots contract, deployed by the Ecotone upgrade txs."""
HISTORY_STORAGE = _addr("0x0000F90827F1C53a10cb7A02335B175320002935")
"""EIP-2935 block hash history contract, deployed by the Isthmus upgrade txs."""
CREATE2_DEPLOYER = _addr("0x13b0D85CcB8bf860b6b79AF3029fCA081AE9beF2")
"""Placed by the execution layer at Canyon (canyon/overview.md)."""

# --- System accounts ---------------------------------------------------------------------------
L1_INFO_DEPOSITOR = _addr("0xDeaDDEaDDeAdDeAdDEAdDEaddeAddEAdDEAd0001")
"""The L1 attributes depositor account (deposits.md#l1-attributes-depositor-account)."""
ZERO_ADDRESS = b"\x00" * 20

# --- Upgrade-transaction deployers (each fork's derivation.md) ---------------------------------
ECOTONE_L1_BLOCK_DEPLOYER = _addr("0x4210000000000000000000000000000000000000")
ECOTONE_GAS_PRICE_ORACLE_DEPLOYER = _addr("0x4210000000000000000000000000000000000001")
FJORD_GAS_PRICE_ORACLE_DEPLOYER = _addr("0x4210000000000000000000000000000000000002")
ISTHMUS_L1_BLOCK_DEPLOYER = _addr("0x4210000000000000000000000000000000000003")
ISTHMUS_GAS_PRICE_ORACLE_DEPLOYER = _addr("0x4210000000000000000000000000000000000004")
ISTHMUS_OPERATOR_FEE_VAULT_DEPLOYER = _addr("0x4210000000000000000000000000000000000005")
JOVIAN_L1_BLOCK_DEPLOYER = _addr("0x4210000000000000000000000000000000000006")
JOVIAN_GAS_PRICE_ORACLE_DEPLOYER = _addr("0x4210000000000000000000000000000000000007")
INTEROP_CROSS_L2_INBOX_DEPLOYER = _addr("0x4220000000000000000000000000000000000000")
INTEROP_L2_TO_L2_XDM_DEPLOYER = _addr("0x4220000000000000000000000000000000000001")
EIP4788_DEPLOYER = _addr("0x0B799C86a49DEeb90402691F1041aa3AF2d3C875")
"""The sender of the EIP-4788 deployment, as the EIP specifies (ecotone/derivation.md)."""
EIP2935_DEPLOYER = _addr("0x3462413Af4609098e1E27A490f554f260213D685")
"""The sender of the EIP-2935 deployment, as the EIP specifies (isthmus/derivation.md)."""
