"""The ``txs`` section of a span batch, and the primitives of the span-batch wire format.

Spec: specs/protocol/delta/span-batches.md, "Span batch format"::

    txs = contract_creation_bits ++ y_parity_bits ++ tx_sigs ++ tx_tos ++ tx_datas
          ++ tx_nonces ++ tx_gases ++ protected_bits

``tx_datas`` per type (span-batches.md and, for type 4, specs/protocol/isthmus/derivation.md
"Span Batch Updates"):

- legacy: ``rlp([value, gas_price, data])``
- 1 (EIP-2930): ``0x01 ++ rlp([value, gas_price, data, access_list])``
- 2 (EIP-1559): ``0x02 ++ rlp([value, max_priority_fee_per_gas, max_fee_per_gas, data, access_list])``
- 4 (EIP-7702): ``0x04 ++ rlp([value, max_priority_fee_per_gas, max_fee_per_gas, data,
  access_list, authorization_list])``

- ``0x7D`` (PostExec, op-node v1.19.6, SDM/Lagoon): ``0x7D ++ data``, ``data`` an RLP list kept
  opaque; the full transaction is the entry itself (``PostExecTx{Data}.MarshalBinary``).

Behaviour mirrors op-node v1.19.6 (``span_batch.go`` ``ReadTxData``, ``span_batch_txs.go``,
``span_batch_tx.go``): uvarints are read like Go's ``binary.ReadUvarint`` (non-minimal encodings
are accepted, more than 64 bits is an error); bitlists must not have bits set beyond their
length. While *decoding*, only the envelope of each ``tx_datas`` entry is checked: any first
byte ``<= 0x7F`` is taken as a type byte and an RLP list must follow, else the entry is a legacy
RLP list. The type is checked when *deriving* (``recover_v``, then ``full_txs``), as op-node
does: types 0x03, 0x05..0x7C, 0x7E and 0x7F fail in ``recover_v``; a ``0x00``-prefixed entry
counts as legacy (it takes a ``protected_bits`` bit) and fails in ``full_txs``. The difference
matters: a decode error drops the rest of the channel, a derive error only the span batch
(op-node ``ChannelInReader.NextBatch``: "dropping malformed span batch", since op-node PR
#19502). Older kona rejected unknown types at decode time (the "protocol-team#222" divergence);
pyop follows op-node, the reference.

Integer fields: ``value``, ``gas_price``, ``max_priority_fee_per_gas`` and ``max_fee_per_gas``
of legacy, EIP-2930 and EIP-1559 transactions are Go ``*big.Int`` (canonical RLP, any width);
the SetCode fields are ``uint256`` (at most 32 bytes).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from pyop.codec.errors import SpanBatchError, TxError
from pyop.codec.tx import (
    ACCESS_LIST_TX_TYPE,
    DEPOSIT_TX_TYPE,
    DYNAMIC_FEE_TX_TYPE,
    LEGACY_TX_TYPE,
    POST_EXEC_TX_TYPE,
    SET_CODE_TX_TYPE,
    RlpInput,
    SignedTx,
    access_list_rlp,
    authorization_list_rlp,
    decode_signed_tx,
    parse_access_list,
    parse_authorization_list,
    rlp_bytes,
    rlp_decode,
    rlp_encode,
    rlp_header,
    rlp_uint,
)

MAX_SPAN_BATCH_ELEMENT_COUNT = 10_000_000
"""specs/protocol/derivation.md#protocol-parameters ``MAX_SPAN_BATCH_ELEMENT_COUNT`` (the same
value before and after Fjord; op-node's ``MaxSpanBatchElementCount``)."""

SPAN_BATCH_TX_TYPES = (LEGACY_TX_TYPE, ACCESS_LIST_TX_TYPE, DYNAMIC_FEE_TX_TYPE, SET_CODE_TX_TYPE)
"""Signed transaction types a span batch can carry (type 4 from Isthmus; activation is checked
by derivation per block, specs/protocol/isthmus/derivation.md#activation). The unsigned
PostExec type ``0x7D`` derives too; whether a batch may carry it is a batch-validity rule."""

_SIGNED_TYPED = (ACCESS_LIST_TX_TYPE, DYNAMIC_FEE_TX_TYPE, SET_CODE_TX_TYPE)

_U64_MAX = (1 << 64) - 1

# ---------------------------------------------------------------------------------------------
# Primitives: uvarint and standard bitlists
# ---------------------------------------------------------------------------------------------


