"""Structured logs in op-node's formats (``--log.format``, op-service/log ``FormatHandler`` on
go-ethereum's ``log`` handlers):

- ``logfmt``: ``t=2024-10-01T12:00:00+0000 lvl=info msg="..." k=v`` (``timeFormat``
  ``2006-01-02T15:04:05-0700``, local time);
- ``logfmtms``: the same with milliseconds, ``t=2024-10-01T12:00:00.000+0000``;
- ``json``: one JSON object per line, ``{"t": RFC 3339 with nanoseconds, "lvl", "msg", k: v}``;
- ``jsonms``: the same (op-node's ``JSONMsHandler`` keeps the RFC 3339 time);
- ``terminal``: ``INFO [10-01|12:00:00.000] message                        k=v`` (the level
  padded to 5, the message padded to 40 characters when key/values follow), colored with
  ``--log.color``;
- ``text`` (the default): ``terminal`` when colors are on (``--log.color``, default: stdout is a
  terminal), else ``logfmt``.

``--log.pid`` adds ``pid=<process id>`` to every line (op-service/log ``NewLogger``).

Use :func:`kv` to attach key/values: ``log.info("pipeline reset", extra=kv(stage="driver",
reason="L1 reorg"))``. Records from other pyop loggers (derivation drops, engine) get
``logger=<name>``. Levels follow op-node's names (``trace`` maps to DEBUG, ``crit`` to
CRITICAL); :func:`set_level` changes the level at run time (``admin_setLogLevel``).
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import sys
from collections.abc import Mapping
from typing import TextIO

LEVELS = {
    "trace": logging.DEBUG,
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warn": logging.WARNING,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "crit": logging.CRITICAL,
}
_LVL_NAMES = {logging.DEBUG: "debug", logging.INFO: "info", logging.WARNING: "warn",
              logging.ERROR: "error", logging.CRITICAL: "crit"}  # fmt: skip
#: go-ethereum ``LevelAlignedString``
_LVL_ALIGNED = {logging.DEBUG: "DEBUG", logging.INFO: "INFO ", logging.WARNING: "WARN ",
                logging.ERROR: "ERROR", logging.CRITICAL: "CRIT "}  # fmt: skip
#: go-ethereum terminal colors by level
_LVL_COLOR = {logging.DEBUG: "\x1b[36m", logging.INFO: "\x1b[32m", logging.WARNING: "\x1b[33m",
              logging.ERROR: "\x1b[31m", logging.CRITICAL: "\x1b[35m"}  # fmt: skip
TERM_MSG_JUST = 40
FORMATS = ("text", "terminal", "logfmt", "logfmtms", "json", "jsonms")

KV_ATTR = "pyop_kv"
#: loggers whose level follows the node's (``pyop.derivation`` is quieter: see
#: :func:`set_level`)
ROOT = "pyop"
DERIVATION = "pyop.derivation"


def kv(**fields: object) -> dict[str, object]:
    """``extra=`` for a log call carrying key/value fields."""
    return {KV_ATTR: fields}


def _quote(v: object) -> str:
    s = v if isinstance(v, str) else str(v)
    if s == "" or any(c in s for c in ' "=\n\t\\'):
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    return s


def _local(ts: float) -> _dt.datetime:
    return _dt.datetime.fromtimestamp(ts).astimezone()


def go_time(ts: float, *, ms: bool = False) -> str:
    """Go's ``2006-01-02T15:04:05-0700`` (``ms``: ``...05.000-0700``) in local time."""
    d = _local(ts)
    base = d.strftime("%Y-%m-%dT%H:%M:%S")
    if ms:
        base += f".{d.microsecond // 1000:03d}"
    return base + d.strftime("%z")


def format_logfmt(ts: float, level: int, msg: str, fields: Mapping[str, object], *, ms: bool = False) -> str:
    """One logfmt line (no newline)."""
    parts = [f"t={go_time(ts, ms=ms)}", f"lvl={_LVL_NAMES.get(level, logging.getLevelName(level).lower())}",
             f"msg={_quote(msg)}"]  # fmt: skip
    parts += [f"{k}={_quote(v)}" for k, v in fields.items()]
    return " ".join(parts)


def _json_value(v: object) -> object:
    if isinstance(v, (bool, int, float)) or v is None:
        return v
    if isinstance(v, bytes):
        return "0x" + v.hex()
    return str(v)


