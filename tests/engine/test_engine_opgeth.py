"""The engine controller driving a real op-geth (no L1: the L1 origins are synthetic headers).

One op-geth, one scenario in order (each step builds on the previous chain):
blocks 1-2 (Holocene, engine V3) and 3-6 across the Isthmus (block 3) and Jovian (block 5)
activations are built as unsafe blocks; derived attributes identical to block 1 consolidate
(promoted to safe, no re-execution); derived attributes for block 2 with a different L1-info
deposit do not (the log names ``transactions[0]`` and the L1-info field), and the derived block
replaces the unsafe chain; blocks 3-6 are then derived by building; block 3 is finalized; a p2p
style payload is inserted; a new controller (and a restarted op-geth) finds the same heads.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from eth_hash.auto import keccak

from pyop.config import Fork, RollupConfig
from pyop.derivation.attributes import build_payload_attributes
from pyop.derivation.types import AttributesWithParent
from pyop.devnet.geth import OpGethProcess, find_geth, geth_init, start_op_geth, write_jwt_secret
from pyop.devnet.l2_genesis import L2Genesis, L2GenesisConfig, build_l2_genesis
from pyop.devnet.rollup_json import devnet_rollup_config, ecotone_scalar
from pyop.engine import EngineClient, EngineController, EngineTemporaryError, load_jwt_secret
from pyop.engine.client import PayloadStatusKind
from pyop.primitives import (
    BlockID,
    L1BlockRef,
    L1Header,
    L2BlockRef,
    PayloadAttributes,
    SystemConfig,
)
from pyop.protocol.upgrades import upgrade_txs_at

GETH = find_geth()
pytestmark = pytest.mark.skipif(
    GETH is None,
    reason="op-geth not found at ~/.cache/pyop/peers/*/bin/geth ($PYOP_GETH unset): the Go peers "
    "are not built on this machine (scripts/build-peers.sh, interop/go/BUILD-NOTES.md)",
)

BLOCK_TIME = 2
ISTHMUS_BLOCK = 3
JOVIAN_BLOCK = 5
L1_BLOCK_TIME = 6  # three L2 blocks per L1 origin
VAULT = bytes.fromhex("5555555555555555555555555555555555555555")


def l1_hash(e: int) -> bytes:
    return keccak(b"synthetic L1 block %d" % e)


@dataclass
class Env:
    geth: OpGethProcess
    cfg: RollupConfig
    genesis: L2Genesis
    sys_cfg: SystemConfig
    workdir: Path

    @property
    def genesis_time(self) -> int:
        return self.genesis.config.l2_genesis_time

    def l1_header(self, e: int, base_fee_bump: int = 0) -> L1Header:
        return L1Header(
            hash=l1_hash(e),
            number=e,
            parent_hash=l1_hash(e - 1) if e > 0 else b"\x00" * 32,
            timestamp=self.genesis_time - L1_BLOCK_TIME + L1_BLOCK_TIME * e,
            base_fee=7 + base_fee_bump,
            mix_digest=keccak(b"randao %d" % e),
            excess_blob_gas=0,
            blob_gas_used=0,
            parent_beacon_root=keccak(b"beacon %d" % e),
        )

    def attrs_for(self, parent: L2BlockRef, base_fee_bump: int = 0) -> PayloadAttributes:
        n = parent.number + 1
        e = n // 3
        seq = n - 3 * e
        return build_payload_attributes(
            self.cfg, self.sys_cfg, self.l1_header(e, base_fee_bump), parent, seq_number=seq
        )

    def derived(self, parent: L2BlockRef, base_fee_bump: int = 0) -> AttributesWithParent:
        e = (parent.number + 1) // 3
        h = self.l1_header(e + 2)  # "derived from" a later L1 block, as batches are
        return AttributesWithParent(
            attributes=self.attrs_for(parent, base_fee_bump),
            parent=parent,
            derived_from=L1BlockRef(h.hash, h.number, h.parent_hash, h.timestamp),
            concluding=True,
            l1_origin=BlockID(l1_hash(e), e),
        )

    def client(self, **kw: object) -> EngineClient:
        return EngineClient(self.geth.authrpc_url, load_jwt_secret(self.geth.jwt_path), **kw)  # type: ignore[arg-type]


def _start(env_dir: Path, datadir: Path, jwt: Path, chain_id: int) -> OpGethProcess:
    assert GETH is not None
    return start_op_geth(
        GETH, datadir, jwt_path=jwt, log_path=env_dir / "op-geth.log", network_id=chain_id
    )


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    assert GETH is not None
    d = tmp_path_factory.mktemp("engine-opgeth")
    g_time = int(time.time()) - 120  # blocks in the past: no waiting for wall-clock time
    offsets = {f: 0 for f in (Fork.REGOLITH, Fork.CANYON, Fork.DELTA, Fork.ECOTONE, Fork.FJORD,
                              Fork.GRANITE, Fork.HOLOCENE)}  # fmt: skip
    offsets[Fork.ISTHMUS] = ISTHMUS_BLOCK * BLOCK_TIME
    offsets[Fork.JOVIAN] = JOVIAN_BLOCK * BLOCK_TIME
    gcfg = L2GenesisConfig(
        l1_chain_id=900, l2_chain_id=901, l2_genesis_time=g_time,
        l1_cross_domain_messenger_proxy=b"\x11" * 20, l1_standard_bridge_proxy=b"\x22" * 20,
        l1_erc721_bridge_proxy=b"\x33" * 20, proxy_admin_owner=b"\x44" * 20,
        sequencer_fee_vault_recipient=VAULT, base_fee_vault_recipient=VAULT,
        l1_fee_vault_recipient=VAULT, fork_offsets=offsets,
    )  # fmt: skip
    genesis = build_l2_genesis(gcfg)
    sys_cfg = SystemConfig(
        batcher_addr=bytes.fromhex("70997970C51812dc3A010C7d01b50e0d17dc79C8"),
        overhead=b"\x00" * 32,
        scalar=ecotone_scalar(1368, 810949),
        gas_limit=gcfg.gas_limit,
        eip1559_params=(250).to_bytes(4, "big") + (6).to_bytes(4, "big"),
    )
    cfg = devnet_rollup_config(
        l1_genesis=BlockID(l1_hash(0), 0), l2_genesis=BlockID(genesis.block_hash, 0), l2_time=g_time,
        system_config=sys_cfg, l1_chain_id=900, l2_chain_id=901,
        fork_times={f: gcfg.fork_time(f) for f in Fork},
        batch_inbox_address=bytes.fromhex("ff00000000000000000000000000000000000901"),
        deposit_contract_address=b"\x77" * 20, l1_system_config_address=b"\x78" * 20,
        block_time=BLOCK_TIME,
    )  # fmt: skip
    gpath = genesis.write(d / "genesis.json")
    datadir = d / "datadir"
    geth_init(GETH, datadir, gpath, log_path=d / "init.log")
    jwt = d / "jwt.hex"
    write_jwt_secret(jwt)
    geth = _start(d, datadir, jwt, 901)
    e = Env(geth, cfg, genesis, sys_cfg, d)
    try:
        yield e
    finally:
        e.geth.stop()


async def _receipts_ok(client: EngineClient, number: int) -> list[str]:
    rs = await client.call("eth_getBlockReceipts", [hex(number)])
    return [r["status"] for r in rs]


def test_engine_controller_on_op_geth(env: Env, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="pyop.engine")
    stats = asyncio.run(_scenario(env, caplog))
    (env.workdir / "latencies.json").write_text(json.dumps(stats, indent=1))
    print("engine call latencies:", json.dumps(stats, indent=1))


async def _scenario(env: Env, caplog: pytest.LogCaptureFixture) -> dict[str, dict[str, float]]:
    cfg = env.cfg
    client = env.client()
    ctl = EngineController(cfg, client)
    safe_events: list[tuple[int, int]] = []
    ctl.on_safe_head(lambda ref, l1: safe_events.append((ref.number, l1.number)))

    # -- op-geth checks our JWT: the right secret passes (below), a wrong one is refused
    async with EngineClient(env.geth.authrpc_url, bytes(32)) as wrong:
        with pytest.raises(EngineTemporaryError, match="JWT refused"):
            await wrong.call("eth_chainId")

    # -- fresh engine: every head at genesis
    heads = await ctl.start()
    assert heads.unsafe.hash == heads.safe.hash == heads.finalized.hash == env.genesis.block_hash
    assert ctl.unsafe.number == 0

    # -- sequencer-style unsafe blocks 1..6 across Isthmus (3) and Jovian (5)
    built: dict[int, L2BlockRef] = {}
    attrs_by_number: dict[int, PayloadAttributes] = {}
    for n in range(1, 7):
        attrs = env.attrs_for(ctl.unsafe)
        attrs_by_number[n] = attrs
        payload = await ctl.build_payload(ctl.unsafe, attrs)
        assert payload.block_number == n and ctl.unsafe.hash == payload.block_hash
        assert payload.transactions == attrs.transactions  # noTxPool: exactly the forced txs
        built[n] = ctl.unsafe
    assert ctl.safe.number == 0
    m = client.stats.methods
    # V3 before Isthmus (blocks 1, 2), V4 from Isthmus (blocks 3..6)
    assert m["engine_getPayloadV3"].count == 2 and m["engine_newPayloadV3"].count == 2
    assert m["engine_getPayloadV4"].count == 4 and m["engine_newPayloadV4"].count == 4
    assert "engine_forkchoiceUpdatedV2" not in m and "engine_forkchoiceUpdatedV1" not in m
    # the Isthmus and Jovian upgrade transactions are in their activation blocks and succeed
    for n, fork in ((ISTHMUS_BLOCK, "Isthmus"), (JOVIAN_BLOCK, "Jovian")):
        ts = cfg.genesis.l2_time + n * BLOCK_TIME
        ups = upgrade_txs_at(cfg, ts)
        assert len(ups) > 0, fork
        p = await ctl.l2.payload_by_number(n)
        assert p.transactions[1 : 1 + len(ups)] == tuple(ups), fork
        assert await _receipts_ok(client, n) == ["0x1"] * len(p.transactions), fork
    p3 = await ctl.l2.payload_by_number(ISTHMUS_BLOCK)
    assert p3.withdrawals_root is not None
    p5 = await ctl.l2.payload_by_number(JOVIAN_BLOCK)
    assert p5.extra_data[0] == 1 and len(p5.extra_data) == 17  # Jovian extraData v1
    assert (await ctl.l2.payload_by_number(2)).extra_data[0] == 0  # Holocene extraData v0

    # -- consolidation of an identical derived block 1: promoted to safe, not rebuilt
    fcu_before = m["engine_getPayloadV3"].count
    ref1 = await ctl.process_derived(env.derived(ctl.pending_safe))
    assert ref1 == built[1]
    assert ctl.safe == built[1] and ctl.unsafe == built[6]
    assert m["engine_getPayloadV3"].count == fcu_before  # nothing was built
    assert ctl.consolidated == 1 and ctl.reorgs == 0
    assert safe_events == [(1, 2)]
    assert (await ctl.l2.ref_by_number("safe")) == built[1]

    # -- mismatching derived block 2 (L1-info deposit differs): reorg to the derived block
    ref2 = await ctl.process_derived(env.derived(ctl.pending_safe, base_fee_bump=1))
    assert ref2.number == 2 and ref2.hash != built[2].hash
    assert ctl.unsafe == ref2 and ctl.safe == ref2 and ctl.reorgs == 1
    mm = ctl.mismatches[-1]
    assert mm.field == "transactions[0]" and "base_fee 8!=7" in mm.detail
    assert mm.block == built[2].id()
    text = caplog.text
    assert "does not match the attributes derived from L1: transactions[0] differs" in text
    assert "base_fee 8!=7" in text
    latest = await ctl.l2.ref_by_number("latest")
    assert latest == ref2  # the old blocks 3..6 are no longer canonical

    # -- derive 3..6 by building (no unsafe blocks there any more), across Isthmus and Jovian
    for n in range(3, 7):
        ref = await ctl.process_derived(env.derived(ctl.pending_safe, base_fee_bump=1))
        assert ref.number == n and ctl.safe == ref == ctl.unsafe == ctl.pending_safe
        assert await _receipts_ok(client, n) == ["0x1"] * len((await ctl.l2.payload_by_number(n)).transactions)
    assert [s for s, _ in safe_events] == [1, 2, 3, 4, 5, 6]

    # -- finalize block 3
    ref3 = await ctl.l2.ref_by_number(3)
    await ctl.finalize(ref3)
    assert ctl.finalized == ref3
    assert (await ctl.l2.ref_by_number("finalized")) == ref3

    # -- a payload received from elsewhere (p2p): build without sealing, then insert
    attrs7 = env.attrs_for(ctl.unsafe)
    job = await ctl.start_building(ctl.unsafe, attrs7)
    env7 = await client.get_payload(job.payload_id, 4)
    ref7 = await ctl.insert_unsafe_payload(env7.execution_payload, attrs7.parent_beacon_block_root)
    assert ref7.number == 7 and ctl.unsafe == ref7 and ctl.safe.number == 6
    assert (await ctl.l2.ref_by_number("latest")) == ref7
    # re-inserting a known block is VALID and harmless
    st = await client.new_payload(env7.execution_payload, 4, attrs7.parent_beacon_block_root)
    assert st.status is PayloadStatusKind.VALID

    want = (ctl.unsafe, ctl.safe, ctl.finalized)
    stats = client.stats.summary()
    await ctl.close()

    # -- restart the controller: the same heads come back from the engine
    ctl2 = EngineController(cfg, env.client())
    heads2 = await ctl2.start()
    assert (heads2.unsafe, heads2.safe, heads2.finalized) == want
    assert (ctl2.unsafe, ctl2.safe, ctl2.finalized, ctl2.pending_safe) == (*want, want[1])
    await ctl2.close()

    # -- restart op-geth too: its persisted forkchoice gives the same heads
    env.geth.stop()
    env.geth = _start(env.workdir, env.geth.datadir, env.geth.jwt_path, cfg.l2_chain_id)
    ctl3 = EngineController(cfg, env.client())
    heads3 = await ctl3.start()
    assert heads3.unsafe == want[0] and heads3.finalized == want[2]
    # op-geth keeps head and finalized across a restart, but its "safe" label restarts at the
    # finalized block: derivation resumes from there and consolidates instead of re-executing
    assert heads3.safe == want[2]
    for n in (4, 5, 6):
        ref = await ctl3.process_derived(env.derived(ctl3.pending_safe, base_fee_bump=1))
        assert ref.number == n and ctl3.unsafe == want[0]
    assert ctl3.consolidated == 3 and ctl3.reorgs == 0 and ctl3.safe == want[1]
    assert "engine_getPayloadV4" not in ctl3.client.stats.methods  # nothing was rebuilt
    # and the chain continues on top
    p8 = await ctl3.build_payload(ctl3.unsafe, env.attrs_for(ctl3.unsafe))
    assert p8.block_number == 8
    await ctl3.close()
    return stats
