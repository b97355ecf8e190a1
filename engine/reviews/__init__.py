"""Review sentiment (issue 5): read pasted or uploaded reviews, label each one positive / negative /
neutral, find praised and criticised themes and the trend, export and store it. The adapters
render a summary for chat (``bot/rendering/reviews.py``).

    batch = read_reviews(text, data, filename, column)        # raises UserError on bad input
    summary = analyzer.summarize(batch)                        # CPU-bound: run in a worker thread
    write_labels(summary, "labels.csv")                        # --out
    await save_review_summary(db, workspace_id, summary)

Importing this package is cheap: torch and transformers load when a ``SentimentAnalyzer`` is built.
"""

from engine.reviews.analyzer import SentimentAnalyzer
from engine.reviews.export import summary_to_dict, write_labels
from engine.reviews.reading import MAX_REVIEWS, read_reviews
from engine.reviews.storage import (
    StoredReviewSummary,
    latest_review_summary,
    save_review_summary,
)
from engine.reviews.summary import LabelledReview, Review, ReviewBatch, ReviewSummary, Theme, TrendPoint

__all__ = [
    "MAX_REVIEWS",
    "LabelledReview",
    "Review",
    "ReviewBatch",
    "ReviewSummary",
    "SentimentAnalyzer",
    "StoredReviewSummary",
    "Theme",
    "TrendPoint",
    "latest_review_summary",
    "read_reviews",
    "save_review_summary",
    "summary_to_dict",
    "write_labels",
]
