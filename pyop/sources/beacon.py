"""Blobs of L1 blocks from a beacon node (op-node ``sources.L1BeaconClient``) or from anvil.

Three server flavours (specs/protocol/ecotone/derivation.md#ecotone-blob-retrieval); ``slot =
(l1_timestamp - genesis_time) / SECONDS_PER_SLOT`` from ``/eth/v1/beacon/genesis`` and
``/eth/v1/config/spec``:

- the beacon API's ``GET /eth/v1/beacon/blobs/{slot}?versioned_hashes=...`` (one
  ``versioned_hashes`` parameter per wanted blob), what op-node v1.19.6 asks
  (``BeaconHTTPClient.BeaconBlobs`` + ``L1BeaconClient.beaconBlobs``): the answer must hold
  exactly as many blobs as asked for; each blob's commitment is recomputed and must hash to one
  of the wanted versioned hashes, which also puts the blobs in the order asked for (the server
  orders them by commitment in the block);
- the older ``GET /eth/v1/beacon/blob_sidecars/{slot}`` (deprecated by the beacon API at Fulu);
  each sidecar carries ``index``, ``blob``, ``kzg_commitment`` and ``kzg_proof``: the commitment
  must hash to the requested versioned hash and the KZG proof must verify;
- anvil's ``GET /eth/v1/beacon/blobs/{el_block_number_or_hash}``, which answers
  ``{"data": ["0x<blob>", ...]}`` (all blobs of the block, in order, no commitments): pyop
  recomputes each commitment (``blob_to_kzg_commitment``) and matches the versioned hashes.

``mode="auto"`` (default) asks op-node's ``blobs/{slot}`` first (``mode`` becomes ``"blobs"``
once it has answered with the wanted blobs). An error status there (404, 410, 400, 405, 501)
or an answer that does not verify (anvil reads a decimal ``{slot}`` as an EL block number and
serves another block's blobs) falls back to ``blob_sidecars``, and when that answers 404 or 410
to anvil's endpoint (``mode`` becomes ``"anvil"``, which is asked directly from then on); when
none has the blobs, the ``blobs/{slot}`` error is raised. A blob that is not served raises :class:`~pyop.sources.interfaces.NotFound`; a blob
that does not match its hash raises ``BlobError`` (``TemporaryError`` in the sync facade).
"""

from __future__ import annotations

from collections.abc import Coroutine, Mapping, Sequence
from typing import Any, Literal, TypeVar

from pyop.codec.blob import (
    BLOB_SIZE,
    BYTES_PER_COMMITMENT,
    blob_to_kzg_commitment,
    kzg_to_versioned_hash,
    verify_blob_against_hash,
)
from pyop.codec.errors import BlobError
from pyop.errors import TemporaryError
from pyop.primitives import HexError, L1BlockRef, PyopError, from_hex, hex_to_int, to_hex
from pyop.sources.interfaces import IndexedBlobHash, NotFound
from pyop.sources.l1 import run_as_source
from pyop.sources.rpc import (
    AsyncHTTPClient,
    HTTPStatusError,
    LoopThread,
    RPCError,
    RPCResponseError,
)

T = TypeVar("T")

BeaconMode = Literal["auto", "blobs", "sidecars", "anvil"]

_FALLBACK_STATUSES = (404, 410, 400, 405, 501)
"""HTTP statuses of a server without the endpoint asked (or without the blob there)."""

__all__ = ["AsyncBeaconClient", "BeaconBlobSource", "BeaconMode", "BlobSidecar", "order_by_versioned_hash"]


class BlobSidecar:
    """The parts of a beacon ``BlobSidecar`` that blob retrieval checks."""

    __slots__ = ("blob", "index", "kzg_commitment", "kzg_proof")

    def __init__(self, index: int, blob: bytes, kzg_commitment: bytes, kzg_proof: bytes) -> None:
        self.index = index
        self.blob = blob
        self.kzg_commitment = kzg_commitment
        self.kzg_proof = kzg_proof

    @classmethod
    def from_json(cls, obj: object) -> BlobSidecar:
        if not isinstance(obj, dict):
            raise RPCResponseError("blob sidecar is not an object")
        try:
            return cls(
                index=hex_to_int(str(obj["index"]), what="sidecar.index"),
                blob=from_hex(str(obj["blob"]), length=BLOB_SIZE, what="sidecar.blob"),
                kzg_commitment=from_hex(
                    str(obj["kzg_commitment"]), length=BYTES_PER_COMMITMENT, what="kzg_commitment"
                ),
                kzg_proof=from_hex(str(obj["kzg_proof"]), length=48, what="kzg_proof"),
            )
        except KeyError as e:
            raise RPCResponseError(f"blob sidecar lacks {e.args[0]!r}") from None
        except HexError as e:
            raise RPCResponseError(f"blob sidecar: {e}") from None


