"""Scenario harness for the derivation pipeline: a true L2 chain, the L1 chain carrying its
batches, and an executor for ``derive_range``.

Everything is built from first principles, independently of ``pyop.derivation``:

- :class:`ChainBuilder` creates L1 blocks one by one (timestamps ``12 * n`` after genesis unless
  a gap is configured) with user deposits (``TransactionDeposited`` logs) and SystemConfig
  ``ConfigUpdate`` logs in their receipts, and the *true* L2 chain a well-behaved sequencer
  builds on them: every L2 block has an L1 origin (the newest L1 block not after it), a sequence
  number, the L1-info deposit, the origin's user deposits in the epoch's first block, the fork
  upgrade txs at activation blocks and some signed-looking user txs (random r/s: derivation never
  recovers L2 senders).
- A batcher: :meth:`ChainBuilder.channel` turns L2 blocks into a channel (singular or span
  batches, zlib or brotli, cut into N frames) with the codec's channel out;
  :meth:`ChainBuilder.post` places frames of a channel into a chosen L1 block as a calldata, blob
  or alt-DA batcher tx, really signed with ``eth_account`` (by the batcher key unless another key
  is given), with knobs to reorder, duplicate or omit frames, send to another address, or
  corrupt a batch.
- :class:`Executor` "executes" attributes: it builds the block from the attributes with the same
  hash function the builder uses, so a derived block equals the true block iff its attributes do.
  Deposit-only blocks the pipeline legitimately generates become new (non-true) blocks.
- :func:`run` drives ``derive_range`` and records drops and decisions.

The hash of every fake block is ``keccak`` of its contents (for L1: without receipts, so deposit
logs can carry the block hash they are in).
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import rlp
from eth_account import Account
from eth_hash.auto import keccak

from pyop.codec.batch import SingularBatch
from pyop.codec.blob import MAX_BLOB_DATA_SIZE, encode_blob
from pyop.codec.channel_out import ChannelOut
from pyop.codec.compression import CompressionAlgo
from pyop.codec.frame import Frame
from pyop.codec.span_batch import SpanBatch
from pyop.codec.tx import BLOB_TX_TYPE, DYNAMIC_FEE_TX_TYPE, make_signed_tx, rlp_encode
from pyop.config.rollup import AltDAConfig, ChainOpConfig, Genesis, RollupConfig
from pyop.devnet.l1_chain_config import l1_chain_config
from pyop.primitives import (
    ZERO_HASH,
    Address,
    BlockID,
    ExecutionPayload,
    Hash32,
    L1Header,
    L2BlockRef,
    PayloadAttributes,
    SystemConfig,
)
from pyop.protocol.deposit_log import encode_deposit_log
from pyop.protocol.deposits import DepositTx, user_deposit_source_hash
from pyop.protocol.l1_info import L1OriginInfo, decode_l1_info_tx, l1_info_deposit_tx
from pyop.protocol.l1_types import Log, Receipt
from pyop.protocol.predeploys import SEQUENCER_FEE_VAULT
from pyop.protocol.system_config import (
    SystemConfigUpdateType,
    encode_config_update_log,
    encode_ecotone_scalar,
)
from pyop.protocol.upgrades import upgrade_txs_at
from pyop.sources.memory import (
    MemoryAltDASource,
    MemoryBlobSource,
    MemoryL1Source,
    MemoryL2Source,
)

# ---------------------------------------------------------------------------------------------
# Constants
# ---------------------------------------------------------------------------------------------

GENESIS_TIME = 1_700_000_000
L1_BLOCK_TIME = 12
L2_BLOCK_TIME = 2
L1_CHAIN_ID = 900
L2_CHAIN_ID = 901
#: The harness L1's go-ethereum chain config (Cancun and Prague from genesis, EIP-7840 blob
#: schedule), for the tools that need it (``pyop derive``/``capture`` of an unknown L1).
L1_CHAIN_CONFIG: dict[str, object] = l1_chain_config(L1_CHAIN_ID, "prague")
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

BATCHER_KEY = keccak(b"pyop test batcher key")
OTHER_BATCHER_KEY = keccak(b"pyop test second batcher key")
MALLORY_KEY = keccak(b"pyop test mallory key")
BATCHER = bytes.fromhex(Account.from_key(BATCHER_KEY).address[2:])
OTHER_BATCHER = bytes.fromhex(Account.from_key(OTHER_BATCHER_KEY).address[2:])
MALLORY = bytes.fromhex(Account.from_key(MALLORY_KEY).address[2:])

BATCH_INBOX = bytes.fromhex("ff00000000000000000000000000000000000901")
DEPOSIT_CONTRACT = bytes.fromhex("deaddeaddeaddeaddeaddeaddeaddeaddead0001")
SYSTEM_CONFIG = bytes.fromhex("deaddeaddeaddeaddeaddeaddeaddeaddead0002")
DA_CHALLENGE_CONTRACT = bytes.fromhex("deaddeaddeaddeaddeaddeaddeaddeaddead0003")
#: The alt-DA windows of the test configs (L1 blocks).
ALTDA_CHALLENGE_WINDOW = 16
ALTDA_RESOLVE_WINDOW = 16
DEPOSITOR = bytes.fromhex("1111111111111111111111111111111111111111")
L1_GENESIS_HASH = keccak(b"pyop test L1 genesis")
L2_GENESIS_HASH = keccak(b"pyop test L2 genesis")
GENESIS_GAS_LIMIT = 30_000_000
GENESIS_SCALAR = encode_ecotone_scalar(1368, 810949)

#: Fork order; ``fork="x"`` activates every fork up to x at genesis.
FORKS = ("regolith", "canyon", "delta", "ecotone", "fjord", "granite", "holocene", "isthmus",
         "jovian")  # fmt: skip

DA = Literal["calldata", "blob", "altda"]


HARNESS_CHAIN_OP = ChainOpConfig(eip1559_elasticity=6, eip1559_denominator=50,
                                 eip1559_denominator_canyon=250)
"""The fake EL's EIP-1559 constants (op-geth's OP-chain defaults)."""


def header_extra_data(a: PayloadAttributes) -> bytes:
    """The ``extraData`` the fake engine writes, as op-geth's miner (``prepareWork``) does:
    empty before Holocene; zero ``eip1559Params`` become the chain's Canyon denominator and
    elasticity; version 0 + params from Holocene, version 1 + params + ``minBaseFee`` from
    Jovian (holocene/exec-engine.md, jovian/exec-engine.md)."""
    if a.eip1559_params is None:
        return b""
    params = a.eip1559_params
    if not any(params):
        c = HARNESS_CHAIN_OP
        den = c.eip1559_denominator_canyon or c.eip1559_denominator
        params = den.to_bytes(4, "big") + c.eip1559_elasticity.to_bytes(4, "big")
    if a.min_base_fee is not None:
        return b"\x01" + params + a.min_base_fee.to_bytes(8, "big")
    return b"\x00" + params


def l2_time(number: int) -> int:
    return GENESIS_TIME + L2_BLOCK_TIME * number


def make_config(
    *,
    fork: str = "granite",
    fork_times: dict[str, int | None] | None = None,
    seq_window_size: int = 8,
    channel_timeout: int = 4,
    max_sequencer_drift: int = 600,
    alt_da: bool | str = False,
    genesis_system_config: SystemConfig | None = None,
) -> RollupConfig:
    """A small test rollup config. ``fork`` activates every fork up to it at genesis;
    ``fork_times`` overrides single forks with a time *offset from genesis* (or ``None``).
    ``alt_da``: ``True`` / ``"keccak"`` (keccak commitments, challenge contract
    :data:`DA_CHALLENGE_CONTRACT`) or ``"generic"``."""
    if fork not in FORKS:
        raise ValueError(f"unknown fork {fork!r}")
    times: dict[str, int | None] = {
        f: (0 if i <= FORKS.index(fork) else None) for i, f in enumerate(FORKS)
    }
    for k, v in (fork_times or {}).items():
        if k not in times:
            raise ValueError(f"unknown fork {k!r}")
        times[k] = v
    abs_times = {f"{k}_time": (None if v is None else GENESIS_TIME + v) for k, v in times.items()}
    sc = genesis_system_config or SystemConfig(
        batcher_addr=BATCHER,
        overhead=ZERO_HASH,
        scalar=GENESIS_SCALAR,
        gas_limit=GENESIS_GAS_LIMIT,
    )
    return RollupConfig(
        genesis=Genesis(
            l1=BlockID(L1_GENESIS_HASH, 0),
            l2=BlockID(L2_GENESIS_HASH, 0),
            l2_time=GENESIS_TIME,
            system_config=sc,
        ),
        block_time=L2_BLOCK_TIME,
        max_sequencer_drift=max_sequencer_drift,
        seq_window_size=seq_window_size,
        channel_timeout=channel_timeout,
        l1_chain_id=L1_CHAIN_ID,
        l2_chain_id=L2_CHAIN_ID,
        batch_inbox_address=BATCH_INBOX,
        deposit_contract_address=DEPOSIT_CONTRACT,
        l1_system_config_address=SYSTEM_CONFIG,
        alt_da=_altda_config(alt_da),
        # the EL's EIP-1559 constants, which it writes into extraData for zero Holocene params
        chain_op_config=HARNESS_CHAIN_OP if abs_times["holocene_time"] is not None else None,
        **abs_times,  # type: ignore[arg-type]
    )


def _altda_config(alt_da: bool | str) -> AltDAConfig | None:
    if not alt_da:
        return None
    if alt_da is True or alt_da == "keccak":
        return AltDAConfig(da_commitment_type="KeccakCommitment", da_challenge_window=ALTDA_CHALLENGE_WINDOW,
                           da_resolve_window=ALTDA_RESOLVE_WINDOW, da_challenge_address=DA_CHALLENGE_CONTRACT)  # fmt: skip
    if alt_da == "generic":
        return AltDAConfig(da_commitment_type="GenericCommitment", da_challenge_window=ALTDA_CHALLENGE_WINDOW,
                           da_resolve_window=ALTDA_RESOLVE_WINDOW)  # fmt: skip
    raise ValueError(f"unknown alt_da {alt_da!r}")


# ---------------------------------------------------------------------------------------------
# Fake blocks
# ---------------------------------------------------------------------------------------------


def l1_block_hash(parent: Hash32, number: int, timestamp: int, base_fee: int, mix: Hash32,
                  txs: Sequence[bytes]) -> Hash32:  # fmt: skip
    """The fake L1 block hash: keccak of the header fields and the tx hashes (no receipts)."""
    return keccak(rlp.encode([parent, number, timestamp, base_fee, mix, [keccak(t) for t in txs]]))


def l2_block_hash(parent: Hash32, number: int, a: PayloadAttributes) -> Hash32:
    """The fake L2 block hash: keccak of the parent, number and every attributes field."""
    opt = [
        b"" if a.withdrawals is None else b"\x01",
        a.parent_beacon_block_root if a.parent_beacon_block_root is not None else b"-",
        a.eip1559_params if a.eip1559_params is not None else b"-",
        b"-" if a.min_base_fee is None else a.min_base_fee.to_bytes(8, "big"),
    ]
    # pyop's encoder gives pyrlp's bytes for these plain values (bytes, ints, lists) at a
    # fraction of the cost; the hash is only the fake block's identity (bench: harness executor)
    return keccak(
        rlp_encode(
            [parent, number, a.timestamp, a.prev_randao, a.suggested_fee_recipient,
             list(a.transactions), 1 if a.no_tx_pool else 0, a.gas_limit, opt]
        )
    )


def block_from_attributes(
    parent: L2BlockRef, a: PayloadAttributes
) -> tuple[L2BlockRef, ExecutionPayload]:
    """The L2 block the fake engine builds from ``a`` on ``parent``; its L1 origin and sequence
    number come from the attributes' L1-info deposit (the first transaction)."""
    _, info = decode_l1_info_tx(a.transactions[0])
    number = parent.number + 1
    h = l2_block_hash(parent.hash, number, a)
    ref = L2BlockRef(h, number, parent.hash, a.timestamp, BlockID(info.block_hash, info.number),
                     info.sequence_number)  # fmt: skip
    payload = ExecutionPayload(
        parent_hash=parent.hash,
        fee_recipient=a.suggested_fee_recipient,
        state_root=keccak(b"state" + h),
        receipts_root=keccak(b"receipts" + h),
        logs_bloom=bytes(256),
        prev_randao=a.prev_randao,
        block_number=number,
        gas_limit=a.gas_limit,
        gas_used=21000 * len(a.transactions),
        timestamp=a.timestamp,
        extra_data=header_extra_data(a),
        base_fee_per_gas=1_000_000,
        block_hash=h,
        transactions=tuple(a.transactions),
        withdrawals=a.withdrawals,
        blob_gas_used=0 if a.parent_beacon_block_root is not None else None,
        excess_blob_gas=0 if a.parent_beacon_block_root is not None else None,
        parent_beacon_block_root=a.parent_beacon_block_root,
    )
    return ref, payload


