"""Reviews from a table: a CSV/TSV, or a JSON export read as rows (header first). Rows are read one at
a time; past the cap they are only counted, never cleaned, date-parsed or kept."""

from __future__ import annotations

import csv
import io
import itertools
import json
import logging
from collections.abc import Iterable, Iterator

from engine.errors import UserError
from engine.reviews.cells import day_first as day_first_of
from engine.reviews.cells import is_numeric_date, parse_date, parse_rating
from engine.reviews.columns import DATE_COLUMNS, RATING_COLUMNS, choose_text_column, find_column
from engine.reviews.review_text import clean_text, clip, finish_batch
from engine.reviews.summary import Review, ReviewBatch

logger = logging.getLogger(__name__)

#: data rows read to choose the text column and the date order, before the reviews themselves
SAMPLE_ROWS = 2000


def read_csv(body: str, delimiter: str, column: str | None, notes: list[str], limit: int) -> ReviewBatch:
    rows = csv.reader(io.StringIO(body, newline=""), delimiter=delimiter)
    try:
        return read_rows(rows, column, notes, limit, "CSV")
    except csv.Error as error:
        logger.info("unreadable CSV: %s", error)
        raise UserError("This CSV could not be read (a quote is not closed or a field is too large); check the "
                        "file and upload it again.") from None


def json_rows(body: str, filename: str | None) -> Iterable[list[str]] | None:
    """A JSON export as CSV-like rows: a list of strings, or a list of objects (keys are the columns).

    None when the input is not JSON (so it is read as CSV or lines)."""
    stripped = body.lstrip()
    is_json_name = filename is not None and filename.lower().endswith(".json")
    if not is_json_name and not stripped.startswith(("[", "{")):
        return None
    try:
        value = json.loads(stripped)
    except ValueError:
        if is_json_name:
            raise UserError("This .json file is not valid JSON; upload a JSON list of reviews, a CSV or a text "
                            "file.") from None
        return None
    if isinstance(value, dict):  # {"reviews": [...]} and similar wrappers
        lists = [v for v in value.values() if isinstance(v, list)]
        value = lists[0] if len(lists) == 1 else None
    if not isinstance(value, list) or not value:
        raise UserError("This JSON holds no list of reviews; upload a JSON list of reviews or objects, a CSV or a "
                        "text file.")
    if all(isinstance(item, str) for item in value):
        return itertools.chain([["review"]], ([item] for item in value))
    if all(isinstance(item, dict) for item in value):
        keys = list(dict.fromkeys(k for item in value for k in item))
        # Rows are made as they are read, so the ones past the cap are never built.
        return itertools.chain([keys], (["" if item.get(k) is None else str(item.get(k)) for k in keys]
                                        for item in value))
    raise UserError("This JSON list mixes reviews with other values; upload a list of reviews or of objects, a CSV "
                    "or a text file.")


def read_rows(rows: Iterable[list[str]], column: str | None, notes: list[str], limit: int, kind: str) -> ReviewBatch:
    """Reviews from the rows of a table (header first), read one row at a time: past ``limit``
    reviews a row is only counted, never cleaned, date-parsed or kept."""
    filled: Iterator[list[str]] = (r for r in rows if any(cell.strip() for cell in r))
    header = next(filled, None)
    if header is None:
        raise UserError(f"The {kind} is empty; it needs a header row and one review per row.")
    sample = list(itertools.islice(filled, SAMPLE_ROWS))  # to choose the columns
    if not sample:
        raise UserError(f"The {kind} has a header row but no reviews under it.")
    text_i = choose_text_column(header, sample, column, notes)
    rating_i = find_column(header, RATING_COLUMNS, ("rating", "stars", "score"))
    date_i = find_column(header, DATE_COLUMNS, ("date", "_at", "_on", "time"))
    rating_i = None if rating_i == text_i else rating_i
    date_i = None if date_i == text_i else date_i
    day_first = day_first_of([r[date_i] for r in sample if date_i < len(r)]) if date_i is not None else None

    reviews: list[Review] = []
    html_count = long_count = empty = bad_dates = beyond_cap = 0
    scales: list[float] = []
    for number, row in enumerate(itertools.chain(sample, filled), start=1):
        raw = row[text_i] if text_i < len(row) else ""
        if len(reviews) >= limit:  # past the cap: only counted
            beyond_cap += bool(raw.strip())
            continue
        cleaned, had_html = clean_text(raw)
        if not cleaned:
            empty += 1
            continue
        cleaned, was_long = clip(cleaned)
        html_count += had_html
        long_count += was_long
        rating = date = None
        if rating_i is not None and rating_i < len(row):
            rating, scale = parse_rating(row[rating_i])
            if scale:
                scales.append(scale)
        if date_i is not None and date_i < len(row) and row[date_i].strip():
            date = parse_date(row[date_i], day_first)
            bad_dates += date is None
        reviews.append(Review(text=cleaned, line=number, rating=rating, date=date))

    if empty:
        plural, were = ("s", "were") if empty != 1 else ("", "was")
        notes.append(f"{empty:,} row{plural} had no review text and {were} left out.")
    batch = finish_batch(reviews, notes, limit, html_count, long_count, len(reviews) + beyond_cap)
    batch.text_column = header[text_i].strip()
    if rating_i is not None and any(r.rating is not None for r in batch.reviews):
        batch.rating_column = header[rating_i].strip()
        batch.rating_scale = _rating_scale([r.rating for r in batch.reviews if r.rating is not None], scales)
        for r in batch.reviews:
            if r.rating is not None and not 0 <= r.rating <= batch.rating_scale:
                r.rating = None
    if date_i is not None and any(r.date is not None for r in batch.reviews):
        batch.date_column = header[date_i].strip()
        if bad_dates:
            plural, were = ("s", "were") if bad_dates != 1 else ("", "was")
            notes.append(f"{bad_dates:,} date{plural} in '{batch.date_column}' could not be read and {were} "
                         "ignored.")
        if day_first is None and any(is_numeric_date(r[date_i]) for r in sample[:200] if date_i < len(r)):
            notes.append("Dates like 03/04/2024 were read as month/day/year.")
    return batch


def _rating_scale(values: list[float], stated: list[float]) -> float:
    if stated:
        return max(stated)
    top = max(values)
    return 5.0 if top <= 5 else 10.0 if top <= 10 else 100.0
