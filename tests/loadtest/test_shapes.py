"""The nights the load tests and the replay offer (gourmet_tools.loadtest.shapes): their rates
and the window of their surge, which the report's spike figures are measured from."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from gourmet_tools.loadtest.replay import REPLAY_SHAPES
from gourmet_tools.loadtest.shapes import SHAPES, Shape, november, promotion, slow_climb

BASE = 10.0


@pytest.mark.parametrize(
    ("make", "scale", "window", "peak_rate", "duration_s"),
    [
        pytest.param(november, 1.0, (60.0, 240.0), 100.0, 330.0, id="november"),
        pytest.param(promotion, 1.0, (60.0, 420.0), 60.0, 480.0, id="promotion"),
        pytest.param(promotion, 0.25, (15.0, 105.0), 60.0, 120.0, id="promotion compressed"),
        pytest.param(slow_climb, 1.0, (60.0, 600.0), 100.0, 690.0, id="slow climb"),
        pytest.param(slow_climb, 0.25, (15.0, 150.0), 100.0, 172.5, id="slow climb compressed"),
    ],
)
def test_a_surge_starts_from_normal_and_ends_back_at_it(
    make: Callable[[float, float], Shape],
    scale: float,
    window: tuple[float, float],
    peak_rate: float,
    duration_s: float,
) -> None:
    shape = make(BASE, scale)
    assert shape.peak is not None
    assert shape.window(shape.peak) == pytest.approx(window)
    assert shape.peak_rate == pytest.approx(peak_rate)
    assert shape.duration_s == pytest.approx(duration_s)
    assert shape.phases[0].rate == shape.phases[-1].rate == BASE
    outside = [p for p in shape.phases if not p.name.startswith(shape.peak)]
    assert all(p.rate == BASE for p in outside)


def test_a_promotion_is_a_step_then_a_slow_fade() -> None:
    phases = promotion(BASE, 1.0).phases
    assert (phases[0].rate, phases[1].name, phases[1].rate) == (BASE, "promotion", 6 * BASE)
    fading = [p.rate for p in phases if p.name.startswith("promotion fading")]
    assert fading == sorted(fading, reverse=True)
    assert fading[-1] == BASE
    assert sum(p.duration_s for p in phases if p.name.startswith("promotion fading")) == 240.0


def test_a_slow_climb_rises_in_small_steps_to_ten_times() -> None:
    phases = slow_climb(BASE, 1.0).phases
    rising = [p.rate for p in phases if p.name.startswith("climb rising")]
    assert rising == sorted(rising)
    assert rising[-1] == 10 * BASE
    assert max(b - a for a, b in zip([BASE, *rising], rising, strict=False)) <= BASE / 2
    assert sum(p.duration_s for p in phases if p.name.startswith("climb rising")) == 360.0


def test_every_night_the_replay_offers_is_a_shape_with_a_surge() -> None:
    assert set(REPLAY_SHAPES) == {"november", "promotion", "slow-climb"}
    for name in REPLAY_SHAPES:
        shape = SHAPES[name](BASE, 0.25)
        assert shape.name == name
        assert shape.peak is not None
        shape.window(shape.peak)  # the surge's phases exist
