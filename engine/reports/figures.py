"""What a weekly report says, as plain data: the adapters render it for their platform.

Only the standard library here: ``engine.types`` names ``WeeklyReport`` in an ``Announcement``.
A report is stored with its claim (``to_json``) so a retried post shows exactly what was claimed.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Period:
    start: datetime  # aware, UTC
    end: datetime  # aware, UTC; exclusive

    def label(self, zone: ZoneInfo) -> str:
        first = self.start.astimezone(zone)
        last = (self.end - timedelta(seconds=1)).astimezone(zone)
        return f"{first:%a %d %b} – {last:%a %d %b %Y}"


@dataclass
class ActivityFigures:
    copies: int = 0  # /copy requests (generations)
    variants: int = 0
    approved: int = 0  # variants whose status is approved, among those made in the period
    rejected: int = 0

    @property
    def approval_rate(self) -> float | None:
        return self.approved / self.variants if self.variants else None

    @property
    def rejection_rate(self) -> float | None:
        return self.rejected / self.variants if self.variants else None


@dataclass
class RisingComplaint:
    """A review theme whose negative share rose clearly week over week (``engine/reviews/alerts.py``)."""

    theme: str
    negative: int
    mentions: int
    previous_negative: int
    previous_mentions: int
    p_value: float
    quote: str = ""
    source: str = ""  # "reviews analysed this week vs last week", or the dated file it was found in

    @property
    def share(self) -> float:
        return self.negative / self.mentions if self.mentions else 0.0

    @property
    def previous_share(self) -> float:
        return self.previous_negative / self.previous_mentions if self.previous_mentions else 0.0


@dataclass
class SentimentFigures:
    batches: int = 0
    reviews: int = 0
    positive: int = 0
    negative: int = 0
    neutral: int = 0
    praise: list[tuple[str, int]] = field(default_factory=list)  # (theme, mentions)
    complaints: list[tuple[str, int]] = field(default_factory=list)
    alerts: list[RisingComplaint] = field(default_factory=list)  # shown first in the report

    @property
    def positive_share(self) -> float | None:
        return self.positive / self.reviews if self.reviews else None


@dataclass(frozen=True)
class FinishedRun:
    """A fine-tune that finished: what it trained and what became of its candidate."""

    name: str
    status: str  # "promoted", "trial" (went into an A/B test) or anything else: not promoted
    train_examples: int
    nll_before: float  # approved-copy NLL of the model it was measured against
    nll_after: float
    parent: str | None  # None: the base model


@dataclass(frozen=True)
class DecidedTrial:
    """A blind A/B test that was decided, with its numbers."""

    candidate: str
    incumbent: str | None  # None: the base model
    won: bool
    candidate_approved: int
    candidate_verdicts: int
    incumbent_approved: int
    incumbent_verdicts: int
    p_value: float


@dataclass(frozen=True)
class ModelNews:
    """The weekly report's word on the workspace's model: the fine-tune that finished in the week
    and the A/B test decided in it. Stored with the report, so plain values only."""

    run: FinishedRun | None = None
    trial: DecidedTrial | None = None
    text: str = ""  # a report claimed by an earlier version stored its sentence as words

    @classmethod
    def from_dict(cls, data: dict | str) -> ModelNews:
        if isinstance(data, str):
            return cls(text=data)
        return cls(run=FinishedRun(**data["run"]) if data.get("run") else None,
                   trial=DecidedTrial(**data["trial"]) if data.get("trial") else None,
                   text=data.get("text", ""))


@dataclass
class WeeklyReport:
    workspace: str
    period: Period
    this_week: ActivityFigures
    last_week: ActivityFigures
    top_variants: list[tuple[str, int]]  # (text, approvals)
    top_approvers: list[tuple[str, int]]  # (user id, approvals)
    model_version: str
    finetune: ModelNews | None  # the week's fine-tune and A/B test, when there was either
    sentiment: SentimentFigures
    sentiment_last_week: SentimentFigures
    zone: str = "UTC"  # the workspace's time zone, for the period's label
    late: bool = False  # posted after the bot was offline at the scheduled time
    so_far: bool = False  # /report: this week until now, not a complete week
    chart: Path | None = None  # PNG of the last weeks

    @property
    def platform(self) -> str:
        return self.workspace.split(":", 1)[0]

    def period_label(self) -> str:
        return self.period.label(ZoneInfo(self.zone))

    def to_json(self) -> str:
        data = asdict(self)
        data["period"] = [self.period.start.isoformat(), self.period.end.isoformat()]
        data["chart"] = str(self.chart) if self.chart else None
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> WeeklyReport:
        data = json.loads(text)
        start, end = (datetime.fromisoformat(moment) for moment in data.pop("period"))
        pairs = lambda rows: [tuple(row) for row in rows]  # noqa: E731 (JSON has no tuples)
        sentiments = {}
        for key in ("sentiment", "sentiment_last_week"):
            figures = data.pop(key)
            sentiments[key] = SentimentFigures(**figures | {
                "praise": pairs(figures["praise"]), "complaints": pairs(figures["complaints"]),
                "alerts": [RisingComplaint(**a) for a in figures.get("alerts", [])]})
        return cls(**data | sentiments | {
            "period": Period(start, end),
            "this_week": ActivityFigures(**data["this_week"]),
            "last_week": ActivityFigures(**data["last_week"]),
            "top_variants": pairs(data["top_variants"]),
            "top_approvers": pairs(data["top_approvers"]),
            "chart": Path(data["chart"]) if data["chart"] else None,
            "finetune": ModelNews.from_dict(data["finetune"]) if data.get("finetune") else None,
        })
