"""Model versions: LoRA adapters on disk, their history in SQLite, and loading them to serve.

A version is the LoRA adapter of one fine-tune of one workspace, trained on that workspace's copy
only, on top of its parent (the workspace's previous version, or the base model). Serving a version
applies the adapters of its chain, oldest first, over the base (llama.cpp: as GGUF LoRA files over
the unchanged quantised base; transformers: merged): each version costs ~10-40 MB on disk instead
of another copy of the base. Each workspace's active version is its newest activation not undone;
with none, the base model writes its copy. Names count per workspace (every team has its own v1);
folders are ``versions/<workspace>/<name>``.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from pathlib import Path

from engine.config import EngineConfig
from engine.errors import UserError
from engine.generation.contract import Generator, ServedVersion
from engine.generation.serving import base_name, open_generator
from engine.learning.trials import TrialStore
from engine.store import Store
from engine.store.models import Activation, ModelVersion  # ModelVersion: imported from here too

logger = logging.getLogger(__name__)

VERSIONS_DIR = "versions"  # under the data directory


def served_key(workspace: str, name: str) -> str:
    return f"{workspace}/{name}"


def folder_name(workspace: str) -> str:
    """A workspace id as a folder name ("slack:T123" -> "slack-T123")."""
    return re.sub(r"[^A-Za-z0-9_.-]", "-", workspace.replace(":", "-"))


class VersionStore:
    def __init__(self, store: Store, data_dir: Path) -> None:
        self.store = store
        self.data_dir = data_dir

    @property
    def versions_dir(self) -> Path:
        return self.data_dir / VERSIONS_DIR

    def folder(self, version: ModelVersion) -> Path:
        return self.data_dir / version.path

    async def get(self, workspace: str, base: str, name: str) -> ModelVersion | None:
        return await self.store.model_version_named(workspace, base, name.strip().lower())

    async def by_id(self, version_id: int) -> ModelVersion | None:
        return await self.store.model_version(version_id)

    async def referenced(self, version_id: int) -> ModelVersion:
        """The version a trial, an activation or a new version's id refers to: it is there, since
        versions are never deleted and those references are foreign keys."""
        version = await self.by_id(version_id)
        assert version is not None, f"model version {version_id} is referred to but missing"
        return version

    async def all(self, workspace: str, base: str) -> list[ModelVersion]:
        """The workspace's versions on ``base``, newest first."""
        return await self.store.model_versions_of(workspace, base)

    async def known_paths(self) -> set[str]:
        """Every version folder the database names, relative to the data directory."""
        return await self.store.model_version_paths()

    async def _activation(self, workspace: str, base: str) -> Activation | None:
        newest = await self.store.newest_activations(workspace, base)
        return newest[0] if newest else None

    async def active(self, workspace: str, base: str) -> ModelVersion | None:
        """The workspace's active version on ``base``; None when the base model writes its copy."""
        activation = await self._activation(workspace, base)
        if activation is None or activation.version_id is None:
            return None
        return await self.by_id(activation.version_id)

    async def active_everywhere(self, base: str) -> list[ModelVersion]:
        """Every workspace's active version on ``base`` (workspaces on the base model left out)."""
        ids = await self.store.active_version_ids(base)
        return [version for version in [await self.by_id(i) for i in ids] if version is not None]

    async def activation(self, workspace: str, base: str) -> tuple[str, datetime] | None:
        """Who activated the workspace's active version and when (None: never changed from the base)."""
        activation = await self._activation(workspace, base)
        return (activation.by, activation.created_at) if activation else None

    async def chain(self, version: ModelVersion | None) -> list[ModelVersion]:
        """``version`` and its ancestors, oldest first (empty for the base model)."""
        chain: list[ModelVersion] = []
        while version is not None:
            chain.append(version)
            if len(chain) > 10_000:
                raise RuntimeError(f"model version {version.name} has a cyclic parent chain")
            version = await self.by_id(version.parent_id) if version.parent_id is not None else None
        return chain[::-1]

    async def newest_cutoff(self, workspace: str, base: str, parent: ModelVersion | None) -> datetime | None:
        """The newest approval any of the workspace's versions trained on ``parent`` has seen."""
        return await self.store.newest_data_until(workspace, base, parent.id if parent else None)

    async def next_name(self, workspace: str, base: str) -> str:
        """The name the workspace's next version gets; versions are added one at a time, under the
        learning loop's switch lock."""
        return f"v{await self.store.model_version_count(workspace, base) + 1}"

    async def add(self, *, workspace: str, base: str, parent: ModelVersion | None, adapter_dir: Path,
                  status: str, train_examples: int, valid_examples: int, data_until: datetime | None,
                  metrics: dict, run_id: int | None, activated_by: str | None,
                  trial: tuple[float, int] | None = None) -> ModelVersion:
        """Keep a finished adapter as the workspace's next version (moving its folder into place)
        and, with ``activated_by``, make it the workspace's active one, or with ``trial`` (share of
        requests, verdicts needed per model) start its live A/B test against ``parent``: one
        transaction, so the database never names a folder that is not there. A crash between the
        move and the commit leaves an unnamed folder, which the next run removes."""
        name = await self.next_name(workspace, base)
        target = self.versions_dir / folder_name(workspace) / name
        target.parent.mkdir(parents=True, exist_ok=True)
        version_id = await self.store.add_model_version(
            workspace=workspace, name=name, base=base, parent_id=parent.id if parent else None,
            path=str(target.relative_to(self.data_dir)), status=status, train_examples=train_examples,
            valid_examples=valid_examples, data_until=data_until, metrics=metrics, run_id=run_id,
            activated_by=activated_by, trial=trial, before_commit=lambda: adapter_dir.rename(target))
        logger.info("kept model version %s of %s (%s) at %s", name, workspace, status, target)
        return await self.referenced(version_id)

    async def activate(self, workspace: str, base: str, version: ModelVersion | None, by: str) -> None:
        """An admin's choice: it also ends the workspace's running A/B test, if any."""
        await self.store.activate_model_version(workspace, base, version.id if version else None, by)

    async def end_trial(self, trial_id: int, candidate: ModelVersion, promoted: bool, result: dict) -> bool:
        """Record an A/B test's decision: the candidate promoted (and active) or dropped. False when
        the test had ended meanwhile (an admin switched models)."""
        return await self.store.end_trial(trial_id, candidate, promoted, result)

    async def auto_promoted(self, workspace: str, base: str) -> tuple[int, ModelVersion, datetime] | None:
        """(activation id, version, when) when the workspace's active version went live by a
        promotion (not an admin's choice): only those are rolled back automatically."""
        activation = await self._activation(workspace, base)
        if activation is None or activation.reason != "promoted" or activation.version_id is None:
            return None
        return activation.id, await self.referenced(activation.version_id), activation.created_at

    async def rollback_target(self, workspace: str, base: str) -> tuple[int, ModelVersion | None]:
        """(the workspace's newest activation's id, the version a rollback returns to; None: the
        base model)."""
        newest = await self.store.newest_activations(workspace, base, 2)
        if not newest:
            raise UserError("The base model is active and there is nothing older to roll back to.")
        previous = newest[1].version_id if len(newest) > 1 else None
        return newest[0].id, (await self.by_id(previous) if previous is not None else None)

    async def undo_activation(self, activation_id: int, by: str) -> None:
        """A rollback: the activation before it counts again; a running A/B test ends."""
        if not await self.store.undo_activation(activation_id, by):
            raise UserError("The active model changed meanwhile; look at /models and try again.")

    def adapters(self, chain: list[ModelVersion]) -> list[Path]:
        folders = [self.folder(v) for v in chain]
        for folder in folders:
            if not (folder / "adapter_config.json").is_file():
                raise UserError(f"The files of model version {folder.name} are missing from {folder.parent}.")
        return folders

    async def served(self, version: ModelVersion) -> ServedVersion:
        """``version`` as a generator serves it (its chain's adapter folders checked)."""
        assert version.workspace is not None  # pooled versions (before 0007) are never served
        return ServedVersion(served_key(version.workspace, version.name), version.name,
                             tuple(self.adapters(await self.chain(version))))


async def load_serving_generator(config: EngineConfig, store: Store) -> Generator:
    """A generator serving every workspace's active version (as the bot last ran), and the
    candidate of each A/B test under way, beside the base model. A version whose files went missing
    is left out, with an error in the log: its workspace gets the base model."""
    versions = VersionStore(store, config.data_dir)
    base = base_name(config)
    candidates = [await versions.referenced(t.candidate_id) for t in await TrialStore(store).running_everywhere(base)]
    served = []
    for version in await versions.active_everywhere(base) + candidates:
        try:
            served.append(await versions.served(version))
        except UserError:
            logger.exception("model version %s of %s cannot be loaded; that workspace gets the base "
                             "model", version.name, version.workspace)
    try:
        return await open_generator(config, tuple(served))
    except UserError:
        if not served:
            raise
        logger.exception("the model could not be loaded with its %d fine-tuned version(s); serving "
                         "the base model to every workspace", len(served))
        return await open_generator(config)
