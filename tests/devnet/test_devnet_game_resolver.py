"""The devnet's game resolver stops on SIGINT even when started with SIGINT ignored (what a
process started from a background shell job inherits): ``pyop devnet down`` and the test
fixtures stop processes with SIGINT first and only send SIGTERM after a 20 s grace."""

from __future__ import annotations

import signal
import subprocess
import sys
import time


def test_sigint_stops_the_resolver_even_if_inherited_as_ignored() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "pyop.devnet.game_resolver", "--l1=http://127.0.0.1:1",
         "--game-factory-address=0x" + "00" * 19 + "01", "--private-key=0x" + "11" * 32,
         "--poll-interval=0.2"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "resolving games" in line, line
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
