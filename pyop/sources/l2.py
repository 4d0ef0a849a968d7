"""L2 execution-layer reads over the ``eth_*`` JSON-RPC of an L2 EL (op-geth): payloads, block
refs and the SystemConfig each block carries (op-node ``sources.L2Client``,
``derive.PayloadToBlockRef`` / ``PayloadToSystemConfig``; kona ``to_system_config``).

- :func:`l2_block_ref_from_payload`: the L1 origin and sequence number of a block come from its
  first transaction, the L1-info deposit (specs/protocol/deposits.md#l1-attributes-deposited-
  transaction); the L2 genesis block has none: its L1 origin is ``genesis.l1`` of the rollup
  config and its sequence number 0.
- :func:`system_config_from_payload`: batcher address and fee scalars from the L1-info deposit
  (Bedrock overhead/scalar; Ecotone+ scalars re-encoded as a version-1 scalar, as op-node does),
  ``gasLimit`` from the header, [Holocene] ``eip1559Params`` from the header ``extraData``
  (specs/protocol/holocene/exec-engine.md#eip-1559-parameters-in-block-header: version byte 0,
  ``u32`` denominator, ``u32`` elasticity), [Jovian] ``minBaseFee`` from ``extraData`` version 1
  (specs/protocol/jovian/exec-engine.md#minimum-base-fee-in-block-header), [Isthmus] operator fee
  params and [Jovian] DA footprint gas scalar from the L1-info deposit. ``extraData`` is
  validated first (:func:`validate_optimism_extra_data`), and the L1-info calldata must be in
  the format the block's timestamp requires, as op-node does.

:class:`AsyncL2Client` is the async reader; :class:`L2RPCSource` the pipeline's synchronous
``L2Source`` over it (same error mapping as :class:`~pyop.sources.l1.L1RPCSource`).
"""

from __future__ import annotations

from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar

from pyop.codec.errors import CodecError
from pyop.config.rollup import RollupConfig
from pyop.primitives import (
    BlockID,
    ExecutionPayload,
    Hash32,
    L2BlockRef,
    PyopError,
    SystemConfig,
    to_hex,
)
from pyop.protocol.l1_info import (
    L1BlockInfo,
    L1InfoFormat,
    decode_l1_info_tx,
    l1_info_format_at,
)
from pyop.protocol.system_config import encode_ecotone_scalar
from pyop.protocol.upgrades import upgrade_gas_to_strip
from pyop.sources.blockjson import (
    BlockJSONError,
    block_tx_list,
    payload_from_block_json,
    raw_tx_from_json,
    verify_block_json,
)
from pyop.sources.interfaces import NotFound
from pyop.sources.l1 import run_as_source
from pyop.sources.lru import LRUCache
from pyop.sources.rpc import AsyncRPCClient, LoopThread

T = TypeVar("T")

__all__ = [
    "AsyncL2Client",
    "L2DataError",
    "L2RPCSource",
    "decode_holocene_extra_data",
    "decode_jovian_extra_data",
    "l2_block_ref_from_payload",
    "system_config_from_payload",
    "validate_optimism_extra_data",
]

HOLOCENE_EXTRA_DATA_VERSION = 0
JOVIAN_EXTRA_DATA_VERSION = 1


class L2DataError(BlockJSONError):
    """An L2 block that cannot be interpreted (no / bad L1-info deposit, bad extraData, ...)."""


def decode_holocene_extra_data(extra: bytes) -> tuple[int, int]:
    """``(denominator, elasticity)`` of a Holocene header ``extraData`` (9 bytes, version 0)."""
    if len(extra) != 9 or extra[0] != HOLOCENE_EXTRA_DATA_VERSION:
        raise L2DataError(f"invalid Holocene extraData {to_hex(extra)}")
    return int.from_bytes(extra[1:5], "big"), int.from_bytes(extra[5:9], "big")


def decode_jovian_extra_data(extra: bytes) -> tuple[int, int, int]:
    """``(denominator, elasticity, minBaseFee)`` of a Jovian ``extraData`` (17 bytes, v1)."""
    if len(extra) != 17 or extra[0] != JOVIAN_EXTRA_DATA_VERSION:
        raise L2DataError(f"invalid Jovian extraData {to_hex(extra)}")
    return (
        int.from_bytes(extra[1:5], "big"),
        int.from_bytes(extra[5:9], "big"),
        int.from_bytes(extra[9:17], "big"),
    )


