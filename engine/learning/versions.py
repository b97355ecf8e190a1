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

import json
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from engine.config import EngineConfig
from engine.errors import UserError
from engine.generation import Generator, ServedVersion
from engine.learning.trials import TrialStore
from engine.model import load_with_adapters  # noqa: F401  (train.py imports it from here)
from engine.serving import base_name, open_generator
from engine.store import Store, parse_utc_text, utc_text

logger = logging.getLogger(__name__)

VERSIONS_DIR = "versions"  # under the data directory


@dataclass(frozen=True)
class ModelVersion:
    id: int
    workspace: str | None  # None: pooled from every workspace before 0007, never served
    name: str
    base: str
    parent_id: int | None
    parent: str | None  # the parent's name; None = trained on the base model
    path: str  # adapter folder relative to the data directory
    status: str  # promoted | rejected | trial | dropped
    train_examples: int
    valid_examples: int
    data_until: datetime | None
    metrics: dict
    created_at: datetime


_SELECT = """SELECT m.*, p.name AS parent_name FROM model_versions m
              LEFT JOIN model_versions p ON p.id = m.parent_id"""


def served_key(workspace: str, name: str) -> str:
    return f"{workspace}/{name}"


def folder_name(workspace: str) -> str:
    """A workspace id as a folder name ("slack:T123" -> "slack-T123")."""
    return re.sub(r"[^A-Za-z0-9_.-]", "-", workspace.replace(":", "-"))


def _version(row) -> ModelVersion:
    return ModelVersion(
        id=row["id"], workspace=row["workspace_id"], name=row["name"], base=row["base"], parent_id=row["parent_id"],
        parent=row["parent_name"], path=row["path"], status=row["status"],
        train_examples=row["train_examples"], valid_examples=row["valid_examples"],
        data_until=parse_utc_text(row["data_until"]) if row["data_until"] else None,
        metrics=json.loads(row["metrics"]), created_at=parse_utc_text(row["created_at"]),
    )


