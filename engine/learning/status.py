"""What ``/finetune`` and ``/models`` answer: small dataclasses that can say themselves in a few lines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from engine.learning.runner import RunProgress, RunResult, StartOutcome
from engine.learning.versions import ModelVersion

MAX_LISTED = 10


def _when(moment: datetime | None) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC") if moment else "never"


def _minutes(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def _nll_change(version: ModelVersion) -> str:
    metrics = version.metrics
    try:
        before, after = metrics["active"]["approved_nll"], metrics["candidate"]["approved_nll"]
    except (KeyError, TypeError):
        return ""
    return f"NLL {before:.2f}→{after:.2f} ({(after - before) / before:+.1%})"


def progress_text(progress: RunProgress) -> str:
    elapsed = (datetime.now(timezone.utc) - progress.started).total_seconds()
    head = (f"Fine-tune run {progress.run_id or ''} (started by {progress.trigger}, "
            f"{_minutes(elapsed)} ago)").replace("run  (", "run (")
    if progress.phase == "training" and progress.step:
        loss = f", loss {progress.loss:.3f}" if progress.loss is not None else ""
        return (f"{head}: training on {progress.train_examples} examples, step {progress.step} of "
                f"{progress.steps}{loss}, about {_minutes(progress.eta_seconds)} left.")
    return f"{head}: {progress.phase}."


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

    def describe(self) -> str:
        if self.running:
            lines = [progress_text(self.running) + " /copy keeps working meanwhile."]
        elif self.machine_busy:
            lines = ["No fine-tune of this workspace is running; the machine is training another "
                     "workspace's model now (one at a time)."]
        else:
            lines = ["No fine-tune is running."]
        if self.last_run is not None and (self.running is None or self.running.run_id != self.last_run.id):
            run = self.last_run
            lines.append(f"Last run {run.id} ({run.trigger}, {_when(run.finished or run.started)}): "
                         f"{run.message or run.status}")
        lines.append(f"Active model: {self.active}. New approved examples since it: "
                     f"{self.new_examples} ({self.needed} needed for a fine-tune).")
        if not self.enabled:
            lines.append("The weekly schedule is off (COPYBOT_FINETUNE_CRON=off); use /finetune now.")
        elif self.next_run is not None:
            lines.append(f"Next scheduled run: {_when(self.next_run)}.")
        return "\n".join(lines)


@dataclass(frozen=True)
class ModelList:
    base: str
    active: ModelVersion | None
    activated: tuple[str, datetime] | None  # by whom and when the active version was switched to
    versions: list[ModelVersion]  # newest first
    trial: str | None = None  # the A/B test under way, in words

    def describe(self) -> str:
        name = self.active.name if self.active else f"base ({self.base})"
        since = f" — since {_when(self.activated[1])}, by {self.activated[0]}" if self.activated else ""
        lines = [f"Active: {name}{since}"]
        if self.trial:
            lines.append(self.trial)
        for version in self.versions[:MAX_LISTED]:
            marker = "active" if self.active and version.id == self.active.id else version.status
            parent = version.parent or "base"
            lines.append(f"{version.name}  {marker}, from {parent}, {version.train_examples} examples "
                         f"({version.valid_examples} held out), {_nll_change(version)}, "
                         f"{_when(version.created_at)}")
        if len(self.versions) > MAX_LISTED:
            lines.append(f"… and {len(self.versions) - MAX_LISTED} older versions.")
        lines.append(f"base  {self.base}")
        lines.append("/models use <version or base> switches; /models rollback goes back to the previous one.")
        return "\n".join(lines)


@dataclass(frozen=True)
class ModelSwitch:
    active: ModelVersion | None
    base: str
    note: str = ""
    rolled_back: bool = False

    def describe(self) -> str:
        if self.rolled_back:
            name = self.active.name if self.active else f"the base model ({self.base})"
            text = f"Rolled back: {name} writes your copy again."
        else:
            name = self.active.name if self.active else f"The base model ({self.base})"
            text = f"{name} now writes your copy."
        return f"{text} {self.note}".strip()


def start_text(outcome: StartOutcome) -> str:
    if outcome.result is not None:
        return outcome.result.message
    progress = outcome.progress
    if not outcome.started:
        return "A fine-tune is already running. " + progress_text(progress)
    return (f"Started fine-tune run {progress.run_id} on {progress.train_examples} approved examples "
            f"({progress.valid_examples} held out to check it). /copy keeps working meanwhile; "
            f"/finetune status shows progress, and the result is posted to the report channel.")


@dataclass(frozen=True)
class FinetuneStart:
    outcome: StartOutcome

    @property
    def result(self) -> RunResult | None:
        return self.outcome.result

    def describe(self) -> str:
        return start_text(self.outcome)