def write_uvarint(n: int) -> bytes:
    """Protobuf/Go ``uvarint`` of a uint64 (span-batches.md "Notation")."""
    if n < 0 or n > _U64_MAX:
        raise SpanBatchError(f"uvarint out of uint64 range: {n}")
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def read_uvarint(data: bytes, offset: int, what: str = "uvarint") -> tuple[int, int]:
    """Read a uvarint like Go's ``binary.ReadUvarint``: ``(value, next_offset)``.

    At most 10 bytes; the 10th byte may only be 0 or 1 (64-bit overflow otherwise).
    Non-minimal encodings (e.g. ``80 00``) are accepted, as in Go.
    """
    x = 0
    shift = 0
    for i in range(10):
        p = offset + i
        if p >= len(data):
            raise SpanBatchError(f"{what}: unexpected end of input", p)
        b = data[p]
        if b < 0x80:
            if i == 9 and b > 1:
                raise SpanBatchError(f"{what}: varint overflows a 64-bit integer", offset)
            return x | (b << shift), p + 1
        x |= (b & 0x7F) << shift
        shift += 7
    raise SpanBatchError(f"{what}: varint overflows a 64-bit integer", offset)


def read_uvarints(
    data: bytes, offset: int, count: int, what: str = "uvarint"
) -> tuple[tuple[int, ...], int]:
    """Read ``count`` consecutive uvarints (values of up to 9 bytes inline; anything longer,
    and the end of input, go through :func:`read_uvarint` for its checks and errors)."""
    out: list[int] = []
    append = out.append
    p = start = offset
    try:
        for _ in range(count):
            start = p
            b = data[p]
            p += 1
            if b < 0x80:
                append(b)
                continue
            x = b & 0x7F
            shift = 7
            while True:
                b = data[p]
                p += 1
                if b < 0x80:
                    x |= b << shift
                    break
                x |= (b & 0x7F) << shift
                shift += 7
                if shift >= 63:  # a 10-byte value: the overflow rule lives in read_uvarint
                    x, p = read_uvarint(data, start, what)
                    break
            append(x)
    except IndexError:
        read_uvarint(data, start, what)  # raises the end-of-input error at its offset
        raise
    return tuple(out), p


def _bits_len(bit_length: int) -> int:
    return (bit_length + 7) // 8


def encode_bits(bits: int, bit_length: int, what: str = "bitlist") -> bytes:
    """A standard span-batch bitlist: big-endian, left-padded to ``ceil(bit_length / 8)`` bytes.

    Bit ``i`` (``bits >> i & 1``) is the flag of element ``i``.
    """
    if bits < 0 or bits.bit_length() > bit_length:
        raise SpanBatchError(f"{what}: bitfield has more than {bit_length} bits")
    return bits.to_bytes(_bits_len(bit_length), "big")


def decode_bits(
    data: bytes, offset: int, bit_length: int, what: str = "bitlist"
) -> tuple[int, int]:
    """Read a standard bitlist of ``bit_length`` bits: ``(bits, next_offset)``.

    Like op-node's ``decodeSpanBatchBits``: too few bytes or a bit set at index
    ``>= bit_length`` is an error.
    """
    n = _bits_len(bit_length)
    if offset + n > len(data):
        raise SpanBatchError(f"{what}: need {n} bytes, {len(data) - offset} left", offset)
    bits = int.from_bytes(data[offset : offset + n], "big")
    if bits.bit_length() > bit_length:
        raise SpanBatchError(
            f"{what}: bitfield has {bits.bit_length()} bits, expected at most {bit_length}", offset
        )
    return bits, offset + n


def bit(bits: int, i: int) -> int:
    """Bit ``i`` of a bitlist."""
    return (bits >> i) & 1


def popcount(bits: int) -> int:
    """Number of set bits."""
    return bin(bits).count("1")


# ---------------------------------------------------------------------------------------------
# Per-field codecs of the txs section
# ---------------------------------------------------------------------------------------------


def encode_tx_sigs(sigs: Sequence[tuple[int, int]]) -> bytes:
    """``tx_sigs``: ``r`` and ``s`` as 32-byte big-endian each."""
    out = bytearray()
    for r, s in sigs:
        if not (0 <= r < 1 << 256 and 0 <= s < 1 << 256):
            raise SpanBatchError("tx signature value out of uint256 range")
        out += r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return bytes(out)


def decode_tx_sigs(
    data: bytes, offset: int, count: int
) -> tuple[tuple[tuple[int, int], ...], int]:
    """Read ``count`` ``(r, s)`` pairs."""
    end = offset + 64 * count
    if end > len(data):
        raise SpanBatchError(f"tx_sigs: need {64 * count} bytes, {len(data) - offset} left", offset)
    sigs = tuple(
        (
            int.from_bytes(data[p : p + 32], "big"),
            int.from_bytes(data[p + 32 : p + 64], "big"),
        )
        for p in range(offset, end, 64)
    )
    return sigs, end


