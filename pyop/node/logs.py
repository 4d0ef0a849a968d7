"""Structured logs in logfmt, like op-node's default text handler (go-ethereum ``log``
``TerminalFormat``/``LogfmtFormat``): ``t=2024-10-01T12:00:00.000Z lvl=info msg="..." k=v``.

Use :func:`kv` to attach key/values: ``log.info("pipeline reset", extra=kv(stage="driver",
reason="L1 reorg"))``. Records from other pyop loggers (derivation drops, engine) get
``logger=<name>``. Levels follow op-node's names (``trace`` maps to DEBUG, ``crit`` to CRITICAL).
"""

from __future__ import annotations

import logging
import sys
import time
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

KV_ATTR = "pyop_kv"


def kv(**fields: object) -> dict[str, object]:
    """``extra=`` for a log call carrying key/value fields."""
    return {KV_ATTR: fields}


def _quote(v: object) -> str:
    s = v if isinstance(v, str) else str(v)
    if s == "" or any(c in s for c in ' "=\n\t\\'):
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    return s


def format_logfmt(ts: float, level: int, msg: str, fields: Mapping[str, object]) -> str:
    """One logfmt line (no newline)."""
    t = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int((ts % 1) * 1000):03d}Z"
    parts = [f"t={t}", f"lvl={_LVL_NAMES.get(level, logging.getLevelName(level).lower())}",
             f"msg={_quote(msg)}"]  # fmt: skip
    parts += [f"{k}={_quote(v)}" for k, v in fields.items()]
    return " ".join(parts)


class LogfmtFormatter(logging.Formatter):
    """Formats records as logfmt (see the module docstring)."""

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, object] = {}
        if not record.name.startswith("pyop.node"):
            fields["logger"] = record.name
        extra = getattr(record, KV_ATTR, None)
        if isinstance(extra, Mapping):
            fields.update(extra)
        if record.exc_info and record.exc_info[1] is not None:
            fields["err"] = f"{type(record.exc_info[1]).__name__}: {record.exc_info[1]}"
        return format_logfmt(record.created, record.levelno, record.getMessage(), fields)


def setup_logging(level: str = "info", stream: TextIO | None = None) -> logging.Handler:
    """Route the ``pyop`` loggers to ``stream`` (stderr) in logfmt at ``level``; returns the
    handler (remove it to undo)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(LogfmtFormatter())
    root = logging.getLogger("pyop")
    root.handlers = [h for h in root.handlers if not isinstance(h.formatter, LogfmtFormatter)]
    root.addHandler(handler)
    root.setLevel(LEVELS.get(level.lower(), logging.INFO))
    root.propagate = False
    return handler


def set_level(level: str) -> None:
    """``admin_setLogLevel``-style change of the ``pyop`` log level."""
    if level.lower() not in LEVELS:
        raise ValueError(f"unknown log level {level!r}")
    logging.getLogger("pyop").setLevel(LEVELS[level.lower()])