def random_user_tx(rng: random.Random, nonce: int, *, tx_type: int = DYNAMIC_FEE_TX_TYPE) -> bytes:
    """A signed-looking L2 type-2 tx with a random (not verifiable) signature."""
    data = rng.randbytes(rng.randrange(0, 40))
    _, raw = make_signed_tx(
        tx_type,
        chain_id=L2_CHAIN_ID,
        nonce=nonce,
        gas=21000 + 16 * len(data),
        to=rng.randbytes(20),
        value=rng.randrange(0, 10**18),
        data=data,
        v=rng.randrange(2),
        r=rng.randrange(1, SECP256K1_N),
        s=rng.randrange(1, SECP256K1_N // 2),
        max_priority_fee_per_gas=rng.randrange(1, 10**9),
        max_fee_per_gas=10**9 + rng.randrange(1, 10**9),
    )
    return raw


def sign_l1_tx(key: bytes, tx_type: int, **f: Any) -> bytes:
    """An L1 tx really signed with ``key``: the EIP-1559 / EIP-4844 signing hash is
    ``keccak(type ++ rlp(fields before the signature))``, computed here from the EIPs."""
    unsigned: list[Any] = [L1_CHAIN_ID, f["nonce"], f["max_priority_fee_per_gas"],
                           f["max_fee_per_gas"], f["gas"], f["to"], f["value"], f["data"], []]  # fmt: skip
    if tx_type == BLOB_TX_TYPE:
        unsigned += [f["max_fee_per_blob_gas"], list(f["blob_versioned_hashes"])]
    sig = Account.unsafe_sign_hash(keccak(bytes([tx_type]) + rlp.encode(unsigned)), key)
    body: bytes = rlp.encode([*unsigned, sig.v - 27, sig.r, sig.s])
    return bytes([tx_type]) + body


# ---------------------------------------------------------------------------------------------
# The true chain
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TrueBlock:
    """A block of the true L2 chain."""

    ref: L2BlockRef
    attributes: PayloadAttributes
    payload: ExecutionPayload
    system_config: SystemConfig
    user_txs: tuple[bytes, ...]
    deposits: tuple[bytes, ...]  # user deposits (epoch-first blocks)
    upgrade_txs: tuple[bytes, ...]

    @property
    def number(self) -> int:
        return self.ref.number

    def batch(self) -> SingularBatch:
        return SingularBatch(self.ref.parent_hash, self.ref.l1_origin.number,
                             self.ref.l1_origin.hash, self.ref.timestamp, self.user_txs)  # fmt: skip


@dataclass
class Channel:
    """A channel the batcher builds from true L2 blocks when it is first posted.

    ``mutate`` may rewrite the list of singular batches before encoding (to make a batch
    invalid); ``raw_batches`` replaces the batch list entirely (typed batch bytes).
    """

    blocks: Sequence[int]
    span: bool = False
    compression: CompressionAlgo = CompressionAlgo.ZLIB
    n_frames: int = 1
    channel_id: bytes = b""
    mutate: Callable[[list[SingularBatch]], list[SingularBatch]] | None = None
    raw_batches: Sequence[bytes] | None = None
    frames: list[Frame] = field(default_factory=list)


@dataclass(frozen=True)
class Post:
    """Frames of a channel placed in a batcher tx (``frames``: frame indices, in tx order;
    ``None`` = all, in order)."""

    channel: Channel
    frames: Sequence[int] | None = None
    da: DA = "calldata"
    key: bytes = BATCHER_KEY
    to: Address = BATCH_INBOX
    raw_data: bytes | None = None  # replaces the tx data entirely


@dataclass
class _L1Plan:
    #: ("deposit", DepositTx) / ("config", (update type, payload)), in L1 tx order
    events: list[tuple[str, Any]] = field(default_factory=list)
    posts: list[Post] = field(default_factory=list)
    time_gap: int = 0


class ChainBuilder:
    """Builds L1 + the true L2 chain (see the module docstring).

    Plan first (:meth:`deposit`, :meth:`set_batcher`, :meth:`set_gas_limit`,
    :meth:`set_eip1559_params`, :meth:`post`, :meth:`time_gap`, ``empty_l2`` / ``force_txs`` /
    ``origin_override``), then :meth:`build` L1 blocks ``1..n``. A post in L1 block ``n`` may only
    name L2 blocks that exist before ``n`` (their L1 origin is ``< n``).
    """

    def __init__(
        self,
        cfg: RollupConfig | None = None,
        *,
        seed: int = 0,
        txs_per_block: tuple[int, int] = (0, 3),
        blobs: MemoryBlobSource | None = None,
        altda: MemoryAltDASource | None = None,
        **cfg_kwargs: Any,
    ) -> None:
        self.cfg = cfg if cfg is not None else make_config(**cfg_kwargs)
        self.seed = seed
        self.txs_per_block = txs_per_block
        self.l1 = MemoryL1Source()
        self.blobs = blobs if blobs is not None else MemoryBlobSource()
        self.altda = altda if altda is not None else MemoryAltDASource()
        self.plans: dict[int, _L1Plan] = {}
        #: L2 numbers whose true block has no user txs.
        self.empty_l2: set[int] = set()
        #: L2 number -> user txs to put in that block (overrides the random ones).
        self.force_txs: dict[int, list[bytes]] = {}
        #: L2 number -> L1 origin number (otherwise the newest L1 block not after the L2 time).
        self.origin_override: dict[int, int] = {}
        self._channels = 0
        self._nonces: dict[bytes, int] = {}
        # built state
        genesis_header = L1Header(L1_GENESIS_HASH, 0, ZERO_HASH, GENESIS_TIME, 1_000_000_000,
                                  keccak(b"mix0"), parent_beacon_root=keccak(b"beacon0"),
                                  excess_blob_gas=0, blob_gas_used=0)  # fmt: skip
        self.l1.add_block(genesis_header, (), ())
        self.l1_headers: list[L1Header] = [genesis_header]
        self.sysconfig_after_l1: dict[Hash32, SystemConfig] = {
            L1_GENESIS_HASH: self.cfg.genesis.system_config
        }
        #: user deposits (encoded, with source hashes) per L1 block hash
        self.l1_deposits: dict[Hash32, list[bytes]] = {L1_GENESIS_HASH: []}
        #: the last EIP_1559_PARAMS ConfigUpdate (8 bytes) emitted in an L1 block, by its hash
        self.eip1559_update_in_l1: dict[Hash32, bytes] = {}
        g = self._genesis_block()
        self.l2: list[TrueBlock] = [g]

    # ------------------------------------------------------------------ planning

    def _plan(self, l1_number: int) -> _L1Plan:
        if l1_number < len(self.l1_headers):
            raise ValueError(f"L1 block {l1_number} is already built")
        return self.plans.setdefault(l1_number, _L1Plan())

    def deposit(self, l1_number: int, *, value: int = 10**18, data: bytes = b"",
                to: Address | None = b"\x22" * 20, gas: int = 100_000) -> None:  # fmt: skip
        """A user deposit (a ``TransactionDeposited`` log of the deposit contract)."""
        self._plan(l1_number).events.append(
            ("deposit", DepositTx(ZERO_HASH, DEPOSITOR, to, value, value, gas, False, data))
        )

    def config_update(self, l1_number: int, kind: SystemConfigUpdateType, payload: bytes) -> None:
        self._plan(l1_number).events.append(("config", (int(kind), payload)))

    def set_batcher(self, l1_number: int, addr: Address) -> None:
        self.config_update(l1_number, SystemConfigUpdateType.BATCHER, bytes(12) + addr)

    def set_gas_limit(self, l1_number: int, gas_limit: int) -> None:
        self.config_update(l1_number, SystemConfigUpdateType.GAS_LIMIT, gas_limit.to_bytes(32, "big"))

    def set_eip1559_params(self, l1_number: int, denominator: int, elasticity: int) -> None:
        word = (denominator << 32 | elasticity).to_bytes(32, "big")
        self.config_update(l1_number, SystemConfigUpdateType.EIP_1559_PARAMS, word)

    def time_gap(self, l1_number: int, seconds: int) -> None:
        """L1 block ``l1_number`` (and all later ones) comes ``seconds`` later than usual."""
        self._plan(l1_number).time_gap += seconds

    def channel(self, blocks: Iterable[int], **kw: Any) -> Channel:
        self._channels += 1
        cid = keccak(f"channel {self.seed} {self._channels}".encode())[:16]
        return Channel(blocks=list(blocks), channel_id=cid, **kw)

    def post(self, l1_number: int, channel: Channel, frames: Sequence[int] | None = None,
             **kw: Any) -> Post:  # fmt: skip
        p = Post(channel, frames, **kw)
        self._plan(l1_number).posts.append(p)
        return p

    def submit(self, l1_number: int, blocks: Iterable[int], **kw: Any) -> Channel:
        """Shorthand: one channel of ``blocks`` posted whole in ``l1_number``. Keyword args
        go to the channel (span, compression, n_frames, mutate) or the post (da, key, to)."""
        post_keys = {"da", "key", "to", "raw_data"}
        ch = self.channel(blocks, **{k: v for k, v in kw.items() if k not in post_keys})
        self.post(l1_number, ch, **{k: v for k, v in kw.items() if k in post_keys})
        return ch

    # ------------------------------------------------------------------ building

    def l1_time(self, number: int) -> int:
        if number < len(self.l1_headers):
            return self.l1_headers[number].timestamp
        gap = sum(p.time_gap for n, p in self.plans.items() if n <= number)
        return GENESIS_TIME + L1_BLOCK_TIME * number + gap

    def build(self, n_l1: int) -> ChainBuilder:
        """Build L1 blocks up to ``n_l1`` (and the true L2 blocks before L1 block ``n_l1``'s
        time; call ``build(n_l1 + 1)`` to have the blocks of epoch ``n_l1`` too)."""
        while len(self.l1_headers) <= n_l1:
            self._build_l1_block(len(self.l1_headers))
        return self

    def _build_l1_block(self, n: int) -> None:
        # the true L2 blocks before this L1 block's time (their origins are < n)
        while l2_time(len(self.l2)) < self.l1_time(n):
            self._build_l2_block()
        plan = self.plans.get(n, _L1Plan())
        parent = self.l1_headers[n - 1]
        ts = self.l1_time(n)
        base_fee = 1_000_000_000 + 7 * n
        mix = keccak(b"mix" + n.to_bytes(8, "big") + self.seed.to_bytes(8, "big"))
        txs: list[bytes] = []
        kinds: list[tuple[str, object]] = []
        blob_sets: list[list[bytes]] = []
        for post in plan.posts:
            raw, blobs = self._batcher_tx(post)
            txs.append(raw)
            kinds.append(("batcher", None))
            blob_sets.append(blobs)
        for i, (kind, obj) in enumerate(plan.events):
            txs.append(self._user_l1_tx(f"{kind} {n} {i} {obj!r}".encode()))
            kinds.append((kind, obj))
        h = l1_block_hash(parent.hash, n, ts, base_fee, mix, txs)
        n_blobs = sum(len(b) for b in blob_sets)
        header = L1Header(h, n, parent.hash, ts, base_fee, mix,
                          parent_beacon_root=keccak(b"beacon" + h), excess_blob_gas=0,
                          blob_gas_used=131072 * n_blobs)  # fmt: skip
        # receipts with block-wide log indices
        receipts: list[Receipt] = []
        log_index = 0
        sc = self.sysconfig_after_l1[parent.hash]
        deposits: list[bytes] = []
        for raw, (kind, obj) in zip(txs, kinds, strict=True):
            logs: tuple[Log, ...] = ()
            if kind == "deposit":
                assert isinstance(obj, DepositTx)
                logs = (encode_deposit_log(DEPOSIT_CONTRACT, obj, block_hash=h,
                                           log_index=log_index, block_number=n),)  # fmt: skip
                deposits.append(
                    replace(obj, source_hash=user_deposit_source_hash(h, log_index)).encode()
                )
            elif kind == "config":
                assert isinstance(obj, tuple)
                k, payload = obj
                logs = (encode_config_update_log(SYSTEM_CONFIG, k, payload, block_hash=h,
                                                 log_index=log_index),)  # fmt: skip
                sc = _apply_update(sc, k, payload)
                if k == SystemConfigUpdateType.EIP_1559_PARAMS:
                    self.eip1559_update_in_l1[h] = payload[24:32]
            log_index += len(logs)
            receipts.append(Receipt(1, logs, tx_hash=keccak(raw), tx_type=raw[0]))
        self.l1.add_block(header, txs, receipts)
        self.l1_headers.append(header)
        self.sysconfig_after_l1[h] = sc
        self.l1_deposits[h] = deposits
        for blobs in blob_sets:
            for b in blobs:
                self.blobs.add_blob(h, b)

    def _user_l1_tx(self, tag: bytes) -> bytes:
        """A non-batcher L1 tx (to the portal / system config); random signature."""
        rng = random.Random(keccak(tag + self.seed.to_bytes(8, "big")))
        _, raw = make_signed_tx(
            DYNAMIC_FEE_TX_TYPE, chain_id=L1_CHAIN_ID, nonce=rng.randrange(1000), gas=100_000,
            to=DEPOSIT_CONTRACT, value=0, data=tag, v=rng.randrange(2),
            r=rng.randrange(1, SECP256K1_N), s=rng.randrange(1, SECP256K1_N // 2),
            max_priority_fee_per_gas=1, max_fee_per_gas=10**10,
        )  # fmt: skip
        return raw

    def _origin_for(self, number: int, ts: int) -> int:
        if number in self.origin_override:
            return self.origin_override[number]
        parent_origin = self.l2[-1].ref.l1_origin.number
        nxt = parent_origin + 1
        if nxt < len(self.l1_headers) and self.l1_headers[nxt].timestamp <= ts:
            return nxt
        return parent_origin

    def _genesis_block(self) -> TrueBlock:
        a = PayloadAttributes(GENESIS_TIME, ZERO_HASH, SEQUENCER_FEE_VAULT, (), True,
                              GENESIS_GAS_LIMIT)  # fmt: skip
        ref = L2BlockRef(L2_GENESIS_HASH, 0, ZERO_HASH, GENESIS_TIME, BlockID(L1_GENESIS_HASH, 0), 0)
        payload = ExecutionPayload(ZERO_HASH, SEQUENCER_FEE_VAULT, ZERO_HASH, ZERO_HASH,
                                   bytes(256), ZERO_HASH, 0, GENESIS_GAS_LIMIT, 0, GENESIS_TIME,
                                   b"", 1_000_000, L2_GENESIS_HASH, ())  # fmt: skip
        return TrueBlock(ref, a, payload, self.cfg.genesis.system_config, (), (), ())

    def attributes_for(
        self,
        parent: L2BlockRef,
        origin: L1Header,
        user_txs: Sequence[bytes],
        timestamp: int | None = None,
    ) -> tuple[PayloadAttributes, tuple[bytes, ...], tuple[bytes, ...]]:
        """Payload attributes for the block after ``parent`` with L1 origin ``origin``
        (derivation.md "Deriving Payload Attributes"; forks' attribute changes).

        Returns ``(attributes, user deposits, upgrade txs)``.
        """
        cfg = self.cfg
        ts = parent.timestamp + cfg.block_time if timestamp is None else timestamp
        seq = 0 if origin.number != parent.l1_origin.number else parent.sequence_number + 1
        sc = self.sysconfig_after_l1[origin.hash]
        info = l1_info_deposit_tx(
            cfg, sc, L1OriginInfo(origin.hash, origin.number, origin.timestamp, origin.base_fee, 1),
            seq, ts,
        )  # fmt: skip
        deposits = tuple(self.l1_deposits[origin.hash]) if seq == 0 else ()
        upgrades = tuple(upgrade_txs_at(cfg, ts))
        eip1559: bytes | None = None
        if cfg.is_holocene(ts):
            # op-node attributes.go: ``sysConfig.EIP1559Params``, where sysConfig is the L2
            # parent's, rebuilt from its header (PayloadToSystemConfig: zero before Holocene,
            # else the header's extraData params), with the origin's ConfigUpdates applied on a
            # new epoch. (On the activation block the spec and kona use zeros instead.)
            eip1559 = self._header_params(parent)
            if seq == 0 and origin.hash in self.eip1559_update_in_l1:
                eip1559 = self.eip1559_update_in_l1[origin.hash]
        a = PayloadAttributes(
            timestamp=ts,
            prev_randao=origin.mix_digest,
            suggested_fee_recipient=SEQUENCER_FEE_VAULT,
            transactions=(info.encode(), *deposits, *upgrades, *user_txs),
            no_tx_pool=True,
            gas_limit=sc.gas_limit,
            withdrawals=() if cfg.is_canyon(ts) else None,
            parent_beacon_block_root=(origin.parent_beacon_root or ZERO_HASH)
            if cfg.is_ecotone(ts) else None,
            eip1559_params=eip1559,
            min_base_fee=sc.min_base_fee if cfg.is_jovian(ts) else None,
        )  # fmt: skip
        return a, deposits, upgrades

    def _header_params(self, parent: L2BlockRef) -> bytes:
        """The EIP-1559 params op-node rebuilds from the L2 block ``parent``: genesis -> the
        genesis SystemConfig's; pre-Holocene -> zero; else its header's extraData bytes 1..9
        (``parent`` is looked up by number in the true chain)."""
        if parent.number == self.cfg.genesis.l2.number:
            return bytes(self.cfg.genesis.system_config.eip1559_params)
        if not self.cfg.is_holocene(parent.timestamp):
            return bytes(8)
        return bytes(self.l2[parent.number].payload.extra_data[1:9])

    def _build_l2_block(self) -> None:
        parent = self.l2[-1]
        number = parent.number + 1
        ts = l2_time(number)
        origin = self.l1_headers[self._origin_for(number, ts)]
        rng = random.Random(f"{self.seed}:l2:{number}")
        drift = self.cfg.max_sequencer_drift_at(origin.timestamp)
        if number in self.force_txs:
            user_txs = tuple(self.force_txs[number])
        elif (
            number in self.empty_l2
            or ts > origin.timestamp + drift  # the sequencer keeps the drift rule
            or bool(upgrade_txs_at(self.cfg, ts))  # activation blocks: noTxPool (fork specs)
        ):
            user_txs = ()
        else:
            lo, hi = self.txs_per_block
            user_txs = tuple(random_user_tx(rng, number * 10 + i) for i in range(rng.randint(lo, hi)))
        a, deposits, upgrades = self.attributes_for(parent.ref, origin, user_txs, ts)
        ref, payload = block_from_attributes(parent.ref, a)
        sc = rebuilt_system_config(self.cfg, self.sysconfig_after_l1[origin.hash], payload)
        self.l2.append(TrueBlock(ref, a, payload, sc, user_txs, deposits, upgrades))

    # ------------------------------------------------------------------ batcher

    def _materialize(self, ch: Channel, inclusion: int) -> None:
        if ch.frames:
            return
        if ch.raw_batches is not None:
            typed = list(ch.raw_batches)
        else:
            for b in ch.blocks:
                if b >= len(self.l2) or self.l2[b].ref.l1_origin.number >= inclusion:
                    raise ValueError(f"L2 block {b} cannot be batched in L1 block {inclusion}")
            batches = [self.l2[b].batch() for b in ch.blocks]
            if ch.mutate is not None:
                batches = ch.mutate(batches)
            if ch.span:
                first = self.l2[ch.blocks[0]]
                sb = SpanBatch.from_singular_batches(
                    batches, GENESIS_TIME, L2_CHAIN_ID,
                    origin_changed_bit=first.ref.sequence_number == 0,
                )  # fmt: skip
                typed = [sb.encode()]
            else:
                typed = [b.encode() for b in batches]
        co = ChannelOut(max_rlp_bytes=10_000_000, compression=ch.compression,
                        channel_id=ch.channel_id)  # fmt: skip
        for t in typed:
            co.add_batch(t)
        co.close()
        total = co.ready_bytes()
        per = max(1, -(-total // ch.n_frames))
        frames = []
        while not co.done:
            frames.append(co.output_frame(per + 23))
        ch.frames = frames

    def _batcher_tx(self, post: Post) -> tuple[bytes, list[bytes]]:
        n = len(self.l1_headers)
        if post.raw_data is not None:
            data = post.raw_data
        else:
            self._materialize(post.channel, n)
            idx = range(len(post.channel.frames)) if post.frames is None else post.frames
            data = b"\x00" + b"".join(post.channel.frames[i].encode() for i in idx)
        nonce = self._nonces.get(post.key, 0)
        self._nonces[post.key] = nonce + 1
        common: dict[str, Any] = dict(nonce=nonce, gas=1_000_000, to=post.to, value=0,
                                      max_priority_fee_per_gas=10**9, max_fee_per_gas=10**11)  # fmt: skip
        if post.da == "calldata":
            return sign_l1_tx(post.key, DYNAMIC_FEE_TX_TYPE, data=data, **common), []
        if post.da == "altda":
            a = self.cfg.alt_da
            if a is not None and a.da_commitment_type == "GenericCommitment":
                # a DA-service commitment: 0x01 ++ da_layer_byte ++ payload (alt-da.md)
                commitment = b"\x01\x7e" + keccak(b"generic" + data)
                self.altda.put(commitment, data)
            else:
                commitment = self.altda.put_keccak(data)
            return sign_l1_tx(post.key, DYNAMIC_FEE_TX_TYPE, data=b"\x01" + commitment, **common), []
        chunks = [data[i : i + MAX_BLOB_DATA_SIZE] for i in range(0, len(data), MAX_BLOB_DATA_SIZE)]
        blobs = [encode_blob(c) for c in chunks]
        from pyop.codec.blob import blob_to_kzg_commitment, kzg_to_versioned_hash

        hashes = tuple(kzg_to_versioned_hash(blob_to_kzg_commitment(b)) for b in blobs)
        raw = sign_l1_tx(post.key, BLOB_TX_TYPE, data=b"", max_fee_per_blob_gas=10**9,
                         blob_versioned_hashes=hashes, **common)  # fmt: skip
        return raw, blobs

    # ------------------------------------------------------------------ queries

    def header(self, number: int) -> L1Header:
        return self.l1_headers[number]

    def true_refs(self) -> list[L2BlockRef]:
        return [b.ref for b in self.l2]

    def genesis_ref(self) -> L2BlockRef:
        return self.l2[0].ref


def rebuilt_system_config(cfg: RollupConfig, sc: SystemConfig, payload: ExecutionPayload) -> SystemConfig:
    """The SystemConfig the node rebuilds from an L2 block (op-node ``PayloadToSystemConfig``):
    the EIP-1559 params come from the header, zero before Holocene whatever the L1
    ConfigUpdates said, the extraData's params from Holocene."""
    if not cfg.is_holocene(payload.timestamp):
        return replace(sc, eip1559_params=bytes(8))
    return replace(sc, eip1559_params=bytes(payload.extra_data[1:9]))


def _apply_update(sc: SystemConfig, kind: int, payload: bytes) -> SystemConfig:
    """The harness's own SystemConfig bookkeeping (system-config.md#system-config-updates)."""
    T = SystemConfigUpdateType
    if kind == T.BATCHER:
        return replace(sc, batcher_addr=payload[12:32])
    if kind == T.GAS_LIMIT:
        return replace(sc, gas_limit=int.from_bytes(payload[:32], "big"))
    if kind == T.EIP_1559_PARAMS:
        return replace(sc, eip1559_params=payload[24:32])
    if kind == T.MIN_BASE_FEE:
        return replace(sc, min_base_fee=int.from_bytes(payload[:32], "big"))
    raise ValueError(f"harness does not model update type {kind}")


# ---------------------------------------------------------------------------------------------
# Executor and runner
# ---------------------------------------------------------------------------------------------


@dataclass
class Executed:
    attributes: PayloadAttributes
    parent: L2BlockRef
    ref: L2BlockRef
    derived_from: int
    deposits_only: bool


class Executor:
    """The fake engine for ``derive_range``: builds each block from its attributes with the
    builder's hash function and records it in ``l2`` (the pipeline's :class:`MemoryL2Source`).
    The SystemConfig stored with a block is the builder's config after its L1 origin."""

    def __init__(self, builders: Sequence[ChainBuilder], l2: MemoryL2Source) -> None:
        self.builders = builders
        self.l2 = l2
        self.executed: list[Executed] = []

    def system_config_for(self, l1_hash: Hash32) -> SystemConfig:
        for b in self.builders:
            if l1_hash in b.sysconfig_after_l1:
                return b.sysconfig_after_l1[l1_hash]
        raise KeyError(l1_hash.hex())

    def execute(self, item: Any) -> L2BlockRef:
        attrs: PayloadAttributes = item.attributes
        parent: L2BlockRef = item.parent
        ref, payload = block_from_attributes(parent, attrs)
        self.l2.truncate(parent.number)
        sc = rebuilt_system_config(self.builders[0].cfg, self.system_config_for(ref.l1_origin.hash),
                                   payload)  # fmt: skip
        self.l2.add(payload, ref, sc)
        self.executed.append(
            Executed(attrs, parent, ref, item.derived_from.number, bool(getattr(item, "deposits_only", False)))
        )
        return ref


def describe_attrs(a: PayloadAttributes) -> dict[str, object]:
    d = dataclasses.asdict(a)
    d["transactions"] = [t[:1].hex() + ":" + keccak(t)[:4].hex() for t in a.transactions]
    return d


@dataclass
class RunResult:
    """What a run derived: the executed blocks, the pipeline's drops and decisions."""

    builder: ChainBuilder
    pipeline: Any
    executor: Executor
    items: list[Any]
    safe: L2BlockRef

    @property
    def drops(self) -> list[Any]:
        return list(self.pipeline.drops)

    @property
    def decisions(self) -> list[Any]:
        return list(self.pipeline.decisions)

    @property
    def blocks(self) -> list[Executed]:
        """The derived blocks of the final chain (re-derived heights replace older ones)."""
        by_number: dict[int, Executed] = {}
        for e in self.executor.executed:
            by_number[e.ref.number] = e
            for n in [n for n in by_number if n > e.ref.number]:
                del by_number[n]
        return [by_number[n] for n in sorted(by_number)]

    @property
    def refs(self) -> list[L2BlockRef]:
        return [e.ref for e in self.blocks]

    def reasons(self) -> list[str]:
        return [d.reason.name for d in self.pipeline.drops]

    def drops_of(self, name: str) -> list[Any]:
        return [d for d in self.pipeline.drops if d.reason.name == name]

    def decisions_of(self, name: str) -> list[Any]:
        return [d for d in self.pipeline.decisions if d.kind.name == name]

    def explain(self) -> str:
        return "\n".join(d.explain() for d in self.pipeline.drops)


def new_l2_source(builder: ChainBuilder) -> MemoryL2Source:
    l2 = MemoryL2Source()
    g = builder.l2[0]
    l2.add(g.payload, g.ref, g.system_config)
    return l2


def run(
    builder: ChainBuilder,
    *,
    extra_builders: Sequence[ChainBuilder] = (),
    until_l2_number: int | None = None,
    until_l1_number: int | None = None,
    previous: RunResult | None = None,
    start: L2BlockRef | None = None,
    reset: bool = True,
) -> RunResult:
    """Derive from genesis (or from ``start`` / the end of ``previous``, reusing its pipeline
    and L2 chain) until L1 runs out; every derived block is executed by :class:`Executor`."""
    from pyop.derivation.driver import DerivationPipeline, derive_range

    if previous is None:
        l2 = new_l2_source(builder)
        pipeline = DerivationPipeline(builder.cfg, builder.l1, l2, blobs=builder.blobs,
                                      altda=builder.altda)  # fmt: skip
        executor = Executor([builder, *extra_builders], l2)
        items: list[Any] = []
        safe = builder.genesis_ref() if start is None else start
    else:
        pipeline, executor, items = previous.pipeline, previous.executor, previous.items
        executor.builders = [builder, *extra_builders]
        safe = previous.safe if start is None else start
    res = RunResult(builder, pipeline, executor, items, safe)
    for item in derive_range(pipeline, safe, executor, until_l2_number=until_l2_number,
                             until_l1_number=until_l1_number, reset=reset):  # fmt: skip
        items.append(item)
        res.safe = executor.executed[-1].ref
    return res


def diff_chains(got: Sequence[Executed], want: Sequence[TrueBlock]) -> str:
    """A readable description of the first difference between derived and true blocks."""
    for g, w in zip(got, want, strict=False):
        if g.ref != w.ref:
            ga, wa = describe_attrs(g.attributes), describe_attrs(w.attributes)
            fields = {k: (ga[k], wa[k]) for k in ga if ga[k] != wa[k]}
            return f"block {w.number} differs: {fields} (got origin {g.ref.l1_origin.number} " \
                   f"seq {g.ref.sequence_number}, want {w.ref.l1_origin.number} " \
                   f"seq {w.ref.sequence_number})"  # fmt: skip
    return f"lengths: got {len(got)}, want {len(want)}"


def assert_truth(res: RunResult, upto: int, *, start: int = 1) -> None:
    """The derived chain is the true chain for blocks ``start..upto`` (and no more)."""
    got = res.blocks
    want = res.builder.l2[1 : upto + 1]
    assert [e.ref for e in got] == [b.ref for b in want], (
        diff_chains(got, want) + "\ndrops:\n" + res.explain()
    )
    for g, w in zip(got[start - 1 :], want[start - 1 :], strict=True):
        assert g.attributes == w.attributes


def truth_upto_origin(builder: ChainBuilder, l1_number: int) -> int:
    """The number of the last true L2 block whose L1 origin is ``<= l1_number``."""
    return max(b.number for b in builder.l2 if b.ref.l1_origin.number <= l1_number)
