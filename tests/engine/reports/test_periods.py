"""The report periods (croniter, walking back) end exactly where the scheduler (APScheduler,
walking forward) fires, for ordinary and awkward schedules, across DST changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine.reports.periods import completed_period, last_fire_times, report_trigger
from engine.runtime.scheduler import parse_cron

UTC = UTC


@pytest.mark.parametrize("cron, zone", [
    ("0 9 * * mon", "Europe/Berlin"), ("0 9 * * 1", "America/New_York"), ("30 2 * * 0", "Europe/London"),
    ("0 9 1 * mon", "UTC"), ("15 8 * * 1-5", "Asia/Shanghai"), ("0 0 1 * *", "Australia/Sydney"),
])
def test_periods_end_where_the_scheduler_fires(cron, zone):
    schedule, trigger = report_trigger(cron, zone), parse_cron(cron, zone)
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    for _ in range(60):  # two months of steps of ~1.3 days, across the March DST changes
        *earlier, latest = last_fire_times(schedule, now, 3)
        assert latest <= now < trigger.get_next_fire_time(None, latest + timedelta(seconds=1))
        for before, after in zip([*earlier, latest], [*earlier, latest][1:]):
            assert trigger.get_next_fire_time(None, before + timedelta(seconds=1)) == after
        now += timedelta(hours=31)


def test_a_report_due_this_instant_covers_the_week_that_just_ended():
    monday = report_trigger("0 9 * * 1", "UTC")
    due = datetime(2026, 11, 9, 9, tzinfo=UTC)
    assert completed_period(monday, due).end == due
    assert completed_period(monday, due - timedelta(microseconds=1)).end == due - timedelta(days=7)
