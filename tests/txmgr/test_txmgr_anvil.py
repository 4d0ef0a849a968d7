"""pyop.txmgr against a real L1: anvil 1.7.1 (Prague), block time 1 s, one instance for the
module. Calldata and multi-blob transactions, a tx stuck under a raised base fee
(``anvil_setNextBlockBaseFeePerGas``) that must be bumped, and a confirmed tx removed by an L1
reorg (``anvil_reorg`` without re-including it) that must be re-sent."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from pyop.codec.blob import encode_blob
from pyop.devnet.anvil import AnvilError, AnvilProcess, anvil_binary, start_anvil
from pyop.devnet.keys import dev_key
from pyop.devnet.rpc import RpcClient
from pyop.primitives import hex_to_int
from pyop.txmgr import LocalSigner, TxCandidate, TxManager, TxManagerConfig, connect

INBOX = bytes.fromhex("ff00000000000000000000000000000000000901")
GWEI = 10**9
CFG = TxManagerConfig(num_confirmations=1, receipt_query_interval=0.25, resubmission_timeout=3.0,
                      rebroadcast_interval=1.0, network_timeout=5.0)  # fmt: skip


@pytest.fixture(scope="module")
def anvil(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AnvilProcess]:
    try:
        anvil_binary()
    except AnvilError as e:
        pytest.skip(f"anvil is not installed (npm install): {e}")
    a = start_anvil(tmp_path_factory.mktemp("anvil"), block_time=1, chain_id=900)
    try:
        yield a
    finally:
        a.stop()


def signer(index: int) -> LocalSigner:
    k = dev_key("txmgr-test", index)
    return LocalSigner(bytes.fromhex(k.private_key_hex.removeprefix("0x")))


def run(anvil: AnvilProcess, index: int, body: Any, cfg: TxManagerConfig = CFG) -> Any:
    async def main() -> Any:
        mgr = await connect(anvil.rpc_url, cfg, signer(index), name="anvil-test")
        try:
            return await asyncio.wait_for(body(mgr), 120)
        finally:
            await mgr.close()

    return asyncio.run(main())


def test_calldata_tx_on_anvil(anvil: AnvilProcess) -> None:
    data = b"\x00" + bytes(range(256)) * 4

    async def body(mgr: TxManager) -> Any:
        return await mgr.send(TxCandidate(to=INBOX, data=data))

    r = run(anvil, 1, body)
    tx = anvil.rpc().call("eth_getTransactionByHash", "0x" + r.tx_hash.hex())
    assert bytes.fromhex(tx["input"][2:]) == data
    assert tx["to"].lower() == "0x" + INBOX.hex() and hex_to_int(tx["type"]) == 2
    assert r.status == 1 and r.block_number == hex_to_int(tx["blockNumber"])


def test_three_blob_tx_on_anvil(anvil: AnvilProcess) -> None:
    blobs = tuple(encode_blob(b"\x00" + bytes([i + 1]) * (40_000 + i)) for i in range(3))

    async def body(mgr: TxManager) -> Any:
        return await mgr.send(TxCandidate(to=INBOX, blobs=blobs))

    r = run(anvil, 2, body)
    assert r.tx_type == 3 and r.blob_gas_used == 3 * 131072
    # anvil's beacon endpoint serves the blobs of the block: ours, byte for byte
    with urllib.request.urlopen(f"{anvil.rpc_url}/eth/v1/beacon/blobs/{r.block_number}") as resp:
        got = [bytes.fromhex(b[2:]) for b in json.loads(resp.read())["data"]]
    assert got == list(blobs)


def test_tx_stuck_under_raised_base_fee_is_bumped_and_mined(anvil: AnvilProcess) -> None:
    rpc = anvil.rpc()
    stop = threading.Event()

    def keep_base_fee_high() -> None:
        # anvil_setNextBlockBaseFeePerGas sets one block's base fee; hold it for ~5 s
        end = time.monotonic() + 5
        while not stop.is_set() and time.monotonic() < end:
            rpc.call("anvil_setNextBlockBaseFeePerGas", hex(40 * GWEI))
            time.sleep(0.3)

    async def body(mgr: TxManager) -> Any:
        first = await mgr.prepare(TxCandidate(to=INBOX, data=b"\x00stuck"))
        assert first.unsigned.max_fee_per_gas < 40 * GWEI
        t = threading.Thread(target=keep_base_fee_high)
        t.start()
        await asyncio.sleep(1.5)  # the next block already has the high base fee
        try:
            r = await mgr.send_prepared(first)
        finally:
            stop.set()
            t.join()
        return first, r

    first, r = run(anvil, 3, body)
    tx = rpc.call("eth_getTransactionByHash", "0x" + r.tx_hash.hex())
    assert r.tx_hash != first.hash  # a replacement got mined, not the original
    assert hex_to_int(tx["nonce"]) == first.nonce
    assert hex_to_int(tx["maxFeePerGas"]) >= 2 * 40 * GWEI * 7 // 8  # bumped to the high base fee
    base = hex_to_int(rpc.call("eth_getBlockByNumber", hex(r.block_number), False)["baseFeePerGas"])
    assert hex_to_int(tx["maxFeePerGas"]) >= base


def test_confirmed_tx_removed_by_l1_reorg_is_resent(anvil: AnvilProcess) -> None:
    rpc: RpcClient = anvil.rpc()

    async def body(mgr: TxManager) -> Any:
        r1 = await mgr.send(TxCandidate(to=INBOX, data=b"\x00first"))
        head = hex_to_int(rpc.call("eth_blockNumber"))
        depth = head - r1.block_number + 1
        rpc.call("anvil_reorg", depth, [])  # the block with our tx is replaced; tx not re-added
        assert rpc.call("eth_getTransactionReceipt", "0x" + r1.tx_hash.hex()) is None
        nonce_after_reorg = hex_to_int(rpc.call("eth_getTransactionCount", "0x" + mgr.from_address.hex(), "latest"))
        events = await mgr.check_reorgs()
        assert len(events) == 1 and events[0].removed and events[0].tx_hash == r1.tx_hash
        again: list = []
        deadline = time.monotonic() + 30
        while not again and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
            again = await mgr.check_reorgs()
        assert again and again[0].new_receipt is not None
        r2 = await mgr.send(TxCandidate(to=INBOX, data=b"\x00second"))
        return r1, again[0], r2, nonce_after_reorg

    r1, ev, r2, nonce_after_reorg = run(anvil, 4, body)
    assert ev.new_receipt.block_hash != r1.block_hash
    assert rpc.call("eth_getTransactionReceipt", "0x" + ev.new_receipt.tx_hash.hex())["status"] == "0x1"
    n1 = hex_to_int(rpc.call("eth_getTransactionByHash", "0x" + ev.new_receipt.tx_hash.hex())["nonce"])
    n2 = hex_to_int(rpc.call("eth_getTransactionByHash", "0x" + r2.tx_hash.hex())["nonce"])
    assert n1 == nonce_after_reorg and n2 == n1 + 1  # no nonce gap after the reorg
