"""The dashboard as a devnet process: ``pyop devnet up DIR --dashboard`` starts
``pyop dashboard --devnet DIR --port N`` (process ``dashboard`` in ``DIR/pids.json``, log
``DIR/logs/dashboard.log``), so it runs in the background with ``--detach`` and
``pyop devnet down`` stops it with the rest.

The devnet floor does not import the dashboard (a higher floor); it only starts it by command
line, as it starts op-geth.
"""

from __future__ import annotations

import sys

from pyop.devnet.process import (
    ManagedProcess,
    PidRegistry,
    ProcessError,
    default_or_os_port,
    port_free,
    start_http_service,
)
from pyop.devnet.stack import HOST, DevnetInfo, StackError

NAME = "dashboard"
DEFAULT_PORT = 7300

__all__ = ["DEFAULT_PORT", "dashboard_port", "start_dashboard"]


def dashboard_port(port: int | None) -> int:
    """``port`` (it must be free), else :data:`DEFAULT_PORT` if free, else one the OS picks."""
    if port is not None:
        if not port_free(HOST, port):
            raise StackError(f"--dashboard.port {port}: the port is in use on {HOST}")
        return port
    return default_or_os_port(HOST, DEFAULT_PORT)


def start_dashboard(info: DevnetInfo, *, port: int | None = None,
                    registry: PidRegistry | None = None) -> tuple[ManagedProcess, str]:  # fmt: skip
    """Start the dashboard for ``info``'s devnet; returns ``(process, url)`` once it serves."""
    registry = registry or PidRegistry(info.directory)
    cur = registry.get(NAME)
    if cur is not None and cur.alive():
        raise StackError(f"a dashboard already runs for this devnet (pid {cur.pid})")
    p = dashboard_port(port)
    url = f"http://{HOST}:{p}/"
    argv = [sys.executable, "-m", "pyop.cli", "dashboard", "--devnet", str(info.directory),
            "--port", str(p)]  # fmt: skip
    try:
        proc = start_http_service(NAME, argv, log_path=info.logs_dir / f"{NAME}.log",
                                  ready_url=url + "healthz", ready_timeout=60, registry=registry)  # fmt: skip
    except ProcessError as e:
        raise StackError(f"the dashboard did not start: {e}") from None
    return proc, url
