"""Canonical JSON values that both sides of a differential test produce.

The Go peer (``interop/go/difftest``) and pyop's side write their results with the same
conventions, so that two results are equal exactly when their canonical JSON texts are:

- byte strings are ``0x``-hex, except that strings longer than :data:`BIG_BYTES` are written as
  ``"#<length>:<keccak256 hex>"`` (maximal channels and blobs would otherwise make responses
  megabytes long);
- integers are JSON numbers; integers that may exceed 64 bits (fees) are decimal strings;
- an error is ``{"err": KIND}``, where KIND names what the pipeline does with it, not the message.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from eth_hash.auto import keccak

#: Byte strings longer than this are written by length and hash (same constant in the Go peer).
BIG_BYTES = 256

JSON = object


def b(data: bytes) -> str:
    """The canonical form of a byte string (see the module docstring)."""
    if len(data) > BIG_BYTES:
        return f"#{len(data)}:{keccak(bytes(data)).hex()}"
    return "0x" + bytes(data).hex()


def bs(items: Iterable[bytes]) -> list[str]:
    """:func:`b` over a list."""
    return [b(x) for x in items]


def dumps(value: JSON) -> str:
    """The canonical text of a value: sorted keys, no whitespace. Two results agree iff their
    texts are equal (so ``true`` never equals ``1``, unlike Python's ``==``)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def hexb(s: object, what: str = "value") -> bytes:
    """Decode an input hex string (``0x`` optional)."""
    if not isinstance(s, str):
        raise TypeError(f"{what}: expected a hex string")
    t = s[2:] if s[:2] in ("0x", "0X") else s
    return bytes.fromhex(t)


def h(data: bytes) -> str:
    """Plain ``0x``-hex of an input field (inputs are never abbreviated)."""
    return "0x" + bytes(data).hex()
