"""The derivation fixture: everything needed to derive a range of L2 blocks offline.

Layout: the ``DerivationFixture`` JSON of ethereum-optimism/tests (``crates/op-test-vectors/
src/derivation.rs``, formerly op-test-vectors; written by its ``opdn`` tool), camelCase keys::

    {
      "rollupConfig":   { rollup.json object },
      "l1Blocks":       [ { "header": {...}, "transactions": ["0x<EIP-2718>"...],
                            "blobs": ["0x<131072-byte blob>"...], "receipts": [ {...} ] } ... ],
      "l2Payloads":     { "<n>": PayloadAttributes JSON },   # expected derived attributes
      "refPayloads":    { "<n>": PayloadAttributes JSON },   # attributes of existing L2 blocks
      "l2SystemConfigs":{ "<n>": SystemConfig JSON },        # the config after L2 block n
      "l2BlockInfos":   { "<n>": L2 block ref JSON },
      "l2CursorStart":  A - 1,    # the starting L2 safe head
      "l2CursorEnd":    B         # derive blocks l2CursorStart+1 ..= l2CursorEnd
    }

Spellings pyop writes (and reads, with the older/alternative spellings in brackets):

- ``rollupConfig``: op-node ``rollup.json`` (``RollupConfig.to_json()``) [kona's serde form];
- ``header``: ``eth_getBlockBy*`` header fields (``sha3Uncles``, ``miner``; quantities as
  0x-hex) plus ``hash`` [alloy's ``ommersHash`` / ``beneficiary``, decimal numbers]. When all
  consensus fields are present the header hash is recomputed and must equal ``hash``; a
  *partial* header (only the fields of :class:`~pyop.primitives.L1Header`: hash, number,
  parentHash, timestamp, baseFeePerGas, mixHash, gasLimit, blob gas fields,
  parentBeaconBlockRoot, requestsHash, receiptsRoot) is accepted for synthetic fixtures and
  must carry ``hash``;
- ``receipts``: JSON-RPC receipt objects (``status``, ``cumulativeGasUsed``, ``type``,
  ``transactionHash``, ``logs`` with ``address``, ``topics``, ``data`` and ``logIndex``);
  without ``logIndex`` logs are numbered in block order;
- payload attributes: Engine API JSON (``PayloadAttributes.to_json()``: quantities 0x-hex,
  ``eip1559Params`` [Holocene], ``minBaseFee`` [Jovian]) [decimal numbers];
- system configs: op-node ``eth.SystemConfig`` (``batcherAddr``, ``overhead``, ``scalar``,
  ``gasLimit``, ``eip1559Params``, ``operatorFeeParams``, ``minBaseFee``,
  ``daFootprintGasScalar``) [kona's ``batcherAddress``, ``baseFeeScalar``/``blobBaseFeeScalar``,
  ``eip1559Denominator``/``eip1559Elasticity``, ``operatorFeeScalar``/``operatorFeeConstant``];
- L2 block refs: op-node ``L2BlockRef`` JSON (``hash``, ``number``, ``parentHash``,
  ``timestamp``, ``l1origin``, ``sequenceNumber``; kona's current ``L2BlockInfo`` spelling)
  [the older ``{"block_info": {...}, "l1_origin": {...}, "seq_num"}``].

pyop additions (all optional; other readers ignore unknown keys):

- ``pyopL2Blocks``: ``{"<n>": Engine API ExecutionPayload JSON + "parentBeaconBlockRoot"}``
  for the starting safe head, the L2 history before it that span-batch checks may consult, and
  the derived range: full reference blocks (block hash, extraData for Holocene/Jovian checks).
- ``pyopMeta``: free-form provenance (tool, endpoints, ranges, capture time).
- ``pyopL1ChainConfig``: the L1's go-ethereum chain config (``--rollup.l1-chain-config``) for
  an L1 without a built-in blob schedule (:mod:`pyop.config.l1_chains`); ``pyop derive``
  refuses a fixture of such an L1 without it, as op-node refuses to start.
- Receipts: pyop records receipts only for L1 blocks whose ``logsBloom`` may contain a log of
  the deposit contract or the SystemConfig contract; other blocks carry ``"receipts": []``
  (they hold nothing derivation reads). Blobs: only blobs of batcher-inbox blob transactions.
- ``l2Payloads`` of a capture from a live chain are the attributes reconstructed from the
  reference L2 blocks (what a correct derivation must produce), ``refPayloads`` the same for
  the history blocks and the derived range.
"""

from __future__ import annotations

import codecs
import gzip
import json
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from os import PathLike
from pathlib import Path
from typing import IO, Any, cast

