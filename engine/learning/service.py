"""The learning loop as the engine uses it: start and watch fine-tunes, list and switch model versions.

Everything here is per workspace: a workspace's fine-tune learns from its own team's approvals only,
its versions are served to it only (``WorkspaceModels``), and what happened is announced in its own
report channel only. Every model switch (a promotion, ``/models use``, ``/models rollback``) loads
the new model first, then records it, then hands it to the generator (``WorkspaceModels``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from engine.config import EngineConfig
from engine.copy.prompts import PromptBook
from engine.errors import UserError
from engine.generation.serving import base_name
from engine.generation.workspace_models import Assignment, WorkspaceModels, Writer
from engine.learning.dataset import load_dataset
from engine.learning.evidence import EvidenceWatcher, assignment_of
from engine.learning.runner import FinetuneRunner, RunResult
from engine.learning.status import FinetuneStart, FinetuneStatus, ModelList, ModelSwitch, RunRecord, TrialProgress
from engine.learning.trials import Tally, TrialStore
from engine.learning.versions import VersionStore
from engine.reports.figures import DecidedTrial, FinishedRun, ModelNews
from engine.store import Store, parse_utc_text, utc_text
from engine.types import Announcement

logger = logging.getLogger(__name__)

SCHEDULE_TRIGGER = "schedule"


class Learning:
    def __init__(self, config: EngineConfig, store: Store, prompts: PromptBook, generator,
                 announce: Callable[[Announcement], Awaitable[bool]],
                 count_run: Callable[[str], None] | None = None) -> None:
        self.config = config
        self.store = store
        self.base = base_name(config)
        self.versions = VersionStore(store, config.data_dir)
        self.trials = TrialStore(store)
        self.models_in_use = WorkspaceModels(config, generator)
        self._announce = announce
        self._count_run = count_run
        self.runner = FinetuneRunner(config, store, prompts, self.versions, self.trials,
                                     self.models_in_use, self._finished)
        self.evidence = EvidenceWatcher(config, self.base, self.versions, self.trials,
                                        self.models_in_use, self._switch, self.announce_to)
        # When the next scheduled run is; the engine sets it once the scheduler has the job.
        self.next_run: Callable[[], datetime | None] = lambda: None

    @property
    def local(self) -> bool:
        return self.config.backend == "local"

    def _require_local(self) -> None:
        if not self.local:
            raise UserError("Fine-tunes and model versions are for the local model; with "
                            "COPYBOT_BACKEND=openai, fine-tune on the model server (copybot export "
                            "writes the approved examples).")

    def model_for(self, workspace: str) -> str | None:
        """The served version the generator is asked for on the workspace's behalf (None: base)."""
        return self.models_in_use.key_for(workspace)

    def model_name(self, workspace: str) -> str:
        """The name of the model writing the workspace's copy ("v2", or the base model's)."""
        return self.models_in_use.name_for(workspace)

    def writers(self, workspace: str, n: int) -> list[Writer]:
        """Who writes the workspace's next /copy of ``n`` (both models, in an A/B test)."""
        return self.models_in_use.writers(workspace, n)

    def verdict_changed(self, workspace: str) -> None:
        """A variant of the workspace was approved or rejected: A/B tests and rollbacks look."""
        if self.local:
            self.evidence.verdict_changed(workspace)

    async def recover(self) -> None:
        await self.runner.recover()
        if not self.local:
            return
        active = {}
        for version in await self.versions.active_everywhere(self.base):
            assert version.workspace is not None  # activations since 0007 name their workspace's versions
            active[version.workspace] = await self._served_or_none(version)
        trials = {t.workspace: t for t in await self.trials.running_everywhere(self.base)}
        assignments = {}
        for workspace in set(active) | set(trials):
            trial = trials.get(workspace)
            candidate = (await self._served_or_none(await self.versions.referenced(trial.candidate_id))
                         if trial else None)
            assignments[workspace] = assignment_of(active.get(workspace), candidate, trial)
        self.models_in_use.start_serving(assignments)

    async def _served_or_none(self, version):
        try:
            return await self.versions.served(version)
        except UserError:  # already logged when the generator was loaded
            return None

    async def close(self) -> None:
        await self.evidence.close()
        await self.runner.close()

    # --- fine-tunes ---------------------------------------------------------------------------------

    async def start(self, workspace: str, by: str) -> FinetuneStart:
        self._require_local()
        return FinetuneStart(await self.runner.start(by, workspace))

    async def run_scheduled(self) -> list[RunResult]:
        """The weekly job: every workspace in turn, one run at a time (a workspace with too few new
        approvals is told so in its report channel)."""
        if not self.local:
            logger.info("scheduled fine-tune skipped: the generator is not the local model")
            return []
        results = []
        for workspace in await self.store.workspace_ids():
            results.append(await self.runner.run(SCHEDULE_TRIGGER, workspace))
        return results

    async def status(self, workspace: str) -> FinetuneStatus:
        self._require_local()
        active = await self.versions.active(workspace, self.base)
        dataset = await load_dataset(self.store, workspace, active.data_until if active else None)
        row = await self.store.latest_finetune_run(workspace)
        last = None if row is None else RunRecord(
            row["id"], row["trigger"], row["status"], row["message"], parse_utc_text(row["started_at"]),
            parse_utc_text(row["finished_at"]) if row["finished_at"] else None)
        progress = self.runner.progress if self.runner.running else None
        ours = progress is not None and progress.workspace == workspace
        return FinetuneStatus(
            running=progress if ours else None, last_run=last,
            active=active.name if active else f"base ({self.base})",
            new_examples=dataset.new_examples, needed=self.config.finetune_min_examples,
            next_run=self.next_run(), enabled=self.config.finetune_cron.strip().lower() != "off",
            machine_busy=progress is not None and not ours)

    async def _finished(self, result: RunResult, trigger: str, workspace: str) -> None:
        if self._count_run is not None:
            self._count_run(result.status)
        # A person who asked sees a skip in their reply; the channel hears about scheduled skips.
        if result.status == "skipped" and trigger != SCHEDULE_TRIGGER:
            return
        await self.announce_to(workspace, result.message)

    async def announce_to(self, workspace: str, text: str) -> bool:
        """Post ``text`` to the workspace's report channel (and nowhere else); False without one."""
        channel = (await self.store.settings(workspace)).get("report_channel", "")
        if not channel:
            return False
        return bool(await self._announce(Announcement(workspace, channel, text)))

    # --- model versions -------------------------------------------------------------------------------

    async def models(self, workspace: str) -> ModelList:
        self._require_local()
        return ModelList(self.base, await self.versions.active(workspace, self.base),
                         await self.versions.activation(workspace, self.base),
                         await self.versions.all(workspace, self.base),
                         trial=await self._trial_progress(workspace))

    async def _trial_progress(self, workspace: str) -> TrialProgress | None:
        progress = await self.trials.progress(workspace, self.base)
        if progress is None:
            return None
        trial, candidate, ours, theirs = progress
        return TrialProgress(candidate, trial.share, ours.verdicts, theirs.verdicts, trial.verdicts_needed)

    async def use(self, workspace: str, name: str, by: str) -> ModelSwitch:
        self._require_local()
        wanted = name.strip().lower()
        async with self.models_in_use.lock:
            if wanted in ("base", self.base.lower()):
                target = None
            else:
                target = await self.versions.get(workspace, self.base, wanted)
                if target is None:
                    raise UserError(f"There is no model version {name[:40]!r}; /models lists them.")
            active = await self.versions.active(workspace, self.base)
            if (active.id if active else None) == (target.id if target else None):
                return ModelSwitch(target, self.base, already_active=True)
            await self._switch(workspace, target,
                               lambda: self.versions.activate(workspace, self.base, target, by))
        logger.info("%s switched %s to %s", by, workspace, target.name if target else "the base model")
        return ModelSwitch(target, self.base)

    async def rollback(self, workspace: str, by: str) -> ModelSwitch:
        self._require_local()
        async with self.models_in_use.lock:
            activation, target = await self.versions.rollback_target(workspace, self.base)
            await self._switch(workspace, target, lambda: self.versions.undo_activation(activation, by))
        logger.info("%s rolled %s back to %s", by, workspace, target.name if target else "the base model")
        return ModelSwitch(target, self.base, rolled_back=True)

    async def _switch(self, workspace: str, target, record: Callable[[], Awaitable[None]]) -> None:
        """Load the workspace's new model, record the change, put it live (lock held). A running
        A/B test ends with any switch (``record`` says how)."""
        served = await self.versions.served(target) if target is not None else None
        prepared = await self.models_in_use.prepare(workspace, Assignment(served))
        try:
            await record()
        except BaseException:
            await self.models_in_use.discard(prepared)
            raise
        self.models_in_use.go_live(prepared)

    # --- for the weekly report ------------------------------------------------------------------------

    async def model_news(self, workspace: str, period) -> ModelNews | None:
        """The last fine-tune that finished in ``period`` and the A/B test decided in it (None:
        neither happened)."""
        row = await self.store.finetune_finished_in(workspace, utc_text(period.start), utc_text(period.end))
        run = None
        if row is not None:
            metrics = json.loads(row["metrics"])
            run = FinishedRun(name=row["name"], status=row["status"], train_examples=row["train_examples"],
                              nll_before=metrics["active"]["approved_nll"],
                              nll_after=metrics["candidate"]["approved_nll"], parent=row["parent"] or None)
        trial = await self._decided_trial(workspace, period)
        return ModelNews(run=run, trial=trial) if run or trial else None

    async def _decided_trial(self, workspace: str, period) -> DecidedTrial | None:
        row = await self.store.trial_decided_in(workspace, utc_text(period.start), utc_text(period.end))
        if row is None:
            return None
        result = json.loads(row["result"])
        ours, theirs = Tally(*result["candidate"]), Tally(*result["incumbent"])
        return DecidedTrial(candidate=row["candidate"], incumbent=row["incumbent"] or None,
                            won=row["outcome"] == "promoted", candidate_approved=ours.approved,
                            candidate_verdicts=ours.verdicts, incumbent_approved=theirs.approved,
                            incumbent_verdicts=theirs.verdicts, p_value=result["p_value"])
