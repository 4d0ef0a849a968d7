"""Reading the Go-produced derivation fixtures (``spec_vectors/derivation/differential/*.json.gz``,
written by ``scripts/capture-fixtures.py``) as raw JSON, for the fixture test modules that check
the file itself beside what ``pyop derive`` makes of it."""

from __future__ import annotations

import gzip
import json
from functools import cache
from pathlib import Path
from typing import Any


@cache
def read_raw(path: Path) -> dict[str, Any]:
    """The fixture's JSON object (read once per test process; callers must not mutate it)."""
    assert path.is_file(), f"missing {path}"
    obj = json.loads(gzip.decompress(path.read_bytes()))
    assert isinstance(obj, dict), f"{path}: not a JSON object"
    return obj


def num(v: object) -> int:
    """A fixture quantity: a ``0x`` hex string (Go's hexutil) or a JSON number."""
    if isinstance(v, str) and v.startswith("0x"):
        return int(v, 16)
    if isinstance(v, int | str):
        return int(v)
    raise TypeError(f"not a quantity: {v!r}")