def format_json(ts: float, level: int, msg: str, fields: Mapping[str, object]) -> str:
    """One JSON line: ``t`` (RFC 3339, nanosecond precision as Go's slog writes it), ``lvl``,
    ``msg``, then the fields."""
    t = _local(ts).isoformat(timespec="microseconds")
    obj: dict[str, object] = {"t": t, "lvl": _LVL_NAMES.get(level, logging.getLevelName(level).lower()),
                              "msg": msg}  # fmt: skip
    for k, v in fields.items():
        obj[k] = _json_value(v)
    return json.dumps(obj, separators=(",", ":"))


def format_terminal(ts: float, level: int, msg: str, fields: Mapping[str, object], *, color: bool = False) -> str:
    """go-ethereum ``TerminalHandler``: ``LVL  [MM-DD|HH:MM:SS.mmm] msg  k=v ...``."""
    d = _local(ts)
    lvl = _LVL_ALIGNED.get(level, "INFO ")
    c = _LVL_COLOR.get(level, "") if color else ""
    head = f"{c}{lvl}\x1b[0m" if c else lvl
    out = f"{head}[{d.strftime('%m-%d|%H:%M:%S')}.{d.microsecond // 1000:03d}] {msg}"
    if fields and len(msg) < TERM_MSG_JUST:
        out += " " * (TERM_MSG_JUST - len(msg))
    for k, v in fields.items():
        key = f"{c}{k}\x1b[0m" if c else k
        out += f" {key}={_quote(v)}"
    return out


class NodeFormatter(logging.Formatter):
    """Formats records in one of :data:`FORMATS` (see the module docstring)."""

    def __init__(self, fmt: str = "logfmt", *, color: bool = False, pid: bool = False) -> None:
        super().__init__()
        if fmt not in FORMATS:
            raise ValueError(f"unrecognized log-format: {fmt!r}")
        self.color = color
        self.fmt = ("terminal" if color else "logfmt") if fmt == "text" else fmt
        self.pid = pid

    def fields(self, record: logging.LogRecord) -> dict[str, object]:
        fields: dict[str, object] = {}
        if self.pid:
            fields["pid"] = os.getpid()
        if not record.name.startswith("pyop.node"):
            fields["logger"] = record.name
        extra = getattr(record, KV_ATTR, None)
        if isinstance(extra, Mapping):
            fields.update(extra)
        if record.exc_info and record.exc_info[1] is not None:
            fields["err"] = f"{type(record.exc_info[1]).__name__}: {record.exc_info[1]}"
        return fields

    def format(self, record: logging.LogRecord) -> str:
        f = self.fields(record)
        msg, ts, lvl = record.getMessage(), record.created, record.levelno
        if self.fmt in ("json", "jsonms"):
            return format_json(ts, lvl, msg, f)
        if self.fmt == "terminal":
            return format_terminal(ts, lvl, msg, f, color=self.color)
        return format_logfmt(ts, lvl, msg, f, ms=self.fmt == "logfmtms")


#: the formatter of earlier pyop versions (logfmt), kept for callers that build one by name
LogfmtFormatter = NodeFormatter


def setup_logging(level: str = "info", stream: TextIO | None = None, *, fmt: str = "logfmt",
                  color: bool | None = None, pid: bool = False) -> logging.Handler:  # fmt: skip
    """Route the ``pyop`` loggers to ``stream`` (stderr) in format ``fmt`` at ``level``;
    returns the handler (remove it to undo). ``color=None``: colors when stdout is a terminal
    (op-service/log ``DefaultCLIConfig``)."""
    if color is None:
        color = sys.stdout.isatty()
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(NodeFormatter(fmt, color=color, pid=pid))
    root = logging.getLogger(ROOT)
    root.handlers = [h for h in root.handlers if not isinstance(h.formatter, NodeFormatter)]
    root.addHandler(handler)
    root.propagate = False
    set_level(level)
    return handler


def set_level(level: str) -> None:
    """Set the ``pyop`` log level (``admin_setLogLevel``; op-service ``LevelFromString`` names).
    The derivation stages' own loggers stay at ERROR unless the level is debug/trace: the driver
    already logs every drop and decision once (:class:`pyop.node.driver.DriverObserver`)."""
    name = level.lower()
    if name not in LEVELS:
        raise ValueError(f"unknown level: {level}")
    logging.getLogger(ROOT).setLevel(LEVELS[name])
    logging.getLogger(DERIVATION).setLevel(logging.DEBUG if name in ("debug", "trace") else logging.ERROR)
