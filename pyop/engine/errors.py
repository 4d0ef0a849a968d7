"""Engine API errors, classified by what the caller must do (op-node ``derive.NewTemporaryError``
/ ``NewResetError`` / ``NewCriticalError`` around the engine; kona ``EngineTaskErrorSeverity``).

- :class:`EngineTemporaryError`: retry the same call later (transport failure, timeout, HTTP 5xx,
  JSON-RPC ``-32000`` server error, engine ``SYNCING``, an unparsable answer).
- :class:`EngineResetError`: the engine's forkchoice and ours disagree; find the heads again
  (``-38002`` invalid forkchoice state), or the build job is gone (``-38001`` unknown payload),
  or the attributes were refused (``-38003`` invalid payload attributes: derived attributes are
  then dropped / replaced by deposit-only ones, as for an ``INVALID`` payload).
- :class:`EngineCriticalError`: a request this node built is not acceptable to the engine
  (``-38004`` too large, ``-38005`` unsupported fork: the rollup config's fork times disagree with
  op-geth's, ``-32601`` method not found, ``-32602`` invalid params); retrying cannot help.
- :class:`PayloadRejected`: ``newPayload`` / ``forkchoiceUpdated`` answered ``INVALID`` or
  ``INVALID_BLOCK_HASH`` (the payload itself is bad).

Each subclasses the matching :mod:`pyop.errors` class, so a driver loop can treat engine and
derivation errors alike. Error codes: execution-apis src/engine/common.md "Errors".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyop.errors import CriticalError, ResetError, TemporaryError
from pyop.primitives import PyopError

if TYPE_CHECKING:
    from pyop.engine.client import PayloadStatus

# JSON-RPC error codes (execution-apis src/engine/common.md#errors)
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
SERVER_ERROR = -32000
UNKNOWN_PAYLOAD = -38001
INVALID_FORKCHOICE_STATE = -38002
INVALID_PAYLOAD_ATTRIBUTES = -38003
TOO_LARGE_REQUEST = -38004
UNSUPPORTED_FORK = -38005


class EngineError(PyopError):
    """Base of every Engine API error. ``method`` and ``code`` (JSON-RPC error code) when known."""

    def __init__(self, message: str, *, method: str = "", code: int | None = None) -> None:
        super().__init__(message)
        self.method = method
        self.code = code


class EngineTemporaryError(EngineError, TemporaryError):
    """Retry later."""


class EngineSyncingError(EngineTemporaryError):
    """The engine answered ``SYNCING`` (op-node ``ErrEngineSyncing``)."""


class EngineResponseError(EngineTemporaryError):
    """The engine's answer is not what the Engine API specifies (missing field, bad hex)."""


class EngineResetError(EngineError, ResetError):
    """Forkchoice state inconsistent with the engine: reset (find the L2 heads again)."""


class UnknownPayloadError(EngineResetError):
    """``-38001``: the payload id is unknown (the build job expired); build again."""


class InvalidForkchoiceStateError(EngineResetError):
    """``-38002``: the forkchoice state is invalid for the engine."""


class InvalidPayloadAttributesError(EngineResetError):
    """``-38003``: the engine refused the payload attributes."""


class EngineCriticalError(EngineError, CriticalError):
    """A request the engine can never accept: halt."""


class PayloadRejected(EngineError):
    """The engine found the payload ``INVALID`` / ``INVALID_BLOCK_HASH``. ``status`` holds the
    engine's ``latestValidHash`` and ``validationError``."""

    def __init__(self, message: str, status: PayloadStatus, *, method: str = "") -> None:
        super().__init__(message, method=method)
        self.status = status


def error_for_code(code: int, message: str, method: str) -> EngineError:
    """The typed error for a JSON-RPC error ``code`` answered to ``method``."""
    text = f"{method}: {message} (code {code})"
    if code == UNKNOWN_PAYLOAD:
        return UnknownPayloadError(text, method=method, code=code)
    if code == INVALID_FORKCHOICE_STATE:
        return InvalidForkchoiceStateError(text, method=method, code=code)
    if code == INVALID_PAYLOAD_ATTRIBUTES:
        return InvalidPayloadAttributesError(text, method=method, code=code)
    if code in (TOO_LARGE_REQUEST, UNSUPPORTED_FORK, METHOD_NOT_FOUND, INVALID_PARAMS, INVALID_REQUEST):
        return EngineCriticalError(text, method=method, code=code)
    return EngineTemporaryError(text, method=method, code=code)
