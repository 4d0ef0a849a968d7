"""``pyop batcher`` flags and start-up checks: op-batcher's flag names and ``OP_BATCHER_*``
variables, unsupported ones refused by name, and one clear line plus exit status 1 for a missing
key, an unfunded key, an unreachable L1 or a rollup config for another L2 chain. The L1, L2 and
rollup node are small JSON-RPC servers in a thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from pyop.batcher.config import parse_batcher_args
from pyop.batcher.service import main
from pyop.config import network_config
from pyop.devnet.process import free_port
from pyop.opservice.flags import FlagError
from pyop.opservice.rpc import HTTPServer, rpc_app

KEY = "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"


class FakeNet:
    """L1 (chain 1, configurable balance), L2 EL (configurable chain id), rollup node (OP
    Mainnet's rollup config: L1 1, L2 10)."""

    def __init__(self) -> None:
        self.l2_chain_id = 10
        self.balance = 10**18
        self.loop = asyncio.new_event_loop()
        self.servers: list[HTTPServer] = []
        self.urls: dict[str, str] = {}

    async def _start(self) -> None:
        rollup = network_config("op-mainnet").to_json()

        async def const(v: Any) -> Any:
            return v

        apps = {
            "l1": {"eth_chainId": lambda p: const("0x1"),
                   "eth_getBalance": lambda p: const(hex(self.balance))},
            "l2": {"eth_chainId": lambda p: const(hex(self.l2_chain_id))},
            "rollup": {"optimism_rollupConfig": lambda p: const(rollup)},
        }  # fmt: skip
        for name, methods in apps.items():
            s = HTTPServer(rpc_app(methods, "fake"), "127.0.0.1", 0)  # type: ignore[arg-type]
            await s.start()
            self.servers.append(s)
            self.urls[name] = s.url

    def __enter__(self) -> FakeNet:
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)
        return self

    def __exit__(self, *exc: object) -> None:
        async def stop() -> None:
            for s in self.servers:
                await s.close()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)

    def argv(self, *extra: str, key: bool = True) -> list[str]:
        return [f"--l1-eth-rpc={self.urls['l1']}", f"--l2-eth-rpc={self.urls['l2']}",
                f"--rollup-rpc={self.urls['rollup']}", "--rpc.addr=127.0.0.1", "--rpc.port=0",
                *([f"--private-key={KEY}"] if key else []), *extra]  # fmt: skip


@pytest.fixture
def net() -> Iterator[FakeNet]:
    with FakeNet() as n:
        yield n


