"""Operator controls and failure handling of ``pyop node`` against op-node v1.19.6 (audit D8,
D10, D11, D14, section 2 admin rows, section 3.4): ``admin_setLogLevel``,
``admin_setRecoverMode`` / ``--sequencer.recover``, ``--sequencer.max-safe-lag``,
``admin_postUnsafePayload``, the sequencer's L1-origin lookup failure, sequencer attributes the
engine refuses, the safe-head db genesis entry and write failures, the L1 poll intervals, and a
critical error as one log line.

Expected values come from op-node's code paths (named in each test) and real op-geth blocks.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gzip
import json
import logging
import sqlite3
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from pyop.engine.errors import BuildInvalid
from pyop.engine.sequencer import OriginLookupError, Sequencer
from pyop.errors import CriticalError, ResetError, TemporaryError
from pyop.node.api import RollupAPI
from pyop.node.driver import Driver
from pyop.node.l1_watcher import L1Watcher
from pyop.node.safedb import SafeDB
from pyop.primitives import ZERO_HASH, BlockID, L1BlockRef, L1Header, L2BlockRef, PayloadAttributes
from pyop.sources.blockjson import payload_from_engine_json
from pyop.sources.interfaces import NotFound
from tests.derivation.harness import make_config
from tests.node.test_node_rpc import FakeClient, call, post, run_server
from tests.node.test_node_sequencer import FakeL1, l1, l2_head

FIXTURE = Path(__file__).resolve().parents[2] / "spec_vectors/derivation/differential/go-devnet-calldata-blobs.json.gz"


# --------------------------------------------------------------------------- admin API


def test_admin_set_log_level_and_recover_mode(tmp_path: Path) -> None:
    async def sc(url: str, api: RollupAPI, driver: Driver, db: SafeDB, client: FakeClient) -> None:
        assert (await post(url, call("admin_setLogLevel", "debug"))) == {"jsonrpc": "2.0", "id": 1, "result": None}
        assert logging.getLogger("pyop").level == logging.DEBUG
        err = (await post(url, call("admin_setLogLevel", "loud")))["error"]
        assert err["code"] == -32000 and "unknown level" in err["message"]
        await post(url, call("admin_setLogLevel", "info"))
        # no sequencer: a no-op (op-node DisabledSequencer.SetRecoverMode)
        assert (await post(url, call("admin_setRecoverMode", True)))["result"] is None
        driver.sequencer = SimpleNamespace(recover_mode=False, set_recover_mode=lambda m: setattr(
            driver.sequencer, "recover_mode", m))  # type: ignore[assignment]
        await post(url, call("admin_setRecoverMode", True))
        assert driver.sequencer.recover_mode is True  # type: ignore[union-attr]
        assert (await post(url, call("admin_setRecoverMode", "yes")))["error"]["code"] == -32602

    run_server(tmp_path, True, sc)


def test_admin_conductor_methods_as_op_node_without_a_conductor(tmp_path: Path) -> None:
    """op-conductor queries admin_conductorEnabled: false (op-node NoOpConductor /
    DisabledSequencer); admin_overrideLeader: "sequencer is not enabled" on a verifier
    (DisabledSequencer.OverrideLeader), null on a sequencer (NoOpConductor.OverrideLeader).
    Was: -32601 method not found."""

    async def sc(url: str, api: RollupAPI, driver: Driver, db: SafeDB, client: FakeClient) -> None:
        assert (await post(url, call("admin_conductorEnabled")))["result"] is False
        err = (await post(url, call("admin_overrideLeader")))["error"]
        assert err["code"] == -32000 and err["message"] == "sequencer is not enabled"
        driver.sequencer = SimpleNamespace()  # type: ignore[assignment]
        assert (await post(url, call("admin_overrideLeader"))) == {"jsonrpc": "2.0", "id": 1, "result": None}
        assert (await post(url, call("admin_conductorEnabled")))["result"] is False

    run_server(tmp_path, True, sc)


def test_admin_methods_need_the_admin_flag(tmp_path: Path) -> None:
    async def sc(url: str, api: RollupAPI, driver: Driver, db: SafeDB, client: FakeClient) -> None:
        for m in ("admin_setLogLevel", "admin_setRecoverMode", "admin_postUnsafePayload", "admin_conductorEnabled",
                  "admin_overrideLeader"):
            assert (await post(url, call(m, "x")))["error"]["code"] == -32601

    run_server(tmp_path, False, sc)


def _real_envelope() -> dict[str, Any]:
    with gzip.open(FIXTURE) as f:
        data = json.loads(f.read())
    blocks = data["pyopL2Blocks"]
    p = dict(blocks[str(max(int(k) for k in blocks))])  # an Isthmus/Jovian block: withdrawalsRoot set
    root = p.pop("parentBeaconBlockRoot")
    p.pop("withdrawals", None)
    p["withdrawals"] = []
    return {"executionPayload": p, "parentBeaconBlockRoot": root}


def test_admin_post_unsafe_payload_checks_the_block_hash(tmp_path: Path) -> None:
    """op-node adminAPI.PostUnsafePayload: a payload whose block hash is not the hash of its own
    header is refused with op-node's message; a good one joins the unsafe-payload queue."""
    env = _real_envelope()

    async def sc(url: str, api: RollupAPI, driver: Driver, db: SafeDB, client: FakeClient) -> None:
        got: list[tuple[Any, Any]] = []
        driver.add_unsafe_payload = lambda p, r: got.append((p, r))  # type: ignore[method-assign]
        res = await post(url, call("admin_postUnsafePayload", env))
        assert res["result"] is None and len(got) == 1
        assert got[0][0].block_hash.hex() == env["executionPayload"]["blockHash"][2:]
        bad = json.loads(json.dumps(env))
        bad["executionPayload"]["gasUsed"] = hex(int(bad["executionPayload"]["gasUsed"], 16) + 1)
        err = (await post(url, call("admin_postUnsafePayload", bad)))["error"]
        assert err["code"] == -32000
        assert err["message"].startswith(f"payload has bad block hash: {env['executionPayload']['blockHash']}, "
                                         "actual block hash is: 0x")  # fmt: skip
        assert len(got) == 1

    run_server(tmp_path, True, sc)
    assert payload_from_engine_json(env["executionPayload"]).block_number > 0


