"""The order status workflow, without a database."""

from __future__ import annotations

import itertools

import pytest

from gourmet.ordering.errors import InvalidTransition, ReasonRequired
from gourmet.ordering.workflow import OPEN_STATUSES, check_transition, next_status_options


@pytest.mark.parametrize(
    ("path", "fulfilment"),
    [
        (["received", "accepted", "preparing", "ready", "completed"], "pickup"),
        (
            ["received", "accepted", "preparing", "ready", "out_for_delivery", "delivered"],
            "delivery",
        ),
        (["received", "cancelled"], "pickup"),
        (["received", "accepted", "preparing", "cancelled"], "delivery"),
    ],
)
def test_valid_paths(path: list[str], fulfilment: str) -> None:
    for current, target in itertools.pairwise(path):
        check_transition(current, target, fulfilment, None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("current", "target", "fulfilment"),
    [
        ("received", "completed", "pickup"),
        ("received", "ready", "pickup"),
        ("ready", "out_for_delivery", "pickup"),
        ("ready", "completed", "delivery"),
        ("completed", "received", "pickup"),
        ("rejected", "accepted", "pickup"),
        ("ready", "cancelled", "pickup"),
    ],
)
def test_invalid_jumps_are_refused(current: str, target: str, fulfilment: str) -> None:
    with pytest.raises(InvalidTransition) as caught:
        check_transition(current, target, fulfilment, None)  # type: ignore[arg-type]
    assert caught.value.extra["current"] == current


def test_reject_needs_a_reason() -> None:
    with pytest.raises(ReasonRequired):
        check_transition("received", "rejected", "pickup", None)
    with pytest.raises(ReasonRequired):
        check_transition("received", "rejected", "pickup", "   ")
    check_transition("received", "rejected", "pickup", "Out of dough")


def test_open_statuses_and_options() -> None:
    assert {"received", "accepted", "preparing", "ready", "out_for_delivery"} == OPEN_STATUSES
    assert next_status_options("ready", "pickup") == {"completed"}
    assert next_status_options("ready", "delivery") == {"out_for_delivery"}
