"""Target ``l1-info``: the L1-info deposit per fork (deposits.md "L1 Attributes Deposited
Transaction", ecotone/isthmus/jovian l1-attributes.md, pectra-blob-schedule/derivation.md).

Mode ``encode``: pyop ``l1_origin_info`` + ``l1_info_deposit_tx`` vs op-node
``L1InfoDepositBytes`` for an L1 header, L1 chain config, SystemConfig, sequence number and L2
time (the format follows the L2 time: each fork's format from the block after its activation);
the calldata is decoded back on both sides. Mode ``decode``: pyop ``decode_l1_info`` vs
op-node ``L1BlockInfoFromBytes`` on (mutated) real calldata. Values are every L1BlockInfo field
(zero when the format lacks it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyop.derivation.attributes import l1_origin_info
from pyop.primitives import PyopError
from pyop.protocol.l1_info import L1BlockInfo, decode_l1_info, encode_l1_info, l1_info_deposit_tx
from pyop.tools.difftest.canon import b, h, hexb
from pyop.tools.difftest.gen import Rng, near_time, rand_system_config
from pyop.tools.difftest.mutate import mutate
from pyop.tools.difftest.target import Input, Result, Target, register
from pyop.tools.difftest.targets import _l1
from pyop.tools.difftest.targets._common import cfg_of, err, sys_cfg


def info_json(i: L1BlockInfo) -> dict[str, Any]:
    """Canonical L1BlockInfo (the Go peer's ``l1InfoJSON``)."""
    return {"number": i.number, "time": i.time, "baseFee": str(i.base_fee), "blockHash": b(i.block_hash),
            "sequenceNumber": i.sequence_number, "batcherAddr": b(i.batcher_addr),
            "l1FeeOverhead": b(i.l1_fee_overhead), "l1FeeScalar": b(i.l1_fee_scalar),
            "blobBaseFee": str(i.blob_base_fee), "baseFeeScalar": i.base_fee_scalar,
            "blobBaseFeeScalar": i.blob_base_fee_scalar, "operatorFeeScalar": i.operator_fee_scalar,
            "operatorFeeConstant": i.operator_fee_constant, "daFootprintGasScalar": i.da_footprint_gas_scalar}  # fmt: skip


@register
class L1Info(Target):
    name = "l1-info"
    summary = "L1-info deposit per fork: pyop l1_info_deposit_tx/decode_l1_info vs op-node L1InfoDepositBytes/L1BlockInfoFromBytes"
    has_pyop_fuzz = True

    def generate(self, rng: Rng) -> Input:
        case = self.configs.pick(rng)
        l2_time = near_time(rng, case)
        if rng.chance(0.3):
            seeds = self.seeds.l1_info
            if seeds and rng.chance(0.6):
                data = rng.pick(seeds)
                if rng.chance(0.7):
                    data = mutate(rng, data, seeds)
            else:
                data = rng.blob_of(rng.pick([4, 180, 300]))
            return {"cfg": case.json, "mode": "decode", "l2Time": l2_time, "data": h(data)}
        pbs = case.json.get("pectra_blob_schedule_time")
        around = pbs if pbs is not None and rng.chance(0.3) else rng.pick([l2_time, 1_700_000_000])
        l1cc, times = _l1.l1_chain(rng, around)
        hdr = _l1.header(rng, times, timestamp=None if rng.chance(0.6) else max(0, around + rng.randint(-2, 2)))
        return {"cfg": case.json, "mode": "encode", "l1ChainConfig": l1cc, "sysCfg": rand_system_config(rng),
                "seq": rng.u(64), "l1": hdr, "l2Time": l2_time}  # fmt: skip

    def pyop(self, inp: Input) -> Result:
        cfg = cfg_of(inp["cfg"])
        if inp["mode"] == "decode":
            try:
                return {"info": info_json(decode_l1_info(hexb(inp["data"])))}, {}
            except PyopError as e:
                return err("decode", e)
        header = _l1.l1_header(inp["l1"])
        try:
            info = l1_origin_info(cfg, header, _l1.schedule_of(inp["l1ChainConfig"]))
            tx = l1_info_deposit_tx(cfg, sys_cfg(inp["sysCfg"]), info, int(inp["seq"]), int(inp["l2Time"]))
            raw = tx.encode()
        except PyopError as e:
            return err("encode", e)
        out: dict[str, Any] = {"tx": b(raw)}
        try:
            out["decoded"] = info_json(decode_l1_info(tx.data))
        except PyopError:
            out["decoded"] = "err"
        return out, {}

    def fuzz_pyop(self, rng: Rng) -> tuple[Input, Callable[[], object]]:
        seeds = self.seeds.l1_info or [encode_l1_info(L1BlockInfo(1, 2, 3, bytes(32), 4, bytes(20)))]
        data = mutate(rng, rng.pick(seeds), seeds, rounds=rng.pick([1, 2, 4]))
        return {"data": h(data)}, lambda: decode_l1_info(data)