def decode_tx_tos(data: bytes, offset: int, count: int) -> tuple[tuple[bytes, ...], int]:
    """Read ``count`` 20-byte ``to`` addresses (one per non-contract-creation tx)."""
    end = offset + 20 * count
    if end > len(data):
        raise SpanBatchError(f"tx_tos: need {20 * count} bytes, {len(data) - offset} left", offset)
    return tuple(data[p : p + 20] for p in range(offset, end, 20)), end


def read_tx_data(
    data: bytes, offset: int, max_size: int = MAX_SPAN_BATCH_ELEMENT_COUNT
) -> tuple[bytes, int, int]:
    """Read one ``tx_datas`` entry: ``(tx_data, tx_type, next_offset)`` (op-node ``ReadTxData``).

    A first byte ``<= 0x7F`` is the EIP-2718 type byte, then an RLP list must follow; otherwise
    the entry is a legacy RLP list (type 0). Any type byte is accepted here, ``0x00`` included
    (also reported as type 0): the type is checked when deriving (see the module docstring).
    The list's size is limited to ``max_size`` bytes (op-node uses ``MaxSpanBatchElementCount``
    as the RLP stream limit here).
    """
    if offset >= len(data):
        raise SpanBatchError("tx_datas: unexpected end of input", offset)
    start = offset
    tx_type = LEGACY_TX_TYPE
    if data[offset] <= 0x7F:
        tx_type = data[offset]
        offset += 1
    is_list, _, payload_end = rlp_header(data, offset, err=SpanBatchError)
    if not is_list:
        raise SpanBatchError("tx_datas: tx RLP prefix type must be list", offset)
    if payload_end - offset > max_size:
        raise SpanBatchError("tx_datas: tx data too big (span batch size limit)", offset)
    return data[start:payload_end], tx_type, payload_end


