"""The bot running against a fake Slack: the real SlackBot started in this process (HTTP or Socket
Mode), and `copybot run` as a real child process in Slack HTTP mode, for the crash tests and
bench/durability.py: start it, kill -9 it, start it again on the same data folder."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import sys
from pathlib import Path

from bot.ops.logs import SECRET_NAME_ENDINGS
from bot.slack_adapter import SlackBot, SlackConfig
from engine import Engine
from engine.store import Store
from tests.bot.slack import recorded
from tests.bot.slack.fake_slack import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET, FakeSlack
from tests.models import REPO

STARTED = "Slack HTTP mode listening"
START_TIMEOUT = 180.0


def http_config(fake: FakeSlack) -> SlackConfig:
    return SlackConfig(bot_token=BOT_TOKEN, signing_secret=SIGNING_SECRET, host="127.0.0.1", port=0,
                       api_url=fake.api_url, shutdown_grace_seconds=5)


def socket_config(fake: FakeSlack) -> SlackConfig:
    return SlackConfig(bot_token=BOT_TOKEN, app_token=APP_TOKEN, api_url=fake.api_url,
                       shutdown_grace_seconds=5)


async def started(engine: Engine, config: SlackConfig) -> SlackBot:
    """The real SlackBot on ``engine``, started in this process."""
    bot = SlackBot(engine, config)
    await bot.start()
    return bot


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def slack_http_env(api_url: str, port: int, data_dir: Path, model: Path | str,
                   **settings: str) -> dict[str, str]:
    """This machine's environment without its own secrets and copybot settings, plus a Slack
    HTTP-mode deployment pointing at the fake."""
    env = {name: value for name, value in os.environ.items()
           if not name.upper().endswith(SECRET_NAME_ENDINGS)
           and not name.startswith(("COPYBOT_", "SLACK_", "DISCORD_"))}
    env.update(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET,
               COPYBOT_SLACK_API_URL=api_url, COPYBOT_SLACK_HOST="127.0.0.1",
               COPYBOT_SLACK_PORT=str(port), COPYBOT_DATA_DIR=str(data_dir), COPYBOT_MODEL=str(model),
               COPYBOT_PROMPTS_DIR=str(REPO / "prompts"), COPYBOT_FINETUNE_CRON="off",
               COPYBOT_LOG_LEVEL="INFO", HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    env.update(settings)
    return env


class CopybotProcess:
    def __init__(self, process: asyncio.subprocess.Process, port: int) -> None:
        self.process = process
        self.port = port
        self.log: list[str] = []
        self._pump: asyncio.Task | None = None

    @property
    def events_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/slack/events"

    @classmethod
    async def start(cls, env: dict[str, str]) -> CopybotProcess:
        """Start ``copybot run`` and return once it listens for Slack."""
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "run", "--no-console", env=env, cwd=REPO,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE)
        running = cls(process, int(env["COPYBOT_SLACK_PORT"]))
        async with asyncio.timeout(START_TIMEOUT):
            while line := (await process.stderr.readline()).decode():
                running.log.append(line)
                if STARTED in line:
                    break
        if not running.log or STARTED not in running.log[-1]:
            raise RuntimeError("copybot did not start:\n" + "".join(running.log))
        running._pump = asyncio.create_task(running._read_log())
        return running

    async def _read_log(self) -> None:
        while line := await self.process.stderr.readline():
            self.log.append(line.decode())

    def kill(self) -> None:
        """kill -9: no shutdown, no flush, no goodbye."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)

    async def stop(self) -> int:
        if self.process.returncode is None:
            self.process.terminate()
        code = await asyncio.wait_for(self.process.wait(), 60)
        if self._pump is not None:
            await self._pump
        return code

    async def wait(self) -> int:
        code = await asyncio.wait_for(self.process.wait(), 60)
        if self._pump is not None:
            await self._pump
        return code


async def seed_variants(database: Path, count: int, team: str = "T0ACME01",
                        channel: str = recorded.CHANNEL) -> list[str]:
    """``count`` variants already posted in ``channel`` (as a /copy would leave them); returns the
    ts of each message."""
    store = await Store.open(database)
    try:
        workspace = f"slack:{team}"
        await store.ensure_workspace(workspace, "slack")
        _, variants = await store.save_generation(
            workspace, channel, "U0ALICE", {"product": "oat milk", "n": count},
            [{"role": "user", "content": "oat milk"}], "seeded", [f"copy {i}" for i in range(count)])
        timestamps = []
        for variant in variants:
            ts = f"1690000000.{variant.id:06d}"
            await store.mark_posted(workspace, variant.id, channel, ts)
            timestamps.append(ts)
        return timestamps
    finally:
        await store.close()


def query(database: Path, sql: str, *args) -> list[tuple]:
    db = sqlite3.connect(database)
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


def approved_messages(database: Path) -> set[str]:
    """The ts of every variant message that is approved now."""
    return {ts for (ts,) in query(database, """
        SELECT v.posted_message FROM variant_status s JOIN variants v ON v.id = s.variant_id
        WHERE s.status = 'approved'""")}


async def until_journal_finished(database: Path, timeout: float = 120.0) -> None:
    """Until the restarted bot has finished every event it had acknowledged."""
    async with asyncio.timeout(timeout):
        while query(database, "SELECT COUNT(*) FROM inbound_events WHERE finished_at IS NULL")[0][0]:
            await asyncio.sleep(0.05)
