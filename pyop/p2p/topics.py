"""Block topics, snappy framing and the gossip message id (specs/protocol/rollup-node-p2p.md
"Topic configuration", "Gossip Topics", "Message compression and limits", "Message ID
computation"; op-node v1.19.6 ``op-node/p2p/gossip.go``: ``blocksTopicV1..V4``,
``BuildSubscriptionFilter``, ``BuildMsgIdFn``, ``publishRawSignedPayload``).

- Topics ``/optimism/<chain id>/<version>/blocks``: version 0 before Canyon, 1 from Canyon, 2 from
  Ecotone, 3 from Isthmus (op-node v1.19.6 publishes on these four; Jovian and Karst blocks keep
  the Isthmus topic). A node subscribes to all four and allows no other topic.
- Messages are snappy *block* compressed (no framing), at most :data:`MAX_GOSSIP_SIZE` (10 MiB)
  compressed and decompressed; :func:`snappy_decoded_len` reads the length header first so that
  a "zip bomb" is refused before anything is allocated.
- Message id: ``sha256(domain ++ uint64_le(len(topic)) ++ topic ++ data)[:20]`` where data is the
  decompressed message and domain ``01000000`` if the message is valid snappy (and not larger
  than 10 MiB decompressed), else the raw message and domain ``00000000``. The topic is hashed
  in (op-node's code; the spec text predates it), so the same block on two topics has two ids.
"""

from __future__ import annotations

import hashlib
import struct

import cramjam

from pyop.config import RollupConfig
from pyop.config.forks import Fork
from pyop.p2p.ssz import BlockVersion
from pyop.primitives import PyopError

MAX_GOSSIP_SIZE = 10 * (1 << 20)
"""op-node ``maxGossipSize``: the largest gossip RPC and the largest decompressed message."""
MIN_GOSSIP_SIZE = 66
"""op-node ``minGossipSize``: a signature and at least one byte of payload."""
MESSAGE_DOMAIN_INVALID_SNAPPY = b"\x00\x00\x00\x00"
MESSAGE_DOMAIN_VALID_SNAPPY = b"\x01\x00\x00\x00"


class SnappyError(PyopError):
    """Data that is not a valid snappy block (or claims a length over the limit)."""


def blocks_topic(chain_id: int, version: BlockVersion) -> str:
    """``/optimism/<chain id>/<version>/blocks``."""
    return f"/optimism/{chain_id}/{int(version)}/blocks"


def all_blocks_topics(chain_id: int) -> dict[str, BlockVersion]:
    """Every block topic of the chain (op-node's subscription allow-list), topic -> version."""
    return {blocks_topic(chain_id, v): v for v in BlockVersion}


def block_version_at(cfg: RollupConfig, timestamp: int) -> BlockVersion:
    """The block version (and so the topic) of a block at ``timestamp``
    (``publishRawSignedPayload``)."""
    if cfg.is_active(Fork.ISTHMUS, timestamp):
        return BlockVersion.V4  # [New in Isthmus]
    if cfg.is_active(Fork.ECOTONE, timestamp):
        return BlockVersion.V3  # [New in Ecotone]
    if cfg.is_active(Fork.CANYON, timestamp):
        return BlockVersion.V2  # [New in Canyon]
    return BlockVersion.V1


def snappy_decoded_len(data: bytes) -> int:
    """golang/snappy ``DecodedLen``: the uvarint length header (:class:`SnappyError` if it is
    missing, overflows, or exceeds 2^32 - 1)."""
    value = 0
    for i, byte in enumerate(data[:10]):
        if i == 9 and byte > 1:
            raise SnappyError("snappy: corrupt input (length header overflows)")
        value |= (byte & 0x7F) << (7 * i)
        if byte < 0x80:
            if value > 0xFFFFFFFF:
                raise SnappyError("snappy: corrupt input (length header too large)")
            return value
    raise SnappyError("snappy: corrupt input (no length header)")


def snappy_decompress(data: bytes, max_size: int = MAX_GOSSIP_SIZE) -> bytes:
    """Decompress a snappy block whose header claims at most ``max_size`` bytes."""
    n = snappy_decoded_len(data)
    if n > max_size:
        raise SnappyError(f"possible snappy zip bomb, decoded length {n} is larger than {max_size}")
    try:
        out = bytes(cramjam.snappy.decompress_raw(data))
    except Exception as e:  # cramjam raises its own DecompressionError
        raise SnappyError(f"invalid snappy compression: {e}") from None
    if len(out) != n:
        raise SnappyError(f"snappy: decoded {len(out)} bytes, header says {n}")
    return out


def snappy_compress(data: bytes) -> bytes:
    """Snappy block compression (``snappy.Encode``)."""
    return bytes(cramjam.snappy.compress_raw(data))


def message_id(topic: str, data: bytes) -> bytes:
    """op-node ``BuildMsgIdFn`` (see the module docstring): 20 bytes."""
    try:
        body, domain = snappy_decompress(data), MESSAGE_DOMAIN_VALID_SNAPPY
    except SnappyError:
        body, domain = data, MESSAGE_DOMAIN_INVALID_SNAPPY
    t = topic.encode()
    return hashlib.sha256(domain + struct.pack("<Q", len(t)) + t + body).digest()[:20]


__all__ = [
    "MAX_GOSSIP_SIZE",
    "MESSAGE_DOMAIN_INVALID_SNAPPY",
    "MESSAGE_DOMAIN_VALID_SNAPPY",
    "MIN_GOSSIP_SIZE",
    "SnappyError",
    "all_blocks_topics",
    "block_version_at",
    "blocks_topic",
    "message_id",
    "snappy_compress",
    "snappy_decoded_len",
    "snappy_decompress",
]
