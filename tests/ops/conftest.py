"""Fixtures for the operations tests: a fake OpenAI-compatible server, secrets, captured logs."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import sys

import pytest

from bot.ops.logs import SECRET_NAME_ENDINGS, configure_logging
from engine import EngineConfig
from tests.models import REPO

# Secrets as a deployment has them. No log line of any ops test may contain one of these values.
TEST_SECRETS = {
    "SLACK_BOT_TOKEN": "xoxb-1111-2222-opsTestBotTokenValue",
    "SLACK_APP_TOKEN": "xapp-1-A111-opsTestAppTokenValue",
    "SLACK_SIGNING_SECRET": "opsTestSigningSecret0123456789abcdef",
    "DISCORD_TOKEN": "MTExMTEx.opsTest.DiscordTokenValue",
    "COPYBOT_OPENAI_API_KEY": "sk-opsTestApiKeyNeverLogged",
}
API_KEY = TEST_SECRETS["COPYBOT_OPENAI_API_KEY"]


COPYBOT = [sys.executable, "-m", "bot.cli"]


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


async def run_copybot(*args: str, env: dict[str, str], timeout: float = 120) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(*COPYBOT, *args, env=env, stdin=asyncio.subprocess.DEVNULL,
                                                   stdout=asyncio.subprocess.PIPE,
                                                   stderr=asyncio.subprocess.PIPE)
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout)
    return process.returncode, stdout.decode(), stderr.decode()


@pytest.fixture(autouse=True)
def captured_log():
    """copybot's own logging (JSON, DEBUG) into a buffer for the whole test; afterwards every line
    must be one JSON object and none may contain a secret."""
    root = logging.getLogger()
    level = root.level
    buffer = io.StringIO()
    handler = configure_logging("DEBUG", env={**TEST_SECRETS, "COPYBOT_LOG_FORMAT": "json"},
                                stream=buffer)
    yield buffer
    root.removeHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(False)
    lines = buffer.getvalue().splitlines()
    for line in lines:
        json.loads(line)
    assert not [line for line in lines if leaked_secrets(line)], "a secret reached a log line"


@pytest.fixture
def remote_config(tmp_path, fake_openai) -> EngineConfig:
    # grounding off: the fake server's canned answers name no product (it is not a model).
    return EngineConfig(data_dir=tmp_path / "data", prompts_dir=REPO / "prompts", max_rounds=1,
                        grounding=False, backend="openai", openai_url=fake_openai.url, openai_model="fake-model",
                        openai_api_key=API_KEY, openai_timeout=2.0, openai_retries=2)
