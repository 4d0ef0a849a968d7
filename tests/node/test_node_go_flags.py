"""``pyop node`` as a drop-in for op-node v1.19.6's flags and environment (audit section 1 and
section 0 rows 2 and 6): every ``OP_NODE_*`` variable pyop does not read is refused by name,
``--override.<fork>`` works, op-node's deprecated no-op flags start, the RPC address default
is op-node's, every ``--log.format`` is honoured, flags without effect are named.

Expected values come from op-node v1.19.6's flag definitions (op-node/flags/flags.go,
op-service/flags, op-service/log/cli.go) and go-ethereum's log formats, not from pyop.
"""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import os
import re
from pathlib import Path

import pytest

from pyop.config import RollupConfig, load_rollup_config
from pyop.node.config import (
    DEPRECATED_FLAGS,
    FLAGS,
    PYOP_ENV_VARS,
    NodeConfigError,
    apply_overrides,
    beacon_header,
    parse_node_args,
)
from pyop.node.go_flags import (
    GO_DEPRECATED_NOOP_FLAGS,
    GO_ENV_TO_FLAG,
    GO_OP_NODE_FLAGS,
    GO_OVERRIDABLE_FORKS,
)
from pyop.node.logs import set_level, setup_logging
from pyop.node.service import startup_notices

ROLLUP = Path(__file__).resolve().parents[2] / "spec_vectors/config/rollup-configs/op-sepolia-11155420.rollup.json"
REFUSED_ENV = sorted(set(GO_ENV_TO_FLAG) - PYOP_ENV_VARS)


def test_go_flag_table_is_complete() -> None:
    # 138 op-node v1.19.6 flags, --l1.beacon-archiver counted as an alias
    assert len({f for f, _ in GO_OP_NODE_FLAGS} - {"l1.beacon-archiver"}) == 138
    assert {f.name for f in FLAGS if f.effect == "deprecated"} == GO_DEPRECATED_NOOP_FLAGS == DEPRECATED_FLAGS
    # every pyop flag is an op-node flag of the same name and environment variables
    go = dict(GO_OP_NODE_FLAGS)
    for f in FLAGS:
        assert f.name in go, f.name
        assert f.envs == go[f.name], f.name


@pytest.mark.parametrize("var", REFUSED_ENV)
def test_every_unsupported_op_node_env_var_is_refused_by_name(var: str) -> None:
    """Was: 93 OP_NODE_* variables silently ignored (e.g. OP_NODE_CONDUCTOR_ENABLED)."""
    with pytest.raises(NodeConfigError) as e:
        parse_node_args([], env={var: "1"})
    assert str(e.value) == (f"environment variable {var} (op-node flag --{GO_ENV_TO_FLAG[var]}) is not "
                            "supported by pyop node")  # fmt: skip


def test_refused_env_vars_cover_the_audit_list() -> None:
    assert "OP_NODE_CONDUCTOR_ENABLED" in REFUSED_ENV and "OP_NODE_P2P_STATIC" in REFUSED_ENV
    assert not any(v.startswith("OP_NODE_OVERRIDE_") for v in REFUSED_ENV)  # implemented
    with pytest.raises(NodeConfigError, match=r"OP_NODE_TYPO \(not an op-node v1.19.6 variable either\)"):
        parse_node_args([], env={"OP_NODE_TYPO": "x", "PATH": os.environ.get("PATH", "")})
    parse_node_args([], env={"NOT_OP_NODE": "x"})  # other variables are none of our business


@pytest.mark.parametrize("flag", sorted(GO_DEPRECATED_NOOP_FLAGS))
def test_deprecated_no_op_flags_start(flag: str, caplog: pytest.LogCaptureFixture) -> None:
    spec = next(f for f in FLAGS if f.name == flag)
    arg = f"--{flag}" if spec.kind == "bool" else f"--{flag}=x"
    c = parse_node_args([arg], env={})
    assert c.deprecated == (flag,)
    with caplog.at_level(logging.INFO, logger="pyop.node.service"):
        startup_notices(c)
    assert any("deprecated" in r.getMessage() and flag in str(r.__dict__.get("pyop_kv")) for r in caplog.records)


def _cfg() -> RollupConfig:
    return load_rollup_config(ROLLUP)


def test_override_every_fork_generically() -> None:
    """Every op-node ``--override.<fork>`` sets its rollup.json field (all to one time keeps the
    fork order op-node's Config.Check wants); a fork pyop's config has no field for yet is
    refused by name, never ignored (was: every --override.* refused, every OP_NODE_OVERRIDE_*
    silently ignored)."""
    base = _cfg()
    fields = {f.name for f in dataclasses.fields(base)}

    def field(fork: str) -> str:
        return "pectra_blob_schedule_time" if fork == "pectrablobschedule" else f"{fork}_time"

    ts = 4_000_000_000
    have = [f for f in GO_OVERRIDABLE_FORKS if field(f) in fields]
    assert {"canyon", "isthmus", "jovian", "karst", "pectrablobschedule"} <= set(have)
    c = parse_node_args([f"--override.{f}={ts}" for f in have], env={})
    assert c.overrides == dict.fromkeys(have, ts)
    got = apply_overrides(base, c)
    assert all(getattr(got, field(f)) == ts for f in have)
    for fork in set(GO_OVERRIDABLE_FORKS) - set(have):
        with pytest.raises(NodeConfigError, match=rf"--override.{fork}: pyop's rollup config has no {field(fork)}"):
            apply_overrides(base, parse_node_args([f"--override.{fork}={ts}"], env={}))


