"""Which model writes each workspace's copy, and changing that without a restart.

One loaded generator serves the base model and every workspace's active fine-tuned version (see
``engine.generation.serving``), plus the candidate of any workspace running a live A/B test; this keeps the map
from workspace to served versions. A change (a promotion, a test starting or ending, ``/models use``,
a rollback) loads a generator serving the new set first, then the caller records it, then
``go_live`` puts generator and map in place together, all under ``lock``: requests already running
finish on the old generator, and a version that fails to load never goes live.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass, field

from engine.config import EngineConfig
from engine.generation.contract import Generator, ServedVersion
from engine.generation.serving import SwitchableGenerator, open_generator

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Assignment:
    """What writes one workspace's copy."""

    active: ServedVersion | None = None  # None: the base model
    candidate: ServedVersion | None = None  # in a live A/B test, with ``share`` and ``trial_id``
    share: float = 0.0
    trial_id: int | None = None


@dataclass(frozen=True)
class Writer:
    """Some of a /copy's variants, and who writes them."""

    model: str | None  # the served version's key; None: the base model
    slots: list[int]  # positions (0..n-1) of its variants in the set shown
    trial_id: int | None = None  # set: these variants are evidence in that A/B test


@dataclass(frozen=True)
class Prepared:
    """A generator loaded for a changed set of served versions, not yet live."""

    generator: Generator
    assignments: dict[str, Assignment] = field(default_factory=dict)


class WorkspaceModels:
    def __init__(self, config: EngineConfig, generator: SwitchableGenerator,
                 rng: random.Random | None = None) -> None:
        self.config = config
        self.generator = generator
        self.lock = asyncio.Lock()
        self._assignments: dict[str, Assignment] = {}
        self._rng = rng or random.Random()

    def start_serving(self, assignments: dict[str, Assignment]) -> None:
        """At start-up: each workspace's versions, as far as the loaded generator serves them (one
        that could not be loaded is not served: its workspace gets the base model, and a trial
        whose candidate is missing pauses)."""
        served = self.generator.served

        def kept(version: ServedVersion | None) -> ServedVersion | None:
            return version if version is not None and version.key in served else None

        self._assignments = {}
        for workspace, assignment in assignments.items():
            candidate = kept(assignment.candidate)
            self._assignments[workspace] = Assignment(
                kept(assignment.active), candidate, assignment.share if candidate else 0.0,
                assignment.trial_id if candidate else None)

    def assignment(self, workspace: str) -> Assignment:
        return self._assignments.get(workspace, Assignment())

    def key_for(self, workspace: str) -> str | None:
        """What the generator is asked for on this workspace's behalf (None: the base model)."""
        active = self.assignment(workspace).active
        return active.key if active else None

    def name_for(self, workspace: str) -> str:
        active = self.assignment(workspace).active
        return active.name if active else self.generator.version

    def writers(self, workspace: str, n: int) -> list[Writer]:
        """Who writes a /copy of ``n`` variants. In an A/B test, a ``share`` of requests mix both
        models in one set, in random places (a set of one goes wholly to one of them at random)."""
        assignment = self.assignment(workspace)
        active = assignment.active.key if assignment.active else None
        if assignment.candidate is None or self._rng.random() >= assignment.share:
            return [Writer(active, list(range(n)))]
        slots = list(range(n))
        self._rng.shuffle(slots)
        taken = n // 2 + (self._rng.random() < 0.5 if n % 2 else 0)
        writers = [Writer(assignment.candidate.key, sorted(slots[:taken]), assignment.trial_id),
                   Writer(active, sorted(slots[taken:]), assignment.trial_id)]
        return [w for w in writers if w.slots]

    async def prepare(self, workspace: str, assignment: Assignment) -> Prepared:
        """Load a generator serving ``assignment`` to ``workspace`` and the other workspaces what
        they have now. Hold ``lock`` from here to ``go_live``."""
        if not self.lock.locked():
            raise RuntimeError("WorkspaceModels.prepare needs the lock held")
        return await self._load({**self._assignments, workspace: assignment})

    async def _load(self, assignments: dict[str, Assignment]) -> Prepared:
        versions = {v.key: v for a in assignments.values() for v in (a.active, a.candidate) if v}
        generator = await open_generator(self.config, tuple(versions.values()))
        return Prepared(generator, assignments)

    def go_live(self, prepared: Prepared) -> None:
        # No await between the two: a request reads the map and the generator in one step.
        self.generator.switch(prepared.generator)
        self._assignments = prepared.assignments

    async def discard(self, prepared: Prepared) -> None:
        """A prepared generator that will not go live (recording the change failed)."""
        await prepared.generator.stop()
