"""Signed L1/L2 transaction envelopes (EIP-2718) and a strict, offset-tracking RLP codec.

Decodes the signed transaction types a rollup node meets: legacy (with and without EIP-155
replay protection), EIP-2930 (type 1), EIP-1559 (type 2), EIP-4844 blob transactions (type 3,
canonical and network-wrapper forms) and EIP-7702 SetCode transactions (type 4). Deposits
(type ``0x7E``) are not signed transactions: see ``pyop.protocol.deposits``.

The RLP rules follow go-ethereum's ``rlp.DecodeBytes`` (which op-node uses):

- sizes must be canonical (a single byte below ``0x80`` is not wrapped, short forms are used
  below 56 bytes, long-form lengths have no leading zero bytes);
- integers have no leading zero bytes (zero is the empty string, never ``0x00``);
- a structure has exactly the expected number of fields, and nothing follows the value.

References: EIP-2718, EIP-155, EIP-2930, EIP-1559, EIP-4844, EIP-7702; the Ethereum Yellow
Paper appendix B (RLP). Used by the span-batch codec (specs/protocol/delta/span-batches.md) and
by tools that accept "a whole signed L1 transaction" (the batcher transaction of
specs/protocol/derivation.md#batcher-transaction-format).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TypeAlias, cast

from eth_hash.auto import keccak

from pyop.codec.errors import CodecError, TxError

LEGACY_TX_TYPE = 0
ACCESS_LIST_TX_TYPE = 1
DYNAMIC_FEE_TX_TYPE = 2
BLOB_TX_TYPE = 3
SET_CODE_TX_TYPE = 4
POST_EXEC_TX_TYPE = 0x7D
"""OP Stack post-execution transaction (op-core ``PostExecTxType``; SDM/Lagoon): synthetic and
unsigned, encoded ``0x7D ++ data`` with ``data`` opaque (itself RLP)."""
DEPOSIT_TX_TYPE = 0x7E

MAX_RLP_DEPTH = 32
"""Nesting limit of the generic decoder; no transaction field nests deeper than 3."""

# ---------------------------------------------------------------------------------------------
# RLP
# ---------------------------------------------------------------------------------------------

RlpItem: TypeAlias = bytes | list["RlpItem"]
"""A decoded RLP value: a byte string or a list of values."""

RlpInput: TypeAlias = bytes | int | Sequence["RlpInput"]
"""What ``rlp_encode`` accepts: bytes, non-negative ints (big-endian, minimal), sequences."""


def _rlp_length_prefix(length: int, short_base: int) -> bytes:
    if length < 56:
        return bytes([short_base + length])
    n = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([short_base + 55 + len(n)]) + n


def rlp_encode(item: RlpInput) -> bytes:
    """Canonical RLP encoding of ``item`` (``int`` values encode as minimal big-endian strings)."""
    # Fast paths for the exact types the codec builds (bytes, int, list, tuple); they give the
    # same bytes as the general path below, which handles subclasses, bytearray, memoryview and
    # other sequences (and rejects bool: ``type(True) is bool``, not ``int``).
    t = type(item)
    if t is bytes:
        b0 = cast(bytes, item)
        n = len(b0)
        if n == 1 and b0[0] < 0x80:
            return b0
        if n < 56:
            return bytes((0x80 + n,)) + b0
        return _rlp_length_prefix(n, 0x80) + b0
    if t is int:
        v = cast(int, item)
        if 0 <= v < 0x80:
            return bytes((v,)) if v else b"\x80"
        if v > 0:
            bi = v.to_bytes((v.bit_length() + 7) // 8, "big")
            return _rlp_length_prefix(len(bi), 0x80) + bi
    elif t is list or t is tuple:
        body = b"".join([rlp_encode(x) for x in cast(Sequence[RlpInput], item)])
        if len(body) < 56:
            return bytes((0xC0 + len(body),)) + body
        return _rlp_length_prefix(len(body), 0xC0) + body
    if isinstance(item, bool):
        raise TypeError("rlp_encode: bool is not an RLP value")
    if isinstance(item, int):
        if item < 0:
            raise ValueError("rlp_encode: negative integer")
        item = item.to_bytes((item.bit_length() + 7) // 8, "big")
    if isinstance(item, bytes | bytearray | memoryview):
        b = bytes(item)
        if len(b) == 1 and b[0] < 0x80:
            return b
        return _rlp_length_prefix(len(b), 0x80) + b
    payload = b"".join(rlp_encode(x) for x in item)
    return _rlp_length_prefix(len(payload), 0xC0) + payload


def rlp_header(
    data: bytes, pos: int, end: int | None = None, *, err: type[CodecError] = TxError
) -> tuple[bool, int, int]:
    """Decode the RLP header at ``data[pos]``: ``(is_list, payload_start, payload_end)``.

    Checks that the header is canonical and that the payload fits before ``end``
    (default: the end of ``data``). Raises ``err`` with the offset of the header.
    """
    limit = len(data) if end is None else end
    if pos >= limit:
        raise err("RLP: unexpected end of input", pos)
    b0 = data[pos]
    if b0 < 0x80:
        return False, pos, pos + 1
    if b0 < 0xB8:
        start, size = pos + 1, b0 - 0x80
        if size == 1 and start < limit and data[start] < 0x80:
            raise err("RLP: non-canonical size (single byte below 0x80 wrapped)", pos)
        is_list = False
    elif b0 < 0xC0:
        start, size = _long_size(data, pos, limit, b0 - 0xB7, err)
        is_list = False
    elif b0 < 0xF8:
        start, size = pos + 1, b0 - 0xC0
        is_list = True
    else:
        start, size = _long_size(data, pos, limit, b0 - 0xF7, err)
        is_list = True
    if start + size > limit:
        raise err(f"RLP: value of {size} bytes overruns the input", pos)
    return is_list, start, start + size


def _long_size(
    data: bytes, pos: int, limit: int, n: int, err: type[CodecError]
) -> tuple[int, int]:
    if pos + 1 + n > limit:
        raise err("RLP: truncated length", pos)
    raw = data[pos + 1 : pos + 1 + n]
    if raw[0] == 0:
        raise err("RLP: non-canonical size (leading zero in length)", pos)
    size = int.from_bytes(raw, "big")
    if size < 56:
        raise err("RLP: non-canonical size (long form for a short value)", pos)
    return pos + 1 + n, size


def rlp_decode_at(
    data: bytes,
    pos: int = 0,
    end: int | None = None,
    *,
    err: type[CodecError] = TxError,
    _depth: int = 0,
) -> tuple[RlpItem, int]:
    """Decode one RLP value at ``data[pos]``: ``(item, next_pos)``. Trailing bytes are left."""
    if _depth > MAX_RLP_DEPTH:
        raise err("RLP: nesting too deep", pos)
    is_list, start, stop = rlp_header(data, pos, end, err=err)
    if not is_list:
        return data[start:stop], stop
    items: list[RlpItem] = []
    p = start
    while p < stop:
        item, p = rlp_decode_at(data, p, stop, err=err, _depth=_depth + 1)
        items.append(item)
    return items, stop


def rlp_decode(data: bytes, *, err: type[CodecError] = TxError) -> RlpItem:
    """Decode exactly one RLP value spanning all of ``data``."""
    item, end = rlp_decode_at(data, 0, err=err)
    if end != len(data):
        raise err("RLP: trailing bytes after the value", end)
    return item


def rlp_list_fields(
    data: bytes, pos: int, *, err: type[CodecError] = TxError, what: str = "list"
) -> tuple[list[tuple[int, RlpItem]], int]:
    """Decode the RLP list at ``data[pos]`` into ``[(field_offset, item), ...]`` and its end."""
    is_list, start, stop = rlp_header(data, pos, err=err)
    if not is_list:
        raise err(f"{what}: expected an RLP list", pos)
    fields: list[tuple[int, RlpItem]] = []
    p = start
    while p < stop:
        off = p
        item, p = rlp_decode_at(data, p, stop, err=err, _depth=1)
        fields.append((off, item))
    return fields, stop


def rlp_uint(
    item: RlpItem,
    off: int,
    what: str,
    *,
    max_bytes: int | None = 32,
    err: type[CodecError] = TxError,
) -> int:
    """An RLP integer: a string of at most ``max_bytes`` bytes (``None``: any size, like a Go
    ``*big.Int`` field) without leading zeros."""
    if not isinstance(item, bytes):
        raise err(f"{what}: expected an integer, got a list", off)
    if max_bytes is not None and len(item) > max_bytes:
        raise err(f"{what}: integer wider than {max_bytes} bytes", off)
    if item[:1] == b"\x00":
        raise err(f"{what}: non-canonical integer (leading zero byte)", off)
    return int.from_bytes(item, "big")


def rlp_bytes(item: RlpItem, off: int, what: str, *, err: type[CodecError] = TxError) -> bytes:
    """An RLP byte string."""
    if not isinstance(item, bytes):
        raise err(f"{what}: expected a byte string, got a list", off)
    return item


def rlp_fixed(
    item: RlpItem, off: int, size: int, what: str, *, err: type[CodecError] = TxError
) -> bytes:
    """An RLP byte string of exactly ``size`` bytes (an address or a hash)."""
    b = rlp_bytes(item, off, what, err=err)
    if len(b) != size:
        raise err(f"{what}: expected {size} bytes, got {len(b)}", off)
    return b


def rlp_list(item: RlpItem, off: int, what: str, *, err: type[CodecError] = TxError) -> list[RlpItem]:
    """An RLP list."""
    if not isinstance(item, list):
        raise err(f"{what}: expected a list, got a byte string", off)
    return item


# ---------------------------------------------------------------------------------------------
# Transaction field structures
# ---------------------------------------------------------------------------------------------

AccessList: TypeAlias = tuple[tuple[bytes, tuple[bytes, ...]], ...]
"""EIP-2930 access list: ``((address, (storage_key, ...)), ...)``."""


@dataclass(frozen=True, slots=True)
class Authorization:
    """One EIP-7702 signed authorization tuple ``[chain_id, address, nonce, y_parity, r, s]``."""

    chain_id: int
    address: bytes
    nonce: int
    y_parity: int
    r: int
    s: int

    def rlp_fields(self) -> list[RlpInput]:
        return [self.chain_id, self.address, self.nonce, self.y_parity, self.r, self.s]


def access_list_rlp(access_list: AccessList) -> list[RlpInput]:
    """The RLP structure of an access list."""
    return [[addr, list(keys)] for addr, keys in access_list]


def authorization_list_rlp(auths: Sequence[Authorization]) -> list[RlpInput]:
    """The RLP structure of an EIP-7702 authorization list."""
    return [a.rlp_fields() for a in auths]


def parse_access_list(
    item: RlpItem, off: int, *, err: type[CodecError] = TxError
) -> AccessList:
    """Validate a decoded access list: ``[[address(20), [key(32), ...]], ...]``."""
    out: list[tuple[bytes, tuple[bytes, ...]]] = []
    for entry in rlp_list(item, off, "access list", err=err):
        pair = rlp_list(entry, off, "access list entry", err=err)
        if len(pair) != 2:
            raise err("access list entry: expected [address, storage_keys]", off)
        addr = rlp_fixed(pair[0], off, 20, "access list address", err=err)
        keys = tuple(
            rlp_fixed(k, off, 32, "access list storage key", err=err)
            for k in rlp_list(pair[1], off, "access list storage keys", err=err)
        )
        out.append((addr, keys))
    return tuple(out)


def parse_authorization_list(
    item: RlpItem, off: int, *, err: type[CodecError] = TxError
) -> tuple[Authorization, ...]:
    """Validate a decoded EIP-7702 authorization list."""
    out: list[Authorization] = []
    for entry in rlp_list(item, off, "authorization list", err=err):
        f = rlp_list(entry, off, "authorization", err=err)
        if len(f) != 6:
            raise err(f"authorization: expected 6 fields, got {len(f)}", off)
        out.append(
            Authorization(
                chain_id=rlp_uint(f[0], off, "authorization chain_id", err=err),
                address=rlp_fixed(f[1], off, 20, "authorization address", err=err),
                nonce=rlp_uint(f[2], off, "authorization nonce", max_bytes=8, err=err),
                y_parity=rlp_uint(f[3], off, "authorization y_parity", max_bytes=1, err=err),
                r=rlp_uint(f[4], off, "authorization r", err=err),
                s=rlp_uint(f[5], off, "authorization s", err=err),
            )
        )
    return tuple(out)


# ---------------------------------------------------------------------------------------------
# Signed transactions
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SignedTx:
    """A decoded signed transaction (EIP-2718 envelope).

    ``v`` is the raw signature value as encoded: for legacy transactions ``27 + y`` or (EIP-155)
    ``35 + 2 * chain_id + y``; for typed transactions the y-parity itself. ``chain_id`` is
    ``None`` only for unprotected legacy transactions. Fields that a type does not have are
    ``None`` (fees) or empty (lists). ``hash`` is ``keccak256`` of the canonical encoding
    (for a blob transaction in network form: of ``0x03 ++ rlp(tx_payload_body)``).
    """

    tx_type: int
    chain_id: int | None
    nonce: int
    gas: int
    to: bytes | None
    value: int
    data: bytes
    v: int
    r: int
    s: int
    hash: bytes
    gas_price: int | None = None
    max_priority_fee_per_gas: int | None = None
    max_fee_per_gas: int | None = None
    access_list: AccessList = ()
    max_fee_per_blob_gas: int | None = None
    blob_versioned_hashes: tuple[bytes, ...] = ()
    authorization_list: tuple[Authorization, ...] = ()

    @property
    def y_parity(self) -> int:
        """The signature's y-parity bit."""
        if self.tx_type != LEGACY_TX_TYPE:
            return self.v
        if self.v in (27, 28):
            return self.v - 27
        return (self.v - 35) & 1

    @property
    def protected(self) -> bool:
        """EIP-155 replay protection (always true for typed transactions)."""
        return self.tx_type != LEGACY_TX_TYPE or self.v not in (27, 28)

    def encode(self) -> bytes:
        """The canonical EIP-2718 encoding (blob txs: the canonical, non-network form)."""
        return encode_signed_tx(self)


