"""Report periods: the weeks between two scheduled report times, in the workspace's time zone.

A report due at a cron fire time T covers [previous fire time, T). Times are computed with
APScheduler's CronTrigger in the workspace's zone, so a week that crosses a DST change is 167 or
169 hours long and the report still lands at 09:00 local time.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from apscheduler.triggers.cron import CronTrigger

from engine.reports.figures import Period
from engine.scheduler import parse_cron

_LOOKBACK = timedelta(days=40)  # far enough back to find two fire times of any weekly schedule


def report_trigger(cron: str, zone: str) -> CronTrigger:
    """The report schedule in a workspace's zone (crontab day numbers: 1 = Monday)."""
    return parse_cron(cron, zone)


def fire_times(trigger: CronTrigger, after: datetime, until: datetime) -> list[datetime]:
    """Every fire time in (after, until], oldest first, as UTC."""
    times: list[datetime] = []
    previous = None
    current = trigger.get_next_fire_time(None, after + timedelta(microseconds=1))
    while current is not None and current <= until:
        times.append(current.astimezone(timezone.utc))
        previous = current
        current = trigger.get_next_fire_time(previous, current + timedelta(microseconds=1))
    return times


def last_fire_times(trigger: CronTrigger, now: datetime, count: int) -> list[datetime]:
    """The ``count`` most recent fire times at or before ``now``, oldest first."""
    lookback = _LOOKBACK
    while True:
        times = fire_times(trigger, now - lookback, now)
        if len(times) >= count or lookback > timedelta(days=366 * 2):
            return times[-count:]
        lookback *= 2


def completed_period(trigger: CronTrigger, now: datetime, weeks_back: int = 0) -> Period:
    """The period that ended at the latest fire time (``weeks_back`` = 1: the one before it)."""
    times = last_fire_times(trigger, now, weeks_back + 2)
    return Period(times[0], times[1])


def current_period(trigger: CronTrigger, now: datetime) -> Period:
    """From the latest fire time until now: "this week so far"."""
    (start,) = last_fire_times(trigger, now, 1)
    return Period(start, now.astimezone(timezone.utc))
