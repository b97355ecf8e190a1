"""``/finetune`` and ``/models`` answers, and the weekly report's word on the model, in words: the
engine returns them as data (``FinetuneStatus``, ``FinetuneStart``, ``ModelList``, ``ModelSwitch``,
``ModelNews``); these are plain text that each adapter escapes for its platform like any other reply."""

from __future__ import annotations

from datetime import UTC, datetime

from engine import FinetuneStart, FinetuneStatus, ModelList, ModelNews, ModelSwitch

MAX_LISTED = 10


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "never"


def _minutes(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def _nll_change(version) -> str:
    metrics = version.metrics
    try:
        before, after = metrics["active"]["approved_nll"], metrics["candidate"]["approved_nll"]
    except (KeyError, TypeError):
        return ""
    return f"NLL {before:.2f}→{after:.2f} ({(after - before) / before:+.1%})"


def progress_text(progress) -> str:
    """A run under way (``RunProgress``): what it is doing and how far it is."""
    elapsed = (datetime.now(UTC) - progress.started).total_seconds()
    head = (f"Fine-tune run {progress.run_id or ''} (started by {progress.trigger}, "
            f"{_minutes(elapsed)} ago)").replace("run  (", "run (")
    if progress.phase == "training" and progress.step:
        loss = f", loss {progress.loss:.3f}" if progress.loss is not None else ""
        return (f"{head}: training on {progress.train_examples} examples, step {progress.step} of "
                f"{progress.steps}{loss}, about {_minutes(progress.eta_seconds)} left.")
    return f"{head}: {progress.phase}."


def finetune_status_text(status: FinetuneStatus) -> str:
    if status.running:
        lines = [progress_text(status.running) + " /copy keeps working meanwhile."]
    elif status.machine_busy:
        lines = ["No fine-tune of this workspace is running; the machine is training another "
                 "workspace's model now (one at a time)."]
    else:
        lines = ["No fine-tune is running."]
    run = status.last_run
    if run is not None and (status.running is None or status.running.run_id != run.id):
        lines.append(f"Last run {run.id} ({run.trigger}, {_when(run.finished or run.started)}): "
                     f"{run.message or run.status}")
    lines.append(f"Active model: {status.active}. New approved examples since it: "
                 f"{status.new_examples} ({status.needed} needed for a fine-tune).")
    if not status.enabled:
        lines.append("The weekly schedule is off (COPYBOT_FINETUNE_CRON=off); use /finetune now.")
    elif status.next_run is not None:
        lines.append(f"Next scheduled run: {_when(status.next_run)}.")
    return "\n".join(lines)


def finetune_start_text(start: FinetuneStart) -> str:
    outcome = start.outcome
    if outcome.result is not None:
        return outcome.result.message
    progress = outcome.progress
    if not outcome.started:
        return "A fine-tune is already running. " + progress_text(progress)
    return (f"Started fine-tune run {progress.run_id} on {progress.train_examples} approved examples "
            f"({progress.valid_examples} held out to check it). /copy keeps working meanwhile; "
            f"/finetune status shows progress, and the result is posted to the report channel.")


def model_list_text(models: ModelList) -> str:
    name = models.active.name if models.active else f"base ({models.base})"
    since = f" — since {_when(models.activated[1])}, by {models.activated[0]}" if models.activated else ""
    lines = [f"Active: {name}{since}"]
    if models.trial:
        trial = models.trial
        lines.append(f"{trial.candidate} is in a blind A/B test on {trial.share:.0%} of requests: "
                     f"{trial.candidate_verdicts} and {trial.incumbent_verdicts} of the "
                     f"{trial.verdicts_needed} verdicts each model needs so far.")
    for version in models.versions[:MAX_LISTED]:
        marker = "active" if models.active and version.id == models.active.id else version.status
        parent = version.parent or "base"
        lines.append(f"{version.name}  {marker}, from {parent}, {version.train_examples} examples "
                     f"({version.valid_examples} held out), {_nll_change(version)}, "
                     f"{_when(version.created_at)}")
    if len(models.versions) > MAX_LISTED:
        lines.append(f"… and {len(models.versions) - MAX_LISTED} older versions.")
    lines.append(f"base  {models.base}")
    lines.append("/models use <version or base> switches; /models rollback goes back to the previous one.")
    return "\n".join(lines)


def model_switch_text(switch: ModelSwitch) -> str:
    if switch.rolled_back:
        name = switch.active.name if switch.active else f"the base model ({switch.base})"
        return f"Rolled back: {name} writes your copy again."
    name = switch.active.name if switch.active else f"The base model ({switch.base})"
    if switch.already_active:
        note = "It was already active."
    elif switch.active is not None and switch.active.status == "rejected":
        note = "Its evaluation had not found it better; /models rollback goes back."
    else:
        note = ""
    return f"{name} now writes your copy. {note}".strip()


def _approved(approved: int, verdicts: int) -> str:
    return f"{approved} of {verdicts} approved ({approved / verdicts if verdicts else 0:.0%})"


def model_news_text(news: ModelNews) -> str:
    """One or two sentences for the weekly report: the fine-tune that finished, the A/B test decided."""
    sentences = [news.text] if news.text else []
    if run := news.run:
        change = (f"approved-copy NLL {run.nll_before:.2f} → {run.nll_after:.2f} "
                  f"({(run.nll_after - run.nll_before) / run.nll_before:+.1%})")
        parent = run.parent or "the base model"
        if run.status == "promoted":
            sentences.append(f"{run.name} went live, trained on {run.train_examples} approved examples; {change}.")
        elif run.status == "trial":
            sentences.append(f"candidate {run.name}, trained on {run.train_examples} approved examples ({change}), "
                             f"went into a blind A/B test against {parent}.")
        else:
            sentences.append(f"candidate {run.name} was not promoted ({change}); {parent} stayed.")
    if trial := news.trial:
        sentences.append(
            f"{trial.candidate} {'won' if trial.won else 'did not win'} its A/B test against "
            f"{trial.incumbent or 'the base model'}: {_approved(trial.candidate_approved, trial.candidate_verdicts)} "
            f"vs {_approved(trial.incumbent_approved, trial.incumbent_verdicts)} (p = {trial.p_value:.3f}).")
    return " ".join(sentences)
