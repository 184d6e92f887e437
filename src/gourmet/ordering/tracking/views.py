"""Orders as customers and staff see them: the view of a stored row (an order just placed:
:func:`gourmet.ordering.checkout.placed.new_order_view`)."""

from __future__ import annotations

from typing import Any

import msgspec

from gourmet.ordering.schemas import OrderView


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