from pyop.config.kona import rollup_config_from_kona_json
from pyop.config.l1_chains import (
    L1BlobSchedule,
    L1ChainConfigError,
    l1_blob_schedule_from_json,
    resolve_l1_blob_schedule,
)
from pyop.config.rollup import RollupConfig
from pyop.primitives import (
    ZERO_HASH,
    BlockID,
    ExecutionPayload,
    HexError,
    L1Header,
    L2BlockRef,
    PayloadAttributes,
    PyopError,
    SystemConfig,
    Withdrawal,
    from_hex,
    hex_to_int,
    to_hex,
)
from pyop.protocol.l1_types import L1JSONError, Log, Receipt
from pyop.sources.blockjson import (
    BlockJSONError,
    compute_header_hash,
    header_from_json,
    payload_from_engine_json,
    payload_to_engine_json,
    withdrawal_from_json,
)
from pyop.sources.l2 import l2_block_ref_from_payload, system_config_from_payload
from pyop.sources.memory import MemoryBlobSource, MemoryL1Source, MemoryL2Source, SourceError

__all__ = [
    "DerivationFixture",
    "FixtureError",
    "FixtureL1Block",
    "attributes_from_json",
    "attributes_from_payload",
    "fixture_sources",
    "l1_header_to_json",
    "l2_ref_from_json",
    "load_fixture",
    "receipt_to_json",
    "save_fixture",
    "slim_receipt_json",
    "system_config_from_json",
    "system_config_to_json",
]


class FixtureError(PyopError):
    """A fixture file that cannot be read or is inconsistent."""


# ---------------------------------------------------------------------------------------------
# element codecs
# ---------------------------------------------------------------------------------------------


def _int(v: object, what: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int | str):
        raise FixtureError(f"{what}: expected a number, got {type(v).__name__}")
    try:
        return hex_to_int(v, what=what)
    except HexError as e:
        raise FixtureError(str(e)) from None


def _hex(v: object, what: str, length: int | None = None) -> bytes:
    if not isinstance(v, str):
        raise FixtureError(f"{what}: expected a hex string")
    try:
        return from_hex(v, length=length, what=what)
    except HexError as e:
        raise FixtureError(str(e)) from None


def _obj(v: object, what: str) -> Mapping[str, Any]:
    if not isinstance(v, Mapping):
        raise FixtureError(f"{what}: expected an object")
    return v


def _word(v: object, what: str) -> bytes:
    """A bytes32 written as hex of any length (a U256 quantity such as ``0x7``, or 32 bytes) or
    a number: left-padded to 32 bytes."""
    n = _int(v, what)
    if not 0 <= n < 1 << 256:
        raise FixtureError(f"{what}: does not fit in 32 bytes")
    return n.to_bytes(32, "big")


_PARTIAL_HEADER_KEYS = ("stateRoot", "transactionsRoot", "logsBloom")


def l1_header_to_json(h: L1Header) -> dict[str, object]:
    """A *partial* header object for an :class:`L1Header` (synthetic fixtures)."""
    out: dict[str, object] = {
        "hash": to_hex(h.hash),
        "parentHash": to_hex(h.parent_hash),
        "receiptsRoot": to_hex(h.receipts_root),
        "number": hex(h.number),
        "gasLimit": hex(h.gas_limit),
        "timestamp": hex(h.timestamp),
        "mixHash": to_hex(h.mix_digest),
        "baseFeePerGas": hex(h.base_fee),
    }
    if h.blob_gas_used is not None:
        out["blobGasUsed"] = hex(h.blob_gas_used)
    if h.excess_blob_gas is not None:
        out["excessBlobGas"] = hex(h.excess_blob_gas)
    if h.parent_beacon_root is not None:
        out["parentBeaconBlockRoot"] = to_hex(h.parent_beacon_root)
    if h.requests_hash is not None:
        out["requestsHash"] = to_hex(h.requests_hash)
    return out


