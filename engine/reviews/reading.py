"""Turn pasted text or an uploaded file into a ``ReviewBatch``.

Decoding (``decoding.py``), CSV detection and column choice, HTML removal, rating and date parsing,
and the caps: rows are read one at a time, and past ``MAX_REVIEWS`` they are only counted. This is
CPU work on possibly many megabytes: callers on an event loop run it in a thread. Every problem
the user can fix raises ``UserError`` with one sentence.
"""

from __future__ import annotations

import csv
import html
import io
import itertools
import json
import logging
import re
from collections.abc import Iterable, Iterator
from pathlib import PurePath

from engine.errors import UserError
from engine.reviews.cells import day_first as day_first_of, is_numeric_date, parse_date, parse_rating
from engine.reviews.decoding import MAX_INPUT_BYTES, decode  # noqa: F401 (MAX_INPUT_BYTES: re-exported)
from engine.reviews.summary import Review, ReviewBatch

logger = logging.getLogger(__name__)

#: reviews analysed per request; the rest are counted and reported as skipped
MAX_REVIEWS = 5000
#: longer reviews are cut (the model reads at most 256 tokens anyway)
MAX_REVIEW_CHARS = 4000
#: data rows read to choose the text column and the date order, before the reviews themselves
SAMPLE_ROWS = 2000

TEXT_COLUMNS = (
    "review", "review_text", "reviewtext", "review_body", "review_content", "review_comment",
    "customer_review", "text", "comment", "comments", "body", "content", "feedback",
    "customer_feedback", "message", "reviews", "opinion", "verbatim", "response", "answer",
    "remarks", "description", "notes", "note",
)
TEXT_HINTS = ("review", "comment", "feedback", "text", "body", "content", "message", "opinion")
NOT_TEXT_HINTS = ("id", "date", "time", "title", "rating", "star", "score", "count", "url", "link",
                  "name", "author", "user", "email", "helpful", "version", "country", "lang")
RATING_COLUMNS = ("rating", "ratings", "stars", "star", "star_rating", "score", "overall", "rate",
                  "review_rating", "review_score", "rating_value", "stars_given", "grade")
DATE_COLUMNS = ("date", "review_date", "reviewed_at", "reviewed", "created", "created_at",
                "date_created", "creation_date", "submitted", "submitted_at", "submission_date",
                "date_submitted", "timestamp", "time", "posted", "posted_at", "published",
                "published_at", "datetime", "at", "updated_at", "day")

# ---------------------------------------------------------------- cleaning

_SCRIPT_STYLE = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.I | re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?/?>")
_SPACE = re.compile(r"\s+")
_BULLET = re.compile(r"^\s*(?:[-*•·–—]\s+|\d{1,4}[.)]\s+)")


def clean_text(raw: str) -> tuple[str, bool]:
    """Strip HTML (tags, comments, scripts) and entities, collapse whitespace. Returns (text, had_html)."""
    text = raw
    had_html = False
    for _ in range(2):  # twice, for HTML that was escaped once more (&lt;b&gt;)
        stripped = _TAG.sub(" ", _COMMENT.sub(" ", _SCRIPT_STYLE.sub(" ", text)))
        unescaped = html.unescape(stripped) if "&" in stripped else stripped
        if unescaped != text:
            had_html = had_html or stripped != text
        text = unescaped
        if "<" not in text:
            break
    text = _SPACE.sub(" ", text.replace("\u00a0", " ")).strip()
    return text, had_html


# ---------------------------------------------------------------- CSV


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


def _sniff_delimiter(first_line: str, filename: str | None) -> str:
    if filename and filename.lower().endswith(".tsv"):
        return "\t"
    best, most = ",", 0
    for delimiter in (",", ";", "\t", "|"):
        fields = next(csv.reader([first_line], delimiter=delimiter), [])
        if len(fields) > most:
            best, most = delimiter, len(fields)
    return best


def _header_match(cells: list[str]) -> bool:
    names = {_norm(c) for c in cells}
    return bool(names & set(TEXT_COLUMNS)) and len(cells) > 1


def _rows_agree(body: str, delimiter: str, fields: int) -> bool:
    """Whether the lines after a header-like first line have as many fields (a pasted CSV, not prose)."""
    lines = [l for l in body.split("\n")[1:40] if l.strip()][:10]
    if not lines:
        return True
    same = sum(len(next(csv.reader([l], delimiter=delimiter), [])) == fields for l in lines)
    return same * 2 >= len(lines)


def _find_column(header: list[str], names: tuple[str, ...], parts: tuple[str, ...] = ()) -> int | None:
    """The first column named exactly like one of ``names``, else the first whose name contains a part."""
    normalised = [_norm(h) for h in header]
    for name in names:
        if name in normalised:
            return normalised.index(name)
    for i, name in enumerate(normalised):
        if any(part in name for part in parts):
            return i
    return None


