"""Real servers for tests, in processes of their own: start, wait until healthy, stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx

STARTUP_DEADLINE_S = 30.0
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A port nothing listens on right now (the OS picks it, so parallel runs do not collide)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_port_block(offsets: tuple[int, ...], attempts: int = 50) -> int:
    """A port P such that P + each offset is free too (the local cluster serves on P, P + 1,
    P + 2 and P + 100): the OS picks only P, and a neighbour may be in use."""
    for _ in range(attempts):
        base = free_port()
        if all(_free(base + offset) for offset in offsets):
            return base
    raise RuntimeError(f"no free port P with P + {offsets} free in {attempts} tries")


def _free(port: int) -> bool:
    if port > 65535:
        return False
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def start(
    command: list[str], env: dict[str, str], log: Path, health: str
) -> subprocess.Popen[bytes]:
    """Run ``command`` until ``health`` answers 200; its output goes to ``log``."""
    with log.open("wb") as out:
        # A session of its own, so teardown can stop granian's worker with it if it hangs.
        process = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        wait_healthy(health, process, log)
    except BaseException:
        stop(process)
        raise
    return process


def wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_DEADLINE_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"{process.args!r} exited with {process.returncode}:\n{log.read_text()}"
            )
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)  # polling interval while the server starts
    raise RuntimeError(f"{url} not healthy after {STARTUP_DEADLINE_S} s:\n{log.read_text()}")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)  # granian's graceful shutdown
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
