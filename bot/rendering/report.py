"""A ``WeeklyReport`` as chat text: the week's copy, approvals, top variants, model and reviews."""

from __future__ import annotations

from bot.rendering.learning import model_news_text
from bot.rendering.markup import Markup
from engine import WeeklyReport

QUOTE_CHARS = 200
REPORT_CHARS = 3900  # at most; Discord posts it as two messages, Slack as one


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def _change(now: float | None, before: float | None) -> str:
    if now is None or before is None:
        return ""
    points = round((now - before) * 100)
    return " (same as last week)" if points == 0 else f" ({points:+d} pts vs last week)"


def report_text(report: WeeklyReport, markup: Markup, limit: int = REPORT_CHARS) -> str:
    this, last = report.this_week, report.last_week
    heading = "This week so far" if report.so_far else "Weekly report"
    lines = [f"{heading}: {report.period_label()}"
             + (" (posted late: the bot was offline)" if report.late else "")]
    # Rising complaints come first: they are what someone should act on this week.
    for alert in report.sentiment.alerts:
        line = (f"⚠ Alert: complaints about {markup.user_text(alert.theme)} rose to {alert.share:.0%} negative "
                f"({alert.negative} of {alert.mentions}) from {alert.previous_share:.0%} "
                f"({alert.previous_negative} of {alert.previous_mentions}); "
                f"Fisher exact p = {alert.p_value:.2g} ({markup.user_text(alert.source)}).")
        if alert.quote:
            quote = alert.quote if len(alert.quote) <= QUOTE_CHARS else alert.quote[: QUOTE_CHARS - 1] + "…"
            line += f" “{markup.user_text(quote)}”"
        lines.append(line)
    lines.append(f"Copy: {this.copies} request{'s' if this.copies != 1 else ''}, {this.variants} variants "
                 f"(last week {last.copies} / {last.variants}).")
    lines.append(f"Approved {_percent(this.approval_rate)}{_change(this.approval_rate, last.approval_rate)}; "
                 f"rejected {_percent(this.rejection_rate)}{_change(this.rejection_rate, last.rejection_rate)}.")
    if report.top_variants:
        lines.append("Most approved:")
        for rank, (text, approvals) in enumerate(report.top_variants, start=1):
            quote = text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 1] + "…"
            lines.append(f"  {rank}. “{markup.user_text(quote)}” "
                         f"({approvals} approval{'s' if approvals != 1 else ''})")
    if report.top_approvers:
        lines.append("Most approvals given: " + ", ".join(
            f"{markup.mention(user)} ({count})" for user, count in report.top_approvers))
    lines.append(f"Model: {markup.own_text(report.model_version)}."
                 + (f" Last fine-tune: {markup.own_text(model_news_text(report.finetune))}" if report.finetune else ""))
    s, before = report.sentiment, report.sentiment_last_week
    if s.reviews:
        line = (f"Reviews: {s.reviews} analysed, {_percent(s.positive_share)} positive"
                f"{_change(s.positive_share, before.positive_share)}, {s.negative} negative.")
        if s.praise:
            line += " Praised: " + ", ".join(f"{markup.user_text(label)} ({n})" for label, n in s.praise) + "."
        if s.complaints:
            line += " Complaints: " + ", ".join(
                f"{markup.user_text(label)} ({n})" for label, n in s.complaints) + "."
        lines.append(line)
    text = "\n".join(lines)
    return text if len(text) <= limit else text[: limit - 1] + "…"
