"""A minimal synchronous Ethereum JSON-RPC 2.0 client over HTTP (stdlib ``urllib``).

Used by the devnet tooling (deploying contracts to the anvil L1, readiness probes); the node's
own L1 source lives in ``pyop/sources``. Spec: the Ethereum JSON-RPC API
(https://ethereum.github.io/execution-apis/) and JSON-RPC 2.0.
"""

from __future__ import annotations

import itertools
import json
import urllib.error
import urllib.request
from typing import Any

from pyop.primitives import PyopError


class RpcError(PyopError):
    """The node answered with a JSON-RPC error object (``code``, ``message``, ``data``)."""

    def __init__(self, method: str, code: int, message: str, data: object = None) -> None:
        self.method = method
        self.code = code
        self.message = message
        self.data = data
        extra = f" (data: {data})" if data is not None else ""
        super().__init__(f"{method}: JSON-RPC error {code}: {message}{extra}")


class RpcTransportError(PyopError):
    """The node could not be reached, or its answer was not a JSON-RPC response."""


class RpcClient:
    """``client.call("eth_blockNumber")`` -> the decoded ``result`` (hex strings untouched)."""

    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        self.url = url
        self.timeout = timeout
        self._ids = itertools.count(1)

    def __repr__(self) -> str:
        return f"RpcClient({self.url!r})"

    def call(self, method: str, *params: Any) -> Any:
        """Send one request and return its ``result``; :class:`RpcError` for an error reply,
        :class:`RpcTransportError` if the HTTP exchange fails."""
        req_id = next(self._ids)
        body = json.dumps(
            {"jsonrpc": "2.0", "id": req_id, "method": method, "params": list(params)}
        ).encode()
        req = urllib.request.Request(
            self.url, data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as e:
            raw = e.read()
            if not raw:
                raise RpcTransportError(f"{method}: HTTP {e.code} from {self.url}") from None
        except (urllib.error.URLError, OSError) as e:
            raise RpcTransportError(f"{method}: cannot reach {self.url}: {e}") from None
        try:
            reply = json.loads(raw)
        except ValueError:
            raise RpcTransportError(
                f"{method}: not a JSON reply from {self.url}: {raw[:200]!r}"
            ) from None
        if not isinstance(reply, dict):
            raise RpcTransportError(f"{method}: unexpected reply {reply!r}")
        err = reply.get("error")
        if err is not None:
            if isinstance(err, dict):
                raise RpcError(
                    method, int(err.get("code", 0)), str(err.get("message", "")), err.get("data")
                )
            raise RpcError(method, 0, str(err))
        if "result" not in reply:
            raise RpcTransportError(f"{method}: reply without result: {reply!r}")
        return reply["result"]

    def http_get(self, path: str, *, accept: str = "application/json") -> tuple[int, bytes]:
        """``GET`` ``path`` on the same host and port (e.g. anvil's beacon API); returns
        ``(status, body)`` without raising for HTTP error statuses."""
        base = self.url.rstrip("/")
        req = urllib.request.Request(base + path, headers={"Accept": accept}, method="GET")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return int(resp.status), resp.read()
        except urllib.error.HTTPError as e:
            return int(e.code), e.read()
        except (urllib.error.URLError, OSError) as e:
            raise RpcTransportError(f"GET {path}: cannot reach {self.url}: {e}") from None