# ---------------------------------------------------------------------------------------------
# The txs section
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SpanBatchTxs:
    """The decoded ``txs`` section (field names from span-batches.md).

    Bitlists are ints (bit ``i`` = transaction ``i``; ``protected_bits`` bit ``j`` = the
    ``j``-th legacy transaction). ``tx_sigs`` holds ``(r, s)``; ``tx_tos`` has one entry per
    transaction that is not a contract creation. ``tx_types`` is not on the wire: it is read
    from the ``tx_datas`` entries.
    """

    total_block_tx_count: int
    contract_creation_bits: int
    y_parity_bits: int
    tx_sigs: tuple[tuple[int, int], ...]
    tx_tos: tuple[bytes, ...]
    tx_datas: tuple[bytes, ...]
    tx_nonces: tuple[int, ...]
    tx_gases: tuple[int, ...]
    protected_bits: int
    tx_types: tuple[int, ...]

    @property
    def legacy_tx_count(self) -> int:
        """Number of legacy transactions (the length of ``protected_bits``; op-node counts a
        ``0x00``-prefixed entry as legacy too)."""
        return sum(1 for t in self.tx_types if t == LEGACY_TX_TYPE)

    def contract_creation_count(self) -> int:
        """Number of contract-creation transactions."""
        return popcount(self.contract_creation_bits)

    def _check(self) -> None:
        n = self.total_block_tx_count
        for name in ("tx_sigs", "tx_datas", "tx_nonces", "tx_gases", "tx_types"):
            if len(getattr(self, name)) != n:
                raise SpanBatchError(f"span batch txs: {name} has {len(getattr(self, name))} "
                                     f"entries, expected {n}")  # fmt: skip
        if len(self.tx_tos) != n - self.contract_creation_count():
            raise SpanBatchError("span batch txs: tx_tos count does not match contract_creation_bits")
        if any(len(t) != 20 for t in self.tx_tos):
            raise SpanBatchError("span batch txs: tx_tos entries must be 20 bytes")

    def encode(self) -> bytes:
        """The wire encoding of the section."""
        self._check()
        n = self.total_block_tx_count
        out = bytearray()
        out += encode_bits(self.contract_creation_bits, n, "contract_creation_bits")
        out += encode_bits(self.y_parity_bits, n, "y_parity_bits")
        out += encode_tx_sigs(self.tx_sigs)
        out += b"".join(self.tx_tos)
        out += b"".join(self.tx_datas)
        out += b"".join(write_uvarint(x) for x in self.tx_nonces)
        out += b"".join(write_uvarint(x) for x in self.tx_gases)
        out += encode_bits(self.protected_bits, self.legacy_tx_count, "protected_bits")
        return bytes(out)

    @classmethod
    def decode(
        cls,
        data: bytes,
        offset: int,
        total_block_tx_count: int,
        max_elements: int = MAX_SPAN_BATCH_ELEMENT_COUNT,
    ) -> tuple[SpanBatchTxs, int]:
        """Decode the section at ``data[offset]``: ``(txs, next_offset)``.

        ``max_elements`` is ``MAX_SPAN_BATCH_ELEMENT_COUNT`` of the active fork; it bounds the
        number of transactions. Each ``tx_datas`` RLP list is bounded by the constant
        ``MAX_SPAN_BATCH_ELEMENT_COUNT`` bytes, as op-node does.
        """
        n = total_block_tx_count
        if n > max_elements:
            raise SpanBatchError("span batch size limit reached (total tx count)", offset)
        p = offset
        cc_bits, p = decode_bits(data, p, n, "contract_creation_bits")
        y_bits, p = decode_bits(data, p, n, "y_parity_bits")
        sigs, p = decode_tx_sigs(data, p, n)
        tos, p = decode_tx_tos(data, p, n - popcount(cc_bits))
        datas: list[bytes] = []
        types: list[int] = []
        size = len(data)
        for _ in range(n):
            # read_tx_data, inlined for the common entries (a list of up to 65,535 bytes in
            # canonical form); anything else goes through read_tx_data for its checks/errors
            start = p
            end = -1
            if p < size:
                t = data[p]
                q = p + 1
                if t > 0x7F:
                    t, q = LEGACY_TX_TYPE, p
                b1 = data[q] if q < size else 0
                if 0xC0 <= b1 < 0xF8:
                    end = q + 1 + b1 - 0xC0
                elif b1 == 0xF8 and q + 1 < size and data[q + 1] >= 56:
                    end = q + 2 + data[q + 1]
                elif b1 == 0xF9 and q + 2 < size and data[q + 1]:
                    end = q + 3 + (data[q + 1] << 8 | data[q + 2])
            if end < 0 or end > size:
                d, t, p = read_tx_data(data, start)
            else:
                d, p = data[start:end], end
            datas.append(d)
            types.append(t)
        nonces, p = read_uvarints(data, p, n, "tx_nonces")
        gases, p = read_uvarints(data, p, n, "tx_gases")
        legacy = sum(1 for t in types if t == LEGACY_TX_TYPE)
        prot_bits, p = decode_bits(data, p, legacy, "protected_bits")
        txs = cls(
            total_block_tx_count=n, contract_creation_bits=cc_bits, y_parity_bits=y_bits,
            tx_sigs=sigs, tx_tos=tos, tx_datas=tuple(datas), tx_nonces=nonces, tx_gases=gases,
            protected_bits=prot_bits, tx_types=tuple(types),
        )  # fmt: skip
        return txs, p

    def recover_v(self, chain_id: int) -> tuple[int, ...]:
        """The signature ``v`` of every transaction (span-batches.md "Store y_parity and
        protected_bit instead of v"; op-node ``recoverV``): legacy protected
        ``2 * chain_id + 35 + y``, legacy unprotected ``27 + y``, typed ``y``, PostExec 0
        (unsigned). Any other type is an error here (a derive error: the span batch is dropped,
        the channel is read on)."""
        vs = []
        legacy_idx = 0
        for i, t in enumerate(self.tx_types):
            y = bit(self.y_parity_bits, i)
            if t == LEGACY_TX_TYPE:
                protected = bit(self.protected_bits, legacy_idx)
                legacy_idx += 1
                vs.append(chain_id * 2 + 35 + y if protected else 27 + y)
            elif t in _SIGNED_TYPED:
                vs.append(y)
            elif t == POST_EXEC_TX_TYPE:
                vs.append(0)
            else:
                raise SpanBatchError(f"invalid span batch tx type {t}")
        return tuple(vs)

    def full_txs(self, chain_id: int) -> list[bytes]:
        """The transactions (EIP-2718 encodings, starting with the type byte), using the L2
        ``chain_id`` (op-node ``RawSpanBatch.derive``: ``recoverV`` then ``fullTxs``).

        The hot path of derivation. Each transaction goes through :func:`_splice_full_tx`
        (canonical fields are copied as encoded, no decode/re-encode); anything it does not
        handle goes through :func:`_full_tx`, the field-by-field rebuild that also produces
        every error, so both give the same bytes and the same errors."""
        self._check()
        vs = self.recover_v(chain_id)
        n = self.total_block_tx_count
        cc = _bit_string(self.contract_creation_bits, n)
        chain_enc = rlp_encode(chain_id)
        tos = self.tx_tos
        datas, nonces, gases, sigs = self.tx_datas, self.tx_nonces, self.tx_gases, self.tx_sigs
        out: list[bytes] = []
        append = out.append
        to_idx = 0
        for i in range(n):
            to: bytes | None = None
            if cc[i] == "0":
                to = tos[to_idx]
                to_idx += 1
            r, s = sigs[i]
            full = _splice_full_tx(datas[i], chain_enc, nonces[i], gases[i], to, vs[i], r, s)
            if full is None:
                full = _full_tx(datas[i], i, chain_id=chain_id, nonce=nonces[i], gas=gases[i],
                                to=to, v=vs[i], r=r, s=s)  # fmt: skip
            append(full)
        return out

    @classmethod
    def from_full_txs(cls, txs: Sequence[bytes], chain_id: int) -> SpanBatchTxs:
        """Build the section from signed transactions (op-node ``newSpanBatchTxs``/``AddTxs``).

        Raises ``SpanBatchError`` for a transaction that does not decode, for blob (type 3),
        deposit (``0x7E``) or unknown types, and for protected transactions of another chain.
        A PostExec (``0x7D``) transaction is stored as op-node's ``addPostExecTx`` does: its
        bytes as the ``tx_datas`` entry, no recipient (contract-creation bit set), zero
        signature, nonce and gas.
        """
        cc_bits = y_bits = prot_bits = 0
        legacy = 0
        sigs: list[tuple[int, int]] = []
        tos: list[bytes] = []
        datas: list[bytes] = []
        nonces: list[int] = []
        gases: list[int] = []
        types: list[int] = []
        for i, raw in enumerate(txs):
            if raw[:1] == bytes([DEPOSIT_TX_TYPE]):
                raise SpanBatchError(f"tx {i}: deposit transactions cannot be in a batch")
            if raw[:1] == bytes([POST_EXEC_TX_TYPE]):
                if len(raw) < 2:
                    raise SpanBatchError(f"tx {i}: post-exec tx payload is empty")
                cc_bits |= 1 << i
                sigs.append((0, 0))
                nonces.append(0)
                gases.append(0)
                datas.append(bytes(raw))
                types.append(POST_EXEC_TX_TYPE)
                continue
            try:
                tx_type, protected, to, y, r, s, nonce, gas, data = _span_tx_parts(bytes(raw), chain_id)
            except SpanBatchError as e:
                raise SpanBatchError(f"tx {i}: {e.message}", e.offset) from None
            if tx_type == LEGACY_TX_TYPE:
                if protected:
                    prot_bits |= 1 << legacy
                legacy += 1
            if to is None:
                cc_bits |= 1 << i
            else:
                tos.append(to)
            if y:
                y_bits |= 1 << i
            sigs.append((r, s))
            nonces.append(nonce)
            gases.append(gas)
            datas.append(data)
            types.append(tx_type)
        return cls(
            total_block_tx_count=len(txs), contract_creation_bits=cc_bits, y_parity_bits=y_bits,
            tx_sigs=tuple(sigs), tx_tos=tuple(tos), tx_datas=tuple(datas),
            tx_nonces=tuple(nonces), tx_gases=tuple(gases), protected_bits=prot_bits,
            tx_types=tuple(types),
        )  # fmt: skip


