"""Report periods: the weeks between two scheduled report times, in the workspace's time zone.

A report due at a cron fire time T covers [previous fire time, T). The previous fire times come
from croniter, walking the cron expression backwards in the workspace's zone, so a week that
crosses a DST change is 167 or 169 hours long and the report still lands at 09:00 local time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter

from engine.reports.figures import Period
from engine.runtime.scheduler import parse_cron


@dataclass(frozen=True)
class ReportSchedule:
    """A report cron expression read in one workspace's zone."""

    cron: str
    zone: ZoneInfo

    def fire_times_before(self, moment: datetime) -> croniter:
        """Fire times at or before ``moment``, newest first (``get_prev`` is strictly before)."""
        # day_or=False: a day-of-month and a weekday must both match, as APScheduler's CronTrigger
        # (which fires the reports) reads them; crontab itself would take either.
        start = moment.astimezone(self.zone) + timedelta(seconds=1)
        return croniter(self.cron, start, ret_type=datetime, day_or=False)


def report_trigger(cron: str, zone: str) -> ReportSchedule:
    """The report schedule in a workspace's zone (crontab day numbers: 1 = Monday)."""
    parse_cron(cron, zone)  # the same checks and sentences as the schedule that fires the reports
    return ReportSchedule(cron, ZoneInfo(zone))


def last_fire_times(schedule: ReportSchedule, now: datetime, count: int) -> list[datetime]:
    """The ``count`` most recent fire times at or before ``now``, oldest first, as UTC."""
    times = schedule.fire_times_before(now)
    # One more than asked: the first may fall inside the second added to ``now`` above.
    newest_first = [times.get_prev().astimezone(UTC) for _ in range(count + 1)]
    return [moment for moment in reversed(newest_first) if moment <= now][-count:]


def completed_period(schedule: ReportSchedule, now: datetime, weeks_back: int = 0) -> Period:
    """The period that ended at the latest fire time (``weeks_back`` = 1: the one before it)."""
    times = last_fire_times(schedule, now, weeks_back + 2)
    return Period(times[0], times[1])


def current_period(schedule: ReportSchedule, now: datetime) -> Period:
    """From the latest fire time until now: "this week so far"."""
    (start,) = last_fire_times(schedule, now, 1)
    return Period(start, now.astimezone(UTC))
