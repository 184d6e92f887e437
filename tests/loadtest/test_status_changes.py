"""When the status page said something was wrong during a surge, and when it said operational
again by itself, from the probe's samples (a table of cases)."""

from __future__ import annotations

import pytest
from gourmet_tools.loadtest.probe import Sample, status_changes

START, END = 10.0, 40.0  # the surge's window


def seen(*states: str | None) -> list[Sample]:
    """One sample a second from t = 0 with these status states."""
    return [Sample(t=float(t), status=state) for t, state in enumerate(states)]


OK, DEGRADED, DOWN = "operational", "degraded", "major_outage"


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        ([OK] * 60, (None, None)),  # never said anything was wrong
        ([OK] * 15 + [DEGRADED] * 30 + [OK] * 15, (5.0, 5.0)),
        ([OK] * 12 + [DEGRADED] * 48, (2.0, None)),  # never back by itself
        ([DEGRADED] * 5 + [OK] * 10 + [DOWN] * 40 + [OK] * 5, (5.0, 15.0)),  # before: not it
        ([DEGRADED] * 50 + [OK] * 10, (None, None)),  # degraded before the surge: not its doing
        ([OK] * 12 + [None] * 3 + [DEGRADED] * 20 + [OK] * 25, (5.0, 0.0)),  # back before end
        ([OK] * 11 + [DEGRADED] * 20 + [None] * 20 + [OK] * 9, (1.0, 11.0)),  # unread: says nothing
    ],
)
def test_status_changes(
    states: list[str | None], expected: tuple[float | None, float | None]
) -> None:
    assert status_changes(seen(*states), START, END) == expected
