"""``--out``: the per-review labels (and the batch figures) as CSV or JSON."""

from __future__ import annotations

import csv
import json
import logging
from pathlib import Path
from typing import Any

from engine.errors import UserError
from engine.reviews.summary import ReviewSummary

logger = logging.getLogger(__name__)

CSV_FIELDS = ("line", "text", "label", "confidence", "rating", "date", "skipped", "language", "aspects")
# A spreadsheet runs a cell that starts with one of these as a formula (=HYPERLINK(...), +cmd|...).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """A CSV cell a spreadsheet shows as text: OWASP's rule, a leading single quote before a
    formula-starting character. Numbers (a negative rating) are left as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def summary_to_dict(summary: ReviewSummary, with_reviews: bool = True) -> dict[str, Any]:
    """A JSON-ready dict of the summary (dates as ISO strings)."""
    data: dict[str, Any] = {
        "source": summary.source,
        "model": summary.model,
        "created_at": summary.created_at.isoformat(),
        "analysed": summary.analysed,
        "positive": summary.positive,
        "negative": summary.negative,
        "neutral": summary.neutral,
        "score": summary.score,
        "average_rating": summary.average_rating,
        "rating_scale": summary.rating_scale,
        "found": summary.found,
        "skipped_over_cap": summary.skipped_over_cap,
        "skipped_language": summary.skipped_language,
        "praise": [vars(t).copy() for t in summary.praise],
        "complaints": [vars(t).copy() for t in summary.complaints],
        "alerts": [vars(a).copy() for a in summary.alerts],
        "languages": summary.languages,
        "trend_unit": summary.trend_unit,
        "trend_direction": summary.trend_direction,
        "trend": [
            {
                "period": p.period,
                "start": p.start.isoformat(),
                "reviews": p.reviews,
                "positive": p.positive,
                "negative": p.negative,
                "neutral": p.neutral,
                "score": p.score,
                "average_rating": p.average_rating,
            }
            for p in summary.trend
        ],
        "notes": summary.notes,
        "seconds": summary.seconds,
    }
    if with_reviews:
        data["reviews"] = [_review_row(r) for r in summary.reviews]
    return data


def _review_row(r) -> dict[str, Any]:
    return {
        "line": r.line,
        "text": r.text,
        "label": r.label,
        "confidence": r.confidence,
        "rating": r.rating,
        "date": r.date.isoformat() if r.date else None,
        "skipped": r.skipped,
        "language": r.language,
        "aspects": r.aspects,
    }


def write_labels(summary: ReviewSummary, path: str | Path) -> Path:
    """Write the per-review labels to ``path``: ``.csv`` (one row per review) or ``.json`` (summary + reviews)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".json"):
        raise UserError(f"--out must name a .csv or .json file, not '{path.name}'.")
    try:
        if path.parent and not path.parent.exists():
            raise UserError(f"The folder for --out does not exist: {path.parent}.")
        if suffix == ".json":
            path.write_text(json.dumps(summary_to_dict(summary), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        else:
            with path.open("w", encoding="utf-8", newline="") as fh:
                writer = csv.DictWriter(fh, fieldnames=CSV_FIELDS)
                writer.writeheader()
                for r in summary.reviews:
                    row = _review_row(r) | {"aspects": "; ".join(f"{k}: {v}" for k, v in r.aspects.items())}
                    writer.writerow({k: ("" if v is None else spreadsheet_safe(v)) for k, v in row.items()})
    except OSError as error:
        logger.info("cannot write %s: %s", path, error)
        raise UserError(f"Could not write {path.name}: {error.strerror or 'write failed'}.") from None
    logger.info("wrote %d labels to %s", len(summary.reviews), path)
    return path