def validate_optimism_extra_data(cfg: RollupConfig, timestamp: int, extra: bytes) -> None:
    """op-node/op-geth ``eip1559.ValidateOptimismExtraData``: from Jovian 17 bytes, version 1;
    from Holocene 9 bytes, version 0; in both the encoded denominator and elasticity must be
    non-zero (unlike the attributes' ``eip1559Params``, where 0/0 means "the defaults"). Before
    Holocene ``extraData`` must be empty. Raises :class:`L2DataError`."""
    if cfg.is_jovian(timestamp):  # [New in Jovian]
        den, el, _ = decode_jovian_extra_data(extra)
    elif cfg.is_holocene(timestamp):  # [New in Holocene]
        den, el = decode_holocene_extra_data(extra)
    else:
        if extra:
            raise L2DataError(f"extraData must be empty before Holocene, got {to_hex(extra)}")
        return
    if den == 0:
        raise L2DataError(f"extraData {to_hex(extra)} must encode a non-zero denominator")
    if el == 0:
        raise L2DataError(f"extraData {to_hex(extra)} must encode a non-zero elasticity")


def _is_genesis(cfg: RollupConfig, p: ExecutionPayload) -> bool:
    if p.block_number != cfg.genesis.l2.number:
        return False
    if p.block_hash != cfg.genesis.l2.hash:
        raise L2DataError(
            f"L2 block {p.block_number} has hash {to_hex(p.block_hash)}, the rollup config's "
            f"genesis is {to_hex(cfg.genesis.l2.hash)}"
        )
    return True


def _l1_info(cfg: RollupConfig, p: ExecutionPayload) -> L1BlockInfo:
    """The L1-info deposit of a non-genesis L2 block, in the calldata format its timestamp
    requires (op-node ``L1BlockInfoFromBytes``: decoded by timestamp, selector validated)."""
    if not p.transactions:
        raise L2DataError(f"L2 block {p.block_number} has no transactions (no L1-info deposit)")
    try:
        return decode_l1_info_tx(p.transactions[0], l1_info_format_at(cfg, p.timestamp))[1]
    except CodecError as e:
        raise L2DataError(f"L2 block {p.block_number}: first tx is not an L1-info deposit: {e}") from None


def l2_block_ref_from_payload(cfg: RollupConfig, p: ExecutionPayload) -> L2BlockRef:
    """op-node ``PayloadToBlockRef``."""
    if _is_genesis(cfg, p):
        origin, seq = cfg.genesis.l1, 0
    else:
        info = _l1_info(cfg, p)
        origin, seq = BlockID(info.block_hash, info.number), info.sequence_number
    return L2BlockRef(p.block_hash, p.block_number, p.parent_hash, p.timestamp, origin, seq)


def system_config_from_payload(cfg: RollupConfig, p: ExecutionPayload) -> SystemConfig:
    """op-node ``PayloadToSystemConfig`` / kona ``to_system_config`` (v1.19.6: incl. the Karst /
    Lagoon upgrade-gas strip)."""
    if _is_genesis(cfg, p):
        return cfg.genesis.system_config
    info = _l1_info(cfg, p)
    validate_optimism_extra_data(cfg, p.timestamp, p.extra_data)
    if info.format is L1InfoFormat.BEDROCK:
        scalar = info.l1_fee_scalar
    else:
        # we cannot tell a v0 from a v1 scalar; v1 with a 0 blob scalar has the same effect
        scalar = encode_ecotone_scalar(info.base_fee_scalar, info.blob_base_fee_scalar)
    eip1559 = b"\x00" * 8
    min_base_fee = 0
    if cfg.is_jovian(p.timestamp):
        den, el, min_base_fee = decode_jovian_extra_data(p.extra_data)
        eip1559 = den.to_bytes(4, "big") + el.to_bytes(4, "big")
    elif cfg.is_holocene(p.timestamp):
        den, el = decode_holocene_extra_data(p.extra_data)
        eip1559 = den.to_bytes(4, "big") + el.to_bytes(4, "big")
    operator = b"\x00" * 32
    if cfg.is_isthmus(p.timestamp):
        operator = (
            bytes(20)
            + info.operator_fee_scalar.to_bytes(4, "big")
            + info.operator_fee_constant.to_bytes(8, "big")
        )
    da = info.da_footprint_gas_scalar if info.format is L1InfoFormat.JOVIAN else 0
    # [New in Karst] the activation block's gas limit carries the NUT bundle's one-time upgrade
    # gas: strip it so the rebuilt config holds the steady-state limit (op-node
    # ``upgradeGasToStrip``; not for Karst with ``keep_karst_upgrade_gas``).
    gas_limit = p.gas_limit
    strip = upgrade_gas_to_strip(cfg, p.timestamp)
    if strip:
        if gas_limit < strip:
            raise L2DataError(
                f"L2 block {p.block_number}: activation block gas limit {gas_limit} below upgrade gas {strip}"
            )
        gas_limit -= strip
    return SystemConfig(
        batcher_addr=info.batcher_addr,
        overhead=info.l1_fee_overhead,
        scalar=scalar,
        gas_limit=gas_limit,
        eip1559_params=eip1559,
        operator_fee_params=operator,
        min_base_fee=min_base_fee,
        da_footprint_gas_scalar=da,
    )


