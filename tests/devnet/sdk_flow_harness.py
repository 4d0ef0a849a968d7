"""Drives the seed's @eth-optimism/sdk deposit/withdraw flow (``sdk_bridge_flow.js``) against a
devnet and checks that the balances moved by the bridged amounts.

Expected balances come from the receipts of the four transactions the SDK sent (fees =
``gasUsed * effectiveGasPrice``, plus op-geth's ``l1Fee`` and Isthmus operator fee on L2), read
independently of pyop's code: ``L1 end = L1 start - deposit - fee(deposit) + withdrawal -
fee(prove) - fee(finalize)`` and ``L2 end = L2 start + deposit - withdrawal - fee(withdraw)``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pyop.devnet.rpc import RpcClient
from pyop.devnet.stack import DevnetInfo
from pyop.primitives import hex_to_int

SCRIPT = Path(__file__).with_name("sdk_bridge_flow.js")
REPO = Path(__file__).resolve().parents[2]
DEPOSIT_ETHER = "0.02"
WITHDRAW_ETHER = "0.001"
ETHER = 10**18


def require_sdk() -> str:
    """The ``node`` binary, or skip when Node or the npm test dependencies are absent."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (the SDK flow is a Node script)")
    if not (REPO / "node_modules" / "@eth-optimism" / "sdk").is_dir():
        pytest.skip("@eth-optimism/sdk not installed: run `npm install` (or `make deps`)")
    return node


@dataclass
class FlowResult:
    events: list[dict[str, Any]]
    seconds: float
    log: str
    by_event: dict[str, dict[str, Any]] = field(default_factory=dict)

    def t(self, event: str) -> float:
        return float(self.by_event[event]["t"])

    def tx(self, event: str) -> str:
        return str(self.by_event[event]["tx"])


def run_sdk_flow(info: DevnetInfo, *, role: str = "user", timeout: float = 420.0) -> FlowResult:
    """Run ``sdk_bridge_flow.js`` with the devnet's endpoints, addresses and ``role``'s TEST key;
    fail the test with the script's output if it does not end with ``withdrawal_relayed``."""
    node = require_sdk()
    cfg = {
        "l1Url": info.l1_url,
        "l2Url": info.l2_rpc_url,
        "privateKey": info.key(role),
        "addresses": info.addresses,
        "depositEther": DEPOSIT_ETHER,
        "withdrawEther": WITHDRAW_ETHER,
        "pollMs": 1000,
    }
    cfg_path = info.directory / f"sdk-flow-{role}.json"
    cfg_path.write_text(json.dumps(cfg, indent=2))
    t0 = time.monotonic()
    try:
        proc = subprocess.run([node, str(SCRIPT), str(cfg_path)], capture_output=True, text=True,
                              timeout=timeout, cwd=REPO, stdin=subprocess.DEVNULL)  # fmt: skip
        out, err, rc = proc.stdout, proc.stderr, proc.returncode
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        err = e.stderr.decode() if isinstance(e.stderr, bytes) else (e.stderr or "")
        rc = None
    seconds = time.monotonic() - t0
    events = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    res = FlowResult(events=events, seconds=seconds, log=out + err)
    for ev in events:
        res.by_event.setdefault(ev["event"], ev)
    if rc != 0 or "withdrawal_relayed" not in res.by_event:
        pytest.fail(f"SDK flow failed (exit {rc}, {seconds:.0f}s):\n{out}\n{err[-3000:]}")
    return res


def _receipt(client: RpcClient, tx: str) -> dict[str, Any]:
    r = client.call("eth_getTransactionReceipt", tx)
    assert r is not None, f"no receipt for {tx}"
    assert hex_to_int(r["status"]) == 1, f"{tx} failed"
    return dict(r)


def l1_fee(client: RpcClient, tx: str) -> int:
    r = _receipt(client, tx)
    return hex_to_int(r["gasUsed"]) * hex_to_int(r["effectiveGasPrice"])


def l2_fee(client: RpcClient, tx: str) -> int:
    """Execution fee + L1 data fee (+ the Isthmus operator fee) of an L2 transaction."""
    r = _receipt(client, tx)
    gas = hex_to_int(r["gasUsed"])
    fee = gas * hex_to_int(r["effectiveGasPrice"]) + hex_to_int(r.get("l1Fee") or "0x0")
    scalar = r.get("operatorFeeScalar")
    if scalar is not None:
        fee += gas * hex_to_int(scalar) // 10**6 + hex_to_int(r.get("operatorFeeConstant") or "0x0")
    return fee


def check_balances(info: DevnetInfo, res: FlowResult) -> dict[str, int]:
    """Assert the balance equations of the module docstring; return the fees."""
    l1 = RpcClient(info.l1_url, timeout=10.0)
    l2 = RpcClient(info.l2_rpc_url, timeout=10.0)
    dep = int(float(DEPOSIT_ETHER) * ETHER)
    wd = int(float(WITHDRAW_ETHER) * ETHER)
    start = res.by_event["balances"]
    end = [e for e in res.events if e["event"] == "balances"][-1]
    assert end["what"] == "end"
    fees = {
        "deposit": l1_fee(l1, res.tx("deposit_sent")),
        "withdraw": l2_fee(l2, res.tx("withdrawal_sent")),
        "prove": l1_fee(l1, res.tx("proven")),
        "finalize": l1_fee(l1, res.tx("finalized")),
    }
    l1_start, l1_end = int(start["l1"]), int(end["l1"])
    l2_start, l2_end = int(start["l2"]), int(end["l2"])
    assert l1_end == l1_start - dep - fees["deposit"] + wd - fees["prove"] - fees["finalize"], (
        l1_start, l1_end, fees)
    assert l2_end == l2_start + dep - wd - fees["withdraw"], (l2_start, l2_end, fees)
    return fees


def timings(res: FlowResult) -> dict[str, float]:
    """Seconds from the withdrawal transaction to READY_TO_PROVE and to RELAYED."""
    w = res.t("withdrawal_sent")
    return {
        "deposit_to_relayed": res.t("deposit_relayed") - res.t("deposit_sent"),
        "withdrawal_to_ready_to_prove": res.t("ready_to_prove") - w,
        "withdrawal_to_relayed": res.t("withdrawal_relayed") - w,
    }
