"""A weekly report as chat text, and as a chart image."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from engine.reports.content import WeeklyReport

QUOTE_CHARS = 200


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def _change(now: float | None, before: float | None) -> str:
    if now is None or before is None:
        return ""
    points = round((now - before) * 100)
    return " (same as last week)" if points == 0 else f" ({points:+d} pts vs last week)"


def _who(user: str, platform: str) -> str:
    # Slack and Discord both render <@id> as the person's name; elsewhere the id is all we have.
    return f"<@{user}>" if platform in ("slack", "discord") else user


def render_report(report: WeeklyReport, zone: ZoneInfo, *, late: bool = False, so_far: bool = False,
                  limit: int = 3900) -> str:
    platform = report.workspace.split(":", 1)[0]
    this, last = report.this_week, report.last_week
    heading = "This week so far" if so_far else "Weekly report"
    lines = [f"{heading}: {report.period.label(zone)}" + (" (posted late: the bot was offline)" if late else "")]
    lines.append(f"Copy: {this.copies} request{'s' if this.copies != 1 else ''}, {this.variants} variants "
                 f"(last week {last.copies} / {last.variants}).")
    lines.append(f"Approved {_percent(this.approval_rate)}{_change(this.approval_rate, last.approval_rate)}; "
                 f"rejected {_percent(this.rejection_rate)}{_change(this.rejection_rate, last.rejection_rate)}.")
    if report.top_variants:
        lines.append("Most approved:")
        for rank, (text, approvals) in enumerate(report.top_variants, start=1):
            quote = text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 1] + "…"
            lines.append(f"  {rank}. “{quote}” ({approvals} approval{'s' if approvals != 1 else ''})")
    if report.top_approvers:
        lines.append("Most approvals given: " + ", ".join(
            f"{_who(user, platform)} ({count})" for user, count in report.top_approvers))
    lines.append(f"Model: {report.model_version}." + (f" Last fine-tune: {report.finetune}" if report.finetune else ""))
    s, before = report.sentiment, report.sentiment_last_week
    if s.reviews:
        line = (f"Reviews: {s.reviews} analysed, {_percent(s.positive_share)} positive"
                f"{_change(s.positive_share, before.positive_share)}, {s.negative} negative.")
        if s.praise:
            line += " Praised: " + ", ".join(f"{label} ({n})" for label, n in s.praise) + "."
        if s.complaints:
            line += " Complaints: " + ", ".join(f"{label} ({n})" for label, n in s.complaints) + "."
        lines.append(line)
    text = "\n".join(lines)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_chart(history: list[tuple[str, float | None, float | None]], path: Path) -> Path:
    """A PNG of approval rate and positive review share over the weeks in ``history``
    (label, approval rate, positive share), oldest first."""
    import matplotlib

    matplotlib.use("Agg")  # no display on a server
    from matplotlib import pyplot

    labels = [label for label, _, _ in history]
    approval = [None if rate is None else rate * 100 for _, rate, _ in history]
    positive = [None if share is None else share * 100 for _, _, share in history]
    figure, axes = pyplot.subplots(figsize=(7, 3.2), dpi=110)
    # Numeric x positions: weeks without data are gaps, but still on the axis.
    positions = list(range(len(labels)))
    axes.plot(positions, [float("nan") if v is None else v for v in approval], marker="o",
              label="variants approved %")
    if any(v is not None for v in positive):
        axes.plot(positions, [float("nan") if v is None else v for v in positive], marker="s",
                  label="reviews positive %")
    axes.set_xticks(positions, labels)
    axes.set_xlim(-0.5, len(labels) - 0.5)
    axes.set_ylim(0, 100)
    axes.set_ylabel("%")
    axes.grid(alpha=0.3)
    axes.legend(loc="upper left", fontsize=8)
    axes.set_title("copybot: the last weeks", fontsize=10)
    figure.autofmt_xdate()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial.png")
    figure.savefig(partial, format="png")
    pyplot.close(figure)
    partial.replace(path)
    return path
