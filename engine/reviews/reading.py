"""Turn pasted text or an uploaded file into a ``ReviewBatch``.

Decoding (``decoding.py``), then JSON or CSV (``tables.py``, its columns chosen in ``columns.py``)
or one review per line; each review cleaned (``review_text.py``); and the caps: rows are read one at
a time, and past ``MAX_REVIEWS`` they are only counted. This is CPU work on possibly many
megabytes: callers on an event loop run it in a thread. Every problem the user can fix raises
``UserError`` with one sentence.
"""

from __future__ import annotations

import csv
import re
from pathlib import PurePath

from engine.errors import UserError
from engine.reviews.columns import header_match, rows_agree, sniff_delimiter
from engine.reviews.decoding import LEGACY_ENCODINGS, MAX_INPUT_BYTES, decode, encoding_name  # noqa: F401 (MAX_INPUT_BYTES: re-exported)
from engine.reviews.review_text import clean_text, clip, finish_batch
from engine.reviews.summary import Review, ReviewBatch
from engine.reviews.tables import json_rows, read_csv, read_rows

#: reviews analysed per request; the rest are counted and reported as skipped
MAX_REVIEWS = 5000

_BULLET = re.compile(r"^\s*(?:[-*•·–—]\s+|\d{1,4}[.)]\s+)")


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
        if encoding in LEGACY_ENCODINGS:
            notes.append(f"The file is not UTF-8, so I read it as {encoding_name(encoding)}; if letters look "
                         "wrong, save it as UTF-8 and upload it again.")
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

    rows = json_rows(body, filename)
    if rows is not None:
        batch = read_rows(rows, column, notes, limit, "JSON")
        batch.source = source
        batch.encoding = encoding
        return batch

    lines = [line for line in body.split("\n", 40)[:40] if line.strip()]
    first_line = lines[0] if lines else ""
    delimiter = sniff_delimiter("\n".join(lines[:20]), filename)
    first_cells = next(csv.reader([first_line], delimiter=delimiter), [])
    is_csv_name = filename is not None and filename.lower().endswith((".csv", ".tsv"))
    if is_csv_name or (header_match(first_cells) and rows_agree(body, delimiter, len(first_cells))) or (
        column and len(first_cells) > 1
    ):
        batch = read_csv(body, delimiter, column, notes, limit)
    else:
        if column:
            raise UserError("`column:` only applies to CSV input, and this looks like plain text with one review "
                            "per line.")
        batch = _read_lines(body, notes, limit)
    batch.source = source
    batch.encoding = encoding
    return batch


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
        cleaned, was_long = clip(cleaned)
        html_count += had_html
        long_count += was_long
        reviews.append(Review(text=cleaned, line=number))
    return finish_batch(reviews, notes, limit, html_count, long_count, len(reviews) + beyond_cap)
