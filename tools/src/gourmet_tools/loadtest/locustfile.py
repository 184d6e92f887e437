"""Locust journeys for Gourmet: run against any base URL, as operators do.

    locust -f loadtest/locustfile.py --headless --host http://127.0.0.1:8000 \\
        --csv var/locust/run --html var/locust/report.html

Who visits (weights in JOURNEYS_WEIGHTS, default "browser=80,customer=18,staff=2"):
most browse the menu; customers build a cart and check out with one Idempotency-Key, retrying
as the checkout page does (Retry-After, the waiting room's ticket) until their patience runs out,
then follow their order; a few staff work the kitchen board (GOURMET_SECURITY__STAFF_TOKEN). Think
times come from JOURNEYS_THINK_S ("1,5": seconds, uniform). The load follows one of Gourmet's
shapes (JOURNEYS_SHAPE: steady, dinner-rush, november, growth, soak; with
JOURNEYS_BASE_RATE visitors arriving per second and JOURNEYS_SCALE compressing time),
taken from gourmet_tools.loadtest.shapes, the same curves `gourmet loadtest` drives; the run
ends with the shape. JOURNEYS_LEDGER names a file where each acknowledged order's key and
token are written, to be checked against the database.
"""

from __future__ import annotations

import os
import random
import threading
import time
import uuid
from typing import Any

from locust import FastHttpUser, LoadTestShape, between, task

from gourmet_tools.checkout_page import Answer, CheckoutPage
from gourmet_tools.loadtest.shapes import SHAPES

PATIENCE_S = float(os.environ.get("JOURNEYS_PATIENCE_S", "60"))
STAFF_TOKEN = os.environ.get("GOURMET_SECURITY__STAFF_TOKEN", "")
LEDGER = os.environ.get("JOURNEYS_LEDGER")
_ledger_lock = threading.Lock()


def _weights() -> dict[str, int]:
    text = os.environ.get("JOURNEYS_WEIGHTS", "browser=80,customer=18,staff=2")
    return {name: int(value) for name, value in (p.split("=") for p in text.split(","))}


def _think() -> Any:
    low, high = (float(x) for x in os.environ.get("JOURNEYS_THINK_S", "1,5").split(","))
    return between(low, high)


WEIGHTS = _weights()
NEXT_STATUS = {"received": "accepted", "accepted": "preparing", "preparing": "ready"}


class Browser(FastHttpUser):
    """Looks at the menu, sometimes the status page."""

    weight = WEIGHTS.get("browser", 0)
    wait_time = _think()

    @task(5)
    def menu(self) -> None:
        self.client.get("/api/menu", name="/api/menu")

    @task(1)
    def status(self) -> None:
        self.client.get("/api/status", name="/api/status")


class Customer(FastHttpUser):
    """Reads the menu and slots, builds a cart, checks out (retrying with one key) and follows
    the order a few times."""

    weight = WEIGHTS.get("customer", 0)
    wait_time = _think()

    @task
    def order(self) -> None:
        body = self._cart()
        if body is None:
            return
        key = str(uuid.uuid4())
        token = self._checkout(body, key)
        if token is None:
            return
        if LEDGER:
            with _ledger_lock, open(LEDGER, "a") as ledger:
                ledger.write(f"{key} {token}\n")
        for _ in range(3):
            self.client.get(f"/api/orders/{token}", name="/api/orders/[token]")
            time.sleep(random.uniform(0.5, 1.5))

    def _cart(self) -> dict[str, Any] | None:
        menu = self.client.get("/api/menu", name="/api/menu").json()
        items = [
            item
            for category in menu["categories"]
            for item in category["items"]
            if item["available"] and all(g["min_choices"] == 0 for g in item["modifier_groups"])
        ]
        slots = self.client.get("/api/slots?fulfilment=pickup", name="/api/slots").json()["slots"]
        if not items or len(slots) < 3:
            return None
        lines = [
            {"item_id": item["id"], "quantity": random.randint(1, 3)}
            for item in random.sample(items, min(2, len(items)))
        ]
        return {
            "fulfilment": "pickup",
            "slot": random.choice(slots[2:])["start"],
            "customer": {"name": "Locust", "phone": "555-0100"},
            "lines": lines,
        }

    def _checkout(self, body: dict[str, Any], key: str) -> str | None:
        """The order's token once acknowledged, or None when the page stopped or patience ran
        out. Retries as the checkout page does (gourmet_tools.checkout_page)."""
        give_up = time.monotonic() + PATIENCE_S
        page = CheckoutPage(time.monotonic(), key)
        while time.monotonic() < give_up:
            with self.client.post(
                "/api/orders",
                json=body,
                headers=page.headers(),
                name="/api/orders",
                catch_response=True,
            ) as answer:
                status = answer.status_code
                headers = {name.lower(): value for name, value in (answer.headers or {}).items()}
                step = page.after(
                    Answer.from_http(status, headers, answer.content or b""), time.monotonic()
                )
                if step.action == "placed":
                    answer.success()
                    return str(answer.json()["token"])
                if step.action == "retry":
                    answer.success()  # asked to wait: the journey goes on, not a failure
                else:
                    answer.failure(f"checkout ended at {status}: {answer.text[:200]}")
                    return None
            time.sleep(min(step.wait_s, max(0.0, give_up - time.monotonic())))
        return None


class KitchenStaff(FastHttpUser):
    """Reads the board and moves the oldest order on, as the kitchen tablet does."""

    weight = WEIGHTS.get("staff", 0)
    wait_time = _think()

    @task
    def work_the_board(self) -> None:
        headers = {"Authorization": f"Bearer {STAFF_TOKEN}"}
        board = self.client.get("/api/staff/orders", headers=headers, name="/api/staff/orders")
        if board.status_code != 200:
            return
        for order in board.json():
            target = NEXT_STATUS.get(order["status"])
            if target is not None:
                self.client.post(
                    f"/api/staff/orders/{order['number']}/status",
                    json={"status": target},
                    headers=headers,
                    name="/api/staff/orders/[number]/status",
                )
                return


class GourmetShape(LoadTestShape):
    """Users in proportion to the shape's arrival rate at each moment: a visitor thinks about
    3 s between requests, so rate x 3 users keep that many arriving each second."""

    USERS_PER_RATE = 3.0

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        name = os.environ.get("JOURNEYS_SHAPE", "steady")
        base = float(os.environ.get("JOURNEYS_BASE_RATE", "5"))
        scale = float(os.environ.get("JOURNEYS_SCALE", "1"))
        self.phases = SHAPES[name](base, scale).phases

    def tick(self) -> tuple[int, float] | None:
        elapsed = self.get_run_time()  # type: ignore[no-untyped-call]
        for phase in self.phases:
            if elapsed < phase.duration_s:
                users = max(1, round(phase.rate * self.USERS_PER_RATE))
                return users, max(1.0, users / 5)
            elapsed -= phase.duration_s
        return None
