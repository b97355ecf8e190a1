"""Workspaces and their settings."""

from __future__ import annotations

import logging

from engine.store.database import Database

logger = logging.getLogger(__name__)


class WorkspaceRecords(Database):
    async def ensure_workspace(self, workspace_id: str, platform: str) -> None:
        async with self.transaction() as db:
            await db.execute(
                "INSERT OR IGNORE INTO workspaces(id, platform) VALUES (?, ?)", (workspace_id, platform)
            )

    async def workspace_ids(self) -> list[str]:
        return [row["id"] for row in await self.fetch_all("SELECT id FROM workspaces ORDER BY id")]

    async def settings(self, workspace_id: str) -> dict[str, str]:
        rows = await self.fetch_all("SELECT key, value FROM settings WHERE workspace_id = ?", (workspace_id,))
        return {row["key"]: row["value"] for row in rows}

    async def set_setting(self, workspace_id: str, key: str, value: str | None, by: str) -> None:
        """Store a workspace setting; ``None`` removes it (back to the deployment default)."""
        async with self.transaction() as db:
            if value is None:
                await db.execute(
                    "DELETE FROM settings WHERE workspace_id = ? AND key = ?", (workspace_id, key)
                )
                return
            await db.execute(
                """INSERT INTO settings(workspace_id, key, value, updated_by) VALUES (?, ?, ?, ?)
                   ON CONFLICT(workspace_id, key) DO UPDATE SET value = excluded.value,
                   updated_by = excluded.updated_by,
                   updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')""",
                (workspace_id, key, value, by),
            )

    async def workspaces_with(self, key: str) -> list[tuple[str, str, str]]:
        """(workspace, value, when it was last set) of every workspace that has setting ``key``."""
        rows = await self.fetch_all(
            "SELECT workspace_id, value, updated_at FROM settings WHERE key = ?", (key,))
        return [tuple(row) for row in rows]
