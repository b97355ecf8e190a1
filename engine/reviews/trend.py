"""Sentiment over time: counts per ISO week (spans up to 16 weeks) or per calendar month."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence

from engine.reviews.summary import MIN_DATED, LabelledReview, TrendPoint, dated_reviews, net_score

logger = logging.getLogger(__name__)

WEEKLY_UP_TO_DAYS = 16 * 7
#: net-score change between the earlier and the later half that counts as a change of direction
DIRECTION_POINTS = 10


def _period(date: dt.date, unit: str) -> tuple[str, dt.date]:
    if unit == "week":
        year, week, _ = date.isocalendar()
        return f"{year}-W{week:02d}", date - dt.timedelta(days=date.weekday())
    return f"{date.year}-{date.month:02d}", date.replace(day=1)


def build_trend(reviews: Sequence[LabelledReview]) -> tuple[list[TrendPoint], str | None, str | None]:
    """(points oldest first, unit, direction) for the analysed reviews that have a date."""
    dated = dated_reviews(reviews)
    if len(dated) < MIN_DATED:
        return [], None, None
    first, last = dated[0].date, dated[-1].date
    assert first is not None and last is not None  # dated_reviews keeps only reviews with a date
    span = (last - first).days
    unit = "week" if span <= WEEKLY_UP_TO_DAYS else "month"
    points: dict[str, TrendPoint] = {}
    ratings: dict[str, list[float]] = {}
    for r in dated:
        assert r.date is not None and r.label is not None  # dated_reviews keeps only these
        key, start = _period(r.date, unit)
        point = points.get(key)
        if point is None:
            point = points[key] = TrendPoint(period=key, start=start, reviews=0, positive=0, negative=0, neutral=0)
        point.reviews += 1
        setattr(point, r.label, getattr(point, r.label) + 1)
        if r.rating is not None:
            ratings.setdefault(key, []).append(r.rating)
    for key, values in ratings.items():
        points[key].average_rating = sum(values) / len(values)
    ordered = sorted(points.values(), key=lambda p: p.start)
    if len(ordered) < 2:
        return ordered, unit, None
    return ordered, unit, _direction(dated)


def _direction(dated: Sequence[LabelledReview]) -> str:
    half = len(dated) // 2
    early, late = dated[:half], dated[half:]

    def score(rs: Sequence[LabelledReview]) -> int:
        return net_score(sum(r.label == "positive" for r in rs), sum(r.label == "negative" for r in rs), len(rs))

    change = score(late) - score(early)
    if change >= DIRECTION_POINTS:
        return "improving"
    if change <= -DIRECTION_POINTS:
        return "declining"
    return "steady"