# --------------------------------------------------------------------------- sequencer


class Attrs:
    """A stand-in AttributesBuilder (the sequencer only needs prepare_payload_attributes)."""

    def prepare_payload_attributes(self, parent: L2BlockRef, origin: BlockID) -> PayloadAttributes:
        return PayloadAttributes(timestamp=parent.timestamp + 2, prev_randao=ZERO_HASH,
                                 suggested_fee_recipient=b"\x00" * 20, transactions=(b"\x7e\x01",),
                                 no_tx_pool=False, gas_limit=30_000_000)  # fmt: skip


class Engine:
    def __init__(self, unsafe: L2BlockRef, safe: L2BlockRef, start_error: Exception | None = None) -> None:
        self.unsafe, self.safe = unsafe, safe
        self.start_error = start_error
        self.started: list[PayloadAttributes] = []

    async def start_building(self, parent: L2BlockRef, attrs: PayloadAttributes) -> Any:
        self.started.append(attrs)
        if self.start_error is not None:
            raise self.start_error
        raise asyncio.CancelledError  # stop the cycle after the attributes were chosen


CFG = make_config(fork="fjord", max_sequencer_drift=600)


def _seq(engine: Engine, l1src: FakeL1, **kw: Any) -> Sequencer:
    return Sequencer(CFG, engine, l1src, Attrs(), l1_confs=0, clock=lambda: 1e10, **kw)  # type: ignore[arg-type]


def test_recover_mode_builds_without_tx_pool() -> None:
    """op-node sequencer.startBuildingBlock: recover mode -> NoTxPool (was: no recover mode)."""
    chain = [l1(n, 1000 + 12 * n) for n in range(10, 13)]
    head = l2_head(1100, chain[0])

    async def go(recover: bool) -> PayloadAttributes:
        eng = Engine(head, head)
        s = _seq(eng, FakeL1(chain), recover_mode=recover)
        with pytest.raises(asyncio.CancelledError):
            await s.build_block()
        return eng.started[0]

    assert asyncio.run(go(False)).no_tx_pool is False
    assert asyncio.run(go(True)).no_tx_pool is True
    s = _seq(Engine(head, head), FakeL1(chain))
    s.set_recover_mode(True)
    assert s.recover_mode is True


