"""The shapes of a night, as schedules of customer arrivals (phases of the open-model driver).

Rates are multiples of ``base`` (customers per second on a normal evening). Ramps are steps of
``STEP_S``: the driver keeps a constant rate within a phase. ``scale`` compresses time, so that
the November spike (hours in life) replays in minutes. A shape with a surge names its phases
above the normal rate with a common prefix, its ``peak``: the report's spike window (the first
alert after it began, recovery after it ended).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gourmet_tools.loadtest.loadrun import Phase

STEP_S = 5.0


def ramp(name: str, start: float, end: float, duration_s: float) -> list[Phase]:
    """From ``start`` to ``end`` per second in steps of at most STEP_S."""
    steps = max(round(duration_s / STEP_S), 1)
    return [
        Phase(
            f"{name} {n + 1}/{steps}", start + (end - start) * (n + 1) / steps, duration_s / steps
        )
        for n in range(steps)
    ]


@dataclass(frozen=True)
class Shape:
    name: str
    description: str
    phases: list[Phase]
    peak: str | None = None  # the prefix of the surge's phases, when there is one

    @property
    def duration_s(self) -> float:
        return sum(phase.duration_s for phase in self.phases)

    @property
    def peak_rate(self) -> float:
        return max((phase.rate for phase in self.phases), default=0.0)

    def window(self, prefix: str) -> tuple[float, float]:
        """Start and end of the phases whose name starts with ``prefix``."""
        start = 0.0
        first = last = None
        for phase in self.phases:
            if phase.name.startswith(prefix):
                first = start if first is None else first
                last = start + phase.duration_s
            start += phase.duration_s
        if first is None or last is None:
            raise KeyError(prefix)
        return first, last


def steady(base: float, scale: float = 1.0) -> Shape:
    return Shape("steady", "a normal evening", [Phase("steady", base, 300 * scale)])


def dinner_rush(base: float, scale: float = 1.0) -> Shape:
    phases = [
        Phase("before", base, 300 * scale),
        *ramp("rush rising", base, 3 * base, 600 * scale),
        Phase("rush", 3 * base, 1200 * scale),
        *ramp("rush ending", 3 * base, base, 600 * scale),
    ]
    return Shape("dinner-rush", "three times the normal rate for twenty minutes", phases)


def november(base: float, scale: float = 1.0) -> Shape:
    """10 November: normal, 10x within a minute, held, then back (the hold compressed)."""
    phases = [
        Phase("normal", base, 60 * scale),
        *ramp("spike rising", base, 10 * base, min(60.0, 30 * scale)),
        Phase("spike", 10 * base, 120 * scale),
        *ramp("spike ending", 10 * base, base, min(60.0, 30 * scale)),
        Phase("after", base, 90 * scale),
    ]
    return Shape("november", "normal, 10x within a minute, held, then back", phases, "spike")


def promotion(base: float, scale: float = 1.0) -> Shape:
    """A promotion at 20:00: the push lands at once (a step to 6x, no ramp), held while the
    offer is fresh, then a slow fade as it is forgotten."""
    phases = [
        Phase("before", base, 60 * scale),
        Phase("promotion", 6 * base, 120 * scale),
        *ramp("promotion fading", 6 * base, base, 240 * scale),
        Phase("after", base, 60 * scale),
    ]
    return Shape("promotion", "a promotion: a step to 6x, held, a slow fade", phases, "promotion")


def slow_climb(base: float, scale: float = 1.0) -> Shape:
    """An evening that builds for an hour (compressed to 360 s at scale 1, as November's hours
    are to minutes) to 10x, a moment at the top, then back."""
    phases = [
        Phase("normal", base, 60 * scale),
        *ramp("climb rising", base, 10 * base, 360 * scale),
        Phase("climb top", 10 * base, 60 * scale),
        *ramp("climb falling", 10 * base, base, 120 * scale),
        Phase("after", base, 90 * scale),
    ]
    return Shape("slow-climb", "a climb to 10x over an hour, then back", phases, "climb")


def growth(base: float, scale: float = 1.0) -> Shape:
    """Steady growth to four times the rate over an hour: what the growth alerts must see."""
    return Shape("growth", "a steady climb to 4x", ramp("growth", base, 4 * base, 3600 * scale))


def soak(base: float, scale: float = 1.0) -> Shape:
    return Shape("soak", "a normal rate held for two hours", [Phase("soak", base, 7200 * scale)])


SHAPES: dict[str, Callable[[float, float], Shape]] = {
    "steady": steady,
    "dinner-rush": dinner_rush,
    "november": november,
    "promotion": promotion,
    "slow-climb": slow_climb,
    "growth": growth,
    "soak": soak,
}