def _choose_text_column(header: list[str], rows: list[list[str]], given: str | None, notes: list[str]) -> int:
    normalised = [_norm(h) for h in header]
    shown = ", ".join(h.strip() or "(blank)" for h in header[:12]) + (", …" if len(header) > 12 else "")
    if given:
        want = _norm(given)
        if want in normalised:
            return normalised.index(want)
        raise UserError(f"This file has no column named '{given}'; its columns are: {shown}.")
    exact = _find_column(header, TEXT_COLUMNS)
    if exact is not None:
        return exact
    hinted = [
        i for i, name in enumerate(normalised)
        if any(h in name for h in TEXT_HINTS) and not any(h in name.split("_") for h in NOT_TEXT_HINTS)
    ]
    if hinted:
        return max(hinted, key=lambda i: _mean_length(rows, i))
    # no name matches: take a column only if it clearly holds free text
    best, best_len = None, 0.0
    for i in range(len(header)):
        values = [r[i] for r in rows[:200] if i < len(r) and r[i].strip()]
        if not values or sum(_is_number_or_date(v) for v in values) > len(values) / 2:
            continue
        words = sum(len(v.split()) for v in values) / len(values)
        if words >= 4 and words > best_len:
            best, best_len = i, words
    if best is None:
        raise UserError(
            f"This file has no review text column (looked for review, text, comment, body, content, feedback, …); "
            f"its columns are: {shown} — name one with `column: NAME`."
        )
    notes.append(f"No column is named like review text, so I used '{header[best].strip()}'; pick another with `column: NAME`.")
    return best


def _mean_length(rows: list[list[str]], i: int) -> float:
    values = [len(r[i]) for r in rows[:200] if i < len(r)]
    return sum(values) / len(values) if values else 0.0


_NUMBERISH = re.compile(r"^[\s\d.,:/\-+%★☆TZ]*$")


def _is_number_or_date(value: str) -> bool:
    return bool(_NUMBERISH.match(value))


# ---------------------------------------------------------------- entry point


def read_reviews(
    text: str | None = None,
    data: bytes | None = None,
    filename: str | None = None,
    column: str | None = None,
    limit: int = MAX_REVIEWS,
) -> ReviewBatch:
    """Read pasted lines (``text``) and/or an uploaded file (``data``, named ``filename``).

    When both are given the file wins and the text is ignored, except that a ``column:`` must come
    through ``column``. Raises ``UserError`` for empty, binary, undecodable or unusable input.
    """
    notes: list[str] = []
    encoding = "utf-8"
    source = "pasted text"
    if data is not None and len(data) > 0:
        body, encoding = decode(data)
        source = PurePath(filename).name if filename else "uploaded file"
        if text and text.strip():
            notes.append("I read the attached file; the text typed with the command was not analysed.")
        if encoding == "cp1252":
            notes.append("The file is not UTF-8, so I read it as Windows-1252; if letters look wrong, save it as UTF-8 and upload it again.")
    elif data is not None and not (text and text.strip()):
        raise UserError("The uploaded file is empty; attach a CSV or text file with one review per line.")
    else:
        body = text or ""
    body = body.lstrip("\ufeff")
    # One line end everywhere (Windows, classic Mac, stray CRs): the CSV reader rejects a bare CR.
    body = body.replace("\r\n", "\n").replace("\r", "\n")
    if not body.strip():
        raise UserError(
            "There are no reviews to analyse: paste one review per line after /reviews, or attach a CSV or text file."
        )

    json_rows = _json_rows(body, filename)
    if json_rows is not None:
        batch = _read_rows(json_rows, column, notes, limit, "JSON")
        batch.source = source
        batch.encoding = encoding
        return batch

    first_line = next((l for l in body.split("\n") if l.strip()), "")
    delimiter = _sniff_delimiter(first_line, filename)
    first_cells = next(csv.reader([first_line], delimiter=delimiter), [])
    is_csv_name = bool(filename) and filename.lower().endswith((".csv", ".tsv"))
    if is_csv_name or (_header_match(first_cells) and _rows_agree(body, delimiter, len(first_cells))) or (
        column and len(first_cells) > 1
    ):
        batch = _read_csv(body, delimiter, column, notes, limit)
    else:
        if column:
            raise UserError("`column:` only applies to CSV input, and this looks like plain text with one review per line.")
        batch = _read_lines(body, notes, limit)
    batch.source = source
    batch.encoding = encoding
    return batch


def _finish(reviews: list[Review], notes: list[str], limit: int, html_count: int, long_count: int,
            found: int) -> ReviewBatch:
    """``reviews`` are the first ``limit`` at most; ``found`` counts every review in the input."""
    if not reviews:
        raise UserError(
            "There are no reviews to analyse: paste one review per line after /reviews, or attach a CSV or text file."
        )
    if html_count:
        notes.append(f"Removed HTML markup from {html_count:,} review{'s' if html_count != 1 else ''}.")
    if long_count:
        notes.append(f"{long_count:,} very long review{'s were' if long_count != 1 else ' was'} cut to {MAX_REVIEW_CHARS:,} characters.")
    over = found - len(reviews)
    if over:
        notes.append(f"Analysed the first {limit:,} of {found:,} reviews; {over:,} were skipped (limit {limit:,} per request).")
    return ReviewBatch(reviews=reviews, found=found, skipped_over_cap=over, limit=limit, notes=notes)


