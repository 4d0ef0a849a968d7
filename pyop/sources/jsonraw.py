"""Raw JSON values of a JSON-RPC message, as bytes on the wire.

op-service's RPC metrics count ``len(msg.MsgParams())`` and ``len(output.MsgResult())``:
op-geth's ``jsonrpcMessage.Params`` / ``Result`` are ``json.RawMessage``, the exact bytes of the
``params`` / ``result`` value as they appear in the message (op-geth ``rpc/recording.go``,
``rpc/json.go``). :func:`member_sizes` finds those spans in a serialized JSON object without
re-encoding anything, so the count is the bytes that really crossed the wire.
"""

from __future__ import annotations

import json
from json.decoder import scanstring  # type: ignore[attr-defined]

_DECODER = json.JSONDecoder()
_WS = " \t\n\r"


def _skip(text: str, i: int) -> int:
    while i < len(text) and text[i] in _WS:
        i += 1
    return i


def _object_members(text: str, i: int) -> tuple[dict[str, int], int]:
    """``{key: UTF-8 byte length of the raw value}`` of the object at ``text[i]`` (a ``{``), and
    the index after it. A repeated key keeps its last value (as Go's decoder does)."""
    if text[i] != "{":
        raise ValueError("not a JSON object")
    out: dict[str, int] = {}
    i = _skip(text, i + 1)
    if text[i] == "}":
        return out, i + 1
    while True:
        if text[i] != '"':
            raise ValueError("expected a member name")
        key, i = scanstring(text, i + 1)
        i = _skip(text, i)
        if text[i] != ":":
            raise ValueError("expected ':'")
        start = _skip(text, i + 1)
        _value, end = _DECODER.raw_decode(text, start)
        out[key] = len(text[start:end].encode())
        i = _skip(text, end)
        if text[i] == "}":
            return out, i + 1
        if text[i] != ",":
            raise ValueError("expected ',' or '}'")
        i = _skip(text, i + 1)


def member_sizes(body: bytes | str) -> list[dict[str, int]]:
    """Per JSON-RPC message in ``body`` (one object, or a batch array of them), the byte length
    of each member's raw value; non-object batch items give ``{}``. :class:`ValueError` if
    ``body`` is not JSON."""
    text = body.decode() if isinstance(body, bytes) else body
    i = _skip(text, 0)
    if i >= len(text):
        raise ValueError("empty body")
    if text[i] == "{":
        return [_object_members(text, i)[0]]
    if text[i] != "[":
        raise ValueError("not a JSON-RPC message")
    out: list[dict[str, int]] = []
    i = _skip(text, i + 1)
    if text[i] == "]":
        return out
    while True:
        if text[i] == "{":
            members, i = _object_members(text, i)
            out.append(members)
        else:
            _v, i = _DECODER.raw_decode(text, i)
            out.append({})
        i = _skip(text, i)
        if text[i] == "]":
            return out
        if text[i] != ",":
            raise ValueError("expected ',' or ']'")
        i = _skip(text, i + 1)


__all__ = ["member_sizes"]
