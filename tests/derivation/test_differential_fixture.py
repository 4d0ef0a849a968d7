"""Differential test against the Go op-node (issue 3, "Differential").

``spec_vectors/derivation/differential/go-devnet-calldata-blobs.json.gz`` holds L2 blocks that
the Go op-node (sequencer) produced and the Go op-batcher posted to an anvil L1, captured with
``pyop capture`` (how: the README next to it). This test runs the code path of
``pyop derive --fixture F --check`` over it and requires every derived block to equal the Go
block, and it checks, from the raw fixture JSON and independently of the pipeline, that the
fixture really exercises what the differential test is for: user deposits, a SystemConfig gas
limit update that later blocks obey, calldata and blob batcher transactions, and the Isthmus
and Jovian activation blocks with their upgrade transactions.
"""

from __future__ import annotations

import io
import json
from itertools import pairwise
from typing import Any

import pytest
import rlp
from eth_hash.auto import keccak

from pyop.protocol.upgrades import isthmus_upgrade_txs, jovian_upgrade_txs
from pyop.tools.derive import run_derive
from pyop.tools.fixture import DerivationFixture, load_fixture
from tests.conftest import REPO
from tests.derivation.go_fixture_files import num, read_raw

FIXTURE = REPO / "spec_vectors" / "derivation" / "differential" / "go-devnet-calldata-blobs.json.gz"
MIN_BLOCKS = 500

# Event signatures, from the L1 contracts' ABIs (specs/protocol/deposits.md "Deposit Contract",
# specs/protocol/system-config.md "Updating the System Config").
TRANSACTION_DEPOSITED = keccak(b"TransactionDeposited(address,address,uint256,bytes)")
CONFIG_UPDATE = keccak(b"ConfigUpdate(uint256,uint8,bytes)")
CONFIG_UPDATE_GAS_LIMIT = 2  # SystemConfig.UpdateType.GAS_LIMIT
DEPOSIT_TX_TYPE = 0x7E
BLOB_TX_TYPE = 0x03


def _b(h: str) -> bytes:
    return bytes.fromhex(h.removeprefix("0x"))


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    return read_raw(FIXTURE)


@pytest.fixture(scope="module")
def fx() -> DerivationFixture:
    return load_fixture(FIXTURE)


@pytest.fixture(scope="module")
def l2_blocks(raw: dict[str, Any]) -> dict[int, dict[str, Any]]:
    """The reference (Go) L2 blocks of the derived range, by number."""
    blocks = {int(k): v for k, v in raw["pyopL2Blocks"].items()}
    start, end = raw["l2CursorStart"], raw["l2CursorEnd"]
    missing = [n for n in range(start + 1, end + 1) if n not in blocks]
    assert not missing, f"reference blocks missing: {missing[:5]}"
    return {n: blocks[n] for n in range(start + 1, end + 1)}


# --------------------------------------------------------------------------- the differential


def test_derive_check_matches_every_go_block(fx: DerivationFixture) -> None:
    """``pyop derive --fixture F --check``: every derived block equals the Go op-node's."""
    assert fx.l2_cursor_end - fx.l2_cursor_start >= MIN_BLOCKS
    out, err = io.StringIO(), io.StringIO()
    res = run_derive(fx, check=True, out=out, err=err)
    log = err.getvalue()
    assert res.mismatched == 0, log[-3000:]
    assert res.derived == fx.l2_cursor_end - fx.l2_cursor_start, log[-3000:]
    assert res.derived >= MIN_BLOCKS
    assert res.matched == res.derived
    assert res.ok, log[-3000:]
    assert log.strip().splitlines()[-1] == f"{res.derived} blocks: {res.derived} matched, 0 mismatched"
    lines = [json.loads(x) for x in out.getvalue().splitlines()]
    assert [x["l2_block_number"] for x in lines] == list(
        range(fx.l2_cursor_start + 1, fx.l2_cursor_end + 1)
    )
    assert all(x["match"] is True for x in lines)


# --------------------------------------------------------------------------- what it contains