def _clip(text: str) -> tuple[str, bool]:
    if len(text) <= MAX_REVIEW_CHARS:
        return text, False
    cut = text[:MAX_REVIEW_CHARS].rsplit(" ", 1)[0]
    return cut, True


def _read_lines(body: str, notes: list[str], limit: int) -> ReviewBatch:
    reviews: list[Review] = []
    html_count = long_count = beyond_cap = 0
    for number, raw in enumerate(body.split("\n"), start=1):
        if len(reviews) >= limit:  # past the cap: only counted, not cleaned or kept
            beyond_cap += bool(raw.strip())
            continue
        cleaned, had_html = clean_text(_BULLET.sub("", raw, count=1))
        if not cleaned:
            continue
        cleaned, was_long = _clip(cleaned)
        html_count += had_html
        long_count += was_long
        reviews.append(Review(text=cleaned, line=number))
    return _finish(reviews, notes, limit, html_count, long_count, len(reviews) + beyond_cap)


def _read_csv(body: str, delimiter: str, column: str | None, notes: list[str], limit: int) -> ReviewBatch:
    rows = csv.reader(io.StringIO(body, newline=""), delimiter=delimiter)
    try:
        return _read_rows(rows, column, notes, limit, "CSV")
    except csv.Error as error:
        logger.info("unreadable CSV: %s", error)
        raise UserError("This CSV could not be read (a quote is not closed or a field is too large); check the file and upload it again.") from None


def _json_rows(body: str, filename: str | None) -> Iterable[list[str]] | None:
    """A JSON export as CSV-like rows: a list of strings, or a list of objects (keys are the columns).

    None when the input is not JSON (so it is read as CSV or lines)."""
    stripped = body.lstrip()
    is_json_name = bool(filename) and filename.lower().endswith(".json")
    if not is_json_name and not stripped.startswith(("[", "{")):
        return None
    try:
        value = json.loads(stripped)
    except ValueError:
        if is_json_name:
            raise UserError("This .json file is not valid JSON; upload a JSON list of reviews, a CSV or a text file.") from None
        return None
    if isinstance(value, dict):  # {"reviews": [...]} and similar wrappers
        lists = [v for v in value.values() if isinstance(v, list)]
        value = lists[0] if len(lists) == 1 else None
    if not isinstance(value, list) or not value:
        raise UserError("This JSON holds no list of reviews; upload a JSON list of reviews or objects, a CSV or a text file.")
    if all(isinstance(item, str) for item in value):
        return itertools.chain([["review"]], ([item] for item in value))
    if all(isinstance(item, dict) for item in value):
        keys = list(dict.fromkeys(k for item in value for k in item))
        # Rows are made as they are read, so the ones past the cap are never built.
        return itertools.chain([keys], (["" if item.get(k) is None else str(item.get(k)) for k in keys]
                                        for item in value))
    raise UserError("This JSON list mixes reviews with other values; upload a list of reviews or of objects, a CSV or a text file.")


def _read_rows(rows: Iterable[list[str]], column: str | None, notes: list[str], limit: int, kind: str) -> ReviewBatch:
    """Reviews from the rows of a table (header first), read one row at a time: past ``limit``
    reviews a row is only counted, never cleaned, date-parsed or kept."""
    filled: Iterator[list[str]] = (r for r in rows if any(cell.strip() for cell in r))
    header = next(filled, None)
    if header is None:
        raise UserError(f"The {kind} is empty; it needs a header row and one review per row.")
    sample = list(itertools.islice(filled, SAMPLE_ROWS))  # to choose the columns
    if not sample:
        raise UserError(f"The {kind} has a header row but no reviews under it.")
    text_i = _choose_text_column(header, sample, column, notes)
    rating_i = _find_column(header, RATING_COLUMNS, ("rating", "stars", "score"))
    date_i = _find_column(header, DATE_COLUMNS, ("date", "_at", "_on", "time"))
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
        cleaned, was_long = _clip(cleaned)
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
        notes.append(f"{empty:,} row{'s' if empty != 1 else ''} had no review text and {'were' if empty != 1 else 'was'} left out.")
    batch = _finish(reviews, notes, limit, html_count, long_count, len(reviews) + beyond_cap)
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
            notes.append(f"{bad_dates:,} date{'s' if bad_dates != 1 else ''} in '{batch.date_column}' could not be read and {'were' if bad_dates != 1 else 'was'} ignored.")
        if day_first is None and any(is_numeric_date(r[date_i]) for r in sample[:200] if date_i < len(r)):
            notes.append("Dates like 03/04/2024 were read as month/day/year.")
    return batch


def _rating_scale(values: list[float], stated: list[float]) -> float:
    if stated:
        return max(stated)
    top = max(values)
    return 5.0 if top <= 5 else 10.0 if top <= 10 else 100.0
