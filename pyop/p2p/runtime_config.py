"""The runtime config: the unsafe block signer the gossip validator checks signatures against
(op-node v1.19.6 ``op-node/node/runcfg/runtime_config.go`` ``RuntimeConfig``, and
``node.go`` ``initRuntimeConfig``; specs/protocol/system-config.md "unsafeBlockSigner";
specs/protocol/rollup-node-p2p.md "Block signatures").

The signer is read from the L1 SystemConfig contract's storage, slot
``keccak256("systemconfig.unsafeblocksigner")`` (:data:`UNSAFE_BLOCK_SIGNER_SLOT`), at the L1
block ``--verifier.l1-confs`` below the L1 head; at start-up (five tries, 10 s apart, as
op-node) and then every ``--l1.runtime-config-reload-interval`` (10 min; 0 turns reloading
off). When the address changes, the previous signer stays accepted for
:data:`SIGNER_GRACE_PERIOD` (3 h) or until a block of the new signer has been verified
(``rotateSigner``, ``ConfirmCurrentSigner``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from pyop.primitives import ZERO_ADDRESS, Address, PyopError, from_hex, to_hex

UNSAFE_BLOCK_SIGNER_SLOT = bytes.fromhex("65a7ed542fb37fe237fdfbdd70b31598523fe5b32879e307bae27a0bd9581c08")
SIGNER_GRACE_PERIOD = 3 * 3600.0
DEFAULT_RELOAD_INTERVAL = 600.0
LOAD_ATTEMPTS = 5
LOAD_RETRY_DELAY = 10.0

log = logging.getLogger("pyop.p2p.runtime_config")


class RuntimeConfigError(PyopError):
    """The runtime config could not be loaded from L1."""


class JSONRPC(Protocol):
    async def call(self, method: str, params: Sequence[object] = ()) -> Any: ...


class RuntimeConfig:
    """The unsafe block signer (see the module docstring); a
    :class:`pyop.p2p.validation.SignerSource`. Reads are plain attribute reads, safe from the
    p2p host thread."""

    def __init__(
        self,
        rpc: JSONRPC,
        system_config: Address,
        *,
        conf_depth: int = 0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.rpc = rpc
        self.system_config = system_config
        self.conf_depth = conf_depth
        self.clock = clock
        self.signer: Address = ZERO_ADDRESS
        self.previous: Address = ZERO_ADDRESS
        self.changed_at = 0.0
        self.l1_number: int | None = None

    # -- SignerSource
    def p2p_sequencer_address(self) -> Address:
        return self.signer

    def previous_p2p_sequencer_address(self) -> Address:
        if self.clock() - self.changed_at > SIGNER_GRACE_PERIOD:
            return ZERO_ADDRESS
        return self.previous

    def confirm_current_signer(self) -> None:
        if self.previous != ZERO_ADDRESS and self.signer != ZERO_ADDRESS:
            log.info("new signer confirmed in use, ending grace period: current %s previous %s",
                     to_hex(self.signer), to_hex(self.previous))  # fmt: skip
            self.previous = ZERO_ADDRESS

    def rotate(self, new: Address) -> None:
        """op-node ``rotateSigner``."""
        if self.signer != ZERO_ADDRESS and self.signer != new:
            self.previous, self.changed_at = self.signer, self.clock()
            log.info("p2p signer rotated, grace period started for previous signer: previous %s new %s",
                     to_hex(self.signer), to_hex(new))  # fmt: skip
        self.signer = new

    async def load(self) -> None:
        """Read the signer at the confirmed L1 block (op-node ``reload``)."""
        try:
            head = await self.rpc.call("eth_getBlockByNumber", ["latest", False])
            number = int(head["number"], 16)
            number = number - self.conf_depth if number >= self.conf_depth else number
            block = await self.rpc.call("eth_getBlockByNumber", [hex(number), False])
            value = await self.rpc.call("eth_getStorageAt",
                                        [to_hex(self.system_config), to_hex(UNSAFE_BLOCK_SIGNER_SLOT), block["hash"]])  # fmt: skip
            word = from_hex(str(value), what="storage word")
        except PyopError as e:
            raise RuntimeConfigError(f"failed to fetch unsafe block signing address from system config: {e}") from None
        except (KeyError, TypeError, ValueError) as e:
            raise RuntimeConfigError(f"bad L1 answer while loading the runtime config: {e}") from None
        self.rotate(word[-20:].rjust(20, b"\x00"))
        self.l1_number = number
        log.info("loaded new runtime config values! p2p_seq_address=%s", to_hex(self.signer))

    async def load_with_retries(self, attempts: int = LOAD_ATTEMPTS, delay: float = LOAD_RETRY_DELAY) -> None:
        for i in range(attempts):
            try:
                await self.load()
                return
            except RuntimeConfigError as e:
                log.error("failed to fetch runtime config data: %s", e)
                if i + 1 == attempts:
                    raise RuntimeConfigError(f"failed to load runtime configuration repeatedly, last error: {e}") from None
                await asyncio.sleep(delay)

    async def run(self, interval: float = DEFAULT_RELOAD_INTERVAL) -> None:
        """Reload every ``interval`` seconds (0: never) until cancelled; a failed reload is
        logged and retried at the next interval."""
        if interval <= 0:
            return
        while True:
            await asyncio.sleep(interval)
            try:
                await self.load()
            except RuntimeConfigError as e:
                log.warning("failed to reload runtime config: %s", e)


__all__ = [
    "DEFAULT_RELOAD_INTERVAL",
    "SIGNER_GRACE_PERIOD",
    "UNSAFE_BLOCK_SIGNER_SLOT",
    "RuntimeConfig",
    "RuntimeConfigError",
]
