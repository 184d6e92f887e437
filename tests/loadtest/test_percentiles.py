"""The one percentile every tool reports (gourmet_tools.percentiles): nearest rank."""

from __future__ import annotations

import math

import pytest
from gourmet_tools.percentiles import known, percentile


def test_nearest_rank_is_a_value_someone_had() -> None:
    values = [5.0, 1.0, 4.0, 2.0, 3.0]
    assert percentile(values, 50) == 3.0
    assert percentile(values, 99) == 5.0
    assert percentile(values, 0) == 1.0  # rank 1 at least
    assert percentile(values, 20) == 1.0  # 20% of 5 is rank 1 exactly
    assert percentile(values, 21) == 2.0


def test_a_rank_on_a_float_boundary_is_not_pushed_up() -> None:
    # 7 / 100 * 100 is 7.000000000000001 in floats; its ceiling would be 8.
    assert percentile(range(1, 101), 7) == 7


def test_failures_count_as_infinitely_slow() -> None:
    values = [1.0] * 98 + [math.inf] * 2
    assert percentile(values, 98) == 1.0
    assert percentile(values, 99) == math.inf


def test_no_values_is_nan_and_known_says_none() -> None:
    assert math.isnan(percentile([], 99))
    assert known(percentile([], 99)) is None
    assert known(percentile([2.0], 99)) == 2.0


def test_a_percentile_outside_0_100_is_refused() -> None:
    with pytest.raises(ValueError, match="outside"):
        percentile([1.0], 101)