def _blob_of(x: object) -> bytes:
    # beacon nodes and anvil serve hex strings; accept {"blob": ...} objects as well
    s = x.get("blob") if isinstance(x, dict) else x
    try:
        return from_hex(str(s), length=BLOB_SIZE, what="blob")
    except HexError as e:
        raise RPCResponseError(f"blobs: {e}") from None


class _BlobsDoNotVerify(BlobError):
    """The ``blobs/{slot}`` answer is not the wanted blobs (count or versioned hash)."""


def order_by_versioned_hash(blobs: Sequence[bytes], wanted: Sequence[bytes]) -> list[bytes]:
    """op-node ``L1BeaconClient.beaconBlobs``: exactly one blob per wanted versioned hash; each
    blob's KZG commitment is recomputed, and the blob goes to the first unfilled position
    whose hash it matches (so the result is in the order asked for). Raises
    :class:`BlobError` on a count mismatch or a blob that matches no wanted hash."""
    if len(blobs) != len(wanted):
        raise _BlobsDoNotVerify(f"expected {len(wanted)} blobs but got {len(blobs)}")
    out: list[bytes | None] = [None] * len(wanted)
    for b in blobs:
        got = kzg_to_versioned_hash(blob_to_kzg_commitment(b))
        for i, h in enumerate(wanted):
            if got == h and out[i] is None:
                out[i] = b
                break
        else:
            raise _BlobsDoNotVerify(f"received a blob hash that does not match any expected hash: {to_hex(got)}")
    return [b for b in out if b is not None]


def _data(obj: object, what: str) -> Any:
    if not isinstance(obj, dict) or "data" not in obj:
        raise RPCResponseError(f"{what}: response has no 'data'")
    return obj["data"]


