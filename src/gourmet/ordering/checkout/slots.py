"""Time slots: the fixed-length windows, inside opening hours, for which orders are taken."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class OpeningPeriod:
    weekday: int  # 0 = Monday, in the restaurant's local time
    opens_minute: int
    closes_minute: int


@dataclass(frozen=True)
class SpecialDay:
    """A date whose hours are not the week's: closed (a holiday), or one period of its own."""

    day: date
    closed: bool
    opens_minute: int | None = None
    closes_minute: int | None = None
    message: str = ""


@dataclass(frozen=True)
class SlotRules:
    periods: tuple[OpeningPeriod, ...]
    slot_minutes: int
    lead_minutes: int
    tz: ZoneInfo
    special_days: Mapping[date, SpecialDay] = field(default_factory=dict)

    @property
    def slot_length(self) -> timedelta:
        return timedelta(minutes=self.slot_minutes)

    def starts(self, now: datetime, days: int, limit: int | None = None) -> list[datetime]:
        """Slot starts (UTC) from ``now`` plus the lead time, over the next ``days`` days, in
        order; only the first ``limit`` of them when given (checkout needs a handful)."""
        earliest = now + timedelta(minutes=self.lead_minutes)
        today = now.astimezone(self.tz).date()
        found: list[datetime] = []
        for offset in range(days + 1):
            day = today + timedelta(days=offset)
            # Sorted within the day: the hour repeated when clocks go back interleaves its two
            # passes in wall-clock order. Days follow one another in UTC as on the wall.
            for start in sorted(set(self._day_starts(day, earliest))):
                found.append(start)
                if limit is not None and len(found) >= limit:
                    return found
        return found

    def _day_starts(self, day: date, earliest: datetime) -> Iterable[datetime]:
        midnight = datetime.combine(day, time(0), tzinfo=self.tz)
        for period in self._periods_on(day):
            # Jump close to ``earliest`` instead of walking from the opening. Wall-clock and
            # elapsed minutes differ by up to an hour on a DST day, so stop an hour short.
            minute = period.opens_minute
            opening = (midnight + timedelta(minutes=minute)).astimezone(UTC)
            behind = int((earliest - opening).total_seconds() // 60) - 60
            if behind > 0:
                minute += behind // self.slot_minutes * self.slot_minutes
            while minute + self.slot_minutes <= period.closes_minute:
                yield from (m for m in _moments(day, minute, self.tz) if m >= earliest)
                minute += self.slot_minutes

    def is_start(self, moment: datetime, now: datetime, days: int) -> bool:
        """Whether ``moment`` is one of ``starts(now, days)``, without listing them all."""
        if moment < now + timedelta(minutes=self.lead_minutes):
            return False
        local = moment.astimezone(self.tz)
        if (local.date() - now.astimezone(self.tz).date()).days > days:
            return False
        return any(
            moment in _moments(local.date(), minute, self.tz)
            for period in self._periods_on(local.date())
            for minute in range(
                period.opens_minute, period.closes_minute - self.slot_minutes + 1, self.slot_minutes
            )
            if abs((local.hour * 60 + local.minute) - minute) <= 60  # DST shifts are at most 1 h
        )

    def _periods_on(self, day: date) -> Iterable[OpeningPeriod]:
        """The day's periods: its special day's if it has one, else the week's."""
        special = self.special_days.get(day)
        if special is not None:
            if special.closed or special.opens_minute is None or special.closes_minute is None:
                return ()
            return (OpeningPeriod(day.weekday(), special.opens_minute, special.closes_minute),)
        return sorted(
            (p for p in self.periods if p.weekday == day.weekday()), key=lambda p: p.opens_minute
        )

    def closed_today(self, now: datetime) -> SpecialDay | None:
        """Today's special day when it closes the restaurant (a holiday, say), else None."""
        special = self.special_days.get(now.astimezone(self.tz).date())
        return special if special is not None and special.closed else None

    def is_open(self, moment: datetime) -> bool:
        local = moment.astimezone(self.tz)
        minute = local.hour * 60 + local.minute
        return any(
            p.opens_minute <= minute < p.closes_minute for p in self._periods_on(local.date())
        )


def _moments(day: date, minute: int, tz: ZoneInfo) -> tuple[datetime, ...]:
    """The moments (UTC) at which the clocks in ``tz`` read ``minute`` past midnight of ``day``:
    none in the hour skipped when they go forward (a skipped wall time would otherwise stand in
    for the hour after it), two in the hour they go back over."""
    wall = datetime.combine(day, time(0)) + timedelta(minutes=minute)
    found: list[datetime] = []
    for fold in (0, 1):
        moment = wall.replace(tzinfo=tz, fold=fold).astimezone(UTC)
        if moment.astimezone(tz).replace(tzinfo=None) == wall and moment not in found:
            found.append(moment)
    return tuple(found)
