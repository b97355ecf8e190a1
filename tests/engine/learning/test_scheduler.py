"""The scheduler: crontab parsing (with crontab's day numbers), a missed run caught up once at start-up,
never two runs of a job at once."""

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from engine import UserError
from engine.runtime.scheduler import Scheduler, parse_cron
from engine.store import Store, utc_text

BERLIN = ZoneInfo("Europe/Berlin")


def next_fire(cron: str, zone: str, after: datetime) -> datetime:
    return parse_cron(cron, zone).get_next_fire_time(None, after)


def test_default_schedule_is_monday_three_in_the_configured_zone():
    # Wednesday 4 Nov 2026, noon in Berlin.
    fire = next_fire("0 3 * * 1", "Europe/Berlin", datetime(2026, 11, 4, 12, 0, tzinfo=BERLIN))
    assert fire == datetime(2026, 11, 9, 3, 0, tzinfo=BERLIN)
    assert fire.astimezone(UTC).hour == 2  # 03:00 CET is 02:00 UTC
    assert fire.weekday() == 0


@pytest.mark.parametrize("weekday, expected", [("0", 6), ("7", 6), ("1", 0), ("6", 5), ("mon", 0),
                                               ("sun", 6)])
def test_weekday_numbers_mean_what_they_mean_in_crontab(weekday, expected):
    fire = next_fire(f"30 4 * * {weekday}", "UTC", datetime(2026, 11, 4, tzinfo=UTC))
    assert fire.weekday() == expected and (fire.hour, fire.minute) == (4, 30)


def test_weekday_ranges_lists_and_steps():
    start = datetime(2026, 11, 1, tzinfo=UTC)  # a Sunday
    trigger = parse_cron("0 9 * * 1-5", "UTC")
    days, fire = [], None
    for _ in range(7):
        fire = trigger.get_next_fire_time(fire, (fire or start) + timedelta(seconds=1))
        days.append(fire.weekday())
    assert days == [0, 1, 2, 3, 4, 0, 1]  # weekdays only
    evens = parse_cron("0 9 * * */2", "UTC")  # crontab: Sun, Tue, Thu, Sat
    fire = evens.get_next_fire_time(None, start)
    seen = set()
    for _ in range(8):
        seen.add(fire.weekday())
        fire = evens.get_next_fire_time(fire, fire + timedelta(seconds=1))
    assert seen == {6, 1, 3, 5}


@pytest.mark.parametrize("cron", ["0 3 * *", "61 3 * * 1", "0 3 * * 9", "every monday", "0 3 * * mon-9"])
def test_bad_schedules_get_one_sentence(cron):
    with pytest.raises(UserError) as caught:
        parse_cron(cron, "UTC")
    assert "0 3 * * 1" in str(caught.value)


def test_bad_time_zone_is_named():
    with pytest.raises(UserError, match="Mars/Olympus"):
        parse_cron("0 3 * * 1", "Mars/Olympus")


@pytest.fixture
async def store(tmp_path):
    store = await Store.open(tmp_path / "s.db")
    yield store
    await store.close()


class CountingJob:
    def __init__(self, block: bool = False):
        self.calls = 0
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        if not block:
            self.release.set()

    async def __call__(self):
        self.calls += 1
        self.started.set()
        await self.release.wait()


async def last_finished(store, name):
    async with store.db.execute("SELECT last_finished_at FROM scheduled_jobs WHERE name = ?", (name,)) as c:
        row = await c.fetchone()
    return row and row["last_finished_at"]


async def finished_since(store, name, before: str, timeout: float = 10.0) -> None:
    """Wait until the scheduler has recorded a run of ``name`` finished after ``before`` (what the
    next start reads), checking often and failing after ``timeout`` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while (await last_finished(store, name) or "") <= before:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"no run of {name} finished")
        await asyncio.sleep(0.02)


async def test_first_start_runs_nothing_and_remembers_the_time(store):
    job = CountingJob()
    scheduler = Scheduler(store)
    scheduler.add_cron_job("finetune", "0 3 * * 1", "UTC", job)
    await scheduler.start()
    await scheduler.shutdown()
    assert job.calls == 0
    assert await last_finished(store, "finetune") is not None


async def test_weeks_missed_while_down_run_once_at_start_up(store):
    three_weeks_ago = datetime.now(UTC) - timedelta(weeks=3)
    async with store.transaction() as db:
        await db.execute("INSERT INTO scheduled_jobs(name, last_finished_at) VALUES ('finetune', ?)",
                         (utc_text(three_weeks_ago),))
    job = CountingJob()
    scheduler = Scheduler(store)
    scheduler.add_cron_job("finetune", "0 3 * * 1", "UTC", job)
    await scheduler.start()
    await finished_since(store, "finetune", utc_text(three_weeks_ago))
    assert job.calls == 1
    await scheduler.shutdown()
    # The catch-up counts as this week's run: the next start does not run it again.
    again = Scheduler(store)
    rerun = CountingJob()
    again.add_cron_job("finetune", "0 3 * * 1", "UTC", rerun)
    await again.start()
    await again.shutdown()
    assert rerun.calls == 0


async def test_a_job_never_runs_twice_at_once(store):
    job = CountingJob(block=True)
    scheduler = Scheduler(store)
    scheduler.add_cron_job("finetune", "0 3 * * 1", "UTC", job)
    await scheduler.start()
    first = scheduler.run_now("finetune")
    await asyncio.wait_for(job.started.wait(), 5)
    assert scheduler.run_now("finetune") is None  # a second trigger while it runs starts nothing
    job.release.set()
    await asyncio.wait_for(first, 5)
    assert job.calls == 1
    # Once finished, it can run again.
    second = scheduler.run_now("finetune")
    await asyncio.wait_for(second, 5)
    assert job.calls == 2
    await scheduler.shutdown()


async def test_a_run_cut_short_by_shutdown_runs_again_at_next_start(store):
    eight_days_ago = utc_text(datetime.now(UTC) - timedelta(days=8))
    async with store.transaction() as db:
        await db.execute("INSERT INTO scheduled_jobs(name, last_finished_at) VALUES ('finetune', ?)",
                         (eight_days_ago,))
    job = CountingJob(block=True)
    scheduler = Scheduler(store)
    scheduler.add_cron_job("finetune", "0 3 * * 1", "UTC", job)
    await scheduler.start()  # the missed run starts...
    await asyncio.wait_for(job.started.wait(), 5)
    await scheduler.shutdown()  # ...and the bot stops in the middle of it
    assert await last_finished(store, "finetune") == eight_days_ago
    restarted = Scheduler(store)
    rerun = CountingJob()
    restarted.add_cron_job("finetune", "0 3 * * 1", "UTC", rerun)
    await restarted.start()
    await finished_since(store, "finetune", eight_days_ago)
    await restarted.shutdown()
    assert rerun.calls == 1
