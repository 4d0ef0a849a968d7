"""`pyop node` flags: op-node names, OP_NODE_* environment variables, Go urfave/cli syntax,
precedence flag > env > default, and refusal of unknown flags by name."""

from __future__ import annotations

import pytest

from pyop.cli import main as cli_main
from pyop.node.config import (
    HelpRequested,
    NodeConfigError,
    parse_duration,
    parse_node_args,
)

REQUIRED = ["--l2=http://127.0.0.1:8551", "--l2.jwt-secret=/tmp/jwt.txt", "--rollup.config=r.json"]


def test_defaults_match_op_node() -> None:
    # op-node/flags/flags.go v1.19.6 defaults (rpcDefaults: ListenAddr 0.0.0.0, port 9545)
    c = parse_node_args([], env={})
    assert c.l1 == "http://127.0.0.1:8545"
    assert c.rpc_addr == "0.0.0.0" and c.rpc_port == 9545
    assert c.l1_epoch_poll_interval == 384.0 and c.syncmode_offset_el_safe == 12 * 3600
    assert c.sequencer_l1_confs == 4 and c.verifier_l1_confs == 0
    assert c.metrics_addr == "0.0.0.0" and c.metrics_port == 7300
    assert c.altda_verify_on_read is True
    assert c.sequencer_enabled is False and c.rpc_enable_admin is False
    assert c.l1_http_poll_interval == 12.0
    assert (c.l1_rpc_rate_limit, c.l1_rpc_max_batch_size, c.l1_max_concurrency, c.l1_cache_size) == (0.0, 20, 10, 900)


def test_l1_rpc_flags_and_their_checks() -> None:
    """--l1.rpc-rate-limit, --l1.rpc-max-batch-size, --l1.max-concurrency, --l1.cache-size (and
    their OP_NODE_* variables) with op-node's L1EndpointConfig.Check messages."""
    c = parse_node_args(["--l1.rpc-rate-limit=2.5", "--l1.rpc-max-batch-size=7", "--l1.cache-size=0"],
                        env={"OP_NODE_L1_MAX_CONCURRENCY": "3"})  # fmt: skip
    assert (c.l1_rpc_rate_limit, c.l1_rpc_max_batch_size, c.l1_max_concurrency, c.l1_cache_size) == (2.5, 7, 3, 0)
    assert c.l1_headers_cache_size(3600) == 5400  # 0: 3/2 of the sequencing window
    assert parse_node_args(["--l1.cache-size=64"], env={}).l1_headers_cache_size(3600) == 64
    for args, msg in ((["--l1.rpc-max-batch-size=0"], "batch size is invalid or unreasonable: 0"),
                      (["--l1.rpc-max-batch-size=501"], "batch size is invalid or unreasonable: 501"),
                      (["--l1.rpc-rate-limit=-1"], "rate limit cannot be negative: -1.000000"),
                      (["--l1.max-concurrency=0"], "max concurrent requests cannot be less than 1, was 0"),
                      (["--l1.cache-size=1000001"], "cache size is dangerously large: 1000001")):  # fmt: skip
        with pytest.raises(NodeConfigError, match="^" + msg + "$"):
            parse_node_args([*REQUIRED, *args], env={}).check()
    with pytest.raises(NodeConfigError, match="invalid unsigned integer"):
        parse_node_args(["--l1.cache-size=-1"], env={})


def test_both_value_forms_and_single_dash() -> None:
    c = parse_node_args(["--l1", "http://a:1", "--l1.beacon=http://b:2", "-rpc.port", "1234",
                         "-verifier.l1-confs=3"], env={})  # fmt: skip
    assert (c.l1, c.l1_beacon, c.rpc_port, c.verifier_l1_confs) == ("http://a:1", "http://b:2", 1234, 3)


@pytest.mark.parametrize(
    ("arg", "want"),
    [("--sequencer.enabled", True), ("--sequencer.enabled=true", True),
     ("--sequencer.enabled=false", False), ("--sequencer.enabled=1", True),
     ("--sequencer.enabled=F", False), ("--sequencer.enabled=TRUE", True)],
)  # fmt: skip
def test_bool_flags_go_syntax(arg: str, want: bool) -> None:
    assert parse_node_args([arg], env={}).sequencer_enabled is want


def test_bool_flag_does_not_eat_next_argument() -> None:
    # Go: a bool flag never takes a separate value; "false" would be a positional argument
    with pytest.raises(NodeConfigError, match=r"unexpected argument 'false'"):
        parse_node_args(["--rpc.enable-admin", "false"], env={})


def test_bad_bool_value_is_named() -> None:
    with pytest.raises(NodeConfigError, match=r"flag --altda.enabled: invalid boolean value 'yes'"):
        parse_node_args(["--altda.enabled=yes"], env={})


