"""Live evidence for model versions: blind A/B tests of a candidate, and auto-rollback.

A candidate that passed the offline check writes part of the workspace's copy beside the active
model (the incumbent), unlabelled, mixed into the same sets of variants; each variant records which
model wrote it. Once each model has ``verdicts_needed`` approved-or-rejected variants, one-sided
Fisher's exact test on the two approval rates decides, once (a fixed horizon: deciding at the first
look that happens to be significant would inflate the error rate): promoted when p < alpha, else
dropped. An auto-promoted version whose newest ``window`` verdicts approve clearly less than its
predecessor's did (one-sided Fisher, a strict alpha because it is checked as evidence arrives) is
rolled back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from engine.learning.stats import p_higher_rate
from engine.store import Store
from engine.store.models import Trial  # imported from here too

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Tally:
    """A model's variants the team decided on: approved or rejected (pending ones do not count)."""

    approved: int
    rejected: int

    @property
    def verdicts(self) -> int:
        return self.approved + self.rejected

    @property
    def rate(self) -> float:
        return self.approved / self.verdicts if self.verdicts else 0.0

    def describe(self) -> str:
        return f"{self.approved} of {self.verdicts} approved ({self.rate:.0%})"


def p_better(better: Tally, worse: Tally) -> float:
    """One-sided Fisher's exact test: the p-value of "``better`` approves at a higher rate"."""
    return p_higher_rate(better.approved, better.rejected, worse.approved, worse.rejected)


@dataclass(frozen=True)
class TrialOutcome:
    promote: bool
    p_value: float
    candidate: Tally
    incumbent: Tally

    def to_dict(self) -> dict:
        return {"promote": self.promote, "p_value": self.p_value,
                "candidate": [self.candidate.approved, self.candidate.rejected],
                "incumbent": [self.incumbent.approved, self.incumbent.rejected]}


def decide_trial(candidate: Tally, incumbent: Tally, needed: int, alpha: float) -> TrialOutcome | None:
    """None until both models have ``needed`` verdicts; then the one decision."""
    if candidate.verdicts < needed or incumbent.verdicts < needed:
        return None
    p = p_better(candidate, incumbent)
    return TrialOutcome(p < alpha, p, candidate, incumbent)


def rollback_p(active: Tally, previous: Tally, window: int, alpha: float) -> float | None:
    """The p-value when the active version approves clearly less than its predecessor (None:
    not enough evidence yet, or not clearly worse)."""
    if active.verdicts < window or previous.verdicts < window // 2:
        return None
    p = p_better(previous, active)
    return p if p < alpha else None


class TrialStore:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def running(self, workspace: str, base: str) -> Trial | None:
        return await self.store.running_trial(workspace, base)

    async def running_everywhere(self, base: str) -> list[Trial]:
        return await self.store.running_trials(base)

    async def tallies(self, trial: Trial, candidate: str) -> tuple[Tally, Tally]:
        """(the candidate's, the incumbent's) verdicts in the trial; ``candidate`` is its name."""
        verdicts = await self.store.trial_verdicts(trial.id, candidate)
        return Tally(*verdicts.get(True, (0, 0))), Tally(*verdicts.get(False, (0, 0)))

    async def tally_of(self, workspace: str, model: str, newest: int) -> Tally:
        """The newest ``newest`` verdicts on variants ``model`` wrote in the workspace."""
        statuses = await self.store.newest_verdicts(workspace, model, newest)
        return Tally(statuses.count("approved"), statuses.count("rejected"))

    async def progress(self, workspace: str, base: str) -> tuple[Trial, str, Tally, Tally] | None:
        """The workspace's running trial, its candidate's name and (candidate's, incumbent's)
        tallies; None without a trial."""
        trial = await self.running(workspace, base)
        if trial is None:
            return None
        candidate = await self.store.model_version(trial.candidate_id)
        assert candidate is not None  # a foreign key, and versions are never deleted
        name = candidate.name
        return (trial, name, *await self.tallies(trial, name))
