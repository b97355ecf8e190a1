"""What would otherwise grow without bound and prunes nothing itself: the report charts. A daily
scheduled job (``Engine.housekeeping``) prunes them. (The inbound-events journal prunes its own
finished rows as it writes.)

- Report charts (``<data dir>/reports/*.png``, one per workspace and period): the newest
  ``CHARTS_KEPT`` of each workspace are kept, older ones deleted (a retried report whose chart is
  gone draws it again). Half-written ``.partial.png`` files older than a day go too.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from pathlib import Path

logger = logging.getLogger(__name__)

CHARTS_KEPT = 12  # per workspace: a quarter of weekly reports, plus this week's /report
PARTIAL_AGE_SECONDS = 24 * 3600
HOUSEKEEPING_CRON = "17 4 * * *"  # daily, at a quiet hour (UTC)


def _workspace_of(chart: Path) -> str:
    """``slack_T0123-20261102T0900-20261109T0900.png`` -> ``slack_T0123``."""
    return chart.stem.rsplit("-", 2)[0]


def prune_charts(directory: Path, keep: int = CHARTS_KEPT) -> int:
    """Delete all but the newest ``keep`` charts of each workspace; returns how many went."""
    if not directory.is_dir():
        return 0
    by_workspace: dict[str, list[Path]] = defaultdict(list)
    removed = 0
    now = time.time()
    for path in directory.glob("*.png"):
        if path.name.endswith(".partial.png"):
            if now - path.stat().st_mtime > PARTIAL_AGE_SECONDS:
                path.unlink(missing_ok=True)
                removed += 1
            continue
        by_workspace[_workspace_of(path)].append(path)
    for charts in by_workspace.values():
        charts.sort(key=lambda path: (path.stat().st_mtime, path.name), reverse=True)
        for old in charts[keep:]:
            old.unlink(missing_ok=True)
            removed += 1
    return removed
