"""Which model writes each workspace's copy, and changing that without a restart.

One loaded generator serves the base model and every workspace's active fine-tuned version (see
``engine.serving``); this keeps the map from workspace to served version. A change (a promotion,
``/models use``, a rollback) loads a generator serving the new set first, then the caller records
it, then ``go_live`` puts generator and map in place together, all under ``lock``: requests already
running finish on the old generator, and a version that fails to load never goes live.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from engine.config import EngineConfig
from engine.generation import Generator, ServedVersion
from engine.serving import SwitchableGenerator, open_generator

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Prepared:
    """A generator loaded for a changed set of served versions, not yet live."""

    generator: Generator
    serving: dict[str, ServedVersion]  # workspace -> its version (workspaces on the base left out)


class WorkspaceModels:
    def __init__(self, config: EngineConfig, generator: SwitchableGenerator) -> None:
        self.config = config
        self.generator = generator
        self.lock = asyncio.Lock()
        self._serving: dict[str, ServedVersion] = {}

    def start_serving(self, active: dict[str, ServedVersion]) -> None:
        """At start-up: each workspace's active version, as far as the loaded generator serves it
        (one that could not be loaded is not served: its workspace gets the base model)."""
        served = self.generator.served
        self._serving = {workspace: version for workspace, version in active.items()
                         if version.key in served}

    def key_for(self, workspace: str) -> str | None:
        """What the generator is asked for on this workspace's behalf (None: the base model)."""
        version = self._serving.get(workspace)
        return version.key if version else None

    def name_for(self, workspace: str) -> str:
        version = self._serving.get(workspace)
        return version.name if version else self.generator.version

    @property
    def workspaces_served(self) -> int:
        return len(self._serving)

    async def prepare(self, workspace: str, version: ServedVersion | None) -> Prepared:
        """Load a generator serving ``version`` to ``workspace`` (None: the base model) and the
        other workspaces what they have now. Hold ``lock`` from here to ``go_live``."""
        if not self.lock.locked():
            raise RuntimeError("WorkspaceModels.prepare needs the lock held")
        serving = dict(self._serving)
        if version is None:
            serving.pop(workspace, None)
        else:
            serving[workspace] = version
        generator = await open_generator(self.config, tuple(serving.values()))
        return Prepared(generator, serving)

    def go_live(self, prepared: Prepared) -> None:
        # No await between the two: a request reads the map and the generator in one step.
        self.generator.switch(prepared.generator)
        self._serving = prepared.serving

    async def discard(self, prepared: Prepared) -> None:
        """A prepared generator that will not go live (recording the change failed)."""
        await prepared.generator.stop()
