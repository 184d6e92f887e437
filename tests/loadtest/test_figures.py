"""Figures computed from customers' records: how long the spike's line outlived it, and when
newcomers were served at once again."""

from __future__ import annotations

from gourmet_tools.loadtest.customers import CONNECTION_LOST, Customer
from gourmet_tools.loadtest.runner import backlog_cleared_after, recovery_after


def customer(arrives_s: float, acknowledged_s: float | None, *answers: float) -> Customer:
    record = Customer(index=0, arrives_s=arrives_s, body=b"{}", key="k")
    record.acknowledged_s = acknowledged_s
    record.answers = [(at, 503) for at in answers]
    if acknowledged_s is not None:
        record.answers.append((acknowledged_s, 201))
    return record


def test_the_backlog_clears_when_the_last_customer_of_the_spike_is_served() -> None:
    spike_end = 100.0
    customers = [
        customer(10.0, 11.0),
        customer(90.0, 160.0, 95.0),  # in line for 70 s: the last of the spike's customers
        customer(99.0, 150.0, 99.5),
        customer(130.0, 165.0),  # came after the spike: not part of its line
    ]
    assert backlog_cleared_after(customers, spike_end) == 60.0
    # Arrivals stopped at 130 s before anyone was served at once: no recovery to be seen.
    assert recovery_after(customers, spike_end) is None


def test_a_customer_who_gave_up_counts_until_their_last_answer() -> None:
    gave_up = customer(50.0, None, 60.0, 120.0)
    gave_up.answers.append((170.0, CONNECTION_LOST))
    assert backlog_cleared_after([customer(40.0, 130.0), gave_up], 100.0) == 70.0
    assert backlog_cleared_after([customer(140.0, 141.0)], 100.0) is None  # nobody by then
