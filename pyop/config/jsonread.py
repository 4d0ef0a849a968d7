"""Strict, path-naming readers for JSON objects (rollup.json and friends).

Every problem raises ``RollupConfigError`` whose ``path`` is the JSON path of the field
(``genesis.system_config.gasLimit``). Unknown keys are an error naming the key, as op-node's
strict ``rollup.json`` decoder does (op-node ``rollup.ParseRollupConfig``: DisallowUnknownFields).
"""

from __future__ import annotations

from collections.abc import Mapping

from pyop.config.errors import RollupConfigError
from pyop.primitives import HexError, from_hex

U64_MAX = 2**64 - 1


def join(path: str, key: str) -> str:
    """``join("genesis", "l1") == "genesis.l1"``; an empty parent path gives just the key."""
    return f"{path}.{key}" if path else key


def _type_name(v: object) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int | float):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    if isinstance(v, dict):
        return "object"
    return type(v).__name__


def check_int(v: object, path: str, lo: int = 0, hi: int | None = U64_MAX) -> int:
    """A JSON integer (not a boolean, not a float) in ``[lo, hi]``."""
    if isinstance(v, bool) or not isinstance(v, int):
        raise RollupConfigError(f"expected an integer, got {_type_name(v)} {v!r}", path)
    if v < lo or (hi is not None and v > hi):
        bound = f"[{lo}, {hi}]" if hi is not None else f">= {lo}"
        raise RollupConfigError(f"integer {v} out of range {bound}", path)
    return v


def check_hex(v: object, path: str, length: int) -> bytes:
    """A ``0x``-prefixed hex string of exactly ``length`` bytes (go-ethereum ``hexutil`` rules)."""
    if not isinstance(v, str):
        raise RollupConfigError(f"expected a 0x-prefixed hex string, got {_type_name(v)}", path)
    if v[:2] not in ("0x", "0X"):
        raise RollupConfigError(f"hex string without 0x prefix: {v!r}", path)
    try:
        return from_hex(v, length=length, what="value")
    except HexError as e:
        raise RollupConfigError(str(e).removeprefix("value: "), path) from None


class ObjectReader:
    """Reads the fields of one JSON object, remembering which keys were consumed.

    ``finish()`` raises on the first key that no reader consumed. ``hints`` maps known legacy
    or foreign keys to an explanation added to the unknown-field error.
    """

    def __init__(self, obj: object, path: str, hints: Mapping[str, str] | None = None) -> None:
        if not isinstance(obj, dict):
            raise RollupConfigError(f"expected a JSON object, got {_type_name(obj)}", path)
        for k in obj:
            if not isinstance(k, str):
                raise RollupConfigError(f"object key {k!r} is not a string", path)
        self._obj: dict[str, object] = obj
        self.path = path
        self._seen: set[str] = set()
        self._hints = hints or {}

    def sub(self, key: str) -> str:
        return join(self.path, key)

    def present(self, key: str) -> bool:
        """True if the key is present with a non-null value."""
        return self._obj.get(key) is not None

    def raw(self, key: str, *, required: bool) -> object | None:
        """The value, or None if absent/null (an error if required)."""
        self._seen.add(key)
        v = self._obj.get(key)
        if v is None and required:
            what = "is null" if key in self._obj else "is missing"
            raise RollupConfigError(f"required field {what}", self.sub(key))
        return v

    def uint(self, key: str, *, hi: int | None = U64_MAX) -> int:
        return check_int(self.raw(key, required=True), self.sub(key), 0, hi)

    def opt_uint(self, key: str, *, hi: int | None = U64_MAX) -> int | None:
        v = self.raw(key, required=False)
        return None if v is None else check_int(v, self.sub(key), 0, hi)

    def hex(self, key: str, length: int) -> bytes:
        return check_hex(self.raw(key, required=True), self.sub(key), length)

    def opt_hex(self, key: str, length: int) -> bytes | None:
        v = self.raw(key, required=False)
        return None if v is None else check_hex(v, self.sub(key), length)

    def string(self, key: str) -> str:
        v = self.raw(key, required=True)
        if not isinstance(v, str):
            raise RollupConfigError(f"expected a string, got {_type_name(v)}", self.sub(key))
        return v

    def opt_bool(self, key: str) -> bool | None:
        v = self.raw(key, required=False)
        if v is None:
            return None
        if not isinstance(v, bool):
            raise RollupConfigError(f"expected a boolean, got {_type_name(v)}", self.sub(key))
        return v

    def obj(self, key: str, hints: Mapping[str, str] | None = None) -> ObjectReader:
        return ObjectReader(self.raw(key, required=True), self.sub(key), hints)

    def opt_obj(self, key: str, hints: Mapping[str, str] | None = None) -> ObjectReader | None:
        v = self.raw(key, required=False)
        return None if v is None else ObjectReader(v, self.sub(key), hints)

    def skip(self, *keys: str) -> None:
        """Mark keys as consumed without reading them."""
        self._seen.update(keys)

    def finish(self) -> None:
        """Raise ``RollupConfigError`` naming the first key no reader consumed."""
        for k in self._obj:
            if k not in self._seen:
                hint = self._hints.get(k)
                msg = f"unknown field {k!r}" + (f" ({hint})" if hint else "")
                raise RollupConfigError(msg, self.sub(k))