def test_max_safe_lag_stalls_and_resumes(caplog: pytest.LogCaptureFixture) -> None:
    """op-node evalMaxSafeLag: stall while safe + lag <= unsafe (WARN once), resume after."""
    origin = l1(10, 1000)
    safe = dataclasses.replace(l2_head(1000, origin), number=10)
    unsafe = dataclasses.replace(l2_head(1020, origin), number=20)
    eng = Engine(unsafe, safe)
    s = _seq(eng, FakeL1([origin]), max_safe_lag=10)
    with caplog.at_level(logging.INFO, logger="pyop.engine.sequencer"):
        assert asyncio.run(s.build_block()) is None and eng.started == []  # 10 + 10 <= 20
        assert s.lag_exceeded() and s.stalled_by_max_safe_lag
        eng.safe = dataclasses.replace(safe, number=11)
        assert not s.lag_exceeded() and not s.stalled_by_max_safe_lag
    msgs = [r.getMessage() for r in caplog.records]
    assert sum("fallen behind safe head" in m for m in msgs) == 1 and any("resuming" in m for m in msgs)
    assert not _seq(eng, FakeL1([origin]), max_safe_lag=0).lag_exceeded()  # 0: off


def test_origin_lookup_failure_is_temporary() -> None:
    """D11: the unsafe head's L1 origin not found -> temporary (op-node CurrentAndNextOrigin
    error -> L1TemporaryErrorEvent, retry in 1 s); was: a full reset."""
    head = l2_head(1100, l1(10, 1000))
    with pytest.raises(OriginLookupError) as e:
        asyncio.run(_seq(Engine(head, head), FakeL1([])).find_l1_origin(head))
    assert isinstance(e.value, TemporaryError) and not isinstance(e.value, ResetError)


def test_sequencer_attributes_refused_is_critical() -> None:
    """op-node onBuildInvalid: the sequencer's attributes carry only deposits, so -38003 /
    INVALID on them is critical (was: a full reset, then sequencing on)."""
    chain = [l1(n, 1000 + 12 * n) for n in range(10, 12)]
    head = l2_head(1100, chain[0])
    eng = Engine(head, head, start_error=BuildInvalid("payload attributes are not valid (code -38003)"))
    with pytest.raises(CriticalError, match="only deposit transactions"):
        asyncio.run(_seq(eng, FakeL1(chain)).build_block())


# --------------------------------------------------------------------------- safe db (D10)


class Canonical:
    async def header_by_number(self, n: int | str) -> L1Header:
        if n != 0:
            raise NotFound(str(n))
        return L1Header(b"\x11" * 32, 0, ZERO_HASH, 5, 1, ZERO_HASH)

    async def header_by_hash(self, block_hash: bytes) -> L1Header:
        raise NotFound("unused")


def _driver(tmp: Path, safe: L2BlockRef) -> tuple[Driver, SafeDB]:
    cfg = make_config()
    eng = SimpleNamespace(safe=safe, local_safe=safe, on_safe_head=lambda cb: None, on_heads=lambda cb: None)
    db = SafeDB(tmp)
    d = Driver(cfg, eng, None, L1Watcher(Canonical()), Canonical(), safedb=db)  # type: ignore[arg-type]
    return d, db


def test_reset_to_genesis_records_genesis_safe_at_l1_block_0(tmp_path: Path) -> None:
    """op-node onEngineConfirmedReset: a reset reaching the L2 genesis records genesis as safe
    from L1 block 0 (was: no entry; queries before the first derived safe head: not found)."""
    cfg = make_config()
    g = L2BlockRef(cfg.genesis.l2.hash, cfg.genesis.l2.number, ZERO_HASH, cfg.genesis.l2_time, cfg.genesis.l1, 0)
    d, db = _driver(tmp_path, g)
    asyncio.run(d._safedb_reset())
    l1b, safe = db.safe_head_at_l1(0)
    assert (l1b.number, l1b.hash, safe.hash) == (0, b"\x11" * 32, g.hash)
    assert db.safe_head_at_l1(1000) == (l1b, safe)
    db.close()


