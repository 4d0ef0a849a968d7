"""The batch submitter's loops (op-batcher/batcher/driver.go ``BatchSubmitter``).

specs/protocol/batcher.md: the batcher reads unsafe L2 blocks from the sequencer, packs them into
channels and submits the frames to L1 so that verifiers derive the same chain. Three asyncio
tasks, as op-batcher's goroutines:

- **block loading** (every ``--poll-interval``): ``optimism_syncStatus``; compare with the state
  (:func:`~pyop.batcher.sync_actions.compute_sync_actions`): prune safe blocks and channels, or
  clear everything and restart from the safe head; load the new unsafe blocks up to the unsafe
  head (a block whose parent is not the previous block is an L2 reorg: wait until the node has
  caught up with L1, clear the state, start again from the safe head); then signal publishing.
- **publishing**: take tx data from the channel manager until there is none; each goes through
  the DA server first with alt-DA (in order: a failed put rewinds the channel and ends the
  round, so frames stay in order under Holocene), then to the :class:`~pyop.txmgr.TxQueue`,
  which holds at most ``--max-pending-tx`` txs in flight and confirms each
  (``--num-confirmations``, fee bumps every ``--resubmission-timeout``).
- **receipts**: a confirmed tx marks its frames as included (and may show the channel timed
  out on chain: its blocks are re-sent in a new channel); a failed one rewinds its channel so
  the frames go again, in order.

Besides op-batcher: the transaction manager's L1-reorg watch re-publishes confirmed batcher txs
an L1 reorg removed (:meth:`pyop.txmgr.TxManager.check_reorgs`); if the rollup node's safe head
went back meanwhile, the sync actions restart from it.

``admin_startBatcher`` / ``admin_stopBatcher`` / ``admin_flushBatcher`` map to :meth:`start`,
:meth:`stop` and :meth:`flush`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass

from pyop.batcher.blocks import L2Block
from pyop.batcher.channel_manager import ChannelManager, PubInfo
from pyop.batcher.config import BatcherConfig
from pyop.batcher.errors import BatcherError, BatcherNotRunningError, L2ReorgError
from pyop.batcher.metrics import STAGE_CLOSED, TX_FAILED, TX_SUBMITTED, TX_SUCCESS, BatcherMetrics
from pyop.batcher.rollup_client import RollupClient, SyncStatus
from pyop.batcher.sync_actions import compute_sync_actions
from pyop.batcher.tx_data import TxData, TxID, tx_id_string
from pyop.config import RollupConfig
from pyop.opservice.logs import kv
from pyop.primitives import BlockID, L1BlockRef, to_hex
from pyop.sources.altda import AltDAClient
from pyop.txmgr import AlreadyReservedError, ReorgedTx, TxCandidate, TxManager, TxQueue, TxReceipt

log = logging.getLogger("pyop.batcher")

ZERO32 = b"\x00" * 32
LOAD_CHUNK = 100
"""Blocks loaded per batched L2 request; publishing is signalled after each chunk (Go signals
every 100 blocks of a backlog)."""
TX_GAS = 21_000
FLOOR_GAS_PER_TOKEN = 10
AMSTERDAM_TX_BASE_GAS = 12_000 + 3_000
AMSTERDAM_FLOOR_GAS_PER_BYTE = 64
DERIVATION_VERSION_1 = 0x01
"""experimental/alt-da.md: batcher-tx version byte of an alt-DA commitment."""

__all__ = ["BatchSubmitter", "TxRef", "max_floor_data_gas"]


def max_floor_data_gas(data: bytes) -> int:
    """The gas limit op-batcher gives a batcher tx (Go ``maxFloorDataGas``): the larger of the
    EIP-7623 floor ``21000 + 10 * tokens`` (a zero byte 1 token, others 4) and the proposed
    Amsterdam floor ``15000 + 64 * len`` (EIP-2780 + EIP-7976), so the tx is valid under both."""
    zeros = data.count(0)
    tokens = zeros + 4 * (len(data) - zeros)
    return max(TX_GAS + FLOOR_GAS_PER_TOKEN * tokens,
               AMSTERDAM_TX_BASE_GAS + AMSTERDAM_FLOOR_GAS_PER_BYTE * len(data))  # fmt: skip


@dataclass(frozen=True, slots=True)
class TxRef:
    """What a queued tx carries (Go ``txRef``)."""

    id: TxID
    is_cancel: bool = False
    is_blob: bool = False

    def __str__(self) -> str:
        if self.is_cancel:
            return "blob-cancellation" if self.is_blob else "calldata-cancellation"
        return tx_id_string(self.id)


TXPOOL_GOOD, TXPOOL_BLOCKED, TXPOOL_CANCEL_PENDING = "good", "blocked", "cancel-pending"


class BatchSubmitter:
    """See the module docstring."""

    def __init__(self, cfg: BatcherConfig, rollup: RollupConfig, client: RollupClient,
                 txmgr: TxManager, state: ChannelManager, metrics: BatcherMetrics,
                 altda: AltDAClient | None = None) -> None:  # fmt: skip
        self.cfg = cfg
        self.rollup = rollup
        self.client = client
        self.txmgr = txmgr
        self.state = state
        self.metrics = metrics
        self.altda = altda
        self.running = False
        self.prev_current_l1 = L1BlockRef(ZERO32, 0, ZERO32, 0)
        self.txpool_state = TXPOOL_GOOD
        self.txpool_blocked_blob = False
        self._lock = asyncio.Lock()
        self._signal: asyncio.Queue[PubInfo | None] = asyncio.Queue(maxsize=1)
        self._queue: TxQueue[TxRef] | None = None
        self._loading: asyncio.Task[None] | None = None
        self._publishing: asyncio.Task[None] | None = None
        self._receipts: asyncio.Task[None] | None = None
        self._reorgs: asyncio.Task[None] | None = None
        #: set when a loop ends on its own with an error (the service then exits)
        self.fatal_error: BaseException | None = None
        self.fatal = asyncio.Event()

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Go ``StartBatchSubmitting``."""
        if self.running:
            raise BatcherError("batcher is already running")
        log.info("Starting Batch Submitter")
        self.running = True
        await self._clear_state()
        await self._wait_l2_genesis()
        if self.cfg.wait_node_sync:
            await self._wait_node_sync()
        self.txpool_state = TXPOOL_GOOD
        self._signal = asyncio.Queue(maxsize=1)
        self._queue = TxQueue(self.txmgr, self.cfg.max_pending_tx)
        self._receipts = asyncio.create_task(self._receipts_loop(self._queue), name="receipts")
        self._publishing = asyncio.create_task(self._publishing_loop(self._queue), name="publishing")
        self._loading = asyncio.create_task(self._block_loading_loop(), name="block-loading")
        self._reorgs = asyncio.create_task(
            self.txmgr.watch_reorgs(max(self.cfg.poll_interval, 1.0), self._on_l1_reorged_tx),
            name="l1-reorg-watch")  # fmt: skip
        log.info("Batch Submitter started")

    async def stop(self, timeout: float | None = None) -> None:
        """Go ``StopBatchSubmitting``: stop loading blocks, let the publishing loop finish its
        round and wait for the txs in flight (at most ``timeout`` seconds, then cancel them)."""
        if not self.running:
            raise BatcherNotRunningError("batcher is not running")
        log.info("Stopping Batch Submitter")
        self.running = False
        if self._loading is not None:
            self._loading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loading
        with contextlib.suppress(asyncio.QueueFull):
            self._signal.put_nowait(None)
        try:
            async with asyncio.timeout(timeout):
                if self._publishing is not None:
                    await self._publishing
                if self._queue is not None:
                    await self._queue.wait()
        except TimeoutError:
            log.warning("in-flight batcher txs not confirmed in time, abandoning them",
                        extra=kv(timeout=timeout))  # fmt: skip
            if self._publishing is not None:
                self._publishing.cancel()
            if self._queue is not None:
                await self._queue.cancel_all()
        for t in (self._receipts, self._reorgs):
            if t is not None:
                t.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await t
        if self._queue is not None:
            while not self._queue.receipts.empty():
                await self._handle_receipt(self._queue.receipts.get_nowait())
        log.info("Batch Submitter stopped")

    async def flush(self) -> None:
        """``admin_flushBatcher``: close the open channel and submit it now (Go ``Flush``)."""
        if not self.running:
            raise BatcherNotRunningError("batcher is not running")
        log.info("Flushing Batch Submitter")
        self._try_signal(PubInfo(force_publish=True))

    def _try_signal(self, pi: PubInfo) -> None:
        try:
            self._signal.put_nowait(pi)
        except asyncio.QueueFull:
            log.debug("publishSignal channel is full, skipping signal")

    def _task_failed(self, e: BaseException) -> None:
        if self.fatal_error is None:
            self.fatal_error = e
        self.fatal.set()

    # ------------------------------------------------------------------ state

    async def _safe_l1_origin(self) -> BlockID:
        """The L1 origin of the local safe head (the rollup genesis L1 at genesis)."""
        st = await self.client.sync_status()
        if st.local_safe_l2.l1_origin.number == 0:
            return self.rollup.genesis.l1
        return st.local_safe_l2.l1_origin

    async def _clear_state(self) -> None:
        """Go ``clearState``: clear with the safe head's L1 origin; retry every 5 s."""
        log.info("Clearing state")
        while True:
            try:
                origin = await self._safe_l1_origin()
            except Exception as e:
                log.warning("Failed to query L1 safe origin, will retry", extra=kv(err=str(e)))
                if not self.running:
                    origin = BlockID(ZERO32, 0)
                else:
                    await asyncio.sleep(5)
                    continue
            async with self._lock:
                self.state.clear(origin)
            log.info("State cleared", extra=kv(origin=origin.number))
            return

    async def _wait_l2_genesis(self) -> None:
        while time.time() < self.rollup.genesis.l2_time:
            log.info("Waiting for L2 genesis", extra=kv(remaining=round(self.rollup.genesis.l2_time - time.time())))
            await asyncio.sleep(min(30.0, max(0.1, self.rollup.genesis.l2_time - time.time())))

    async def _wait_node_sync(self) -> None:
        """Go ``waitNodeSync``: wait until the rollup node's current L1 reached the L1 head (or,
        with ``--check-recent-txs-depth``, the newest L1 block within that depth where our
        nonce changed)."""
        head = await self.txmgr.backend.header("latest")
        if head is None:
            return
        target = head.number
        if self.cfg.check_recent_txs_depth:
            target = await self._recent_tx_block(head.number)
        log.info("Waiting for the rollup node to sync to L1", extra=kv(target=target))
        while self.running:
            st = await self.client.sync_status()
            if st.current_l1.number >= target:
                return
            await asyncio.sleep(min(self.cfg.poll_interval, 12.0))

    async def _recent_tx_block(self, head: int) -> int:
        """Go ``eth.CheckRecentTxs``: the newest block in ``[head - depth, head]`` where the
        batcher's nonce changed (binary search on ``eth_getTransactionCount``), else ``head``."""
        depth = self.cfg.check_recent_txs_depth
        lo = max(0, head - depth)
        be = self.txmgr.backend
        addr = self.txmgr.from_address
        n_head = await be.nonce_at(addr, hex(head))
        if await be.nonce_at(addr, hex(lo)) == n_head:
            return head
        while lo + 1 < head:  # nonce(lo) < nonce(head): find the first block with nonce(head)
            mid = (lo + head) // 2
            if await be.nonce_at(addr, hex(mid)) == n_head:
                head = mid
            else:
                lo = mid
        return head

    async def _wait_node_sync_and_clear_state(self) -> None:
        try:
            await self._wait_node_sync()
        except Exception as e:
            log.warning("error waiting for node sync", extra=kv(err=str(e)))
        await self._clear_state()

    # ------------------------------------------------------------------ block loading

    async def _sync_status(self) -> SyncStatus:
        """Go ``getSyncStatus``: back off while the node reports no L1 head."""
        backoff = 1.0
        while True:
            st = await self.client.sync_status()
            if st.head_l1.hash != ZERO32:
                return st
            log.info("Received empty sync status, backing off", extra=kv(backoff=backoff))
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 30.0)

    async def _sync_and_prune(self, st: SyncStatus) -> tuple[int, int] | None:
        async with self._lock:
            actions, out_of_sync = compute_sync_actions(
                st, self.prev_current_l1, self.state.blocks, self.state.channel_queue)
            if out_of_sync:
                log.warning("Sequencer is out of sync, retrying next tick.")
                r = actions.blocks_to_load
                return None if r is None else (r.start, r.end)
            self.prev_current_l1 = st.current_l1
            if actions.clear_state is not None:
                self.state.clear(actions.clear_state)
            else:
                self.state.prune_safe_blocks(actions.blocks_to_prune)
                self.state.prune_channels(actions.channels_to_prune)
            self.metrics.queue_length.set(len(self.state.channel_queue))
            r = actions.blocks_to_load
            return None if r is None else (r.start, r.end)

    async def _load_blocks(self, start: int, end: int) -> None:
        """Go ``loadBlocksIntoState``: add ``start..end`` in order (batched requests)."""
        if end > start:
            log.info("Loading range of multiple blocks into state", extra=kv(start=start, end=end))
        n = start
        last: L2Block | None = None
        while n <= end:
            hi = min(end, n + LOAD_CHUNK - 1)
            blocks = await self._fetch_blocks(n, hi)
            async with self._lock:
                for b in blocks:
                    self.state.add_l2_block(b)
                    self.metrics.pending_bytes_total.inc(amount=b.raw_size)
                    log.info("Added L2 block to local state", extra=kv(
                        block=f"{to_hex(b.hash)}:{b.number}", tx_count=len(b.transactions),
                        time=b.timestamp))  # fmt: skip
            last = blocks[-1]
            n = hi + 1
            if hi < end:
                self._try_signal(PubInfo(ignore_max_channel_duration=True))
        if last is not None:
            self.metrics.record_l2_ref("loaded", last.ref())

    async def _fetch_blocks(self, lo: int, hi: int) -> list[L2Block]:
        if lo == hi:
            return [await self.client.block(lo)]
        return await self.client.blocks(lo, hi)

    async def _block_loading_loop(self) -> None:
        try:
            while True:
                await asyncio.sleep(self.cfg.poll_interval)
                try:
                    st = await self._sync_status()
                except Exception as e:
                    log.warning("could not get sync status, retrying on next tick", extra=kv(err=str(e)))
                    continue
                self.metrics.record_l1_ref("head", st.head_l1)
                self.metrics.record_l2_ref("unsafe", st.unsafe_l2)
                self.metrics.record_l2_ref("safe", st.safe_l2)
                to_load = await self._sync_and_prune(st)
                if to_load is not None:
                    try:
                        await self._load_blocks(*to_load)
                    except L2ReorgError as e:
                        self.metrics.l2_reorgs.inc()
                        log.warning("error loading blocks, clearing state and waiting for node sync",
                                    extra=kv(err=str(e)))  # fmt: skip
                        await self._wait_node_sync_and_clear_state()
                        continue
                    except Exception as e:
                        log.warning("error loading blocks, retrying on next tick", extra=kv(err=str(e)))
                        continue
                self._try_signal(PubInfo())
        except asyncio.CancelledError:
            log.info("blockLoadingLoop returning")
            raise
        except Exception as e:  # a bug: stop the service with one line
            log.error("block loading loop failed", extra=kv(err=f"{type(e).__name__}: {e}"))
            self._task_failed(e)

    # ------------------------------------------------------------------ publishing

    async def _publishing_loop(self, queue: TxQueue[TxRef]) -> None:
        try:
            while True:
                pi = await self._signal.get()
                if pi is None:
                    break
                await self._publish_state_to_l1(queue, pi)
                if not self.running:  # stop(): the round in progress is done
                    break
        except asyncio.CancelledError:
            raise
        except Exception as e:
            log.error("publishing loop failed", extra=kv(err=f"{type(e).__name__}: {e}"))
            self._task_failed(e)
        log.info("publishingLoop returning")

    async def _publish_state_to_l1(self, queue: TxQueue[TxRef], pi: PubInfo) -> None:
        """Go ``publishStateToL1``: send tx data until none is left (or an error)."""
        while True:
            if self.txmgr.closed:
                log.info("Txmgr is closed, aborting state publishing")
                return
            if not await self._check_txpool(queue):
                log.info("txpool state is not good, aborting state publishing")
                return
            try:
                head = await self.txmgr.backend.header("latest")
            except Exception as e:
                log.error("Failed to query L1 tip", extra=kv(err=str(e)))
                return
            if head is None:
                return
            self.metrics.record_l1_ref("latest", L1BlockRef(head.hash, head.number, ZERO32, head.timestamp))
            async with self._lock:
                closed_before = self.state.channels_closed
                try:
                    txdata = await self.state.tx_data(BlockID(head.hash, head.number), pi)
                except Exception as e:
                    log.error("Unable to get tx data", extra=kv(err=f"{type(e).__name__}: {e}"))
                    return
                for _ in range(self.state.channels_closed - closed_before):
                    self.metrics.channel_event(STAGE_CLOSED)
                self.metrics.queue_length.set(len(self.state.channel_queue))
            if txdata is None:
                return
            if not await self._send_transaction(queue, txdata):
                return

    async def _send_transaction(self, queue: TxQueue[TxRef], txdata: TxData) -> bool:
        """Go ``sendTransaction``; ``False`` ends the publishing round (a failed DA put)."""
        inbox = self.rollup.batch_inbox_address
        if self.altda is not None:
            if len(txdata.frames) != 1 or txdata.as_blob:
                raise BatcherError("alt-DA tx data must be one calldata frame")
            try:
                comm = await self._altda_put(txdata.call_data())
            except Exception as e:
                self.metrics.da_put_errors.inc()
                log.warning("DA request failed", extra=kv(tx_id=str(txdata), err=f"{type(e).__name__}: {e}"))
                async with self._lock:
                    self.state.tx_failed(txdata.id)
                return False
            log.info("Set altda input", extra=kv(commitment=to_hex(comm), tx=str(txdata)))
            candidate = TxCandidate(to=inbox, data=bytes([DERIVATION_VERSION_1]) + comm)
        elif txdata.as_blob:
            blobs = txdata.blobs()
            log.info("Building Blob transaction candidate", extra=kv(
                size=len(txdata), last_size=len(txdata.frames[-1].data), num_blobs=len(blobs)))  # fmt: skip
            self.metrics.blob_used.observe(len(txdata.frames[-1].data))
            candidate = TxCandidate(to=inbox, blobs=blobs)
        else:
            data = txdata.call_data()
            log.info("Building Calldata transaction candidate", extra=kv(size=len(data)))
            candidate = TxCandidate(to=inbox, data=data)
        candidate = TxCandidate(candidate.to, candidate.data, candidate.blobs,
                                max_floor_data_gas(candidate.data), candidate.value)  # fmt: skip
        self.metrics.tx_event(TX_SUBMITTED)
        await queue.send(TxRef(txdata.id, is_blob=txdata.as_blob), candidate)
        return True

    async def _altda_put(self, data: bytes) -> bytes:
        """Store ``data`` on the DA server; the encoded commitment (a keccak one computed here
        without ``--altda.da-service``, else the server's generic one)."""
        if self.altda is None:
            raise BatcherError("alt-DA is not enabled")
        put = self.altda.set_input(data, precompute_keccak=not self.cfg.altda_da_service)
        if self.cfg.altda_put_timeout > 0:
            async with asyncio.timeout(self.cfg.altda_put_timeout):
                return await put
        return await put

    async def _check_txpool(self, queue: TxQueue[TxRef]) -> bool:
        """Go ``checkTxpool``: with a tx of the other kind stuck in the L1 pool, send one
        cancellation tx (an empty tx of the stuck one's kind) and stop publishing until it is
        done."""
        if self.txpool_state == TXPOOL_BLOCKED:
            self.txpool_state = TXPOOL_CANCEL_PENDING
            blob = self.txpool_blocked_blob
            log.warning("sending a cancellation transaction to unblock txpool", extra=kv(blocked_blob=blob))
            inbox = self.rollup.batch_inbox_address
            if blob:
                cand = TxCandidate(to=inbox, data=b"", gas_limit=max_floor_data_gas(b""))
            else:
                from pyop.codec.blob import encode_blob

                cand = TxCandidate(to=inbox, blobs=(encode_blob(b"\x00"),), gas_limit=TX_GAS)
            await queue.send(TxRef((), is_cancel=True, is_blob=not blob), cand)
            return False
        return self.txpool_state == TXPOOL_GOOD

    # ------------------------------------------------------------------ receipts

    async def _receipts_loop(self, queue: TxQueue[TxRef]) -> None:
        log.info("Starting receipts processing loop")
        try:
            while True:
                r = await queue.receipts.get()
                await self._handle_receipt(r)
        except asyncio.CancelledError:
            log.info("receiptsLoop returning")
            raise

    async def _handle_receipt(self, r: TxReceipt[TxRef]) -> None:
        if isinstance(r.error, AlreadyReservedError) and self.txpool_state == TXPOOL_GOOD:
            self.txpool_state = TXPOOL_BLOCKED
            self.txpool_blocked_blob = r.id.is_blob
            log.warning("incompatible tx in txpool", extra=kv(id=str(r.id), is_blob=r.id.is_blob))
        elif r.id.is_cancel and self.txpool_state == TXPOOL_CANCEL_PENDING:
            self.txpool_state = TXPOOL_GOOD
            log.info("txpool may no longer be blocked", extra=kv(err=str(r.error)))
        if r.id.is_cancel:
            return
        log.info("Handling receipt", extra=kv(id=str(r.id)))
        async with self._lock:
            if r.error is not None or r.receipt is None:
                self.metrics.tx_event(TX_FAILED)
                log.warning("Transaction failed to send", extra=kv(tx_id=str(r.id), err=str(r.error)))
                self.state.tx_failed(r.id.id)
            else:
                self.metrics.tx_event(TX_SUCCESS)
                rc = r.receipt
                log.info("Transaction confirmed", extra=kv(
                    tx_id=str(r.id), tx=to_hex(rc.tx_hash), block=f"{to_hex(rc.block_hash)}:{rc.block_number}"))  # fmt: skip
                self.state.tx_confirmed(r.id.id, BlockID(rc.block_hash, rc.block_number))

    def _on_l1_reorged_tx(self, ev: ReorgedTx) -> None:
        kind = "removed" if ev.removed and ev.new_receipt is None else (
            "reincluded" if ev.removed else "moved")
        self.metrics.l1_reorged_txs.inc(kind)
        log.warning("batcher tx touched by an L1 reorg", extra=kv(
            kind=kind, tx=to_hex(ev.tx_hash), nonce=ev.nonce, old_block=ev.old_receipt.block_number,
            new_block=None if ev.new_receipt is None else ev.new_receipt.block_number))  # fmt: skip
