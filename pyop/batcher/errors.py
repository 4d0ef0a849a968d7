"""Errors of the batcher (Go op-batcher's sentinel errors), typed by what the caller does."""

from __future__ import annotations

from pyop.primitives import PyopError

__all__ = ["BatcherConfigError", "BatcherError", "BatcherNotRunningError", "L2ReorgError",
           "StartupError"]  # fmt: skip


class BatcherError(PyopError):
    """Base class of the batcher's errors."""


class BatcherConfigError(BatcherError):
    """A bad flag, environment variable or channel configuration: the batcher does not start."""


class StartupError(BatcherError):
    """The batcher cannot start: unreachable L1/L2/rollup node, missing or unfunded key, a
    rollup config that does not match the L2 chain (one log line, non-zero exit)."""


class L2ReorgError(BatcherError):
    """A loaded L2 block does not extend the previous one (Go ``ErrReorg``, "block does not
    extend existing chain"): the batcher clears its state and restarts from the safe head."""


class BatcherNotRunningError(BatcherError):
    """``admin_stopBatcher`` / ``admin_flushBatcher`` while stopped (Go
    ``ErrBatcherNotRunning``)."""
