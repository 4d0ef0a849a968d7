"""The fast paths of span-batch decoding and derivation (pyop.codec.span_txs, issue 15) give
the same bytes and the same errors as the general paths.

- ``SpanBatchTxs.full_txs`` splices canonical ``tx_datas`` fields into the signed transaction
  (``_splice_full_tx``) and leaves everything else to ``_full_tx``. Checked against pyrlp (an
  independent RLP encoder: the expected signed transaction is encoded from the random fields),
  and, on mutated entries, against ``_full_tx`` itself: whenever the splice answers, ``_full_tx``
  gives the same bytes; whenever ``_full_tx`` raises, the splice declines (so the error is
  ``_full_tx``'s).
- ``read_uvarints`` / the inlined ``tx_datas`` reader of ``SpanBatchTxs.decode`` agree with the
  one-value readers (``read_uvarint`` / ``read_tx_data``) on values and errors.
"""

from __future__ import annotations

import rlp
from hypothesis import given, settings
from hypothesis import strategies as st

from pyop.codec.errors import SpanBatchError
from pyop.codec.span_txs import (
    SpanBatchTxs,
    _full_tx,
    _splice_full_tx,
    read_tx_data,
    read_uvarint,
    read_uvarints,
    write_uvarint,
)

CHAIN_ID = 10

#: ints around the RLP size boundaries (1 byte < 0x80, 55/56-byte strings, 2**64, 2**256)
_ints = st.one_of(
    st.integers(0, 0x100),
    st.integers(0, 2**64),
    st.integers(2**255, 2**256 - 1),
    st.integers(0, 2**600),  # *big.Int fields: any width (long-form strings)
)
_data = st.one_of(st.binary(max_size=60), st.binary(min_size=250, max_size=300),
                  st.binary(min_size=65_530, max_size=65_600))  # fmt: skip


@st.composite
def _tx(draw: st.DrawFn) -> tuple[int, list[object], list[object]]:
    """(type, tx_datas fields, the signed tx's fields) for legacy / 2930 / 1559 txs with an
    empty access list (the spliced case)."""
    t = draw(st.sampled_from([0, 1, 2]))
    value, fee1, fee2 = draw(_ints), draw(_ints), draw(_ints)
    data = draw(_data)
    nonce, gas = draw(st.integers(0, 2**64 - 1)), draw(st.integers(0, 2**64 - 1))
    to = draw(st.one_of(st.none(), st.binary(min_size=20, max_size=20)))
    r, s = draw(st.integers(0, 2**256 - 1)), draw(st.integers(0, 2**256 - 1))
    y = draw(st.integers(0, 1))
    to_b = b"" if to is None else to
    if t == 0:
        v = CHAIN_ID * 2 + 35 + y if draw(st.booleans()) else 27 + y
        return t, [value, fee1, data], [nonce, fee1, gas, to_b, value, data, v, r, s]
    if t == 1:
        return t, [value, fee1, data, []], [CHAIN_ID, nonce, fee1, gas, to_b, value, data, [], y, r, s]
    return t, [value, fee1, fee2, data, []], [CHAIN_ID, nonce, fee1, fee2, gas, to_b, value, data, [], y, r, s]


def _entry(t: int, fields: list[object]) -> bytes:
    body = rlp.encode(fields)
    return body if t == 0 else bytes((t,)) + body


@settings(max_examples=300, deadline=None)
@given(_tx())
def test_splice_matches_pyrlp(case: tuple[int, list[object], list[object]]) -> None:
    t, entry_fields, full_fields = case
    entry = _entry(t, entry_fields)
    want = _entry(t, full_fields)
    nonce, gas = full_fields[0 if t == 0 else 1], full_fields[2 if t == 0 else (3 if t == 1 else 4)]
    to = full_fields[3 if t == 0 else (4 if t == 1 else 5)]
    v, r, s = full_fields[-3:]
    got = _splice_full_tx(entry, rlp.encode(CHAIN_ID), nonce, gas, to or None, v, r, s)  # type: ignore[arg-type]
    huge = any(isinstance(x, int) and x >= 1 << (55 * 8) for x in entry_fields)
    if huge:  # integers wider than 55 bytes (long-form strings) are left to the general path
        assert got is None
    else:
        assert got == want
    assert _full_tx(entry, 0, chain_id=CHAIN_ID, nonce=nonce, gas=gas, to=to or None,  # type: ignore[arg-type]
                    v=v, r=r, s=s) == want  # type: ignore[arg-type]  # fmt: skip


