"""Model versions: LoRA adapters on disk, their history in SQLite, and loading one as a backend.

A version is the LoRA adapter of one fine-tune, trained on top of its parent (another version, or the
base model when it has none). Serving a version applies the adapters of its chain, oldest first,
over the base (llama.cpp: as GGUF LoRA files over the unchanged quantised base; transformers: merged):
each version costs ~10-40 MB on disk instead of another copy of the base.
The active version is the newest activation not undone; with none, the base model is active.
"""

from __future__ import annotations

import json
import logging
import warnings
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from engine.config import EngineConfig
from engine.errors import UserError
from engine.generation import Generator
from engine.model import load_model
from engine.serving import base_name, open_generator
from engine.store import Store, parse_utc_text, utc_text

logger = logging.getLogger(__name__)

VERSIONS_DIR = "versions"  # under the data directory


@dataclass(frozen=True)
class ModelVersion:
    id: int
    name: str
    base: str
    parent_id: int | None
    parent: str | None  # the parent's name; None = trained on the base model
    path: str  # adapter folder relative to the data directory
    status: str  # promoted | rejected
    train_examples: int
    valid_examples: int
    data_until: datetime | None
    metrics: dict
    created_at: datetime


def load_with_adapters(source: str, adapters: list[Path], threads: int = 0):
    """The base model with each adapter merged in, oldest first, and its tokenizer."""
    model, tokenizer = load_model(source, threads=threads)
    if adapters:
        from peft import PeftModel

        with warnings.catch_warnings():  # deprecation chatter from inside peft/transformers
            warnings.simplefilter("ignore", FutureWarning)
            for adapter in adapters:
                model = PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()
        model.eval()
    return model, tokenizer


_SELECT = """SELECT m.*, p.name AS parent_name FROM model_versions m
              LEFT JOIN model_versions p ON p.id = m.parent_id"""


