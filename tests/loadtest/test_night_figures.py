"""The realistic night's customer figures (bench/night.py), from a recorded run and the orders the
database holds: an order counts as cooked for nobody when it was placed but its client never
heard of it (it gave up, or its connection was closed), as lost when acknowledged but not
stored."""

from __future__ import annotations

import math

from gourmet_tools.loadtest.loadrun import CONN_ERROR, TIMEOUT, Phase, Run

from bench.night import outcomes, phases_from

MENU, CHECKOUT = 0, 1


def recorded(rows: list[tuple[float, int, int, float]]) -> Run:
    """A run of (intended s, kind, status, latency s) rows over two phases of 5 s."""
    run = Run(phases=[Phase("spike", 10, 5), Phase("after", 1, 5)], kinds=["menu", "checkout"])
    for intended, kind, status, latency in rows:
        run.intended.append(intended)
        run.sent.append(intended)
        run.kind.append(kind)
        run.status.append(status)
        run.latency.append(latency)
    return run


def test_an_order_placed_for_a_client_that_gave_up_is_cooked_for_nobody() -> None:
    run = recorded(
        [
            (0.0, MENU, 200, 0.010),
            (0.1, CHECKOUT, 201, 0.050),  # placed and heard
            (0.2, CHECKOUT, TIMEOUT, math.nan),  # gave up; the server placed it anyway
            (0.3, CHECKOUT, CONN_ERROR, math.nan),  # connection gone; not placed
            (0.4, CHECKOUT, 503, 0.004),  # refused, not placed
            (6.0, CHECKOUT, 201, 0.040),  # heard, but not in the database: lost
            (6.5, MENU, 503, 0.002),
        ]
    )
    figures = outcomes(run, placed={1, 2}, patience_s=10.0)
    assert figures["checkouts"] == 5
    assert figures["orders_placed"] == 2
    assert figures["orders_acknowledged"] == 2
    assert figures["cooked_for_nobody"] == 1
    assert figures["lost"] == 1
    assert figures["gave_up"] == 2
    assert figures["orders_per_s_in_spike"] == 2 / 5
    assert figures["reads_p99_ms"] == 10.0  # answered reads only
    assert figures["refusals_p99_ms"] == 4.0
    assert figures["answered_share"] == {"spike": 3 / 5, "after": 1.0}


def test_phases_are_read_from_their_spec() -> None:
    assert phases_from("before:40:10,spike:1500:30") == [
        Phase("before", 40.0, 10.0),
        Phase("spike", 1500.0, 30.0),
    ]
