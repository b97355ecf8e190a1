"""Alerts: a theme whose share of negative mentions rose clearly from one week to the next.

"Clearly" is a one-sided Fisher exact test on the 2×2 table (week × negative or not) — exact at the
small counts a week of reviews gives, where a z-test's normal approximation is not — with a
Bonferroni correction for the number of themes tested, so ten themes tested at once do not raise a
false alarm every other week. On top of significance an alert needs volume and size: at least
``MIN_MENTIONS`` mentions in each week and a rise of at least ``MIN_RISE`` (15 points), so a
wobble from 1 of 4 to 3 of 5 never alerts.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from engine.learning.stats import p_higher_rate
from engine.reviews.summary import ThemeAlert

logger = logging.getLogger(__name__)

MIN_MENTIONS = 10  # per week, for the theme
MIN_RISE = 0.15  # negative share, later week minus earlier week
ALPHA = 0.05  # family-wise, over the themes tested together


def rising_negative_p(negative_before: int, total_before: int, negative_now: int, total_now: int) -> float:
    """One-sided Fisher exact p-value for "the negative share is higher now than before"."""
    return p_higher_rate(negative_now, total_now - negative_now, negative_before,
                         total_before - negative_before)


@dataclass
class WeekCounts:
    negative: int = 0
    mentions: int = 0


def week_of(date: dt.date) -> str:
    year, week, _ = date.isocalendar()
    return f"{year}-W{week:02d}"


def find_alerts(counts: dict[str, tuple[WeekCounts, WeekCounts]], weeks: tuple[str, str],
                quotes: dict[str, str] | None = None) -> list[ThemeAlert]:
    """Alerts among themes given (previous week, this week) counts each; most significant first."""
    tested = {theme: pair for theme, pair in counts.items()
              if pair[0].mentions >= MIN_MENTIONS and pair[1].mentions >= MIN_MENTIONS}
    alerts = []
    for theme, (before, now) in tested.items():
        rise = now.negative / now.mentions - before.negative / before.mentions
        if rise < MIN_RISE:
            continue
        p = rising_negative_p(before.negative, before.mentions, now.negative, now.mentions)
        if p * len(tested) < ALPHA:
            alerts.append(ThemeAlert(theme=theme, week=weeks[1], previous_week=weeks[0], negative=now.negative,
                                     mentions=now.mentions, previous_negative=before.negative,
                                     previous_mentions=before.mentions, p_value=p,
                                     quote=(quotes or {}).get(theme, "")))
    alerts.sort(key=lambda a: (a.p_value, a.theme))
    if alerts:
        logger.info("theme alerts: %s", ", ".join(f"{a.theme} p={a.p_value:.2g}" for a in alerts))
    return alerts


def alerts_in_dated_reviews(reviews: Sequence) -> list[ThemeAlert]:
    """Alerts within one file: the latest ISO week with reviews against the week before it.

    ``reviews`` are ``LabelledReview``s with ``date`` and ``aspects`` ({theme: sentiment})."""
    by_week: dict[str, list] = defaultdict(list)
    for r in reviews:
        if r.date is not None and r.label is not None:
            by_week[week_of(r.date)].append(r)
    if len(by_week) < 2:
        return []
    latest = max(r.date for r in reviews if r.date is not None and r.label is not None)
    now_week = week_of(latest)
    before_week = week_of(latest - dt.timedelta(days=7))
    if before_week not in by_week:
        return []
    counts = theme_week_counts(((r.aspects, week_of(r.date)) for w in (before_week, now_week) for r in by_week[w]),
                               (before_week, now_week))
    quotes = {}
    for r in by_week[now_week]:
        for theme, sentiment in r.aspects.items():
            if sentiment == "negative" and theme not in quotes:
                quotes[theme] = r.text
    return find_alerts(counts, (before_week, now_week), quotes)


def theme_week_counts(items: Iterable[tuple[dict[str, str], str]], weeks: tuple[str, str]
                      ) -> dict[str, tuple[WeekCounts, WeekCounts]]:
    """Per theme, (earlier, later) week counts from (aspects of one review, its week) pairs."""
    counts: dict[str, tuple[WeekCounts, WeekCounts]] = {}
    for aspects, week in items:
        if week not in weeks:
            continue
        slot = weeks.index(week)
        for theme, sentiment in aspects.items():
            pair = counts.setdefault(theme, (WeekCounts(), WeekCounts()))
            pair[slot].mentions += 1
            pair[slot].negative += sentiment == "negative"
    return counts