_SpanParts = tuple[int, bool, "bytes | None", int, int, int, int, int, bytes]


@functools.lru_cache(maxsize=1 << 16)
def _span_tx_parts(raw: bytes, chain_id: int) -> _SpanParts:
    """One signed tx's span-batch fields: ``(type, protected, to, y_parity, r, s, nonce, gas,
    tx_data)`` (op-node ``spanBatchTxs.AddTxs``). Cached by the tx bytes: a batcher re-encodes
    its open span batch on every added block (as op-node's ``SpanChannelOut`` does), and
    decoding each tx again would make that quadratic in tx decoding."""
    if raw[:1] == bytes([DEPOSIT_TX_TYPE]):
        raise SpanBatchError("deposit transactions cannot be in a batch")
    try:
        tx = decode_signed_tx(raw)
    except TxError as e:
        raise SpanBatchError(e.message, e.offset) from None
    if tx.tx_type not in SPAN_BATCH_TX_TYPES:
        raise SpanBatchError(f"type {tx.tx_type} cannot be in a span batch")
    if tx.protected and tx.chain_id != chain_id:
        raise SpanBatchError(f"protected tx has chain ID {tx.chain_id}, expected {chain_id}")
    return (tx.tx_type, tx.protected, tx.to, tx.y_parity, tx.r, tx.s, tx.nonce, tx.gas,
            span_tx_data(tx))  # fmt: skip