def test_safedb_write_failure_resets_instead_of_crashing(tmp_path: Path) -> None:
    """op-node onSafeDerivedBlock: a failed write emits a reset (was: an sqlite error escaped
    the driver loop and stopped the node)."""
    ref = L2BlockRef(b"\x22" * 32, 5, ZERO_HASH, 10, BlockID(ZERO_HASH, 1), 0)
    d, db = _driver(tmp_path, ref)
    other = sqlite3.connect(str(db.file))
    other.execute("DROP TABLE safe_by_l1")
    other.commit()
    other.close()
    with pytest.raises(ResetError, match="safe head notifications failed"):
        asyncio.run(d._on_safe_head(ref, L1BlockRef(b"\x33" * 32, 3, ZERO_HASH, 6)))
    with pytest.raises(ResetError, match="safe head db reset failed"):
        asyncio.run(d._safedb_reset())
    db.close()


# --------------------------------------------------------------------------- L1 polling


class CountingL1:
    def __init__(self) -> None:
        self.calls: dict[str, int] = {}

    async def header_by_number(self, n: int | str) -> L1Header:
        self.calls[str(n)] = self.calls.get(str(n), 0) + 1
        return L1Header(b"\x01" * 32, 100, ZERO_HASH, 1000, 1, ZERO_HASH)

    async def header_by_hash(self, block_hash: bytes) -> L1Header:
        raise NotFound("unused")


def test_head_and_epoch_poll_intervals_are_honoured() -> None:
    """op-node polls latest every --l1.http-poll-interval and safe/finalized every
    --l1.epoch-poll-interval (was: all three every <= 1 s, the epoch interval never read)."""
    l1src = CountingL1()
    w = L1Watcher(l1src, poll_interval=0.05, epoch_poll_interval=0.5)

    async def go() -> None:
        t = asyncio.create_task(w.run())
        await asyncio.sleep(1.2)
        t.cancel()
        with pytest.raises(asyncio.CancelledError):
            await t

    asyncio.run(go())
    assert 15 <= l1src.calls["latest"] <= 26
    assert 2 <= l1src.calls["safe"] <= 3 and 2 <= l1src.calls["finalized"] <= 3


# --------------------------------------------------------------------------- critical error (D14)


ROLLUP = Path(__file__).resolve().parents[2] / "spec_vectors/config/rollup-configs/op-sepolia-11155420.rollup.json"


