"""Engine API errors, classified by what the caller must do (op-node ``derive.NewTemporaryError``
/ ``NewResetError`` / ``NewCriticalError`` around the engine; kona ``EngineTaskErrorSeverity``).

- :class:`EngineTemporaryError`: retry the same call later (transport failure, timeout, HTTP 5xx,
  an unparsable answer, engine ``SYNCING`` on a build).
- :class:`EngineResetError`: the engine's forkchoice and ours disagree; find the heads again.
- :class:`EngineCriticalError`: halt the node.
- :class:`PayloadRejected`: ``newPayload`` / ``forkchoiceUpdated`` answered ``INVALID`` or
  ``INVALID_BLOCK_HASH`` (the payload itself is bad).

A JSON-RPC error answer is an :class:`EngineRPCError` carrying its ``code`` (one subclass per
Engine API code, execution-apis src/engine/common.md "Errors"). By itself it is temporary, as
op-node treats an error it does not single out; what a code means depends on the call, so the
engine controller classifies it at each call site the way op-node v1.19.6 does
(``engine_controller.go`` ``startPayload`` / ``tryUpdateEngineInternal`` / ``insertUnsafePayload``,
``build_seal.go`` ``sealBuild``, ``payload_process.go`` ``processNewPayload``):

====================  ====================  =================  ==================  ===============
code                  forkchoiceUpdated     forkchoiceUpdated  getPayload          newPayload
                      (no attributes)       with attributes
====================  ====================  =================  ==================  ===============
-38002                reset                 reset              seal expired        temporary
-38003                temporary             attributes invalid seal expired        temporary
other -380xx          temporary             reset              seal expired        temporary
(-38001, -38004,
-38005)
-32601, -32602, ...   temporary             temporary          seal expired        temporary
transport             temporary             temporary          seal expired        temporary
====================  ====================  =================  ==================  ===============

"Seal expired" (:class:`SealExpiredError`, temporary) retries: derived attributes are built again
from the start, the sequencer starts a new block after a block time. "Attributes invalid"
(:class:`BuildInvalid`) goes to op-node's ``onBuildInvalid`` rules.
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


def is_engine_error_code(code: int) -> bool:
    """op-node ``eth.ErrorCode.IsEngineError``: the Engine API's own range, -38099..-38000."""
    return -38100 < code <= -38000


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


class EngineSyncingResetError(EngineResetError):
    """A plain forkchoice update answered ``SYNCING`` (or another non-``VALID`` status): the
    engine does not have the blocks our heads name (op-geth restarted and lost them); find the
    heads again (op-node v1.19.6 ``tryUpdateEngineInternal``: "If the EL returns SYNCING (e.g.
    after an EL restart where in-memory state was lost), trigger a reset")."""


class EngineRPCError(EngineTemporaryError):
    """The engine answered a JSON-RPC error (``code``); temporary unless the call site says
    otherwise (see the module docstring)."""


class UnknownPayloadError(EngineRPCError):
    """``-38001``: the payload id is unknown (the build job expired)."""


class InvalidForkchoiceStateError(EngineRPCError):
    """``-38002``: the forkchoice state is invalid for the engine."""


class InvalidPayloadAttributesError(EngineRPCError):
    """``-38003``: the engine refused the payload attributes."""


class TooLargeRequestError(EngineRPCError):
    """``-38004``: too large request."""


class UnsupportedForkError(EngineRPCError):
    """``-38005``: the method version does not match the fork of the payload (the rollup
    config's fork times disagree with the engine's)."""


class SealExpiredError(EngineTemporaryError):
    """getPayload failed (op-node ``ErrSealExpired``): build again."""


class BuildInvalid(EngineError):
    """The engine refused to start building these attributes (``-38003`` or an ``INVALID``
    status on forkchoiceUpdated with attributes; op-node ``BlockInsertPayloadErr`` ->
    ``BuildInvalidEvent``)."""


class EngineCriticalError(EngineError, CriticalError):
    """A request the engine can never accept: halt."""


class PayloadRejected(EngineError):
    """The engine found the payload ``INVALID`` / ``INVALID_BLOCK_HASH``. ``status`` holds the
    engine's ``latestValidHash`` and ``validationError``."""

    def __init__(self, message: str, status: PayloadStatus, *, method: str = "") -> None:
        super().__init__(message, method=method)
        self.status = status


_BY_CODE: dict[int, type[EngineRPCError]] = {
    UNKNOWN_PAYLOAD: UnknownPayloadError,
    INVALID_FORKCHOICE_STATE: InvalidForkchoiceStateError,
    INVALID_PAYLOAD_ATTRIBUTES: InvalidPayloadAttributesError,
    TOO_LARGE_REQUEST: TooLargeRequestError,
    UNSUPPORTED_FORK: UnsupportedForkError,
}


def error_for_code(code: int, message: str, method: str) -> EngineRPCError:
    """The typed error for a JSON-RPC error ``code`` answered to ``method`` (temporary until a
    call site classifies it)."""
    text = f"{method}: {message} (code {code})"
    return _BY_CODE.get(code, EngineRPCError)(text, method=method, code=code)
