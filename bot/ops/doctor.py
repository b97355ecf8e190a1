"""``copybot doctor``: check a deployment and say what to fix, before the team finds out in chat.

Checks, in order: the settings parse; Slack/Discord tokens are present and well-formed (shape only,
nothing is sent to Slack or Discord); admins are named; the prompts load; the database is readable,
writable and migrated (it is never migrated or created here); disk space; the metrics port; and
the model loads and writes a few tokens (a remote server answers). Each finding is one line; a
failure says how to fix it. Secrets are never printed.

The doctor looks inside the engine (model loading, migrations) on purpose: it diagnoses the
engine's setup; adapters still use only the public ``engine`` module.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import shutil
import socket
import sqlite3
import tempfile
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, fields
from pathlib import Path

from bot.ops.logs import Redactor
from engine import (
    EngineConfig,
    Settings,
    UserError,
    env_name,
    latest_schema_version,
    probe_model,
    prompts_summary,
    read_settings,
)

logger = logging.getLogger(__name__)

GIB = 1024 ** 3
MIN_FREE_BYTES = GIB // 2  # below this, writes (and fine-tunes) start failing
LOW_FREE_BYTES = 2 * GIB  # below this, say so: each fine-tuned model version takes room


class Level(enum.Enum):
    OK = "ok"
    WARN = "warn"
    FAIL = "FAIL"


@dataclass(frozen=True)
class Finding:
    check: str
    level: Level
    text: str  # what was found; for a failure, also what to do

    def line(self) -> str:
        return f"{self.level.value:<5} {self.check:<13} {self.text}"


async def diagnose(env: Mapping[str, str] | None = None, *, min_free: int = MIN_FREE_BYTES,
                   low_free: int = LOW_FREE_BYTES) -> AsyncIterator[Finding]:
    """The findings, as each check finishes (the model check can take a minute on first run)."""
    settings, problems = read_settings(env)
    # A bad Slack or Discord value is told under that platform's check; the rest here.
    platform_problems = {name: text for name, text in problems.items() if _platform_of(name)}
    general = [text for name, text in problems.items() if name not in platform_problems]
    yield Finding("configuration", Level.FAIL, " ".join(general)) if general else Finding(
        "configuration", Level.OK, f"settings read; data in {settings.data_dir}")
    for finding in _platforms(settings, platform_problems):
        yield finding
    engine_variables = {env_name(f.name) for f in fields(EngineConfig)}
    if engine_variables & problems.keys():
        yield Finding("engine", Level.FAIL, "not checked: fix the configuration first.")
        return
    config = settings.engine_config()
    yield _admins(config)
    yield _prompts(config)
    yield await asyncio.to_thread(_database, config)
    yield _disk(config, min_free, low_free)
    if config.metrics_port is not None:
        yield _metrics_port(config)
    if config.backend == "openai":
        yield await _remote_model(config)
    else:
        yield await asyncio.to_thread(_model, config)  # its own event loop: loading takes the thread


def _platform_of(variable: str) -> str | None:
    for platform in ("slack", "discord"):
        if variable.startswith((f"{platform.upper()}_", f"COPYBOT_{platform.upper()}_")):
            return platform
    return None


def _platforms(settings: Settings, problems: Mapping[str, str]) -> list[Finding]:
    from bot.discord_adapter.config import DiscordConfig
    from bot.slack_adapter.config import SlackConfig

    findings = []
    slack_problems = [text for name, text in problems.items() if _platform_of(name) == "slack"]
    discord_problems = [text for name, text in problems.items() if _platform_of(name) == "discord"]
    slack_on = settings.slack_bot_token is not None
    if slack_problems:
        findings.append(Finding("slack", Level.FAIL, " ".join(slack_problems)))
    elif slack_on:
        try:
            slack = SlackConfig.from_settings(settings)
            mode = ("Socket Mode" if slack.socket_mode
                    else f"HTTP mode, Slack posts to port {slack.port}{slack.path}")
            findings.append(Finding("slack", Level.OK, f"bot token set; {mode}"))
        except UserError as exc:
            findings.append(Finding("slack", Level.FAIL, str(exc)))
    elif settings.slack_app_token is not None or settings.slack_signing_secret is not None:
        findings.append(Finding("slack", Level.WARN, "SLACK_APP_TOKEN or SLACK_SIGNING_SECRET is set "
                                "but SLACK_BOT_TOKEN is not, so Slack stays off; set the bot token "
                                "(OAuth & Permissions)."))
    discord = DiscordConfig.from_settings(settings)
    discord_on = discord is not None or bool(discord_problems)
    if discord_problems:
        findings.append(Finding("discord", Level.FAIL, " ".join(discord_problems)))
    elif discord is not None:
        if discord.token.count(".") != 2 or any(c.isspace() for c in discord.token):
            findings.append(Finding("discord", Level.FAIL, "DISCORD_TOKEN does not look like a bot "
                                    "token (three parts separated by dots); copy it again from the "
                                    "Developer Portal (your application -> Bot -> Reset Token)."))
        else:
            where = (f"{len(discord.guilds)} server(s)" if discord.guilds else "every server it is in")
            findings.append(Finding("discord", Level.OK, f"bot token set; serving {where}"))
    if not slack_on and not discord_on:
        findings.append(Finding("platforms", Level.WARN, "neither SLACK_BOT_TOKEN nor DISCORD_TOKEN is "
                                "set: `copybot run` opens only the terminal console (the container and "
                                "the systemd unit exit instead). Set one (see "
                                "deploy/copybot.env.example)."))
    return findings


def _admins(config: EngineConfig) -> Finding:
    if not config.admins:
        return Finding("admins", Level.WARN, "COPYBOT_ADMINS is empty: nobody in Slack or Discord can "
                       "change /settings; name admins such as slack:U0123 or discord:<user id>.")
    return Finding("admins", Level.OK, f"{len(config.admins)} named")


def _prompts(config: EngineConfig) -> Finding:
    try:
        summary = prompts_summary(config)
    except Exception as exc:  # a missing folder or a marketer's typo in the TOML
        return Finding("prompts", Level.FAIL, f"{config.prompts_dir} does not load ({exc}); fix the "
                       "file or set COPYBOT_PROMPTS_DIR to the prompts folder.")
    return Finding("prompts", Level.OK, f"{summary.tones} tones, {summary.channels} channels "
                   f"from {config.prompts_dir}")


def _database(config: EngineConfig) -> Finding:
    path = config.database_path
    latest = latest_schema_version()
    if path.is_dir():
        return Finding("database", Level.FAIL, f"{path} is a folder, not a database file; set "
                       "COPYBOT_DATABASE to a file path.")
    if not path.exists():
        return _database_location(path)
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True, timeout=5,
                             isolation_level=None)
    except sqlite3.Error as exc:
        return Finding("database", Level.FAIL, f"{path} cannot be opened for writing ({exc}); make it "
                       "writable by the user that runs copybot.")
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        check = db.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            return Finding("database", Level.FAIL, f"{path} is damaged ({check}); restore the latest "
                           "backup (docs/operations.md: Backups).")
        try:
            db.execute("BEGIN IMMEDIATE")  # takes the write lock, writes nothing
            db.execute("ROLLBACK")
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                return Finding("database", Level.WARN, f"{path} stayed locked for 5 s (the bot is "
                               "busy writing?); run the doctor again.")
            return Finding("database", Level.FAIL, f"{path} is not writable ({exc}); make it and its "
                           "folder writable by the user that runs copybot.")
    except sqlite3.DatabaseError as exc:
        return Finding("database", Level.FAIL, f"{path} is not a copybot database ({exc}); restore a "
                       "backup, or move the file away to start afresh.")
    finally:
        db.close()
    if version > latest:
        return Finding("database", Level.FAIL, f"{path} has schema {version}, newer than this copybot "
                       f"({latest}); run the copybot version that wrote it, or upgrade.")
    if version < latest:
        return Finding("database", Level.WARN, f"{path} has schema {version} of {latest}: the next "
                       f"start applies {latest - version} migration(s). Take a backup first "
                       "(`copybot backup PATH`).")
    return Finding("database", Level.OK, f"{path} writable, schema {version} (up to date)")


def _database_location(path: Path) -> Finding:
    """No database yet: can the first start create one here?"""
    folder = path.parent
    existing = folder
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        return Finding("database", Level.FAIL, f"{existing} is a file, so {folder} cannot be created; "
                       "set COPYBOT_DATA_DIR to a folder.")
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as exc:
        return Finding("database", Level.FAIL, f"{existing} is not writable ({exc.strerror}); make it "
                       "writable by the user that runs copybot, or set COPYBOT_DATA_DIR.")
    return Finding("database", Level.OK, f"none yet; the first start creates {path}")


def _disk(config: EngineConfig, min_free: int, low_free: int) -> Finding:
    where = config.data_dir
    while not where.exists():
        where = where.parent
    free = shutil.disk_usage(where).free
    shown = f"{free / GIB:.1f} GiB free at {where}"
    if free < min_free:
        return Finding("disk", Level.FAIL, f"only {shown}; free some space (SQLite and model versions "
                       "need it) or move COPYBOT_DATA_DIR.")
    if free < low_free:
        return Finding("disk", Level.WARN, f"{shown}; each fine-tuned model version needs room.")
    return Finding("disk", Level.OK, shown)


def _metrics_port(config: EngineConfig) -> Finding:
    address = (config.metrics_host, config.metrics_port)
    try:
        with socket.create_server(address):
            pass
    except OSError as exc:
        return Finding("metrics", Level.WARN, f"cannot listen on {address[0]}:{address[1]} "
                       f"({exc.strerror}); if copybot is running, that is it; otherwise pick "
                       "another COPYBOT_METRICS_PORT.")
    return Finding("metrics", Level.OK, f"/healthz and /metrics will be on {address[0]}:{address[1]}")


async def _remote_model(config: EngineConfig) -> Finding:
    """One short streamed completion from the configured server, without retries: the admin
    running the doctor wants the answer now. Unlike chat, the line names the server."""
    started = time.monotonic()
    try:
        probe = await probe_model(config)
    except UserError as exc:
        return Finding("model", Level.FAIL, str(exc))
    seconds = time.monotonic() - started
    return Finding("model", Level.OK, f"{probe.version} on server {probe.server} answered "
                   f"in {seconds:.1f} s")


def _model(config: EngineConfig) -> Finding:
    """Load the configured model (assembling the bundled one on first use) and write a few tokens."""
    started = time.monotonic()
    try:
        version = asyncio.run(probe_model(config)).version
    except UserError as exc:
        return Finding("model", Level.FAIL, str(exc))
    except Exception as exc:  # anything else is worth its type in the line, and a log traceback
        logger.debug("model check failed", exc_info=True)
        return Finding("model", Level.FAIL, f"{config.model} failed to load or generate "
                       f"({type(exc).__name__}); run with COPYBOT_LOG_LEVEL=DEBUG for details.")
    seconds = time.monotonic() - started
    return Finding("model", Level.OK, f"{version} on this machine loaded and answered in "
                   f"{seconds:.1f} s")


async def run_doctor(env: Mapping[str, str] | None = None, out=None) -> int:
    """Print each finding as it comes and a summary; 1 when anything must be fixed."""
    import sys

    out = out or sys.stdout
    redact = Redactor.from_env(env)
    failures = warnings = 0
    async for finding in diagnose(env):
        print(redact(finding.line()), file=out, flush=True)
        failures += finding.level is Level.FAIL
        warnings += finding.level is Level.WARN
    if failures:
        print(f"{failures} problem(s) to fix, {warnings} warning(s).", file=out)
        return 1
    print(f"Ready to run ({warnings} warning(s)).", file=out)
    return 0
