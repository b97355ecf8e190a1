"""Reading the rating and date cells of a review export: "4/5", "★★★★☆", "80%", "03/15/2024",
"15.03.2024", "Mar 15, 2024", Unix time... Day-first or month-first is decided per column."""

from __future__ import annotations

import datetime as dt
import re

from dateutil import parser as dateutil_parser

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


_TIME_SUFFIX = re.compile(
    r"[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:[AaPp][Mm])?\s*(?:Z|UTC|GMT|[+-]\d{2}:?\d{2})?$")
_NUMERIC_DATE = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})$")
_CHINESE_DATE = re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(?:(\d{1,2})\s*[日号])?$")
_MONTH_NAME = re.compile(r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\b", re.I)
_YEAR_FIRST = re.compile(r"^\d{4}[/.\-]\d{1,2}[/.\-]\d{1,2}$")
_DEFAULT_A = dt.datetime(1904, 1, 1)
_DEFAULT_B = dt.datetime(1908, 2, 2)


def parse_date(value: str, day_first: bool | None = None) -> dt.date | None:
    value = value.strip()
    if not value:
        return None
    if value.isdigit() and len(value) in (10, 13):  # unix seconds / milliseconds
        seconds = int(value) / (1000 if len(value) == 13 else 1)
        try:
            return dt.datetime.fromtimestamp(seconds, dt.UTC).date()
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
    m = _CHINESE_DATE.match(value)
    if m:
        try:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3) or 1))
        except ValueError:
            return None
    return _worded_date(value, bool(day_first))


def _worded_date(value: str, day_first: bool) -> dt.date | None:
    """"5 March 2024", "Mar 5, 2024", "Tuesday, March 5, 2024", "March 2024" (the 1st) by dateutil,
    but only with a month name or a four-digit year first and a year given: dateutil fills what
    is missing from a default date, so "5" or "Tuesday" alone would otherwise be a date."""
    if not _MONTH_NAME.search(value) and not _YEAR_FIRST.match(value):
        return None
    try:
        # Two different defaults: a part taken from them differs between the two results.
        first = dateutil_parser.parse(value, dayfirst=day_first, default=_DEFAULT_A)
        second = dateutil_parser.parse(value, dayfirst=day_first, default=_DEFAULT_B)
    except (ValueError, OverflowError):
        return None
    if first.year != second.year or first.month != second.month:
        return None  # no year or no month written
    return first.date() if first.day == second.day else first.date().replace(day=1)


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
