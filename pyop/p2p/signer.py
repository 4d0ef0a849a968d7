"""Who signs the blocks the sequencer gossips (op-node v1.19.6 ``op-node/p2p/cli/load_signer.go``
``LoadSignerSetup``; ``op-service/signer``: ``LocalSigner``, ``RemoteSigner``, ``SignerClient``,
``BlockPayloadArgs``, ``cli.go``; specs/protocol/rollup-node-p2p.md "Block signatures").

- ``--p2p.sequencer.key``: a local secp256k1 key (:class:`LocalBlockSigner`);
- ``--signer.endpoint`` + ``--signer.address``: an op-signer service (:class:`RemoteBlockSigner`):
  at start-up ``health_status`` must answer within 3 s; each block is signed with
  ``opsigner_signBlockPayload(args)`` whose result is the 65-byte signature (hex). ``args`` is
  op-service's ``BlockPayloadArgs`` as Go's ``encoding/json`` writes it: ``domain`` a JSON array
  of 32 numbers (a Go ``[32]byte``), ``chainId`` a JSON number, ``payloadHash`` base64 (a Go
  ``[]byte``), ``senderAddress`` hex. ``--signer.header key=value`` (comma-separated for
  several) adds HTTP headers; with ``--signer.tls.enabled`` (op-service's default: true) the
  client authenticates with ``--signer.tls.cert`` / ``--signer.tls.key`` and trusts
  ``--signer.tls.ca``, TLS 1.3 minimum. Both a key and an endpoint is an error, as in op-node.
"""

from __future__ import annotations

import asyncio
import base64
import ssl
from dataclasses import dataclass, field
from typing import Any, Protocol

import aiohttp

from pyop.p2p.signing import SIGNING_DOMAIN_BLOCKS_V1, signing_hash
from pyop.primitives import PyopError, from_hex

HEALTH_TIMEOUT = 3.0
SIGN_TIMEOUT = 10.0


class SignerError(PyopError):
    """A block could not be signed (remote signer unreachable, bad answer)."""


class BlockSigner(Protocol):
    """op-service ``BlockSigner``."""

    async def sign_block_v1(self, chain_id: int, payload_hash: bytes) -> bytes: ...

    async def close(self) -> None: ...


@dataclass
class LocalBlockSigner:
    """``LocalSigner``: RFC 6979 signatures with a local key."""

    key: bytes

    async def sign_block_v1(self, chain_id: int, payload_hash: bytes) -> bytes:
        from coincurve import PrivateKey

        return bytes(PrivateKey(self.key).sign_recoverable(signing_hash(chain_id, payload_hash), hasher=None))

    async def close(self) -> None:
        pass


def block_payload_args(chain_id: int, payload_hash: bytes, sender: str) -> dict[str, Any]:
    """``BlockPayloadArgs`` in Go's JSON encoding (see the module docstring)."""
    return {
        "domain": list(SIGNING_DOMAIN_BLOCKS_V1),
        "chainId": chain_id,
        "payloadHash": base64.b64encode(payload_hash).decode(),
        "senderAddress": "0x" + from_hex(sender).hex(),  # common.Address MarshalText: lowercase hex
    }


@dataclass
class RemoteSignerConfig:
    """op-service signer ``CLIConfig``."""

    endpoint: str
    address: str
    headers: dict[str, str] = field(default_factory=dict)
    tls_enabled: bool = True
    tls_ca: str = "tls/ca.crt"
    tls_cert: str = "tls/tls.crt"
    tls_key: str = "tls/tls.key"


def parse_headers(text: str) -> dict[str, str]:
    """``--signer.header key=value[,key=value...]`` (an entry without ``=`` is skipped, as Go)."""
    out: dict[str, str] = {}
    for item in text.split(","):
        k, eq, v = item.strip().partition("=")
        if eq and k:
            out[k] = v
    return out


class RemoteBlockSigner:
    """``RemoteSigner`` over op-signer's JSON-RPC (see the module docstring)."""

    def __init__(self, cfg: RemoteSignerConfig) -> None:
        self.cfg = cfg
        self._ssl: ssl.SSLContext | bool = False
        if cfg.tls_enabled:
            try:
                ctx = ssl.create_default_context(cafile=cfg.tls_ca)
                ctx.minimum_version = ssl.TLSVersion.TLSv1_3
                ctx.load_cert_chain(cfg.tls_cert, cfg.tls_key)
            except (OSError, ssl.SSLError) as e:
                raise SignerError(f"failed to read the signer's tls files: {e}") from None
            self._ssl = ctx
        self._session: aiohttp.ClientSession | None = None
        self._id = 0

    async def _call(self, method: str, params: list[Any], timeout: float) -> Any:
        if self._session is None:
            self._session = aiohttp.ClientSession(headers=self.cfg.headers)
        self._id += 1
        body = {"jsonrpc": "2.0", "id": self._id, "method": method, "params": params}
        try:
            async with asyncio.timeout(timeout), self._session.post(self.cfg.endpoint, json=body, ssl=self._ssl) as r:
                res = await r.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as e:
            raise SignerError(f"{method} failed: {type(e).__name__}: {e}") from None
        if not isinstance(res, dict):
            raise SignerError(f"{method} failed: not a JSON-RPC response")
        if res.get("error"):
            raise SignerError(f"{method} failed: {res['error']}")
        return res.get("result")

    async def connect(self) -> str:
        """``pingVersion``: the signer's ``health_status``."""
        return str(await self._call("health_status", [], HEALTH_TIMEOUT))

    async def sign_block_v1(self, chain_id: int, payload_hash: bytes) -> bytes:
        args = block_payload_args(chain_id, payload_hash, self.cfg.address)
        result = await self._call("opsigner_signBlockPayload", [args], SIGN_TIMEOUT)
        try:
            sig = from_hex(str(result), what="signature")
        except PyopError as e:
            raise SignerError(f"invalid signature: {e}") from None
        if len(sig) != 65:
            raise SignerError(f"invalid signature: {result}")
        return sig

    async def close(self) -> None:
        session, self._session = self._session, None  # detached first (see AsyncRPCClient.close)
        if session is not None:
            await session.close()


__all__ = [
    "BlockSigner",
    "LocalBlockSigner",
    "RemoteBlockSigner",
    "RemoteSignerConfig",
    "SignerError",
    "block_payload_args",
    "parse_headers",
]
