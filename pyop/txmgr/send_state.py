"""What happened so far to one transaction being sent (op-service/txmgr/send_state.go).

The manager records each publish result and each receipt lookup; :meth:`SendState.critical_error`
says when to give up:

- some version of the tx is mined (not yet confirmed): never give up, wait;
- ``safe_abort_nonce_too_low_count`` "nonce too low" answers: another tx took the nonce;
- "nonce too low" without ever having published: the nonce was stale from the start;
- never published within ``tx_not_in_mempool_timeout``;
- the pool holds a tx of the other kind for this account ("already reserved").

A mined tx that disappears again (an L1 reorg) resets the nonce-too-low count, since those
answers were caused by our own mined tx.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from pyop.txmgr.errors import (
    AlreadyReservedError,
    MempoolDeadlineError,
    NonceTooLowError,
    TxManagerError,
)

# Node error messages, matched by substring as Go's errStringMatch does (geth's texts, plus
# anvil's where it words them differently).
ERR_NONCE_TOO_LOW = ("nonce too low",)
ERR_NONCE_TOO_HIGH = ("nonce too high",)
ERR_ALREADY_KNOWN = ("already known", "transaction already imported")
ERR_ALREADY_RESERVED = ("address already reserved",)
ERR_REPLACE_UNDERPRICED = ("replacement transaction underpriced",)
ERR_UNDERPRICED = ("transaction underpriced", "max fee per gas less than block base fee",
                   "fee cap less than block base fee", "max fee per blob gas less than")  # fmt: skip

__all__ = ["SendState", "matches"]


def matches(message: str | None, needles: tuple[str, ...]) -> bool:
    """Whether a node error message contains one of ``needles`` (case-insensitive)."""
    if not message:
        return False
    m = message.lower()
    return any(n in m for n in needles)


class SendState:
    """See the module docstring (Go ``SendState``)."""

    def __init__(self, safe_abort_nonce_too_low_count: int, not_in_mempool_timeout: float,
                 now: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        if safe_abort_nonce_too_low_count < 1:
            raise TxManagerError("safe_abort_nonce_too_low_count cannot be zero")
        self.now = now
        self.safe_abort_nonce_too_low_count = safe_abort_nonce_too_low_count
        self.mempool_deadline = now() + not_in_mempool_timeout
        self.mined: set[bytes] = set()
        self.successful_publish_count = 0
        self.nonce_too_low_count = 0
        self.already_reserved = False
        self.bump_fees = False
        self.bump_count = 0

    def process_send_error(self, message: str | None) -> None:
        """Record the result of one ``eth_sendRawTransaction`` (``None``: accepted)."""
        if message is None or matches(message, ERR_ALREADY_KNOWN):
            self.successful_publish_count += 1
        elif matches(message, ERR_NONCE_TOO_LOW):
            self.nonce_too_low_count += 1
        elif matches(message, ERR_ALREADY_RESERVED):
            self.already_reserved = True

    def tx_mined(self, tx_hash: bytes) -> None:
        self.mined.add(tx_hash)

    def tx_not_mined(self, tx_hash: bytes) -> None:
        was_mined = tx_hash in self.mined
        self.mined.discard(tx_hash)
        if was_mined and not self.mined:
            self.nonce_too_low_count = 0

    def critical_error(self) -> TxManagerError | None:
        if self.mined:
            return None
        if self.nonce_too_low_count >= self.safe_abort_nonce_too_low_count:
            return NonceTooLowError(f"nonce too low ({self.nonce_too_low_count} times)")
        if self.successful_publish_count == 0 and self.nonce_too_low_count > 0:
            return NonceTooLowError("nonce too low before the tx was ever published")
        if self.successful_publish_count == 0 and self.now() > self.mempool_deadline:
            return MempoolDeadlineError("failed to get tx into the mempool")
        if self.already_reserved:
            return AlreadyReservedError("the L1 pool holds a tx of the other kind (blob vs "
                                        "non-blob) for this account")  # fmt: skip
        return None

    def is_waiting_for_confirmation(self) -> bool:
        return bool(self.mined)
