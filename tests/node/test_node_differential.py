"""The differential devnet (issue 9): pyop node and the Go op-node v1.19.6 on the same chain,
their heads compared at every poll (about once a second) with
:class:`pyop.devnet.compare.HeadComparator`: every block both call safe or finalized has the
same hash on both, their safe heads are within one L1 block's worth of L2 blocks (while both
are caught up with L1), and once a scenario settles their safe and finalized heads are equal.

Two devnets run side by side (brought up concurrently, scenarios run on both at the same time):

- ``go-seq/pyop-ver``: the Go op-node sequencer + the Go op-batcher, and ``pyop node`` as a
  verifier on a second op-geth (``start_verifier(kind="pyop")``, what
  ``pyop devnet up --verifier pyop`` starts); a third op-geth with a Go op-node verifier is the
  reference for the L1-call count and the metrics families;
- ``pyop-seq/go-ver``: ``pyop node`` as the sequencer + the Go op-batcher, and the Go op-node as
  the verifier (``--verifier go``).

Scenarios, each ending in equal heads: idle agreement (with the L1-call figures and the
``/metrics`` family diff); the verifier's op-geth killed (SIGKILL) and restarted, then restarted
on a wiped datadir (the node sees ``SYNCING`` and must reset, not wedge); an ``anvil_reorg``
deeper than the safe head's L1 origin; the batcher stopped past the sequencing window and
restarted (a user transfer in an unsafe block whose window expires: the forced empty block
replaces it, an unsafe reorg on the sequencer).

Expected values are the Go op-node's (its heads, block hashes and metrics) and op-geth's blocks.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from pyop.cli import main as cli_main
from pyop.devnet.compare import HeadComparator, NodeEndpoints
from pyop.devnet.faults import (
    kill_hard,
    reorg_l1_below_safe_origin,
    restart_op_geth,
    restart_registered,
    stop_registered,
)
from pyop.devnet.geth import geth_init
from pyop.devnet.process import PidRegistry, free_port
from pyop.devnet.rpc import RpcClient, RpcError
from pyop.devnet.rpc_proxy import read_counts, reset_counts, start_rpc_proxy_process
from pyop.devnet.stack import DevnetInfo, Stack, init_devnet, require_peers, start_stack
from pyop.devnet.verifier import Verifier, start_verifier
from pyop.primitives import from_hex, to_hex
from pyop.sources.blockjson import payload_from_block_json
from tests.node.node_e2e_harness import require_go_peers

pytestmark = pytest.mark.slow

#: op-node v1.19.6 metric families pyop node does not export, and why (checked against the Go
#: op-node's /metrics below: a Go family missing in pyop and not listed here fails the test).
#: The P2P families, ``channel_input_bytes`` and the RPC size counters are served since the
#: p2p layer and the channel reader report them (tests/p2p/test_p2p_metrics.py,
#: tests/node/test_node_metrics_sizes.py).
KNOWN_MISSING = {
    r"go_.*": "the Go runtime's collector; pyop is Python",
    r"op_node_default_events_.*": "op-node's event bus (pyop's driver has no event queue)",
}


@dataclass
class DiffNet:
    label: str
    info: DevnetInfo
    stack: Stack
    verifier: Verifier
    seq_kind: str
    cmp: HeadComparator
    metrics: dict[str, int] = field(default_factory=dict)
    proxies: dict[str, str] = field(default_factory=dict)
    reference: Verifier | None = None

    @property
    def registry(self) -> PidRegistry:
        return PidRegistry(self.info.directory)

    def seq(self) -> NodeEndpoints:
        return NodeEndpoints(f"{self.seq_kind} sequencer", self.info.rollup_rpc_url, self.info.l2_rpc_url)

    def log(self, msg: str) -> None:
        print(f"[{self.label}] {msg}", flush=True)


def _bring_up(base: Path, seq_kind: str, ver_kind: str, *, reference: bool) -> DiffNet:
    label = f"{seq_kind}-seq/{ver_kind}-ver"
    d = base / label.replace("/", "_")
    # L1 finalized trails the head by 2 x 8 blocks: under load the safe head's L1 origin trails the
    # head by ~14 blocks, and the L1-reorg scenario needs room between finalized and that origin
    info = init_devnet(d, l1_slots_per_epoch=8, log=lambda _m: None)
    reg = PidRegistry(d)
    mseq = free_port()
    _p, l1s = start_rpc_proxy_process(info.logs_dir, info.l1_url, free_port(), name="l1-proxy-sequencer", registry=reg)
    st = start_stack(info, stack=seq_kind, proposer=False, log=lambda _m: None, node_metrics_port=mseq,
                     node_l1_url=l1s)  # fmt: skip
    metrics = {"sequencer": mseq}
    proxies: dict[str, str] = {"sequencer": l1s}
    l1 = None
    if reference:
        _p, l1 = start_rpc_proxy_process(info.logs_dir, info.l1_url, free_port(), name="l1-proxy-verifier", registry=reg)
        proxies["verifier"] = l1
    metrics["verifier"] = free_port()
    v = start_verifier(info, kind=ver_kind, metrics_port=metrics["verifier"], l1_url=l1)
    ref = None
    if reference:
        _p, l1r = start_rpc_proxy_process(info.logs_dir, info.l1_url, free_port(), name="l1-proxy-ref", registry=reg)
        proxies["ref"] = l1r
        metrics["ref"] = free_port()
        ref = start_verifier(info, name="ref", kind="go", metrics_port=metrics["ref"], l1_url=l1r)
    cmp = HeadComparator(NodeEndpoints(f"{seq_kind} sequencer", info.rollup_rpc_url, info.l2_rpc_url),
                         v.endpoints(f"{ver_kind} verifier"), l1_url=info.l1_url,
                         l1_block_time=info.l1_block_time, l2_block_time=info.l2_block_time)  # fmt: skip
    net = DiffNet(label, info, st, v, seq_kind, cmp, metrics, proxies, ref)
    net.cmp.wait_settled(240, min_safe=1, what=f"{label}: first common safe head")
    net.log(f"up: {net.cmp.polls[-1].line()}")
    return net


def on_both(nets: list[DiffNet], fn: Callable[[DiffNet], Any]) -> list[Any]:
    """Run ``fn`` on every devnet at once (one thread each); the first failure is raised."""
    with ThreadPoolExecutor(len(nets)) as ex:
        futs = [ex.submit(fn, n) for n in nets]
        return [f.result() for f in futs]


@pytest.fixture(scope="module")
def nets(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[DiffNet]]:
    require_go_peers()
    base = tmp_path_factory.mktemp("diff")
    dirs = [base / "go-seq_pyop-ver", base / "pyop-seq_go-ver"]
    try:
        with ThreadPoolExecutor(2) as ex:
            fa = ex.submit(_bring_up, base, "go", "pyop", reference=True)
            fb = ex.submit(_bring_up, base, "pyop", "go", reference=False)
            yield [fa.result(), fb.result()]
    finally:
        for d in dirs:
            out = PidRegistry(d).stop_all(sigint_timeout=20.0)
            print(f"\n[{d.name}] stopped: {out}")
            assert PidRegistry(d).entries() == []


def _block_hashes(url: str, lo: int, hi: int) -> dict[int, str]:
    c = RpcClient(url, timeout=10.0)
    return {n: str(c.call("eth_getBlockByNumber", hex(n), False)["hash"]) for n in range(lo, hi + 1)}


# --------------------------------------------------------------------------- idle


def _families(url: str) -> set[str]:
    with urllib.request.urlopen(url, timeout=10) as r:
        text = r.read().decode()
    return {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")}


def test_idle_agreement_l1_calls_and_metrics(nets: list[DiffNet]) -> None:
    """Idle devnets: agreement at every poll for 90 s; the pyop verifier's L1 calls per hour
    within 2x of the Go verifier's on the same devnet (each behind its own counting proxy in
    front of anvil); every op-node /metrics family the dashboards read is served by pyop."""
    a, b = nets
    for n in nets:
        for url in n.proxies.values():
            reset_counts(url)
    t0 = time.time()
    on_both(nets, lambda n: n.cmp.watch(90, what=f"{n.label}: idle"))
    el = time.time() - t0
    counts = {("pyop", "verifier"): read_counts(a.proxies["verifier"]), ("go", "verifier"): read_counts(a.proxies["ref"]),
              ("go", "sequencer"): read_counts(a.proxies["sequencer"]), ("pyop", "sequencer"): read_counts(b.proxies["sequencer"])}  # fmt: skip
    per_h = {k: round(c["calls"] * 3600 / el) for k, c in counts.items()}
    print("\nL1 calls per hour on the idle devnet (--l1.http-poll-interval=1s, --l1.epoch-poll-interval=2s; the "
          "verifiers share one devnet, the sequencers are on the two devnets):")  # fmt: skip
    for (kind, role), c in sorted(counts.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        print(f"  {kind:>4} {role:<9} {per_h[(kind, role)]:>7}/h  {c['methods']}")
    for role in ("verifier", "sequencer"):
        assert per_h[("pyop", role)] <= 2 * per_h[("go", role)], per_h

    for n in nets:
        for url in (n.info.rollup_rpc_url, n.verifier.rollup_rpc_url):
            RpcClient(url).call("optimism_syncStatus")  # so rpc_server_* families exist on all
    fams = {(n.seq_kind, "sequencer"): _families(f"http://127.0.0.1:{n.metrics['sequencer']}/metrics") for n in nets}
    fams[("pyop", "verifier")] = _families(f"http://127.0.0.1:{a.metrics['verifier']}/metrics")
    fams[("go", "verifier")] = _families(f"http://127.0.0.1:{a.metrics['ref']}/metrics")
    missing: dict[str, set[str]] = {}
    for role in ("sequencer", "verifier"):
        go, py = fams[("go", role)], fams[("pyop", role)]
        missing[role] = go - py
        unexplained = {m for m in go - py if not any(re.fullmatch(p, m) for p in KNOWN_MISSING)}
        assert unexplained == set(), f"{role}: op-node families pyop does not serve: {sorted(unexplained)}"
    print("op-node metric families not served by pyop node:")
    for pat, why in KNOWN_MISSING.items():
        names = sorted(m for m in missing["sequencer"] | missing["verifier"] if re.fullmatch(pat, m))
        print(f"  {pat}: {len(names)} ({why})")
    for must in ("op_node_default_refs_latency", "op_node_default_refs_hash", "op_node_default_refs_seqnr",
                 "op_node_default_derivation_idle", "op_node_default_pipeline_resets_total",
                 "op_node_default_last_pipeline_resets_unix", "op_node_default_unsafe_payloads_total",
                 "op_node_default_l1_reorg_depth", "op_node_default_transactions_sequenced_total",
                 "op_node_default_sequencer_sealing_seconds", "op_node_default_rpc_server_requests_total",
                 "op_node_default_rpc_server_params_size_total", "op_node_default_rpc_client_results_size_total",
                 "op_node_default_p2p_gossip_events_total", "op_node_default_p2p_accepts",
                 "process_cpu_seconds_total"):  # fmt: skip
        assert must in fams[("pyop", "sequencer")], must
    for must in ("op_node_default_p2p_dials", "op_node_default_p2p_gossip_events_total"):  # it dials the sequencer
        assert must in fams[("pyop", "verifier")], must
    for role in ("sequencer", "verifier"):  # the L1 RPC caches and the engine's payload cache
        for cache in ("l1_source_cache", "l2_source_cache"):
            for suffix in ("size", "get", "add"):
                assert f"op_node_default_{cache}_{suffix}" in fams[("pyop", role)], (role, cache, suffix)
    with urllib.request.urlopen(f"http://127.0.0.1:{a.metrics['verifier']}/metrics", timeout=10) as r:
        text = r.read().decode()
    m = re.search(r"^op_node_default_channel_input_bytes (\d+)", text, re.M)  # it derived from batches
    assert m is not None and int(m.group(1)) > 0, "channel_input_bytes not counted"


# --------------------------------------------------------------------------- pyop devnet status


def test_devnet_status_shows_both_nodes_side_by_side(nets: list[DiffNet], capsys: pytest.CaptureFixture[str]) -> None:
    """``pyop devnet status DIR`` on the differential devnets: the sequencer's and the
    verifier's unsafe / safe / finalized heads side by side (the verifier found through
    ``devnet.json`` ``urls``), agreeing safe and finalized rows unmarked."""
    for n in nets:
        urls = json.loads((n.info.directory / "devnet.json").read_text())["urls"]
        assert (urls["verifierRollup"], urls["verifierL2"]) == (n.verifier.rollup_rpc_url, n.verifier.l2_rpc_url)
        rows: dict[str, str] = {}
        # heads move between the two nodes' answers, and a node finalizes an L1 finality signal
        # at its own poll (--l1.epoch-poll-interval) once its derivation has the block: look
        # again for up to 20 s (CI once saw finalized 37 beside 36 for the 10 looks of 3 s)
        deadline = time.monotonic() + 20
        while True:
            capsys.readouterr()
            assert cli_main(["devnet", "status", str(n.info.directory)]) == 0
            out = capsys.readouterr().out
            rows = {ln.split()[0]: ln for ln in out.splitlines() if ln.split()[:1] in (["unsafe"], ["safe"], ["finalized"])}
            assert set(rows) == {"unsafe", "safe", "finalized"}, out
            assert f"verifier ({n.verifier.kind})" in out and "sequencer" in out
            if "differs" not in rows["safe"] + rows["finalized"] or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        assert "differs" not in rows["safe"] + rows["finalized"], rows
        assert all(len(re.findall(r"0x[0-9a-f]{8}\.\.[0-9a-f]{4}", ln)) == 2 for ln in rows.values()), rows
        n.log("status: " + " | ".join(rows[k].strip() for k in ("unsafe", "safe", "finalized")))


# --------------------------------------------------------------------------- RPC transport


def _http(url: str, method: str, headers: dict[str, str], body: bytes | None = None) -> tuple[int, dict[str, str]]:
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers.items())
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers.items())


CORS_HEADERS = ("Access-Control-Allow-Origin", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers",
                "Access-Control-Max-Age", "Vary")  # fmt: skip


def test_rpc_cors_and_health_status_as_the_go_op_node(nets: list[DiffNet]) -> None:
    """The rollup RPC port answers a browser's CORS preflight and a cross-origin call with the
    same CORS headers as the Go op-node beside it (op-node: WithCORSHosts("*")), and both serve
    ``health_status`` (op-service's ``health`` namespace); ``optimism_dependencySet`` fails alike
    without an interop dependency set. Was: no CORS, no health_status, method not found."""
    a = nets[0]
    nodes = {"go": a.info.rollup_rpc_url, "pyop": a.verifier.rollup_rpc_url}
    assert (a.seq_kind, a.verifier.kind) == ("go", "pyop")
    seen: dict[str, list[Any]] = {}
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "optimism_version", "params": []}).encode()
    for kind, url in nodes.items():
        out: list[Any] = []
        for method, hdrs in (
            ("OPTIONS", {"Origin": "http://x.test", "Access-Control-Request-Method": "POST",
                         "Access-Control-Request-Headers": "content-type"}),
            ("OPTIONS", {"Origin": "http://x.test", "Access-Control-Request-Method": "PUT"}),
            ("OPTIONS", {"Access-Control-Request-Method": "POST"}),
        ):  # fmt: skip
            st, h = _http(url, method, hdrs)
            out.append((st, {k: h.get(k) for k in CORS_HEADERS}))
        st, h = _http(url, "POST", {"Origin": "http://x.test", "Content-Type": "application/json"}, body)
        out.append((st, {k: h.get(k) for k in ("Access-Control-Allow-Origin", "Vary")}))
        try:
            RpcClient(url).call("optimism_dependencySet")
        except RpcError as e:  # no interop dependency set on either
            out.append((e.code, str(e.message)))
        seen[kind] = out
        assert str(RpcClient(url).call("health_status"))
    assert seen["pyop"] == seen["go"], seen


# --------------------------------------------------------------------------- superroot_atTimestamp


def test_superroot_at_timestamp_equals_the_go_op_node(nets: list[DiffNet]) -> None:
    """``superroot_atTimestamp`` (op-node v1.19.6 superroot_api.go) on the pyop verifier and the
    Go reference verifier of the same devnet: for a safe block, the L2 genesis and a time past
    the unsafe head, the chain's output, output root, required L1 block and super root are the
    Go op-node's. Was: method not found."""
    a = nets[0]
    assert a.reference is not None and a.verifier.kind == "pyop"
    ver = RpcClient(a.verifier.rollup_rpc_url, timeout=10.0)
    ref = RpcClient(a.reference.rollup_rpc_url, timeout=10.0)
    st = ver.call("optimism_syncStatus")
    safe = int(st["safe_l2"]["number"])
    t_safe = int(st["safe_l2"]["timestamp"]) - 6 * a.info.l2_block_time  # 6 blocks below the safe head
    deadline = time.monotonic() + 60
    while int(ref.call("optimism_syncStatus")["safe_l2"]["number"]) < safe and time.monotonic() < deadline:
        time.sleep(0.5)
    keys = ("optimistic_at_timestamp", "chain_ids", "data")
    for t in (t_safe, a.info.l2_genesis_time, a.info.l2_genesis_time + 1):
        got, want = ver.call("superroot_atTimestamp", hex(t)), ref.call("superroot_atTimestamp", hex(t))
        assert {k: got.get(k) for k in keys} == {k: want.get(k) for k in keys}, (t, got, want)
        assert set(got) == set(want)
        assert got["data"] is not None
    far = int(st["unsafe_l2"]["timestamp"]) + 3600
    got, want = ver.call("superroot_atTimestamp", hex(far)), ref.call("superroot_atTimestamp", hex(far))
    assert got["optimistic_at_timestamp"] == want["optimistic_at_timestamp"] == {}
    assert "data" not in got and "data" not in want and set(got) == set(want)
    for rpc in (ver, ref):
        with pytest.raises(RpcError, match=r"did not reach genesis time"):
            rpc.call("superroot_atTimestamp", hex(a.info.l2_genesis_time - 1))


# --------------------------------------------------------------------------- unsafe payloads


def _envelope(l2_url: str, n: int, isthmus_time: int | None) -> dict[str, Any]:
    """Block ``n`` of an op-geth as the Engine API envelope op-conductor would post (before
    Isthmus an ExecutionPayloadV3 has no withdrawalsRoot)."""
    c = RpcClient(l2_url, timeout=10.0)
    blk = c.call("eth_getBlockByNumber", hex(n), True)
    raws = [from_hex(c.call("eth_getRawTransactionByHash", t["hash"])) for t in blk["transactions"]]
    p = payload_from_block_json(blk, raws)
    if isthmus_time is None or p.timestamp < isthmus_time:
        p = dataclasses.replace(p, withdrawals_root=None)
    return {"executionPayload": p.to_json(), "parentBeaconBlockRoot": blk["parentBeaconBlockRoot"]}


def test_post_unsafe_payload_then_consolidated_by_derivation(nets: list[DiffNet]) -> None:
    """admin_postUnsafePayload (op-conductor's hand-off): the Go sequencer's newest blocks posted
    to the pyop verifier become its unsafe chain ahead of derivation (out of order, one
    duplicate), and derivation later makes exactly those blocks safe (consolidation, no
    reorg)."""
    a = nets[0]
    assert a.verifier.kind == "pyop"
    ver = RpcClient(a.verifier.rollup_rpc_url, timeout=10.0)
    # hold the batcher back so derivation cannot get there first
    batcher = stop_registered(a.registry, "op-batcher")
    try:
        a.cmp.watch(8, what="batches in flight land")
        lo = int(ver.call("optimism_syncStatus")["unsafe_l2"]["number"]) + 1
        p = a.cmp.watch(60, until=lambda q: q.a.unsafe.number >= lo + 4, what="the sequencer 5 blocks ahead")
        hi = p.a.unsafe.number if p is not None else lo
        isthmus = a.info.fork_times.get("isthmus")
        envs = {n: _envelope(a.info.l2_rpc_url, n, isthmus) for n in range(lo, hi + 1)}
        for n in [hi, *range(lo, hi), lo]:  # newest first, then the rest, then a duplicate
            assert ver.call("admin_postUnsafePayload", envs[n]) is None
        a.cmp.watch(60, until=lambda q: q.b.unsafe.number >= hi, what="posted payloads inserted")
        got = _block_hashes(a.verifier.l2_rpc_url, lo, hi)
        assert got == {n: envs[n]["executionPayload"]["blockHash"] for n in envs}
        assert int(ver.call("optimism_syncStatus")["safe_l2"]["number"]) < hi  # ahead of derivation
    finally:
        restart_registered(a.registry, batcher)
    a.cmp.wait_settled(180, min_safe=hi, what="the posted blocks derived from L1")
    assert _block_hashes(a.verifier.l2_rpc_url, lo, hi) == got  # consolidated, not replaced
    with urllib.request.urlopen(f"http://127.0.0.1:{a.metrics['verifier']}/metrics", timeout=10) as r:
        text = r.read().decode()
    assert re.search(r"^op_node_default_unsafe_payloads_total [1-9]", text, re.M)
    assert re.search(r"^op_node_default_unsafe_reorgs_total 0$", text, re.M)


# --------------------------------------------------------------------------- op-geth restart


def _verifier_geth_restart(n: DiffNet) -> None:
    reg = n.registry
    before = n.cmp.wait_settled(120, what=f"{n.label}: before the op-geth kill")
    node_log = n.verifier.op_node.log_path
    since = node_log.stat().st_size
    n.log(f"SIGKILL {n.verifier.op_geth.process.name} at {before.line()}")
    n.cmp.fault("verifier op-geth SIGKILL")
    kill_hard(n.verifier.op_geth.process)
    n.cmp.watch(4, what=f"{n.label}: op-geth down")
    n.verifier.op_geth = restart_op_geth(reg, n.verifier.op_geth, n.info.l2_chain_id)
    n.cmp.wait_settled(180, min_safe=before.a.safe.number + 3, what=f"{n.label}: after the op-geth restart")
    # the harder case: op-geth comes back without the blocks the node's heads name
    n.log("stop op-geth, wipe its datadir, restart it from genesis")
    n.cmp.fault("verifier op-geth wiped")
    kill_hard(n.verifier.op_geth.process)
    shutil.rmtree(n.verifier.op_geth.datadir)
    geth_init(require_peers(["geth"])["geth"], n.verifier.op_geth.datadir, n.info.genesis_path,
              log_path=n.info.logs_dir / "wiped-geth-init.log")  # fmt: skip
    target = n.cmp.polls[-1].a.safe.number + 3
    n.verifier.op_geth = restart_op_geth(reg, n.verifier.op_geth, n.info.l2_chain_id)
    n.cmp.wait_settled(300, min_safe=target, what=f"{n.label}: after the wiped op-geth restart")
    if n.verifier.kind == "pyop":
        text = node_log.read_bytes()[since:].decode("utf-8", "replace")
        # the node finds op-geth empty either on a forkchoice update (SYNCING) or when derivation
        # looks for the unsafe block to consolidate with (timing decides which comes first)
        assert re.search(r"forkchoice update (to new block \d+ )?(returned )?SYNCING|"
                         r"expected the engine to have unsafe block \d+ to consolidate with, it has none",
                         text), "no sign of the emptied op-geth in the log"  # fmt: skip
        assert "reset engine and derivation pipeline" in text
    n.log(f"recovered: {n.cmp.polls[-1].line()}")


def test_verifier_op_geth_killed_and_restarted(nets: list[DiffNet]) -> None:
    on_both(nets, _verifier_geth_restart)


# --------------------------------------------------------------------------- L1 reorg


def _l1_reorg(n: DiffNet) -> None:
    n.cmp.wait_settled(120, what=f"{n.label}: before the L1 reorg")
    # under load the safe head's L1 origin can trail anvil's finalized block until a batch lands
    info = reorg_l1_below_safe_origin(n.info.l1_url, n.verifier.rollup_rpc_url, margin=1, timeout=180)
    n.log(f"anvil_reorg: {info}")
    n.cmp.wait_settled(240, min_safe=info["safe_l2"] + 4, what=f"{n.label}: after the L1 reorg")
    n.log(f"settled: {n.cmp.polls[-1].line()}")


def test_l1_reorg_deeper_than_the_safe_head_origin(nets: list[DiffNet]) -> None:
    on_both(nets, _l1_reorg)


# --------------------------------------------------------------------------- batcher outage


def _send_l2_transfer(n: DiffNet) -> tuple[str, int, str]:
    """A user transfer on the sequencer's op-geth; returns (tx hash, L2 block it landed in, that
    block's hash)."""
    c = RpcClient(n.info.l2_rpc_url, timeout=10.0)
    acct = Account.from_key(n.info.key("user"))
    tx = {"chainId": n.info.l2_chain_id, "nonce": int(c.call("eth_getTransactionCount", acct.address, "pending"), 16),
          "to": "0x" + "11" * 20, "value": 1, "gas": 21000, "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 10**6,
          "type": 2}  # fmt: skip
    h = str(c.call("eth_sendRawTransaction", to_hex(bytes(Account.sign_transaction(tx, acct.key).raw_transaction))))
    deadline = time.monotonic() + 30
    while (r := c.call("eth_getTransactionReceipt", h)) is None:
        assert time.monotonic() < deadline, f"{n.label}: transfer {h} not included"
        time.sleep(0.2)
    return h, int(r["blockNumber"], 16), str(r["blockHash"])


def _batcher_outage(n: DiffNet) -> None:
    """The batcher stops; a user transfer lands in an unsafe block; once L1 is past that block's
    sequencing window, derivation must force an empty (deposit-only) block there (specs
    derivation.md "Sequencing window": an epoch without batches gets empty batches), which
    replaces the sequencer's block (an unsafe reorg on the sequencer); both nodes agree at every
    poll and settle on equal heads after the batcher restarts."""
    reg = n.registry
    p = n.cmp.wait_settled(120, what=f"{n.label}: before the batcher stop")
    rollup = RpcClient(n.info.rollup_rpc_url)
    window = int(rollup.call("optimism_rollupConfig")["seq_window_size"])
    batcher = stop_registered(reg, "op-batcher")
    n.cmp.watch(6, what=f"{n.label}: batches in flight land")
    tx, blk, sequenced = _send_l2_transfer(n)
    origin = int(rollup.call("optimism_outputAtBlock", hex(blk))["blockRef"]["l1origin"]["number"])
    n.log(f"op-batcher stopped at {p.line()}; sequencing window {window}; transfer in L2 {blk} (origin {origin})")
    n.cmp.watch(240, until=lambda q: q.l1_head > origin + window + 4 and q.b.safe.number >= blk,
                what=f"{n.label}: window expiry forces an empty block at {blk}")  # fmt: skip
    unsafe = int(rollup.call("optimism_syncStatus")["unsafe_l2"]["number"])
    restart_registered(reg, batcher)
    n.log(f"op-batcher restarted; sequencer unsafe {unsafe}")
    n.cmp.wait_settled(300, min_safe=unsafe, what=f"{n.label}: after the batcher restart")
    now = RpcClient(n.info.l2_rpc_url).call("eth_getBlockByNumber", hex(blk), False)
    n.log(f"settled: {n.cmp.polls[-1].line()}; block {blk}: {sequenced[:10]} -> {str(now['hash'])[:10]}")
    assert now["hash"] != sequenced, f"block {blk} with the transfer was not replaced after the window expired"
    assert len(now["transactions"]) == 1 and tx not in now["transactions"]  # the L1-info deposit only
    if n.seq_kind == "pyop":  # the replacement is counted (audit 14: unsafe reorgs were not)
        with urllib.request.urlopen(f"http://127.0.0.1:{n.metrics['sequencer']}/metrics", timeout=10) as r:
            text = r.read().decode()
        m = re.search(r"^op_node_default_unsafe_reorgs_total (\d+)", text, re.M)
        assert m is not None and int(m.group(1)) >= 1, "unsafe reorg not counted"


def test_batcher_down_past_the_sequencing_window(nets: list[DiffNet]) -> None:
    on_both(nets, _batcher_outage)
    for n in nets:  # every poll of every scenario was checked; report what was seen
        ps = n.cmp.polls
        n.log(f"{len(ps)} polls, {sum(p.lag_checked for p in ps)} with the lag rule, "
              f"{sum(p.stale for p in ps)} stale views, max catch-up gap {n.cmp.max_catchup_gap}")  # fmt: skip
        assert len(ps) > 100

