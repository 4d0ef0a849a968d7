"""Subprocess management for the devnet: start with logs to a file, wait for readiness, stop by
PID (SIGINT, then SIGTERM, then SIGKILL, each with a timeout), and a PID registry
(``DIR/pids.json``) so ``pyop devnet down`` can stop what ``up`` started.

Each process is stopped by its own PID only. The registry stores each process's start time
(``/proc/<pid>/stat`` field 22) and refuses to signal a PID whose start time changed, so a
recycled PID is never hit. op-geth wants SIGINT for a clean database shutdown (the OP Stack
getting-started guide: ``kill -INT``), hence SIGINT first.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from pyop.devnet.rpc import RpcClient, RpcError, RpcTransportError
from pyop.primitives import PyopError

PIDS_FILE = "pids.json"
DEFAULT_SIGINT_TIMEOUT = 10.0
DEFAULT_SIGTERM_TIMEOUT = 5.0


class ProcessError(PyopError):
    """A devnet process could not be started, exited early, or never became ready."""


def process_start_time(pid: int) -> int | None:
    """The start time of ``pid`` in clock ticks since boot (``/proc/<pid>/stat`` field 22),
    or ``None`` if there is no such process (or no ``/proc``)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may contain spaces.
    rest = raw[raw.rfind(")") + 2 :].split()
    try:
        return int(rest[19])  # field 22 overall; rest starts at field 3
    except (IndexError, ValueError):
        return None


def _proc_state(pid: int) -> str | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    rest = raw[raw.rfind(")") + 2 :].split()
    return rest[0] if rest else None