def _receipt_logs(raw: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return [(b, lg) for b in raw["l1Blocks"] for r in b["receipts"] for lg in r["logs"]
            if num(r["status"]) == 1]  # fmt: skip


def _l2_txs(l2_blocks: dict[int, dict[str, Any]]) -> dict[bytes, int]:
    """tx hash -> L2 block number, over the derived range."""
    return {keccak(_b(t)): n for n, blk in l2_blocks.items() for t in blk["transactions"]}


def test_fixture_has_user_deposits(raw: dict[str, Any], l2_blocks: dict[int, dict[str, Any]]) -> None:
    """At least one TransactionDeposited log on L1 whose deposit tx (source hash domain 0,
    specs/protocol/deposits.md "Source hash computation") is in a reference L2 block."""
    portal = raw["rollupConfig"]["deposit_contract_address"].lower()
    found = 0
    deposits: dict[bytes, int] = {}
    for n, blk in l2_blocks.items():
        for t in blk["transactions"]:
            data = _b(t)
            if data[0] == DEPOSIT_TX_TYPE:
                fields = rlp.decode(data[1:])
                deposits[bytes(fields[0])] = n
    for b, lg in _receipt_logs(raw):
        if lg["address"].lower() != portal or _b(lg["topics"][0]) != TRANSACTION_DEPOSITED:
            continue
        block_hash = _b(b["header"]["hash"])
        log_index = num(lg["logIndex"])
        source = keccak(bytes(32) + keccak(block_hash + log_index.to_bytes(32, "big")))
        if source in deposits:
            found += 1
    assert found >= 1, "no user deposit of the fixture's L1 blocks is in its L2 blocks"


def test_fixture_has_gas_limit_update_obeyed(
    raw: dict[str, Any], l2_blocks: dict[int, dict[str, Any]]
) -> None:
    """A SystemConfig ConfigUpdate(GAS_LIMIT) log on L1, and L2 blocks before and after it
    whose gasLimit changes to the new value (specs/protocol/system-config.md "gasLimit")."""
    sysconf = raw["rollupConfig"]["l1_system_config_address"].lower()
    new_limits = []
    for _blk, lg in _receipt_logs(raw):
        if lg["address"].lower() != sysconf or _b(lg["topics"][0]) != CONFIG_UPDATE:
            continue
        if num(lg["topics"][2]) == CONFIG_UPDATE_GAS_LIMIT:
            # data: abi.encode(bytes) of abi.encode(uint64): offset, length, value
            data = _b(lg["data"])
            new_limits.append(int.from_bytes(data[64:96], "big"))
    assert new_limits, "no gas limit ConfigUpdate log in the fixture"
    limits = [num(blk["gasLimit"]) for _, blk in sorted(l2_blocks.items())]
    changes = [(a, b) for a, b in pairwise(limits) if a != b]
    assert changes, "the L2 gasLimit never changes in the derived range"
    assert any(b in new_limits for _, b in changes), (changes, new_limits)


def _inbox_tx_types(raw: dict[str, Any]) -> dict[int, int]:
    """EIP-2718 type -> count of L1 txs to the batch inbox (legacy counted as 0)."""
    inbox = _b(raw["rollupConfig"]["batch_inbox_address"])
    out: dict[int, int] = {}
    for b in raw["l1Blocks"]:
        blob_txs = 0
        for t in b["transactions"]:
            data = _b(t)
            if data[0] >= 0xC0:
                typ, fields = 0, rlp.decode(data)
                to = fields[3]
            else:
                typ, fields = data[0], rlp.decode(data[1:])
                # to: index 5 for types 2/3/4, 4 for type 1
                to = fields[4] if typ == 1 else fields[5]
            if bytes(to) == inbox:
                out[typ] = out.get(typ, 0) + 1
                if typ == BLOB_TX_TYPE:
                    blob_txs += 1
        if blob_txs:
            assert b["blobs"], f"L1 block {b['header']['number']}: blob batcher tx without blobs"
    return out


def test_fixture_has_calldata_and_blob_batches(raw: dict[str, Any]) -> None:
    types = _inbox_tx_types(raw)
    calldata = sum(c for t, c in types.items() if t != BLOB_TX_TYPE)
    assert calldata >= 1, f"no calldata batcher txs: {types}"
    assert types.get(BLOB_TX_TYPE, 0) >= 1, f"no blob batcher txs: {types}"


@pytest.mark.parametrize(
    ("fork", "upgrade_txs"),
    [("isthmus_time", isthmus_upgrade_txs), ("jovian_time", jovian_upgrade_txs)],
)
def test_fixture_has_fork_activation_block(
    raw: dict[str, Any], l2_blocks: dict[int, dict[str, Any]], fork: str, upgrade_txs: Any
) -> None:
    """The activation block is inside the derived range (not at genesis) and carries the
    fork's upgrade deposits right after the L1-info deposit."""
    t = raw["rollupConfig"].get(fork)
    assert t is not None, f"{fork} not scheduled"
    at = [n for n, blk in l2_blocks.items() if num(blk["timestamp"]) == t]
    assert at, f"no L2 block at {fork} {t} in the derived range"
    (n,) = at
    assert n - 1 in l2_blocks, f"{fork} activates at the first derived block {n}"
    txs = [_b(x) for x in l2_blocks[n]["transactions"]]
    want = [d.encode() for d in upgrade_txs()]
    assert want, fork
    assert all(x[0] == DEPOSIT_TX_TYPE for x in txs[: 1 + len(want)])
    assert [keccak(x) for x in txs[1 : 1 + len(want)]] == [keccak(w) for w in want]
