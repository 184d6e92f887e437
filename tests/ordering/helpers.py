"""Request builders shared by the ordering tests."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any


def checkout_body(
    lines: list[dict[str, Any]],
    *,
    fulfilment: str = "pickup",
    slot: str | None = None,
    address: dict[str, str] | None = None,
    name: str = "Ada Lovelace",
    notes: str = "",
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "fulfilment": fulfilment,
        "customer": {"name": name, "phone": "555-0100", "email": "ada@example.com"},
        "lines": lines,
        "notes": notes,
    }
    if slot is not None:
        body["slot"] = slot
    if address is not None:
        body["address"] = address
    return body


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def html_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())
