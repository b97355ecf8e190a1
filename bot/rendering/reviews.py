"""A ``ReviewSummary`` as one chat message that fits a length limit (Slack ~4,000, Discord 2,000),
dropping detail (fewer themes, shorter quotes, fewer trend rows) until it fits."""

from __future__ import annotations

from bot.rendering.markup import Markup
from engine import ReviewSummary

_BARS = "▁▂▃▄▅▆▇█"
# (themes per side, quote length, trend rows, list reviews when at most this many)
_LEVELS = ((3, 160, 8, 5), (3, 110, 6, 3), (2, 80, 4, 1), (2, 50, 0, 1), (1, 0, 0, 1), (0, 0, 0, 1))


def summary_text(summary: ReviewSummary, max_chars: int, markup: Markup) -> str:
    """The summary as chat text of at most ``max_chars`` characters."""
    text = ""
    for level in _LEVELS:
        text = _render(summary, markup, *level)
        if len(text) <= max_chars:
            return text
    return text[: max(0, max_chars - 1)].rstrip() + "…"


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(" ,;:") + "…"


def _pct(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "0%"


def _theme_lines(title: str, themes: list, count: int, quote_len: int, markup: Markup) -> list[str]:
    if not themes or count == 0:
        return []
    lines = [markup.bold(title)]
    for n, theme in enumerate(themes[:count], start=1):
        mentions = f"{theme.mentions:,} mention{'s' if theme.mentions != 1 else ''}"
        lines.append(f"{n}. {markup.user_text(theme.label)} — {mentions}, {_leaning(theme)}")
        if quote_len:
            lines.append(f"> “{markup.user_text(_shorten(theme.quote, quote_len))}”")
    return lines


def _leaning(theme) -> str:
    """"80% negative", "mostly positive": the sentiment of the clauses that mention the theme."""
    if not theme.mentions:
        return "no sentiment"
    negative, positive = theme.negative_share, theme.positive_share
    if negative >= 0.5:
        return f"{negative:.0%} negative"
    if positive >= 0.8:
        return "mostly positive"
    return f"{positive:.0%} positive, {negative:.0%} negative"


def _alert_lines(s: ReviewSummary, markup: Markup, quote_len: int) -> list[str]:
    lines = []
    for a in s.alerts:
        lines.append(markup.bold(f"⚠ Rising complaints: {markup.user_text(a.theme)}") +
                     f" — {a.share:.0%} negative in {a.week} ({a.negative} of {a.mentions}) vs "
                     f"{a.previous_share:.0%} in {a.previous_week} ({a.previous_negative} of {a.previous_mentions}); "
                     f"Fisher exact p = {a.p_value:.2g}")
        if quote_len and a.quote:
            lines.append(f"> “{markup.user_text(_shorten(a.quote, quote_len))}”")
    return lines


def _render(s: ReviewSummary, markup: Markup, themes: int, quote_len: int, trend_rows: int,
            list_up_to: int) -> str:
    n = s.analysed
    lines = [markup.bold(f"Review sentiment — {n:,} review{'s' if n != 1 else ''} "
                         f"({markup.user_text(s.source)})")]
    lines += _alert_lines(s, markup, quote_len)  # first: what needs acting on this week
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
                lines.append(f"• {r.label} ({round(100 * (r.confidence or 0))}% sure): "
                             f"“{markup.user_text(_shorten(r.text, 120))}”")

    if len(s.languages) > 1:
        lines.append("Languages: " + ", ".join(f"{name} {count:,}" for name, count in
                                               sorted(s.languages.items(), key=lambda kv: -kv[1])))
    for title, found in (("Praised", s.praise), ("Complaints", s.complaints)):
        block = _theme_lines(title, found, themes, quote_len, markup)
        if block:
            lines.append("")
            lines += block

    if s.trend and s.trend_unit:
        halves = s.trend_halves
        head = f"Trend by {s.trend_unit}"
        if s.trend_direction and halves:
            head += f": {s.trend_direction} (net {halves[0]:+d} → {halves[1]:+d})"
        lines.append("")
        lines.append(markup.bold(head) if trend_rows else head)
        if trend_rows:
            rows = s.trend[-trend_rows:]
            body = []
            for p in rows:
                bar = _BARS[min(len(_BARS) - 1, max(0, round((p.score + 100) / 200 * (len(_BARS) - 1))))]
                rating = f" · {p.average_rating:.1f}★" if p.average_rating is not None else ""
                body.append(f"{p.period}  {bar} {p.score:+4d}  {_pct(p.positive, p.reviews)} pos, "
                            f"{p.reviews:,} reviews{rating}")
            if len(s.trend) > len(rows):
                body.insert(0, f"(last {len(rows)} of {len(s.trend)})")
            lines += ["```"] + body + ["```"] if markup.code_blocks else body

    if s.notes:
        lines.append("")
        lines += [f"Note: {markup.own_text(note)}" for note in s.notes]
    return "\n".join(lines)
