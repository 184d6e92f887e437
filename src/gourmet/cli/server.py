"""The process that runs the workers: granian's, taught to stop and reload without losing a
request (``gourmet serve``, ``cli/serve.py``).

SIGTERM first drains: every worker hears DRAIN_SIGNAL, so readiness answers 503 and each
response closes its keep-alive connection, while requests are still served for
GOURMET_SERVER__DRAIN_S; then granian stops as it always does (the listener closes, in-flight
requests get GOURMET_SERVER__SHUTDOWN_TIMEOUT_S). A load balancer polling readiness has stopped
sending by then, and no client holds a connection that is about to close. SIGINT (Ctrl-C) and a
second SIGTERM stop at once.

SIGHUP (reload) replaces the workers one at a time: the new one starts, and only once its app
has started (it says so with a file in the ready directory) does the old one hear
REPLACE_SIGNAL, close its keep-alive connections after each response for GOURMET_SERVER__DRAIN_S,
and stop. granian's own reload waits a fixed interval instead, and on a busy machine stopped the old
worker before the new one could take a connection.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

from granian import Granian

from gourmet.config import Settings
from gourmet.listener import OwnListener
from gourmet.observability.health import DRAIN_SIGNAL, READY_DIR_VARIABLE, REPLACE_SIGNAL

READY_TIMEOUT_S = 60.0
READY_POLL_S = 0.05
PORT_HINT = (
    "Stop the other server, choose another GOURMET_SERVER__PORT, or set"
    " GOURMET_SERVER__SHARE_PORT=true on both to serve the port together."
)


class GourmetServer(OwnListener, Granian):  # type: ignore[misc, valid-type]
    draining = False
    port_hint = PORT_HINT

    def __init__(self, settings: Settings, **options: Any) -> None:
        super().__init__(**options)
        self.settings = settings
        self.share_port = settings.server.share_port
        self.ready_dir = Path(os.environ[READY_DIR_VARIABLE])

    def signal_handler_interrupt(self, signum: int | None = None, *args: Any) -> None:
        if signum == signal.SIGTERM and self.settings.server.drain_s > 0 and not self.draining:
            self.draining = True
            for worker in self.wrks:
                _notify(worker, DRAIN_SIGNAL)
            stop = threading.Timer(self.settings.server.drain_s, super().signal_handler_interrupt)
            stop.daemon = True
            stop.start()
            return
        super().signal_handler_interrupt()

    def _respawn_workers(
        self, workers: list[int], spawn_target: Any, target_loader: Any, delay: float = 0
    ) -> None:
        if not delay:  # a crashed worker: nothing left to hand over, replace it at once
            super()._respawn_workers(workers, spawn_target, target_loader, delay)
            return
        for idx in workers:
            self.respawned_wrks[idx] = time.monotonic()  # granian's crash-loop bookkeeping
            old = self.wrks[idx]
            new = self._spawn_worker(idx=idx, target=spawn_target, callback_loader=target_loader)
            new.start()
            self._wait_ready(new)
            self.wrks[idx] = new
            _notify(old, REPLACE_SIGNAL)
            time.sleep(self.settings.server.drain_s)  # its clients move to new connections
            old.terminate()
            old.join(self.workers_kill_timeout)
            if old.is_alive():
                old.kill()
                old.join()
        self._metrics.incr_spawn(len(workers))

    def _wait_ready(self, worker: Any) -> None:
        ready = self.ready_dir / str(worker.inner.pid)
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not ready.exists() and worker.is_alive() and time.monotonic() < deadline:
            time.sleep(READY_POLL_S)
        ready.unlink(missing_ok=True)


def _notify(worker: Any, notice: signal.Signals) -> None:
    if worker.is_alive():  # a crashed worker being replaced hears nothing
        with contextlib.suppress(ProcessLookupError):
            os.kill(worker.inner.pid, notice)
