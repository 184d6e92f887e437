"""Kitchen tickets: what each printer prints, and when.

A ticket is printed when the kitchen accepts an order (by hand, or at once with auto-accept):
one per station printer (``GOURMET_KITCHEN__PRINTERS``; every item goes to every station until
items are routed to stations). An order rejected or cancelled after its ticket was printed
prints a VOID ticket, not a second full one; staff can reprint any order. Each is an outbox job
written in the transaction that makes the change, named after the order and what it prints
(``print:<order>:v<version>:<station>``), so a change makes one job however often it is
retried, and printing never holds up the change: a printer that is off is tried again later
(:mod:`gourmet.kitchen.printer`) and flagged on the board (:func:`printer_states`).

Delivery is at least once: a worker that dies between the printer's acknowledgement and marking
the job done prints it again. A kitchen prefers a duplicate ticket to a missing one.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final, Literal

import msgspec

from gourmet.db.types import Conn
from gourmet.ordering.notifications import outbox

PRINT: Final = "print"
What = Literal["order", "void", "reprint"]
ACCEPTED: Final = "accepted"
PRINTED_STATUSES: Final = frozenset({"accepted", "preparing", "ready", "out_for_delivery"})
ENDED_UNSERVED: Final = frozenset({"rejected", "cancelled"})
WIDTH: Final = 42  # characters on an 80 mm roll in the printer's default font


class PrinterState(msgspec.Struct, frozen=True):
    station: str
    address: str
    answering: bool  # False: its last try failed and tickets wait for it
    waiting: int  # tickets not yet printed
    failing_since: datetime | None
    last_error: str | None


class TicketPrinters:
    """The station printers, and the tickets owed to them."""

    def __init__(self, printers: Mapping[str, str]) -> None:
        self.printers = dict(printers)

    async def on_status(self, conn: Conn, order_id: int, old: str, new: str, version: int) -> None:
        """In the caller's transaction: the tickets a change of status prints."""
        if new == ACCEPTED:
            await self._owe(conn, order_id, "order", f"v{version}")
        elif new in ENDED_UNSERVED and old in PRINTED_STATUSES:
            await self._owe(conn, order_id, "void", f"v{version}")

    async def reprint(self, conn: Conn, order_id: int) -> list[str]:
        """Print the order again at every station; the stations it goes to."""
        await self._owe(conn, order_id, "reprint", uuid.uuid4().hex[:12])
        return sorted(self.printers)

    async def _owe(self, conn: Conn, order_id: int, what: What, tag: str) -> None:
        for station, address in self.printers.items():
            await outbox.enqueue(
                conn,
                PRINT,
                f"print:{order_id}:{tag}:{station}",
                order_id,
                {"station": station, "address": address, "what": what},
            )

    async def states(self, conn: Conn) -> list[PrinterState]:
        """Each printer: answering, or failing since when with what, and tickets waiting."""
        rows = await (
            await conn.execute(
                "SELECT payload ->> 'station' AS station, count(*) AS waiting,"
                " min(created_at) FILTER (WHERE last_error IS NOT NULL) AS failing_since,"
                " (array_agg(last_error ORDER BY attempts DESC, id DESC)"
                "   FILTER (WHERE last_error IS NOT NULL))[1] AS last_error"
                " FROM outbox WHERE kind = 'print' AND state = 'pending'"
                " GROUP BY payload ->> 'station'"
            )
        ).fetchall()
        by_station = {row["station"]: row for row in rows}
        states = []
        for station, address in sorted(self.printers.items()):
            row: dict[str, Any] = by_station.get(station) or {}
            states.append(
                PrinterState(
                    station=station,
                    address=address,
                    answering=row.get("last_error") is None,
                    waiting=int(row.get("waiting") or 0),
                    failing_since=row.get("failing_since"),
                    last_error=row.get("last_error"),
                )
            )
        return states


def ticket_lines(order: Mapping[str, Any], what: str, station: str, when: str) -> list[str]:
    """The ticket's text, line by line: a cook reads it across the pass, so the number, the
    time due and each item stand on lines of their own."""
    number = order["id"]
    if what == "void":
        return [
            "*** VOID ***",
            f"ORDER {number}",
            f"{order['status'].upper()}: do not make",
            *(f"{line['quantity']} x {line['name']}" for line in order["lines"]),
        ]
    head = ["*** REPRINT ***"] if what == "reprint" else []
    fulfilment = "DELIVERY" if order["fulfilment"] == "delivery" else "PICKUP"
    lines = [
        *head,
        f"ORDER {number}",
        f"{fulfilment} {when}",
        order["customer_name"][:WIDTH],
        f"station: {station}",
        "-" * WIDTH,
    ]
    for line in order["lines"]:
        lines.append(f"{line['quantity']} x {line['name']}"[:WIDTH])
        lines += [f"   + {option['name']}"[:WIDTH] for option in line["options"]]
        if line["notes"]:
            lines.append(f"   ! {line['notes']}"[:WIDTH])
    if order["notes"]:
        lines += ["-" * WIDTH, f"NOTE: {order['notes']}"]
    return lines