def _header(obj: Mapping[str, Any], what: str) -> L1Header:
    full = all(k in obj for k in _PARTIAL_HEADER_KEYS)
    try:
        if full:
            return header_from_json(obj, verify=True)
        if "hash" not in obj:
            raise FixtureError(f"{what}: a partial header needs its 'hash'")
        g = obj.get
        return L1Header(
            hash=_hex(obj["hash"], f"{what}.hash", 32),
            number=_int(obj["number"], f"{what}.number"),
            parent_hash=_hex(obj["parentHash"], f"{what}.parentHash", 32),
            timestamp=_int(obj["timestamp"], f"{what}.timestamp"),
            base_fee=_int(g("baseFeePerGas", 0), f"{what}.baseFeePerGas"),
            mix_digest=_hex(g("mixHash", to_hex(ZERO_HASH)), f"{what}.mixHash", 32),
            gas_limit=_int(g("gasLimit", 30_000_000), f"{what}.gasLimit"),
            excess_blob_gas=None if g("excessBlobGas") is None else _int(g("excessBlobGas"), what),
            blob_gas_used=None if g("blobGasUsed") is None else _int(g("blobGasUsed"), what),
            parent_beacon_root=None if g("parentBeaconBlockRoot") is None
            else _hex(g("parentBeaconBlockRoot"), what, 32),
            requests_hash=None if g("requestsHash") is None else _hex(g("requestsHash"), what, 32),
            receipts_root=_hex(g("receiptsRoot", to_hex(ZERO_HASH)), f"{what}.receiptsRoot", 32),
        )
    except KeyError as e:
        raise FixtureError(f"{what}: missing {e.args[0]!r}") from None
    except BlockJSONError as e:
        raise FixtureError(f"{what}: {e}") from None


def receipt_to_json(r: Receipt) -> dict[str, object]:
    return {
        "status": hex(r.status),
        "type": hex(r.tx_type),
        "transactionHash": to_hex(r.tx_hash),
        "logs": [
            {
                "address": to_hex(lg.address),
                "topics": [to_hex(t) for t in lg.topics],
                "data": to_hex(lg.data),
                "logIndex": hex(lg.log_index),
            }
            for lg in r.logs
        ],
    }


def slim_receipt_json(obj: Mapping[str, Any]) -> dict[str, object]:
    """The fields of an RPC receipt a fixture keeps."""
    out: dict[str, object] = {}
    for k in ("status", "cumulativeGasUsed", "type", "transactionHash", "root"):
        if obj.get(k) is not None:
            out[k] = obj[k]
    out["logs"] = [
        {k: lg[k] for k in ("address", "topics", "data", "logIndex") if k in lg}
        for lg in obj.get("logs") or []
    ]
    return out


def _receipts(raw: object, block_hash: bytes, block_number: int, what: str) -> tuple[Receipt, ...]:
    if not isinstance(raw, list):
        raise FixtureError(f"{what}: receipts must be a list")
    out = []
    next_index = 0
    for i, r in enumerate(raw):
        o = dict(_obj(r, f"{what}.receipts[{i}]"))
        # alloy writes a boolean-ish "status" as 0x1/true; accept booleans
        if isinstance(o.get("status"), bool):
            o["status"] = "0x1" if o["status"] else "0x0"
        try:
            rc = Receipt.from_json(o)
        except (L1JSONError, HexError) as e:
            raise FixtureError(f"{what}.receipts[{i}]: {e}") from None
        logs: list[Log] = []
        for j, lg in enumerate(rc.logs):
            has_index = isinstance(o.get("logs"), list) and "logIndex" in o["logs"][j]
            idx = lg.log_index if has_index else next_index
            logs.append(replace(lg, log_index=idx, block_hash=block_hash, block_number=block_number))
            next_index = idx + 1
        out.append(replace(rc, logs=tuple(logs)))
    return tuple(out)


def system_config_to_json(sc: SystemConfig) -> dict[str, object]:
    """op-node ``eth.SystemConfig`` JSON (all fields)."""
    return {
        "batcherAddr": to_hex(sc.batcher_addr),
        "overhead": to_hex(sc.overhead),
        "scalar": to_hex(sc.scalar),
        "gasLimit": sc.gas_limit,
        "eip1559Params": to_hex(sc.eip1559_params),
        "operatorFeeParams": to_hex(sc.operator_fee_params),
        "minBaseFee": sc.min_base_fee,
        "daFootprintGasScalar": sc.da_footprint_gas_scalar,
    }