def _version(row) -> ModelVersion:
    return ModelVersion(
        id=row["id"], name=row["name"], base=row["base"], parent_id=row["parent_id"],
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

    async def get(self, base: str, name: str) -> ModelVersion | None:
        return await self._one("m.base = ? AND m.name = ?", (base, name.strip().lower()))

    async def by_id(self, version_id: int) -> ModelVersion | None:
        return await self._one("m.id = ?", (version_id,))

    async def all(self, base: str) -> list[ModelVersion]:
        """Every version on ``base``, newest first."""
        async with self.store.db.execute(f"{_SELECT} WHERE m.base = ? ORDER BY m.id DESC", (base,)) as cur:
            return [_version(row) async for row in cur]

    async def names_on_disk(self) -> set[str]:
        async with self.store.db.execute("SELECT path FROM model_versions") as cursor:
            return {Path(row["path"]).name async for row in cursor}

    async def active(self, base: str) -> ModelVersion | None:
        """The active version on ``base``; None when the base model itself is active."""
        async with self.store.db.execute(
            """SELECT version_id FROM model_activations WHERE base = ? AND undone = 0
               ORDER BY id DESC LIMIT 1""", (base,)) as cursor:
            row = await cursor.fetchone()
        if row is None or row["version_id"] is None:
            return None
        return await self.by_id(row["version_id"])

    async def activation(self, base: str) -> tuple[str, datetime] | None:
        """Who activated the active version and when (None: never changed from the base model)."""
        async with self.store.db.execute(
            """SELECT by, created_at FROM model_activations WHERE base = ? AND undone = 0
               ORDER BY id DESC LIMIT 1""", (base,)) as cursor:
            row = await cursor.fetchone()
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

    async def newest_cutoff(self, base: str, parent: ModelVersion | None) -> datetime | None:
        """The newest approval any version trained on ``parent`` has seen (None: none yet)."""
        where = "parent_id IS NULL" if parent is None else "parent_id = ?"
        params = (base,) if parent is None else (base, parent.id)
        async with self.store.db.execute(
            f"SELECT MAX(data_until) AS until FROM model_versions WHERE base = ? AND {where}", params
        ) as cursor:
            row = await cursor.fetchone()
        return parse_utc_text(row["until"]) if row and row["until"] else None

    async def next_id(self) -> int:
        """The id (and so the name, v<id>) the next added version gets; versions are added one at a
        time, under the learning loop's switch lock."""
        async with self.store.db.execute("SELECT COALESCE(MAX(id), 0) + 1 AS next FROM model_versions") as cur:
            return (await cur.fetchone())["next"]

    async def add(self, *, base: str, parent: ModelVersion | None, adapter_dir: Path, status: str,
                  train_examples: int, valid_examples: int, data_until: datetime | None, metrics: dict,
                  run_id: int | None, activated_by: str | None) -> ModelVersion:
        """Keep a finished adapter as a new version (moving its folder into place) and, with
        ``activated_by``, make it active: one transaction, so the database never names a folder
        that is not there. A crash between the move and the commit leaves an unnamed folder, which
        the next run removes."""
        self.versions_dir.mkdir(parents=True, exist_ok=True)
        async with self.store.transaction() as db:
            async with db.execute("SELECT COALESCE(MAX(id), 0) + 1 AS next FROM model_versions") as cur:
                version_id = (await cur.fetchone())["next"]
            name = f"v{version_id}"
            target = self.versions_dir / name
            await db.execute(
                """INSERT INTO model_versions(id, name, base, parent_id, path, status, train_examples,
                   valid_examples, data_until, metrics, run_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (version_id, name, base, parent.id if parent else None,
                 str(target.relative_to(self.data_dir)), status, train_examples, valid_examples,
                 utc_text(data_until) if data_until else None, json.dumps(metrics), run_id))
            if activated_by is not None:
                await db.execute(
                    "INSERT INTO model_activations(base, version_id, reason, by) VALUES (?, ?, 'promoted', ?)",
                    (base, version_id, activated_by))
            adapter_dir.rename(target)
        logger.info("kept model version %s (%s) at %s", name, status, target)
        return await self.by_id(version_id)

    async def activate(self, base: str, version: ModelVersion | None, by: str) -> None:
        async with self.store.transaction() as db:
            await db.execute(
                "INSERT INTO model_activations(base, version_id, reason, by) VALUES (?, ?, 'use', ?)",
                (base, version.id if version else None, by))

    async def rollback_target(self, base: str) -> tuple[int, ModelVersion | None]:
        """(the newest activation's id, the version a rollback returns to; None: the base model)."""
        async with self.store.db.execute(
            """SELECT id, version_id FROM model_activations WHERE base = ? AND undone = 0
               ORDER BY id DESC LIMIT 2""", (base,)) as cursor:
            rows = await cursor.fetchall()
        if not rows:
            raise UserError("The base model is active and there is nothing older to roll back to.")
        previous = rows[1]["version_id"] if len(rows) > 1 else None
        return rows[0]["id"], (await self.by_id(previous) if previous is not None else None)

    async def undo_activation(self, activation_id: int, by: str) -> None:
        async with self.store.transaction() as db:
            cursor = await db.execute(
                """UPDATE model_activations SET undone = 1, undone_by = ?,
                   undone_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ? AND undone = 0""",
                (by, activation_id))
            if cursor.rowcount != 1:
                raise UserError("The active model changed meanwhile; look at /models and try again.")

    def adapters(self, chain: list[ModelVersion]) -> list[Path]:
        folders = [self.folder(v) for v in chain]
        for folder in folders:
            if not (folder / "adapter_config.json").is_file():
                raise UserError(f"The files of model version {folder.name} are missing from {folder.parent}.")
        return folders

    async def load_generator(self, config: EngineConfig, version: ModelVersion | None) -> Generator:
        """``version`` (None: the base model) loaded and ready to generate (it takes seconds)."""
        adapters = self.adapters(await self.chain(version))
        return await open_generator(config, adapters, version.name if version else None)


async def load_active_generator(config: EngineConfig, store: Store) -> Generator:
    """The generator for the version that was active when the bot last ran (the base model if
    none). Files of the active version gone missing: the base model, with an error in the log."""
    versions = VersionStore(store, config.data_dir)
    active = await versions.active(base_name(config))
    try:
        return await versions.load_generator(config, active)
    except UserError:
        if active is None:
            raise
        logger.exception("model version %s cannot be loaded; using the base model", active.name)
        return await versions.load_generator(config, None)
