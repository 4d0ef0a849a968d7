"""L1 retrieval data sources: batcher checks with real signatures (eth_account), blob indices
(alt-DA: tests/derivation/test_deriv_altda.py); and the L1 traversal (reorg detection, SystemConfig updates)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest
from eth_account import Account

from pyop.codec.blob import encode_blob
from pyop.codec.tx import BLOB_TX_TYPE, DYNAMIC_FEE_TX_TYPE, decode_signed_tx, make_signed_tx
from pyop.derivation.data_source import (
    BlobDataSource,
    CalldataSource,
    recover_sender,
)
from pyop.derivation.drops import DropReason, Explainer
from pyop.derivation.errors import EndOfSource, NotEnoughData, ResetError
from pyop.derivation.interfaces import IndexedBlobHash, NotFound
from pyop.derivation.l1_traversal import L1Traversal
from pyop.primitives import L1BlockRef, L1Header
from pyop.protocol.l1_types import Receipt
from pyop.protocol.system_config import SystemConfigUpdateType, encode_config_update_log
from tests.derivation.deriv_fakes import INBOX, SYSCFG, h, l1, make_cfg

KEY = b"\x01" * 32
OTHER = b"\x02" * 32
ADDR = bytes.fromhex(Account.from_key(KEY).address[2:])
CFG = make_cfg(all_until="granite")


def signed(key: bytes, data: bytes, *, to: bytes = INBOX, chain_id: int = 900, legacy: bool = False) -> bytes:
    tx: dict[str, object] = {"nonce": 0, "gas": 100_000, "to": to, "value": 0, "data": data}
    if legacy:
        tx["gasPrice"] = 1
        if chain_id:
            tx["chainId"] = chain_id
    else:
        tx.update(chainId=chain_id, maxFeePerGas=2, maxPriorityFeePerGas=1, type=2)
    return bytes(Account.sign_transaction(tx, key).raw_transaction)


@dataclass
class FakeL1:
    txs: dict[bytes, list[bytes]] = field(default_factory=dict)
    refs: dict[int, L1BlockRef] = field(default_factory=dict)
    receipts: dict[bytes, list[Receipt]] = field(default_factory=dict)

    def transactions_by_hash(self, block_hash: bytes) -> list[bytes]:
        if block_hash not in self.txs:
            raise NotFound("block")
        return self.txs[block_hash]

    def l1_block_ref_by_number(self, n: int) -> L1BlockRef:
        if n not in self.refs:
            raise NotFound("number")
        return self.refs[n]

    def receipts_by_hash(self, block_hash: bytes) -> list[Receipt]:
        return self.receipts.get(block_hash, [])

    def header_by_hash(self, block_hash: bytes) -> L1Header:  # pragma: no cover - unused
        raise NotFound("header")

    def l1_block_ref_by_hash(self, block_hash: bytes) -> L1BlockRef:  # pragma: no cover
        raise NotFound("hash")

    def l1_block_ref_by_label(self, label: str) -> L1BlockRef:  # pragma: no cover
        raise NotFound("label")


def drain(src: CalldataSource | BlobDataSource) -> list[bytes]:
    out = []
    while True:
        try:
            out.append(src.next())
        except EndOfSource:
            return out
        except NotEnoughData:
            continue


def test_recover_sender_matches_eth_account() -> None:
    for raw in (signed(KEY, b"a"), signed(KEY, b"b", legacy=True), signed(KEY, b"c", legacy=True, chain_id=0)):
        assert recover_sender(decode_signed_tx(raw), 900) == ADDR


def test_calldata_source_filters() -> None:
    ex = Explainer()
    sc_batcher = ADDR
    txs = [
        signed(KEY, b"\x00one"),
        signed(OTHER, b"\x00evil"),  # wrong batcher
        signed(KEY, b"\x00elsewhere", to=b"\x05" * 20),  # not to the inbox: ignored silently
        signed(KEY, b"\x00wrongchain", chain_id=1),  # invalid signature for this L1
        signed(KEY, b"\x00two", legacy=True),
    ]
    fl1 = FakeL1({l1(1).hash: txs})
    src = CalldataSource(CFG, fl1, l1(1), sc_batcher, ex)  # type: ignore[arg-type]
    assert drain(src) == [b"\x00one", b"\x00two"]
    assert [d.reason for d in ex.drops] == [DropReason.WRONG_BATCHER, DropReason.INVALID_SIGNATURE]
    with pytest.raises(ResetError):
        drain(CalldataSource(CFG, fl1, l1(2), sc_batcher, ex))  # type: ignore[arg-type]


class FakeBlobs:
    def __init__(self, blobs: dict[int, bytes]) -> None:
        self.blobs = blobs
        self.requests: list[list[IndexedBlobHash]] = []

    def get_blobs(self, block: L1BlockRef, hashes: Sequence[IndexedBlobHash]) -> list[bytes]:
        self.requests.append(list(hashes))
        return [self.blobs[x.index] for x in hashes]


def test_blob_source_indices_and_interleaved_calldata(monkeypatch: pytest.MonkeyPatch) -> None:
    def blob_tx(to: bytes, hashes: tuple[bytes, ...]) -> bytes:
        _, raw = make_signed_tx(BLOB_TX_TYPE, chain_id=900, nonce=0, gas=1, to=to, value=0, data=b"",
                                v=0, r=1, s=1, max_priority_fee_per_gas=1, max_fee_per_gas=1,
                                max_fee_per_blob_gas=1, blob_versioned_hashes=hashes)  # fmt: skip
        return raw

    _, plain = make_signed_tx(DYNAMIC_FEE_TX_TYPE, chain_id=900, nonce=0, gas=1, to=INBOX, value=0,
                              data=b"\x00calldata", v=0, r=1, s=1, max_priority_fee_per_gas=1,
                              max_fee_per_gas=1)  # fmt: skip
    txs = [blob_tx(b"\x05" * 20, (h("x"),)), blob_tx(INBOX, (h("b1"), h("b2"))), plain]
    # Every tx "comes from" the batcher (signatures here are dummies).
    monkeypatch.setattr("pyop.derivation.data_source.recover_sender", lambda tx, cid: ADDR)
    blobs = FakeBlobs({1: encode_blob(b"\x00first"), 2: b"\xff" * 131072})
    ex = Explainer()
    src = BlobDataSource(CFG, FakeL1({l1(1).hash: txs}), blobs, l1(1), ADDR, ex)  # type: ignore[arg-type]
    assert drain(src) == [b"\x00first", b"\x00calldata"]
    assert blobs.requests == [[IndexedBlobHash(1, h("b1")), IndexedBlobHash(2, h("b2"))]]
    assert [d.reason for d in ex.drops] == [DropReason.BLOB_DECODE_ERROR]


# ------------------------------------------------------------------ L1 traversal


def test_traversal_reorg_and_system_config() -> None:
    cfg = make_cfg(all_until="granite")
    log = encode_config_update_log(cfg.l1_system_config_address, SystemConfigUpdateType.GAS_LIMIT,
                                   (50_000_000).to_bytes(32, "big"))  # fmt: skip
    fl1 = FakeL1(refs={1: l1(1), 2: l1(2, fork="b")}, receipts={l1(1).hash: [Receipt(1, (log,))]})
    ex = Explainer()
    t = L1Traversal(cfg, fl1, ex)  # type: ignore[arg-type]
    t.reset(l1(0), SYSCFG)
    assert t.next_l1_block() == l1(0)
    with pytest.raises(EndOfSource):
        t.next_l1_block()
    assert t.advance_l1_block() == l1(1)
    assert t.system_config.gas_limit == 50_000_000
    with pytest.raises(ResetError):  # l1(2, fork="b") has another parent
        t.advance_l1_block()
    fl1.refs.pop(2)
    with pytest.raises(EndOfSource):
        t.advance_l1_block()


def _set_code_tx(key: bytes, data: bytes) -> bytes:
    """A really signed EIP-7702 (type 4) transaction to the inbox (eth_account)."""
    from eth_utils import to_checksum_address

    auth = Account.sign_authorization(
        {"chainId": 900, "address": to_checksum_address("0x" + "33" * 20), "nonce": 1}, key
    )
    tx = {"type": 4, "chainId": 900, "nonce": 0, "gas": 100_000,
          "to": to_checksum_address("0x" + INBOX.hex()), "value": 0, "data": data,
          "maxFeePerGas": 2, "maxPriorityFeePerGas": 1, "authorizationList": [auth]}  # fmt: skip
    return bytes(Account.sign_transaction(tx, key).raw_transaction)


def _deposit_tx(sender: bytes, data: bytes, to: bytes = INBOX) -> bytes:
    """An L3's L1 deposit tx (deposits.md: ``0x7E ++ rlp([sourceHash, from, to, mint, value,
    gas, isSystemTx, data])``), encoded with pyrlp."""
    import rlp

    return b"\x7e" + rlp.encode([b"\x09" * 32, sender, to, 0, 0, 100_000, 0, data])


@pytest.mark.parametrize("source", ["calldata", "blobs"])
def test_batcher_tx_types_as_op_node(source: str) -> None:
    """Audit D7, op-node v1.19.6 ``isValidBatchTx``: ``tx.Type() > BlobTxType && tx.Type() !=
    DepositTxType`` -> not a batcher tx, so a SetCode tx from the batcher to the inbox is
    ignored; a deposit tx (an L3, whose L1 is an OP chain) is one, its sender being its
    ``from`` field (op-geth ``Sender`` of a deposit)."""
    ex = Explainer()
    txs = [
        signed(KEY, b"\x00one"),
        _set_code_tx(KEY, b"\x00setcode"),  # from the batcher, to the inbox: still ignored
        _deposit_tx(ADDR, b"\x00deposit"),  # L3: a deposit from the batcher address
        _deposit_tx(b"\x07" * 20, b"\x00evil"),  # deposit from someone else
        _deposit_tx(ADDR, b"\x00elsewhere", to=b"\x05" * 20),  # not to the inbox: silent
        signed(KEY, b"\x00two"),
    ]
    fl1 = FakeL1({l1(1).hash: txs})
    if source == "calldata":
        src: CalldataSource | BlobDataSource = CalldataSource(CFG, fl1, l1(1), ADDR, ex)  # type: ignore[arg-type]
    else:
        src = BlobDataSource(CFG, fl1, FakeBlobs({}), l1(1), ADDR, ex)  # type: ignore[arg-type]
    assert drain(src) == [b"\x00one", b"\x00deposit", b"\x00two"]
    assert [d.reason for d in ex.drops] == [DropReason.BATCHER_TX_TYPE_NOT_ALLOWED,
                                            DropReason.WRONG_BATCHER]  # fmt: skip
    assert ex.drops[0].numbers == {"tx_index": 1, "tx_type": 4}
