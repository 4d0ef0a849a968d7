"""Deterministic TEST keys for the local devnet roles.

Every key is derived (BIP-32/BIP-44 path ``m/44'/60'/0'/0/<index>``) from the well-known test
mnemonic ``test test ... junk`` that anvil and hardhat fund by default, so the devnet accounts
are anvil's dev accounts 0..5. These keys are PUBLIC: never use them on a real network. Their
string forms say so.

Roles follow the OP Stack getting-started guide (admin, batcher, proposer, sequencer) plus a
challenger for the L2OutputOracle and a user account for deposits and tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from eth_account import Account

TEST_MNEMONIC = "test test test test test test test test test test test junk"
"""The public test mnemonic funded by anvil's default genesis (10 000 ETH per account)."""

TEST_KEY_LABEL = "TEST KEY (public test mnemonic; never use on a real network)"

ROLE_INDEX: dict[str, int] = {
    "admin": 0,
    "batcher": 1,
    "proposer": 2,
    "sequencer": 3,
    "challenger": 4,
    "user": 5,
}
"""The account index of each role under :data:`TEST_MNEMONIC`."""


@dataclass(frozen=True, slots=True)
class DevKey:
    """One role's account: ``address`` is the 0x checksum address, ``private_key`` 32 bytes."""

    role: str
    index: int
    address: str
    private_key: bytes

    @property
    def private_key_hex(self) -> str:
        """``0x``-prefixed hex private key (what op-batcher's ``--private-key`` expects)."""
        return "0x" + self.private_key.hex()

    @property
    def address_bytes(self) -> bytes:
        return bytes.fromhex(self.address[2:])

    def __repr__(self) -> str:
        return f"DevKey(role={self.role!r}, index={self.index}, address={self.address}, {TEST_KEY_LABEL})"

    def __str__(self) -> str:
        return f"{self.role}: {self.address} [{TEST_KEY_LABEL}]"


@dataclass(frozen=True, slots=True)
class DevKeys:
    """The devnet's accounts by role (all TEST keys)."""

    admin: DevKey
    batcher: DevKey
    proposer: DevKey
    sequencer: DevKey
    challenger: DevKey
    user: DevKey

    def all(self) -> tuple[DevKey, ...]:
        return (self.admin, self.batcher, self.proposer, self.sequencer, self.challenger, self.user)

    def to_json(self, *, include_private_keys: bool = True) -> dict[str, object]:
        """A JSON-ready mapping ``role -> {address, privateKey?, index}`` with a ``_warning``."""
        out: dict[str, object] = {"_warning": TEST_KEY_LABEL, "mnemonic": TEST_MNEMONIC}
        for k in self.all():
            entry: dict[str, object] = {"address": k.address, "index": k.index}
            if include_private_keys:
                entry["privateKey"] = k.private_key_hex
            out[k.role] = entry
        return out

    def __str__(self) -> str:
        return "\n".join(str(k) for k in self.all())


@cache
def derive_key(index: int, mnemonic: str = TEST_MNEMONIC) -> tuple[str, bytes]:
    """``(checksum address, private key)`` of account ``index`` (path m/44'/60'/0'/0/index)."""
    Account.enable_unaudited_hdwallet_features()
    acct = Account.from_mnemonic(mnemonic, account_path=f"m/44'/60'/0'/0/{index}")
    return str(acct.address), bytes(acct.key)


def dev_key(role: str, index: int | None = None, mnemonic: str = TEST_MNEMONIC) -> DevKey:
    """The TEST key of ``role`` (index from :data:`ROLE_INDEX` unless given)."""
    i = ROLE_INDEX[role] if index is None else index
    address, key = derive_key(i, mnemonic)
    return DevKey(role=role, index=i, address=address, private_key=key)


def dev_keys(mnemonic: str = TEST_MNEMONIC) -> DevKeys:
    """All devnet role keys (anvil dev accounts 0..5 for the default mnemonic)."""
    return DevKeys(**{role: dev_key(role, mnemonic=mnemonic) for role in ROLE_INDEX})
