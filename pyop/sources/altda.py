"""An alt-DA server client (op-node ``op-alt-da/daclient.go``; specs/experimental/alt-da.md).

- ``GET {server}/get/0x{encoded commitment}`` returns the input (HTTP 404: not found). The
  encoded commitment is the commitment type byte followed by the commitment (keccak256: 32
  bytes of ``keccak256(input)``; generic: opaque DA-layer bytes).
- ``POST {server}/put`` with the input as body returns the encoded commitment (generic and
  server-computed keccak commitments); ``POST {server}/put/0x{commitment}`` stores an input
  under a precomputed keccak commitment.

Keccak commitments are verified on read (``keccak256(input)`` must equal the commitment), as
op-node does with ``verify`` enabled. :class:`AltDAClient` is async; :class:`AltDAHTTPSource` the
pipeline's synchronous ``AltDASource``.
"""

from __future__ import annotations

from eth_hash.auto import keccak

from pyop.primitives import L1BlockRef, PyopError, to_hex
from pyop.sources.interfaces import NotFound
from pyop.sources.l1 import run_as_source
from pyop.sources.rpc import AsyncHTTPClient, HTTPStatusError, LoopThread

KECCAK256_COMMITMENT_TYPE = 0x00
GENERIC_COMMITMENT_TYPE = 0x01

__all__ = ["AltDAClient", "AltDAError", "AltDAHTTPSource", "keccak256_commitment"]


class AltDAError(PyopError):
    """A bad commitment or an input that does not match its commitment."""


def keccak256_commitment(data: bytes) -> bytes:
    """The encoded keccak256 commitment of ``data``: ``0x00 ++ keccak256(data)``."""
    return bytes([KECCAK256_COMMITMENT_TYPE]) + keccak(data)


class AltDAClient:
    """Async alt-DA HTTP client."""

    def __init__(self, http: AsyncHTTPClient, *, verify: bool = True) -> None:
        self.http = http
        self.verify = verify

    async def close(self) -> None:
        await self.http.close()

    async def get_input(self, commitment: bytes) -> bytes:
        if not commitment:
            raise AltDAError("empty commitment")
        try:
            _, body = await self.http.request("GET", f"/get/{to_hex(commitment)}")
        except HTTPStatusError as e:
            if e.status == 404:
                raise NotFound(f"alt-DA input {to_hex(commitment)} not found") from None
            raise
        if self.verify and commitment[0] == KECCAK256_COMMITMENT_TYPE:
            if len(commitment) != 33:
                raise AltDAError(f"keccak256 commitment must be 33 bytes, got {len(commitment)}")
            if keccak(body) != commitment[1:]:
                raise AltDAError(f"alt-DA input does not match commitment {to_hex(commitment)}")
        return body

    async def set_input(self, data: bytes, *, precompute_keccak: bool = False) -> bytes:
        """Store ``data``; returns the encoded commitment."""
        if not data:
            raise AltDAError("empty input")
        if precompute_keccak:
            comm = keccak256_commitment(data)
            await self.http.request("POST", f"/put/{to_hex(comm)}", body=data)
            return comm
        _, body = await self.http.request("POST", "/put", body=data)
        if not body:
            raise AltDAError("alt-DA server returned an empty commitment")
        return body


class AltDAHTTPSource:
    """The pipeline's synchronous ``AltDASource`` over :class:`AltDAClient`."""

    def __init__(self, client: AltDAClient, loop: LoopThread, *, own_loop: bool = False) -> None:
        self.client = client
        self.loop = loop
        self._own_loop = own_loop

    @classmethod
    def connect(cls, url: str, *, loop: LoopThread | None = None) -> AltDAHTTPSource:
        own = loop is None
        return cls(AltDAClient(AsyncHTTPClient(url)), loop or LoopThread(), own_loop=own)

    def close(self) -> None:
        if self._own_loop:
            self.loop.close(self.client.close())
        else:
            self.loop.run(self.client.close())

    def get_input(self, commitment: bytes, l1_block: L1BlockRef) -> bytes:
        return run_as_source(self.loop, self.client.get_input(commitment))