def test_unknown_flag_refused_by_name() -> None:
    with pytest.raises(NodeConfigError) as e:
        parse_node_args(["--l1=http://x", "--conductor.enabled"], env={})
    assert str(e.value) == "flag --conductor.enabled is not supported by pyop node"
    with pytest.raises(NodeConfigError, match=r"^flag --foo is not supported by pyop node$"):
        parse_node_args(["-foo", "1"], env={})


def test_unknown_flag_via_cli_exit_status(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["node", "--conductor.enabled"]) == 1
    err = capsys.readouterr().err
    assert "flag --conductor.enabled is not supported by pyop node" in err
    assert "Traceback" not in err


def test_missing_value_and_bad_int() -> None:
    with pytest.raises(NodeConfigError, match=r"flag --rpc.port needs a value"):
        parse_node_args(["--rpc.port"], env={})
    with pytest.raises(NodeConfigError, match=r"flag --rpc.port: invalid integer 'abc'"):
        parse_node_args(["--rpc.port=abc"], env={})


def test_env_vars_and_precedence() -> None:
    env = {"OP_NODE_L1_ETH_RPC": "http://env-l1", "OP_NODE_L2_ENGINE_RPC": "http://env-l2",
           "OP_NODE_L2_ENGINE_AUTH": "/env/jwt", "OP_NODE_SEQUENCER_ENABLED": "true",
           "OP_NODE_VERIFIER_L1_CONFS": "5", "OP_NODE_RPC_PORT": "7777",
           "OP_NODE_SAFEDB_PATH": "/env/safedb", "OP_NODE_ALTDA_VERIFY_ON_READ": "false",
           "OP_NODE_NETWORK": "op-sepolia", "OP_NODE_L1_HTTP_POLL_INTERVAL": "500ms"}  # fmt: skip
    c = parse_node_args(["--rpc.port=8888"], env=env)
    assert c.l1 == "http://env-l1" and c.l2 == "http://env-l2" and c.l2_jwt_secret == "/env/jwt"
    assert c.sequencer_enabled is True and c.verifier_l1_confs == 5
    assert c.rpc_port == 8888  # flag beats env
    assert c.sources["rpc_port"] == "flag" and c.sources["l1"] == "env"
    assert c.safedb_path == "/env/safedb" and c.altda_verify_on_read is False
    assert c.network == "op-sepolia" and c.l1_http_poll_interval == 0.5


def test_bad_env_value_names_the_variable() -> None:
    with pytest.raises(NodeConfigError, match=r"environment variable OP_NODE_RPC_PORT"):
        parse_node_args([], env={"OP_NODE_RPC_PORT": "x"})


def test_seed_harmless_flags_accepted_and_reported() -> None:
    c = parse_node_args(["--p2p.disable", "--p2p.no-discovery", "--l1.beacon.ignore",
                         "--rollup.l1-chain-config=l1.json", "--l2.enginekind=geth",
                         "--p2p.sequencer.key=0xabc", "--p2p.bootnodes=,"], env={})  # fmt: skip
    assert c.l1_beacon_ignore is True and c.rollup_l1_chain_config == "l1.json"
    assert c.p2p_sequencer_key == "0xabc"
    # p2p is implemented (pyop/p2p): only the discv5 bootnodes and the engine kind have no effect
    assert set(c.ignored) == {"l2.enginekind", "p2p.bootnodes"}


def test_check_required() -> None:
    parse_node_args(REQUIRED, env={}).check()
    with pytest.raises(NodeConfigError, match=r"--l2 is required"):
        parse_node_args(REQUIRED[1:], env={}).check()
    with pytest.raises(NodeConfigError, match=r"--rollup.config"):
        parse_node_args(REQUIRED[:2], env={}).check()
    with pytest.raises(NodeConfigError, match=r"--log.level"):
        parse_node_args([*REQUIRED, "--log.level=loud"], env={}).check()


def test_help() -> None:
    with pytest.raises(HelpRequested) as e:
        parse_node_args(["--help"], env={})
    assert "--sequencer.l1-confs" in str(e.value) and "OP_NODE_SEQUENCER_L1_CONFS" in str(e.value)


@pytest.mark.parametrize(("text", "secs"), [("1s", 1.0), ("500ms", 0.5), ("2m", 120.0),
                                             ("1h30m", 5400.0), ("12", 12.0), ("1.5s", 1.5)])  # fmt: skip
def test_go_durations(text: str, secs: float) -> None:
    assert parse_duration(text, "x") == pytest.approx(secs)


@pytest.mark.parametrize("text", ["", "1x", "s", "1s2"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(NodeConfigError):
        parse_duration(text, "x")