@settings(max_examples=600, deadline=None)
@given(_tx(), st.data())
def test_splice_agrees_with_general_path_on_mutations(
    case: tuple[int, list[object], list[object]], data: st.DataObject
) -> None:
    t, entry_fields, _ = case
    entry = bytearray(_entry(t, entry_fields))
    for _ in range(data.draw(st.integers(1, 3))):
        kind = data.draw(st.sampled_from(["flip", "insert", "delete", "truncate", "append", "type"]))
        i = data.draw(st.integers(0, len(entry) - 1))
        if kind == "flip":
            entry[i] = data.draw(st.sampled_from([0x00, 0x01, 0x7F, 0x80, 0x81, 0xB7, 0xB8, 0xB9,
                                                  0xC0, 0xC1, 0xF7, 0xF8, 0xF9, 0xFF]))  # fmt: skip
        elif kind == "insert":
            entry[i:i] = bytes([data.draw(st.integers(0, 255))])
        elif kind == "delete" and len(entry) > 1:
            del entry[i]
        elif kind == "truncate" and i > 0:
            del entry[i:]
        elif kind == "append":
            entry += bytes([data.draw(st.integers(0, 255))])
        elif kind == "type":
            entry[0] = data.draw(st.sampled_from([0x00, 0x01, 0x02, 0x03, 0x04, 0x7D, 0x7E]))
    raw = bytes(entry)
    args = dict(nonce=5, gas=21_000, to=b"\x11" * 20, v=1, r=3, s=2**255)
    try:
        want: bytes | None = _full_tx(raw, 0, chain_id=CHAIN_ID, **args)  # type: ignore[arg-type]
    except SpanBatchError:
        want = None
    got = _splice_full_tx(raw, rlp.encode(CHAIN_ID), **args)  # type: ignore[arg-type]
    if got is not None:
        assert got == want  # answered: the same bytes; never an answer where _full_tx fails


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 2**64 - 1), max_size=20), st.binary(max_size=12))
def test_read_uvarints_matches_read_uvarint(values: list[int], tail: bytes) -> None:
    data = b"".join(write_uvarint(v) for v in values) + tail
    count = len(values) + (1 if tail else 0)
    try:
        want: object = []
        p = 0
        for _ in range(count):
            v, p = read_uvarint(data, p)
            want.append(v)  # type: ignore[attr-defined]
        want = (tuple(want), p)  # type: ignore[arg-type]
    except SpanBatchError as e:
        want = ("error", e.message, e.offset)
    try:
        got: object = read_uvarints(data, 0, count)
    except SpanBatchError as e:
        got = ("error", e.message, e.offset)
    assert got == want


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=300), min_size=1, max_size=6), st.data())
def test_inlined_tx_data_reader_matches_read_tx_data(bodies: list[bytes], data: st.DataObject) -> None:
    entries = [bytes((data.draw(st.sampled_from([0, 1, 2, 0x7D]) ),)) + rlp.encode([b])
               if data.draw(st.booleans()) else rlp.encode([b]) for b in bodies]  # fmt: skip
    blob = bytearray(b"".join(entries))
    if data.draw(st.booleans()) and blob:  # corrupt one byte
        blob[data.draw(st.integers(0, len(blob) - 1))] = data.draw(st.sampled_from([0x00, 0x38, 0xF8, 0xF9, 0xFA]))
    raw = bytes(blob)
    n = len(entries)
    # the section with no contract creations, zero y-parity, zero sigs, tos, then tx_datas
    head = bytes((n + 7) // 8) * 2 + bytes(64 * n) + bytes(20 * n)
    tail = b"\x00" * n * 2 + bytes((n + 7) // 8)
    section = head + raw + tail
    try:
        want: object = []
        p = len(head)
        for _ in range(n):
            d, t, p = read_tx_data(section, p)
            want.append((d, t))  # type: ignore[attr-defined]
    except SpanBatchError as e:
        want = ("error", e.message, e.offset)
    try:
        txs, _ = SpanBatchTxs.decode(section, 0, n)
        got: object = list(zip(txs.tx_datas, txs.tx_types, strict=True))
    except SpanBatchError as e:
        got = ("error", e.message, e.offset)
    if isinstance(want, list) and isinstance(got, tuple):
        # the entries read alike; decoding failed later (nonces/gases/protected bits of a
        # corrupted section), which the one-entry reader does not see
        assert got[0] == "error"
        return
    assert got == want


# Entries the splice must decline (each one breaks one canonical-form rule; the general path
# rejects all of them but the non-empty access list, SetCode and PostExec, which it accepts).
_V, _TIP, _FEE, _DATA = b"\x05", b"\x01", b"\x82\x03\xe8", b"\x82\xca\xfe"


def _t2(*items: bytes, extra: bytes = b"") -> bytes:
    body = b"".join(items) + extra
    head = bytes((0xC0 + len(body),)) if len(body) < 56 else bytes((0xF8, len(body)))
    return b"\x02" + head + body


_DECLINED = {
    "int with a leading zero byte": _t2(b"\x82\x00\x05", _TIP, _FEE, _DATA, b"\xc0"),
    "int 0 as 0x00": _t2(b"\x00", _TIP, _FEE, _DATA, b"\xc0"),
    "single byte wrapped": _t2(b"\x81\x05", _TIP, _FEE, _DATA, b"\xc0"),
    "long form for a short string": _t2(_V, _TIP, _FEE, b"\xb8\x02\xca\xfe", b"\xc0"),
    "list where an int belongs": _t2(_V, b"\xc0", _FEE, _DATA, b"\xc0"),
    "string where the access list belongs": _t2(_V, _TIP, _FEE, _DATA, b"\x80"),
    "non-empty access list": _t2(_V, _TIP, _FEE, _DATA, rlp.encode([[b"\x22" * 20, [b"\x33" * 32]]])),
    "one field too many": _t2(_V, _TIP, _FEE, _DATA, b"\xc0", b"\x01"),
    "one field too few": _t2(_V, _TIP, _FEE, _DATA),
    "bytes after the list": _t2(_V, _TIP, _FEE, _DATA, b"\xc0") + b"\x00",
    "list longer than the entry": b"\x02\xc9" + _V + _TIP,
    "0x00-prefixed legacy": b"\x00" + rlp.encode([5, 1, b""]),
    "SetCode": b"\x04" + rlp.encode([5, 1, 1000, b"", [], []]),
    "PostExec": b"\x7d" + rlp.encode([b"x"]),
    "list header in long form for a short list": b"\x02\xf8\x05" + _V + _TIP + b"\x01\x80\xc0",
}


def test_splice_declines_non_canonical_entries() -> None:
    for name, entry in _DECLINED.items():
        got = _splice_full_tx(entry, b"\x0a", 1, 21_000, b"\x11" * 20, 1, 1, 1)
        assert got is None, name
    # and the general path decides: the access-list case is valid, the others fail
    for name, entry in _DECLINED.items():
        if name in ("non-empty access list", "PostExec", "SetCode"):
            _full_tx(entry, 0, chain_id=10, nonce=1, gas=21_000, to=b"\x11" * 20, v=1, r=1, s=1)
            continue
        try:
            _full_tx(entry, 0, chain_id=10, nonce=1, gas=21_000, to=b"\x11" * 20, v=1, r=1, s=1)
        except SpanBatchError:
            continue
        raise AssertionError(f"{name}: general path accepted it")
