"""Execution-layer JSON (``eth_getBlockBy*``, receipts, Engine API payloads) to pyop types, with
the cheap integrity checks a client of an untrusted RPC should make (op-service
``sources/types.go`` ``checkBlockHash`` / ``CheckTransactions``, ``validateReceipts``):

- the block hash is ``keccak256(rlp(header))`` of the header fields in the JSON (yellow paper
  section 4.3 plus EIP-1559 ``baseFeePerGas``, EIP-4895 ``withdrawalsRoot``, EIP-4844
  ``blobGasUsed``/``excessBlobGas``, EIP-4788 ``parentBeaconBlockRoot``, EIP-7685
  ``requestsHash``, appended in that order when present);
- ``transactionsRoot`` is the ordered Merkle-Patricia trie root of the EIP-2718 encodings
  (key ``rlp(index)``), ``withdrawalsRoot`` that of the RLP withdrawals, ``receiptsRoot`` that of
  the EIP-2718 receipt encodings (``type ++ rlp([status, cumulativeGasUsed, logsBloom, logs])``);
- each transaction re-encoded from its JSON fields must hash to the JSON ``hash``.

anvil (1.7.1) hashes blob transactions into ``transactionsRoot`` in their network form (with
the sidecar); :func:`anvil_blob_tx_wrappers` rebuilds that list so anvil blocks verify too.

Every failure raises :class:`BlockJSONError` (malformed JSON) or its subclass
:class:`BlockVerificationError` (well-formed but inconsistent data).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import rlp
from eth_hash.auto import keccak

from pyop.codec.errors import CodecError
from pyop.codec.tx import (
    ACCESS_LIST_TX_TYPE,
    BLOB_TX_TYPE,
    DYNAMIC_FEE_TX_TYPE,
    LEGACY_TX_TYPE,
    SET_CODE_TX_TYPE,
    Authorization,
    make_signed_tx,
)
from pyop.primitives import (
    ExecutionPayload,
    HexError,
    L1Header,
    PyopError,
    Withdrawal,
    from_hex,
    hex_to_int,
    to_hex,
)
from pyop.protocol.deposits import DEPOSIT_TX_TYPE, DepositTx

JSON = Mapping[str, Any]

EMPTY_TRIE_ROOT = keccak(rlp.encode(b""))
EMPTY_UNCLE_HASH = keccak(rlp.encode([]))

__all__ = [
    "EMPTY_TRIE_ROOT",
    "BlockJSONError",
    "BlockVerificationError",
    "anvil_blob_tx_wrappers",
    "compute_header_hash",
    "header_from_json",
    "header_to_json",
    "ordered_trie_root",
    "payload_from_block_json",
    "payload_from_engine_json",
    "payload_to_engine_json",
    "raw_tx_from_json",
    "receipt_encoding",
    "verify_block_json",
    "verify_receipts_json",
    "withdrawal_from_json",
]


class BlockJSONError(PyopError, ValueError):
    """Block / transaction / receipt JSON that does not have the expected shape."""


class BlockVerificationError(BlockJSONError):
    """Well-formed JSON whose contents do not match their commitments (hash, roots)."""


# ---------------------------------------------------------------------------------------------
# field readers
# ---------------------------------------------------------------------------------------------


def _get(obj: JSON, *keys: str, default: object = ..., what: str = "block") -> Any:
    if not isinstance(obj, Mapping):
        raise BlockJSONError(f"{what}: expected a JSON object, got {type(obj).__name__}")
    for k in keys:
        if k in obj and obj[k] is not None:
            return obj[k]
    if default is ...:
        raise BlockJSONError(f"{what}: missing field {keys[0]!r}")
    return default


def qty(obj: JSON, *keys: str, what: str = "block") -> int:
    v = _get(obj, *keys, what=what)
    try:
        return hex_to_int(v, what=f"{what}.{keys[0]}")
    except (HexError, AttributeError) as e:
        raise BlockJSONError(f"{what}.{keys[0]}: {e}") from None


def opt_qty(obj: JSON, *keys: str, what: str = "block") -> int | None:
    return qty(obj, *keys, what=what) if _get(obj, *keys, default=None) is not None else None


def data(obj: JSON, *keys: str, length: int | None = None, what: str = "block") -> bytes:
    v = _get(obj, *keys, what=what)
    if not isinstance(v, str):
        raise BlockJSONError(f"{what}.{keys[0]}: expected a hex string")
    try:
        return from_hex(v, length=length, what=f"{what}.{keys[0]}")
    except HexError as e:
        raise BlockJSONError(str(e)) from None


def opt_data(obj: JSON, *keys: str, length: int | None = None, what: str = "block") -> bytes | None:
    return data(obj, *keys, length=length, what=what) if _get(obj, *keys, default=None) is not None else None


# ---------------------------------------------------------------------------------------------
# Merkle-Patricia ordered trie root
# ---------------------------------------------------------------------------------------------


def _hex_prefix(nibbles: Sequence[int], leaf: bool) -> bytes:
    flag = 2 if leaf else 0
    if len(nibbles) % 2:
        out = [(flag + 1) << 4 | nibbles[0]]
        rest = nibbles[1:]
    else:
        out = [flag << 4]
        rest = nibbles
    out += [rest[i] << 4 | rest[i + 1] for i in range(0, len(rest), 2)]
    return bytes(out)


def _ref(node: object) -> object:
    enc = rlp.encode(node)
    return node if len(enc) < 32 else keccak(enc)


def _build(items: list[tuple[tuple[int, ...], bytes]], depth: int) -> object:
    if len(items) == 1:
        key, value = items[0]
        return [_hex_prefix(key[depth:], True), value]
    # longest common prefix from depth
    first = items[0][0]
    common = len(first) - depth
    for key, _ in items[1:]:
        n = 0
        while n < common and depth + n < len(key) and key[depth + n] == first[depth + n]:
            n += 1
        common = n
    if common > 0:
        child = _build(items, depth + common)
        return [_hex_prefix(first[depth : depth + common], False), _ref(child)]
    branch: list[object] = [b""] * 17
    groups: dict[int, list[tuple[tuple[int, ...], bytes]]] = {}
    for key, value in items:
        if len(key) == depth:
            branch[16] = value
        else:
            groups.setdefault(key[depth], []).append((key, value))
    for nib, group in groups.items():
        branch[nib] = _ref(_build(group, depth + 1))
    return branch


def ordered_trie_root(values: Sequence[bytes]) -> bytes:
    """The root of the trie mapping ``rlp(i)`` to ``values[i]`` (transactions, receipts and
    withdrawals roots)."""
    if not values:
        return EMPTY_TRIE_ROOT
    items: list[tuple[tuple[int, ...], bytes]] = []
    for i, v in enumerate(values):
        k = rlp.encode(i)
        items.append((tuple(n for b in k for n in (b >> 4, b & 15)), bytes(v)))
    items.sort()
    enc: bytes = rlp.encode(_build(items, 0))
    return keccak(enc)


# ---------------------------------------------------------------------------------------------
# headers
# ---------------------------------------------------------------------------------------------

_OPTIONAL_HEADER_FIELDS = (
    ("baseFeePerGas", "q"),
    ("withdrawalsRoot", 32),
    ("blobGasUsed", "q"),
    ("excessBlobGas", "q"),
    ("parentBeaconBlockRoot", 32),
    ("requestsHash", 32),
)


def header_rlp_fields(obj: JSON) -> list[object]:
    """The header fields in RLP order (optional fork fields only when present, in order)."""
    w = "header"
    fields: list[object] = [
        data(obj, "parentHash", length=32, what=w),
        data(obj, "sha3Uncles", "ommersHash", length=32, what=w),
        data(obj, "miner", "beneficiary", length=20, what=w),
        data(obj, "stateRoot", length=32, what=w),
        data(obj, "transactionsRoot", length=32, what=w),
        data(obj, "receiptsRoot", length=32, what=w),
        data(obj, "logsBloom", length=256, what=w),
        qty(obj, "difficulty", what=w),
        qty(obj, "number", what=w),
        qty(obj, "gasLimit", what=w),
        qty(obj, "gasUsed", what=w),
        qty(obj, "timestamp", what=w),
        data(obj, "extraData", what=w),
        data(obj, "mixHash", length=32, what=w),
        data(obj, "nonce", length=8, what=w),
    ]
    for key, kind in _OPTIONAL_HEADER_FIELDS:
        if _get(obj, key, default=None) is None:
            break
        fields.append(qty(obj, key, what=w) if kind == "q" else data(obj, key, length=32, what=w))
    return fields


def compute_header_hash(obj: JSON) -> bytes:
    """``keccak256(rlp(header))`` of a header / block JSON object."""
    h: bytes = keccak(rlp.encode(header_rlp_fields(obj)))
    return h


def header_from_json(obj: JSON, *, verify: bool = True) -> L1Header:
    """An :class:`L1Header` from block/header JSON. With ``verify`` the ``hash`` field must equal
    the hash of the header fields (when ``hash`` is absent the computed hash is used)."""
    w = "header"
    given = opt_data(obj, "hash", length=32, what=w)
    computed = compute_header_hash(obj) if (given is None or verify) else given
    if given is None:
        given = computed
    elif given != computed:
        raise BlockVerificationError(
            f"failed to verify block hash: header fields hash to {to_hex(computed)}, "
            f"block says {to_hex(given)}"
        )
    return L1Header(
        hash=given,
        number=qty(obj, "number", what=w),
        parent_hash=data(obj, "parentHash", length=32, what=w),
        timestamp=qty(obj, "timestamp", what=w),
        base_fee=opt_qty(obj, "baseFeePerGas", what=w) or 0,
        mix_digest=data(obj, "mixHash", length=32, what=w),
        gas_limit=qty(obj, "gasLimit", what=w),
        excess_blob_gas=opt_qty(obj, "excessBlobGas", what=w),
        blob_gas_used=opt_qty(obj, "blobGasUsed", what=w),
        parent_beacon_root=opt_data(obj, "parentBeaconBlockRoot", length=32, what=w),
        requests_hash=opt_data(obj, "requestsHash", length=32, what=w),
        receipts_root=data(obj, "receiptsRoot", length=32, what=w),
    )


_HEADER_KEYS = (
    "hash", "parentHash", "sha3Uncles", "miner", "stateRoot", "transactionsRoot",
    "receiptsRoot", "logsBloom", "difficulty", "number", "gasLimit", "gasUsed", "timestamp",
    "extraData", "mixHash", "nonce", "baseFeePerGas", "withdrawalsRoot", "blobGasUsed",
    "excessBlobGas", "parentBeaconBlockRoot", "requestsHash",
)  # fmt: skip


def header_to_json(block: JSON) -> dict[str, object]:
    """The header part of an ``eth_getBlockBy*`` object, in RPC spelling (``sha3Uncles``,
    ``miner``; aliases ``ommersHash``/``beneficiary`` are normalised), including ``hash``."""
    out: dict[str, object] = {}
    aliases = {"sha3Uncles": "ommersHash", "miner": "beneficiary"}
    for k in _HEADER_KEYS:
        v = block.get(k)
        if v is None and k in aliases:
            v = block.get(aliases[k])
        if v is not None:
            out[k] = v if isinstance(v, str) else hex(v) if isinstance(v, int) else v
    if "hash" not in out:
        out["hash"] = to_hex(compute_header_hash(block))
    return out


# ---------------------------------------------------------------------------------------------
# transactions
# ---------------------------------------------------------------------------------------------


def _access_list(obj: JSON, what: str) -> tuple[tuple[bytes, tuple[bytes, ...]], ...]:
    raw = _get(obj, "accessList", default=[], what=what)
    if not isinstance(raw, list):
        raise BlockJSONError(f"{what}.accessList: expected a list")
    out = []
    for e in raw:
        keys = _get(e, "storageKeys", default=[], what=what)
        if not isinstance(keys, list):
            raise BlockJSONError(f"{what}.accessList[].storageKeys: expected a list")
        out.append(
            (
                data(e, "address", length=20, what=what),
                tuple(from_hex(str(k), length=32, what="storage key") for k in keys),
            )
        )
    return tuple(out)


def raw_tx_from_json(obj: JSON, *, check_hash: bool = True) -> bytes:
    """The EIP-2718 encoding of a transaction object from ``eth_getBlockByHash(h, true)`` /
    ``eth_getTransactionByHash`` (legacy, 2930, 1559, 4844, 7702 and OP deposits ``0x7e``).

    With ``check_hash`` the encoding must hash to the object's ``hash``
    (:class:`BlockVerificationError` otherwise); unknown types raise :class:`BlockJSONError`.
    """
    if obj is None or not isinstance(obj, Mapping):
        raise BlockJSONError("transaction is null or not an object")
    w = "tx"
    t = qty(obj, "type", what=w) if _get(obj, "type", default=None) is not None else 0
    to_raw = _get(obj, "to", default=None, what=w)
    to = None if to_raw in (None, "", "0x") else data(obj, "to", length=20, what=w)
    try:
        if t == DEPOSIT_TX_TYPE:
            raw = DepositTx(
                source_hash=data(obj, "sourceHash", length=32, what=w),
                from_=data(obj, "from", length=20, what=w),
                to=to,
                mint=opt_qty(obj, "mint", what=w) or 0,
                value=qty(obj, "value", what=w),
                gas=qty(obj, "gas", what=w),
                is_system_tx=bool(_get(obj, "isSystemTx", default=False)),
                data=data(obj, "input", "data", what=w),
            ).encode()
        elif t in (LEGACY_TX_TYPE, ACCESS_LIST_TX_TYPE, DYNAMIC_FEE_TX_TYPE, BLOB_TX_TYPE,
                   SET_CODE_TX_TYPE):  # fmt: skip
            v = qty(obj, "v", what=w) if t == LEGACY_TX_TYPE else qty(obj, "yParity", "v", what=w)
            auths: tuple[Authorization, ...] = ()
            if t == SET_CODE_TX_TYPE:
                auths = tuple(
                    Authorization(
                        chain_id=qty(a, "chainId", what="authorization"),
                        address=data(a, "address", length=20, what="authorization"),
                        nonce=qty(a, "nonce", what="authorization"),
                        y_parity=qty(a, "yParity", "v", what="authorization"),
                        r=qty(a, "r", what="authorization"),
                        s=qty(a, "s", what="authorization"),
                    )
                    for a in _get(obj, "authorizationList", default=[], what=w)
                )
            _, raw = make_signed_tx(
                t,
                chain_id=opt_qty(obj, "chainId", what=w),
                nonce=qty(obj, "nonce", what=w),
                gas=qty(obj, "gas", what=w),
                to=to,
                value=qty(obj, "value", what=w),
                data=data(obj, "input", "data", what=w),
                v=v,
                r=qty(obj, "r", what=w),
                s=qty(obj, "s", what=w),
                gas_price=opt_qty(obj, "gasPrice", what=w)
                if t in (LEGACY_TX_TYPE, ACCESS_LIST_TX_TYPE) else None,
                max_priority_fee_per_gas=opt_qty(obj, "maxPriorityFeePerGas", what=w),
                max_fee_per_gas=opt_qty(obj, "maxFeePerGas", what=w),
                access_list=_access_list(obj, w) if t != LEGACY_TX_TYPE else (),
                max_fee_per_blob_gas=opt_qty(obj, "maxFeePerBlobGas", what=w),
                blob_versioned_hashes=tuple(
                    from_hex(str(x), length=32, what="blob hash")
                    for x in _get(obj, "blobVersionedHashes", default=[], what=w)
                ),
                authorization_list=auths,
            )
        else:
            raise BlockJSONError(f"tx: unsupported transaction type {t:#x}")
    except (CodecError, HexError, TypeError) as e:
        raise BlockJSONError(f"tx: cannot encode: {e}") from None
    if check_hash:
        want = opt_data(obj, "hash", length=32, what=w)
        got = keccak(raw)
        if want is not None and want != got:
            raise BlockVerificationError(
                f"tx {to_hex(want)}: re-encoded transaction hashes to {to_hex(got)}"
            )
    return raw


# ---------------------------------------------------------------------------------------------
# withdrawals, block bodies
# ---------------------------------------------------------------------------------------------


def withdrawal_from_json(obj: JSON) -> Withdrawal:
    if obj is None or not isinstance(obj, Mapping):
        raise BlockJSONError("withdrawal is null or not an object")
    w = "withdrawal"
    return Withdrawal(
        index=qty(obj, "index", what=w),
        validator_index=qty(obj, "validatorIndex", what=w),
        address=data(obj, "address", length=20, what=w),
        amount=qty(obj, "amount", what=w),
    )


def _withdrawal_rlp(wd: Withdrawal) -> bytes:
    enc: bytes = rlp.encode([wd.index, wd.validator_index, wd.address, wd.amount])
    return enc


def block_tx_list(block: JSON) -> list[Any]:
    txs = _get(block, "transactions", default=[])
    if not isinstance(txs, list):
        raise BlockJSONError("block.transactions: expected a list")
    for i, t in enumerate(txs):
        if t is None:
            raise BlockJSONError(f"block tx {i} is nil")
    return txs


def block_withdrawals(block: JSON) -> tuple[Withdrawal, ...] | None:
    ws = _get(block, "withdrawals", default=None)
    if ws is None:
        return None
    if not isinstance(ws, list):
        raise BlockJSONError("block.withdrawals: expected a list")
    out = []
    for i, wd in enumerate(ws):
        if wd is None:
            raise BlockJSONError(f"block withdrawal {i} is null")
        out.append(withdrawal_from_json(wd))
    return tuple(out)


def anvil_blob_tx_wrappers(txs: Sequence[JSON], raw_txs: Sequence[bytes]) -> list[bytes]:
    """The transaction list as anvil (1.7.1) puts it into ``transactionsRoot``: blob
    transactions in their EIP-4844 *network* form ``0x03 ++ rlp([tx_payload_body, blobs,
    commitments, proofs])`` (anvil keeps the sidecar in the block and hashes it into the root,
    and so into the block hash; it serves the sidecar as ``blobs``/``commitments``/``proofs``
    of the transaction JSON). Other transactions, and blob transactions without a sidecar in
    their JSON, are unchanged. A dev-chain quirk: a real L1 block's root never matches this
    unless it has no blob transactions, where both lists are equal."""
    out: list[bytes] = []
    for obj, raw in zip(txs, raw_txs, strict=True):
        side: list[list[Any]] = [
            x for x in (obj.get(k) for k in ("blobs", "commitments", "proofs")) if isinstance(x, list)
        ]
        if raw[:1] != bytes([BLOB_TX_TYPE]) or len(side) != 3:
            out.append(raw)
            continue
        try:
            body = rlp.decode(raw[1:])
            blobs, commitments, proofs = (
                [from_hex(str(x), what="blob sidecar") for x in lst] for lst in side
            )
        except (rlp.exceptions.DecodingError, HexError):
            out.append(raw)
            continue
        out.append(bytes([BLOB_TX_TYPE]) + rlp.encode([body, blobs, commitments, proofs]))
    return out


def verify_block_json(
    block: JSON, raw_txs: Sequence[bytes] | None = None, *, withdrawals_root: bool = True
) -> list[bytes]:
    """Check a full block (``eth_getBlockByHash(h, true)``): header hash, transactions root,
    withdrawals root (skip with ``withdrawals_root=False``: on OP chains from Isthmus the
    header's ``withdrawalsRoot`` is the L2ToL1MessagePasser storage root). Returns the raw transactions (``raw_txs`` if given, else re-encoded from
    the JSON). Raises :class:`BlockJSONError` / :class:`BlockVerificationError`."""
    header_from_json(block, verify=True)
    txs = block_tx_list(block)
    if raw_txs is None:
        raw_txs = [raw_tx_from_json(t) for t in txs]
    elif len(raw_txs) != len(txs):
        raise BlockVerificationError(f"{len(raw_txs)} raw transactions for {len(txs)} in block")
    root = ordered_trie_root(list(raw_txs))
    want_root = data(block, "transactionsRoot", length=32)
    if root != want_root and ordered_trie_root(
        anvil_blob_tx_wrappers(txs, raw_txs)
    ) != want_root:
        raise BlockVerificationError(
            f"failed to verify transactions list: computed root {to_hex(root)}"
        )
    wds = block_withdrawals(block)
    want = opt_data(block, "withdrawalsRoot", length=32)
    if not withdrawals_root:
        pass
    elif want is not None:
        if wds is None:
            raise BlockVerificationError("block has a withdrawals root but no withdrawals list")
        got = ordered_trie_root([_withdrawal_rlp(w) for w in wds])
        if got != want:
            raise BlockVerificationError(
                f"failed to verify withdrawals list: computed root {to_hex(got)}"
            )
    elif wds:
        raise BlockVerificationError("block has withdrawals but no withdrawals root")
    return list(raw_txs)


# ---------------------------------------------------------------------------------------------
# receipts
# ---------------------------------------------------------------------------------------------


def receipt_encoding(obj: JSON) -> bytes:
    """The consensus encoding of an L1 receipt JSON object (EIP-2718 typed when type > 0;
    pre-Byzantium ``root`` instead of ``status``)."""
    w = "receipt"
    root = opt_data(obj, "root", what=w)
    first: object = root if root else qty(obj, "status", what=w)
    logs_raw = _get(obj, "logs", default=[], what=w)
    if not isinstance(logs_raw, list):
        raise BlockJSONError("receipt.logs: expected a list")
    logs = []
    for lg in logs_raw:
        topics = _get(lg, "topics", default=[], what="log")
        logs.append(
            [
                data(lg, "address", length=20, what="log"),
                [from_hex(str(t), length=32, what="log topic") for t in topics],
                data(lg, "data", what="log"),
            ]
        )
    body: bytes = rlp.encode(
        [first, qty(obj, "cumulativeGasUsed", what=w), data(obj, "logsBloom", length=256, what=w),
         logs]
    )  # fmt: skip
    t = opt_qty(obj, "type", what=w) or 0
    return body if t == 0 else bytes([t]) + body


def verify_receipts_json(receipts: Sequence[JSON], receipts_root: bytes, block_hash: bytes) -> None:
    """Check receipts against the header's ``receiptsRoot`` and that each names ``block_hash``."""
    for i, r in enumerate(receipts):
        if r is None or not isinstance(r, Mapping):
            raise BlockJSONError(f"receipt {i} is null")
        bh = opt_data(r, "blockHash", length=32, what="receipt")
        if bh is not None and bh != block_hash:
            raise BlockVerificationError(f"receipt {i} is of block {to_hex(bh)}")
    got = ordered_trie_root([receipt_encoding(r) for r in receipts])
    if got != receipts_root:
        raise BlockVerificationError(
            f"failed to verify receipts: computed root {to_hex(got)} != header {to_hex(receipts_root)}"
        )


