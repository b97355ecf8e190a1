"""Weekly reports: built on demand, and posted once per period to each workspace's report channel.

``post_due_reports`` runs every minute (and at start-up). For each workspace with a report channel
it finds the scheduled times that have passed since its last report and, for each period:

1. **claims** it: one ``reports`` row holding the report as data and its chart (drawn once, in a
   thread), so a restart neither repeats nor skips a report and a retry posts what was claimed;
2. **posts each part once**: the adapter renders the report into parts (messages, an upload) and
   says after each one that it is out (``parts_posted``); a retry posts only the parts not yet out;
3. **marks** it posted; or, after ``MAX_POST_ATTEMPTS`` failed tries spaced out by doubling waits
   (about two hours in all), gives up with one log line.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from engine.reports.chart import render_chart
from engine.reports.content import activity, build_report, sentiment
from engine.reports.figures import ModelNews, Period, WeeklyReport
from engine.reports.periods import completed_period, current_period, last_fire_times, report_trigger
from engine.store import Store, parse_utc_text, utc_text
from engine.types import Announcement
from engine.workspace.settings import WORKSPACE_SETTINGS

logger = logging.getLogger(__name__)

CHART_WEEKS = 8
MAX_CATCH_UP = 4  # after a long outage, post at most this many missed reports
LATE_AFTER = timedelta(minutes=30)
MAX_POST_ATTEMPTS = 8
FIRST_RETRY_AFTER = timedelta(minutes=1)  # then 2, 4, ... 64 minutes: about two hours in all


def chart_name(workspace: str, period: Period) -> str:
    safe = workspace.replace(":", "_").replace("/", "_")
    return f"{safe}-{period.start:%Y%m%dT%H%M}-{period.end:%Y%m%dT%H%M}.png"


class ReportService:
    def __init__(self, store: Store, cron: str, charts_dir: Path, model_version: Callable[[str], str],
                 announce: Callable[[Announcement], Awaitable[bool]],
                 model_news: Callable[[str, Period], Awaitable[ModelNews | None]] | None = None,
                 can_announce: Callable[[str], bool] = lambda platform: True) -> None:
        self.store = store
        self.cron = cron
        self.charts_dir = charts_dir
        self.model_version = model_version  # workspace -> the name of the model writing its copy
        self.announce = announce
        self.model_news = model_news  # what became of the workspace's fine-tunes in a period
        # Whether an adapter of that platform runs here now: without one nothing is tried (or counted).
        self.can_announce = can_announce

    async def _zone(self, workspace: str) -> str:
        settings = await self.store.settings(workspace)
        return settings.get("timezone") or WORKSPACE_SETTINGS["timezone"].default

    async def build(self, workspace: str, period: Period, last: Period, zone: str, *,
                    late: bool = False, so_far: bool = False) -> WeeklyReport:
        """The report as data, with its chart drawn (off the event loop)."""
        news = await self.model_news(workspace, period) if self.model_news else None
        report = await build_report(self.store, workspace, period, last, self.model_version(workspace), news)
        report.zone, report.late, report.so_far = zone, late, so_far
        report.chart = await self._chart(workspace, period, zone)
        return report

    async def _chart(self, workspace: str, period: Period, zone: str) -> Path:
        trigger = report_trigger(self.cron, zone)
        ends = last_fire_times(trigger, period.start, CHART_WEEKS)
        periods = [Period(a, b) for a, b in zip(ends, ends[1:])] + [period]
        history = []
        for each in periods:
            figures, reviews = await activity(self.store, workspace, each), await sentiment(
                self.store, workspace, each)
            label = each.start.astimezone(ZoneInfo(zone)).strftime("%d %b")
            history.append((label, figures.approval_rate, reviews.positive_share))
        return await asyncio.to_thread(render_chart, history, self.charts_dir / chart_name(workspace, period))

    async def on_demand(self, workspace: str, last_week: bool, now: datetime) -> WeeklyReport:
        """``/report`` (this week so far) or ``/report last`` (the last complete week)."""
        zone = await self._zone(workspace)
        trigger = report_trigger(self.cron, zone)
        if last_week:
            period, before = completed_period(trigger, now), completed_period(trigger, now, 1)
        else:
            period, before = current_period(trigger, now), completed_period(trigger, now)
        return await self.build(workspace, period, before, zone, so_far=not last_week)

    async def post_due_reports(self, now: datetime) -> int:
        """Post every report that is due and not yet posted; returns how many were posted."""
        posted = 0
        for workspace, channel, channel_set_at in await self.store.workspaces_with("report_channel"):
            if not self.can_announce(workspace.split(":", 1)[0]):
                continue  # that platform's adapter does not run here (yet): nothing to try
            try:
                posted += await self._post_due_for(workspace, channel, parse_utc_text(channel_set_at), now)
            except Exception:
                logger.exception("weekly report for %s failed; will retry", workspace)
        return posted

    async def _post_due_for(self, workspace: str, channel: str, channel_set_at: datetime,
                            now: datetime) -> int:
        zone = await self._zone(workspace)
        trigger = report_trigger(self.cron, zone)
        ends = last_fire_times(trigger, now, MAX_CATCH_UP + 1)
        latest = await self.store.newest_report_end(workspace)
        # Reports start with the first scheduled time after the channel was set; none are skipped after.
        since = parse_utc_text(latest) if latest else channel_set_at
        posted = 0
        for start, end in zip(ends, ends[1:]):
            if end <= since and not await self._unfinished(workspace, start):
                continue
            late = now - end > LATE_AFTER
            posted += await self._post_once(workspace, channel, Period(start, end),
                                            Period(start - (end - start), start), zone, late, now)
        return posted

    async def _unfinished(self, workspace: str, start: datetime) -> bool:
        return await self.store.report_unfinished(workspace, utc_text(start))

    async def _post_once(self, workspace: str, channel: str, period: Period, before: Period,
                         zone: str, late: bool, now: datetime) -> int:
        key = (workspace, utc_text(period.start))
        row = await self.store.report_row(*key)
        if row is not None and (row["posted_at"] or row["gave_up_at"]):
            return 0
        if row is not None and row["attempts"] and not self._retry_due(row, now):
            return 0
        if row is None:  # claim it: the report as it is now, kept for every later try
            report = await self.build(workspace, period, before, zone, late=late)
            await self.store.claim_report(*key, utc_text(period.end), channel, late, report.to_json(),
                                          str(report.chart))
            parts_posted, attempts = 0, 0
        else:  # claimed before a crash or a failed post: post what was claimed
            report = await self._claimed(row, workspace, period, before, zone)
            parts_posted, attempts = row["parts_posted"], row["attempts"]
        attempts += 1
        await self.store.count_report_attempt(*key, attempts, utc_text(now))  # before posting: a crash counts too

        async def part_posted(count: int) -> None:
            await self.store.set_report_parts_posted(*key, count)

        announcement = Announcement(workspace, channel, image=report.chart, report=report,
                                    skip_parts=parts_posted, part_posted=part_posted)
        if not await self.announce(announcement):
            if attempts >= MAX_POST_ATTEMPTS:
                await self.store.give_up_report(*key, utc_text(now))
                logger.error("gave up posting the weekly report for %s (%s) to %s after %d tries; "
                             "it is not posted", workspace, utc_text(period.end), channel, attempts)
            return 0
        await self.store.mark_report_posted(*key, utc_text(now))
        logger.info("posted the weekly report for %s (%s)%s", workspace, utc_text(period.end),
                    " late" if late else "")
        return 1

    @staticmethod
    def _retry_due(row, now: datetime) -> bool:
        wait = FIRST_RETRY_AFTER * 2 ** (row["attempts"] - 1)
        return row["last_attempt_at"] is None or now - parse_utc_text(row["last_attempt_at"]) >= wait

    async def _claimed(self, row, workspace: str, period: Period, before: Period,
                       zone: str) -> WeeklyReport:
        if row["content"] is None:  # claimed by a copybot before reports were kept as data
            return await self.build(workspace, period, before, zone, late=bool(row["late"]))
        report = WeeklyReport.from_json(row["content"])
        if report.chart is None or not report.chart.is_file():  # pruned or lost meanwhile
            report.chart = await self._chart(workspace, period, zone)
        return report
