"""A day's (or a range's) sales figures, computed from the orders themselves.

An order counts as sold once it reached the kitchen: every status but ``awaiting_payment``
(never paid), ``rejected`` and ``cancelled`` (ended unserved, their money given back). Its
figures are its own: the items (gross sales), delivery fee, tax and tip, which add up to its
total; refunds are what was given back of a sold order; net is the total less refunds.

Figures are plain dictionaries of integers (cents and counts) so that a day's can be stored as
JSON and days added together; :func:`add` sums them, :func:`of_orders` makes one from rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

TOTAL_KEYS = ("orders", "gross", "delivery", "tax", "tips", "total", "refunds")
# Breakdowns: each key maps to [orders or quantity, cents].
BREAKDOWNS = ("hours", "items", "fulfilment", "payment")

ORDERS_SQL = """
SELECT o.id, o.created_at, o.fulfilment, o.payment_method, o.subtotal_cents,
    o.delivery_fee_cents, o.tax_cents, o.tip_cents, o.total_cents, o.refunded_cents,
    (SELECT coalesce(json_agg(json_build_object(
        'name', l.name, 'quantity', l.quantity, 'line_total_cents', l.line_total_cents,
        'options', (SELECT coalesce(json_agg(json_build_object(
            'group', lo.group_name, 'name', lo.name) ORDER BY lo.option_id), '[]')
            FROM order_line_option lo WHERE lo.line_id = l.id)
        ) ORDER BY l.position), '[]') FROM order_line l WHERE l.order_id = o.id) AS lines
FROM orders o
WHERE o.created_at >= %s AND o.created_at < %s
  AND o.status NOT IN ('awaiting_payment', 'rejected', 'cancelled')
"""


def empty() -> dict[str, Any]:
    figures: dict[str, Any] = dict.fromkeys(TOTAL_KEYS, 0)
    for name in BREAKDOWNS:
        figures[name] = {}
    return figures


def item_key(line: Mapping[str, Any]) -> str:
    """An item with its options, as sold: "Margherita (Size: Large, Extra: Mushrooms)"."""
    options = ", ".join(f"{o['group']}: {o['name']}" for o in line.get("options") or [])
    return f"{line['name']} ({options})" if options else str(line["name"])


def _count(breakdown: dict[str, list[int]], key: str, n: int, cents: int) -> None:
    entry = breakdown.setdefault(key, [0, 0])
    entry[0] += n
    entry[1] += cents


def of_orders(rows: Iterable[Mapping[str, Any]], tz: Any) -> dict[str, Any]:
    """The figures of ``rows`` (sold orders, as :data:`ORDERS_SQL` reads them)."""
    figures = empty()
    for row in rows:
        figures["orders"] += 1
        figures["gross"] += row["subtotal_cents"]
        figures["delivery"] += row["delivery_fee_cents"]
        figures["tax"] += row["tax_cents"]
        figures["tips"] += row["tip_cents"]
        figures["total"] += row["total_cents"]
        figures["refunds"] += row["refunded_cents"]
        hour = row["created_at"].astimezone(tz).hour
        _count(figures["hours"], str(hour), 1, row["total_cents"])
        _count(figures["fulfilment"], row["fulfilment"], 1, row["total_cents"])
        _count(figures["payment"], row["payment_method"], 1, row["total_cents"])
        for line in row["lines"] or []:
            _count(figures["items"], item_key(line), line["quantity"], line["line_total_cents"])
    return figures


def add(into: dict[str, Any], more: Mapping[str, Any]) -> dict[str, Any]:
    """``more`` added to ``into`` (changed in place, and returned)."""
    for key in TOTAL_KEYS:
        into[key] += more.get(key, 0)
    for name in BREAKDOWNS:
        for key, (n, cents) in (more.get(name) or {}).items():
            _count(into[name], key, n, cents)
    return into
