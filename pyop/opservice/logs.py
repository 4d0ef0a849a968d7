"""Structured logs in op-service's formats (``op-service/log``: ``--log.level``,
``--log.format``): logfmt (``text``, ``terminal``, ``logfmt``, ``logfmtms``) and JSON (``json``,
``jsonms``), one record per line.

- logfmt, as go-ethereum's ``LogfmtFormat``: ``t=2024-10-01T12:00:00.000Z lvl=info msg="..." k=v``
- JSON, as go-ethereum's ``JSONHandler``: ``{"t": "...", "lvl": "info", "msg": "...", "k": v}``

Attach key/values with :func:`kv`: ``log.info("channel closed", extra=kv(id=cid, frames=3))``.
Levels use Go's names: ``trace`` (DEBUG), ``debug``, ``info``, ``warn``, ``error``, ``crit``.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Mapping
from typing import TextIO

from pyop.primitives import PyopError

LEVELS = {
    "trace": logging.DEBUG,
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warn": logging.WARNING,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "crit": logging.CRITICAL,
}
FORMATS = ("text", "terminal", "logfmt", "logfmtms", "json", "jsonms")
_LVL_NAMES = {logging.DEBUG: "debug", logging.INFO: "info", logging.WARNING: "warn",
              logging.ERROR: "error", logging.CRITICAL: "crit"}  # fmt: skip
KV_ATTR = "pyop_kv"

__all__ = ["FORMATS", "LEVELS", "JSONFormatter", "LogConfigError", "LogfmtFormatter", "kv",
           "set_level", "setup_logging"]  # fmt: skip


class LogConfigError(PyopError):
    """An unknown ``--log.level`` or ``--log.format``."""


def kv(**fields: object) -> dict[str, object]:
    """``extra=`` for a log call carrying key/value fields."""
    return {KV_ATTR: fields}


def _ts(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int((ts % 1) * 1000):03d}Z"


def _quote(v: object) -> str:
    s = v if isinstance(v, str) else str(v)
    if s == "" or any(c in s for c in ' "=\n\t\\'):
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    return s


def _fields(record: logging.LogRecord, own_prefix: str) -> dict[str, object]:
    fields: dict[str, object] = {}
    if not record.name.startswith(own_prefix):
        fields["logger"] = record.name
    extra = getattr(record, KV_ATTR, None)
    if isinstance(extra, Mapping):
        fields.update(extra)
    if record.exc_info and record.exc_info[1] is not None:
        fields["err"] = f"{type(record.exc_info[1]).__name__}: {record.exc_info[1]}"
    return fields


def _level(record: logging.LogRecord) -> str:
    return _LVL_NAMES.get(record.levelno, logging.getLevelName(record.levelno).lower())


class LogfmtFormatter(logging.Formatter):
    """logfmt lines (see the module docstring); records of loggers outside ``own_prefix`` get
    ``logger=<name>``."""

    def __init__(self, own_prefix: str = "pyop") -> None:
        super().__init__()
        self.own_prefix = own_prefix

    def format(self, record: logging.LogRecord) -> str:
        parts = [f"t={_ts(record.created)}", f"lvl={_level(record)}",
                 f"msg={_quote(record.getMessage())}"]  # fmt: skip
        parts += [f"{k}={_quote(v)}" for k, v in _fields(record, self.own_prefix).items()]
        return " ".join(parts)


class JSONFormatter(logging.Formatter):
    """One JSON object per line: ``t``, ``lvl``, ``msg``, then the key/values."""

    def __init__(self, own_prefix: str = "pyop") -> None:
        super().__init__()
        self.own_prefix = own_prefix

    def format(self, record: logging.LogRecord) -> str:
        obj: dict[str, object] = {"t": _ts(record.created), "lvl": _level(record),
                                  "msg": record.getMessage()}  # fmt: skip
        for k, v in _fields(record, self.own_prefix).items():
            obj[k] = v if isinstance(v, (int, float, bool, str)) or v is None else str(v)
        return json.dumps(obj, separators=(",", ":"))


def setup_logging(level: str = "info", fmt: str = "text", *, root: str = "pyop",
                  own_prefix: str | None = None, stream: TextIO | None = None) -> logging.Handler:  # fmt: skip
    """Route the ``root`` logger (and its children) to ``stream`` (stderr) at ``level`` in
    format ``fmt``; returns the handler. :class:`LogConfigError` for an unknown level/format."""
    if level.lower() not in LEVELS:
        raise LogConfigError(f"unknown log level {level!r} (one of {', '.join(LEVELS)})")
    if fmt.lower() not in FORMATS:
        raise LogConfigError(f"unknown log format {fmt!r} (one of {', '.join(FORMATS)})")
    prefix = own_prefix or root
    formatter: logging.Formatter = (
        JSONFormatter(prefix) if fmt.lower().startswith("json") else LogfmtFormatter(prefix)
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    logger = logging.getLogger(root)
    logger.handlers = [h for h in logger.handlers
                       if not isinstance(h.formatter, (LogfmtFormatter, JSONFormatter))]  # fmt: skip
    logger.addHandler(handler)
    logger.setLevel(LEVELS[level.lower()])
    logger.propagate = False
    return handler


def set_level(level: str, root: str = "pyop") -> None:
    """``admin_setLogLevel``: change the level of ``root``."""
    if level.lower() not in LEVELS:
        raise LogConfigError(f"unknown log level {level!r}")
    logging.getLogger(root).setLevel(LEVELS[level.lower()])
