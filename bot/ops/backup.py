"""``copybot backup PATH``: a consistent copy of the live database, taken while the bot runs.

SQLite's online backup API copies the database page by page inside one read transaction, so the copy
is a snapshot even while the bot writes (WAL lets the writer go on). The copy goes to a temporary
file next to the target, is switched out of WAL mode (one self-contained file), checked with
``PRAGMA integrity_check`` and only then renamed into place: a failed or interrupted backup never
leaves a half-written file under the target's name.

Restore: stop the bot, copy the backup over the database file, delete ``copybot.db-wal`` and
``copybot.db-shm`` next to it if present, start the bot (see docs/operations.md, Backups).
"""

from __future__ import annotations

import logging
import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from engine import UserError

logger = logging.getLogger(__name__)

BUSY_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int  # bytes
    schema_version: int
    variants: int


def backup_target(target: Path, now: datetime | None = None) -> Path:
    """A directory gets a timestamped file inside it; anything else is the file to write."""
    if target.is_dir():
        moment = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
        return target / f"copybot-{moment}.db"
    return target


def backup_database(source: Path, target: Path) -> BackupResult:
    if not source.is_file():
        raise UserError(f"There is no database at {source} to back up; check COPYBOT_DATA_DIR and "
                        "COPYBOT_DATABASE.")
    target = backup_target(target)
    if not target.parent.is_dir():
        raise UserError(f"The folder {target.parent} does not exist; create it or name another one.")
    if target.resolve() == source.resolve():
        raise UserError("The backup must not overwrite the live database; name another file.")
    partial = target.with_name(f".{target.name}.partial")
    try:
        _copy(source, partial)
        size = partial.stat().st_size
        schema_version, variants = _describe(partial)
        os.replace(partial, target)
        _sync_directory(target.parent)
    except sqlite3.DatabaseError as exc:
        raise UserError(f"Backing up {source} failed ({exc}); the database may be damaged: run "
                        "`copybot doctor`.") from None
    except OSError as exc:
        raise UserError(f"Cannot write the backup to {target} ({exc.strerror}).") from None
    finally:
        partial.unlink(missing_ok=True)
    logger.info("backed up %s to %s (%d bytes)", source, target, size)
    return BackupResult(target, size, schema_version, variants)


def _copy(source: Path, partial: Path) -> None:
    partial.unlink(missing_ok=True)
    # mode=rw: never create a database where there was none.
    live = sqlite3.connect(f"{source.resolve().as_uri()}?mode=rw", uri=True, timeout=BUSY_TIMEOUT_SECONDS)
    try:
        copy = sqlite3.connect(partial)
        try:
            live.backup(copy)  # all pages in one step: one read transaction, one snapshot
            copy.execute("PRAGMA journal_mode=DELETE")  # a single file, restorable by copying it
            result = copy.execute("PRAGMA integrity_check").fetchone()[0]
            if result != "ok":
                raise sqlite3.DatabaseError(f"integrity check of the copy: {result}")
            copy.commit()
        finally:
            copy.close()
    finally:
        live.close()
    with partial.open("rb") as written:
        os.fsync(written.fileno())


def _describe(path: Path) -> tuple[int, int]:
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        try:
            variants = db.execute("SELECT count(*) FROM variants").fetchone()[0]
        except sqlite3.OperationalError:  # an empty or very old database
            variants = 0
        return version, variants
    finally:
        db.close()


def _sync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
