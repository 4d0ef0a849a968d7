"""Traffic for a running devnet: L2 user transactions, L1 deposits and SystemConfig calls, so
that blocks (and the batches that carry them) are not empty.

- :class:`L2TxSender`: EIP-155 legacy, EIP-2930 and EIP-1559 transfers from a TEST key, signed
  locally (eth-account) and sent to the L2 EL; one per :meth:`L2TxSender.send` call.
- :func:`l1_call`: an L1 transaction from one of anvil's unlocked dev accounts (the devnet
  roles are anvil's default accounts), waiting for a successful receipt.
- :func:`deposit`: ``OptimismPortal.depositTransaction`` (specs/protocol/deposits.md "Deposit
  Contract").
"""

from __future__ import annotations

import time
from typing import Any

from eth_account import Account
from eth_utils.address import to_checksum_address

from pyop.devnet.artifacts import load_artifact
from pyop.devnet.rpc import RpcClient, RpcError
from pyop.primitives import PyopError, hex_to_int, to_hex


class TrafficError(PyopError):
    """An L1 transaction failed or was not included in time."""


def l1_call(l1_url: str, sender: str, to: str, data: bytes, value: int = 0, timeout: float = 60.0) -> int:
    """Send from the unlocked ``sender`` and wait for success; returns the L1 block number."""
    l1 = RpcClient(l1_url, timeout=10.0)
    h = str(l1.call("eth_sendTransaction", {"from": sender, "to": to, "value": hex(value),
                                           "data": to_hex(data)}))  # fmt: skip
    deadline = time.monotonic() + timeout
    while True:
        r = l1.call("eth_getTransactionReceipt", h)
        if r is not None:
            if r["status"] != "0x1":
                raise TrafficError(f"L1 tx {h} from {sender} to {to} failed")
            return hex_to_int(r["blockNumber"])
        if time.monotonic() > deadline:
            raise TrafficError(f"no receipt for L1 tx {h} after {timeout:.0f}s")
        time.sleep(0.5)


def deposit(info: Any, role: str, value: int, to: str | None = None, data: bytes = b"") -> int:
    """An L1 -> L2 deposit from ``role`` via the devnet's OptimismPortal; returns its L1 block."""
    portal = info.addresses["OptimismPortalProxy"]
    dest = to or to_checksum_address("0x" + bytes(range(0xA0, 0xB4)).hex())
    call = load_artifact("OptimismPortal").encode_call("depositTransaction", dest, value, 200_000,
                                                       False, data)  # fmt: skip
    return l1_call(info.l1_url, info.keys[role]["address"], portal, call, value=value)


def system_config_call(info: Any, fn: str, *args: Any) -> int:
    """``SystemConfig.<fn>(*args)`` from the owner (the admin role); returns its L1 block."""
    sc = info.addresses["SystemConfigProxy"]
    call = load_artifact("SystemConfig").encode_call(fn, *args)
    return l1_call(info.l1_url, info.keys["admin"]["address"], sc, call)


class L2TxSender:
    """Plain L2 transfers of the three pre-Isthmus span-batch tx types, in turn."""

    KINDS = ("legacy", "2930", "1559")

    def __init__(self, l2_url: str, chain_id: int, key: str) -> None:
        self.rpc = RpcClient(l2_url, timeout=10.0)
        self.chain_id = chain_id
        self.key = key
        self.address = Account.from_key(key).address
        self.nonce = 0
        self.i = 0
        self.sent: dict[str, int] = {}

    def send(self) -> str | None:
        """Send the next transfer; returns its hash, or None if op-geth refused it."""
        # The pending nonce every time: an unsafe reorg (window expiry) can drop sent txs, and
        # a locally counted nonce would then leave a gap that nothing fills.
        self.nonce = hex_to_int(self.rpc.call("eth_getTransactionCount", self.address, "pending"))
        kind = self.KINDS[self.i % len(self.KINDS)]
        self.i += 1
        to = to_checksum_address("0x" + bytes([0x22, self.i % 256]).hex() * 10)
        base: dict[str, Any] = {"chainId": self.chain_id, "nonce": self.nonce, "value": 1000 + self.i,
                                "to": to}  # fmt: skip
        if kind == "legacy":
            tx = {**base, "gas": 21_000, "gasPrice": 2 * 10**9}
        elif kind == "2930":
            tx = {**base, "type": 1, "gas": 30_000, "gasPrice": 2 * 10**9,
                  "accessList": [{"address": to, "storageKeys": ["0x" + "00" * 31 + "01"]}]}  # fmt: skip
        else:
            tx = {**base, "type": 2, "gas": 40_000, "maxFeePerGas": 2 * 10**9,
                  "maxPriorityFeePerGas": 10**6, "data": b"\x01\x02\x03"}  # fmt: skip
        raw = bytes(Account.sign_transaction(tx, self.key).raw_transaction)
        try:
            h = str(self.rpc.call("eth_sendRawTransaction", to_hex(raw)))
        except RpcError:
            return None
        self.sent[kind] = self.sent.get(kind, 0) + 1
        return h