def decode_span_batch_txs(
    data: bytes,
    offset: int,
    total_block_tx_count: int,
    max_elements: int = MAX_SPAN_BATCH_ELEMENT_COUNT,
) -> tuple[SpanBatchTxs, int]:
    """Module-level alias of ``SpanBatchTxs.decode``."""
    return SpanBatchTxs.decode(data, offset, total_block_tx_count, max_elements)


def span_tx_data(tx: SignedTx) -> bytes:
    """The ``tx_datas`` entry of a signed transaction (span-batches.md, isthmus/derivation.md)."""
    t = tx.tx_type
    if t == LEGACY_TX_TYPE:
        return rlp_encode([tx.value, _int(tx.gas_price), tx.data])
    fields: list[RlpInput]
    if t == ACCESS_LIST_TX_TYPE:
        fields = [tx.value, _int(tx.gas_price), tx.data, access_list_rlp(tx.access_list)]
    elif t in (DYNAMIC_FEE_TX_TYPE, SET_CODE_TX_TYPE):
        fields = [tx.value, _int(tx.max_priority_fee_per_gas), _int(tx.max_fee_per_gas), tx.data,
                  access_list_rlp(tx.access_list)]  # fmt: skip
        if t == SET_CODE_TX_TYPE:
            fields.append(authorization_list_rlp(tx.authorization_list))
    else:
        raise SpanBatchError(f"type {t} cannot be in a span batch")
    return bytes([t]) + rlp_encode(fields)


def _int(x: int | None) -> int:
    if x is None:
        raise SpanBatchError("transaction field missing for its type")
    return x


_SPAN_TX_FIELD_COUNT = {
    LEGACY_TX_TYPE: 3,
    ACCESS_LIST_TX_TYPE: 4,
    DYNAMIC_FEE_TX_TYPE: 5,
    SET_CODE_TX_TYPE: 6,
}


def _bit_string(bits: int, length: int) -> str:
    """Bit ``i`` of ``bits`` as character ``i`` ("0"/"1") for ``i < length``: one O(n)
    conversion instead of a shift of the whole int per index."""
    return format(bits, "b").zfill(length)[::-1] if length else ""


#: RLP of the ints 0..127 (one byte each; 0 is the empty string).
_SMALL_UINT = (b"\x80", *(bytes((i,)) for i in range(1, 0x80)))


