"""A token bucket as ``golang.org/x/time/rate.Limiter`` works when op-node waits on it
(``Wait`` / ``WaitN``: reserve the tokens now, then sleep until they are due).

Used by the p2p block server (op-node ``p2p/sync.go`` ``ReqRespServer``: a global and a
per-peer limiter) and by the L1 RPC client (op-service ``RateLimitingClient``:
``--l1.rpc-rate-limit`` with a burst of ``--l1.rpc-max-batch-size``, a batch of N taking N).
"""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["TokenBucket"]


class TokenBucket:
    """``rate`` tokens per second, at most ``burst`` stored, full at start."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a token bucket needs rate > 0 and burst >= 1")
        self.rate, self.burst, self.clock = rate, burst, clock
        self.tokens, self.at = float(burst), clock()

    def reserve(self, n: int = 1) -> float:
        """Take ``n`` tokens (at most ``burst``: op-service never asks for more); the seconds to
        wait before using them. Tokens may go negative: later reservations wait for that debt
        too, so concurrent callers are served in the order they reserved."""
        now = self.clock()
        self.tokens = min(float(self.burst), self.tokens + (now - self.at) * self.rate)
        self.at = now
        self.tokens -= min(max(1, n), self.burst)
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate
