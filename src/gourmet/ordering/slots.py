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

    def starts(self, now: datetime, days: int, limit: int | None = None) -> list[datetime]:
        """Slot starts (UTC) from ``now`` plus the lead time, over the next ``days`` days;
        only the first ``limit`` of them when given (checkout needs a handful, not hundreds)."""
        earliest = now + timedelta(minutes=self.lead_minutes)
        today = now.astimezone(self.tz).date()
        found: list[datetime] = []
        for offset in range(days + 1):
            day = today + timedelta(days=offset)
            midnight = datetime.combine(day, time(0), tzinfo=self.tz)
            for period in self._periods_on(day.weekday()):
                # Jump close to ``earliest`` instead of walking from the opening. Wall-clock and
                # elapsed minutes differ by up to an hour on a DST day, so stop an hour short.
                minute = period.opens_minute
                period_start = (midnight + timedelta(minutes=minute)).astimezone(UTC)
                behind = int((earliest - period_start).total_seconds() // 60) - 60
                if behind > 0:
                    minute += behind // self.slot_minutes * self.slot_minutes
                while minute + self.slot_minutes <= period.closes_minute:
                    start = (midnight + timedelta(minutes=minute)).astimezone(UTC)
                    if start >= earliest:
                        found.append(start)
                        if limit is not None and len(found) >= limit:
                            return found
                    minute += self.slot_minutes
        return sorted(set(found))

    def is_start(self, moment: datetime, now: datetime, days: int) -> bool:
        """Whether ``moment`` is one of ``starts(now, days)``, without listing them all."""
        if moment < now + timedelta(minutes=self.lead_minutes):
            return False
        local = moment.astimezone(self.tz)
        if (local.date() - now.astimezone(self.tz).date()).days > days:
            return False
        midnight = datetime.combine(local.date(), time(0), tzinfo=self.tz)
        return any(
            (midnight + timedelta(minutes=minute)).astimezone(UTC) == moment
            for period in self._periods_on(local.weekday())
            for minute in range(
                period.opens_minute, period.closes_minute - self.slot_minutes + 1, self.slot_minutes
            )
            if abs((local.hour * 60 + local.minute) - minute) <= 60  # DST shifts are at most 1 h
        )

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
