"""Reading the rating and date cells of a review export: "4/5", "★★★★☆", "80%", "03/15/2024",
"15.03.2024", "Mar 15, 2024", Unix time... Day-first or month-first is decided per column."""

from __future__ import annotations

import datetime as dt
import re

_STARS = re.compile(r"^[★☆⭐✩✭\s]+$")
_FRACTION = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*(?:/|out of|of)\s*(\d+)\s*$", re.I)
_NUMBER = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*(?:stars?|%|points?)?\s*$", re.I)


def parse_rating(value: str) -> tuple[float | None, float | None]:
    """(value, scale-if-stated). '4', '4.5', '4,5', '4/5', '4 stars', '★★★★☆', '80%'."""
    value = value.strip()
    if not value:
        return None, None
    if _STARS.match(value):
        filled = sum(value.count(c) for c in "★⭐✭")
        return float(filled), float(filled + value.count("☆") + value.count("✩")) or None
    m = _FRACTION.match(value)
    if m:
        return float(m.group(1).replace(",", ".")), float(m.group(2))
    m = _NUMBER.match(value)
    if m:
        scale = 100.0 if value.endswith("%") else None
        return float(m.group(1).replace(",", ".")), scale
    return None, None


_TIME_SUFFIX = re.compile(r"[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:[AaPp][Mm])?\s*(?:Z|UTC|GMT|[+-]\d{2}:?\d{2})?$")
_NUMERIC_DATE = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})$")
_WORD_FORMATS = ("%d %B %Y", "%d %b %Y", "%B %d, %Y", "%b %d, %Y", "%B %d %Y", "%b %d %Y", "%d-%b-%Y",
                 "%d %b, %Y", "%a, %d %b %Y", "%A, %B %d, %Y", "%b %Y", "%B %Y", "%Y/%m/%d", "%Y.%m.%d")


def parse_date(value: str, day_first: bool | None = None) -> dt.date | None:
    value = value.strip()
    if not value:
        return None
    if value.isdigit() and len(value) in (10, 13):  # unix seconds / milliseconds
        seconds = int(value) / (1000 if len(value) == 13 else 1)
        try:
            return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).date()
        except (OverflowError, OSError, ValueError):
            return None
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError:
        pass
    value = _TIME_SUFFIX.sub("", value).strip()
    m = _NUMERIC_DATE.match(value)
    if m:
        a, b, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if year < 100:
            year += 2000
        day, month = (a, b) if day_first else (b, a)
        try:
            return dt.date(year, month, day)
        except ValueError:
            return None
    for fmt in ("%Y-%m-%d",) + _WORD_FORMATS:
        try:
            return dt.datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    return None


def day_first(values: list[str]) -> bool | None:
    """Decide dd/mm vs mm/dd for a whole column: a first number above 12 means day first."""
    first_big = second_big = False
    for v in values:
        m = _NUMERIC_DATE.match(_TIME_SUFFIX.sub("", v.strip()).strip())
        if m:
            first_big |= int(m.group(1)) > 12
            second_big |= int(m.group(2)) > 12
    if first_big and not second_big:
        return True
    if second_big and not first_big:
        return False
    return None


def is_numeric_date(value: str) -> bool:
    """True for dates written only in numbers (03/04/2024), which may be day- or month-first."""
    return bool(_NUMERIC_DATE.match(_TIME_SUFFIX.sub("", value.strip()).strip()))
