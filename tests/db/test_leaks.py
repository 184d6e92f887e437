"""Leak detection reports a connection held too long, with where it was taken."""

from __future__ import annotations

import pytest

from gourmet.db.leaks import LeaseTracker


def hold_a_connection(tracker: LeaseTracker, conn: object) -> None:
    with tracker.lease(conn):
        overdue = tracker.overdue(now=10**9)  # far in the future: every lease is overdue
        assert len(overdue) == 1
        age, where = overdue[0]
        assert age > 0
        assert "hold_a_connection" in where
        assert tracker.overdue(now=10**9) == []  # each lease is reported once
    assert tracker.leaks_detected == 1


def test_overdue_lease_is_reported_once_with_its_caller() -> None:
    tracker = LeaseTracker(threshold_s=2.0)
    hold_a_connection(tracker, object())


def test_short_leases_are_not_reported() -> None:
    tracker = LeaseTracker(threshold_s=2.0)
    with tracker.lease(object()):
        assert tracker.overdue() == []
    assert tracker.leaks_detected == 0


@pytest.mark.parametrize("threshold", [0.5, 5.0])
def test_released_leases_are_forgotten(threshold: float) -> None:
    tracker = LeaseTracker(threshold_s=threshold)
    with tracker.lease(object()):
        pass
    assert tracker.overdue(now=10**9) == []
