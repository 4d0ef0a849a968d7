"""Conversions between difftest JSON inputs/results and pyop's types, shared by the targets.
The JSON field names are the Go peer's (op-node's own JSON names where it has them)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from eth_hash.auto import keccak

from pyop.codec.batch import SingularBatch
from pyop.codec.span_batch import SpanBatch
from pyop.config import RollupConfig
from pyop.primitives import BlockID, L1BlockRef, L2BlockRef, SystemConfig
from pyop.tools.difftest.canon import b, bs, dumps, h, hexb


@lru_cache(maxsize=256)
def _cfg(text: str) -> RollupConfig:
    import json

    return RollupConfig.from_json(json.loads(text))


def cfg_of(obj: dict[str, Any]) -> RollupConfig:
    """The parsed rollup config (cached by its canonical text, like the Go side)."""
    return _cfg(dumps(obj))


def l1ref(d: dict[str, Any]) -> L1BlockRef:
    return L1BlockRef(hexb(d["hash"]), int(d["number"]), hexb(d["parentHash"]), int(d["timestamp"]))


def l1ref_json(r: L1BlockRef) -> dict[str, Any]:
    return {"hash": h(r.hash), "number": r.number, "parentHash": h(r.parent_hash), "timestamp": r.timestamp}


def l2ref(d: dict[str, Any]) -> L2BlockRef:
    o = d["l1origin"]
    return L2BlockRef(hexb(d["hash"]), int(d["number"]), hexb(d["parentHash"]), int(d["timestamp"]),
                      BlockID(hexb(o["hash"]), int(o["number"])), int(d["sequenceNumber"]))  # fmt: skip


def l2ref_json(r: L2BlockRef) -> dict[str, Any]:
    return {"hash": h(r.hash), "number": r.number, "parentHash": h(r.parent_hash),
            "timestamp": r.timestamp, "l1origin": {"hash": h(r.l1_origin.hash), "number": r.l1_origin.number},
            "sequenceNumber": r.sequence_number}  # fmt: skip


def sys_cfg(d: dict[str, Any]) -> SystemConfig:
    return SystemConfig(
        batcher_addr=hexb(d["batcherAddr"]), overhead=hexb(d["overhead"]), scalar=hexb(d["scalar"]),
        gas_limit=int(d["gasLimit"]), eip1559_params=hexb(d.get("eip1559Params", "0x" + "00" * 8)),
        operator_fee_params=hexb(d.get("operatorFeeParams", "0x" + "00" * 32)),
        min_base_fee=int(d.get("minBaseFee", 0)), da_footprint_gas_scalar=int(d.get("daFootprintGasScalar", 0)),
    )  # fmt: skip


def sys_cfg_json(c: SystemConfig) -> dict[str, Any]:
    """Canonical SystemConfig (the Go peer's ``sysCfgJSON``)."""
    return {"batcherAddr": b(c.batcher_addr), "overhead": b(c.overhead), "scalar": b(c.scalar),
            "gasLimit": c.gas_limit, "eip1559Params": b(c.eip1559_params),
            "operatorFeeParams": b(c.operator_fee_params), "minBaseFee": c.min_base_fee,
            "daFootprintGasScalar": c.da_footprint_gas_scalar}  # fmt: skip


def singular_json(s: SingularBatch) -> dict[str, Any]:
    return {"parentHash": b(s.parent_hash), "epochNum": s.epoch_num, "epochHash": b(s.epoch_hash),
            "timestamp": s.timestamp, "txs": bs(s.transactions)}  # fmt: skip


def span_json(s: SpanBatch) -> dict[str, Any]:
    return {"parentCheck": b(s.parent_check), "l1OriginCheck": b(s.l1_origin_check),
            "elements": [{"epochNum": e.epoch_num, "timestamp": e.timestamp, "txs": bs(e.transactions)}
                         for e in s.batches]}  # fmt: skip


def singular_from(d: dict[str, Any]) -> SingularBatch:
    return SingularBatch(hexb(d["parentHash"]), int(d["epochNum"]), hexb(d["epochHash"]),
                         int(d["timestamp"]), tuple(hexb(t) for t in d["txs"]))  # fmt: skip


def singular_input(s: SingularBatch) -> dict[str, Any]:
    return {"parentHash": h(s.parent_hash), "epochNum": s.epoch_num, "epochHash": h(s.epoch_hash),
            "timestamp": s.timestamp, "txs": [h(t) for t in s.transactions]}  # fmt: skip


def test_l2_hash(number: int) -> bytes:
    """Hash of a test chain's L2 block (the Go peer's ``nextParent``)."""
    return keccak(b"pyop-difftest-l2" + number.to_bytes(8, "big"))


def err(kind: str, e: BaseException | str) -> tuple[dict[str, Any], dict[str, Any]]:
    return {"err": kind}, {"msg": str(e)}
