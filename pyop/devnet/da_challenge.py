"""The alt-DA ``DataAvailabilityChallenge`` contract on a devnet L1: deploy it behind a
``Proxy``, and send ``challenge`` / ``resolve`` (specs/experimental/alt-da.md "Data
Availability Challenge Contract"; contracts-bedrock ``src/L1/DataAvailabilityChallenge.sol``).

The implementation's constructor initializes itself with zero windows, so, as the OP deploy
scripts do, it is used behind a ``Proxy`` whose admin calls ``upgradeToAndCall(impl,
initialize(owner, challengeWindow, resolveWindow, bondSize, resolverRefundPercentage))``.
Transactions are signed locally (dynamic-fee) and waited for; a reverted one raises
:class:`DAChallengeError`.

Used by the tests that check pyop's DA manager against the real contract's events, and usable
by hand on a devnet to see a challenge play out.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_utils.address import to_checksum_address

from pyop.config import GENERIC_COMMITMENT, KECCAK_COMMITMENT, AltDAConfig
from pyop.devnet.artifacts import load_artifact
from pyop.devnet.rpc import RpcClient
from pyop.primitives import PyopError, from_hex, hex_to_int, to_hex


class DAChallengeError(PyopError):
    """A DataAvailabilityChallenge transaction failed or was not mined."""


@dataclass
class Sent:
    tx_hash: str
    receipt: dict[str, Any]

    @property
    def block_number(self) -> int:
        return hex_to_int(self.receipt["blockNumber"])


class DAChallengeClient:
    """Sends the contract's transactions from one key (nonces tracked locally)."""

    def __init__(self, rpc: RpcClient, private_key: str, address: str | None = None) -> None:
        self.rpc = rpc
        self.key = private_key
        self.sender = Account.from_key(private_key).address
        self.chain_id = hex_to_int(rpc.call("eth_chainId"))
        self.address = address
        self.implementation: str | None = None
        self.art = load_artifact("DataAvailabilityChallenge")

    def send(self, to: str | None, data: bytes, *, gas: int = 3_000_000, value: int = 0,
             timeout: float = 30.0) -> Sent:  # fmt: skip
        nonce = hex_to_int(self.rpc.call("eth_getTransactionCount", self.sender, "pending"))
        base = hex_to_int(self.rpc.call("eth_getBlockByNumber", "latest", False).get("baseFeePerGas") or "0x1")
        tx: dict[str, Any] = {"type": 2, "chainId": self.chain_id, "nonce": nonce, "gas": gas,
                              "maxFeePerGas": 4 * base + 10**9, "maxPriorityFeePerGas": 10**9,
                              "value": value, "data": data}  # fmt: skip
        if to is not None:
            tx["to"] = to_checksum_address(to)
        raw = Account.sign_transaction(tx, self.key).raw_transaction
        tx_hash = str(self.rpc.call("eth_sendRawTransaction", to_hex(bytes(raw))))
        deadline = time.monotonic() + timeout
        while (rcpt := self.rpc.call("eth_getTransactionReceipt", tx_hash)) is None:
            if time.monotonic() > deadline:
                raise DAChallengeError(f"transaction {tx_hash} not mined after {timeout}s")
            time.sleep(0.1)
        if hex_to_int(rcpt["status"]) != 1:
            raise DAChallengeError(f"transaction {tx_hash} reverted")
        return Sent(tx_hash, dict(rcpt))

    def deploy(self, *, challenge_window: int, resolve_window: int, bond_size: int,
               resolver_refund_percentage: int = 0) -> str:  # fmt: skip
        """Deploy implementation + ``Proxy`` (admin: this key) and initialize; returns the
        proxy address (what rollup.json's ``da_challenge_contract_address`` names)."""
        impl = self.send(None, self.art.deploy_data()).receipt["contractAddress"]
        self.implementation = str(impl)
        proxy_art = load_artifact("Proxy")
        proxy = self.send(None, proxy_art.deploy_data(self.sender)).receipt["contractAddress"]
        init = self.art.encode_call("initialize", self.sender, challenge_window, resolve_window, bond_size,
                                    resolver_refund_percentage)  # fmt: skip
        self.send(proxy, proxy_art.encode_call("upgradeToAndCall", to_checksum_address(impl), init))
        self.address = str(proxy)
        return self.address

    def _to(self) -> str:
        if self.address is None:
            raise DAChallengeError("no DataAvailabilityChallenge address (deploy first)")
        return self.address

    def challenge(self, block_number: int, commitment: bytes, *, bond: int) -> Sent:
        """``challenge(challengedBlockNumber, challengedCommitment)`` paying ``bond``."""
        return self.send(self._to(), self.art.encode_call("challenge", block_number, commitment), value=bond)

    def resolve(self, block_number: int, commitment: bytes, data: bytes) -> Sent:
        """``resolve(challengedBlockNumber, challengedCommitment, resolveData)``."""
        return self.send(self._to(), self.art.encode_call("resolve", block_number, commitment, data))

    def status(self, block_number: int, commitment: bytes) -> int:
        """``getChallengeStatus`` (0 uninitialized, 1 active, 2 resolved, 3 expired)."""
        f = self.art.function("getChallengeStatus", 2)
        out = self.rpc.call("eth_call", {"to": self._to(), "data": to_hex(f.encode(block_number, commitment))},
                            "latest")  # fmt: skip
        return int(f.decode_output(from_hex(str(out)))[0])


COMMITMENT_TYPES = {"generic": GENERIC_COMMITMENT, "keccak": KECCAK_COMMITMENT}
DEVNET_BOND_SIZE = 10**16
"""Bond of the devnet's challenge contract (0.01 ETH: above a resolve's cost at devnet fees)."""


def devnet_altda_config(
    l1_url: str, admin_key: str, commitment: str, windows: tuple[int, int]
) -> tuple[AltDAConfig, dict[str, str]]:
    """The rollup.json ``alt_da`` of a devnet and the contracts it needs: generic commitments
    have no challenge contract; keccak commitments get a ``DataAvailabilityChallenge`` behind a
    ``Proxy`` (deployed here with ``admin_key``, windows as in rollup.json, as op-node reads them
    from it). Returns the config and the new addresses (op-chain-ops ``L1Deployments`` names)."""
    if commitment not in COMMITMENT_TYPES:
        raise DAChallengeError(f"unknown alt-DA commitment type {commitment!r} (generic or keccak)")
    cw, rw = windows
    if commitment == "generic":
        return AltDAConfig(GENERIC_COMMITMENT, cw, rw), {}
    client = DAChallengeClient(RpcClient(l1_url, timeout=10.0), admin_key)
    proxy = client.deploy(challenge_window=cw, resolve_window=rw, bond_size=DEVNET_BOND_SIZE)
    addresses = {"DataAvailabilityChallenge": str(client.implementation), "DataAvailabilityChallengeProxy": proxy}
    return AltDAConfig(KECCAK_COMMITMENT, cw, rw, from_hex(proxy)), addresses


def altda_commitment_of(rollup_path: Path) -> str | None:
    """``"generic"`` / ``"keccak"`` from a devnet's rollup.json (``None``: not alt-DA)."""
    alt = json.loads(rollup_path.read_text()).get("alt_da")
    if not isinstance(alt, dict):
        return None
    return "keccak" if alt.get("da_commitment_type") == KECCAK_COMMITMENT else "generic"
