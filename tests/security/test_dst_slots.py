"""Slot starts across daylight saving changes, in the restaurant's time zone (the Settings
default, America/New_York), open round the clock as a 24-hour kitchen is.

When clocks go forward the skipped hour (02:00-02:59) has no slots, and its wall times must not
stand in for the hour after it: the ASAP list repeated 03:00-03:45 out of order. When clocks go
back the hour 01:00-01:59 happens twice, and both are offered: the second had no slots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from gourmet.config import RestaurantSettings, group_default
from gourmet.ordering.checkout.slots import OpeningPeriod, SlotRules

TZ = ZoneInfo(group_default(RestaurantSettings, "timezone"))
ASAP = 12
QUARTER = timedelta(minutes=15)


def round_the_clock() -> SlotRules:
    return SlotRules(
        tuple(OpeningPeriod(day, 0, 1440) for day in range(7)),
        slot_minutes=15,
        lead_minutes=10,
        tz=TZ,
    )


def local(moments: list[datetime]) -> list[str]:
    return [m.astimezone(TZ).strftime("%H:%M %Z") for m in moments]


@pytest.mark.parametrize(
    ("now", "first"),
    [
        # 2027-03-14 01:20 EST; at 02:00 EST the clocks read 03:00 EDT.
        (datetime(2027, 3, 14, 6, 20, tzinfo=UTC), datetime(2027, 3, 14, 6, 30, tzinfo=UTC)),
        # 2027-11-07 00:40 EDT; at 02:00 EDT the clocks read 01:00 EST.
        (datetime(2027, 11, 7, 4, 40, tzinfo=UTC), datetime(2027, 11, 7, 5, 0, tzinfo=UTC)),
    ],
)
def test_the_asap_list_runs_a_quarter_hour_apart_through_the_change(
    now: datetime, first: datetime
) -> None:
    rules = round_the_clock()
    asap = rules.starts(now, days=1, limit=ASAP)
    expected = [first + n * QUARTER for n in range(ASAP)]
    assert asap == expected, local(asap)
    assert rules.starts(now, days=1)[:ASAP] == expected
    assert all(rules.is_start(moment, now, days=1) for moment in expected)


def test_spring_forward_skips_the_missing_hour_once() -> None:
    rules = round_the_clock()
    asap = rules.starts(datetime(2027, 3, 14, 6, 20, tzinfo=UTC), days=0, limit=ASAP)
    assert local(asap)[:8] == [
        "01:30 EST",
        "01:45 EST",
        "03:00 EDT",
        "03:15 EDT",
        "03:30 EDT",
        "03:45 EDT",
        "04:00 EDT",
        "04:15 EDT",
    ]


def test_fall_back_offers_the_repeated_hour_twice() -> None:
    rules = round_the_clock()
    now = datetime(2027, 11, 7, 4, 40, tzinfo=UTC)
    day = rules.starts(now, days=0)
    labels = local(day)
    assert labels[:8] == [
        "01:00 EDT",
        "01:15 EDT",
        "01:30 EDT",
        "01:45 EDT",
        "01:00 EST",
        "01:15 EST",
        "01:30 EST",
        "01:45 EST",
    ]
    assert labels[8] == "02:00 EST"
    second_one = datetime(2027, 11, 7, 6, 0, tzinfo=UTC)  # 01:00 EST
    assert rules.is_start(second_one, now, days=0)
    assert rules.is_open(second_one)
