"""Engine API client against a fake JSON-RPC server: JWT on every request, error mapping, the
parameter shapes of each method version, envelope parsing; version selection per fork; the JWT
encoder against an independent decoding (base64 + HMAC from the standard library)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import pytest

from pyop.devnet.geth import write_jwt_secret
from pyop.engine import (
    EngineClient,
    EngineResponseError,
    EngineTemporaryError,
    ForkchoiceState,
    InvalidForkchoiceStateError,
    InvalidPayloadAttributesError,
    JWTSecretError,
    PayloadStatusKind,
    UnknownPayloadError,
    forkchoice_updated_version,
    get_payload_version,
    jwt_token,
    load_jwt_secret,
    parse_jwt_secret,
)
from pyop.engine.errors import EngineRPCError, TooLargeRequestError, UnsupportedForkError
from pyop.engine.versions import new_payload_version
from pyop.errors import CriticalError, ResetError, TemporaryError
from pyop.primitives import ExecutionPayload, PayloadAttributes
from tests.derivation.deriv_fakes import make_cfg
from tests.engine.fake_engine import FakeEngine, RpcFail, status, valid

SECRET = bytes(range(32))
H = b"\x11" * 32


def b64d(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def decode_jwt(token: str, secret: bytes) -> dict[str, Any]:
    """Independent HS256 check (RFC 7515/7519): split, verify the MAC, return the claims."""
    head, claims, sig = token.split(".")
    mac = hmac.new(secret, f"{head}.{claims}".encode(), hashlib.sha256).digest()
    assert hmac.compare_digest(mac, b64d(sig)), "bad signature"
    assert json.loads(b64d(head)) == {"alg": "HS256", "typ": "JWT"}
    out: dict[str, Any] = json.loads(b64d(claims))
    return out


def payload(**kw: Any) -> ExecutionPayload:
    base: dict[str, Any] = dict(
        parent_hash=H, fee_recipient=b"\x42" * 20, state_root=H, receipts_root=H,
        logs_bloom=b"\x00" * 256, prev_randao=H, block_number=5, gas_limit=30_000_000,
        gas_used=21_000, timestamp=1_000_010, extra_data=b"\x00" * 9, base_fee_per_gas=7,
        block_hash=b"\x22" * 32, transactions=(b"\x7e\x01",), withdrawals=(),
        blob_gas_used=0, excess_blob_gas=0,
    )  # fmt: skip
    base.update(kw)
    return ExecutionPayload(**base)


def attrs(ts: int = 1_000_010, **kw: Any) -> PayloadAttributes:
    base: dict[str, Any] = dict(
        timestamp=ts, prev_randao=H, suggested_fee_recipient=b"\x42" * 20,
        transactions=(b"\x7e\x01",), no_tx_pool=True, gas_limit=30_000_000, withdrawals=(),
        parent_beacon_block_root=H, eip1559_params=b"\x00" * 8, min_base_fee=1000,
    )  # fmt: skip
    base.update(kw)
    return PayloadAttributes(**base)


FCS = ForkchoiceState(H, H, H)


# ---------------------------------------------------------------------------------- JWT


def test_jwt_token_decodes_independently() -> None:
    now = time.time()
    tok = jwt_token(SECRET)
    claims = decode_jwt(tok, SECRET)
    assert set(claims) == {"iat"} and abs(claims["iat"] - now) < 60
    assert decode_jwt(jwt_token(SECRET, now=1234), SECRET) == {"iat": 1234}
    with pytest.raises(AssertionError):
        decode_jwt(tok, bytes(32))


def test_jwt_secret_parsing(tmp_path: Path) -> None:
    assert parse_jwt_secret(" 0x" + SECRET.hex() + "\n") == SECRET
    assert parse_jwt_secret(SECRET.hex().upper()) == SECRET
    for bad in ("", "0x1234", "zz" * 32, SECRET.hex() + "00"):
        with pytest.raises(JWTSecretError):
            parse_jwt_secret(bad)
    written = write_jwt_secret(tmp_path / "jwt.hex")  # the devnet's (op-geth's) file format
    assert load_jwt_secret(tmp_path / "jwt.hex") == written
    with pytest.raises(JWTSecretError):
        load_jwt_secret(tmp_path / "missing")
    with pytest.raises(JWTSecretError):
        jwt_token(b"short")


# ---------------------------------------------------------------------------------- versions


def test_versions_per_fork() -> None:
    # op-node rollup/types.go + the Isthmus rows of derivation.md "Engine API usage"
    cfg = make_cfg(regolith_time=0, canyon_time=100, delta_time=100, ecotone_time=200,
                   fjord_time=200, granite_time=200, holocene_time=200, isthmus_time=300,
                   jovian_time=400, karst_time=500)  # fmt: skip
    rows = [  # (timestamp, fcu, newPayload, getPayload)
        (50, 1, 2, 2), (100, 2, 2, 2), (199, 2, 2, 2), (200, 3, 3, 3), (299, 3, 3, 3),
        (300, 3, 4, 4), (400, 3, 4, 4), (499, 3, 4, 4),
        (500, 3, 4, 5),  # op-node v1.19.6 GetPayloadVersion: V5 ("Osaka") from Karst
    ]  # fmt: skip
    for ts, fcu, newp, getp in rows:
        assert forkchoice_updated_version(cfg, attrs(ts)) == fcu, ts
        assert new_payload_version(cfg, ts) == newp, ts
        assert get_payload_version(cfg, ts) == getp, ts
    assert forkchoice_updated_version(cfg, None) == 3  # no attributes: V3 (op-node)


# ---------------------------------------------------------------------------------- client


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_every_request_carries_a_valid_jwt() -> None:
    async def go() -> None:
        async with FakeEngine({"engine_forkchoiceUpdatedV3": lambda p: valid(),
                               "eth_chainId": lambda p: "0x385"}) as fake:  # fmt: skip
            async with EngineClient(fake.url, SECRET) as c:
                await c.forkchoice_updated(FCS, None, 3)
                assert await c.call("eth_chainId") == "0x385"
            assert len(fake.requests) == 2
            for r in fake.requests:
                assert r.authorization is not None and r.authorization.startswith("Bearer ")
                claims = decode_jwt(r.authorization.removeprefix("Bearer "), SECRET)
                assert abs(claims["iat"] - time.time()) < 60

    run(go())


@pytest.mark.parametrize(
    "code,cls",
    [
        (-38001, UnknownPayloadError),
        (-38002, InvalidForkchoiceStateError),
        (-38003, InvalidPayloadAttributesError),
        (-38004, TooLargeRequestError),
        (-38005, UnsupportedForkError),
        (-32601, EngineRPCError),
        (-32602, EngineRPCError),
        (-32000, EngineRPCError),
    ],
)
def test_error_codes_map_to_typed_errors(code: int, cls: type) -> None:
    """The client names each code; by itself every JSON-RPC error is temporary (op-node treats an
    error it does not single out as temporary); the controller classifies per call site
    (test_engine_error_codes.py)."""

    def fail(p: list[Any]) -> Any:
        raise RpcFail(code, "nope")

    async def go() -> None:
        async with FakeEngine({"engine_forkchoiceUpdatedV3": fail}) as fake, EngineClient(fake.url, SECRET) as c:
            with pytest.raises(cls) as ei:
                await c.forkchoice_updated(FCS, None, 3)
            assert isinstance(ei.value, EngineRPCError) and isinstance(ei.value, TemporaryError)
            assert not isinstance(ei.value, (ResetError, CriticalError))
            assert ei.value.code == code and ei.value.method == "engine_forkchoiceUpdatedV3"
            assert c.stats.methods["engine_forkchoiceUpdatedV3"].errors == 1

    run(go())


def test_transport_failures_are_temporary() -> None:
    async def go() -> None:
        async with FakeEngine(raw_responses={
            "a": (500, b"<html>oops</html>"), "b": (200, b"[1,2]"), "c": (401, b"jwt bad"),
        }) as fake:  # fmt: skip
            async with EngineClient(fake.url, SECRET) as c:
                with pytest.raises(EngineTemporaryError, match="HTTP 500"):
                    await c.call("a")
                with pytest.raises(EngineResponseError):
                    await c.call("b")
                with pytest.raises(EngineTemporaryError, match="JWT refused"):
                    await c.call("c")
            fake.delay = 0.5
            async with EngineClient(fake.url, SECRET, timeout=0.1) as c:
                with pytest.raises(EngineTemporaryError, match="timed out"):
                    await c.call("eth_chainId")
            url = fake.url
        async with EngineClient(url, SECRET) as c:  # server gone: connection refused
            with pytest.raises(EngineTemporaryError):
                await c.call("eth_chainId")

    run(go())


def test_new_payload_params_per_version() -> None:
    def np(p: list[Any]) -> Any:
        return status("VALID")

    async def go() -> None:
        handlers = {f"engine_newPayloadV{v}": np for v in (2, 3, 4)}
        async with FakeEngine(handlers) as fake:
            async with EngineClient(fake.url, SECRET) as c:
                p = payload(withdrawals_root=b"\x33" * 32)
                root = b"\x44" * 32
                for v in (2, 3, 4):
                    st = await c.new_payload(p, v, root)
                    assert st.status is PayloadStatusKind.VALID
            v2, v3, v4 = (fake.calls(f"engine_newPayloadV{v}")[0].params for v in (2, 3, 4))
            assert len(v2) == 1 and "blobGasUsed" not in v2[0] and "withdrawalsRoot" not in v2[0]
            assert len(v3) == 3 and v3[1] == [] and v3[2] == "0x" + root.hex()
            assert v3[0]["blobGasUsed"] == "0x0" and "withdrawalsRoot" not in v3[0]
            assert len(v4) == 4 and v4[1] == [] and v4[2] == "0x" + root.hex() and v4[3] == []
            assert v4[0]["withdrawalsRoot"] == "0x" + "33" * 32
            assert v4[0]["transactions"] == ["0x7e01"] and v4[0]["blockNumber"] == "0x5"

    run(go())


def test_fcu_attributes_json_and_payload_status() -> None:
    def fcu(p: list[Any]) -> Any:
        return {"payloadStatus": {"status": "VALID", "latestValidHash": "0x" + "ab" * 32},
                "payloadId": "0x0102030405060708"}  # fmt: skip

    async def go() -> None:
        async with FakeEngine({"engine_forkchoiceUpdatedV3": fcu}) as fake:
            async with EngineClient(fake.url, SECRET) as c:
                res = await c.forkchoice_updated(FCS, attrs(), 3)
            assert res.payload_id == bytes.fromhex("0102030405060708")
            assert res.payload_status.latest_valid_hash == b"\xab" * 32
            state, a = fake.requests[0].params
            assert state == {"headBlockHash": "0x" + "11" * 32, "safeBlockHash": "0x" + "11" * 32,
                             "finalizedBlockHash": "0x" + "11" * 32}  # fmt: skip
            # op-geth / op-node carry minBaseFee as a JSON number (Go *uint64), the rest as hex
            assert a["minBaseFee"] == 1000 and a["gasLimit"] == "0x1c9c380"
            assert a["eip1559Params"] == "0x0000000000000000" and a["noTxPool"] is True
            assert a["withdrawals"] == [] and a["parentBeaconBlockRoot"] == "0x" + "11" * 32

    run(go())


def test_get_payload_envelope_v4() -> None:
    pj = payload(withdrawals_root=b"\x33" * 32).to_json()

    def gp(p: list[Any]) -> Any:
        assert p == ["0x0102030405060708"]
        return {"executionPayload": pj, "blockValue": "0x10", "blobsBundle": {"blobs": []},
                "shouldOverrideBuilder": False, "executionRequests": []}  # fmt: skip

    def bad(p: list[Any]) -> Any:
        return {"executionPayload": {**pj, "blockHash": "0x12"}}

    async def go() -> None:
        handlers = {"engine_getPayloadV4": gp, "engine_getPayloadV3": bad}
        async with FakeEngine(handlers) as fake, EngineClient(fake.url, SECRET) as c:
            env = await c.get_payload(bytes.fromhex("0102030405060708"), 4)
            with pytest.raises(EngineResponseError):
                await c.get_payload(bytes(8), 3)
        assert env.execution_payload == payload(withdrawals_root=b"\x33" * 32)
        assert env.block_value == 16 and env.execution_requests == ()
        assert env.should_override_builder is False

    run(go())
