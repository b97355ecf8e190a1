"""Review summaries built by hand (no model needed), for the export, storage and rendering tests."""

from __future__ import annotations

import datetime as dt

from engine.reviews import LabelledReview, ReviewSummary, Theme, TrendPoint

WHEN = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)


def make_summary(
    n: int = 300, quote: str = "The battery easily lasts two days.", created: dt.datetime = WHEN
) -> ReviewSummary:
    labels = ["positive", "negative", "neutral"]
    reviews = [
        LabelledReview(line=i + 1, text=f"Review {i} about the battery and the strap", label=labels[i % 3],
                       confidence=0.9, rating=float(1 + i % 5), date=dt.date(2026, 1 + i % 2, 1 + i % 28))
        for i in range(n)
    ]
    reviews.append(LabelledReview(line=n + 1, text="Muy malo", label=None, confidence=None, language="es",
                                  skipped="language not supported (Spanish)"))
    themes = [Theme(label=f"battery life {k}", mentions=40 - k, quote=quote * 3, line=k + 1) for k in range(5)]
    trend = [TrendPoint(period=f"2025-{m:02d}", start=dt.date(2025, m, 1), reviews=25, positive=10 + m, negative=8,
                        neutral=7 - m // 2, average_rating=3.5) for m in range(1, 13)]
    return ReviewSummary(
        source="shop-export.csv", model="bundled", created_at=created, analysed=n,
        positive=n // 3, negative=n // 3, neutral=n - 2 * (n // 3),
        praise=themes, complaints=[Theme(label="strap", mentions=12, quote="The strap snapped after a week.", line=3)],
        reviews=reviews, trend=trend, trend_unit="month", trend_direction="improving",
        average_rating=3.4, rating_scale=5.0, found=n + 101, skipped_over_cap=100,
        skipped_language={"Spanish": 1},
        notes=["Analysed the first 300 of 400 reviews; 100 were skipped (limit 300 per request)."],
    )
