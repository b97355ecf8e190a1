"""Which columns of a table hold what: the review text (by name, by hint, or the column that
clearly holds free text), the rating and the date; and whether pasted text is a table at all."""

from __future__ import annotations

import csv
import re

from engine.errors import UserError

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


DELIMITERS = ",;\t|"


def normalise(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


def sniff_delimiter(sample: str, filename: str | None) -> str:
    """The delimiter of a CSV whose first lines are ``sample``: csv.Sniffer picks the one that
    splits the lines consistently; when it cannot tell, the one that splits the first line most."""
    if filename and filename.lower().endswith(".tsv"):
        return "\t"
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        pass
    first_line = sample.split("\n", 1)[0]
    best, most = ",", 0
    for delimiter in DELIMITERS:
        fields = next(csv.reader([first_line], delimiter=delimiter), [])
        if len(fields) > most:
            best, most = delimiter, len(fields)
    return best


def header_match(cells: list[str]) -> bool:
    names = {normalise(c) for c in cells}
    return bool(names & set(TEXT_COLUMNS)) and len(cells) > 1


def rows_agree(body: str, delimiter: str, fields: int) -> bool:
    """Whether the lines after a header-like first line have as many fields (a pasted CSV, not prose)."""
    lines = [line for line in body.split("\n")[1:40] if line.strip()][:10]
    if not lines:
        return True
    same = sum(len(next(csv.reader([line], delimiter=delimiter), [])) == fields for line in lines)
    return same * 2 >= len(lines)


def find_column(header: list[str], names: tuple[str, ...], parts: tuple[str, ...] = ()) -> int | None:
    """The first column named exactly like one of ``names``, else the first whose name contains a part."""
    normalised = [normalise(h) for h in header]
    for name in names:
        if name in normalised:
            return normalised.index(name)
    for i, name in enumerate(normalised):
        if any(part in name for part in parts):
            return i
    return None


def choose_text_column(header: list[str], rows: list[list[str]], given: str | None, notes: list[str]) -> int:
    normalised = [normalise(h) for h in header]
    shown = ", ".join(h.strip() or "(blank)" for h in header[:12]) + (", …" if len(header) > 12 else "")
    if given:
        want = normalise(given)
        if want in normalised:
            return normalised.index(want)
        raise UserError(f"This file has no column named '{given}'; its columns are: {shown}.")
    exact = find_column(header, TEXT_COLUMNS)
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
    notes.append(f"No column is named like review text, so I used '{header[best].strip()}'; pick another with "
                 "`column: NAME`.")
    return best


def _mean_length(rows: list[list[str]], i: int) -> float:
    values = [len(r[i]) for r in rows[:200] if i < len(r)]
    return sum(values) / len(values) if values else 0.0


_NUMBERISH = re.compile(r"^[\s\d.,:/\-+%★☆TZ]*$")


def _is_number_or_date(value: str) -> bool:
    return bool(_NUMBERISH.match(value))