def system_config_from_json(obj: object, what: str = "systemConfig") -> SystemConfig:
    """Read op-node's or kona's SystemConfig JSON (see the module docstring)."""
    o = _obj(obj, what)
    batcher = o.get("batcherAddr", o.get("batcherAddress"))
    if batcher is None:
        raise FixtureError(f"{what}: missing batcherAddr")
    scalar = _word(o.get("scalar", 0), f"{what}.scalar")
    if o.get("scalar") is None and o.get("baseFeeScalar") is not None:
        base = _int(o["baseFeeScalar"], what)
        blob = _int(o.get("blobBaseFeeScalar") or 0, what)
        scalar = b"\x01" + bytes(23) + blob.to_bytes(4, "big") + base.to_bytes(4, "big")
    if o.get("eip1559Params") is not None:
        eip = _hex(o["eip1559Params"], f"{what}.eip1559Params", 8)
    else:
        den = _int(o.get("eip1559Denominator") or 0, what)
        el = _int(o.get("eip1559Elasticity") or 0, what)
        eip = den.to_bytes(4, "big") + el.to_bytes(4, "big")
    if o.get("operatorFeeParams") is not None:
        op = _word(o["operatorFeeParams"], f"{what}.operatorFeeParams")
    else:
        s = _int(o.get("operatorFeeScalar") or 0, what)
        c = _int(o.get("operatorFeeConstant") or 0, what)
        op = bytes(20) + s.to_bytes(4, "big") + c.to_bytes(8, "big")
    return SystemConfig(
        batcher_addr=_hex(batcher, f"{what}.batcherAddr", 20),
        overhead=_word(o.get("overhead", 0), f"{what}.overhead"),
        scalar=scalar,
        gas_limit=_int(o.get("gasLimit", 0), f"{what}.gasLimit"),
        eip1559_params=eip,
        operator_fee_params=op,
        min_base_fee=_int(o.get("minBaseFee") or 0, f"{what}.minBaseFee"),
        da_footprint_gas_scalar=_int(o.get("daFootprintGasScalar") or 0, what),
    )


def l2_ref_from_json(obj: object, what: str = "l2BlockInfo") -> L2BlockRef:
    """op-node ``L2BlockRef`` JSON, or the older kona ``{block_info, l1_origin, seq_num}``."""
    o = _obj(obj, what)
    if "block_info" in o:
        bi = _obj(o["block_info"], what)
        origin = _obj(o.get("l1_origin"), f"{what}.l1_origin")
        seq = o.get("seq_num", 0)
        parent = bi.get("parent_hash", bi.get("parentHash"))
    else:
        bi = o
        origin = _obj(o.get("l1origin", o.get("l1Origin")), f"{what}.l1origin")
        seq = o.get("sequenceNumber", o.get("seqNum", 0))
        parent = o.get("parentHash")
    try:
        return L2BlockRef(
            hash=_hex(bi["hash"], f"{what}.hash", 32),
            number=_int(bi["number"], f"{what}.number"),
            parent_hash=_hex(parent, f"{what}.parentHash", 32),
            timestamp=_int(bi["timestamp"], f"{what}.timestamp"),
            l1_origin=BlockID(
                _hex(origin["hash"], f"{what}.l1origin.hash", 32),
                _int(origin["number"], f"{what}.l1origin.number"),
            ),
            sequence_number=_int(seq, f"{what}.sequenceNumber"),
        )
    except KeyError as e:
        raise FixtureError(f"{what}: missing {e.args[0]!r}") from None


def attributes_from_json(obj: object, what: str = "payloadAttributes") -> PayloadAttributes:
    """Engine API payload attributes JSON (hex or decimal quantities)."""
    o = _obj(obj, what)
    try:
        txs = o.get("transactions") or []
        ws = o.get("withdrawals")
        withdrawals: tuple[Withdrawal, ...] | None = None
        if ws is not None:
            withdrawals = tuple(withdrawal_from_json(w) for w in ws)
        return PayloadAttributes(
            timestamp=_int(o["timestamp"], f"{what}.timestamp"),
            prev_randao=_hex(o["prevRandao"], f"{what}.prevRandao", 32),
            suggested_fee_recipient=_hex(
                o.get("suggestedFeeRecipient", o.get("feeRecipient")), f"{what}.feeRecipient", 20
            ),
            transactions=tuple(_hex(t, f"{what}.transactions[]") for t in txs),
            no_tx_pool=bool(o.get("noTxPool", False)),
            gas_limit=_int(o.get("gasLimit", 0), f"{what}.gasLimit"),
            withdrawals=withdrawals,
            parent_beacon_block_root=None if o.get("parentBeaconBlockRoot") is None
            else _hex(o["parentBeaconBlockRoot"], f"{what}.parentBeaconBlockRoot", 32),
            eip1559_params=None if o.get("eip1559Params") is None
            else _hex(o["eip1559Params"], f"{what}.eip1559Params", 8),
            min_base_fee=None if o.get("minBaseFee") is None
            else _int(o["minBaseFee"], f"{what}.minBaseFee"),
        )
    except KeyError as e:
        raise FixtureError(f"{what}: missing {e.args[0]!r}") from None
    except BlockJSONError as e:
        raise FixtureError(f"{what}: {e}") from None


