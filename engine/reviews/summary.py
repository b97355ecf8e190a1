"""Plain dataclasses for review input and results; no behaviour beyond small derived figures."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)

MIN_DATED = 4  # dated reviews needed before a trend (and its halves) is told


@dataclass
class Review:
    text: str  # cleaned text: HTML removed, whitespace collapsed
    line: int  # 1-based line (pasted text) or data row (CSV, header not counted) in the input
    rating: float | None = None  # as written in the input, on the batch's ``rating_scale``
    date: dt.date | None = None


@dataclass
class ReviewBatch:
    reviews: list[Review]
    source: str = "pasted text"  # file name or "pasted text"
    found: int = 0  # reviews with text in the input, before the cap
    skipped_over_cap: int = 0
    limit: int = 0
    text_column: str | None = None
    rating_column: str | None = None
    date_column: str | None = None
    rating_scale: float | None = None  # 5, 10 or 100 when ratings are present
    encoding: str = "utf-8"
    notes: list[str] = field(default_factory=list)  # sentences for the user (encoding used, column guessed, ...)


@dataclass
class LabelledReview:
    line: int
    text: str
    label: str | None  # "positive" | "negative" | "neutral"; None when skipped
    confidence: float | None  # probability of ``label``, 0..1
    rating: float | None = None
    date: dt.date | None = None
    language: str | None = None  # guessed language code ("en", "zh", ...; None: too short to tell)
    skipped: str | None = None  # why it was not analysed
    aspects: dict[str, str] = field(default_factory=dict)  # theme label -> this review's sentiment about it


@dataclass
class Theme:
    """An aspect the reviews talk about, with what they say about it.

    ``positive`` / ``negative`` / ``neutral`` count reviews by the sentiment of the clause that
    mentions the aspect, not of the whole review: "great battery but the screen cracked" counts
    positive for the battery and negative for the screen."""

    label: str  # words that appear in the reviews
    mentions: int  # number of reviews that mention it
    quote: str  # an excerpt of one of those reviews, verbatim (may be shortened with "…")
    line: int  # where the quoted review is in the input
    positive: int = 0
    negative: int = 0
    neutral: int = 0
    phrases: list[str] = field(default_factory=list)  # the review words grouped under the label

    @property
    def negative_share(self) -> float:
        return self.negative / self.mentions if self.mentions else 0.0

    @property
    def positive_share(self) -> float:
        return self.positive / self.mentions if self.mentions else 0.0


@dataclass
class ThemeAlert:
    """A theme whose negative share rose clearly from one week to the next (``engine/reviews/alerts.py``)."""

    theme: str
    week: str  # "2026-W05"
    previous_week: str
    negative: int
    mentions: int
    previous_negative: int
    previous_mentions: int
    p_value: float  # one-sided Fisher exact test, before the Bonferroni correction
    quote: str = ""  # a negative review of the later week that mentions the theme

    @property
    def share(self) -> float:
        return self.negative / self.mentions if self.mentions else 0.0

    @property
    def previous_share(self) -> float:
        return self.previous_negative / self.previous_mentions if self.previous_mentions else 0.0


@dataclass
class TrendPoint:
    period: str  # "2024-W05" or "2024-03"
    start: dt.date
    reviews: int
    positive: int
    negative: int
    neutral: int
    average_rating: float | None = None

    @property
    def score(self) -> int:
        return net_score(self.positive, self.negative, self.reviews)


@dataclass
class ReviewSummary:
    source: str
    model: str
    created_at: dt.datetime  # UTC
    analysed: int
    positive: int
    negative: int
    neutral: int
    praise: list[Theme]
    complaints: list[Theme]
    reviews: list[LabelledReview]  # every review read, analysed or skipped, in input order
    trend: list[TrendPoint] = field(default_factory=list)
    trend_unit: str | None = None  # "week" | "month"
    trend_direction: str | None = None  # "improving" | "declining" | "steady"
    average_rating: float | None = None
    rating_scale: float | None = None
    found: int = 0  # reviews with text in the input
    skipped_over_cap: int = 0
    skipped_language: dict[str, int] = field(default_factory=dict)  # language name -> reviews skipped
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    alerts: list[ThemeAlert] = field(default_factory=list)  # rising complaints, most significant first
    languages: dict[str, int] = field(default_factory=dict)  # language name -> reviews analysed

    @property
    def score(self) -> int:
        """Net sentiment, -100 (all negative) .. +100 (all positive): % positive minus % negative."""
        return net_score(self.positive, self.negative, self.analysed)

    def share(self, label: str) -> float:
        return getattr(self, label) / self.analysed if self.analysed else 0.0

    @property
    def skipped(self) -> int:
        return self.skipped_over_cap + sum(self.skipped_language.values())

    @property
    def trend_halves(self) -> tuple[int, int] | None:
        """Net score of the earlier and the later half of the dated reviews (None: too few)."""
        return halves_scores(self.reviews)


def net_score(positive: int, negative: int, total: int) -> int:
    return round(100 * (positive - negative) / total) if total else 0


def dated_reviews(reviews: Sequence[LabelledReview]) -> list[LabelledReview]:
    """The analysed reviews that have a date (their ``date`` and ``label`` are set), oldest first."""
    return sorted((r for r in reviews if r.date is not None and r.label is not None), key=_date)


def _date(review: LabelledReview) -> dt.date:
    assert review.date is not None  # only dated reviews are sorted by date
    return review.date


def halves_scores(reviews: Sequence[LabelledReview]) -> tuple[int, int] | None:
    """Net score of the earlier and the later half of the dated reviews, for the chat line."""
    dated = dated_reviews(reviews)
    if len(dated) < MIN_DATED:
        return None
    half = len(dated) // 2
    early, late = (
        net_score(sum(r.label == "positive" for r in p), sum(r.label == "negative" for r in p), len(p))
        for p in (dated[:half], dated[half:])
    )
    return early, late
