"""The daily housekeeping job: report charts do not grow without bound."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta


def chart(directory, workspace: str, week: int, age_days: float):
    start = datetime(2026, 1, 5, 9, tzinfo=UTC) + timedelta(weeks=week)
    path = directory / f"{workspace}-{start:%Y%m%dT%H%M}-{start + timedelta(weeks=1):%Y%m%dT%H%M}.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n")
    moment = time.time() - age_days * 86400
    os.utime(path, (moment, moment))
    return path


async def test_the_scheduled_job_prunes_old_charts(engine):
    charts = engine.reports.charts_dir
    charts.mkdir(parents=True)
    slack = [chart(charts, "slack_T1", week, age_days=7 * (20 - week)) for week in range(20)]
    discord = [chart(charts, "discord_42", week, age_days=200) for week in range(2)]
    partial = charts / "slack_T1-x.png.partial.png"
    partial.write_bytes(b"")
    os.utime(partial, (time.time() - 2 * 86400,) * 2)

    await engine.start_scheduler()
    await engine.scheduler.run_now("housekeeping")

    assert sorted(charts.iterdir()) == sorted(slack[-12:] + discord)  # the newest 12 per workspace
