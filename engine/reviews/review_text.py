"""One review's text, cleaned (HTML and entities removed, whitespace collapsed, very long ones cut),
and a batch's notes on what cleaning did."""

from __future__ import annotations

import html
import re

from engine.errors import UserError
from engine.reviews.summary import Review, ReviewBatch

#: longer reviews are cut (the model reads at most 256 tokens anyway)
MAX_REVIEW_CHARS = 4000

_SCRIPT_STYLE = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.I | re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?/?>")
_SPACE = re.compile(r"\s+")


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


def clip(text: str) -> tuple[str, bool]:
    if len(text) <= MAX_REVIEW_CHARS:
        return text, False
    cut = text[:MAX_REVIEW_CHARS].rsplit(" ", 1)[0]
    return cut, True


def finish_batch(reviews: list[Review], notes: list[str], limit: int, html_count: int, long_count: int,
            found: int) -> ReviewBatch:
    """``reviews`` are the first ``limit`` at most; ``found`` counts every review in the input."""
    if not reviews:
        raise UserError(
            "There are no reviews to analyse: paste one review per line after /reviews, or attach a CSV or text file."
        )
    if html_count:
        notes.append(f"Removed HTML markup from {html_count:,} review{'s' if html_count != 1 else ''}.")
    if long_count:
        were = "s were" if long_count != 1 else " was"
        notes.append(f"{long_count:,} very long review{were} cut to {MAX_REVIEW_CHARS:,} characters.")
    over = found - len(reviews)
    if over:
        notes.append(f"Analysed the first {limit:,} of {found:,} reviews; {over:,} were skipped "
                     f"(limit {limit:,} per request).")
    return ReviewBatch(reviews=reviews, found=found, skipped_over_cap=over, limit=limit, notes=notes)