def _to_rlp(to: bytes | None) -> bytes:
    return b"" if to is None else to


def signing_payload(tx: SignedTx, chain_id: int | None = None) -> bytes:
    """The bytes whose keccak256 the sender signed: ``rlp(fields)`` plus EIP-155's
    ``chain_id, 0, 0`` for a protected legacy tx (``chain_id`` defaults to the tx's own), or
    ``type ++ rlp(fields)`` for a typed tx (EIP-2718)."""
    fields = _unsigned_fields(tx)
    if tx.tx_type == LEGACY_TX_TYPE:
        if tx.protected:
            cid = chain_id if chain_id is not None else _req(tx.chain_id)
            fields = [*fields, cid, 0, 0]
        return rlp_encode(fields)
    return bytes([tx.tx_type]) + rlp_encode(fields)


def _unsigned_fields(tx: SignedTx) -> list[RlpInput]:
    """The transaction fields before the signature, per type."""
    t = tx.tx_type
    to = _to_rlp(tx.to)
    if t == LEGACY_TX_TYPE:
        return [tx.nonce, _req(tx.gas_price), tx.gas, to, tx.value, tx.data]
    chain_id = _req(tx.chain_id)
    if t == ACCESS_LIST_TX_TYPE:
        return [
            chain_id, tx.nonce, _req(tx.gas_price), tx.gas, to, tx.value, tx.data,
            access_list_rlp(tx.access_list),
        ]  # fmt: skip
    head: list[RlpInput] = [
        chain_id, tx.nonce, _req(tx.max_priority_fee_per_gas), _req(tx.max_fee_per_gas),
        tx.gas, to, tx.value, tx.data, access_list_rlp(tx.access_list),
    ]  # fmt: skip
    if t == DYNAMIC_FEE_TX_TYPE:
        return head
    if t == BLOB_TX_TYPE:
        return [*head, _req(tx.max_fee_per_blob_gas), list(tx.blob_versioned_hashes)]
    if t == SET_CODE_TX_TYPE:
        return [*head, authorization_list_rlp(tx.authorization_list)]
    raise TxError(f"unsupported transaction type {t}")


