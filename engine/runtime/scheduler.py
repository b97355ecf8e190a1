"""Cron jobs (the weekly fine-tune, the weekly report) on APScheduler, with their last run in SQLite.

- A run missed while the bot was down happens once at start-up, however many were missed.
  The first start of a new job only notes the time: a fresh install does not fine-tune at once.
- A job never overlaps itself: a fire time that comes while it still runs is skipped (and logged).
- A run the bot was stopped in the middle of counts as missed, so it happens again at start-up.

Cron expressions are the usual five crontab fields (minute hour day-of-month month day-of-week) with
the usual day numbers, 0 or 7 = Sunday, 1 = Monday (APScheduler 3 alone would read 0 as Monday).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from engine.errors import UserError
from engine.store import Store, parse_utc_text, utc_text

logger = logging.getLogger(__name__)

_DAY_NAMES = ["sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun"]  # crontab numbers 0-7
_DAY_ITEM = re.compile(r"^(\*|\d+)(?:-(\d+))?(?:/(\d+))?$")


def _crontab_days(field: str) -> str:
    """A crontab day-of-week field with numbers turned into names, which APScheduler reads right."""
    if field == "*" or not re.search(r"\d", field):
        return field
    days: list[str] = []
    for item in field.split(","):
        match = _DAY_ITEM.match(item)
        if match is None:
            if re.search(r"\d", item):
                raise ValueError(f"day of week {item!r}")
            days.append(item)  # a name or a name range: APScheduler's own syntax
            continue
        start, end, step = match.groups()
        first, last = (0, 6) if start == "*" else (int(start), int(end) if end else int(start))
        if step and not end and start != "*":
            last = 6
        if not 0 <= first <= last <= 7:
            raise ValueError(f"day of week {item!r}")
        for number in range(first, last + 1, int(step or 1)):
            name = _DAY_NAMES[number]
            if name not in days:
                days.append(name)
    return ",".join(days)


def parse_cron(expression: str, zone: str) -> CronTrigger:
    """A ``CronTrigger`` for five crontab fields in the IANA time zone ``zone``."""
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(f"{zone!r} is not a time zone; use an IANA name such as Europe/Berlin.") from None
    fields = expression.split()
    if len(fields) != 5:
        raise UserError(f"The schedule {expression!r} needs five fields (minute hour day month weekday), "
                        f"e.g. '0 3 * * 1' for Mondays at 03:00.")
    minute, hour, day, month, weekday = fields
    try:
        return CronTrigger(minute=minute, hour=hour, day=day, month=month,
                           day_of_week=_crontab_days(weekday), timezone=tz)
    except ValueError:
        raise UserError(f"The schedule {expression!r} is not a valid cron expression; e.g. '0 3 * * 1' "
                        f"is Mondays at 03:00.") from None


@dataclass
class _Job:
    name: str
    trigger: CronTrigger
    run: Callable[[], Awaitable[object]]
    catch_up: bool
    running: asyncio.Task | None = None


class Scheduler:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._jobs: dict[str, _Job] = {}
        self._started = False

    def add_cron_job(self, name: str, cron: str, zone: str, run: Callable[[], Awaitable[object]],
                     catch_up: bool = True) -> None:
        """Run ``run()`` at each fire time of ``cron`` in ``zone``. With ``catch_up``, a fire time
        missed while the bot was down runs once at start-up."""
        if name in self._jobs:
            raise ValueError(f"a job named {name!r} is already scheduled")
        self._jobs[name] = _Job(name, parse_cron(cron, zone), run, catch_up)

    def next_run_time(self, name: str) -> datetime | None:
        job = self._jobs.get(name)
        if job is None:
            return None
        return job.trigger.get_next_fire_time(None, datetime.now(UTC))

    async def start(self) -> None:
        """Start firing; run once now each catch-up job whose fire time passed while we were down."""
        if self._started:
            return
        self._started = True
        for job in self._jobs.values():
            # max_instances=1 and coalesce: APScheduler itself never queues a pile of late runs.
            self._scheduler.add_job(self._fire, job.trigger, args=[job.name], id=job.name,
                                    max_instances=1, coalesce=True, misfire_grace_time=3600)
        self._scheduler.start()
        now = datetime.now(UTC)
        for job in self._jobs.values():
            if job.catch_up and await self._missed(job, now):
                logger.warning("scheduled job %s missed a run while the bot was down; running it now",
                               job.name)
                self.run_now(job.name)

    async def shutdown(self) -> None:
        """Stop firing and cancel job runs under way (their run counts as missed next start)."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        running = [job.running for job in self._jobs.values() if job.running and not job.running.done()]
        for task in running:
            task.cancel()
        if running:
            await asyncio.wait(running)

    def run_now(self, name: str) -> asyncio.Task | None:
        """Start a run of ``name`` now; None (and nothing started) when one is still running."""
        job = self._jobs[name]
        if job.running is not None and not job.running.done():
            logger.info("scheduled job %s is still running; this run is skipped", name)
            return None
        job.running = asyncio.create_task(self._run(job), name=f"job:{name}")
        return job.running

    async def _fire(self, name: str) -> None:
        task = self.run_now(name)
        if task is not None:
            await asyncio.wait({task})

    async def _run(self, job: _Job) -> None:
        await self._record(job.name, "last_started_at")
        try:
            await job.run()
        except Exception:  # a job's failure is logged; the schedule goes on
            logger.exception("scheduled job %s failed", job.name)
        await self._record(job.name, "last_finished_at")

    async def _missed(self, job: _Job, now: datetime) -> bool:
        times = await self.store.job_times(job.name)
        if times is None:  # first start with this job: nothing was missed yet
            await self._record(job.name, "last_finished_at", now)
            return False
        if times.finished is None:
            return True
        finished = parse_utc_text(times.finished)
        due = job.trigger.get_next_fire_time(None, finished + timedelta(seconds=1))
        return due is not None and due <= now

    async def _record(self, name: str, column: str, moment: datetime | None = None) -> None:
        await self.store.record_job_time(name, column, utc_text(moment or datetime.now(UTC)))
