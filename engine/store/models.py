"""Model versions and everything recorded about them: each workspace's versions, which one is
active (activations, undone by rollbacks), A/B tests (trials) and fine-tune runs."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from engine.store.database import Database, inserted_id, parse_utc_text, utc_text

logger = logging.getLogger(__name__)


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


@dataclass(frozen=True)
class Trial:
    id: int
    workspace: str
    base: str
    candidate_id: int
    incumbent_id: int | None  # None: the base model
    share: float
    verdicts_needed: int
    started_at: datetime


@dataclass(frozen=True)
class Activation:
    id: int
    version_id: int | None  # None: back to the base model
    reason: str  # promoted | use
    by: str
    created_at: datetime


_SELECT_VERSION = """SELECT m.*, p.name AS parent_name FROM model_versions m
                     LEFT JOIN model_versions p ON p.id = m.parent_id"""


def _version(row: sqlite3.Row) -> ModelVersion:
    return ModelVersion(
        id=row["id"], workspace=row["workspace_id"], name=row["name"], base=row["base"], parent_id=row["parent_id"],
        parent=row["parent_name"], path=row["path"], status=row["status"],
        train_examples=row["train_examples"], valid_examples=row["valid_examples"],
        data_until=parse_utc_text(row["data_until"]) if row["data_until"] else None,
        metrics=json.loads(row["metrics"]), created_at=parse_utc_text(row["created_at"]),
    )


def _trial(row: sqlite3.Row) -> Trial:
    return Trial(row["id"], row["workspace_id"], row["base"], row["candidate_id"], row["incumbent_id"],
                 row["share"], row["verdicts_needed"], parse_utc_text(row["started_at"]))


def _activation(row: sqlite3.Row) -> Activation:
    return Activation(row["id"], row["version_id"], row["reason"], row["by"], parse_utc_text(row["created_at"]))


async def _cancel_trial(db: aiosqlite.Connection, workspace: str, base: str, by: str) -> None:
    """Inside a unit of work: the workspace's running A/B test ends, its candidate dropped."""
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


