"""The Engine API client: JSON-RPC over HTTP with a fresh JWT per request (op-node
``sources.EngineAPIClient``, op-service/sources/engine_client.go).

Spec: specs/protocol/exec-engine.md (OP's extended ``PayloadAttributes``, ``engine_*`` methods),
ethereum/execution-apis src/engine/{paris,shanghai,cancun,prague}.md (``ForkchoiceStateV1``,
``PayloadStatusV1``, ``ExecutionPayloadEnvelope``), authentication.md (JWT).

The client does not choose method versions: the caller passes them (see
:mod:`pyop.engine.versions`). Failures raise the typed errors of :mod:`pyop.engine.errors`. The
same authenticated endpoint also serves ``eth_*``; :meth:`EngineClient.call` reaches it.
Every call's wall time is kept in :attr:`EngineClient.stats` (and passed to ``on_call``).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import aiohttp

from pyop.engine.errors import (
    EngineResponseError,
    EngineTemporaryError,
    error_for_code,
)
from pyop.engine.jwt import jwt_token
from pyop.engine.versions import method_name
from pyop.primitives import (
    ExecutionPayload,
    Hash32,
    HexError,
    PayloadAttributes,
    PyopError,
    from_hex,
    hex_to_int,
    to_hex,
)
from pyop.sources.blockjson import payload_from_engine_json
from pyop.sources.jsonraw import member_sizes
from pyop.sources.rpc import SessionHolder

DEFAULT_TIMEOUT = 10.0
"""Seconds per call (op-node's engine RPC calls use a few seconds to 10 s)."""


class PayloadStatusKind(StrEnum):
    """``PayloadStatusV1.status``."""

    VALID = "VALID"
    INVALID = "INVALID"
    SYNCING = "SYNCING"
    ACCEPTED = "ACCEPTED"
    INVALID_BLOCK_HASH = "INVALID_BLOCK_HASH"


@dataclass(frozen=True, slots=True)
class ForkchoiceState:
    """``ForkchoiceStateV1``."""

    head: Hash32
    safe: Hash32
    finalized: Hash32

    def to_json(self) -> dict[str, object]:
        return {
            "headBlockHash": to_hex(self.head),
            "safeBlockHash": to_hex(self.safe),
            "finalizedBlockHash": to_hex(self.finalized),
        }


@dataclass(frozen=True, slots=True)
class PayloadStatus:
    """``PayloadStatusV1``."""

    status: PayloadStatusKind
    latest_valid_hash: Hash32 | None = None
    validation_error: str | None = None

    def describe(self) -> str:
        s = str(self.status)
        if self.latest_valid_hash is not None:
            s += f" (latest valid {to_hex(self.latest_valid_hash)})"
        if self.validation_error:
            s += f": {self.validation_error}"
        return s


@dataclass(frozen=True, slots=True)
class ForkchoiceUpdatedResult:
    """``engine_forkchoiceUpdated`` result; ``payload_id`` (8 bytes) when building started."""

    payload_status: PayloadStatus
    payload_id: bytes | None = None


@dataclass(frozen=True, slots=True)
class ExecutionPayloadEnvelope:
    """``engine_getPayloadV2..V5`` result (``ExecutionPayloadEnvelope``, execution-apis
    shanghai/cancun/prague). ``parent_beacon_block_root`` is OP's envelope field (op-node
    ``eth.ExecutionPayloadEnvelope``); op-geth may omit it, the builder knows it from the
    attributes. ``execution_requests`` is V4's list (always empty on OP chains)."""

    execution_payload: ExecutionPayload
    block_value: int | None = None
    blobs_bundle: dict[str, Any] | None = None
    should_override_builder: bool = False
    parent_beacon_block_root: Hash32 | None = None
    execution_requests: tuple[bytes, ...] | None = None


@dataclass(slots=True)
class MethodStats:
    """Latency of one method: count, errors, total and max seconds."""

    count: int = 0
    errors: int = 0
    total: float = 0.0
    max: float = 0.0
    last: float = 0.0

    @property
    def mean_ms(self) -> float:
        return 1000.0 * self.total / self.count if self.count else 0.0


@dataclass(slots=True)
class CallStats:
    """Per-method latencies of an :class:`EngineClient`."""

    methods: dict[str, MethodStats] = field(default_factory=dict)

    def record(self, method: str, seconds: float, ok: bool) -> None:
        m = self.methods.setdefault(method, MethodStats())
        m.count += 1
        m.errors += 0 if ok else 1
        m.total += seconds
        m.max = max(m.max, seconds)
        m.last = seconds

    def summary(self) -> dict[str, dict[str, float]]:
        return {
            k: {"count": v.count, "errors": v.errors, "mean_ms": round(v.mean_ms, 2),
                "max_ms": round(1000 * v.max, 2)}
            for k, v in sorted(self.methods.items())
        }  # fmt: skip


def _bytes(v: object, what: str, length: int | None = None) -> bytes:
    if not isinstance(v, str):
        raise EngineResponseError(f"{what}: expected a hex string, got {type(v).__name__}")
    try:
        return from_hex(v, length=length, what=what)
    except HexError as e:
        raise EngineResponseError(str(e)) from None


def _opt_bytes(v: object, what: str, length: int | None = None) -> bytes | None:
    return None if v is None else _bytes(v, what, length)


def _int(v: object, what: str) -> int:
    if not isinstance(v, str | int):
        raise EngineResponseError(f"{what}: expected a quantity, got {type(v).__name__}")
    try:
        return hex_to_int(v, what=what)
    except HexError as e:
        raise EngineResponseError(str(e)) from None


def parse_payload_status(obj: object) -> PayloadStatus:
    """``PayloadStatusV1`` JSON -> :class:`PayloadStatus`."""
    if not isinstance(obj, dict):
        raise EngineResponseError("payload status is not an object")
    try:
        kind = PayloadStatusKind(str(obj.get("status")))
    except ValueError:
        raise EngineResponseError(f"unknown payload status {obj.get('status')!r}") from None
    err = obj.get("validationError")
    return PayloadStatus(
        kind,
        _opt_bytes(obj.get("latestValidHash"), "latestValidHash", 32),
        err if isinstance(err, str) else None,
    )


def parse_execution_payload(obj: object) -> ExecutionPayload:
    """An Engine API ``ExecutionPayloadV1..V3`` JSON object (plus OP's ``withdrawalsRoot``)."""
    if not isinstance(obj, dict):
        raise EngineResponseError("execution payload is not an object")
    try:
        return payload_from_engine_json(obj)
    except PyopError as e:
        raise EngineResponseError(f"bad execution payload: {e}") from None


def parse_envelope(obj: object, *, method: str = "engine_getPayload") -> ExecutionPayloadEnvelope:
    """``ExecutionPayloadEnvelope`` JSON -> :class:`ExecutionPayloadEnvelope` (V2..V5)."""
    if not isinstance(obj, dict):
        raise EngineResponseError(f"{method}: result is not an object", method=method)
    if "executionPayload" not in obj:  # a V1 answer is the bare payload
        return ExecutionPayloadEnvelope(parse_execution_payload(obj))
    payload = parse_execution_payload(obj["executionPayload"])
    root = _opt_bytes(obj.get("parentBeaconBlockRoot"), "parentBeaconBlockRoot", 32)
    reqs = obj.get("executionRequests")
    requests: tuple[bytes, ...] | None = None
    if reqs is not None:
        if not isinstance(reqs, list):
            raise EngineResponseError(f"{method}: executionRequests is not a list", method=method)
        requests = tuple(_bytes(r, "executionRequests[]") for r in reqs)
    bundle = obj.get("blobsBundle")
    bv = obj.get("blockValue")
    return ExecutionPayloadEnvelope(
        execution_payload=payload,
        block_value=None if bv is None else _int(bv, "blockValue"),
        blobs_bundle=bundle if isinstance(bundle, dict) else None,
        should_override_builder=obj.get("shouldOverrideBuilder") is True,
        parent_beacon_block_root=root,
        execution_requests=requests,
    )


def payload_to_engine_json(p: ExecutionPayload, version: int) -> dict[str, object]:
    """The ``ExecutionPayloadV{1,2,3}`` JSON object for ``engine_newPayloadV{version}``: the blob
    gas fields only from V3 (Ecotone), ``withdrawalsRoot`` only from V4 (Isthmus)."""
    out = p.to_json()
    if version < 3:
        out.pop("blobGasUsed", None)
        out.pop("excessBlobGas", None)
    if version < 4:
        out.pop("withdrawalsRoot", None)
    return out


def attributes_to_engine_json(attrs: PayloadAttributes) -> dict[str, object]:
    """The payload attributes as op-geth parses them (:meth:`PayloadAttributes.to_json`; note
    ``minBaseFee`` [Jovian] is a JSON number there, as op-geth requires)."""
    return attrs.to_json()


class EngineClient(SessionHolder):
    """An authenticated Engine API client (``aiohttp``; one session, created lazily)."""

    def __init__(
        self,
        url: str,
        jwt_secret: bytes,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        on_call: Callable[[str, float, bool], None] | None = None,
        on_sizes: Callable[[str, int, int | None], None] | None = None,
    ) -> None:
        self.url = url
        self._secret = bytes(jwt_secret)
        self.timeout = timeout
        self.on_call = on_call
        #: ``(method, params bytes, result bytes or None)`` per answered call: the raw
        #: ``params`` sent and ``result`` received (op-service RPC size metrics)
        self.on_sizes = on_sizes
        self.stats = CallStats()
        self._ids = itertools.count(1)
        self._session: aiohttp.ClientSession | None = None

    def __repr__(self) -> str:
        return f"EngineClient({self.url!r})"

    # ------------------------------------------------------------------ transport

    async def call(self, method: str, params: Sequence[object] = ()) -> Any:
        """One JSON-RPC call; returns ``result`` or raises a typed :class:`EngineError`."""
        start = time.perf_counter()
        ok = False
        try:
            result = await self._call(method, params)
            ok = True
            return result
        finally:
            dt = time.perf_counter() - start
            self.stats.record(method, dt, ok)
            if self.on_call is not None:
                self.on_call(method, dt, ok)

    async def _call(self, method: str, params: Sequence[object]) -> Any:
        req_id = next(self._ids)
        body = json.dumps({"jsonrpc": "2.0", "id": req_id, "method": method, "params": list(params)})
        headers = {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {jwt_token(self._secret)}",
        }
        try:
            async with self._sess().post(self.url, data=body, headers=headers) as resp:
                data = await resp.read()
                status = resp.status
        except TimeoutError:
            raise EngineTemporaryError(f"{method}: timed out after {self.timeout} s", method=method) from None
        except aiohttp.ClientError as e:
            raise EngineTemporaryError(f"{method}: {type(e).__name__}: {e}", method=method) from None
        if status == 401 or status == 403:
            raise EngineTemporaryError(
                f"{method}: HTTP {status} from {self.url}: JWT refused (same secret as the engine's "
                f"--authrpc.jwtsecret? clocks within 60 s?)", method=method)  # fmt: skip
        try:
            obj = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            raise EngineTemporaryError(
                f"{method}: HTTP {status}, not JSON: {data[:200].decode('utf-8', 'replace')}",
                method=method,
            ) from None
        if not isinstance(obj, dict):
            raise EngineResponseError(f"{method}: response is not a JSON object", method=method)
        if self.on_sizes is not None:
            with contextlib.suppress(ValueError, UnicodeDecodeError):
                sent, got = member_sizes(body)[0], member_sizes(data)[0]
                ok = obj.get("error") is None and "result" in obj
                self.on_sizes(method, sent.get("params", 0), got.get("result", 0) if ok else None)
        err = obj.get("error")
        if err is not None:
            if not isinstance(err, dict) or not isinstance(err.get("code"), int):
                raise EngineResponseError(f"{method}: malformed error {err!r}", method=method)
            raise error_for_code(err["code"], str(err.get("message", "")), method)
        if status != 200:
            raise EngineTemporaryError(f"{method}: HTTP {status}", method=method)
        if obj.get("id") != req_id:
            raise EngineResponseError(f"{method}: response id {obj.get('id')!r} != {req_id}", method=method)
        if "result" not in obj:
            raise EngineResponseError(f"{method}: response has no result", method=method)
        return obj["result"]

    # ------------------------------------------------------------------ engine_*

    async def forkchoice_updated(
        self, state: ForkchoiceState, attrs: PayloadAttributes | None, version: int
    ) -> ForkchoiceUpdatedResult:
        """``engine_forkchoiceUpdatedV{version}(state, attrs)``."""
        method = method_name("forkchoiceUpdated", version)
        a = None if attrs is None else attributes_to_engine_json(attrs)
        res = await self.call(method, [state.to_json(), a])
        if not isinstance(res, dict):
            raise EngineResponseError(f"{method}: result is not an object", method=method)
        pid = _opt_bytes(res.get("payloadId"), "payloadId", 8)
        return ForkchoiceUpdatedResult(parse_payload_status(res.get("payloadStatus")), pid)

    async def get_payload(self, payload_id: bytes, version: int) -> ExecutionPayloadEnvelope:
        """``engine_getPayloadV{version}(payloadId)``."""
        method = method_name("getPayload", version)
        return parse_envelope(await self.call(method, [to_hex(payload_id)]), method=method)

    async def new_payload(
        self,
        payload: ExecutionPayload,
        version: int,
        parent_beacon_root: Hash32 | None = None,
        execution_requests: Sequence[bytes] = (),
    ) -> PayloadStatus:
        """``engine_newPayloadV{version}``: V2 ``[payload]``; V3 ``[payload, [], root]``; V4
        ``[payload, [], root, requests]`` (OP: no blob hashes, no execution requests)."""
        method = method_name("newPayload", version)
        params: list[object] = [payload_to_engine_json(payload, version)]
        if version >= 3:
            root = parent_beacon_root if parent_beacon_root is not None else payload.parent_beacon_block_root
            if root is None:
                raise EngineResponseError(f"{method}: a parent beacon block root is required", method=method)
            params += [[], to_hex(root)]
        if version >= 4:
            params.append([to_hex(r) for r in execution_requests])
        return parse_payload_status(await self.call(method, params))

    # ------------------------------------------------------------------ eth_*

    async def block_by_number(self, number: int | str, full: bool = True) -> dict[str, Any] | None:
        """``eth_getBlockByNumber`` (a number or a label: ``latest``, ``safe``, ``finalized``)."""
        param = hex(number) if isinstance(number, int) else number
        res = await self.call("eth_getBlockByNumber", [param, full])
        if res is not None and not isinstance(res, dict):
            raise EngineResponseError("eth_getBlockByNumber: result is not an object")
        return res

    async def block_by_hash(self, block_hash: Hash32, full: bool = True) -> dict[str, Any] | None:
        res = await self.call("eth_getBlockByHash", [to_hex(block_hash), full])
        if res is not None and not isinstance(res, dict):
            raise EngineResponseError("eth_getBlockByHash: result is not an object")
        return res
