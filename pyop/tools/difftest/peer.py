"""The Go side of ``pyop difftest``: one long-lived ``difftest TARGET`` process per target.

The program (our code in ``interop/go/difftest``, built by ``scripts/build-peers.sh difftest``
into ``~/.cache/pyop/peers/<optimism version>/bin/difftest``) calls op-node v1.19.6's derive
package as a library and speaks JSON lines: one request in, one response out, in order. Requests
are sent in batches (a writer thread feeds stdin while the main thread reads stdout, so neither
pipe can fill up and deadlock); the per-input cost is then one JSON encode/decode on each side.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from pyop.primitives import PyopError

#: The optimism version whose op-node the peer is built against (interop/go/go.mod).
GO_OPTIMISM_VERSION = "v1.19.6"

ENV_BIN = "PYOP_DIFFTEST_BIN"


class GoPeerError(PyopError):
    """The Go difftest program is missing, died, or answered out of protocol."""


def find_go_peer() -> Path | None:
    """The difftest binary: ``$PYOP_DIFFTEST_BIN``, else the peer cache
    (``$PYOP_PEERS_CACHE`` or ``~/.cache/pyop/peers``) for :data:`GO_OPTIMISM_VERSION`."""
    env = os.environ.get(ENV_BIN)
    if env:
        return Path(env) if Path(env).is_file() else None
    root = Path(os.environ.get("PYOP_PEERS_CACHE", Path.home() / ".cache" / "pyop" / "peers"))
    p = root / GO_OPTIMISM_VERSION / "bin" / "difftest"
    return p if p.is_file() else None


class GoPeer:
    """A running ``difftest TARGET`` process."""

    def __init__(self, target: str, binary: Path | None = None) -> None:
        path = binary or find_go_peer()
        if path is None:
            raise GoPeerError(
                "Go difftest peer not built: run `make deps` or `scripts/build-peers.sh difftest`"
            )
        self.target = target
        self.proc = subprocess.Popen(
            [str(path), target],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            bufsize=1 << 20,
        )
        self._q: queue.Queue[bytes | None] = queue.Queue(maxsize=4)
        self._writer = threading.Thread(target=self._write_loop, daemon=True)
        self._writer.start()
        #: Wall time spent waiting for responses (seconds) and responses received.
        self.wait_s = 0.0
        self.count = 0

    def _write_loop(self) -> None:
        stdin = self.proc.stdin
        if stdin is None:  # Popen(stdin=PIPE) always sets it
            return
        while True:
            chunk = self._q.get()
            if chunk is None:
                break
            try:
                stdin.write(chunk)
                stdin.flush()
            except (BrokenPipeError, ValueError):
                break

    def run(self, inputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Send a batch of requests; return the responses in order."""
        self.send(inputs)
        return self.recv(len(inputs))

    def send(self, inputs: list[dict[str, Any]]) -> None:
        """Queue a batch of requests (returns at once; read the answers with :meth:`recv`)."""
        if inputs:
            self._q.put(b"".join(json.dumps(x, separators=(",", ":")).encode() + b"\n" for x in inputs))

    def recv(self, n: int) -> list[dict[str, Any]]:
        """The next ``n`` responses."""
        return self._read(n)

    def _roundtrip(self, payload: bytes, n: int) -> list[dict[str, Any]]:
        self._q.put(payload)
        return self._read(n)

    def _read(self, n: int) -> list[dict[str, Any]]:
        t0 = time.perf_counter()
        out = []
        stdout = self.proc.stdout
        if stdout is None:  # Popen(stdout=PIPE) always sets it
            raise GoPeerError("Go difftest peer has no stdout")
        for _ in range(n):
            line = stdout.readline()
            if not line:
                err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
                raise GoPeerError(f"Go difftest peer ({self.target}) exited: {err.strip()[-2000:]}")
            out.append(json.loads(line))
        self.wait_s += time.perf_counter() - t0
        self.count += n
        return out

    def stats(self) -> tuple[int, float]:
        """(requests handled, seconds spent inside op-node's handlers) as the peer measured."""
        (r,) = self._roundtrip(b'{"difftest_stats":true}\n', 1)
        self.count -= 1
        return int(r["n"]), float(r["ns"]) / 1e9

    def close(self) -> None:
        """Stop the process (closing stdin ends its loop); kill it if it does not exit."""
        self._q.put(None)
        self._writer.join(timeout=5)
        if self.proc.stdin:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for f in (self.proc.stdout, self.proc.stderr):
            if f:
                f.close()

    def __enter__(self) -> GoPeer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
