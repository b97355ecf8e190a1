"""The `copybot` command run as a real child process, as a user or a service manager runs it: its
environment (with the test secrets, which no log line or output may contain), one-shot commands,
and interactive console sessions."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import sys

from bot.ops.logs import SECRET_NAME_ENDINGS

COPYBOT = [sys.executable, "-m", "bot.cli"]

# Secrets as a deployment has them. No log line of any ops test may contain one of these values.
TEST_SECRETS = {
    "SLACK_BOT_TOKEN": "xoxb-1111-2222-opsTestBotTokenValue",
    "SLACK_APP_TOKEN": "xapp-1-A111-opsTestAppTokenValue",
    "SLACK_SIGNING_SECRET": "opsTestSigningSecret0123456789abcdef",
    "DISCORD_TOKEN": "MTExMTEx.opsTest.DiscordTokenValue",
    "COPYBOT_OPENAI_API_KEY": "sk-opsTestApiKeyNeverLogged",
}
API_KEY = TEST_SECRETS["COPYBOT_OPENAI_API_KEY"]


def leaked_secrets(text: str) -> list[str]:
    return [name for name, value in TEST_SECRETS.items() if value in text]


def child_env(**settings: str) -> dict[str, str]:
    """The environment for a `copybot` child process: this machine's own secrets and copybot
    settings left out, the test secrets in (except the tokens that would start Slack/Discord)."""
    env = {name: value for name, value in os.environ.items()
           if not name.upper().endswith(SECRET_NAME_ENDINGS)
           and not name.startswith(("COPYBOT_", "SLACK_", "DISCORD_"))}
    env.update({name: value for name, value in TEST_SECRETS.items()
                if name not in ("SLACK_BOT_TOKEN", "DISCORD_TOKEN")})
    env.update(settings)
    return env


async def run_copybot(*args: str, env: dict[str, str], timeout: float = 180) -> tuple[int, str, str]:
    """``copybot <args>`` to its end, with no input: (exit code, stdout, stderr)."""
    process = await asyncio.create_subprocess_exec(
        *COPYBOT, *args, env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout)
    return process.returncode, stdout.decode(), stderr.decode()


class ConsoleSession:
    def __init__(self, process: asyncio.subprocess.Process):
        self.process = process

    async def send(self, line: bytes) -> None:
        self.process.stdin.write(line + b"\n")
        await self.process.stdin.drain()

    async def read_until(self, pattern: str) -> str:
        """Output lines up to and including the first that matches ``pattern``."""
        seen = []
        while True:
            line = await asyncio.wait_for(self.process.stdout.readline(), timeout=120)
            assert line, f"console exited early; output so far: {seen}"
            seen.append(line.decode())
            if re.search(pattern, seen[-1]):
                return "".join(seen)


@contextlib.asynccontextmanager
async def console_session(env, subcommand: str):
    """The real `copybot <subcommand>` with piped stdin/stdout, greeted and ready; always reaped."""
    process = await asyncio.create_subprocess_exec(
        *COPYBOT, subcommand, env=env, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    console = ConsoleSession(process)
    try:
        await console.read_until("Type /help")
        yield console
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
