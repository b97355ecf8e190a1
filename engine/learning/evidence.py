"""Acting on the team's verdicts about model versions: end an A/B test once it has its evidence, and
roll back an auto-promoted version that approves clearly less than its predecessor did.

Checks run after a verdict changes, in the background (never on the receive path), one at a time
per workspace: a check that is asked for while one runs runs once more after it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from engine.config import EngineConfig
from engine.generation.workspace_models import Assignment, WorkspaceModels
from engine.learning.trials import Tally, TrialStore, decide_trial, rollback_p
from engine.learning.versions import ModelVersion, VersionStore

logger = logging.getLogger(__name__)

ROLLBACK_BY = "auto-rollback"


def trial_text(candidate: str, incumbent: str, outcome, alpha: float) -> str:
    numbers = (f"{candidate}: {outcome.candidate.describe()}; {incumbent}: "
               f"{outcome.incumbent.describe()}; one-sided Fisher exact test p = "
               f"{outcome.p_value:.3f} (it needed p < {alpha:g})")
    if outcome.promote:
        return (f"{candidate} won its blind A/B test against {incumbent} and now writes all of your "
                f"copy ({numbers}). Admins can undo it with /models rollback.")
    return (f"{candidate} did not clearly beat {incumbent} in its blind A/B test and was dropped "
            f"({numbers}); {incumbent} keeps writing your copy.")


def rollback_text(active: str, previous: str, now: Tally, before: Tally, p: float, alpha: float) -> str:
    return (f"Rolled back {active}: its newest verdicts approved clearly less than {previous}'s "
            f"({active}: {now.describe()}; {previous}: {before.describe()}; one-sided Fisher exact "
            f"test p = {p:.3f} < {alpha:g}). {previous} writes your copy again; /models use "
            f"{active} brings it back.")


class EvidenceWatcher:
    def __init__(self, config: EngineConfig, base: str, versions: VersionStore, trials: TrialStore,
                 models_in_use: WorkspaceModels,
                 switch: Callable[[str, ModelVersion | None, Callable[[], Awaitable[None]]], Awaitable[None]],
                 announce_to: Callable[[str, str], Awaitable[bool]]) -> None:
        self.config = config
        self.base = base
        self.versions = versions
        self.trials = trials
        self.models_in_use = models_in_use
        self._switch = switch  # (workspace, target, record): load, record, go live (lock held)
        self._announce_to = announce_to
        self._tasks: dict[str, asyncio.Task] = {}
        self._again: set[str] = set()

    def verdict_changed(self, workspace: str) -> None:
        """Look at the workspace's evidence soon (in the background)."""
        task = self._tasks.get(workspace)
        if task is not None and not task.done():
            self._again.add(workspace)
            return
        self._tasks[workspace] = asyncio.get_running_loop().create_task(
            self._check_until_settled(workspace), name=f"copybot evidence {workspace}")

    async def settled(self) -> None:
        """Wait for every check asked for so far (tests, shutdown)."""
        while any(not t.done() for t in self._tasks.values()):
            await asyncio.wait([t for t in self._tasks.values() if not t.done()])

    async def close(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    async def _check_until_settled(self, workspace: str) -> None:
        while True:
            self._again.discard(workspace)
            try:
                await self.check(workspace)
            except Exception:
                logger.exception("checking the model evidence of %s failed", workspace)
            if workspace not in self._again:
                return

    async def check(self, workspace: str) -> str | None:
        """Decide what the evidence calls for; returns the announcement made (None: nothing)."""
        async with self.models_in_use.lock:
            text = await self._end_trial(workspace)
            if text is None:
                text = await self._roll_back(workspace)
        if text is not None:
            await self._announce_to(workspace, text)
        return text

    async def _end_trial(self, workspace: str) -> str | None:
        trial = await self.trials.running(workspace, self.base)
        if trial is None:
            return None
        candidate = await self.versions.referenced(trial.candidate_id)
        incumbent = await self.versions.by_id(trial.incumbent_id) if trial.incumbent_id else None
        tallies = await self.trials.tallies(trial, candidate.name)
        outcome = decide_trial(*tallies, trial.verdicts_needed, self.config.ab_alpha)
        if outcome is None:
            return None
        winner = candidate if outcome.promote else incumbent
        ended = []

        async def record() -> None:
            ended.append(await self.versions.end_trial(trial.id, candidate, outcome.promote,
                                                       outcome.to_dict()))

        await self._switch(workspace, winner, record)
        if not ended[0]:
            return None
        incumbent_name = incumbent.name if incumbent else f"the base model ({self.base})"
        logger.info("A/B test %d of %s: %s %s (p = %.4f)", trial.id, workspace, candidate.name,
                    "promoted" if outcome.promote else "dropped", outcome.p_value)
        return trial_text(candidate.name, incumbent_name, outcome, self.config.ab_alpha)

    async def _roll_back(self, workspace: str) -> str | None:
        promoted = await self.versions.auto_promoted(workspace, self.base)
        if promoted is None:
            return None
        activation_id, active, _ = promoted
        window = self.config.rollback_window
        now = await self.trials.tally_of(workspace, active.name, window)
        if now.verdicts < window:
            return None
        _, previous = await self.versions.rollback_target(workspace, self.base)
        previous_name = previous.name if previous else self.base
        before = await self.trials.tally_of(workspace, previous_name, window)
        p = rollback_p(now, before, window, self.config.rollback_alpha)
        if p is None:
            return None
        await self._switch(workspace, previous,
                           lambda: self.versions.undo_activation(activation_id, ROLLBACK_BY))
        logger.warning("auto-rollback of %s: %s approves %.0f%% vs %s %.0f%% (p = %.4f)", workspace,
                       active.name, 100 * now.rate, previous_name, 100 * before.rate, p)
        shown = previous.name if previous else f"the base model ({self.base})"
        return rollback_text(active.name, shown, now, before, p, self.config.rollback_alpha)


def assignment_of(active, candidate, trial) -> Assignment:
    """What a workspace is served: its active version and, in an A/B test, the candidate."""
    if candidate is None or trial is None:
        return Assignment(active)
    return Assignment(active, candidate, trial.share, trial.id)
