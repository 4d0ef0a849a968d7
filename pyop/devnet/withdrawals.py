"""``pyop devnet status``'s teaching views: the latest output proposal, and where a withdrawal is
on its way from L2 to L1.

A withdrawal (specs/protocol/withdrawals.md) goes through five states, each read from the chain:

1. **initiated**: ``L2ToL1MessagePasser`` emitted ``MessagePassed(..., withdrawalHash)`` on L2
   and stored ``sentMessages[withdrawalHash] = true``.
2. **provable**: an output proposal covers its L2 block (L2OutputOracle: ``latestBlockNumber() >=
   block``; fault proofs: a game of the respected type for a block at or after it, not lost by
   its proposer), so ``proveWithdrawalTransaction`` can show the message passer storage root.
3. **proven**: the portal recorded the proof (``provenWithdrawals(hash).timestamp != 0``;
   OptimismPortal2: ``numProofSubmitters(hash) > 0``).
4. **finalizable**: the waiting is over (L2OutputOracle: the proof is older than
   ``FINALIZATION_PERIOD_SECONDS``; OptimismPortal2: ``checkWithdrawal`` passes, i.e. the game
   resolved DEFENDER_WINS, the finality delay and the proof maturity delay have passed).
5. **finalized**: ``finalizedWithdrawals(hash)``; the ETH or message reached L1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode as abi_decode

from pyop.devnet.artifacts import load_artifact
from pyop.devnet.l1_deploy import eth_call
from pyop.devnet.rpc import RpcClient, RpcError
from pyop.devnet.stack import DevnetInfo
from pyop.primitives import PyopError, hex_to_int, to_hex
from pyop.protocol.predeploys import L2_TO_L1_MESSAGE_PASSER

STATES = ("initiated", "provable", "proven", "finalizable", "finalized")
PASSER = "0x" + L2_TO_L1_MESSAGE_PASSER.hex()


class WithdrawalNotFound(PyopError):
    """No withdrawal with that hash (or L2 transaction hash) on the devnet's L2."""


@dataclass(frozen=True, slots=True)
class Proposal:
    """The latest output proposal: L2 block, output root, L1 transaction (and for a dispute game
    its address and status)."""

    l2_block: int
    output_root: str
    l1_tx: str | None
    kind: str
    game: str | None = None
    game_status: str | None = None


def _topic(artifact: str, event: str) -> str:
    return to_hex(load_artifact(artifact).event_topic(event))


def latest_proposal(info: DevnetInfo) -> Proposal | None:
    l1 = RpcClient(info.l1_url, timeout=5.0)
    if info.fault_proofs is not None:
        dgf, game = load_artifact("DisputeGameFactory"), load_artifact("FaultDisputeGame")
        factory = info.addresses["DisputeGameFactoryProxy"]
        (count,) = eth_call(l1, factory, dgf, "gameCount")
        if int(count) == 0:
            return None
        (_t, _ts, addr) = eth_call(l1, factory, dgf, "gameAtIndex", int(count) - 1)
        (root,) = eth_call(l1, addr, game, "rootClaim")
        (block,) = eth_call(l1, addr, game, "l2BlockNumber")
        (status,) = eth_call(l1, addr, game, "status")
        logs = l1.call("eth_getLogs", {"address": factory, "fromBlock": "0x0", "toBlock": "latest",
                                       "topics": [_topic("DisputeGameFactory", "DisputeGameCreated"),
                                                  "0x" + "00" * 12 + str(addr)[2:].lower()]})  # fmt: skip
        tx = logs[-1]["transactionHash"] if logs else None
        st = {0: "IN_PROGRESS", 1: "CHALLENGER_WINS", 2: "DEFENDER_WINS"}.get(int(status), "?")
        return Proposal(int(block), to_hex(bytes(root)), tx, "dispute game", str(addr), st)
    l2oo = load_artifact("L2OutputOracle")
    oracle = info.addresses["L2OutputOracleProxy"]
    (latest,) = eth_call(l1, oracle, l2oo, "latestBlockNumber")
    if int(latest) == 0:
        return None
    ((root, _ts, block),) = eth_call(l1, oracle, l2oo, "getL2OutputAfter", int(latest))
    logs = l1.call("eth_getLogs", {"address": oracle, "fromBlock": "0x0", "toBlock": "latest",
                                   "topics": [_topic("L2OutputOracle", "OutputProposed"), None,
                                              None, f"0x{int(block):064x}"]})  # fmt: skip
    tx = logs[-1]["transactionHash"] if logs else None
    return Proposal(int(block), to_hex(bytes(root)), tx, "L2OutputOracle")


@dataclass(frozen=True, slots=True)
class Withdrawal:
    withdrawal_hash: str
    l2_tx: str
    l2_block: int
    state: str
    reached: tuple[str, ...]
    details: dict[str, Any]


