"""Review sentiment (issue 5): read pasted or uploaded reviews, label each one positive / negative /
neutral, find praised and criticised themes and the trend, render it for chat, export and store it.

    batch = read_reviews(text, data, filename, column)        # raises UserError on bad input
    summary = analyzer.summarize(batch)                        # CPU-bound: run in a worker thread
    render_summary(summary, max_chars=2000, markup="markdown") # one chat message
    write_labels(summary, "labels.csv")                        # --out
    await save_review_summary(db, workspace_id, summary)

Importing this package is cheap: torch and transformers load when a ``SentimentAnalyzer`` is built.
"""

from engine.reviews.analyzer import SentimentAnalyzer
from engine.reviews.export import summary_to_dict, write_labels
from engine.reviews.reading import MAX_REVIEWS, read_reviews
from engine.reviews.render import DISCORD_LIMIT, SLACK_LIMIT, render_summary
from engine.reviews.storage import (
    StoredReviewSummary,
    review_labels_of,
    review_summaries_between,
    save_review_summary,
)
from engine.reviews.summary import LabelledReview, Review, ReviewBatch, ReviewSummary, Theme, TrendPoint

__all__ = [
    "DISCORD_LIMIT",
    "MAX_REVIEWS",
    "SLACK_LIMIT",
    "LabelledReview",
    "Review",
    "ReviewBatch",
    "ReviewSummary",
    "SentimentAnalyzer",
    "StoredReviewSummary",
    "Theme",
    "TrendPoint",
    "read_reviews",
    "render_summary",
    "review_labels_of",
    "review_summaries_between",
    "save_review_summary",
    "summary_to_dict",
    "write_labels",
]
