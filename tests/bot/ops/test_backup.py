"""`copybot backup` while the bot is running, then a restore done as docs/operations.md says."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from engine import CopyRequest, Engine, Feedback, UserError, Verdict
from tests.processes import child_env, run_copybot


def sqlite_value(path: Path, query: str):
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return db.execute(query).fetchone()[0]
    finally:
        db.close()


def restore(backup: Path, database: Path) -> None:
    """The restore steps of docs/operations.md (Backups), with the bot stopped."""
    shutil.copyfile(backup, database)
    for suffix in ("-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)


async def test_backup_of_a_live_database_restores_to_that_moment(remote_config, console_origin, tmp_path):
    backups = tmp_path / "backups"
    backups.mkdir()
    env = child_env(COPYBOT_DATA_DIR=str(remote_config.data_dir))
    database = remote_config.database_path
    engine = await Engine.open(remote_config)
    try:
        kept = await engine.copy(console_origin, CopyRequest(product="linen bed sheets", n=2))
        await engine.record_feedback(Feedback(console_origin, Verdict.APPROVE, added=True,
                                              variant_id=kept.variants[0].id))
        # The newest writes are still only in the WAL, which the backup must include.
        assert Path(f"{database}-wal").stat().st_size > 0
        code, stdout, stderr = await run_copybot("backup", str(backups), env=env)
        lost = await engine.copy(console_origin, CopyRequest(product="wool socks", n=1))
    finally:
        await engine.close()
    assert code == 0, stderr
    [backup] = backups.iterdir()  # one timestamped file, no partial left behind
    assert backup.name.startswith("copybot-") and backup.suffix == ".db"
    assert stdout.startswith("Backed up 2 variants (schema ") and str(backup) in stdout
    # One self-contained, intact file: restorable by copying it.
    assert sqlite_value(backup, "PRAGMA journal_mode") == "delete"
    assert sqlite_value(backup, "PRAGMA integrity_check") == "ok"

    restore(backup, database)
    async with await Engine.open(remote_config) as restored:
        assert await restored.export_approved(tmp_path / "approved.jsonl") == 1
        assert kept.variants[0].text in (tmp_path / "approved.jsonl").read_text()
        with pytest.raises(UserError, match=f"no variant #{lost.variants[0].id}"):
            await restored.record_feedback(Feedback(console_origin, Verdict.APPROVE, added=True,
                                                    variant_id=lost.variants[0].id))
        again = await restored.copy(console_origin, CopyRequest(product="wool socks", n=1))
        assert again.generation_id == lost.generation_id  # the restored database goes on from there


async def test_a_backup_replaces_an_older_one_at_the_same_path(remote_config, console_origin, tmp_path):
    target = tmp_path / "nightly.db"
    target.write_bytes(b"yesterday's backup")
    async with await Engine.open(remote_config) as engine:
        await engine.copy(console_origin, CopyRequest(product="linen bed sheets", n=1))
    code, stdout, stderr = await run_copybot(
        "backup", str(target), env=child_env(COPYBOT_DATA_DIR=str(remote_config.data_dir)))
    assert code == 0, stderr
    assert sqlite_value(target, "SELECT count(*) FROM variants") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "nightly.db"]


async def test_backup_explains_a_missing_database_and_a_missing_folder(tmp_path):
    env = child_env(COPYBOT_DATA_DIR=str(tmp_path / "empty"))
    code, stdout, stderr = await run_copybot("backup", str(tmp_path), env=env)
    assert code == 2 and stdout == ""
    assert stderr.strip() == (f"copybot: There is no database at {tmp_path / 'empty' / 'copybot.db'} to "
                              "back up; check COPYBOT_DATA_DIR and COPYBOT_DATABASE.")
    assert not (tmp_path / "empty").exists()  # nothing was created

    database = tmp_path / "live.db"
    sqlite3.connect(database).close()
    code, _, stderr = await run_copybot("backup", str(tmp_path / "no" / "such" / "b.db"),
                                        env=child_env(COPYBOT_DATABASE=str(database)))
    assert code == 2
    assert f"The folder {tmp_path / 'no' / 'such'} does not exist" in stderr