def attributes_from_payload(cfg: RollupConfig, p: ExecutionPayload) -> PayloadAttributes:
    """The payload attributes an L2 block was built from (``noTxPool`` true, as derived):
    ``eip1559Params`` from a Holocene ``extraData``, ``minBaseFee`` from a Jovian one."""
    eip: bytes | None = None
    mbf: int | None = None
    if cfg.is_holocene(p.timestamp) and len(p.extra_data) >= 9:
        eip = p.extra_data[1:9]
    if cfg.is_jovian(p.timestamp) and len(p.extra_data) >= 17:
        mbf = int.from_bytes(p.extra_data[9:17], "big")
    return PayloadAttributes(
        timestamp=p.timestamp,
        prev_randao=p.prev_randao,
        suggested_fee_recipient=p.fee_recipient,
        transactions=p.transactions,
        no_tx_pool=True,
        gas_limit=p.gas_limit,
        withdrawals=p.withdrawals,
        parent_beacon_block_root=p.parent_beacon_block_root,
        eip1559_params=eip,
        min_base_fee=mbf,
    )


# ---------------------------------------------------------------------------------------------
# the fixture
# ---------------------------------------------------------------------------------------------


@dataclass(slots=True)
class FixtureL1Block:
    """One ``l1Blocks`` entry. ``header_json`` keeps the header as read / captured (full
    consensus fields when available); ``receipts`` are empty when not recorded."""

    header: L1Header
    transactions: tuple[bytes, ...] = ()
    blobs: tuple[bytes, ...] = ()
    receipts: tuple[Receipt, ...] = ()
    header_json: dict[str, object] | None = None
    receipts_json: list[dict[str, object]] | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "header": self.header_json if self.header_json is not None
            else l1_header_to_json(self.header),
            "transactions": [to_hex(t) for t in self.transactions],
            "blobs": [to_hex(b) for b in self.blobs],
            "receipts": self.receipts_json if self.receipts_json is not None
            else [receipt_to_json(r) for r in self.receipts],
        }

    @classmethod
    def from_json(cls, obj: object, what: str = "l1Block") -> FixtureL1Block:
        o = _obj(obj, what)
        hj = dict(_obj(o.get("header"), f"{what}.header"))
        header = _header(hj, f"{what}.header")
        if "hash" not in hj:
            hj["hash"] = to_hex(compute_header_hash(hj))
        txs = tuple(_hex(t, f"{what}.transactions[]") for t in o.get("transactions") or [])
        if any(isinstance(t, dict) for t in o.get("transactions") or []):
            raise FixtureError(f"{what}: transactions must be EIP-2718 hex strings")
        blobs = tuple(_hex(b, f"{what}.blobs[]", 131072) for b in o.get("blobs") or [])
        rj = o.get("receipts") or []
        receipts = _receipts(rj, header.hash, header.number, what)
        return cls(header, txs, blobs, receipts, hj, [dict(r) for r in rj])