@pytest.mark.parametrize("exc", [CriticalError("engine answered nonsense"), RuntimeError("a bug")])
def test_critical_error_is_one_log_line(exc: Exception, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """op-node node.go onEvent(CriticalErrorEvent): one "Critical error" line, then shutdown. A
    failure inside the driver's TaskGroup arrives as an ExceptionGroup (was: a Python traceback
    of the ExceptionGroup, exit 1)."""
    from pyop.node import service

    async def failing_run(self: Driver) -> None:
        async def boom() -> None:
            raise exc

        async with asyncio.TaskGroup() as tg:
            tg.create_task(asyncio.sleep(30))
            tg.create_task(boom())

    monkeypatch.setattr(service.Driver, "run", failing_run)
    rc = service.main([f"--rollup.config={ROLLUP}", "--l2=http://127.0.0.1:1", f"--l2.jwt-secret={tmp_path / 'jwt'}",
                       "--l1.beacon.ignore", "--rpc.addr=127.0.0.1", "--rpc.port=0"], env={})  # fmt: skip
    err = capsys.readouterr().err
    assert rc == 1
    assert "Traceback" not in err and "ExceptionGroup" not in err
    crit = [line for line in err.splitlines() if "Critical error" in line]
    assert len(crit) == 1, err
    assert f"err=\"{type(exc).__name__}: {exc}\"" in crit[0] and " at=" in crit[0]
    assert "pyop node stopped" in err


def test_find_heads_refusals_are_retried_not_fatal(caplog: pytest.LogCaptureFixture) -> None:
    """op-node onResetEngineRequest: a FindL2Heads error (wrong chain, reorged finalized block,
    too deep reorg) emits another reset, the node keeps trying (audit D14; was: the node
    halted)."""
    from pyop.engine.start import FindHeadsResult, WrongChainError

    g = L2BlockRef(b"\x01" * 32, 0, ZERO_HASH, 0, BlockID(ZERO_HASH, 0), 0)

    class Eng:
        calls = 0
        unsafe = safe = finalized = pending_safe = local_safe = g

        async def start(self) -> FindHeadsResult:
            Eng.calls += 1
            if Eng.calls < 3:
                raise WrongChainError("L2 genesis is 0x01, the engine has 0x02")
            return FindHeadsResult(g, g, g)

        def on_safe_head(self, cb: object) -> None: ...
        def on_heads(self, cb: object) -> None: ...

    d = Driver(make_config(), Eng(), None, L1Watcher(Canonical()), Canonical())  # type: ignore[arg-type]
    with caplog.at_level(logging.ERROR, logger="pyop.node.driver"):
        asyncio.run(asyncio.wait_for(d._start_engine(), 10))
    assert Eng.calls == 3
    assert sum("WrongChainError" in str(r.__dict__.get("pyop_kv")) for r in caplog.records) == 2


# --------------------------------------------------------------------------- op-geth lost blocks


def test_syncing_while_finalizing_schedules_a_reset(tmp_path: Path) -> None:
    """Found on the differential devnet: op-geth restarted without the node's newest blocks;
    the finalizer's forkchoice update answered SYNCING and the error escaped into the L1
    watcher (``failed to poll L1``), so no reset ever happened. op-node resets."""
    from pyop.engine.errors import EngineSyncingResetError
    from tests.node.test_node_finality import Canonical as FinCanonical
    from tests.node.test_node_finality import l1 as l1f
    from tests.node.test_node_finality import l2 as l2f
    from tests.node.test_node_finality_reset import FakeEngine as FinEngine
    from tests.node.test_node_finality_reset import make as fin_make

    class Lost(FinEngine):
        async def finalize(self, ref: L2BlockRef) -> bool:
            raise EngineSyncingResetError("forkchoice update returned unexpected status SYNCING")

    d, w = fin_make(tmp_path, Lost(safe=10), FinCanonical())
    w.finalized = l1f(5)
    d.finality.append((l1f(5), l2f(8)))
    asyncio.run(d._on_l1_finalized(l1f(5)))  # must not raise
    assert d._reset_reason is not None and "SYNCING" in d._reset_reason


def test_stalled_derivation_rechecks_the_engine_and_resets() -> None:
    """Found on the differential devnet: after op-geth lost the safe head block, derivation
    retried "L2 block ... not found" forever. After a few failures pyop sends its forkchoice
    again; SYNCING -> reset (op-node resets on the next forkchoice update)."""
    from pyop.engine.errors import EngineSyncingResetError

    class Pipeline:
        origin = l1(1, 1000)

        def reset(self, safe: L2BlockRef) -> None: ...

        def step(self, safe: L2BlockRef) -> Any:
            raise TemporaryError("system config of L2 block 62: L2 block 0x75f8 not found")

    g = L2BlockRef(b"\x01" * 32, 0, ZERO_HASH, 0, BlockID(ZERO_HASH, 0), 0)

    class Eng:
        started = True
        unsafe = safe = finalized = pending_safe = local_safe = g
        backup_unsafe = None
        fcus = 0

        async def forkchoice_sync(self, reason: str) -> None:
            Eng.fcus += 1
            raise EngineSyncingResetError("forkchoice update returned unexpected status SYNCING")

        def on_safe_head(self, cb: object) -> None: ...
        def on_heads(self, cb: object) -> None: ...

    d = Driver(make_config(), Eng(), Pipeline(), L1Watcher(Canonical()), Canonical())  # type: ignore[arg-type]
    d._pipeline_needs_reset = False
    d._do_reset = lambda: asyncio.sleep(3600)  # type: ignore[assignment,method-assign]

    async def go() -> None:
        t = asyncio.create_task(d._derivation_loop())
        for _ in range(200):
            await asyncio.sleep(0.05)
            if d._reset_reason is not None:
                break
        t.cancel()
        with pytest.raises(asyncio.CancelledError):
            await t

    asyncio.run(go())
    assert Eng.fcus >= 1 and d._reset_reason is not None and "SYNCING" in d._reset_reason
