"""Reconciliation: the payments the orders record against the provider's own ledger.

Every difference is money that is wrong somewhere, and each kind says what to do:

- ``charge without an order``: the provider took money that no order records (and has not given
  back): refund it, or find the order;
- ``charged twice``: more than one approved charge for one order, not refunded;
- ``payment not at the provider``: an order records a charge the provider does not have;
- ``amount differs``: the charge is not the order's total;
- ``not refunded``: a rejected or cancelled order whose payment is still ``paid``;
- ``refund differs``: what the order records as refunded is not what the provider refunded
  (a refund the order does not know of included);
- ``refund failed``: the outbox gave the refund up (the provider refused it).

A refund still on its way (``refund_pending``, or a manager's refund not yet made; its job not
given up) is not a difference: it is listed as pending, and the next run shows whether it went
through.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from gourmet.db.types import Conn
from gourmet.payments.provider import Ledger

ENDED = ("rejected", "cancelled")
RECORDED_PAID = ("paid", "refund_pending", "refunded")


@dataclass(frozen=True, slots=True)
class Difference:
    kind: str
    order: int | None  # the order's number, when there is one
    charge: str | None
    detail: str


@dataclass(frozen=True, slots=True)
class Reconciliation:
    differences: list[Difference]
    pending_refunds: list[int]  # orders whose refund is on its way
    orders_checked: int
    charges_checked: int


async def reconcile(conn: Conn, ledger: Ledger) -> Reconciliation:
    orders = await (
        await conn.execute(
            "SELECT o.id, o.token, o.status, o.payment_status, o.payment_reference,"
            " o.total_cents, o.refunded_cents,"
            " (SELECT bool_or(b.state = 'failed') FROM outbox b"
            "   WHERE b.order_id = o.id AND b.kind = 'refund') AS refund_failed,"
            " (SELECT coalesce(sum((b.payload ->> 'amount_cents')::int), 0) FROM outbox b"
            "   WHERE b.order_id = o.id AND b.kind = 'refund' AND b.state = 'pending')"
            "   AS refund_pending_cents"
            " FROM orders o WHERE o.payment_method = 'card' OR o.payment_reference IS NOT NULL"
        )
    ).fetchall()
    differences: list[Difference] = []
    by_reference = {o["payment_reference"]: o for o in orders if o["payment_reference"]}
    by_token = {o["token"]: o for o in orders}
    charges = {c.charge_id: c for c in ledger.charges if c.approved}
    refunded: dict[str, int] = defaultdict(int)
    for refund in ledger.refunds:
        refunded[refund.charge_id] += refund.amount_cents

    approved_by_token: dict[str, list[str]] = defaultdict(list)
    for charge in charges.values():
        token = charge.idempotency_key.rsplit("-", 1)[0]
        order = by_reference.get(charge.charge_id)
        if order is None and refunded[charge.charge_id] < charge.amount_cents:
            owner = by_token.get(token)
            differences.append(
                Difference(
                    "charge without an order",
                    owner["id"] if owner else None,
                    charge.charge_id,
                    f"{charge.amount_cents} cents taken, {refunded[charge.charge_id]} given back,"
                    " no order records this charge",
                )
            )
        if refunded[charge.charge_id] < charge.amount_cents:
            approved_by_token[token].append(charge.charge_id)
    for token, ids in approved_by_token.items():
        if len(ids) > 1:
            order = by_token.get(token)
            differences.append(
                Difference(
                    "charged twice",
                    order["id"] if order else None,
                    ", ".join(sorted(ids)),
                    f"{len(ids)} approved charges for one order",
                )
            )

    pending: list[int] = []
    for order in orders:
        differences += _order_differences(order, charges, refunded)
        owed = order["payment_status"] == "refund_pending" or order["refund_pending_cents"]
        if owed and not order["refund_failed"]:
            pending.append(order["id"])
    return Reconciliation(differences, pending, len(orders), len(ledger.charges))


def _order_differences(
    order: dict[str, Any], charges: dict[str, Any], refunded: dict[str, int]
) -> list[Difference]:
    number, reference, status = order["id"], order["payment_reference"], order["payment_status"]
    if status not in RECORDED_PAID:
        return []
    charge = charges.get(reference)
    if charge is None:
        return [Difference("payment not at the provider", number, reference, f"order is {status}")]
    found = []
    if charge.amount_cents != order["total_cents"]:
        found.append(
            Difference(
                "amount differs",
                number,
                reference,
                f"charged {charge.amount_cents}, order total {order['total_cents']}",
            )
        )
    if status == "paid" and order["status"] in ENDED:
        found.append(
            Difference("not refunded", number, reference, f"order {order['status']}, still paid")
        )
    # What the order records as refunded, and what is on its way to the provider (made there,
    # perhaps, and not yet recorded): the provider's refunds must lie between the two.
    recorded, on_its_way = order["refunded_cents"], order["refund_pending_cents"]
    if status != "refund_pending" and not recorded <= refunded[reference] <= recorded + on_its_way:
        found.append(
            Difference(
                "refund differs",
                number,
                reference,
                f"order records {recorded} refunded ({on_its_way} on its way), provider"
                f" refunded {refunded[reference]}",
            )
        )
    if order["refund_failed"]:
        found.append(
            Difference("refund failed", number, reference, "the provider refused the refund")
        )
    return found
