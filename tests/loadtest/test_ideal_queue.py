"""The ideal first-come-first-served queue the replay's measured waits are held against
(gourmet_tools.loadtest.ideal_queue): one server, an order every 1/capacity seconds."""

from __future__ import annotations

import math

import pytest
from gourmet_tools.loadtest.ideal_queue import beside_measured, fcfs_waits, ideal_waits


@pytest.mark.parametrize(
    ("arrivals", "capacity_per_s", "waits"),
    [
        pytest.param([0.0, 10.0, 20.0], 2.0, [0.5, 0.5, 0.5], id="far apart: the service time"),
        pytest.param([0.0] * 4, 4.0, [0.25, 0.5, 0.75, 1.0], id="a burst: k / capacity"),
        pytest.param([20.0, 0.0, 10.0], 2.0, [0.5, 0.5, 0.5], id="unsorted input"),
        pytest.param([0.0, 0.5, 1.0], 1.0, [1.0, 1.5, 2.0], id="faster than served: a line"),
        pytest.param([0.0, 0.0, 0.0, 5.0], 1.0, [1.0, 2.0, 3.0, 1.0], id="the line drains"),
        pytest.param([3.0, 0.0, 0.0], 1.0, [1.0, 2.0, 1.0], id="unsorted, a line"),
        pytest.param([], 1.0, [], id="nobody"),
    ],
)
def test_each_customer_waits_for_those_before_and_their_own_service(
    arrivals: list[float], capacity_per_s: float, waits: list[float]
) -> None:
    assert fcfs_waits(arrivals, capacity_per_s) == pytest.approx(waits)


@pytest.mark.parametrize(
    ("arrivals", "capacity_per_s", "p50", "p99"),
    [
        pytest.param([0.0] * 100, 10.0, 5.0, 9.9, id="a burst of 100"),
        pytest.param([float(t) for t in range(100)], 10.0, 0.1, 0.1, id="never a line"),
        pytest.param([5.0], 0.5, 2.0, 2.0, id="one customer"),
    ],
)
def test_the_ideal_percentiles_are_nearest_rank(
    arrivals: list[float], capacity_per_s: float, p50: float, p99: float
) -> None:
    assert ideal_waits(arrivals, capacity_per_s) == pytest.approx((p50, p99))


@pytest.mark.parametrize(
    ("measured", "arrivals", "expected"),
    [
        pytest.param(
            {"wait_p50_s": 10.0, "wait_p99_s": 19.8},
            [0.0] * 100,
            {
                "ideal_wait_p50_s": 5.0,
                "ideal_wait_p99_s": 9.9,
                "wait_vs_ideal_p50": 2.0,
                "wait_vs_ideal_p99": 2.0,
            },
            id="twice the ideal",
        ),
        pytest.param(
            {"wait_p50_s": None, "wait_p99_s": None},
            [0.0] * 100,
            {
                "ideal_wait_p50_s": 5.0,
                "ideal_wait_p99_s": 9.9,
                "wait_vs_ideal_p50": None,
                "wait_vs_ideal_p99": None,
            },
            id="nobody placed: no measured wait, no ratio",
        ),
        pytest.param(
            {"wait_p50_s": None, "wait_p99_s": None},
            [],
            {
                "ideal_wait_p50_s": None,
                "ideal_wait_p99_s": None,
                "wait_vs_ideal_p50": None,
                "wait_vs_ideal_p99": None,
            },
            id="no arrivals",
        ),
    ],
)
def test_measured_waits_are_divided_by_the_ideal(
    measured: dict[str, float | None], arrivals: list[float], expected: dict[str, float | None]
) -> None:
    figures = beside_measured(measured, arrivals, 10.0)
    assert figures == pytest.approx(expected)
    assert not any(isinstance(v, float) and math.isnan(v) for v in figures.values())


def test_an_ideal_queue_needs_a_capacity() -> None:
    with pytest.raises(ValueError, match="positive"):
        fcfs_waits([0.0], 0.0)
