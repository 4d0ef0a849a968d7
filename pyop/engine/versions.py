"""Which Engine API method version to call, per fork (op-node ``rollup.Config``
``ForkchoiceUpdatedVersion`` / ``NewPayloadVersion`` / ``GetPayloadVersion`` in
op-node/rollup/types.go; kona crates/node/engine/src/versions.rs; specs/protocol/derivation.md
"Engine API usage").

- ``engine_forkchoiceUpdated``: V3 without attributes or when Ecotone is active at the
  attributes' timestamp, V2 from Canyon, else V1 (geth refuses V2 before Shanghai).
- ``engine_newPayload``: V4 from Isthmus (payload, ``[]`` blob hashes, parent beacon root, ``[]``
  execution requests), V3 from Ecotone (payload, ``[]``, parent beacon root), else V2.
- ``engine_getPayload``: V5 from Karst (op-node v1.19.6 ``GetPayloadVersion``: "Osaka"; the
  envelope has the same shape, op-geth answers V5 only when Osaka is active in its L2 chain
  config, see :mod:`pyop.devnet.l2_genesis`), V4 from Isthmus, V3 from Ecotone, else V2.
"""

from __future__ import annotations

from pyop.config import RollupConfig
from pyop.primitives import PayloadAttributes


def forkchoice_updated_version(cfg: RollupConfig, attrs: PayloadAttributes | None) -> int:
    """1, 2 or 3 (see the module docstring)."""
    if attrs is None or cfg.is_ecotone(attrs.timestamp):
        return 3
    if cfg.is_canyon(attrs.timestamp):
        return 2
    return 1


def new_payload_version(cfg: RollupConfig, timestamp: int) -> int:
    """2, 3 or 4 for a payload with this L2 ``timestamp``."""
    if cfg.is_isthmus(timestamp):  # [New in Isthmus]
        return 4
    if cfg.is_ecotone(timestamp):
        return 3
    return 2


def get_payload_version(cfg: RollupConfig, timestamp: int) -> int:
    """2, 3, 4 or 5 for a payload with this L2 ``timestamp``."""
    if cfg.is_karst(timestamp):  # [New in Karst]
        return 5
    if cfg.is_isthmus(timestamp):  # [New in Isthmus]
        return 4
    if cfg.is_ecotone(timestamp):
        return 3
    return 2


def method_name(kind: str, version: int) -> str:
    """``method_name("forkchoiceUpdated", 3)`` -> ``"engine_forkchoiceUpdatedV3"``."""
    return f"engine_{kind}V{version}"
