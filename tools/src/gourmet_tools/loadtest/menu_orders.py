"""Orders any Gourmet can take: built from its own menu and slots, not from ids known here."""

from __future__ import annotations

from typing import Any

import httpx

SLOTS_SPREAD = 40  # orders spread over this many slots: a night's, not one hot slot


def checkout_bodies(client: httpx.Client, fulfilment: str = "pickup") -> list[dict[str, Any]]:
    """One body per slot (the two soonest skipped: a long run could see them pass), each with
    two available items and the fewest options their groups require."""
    menu = client.get("/api/menu").raise_for_status().json()
    lines: list[dict[str, Any]] = []
    for category in menu["categories"]:
        for item in category["items"]:
            if item["available"] and len(lines) < 2:
                chosen = _required_options(item)
                if chosen is not None:
                    lines.append({"item_id": item["id"], "quantity": 1, "option_ids": chosen})
    if not lines:
        raise RuntimeError("the menu has no item that can be ordered")
    slots = client.get("/api/slots", params={"fulfilment": fulfilment}).raise_for_status()
    starts = [slot["start"] for slot in slots.json()["slots"]][2 : 2 + SLOTS_SPREAD]
    customer = {"name": "Load test", "phone": "555-0100"}
    return [
        {"fulfilment": fulfilment, "slot": start, "customer": customer, "lines": lines}
        for start in starts
    ]


def _required_options(item: dict[str, Any]) -> list[int] | None:
    chosen: list[int] = []
    for group in item["modifier_groups"]:
        available = [option["id"] for option in group["options"] if option["available"]]
        if len(available) < group["min_choices"]:
            return None
        chosen += available[: group["min_choices"]]
    return chosen