class AsyncBeaconClient:
    """Async blob retrieval (see the module docstring)."""

    def __init__(
        self,
        http: AsyncHTTPClient,
        *,
        mode: BeaconMode = "auto",
        fallbacks: Sequence[AsyncBeaconClient] = (),
        seconds_per_slot: int | None = None,
    ) -> None:
        self.http = http
        self.mode: BeaconMode = mode
        self.fallbacks = list(fallbacks)
        self._genesis_time: int | None = None
        # op-node --l1.beacon.slot-duration-override (BeaconHTTPClient WithSlotDurationOverride):
        # the spec endpoint is not asked
        self._seconds_per_slot: int | None = seconds_per_slot or None

    async def close(self) -> None:
        await self.http.close()
        for fb in self.fallbacks:
            await fb.close()

    async def genesis_time(self) -> int:
        if self._genesis_time is None:
            d = _data(await self.http.get_json("/eth/v1/beacon/genesis"), "beacon genesis")
            try:
                self._genesis_time = hex_to_int(str(d["genesis_time"]), what="genesis_time")
            except (KeyError, TypeError, HexError) as e:
                raise RPCResponseError(f"beacon genesis: bad genesis_time: {e}") from None
        return self._genesis_time

    async def seconds_per_slot(self) -> int:
        if self._seconds_per_slot is None:
            d = _data(await self.http.get_json("/eth/v1/config/spec"), "beacon spec")
            try:
                sps = hex_to_int(str(d["SECONDS_PER_SLOT"]), what="SECONDS_PER_SLOT")
            except (KeyError, TypeError, HexError) as e:
                raise RPCResponseError(f"beacon spec: bad SECONDS_PER_SLOT: {e}") from None
            if sps <= 0:
                raise RPCResponseError("beacon spec: SECONDS_PER_SLOT must be positive")
            self._seconds_per_slot = sps
        return self._seconds_per_slot

    async def slot_for_time(self, timestamp: int) -> int:
        """``(timestamp - genesis_time) / SECONDS_PER_SLOT`` (op-node ``TimeToSlotFn``)."""
        g = await self.genesis_time()
        sps = await self.seconds_per_slot()
        if timestamp < g:
            raise RPCResponseError(f"L1 time {timestamp} is before the beacon genesis {g}")
        return (timestamp - g) // sps

    async def blob_sidecars(self, slot: int) -> list[BlobSidecar]:
        d = _data(await self.http.get_json(f"/eth/v1/beacon/blob_sidecars/{slot}"), "sidecars")
        if not isinstance(d, list):
            raise RPCResponseError("blob_sidecars: 'data' is not a list")
        return [BlobSidecar.from_json(x) for x in d]

    async def beacon_blobs(self, slot: int, hashes: Sequence[bytes]) -> list[bytes]:
        """``GET /eth/v1/beacon/blobs/{slot}?versioned_hashes=...`` (op-node v1.19.6
        ``BeaconHTTPClient.BeaconBlobs``): the raw blobs, not yet verified."""
        query = "&".join(f"versioned_hashes={to_hex(h)}" for h in hashes)
        d = _data(await self.http.get_json(f"/eth/v1/beacon/blobs/{slot}?{query}"), "blobs")
        if not isinstance(d, list):
            raise RPCResponseError("blobs: 'data' is not a list")
        return [_blob_of(x) for x in d]

    async def anvil_blobs(self, block_id: str) -> list[bytes]:
        d = _data(await self.http.get_json(f"/eth/v1/beacon/blobs/{block_id}"), "blobs")
        if not isinstance(d, list):
            raise RPCResponseError("blobs: 'data' is not a list")
        return [_blob_of(x) for x in d]

    async def get_blobs(self, block: L1BlockRef, hashes: Sequence[IndexedBlobHash]) -> list[bytes]:
        """The blobs of ``block`` named by ``hashes``, in that order, each verified.

        When this server fails (an error status, no such blob, blobs that do not verify, no
        answer), the ``fallbacks`` (``--l1.beacon-fallbacks``) are asked in order, with this
        server's slot clock (op-node ``L1BeaconClient.fetchBlobs``: the pool of the endpoint
        and its fallbacks; ``timeToSlot`` from the main endpoint). All failing: this server's
        error is raised."""
        if not hashes:
            return []
        try:
            return await self._get_blobs_here(block, hashes)
        except (NotFound, RPCError, BlobError) as e:
            if not self.fallbacks:
                raise
            first = e
        g, sps = await self.genesis_time(), await self.seconds_per_slot()
        for fb in self.fallbacks:
            fb._genesis_time, fb._seconds_per_slot = g, sps
            try:
                return await fb._get_blobs_here(block, hashes)
            except (NotFound, RPCError, BlobError):
                continue
        raise first

    async def _get_blobs_here(self, block: L1BlockRef, hashes: Sequence[IndexedBlobHash]) -> list[bytes]:
        if self.mode in ("auto", "blobs"):
            try:
                blobs = await self._via_blobs(block, hashes)
            except HTTPStatusError as e:
                if e.status not in _FALLBACK_STATUSES:
                    raise
                first: PyopError = NotFound(f"blobs of L1 block {block.number}: {e}")
            except _BlobsDoNotVerify as e:
                first = e
            else:
                self.mode = "blobs"
                return blobs
            # the older endpoints, which verify what they serve (anvil's blobs/{id} reads a
            # decimal id as an EL block number, so a slot can match a block number for a while)
            try:
                return await self._sidecars_or_anvil(block, hashes, "auto")
            except NotFound:
                raise first from None
        return await self._sidecars_or_anvil(block, hashes, self.mode)

    async def _sidecars_or_anvil(
        self, block: L1BlockRef, hashes: Sequence[IndexedBlobHash], mode: BeaconMode
    ) -> list[bytes]:
        if mode in ("auto", "sidecars"):
            try:
                return await self._via_sidecars(block, hashes)
            except HTTPStatusError as e:
                if mode == "sidecars" or e.status not in (404, 410, 400, 405, 501):
                    if e.status == 404:
                        raise NotFound(f"blobs of L1 block {block.number}: {e}") from None
                    raise
                try:
                    blobs = await self._via_anvil(block, hashes)
                except HTTPStatusError as e2:
                    if e2.status == 404:
                        raise NotFound(f"blobs of L1 block {block.number}: {e2}") from None
                    raise
                self.mode = "anvil"
                return blobs
        try:
            return await self._via_anvil(block, hashes)
        except HTTPStatusError as e:
            if e.status == 404:
                raise NotFound(f"blobs of L1 block {block.number}: {e}") from None
            raise

    async def _via_blobs(self, block: L1BlockRef, hashes: Sequence[IndexedBlobHash]) -> list[bytes]:
        slot = await self.slot_for_time(block.timestamp)
        wanted = [ih.hash for ih in hashes]
        return order_by_versioned_hash(await self.beacon_blobs(slot, wanted), wanted)

    async def _via_sidecars(
        self, block: L1BlockRef, hashes: Sequence[IndexedBlobHash]
    ) -> list[bytes]:
        slot = await self.slot_for_time(block.timestamp)
        by_index = {s.index: s for s in await self.blob_sidecars(slot)}
        out = []
        for ih in hashes:
            s = by_index.get(ih.index)
            if s is None:
                raise NotFound(
                    f"blob {ih.index} ({to_hex(ih.hash)}) of L1 block {block.number} "
                    f"(slot {slot}) not served"
                )
            verify_blob_against_hash(s.blob, s.kzg_commitment, ih.hash, s.kzg_proof)
            out.append(s.blob)
        return out

    async def _via_anvil(self, block: L1BlockRef, hashes: Sequence[IndexedBlobHash]) -> list[bytes]:
        blobs = await self.anvil_blobs(to_hex(block.hash))
        vhs: dict[int, bytes] = {}

        def vh(i: int) -> bytes:
            if i not in vhs:
                vhs[i] = kzg_to_versioned_hash(blob_to_kzg_commitment(blobs[i]))
            return vhs[i]

        out = []
        for ih in hashes:
            if 0 <= ih.index < len(blobs) and vh(ih.index) == ih.hash:
                out.append(blobs[ih.index])
                continue
            for i in range(len(blobs)):
                if vh(i) == ih.hash:
                    out.append(blobs[i])
                    break
            else:
                raise NotFound(
                    f"blob {ih.index} ({to_hex(ih.hash)}) of L1 block {block.number} not served"
                )
        return out