class VersionStore:
    def __init__(self, store: Store, data_dir: Path) -> None:
        self.store = store
        self.data_dir = data_dir

    @property
    def versions_dir(self) -> Path:
        return self.data_dir / VERSIONS_DIR

    def folder(self, version: ModelVersion) -> Path:
        return self.data_dir / version.path

    async def _one(self, where: str, params: tuple) -> ModelVersion | None:
        async with self.store.db.execute(f"{_SELECT} WHERE {where}", params) as cursor:
            row = await cursor.fetchone()
        return _version(row) if row else None

    async def get(self, workspace: str, base: str, name: str) -> ModelVersion | None:
        return await self._one("m.workspace_id = ? AND m.base = ? AND m.name = ?",
                               (workspace, base, name.strip().lower()))

    async def by_id(self, version_id: int) -> ModelVersion | None:
        return await self._one("m.id = ?", (version_id,))

    async def all(self, workspace: str, base: str) -> list[ModelVersion]:
        """The workspace's versions on ``base``, newest first."""
        async with self.store.db.execute(f"{_SELECT} WHERE m.workspace_id = ? AND m.base = ? "
                                         "ORDER BY m.id DESC", (workspace, base)) as cursor:
            return [_version(row) async for row in cursor]

    async def known_paths(self) -> set[str]:
        """Every version folder the database names, relative to the data directory."""
        async with self.store.db.execute("SELECT path FROM model_versions") as cursor:
            return {row["path"] async for row in cursor}

    async def _activation_row(self, workspace: str, base: str):
        async with self.store.db.execute(
            """SELECT id, version_id, by, created_at FROM model_activations
               WHERE workspace_id = ? AND base = ? AND undone = 0 ORDER BY id DESC LIMIT 1""",
                (workspace, base)) as cursor:
            return await cursor.fetchone()

    async def active(self, workspace: str, base: str) -> ModelVersion | None:
        """The workspace's active version on ``base``; None when the base model writes its copy."""
        row = await self._activation_row(workspace, base)
        if row is None or row["version_id"] is None:
            return None
        return await self.by_id(row["version_id"])

    async def active_everywhere(self, base: str) -> list[ModelVersion]:
        """Every workspace's active version on ``base`` (workspaces on the base model left out)."""
        async with self.store.db.execute(
            """SELECT a.version_id FROM model_activations a
               WHERE a.base = ? AND a.undone = 0 AND a.workspace_id IS NOT NULL
                 AND a.id = (SELECT MAX(b.id) FROM model_activations b WHERE b.base = a.base
                             AND b.workspace_id = a.workspace_id AND b.undone = 0)""", (base,)) as cursor:
            ids = [row["version_id"] async for row in cursor if row["version_id"] is not None]
        return [version for version in [await self.by_id(i) for i in ids] if version is not None]

    async def activation(self, workspace: str, base: str) -> tuple[str, datetime] | None:
        """Who activated the workspace's active version and when (None: never changed from the base)."""
        row = await self._activation_row(workspace, base)
        return (row["by"], parse_utc_text(row["created_at"])) if row else None

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
        where = "parent_id IS NULL" if parent is None else "parent_id = ?"
        params = (workspace, base) if parent is None else (workspace, base, parent.id)
        async with self.store.db.execute(
            f"SELECT MAX(data_until) AS until FROM model_versions WHERE workspace_id = ? AND base = ? "
            f"AND {where}", params
        ) as cursor:
            row = await cursor.fetchone()
        return parse_utc_text(row["until"]) if row and row["until"] else None

    async def next_name(self, workspace: str, base: str) -> str:
        """The name the workspace's next version gets; versions are added one at a time, under the
        learning loop's switch lock."""
        async with self.store.db.execute(
            "SELECT COUNT(*) AS versions FROM model_versions WHERE workspace_id = ? AND base = ?",
                (workspace, base)) as cursor:
            return f"v{(await cursor.fetchone())['versions'] + 1}"

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
        async with self.store.transaction() as db:
            cursor = await db.execute(
                """INSERT INTO model_versions(workspace_id, name, base, parent_id, path, status,
                   train_examples, valid_examples, data_until, metrics, run_id)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (workspace, name, base, parent.id if parent else None,
                 str(target.relative_to(self.data_dir)), status, train_examples, valid_examples,
                 utc_text(data_until) if data_until else None, json.dumps(metrics), run_id))
            version_id = cursor.lastrowid
            if activated_by is not None:
                await db.execute(
                    """INSERT INTO model_activations(workspace_id, base, version_id, reason, by)
                       VALUES (?, ?, ?, 'promoted', ?)""", (workspace, base, version_id, activated_by))
            if trial is not None:
                await db.execute(
                    """INSERT INTO model_trials(workspace_id, base, candidate_id, incumbent_id, share,
                       verdicts_needed) VALUES (?, ?, ?, ?, ?, ?)""",
                    (workspace, base, version_id, parent.id if parent else None, *trial))
            adapter_dir.rename(target)
        logger.info("kept model version %s of %s (%s) at %s", name, workspace, status, target)
        return await self.by_id(version_id)

    async def activate(self, workspace: str, base: str, version: ModelVersion | None, by: str) -> None:
        """An admin's choice: it also ends the workspace's running A/B test, if any."""
        async with self.store.transaction() as db:
            await db.execute(
                """INSERT INTO model_activations(workspace_id, base, version_id, reason, by)
                   VALUES (?, ?, ?, 'use', ?)""", (workspace, base, version.id if version else None, by))
            await self._cancel_trial(db, workspace, base, by)

    async def end_trial(self, trial_id: int, candidate: ModelVersion, promoted: bool, result: dict) -> bool:
        """Record an A/B test's decision: the candidate promoted (and active) or dropped. False when
        the test had ended meanwhile (an admin switched models)."""
        async with self.store.transaction() as db:
            cursor = await db.execute(
                """UPDATE model_trials SET outcome = ?, result = ?,
                   finished_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ? AND outcome IS NULL""",
                ("promoted" if promoted else "dropped", json.dumps(result), trial_id))
            if cursor.rowcount != 1:
                return False
            await db.execute("UPDATE model_versions SET status = ? WHERE id = ?",
                             ("promoted" if promoted else "dropped", candidate.id))
            if promoted:
                await db.execute(
                    """INSERT INTO model_activations(workspace_id, base, version_id, reason, by)
                       VALUES (?, ?, ?, 'promoted', 'A/B test')""",
                    (candidate.workspace, candidate.base, candidate.id))
        return True

    @staticmethod
    async def _cancel_trial(db, workspace: str, base: str, by: str) -> None:
        async with db.execute("SELECT id, candidate_id FROM model_trials WHERE workspace_id = ? AND "
                              "base = ? AND outcome IS NULL", (workspace, base)) as cursor:
            row = await cursor.fetchone()
        if row is None:
            return
        await db.execute(
            """UPDATE model_trials SET outcome = 'cancelled', result = ?,
               finished_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?""",
            (json.dumps({"reason": f"the active model was changed by {by}"}), row["id"]))
        await db.execute("UPDATE model_versions SET status = 'dropped' WHERE id = ? AND status = 'trial'",
                         (row["candidate_id"],))

    async def auto_promoted(self, workspace: str, base: str) -> tuple[int, ModelVersion, datetime] | None:
        """(activation id, version, when) when the workspace's active version went live by a
        promotion (not an admin's choice): only those are rolled back automatically."""
        async with self.store.db.execute(
            """SELECT id, version_id, reason, created_at FROM model_activations
               WHERE workspace_id = ? AND base = ? AND undone = 0 ORDER BY id DESC LIMIT 1""",
                (workspace, base)) as cursor:
            row = await cursor.fetchone()
        if row is None or row["reason"] != "promoted" or row["version_id"] is None:
            return None
        return row["id"], await self.by_id(row["version_id"]), parse_utc_text(row["created_at"])

    async def rollback_target(self, workspace: str, base: str) -> tuple[int, ModelVersion | None]:
        """(the workspace's newest activation's id, the version a rollback returns to; None: the
        base model)."""
        async with self.store.db.execute(
            """SELECT id, version_id FROM model_activations
               WHERE workspace_id = ? AND base = ? AND undone = 0 ORDER BY id DESC LIMIT 2""",
                (workspace, base)) as cursor:
            rows = await cursor.fetchall()
        if not rows:
            raise UserError("The base model is active and there is nothing older to roll back to.")
        previous = rows[1]["version_id"] if len(rows) > 1 else None
        return rows[0]["id"], (await self.by_id(previous) if previous is not None else None)

    async def undo_activation(self, activation_id: int, by: str) -> None:
        """A rollback: the activation before it counts again; a running A/B test ends."""
        async with self.store.transaction() as db:
            cursor = await db.execute(
                """UPDATE model_activations SET undone = 1, undone_by = ?,
                   undone_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ? AND undone = 0
                   RETURNING workspace_id, base""",
                (by, activation_id))
            row = await cursor.fetchone()
            if row is None:
                raise UserError("The active model changed meanwhile; look at /models and try again.")
            await self._cancel_trial(db, row["workspace_id"], row["base"], by)

    def adapters(self, chain: list[ModelVersion]) -> list[Path]:
        folders = [self.folder(v) for v in chain]
        for folder in folders:
            if not (folder / "adapter_config.json").is_file():
                raise UserError(f"The files of model version {folder.name} are missing from {folder.parent}.")
        return folders

    async def served(self, version: ModelVersion) -> ServedVersion:
        """``version`` as a generator serves it (its chain's adapter folders checked)."""
        return ServedVersion(served_key(version.workspace, version.name), version.name,
                             tuple(self.adapters(await self.chain(version))))


async def load_serving_generator(config: EngineConfig, store: Store) -> Generator:
    """A generator serving every workspace's active version (as the bot last ran), and the
    candidate of each A/B test under way, beside the base model. A version whose files went missing is left out, with an error in the log: its workspace
    gets the base model."""
    versions = VersionStore(store, config.data_dir)
    base = base_name(config)
    candidates = [await versions.by_id(t.candidate_id) for t in await TrialStore(store).running_everywhere(base)]
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