def test_override_env_keep_karst_and_order_check() -> None:
    base = _cfg()
    c = parse_node_args([], env={"OP_NODE_OVERRIDE_JOVIAN": "1770000000",
                                 "OP_NODE_OVERRIDE_KEEP_KARST_UPGRADE_GAS": "true"})  # fmt: skip
    got = apply_overrides(base, c)
    assert got.jovian_time == 1770000000 and got.keep_karst_upgrade_gas is True
    assert got.isthmus_time == base.isthmus_time
    # an override that breaks the fork order is refused (op-node Config.Check)
    with pytest.raises(NodeConfigError, match="after --override"):
        apply_overrides(base, parse_node_args(["--override.granite=1800000000"], env={}))
    with pytest.raises(NodeConfigError, match="invalid unsigned integer"):
        parse_node_args(["--override.isthmus=-1"], env={})


def test_syncmode_flags() -> None:
    c = parse_node_args(["--syncmode=consensus-layer", "--syncmode.offset-el-safe=1h"], env={})
    assert c.syncmode_offset_el_safe == 3600
    with pytest.raises(NodeConfigError, match="execution-layer is not supported"):
        parse_node_args(["--l2=x", "--l2.jwt-secret=j", "--network=op-sepolia", "--syncmode=execution-layer"],
                        env={}).check()  # fmt: skip


def test_rpc_addr_default_and_notice(caplog: pytest.LogCaptureFixture) -> None:
    c = parse_node_args([], env={})
    assert c.rpc_addr == "0.0.0.0"  # op-node v1.19.6 rpcDefaults
    with caplog.at_level(logging.INFO, logger="pyop.node.service"):
        startup_notices(c)
    assert any("0.0.0.0" in r.getMessage() for r in caplog.records)


def test_beacon_fallbacks_header_and_slot_override_flags() -> None:
    """--l1.beacon-fallbacks (alias --l1.beacon-archiver, env OP_NODE_L1_BEACON_FALLBACKS or
    OP_NODE_L1_BEACON_ARCHIVER), --l1.beacon-header ('Key: Value' as op-node parseHTTPHeader),
    --l1.beacon.slot-duration-override (was: refused, or accepted without effect)."""
    base = ["--l2=http://x", "--l2.jwt-secret=j", "--network=op-sepolia"]
    c = parse_node_args([*base, "--l1.beacon-archiver=http://a, http://b", "--l1.beacon-header=X-Key: v: w",
                         "--l1.beacon.slot-duration-override=12"], env={})  # fmt: skip
    c.check()
    assert c.beacon_fallbacks() == ["http://a", "http://b"] and c.l1_beacon_slot_duration_override == 12
    assert beacon_header(c.l1_beacon_header) == {"X-Key": "v: w"}
    assert "l1.beacon.slot-duration-override" not in c.ignored
    for var in ("OP_NODE_L1_BEACON_FALLBACKS", "OP_NODE_L1_BEACON_ARCHIVER"):
        assert parse_node_args(base, env={var: "http://c"}).beacon_fallbacks() == ["http://c"]
    # op-node v1.19.6 reads --l1.beacon.fetch-all-sidecars but never uses it: accepted, named
    c = parse_node_args([*base, "--l1.beacon.fetch-all-sidecars"], env={})
    assert c.ignored == ("l1.beacon.fetch-all-sidecars",)
    with pytest.raises(NodeConfigError, match="invalid header format"):
        parse_node_args([*base, "--l1.beacon-header=X-Key:v"], env={}).check()
    with pytest.raises(NodeConfigError, match="not an http"):
        parse_node_args([*base, "--l1.beacon-fallbacks=ws://a"], env={}).check()


def test_sequencer_sealing_duration() -> None:
    """--sequencer.sealing-duration (op-node default 50ms; <= 0 means 50ms; was refused)."""
    assert parse_node_args([], env={}).sealing_duration() == 0.05
    assert parse_node_args(["--sequencer.sealing-duration=200ms"], env={}).sealing_duration() == 0.2
    assert parse_node_args([], env={"OP_NODE_SEQUENCER_SEALING_DURATION": "0s"}).sealing_duration() == 0.05


