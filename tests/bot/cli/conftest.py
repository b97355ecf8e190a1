"""The `copybot` command run as a real subprocess, as a user runs it: here with none of this
machine's copybot settings or platform tokens (it overrides tests/conftest.py's ``cli_env``)."""

from __future__ import annotations

import os

import pytest

PLATFORM_VARIABLES = ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "DISCORD_TOKEN")


@pytest.fixture
def cli_env(tmp_path, tiny_model_dir) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items()
           if not name.startswith("COPYBOT_") and name not in PLATFORM_VARIABLES}
    env.update(COPYBOT_DATA_DIR=str(tmp_path / "data"), COPYBOT_MODEL=str(tiny_model_dir),
               COPYBOT_MAX_NEW_TOKENS="16", COPYBOT_LOG_LEVEL="WARNING")
    return env