class ModelRecords(Database):
    # --- versions -----------------------------------------------------------------------------

    async def model_version(self, version_id: int) -> ModelVersion | None:
        row = await self.fetch_one(f"{_SELECT_VERSION} WHERE m.id = ?", (version_id,))
        return _version(row) if row else None

    async def model_version_named(self, workspace: str, base: str, name: str) -> ModelVersion | None:
        row = await self.fetch_one(f"{_SELECT_VERSION} WHERE m.workspace_id = ? AND m.base = ? AND m.name = ?",
                                   (workspace, base, name))
        return _version(row) if row else None

    async def model_versions_of(self, workspace: str, base: str) -> list[ModelVersion]:
        """The workspace's versions on ``base``, newest first."""
        rows = await self.fetch_all(f"{_SELECT_VERSION} WHERE m.workspace_id = ? AND m.base = ? "
                                    "ORDER BY m.id DESC", (workspace, base))
        return [_version(row) for row in rows]

    async def model_version_paths(self) -> set[str]:
        """Every version folder the database names, relative to the data directory."""
        return {row["path"] for row in await self.fetch_all("SELECT path FROM model_versions")}

    async def model_version_count(self, workspace: str, base: str) -> int:
        return await self.fetch_value(
            "SELECT COUNT(*) FROM model_versions WHERE workspace_id = ? AND base = ?", (workspace, base))

    async def newest_data_until(self, workspace: str, base: str, parent_id: int | None) -> datetime | None:
        """The newest approval any of the workspace's versions trained on that parent (None: on
        the base model) has seen."""
        where = "parent_id IS NULL" if parent_id is None else "parent_id = ?"
        params = (workspace, base) if parent_id is None else (workspace, base, parent_id)
        until = await self.fetch_value(
            f"SELECT MAX(data_until) FROM model_versions WHERE workspace_id = ? AND base = ? AND {where}",
            params)
        return parse_utc_text(until) if until else None

    async def add_model_version(self, *, workspace: str, name: str, base: str, parent_id: int | None,
                                path: str, status: str, train_examples: int, valid_examples: int,
                                data_until: datetime | None, metrics: dict, run_id: int | None,
                                activated_by: str | None, trial: tuple[float, int] | None,
                                before_commit: Callable[[], object]) -> int:
        """Keep a version (with ``activated_by``: active at once; with ``trial`` (share of
        requests, verdicts needed per model): in an A/B test against its parent) in one
        transaction; ``before_commit`` runs last inside it (moving the folder into place, so the
        database never names a folder that is not there). Returns the version's id."""
        async with self.transaction() as db:
            cursor = await db.execute(
                """INSERT INTO model_versions(workspace_id, name, base, parent_id, path, status,
                   train_examples, valid_examples, data_until, metrics, run_id)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (workspace, name, base, parent_id, path, status, train_examples, valid_examples,
                 utc_text(data_until) if data_until else None, json.dumps(metrics), run_id))
            version_id = inserted_id(cursor)
            if activated_by is not None:
                await db.execute(
                    """INSERT INTO model_activations(workspace_id, base, version_id, reason, by)
                       VALUES (?, ?, ?, 'promoted', ?)""", (workspace, base, version_id, activated_by))
            if trial is not None:
                await db.execute(
                    """INSERT INTO model_trials(workspace_id, base, candidate_id, incumbent_id, share,
                       verdicts_needed) VALUES (?, ?, ?, ?, ?, ?)""",
                    (workspace, base, version_id, parent_id, *trial))
            before_commit()
        return version_id

    # --- activations ----------------------------------------------------------------------------

    async def newest_activations(self, workspace: str, base: str, count: int = 1) -> list[Activation]:
        """The workspace's newest activations not undone, newest first."""
        rows = await self.fetch_all(
            """SELECT id, version_id, reason, by, created_at FROM model_activations
               WHERE workspace_id = ? AND base = ? AND undone = 0 ORDER BY id DESC LIMIT ?""",
            (workspace, base, count))
        return [_activation(row) for row in rows]

    async def active_version_ids(self, base: str) -> list[int]:
        """Every workspace's active version on ``base`` (workspaces on the base model left out)."""
        rows = await self.fetch_all(
            """SELECT a.version_id FROM model_activations a
               WHERE a.base = ? AND a.undone = 0 AND a.workspace_id IS NOT NULL
                 AND a.id = (SELECT MAX(b.id) FROM model_activations b WHERE b.base = a.base
                             AND b.workspace_id = a.workspace_id AND b.undone = 0)""", (base,))
        return [row["version_id"] for row in rows if row["version_id"] is not None]

    async def activate_model_version(self, workspace: str, base: str, version_id: int | None, by: str) -> None:
        """An admin's choice (None: the base model); it also ends the workspace's running A/B test."""
        async with self.transaction() as db:
            await db.execute(
                """INSERT INTO model_activations(workspace_id, base, version_id, reason, by)
                   VALUES (?, ?, ?, 'use', ?)""", (workspace, base, version_id, by))
            await _cancel_trial(db, workspace, base, by)

    async def undo_activation(self, activation_id: int, by: str) -> bool:
        """A rollback: the activation before it counts again; a running A/B test ends. False when
        that activation was undone meanwhile."""
        async with self.transaction() as db:
            cursor = await db.execute(
                """UPDATE model_activations SET undone = 1, undone_by = ?,
                   undone_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ? AND undone = 0
                   RETURNING workspace_id, base""",
                (by, activation_id))
            row = await cursor.fetchone()
            if row is None:
                return False
            await _cancel_trial(db, row["workspace_id"], row["base"], by)
        return True

    # --- A/B tests ------------------------------------------------------------------------------

    async def running_trial(self, workspace: str, base: str) -> Trial | None:
        row = await self.fetch_one(
            "SELECT * FROM model_trials WHERE workspace_id = ? AND base = ? AND outcome IS NULL",
            (workspace, base))
        return _trial(row) if row else None

    async def running_trials(self, base: str) -> list[Trial]:
        rows = await self.fetch_all("SELECT * FROM model_trials WHERE base = ? AND outcome IS NULL", (base,))
        return [_trial(row) for row in rows]

    async def trial_verdicts(self, trial_id: int, candidate: str) -> dict[bool, tuple[int, int]]:
        """(approved, rejected) variants in the trial, by whether ``candidate`` (its name) wrote them."""
        rows = await self.fetch_all(
            """SELECT v.model_version = ? AS is_candidate,
                      COALESCE(SUM(s.status = 'approved'), 0) AS approved,
                      COALESCE(SUM(s.status = 'rejected'), 0) AS rejected
               FROM variants v JOIN variant_status s ON s.variant_id = v.id
               WHERE v.trial_id = ? GROUP BY is_candidate""", (candidate, trial_id))
        return {bool(row["is_candidate"]): (row["approved"], row["rejected"]) for row in rows}

    async def newest_verdicts(self, workspace: str, model: str, newest: int) -> list[str]:
        """The statuses (approved | rejected) of the newest decided variants ``model`` wrote."""
        rows = await self.fetch_all(
            """SELECT s.status FROM variants v JOIN variant_status s ON s.variant_id = v.id
               WHERE v.workspace_id = ? AND v.model_version = ? AND s.status != 'pending'
               ORDER BY v.id DESC LIMIT ?""", (workspace, model, newest))
        return [row["status"] for row in rows]

    async def end_trial(self, trial_id: int, candidate: ModelVersion, promoted: bool, result: dict) -> bool:
        """Record an A/B test's decision: the candidate promoted (and active) or dropped. False when
        the test had ended meanwhile (an admin switched models)."""
        async with self.transaction() as db:
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

    async def trial_decided_in(self, workspace: str, start: str, end: str) -> sqlite3.Row | None:
        """The newest A/B test decided in [start, end): outcome, result (JSON), candidate and
        incumbent (names; None: the base model)."""
        return await self.fetch_one(
            """SELECT t.outcome, t.result, c.name AS candidate, i.name AS incumbent FROM model_trials t
               JOIN model_versions c ON c.id = t.candidate_id
               LEFT JOIN model_versions i ON i.id = t.incumbent_id
               WHERE t.workspace_id = ? AND t.outcome IN ('promoted', 'dropped')
                 AND t.finished_at >= ? AND t.finished_at < ? ORDER BY t.id DESC LIMIT 1""",
            (workspace, start, end))

    # --- fine-tune runs -------------------------------------------------------------------------

    async def latest_finetune_run(self, workspace: str) -> sqlite3.Row | None:
        return await self.fetch_one(
            "SELECT * FROM finetune_runs WHERE workspace_id = ? ORDER BY id DESC LIMIT 1", (workspace,))

    async def finetune_finished_in(self, workspace: str, start: str, end: str) -> sqlite3.Row | None:
        """The newest run that made a version and finished in [start, end): status, name,
        train_examples, metrics (JSON) and parent (name; None: the base model)."""
        return await self.fetch_one(
            """SELECT r.status, m.name, m.train_examples, m.metrics, p.name AS parent
               FROM finetune_runs r JOIN model_versions m ON m.id = r.version_id
               LEFT JOIN model_versions p ON p.id = m.parent_id
               WHERE r.workspace_id = ? AND r.finished_at >= ? AND r.finished_at < ?
               ORDER BY r.id DESC LIMIT 1""", (workspace, start, end))

    async def record_run_start(self, workspace: str, trigger: str, status: str, message: str,
                               finished_at: datetime | None) -> int:
        """A fine-tune run begins (``running``) or ends at once (a skip); returns its id."""
        async with self.transaction() as db:
            cursor = await db.execute(
                """INSERT INTO finetune_runs(workspace_id, trigger, status, message, finished_at)
                   VALUES (?, ?, ?, ?, ?)""",
                (workspace, trigger, status, message, utc_text(finished_at) if finished_at else None))
            return inserted_id(cursor)

    async def record_run_end(self, run_id: int, status: str, message: str, version_id: int | None,
                             finished_at: datetime) -> None:
        async with self.transaction() as db:
            await db.execute(
                """UPDATE finetune_runs SET status = ?, message = ?, version_id = ?, finished_at = ?
                   WHERE id = ? AND status = 'running'""",
                (status, message, version_id, utc_text(finished_at), run_id))

    async def fail_interrupted_runs(self, finished_at: datetime) -> None:
        """At start-up: runs left ``running`` by a bot that died are failed."""
        async with self.transaction() as db:
            await db.execute(
                """UPDATE finetune_runs SET status = 'failed', finished_at = ?,
                   message = 'Interrupted: the bot stopped during the run.' WHERE status = 'running'""",
                (utc_text(finished_at),))