def _req(x: int | None) -> int:
    if x is None:
        raise TxError("transaction field missing for its type")
    return x


def encode_signed_tx(tx: SignedTx) -> bytes:
    """Encode the signed transaction ``tx`` (its ``hash`` field is not used)."""
    fields = [*_unsigned_fields(tx), tx.v, tx.r, tx.s]
    body = rlp_encode(fields)
    if tx.tx_type == LEGACY_TX_TYPE:
        return body
    return bytes([tx.tx_type]) + body


def make_signed_tx(
    tx_type: int,
    *,
    chain_id: int | None,
    nonce: int,
    gas: int,
    to: bytes | None,
    value: int,
    data: bytes,
    v: int,
    r: int,
    s: int,
    gas_price: int | None = None,
    max_priority_fee_per_gas: int | None = None,
    max_fee_per_gas: int | None = None,
    access_list: AccessList = (),
    max_fee_per_blob_gas: int | None = None,
    blob_versioned_hashes: tuple[bytes, ...] = (),
    authorization_list: tuple[Authorization, ...] = (),
) -> tuple[SignedTx, bytes]:
    """Build a ``SignedTx`` from fields: ``(tx, encoding)`` with ``tx.hash`` filled in."""
    tx = SignedTx(
        tx_type=tx_type, chain_id=chain_id, nonce=nonce, gas=gas, to=to, value=value,
        data=data, v=v, r=r, s=s, hash=b"", gas_price=gas_price,
        max_priority_fee_per_gas=max_priority_fee_per_gas, max_fee_per_gas=max_fee_per_gas,
        access_list=access_list, max_fee_per_blob_gas=max_fee_per_blob_gas,
        blob_versioned_hashes=blob_versioned_hashes, authorization_list=authorization_list,
    )  # fmt: skip
    raw = encode_signed_tx(tx)
    return replace(tx, hash=keccak(raw)), raw


