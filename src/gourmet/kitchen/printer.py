"""Sending tickets to the kitchen's network printers (ESC/POS over TCP, port 9100 style) with
``python-escpos``: the ``print`` jobs' handler of the outbox.

The printer is called with no database connection held, in a thread (python-escpos writes to a
blocking socket), within ``timeout_s``. A printer that is off, unplugged or out of paper does not
answer: the job is tried again later (the outbox's delays, 2 s doubling to 5 minutes) and the
board shows the printer as not answering (:meth:`TicketPrinters.states`) until it prints.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import tzinfo

from escpos.exceptions import Error as EscposError
from escpos.printer import Network

from gourmet.config.groups import printer_address
from gourmet.db.pool import GuardedPool
from gourmet.kitchen.tickets import ticket_lines
from gourmet.ordering.notifications import outbox
from gourmet.ordering.notifications.outbox import Job, RetryLater
from gourmet.ordering.tracking import repository as tracking_repo

Send = Callable[[str, list[str], float], None]


def send_escpos(address: str, lines: list[str], timeout_s: float) -> None:
    """Print ``lines`` and cut: the first two lines large and bold (what a cook reads first)."""
    host, port = printer_address(address)
    printer = Network(host, port=port, timeout=timeout_s)
    try:
        printer.open()
        for index, line in enumerate(lines):
            big = index < 2
            printer.set(bold=big, double_height=big, double_width=big)
            printer.text(line + "\n")
        printer.cut()
    finally:
        printer.close()


class PrintTickets:
    def __init__(
        self, pool: GuardedPool, tz: tzinfo, timeout_s: float = 5.0, send: Send = send_escpos
    ) -> None:
        self._pool = pool
        self._tz = tz
        self._timeout_s = timeout_s
        self._send = send

    async def __call__(self, job: Job) -> None:
        async with self._pool.connection() as conn:
            order = await tracking_repo.order_mail_row(conn, job.order_id or 0)
        if order is not None:
            station, address = str(job.payload["station"]), str(job.payload["address"])
            when = order["estimated_ready_at"].astimezone(self._tz).strftime("%H:%M")
            lines = ticket_lines(order, str(job.payload["what"]), station, when)
            try:
                await asyncio.wait_for(
                    asyncio.to_thread(self._send, address, lines, self._timeout_s),
                    self._timeout_s * 2,
                )
            except (OSError, TimeoutError, EscposError) as exc:
                raise RetryLater(
                    f"printer {station} at {address}: {exc or type(exc).__name__}"
                ) from exc
        async with self._pool.connection() as conn:
            await outbox.mark_done(conn, job.id)
