"""One fine-tune run of one workspace, from its data to a kept (and maybe active) model version.

Single flight: one run at a time on the machine (training takes the cores). A second trigger for
the workspace being trained gets that run back instead of starting another; another workspace's
trigger is told the machine is busy (the weekly job waits its turn); and a lock file keeps two
copybot processes on one data directory from training at once
(the kernel drops the lock when its process dies, so a crash never leaves it held). Training happens
in a child process (``engine.learning.train``); until that process has finished and its numbers are
in, neither the database nor the active model changes. On any failure the run's work folder is
removed; leftovers from a crash of the bot itself are removed before the next run starts.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import re
import shutil
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from engine.config import EngineConfig
from engine.copy.copywriter import token_budget
from engine.copy.prompts import PromptBook
from engine.errors import UserError
from engine.generation.contract import ServedVersion
from engine.generation.serving import base_name, training_source
from engine.generation.workspace_models import Assignment, WorkspaceModels
from engine.learning.dataset import Dataset, load_dataset
from engine.learning.evaluate import Decision, Scores, decide
from engine.learning.job import LoraShape, TrainingJob
from engine.learning.process import TrainingFailed, TrainingProcess
from engine.learning.run_texts import result_text, trial_start_text
from engine.learning.trials import TrialStore
from engine.learning.versions import ModelVersion, VersionStore, served_key
from engine.store import Store
from engine.types import CopyRequest

logger = logging.getLogger(__name__)

WORK_DIR = "finetune-work"
LOCK_FILE = "finetune.lock"
MIN_FREE_BYTES = 300 * 1024**2  # an adapter is ~10 MB; the rest is room for logs and the OS


def training_threads(config: EngineConfig) -> int:
    """``COPYBOT_FINETUNE_THREADS``, 0 meaning every core: the trainer runs at a lower priority, so
    /copy takes the cores back when it needs them (bench/learning_loop.py measures the cost)."""
    return config.finetune_threads or os.cpu_count() or 1


@dataclass
class RunProgress:
    """What a run is doing now, for ``/finetune status``."""

    trigger: str
    workspace: str
    started: datetime
    run_id: int | None = None
    phase: str = "preparing"  # preparing, loading, training, evaluating, saving, switching
    step: int = 0
    steps: int = 0
    loss: float | None = None
    eta_seconds: float | None = None
    train_examples: int = 0
    valid_examples: int = 0
    pid: int | None = None  # the training process


@dataclass(frozen=True)
class RunResult:
    status: str  # promoted | trial (an A/B test started) | rejected | skipped | failed | busy
    message: str  # for people: the announcement / status line
    run_id: int | None = None
    version: ModelVersion | None = None
    missing: int = 0  # approved examples still needed (skipped runs)


@dataclass(frozen=True)
class StartOutcome:
    started: bool  # False: a run was already under way (``progress``) or none started (``result``)
    progress: RunProgress | None = None
    result: RunResult | None = None


MACHINE_BUSY = ("The machine is training another workspace's model now (one fine-tune at a time); "
                "try /finetune now again when it is done.")


class FinetuneRunner:
    def __init__(self, config: EngineConfig, store: Store, prompts: PromptBook, versions: VersionStore,
                 trials: TrialStore, models_in_use: WorkspaceModels,
                 on_finished: Callable[[RunResult, str, str], Awaitable[None]]) -> None:
        self.config = config
        self.store = store
        self.prompts = prompts
        self.versions = versions
        self.trials = trials
        self.models_in_use = models_in_use
        self._on_finished = on_finished  # (result, trigger, workspace)
        self.progress: RunProgress | None = None
        self.last_result: RunResult | None = None
        self._task: asyncio.Task[RunResult] | None = None
        self._process: TrainingProcess | None = None

    @property
    def work_dir(self) -> Path:
        return self.config.data_dir / WORK_DIR

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    # --- starting and stopping ---------------------------------------------------------------------

    async def start(self, trigger: str, workspace: str) -> StartOutcome:
        """Start a run of ``workspace`` unless one is under way. Returns once the run has started
        training or decided not to (too few examples, another process training, ...)."""
        if self.running:
            current = self.progress
            assert current is not None  # set before the run's task is made
            if current.workspace == workspace:
                return StartOutcome(False, progress=current)
            return StartOutcome(False, result=RunResult("busy", MACHINE_BUSY))
        # No await between the check above and here: two triggers at once start one run.
        progress = RunProgress(trigger=trigger, workspace=workspace, started=datetime.now(UTC))
        self.progress = progress
        ready: asyncio.Future = asyncio.get_running_loop().create_future()
        self._task = asyncio.create_task(self._run(progress, ready), name="copybot-finetune")
        return await asyncio.shield(ready)

    async def run(self, trigger: str, workspace: str) -> RunResult:
        """Start a run of ``workspace`` (or join its run under way) and wait for its result; while
        another workspace's run is under way, wait for it to finish first."""
        outcome = await self.start(trigger, workspace)
        while outcome.result is not None and outcome.result.message == MACHINE_BUSY:
            await self.wait()
            outcome = await self.start(trigger, workspace)
        if outcome.result is not None:
            return outcome.result
        task = self._task
        assert task is not None  # start() made it, or found it running
        return await asyncio.shield(task)

    async def wait(self) -> RunResult | None:
        if self._task is not None:
            await asyncio.wait({self._task})
        return self.last_result

    async def close(self) -> None:
        """Stop a run under way (the bot is shutting down): its process is killed, nothing kept."""
        task = self._task
        if task is not None and not task.done():  # running
            task.cancel()
            await asyncio.wait({task})

    async def recover(self) -> None:
        """At start-up: runs left 'running' by a bot that died are marked failed, and what they
        left on disk is removed (unless another copybot process is training right now)."""
        lock = await asyncio.to_thread(self._try_lock)
        if lock is None:
            return
        try:
            await self._clean_leftovers()
            await self.store.fail_interrupted_runs(datetime.now(UTC))
        finally:
            os.close(lock)

    # --- the run -----------------------------------------------------------------------------------

    async def _run(self, progress: RunProgress, ready: asyncio.Future) -> RunResult:
        lock = None
        cancelled = False
        result = RunResult("failed", "The fine-tune failed unexpectedly; the details are in the log.")
        try:
            lock = await asyncio.to_thread(self._try_lock)
            if lock is None:
                result = RunResult("busy", "Another copybot process is fine-tuning on this data "
                                           "directory; try again when it is done.")
                return result
            await self._clean_leftovers()
            result = await self._prepare_and_train(progress, ready)
            return result
        except asyncio.CancelledError:
            cancelled = True
            result = RunResult("failed", "Stopped: the bot shut down during the fine-tune; the active "
                                         "model is unchanged.", progress.run_id)
            raise
        except TrainingFailed as exc:
            result = RunResult("failed", f"The fine-tune failed: {exc} The active model is unchanged.",
                               progress.run_id)
            return result
        except UserError as exc:
            result = RunResult("failed", str(exc), progress.run_id)
            return result
        except Exception:
            logger.exception("fine-tune run %s failed", progress.run_id)
            return result
        finally:
            if self._process is not None:
                await self._process.kill()
            if progress.run_id is not None:
                await asyncio.to_thread(shutil.rmtree, self.work_dir / f"run-{progress.run_id}",
                                        ignore_errors=True)
                await self._record_end(progress.run_id, result)
            if lock is not None:
                os.close(lock)
            self.last_result = result
            progress.phase = "finished"
            if not ready.done():
                ready.set_result(StartOutcome(False, result=result))
            logger.info("fine-tune run %s: %s — %s", progress.run_id, result.status, result.message)
            if result.status != "busy" and not cancelled:  # at shutdown the adapters are going too
                await self._on_finished(result, progress.trigger, progress.workspace)

    async def _prepare_and_train(self, progress: RunProgress, ready: asyncio.Future) -> RunResult:
        config = self.config
        base, workspace = base_name(config), progress.workspace
        active = await self.versions.active(workspace, base)
        tried_until = await self.versions.newest_cutoff(workspace, base, active)
        dataset = await load_dataset(self.store, workspace, active.data_until if active else None,
                                     tried_until)
        active_name = active.name if active else "the base model"
        reason = await self._trial_running(workspace, base) or self._skip_reason(dataset, active_name)
        if reason is not None:
            skip = RunResult("skipped", reason[0], missing=reason[1])
            progress.run_id = await self._record_start(progress, "skipped", skip.message)
            return skip
        free = (await asyncio.to_thread(shutil.disk_usage, config.data_dir)).free
        if free < MIN_FREE_BYTES:
            raise UserError(f"The fine-tune did not start: only {free // 1024**2} MB are free in "
                            f"{config.data_dir}; free some disk space first.")
        progress.run_id = await self._record_start(progress, "running", "")
        progress.train_examples, progress.valid_examples = len(dataset.train), len(dataset.validation)
        ready.set_result(StartOutcome(True, progress=progress))

        work = self.work_dir / f"run-{progress.run_id}"
        await asyncio.to_thread(work.mkdir, parents=True, exist_ok=True)
        source = await asyncio.to_thread(training_source, config)
        chain = await self.versions.chain(active)
        job = self._job(source, self.versions.adapters(chain), work / "adapter", dataset)
        await asyncio.to_thread(job.write, work / "job.json")
        # Past the training time limit the process still loads and scores; past twice that it is stuck.
        self._process = TrainingProcess(work, training_threads(config), 2 * config.finetune_time_limit + 300)
        metrics = await self._process.run(lambda event: self._update(progress, event))

        metrics["guard"] = {"dropped": dataset.dropped, "one_person": dataset.one_person,
                            "text": dataset.describe_guard()}
        if metrics.get("preference_pairs"):
            metrics["pair_kinds"] = dict(Counter(pair.kind for pair in dataset.pairs))
        decision = decide(Scores.from_dict(metrics["active"]), Scores.from_dict(metrics["candidate"]),
                          config.finetune_margin)
        progress.phase = "switching" if decision.promote else "saving"
        adapter = Path(job.output)
        version = await self._keep(workspace, base, active, chain, adapter, dataset, metrics, decision,
                                   progress)
        decision = Decision(version.status in ("promoted", "trial"), decision.improvement,
                            tuple(version.metrics["decision"]["reasons"]))
        status = version.status if decision.promote else "rejected"
        text = result_text(version, active_name, decision, metrics)
        if status == "trial":
            text = trial_start_text(version, active_name, metrics, decision, self.config)
        return RunResult(status, text, progress.run_id, version)

    async def _trial_running(self, workspace: str, base: str) -> tuple[str, int] | None:
        progress = await self.trials.progress(workspace, base)
        if progress is None:
            return None
        trial, candidate, ours, theirs = progress
        return (f"Fine-tune skipped: {candidate} is still in its A/B test ({ours.verdicts} and "
                f"{theirs.verdicts} of the {trial.verdicts_needed} verdicts each model needs); the "
                f"next fine-tune waits for its result.", 0)

    def _skip_reason(self, dataset: Dataset, active_name: str) -> tuple[str, int] | None:
        needed = self.config.finetune_min_examples
        if dataset.new_examples < needed:
            missing = needed - dataset.new_examples
            return (f"Fine-tune skipped: {dataset.new_examples} new approved "
                    f"example{'s' if dataset.new_examples != 1 else ''} since {active_name}, {needed} "
                    f"needed — approve {missing} more.", missing)
        if dataset.untried_examples == 0:
            return (f"Fine-tune skipped: nothing was approved since the last candidate was tried on "
                    f"{active_name}; approve more copy first.", 1)
        if not dataset.train:
            return "Fine-tune skipped: every new example fell into the validation set; approve a few more.", 1
        return None

    async def _keep(self, workspace: str, base: str, active: ModelVersion | None,
                    chain: list[ModelVersion], adapter: Path, dataset: Dataset, metrics: dict,
                    decision: Decision, progress: RunProgress) -> ModelVersion:
        """Keep the candidate as the workspace's next version; when it passed the offline check, load
        it and serve it to the workspace: alone (no A/B test configured) or in an A/B test beside
        the active model."""
        trial = (self.config.ab_share, self.config.ab_verdicts) if self.config.ab_share > 0 else None
        async with self.models_in_use.lock:
            current = await self.versions.active(workspace, base)
            if decision.promote and (current.id if current else None) != (active.id if active else None):
                # An admin switched models while this trained on the old one: their choice stands.
                decision = Decision(False, decision.improvement,
                                    decision.reasons + ("the active model was changed during the run",))
            prepared = None
            incumbent = self.models_in_use.assignment(workspace).active
            if decision.promote:  # load first: a version that cannot be loaded never goes live
                name = await self.versions.next_name(workspace, base)
                candidate = ServedVersion(served_key(workspace, name), name,
                                          tuple(self.versions.adapters(chain)) + (adapter,))
                prepared = await self.models_in_use.prepare(
                    workspace, Assignment(incumbent, candidate, self.config.ab_share) if trial
                    else Assignment(candidate))  # the trial's id is set once it is recorded
            metrics["decision"] = {"promote": decision.promote, "improvement": decision.improvement,
                                   "reasons": list(decision.reasons)}
            try:
                version = await self.versions.add(
                    workspace=workspace, base=base, parent=active, adapter_dir=adapter,
                    status=("trial" if trial else "promoted") if decision.promote else "rejected",
                    train_examples=len(dataset.train), valid_examples=len(dataset.validation),
                    data_until=dataset.data_until, metrics=metrics, run_id=progress.run_id,
                    activated_by=progress.trigger if decision.promote and not trial else None,
                    trial=trial if decision.promote else None)
            except BaseException:
                if prepared is not None:
                    await self.models_in_use.discard(prepared)
                raise
            if prepared is not None:
                # The generator read the adapter files when it loaded; the next load (another
                # workspace's switch) finds them where the folder moved to.
                served = await self.versions.served(version)
                if trial:
                    running = await self.trials.running(workspace, base)
                    assert running is not None  # versions.add started it, and switches wait for the lock
                    assignment = Assignment(incumbent, served, running.share, running.id)
                else:
                    assignment = Assignment(served)
                self.models_in_use.go_live(replace(
                    prepared, assignments={**prepared.assignments, workspace: assignment}))
            return version

    def _job(self, source: str, adapters: list[Path], output: Path, dataset: Dataset) -> TrainingJob:
        config = self.config
        return TrainingJob(
            base=source, chain=tuple(str(p) for p in adapters), output=str(output),
            train=tuple(e.chat() for e in dataset.train),
            validation=tuple(e.chat() for e in dataset.validation),
            rejected=tuple(e.chat() for e in dataset.rejected),
            pairs=tuple(pair.chat() for pair in dataset.pairs), dpo_beta=config.finetune_dpo_beta,
            clean_prompts=tuple(self._clean_prompts(dataset)),
            lora=LoraShape(rank=config.finetune_lora_rank, alpha=2 * config.finetune_lora_rank),
            epochs=config.finetune_epochs, batch_size=config.finetune_batch_size,
            learning_rate=config.finetune_learning_rate, threads=training_threads(config),
            time_limit=config.finetune_time_limit, precision=config.finetune_precision,
            parent_pid=os.getpid())

    def _clean_prompts(self, dataset: Dataset) -> list[dict]:
        """``finetune_clean_samples`` prompts for the cleanliness check, taken in turn from the
        validation copy (a prompt twice is two independent samples), with their request's limits."""
        usable = []
        for example in dataset.validation[: self.config.finetune_clean_samples]:
            try:
                limits = self.prompts.limits(CopyRequest(**example.request))
            except (TypeError, UserError):  # a preset that no longer exists
                continue
            budget = token_budget(limits.max_words, self.config.max_new_tokens)
            usable.append({"messages": example.messages, "max_new_tokens": budget,
                           "max_words": limits.max_words, "max_chars": limits.max_chars,
                           "multiline": limits.multiline})
        if not usable:
            return []
        return [usable[i % len(usable)] for i in range(self.config.finetune_clean_samples)]

    # --- the training process ----------------------------------------------------------------------

    def _update(self, progress: RunProgress, event: dict) -> None:
        kind, run_id = event.get("event"), progress.run_id
        if kind == "started":
            progress.pid = event["pid"]
            logger.info("fine-tune run %d: training process %d started", run_id, progress.pid)
        elif kind == "phase":
            progress.phase = event.get("phase", progress.phase)
            progress.steps = event.get("steps", progress.steps)
            logger.info("fine-tune run %d: %s", run_id, progress.phase)
        elif kind == "progress":
            progress.step, progress.steps = event["step"], event["steps"]
            progress.loss, progress.eta_seconds = event.get("loss"), event.get("eta")
            if progress.step in (1, progress.steps) or progress.step % 10 == 0:
                logger.info("fine-tune run %d: step %d/%d, loss %.3f, about %.0f s left", run_id,
                            progress.step, progress.steps, progress.loss or 0.0, progress.eta_seconds or 0.0)

    # --- bookkeeping -------------------------------------------------------------------------------

    def _try_lock(self) -> int | None:
        self.config.data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.config.data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        return fd

    async def _clean_leftovers(self) -> None:
        """With the lock held: remove work folders and version folders no database row names
        (a bot that died between moving a folder and committing its row)."""
        known = await self.versions.known_paths()
        await asyncio.to_thread(self._remove_unknown_folders, known)

    def _remove_unknown_folders(self, known: set[str]) -> None:
        shutil.rmtree(self.work_dir, ignore_errors=True)
        folder = self.versions.versions_dir
        if not folder.is_dir():
            return
        data_dir = self.config.data_dir
        # versions/<workspace>/v<n>, and versions/v<n> from before versions were per workspace.
        candidates = [p for p in folder.iterdir() if re.fullmatch(r"v\d+(\.partial)?", p.name)]
        candidates += [p for workspace in folder.iterdir() if workspace.is_dir()
                       and not re.fullmatch(r"v\d+(\.partial)?", workspace.name)
                       for p in workspace.iterdir() if re.fullmatch(r"v\d+(\.partial)?", p.name)]
        for path in candidates:
            if path.name.endswith(".partial") or str(path.relative_to(data_dir)) not in known:
                logger.warning("removing %s, left by an interrupted fine-tune", path)
                shutil.rmtree(path, ignore_errors=True)

    async def _record_start(self, progress: RunProgress, status: str, message: str) -> int:
        return await self.store.record_run_start(
            progress.workspace, progress.trigger, status, message,
            None if status == "running" else datetime.now(UTC))

    async def _record_end(self, run_id: int, result: RunResult) -> None:
        if result.status not in ("promoted", "trial", "rejected", "failed"):
            return
        try:
            await self.store.record_run_end(run_id, result.status, result.message,
                                            result.version.id if result.version else None,
                                            datetime.now(UTC))
        except Exception:
            logger.exception("could not record the end of fine-tune run %d", run_id)
