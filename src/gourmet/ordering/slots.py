"""Time slots: the fixed-length windows, inside opening hours, for which orders are taken."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class OpeningPeriod:
    weekday: int  # 0 = Monday, in the restaurant's local time
    opens_minute: int
    closes_minute: int


@dataclass(frozen=True)
class SlotRules:
    periods: tuple[OpeningPeriod, ...]
    slot_minutes: int
    lead_minutes: int
    tz: ZoneInfo

    @property
    def slot_length(self) -> timedelta:
        return timedelta(minutes=self.slot_minutes)

    def starts(self, now: datetime, days: int) -> list[datetime]:
        """Every slot start (UTC) from ``now`` plus the lead time, over the next ``days`` days."""
        earliest = now + timedelta(minutes=self.lead_minutes)
        today = now.astimezone(self.tz).date()
        found: list[datetime] = []
        for offset in range(days + 1):
            day = today + timedelta(days=offset)
            midnight = datetime.combine(day, time(0), tzinfo=self.tz)
            for period in self._periods_on(day.weekday()):
                minute = period.opens_minute
                while minute + self.slot_minutes <= period.closes_minute:
                    start = (midnight + timedelta(minutes=minute)).astimezone(UTC)
                    if start >= earliest:
                        found.append(start)
                    minute += self.slot_minutes
        return sorted(set(found))

    def _periods_on(self, weekday: int) -> Iterable[OpeningPeriod]:
        return sorted(
            (p for p in self.periods if p.weekday == weekday), key=lambda p: p.opens_minute
        )

    def is_open(self, moment: datetime) -> bool:
        local = moment.astimezone(self.tz)
        minute = local.hour * 60 + local.minute
        return any(
            p.opens_minute <= minute < p.closes_minute for p in self._periods_on(local.weekday())
        )