def _enc_uint(v: int) -> bytes:
    """RLP of a non-negative int (the ``rlp_encode`` int rule, inlined for the hot path)."""
    if v < 0x80:
        return _SMALL_UINT[v]
    b = v.to_bytes((v.bit_length() + 7) // 8, "big")
    n = len(b)
    if n < 56:
        return bytes((0x80 + n,)) + b
    return _long_prefix(n, 0x80) + b


def _long_prefix(n: int, base: int) -> bytes:
    nb = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((base + 55 + len(nb),)) + nb


def _int_end(d: bytes, p: int, n: int) -> int:
    """End of the canonical RLP integer at ``d[p]`` of at most 55 bytes, or -1 (anything else:
    a leading zero, a wrapped single byte, a longer integer, a list, a truncation)."""
    if p >= n:
        return -1
    b0 = d[p]
    if b0 < 0x80:
        return p + 1 if b0 else -1  # integer 0 is the empty string, never 0x00
    if b0 < 0xB8:
        size = b0 - 0x80
        if size:
            c = d[p + 1] if p + 1 < n else 0
            if c == 0 or (size == 1 and c < 0x80):
                return -1
        return p + 1 + size
    return -1


def _str_end(d: bytes, p: int, n: int) -> int:
    """End of the canonically sized RLP byte string at ``d[p]``, or -1."""
    if p >= n:
        return -1
    b0 = d[p]
    if b0 < 0x80:
        return p + 1
    if b0 < 0xB8:
        size = b0 - 0x80
        if size == 1 and (d[p + 1] if p + 1 < n else 0) < 0x80:
            return -1
        return p + 1 + size
    if b0 < 0xC0:
        ll = b0 - 0xB7
        if p + 1 + ll > n or d[p + 1] == 0:
            return -1
        size = int.from_bytes(d[p + 1 : p + 1 + ll], "big")
        return p + 1 + ll + size if size >= 56 else -1
    return -1


def _list_payload(d: bytes, p: int, n: int) -> int:
    """Start of the payload of the canonical RLP list at ``d[p]`` that ends exactly at ``n``,
    or -1."""
    if p >= n:
        return -1
    b0 = d[p]
    if b0 < 0xC0:
        return -1
    if b0 < 0xF8:
        return p + 1 if p + 1 + b0 - 0xC0 == n else -1
    ll = b0 - 0xF7
    if p + 1 + ll > n or d[p + 1] == 0:
        return -1
    size = int.from_bytes(d[p + 1 : p + 1 + ll], "big")
    return p + 1 + ll if size >= 56 and p + 1 + ll + size == n else -1


def _splice_full_tx(
    tx_data: bytes, chain_enc: bytes, nonce: int, gas: int, to: bytes | None, v: int, r: int, s: int
) -> bytes | None:
    """The signed transaction of one ``tx_datas`` entry, built by splicing the entry's field
    encodings into the full field list, or ``None`` when the entry is anything but the plain
    case (then :func:`_full_tx` decides, and raises the error if there is one).

    Plain case: a legacy, EIP-2930 or EIP-1559 entry in canonical RLP (canonical sizes, integers
    without leading zeros and of at most 55 bytes, strings where strings belong), with an empty
    access list, and nothing after the list. Such a field's encoding is exactly ``rlp_encode``
    of its value, so copying it gives the bytes that :func:`_full_tx` would build from the
    decoded values.
    """
    n = len(tx_data)
    tx_type = tx_data[0]
    if tx_type == DYNAMIC_FEE_TX_TYPE:  # entry: [value, tip, feeCap, data, accessList]
        p0 = _list_payload(tx_data, 1, n)
        if p0 < 0:
            return None
        p1 = _int_end(tx_data, p0, n)
        p2 = _int_end(tx_data, p1, n) if p1 > 0 else -1
        p3 = _int_end(tx_data, p2, n) if p2 > 0 else -1
        p4 = _str_end(tx_data, p3, n) if p3 > 0 else -1
        if p4 < 0 or p4 + 1 != n or tx_data[p4] != 0xC0:  # the empty access list, last
            return None
    elif tx_type > 0x7F:  # legacy, entry: [value, gasPrice, data]
        p0 = _list_payload(tx_data, 0, n)
        if p0 < 0:
            return None
        p1 = _int_end(tx_data, p0, n)
        p2 = _int_end(tx_data, p1, n) if p1 > 0 else -1
        if p2 < 0 or _str_end(tx_data, p2, n) != n:
            return None
        tx_type = LEGACY_TX_TYPE
    elif tx_type == ACCESS_LIST_TX_TYPE:  # entry: [value, gasPrice, data, accessList]
        p0 = _list_payload(tx_data, 1, n)
        if p0 < 0:
            return None
        p1 = _int_end(tx_data, p0, n)
        p2 = _int_end(tx_data, p1, n) if p1 > 0 else -1
        p3 = _str_end(tx_data, p2, n) if p2 > 0 else -1
        if p3 < 0 or p3 + 1 != n or tx_data[p3] != 0xC0:
            return None
    else:  # 0x00-prefixed (ErrTxTypeNotSupported), SetCode, PostExec, others: general path
        return None
    to_enc = b"\x94" + to if to is not None else b"\x80"
    # v, r, s: r and s are uint256 (32 bytes on the wire), so their minimal big-endian form is
    # the 32 bytes without leading zeros (b"" for 0, which encodes as 0x80 like any empty string)
    rb = r.to_bytes(32, "big").lstrip(b"\x00")
    sb = s.to_bytes(32, "big").lstrip(b"\x00")
    tail = b"".join((
        _SMALL_UINT[v] if v < 0x80 else _enc_uint(v),
        rb if len(rb) == 1 and rb[0] < 0x80 else bytes((0x80 + len(rb),)) + rb,
        sb if len(sb) == 1 and sb[0] < 0x80 else bytes((0x80 + len(sb),)) + sb,
    ))  # fmt: skip
    if tx_type == DYNAMIC_FEE_TX_TYPE:
        # [chainId, nonce, tip, feeCap, gas, to, value, data, accessList, v, r, s]
        payload = b"".join((chain_enc, _enc_uint(nonce), tx_data[p1:p3], _enc_uint(gas), to_enc,
                            tx_data[p0:p1], tx_data[p3:], tail))  # fmt: skip
    elif tx_type == LEGACY_TX_TYPE:
        # [nonce, gasPrice, gas, to, value, data, v, r, s]
        payload = b"".join((_enc_uint(nonce), tx_data[p1:p2], _enc_uint(gas), to_enc,
                            tx_data[p0:p1], tx_data[p2:], tail))  # fmt: skip
    else:
        # [chainId, nonce, gasPrice, gas, to, value, data, accessList, v, r, s]
        payload = b"".join((chain_enc, _enc_uint(nonce), tx_data[p1:p2], _enc_uint(gas), to_enc,
                            tx_data[p0:p1], tx_data[p2:], tail))  # fmt: skip
    ln = len(payload)
    if ln < 56:
        head = bytes((0xC0 + ln,))
    elif ln < 0x100:
        head = bytes((0xF8, ln))
    elif ln < 0x10000:
        head = bytes((0xF9, ln >> 8, ln & 0xFF))
    else:
        head = _long_prefix(ln, 0xC0)
    if tx_type == LEGACY_TX_TYPE:
        return head + payload
    return bytes((tx_type,)) + head + payload


def _full_tx(
    tx_data: bytes,
    index: int,
    *,
    chain_id: int,
    nonce: int,
    gas: int,
    to: bytes | None,
    v: int,
    r: int,
    s: int,
) -> bytes:
    """Rebuild one transaction from its span-batch parts (op-node ``spanBatchTx.UnmarshalBinary``
    + ``convertToFullTx``). The type comes from the entry's first byte: above ``0x7F`` legacy,
    else 1, 2, 4 or ``0x7D``; anything else (``0x00``-prefixed legacy included) is
    ``ErrTxTypeNotSupported``."""
    first = tx_data[0]
    if first == POST_EXEC_TX_TYPE:
        # opaque payload, unsigned: nonce, gas, to, v, r, s are not part of the transaction
        return bytes(tx_data)
    if first > 0x7F:
        tx_type, body = LEGACY_TX_TYPE, tx_data
    elif first in _SIGNED_TYPED:
        tx_type, body = first, tx_data[1:]
    else:
        raise SpanBatchError(f"tx {index}: transaction type 0x{first:02x} not supported")
    try:
        item = rlp_decode(body, err=SpanBatchError)
    except SpanBatchError as exc:
        raise SpanBatchError(f"tx {index}: tx data: {exc.message}") from None
    if not isinstance(item, list) or len(item) != _SPAN_TX_FIELD_COUNT[tx_type]:
        raise SpanBatchError(f"tx {index}: tx data of type {tx_type} has the wrong field count")
    e = SpanBatchError
    # Go *big.Int fields (any width) for legacy / 2930 / 1559; uint256 for SetCode
    width: int | None = 32 if tx_type == SET_CODE_TX_TYPE else None

    def u(k: int, what: str) -> int:
        return rlp_uint(item[k], 0, f"tx {index}: {what}", max_bytes=width, err=e)

    u(0, "value")
    if tx_type == SET_CODE_TX_TYPE and to is None:
        raise SpanBatchError(f"tx {index}: SetCode transaction cannot be a contract creation")
    if tx_type in (LEGACY_TX_TYPE, ACCESS_LIST_TX_TYPE):
        u(1, "gas_price")
        rlp_bytes(item[2], 0, f"tx {index}: data", err=e)
        if tx_type == ACCESS_LIST_TX_TYPE:
            parse_access_list(item[3], 0, err=e)
    else:
        u(1, "max_priority_fee_per_gas")
        u(2, "max_fee_per_gas")
        rlp_bytes(item[3], 0, f"tx {index}: data", err=e)
        parse_access_list(item[4], 0, err=e)
        if tx_type == SET_CODE_TX_TYPE:
            parse_authorization_list(item[5], 0, err=e)
    # The checks above only validate: a canonical RLP decoding (rlp_decode), canonical integers
    # (rlp_uint), byte strings and well-formed lists; so each element of ``item`` re-encodes to
    # the same bytes as the value it stands for, and the signed tx is encoded from the elements
    # directly, in the field order of ``pyop.codec.tx._unsigned_fields`` + ``v, r, s`` (no
    # SignedTx round trip; same bytes as ``encode_signed_tx``).
    to_b = b"" if to is None else to
    if tx_type == LEGACY_TX_TYPE:  # [nonce, gasPrice, gas, to, value, data, v, r, s]
        return rlp_encode([nonce, item[1], gas, to_b, item[0], item[2], v, r, s])
    fields: list[RlpInput]
    if tx_type == ACCESS_LIST_TX_TYPE:
        # [chainId, nonce, gasPrice, gas, to, value, data, accessList, v, r, s]
        fields = [chain_id, nonce, item[1], gas, to_b, item[0], item[2], item[3], v, r, s]
    elif tx_type == DYNAMIC_FEE_TX_TYPE:
        # [chainId, nonce, tip, feeCap, gas, to, value, data, accessList, v, r, s]
        fields = [chain_id, nonce, item[1], item[2], gas, to_b, item[0], item[3], item[4], v, r, s]
    else:  # SET_CODE_TX_TYPE: ... accessList, authorizationList, v, r, s
        fields = [chain_id, nonce, item[1], item[2], gas, to_b, item[0], item[3], item[4], item[5],
                  v, r, s]  # fmt: skip
    return bytes((tx_type,)) + rlp_encode(fields)
