"""A rollup-node JSON-RPC client that follows the active sequencer among several rollup nodes
(op-service v1.19.6 ``dial.ActiveL2RollupProvider``, used by op-proposer when ``--rollup-rpc``
is a comma-separated list, and by op-batcher).

The rule, as in Go ``findActiveEndpoints`` / ``ensureActiveEndpoint``:

- Before a call, if the last check is older than ``check_duration`` (op-proposer
  ``--active-sequencer-check-duration``), ask the current endpoint ``admin_sequencerActive``.
  ``true``: keep it. ``false`` or an error: try the next endpoints in list order, wrapping
  around, and keep the first that answers ``true``.
- If none is active, raise :class:`NoActiveSequencerError` naming every URL and error (the Go
  error "failed to find an active sequencer, tried following urls"); the next call checks
  again (the check time is only renewed after a success).
- A check that succeeds is trusted for ``check_duration``: calls in between go to that
  endpoint without asking again.

The first check happens in :meth:`ActiveRollupRPC.connect` (Go checks in the constructor, so a
proposer with no active sequencer does not start).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from pyop.primitives import PyopError
from pyop.sources.rpc import AsyncRPCClient, RetryPolicy, RPCError

__all__ = ["ActiveRollupRPC", "NoActiveSequencerError", "split_rollup_urls"]


class NoActiveSequencerError(PyopError):
    """None of the rollup nodes says its sequencer is active."""


def split_rollup_urls(value: str) -> list[str]:
    """``--rollup-rpc`` as op-proposer reads it: ``strings.Split(value, ",")`` when it contains a
    comma. Empty items are refused here (Go would fail to dial them)."""
    urls = [u.strip() for u in value.split(",")]
    if any(not u for u in urls):
        raise ValueError(f"empty URL in the rollup RPC list {value!r}")
    return urls


class ActiveRollupRPC:
    """``call(method, params)`` on the active sequencer's rollup node (module docstring)."""

    def __init__(
        self,
        urls: Sequence[str],
        *,
        check_duration: float,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not urls:
            raise ValueError("empty rollup urls list")
        self.urls = list(urls)
        self.check_duration = check_duration
        self.clients = [AsyncRPCClient(u, timeout=timeout, retry=retry) for u in self.urls]
        self.index = 0
        self._clock = clock
        self._active_until: float | None = None

    @property
    def url(self) -> str:
        """The endpoint calls go to now."""
        return self.urls[self.index]

    async def connect(self) -> None:
        """Find the active sequencer now (raises :class:`NoActiveSequencerError`)."""
        await self.ensure_active()

    async def _is_active(self, i: int) -> bool:
        return bool(await self.clients[i].call("admin_sequencerActive", []))

    async def ensure_active(self) -> None:
        """Check (if due) which endpoint is active; :attr:`index` names it afterwards."""
        now = self._clock()
        if self._active_until is not None and now <= self._active_until:
            return
        errors: list[str] = []
        n = len(self.urls)
        for offset in range(n):
            i = (self.index + offset) % n
            try:
                active = await self._is_active(i)
            except RPCError as e:
                errors.append(f"{self.urls[i]}: {e}")
                continue
            if active:
                self.index = i
                self._active_until = self._clock() + self.check_duration
                return
            errors.append(f"{self.urls[i]}: sequencer inactive")
        raise NoActiveSequencerError(
            f"failed to find an active sequencer, tried following urls: {self.urls}; "
            + "; ".join(errors)
        )

    async def call(self, method: str, params: Any = ()) -> Any:
        await self.ensure_active()
        return await self.clients[self.index].call(method, params)

    def set_retry(self, retry: RetryPolicy) -> None:
        for c in self.clients:
            c.retry = retry

    async def close(self) -> None:
        for c in self.clients:
            await c.close()