def test_engine_rpc_timeout() -> None:
    """--l2.engine-rpc-timeout (op-node default 10s; was refused)."""
    assert parse_node_args([], env={}).l2_engine_rpc_timeout == 10.0
    assert parse_node_args(["--l2.engine-rpc-timeout=1m30s"], env={}).l2_engine_rpc_timeout == 90.0
    assert parse_node_args([], env={"OP_NODE_L2_ENGINE_RPC_TIMEOUT": "500ms"}).l2_engine_rpc_timeout == 0.5
    with pytest.raises(NodeConfigError, match=r"l2\.engine-rpc-timeout must be positive"):
        parse_node_args(["--l2=http://x", "--l2.jwt-secret=j", "--network=op-sepolia",
                         "--l2.engine-rpc-timeout=0s"], env={}).check()  # fmt: skip


def test_flags_without_effect_are_named(caplog: pytest.LogCaptureFixture) -> None:
    """Were accepted silently: --p2p.sequencer.key, --l1.rpckind, --altda.da-service."""
    c = parse_node_args(["--p2p.sequencer.key=0xabc", "--l1.rpckind=alchemy", "--altda.da-service"], env={})
    with caplog.at_level(logging.INFO, logger="pyop.node.service"):
        startup_notices(c)
    named = [str(r.__dict__.get("pyop_kv")) for r in caplog.records if "without effect" in r.getMessage()]
    assert len(named) == 1 and all(f in named[0] for f in ("p2p.sequencer.key", "l1.rpckind", "altda.da-service"))
    assert any(r.levelno == logging.WARNING and "p2p.sequencer.key" in r.getMessage() for r in caplog.records)
    with pytest.raises(NodeConfigError, match=r"--l1\.rpckind: unknown RPC kind"):
        parse_node_args(["--l2=x", "--l2.jwt-secret=j", "--network=op-sepolia", "--l1.rpckind=bogus"], env={}).check()


def _log_line(fmt: str, *, pid: bool = False, color: bool = False) -> str:
    buf = io.StringIO()
    h = setup_logging("info", buf, fmt=fmt, color=color, pid=pid)
    try:
        logging.getLogger("pyop.node.test").info("Sync progress", extra={"pyop_kv": {"reason": "new block", "l2": 5}})
    finally:
        logging.getLogger("pyop").removeHandler(h)
    return buf.getvalue().rstrip("\n")


def test_log_formats_as_go_ethereum() -> None:
    """op-service/log FormatHandler: logfmt (timeFormat 2006-01-02T15:04:05-0700), logfmtms
    (with .000), json / jsonms ({"t","lvl","msg",...}), terminal (LevelAlignedString, time
    01-02|15:04:05.000, message padded to 40); text = logfmt without colors. Was: always logfmt."""
    assert re.fullmatch(r't=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} lvl=info msg="Sync progress" reason="new block" l2=5',
                        _log_line("logfmt"))  # fmt: skip
    assert re.fullmatch(r"t=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4} lvl=info .*", _log_line("logfmtms"))
    assert _log_line("text").split(" ", 1)[1] == _log_line("logfmt").split(" ", 1)[1]
    for fmt in ("json", "jsonms"):
        obj = json.loads(_log_line(fmt))
        assert list(obj) == ["t", "lvl", "msg", "reason", "l2"] and obj["lvl"] == "info" and obj["l2"] == 5
    term = _log_line("terminal")
    assert re.fullmatch(r"INFO \[\d\d-\d\d\|\d\d:\d\d:\d\d\.\d{3}\] Sync progress {27} reason=\"new block\" l2=5", term)
    assert "\x1b[32m" in _log_line("terminal", color=True)
    assert f" pid={os.getpid()} " in _log_line("logfmt", pid=True)
    with pytest.raises(NodeConfigError, match="unrecognized log-format 'xml'"):
        parse_node_args(["--l2=x", "--l2.jwt-secret=j", "--network=op-sepolia", "--log.format=xml"], env={}).check()


def test_set_level_at_run_time() -> None:
    buf = io.StringIO()
    h = setup_logging("info", buf)
    try:
        logging.getLogger("pyop.node.x").debug("hidden")
        set_level("debug")
        logging.getLogger("pyop.node.x").debug("shown")
        assert logging.getLogger("pyop.derivation").level == logging.DEBUG
        with pytest.raises(ValueError, match="unknown level"):
            set_level("loud")
    finally:
        set_level("info")
        logging.getLogger("pyop").removeHandler(h)
    assert "hidden" not in buf.getvalue() and "shown" in buf.getvalue()


def test_websocket_endpoints_refused_clearly() -> None:
    """op-node takes ws/wss for --l1/--l2; pyop's clients are HTTP only: a clear refusal at
    start-up rather than a transport error later (audit section 0 row 6d)."""
    base = ["--l2.jwt-secret=j", "--network=op-sepolia"]
    with pytest.raises(NodeConfigError, match=r"--l1 'ws://x:8546': pyop node speaks JSON-RPC over http\(s\) only"):
        parse_node_args([*base, "--l1=ws://x:8546", "--l2=http://y"], env={}).check()
    with pytest.raises(NodeConfigError, match=r"--l2 'wss://y'"):
        parse_node_args([*base, "--l1=https://x", "--l2=wss://y"], env={}).check()
