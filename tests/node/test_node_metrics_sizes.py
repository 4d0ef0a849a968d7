"""op-service's RPC size counters (``rpc_{server,client}_{params,results}_size_total{rpc,
method}``: the bytes of the raw JSON ``params`` / ``result`` values, op-geth ``RecordedMsg``)
and op-node's ``channel_input_bytes`` (``ChannelInReader.WriteChannel``), on pyop node's
real RPC server and clients over HTTP on 127.0.0.1. Expected byte counts come from the bytes
the test itself sent or received (string offsets in the raw bodies), not from the code under
test."""

from __future__ import annotations

import asyncio
import json
import zlib
from typing import Any

import aiohttp
from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st

from pyop.derivation.channel_reader import ChannelReader
from pyop.derivation.drops import Explainer
from pyop.derivation.errors import NotEnoughData
from pyop.engine.client import EngineClient
from pyop.node.api import RPCMethodError
from pyop.node.driver import DriverObserver
from pyop.node.instrument import MeteredRPCClient
from pyop.node.metrics import NodeMetrics
from pyop.node.rpc_server import HTTPServer, rpc_app
from pyop.primitives import L1BlockRef, SystemConfig
from pyop.sources.jsonraw import member_sizes
from pyop.sources.rpc import JSONRPCError
from tests.derivation.harness import make_config
from tests.p2p.test_p2p_metrics import samples

NS = "op_node_default_"


class _StubAPI:
    """``optimism_echo`` answers ``{"got": params}``; anything else is an error."""

    async def dispatch(self, method: str, params: list[Any]) -> object:
        if method == "optimism_echo":
            return {"got": params, "text": "héllo"}
        raise RPCMethodError(-32601, f"the method {method} does not exist/is not available")


def test_server_params_and_results_sizes() -> None:
    """The raw params as the client wrote them (whitespace included), the result as the server
    sent it; an error answer counts its params only; a batch counts each request."""
    m = NodeMetrics()
    one = b'{"jsonrpc":"2.0","id":1,"method":"optimism_echo","params": [ "0x1",  true ,{"a" : null}] }'
    raw_params = b'[ "0x1",  true ,{"a" : null}]'
    batch = (b'[{"jsonrpc":"2.0","id":2,"method":"optimism_echo","params":[]},'
             b' {"jsonrpc":"2.0","id":3,"method":"optimism_nope","params":[7]}]')  # fmt: skip

    async def main() -> list[bytes]:
        srv = HTTPServer(rpc_app(_StubAPI(), on_sizes=lambda r, meth, p, res: m.record_rpc_sizes(  # type: ignore[arg-type]
            "server", r, meth, p, res)), "127.0.0.1", 0)  # fmt: skip
        await srv.start()
        try:
            out = []
            async with aiohttp.ClientSession() as s:
                for body in (one, batch):
                    async with s.post(srv.url, data=body, headers={"Content-Type": "application/json"}) as r:
                        out.append(await r.read())
            return out
        finally:
            await srv.close()

    resp_one, resp_batch = asyncio.run(main())
    # the single answer is {"jsonrpc": "2.0", "id": 1, "result": <value>}: the value runs from
    # after '"result": ' to the closing brace
    result_one = resp_one[resp_one.index(b'"result": ') + len(b'"result": ') : resp_one.rindex(b"}")]
    assert json.loads(result_one)["got"] == ["0x1", True, {"a": None}]
    first = resp_batch[resp_batch.index(b'"result": ') + len(b'"result": ') : resp_batch.index(b"}}") + 1]
    assert json.loads(first) == {"got": [], "text": "héllo"}
    assert samples(m, NS + "rpc_server_params_size_total") == {
        '{rpc="main",method="optimism_echo"}': len(raw_params) + len(b"[]"),
        '{rpc="main",method="optimism_nope"}': len(b"[7]"),
    }
    assert samples(m, NS + "rpc_server_results_size_total") == {
        '{rpc="main",method="optimism_echo"}': len(result_one) + len(first)}


def _answering_server(answers: list[bytes], seen: list[bytes]) -> web.Application:
    app = web.Application()

    async def post(request: web.Request) -> web.Response:
        seen.append(await request.read())
        return web.Response(body=answers.pop(0), content_type="application/json")

    app.router.add_post("/", post)
    return app


