"""A ``ReviewSummary`` as one chat message that fits a length limit (Slack ~4,000, Discord 2,000).

``markup``: "plain" (console), "slack" (mrkdwn: *bold*, &lt; escapes) or "markdown" (Discord:
**bold**, escaped markdown). Review text is always neutralised so a quote cannot ping @everyone or
inject a Slack <!channel>.
"""

from __future__ import annotations

import logging
import re

from engine.reviews.summary import ReviewSummary, Theme
from engine.reviews.trend import halves_scores

logger = logging.getLogger(__name__)

SLACK_LIMIT = 4000
DISCORD_LIMIT = 2000
_BARS = "▁▂▃▄▅▆▇█"
_MD_SPECIAL = re.compile(r"([\\*_~`|>#\[\]])")
_MENTION = re.compile(r"@(everyone|here|channel)", re.I)

# (themes per side, quote length, trend rows, list reviews when at most this many)
_LEVELS = ((3, 160, 8, 5), (3, 110, 6, 3), (2, 80, 4, 1), (2, 50, 0, 1), (1, 0, 0, 1), (0, 0, 0, 1))


def render_summary(summary: ReviewSummary, max_chars: int = DISCORD_LIMIT, markup: str = "plain") -> str:
    """The summary as chat text of at most ``max_chars`` characters, dropping detail until it fits."""
    text = ""
    for level in _LEVELS:
        text = _render(summary, markup, *level)
        if len(text) <= max_chars:
            return text
    return text[: max(0, max_chars - 1)].rstrip() + "…"


def _bold(text: str, markup: str) -> str:
    return {"slack": f"*{text}*", "markdown": f"**{text}**"}.get(markup, text)


def _user_text(text: str, markup: str) -> str:
    text = _MENTION.sub("@\u200b\\1", text)
    if markup == "slack":
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if markup == "markdown":
        return _MD_SPECIAL.sub(r"\\\1", text)
    return text


def _note_text(note: str, markup: str) -> str:
    """Our own sentences (they may quote a column name): keep their `code`, neutralise mentions."""
    note = _MENTION.sub("@\u200b\\1", note)
    if markup == "slack":
        return note.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return note


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(" ,;:") + "…"


def _pct(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "0%"


def _theme_lines(title: str, themes: list[Theme], count: int, quote_len: int, markup: str) -> list[str]:
    if not themes or count == 0:
        return []
    lines = [_bold(title, markup)]
    for n, theme in enumerate(themes[:count], start=1):
        mentions = f"{theme.mentions:,} review{'s' if theme.mentions != 1 else ''}"
        lines.append(f"{n}. {_user_text(theme.label, markup)} — {mentions}")
        if quote_len:
            lines.append(f"> “{_user_text(_shorten(theme.quote, quote_len), markup)}”")
    return lines


def _render(s: ReviewSummary, markup: str, themes: int, quote_len: int, trend_rows: int, list_up_to: int) -> str:
    n = s.analysed
    source = _user_text(s.source, markup)
    lines = [_bold(f"Review sentiment — {n:,} review{'s' if n != 1 else ''} ({source})", markup)]
    lines.append(
        f"Positive {_pct(s.positive, n)} ({s.positive:,}) · Neutral {_pct(s.neutral, n)} ({s.neutral:,}) · "
        f"Negative {_pct(s.negative, n)} ({s.negative:,})"
    )
    score = f"{s.score:+d}" if s.score else "0"
    line = f"Net score {score} (−100 all negative … +100 all positive)"
    if s.average_rating is not None and s.rating_scale:
        line += f" · average rating {s.average_rating:.1f} / {s.rating_scale:g}"
    lines.append(line)

    if n <= list_up_to:
        for r in s.reviews:
            if r.label is not None:
                lines.append(f"• {r.label} ({round(100 * (r.confidence or 0))}% sure): “{_user_text(_shorten(r.text, 120), markup)}”")

    for title, found in (("Praised", s.praise), ("Complaints", s.complaints)):
        block = _theme_lines(title, found, themes, quote_len, markup)
        if block:
            lines.append("")
            lines += block

    if s.trend and s.trend_unit:
        halves = halves_scores(s.reviews)
        head = f"Trend by {s.trend_unit}"
        if s.trend_direction and halves:
            head += f": {s.trend_direction} (net {halves[0]:+d} → {halves[1]:+d})"
        lines.append("")
        lines.append(_bold(head, markup) if trend_rows else head)
        if trend_rows:
            rows = s.trend[-trend_rows:]
            body = []
            for p in rows:
                bar = _BARS[min(len(_BARS) - 1, max(0, round((p.score + 100) / 200 * (len(_BARS) - 1))))]
                rating = f" · {p.average_rating:.1f}★" if p.average_rating is not None else ""
                body.append(f"{p.period}  {bar} {p.score:+4d}  {_pct(p.positive, p.reviews)} pos, {p.reviews:,} reviews{rating}")
            if len(s.trend) > len(rows):
                body.insert(0, f"(last {len(rows)} of {len(s.trend)})")
            lines += ["```"] + body + ["```"] if markup != "plain" else body

    if s.notes:
        lines.append("")
        lines += [f"Note: {_note_text(note, markup)}" for note in s.notes]
    return "\n".join(lines)
