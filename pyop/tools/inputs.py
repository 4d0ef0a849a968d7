"""Reading tool inputs: a file path or ``-`` (stdin), holding raw bytes or hex text.

Hex text may carry a ``0x`` prefix, surrounding whitespace and a trailing newline; anything
else is taken as raw bytes. A path that does not exist but looks like hex is taken as the hex
itself (so ``pyop decode l1-info 0x015d8eb9...`` works).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from pyop.primitives import PyopError

_HEX_RE = re.compile(rb"\A\s*(?:0[xX])?([0-9a-fA-F\s]*)\s*\Z")


class InputError(PyopError):
    """An input file or argument that cannot be read."""


def bytes_from_text_or_raw(content: bytes) -> bytes:
    """Detect hex text vs raw bytes; decode hex text."""
    m = _HEX_RE.match(content)
    if m is not None and content.strip():
        digits = re.sub(rb"\s", b"", m.group(1))
        if len(digits) % 2 == 0:
            return bytes.fromhex(digits.decode("ascii"))
        if content.strip()[:2] in (b"0x", b"0X"):
            raise InputError(f"hex input has an odd number of digits ({len(digits)})")
    return content


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # e.g. a long hex string is "File name too long"
        return False


def read_input(source: str, *, allow_inline_hex: bool = False) -> bytes:
    """Read ``source`` (a path or ``-``) and return its bytes, hex-decoded when it is hex text."""
    if source == "-":
        content = sys.stdin.buffer.read()
    else:
        path = Path(source)
        if allow_inline_hex and _HEX_RE.match(source.encode()) and not _is_file(path):
            return bytes_from_text_or_raw(source.encode())
        try:
            content = path.read_bytes()
        except OSError as e:
            raise InputError(f"cannot read {source}: {e.strerror or e}") from None
    return bytes_from_text_or_raw(content)
