"""Generations (one /copy request or turn), their variants, and the team's feedback on them."""

from __future__ import annotations

import json
import logging
import sqlite3
from datetime import datetime

from engine.store.database import Database, inserted_id, parse_utc_text, utc_text
from engine.store.events import mark_event_finished
from engine.types import ApprovedExample, FeedbackOutcome, Variant, Verdict

logger = logging.getLogger(__name__)


class GenerationRecords(Database):
    async def save_generation(
        self,
        workspace_id: str,
        channel: str,
        user: str,
        request: dict,
        prompt: list[dict[str, str]],
        model_version: str,
        texts: list[str],
        authors: list[tuple[str, int | None]] | None = None,
    ) -> tuple[int, list[Variant]]:
        """Store a generation and its variants in one transaction; returns their ids. ``authors``:
        per variant, the model that wrote it and the A/B test it is evidence in (default: all by
        ``model_version``, none in a test)."""
        authors = authors or [(model_version, None)] * len(texts)
        async with self.transaction() as db:
            cursor = await db.execute(
                """INSERT INTO generations(workspace_id, channel, user_id, request, prompt, model_version)
                   VALUES (?, ?, ?, ?, ?, ?)""",
                (workspace_id, channel, user, json.dumps(request), json.dumps(prompt), model_version),
            )
            generation_id = inserted_id(cursor)
            variants = []
            for position, (text, (model, trial_id)) in enumerate(zip(texts, authors, strict=True), start=1):
                cursor = await db.execute(
                    """INSERT INTO variants(generation_id, workspace_id, position, text, model_version,
                       trial_id) VALUES (?, ?, ?, ?, ?, ?)""",
                    (generation_id, workspace_id, position, text, model, trial_id),
                )
                variants.append(Variant(id=inserted_id(cursor), text=text, position=position))
        return generation_id, variants

    async def discard_unposted(self, workspace_id: str, generation_id: int) -> int:
        """Remove the variants of a generation that were never posted (and the generation when none
        was): a /copy whose delivery failed leaves nothing behind to approve or train on. Returns
        how many variants went."""
        async with self.transaction() as db:
            cursor = await db.execute(
                """DELETE FROM variants WHERE generation_id = ? AND workspace_id = ?
                   AND posted_message IS NULL
                   AND NOT EXISTS (SELECT 1 FROM feedback f WHERE f.variant_id = variants.id)""",
                (generation_id, workspace_id))
            removed = cursor.rowcount
            await db.execute(
                """DELETE FROM generations WHERE id = ? AND workspace_id = ?
                   AND NOT EXISTS (SELECT 1 FROM variants v WHERE v.generation_id = generations.id)""",
                (generation_id, workspace_id))
        return removed

    async def mark_posted(self, workspace_id: str, variant_id: int, channel: str, message: str) -> None:
        async with self.transaction() as db:
            cursor = await db.execute(
                """UPDATE variants SET posted_channel = ?, posted_message = ?
                   WHERE id = ? AND workspace_id = ?""",
                (channel, message, variant_id, workspace_id),
            )
            if cursor.rowcount != 1:
                raise LookupError(f"variant {variant_id} is not in workspace {workspace_id}")

    async def variant_for_message(self, workspace_id: str, channel: str, message: str) -> int | None:
        return await self.fetch_value(
            """SELECT id FROM variants
               WHERE workspace_id = ? AND posted_channel = ? AND posted_message = ?""",
            (workspace_id, channel, message),
        )

    async def variant_visible(self, workspace_id: str, variant_id: int, channel: str, user: str) -> bool:
        """Whether someone in ``channel`` may name this variant by number: it was posted (or asked
        for) in that channel, or it is their own. A variant in someone's private channel is not."""
        return await self.fetch_one(
            """SELECT 1 FROM variants v JOIN generations g ON g.id = v.generation_id
               WHERE v.id = ? AND v.workspace_id = ?
                 AND (v.posted_channel = ? OR g.channel = ? OR g.user_id = ?) LIMIT 1""",
            (variant_id, workspace_id, channel, channel, user),
        ) is not None

    # --- feedback ------------------------------------------------------------------------------

    async def set_feedback(
        self, variant_id: int, user: str, verdict: Verdict, active: bool,
        finishing_event: int | None = None,
    ) -> FeedbackOutcome:
        """Record that ``user`` has (or no longer has) ``verdict`` on a variant. Idempotent.
        ``finishing_event``: the journaled inbound event this carries out, marked finished in the
        same transaction (a crash leaves both undone, and the event is carried out again)."""
        async with self.transaction() as db:
            if finishing_event is not None:
                await mark_event_finished(db, finishing_event, "done")
            async with db.execute(
                "SELECT active FROM feedback WHERE variant_id = ? AND user_id = ? AND verdict = ?",
                (variant_id, user, verdict.value),
            ) as cursor:
                row = await cursor.fetchone()
            changed = (row["active"] if row else 0) != int(active)
            if changed:
                await db.execute(
                    """INSERT INTO feedback(variant_id, user_id, verdict, active) VALUES (?, ?, ?, ?)
                       ON CONFLICT(variant_id, user_id, verdict) DO UPDATE SET active = excluded.active,
                       updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')""",
                    (variant_id, user, verdict.value, int(active)),
                )
            async with db.execute(
                "SELECT approvals, rejections FROM variant_status WHERE variant_id = ?", (variant_id,)
            ) as cursor:
                status = await cursor.fetchone()
            assert status is not None  # the view has a row for every variant, and the caller found this one
        return FeedbackOutcome(variant_id, status["approvals"], status["rejections"], changed)

    # --- what the copywriter and the learning loop read -----------------------------------------

    async def recent_approved_texts(self, workspace_id: str, limit: int) -> list[str]:
        if limit <= 0:
            return []
        rows = await self.fetch_all(
            """SELECT v.text FROM variant_status s JOIN variants v ON v.id = s.variant_id
               WHERE s.workspace_id = ? AND s.status = 'approved'
               ORDER BY s.approved_at DESC, v.id DESC LIMIT ?""",
            (workspace_id, limit),
        )
        return [row["text"] for row in rows]

    async def approved_examples(
        self, workspace_id: str | None = None, since: datetime | None = None
    ) -> list[ApprovedExample]:
        """Approved variants with their prompts, oldest approval first."""
        query = """SELECT v.id, v.workspace_id, v.text, g.prompt, g.request, s.approved_at
                   FROM variant_status s JOIN variants v ON v.id = s.variant_id
                   JOIN generations g ON g.id = v.generation_id
                   WHERE s.status = 'approved'"""
        params: list = []
        if workspace_id is not None:
            query += " AND v.workspace_id = ?"
            params.append(workspace_id)
        if since is not None:
            query += " AND s.approved_at > ?"
            params.append(utc_text(since))
        query += " ORDER BY s.approved_at, v.id"
        return [
            ApprovedExample(
                variant_id=row["id"],
                workspace=row["workspace_id"],
                messages=json.loads(row["prompt"]),
                text=row["text"],
                approved_at=parse_utc_text(row["approved_at"]),
                request=json.loads(row["request"]),
            )
            for row in await self.fetch_all(query, params)
        ]

    async def variants_with_status(self, workspace_id: str, status: str, *, newest: int | None = None
                                   ) -> list[sqlite3.Row]:
        """The workspace's approved (oldest approval first) or rejected variants (with ``newest``:
        that many, newest first), with prompt, request, approval time and active approvers
        (``approvers``: user ids joined by U+001F)."""
        query = """SELECT v.id, v.text, v.generation_id, g.prompt, g.request, s.approved_at,
                          (SELECT group_concat(f.user_id, char(31)) FROM feedback f
                           WHERE f.variant_id = v.id AND f.verdict = 'approve' AND f.active = 1) AS approvers
                   FROM variant_status s JOIN variants v ON v.id = s.variant_id
                   JOIN generations g ON g.id = v.generation_id
                   WHERE s.status = ? AND v.workspace_id = ?"""
        if newest is None:
            return await self.fetch_all(query + " ORDER BY s.approved_at, v.id", (status, workspace_id))
        return await self.fetch_all(query + " ORDER BY v.id DESC LIMIT ?", (status, workspace_id, newest))

    async def delivered_variants(self, workspace_id: str | None = None) -> list[sqlite3.Row]:
        """Every posted variant (of one workspace, or all), oldest first, with its status, source
        variant, turn kind and its generation's prompt and request (JSON text)."""
        query = """SELECT v.id, v.workspace_id, v.generation_id, v.text, s.status, v.source_variant_id,
                          g.turn_kind, g.prompt, g.request
                   FROM variants v JOIN generations g ON g.id = v.generation_id
                   JOIN variant_status s ON s.variant_id = v.id
                   WHERE v.posted_message IS NOT NULL"""
        params: list = []
        if workspace_id is not None:
            query += " AND v.workspace_id = ?"
            params.append(workspace_id)
        return await self.fetch_all(query + " ORDER BY v.id", params)