def run_main(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    rc = main(argv, env={})
    err = capsys.readouterr().err.strip()
    return rc, err


def test_flags_and_env_use_op_batchers_names_and_defaults() -> None:
    cfg, _ = parse_batcher_args(
        ["--l1-eth-rpc=http://l1", "--l2-eth-rpc", "http://l2", "--rollup-rpc=http://r",
         "--data-availability-type=blobs", "--target-num-frames=3", "--batch-type=1"],
        env={"OP_BATCHER_MAX_PENDING_TX": "4", "OP_BATCHER_COMPRESSION_ALGO": "brotli-10",
             "OP_BATCHER_RESUBMISSION_TIMEOUT": "20s", "OP_BATCHER_NUM_CONFIRMATIONS": "2"})  # fmt: skip
    assert (cfg.max_pending_tx, cfg.compression_algo, cfg.batch_type) == (4, "brotli-10", 1)
    assert cfg.txmgr.resubmission_timeout == 20.0 and cfg.txmgr.num_confirmations == 2
    # op-batcher defaults (op-batcher --help)
    assert (cfg.sub_safety_margin, cfg.poll_interval, cfg.max_l1_tx_size_bytes) == (10, 6.0, 120_000)
    assert (cfg.compressor, cfg.approx_compr_ratio, cfg.max_channel_duration) == ("shadow", 0.6, 0)
    assert (cfg.rpc_port, cfg.metrics_port) == (8545, 7300)


@pytest.mark.parametrize("argv,env,match", [
    (["--throttle.unsafe-da-bytes-lower-threshold=0"], {},
     r"flag --throttle\.unsafe-da-bytes-lower-threshold is not supported by pyop batcher: pyop batcher does not throttle"),
    (["--pprof.enabled"], {}, r"flag --pprof\.enabled is not supported by pyop batcher"),
    (["--no-such-flag=1"], {}, r"flag --no-such-flag is not supported by pyop batcher"),
    ([], {"OP_BATCHER_THROTTLE_CONTROLLER_TYPE": "step"},
     r"environment variable OP_BATCHER_THROTTLE_CONTROLLER_TYPE is not supported by pyop batcher: pyop batcher does not throttle"),
    (["--data-availability-type=blob"], {}, r"unknown data availability type: 'blob'"),
    (["--compressor=zstd"], {}, r"unsupported compressor: zstd"),
    (["--compression-algo=lz4"], {}, r"invalid compression algo lz4"),
    (["--rollup-rpc=http://a,http://b,http://c", "--l2-eth-rpc=http://a,http://b"], {},
     r"number of eth urls \(2\) and rollup urls \(3\) mismatch"),
    (["--altda.enabled"], {}, r"--altda.enabled needs --altda.da-server"),
])  # fmt: skip
def test_bad_or_unsupported_flags_are_refused_by_name(argv: list[str], env: dict[str, str], match: str) -> None:
    base = ["--l1-eth-rpc=http://l1", "--l2-eth-rpc=http://l2", "--rollup-rpc=http://r"]
    with pytest.raises((FlagError, Exception), match=match):
        parse_batcher_args([*base, *argv] if not any(a.startswith("--rollup-rpc") for a in argv)
                           else ["--l1-eth-rpc=http://l1", *argv], env=env)  # fmt: skip


def test_missing_key_exits_1_with_one_line(net: FakeNet, capsys: pytest.CaptureFixture[str]) -> None:
    rc, err = run_main(net.argv(key=False), capsys)
    assert rc == 1 and len(err.splitlines()) == 1
    assert "no key: give --private-key or --mnemonic" in err and "lvl=crit" in err


def test_unreachable_l1_exits_1(net: FakeNet, capsys: pytest.CaptureFixture[str]) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    rc, err = run_main([*net.argv(), f"--l1-eth-rpc={dead}"], capsys)
    assert rc == 1 and len(err.splitlines()) == 1
    assert f"failed to dial L1 RPC {dead}" in err


def test_rollup_config_for_another_l2_chain_exits_1(net: FakeNet, capsys: pytest.CaptureFixture[str]) -> None:
    net.l2_chain_id = 901
    rc, err = run_main(net.argv(), capsys)
    assert rc == 1 and len(err.splitlines()) == 1
    assert "is for L2 chain id 10, but the L2 EL" in err and "has chain id 901" in err


def test_unfunded_key_exits_1(net: FakeNet, capsys: pytest.CaptureFixture[str]) -> None:
    net.balance = 0
    rc, err = run_main(net.argv(), capsys)
    assert rc == 1 and len(err.splitlines()) == 1
    assert "has no ETH on L1 chain 1" in err


def test_unreachable_rollup_node_exits_1(net: FakeNet, capsys: pytest.CaptureFixture[str]) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    argv = [a for a in net.argv() if not a.startswith("--rollup-rpc")]
    rc, err = run_main([*argv, f"--rollup-rpc={dead}"], capsys)
    assert rc == 1 and f"failed to load rollup config from the rollup node at {dead}" in err


def test_json_logs(net: FakeNet, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    net.balance = 0
    rc, err = run_main([*net.argv(), "--log.format=json"], capsys)
    obj = json.loads(err)
    assert rc == 1 and obj["lvl"] == "crit" and "has no ETH" in obj["err"]


def test_several_endpoints_are_the_active_sequencer_provider() -> None:
    """op-batcher: several ``--l2-eth-rpc`` *and* ``--rollup-rpc`` follow the active sequencer
    (``NewActiveL2EndpointProvider``); otherwise the first of each is used."""
    base = ["--l1-eth-rpc=http://l1", "--active-sequencer-check-duration=7s"]
    cfg, _ = parse_batcher_args([*base, "--rollup-rpc=http://r1,http://r2",
                                 "--l2-eth-rpc=http://e1,http://e2"], env={})  # fmt: skip
    assert cfg.rollup_rpcs == ("http://r1", "http://r2") and cfg.l2_eth_rpcs == ("http://e1", "http://e2")
    assert (cfg.rollup_rpc, cfg.l2_eth_rpc, cfg.active_sequencer_check_duration) == ("http://r1", "http://e1", 7.0)
    from pyop.batcher.rollup_client import RollupClient

    assert RollupClient(cfg.rollup_rpcs, cfg.l2_eth_rpcs).active is not None
    assert RollupClient(["http://r1", "http://r2"], ["http://e1"]).active is None  # static: first of each