def pid_alive(pid: int) -> bool:
    """Whether ``pid`` is a running (non-zombie) process. Reaps it if it is our zombie child."""
    with contextlib.suppress(ChildProcessError, OSError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return _proc_state(pid) not in ("Z", "X")


def _wait_gone(pid: int, timeout: float, popen: subprocess.Popen[bytes] | None) -> bool:
    if popen is not None:
        try:
            popen.wait(timeout=timeout)
            return True
        except subprocess.TimeoutExpired:
            return False
    deadline = time.monotonic() + timeout
    while True:
        if not pid_alive(pid):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def stop_pid(
    pid: int,
    *,
    start_time: int | None = None,
    sigint_timeout: float = DEFAULT_SIGINT_TIMEOUT,
    sigterm_timeout: float = DEFAULT_SIGTERM_TIMEOUT,
    popen: subprocess.Popen[bytes] | None = None,
) -> str:
    """Stop process ``pid``: SIGINT, wait ``sigint_timeout``; SIGTERM, wait ``sigterm_timeout``;
    then SIGKILL. Returns how it ended: ``"not-running"``, ``"pid-reused"`` (the PID now belongs
    to another process: nothing was signalled), ``"sigint"``, ``"sigterm"`` or ``"sigkill"``."""
    if not pid_alive(pid):
        return "not-running"
    if start_time is not None and process_start_time(pid) not in (None, start_time):
        return "pid-reused"
    for sig, timeout, outcome in (
        (signal.SIGINT, sigint_timeout, "sigint"),
        (signal.SIGTERM, sigterm_timeout, "sigterm"),
        (signal.SIGKILL, 10.0, "sigkill"),
    ):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return outcome
        if _wait_gone(pid, timeout, popen):
            return outcome
    raise ProcessError(f"process {pid} survived SIGKILL")


@dataclass
class ManagedProcess:
    """A process started by :func:`start_process` (or re-read from the PID registry)."""

    name: str
    pid: int
    argv: tuple[str, ...]
    log_path: Path
    start_time: int | None = None
    started_at: float = 0.0
    popen: subprocess.Popen[bytes] | None = field(default=None, repr=False, compare=False)

    def alive(self) -> bool:
        if self.popen is not None:
            return self.popen.poll() is None
        if not pid_alive(self.pid):
            return False
        return self.start_time is None or process_start_time(self.pid) in (None, self.start_time)

    @property
    def returncode(self) -> int | None:
        return None if self.popen is None else self.popen.poll()

    def stop(
        self,
        *,
        sigint_timeout: float = DEFAULT_SIGINT_TIMEOUT,
        sigterm_timeout: float = DEFAULT_SIGTERM_TIMEOUT,
    ) -> str:
        """Stop by PID (see :func:`stop_pid`)."""
        if self.popen is not None and self.popen.poll() is not None:
            return "not-running"
        return stop_pid(
            self.pid,
            start_time=self.start_time,
            sigint_timeout=sigint_timeout,
            sigterm_timeout=sigterm_timeout,
            popen=self.popen,
        )

    def log_tail(self, lines: int = 30) -> str:
        """The last ``lines`` lines of the process log (empty if unreadable)."""
        try:
            with self.log_path.open("rb") as f:
                f.seek(0, os.SEEK_END)
                size = f.tell()
                f.seek(max(0, size - 16384))
                text = f.read().decode("utf-8", "replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "pid": self.pid,
            "argv": list(self.argv),
            "log": str(self.log_path),
            "startTime": self.start_time,
            "startedAt": self.started_at,
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> ManagedProcess:
        st = obj.get("startTime")
        return cls(
            name=str(obj["name"]),
            pid=int(obj["pid"]),
            argv=tuple(str(a) for a in obj.get("argv", ())),
            log_path=Path(str(obj.get("log", ""))),
            start_time=None if st is None else int(st),
            started_at=float(obj.get("startedAt", 0.0)),
        )


class ProcessHandle:
    """Shared accessors of a wrapper around a :class:`ManagedProcess` (``self.process``); usable
    as a context manager that calls :meth:`stop` on exit. Subclasses may override :meth:`stop`
    with their own default timeouts."""

    process: ManagedProcess

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def log_path(self) -> Path:
        return self.process.log_path

    def alive(self) -> bool:
        return self.process.alive()

    def stop(self, *, sigint_timeout: float = 5.0, sigterm_timeout: float = 5.0) -> str:
        """Stop by PID (SIGINT, SIGTERM, SIGKILL; see :func:`stop_pid`)."""
        return self.process.stop(sigint_timeout=sigint_timeout, sigterm_timeout=sigterm_timeout)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_process(
    name: str,
    argv: Sequence[str],
    *,
    log_path: Path,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    registry: PidRegistry | None = None,
    new_session: bool = True,
) -> ManagedProcess:
    """Start ``argv`` with stdout and stderr appended to ``log_path``; stdin is /dev/null.

    ``new_session`` puts the child in its own session, so a Ctrl-C at the terminal does not reach
    it: devnet processes are stopped only through :meth:`ManagedProcess.stop` / the registry.
    The process is added to ``registry`` if given.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    full_env = dict(os.environ)
    if env is not None:
        full_env.update(env)
    with log_path.open("ab") as log:
        try:
            popen = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=cwd,
                env=full_env,
                start_new_session=new_session,
            )
        except OSError as e:
            raise ProcessError(f"cannot start {name} ({argv[0]}): {e}") from None
    proc = ManagedProcess(
        name=name,
        pid=popen.pid,
        argv=tuple(argv),
        log_path=log_path,
        start_time=process_start_time(popen.pid),
        started_at=time.time(),
        popen=popen,
    )
    if registry is not None:
        registry.add(proc)
    return proc


def _check_running(process: ManagedProcess | None, what: str) -> None:
    if process is not None and not process.alive():
        raise ProcessError(
            f"{process.name} (pid {process.pid}) exited before {what}; "
            f"log {process.log_path}:\n{process.log_tail()}"
        )


def wait_for_rpc(
    url: str,
    *,
    timeout: float = 30.0,
    method: str = "eth_chainId",
    params: Sequence[Any] = (),
    process: ManagedProcess | None = None,
    interval: float = 0.1,
) -> Any:
    """Poll the JSON-RPC ``method`` at ``url`` until it answers; return its result.

    Raises :class:`ProcessError` if ``process`` exits meanwhile or ``timeout`` passes.
    """
    client = RpcClient(url, timeout=2.0)
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while True:
        _check_running(process, f"{url} answered")
        try:
            return client.call(method, *params)
        except (RpcTransportError, RpcError) as e:
            last = e
        if time.monotonic() >= deadline:
            raise ProcessError(f"{url} did not answer {method} within {timeout}s: {last}")
        time.sleep(interval)


def wait_for_http(
    url: str,
    *,
    timeout: float = 30.0,
    process: ManagedProcess | None = None,
    interval: float = 0.1,
) -> int:
    """Poll ``GET url`` until the server answers with any HTTP status; return the status."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while True:
        _check_running(process, f"{url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2.0) as resp:
                return int(resp.status)
        except urllib.error.HTTPError as e:
            return int(e.code)
        except (urllib.error.URLError, OSError) as e:
            last = e
        if time.monotonic() >= deadline:
            raise ProcessError(f"{url} did not answer within {timeout}s: {last}")
        time.sleep(interval)


def start_http_service(
    name: str,
    argv: Sequence[str],
    *,
    log_path: Path,
    ready_url: str,
    ready_timeout: float,
    registry: PidRegistry | None = None,
) -> ManagedProcess:
    """:func:`start_process`, then :func:`wait_for_http` on ``ready_url``; if it does not come
    up, the process is stopped and dropped from ``registry`` before the
    :class:`ProcessError` propagates."""
    proc = start_process(name, argv, log_path=log_path, registry=registry)
    try:
        wait_for_http(ready_url, timeout=ready_timeout, process=proc)
    except ProcessError:
        proc.stop()
        if registry is not None:
            registry.remove(name)
        raise
    return proc


async def wait_for_stop_signal() -> None:
    """Return once the running asyncio loop receives SIGINT or SIGTERM (where signal handlers
    can be installed; elsewhere wait until cancelled)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()


PORT_RESERVE_SECONDS = 600
"""How long a port handed out by :func:`free_port` stays reserved for its taker."""
EPHEMERAL_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")


def port_window() -> tuple[int, int] | None:
    """``[lo, hi)``: the 12,000 ports just below the kernel's ephemeral range (Linux
    ``ip_local_port_range``, default 32768-60999), where the OS never assigns a port on its own
    (to a ``bind(0)`` or an outgoing connection); None if there is no room below it."""
    try:
        eph_lo = int(EPHEMERAL_RANGE_FILE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        eph_lo = 32768
    lo, hi = max(10_000, eph_lo - 12_000), eph_lo
    return (lo, hi) if hi - lo >= 1_000 else None


def _reserve_dir() -> Path:
    return Path(tempfile.gettempdir()) / f"pyop-ports-{os.getuid()}"


def _reserve(port: int) -> bool:
    """Claim ``port`` for :data:`PORT_RESERVE_SECONDS` across processes (a file created with
    ``O_EXCL``; an older claim is stale and taken over)."""
    d = _reserve_dir()
    d.mkdir(parents=True, exist_ok=True)
    path = d / str(port)
    for _ in range(2):
        try:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
            return True
        except FileExistsError:
            try:
                if time.time() - path.stat().st_mtime < PORT_RESERVE_SECONDS:
                    return False
                path.unlink()
            except FileNotFoundError:
                pass
    return False


def port_free(host: str, port: int) -> bool:
    """Whether a TCP socket can bind ``host:port`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` now and handed out once: taken from below the
    kernel's ephemeral range (:func:`port_window`), so no port the OS assigns (another process's
    ``bind(0)``, an outgoing connection) can take it before its service binds it, and reserved
    for :data:`PORT_RESERVE_SECONDS` in a file under the temp directory, so concurrent callers
    (parallel test workers, two devnets, their child processes) never get the same port. Falls
    back to a port the OS picks when the window is unavailable or exhausted."""
    win = port_window()
    if win is not None:
        lo, hi = win
        size = hi - lo
        start = random.randrange(size)
        for i in range(min(size, 4_000)):
            port = lo + (start + i) % size
            if port_free(host, port) and _reserve(port):
                return port
    return os_assigned_port(host)


def os_assigned_port(host: str) -> int:
    """A port free on ``host`` now, picked by the OS (``bind(0)``)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def default_or_os_port(host: str, default: int) -> int:
    """``default`` if it is free on ``host``, else one the OS picks (the dashboard's port)."""
    return default if port_free(host, default) else os_assigned_port(host)


class PidRegistry:
    """The devnet's processes, in start order, persisted in ``DIR/pids.json``."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.path = self.directory / PIDS_FILE

    def entries(self) -> list[ManagedProcess]:
        """The registered processes (``[]`` if there is no registry file)."""
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as e:
            raise ProcessError(f"cannot read {self.path}: {e}") from None
        procs = data.get("processes", []) if isinstance(data, dict) else []
        return [ManagedProcess.from_json(p) for p in procs]

    def _write(self, procs: Sequence[ManagedProcess]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps({"processes": [p.to_json() for p in procs]}, indent=2) + "\n")
        tmp.replace(self.path)

    def add(self, proc: ManagedProcess) -> None:
        """Register ``proc`` (replacing an earlier entry of the same name)."""
        procs = [p for p in self.entries() if p.name != proc.name]
        procs.append(proc)
        self._write(procs)

    def remove(self, name: str) -> None:
        self._write([p for p in self.entries() if p.name != name])

    def get(self, name: str) -> ManagedProcess | None:
        for p in self.entries():
            if p.name == name:
                return p
        return None

    def status(self) -> dict[str, bool]:
        """``name -> alive`` for every registered process."""
        return {p.name: p.alive() for p in self.entries()}

    def stop_all(
        self,
        *,
        sigint_timeout: float = DEFAULT_SIGINT_TIMEOUT,
        sigterm_timeout: float = DEFAULT_SIGTERM_TIMEOUT,
    ) -> dict[str, str]:
        """Stop every registered process by PID, newest first; empty the registry.

        Returns ``name -> outcome`` (see :func:`stop_pid`).
        """
        outcomes: dict[str, str] = {}
        for proc in reversed(self.entries()):
            outcomes[proc.name] = proc.stop(
                sigint_timeout=sigint_timeout, sigterm_timeout=sigterm_timeout
            )
            self.remove(proc.name)
        return outcomes
