"""Orders as customers and staff see them: the view of a stored row, and of an order just placed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from gourmet.ordering import repository as repo
from gourmet.ordering.schemas import Address, OrderLine, OrderView, StatusChange, Totals


def new_order_view(
    order: repo.NewOrder, number: int, created_at: datetime, lines: list[dict[str, Any]]
) -> OrderView:
    """The view of an order just stored, built from what was written (no read back). Typed
    field by field, so it cannot drift from what :func:`order_view` makes of a stored row."""
    cart = order.cart
    address = (
        Address(line1=order.address_line, postcode=order.postcode or "", city=order.city or "")
        if order.address_line
        else None
    )
    return OrderView(
        number=number,
        token=order.token,
        status=order.status,
        fulfilment=order.fulfilment,
        asap=order.asap,
        slot_start=order.slot_start,
        estimated_ready_at=order.slot_start,
        customer_name=order.customer_name,
        phone=order.phone,
        address=address,
        notes=order.notes,
        payment=order.payment_method,
        payment_status=order.payment_status,
        totals=Totals(
            subtotal_cents=cart.subtotal_cents,
            delivery_fee_cents=order.delivery_fee_cents,
            tax_cents=order.tax_cents,
            total_cents=cart.subtotal_cents
            + order.delivery_fee_cents
            + order.tax_cents
            + order.tip_cents,
            tip_cents=order.tip_cents,
        ),
        lines=msgspec.convert(lines, list[OrderLine]),  # the line documents as stored
        history=[
            StatusChange(order.status, created_at, order.entered_by or "customer", order.note)
        ],
        rejection_reason=None,
        created_at=created_at,
    )


def order_view(row: dict[str, Any]) -> OrderView:
    address = (
        {"line1": row["address_line"], "postcode": row["postcode"], "city": row["city"] or ""}
        if row["address_line"]
        else None
    )
    return msgspec.convert(
        {
            "number": row["id"],
            "token": row["token"],
            "status": row["status"],
            "fulfilment": row["fulfilment"],
            "asap": row["asap"],
            "slot_start": row["slot_start"],
            "estimated_ready_at": row["estimated_ready_at"],
            "customer_name": row["customer_name"],
            "phone": row["phone"],
            "address": address,
            "notes": row["notes"],
            "payment": row["payment_method"],
            "payment_status": row["payment_status"],
            "totals": {
                "subtotal_cents": row["subtotal_cents"],
                "delivery_fee_cents": row["delivery_fee_cents"],
                "tax_cents": row["tax_cents"],
                "total_cents": row["total_cents"],
                "tip_cents": row["tip_cents"],
            },
            "lines": row["lines"],
            "history": row["history"] or [],
            "rejection_reason": row["rejection_reason"],
            "created_at": row["created_at"],
            "refunded_cents": row["refunded_cents"],
        },
        OrderView,
        from_attributes=True,
        strict=False,
    )