def test_client_params_and_results_sizes() -> None:
    """``MeteredRPCClient`` (the node's L1 client): params as sent, the raw result as received
    (the server's spacing kept), batch items matched by id, no result for an error."""
    m = NodeMetrics()
    seen: list[bytes] = []
    single_result = b'{ "number" : "0x10",\n "hash": "0xab" }'
    answers = [
        b'{"jsonrpc":"2.0","id":1,"result":' + single_result + b"}",
        b'[{"jsonrpc":"2.0","id":3,"error":{"code":-32000,"message":"no"}},'
        b'{"jsonrpc":"2.0","id":2,"result":"0x1234"}]',
    ]

    async def main() -> None:
        srv = HTTPServer(_answering_server(answers, seen), "127.0.0.1", 0)
        await srv.start()
        c = MeteredRPCClient(srv.url, m, "l1")
        try:
            assert await c.call("eth_getBlockByNumber", ["latest", False]) == {"number": "0x10", "hash": "0xab"}
            got = await c.batch([("eth_chainId", []), ("eth_getBalance", ["0x" + "11" * 20, "latest"])],
                                return_errors=True)  # fmt: skip
            assert got[0] == "0x1234" and isinstance(got[1], JSONRPCError)
        finally:
            await c.close()
            await srv.close()

    asyncio.run(main())

    def params_of(body: bytes, method: str) -> bytes:
        """The raw params of ``method`` in a request body pyop wrote (``"params": <v>}``)."""
        i = body.index(b'"method": "' + method.encode() + b'"')
        start = body.index(b'"params": ', i) + len(b'"params": ')
        return body[start : body.index(b"}", start)]

    assert params_of(seen[0], "eth_getBlockByNumber") == b'["latest", false]'
    assert samples(m, NS + "rpc_client_params_size_total") == {
        '{rpc="l1",method="eth_getBlockByNumber"}': len(params_of(seen[0], "eth_getBlockByNumber")),
        '{rpc="l1",method="eth_chainId"}': len(params_of(seen[1], "eth_chainId")),
        '{rpc="l1",method="eth_getBalance"}': len(params_of(seen[1], "eth_getBalance")),
    }
    assert samples(m, NS + "rpc_client_results_size_total") == {
        '{rpc="l1",method="eth_getBlockByNumber"}': len(single_result),
        '{rpc="l1",method="eth_chainId"}': len(b'"0x1234"'),
    }


def test_engine_client_sizes() -> None:
    """The Engine API client reports the raw params it sent and the raw result it got."""
    seen: list[bytes] = []
    result = b'{"payloadStatus": {"status": "VALID", "latestValidHash": null}, "payloadId": null}'
    answers = [b'{"jsonrpc":"2.0","id":1,"result":' + result + b"}"]
    calls: list[tuple[str, int, int | None]] = []

    async def main() -> None:
        srv = HTTPServer(_answering_server(answers, seen), "127.0.0.1", 0)
        await srv.start()
        c = EngineClient(srv.url, b"\x01" * 32, on_sizes=lambda meth, p, r: calls.append((meth, p, r)))
        try:
            await c.call("engine_forkchoiceUpdatedV3", [{"headBlockHash": "0x" + "22" * 32}, None])
        finally:
            await c.close()
            await srv.close()

    asyncio.run(main())
    body = seen[0]
    start = body.index(b'"params": ') + len(b'"params": ')
    assert calls == [("engine_forkchoiceUpdatedV3", len(body[start : body.rindex(b"}")]), len(result))]


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                     lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=3), c, max_size=3),
                     max_leaves=8)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(_json, _json, st.sampled_from([(",", ":"), (", ", ": "), (" ,\n", " :  ")]), st.booleans())
def test_member_sizes_are_the_raw_value_bytes(params: Any, result: Any, seps: tuple[str, str], ascii_: bool) -> None:
    """``json.dumps`` is compositional: a member's raw bytes in a message are the value's own
    encoding with the same separators (the oracle)."""
    for obj, key, v in (({"jsonrpc": "2.0", "id": 1, "params": params, "method": "m"}, "params", params),
                        ({"id": "x", "result": result}, "result", result)):  # fmt: skip
        text = json.dumps(obj, separators=seps, ensure_ascii=ascii_)
        want = len(json.dumps(v, separators=seps, ensure_ascii=ascii_).encode())
        assert member_sizes(text.encode())[0][key] == want
        assert member_sizes(("[" + text + " , 5," + text + "]").encode())[1:] == [{}, member_sizes(text)[0]]


class _OneChannel:
    def __init__(self, data: bytes) -> None:
        self.data: bytes | None = data
        self.origin = L1BlockRef(b"\x01" * 32, 5, b"\x00" * 32, 1_000)

    def next_data(self) -> bytes:
        d, self.data = self.data, None
        if d is None:
            raise NotEnoughData("no more")
        return d

    def flush_channel(self) -> None:
        pass

    def reset(self, base: L1BlockRef, sys_cfg: SystemConfig) -> None:
        pass


def test_channel_input_bytes_counts_opened_channels() -> None:
    """op-node records the compressed length of a channel whose batch reader opens (a valid
    compression header); a channel that cannot be opened is not counted."""
    cfg = make_config()
    for data, opens in ((zlib.compress(b"\xc0" * 40), True), (b"\x0f\x00garbage", False)):
        m = NodeMetrics()
        reader = ChannelReader(cfg, _OneChannel(data), Explainer(DriverObserver(m)))
        try:
            reader.next_batch()
        except NotEnoughData:
            pass
        except Exception:  # a batch that does not decode is the reader's concern, not this test's
            pass
        assert samples(m, NS + "channel_input_bytes") == {"": len(data) if opens else 0}


def test_client_sizes_off_without_metrics() -> None:
    """``record_sizes=False`` (the node without ``--metrics.enabled``, where op-node's metrics are
    no-ops): the call is answered and counted, but no body is scanned for sizes."""
    m = NodeMetrics()
    answers = [b'{"jsonrpc":"2.0","id":1,"result":"0x1"}']

    async def main() -> None:
        srv = HTTPServer(_answering_server(answers, []), "127.0.0.1", 0)
        await srv.start()
        c = MeteredRPCClient(srv.url, m, "l1", record_sizes=False)
        try:
            assert await c.call("eth_chainId", []) == "0x1"
        finally:
            await c.close()
            await srv.close()

    asyncio.run(main())
    assert samples(m, NS + "rpc_client_params_size_total") == {}
    assert samples(m, NS + "rpc_client_results_size_total") == {}
    assert samples(m, NS + "rpc_client_requests_total")
