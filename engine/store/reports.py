"""Weekly reports: the figures a report is computed from, and the ``reports`` rows that make each
period's report posted exactly once (claimed, attempts counted, parts posted, posted or given up).

Periods are given as store time text (``utc_text``): [start, end).
"""

from __future__ import annotations

import logging
import sqlite3

from engine.store.database import Database

logger = logging.getLogger(__name__)


class ReportRecords(Database):
    # --- figures ------------------------------------------------------------------------------

    async def copies_made(self, workspace: str, start: str, end: str) -> int:
        return await self.fetch_value("""SELECT count(*) FROM generations
                                         WHERE workspace_id = ? AND created_at >= ? AND created_at < ?""",
                                      (workspace, start, end))

    async def verdict_counts(self, workspace: str, start: str, end: str) -> tuple[int, int, int]:
        """(variants, approved, rejected) of the generations made in the period."""
        row = await self.fetch_one("""
            SELECT count(*), COALESCE(SUM(s.status = 'approved'), 0), COALESCE(SUM(s.status = 'rejected'), 0)
            FROM variants v JOIN generations g ON g.id = v.generation_id
            JOIN variant_status s ON s.variant_id = v.id
            WHERE g.workspace_id = ? AND g.created_at >= ? AND g.created_at < ?""", (workspace, start, end))
        assert row is not None  # an aggregate without GROUP BY has one row
        return tuple(row)

    async def most_approved(self, workspace: str, start: str, end: str, limit: int) -> list[tuple[str, int]]:
        """(text, approvals) of the most approved variants among those approved in the period."""
        return await self.fetch_tuples("""
            SELECT v.text, s.approvals FROM variant_status s JOIN variants v ON v.id = s.variant_id
            WHERE s.workspace_id = ? AND s.status = 'approved' AND s.approved_at >= ? AND s.approved_at < ?
            ORDER BY s.approvals DESC, s.approved_at DESC LIMIT ?""", (workspace, start, end, limit))

    async def top_approvers(self, workspace: str, start: str, end: str, limit: int = 3) -> list[tuple[str, int]]:
        """(user, approvals given in the period), most first."""
        return await self.fetch_tuples("""
            SELECT f.user_id, count(*) AS n FROM feedback f JOIN variants v ON v.id = f.variant_id
            WHERE v.workspace_id = ? AND f.verdict = 'approve' AND f.active = 1
              AND f.updated_at >= ? AND f.updated_at < ?
            GROUP BY f.user_id ORDER BY n DESC, f.user_id LIMIT ?""", (workspace, start, end, limit))

    async def review_counts(self, workspace: str, start: str, end: str) -> tuple[int, int, int, int, int]:
        """(batches, reviews, positive, negative, neutral) of the review batches of the period."""
        row = await self.fetch_one("""
            SELECT count(*), COALESCE(SUM(analysed), 0), COALESCE(SUM(positive), 0),
                   COALESCE(SUM(negative), 0), COALESCE(SUM(neutral), 0)
            FROM review_batches WHERE workspace_id = ? AND created_at >= ? AND created_at < ?""",
            (workspace, start, end))
        assert row is not None  # an aggregate without GROUP BY has one row
        return tuple(row)

    async def top_themes(self, workspace: str, start: str, end: str, kind: str, limit: int = 3
                         ) -> list[tuple[str, int]]:
        """(label, mentions) of the period's most mentioned ``praise`` or ``complaint`` themes."""
        return await self.fetch_tuples("""
            SELECT t.label, SUM(t.mentions) AS n FROM review_themes t
            JOIN review_batches b ON b.id = t.batch_id
            WHERE b.workspace_id = ? AND b.created_at >= ? AND b.created_at < ? AND t.kind = ?
            GROUP BY lower(t.label) ORDER BY n DESC LIMIT ?""", (workspace, start, end, kind, limit))

    async def reviews_with_aspects(self, workspace: str, start: str, end: str) -> list[tuple[str, str]]:
        """(aspects_json, text) of the period's reviews that have aspects."""
        return await self.fetch_tuples("""
            SELECT l.aspects_json, l.text FROM review_labels l JOIN review_batches b ON b.id = l.batch_id
            WHERE b.workspace_id = ? AND b.created_at >= ? AND b.created_at < ? AND l.aspects_json != '{}'""",
            (workspace, start, end))

    async def review_batch_details(self, workspace: str, start: str, end: str) -> list[tuple[str, str]]:
        """(source, details_json) of the period's review batches, oldest first."""
        return await self.fetch_tuples("""SELECT source, details_json FROM review_batches
                                     WHERE workspace_id = ? AND created_at >= ? AND created_at < ?
                                     ORDER BY created_at""", (workspace, start, end))

    # --- posting each period's report once -----------------------------------------------------

    async def newest_report_end(self, workspace: str) -> str | None:
        return await self.fetch_value("SELECT max(period_end) FROM reports WHERE workspace_id = ?",
                                      (workspace,))

    async def report_unfinished(self, workspace: str, start: str) -> bool:
        """Claimed, and neither posted nor given up."""
        return await self.fetch_one(
            """SELECT 1 FROM reports WHERE workspace_id = ? AND period_start = ?
               AND posted_at IS NULL AND gave_up_at IS NULL""", (workspace, start)) is not None

    async def report_row(self, workspace: str, start: str) -> sqlite3.Row | None:
        """content, chart, late, posted_at, gave_up_at, parts_posted, attempts, last_attempt_at."""
        return await self.fetch_one(
            """SELECT content, chart, late, posted_at, gave_up_at, parts_posted, attempts,
                      last_attempt_at FROM reports WHERE workspace_id = ? AND period_start = ?""",
            (workspace, start))

    async def claim_report(self, workspace: str, start: str, end: str, channel: str, late: bool,
                           content: str, chart: str) -> None:
        """The report as data and its chart, kept for every later try."""
        async with self.transaction() as db:
            await db.execute(
                """INSERT INTO reports(workspace_id, period_start, period_end, channel, text, late,
                                       content, chart) VALUES (?, ?, ?, ?, '', ?, ?, ?)""",
                (workspace, start, end, channel, int(late), content, chart))

    async def count_report_attempt(self, workspace: str, start: str, attempts: int, at: str) -> None:
        await self._update_report(workspace, start, "attempts = ?, last_attempt_at = ?", (attempts, at))

    async def set_report_parts_posted(self, workspace: str, start: str, count: int) -> None:
        await self._update_report(workspace, start, "parts_posted = ?", (count,))

    async def give_up_report(self, workspace: str, start: str, at: str) -> None:
        await self._update_report(workspace, start, "gave_up_at = ?", (at,))

    async def mark_report_posted(self, workspace: str, start: str, at: str) -> None:
        await self._update_report(workspace, start, "posted_at = ?", (at,))

    async def _update_report(self, workspace: str, start: str, assignments: str, values: tuple) -> None:
        async with self.transaction() as db:
            await db.execute(f"UPDATE reports SET {assignments} WHERE workspace_id = ? AND period_start = ?",
                             values + (workspace, start))
