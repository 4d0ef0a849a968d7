"""Target ``attributes``: payload attributes for the block after an L2 parent with a given L1
origin (derivation.md "Building Individual Payload Attributes", the fork pages' upgrade txs and
attribute fields). pyop ``AttributesBuilder.prepare_payload_attributes`` vs op-node
``FetchingAttributesBuilder.PreparePayloadAttributes`` over fakes that serve the same L1
headers and receipts (deposit and ConfigUpdate logs) and the parent's SystemConfig.

The value is the attributes with every field explicit (null where op-node leaves it out), or
the error class the pipeline acts on (temporary / reset / critical)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pyop.derivation.attributes import AttributesBuilder
from pyop.derivation.errors import CriticalError, ResetError, TemporaryError
from pyop.derivation.interfaces import NotFound
from pyop.primitives import (
    BlockID,
    L1BlockRef,
    L1Header,
    L2BlockRef,
    PayloadAttributes,
    PyopError,
    SystemConfig,
)
from pyop.protocol.deposit_log import encode_deposit_log
from pyop.protocol.deposits import DepositTx
from pyop.protocol.l1_types import Receipt
from pyop.tools.difftest.canon import b, bs, h, hexb
from pyop.tools.difftest.gen import Rng, near_time, rand_system_config
from pyop.tools.difftest.mutate import mutate
from pyop.tools.difftest.target import Input, Result, Target, register
from pyop.tools.difftest.targets import _l1
from pyop.tools.difftest.targets._common import cfg_of, err, l2ref, sys_cfg
from pyop.tools.difftest.targets.system_config import config_log, receipts_of


class _L1:
    def __init__(self, blocks: list[dict[str, Any]]) -> None:
        self.blocks = {hexb(x["hash"]): x for x in blocks}

    def header_by_hash(self, block_hash: bytes) -> L1Header:
        x = self.blocks.get(block_hash)
        if x is None:
            raise NotFound("L1 header")
        return _l1.l1_header(x)

    def receipts_by_hash(self, block_hash: bytes) -> Sequence[Receipt]:
        x = self.blocks.get(block_hash)
        if x is None:
            raise NotFound("L1 receipts")
        return receipts_of(x.get("receipts") or [])

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(name)


class _L2:
    def __init__(self, parent_hash: bytes, sc: SystemConfig | None) -> None:
        self.parent_hash, self.sc = parent_hash, sc

    def system_config_by_l2_hash(self, block_hash: bytes) -> SystemConfig:
        if self.sc is None or block_hash != self.parent_hash:
            raise NotFound("L2 block")
        return self.sc


def attributes_json(a: PayloadAttributes) -> dict[str, Any]:
    """Canonical attributes (the Go peer's ``attributesJSON``)."""
    return {"timestamp": a.timestamp, "prevRandao": b(a.prev_randao), "suggestedFeeRecipient": b(a.suggested_fee_recipient),
            "transactions": bs(a.transactions), "noTxPool": a.no_tx_pool, "gasLimit": a.gas_limit,
            "withdrawals": None if a.withdrawals is None else len(a.withdrawals),
            "parentBeaconBlockRoot": None if a.parent_beacon_block_root is None else b(a.parent_beacon_block_root),
            "eip1559Params": None if a.eip1559_params is None else b(a.eip1559_params),
            "minBaseFee": a.min_base_fee}  # fmt: skip


def deposit_log(rng: Rng, contract: str, block_hash: str, index: int) -> dict[str, Any]:
    tx = DepositTx(source_hash=bytes(32), from_=rng.addr(), to=None if rng.chance(0.2) else rng.addr(),
                   mint=rng.pick([0, 1, rng.u(64), (1 << 256) - 1]), value=rng.pick([0, rng.u(64)]),
                   gas=rng.u(64), is_system_tx=False, data=rng.blob_of(100))  # fmt: skip
    lg = encode_deposit_log(hexb(contract), tx, block_hash=hexb(block_hash), log_index=index)
    data = lg.data if rng.chance(0.9) else mutate(rng, lg.data)
    topics = [h(t) for t in lg.topics]
    if rng.chance(0.03):
        topics[3] = h(bytes(31) + b"\x01")
    return {"address": contract, "topics": topics, "data": h(data), "blockHash": block_hash, "logIndex": index}


@register
class Attributes(Target):
    name = "attributes"
    summary = "payload attributes: pyop AttributesBuilder vs op-node FetchingAttributesBuilder.PreparePayloadAttributes"

    def generate(self, rng: Rng) -> Input:
        case = self.configs.pick(rng)
        cfg = case.cfg
        bt = cfg.block_time
        T = near_time(rng, case)
        next_t = T + bt
        l1cc, times = _l1.l1_chain(rng, next_t if rng.chance(0.5) else next_t - rng.randrange(0, 100))
        origin_num = rng.pick([1, 5, rng.u(32)])
        origin = _l1.header(rng, times, number=origin_num, timestamp=max(0, T - rng.pick([0, 2, 12, 30])))
        parent = {"hash": h(rng.hash32()), "number": rng.u(32), "parentHash": h(rng.hash32()), "timestamp": T,
                  "l1origin": {"hash": origin["hash"], "number": origin_num}, "sequenceNumber": rng.u(8)}  # fmt: skip
        blocks = [origin]
        if rng.chance(0.5):  # same epoch
            epoch = {"hash": origin["hash"] if rng.chance(0.95) else h(rng.hash32()), "number": origin_num}
        else:  # the next epoch: its deposits and config updates
            nt = next_t - rng.pick([0, 0, 1, 2, 12]) if rng.chance(0.95) else next_t + 1
            nxt = _l1.header(rng, times, number=origin_num + 1, timestamp=max(0, nt),
                             parent_hash=hexb(origin["hash"]) if rng.chance(0.95) else rng.hash32())  # fmt: skip
            idx = 0
            receipts = []
            for _ in range(rng.pick([0, 1, 2])):
                logs = []
                for _ in range(rng.pick([0, 1, 2, 3])):
                    if rng.chance(0.6):
                        logs.append(deposit_log(rng, case.json["deposit_contract_address"], nxt["hash"], idx))
                    else:
                        logs.append(config_log(rng, case.json["l1_system_config_address"], nxt["hash"], idx))
                    idx += 1
                receipts.append({"status": 1 if rng.chance(0.9) else 0, "logs": logs})
            nxt["receipts"] = receipts
            blocks.append(nxt)
            epoch = {"hash": nxt["hash"], "number": origin_num + 1}
        if rng.chance(0.03):
            blocks.pop()  # the origin cannot be fetched
        sc = rand_system_config(rng) if rng.chance(0.97) else None
        return {"cfg": case.json, "l1ChainConfig": l1cc, "parent": parent, "sysCfg": sc,
                "epoch": epoch, "l1Blocks": blocks}  # fmt: skip

    def pyop(self, inp: Input) -> Result:
        cfg = cfg_of(inp["cfg"])
        parent: L2BlockRef = l2ref(inp["parent"])
        sc = None if inp.get("sysCfg") is None else sys_cfg(inp["sysCfg"])
        builder = AttributesBuilder(cfg, _L1(inp["l1Blocks"]), _L2(parent.hash, sc),  # type: ignore[arg-type]
                                    blob_schedule=_l1.schedule_of(inp["l1ChainConfig"]))  # fmt: skip
        epoch = BlockID(hexb(inp["epoch"]["hash"]), int(inp["epoch"]["number"]))
        try:
            attrs = builder.prepare_payload_attributes(parent, epoch)
        except TemporaryError as e:
            return err("temporary", e)
        except ResetError as e:
            return err("reset", e)
        except CriticalError as e:
            return err("critical", e)
        except PyopError as e:
            return err("untyped:" + type(e).__name__, e)
        return {"attributes": attributes_json(attrs)}, {}


_ = L1BlockRef
