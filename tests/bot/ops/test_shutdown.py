"""SIGTERM against a real `copybot run` process with a /copy in flight (generation held back by the
fake model server): the request finishes or fails cleanly, no new command is taken, the database is
closed, and no secret reaches the log."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import socket
import sqlite3
from pathlib import Path

import aiohttp

from tests.fake_openai import ANSWERS, FakeOpenAI
from tests.processes import COPYBOT, child_env, leaked_secrets

TIMEOUT = 60.0


class Stream:
    """Lines of a child's output as they arrive, and a way to wait for one."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self.lines: list[str] = []
        self._changed = asyncio.Condition()
        self._task = asyncio.create_task(self._pump(reader))

    async def _pump(self, reader: asyncio.StreamReader) -> None:
        while line := await reader.readline():
            async with self._changed:
                self.lines.append(line.decode())
                self._changed.notify_all()

    async def wait_for(self, pattern: str) -> str:
        def found() -> str | None:
            return next((line for line in self.lines if re.search(pattern, line)), None)

        async with asyncio.timeout(TIMEOUT):
            async with self._changed:
                await self._changed.wait_for(lambda: found() is not None or self._task.done())
        line = found()
        assert line is not None, f"never printed {pattern!r}; got: {''.join(self.lines)}"
        return line

    async def finished(self) -> str:
        await asyncio.wait_for(self._task, TIMEOUT)
        return "".join(self.lines)


class RunningBot:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.stdout = Stream(process.stdout)
        self.stderr = Stream(process.stderr)

    @classmethod
    async def start(cls, env: dict[str, str]) -> RunningBot:
        process = await asyncio.create_subprocess_exec(
            *COPYBOT, "run", env=env, stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        bot = cls(process)
        await bot.stdout.wait_for("copybot console")
        return bot

    async def send(self, line: str) -> None:
        self.process.stdin.write(line.encode() + b"\n")
        await self.process.stdin.drain()

    async def exit_code(self) -> int:
        return await asyncio.wait_for(self.process.wait(), TIMEOUT)

    def kill(self) -> None:
        if self.process.returncode is None:
            self.process.kill()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def bot_env(data_dir: Path, fake: FakeOpenAI, **settings: str) -> dict[str, str]:
    return child_env(COPYBOT_DATA_DIR=str(data_dir), COPYBOT_GROUNDING="off",  # canned answers
                     COPYBOT_BACKEND="openai", COPYBOT_OPENAI_URL=fake.url,
                     COPYBOT_OPENAI_MODEL="fake-model", COPYBOT_MAX_ROUNDS="1", COPYBOT_LOG_FORMAT="json",
                     COPYBOT_LOG_LEVEL="INFO", **settings)


async def health(port: int) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
            return response.status, await response.json()


def stored(data_dir: Path) -> tuple[int, int]:
    db = sqlite3.connect(data_dir / "copybot.db")
    try:
        return (db.execute("SELECT count(*) FROM generations").fetchone()[0],
                db.execute("SELECT count(*) FROM variants").fetchone()[0])
    finally:
        db.close()


def check_log(stderr: str) -> list[dict]:
    """Every line one JSON event; no secret anywhere."""
    assert not leaked_secrets(stderr)
    return [json.loads(line) for line in stderr.splitlines()]


async def test_sigterm_finishes_the_copy_in_flight_takes_no_new_command_and_closes(tmp_path, fake_openai):
    data_dir = tmp_path / "data"
    port = free_port()
    fake_openai.hold()
    bot = await RunningBot.start(bot_env(data_dir, fake_openai, COPYBOT_METRICS_PORT=str(port),
                                         COPYBOT_SHUTDOWN_SECONDS="30"))
    try:
        await bot.send("/copy single-origin coffee beans roasted weekly n: 2")
        await fake_openai.wait_for_in_flight(3)  # two variants and the copywriter's spare
        serving = await health(port)

        bot.process.send_signal(signal.SIGTERM)
        await bot.stderr.wait_for("taking no new commands")
        draining = await health(port)
        await bot.send("/copy a second product that must never be written n: 1")
        assert bot.process.returncode is None  # waiting for the copy in flight, not gone

        fake_openai.release()
        code = await bot.exit_code()
    finally:
        bot.kill()
    stdout, stderr = await bot.stdout.finished(), await bot.stderr.finished()
    assert code == 0, stderr
    assert serving[0] == 200 and serving[1]["status"] == "ok"
    assert draining == (503, {"status": "stopping"})
    # The user got the copy: two of the three answers written (the copywriter keeps the best two;
    # the "writing:" line streamed the first as it came).
    listed = [line for line in stdout.splitlines() if re.match(r"^\s+#\d+\s", line)]
    assert len(listed) == 2 and sum(any(answer in line for line in listed) for answer in ANSWERS[:3]) == 2
    assert len(fake_openai.requests) == 3  # the line sent after SIGTERM never reached the model
    assert not (data_dir / "copybot.db-wal").exists()  # the bot closed the database cleanly
    assert stored(data_dir) == (1, 2)
    events = check_log(stderr)
    saved = next(e for e in events if re.match(r"generation \d+: 2 variants", e["message"]))
    assert re.fullmatch(r"[0-9a-f]{12}", saved["request_id"])


async def test_past_the_deadline_the_copy_is_cancelled_cleanly_and_the_bot_still_exits(tmp_path,
                                                                                        fake_openai):
    data_dir = tmp_path / "data"
    fake_openai.hold()  # never released: the model server hangs (its timeout is 60 s)
    bot = await RunningBot.start(bot_env(data_dir, fake_openai, COPYBOT_SHUTDOWN_SECONDS="1"))
    try:
        await bot.send("/copy hand-thrown ceramic mugs n: 1")
        await fake_openai.wait_for_in_flight(1)
        bot.process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(bot.process.wait(), 20)  # far sooner than the server's timeout
    finally:
        bot.kill()
    stdout, stderr = await bot.stdout.finished(), await bot.stderr.finished()
    assert code == 0, stderr
    assert "copybot stopped before that command finished; nothing was saved for it." in stdout
    assert not (data_dir / "copybot.db-wal").exists()
    assert stored(data_dir) == (0, 0)
    messages = [e["message"] for e in check_log(stderr)]
    assert any(m.startswith("still busy after 1 s (console); cancelling") for m in messages)
