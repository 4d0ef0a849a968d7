"""Target ``system-config``: SystemConfig updates from an L1 block's receipts
(system-config.md "System Config Updates"; ecotone scalar rules by the L1 block's time). pyop
``update_system_config_from_receipts`` vs op-node ``UpdateSystemConfigWithL1Receipts``: the
resulting SystemConfig (malformed logs are skipped on both sides; their messages are info)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyop.primitives import PyopError
from pyop.protocol.l1_types import Log, Receipt
from pyop.protocol.system_config import (
    CONFIG_UPDATE_EVENT_ABI_HASH,
    decode_config_update_log,
    update_system_config_from_receipts,
)
from pyop.tools.difftest.canon import h, hexb
from pyop.tools.difftest.gen import Rng, near_time, rand_system_config
from pyop.tools.difftest.mutate import mutate
from pyop.tools.difftest.target import Input, Result, Target, register
from pyop.tools.difftest.targets._common import cfg_of, sys_cfg, sys_cfg_json


def _word(v: int) -> bytes:
    return (v % (1 << 256)).to_bytes(32, "big")


def payload(rng: Rng, kind: int) -> bytes:
    """The ``bytes`` payload of a ConfigUpdate of ``kind``, with edge values and, sometimes, a
    wrong width or padding."""
    if kind in (0, 3):  # batcher / unsafe block signer: an address
        p = bytes(12) + rng.addr() if rng.chance(0.9) else rng.raw(32)
    elif kind == 1:  # fee scalars: overhead, scalar
        scalar = bytearray(32)
        scalar[0] = rng.pick([0, 1, 2])
        scalar[24:32] = rng.raw(8)
        if rng.chance(0.3):
            scalar[1] = rng.randrange(256)
        p = _word(rng.u(64)) + bytes(scalar)
    elif kind in (2, 6):  # gas limit / min base fee: uint64
        p = _word(rng.pick([rng.u(64), 1 << 64, (1 << 64) + 1]))
    elif kind == 4:  # eip1559 params: denominator, elasticity in the low 8 bytes
        p = bytes(24) + rng.pick([0, 1, rng.u(32)]).to_bytes(4, "big") + rng.pick([0, 1, rng.u(32)]).to_bytes(4, "big")
        if rng.chance(0.2):
            p = rng.raw(24) + p[24:]
    elif kind == 5:
        p = rng.raw(32)
    elif kind == 7:
        p = _word(rng.pick([0, 1, 400, 0xFFFF, 0x10000]))
    else:
        p = rng.raw(32)
    if rng.chance(0.05):
        p = p[: rng.randrange(len(p) + 1)] if rng.chance(0.5) else p + rng.raw(rng.pick([1, 32]))
    return p


def config_log(rng: Rng, address: str, block_hash: str, index: int) -> dict[str, Any]:
    kind = rng.pick([0, 1, 1, 2, 3, 4, 4, 5, 6, 7, 8, 255])
    p = payload(rng, kind)
    ptr, ln = 32, len(p)
    if rng.chance(0.05):
        ptr = rng.pick([0, 64, 1 << 64])
    if rng.chance(0.05):
        ln = rng.pick([ln + 1, max(0, ln - 1), 1 << 64])
    data = _word(ptr) + _word(ln) + p + bytes((-len(p)) % 32)
    if rng.chance(0.05):
        data = mutate(rng, data)
    topics = ["0x" + CONFIG_UPDATE_EVENT_ABI_HASH.hex(), "0x" + _word(0 if rng.chance(0.95) else 1).hex(),
              "0x" + _word(kind).hex()]  # fmt: skip
    if rng.chance(0.03):
        topics = topics[: rng.randrange(1, 3)] if rng.chance(0.5) else [*topics, h(rng.hash32())]
    return {"address": address if rng.chance(0.93) else h(rng.addr()), "topics": topics, "data": h(data),
            "blockHash": block_hash, "logIndex": index}  # fmt: skip


def receipts_of(d: list[dict[str, Any]]) -> list[Receipt]:
    return [Receipt(int(r["status"]), tuple(
        Log(hexb(lg["address"]), tuple(hexb(t) for t in lg["topics"]), hexb(lg["data"]),
            hexb(lg["blockHash"]), int(lg["logIndex"]))
        for lg in r["logs"])) for r in d]  # fmt: skip


@register
class SystemConfig(Target):
    name = "system-config"
    summary = "SystemConfig update logs: pyop update_system_config_from_receipts vs op-node UpdateSystemConfigWithL1Receipts"
    has_pyop_fuzz = True

    def generate(self, rng: Rng) -> Input:
        case = self.configs.pick(rng)
        addr = case.json["l1_system_config_address"]
        bh = h(rng.hash32())
        receipts = []
        idx = 0
        for _ in range(rng.pick([1, 1, 2, 3])):
            logs = []
            for _ in range(rng.pick([0, 1, 1, 2, 3])):
                if self.seeds.receipts and rng.chance(0.1):
                    lg = dict(rng.pick(rng.pick(self.seeds.receipts)["logs"] or [{"address": addr, "topics": [], "data": "0x", "blockHash": bh, "logIndex": 0}]))
                    lg["address"] = addr if rng.chance(0.5) else lg["address"]
                else:
                    lg = config_log(rng, addr, bh, idx)
                logs.append(lg)
                idx += 1
            receipts.append({"status": 1 if rng.chance(0.9) else 0, "logs": logs})
        return {"cfg": case.json, "sysCfg": rand_system_config(rng), "l1Time": near_time(rng, case),
                "receipts": receipts}  # fmt: skip

    def pyop(self, inp: Input) -> Result:
        cfg = cfg_of(inp["cfg"])
        res = update_system_config_from_receipts(
            sys_cfg(inp["sysCfg"]), receipts_of(inp["receipts"]), cfg.l1_system_config_address,
            ecotone_active=cfg.is_ecotone(int(inp["l1Time"])),
        )  # fmt: skip
        return {"sysCfg": sys_cfg_json(res.config)}, {"errors": [str(e) for _, _, e in res.errors]}

    def fuzz_pyop(self, rng: Rng) -> tuple[Input, Callable[[], object]]:
        lg = config_log(rng, "0x" + "11" * 20, "0x" + "22" * 32, 0)
        data = mutate(rng, hexb(lg["data"]), rounds=rng.pick([1, 2, 3]))
        log = Log(hexb(lg["address"]), tuple(hexb(t) for t in lg["topics"]), data)

        def run() -> object:
            try:
                return decode_config_update_log(log)
            except PyopError:
                raise

        return {"topics": lg["topics"], "data": h(data)}, run
