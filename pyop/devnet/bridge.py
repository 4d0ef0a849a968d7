"""Moving ETH between the devnet's L1 and L2 with the ``user`` TEST key: a deposit, and a
withdrawal through all its steps (for the dashboard's scenario buttons, tests and teaching).

- :func:`deposit_eth`: send ETH to ``OptimismPortal``; its ``receive()`` calls
  ``depositTransaction(msg.sender, value, 100000, false, "")``, which emits
  ``TransactionDeposited`` (specs/protocol/deposits.md "Deposit Contract"). The rollup node turns
  the log into a deposit transaction (type ``0x7e``) at the start of the first L2 block of the
  next epoch whose L1 origin is that L1 block ("User-Deposited Transactions"); its L2 hash is
  known in advance from the log (:func:`pyop.protocol.deposit_log.deposit_tx_from_log`).
- :func:`initiate_withdrawal`: ``L2ToL1MessagePasser.initiateWithdrawal(user, 100000, "")`` with
  ETH (specs/protocol/withdrawals.md "The L2ToL1MessagePasser Contract").
- :func:`prove_withdrawal`: once an output proposal covers the withdrawal's L2 block,
  ``OptimismPortal.proveWithdrawalTransaction`` with the output root proof (version, state root,
  message-passer storage root, block hash of the proposed block) and the storage proof of
  ``sentMessages[withdrawalHash]`` from ``eth_getProof`` at that block (withdrawals.md
  "Withdrawal Verification and Finalization").
- :func:`finalize_withdrawal`: ``finalizeWithdrawalTransaction`` after the finalization period
  (L2OutputOracle: ``FINALIZATION_PERIOD_SECONDS``; OptimismPortal2: game resolved and both
  delays passed).

:func:`pyop.devnet.withdrawals.withdrawal_status` reads which of these steps a withdrawal has
reached.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_account import Account
from eth_hash.auto import keccak
from eth_utils.address import to_checksum_address

from pyop.devnet.artifacts import load_artifact
from pyop.devnet.l1_deploy import eth_call
from pyop.devnet.rpc import RpcClient, RpcError
from pyop.devnet.stack import DevnetInfo, StackError
from pyop.primitives import from_hex, hex_to_int, to_hex
from pyop.protocol.deposit_log import deposit_tx_from_log
from pyop.protocol.l1_types import Log
from pyop.protocol.predeploys import L2_TO_L1_MESSAGE_PASSER

PASSER = to_checksum_address("0x" + L2_TO_L1_MESSAGE_PASSER.hex())
WITHDRAWAL_GAS_LIMIT = 100_000

__all__ = [
    "BridgeError",
    "Deposit",
    "WithdrawalTx",
    "deposit_eth",
    "finalize_withdrawal",
    "initiate_withdrawal",
    "prove_withdrawal",
    "send_l2_transfer",
]


class BridgeError(StackError):
    """A bridge step failed (reverted, not yet possible, no receipt)."""


def _send(rpc: RpcClient, key: str, chain_id: int, to: str, data: bytes, *, value: int = 0,
          gas: int = 500_000, timeout: float = 60.0) -> dict[str, Any]:  # fmt: skip
    """Sign and send one EIP-1559 transaction; wait for its receipt; raise on a revert."""
    acct = Account.from_key(key)
    nonce = hex_to_int(rpc.call("eth_getTransactionCount", acct.address, "pending"))
    base = hex_to_int(rpc.call("eth_getBlockByNumber", "latest", False).get("baseFeePerGas") or "0x0")
    tip = 10**6
    tx = {"type": 2, "chainId": chain_id, "nonce": nonce, "to": to_checksum_address(to),
          "value": value, "data": data, "gas": gas, "maxPriorityFeePerGas": tip,
          "maxFeePerGas": 3 * base + 10**9}  # fmt: skip
    raw = bytes(Account.sign_transaction(tx, acct.key).raw_transaction)
    h = str(rpc.call("eth_sendRawTransaction", to_hex(raw)))
    deadline = time.monotonic() + timeout
    while True:
        rcpt = rpc.call("eth_getTransactionReceipt", h)
        if rcpt is not None:
            break
        if time.monotonic() > deadline:
            raise BridgeError(f"no receipt for {h} after {timeout:.0f}s")
        time.sleep(0.2)
    if hex_to_int(rcpt["status"]) != 1:
        raise BridgeError(f"transaction {h} to {to} reverted")
    return dict(rcpt)


def send_l2_transfer(info: DevnetInfo, *, value: int = 1, key: str | None = None) -> str:
    """A plain L2 transfer from ``user`` to itself, without waiting (returns the tx hash):
    traffic that lets a learner see user transactions in unsafe blocks."""
    rpc = RpcClient(info.l2_rpc_url, timeout=10.0)
    acct = Account.from_key(key or info.key("user"))
    nonce = hex_to_int(rpc.call("eth_getTransactionCount", acct.address, "pending"))
    tx = {"type": 2, "chainId": info.l2_chain_id, "nonce": nonce, "to": acct.address,
          "value": value, "gas": 21_000, "maxPriorityFeePerGas": 10**6, "maxFeePerGas": 2 * 10**9}  # fmt: skip
    raw = bytes(Account.sign_transaction(tx, acct.key).raw_transaction)
    return str(rpc.call("eth_sendRawTransaction", to_hex(raw)))


# --------------------------------------------------------------------------- deposits


@dataclass(frozen=True, slots=True)
class Deposit:
    l1_tx: str
    l1_block: int
    l2_tx: str
    """The hash the deposit transaction will have on L2 (computed from the L1 log)."""
    value: int


def log_from_json(obj: dict[str, Any]) -> Log:
    return Log(
        address=from_hex(obj["address"]),
        topics=tuple(from_hex(t) for t in obj["topics"]),
        data=from_hex(obj["data"]),
        block_hash=from_hex(obj["blockHash"]),
        log_index=hex_to_int(obj["logIndex"]),
        block_number=hex_to_int(obj["blockNumber"]),
        tx_hash=from_hex(obj["transactionHash"]),
        tx_index=hex_to_int(obj["transactionIndex"]),
    )


def deposit_eth(info: DevnetInfo, value: int, *, key: str | None = None) -> Deposit:
    """Deposit ``value`` wei from ``user`` (or ``key``) to the same address on L2."""
    l1 = RpcClient(info.l1_url, timeout=10.0)
    portal = info.addresses["OptimismPortalProxy"]
    rcpt = _send(l1, key or info.key("user"), info.l1_chain_id, portal, b"", value=value)
    topic = to_hex(load_artifact("OptimismPortal").event_topic("TransactionDeposited"))
    for lg in rcpt["logs"]:
        if lg["address"].lower() == portal.lower() and lg["topics"][0] == topic:
            dep = deposit_tx_from_log(log_from_json(lg))
            return Deposit(str(rcpt["transactionHash"]), hex_to_int(rcpt["blockNumber"]),
                           to_hex(dep.tx_hash()), value)  # fmt: skip
    raise BridgeError(f"deposit {rcpt['transactionHash']} emitted no TransactionDeposited")


# --------------------------------------------------------------------------- withdrawals


@dataclass(frozen=True, slots=True)
class WithdrawalTx:
    """``Types.WithdrawalTransaction`` and where it was initiated."""

    nonce: int
    sender: str
    target: str
    value: int
    gas_limit: int
    data: bytes
    withdrawal_hash: str
    l2_tx: str
    l2_block: int

    def as_tuple(self) -> tuple[int, str, str, int, int, bytes]:
        return (self.nonce, self.sender, self.target, self.value, self.gas_limit, self.data)


def _withdrawal_from_receipt(rcpt: dict[str, Any]) -> WithdrawalTx:
    topic = to_hex(load_artifact("L2ToL1MessagePasser").event_topic("MessagePassed"))
    for lg in rcpt["logs"]:
        if lg["address"].lower() == PASSER.lower() and lg["topics"][0] == topic:
            value, gas, data, wh = abi_decode(["uint256", "uint256", "bytes", "bytes32"],
                                              from_hex(lg["data"]))  # fmt: skip
            return WithdrawalTx(
                nonce=hex_to_int(lg["topics"][1]),
                sender=to_checksum_address("0x" + lg["topics"][2][-40:]),
                target=to_checksum_address("0x" + lg["topics"][3][-40:]),
                value=int(value), gas_limit=int(gas), data=bytes(data),
                withdrawal_hash=to_hex(bytes(wh)), l2_tx=str(rcpt["transactionHash"]),
                l2_block=hex_to_int(rcpt["blockNumber"]),
            )  # fmt: skip
    raise BridgeError(f"L2 transaction {rcpt['transactionHash']} initiated no withdrawal")


def initiate_withdrawal(info: DevnetInfo, value: int, *, key: str | None = None) -> WithdrawalTx:
    """Withdraw ``value`` wei from ``user`` on L2 to the same address on L1 (step 1)."""
    key = key or info.key("user")
    target = Account.from_key(key).address
    fn = load_artifact("L2ToL1MessagePasser").function("initiateWithdrawal")
    rcpt = _send(RpcClient(info.l2_rpc_url, timeout=10.0), key, info.l2_chain_id, PASSER,
                 fn.encode(target, WITHDRAWAL_GAS_LIMIT, b""), value=value)  # fmt: skip
    return _withdrawal_from_receipt(rcpt)


def withdrawal_tx(info: DevnetInfo, l2_tx: str) -> WithdrawalTx:
    """The withdrawal an L2 transaction initiated."""
    rcpt = RpcClient(info.l2_rpc_url, timeout=10.0).call("eth_getTransactionReceipt", l2_tx)
    if rcpt is None:
        raise BridgeError(f"no L2 transaction {l2_tx}")
    return _withdrawal_from_receipt(dict(rcpt))


def _proposal_for(info: DevnetInfo, l1: RpcClient, block: int) -> tuple[int, int]:
    """``(index, proposed L2 block)`` of the first usable proposal at or after ``block``:
    the L2OutputOracle output index, or the dispute game index (respected type, not lost)."""
    if info.fault_proofs is None:
        l2oo = load_artifact("L2OutputOracle")
        oracle = info.addresses["L2OutputOracleProxy"]
        (latest,) = eth_call(l1, oracle, l2oo, "latestBlockNumber")
        if int(latest) < block:
            raise BridgeError(f"not provable yet: the latest output proposal is for L2 block "
                              f"{int(latest)}, the withdrawal is in block {block}")  # fmt: skip
        (idx,) = eth_call(l1, oracle, l2oo, "getL2OutputIndexAfter", block)
        ((_root, _ts, num),) = eth_call(l1, oracle, l2oo, "getL2Output", int(idx))
        return int(idx), int(num)
    p2 = load_artifact("OptimismPortal2")
    portal = info.addresses["OptimismPortalProxy"]
    (gtype,) = eth_call(l1, portal, p2, "respectedGameType")
    dgf, game = load_artifact("DisputeGameFactory"), load_artifact("FaultDisputeGame")
    factory = info.addresses["DisputeGameFactoryProxy"]
    (count,) = eth_call(l1, factory, dgf, "gameCount")
    for i in range(int(count) - 1, -1, -1):
        (t, _ts, addr) = eth_call(l1, factory, dgf, "gameAtIndex", i)
        (b,) = eth_call(l1, addr, game, "l2BlockNumber")
        (status,) = eth_call(l1, addr, game, "status")
        if int(t) == int(gtype) and int(b) >= block and int(status) != 1:
            return i, int(b)
    raise BridgeError(f"not provable yet: no dispute game of type {int(gtype)} for L2 block "
                      f"{block} or later")  # fmt: skip


def prove_withdrawal(info: DevnetInfo, w: WithdrawalTx, *, key: str | None = None) -> str:
    """Step 3: ``proveWithdrawalTransaction``; returns the L1 tx hash."""
    l1 = RpcClient(info.l1_url, timeout=10.0)
    l2 = RpcClient(info.l2_rpc_url, timeout=20.0)
    index, proposed = _proposal_for(info, l1, w.l2_block)
    blk = l2.call("eth_getBlockByNumber", hex(proposed), False)
    slot = keccak(from_hex(w.withdrawal_hash) + abi_encode(["uint256"], [0]))
    proof = l2.call("eth_getProof", PASSER, [to_hex(slot)], hex(proposed))
    storage = proof["storageProof"][0]
    if hex_to_int(storage["value"]) != 1:
        raise BridgeError(f"sentMessages[{w.withdrawal_hash}] is not set at L2 block {proposed}")
    output_proof = (b"\x00" * 32, from_hex(blk["stateRoot"]), from_hex(proof["storageHash"]),
                    from_hex(blk["hash"]))  # fmt: skip
    art = load_artifact("OptimismPortal2" if info.fault_proofs is not None else "OptimismPortal")
    data = art.function("proveWithdrawalTransaction").encode(
        w.as_tuple(), index, output_proof, [from_hex(p) for p in storage["proof"]])
    rcpt = _send(l1, key or info.key("user"), info.l1_chain_id, info.addresses["OptimismPortalProxy"],
                 data, gas=1_000_000)  # fmt: skip
    return str(rcpt["transactionHash"])


def finalize_withdrawal(info: DevnetInfo, w: WithdrawalTx, *, key: str | None = None) -> str:
    """Step 5: ``finalizeWithdrawalTransaction``; returns the L1 tx hash."""
    l1 = RpcClient(info.l1_url, timeout=10.0)
    art = load_artifact("OptimismPortal2" if info.fault_proofs is not None else "OptimismPortal")
    data = art.function("finalizeWithdrawalTransaction").encode(w.as_tuple())
    portal = info.addresses["OptimismPortalProxy"]
    try:
        l1.call("eth_call", {"from": Account.from_key(key or info.key("user")).address,
                             "to": portal, "data": to_hex(data)}, "latest")  # fmt: skip
    except RpcError as e:
        raise BridgeError(f"not finalizable yet: {e.message}") from None
    rcpt = _send(l1, key or info.key("user"), info.l1_chain_id, portal, data, gas=1_000_000)
    return str(rcpt["transactionHash"])