def tx_hash(raw: bytes) -> bytes:
    """The transaction hash: ``keccak256`` of the canonical encoding.

    Blob transactions in the network form (``0x03 ++ rlp([tx_payload_body, blobs, ...])``)
    hash only ``0x03 ++ rlp(tx_payload_body)``, so this decodes the envelope.
    """
    return decode_signed_tx(raw).hash


# Field counts per type, including the three signature fields.
_FIELD_COUNT = {
    LEGACY_TX_TYPE: 9,
    ACCESS_LIST_TX_TYPE: 11,
    DYNAMIC_FEE_TX_TYPE: 12,
    BLOB_TX_TYPE: 14,
    SET_CODE_TX_TYPE: 13,
}


def decode_signed_tx(raw: bytes) -> SignedTx:
    """Decode a signed transaction (legacy RLP list, or ``type ++ rlp(fields)``).

    Raises ``TxError`` (with the byte offset) on malformed input, unknown or unsigned types
    (deposits ``0x7E``), non-canonical RLP, out-of-range integers and invalid signature values
    (legacy ``v`` must be 27, 28 or at least 35; typed y-parity must be 0 or 1).
    """
    raw = bytes(raw)
    if not raw:
        raise TxError("empty transaction", 0)
    b0 = raw[0]
    if b0 >= 0xC0:
        return _decode_fields(raw, LEGACY_TX_TYPE, 0, raw)
    if b0 >= 0x80:
        raise TxError(f"transaction starts with an RLP string prefix 0x{b0:02x}", 0)
    if b0 == DEPOSIT_TX_TYPE:
        raise TxError("deposit transactions (type 0x7e) are not signed transactions", 0)
    if b0 not in _FIELD_COUNT:
        raise TxError(f"unsupported transaction type {b0}", 0)
    if len(raw) < 2:
        raise TxError("typed transaction without payload", 1)
    if b0 == BLOB_TX_TYPE:
        fields, end = rlp_list_fields(raw, 1, what="blob transaction")
        if end != len(raw):
            raise TxError("trailing bytes after the transaction", end)
        if fields and isinstance(fields[0][1], list):
            # Network form: [tx_payload_body, (wrapper_version,) blobs, commitments, proofs]
            if len(fields) not in (4, 5):
                raise TxError("blob transaction network wrapper: expected 4 or 5 fields", 1)
            off = fields[0][0]
            _, _, body_end = rlp_header(raw, off)
            canonical = raw[:1] + raw[off:body_end]
            return _decode_fields(canonical, BLOB_TX_TYPE, 1, canonical)
    return _decode_fields(raw, b0, 1, raw)


