"""What ``/finetune`` and ``/models`` answer, as data; ``bot/rendering/learning.py`` says it in words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from engine.learning.runner import RunProgress, RunResult, StartOutcome
from engine.learning.versions import ModelVersion


@dataclass(frozen=True)
class RunRecord:
    id: int
    trigger: str
    status: str
    message: str
    started: datetime
    finished: datetime | None


@dataclass(frozen=True)
class FinetuneStatus:
    running: RunProgress | None
    last_run: RunRecord | None
    active: str
    new_examples: int
    needed: int
    next_run: datetime | None
    enabled: bool = True
    machine_busy: bool = False  # another workspace's fine-tune is training (one at a time)


@dataclass(frozen=True)
class TrialProgress:
    """The workspace's blind A/B test under way: how many verdicts each model has of those needed."""

    candidate: str
    share: float  # of /copy requests that mix in the candidate's variants
    candidate_verdicts: int
    incumbent_verdicts: int
    verdicts_needed: int


@dataclass(frozen=True)
class ModelList:
    base: str
    active: ModelVersion | None
    activated: tuple[str, datetime] | None  # by whom and when the active version was switched to
    versions: list[ModelVersion]  # newest first
    trial: TrialProgress | None = None


@dataclass(frozen=True)
class ModelSwitch:
    active: ModelVersion | None  # None: the base model
    base: str
    already_active: bool = False  # nothing changed
    rolled_back: bool = False


@dataclass(frozen=True)
class FinetuneStart:
    outcome: StartOutcome

    @property
    def result(self) -> RunResult | None:
        return self.outcome.result
