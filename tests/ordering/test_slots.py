"""Slot generation in the restaurant's local time, without a database."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from gourmet.ordering.checkout.slots import OpeningPeriod, SlotRules

NEW_YORK = ZoneInfo("America/New_York")


def rules(*periods: OpeningPeriod, lead: int = 20) -> SlotRules:
    return SlotRules(tuple(periods), slot_minutes=15, lead_minutes=lead, tz=NEW_YORK)


def test_slots_follow_opening_hours_and_lead_time() -> None:
    # Tuesday 2026-11-24 14:00 in New York (19:00 UTC); open 11:00-15:00 every day.
    now = datetime(2026, 11, 24, 19, 0, tzinfo=UTC)
    starts = rules(*(OpeningPeriod(d, 660, 900) for d in range(7))).starts(now, days=0)
    assert [s.strftime("%H:%M") for s in starts] == ["19:30", "19:45"]


def test_slots_skip_closed_days_and_span_days() -> None:
    now = datetime(2026, 11, 24, 19, 0, tzinfo=UTC)  # a Tuesday
    starts = rules(OpeningPeriod(2, 720, 750)).starts(now, days=2)  # Wednesdays 12:00-12:30
    assert starts == [
        datetime(2026, 11, 25, 17, 0, tzinfo=UTC),
        datetime(2026, 11, 25, 17, 15, tzinfo=UTC),
    ]


def test_local_time_survives_daylight_saving_change() -> None:
    # Sunday 2026-11-01: New York leaves daylight saving time; noon is 17:00 UTC, not 16:00.
    now = datetime(2026, 11, 1, 5, 0, tzinfo=UTC)
    starts = rules(OpeningPeriod(6, 720, 735)).starts(now, days=0)
    assert starts == [datetime(2026, 11, 1, 17, 0, tzinfo=UTC)]


def test_is_open() -> None:
    schedule = rules(OpeningPeriod(1, 660, 1380))  # Tuesdays 11:00-23:00
    assert schedule.is_open(datetime(2026, 11, 24, 19, 0, tzinfo=UTC))
    assert not schedule.is_open(datetime(2026, 11, 24, 15, 0, tzinfo=UTC))  # 10:00 local
    assert not schedule.is_open(datetime(2026, 11, 25, 19, 0, tzinfo=UTC))  # Wednesday


def test_limit_and_is_start_agree_with_the_full_list() -> None:
    schedule = rules(
        OpeningPeriod(1, 660, 900), OpeningPeriod(1, 1020, 1380), OpeningPeriod(2, 0, 1440)
    )
    now = datetime(2026, 11, 24, 17, 7, tzinfo=UTC)  # Tuesday 12:07 local
    everything = schedule.starts(now, days=2)
    assert schedule.starts(now, days=2, limit=5) == everything[:5]
    assert all(schedule.is_start(s, now, days=2) for s in everything)
    not_starts = [s + (everything[1] - everything[0]) / 3 for s in everything] + [
        datetime(2026, 11, 24, 17, 0, tzinfo=UTC),  # before now + lead
        datetime(2026, 11, 24, 21, 0, tzinfo=UTC),  # 16:00 local: between the two periods
    ]
    assert not any(schedule.is_start(s, now, days=2) for s in not_starts)