class BeaconBlobSource:
    """The pipeline's synchronous ``BlobSource`` over :class:`AsyncBeaconClient`."""

    def __init__(self, client: AsyncBeaconClient, loop: LoopThread, *, own_loop: bool = False) -> None:
        self.client = client
        self.loop = loop
        self._own_loop = own_loop

    @classmethod
    def connect(
        cls,
        url: str,
        *,
        mode: BeaconMode = "auto",
        loop: LoopThread | None = None,
        fallbacks: Sequence[str] = (),
        headers: Mapping[str, str] | None = None,
        seconds_per_slot: int | None = None,
    ) -> BeaconBlobSource:
        """A source over ``url`` (``headers`` sent to it only, as op-node's
        ``--l1.beacon-header``) and its ``fallbacks`` URLs."""
        own = loop is None
        fbs = [AsyncBeaconClient(AsyncHTTPClient(u), mode=mode) for u in fallbacks]
        client = AsyncBeaconClient(AsyncHTTPClient(url, headers=headers), mode=mode, fallbacks=fbs,
                                   seconds_per_slot=seconds_per_slot)  # fmt: skip
        return cls(client, loop or LoopThread(), own_loop=own)

    def close(self) -> None:
        if self._own_loop:
            self.loop.close(self.client.close())
        else:
            self.loop.run(self.client.close())

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return run_as_source(self.loop, coro)

    def get_blobs(self, block: L1BlockRef, hashes: Sequence[IndexedBlobHash]) -> Sequence[bytes]:
        try:
            return self._run(self.client.get_blobs(block, hashes))
        except BlobError as e:
            raise TemporaryError(f"blob verification failed: {e}") from e