@dataclass(slots=True)
class DerivationFixture:
    """A derivation fixture (see the module docstring for the JSON layout)."""

    rollup_config: RollupConfig
    l1_blocks: list[FixtureL1Block]
    l2_cursor_start: int
    l2_cursor_end: int
    l2_payloads: dict[int, PayloadAttributes] = field(default_factory=dict)
    ref_payloads: dict[int, PayloadAttributes] = field(default_factory=dict)
    l2_system_configs: dict[int, SystemConfig] = field(default_factory=dict)
    l2_block_infos: dict[int, L2BlockRef] = field(default_factory=dict)
    l2_blocks: dict[int, ExecutionPayload] = field(default_factory=dict)  # pyopL2Blocks
    meta: dict[str, object] = field(default_factory=dict)  # pyopMeta
    l1_chain_config: dict[str, object] | None = None  # pyopL1ChainConfig

    # ------------------------------------------------------------------ accessors

    def l1_blob_schedule(self, explicit: L1BlobSchedule | None = None) -> L1BlobSchedule:
        """The L1 blob schedule derivation of this fixture uses (op-node ``NewL1ChainConfig``):
        the built-in one of a public L1, else ``explicit``, else the fixture's
        ``pyopL1ChainConfig``. Raises :class:`FixtureError` for an unknown L1 without one."""
        configured = explicit
        if configured is None and self.l1_chain_config is not None:
            configured = l1_blob_schedule_from_json(self.l1_chain_config, "pyopL1ChainConfig")
        try:
            return resolve_l1_blob_schedule(self.rollup_config.l1_chain_id, configured)
        except L1ChainConfigError as e:
            raise FixtureError(f"{e} (or a fixture with pyopL1ChainConfig)") from None

    def start_ref(self) -> L2BlockRef:
        """The starting L2 safe head (``l2BlockInfos[l2CursorStart]``)."""
        ref = self.l2_block_infos.get(self.l2_cursor_start)
        if ref is None:
            p = self.l2_blocks.get(self.l2_cursor_start)
            if p is None:
                raise FixtureError(f"no l2BlockInfos entry for l2CursorStart {self.l2_cursor_start}")
            ref = l2_block_ref_from_payload(self.rollup_config, p)
        return ref

    def start_system_config(self) -> SystemConfig:
        sc = self.l2_system_configs.get(self.l2_cursor_start)
        if sc is None:
            p = self.l2_blocks.get(self.l2_cursor_start)
            if p is None:
                raise FixtureError(f"no l2SystemConfigs entry for {self.l2_cursor_start}")
            sc = system_config_from_payload(self.rollup_config, p)
        return sc

    def expected_attributes(self, n: int) -> PayloadAttributes | None:
        return self.l2_payloads.get(n) or self.ref_payloads.get(n)

    # ------------------------------------------------------------------ JSON

    def to_json(self) -> dict[str, object]:
        def m(d: Mapping[int, Any], f: Any) -> dict[str, object]:
            return {str(k): f(v) for k, v in sorted(d.items())}

        out: dict[str, object] = {
            "rollupConfig": self.rollup_config.to_json(),
            "l1Blocks": [b.to_json() for b in self.l1_blocks],
            "l2Payloads": m(self.l2_payloads, PayloadAttributes.to_json),
            "refPayloads": m(self.ref_payloads, PayloadAttributes.to_json),
            "l2SystemConfigs": m(self.l2_system_configs, system_config_to_json),
            "l2BlockInfos": m(self.l2_block_infos, L2BlockRef.to_json),
            "l2CursorStart": self.l2_cursor_start,
            "l2CursorEnd": self.l2_cursor_end,
        }
        if self.l2_blocks:
            out["pyopL2Blocks"] = m(self.l2_blocks, payload_to_engine_json)
        if self.meta:
            out["pyopMeta"] = self.meta
        if self.l1_chain_config is not None:
            out["pyopL1ChainConfig"] = self.l1_chain_config
        return out

    @classmethod
    def from_json(
        cls, obj: object, *, converted: Mapping[str, Any] | None = None
    ) -> DerivationFixture:
        """The fixture of a parsed JSON object. ``converted``: sections already converted item by
        item (``l1Blocks`` and the per-block maps, see :func:`load_fixture`), used instead of
        the same keys of ``obj``."""
        o = _obj(obj, "fixture")
        done = converted or {}
        rc = o.get("rollupConfig")
        try:
            cfg = RollupConfig.from_json(rc)
        except PyopError as e1:
            try:
                cfg = rollup_config_from_kona_json(rc)
            except PyopError:
                raise FixtureError(f"rollupConfig: {e1}") from None

        def m(key: str, f: Any) -> dict[int, Any]:
            if key in done:
                return dict(done[key])
            d = o.get(key) or {}
            if not isinstance(d, Mapping):
                raise FixtureError(f"{key}: expected an object keyed by L2 block number")
            out = {}
            for k, v in d.items():
                n = _int(k, f"{key} key")
                out[n] = f(v, f"{key}[{k}]")
            return out

        def payload(v: object, what: str) -> ExecutionPayload:
            try:
                return payload_from_engine_json(_obj(v, what))
            except BlockJSONError as e:
                raise FixtureError(f"{what}: {e}") from None

        blocks = o.get("l1Blocks") or []
        if not isinstance(blocks, list):
            raise FixtureError("l1Blocks: expected a list")
        l1_blocks = (list(done["l1Blocks"]) if "l1Blocks" in done
                     else [FixtureL1Block.from_json(b, f"l1Blocks[{i}]") for i, b in enumerate(blocks)])  # fmt: skip
        try:
            start = _int(o["l2CursorStart"], "l2CursorStart")
            end = _int(o["l2CursorEnd"], "l2CursorEnd")
        except KeyError as e:
            raise FixtureError(f"fixture: missing {e.args[0]!r}") from None
        meta = o.get("pyopMeta") or {}
        l1cc = o.get("pyopL1ChainConfig")
        if l1cc is not None and not isinstance(l1cc, Mapping):
            raise FixtureError("pyopL1ChainConfig: expected a chain config object")
        return cls(
            rollup_config=cfg,
            l1_blocks=l1_blocks,
            l2_cursor_start=start,
            l2_cursor_end=end,
            l2_payloads=m("l2Payloads", attributes_from_json),
            ref_payloads=m("refPayloads", attributes_from_json),
            l2_system_configs=m("l2SystemConfigs", system_config_from_json),
            l2_block_infos=m("l2BlockInfos", l2_ref_from_json),
            l2_blocks=m("pyopL2Blocks", payload),
            meta=dict(meta) if isinstance(meta, Mapping) else {},
            l1_chain_config=None if l1cc is None else dict(l1cc),
        )