def _decode_fields(raw: bytes, tx_type: int, pos: int, hashed: bytes) -> SignedTx:
    fields, end = rlp_list_fields(raw, pos, what="transaction")
    if end != len(raw):
        raise TxError("trailing bytes after the transaction", end)
    want = _FIELD_COUNT[tx_type]
    if len(fields) != want:
        raise TxError(f"type {tx_type} transaction: expected {want} fields, got {len(fields)}", pos)
    it = iter(fields)

    def uint(what: str, max_bytes: int = 32) -> int:
        off, item = next(it)
        return rlp_uint(item, off, what, max_bytes=max_bytes)

    def to_field(required: bool) -> bytes | None:
        off, item = next(it)
        b = rlp_bytes(item, off, "to")
        if b == b"":
            if required:
                raise TxError(f"type {tx_type} transaction cannot create a contract", off)
            return None
        if len(b) != 20:
            raise TxError(f"to: expected 20 bytes, got {len(b)}", off)
        return b

    def data_field() -> bytes:
        off, item = next(it)
        return rlp_bytes(item, off, "data")

    def access_list_field() -> AccessList:
        off, item = next(it)
        return parse_access_list(item, off)

    chain_id: int | None = None
    gas_price = tip = fee_cap = blob_fee = None
    access: AccessList = ()
    hashes: tuple[bytes, ...] = ()
    auths: tuple[Authorization, ...] = ()
    if tx_type == LEGACY_TX_TYPE:
        nonce = uint("nonce", 8)
        gas_price = uint("gas_price")
        gas = uint("gas", 8)
        to = to_field(False)
        value = uint("value")
        data = data_field()
    else:
        chain_id = uint("chain_id")
        nonce = uint("nonce", 8)
        if tx_type == ACCESS_LIST_TX_TYPE:
            gas_price = uint("gas_price")
        else:
            tip = uint("max_priority_fee_per_gas")
            fee_cap = uint("max_fee_per_gas")
        gas = uint("gas", 8)
        to = to_field(tx_type in (BLOB_TX_TYPE, SET_CODE_TX_TYPE))
        value = uint("value")
        data = data_field()
        access = access_list_field()
        if tx_type == BLOB_TX_TYPE:
            blob_fee = uint("max_fee_per_blob_gas")
            off, item = next(it)
            hashes = tuple(
                rlp_fixed(h, off, 32, "blob versioned hash")
                for h in rlp_list(item, off, "blob versioned hashes")
            )
        elif tx_type == SET_CODE_TX_TYPE:
            off, item = next(it)
            auths = parse_authorization_list(item, off)
    v_off = fields[-3][0]
    v = uint("v")
    r = uint("r")
    s = uint("s")
    if tx_type == LEGACY_TX_TYPE:
        if v not in (27, 28):
            if v < 35:
                raise TxError(f"legacy transaction: invalid v {v}", v_off)
            chain_id = (v - 35) // 2
    elif v > 1:
        raise TxError(f"typed transaction: y-parity must be 0 or 1, got {v}", v_off)
    return SignedTx(
        tx_type=tx_type, chain_id=chain_id, nonce=nonce, gas=gas, to=to, value=value,
        data=data, v=v, r=r, s=s, hash=keccak(hashed), gas_price=gas_price,
        max_priority_fee_per_gas=tip, max_fee_per_gas=fee_cap, access_list=access,
        max_fee_per_blob_gas=blob_fee, blob_versioned_hashes=hashes, authorization_list=auths,
    )  # fmt: skip
