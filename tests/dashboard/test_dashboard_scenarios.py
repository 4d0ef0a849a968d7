"""Scenario narration rules on a scripted chain (no devnet): the fault functions are replaced by
recorders, the heads and reorg events are fed as the collector would publish them, and the
narration must follow the chain: stall, window, expiry, reorg; deposit landing; run errors."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from pyop.dashboard import scenarios
from pyop.dashboard.scenarios import ScenarioError, ScenarioRunner
from pyop.dashboard.state import DashboardState
from pyop.devnet.live_faults import FaultError


class FakeInfo:
    altda = False
    directory = "/nonexistent"


def heads(state: DashboardState, *, l1: int, unsafe: int, safe: int, epoch: int, window: int = 8) -> None:
    state.set_heads({
        "l1": {"head": {"number": l1, "timestamp": int(time.time())}},
        "l2": {"unsafe": {"number": unsafe, "origin": l1}, "safe": {"number": safe, "origin": epoch},
               "finalized": {"number": 0, "origin": 0}},
        "window": {"seqWindowSize": window, "safeEpoch": epoch, "closesAt": epoch + window,
                   "blocksLeft": epoch + window - l1},
    })  # fmt: skip


def steps(state: DashboardState, scenario: str) -> list[str]:
    return [e["step"] for e in state.events if e["kind"] == "narration" and e["scenario"] == scenario]


async def settle(runner: ScenarioRunner) -> None:
    await runner.tick()
    await asyncio.sleep(0)
    await asyncio.gather(*runner.tasks)


def test_stop_batcher_narrates_stall_window_expiry_and_reorg(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(scenarios.faults, "stop_batcher", lambda info: calls.append("stop"))
    monkeypatch.setattr(scenarios.bridge, "send_l2_transfer", lambda info: calls.append("tx") or "0x")
    clock = [1000.0]
    monkeypatch.setattr(scenarios.time, "time", lambda: clock[0])

    async def go() -> None:
        st = DashboardState({"l1BlockTime": 4, "l2BlockTime": 2})
        runner = ScenarioRunner(FakeInfo(), st)  # type: ignore[arg-type]
        heads(st, l1=20, unsafe=40, safe=36, epoch=18)
        await runner.start("stop-batcher", {})
        assert calls == ["stop"] and steps(st, "stop-batcher") == ["stopped"]
        # a batch already sent still lands: safe moves once, then stays
        clock[0] += 4
        heads(st, l1=21, unsafe=42, safe=38, epoch=20)
        await settle(runner)
        assert "safe-stalled" not in steps(st, "stop-batcher")
        for k in range(1, 4):
            clock[0] += 4
            heads(st, l1=21 + k, unsafe=42 + 2 * k, safe=38, epoch=20)
            await settle(runner)
        assert steps(st, "stop-batcher")[-2:] == ["safe-stalled", "window"]
        assert "tx" in calls  # user transactions sent while stopped
        # L1 reaches the end of the window of epoch 20
        clock[0] += 4
        heads(st, l1=28, unsafe=58, safe=38, epoch=20)
        await settle(runner)
        assert steps(st, "stop-batcher")[-1] == "window-expired"
        st.add_event("reorg", {"chain": "l2", "first": 39, "last": 58, "userTxs": 7, "deposits": 0})
        heads(st, l1=29, unsafe=45, safe=45, epoch=21)
        await settle(runner)
        last = [e for e in st.events if e["kind"] == "narration"][-1]
        assert last["step"] == "unsafe-reorg" and "#39-#58 (7 user transactions)" in last["text"]
        assert last["spec"].endswith("derivation.html#engine-queue")
        assert last["module"] == "pyop/engine/controller.py"

    asyncio.run(go())


def test_deposit_is_followed_to_its_l2_block(monkeypatch: pytest.MonkeyPatch) -> None:
    from pyop.devnet.bridge import Deposit

    monkeypatch.setattr(scenarios.bridge, "deposit_eth",
                        lambda info, v: Deposit("0xl1", 30, "0xABCD", v))  # fmt: skip

    async def go() -> None:
        st = DashboardState({})
        runner = ScenarioRunner(FakeInfo(), st)  # type: ignore[arg-type]
        heads(st, l1=31, unsafe=60, safe=50, epoch=26)
        await runner.start("deposit", {"eth": 1.5})
        assert "1.5 ETH" in st.events[-1]["text"]
        st.upsert_l2({"n": 61, "o": 30, "dep": [[30, "0xabcd"]], "tx": 0})
        await settle(runner)
        assert steps(st, "deposit")[-1] == "landed"
        heads(st, l1=33, unsafe=64, safe=61, epoch=30)
        await settle(runner)
        assert steps(st, "deposit")[-1] == "safe" and runner.runs["deposit"].done

    asyncio.run(go())


def test_unavailable_and_failing_scenarios_say_why(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(info: Any, depth: int) -> None:
        raise FaultError("an L1 reorg of 9 blocks would replace finalized L1 blocks")

    monkeypatch.setattr(scenarios.faults, "l1_reorg", boom)

    async def go() -> None:
        st = DashboardState({})
        runner = ScenarioRunner(FakeInfo(), st)  # type: ignore[arg-type]
        assert runner.describe()["da-down"]["unavailable"].startswith("this devnet does not use alt-DA")
        with pytest.raises(ScenarioError, match="alt-DA"):
            await runner.start("da-down", {})
        with pytest.raises(ScenarioError, match="unknown scenario"):
            await runner.start("nope", {})
        with pytest.raises(ScenarioError, match="finalized"):
            await runner.start("l1-reorg", {"depth": 9})
        assert st.events[-1]["step"] == "error"

    asyncio.run(go())


def test_da_server_down_then_up_on_an_altda_devnet(monkeypatch: pytest.MonkeyPatch) -> None:
    """alt-DA: "DA server down" stops the server (``faults.stop_da_server``), then narrates the
    safe head waiting while unsafe grows (a missing input is a temporary error, not a drop);
    "DA server up" restarts it and narrates safe moving again."""
    calls: list[str] = []
    monkeypatch.setattr(scenarios.faults, "stop_da_server", lambda info: calls.append("stop") or 1)
    monkeypatch.setattr(scenarios.faults, "start_da_server", lambda info: calls.append("start"))

    class AltDAInfo(FakeInfo):
        altda = True

    async def go() -> None:
        st = DashboardState({"l1BlockTime": 4, "l2BlockTime": 2})
        runner = ScenarioRunner(AltDAInfo(), st)  # type: ignore[arg-type]
        assert runner.describe()["da-down"]["unavailable"] == ""
        heads(st, l1=20, unsafe=40, safe=36, epoch=18)
        await runner.start("da-down", {})
        assert calls == ["stop"] and steps(st, "da-down") == ["stopped"]
        heads(st, l1=21, unsafe=39, safe=37, epoch=18)
        await settle(runner)
        assert "safe-stalled" not in steps(st, "da-down")  # unsafe not ahead enough yet
        heads(st, l1=23, unsafe=46, safe=37, epoch=18)
        await settle(runner)
        assert steps(st, "da-down")[-1] == "safe-stalled"
        await runner.start("da-up", {})
        assert calls == ["stop", "start"] and steps(st, "da-up") == ["started"]
        heads(st, l1=24, unsafe=48, safe=38, epoch=19)
        await settle(runner)
        assert "safe-resumed" not in steps(st, "da-up")
        heads(st, l1=25, unsafe=50, safe=39, epoch=20)
        await settle(runner)
        assert steps(st, "da-up")[-1] == "safe-resumed" and runner.runs["da-up"].done
        texts = [e for e in st.events if e["kind"] == "narration" and e["scenario"] == "da-down"]
        assert texts[0]["spec"].endswith("alt-da.html#derivation")

    asyncio.run(go())


def test_withdrawal_survives_op_geth_down_and_an_l2_reorg(monkeypatch: pytest.MonkeyPatch) -> None:
    """Found on the devnet: a withdrawal was initiated in L2 block #39, an L1 reorg replaced
    #38-#39 and op-geth was killed. The watcher failed on the unreachable L2 RPC and ended the
    scenario; the transaction was re-included in block #49 and would have stayed provable only
    there. Now op-geth down / transaction gone is waited out, and the proof uses the new block."""
    from pyop.devnet import withdrawals
    from pyop.devnet.bridge import WithdrawalTx
    from pyop.devnet.rpc import RpcTransportError
    from pyop.devnet.withdrawals import Withdrawal, WithdrawalNotFound

    def wtx(block: int, wh: str = "0x" + "ab" * 32) -> WithdrawalTx:
        return WithdrawalTx(0, "0xs", "0xt", 5 * 10**17, 100_000, b"", wh, "0x" + "cd" * 32, block)

    script: list[Any] = [RpcTransportError("eth_getTransactionReceipt: cannot reach L2"),
                         WithdrawalNotFound("reorged out"), ("initiated", 49), ("provable", 49)]  # fmt: skip
    looked_up: list[str] = []
    proved: list[int] = []

    def status(info: Any, h: str) -> Withdrawal:
        looked_up.append(h)
        item = script.pop(0) if len(script) > 1 else script[0]
        if isinstance(item, Exception):
            raise item
        state, block = item
        reached = ("initiated", "provable")[: 1 + (state == "provable")]
        return Withdrawal("0x" + "ab" * 32, h, block, state, reached, {})

    monkeypatch.setattr(withdrawals, "withdrawal_status", status)
    monkeypatch.setattr(scenarios.bridge, "initiate_withdrawal", lambda info, v: wtx(39))
    monkeypatch.setattr(scenarios.bridge, "withdrawal_tx", lambda info, h: wtx(49))
    monkeypatch.setattr(scenarios.bridge, "prove_withdrawal",
                        lambda info, w: proved.append(w.l2_block) or "0x" + "ef" * 32)  # fmt: skip
    clock = [1000.0]
    monkeypatch.setattr(scenarios.time, "time", lambda: clock[0])

    async def go() -> None:
        st = DashboardState({})
        runner = ScenarioRunner(FakeInfo(), st)  # type: ignore[arg-type]
        await runner.start("withdraw", {"eth": 0.5})
        for _ in range(4):
            clock[0] += 2
            await settle(runner)
        said = steps(st, "withdraw")
        assert "error" not in said, said
        assert said[:3] == ["initiated", "unseen", "moved-49"], said
        assert "provable" in said and "proven" in said, said
        assert proved == [49]
        assert set(looked_up) == {"0x" + "cd" * 32}  # looked up by its L2 transaction

    asyncio.run(go())