GZIP_MAGIC = b"\x1f\x8b"


def load_fixture(path: str | PathLike[str]) -> DerivationFixture:
    """Read a fixture file: JSON, or gzip-compressed JSON (recognized by its magic bytes, so
    ``FIXTURE.json.gz`` works wherever ``FIXTURE.json`` does).

    The file is read as a stream (:class:`_JSONStream`) and the big sections (``l1Blocks`` and
    the per-block maps) are converted one item at a time, so neither the file's text nor its
    JSON form is ever held whole: a 10,000-block fixture (74 MB) loads in about a third of the
    memory (issue 15: ``pyop derive --check`` of it under 200 MB RSS)."""
    p = Path(path)
    try:
        with p.open("rb") as raw:
            gz = raw.read(2) == GZIP_MAGIC
        f: IO[bytes] = cast(IO[bytes], gzip.open(p, "rb")) if gz else p.open("rb")  # noqa: SIM115
    except OSError as e:
        raise FixtureError(f"cannot read {p}: {e.strerror or e}") from None
    try:
        with f:
            obj, converted = _decode_sections(_JSONStream(f))
    except (OSError, EOFError, zlib.error) as e:
        why = f"bad gzip data: {e}" if gz else f"cannot read it: {e}"
        raise FixtureError(f"{p}: {why}") from None
    except ValueError as e:
        raise FixtureError(f"{p}: not JSON: {e}") from None
    return DerivationFixture.from_json(obj, converted=converted)


_WS = re.compile(r"[ \t\n\r]*")


class _JSONStream:
    """A window on a UTF-8 JSON byte stream for :func:`_decode_sections`: values are decoded
    with ``json.JSONDecoder.raw_decode`` from a text buffer that is refilled (in 4 MB chunks)
    when a value or separator runs past its end, and trimmed as it is consumed."""

    CHUNK = 1 << 22

    def __init__(self, f: IO[bytes]) -> None:
        self.f = f
        self.dec = codecs.getincrementaldecoder("utf-8")()
        self.json = json.JSONDecoder()
        self.buf = ""
        self.pos = 0
        self.eof = False

    def _more(self, at_least: int = 0) -> bool:
        if self.eof:
            return False
        data = self.f.read(max(self.CHUNK, at_least))
        self.eof = not data
        text = self.dec.decode(data, final=self.eof)
        if self.pos > len(self.buf) // 2:  # drop what was consumed (at most one copy per chunk)
            self.buf, self.pos = self.buf[self.pos :], 0
        self.buf += text
        return bool(text) or not self.eof

    def peek(self) -> str:
        """The next non-blank character ("" at the end of the stream)."""
        while True:
            m = _WS.match(self.buf, self.pos)
            self.pos = m.end() if m else self.pos
            if self.pos < len(self.buf) or not self._more():
                return self.buf[self.pos : self.pos + 1]

    def expect(self, ch: str) -> None:
        if self.peek() != ch:
            raise ValueError(f"expected {ch!r} at byte {self.pos} of the window")
        self.pos += 1

    def value(self) -> Any:
        """The next JSON value. A value ending at the end of the window may be cut short (a
        number) and a cut string or container fails to decode: both read more and retry. Each
        retry at least doubles the unread part of the window, so a value of n bytes is decoded
        O(log n) times, not n / CHUNK times (quadratic for a blob's hex string)."""
        self.peek()
        while True:
            try:
                v, end = self.json.raw_decode(self.buf, self.pos)
                if end < len(self.buf) or self.eof:
                    self.pos = end
                    return v
            except ValueError:
                if self.eof:
                    raise
            if not self._more(len(self.buf) - self.pos) and self.eof and self.pos >= len(self.buf):
                raise ValueError("unexpected end of the JSON stream")

    def close_or_comma(self, close: str) -> bool:
        """After an item: True at the closing bracket (consumed), False after a comma."""
        if self.peek() == close:
            self.pos += 1
            return True
        self.expect(",")
        return False