def _find(info: DevnetInfo, h: str) -> tuple[str, str, int]:
    """(withdrawal hash, L2 tx hash, L2 block) for a withdrawal hash or an L2 tx hash."""
    l2 = RpcClient(info.l2_rpc_url, timeout=5.0)
    topic = _topic("L2ToL1MessagePasser", "MessagePassed")

    def whash(log: dict[str, Any]) -> str:
        _v, _g, _d, wh = abi_decode(["uint256", "uint256", "bytes", "bytes32"],
                                    bytes.fromhex(log["data"][2:]))  # fmt: skip
        return to_hex(bytes(wh))

    rcpt = None
    try:
        rcpt = l2.call("eth_getTransactionReceipt", h)
    except RpcError:
        rcpt = None
    if rcpt:
        for log in rcpt["logs"]:
            if log["address"].lower() == PASSER and log["topics"][0] == topic:
                return whash(log), h, hex_to_int(rcpt["blockNumber"])
        raise WithdrawalNotFound(f"L2 transaction {h} initiated no withdrawal")
    logs = l2.call("eth_getLogs", {"address": PASSER, "fromBlock": "0x0", "toBlock": "latest",
                                   "topics": [topic]})  # fmt: skip
    for log in logs:
        if whash(log) == h.lower():
            return h.lower(), log["transactionHash"], hex_to_int(log["blockNumber"])
    raise WithdrawalNotFound(f"no withdrawal {h} on L2 (give the withdrawal hash or the L2 tx "
                             "hash that initiated it)")  # fmt: skip


def withdrawal_status(info: DevnetInfo, h: str) -> Withdrawal:
    """The state of withdrawal ``h`` (module docstring)."""
    wh, l2_tx, block = _find(info, h)
    l1 = RpcClient(info.l1_url, timeout=5.0)
    portal = info.addresses["OptimismPortalProxy"]
    details: dict[str, Any] = {}
    reached = ["initiated"]
    whb = bytes.fromhex(wh[2:])
    if info.fault_proofs is not None:
        p2 = load_artifact("OptimismPortal2")
        (gtype,) = eth_call(l1, portal, p2, "respectedGameType")
        dgf, game = load_artifact("DisputeGameFactory"), load_artifact("FaultDisputeGame")
        factory = info.addresses["DisputeGameFactoryProxy"]
        (count,) = eth_call(l1, factory, dgf, "gameCount")
        for i in range(int(count) - 1, -1, -1):
            (t, _ts, addr) = eth_call(l1, factory, dgf, "gameAtIndex", i)
            (b,) = eth_call(l1, addr, game, "l2BlockNumber")
            (status,) = eth_call(l1, addr, game, "status")
            if int(t) == int(gtype) and int(b) >= block and int(status) != 1:
                details["game"] = {"index": i, "address": str(addr), "l2Block": int(b)}
                reached.append("provable")
                break
        (n,) = eth_call(l1, portal, p2, "numProofSubmitters", whb)
        if int(n) > 0:
            reached.append("proven")
            (submitter,) = eth_call(l1, portal, p2, "proofSubmitters", whb, 0)
            details["proofSubmitter"] = str(submitter)
            try:
                eth_call(l1, portal, p2, "checkWithdrawal", whb, submitter)
                reached.append("finalizable")
            except RpcError as e:
                details["notFinalizableBecause"] = e.message
        (done,) = eth_call(l1, portal, p2, "finalizedWithdrawals", whb)
    else:
        p1, l2oo = load_artifact("OptimismPortal"), load_artifact("L2OutputOracle")
        oracle = info.addresses["L2OutputOracleProxy"]
        (latest,) = eth_call(l1, oracle, l2oo, "latestBlockNumber")
        details["latestProposedBlock"] = int(latest)
        if int(latest) >= block:
            reached.append("provable")
        (_root, proven_at, _idx) = eth_call(l1, portal, p1, "provenWithdrawals", whb)
        if int(proven_at) != 0:
            reached.append("proven")
            (period,) = eth_call(l1, oracle, l2oo, "FINALIZATION_PERIOD_SECONDS")
            now = hex_to_int(l1.call("eth_getBlockByNumber", "latest", False)["timestamp"])
            details["finalizableAt"] = int(proven_at) + int(period) + 1
            if now > int(proven_at) + int(period):
                reached.append("finalizable")
        (done,) = eth_call(l1, portal, p1, "finalizedWithdrawals", whb)
    if done:
        reached = list(STATES)
    # A later state implies the earlier ones (e.g. proven against a game since superseded).
    state = max(reached, key=STATES.index)
    return Withdrawal(wh, l2_tx, block, state, tuple(STATES[: STATES.index(state) + 1]), details)


def format_proposal(p: Proposal | None) -> str:
    if p is None:
        return "latest proposal: none yet"
    extra = f" game {p.game} {p.game_status}" if p.game else ""
    return (f"latest proposal ({p.kind}): L2 block {p.l2_block} output root {p.output_root} "
            f"L1 tx {p.l1_tx or '-'}{extra}")  # fmt: skip


def format_withdrawal(w: Withdrawal) -> str:
    marks = " -> ".join(s.upper() if s == w.state else s for s in STATES)
    lines = [f"withdrawal {w.withdrawal_hash} (L2 tx {w.l2_tx}, L2 block {w.l2_block})",
             f"state: {w.state}   [{marks}]"]  # fmt: skip
    lines += [f"  {k}: {v}" for k, v in w.details.items()]
    return "\n".join(lines)
