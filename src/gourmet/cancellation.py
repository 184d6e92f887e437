"""Background loops must end when their task is cancelled, even when the cancellation reached
them as another exception: a query cancelled on the server comes back as ``QueryCanceled``, a
pool wait as a timeout, and a loop that logs those and goes round again never ends (a shutdown
that waits for it hangs). They call :func:`stop_if_cancelled` after handling such errors."""

from __future__ import annotations

import asyncio


def stop_if_cancelled() -> None:
    """Raise ``CancelledError`` when the current task has been asked to stop."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
