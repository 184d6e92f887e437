"""The waiting room's timing (gourmet.resilience.line_policy), table by table: an order attempt
has one budget from its arrival, its wait in line is taken from it, and it is never given more
time than its client waits."""

from __future__ import annotations

import pytest

from gourmet.config import Settings
from gourmet.resilience.line_policy import LinePolicy
from gourmet.resilience.waiting_room import Turn

POLICY = LinePolicy(budget_s=8.0, serve_s=3.0, hold_s=6.5)


@pytest.mark.parametrize(
    ("asked", "deadline"),
    [
        (None, 108.0),  # no deadline header (most clients): the budget from arrival
        (b"2000", 102.0),  # a client that waits 2 s gets 2 s
        (b"60000", 108.0),  # a longer one never gets more than the budget
        (b"0", 108.0),  # nonsense leaves the budget
        (b"soon", 108.0),
    ],
)
def test_an_attempts_deadline_is_its_arrival_plus_its_budget(
    asked: bytes | None, deadline: float
) -> None:
    assert POLICY.deadline(100.0, asked) == deadline


@pytest.mark.parametrize(
    ("left_s", "hold_s"),
    [
        (8.0, 6.5),  # just arrived: the whole hold, 1.5 s of the budget left to serve it
        (7.0, 5.5),  # the hold never reaches into the last half deadline
        (1.5, 0.0),  # nothing left to wait with: its place at once
        (0.2, 0.0),
        (-1.0, 0.0),
    ],
)
def test_the_hold_is_taken_from_the_budget_never_added_to_it(left_s: float, hold_s: float) -> None:
    assert POLICY.hold(left_s) == hold_s


@pytest.mark.parametrize(
    ("stamped", "now", "deadline"),
    [
        (108.0, 100.1, 103.1),  # admitted at once: a normal request's deadline
        (108.0, 106.4, 108.0),  # admitted late in its hold: only what is left of the budget
        (102.0, 100.1, 102.0),  # a client that asked for 2 s keeps its 2 s
    ],
)
def test_an_admitted_attempt_keeps_only_what_is_left(
    stamped: float, now: float, deadline: float
) -> None:
    assert POLICY.admitted_deadline(stamped, now) == pytest.approx(deadline)


@pytest.mark.parametrize(
    ("turn", "retry_after"),
    [
        (Turn(place=50, wait_s=5.0, reach_s=4.0), 3),  # halfway into the line's reach
        (Turn(place=2, wait_s=0.2, reach_s=4.0), 1),  # at least a second
        (Turn(place=9000, wait_s=900.0, reach_s=4.0), 60),  # heard from at least once a minute
        (Turn(place=3, wait_s=None), None),  # no estimate: as any refusal
    ],
)
def test_a_customer_sent_back_hears_when_to_come_again(turn: Turn, retry_after: int | None) -> None:
    assert POLICY.retry_after(turn) == retry_after


def test_the_defaults_answer_before_a_client_that_waits_ten_seconds() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    policy = LinePolicy(
        settings.admission.checkout_budget_s,
        settings.admission.deadline_s,
        settings.admission.waiting_room_hold_s,
    )
    assert policy.deadline(0.0, None) < 10.0
    # Admitted at the very end of the longest hold, it still ends within the budget.
    admitted_at = policy.hold(policy.budget_s)
    assert policy.admitted_deadline(policy.deadline(0.0, None), admitted_at) <= policy.budget_s


def test_a_policy_that_makes_no_sense_is_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        LinePolicy(budget_s=0)
