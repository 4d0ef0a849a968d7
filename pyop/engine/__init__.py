"""Floor 3: the Engine API client (JWT) and the engine controller (forkchoice, block building,
consolidation of derived attributes with the unsafe chain, finality, start-up head finding).

    client = EngineClient(url, load_jwt_secret(path))
    ctl = EngineController(cfg, client)
    await ctl.start()                                   # heads from the engine
    payload = await ctl.build_payload(ctl.unsafe, attrs)  # sequencer
    safe = await ctl.process_derived(attrs_with_parent)   # derivation
    await ctl.finalize(ref)
"""

from pyop.engine.client import (
    CallStats,
    EngineClient,
    ExecutionPayloadEnvelope,
    ForkchoiceState,
    ForkchoiceUpdatedResult,
    PayloadStatus,
    PayloadStatusKind,
    parse_envelope,
    parse_execution_payload,
)
from pyop.engine.consolidate import ConsolidationMismatch, attributes_match_block
from pyop.engine.controller import (
    BuildJob,
    EngineController,
    InvalidPayloadContents,
    SafeHeadListener,
    SealedBlock,
    sanity_check_payload,
)
from pyop.engine.errors import (
    EngineCriticalError,
    EngineError,
    EngineResetError,
    EngineResponseError,
    EngineSyncingError,
    EngineTemporaryError,
    InvalidForkchoiceStateError,
    InvalidPayloadAttributesError,
    PayloadRejected,
    UnknownPayloadError,
)
from pyop.engine.jwt import JWTSecretError, jwt_token, load_jwt_secret, parse_jwt_secret
from pyop.engine.l2_reader import EngineL2Reader, L2Reader
from pyop.engine.start import FindHeadsResult, L1HeaderReader, find_l2_heads
from pyop.engine.versions import (
    forkchoice_updated_version,
    get_payload_version,
    new_payload_version,
)

__all__ = [
    "BuildJob",
    "CallStats",
    "ConsolidationMismatch",
    "EngineClient",
    "EngineController",
    "EngineCriticalError",
    "EngineError",
    "EngineL2Reader",
    "EngineResetError",
    "EngineResponseError",
    "EngineSyncingError",
    "EngineTemporaryError",
    "ExecutionPayloadEnvelope",
    "FindHeadsResult",
    "ForkchoiceState",
    "ForkchoiceUpdatedResult",
    "InvalidForkchoiceStateError",
    "InvalidPayloadAttributesError",
    "InvalidPayloadContents",
    "JWTSecretError",
    "L1HeaderReader",
    "L2Reader",
    "PayloadRejected",
    "PayloadStatus",
    "PayloadStatusKind",
    "SafeHeadListener",
    "SealedBlock",
    "UnknownPayloadError",
    "attributes_match_block",
    "find_l2_heads",
    "forkchoice_updated_version",
    "get_payload_version",
    "jwt_token",
    "load_jwt_secret",
    "new_payload_version",
    "parse_envelope",
    "parse_execution_payload",
    "parse_jwt_secret",
    "sanity_check_payload",
]