def _stream_converters() -> dict[str, Any]:
    """The per-block maps :func:`_decode_sections` converts item by item, with each item's
    converter (the same ones :meth:`DerivationFixture.from_json` applies)."""

    def payload(v: object, what: str) -> ExecutionPayload:
        try:
            return payload_from_engine_json(_obj(v, what))
        except BlockJSONError as e:
            raise FixtureError(f"{what}: {e}") from None

    return {
        "l2Payloads": attributes_from_json, "refPayloads": attributes_from_json,
        "l2SystemConfigs": system_config_from_json, "l2BlockInfos": l2_ref_from_json,
        "pyopL2Blocks": payload,
    }  # fmt: skip


def _decode_sections(s: _JSONStream) -> tuple[dict[str, Any], dict[str, Any]]:
    """Decode the fixture's top-level JSON object, converting the items of ``l1Blocks`` and of
    the per-block maps as soon as each is decoded. Returns the other keys as JSON and the
    converted sections. Raises ``ValueError`` for a stream that is not one JSON object."""
    conv = _stream_converters()
    obj: dict[str, Any] = {}
    converted: dict[str, Any] = {}
    s.expect("{")
    end = s.peek() == "}"
    if end:
        s.pos += 1
    while not end:
        key = s.value()
        if not isinstance(key, str):
            raise ValueError("object key expected")
        s.expect(":")
        if key == "l1Blocks" and s.peek() == "[":
            s.pos += 1
            blocks: list[FixtureL1Block] = []
            done = s.peek() == "]"
            if done:
                s.pos += 1
            while not done:
                blocks.append(FixtureL1Block.from_json(s.value(), f"l1Blocks[{len(blocks)}]"))
                done = s.close_or_comma("]")
            converted[key] = blocks
        elif key in conv and s.peek() == "{":
            s.pos += 1
            out: dict[int, Any] = {}
            done = s.peek() == "}"
            if done:
                s.pos += 1
            while not done:
                k = s.value()
                s.expect(":")
                out[_int(k, f"{key} key")] = conv[key](s.value(), f"{key}[{k}]")
                done = s.close_or_comma("}")
            converted[key] = out
        else:
            obj[key] = s.value()
        end = s.close_or_comma("}")
    if s.peek() != "":
        raise ValueError("extra data after the fixture object")
    return obj, converted


def save_fixture(fx: DerivationFixture, path: str | PathLike[str]) -> None:
    """Write ``fx`` as JSON; gzip-compressed when the file name ends in ``.gz``."""
    p = Path(path)
    tmp = p.with_name(p.name + ".tmp")
    text = json.dumps(fx.to_json(), indent=1) + "\n"
    if p.name.endswith(".gz"):
        tmp.write_bytes(gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0))
    else:
        tmp.write_text(text, encoding="utf-8")
    tmp.replace(p)


# ---------------------------------------------------------------------------------------------
# sources
# ---------------------------------------------------------------------------------------------


def fixture_sources(
    fx: DerivationFixture,
) -> tuple[MemoryL1Source, MemoryL2Source, MemoryBlobSource]:
    """``(MemoryL1Source, MemoryL2Source, MemoryBlobSource)`` holding the fixture's data.

    The L2 source holds every block with an ``l2BlockInfos`` entry or a ``pyopL2Blocks``
    payload; each block's SystemConfig is its ``l2SystemConfigs`` entry, else the one computed
    from its payload, else that of the nearest earlier block.
    """
    cfg = fx.rollup_config
    l1 = MemoryL1Source()
    blobs = MemoryBlobSource()
    try:
        for b in fx.l1_blocks:
            l1.add_block(b.header, b.transactions, b.receipts)
            for blob in b.blobs:
                blobs.add_blob(b.header.hash, blob)
    except SourceError as e:
        raise FixtureError(f"l1Blocks: {e}") from None
    except PyopError as e:
        raise FixtureError(f"l1Blocks blobs: {e}") from None

    l2 = MemoryL2Source()
    numbers = sorted(set(fx.l2_block_infos) | set(fx.l2_blocks))
    last_sc: SystemConfig | None = None
    for n in numbers:
        p = fx.l2_blocks.get(n)
        ref = fx.l2_block_infos.get(n)
        try:
            if ref is None and p is not None:
                ref = l2_block_ref_from_payload(cfg, p)
            sc = fx.l2_system_configs.get(n)
            if sc is None and p is not None:
                sc = system_config_from_payload(cfg, p)
        except PyopError as e:
            raise FixtureError(f"L2 block {n}: {e}") from None
        if sc is None:
            sc = last_sc
        if ref is None or sc is None:
            raise FixtureError(f"L2 block {n}: no system config known")
        l2.add(p, ref, sc)
        last_sc = sc
    return l1, l2, blobs
