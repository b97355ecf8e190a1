"""Fixtures for the `copybot` command run as a real subprocess, as a user runs it."""

from __future__ import annotations

import asyncio
import os
import sys

import pytest

COPYBOT = [sys.executable, "-m", "bot.cli"]
PLATFORM_VARIABLES = ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "DISCORD_TOKEN")


@pytest.fixture
def cli_env(tmp_path, tiny_model_dir) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items()
           if not name.startswith("COPYBOT_") and name not in PLATFORM_VARIABLES}
    env.update(COPYBOT_DATA_DIR=str(tmp_path / "data"), COPYBOT_MODEL=str(tiny_model_dir),
               COPYBOT_MAX_NEW_TOKENS="16", COPYBOT_LOG_LEVEL="WARNING")
    return env


async def run_copybot(*args: str, env: dict[str, str], timeout: float = 180) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *COPYBOT, *args, env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout)
    return process.returncode, stdout.decode(), stderr.decode()