# ---------------------------------------------------------------------------------------------
# execution payloads
# ---------------------------------------------------------------------------------------------


def payload_from_block_json(block: JSON, raw_txs: Sequence[bytes]) -> ExecutionPayload:
    """An :class:`ExecutionPayload` from an ``eth_getBlockBy*`` object and its raw txs."""
    w = "block"
    return ExecutionPayload(
        parent_hash=data(block, "parentHash", length=32, what=w),
        fee_recipient=data(block, "miner", "beneficiary", "feeRecipient", length=20, what=w),
        state_root=data(block, "stateRoot", length=32, what=w),
        receipts_root=data(block, "receiptsRoot", length=32, what=w),
        logs_bloom=data(block, "logsBloom", length=256, what=w),
        prev_randao=data(block, "mixHash", "prevRandao", length=32, what=w),
        block_number=qty(block, "number", "blockNumber", what=w),
        gas_limit=qty(block, "gasLimit", what=w),
        gas_used=qty(block, "gasUsed", what=w),
        timestamp=qty(block, "timestamp", what=w),
        extra_data=data(block, "extraData", what=w),
        base_fee_per_gas=opt_qty(block, "baseFeePerGas", what=w) or 0,
        block_hash=data(block, "hash", "blockHash", length=32, what=w),
        transactions=tuple(raw_txs),
        withdrawals=block_withdrawals(block),
        blob_gas_used=opt_qty(block, "blobGasUsed", what=w),
        excess_blob_gas=opt_qty(block, "excessBlobGas", what=w),
        withdrawals_root=opt_data(block, "withdrawalsRoot", length=32, what=w),
        parent_beacon_block_root=opt_data(block, "parentBeaconBlockRoot", length=32, what=w),
    )


def payload_from_engine_json(obj: JSON) -> ExecutionPayload:
    """Inverse of :func:`payload_to_engine_json` (Engine API ``ExecutionPayload`` JSON plus
    ``parentBeaconBlockRoot``)."""
    txs = _get(obj, "transactions", default=[], what="payload")
    if not isinstance(txs, list):
        raise BlockJSONError("payload.transactions: expected a list")
    raw = tuple(from_hex(str(t), what="payload tx") for t in txs)
    return payload_from_block_json(obj, raw)


def payload_to_engine_json(p: ExecutionPayload) -> dict[str, object]:
    """``ExecutionPayload.to_json()`` plus ``parentBeaconBlockRoot`` when set."""
    out = p.to_json()
    if p.parent_beacon_block_root is not None:
        out["parentBeaconBlockRoot"] = to_hex(p.parent_beacon_block_root)
    return out
