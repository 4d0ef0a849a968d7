"""The asyncio side (pyop/p2p/node.py, rpc_api.py, runtime_config.py, identity.py) and ``pyop
node``'s ``--p2p.*`` flags (pyop/node/p2p.py): a sequencer's P2PNode signs and publishes op-node's
vector blocks, a verifier's P2PNode hands them to its callback; ``opp2p_*`` answers have the JSON
shape op-node v1.19.6 answers with (``spec_vectors/p2p/go-v1.19.6-opp2p-responses.json``)."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import pytest

from pyop.config.forks import Fork
from pyop.node.config import NodeConfigError, parse_node_args
from pyop.node.p2p import p2p_config
from pyop.p2p.identity import NetworkKeyError, load_network_key, node_id, parse_priv, peer_id
from pyop.p2p.node import P2PConfig, P2PError, P2PNode
from pyop.p2p.rpc_api import P2PAPI, P2PRPCError
from pyop.p2p.runtime_config import UNSAFE_BLOCK_SIGNER_SLOT, RuntimeConfig
from pyop.p2p.validation import StaticSigner
from pyop.primitives import ExecutionPayload, from_hex
from tests.conftest import SPEC_VECTORS
from tests.p2p.helpers import rollup_config
from tests.p2p.test_p2p_go_vectors import envelope_payload, vectors

GO_RESPONSES = SPEC_VECTORS / "p2p" / "go-v1.19.6-opp2p-responses.json"


def v4_payloads() -> list[ExecutionPayload]:
    return [envelope_payload(e["envelope"]) for e in vectors()["encodings"] if e["version"] == 3]


def shape(v: Any) -> Any:
    """The JSON shape: keys and value types (int and float both "number")."""
    if isinstance(v, dict):
        return {k: shape(x) for k, x in v.items()}
    if isinstance(v, list):
        return [shape(v[0])] if v else []
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    return type(v).__name__


def test_identity_matches_go() -> None:
    ident = vectors()["identity"]
    key = bytes.fromhex(ident["privateKey"])
    assert peer_id(key) == ident["peerId"]
    assert node_id(key).hex() == ident["nodeId"]


def test_network_key_file(tmp_path: Path) -> None:
    """op-node ``loadNetworkPrivKey``: a missing file is created (hex, mode 0600) and read back;
    ``0x`` and white space are accepted; bad contents are refused."""
    f = tmp_path / "p2p_priv.txt"
    k = load_network_key(path=str(f))
    assert f.read_text() == k.hex() and (f.stat().st_mode & 0o777) == 0o600
    assert load_network_key(path=str(f)) == k
    f.write_text("  0x" + k.hex() + "\n")
    assert load_network_key(path=str(f)) == k
    assert load_network_key(raw="0x" + "11" * 32, path=str(f)) == b"\x11" * 32
    with pytest.raises(NetworkKeyError, match="hex chars"):
        parse_priv("zz" * 32)
    with pytest.raises(NetworkKeyError, match="from 31 bytes"):
        parse_priv("11" * 31)
    with pytest.raises(NetworkKeyError, match="no p2p private key path"):
        load_network_key()


class FakeL1:
    def __init__(self, signer: bytes) -> None:
        self.word = b"\x00" * 12 + signer
        self.calls: list[tuple[str, list[Any]]] = []

    async def call(self, method: str, params: Any = ()) -> Any:
        self.calls.append((method, list(params)))
        if method == "eth_getBlockByNumber":
            n = 100 if params[0] == "latest" else int(params[0], 16)
            return {"number": hex(n), "hash": "0x" + f"{n:064x}"}
        if method == "eth_getStorageAt":
            return "0x" + self.word.hex()
        raise AssertionError(method)


def test_runtime_config_loads_and_rotates_the_signer() -> None:
    """op-node ``RuntimeConfig.Load``: the SystemConfig's unsafeBlockSigner slot at the L1 block
    ``conf_depth`` below the head; a rotation keeps the previous signer for the grace period
    until a block of the new one is confirmed."""
    now = [1000.0]
    l1 = FakeL1(b"\xaa" * 20)
    rc = RuntimeConfig(l1, b"\x55" * 20, conf_depth=4, clock=lambda: now[0])
    asyncio.run(rc.load())
    assert rc.p2p_sequencer_address() == b"\xaa" * 20 and rc.previous_p2p_sequencer_address() == b"\x00" * 20
    assert l1.calls[-1] == ("eth_getStorageAt", ["0x" + "55" * 20, "0x" + UNSAFE_BLOCK_SIGNER_SLOT.hex(), "0x" + f"{96:064x}"])
    l1.word = b"\x00" * 12 + b"\xbb" * 20
    asyncio.run(rc.load())
    assert rc.p2p_sequencer_address() == b"\xbb" * 20 and rc.previous_p2p_sequencer_address() == b"\xaa" * 20
    now[0] += 3 * 3600 + 1
    assert rc.previous_p2p_sequencer_address() == b"\x00" * 20  # grace over
    now[0] -= 3600
    rc.confirm_current_signer()
    assert rc.previous_p2p_sequencer_address() == b"\x00" * 20


def _node(received: list[ExecutionPayload], *, key: bytes | None = None, static: tuple[str, ...] = ()) -> P2PNode:
    d = vectors()
    cfg = rollup_config(chain_id=d["chainId"], forks={f: 0 for f in Fork if f < Fork.JOVIAN})
    p2p = P2PConfig(priv_key=os.urandom(32), listen_ip="127.0.0.1", listen_tcp=0, static_peers=static,
                    sequencer_key=key, ping=False, no_discovery=True)  # fmt: skip
    return P2PNode(cfg, p2p, StaticSigner(from_hex(d["sequencerAddress"])),
                   lambda p, _peer: received.append(p), clock=lambda: float(d["now"]))  # fmt: skip


def test_sequencer_publishes_verifier_receives_and_opp2p_shapes() -> None:
    d = vectors()
    go = json.loads(GO_RESPONSES.read_text())

    async def scenario() -> None:
        got_seq: list[ExecutionPayload] = []
        got_ver: list[ExecutionPayload] = []
        seq = _node(got_seq, key=bytes.fromhex(d["sequencerKey"]))
        await seq.start()
        ver = _node(got_ver, static=(seq.host.listen_addrs[0],))
        await ver.start()
        tasks = [asyncio.create_task(seq.run()), asyncio.create_task(ver.run())]
        try:
            api = P2PAPI(ver)
            for _ in range(150):
                stats = await api.peer_stats([])
                if stats["blocksTopicV4"] == 1:  # type: ignore[index]
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(1.5)  # mesh forms on the next heartbeat
            for p in v4_payloads():
                await seq.publish_block(p)
            for _ in range(100):
                if len(got_ver) == 2:
                    break
                await asyncio.sleep(0.1)
            assert got_ver == v4_payloads() and got_seq == []
            # a sequencer without a key cannot publish; a verifier's key is not the signer
            with pytest.raises(P2PError, match="no p2p signer"):
                await ver.publish_block(v4_payloads()[0])
            # opp2p_* answers: op-node's JSON shapes
            self_ = await api.self_([])
            assert shape(self_) == shape(go["opp2p_self"]["result"])
            peers = await api.peers([True])
            go_peers = go["opp2p_peers_true"]["result"]
            assert shape({**peers, "peers": {}}) == shape({**go_peers, "peers": {}})  # type: ignore[dict-item]
            (info,) = peers["peers"].values()  # type: ignore[index]
            (go_info,) = go_peers["peers"].values()
            assert shape(info) == shape(go_info)
            assert info["peerID"] == str(seq.host.peer_id) and info["connectedness"] == 1
            assert info["gossipBlocks"] is True and info["protected"] is True and info["direction"] == 2
            assert info["nodeID"] == node_id(seq.p2p.priv_key).hex()
            assert shape(stats) == shape(go["opp2p_peerStats"]["result"])
            with pytest.raises(P2PRPCError, match="discovery disabled"):
                await api.discovery_table([])
            for m in ("opp2p_listBlockedPeers", "opp2p_listBlockedAddrs", "opp2p_listBlockedSubnets"):
                assert await api.methods[m]([]) == go[m]["result"] == []
            # the operator blocks the sequencer: disconnected, listed, and refused
            await api.block_peer([str(seq.host.peer_id)])
            assert await api.list_blocked_peers([]) == [str(seq.host.peer_id)]
            for _ in range(50):
                if (await api.peer_stats([]))["connected"] == 0:  # type: ignore[index]
                    break
                await asyncio.sleep(0.1)
            assert (await api.peer_stats([]))["banned"] == 1  # type: ignore[index]
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(scenario())


def _flags(*extra: str) -> P2PConfig | None:
    return p2p_config(parse_node_args(list(extra), env={}))


def test_node_p2p_flags(tmp_path: Path) -> None:
    key = tmp_path / "k.txt"
    base = (f"--p2p.priv.path={key}",)
    c = _flags(*base, "--p2p.listen.ip=127.0.0.1", "--p2p.listen.tcp=30303", "--p2p.peers.lo=2", "--p2p.peers.hi=3",
               "--p2p.static=/ip4/127.0.0.1/tcp/9222/p2p/16Uiu2HAm1s7VVfqdATQYYerpU1e9nAkmoEuQdREbhPfuPTPhskv3",
               "--p2p.ban.threshold=-50.5", "--p2p.ban.duration=10m", "--p2p.scoring=none", "--p2p.mux=mplex",
               "--p2p.sequencer.key=0x" + "22" * 32, "--p2p.gossip.timestamp.threshold=30s")  # fmt: skip
    assert c is not None and key.exists()
    assert (c.listen_ip, c.listen_tcp, c.peers_lo, c.peers_hi, c.ban_threshold, c.ban_duration, c.scoring,
            c.muxers, c.sequencer_key, c.timestamp_threshold) == (
        "127.0.0.1", 30303, 2, 3, -50.5, 600.0, "none", ("mplex",), b"\x22" * 32, 30)  # fmt: skip
    assert len(c.static_peers) == 1
    # op-node's defaults
    c = _flags(*base)
    assert c is not None and (c.listen_ip, c.listen_tcp, c.muxers, c.scoring, c.ban_peers, c.ban_threshold,
                              c.peers_lo, c.peers_hi, c.user_agent) == (
        "0.0.0.0", 9222, ("yamux", "mplex"), "light", True, -100.0, 20, 30, "optimism")  # fmt: skip
    env = parse_node_args([f"--p2p.priv.path={key}"], env={"OP_NODE_P2P_LISTEN_TCP_PORT": "4000"})
    assert p2p_config(env).listen_tcp == 4000  # type: ignore[union-attr]
    assert _flags("--p2p.disable") is None


@pytest.mark.parametrize(("args", "err"), [
    (("--p2p.disable", "--p2p.static=/ip4/1.2.3.4/tcp/1/p2p/16Uiu2HAm1s7VVfqdATQYYerpU1e9nAkmoEuQdREbhPfuPTPhskv3"),
     "both --p2p.static and --p2p.disable"),
    (("--p2p.listen.tcp=80",), "port is reserved for system: 80"),
    (("--p2p.listen.tcp=70000",), "port out of range"),
    (("--p2p.listen.ip=nope",), "failed to parse IP"),
    (("--p2p.mux=quic",), "could not recognize mux quic"),
    (("--p2p.security=tls",), "noise only"),
    (("--p2p.scoring=heavy",), "unknown p2p scoring level: heavy"),
    (("--p2p.peers.lo=40",), "peers lo/hi tides are invalid: 40, 30"),
    (("--p2p.gossip.mesh.d=0",), "mesh D param must not be 0"),
    (("--p2p.static=/ip4/1.2.3.4/tcp/1",), "static peer 0"),
    (("--p2p.sequencer.key=xyz",), "failed to read sequencer p2p key"),
])  # fmt: skip
def test_node_p2p_flag_errors(args: tuple[str, ...], err: str, tmp_path: Path) -> None:
    with pytest.raises(NodeConfigError, match=err.replace(".", r"\.")):
        _flags(f"--p2p.priv.path={tmp_path / 'k.txt'}", *args)


def test_remote_signer_request_and_publish() -> None:
    """``--signer.endpoint`` / ``--signer.address``: op-node asks an op-signer
    (``opsigner_signBlockPayload``) with Go's JSON encoding of ``BlockPayloadArgs`` (the request
    op-node v1.19.6 builds for a block, from the vectors); the signature it returns is published."""
    from aiohttp import web

    from pyop.p2p.signer import RemoteSignerConfig, block_payload_args

    d = vectors()
    go_req = d["signerRequest"]
    assert block_payload_args(d["chainId"], from_hex(go_req["payloadHash"]), d["sequencerAddress"]) == go_req["args"]
    seq_key = bytes.fromhex(d["sequencerKey"])
    seen: list[dict[str, Any]] = []

    async def handle(request: web.Request) -> web.Response:
        body = await request.json()
        seen.append(body)
        if body["method"] == "health_status":
            return web.json_response({"jsonrpc": "2.0", "id": body["id"], "result": "ok"})
        (args,) = body["params"]
        import base64

        from coincurve import PrivateKey

        from pyop.p2p.signing import signing_hash

        h = signing_hash(args["chainId"], base64.b64decode(args["payloadHash"]))
        sig = PrivateKey(seq_key).sign_recoverable(h, hasher=None)
        return web.json_response({"jsonrpc": "2.0", "id": body["id"], "result": "0x" + sig.hex()})

    async def scenario() -> None:
        app = web.Application()
        app.router.add_post("/", handle)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        cfg = rollup_config(chain_id=d["chainId"], forks={f: 0 for f in Fork if f < Fork.JOVIAN})
        p2p = P2PConfig(priv_key=os.urandom(32), listen_ip="127.0.0.1", listen_tcp=0, ping=False,
                        remote_signer=RemoteSignerConfig(f"http://127.0.0.1:{port}/", d["sequencerAddress"],
                                                         tls_enabled=False))  # fmt: skip
        node = P2PNode(cfg, p2p, StaticSigner(from_hex(d["sequencerAddress"])), lambda p, _: None,
                       clock=lambda: float(d["now"]))  # fmt: skip
        await node.start()
        try:
            res = await node.publish_block(v4_payloads()[0])  # local validation: the signer's signature
            assert res.outcome.value == "ACCEPT"
            assert [b["method"] for b in seen] == ["health_status", "opsigner_signBlockPayload"]
        finally:
            node.host.stop()
            await node.signer.close()  # type: ignore[union-attr]
            await runner.cleanup()

    asyncio.run(scenario())
