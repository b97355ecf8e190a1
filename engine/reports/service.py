"""Weekly reports: built on demand, and posted once per period to each workspace's report channel.

``post_due_reports`` runs every minute (and at start-up). For each workspace with a report channel
it finds the scheduled times that have passed since its last report, claims each period in the
``reports`` table, posts it, and marks it posted. A claim that was never posted (the adapter was
down, the post failed) is posted on a later run, so a restart neither repeats nor skips a report.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from engine.reports.content import activity, build_report, sentiment
from engine.reports.periods import (
    Period,
    completed_period,
    current_period,
    last_fire_times,
    report_trigger,
)
from engine.reports.render import render_chart, render_report
from engine.settings import SETTINGS
from engine.store import Store, parse_utc_text, utc_text
from engine.types import Announcement

logger = logging.getLogger(__name__)

CHART_WEEKS = 8
MAX_CATCH_UP = 4  # after a long outage, post at most this many missed reports
LATE_AFTER = timedelta(minutes=30)


@dataclass(frozen=True)
class RenderedReport:
    text: str
    chart: Path


class ReportService:
    def __init__(self, store: Store, cron: str, charts_dir: Path, model_version: Callable[[], str],
                 announce: Callable[[Announcement], Awaitable[bool]],
                 finetune_line: Callable[[str, Period], Awaitable[str | None]] | None = None) -> None:
        self.store = store
        self.cron = cron
        self.charts_dir = charts_dir
        self.model_version = model_version
        self.announce = announce
        self.finetune_line = finetune_line

    async def _zone(self, workspace: str) -> str:
        settings = await self.store.settings(workspace)
        return settings.get("timezone") or SETTINGS["timezone"].default

    async def render(self, workspace: str, period: Period, last: Period, zone: str, *,
                     late: bool = False, so_far: bool = False, limit: int = 3900) -> RenderedReport:
        finetune = await self.finetune_line(workspace, period) if self.finetune_line else None
        report = await build_report(self.store.db, workspace, period, last, self.model_version(), finetune)
        text = render_report(report, ZoneInfo(zone), late=late, so_far=so_far, limit=limit)
        chart = await self._chart(workspace, period, zone)
        return RenderedReport(text, chart)

    async def _chart(self, workspace: str, period: Period, zone: str) -> Path:
        trigger = report_trigger(self.cron, zone)
        ends = last_fire_times(trigger, period.start, CHART_WEEKS)
        periods = [Period(a, b) for a, b in zip(ends, ends[1:])] + [period]
        history = []
        for each in periods:
            figures, reviews = await activity(self.store.db, workspace, each), await sentiment(
                self.store.db, workspace, each)
            label = each.start.astimezone(ZoneInfo(zone)).strftime("%d %b")
            history.append((label, figures.approval_rate, reviews.positive_share))
        safe = workspace.replace(":", "_").replace("/", "_")
        name = f"{safe}-{period.start:%Y%m%dT%H%M}-{period.end:%Y%m%dT%H%M}.png"
        return render_chart(history, self.charts_dir / name)

    async def on_demand(self, workspace: str, last_week: bool, now: datetime,
                        limit: int = 3900) -> RenderedReport:
        """``/report`` (this week so far) or ``/report last`` (the last complete week)."""
        zone = await self._zone(workspace)
        trigger = report_trigger(self.cron, zone)
        if last_week:
            period, before = completed_period(trigger, now), completed_period(trigger, now, 1)
        else:
            period, before = current_period(trigger, now), completed_period(trigger, now)
        return await self.render(workspace, period, before, zone, so_far=not last_week, limit=limit)

    async def post_due_reports(self, now: datetime) -> int:
        """Post every report that is due and not yet posted; returns how many were posted."""
        posted = 0
        async with self.store.db.execute(
            "SELECT workspace_id, value, updated_at FROM settings WHERE key = 'report_channel'"
        ) as cursor:
            targets = [tuple(row) async for row in cursor]
        for workspace, channel, channel_set_at in targets:
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
        async with self.store.db.execute(
            "SELECT max(period_end) FROM reports WHERE workspace_id = ?", (workspace,)
        ) as cursor:
            (latest,) = await cursor.fetchone()
        # Reports start with the first scheduled time after the channel was set; none are skipped after.
        since = parse_utc_text(latest) if latest else channel_set_at
        posted = 0
        for start, end in zip(ends, ends[1:]):
            if end <= since and not await self._unposted(workspace, start):
                continue
            late = now - end > LATE_AFTER
            posted += await self._post_once(workspace, channel, Period(start, end),
                                            Period(start - (end - start), start), zone, late)
        return posted

    async def _unposted(self, workspace: str, start: datetime) -> bool:
        async with self.store.db.execute(
            "SELECT 1 FROM reports WHERE workspace_id = ? AND period_start = ? AND posted_at IS NULL",
            (workspace, utc_text(start)),
        ) as cursor:
            return await cursor.fetchone() is not None

    async def _post_once(self, workspace: str, channel: str, period: Period, before: Period,
                         zone: str, late: bool) -> int:
        async with self.store.db.execute(
            "SELECT text, posted_at, late FROM reports WHERE workspace_id = ? AND period_start = ?",
            (workspace, utc_text(period.start)),
        ) as cursor:
            row = await cursor.fetchone()
        if row is not None and row["posted_at"] is not None:
            return 0
        rendered = await self.render(workspace, period, before, zone, late=late)
        if row is None:
            async with self.store.transaction() as db:
                await db.execute(
                    """INSERT INTO reports(workspace_id, period_start, period_end, channel, text, late)
                       VALUES (?, ?, ?, ?, ?, ?)""",
                    (workspace, utc_text(period.start), utc_text(period.end), channel, rendered.text,
                     int(late)),
                )
            text = rendered.text
        else:
            text = row["text"]  # claimed before a crash or a failed post: post what was claimed
        if not await self.announce(Announcement(workspace, channel, text, rendered.chart)):
            return 0
        async with self.store.transaction() as db:
            await db.execute(
                """UPDATE reports SET posted_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
                   WHERE workspace_id = ? AND period_start = ?""",
                (workspace, utc_text(period.start)),
            )
        logger.info("posted the weekly report for %s (%s)%s", workspace, utc_text(period.end),
                    " late" if late else "")
        return 1
