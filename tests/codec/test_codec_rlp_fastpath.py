"""``rlp_encode``'s fast paths (exact ``bytes`` / ``int`` / ``list`` / ``tuple``) give the same
bytes as pyrlp and as the general path (bytearray, memoryview, other sequences), and still
reject bools and negative integers."""

from __future__ import annotations

from typing import Any

import pytest
import rlp
from hypothesis import given, settings
from hypothesis import strategies as st

from pyop.codec.tx import rlp_encode

_leaf = st.binary(max_size=120) | st.integers(min_value=0, max_value=2**300)
_tree = st.recursive(_leaf, lambda kids: st.lists(kids, max_size=6), max_leaves=30)


def _as_tuples(x: Any) -> Any:
    return tuple(_as_tuples(y) for y in x) if isinstance(x, list) else x


def _as_slow_types(x: Any) -> Any:
    """The same value in types that miss the fast paths (bytearray, memoryview, a range-like
    sequence)."""
    if isinstance(x, list):
        return _Seq([_as_slow_types(y) for y in x])
    if isinstance(x, bytes):
        return bytearray(x) if len(x) % 2 else memoryview(x)
    return x


class _Seq:
    """A minimal sequence that is neither list nor tuple."""

    def __init__(self, items: list[Any]) -> None:
        self.items = items

    def __iter__(self) -> Any:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> Any:
        return self.items[i]


@given(_tree)
@settings(max_examples=300)
def test_fast_paths_match_pyrlp_and_general_path(item: Any) -> None:
    want = rlp.encode(item)
    assert rlp_encode(item) == want
    assert rlp_encode(_as_tuples(item)) == want
    assert rlp_encode(_as_slow_types(item)) == want


@pytest.mark.parametrize("n", [0, 1, 0x7F, 0x80, 0xFF, 0x100, 2**64 - 1, 2**256 - 1, 2**447])
def test_int_boundaries(n: int) -> None:
    assert rlp_encode(n) == rlp.encode(n)


@pytest.mark.parametrize("length", [0, 1, 55, 56, 255, 256, 70_000])
def test_bytes_and_list_length_boundaries(length: int) -> None:
    b = b"\x81" * length
    assert rlp_encode(b) == rlp.encode(b)
    assert rlp_encode(b"\x00" if length == 1 else b) == rlp.encode(b"\x00" if length == 1 else b)
    lst = [b"\x01"] * length
    assert rlp_encode(lst) == rlp.encode(lst)


def test_rejects_bool_and_negative() -> None:
    with pytest.raises(TypeError):
        rlp_encode(True)
    with pytest.raises(TypeError):
        rlp_encode([1, False])
    with pytest.raises(ValueError):
        rlp_encode(-1)
    with pytest.raises(ValueError):
        rlp_encode((5, -200))