class AsyncL2Client:
    """Async L2 reads; payloads are cached by hash, the number -> hash map is not (reorgs)."""

    def __init__(
        self, rpc: AsyncRPCClient, cfg: RollupConfig, *, cache_size: int = 500, verify: bool = True
    ) -> None:
        self.rpc = rpc
        self.cfg = cfg
        self.verify = verify
        self._payloads: LRUCache[Hash32, ExecutionPayload] = LRUCache(cache_size)

    async def close(self) -> None:
        await self.rpc.close()

    async def _payload(self, obj: object, what: str) -> ExecutionPayload:
        if obj is None:
            raise NotFound(f"L2 block {what} not found")
        if not isinstance(obj, dict):
            raise BlockJSONError(f"L2 block {what}: not an object")
        txs_json = block_tx_list(obj)
        try:
            raw = [raw_tx_from_json(t) for t in txs_json]
        except BlockJSONError:
            if any(t is None for t in txs_json):
                raise
            hashes = [t.get("hash") if isinstance(t, dict) else t for t in txs_json]
            res = await self.rpc.batch([("eth_getRawTransactionByHash", [h]) for h in hashes])
            raw = []
            for h, r in zip(hashes, res, strict=True):
                if not isinstance(r, str):
                    raise BlockJSONError(f"eth_getRawTransactionByHash({h}): no transaction") from None
                raw.append(bytes.fromhex(r.removeprefix("0x")))
        if self.verify:
            verify_block_json(obj, raw, withdrawals_root=False)
        p = payload_from_block_json(obj, raw)
        self._payloads.put(p.block_hash, p)
        return p

    async def payload_by_number(self, n: int | str) -> ExecutionPayload:
        param = hex(n) if isinstance(n, int) else n
        obj = await self.rpc.call("eth_getBlockByNumber", [param, True])
        return await self._payload(obj, str(n))

    async def payload_by_hash(self, block_hash: Hash32) -> ExecutionPayload:
        p = self._payloads.get(block_hash)
        if p is not None:
            return p
        obj = await self.rpc.call("eth_getBlockByHash", [to_hex(block_hash), True])
        p = await self._payload(obj, to_hex(block_hash))
        if p.block_hash != block_hash:
            raise BlockJSONError(f"asked for L2 block {to_hex(block_hash)}, got {to_hex(p.block_hash)}")
        return p

    async def payloads_by_numbers(self, numbers: Sequence[int]) -> list[ExecutionPayload]:
        """Many payloads in batched requests (capture)."""
        res = await self.rpc.batch([("eth_getBlockByNumber", [hex(n), True]) for n in numbers])
        return [await self._payload(o, str(n)) for n, o in zip(numbers, res, strict=True)]

    async def ref_by_number(self, n: int | str) -> L2BlockRef:
        return self._ref(await self.payload_by_number(n))

    async def ref_by_hash(self, block_hash: Hash32) -> L2BlockRef:
        return self._ref(await self.payload_by_hash(block_hash))

    async def system_config_by_hash(self, block_hash: Hash32) -> SystemConfig:
        return self._sys(await self.payload_by_hash(block_hash))

    def _ref(self, p: ExecutionPayload) -> L2BlockRef:
        try:
            return l2_block_ref_from_payload(self.cfg, p)
        except PyopError as e:
            raise L2DataError(str(e)) from None

    def _sys(self, p: ExecutionPayload) -> SystemConfig:
        try:
            return system_config_from_payload(self.cfg, p)
        except PyopError as e:
            raise L2DataError(str(e)) from None


class L2RPCSource:
    """The pipeline's synchronous ``L2Source`` over :class:`AsyncL2Client`."""

    def __init__(self, client: AsyncL2Client, loop: LoopThread, *, own_loop: bool = False) -> None:
        self.client = client
        self.loop = loop
        self._own_loop = own_loop

    @classmethod
    def connect(
        cls, url: str, cfg: RollupConfig, *, loop: LoopThread | None = None, **rpc_kwargs: Any
    ) -> L2RPCSource:
        own = loop is None
        client = AsyncL2Client(AsyncRPCClient(url, **rpc_kwargs), cfg)
        return cls(client, loop or LoopThread(), own_loop=own)

    def close(self) -> None:
        if self._own_loop:
            self.loop.close(self.client.close())
        else:
            self.loop.run(self.client.close())

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return run_as_source(self.loop, coro)

    def l2_block_ref_by_number(self, number: int) -> L2BlockRef:
        return self._run(self.client.ref_by_number(number))

    def l2_block_ref_by_hash(self, block_hash: Hash32) -> L2BlockRef:
        return self._run(self.client.ref_by_hash(block_hash))

    def payload_by_number(self, number: int) -> ExecutionPayload:
        return self._run(self.client.payload_by_number(number))

    def system_config_by_l2_hash(self, block_hash: Hash32) -> SystemConfig:
        return self._run(self.client.system_config_by_hash(block_hash))
