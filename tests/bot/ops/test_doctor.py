"""`copybot doctor` on a healthy setup and on the broken setups teams actually have."""

from __future__ import annotations

import socket
import sqlite3
from pathlib import Path

import pytest

from bot.ops.doctor import Finding, Level, diagnose
from tests.models import REPO
from tests.processes import TEST_SECRETS, child_env, leaked_secrets, run_copybot


@pytest.fixture
def healthy_env(tmp_path, tiny_model_dir) -> dict[str, str]:
    return {
        "COPYBOT_DATA_DIR": str(tmp_path / "data"),
        "COPYBOT_MODEL": str(tiny_model_dir),
        "COPYBOT_PROMPTS_DIR": str(REPO / "prompts"),
        "COPYBOT_ADMINS": "slack:UADMIN",
        "SLACK_BOT_TOKEN": TEST_SECRETS["SLACK_BOT_TOKEN"],
        "SLACK_APP_TOKEN": TEST_SECRETS["SLACK_APP_TOKEN"],
    }


async def findings(env: dict[str, str], **limits) -> dict[str, Finding]:
    return {f.check: f async for f in diagnose(env, **limits)}


def problems(found: dict[str, Finding]) -> dict[str, str]:
    return {name: f.text for name, f in found.items() if f.level is not Level.OK}


def make_database(path: Path, user_version: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE t (x)")
    db.execute(f"PRAGMA user_version = {user_version}")
    db.commit()
    db.close()


async def test_a_healthy_setup_has_nothing_to_fix(healthy_env):
    found = await findings(healthy_env)
    assert problems(found) == {}
    assert found["slack"].text == "bot token set; Socket Mode"
    assert found["model"].text.startswith(f"{Path(healthy_env['COPYBOT_MODEL']).name} on this machine "
                                          "loaded and answered in ")
    assert found["database"].text.startswith("none yet; the first start creates ")


async def test_a_bad_setting_is_named_and_nothing_else_is_guessed(healthy_env):
    found = await findings({**healthy_env, "COPYBOT_MAX_BATCH": "lots"})
    assert found["configuration"].level is Level.FAIL
    assert found["configuration"].text == "COPYBOT_MAX_BATCH is 'lots', which is not a whole number; use one such as 8."
    assert found["engine"].text == "not checked: fix the configuration first."
    assert "model" not in found


async def test_wrong_tokens_and_no_admins(healthy_env):
    env = {**healthy_env, "SLACK_BOT_TOKEN": "xoxp-a-user-token-not-a-bot-token", "COPYBOT_ADMINS": "",
           "DISCORD_TOKEN": "just-one-part"}
    found = await findings(env)
    assert problems(found) == {
        "slack": "SLACK_BOT_TOKEN must be the bot token (it starts with xoxb-; find it under OAuth & "
                 "Permissions).",
        "discord": "DISCORD_TOKEN does not look like a bot token (three parts separated by dots); copy "
                   "it again from the Developer Portal (your application -> Bot -> Reset Token).",
        "admins": "COPYBOT_ADMINS is empty: nobody in Slack or Discord can change /settings; name "
                  "admins such as slack:U0123 or discord:<user id>.",
    }


async def test_no_platform_token_is_a_warning(healthy_env):
    env = {k: v for k, v in healthy_env.items() if not k.startswith("SLACK_")}
    found = await findings(env)
    assert found["platforms"].level is Level.WARN
    assert "`copybot run` opens only the terminal console" in found["platforms"].text


async def test_database_problems(healthy_env, tmp_path):
    database = tmp_path / "data" / "copybot.db"
    database.parent.mkdir(parents=True)
    database.write_bytes(b"this is a spreadsheet, not a database" * 200)
    found = await findings(healthy_env)
    assert found["database"].level is Level.FAIL
    assert "is not a copybot database (file is not a database)" in found["database"].text

    database.unlink()
    make_database(database, user_version=99)
    found = await findings(healthy_env)
    assert found["database"].level is Level.FAIL and "has schema 99, newer than this copybot" in \
        found["database"].text

    database.unlink()
    make_database(database, user_version=1)
    found = await findings(healthy_env)
    assert found["database"].level is Level.WARN
    assert "has schema 1 of " in found["database"].text and "copybot backup" in found["database"].text

    (tmp_path / "file").write_text("not a folder")
    found = await findings({**healthy_env, "COPYBOT_DATA_DIR": str(tmp_path / "file" / "data")})
    assert found["database"].level is Level.FAIL and "is a file" in found["database"].text


async def test_a_model_that_cannot_load(healthy_env, tmp_path):
    found = await findings({**healthy_env, "COPYBOT_MODEL": str(tmp_path / "no-model-here")})
    assert found["model"].level is Level.FAIL
    assert "could not be loaded; set COPYBOT_MODEL to a local model folder" in found["model"].text


async def test_a_remote_model_server_that_is_down_and_one_that_answers(healthy_env, fake_openai):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    remote = {**healthy_env, "COPYBOT_BACKEND": "openai", "COPYBOT_OPENAI_MODEL": "fake-model",
              "COPYBOT_OPENAI_API_KEY": TEST_SECRETS["COPYBOT_OPENAI_API_KEY"]}
    found = await findings({**remote, "COPYBOT_OPENAI_URL": f"http://127.0.0.1:{port}/v1"})
    assert found["model"].level is Level.FAIL
    assert found["model"].text.startswith(f"server http://127.0.0.1:{port}/v1: The model server is "
                                          "not answering right now")
    found = await findings({**remote, "COPYBOT_OPENAI_URL": fake_openai.url})
    assert found["model"].level is Level.OK
    assert found["model"].text.startswith(f"fake-model on server {fake_openai.url} answered in ")
    assert len(fake_openai.requests) == 1
    assert fake_openai.requests[0].body["stream"] is True


async def test_low_disk_and_a_busy_metrics_port(healthy_env):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        found = await findings({**healthy_env, "COPYBOT_METRICS_PORT": str(port)},
                               min_free=1 << 60, low_free=1 << 61)
    assert found["disk"].level is Level.FAIL and found["disk"].text.startswith("only ")
    assert found["metrics"].level is Level.WARN and f"cannot listen on 127.0.0.1:{port}" in \
        found["metrics"].text


async def test_the_command_prints_one_line_per_check_exits_1_and_shows_no_secret(tmp_path):
    env = child_env(COPYBOT_DATA_DIR=str(tmp_path / "data"), COPYBOT_BACKEND="gpu",
                    SLACK_BOT_TOKEN="xoxp-" + TEST_SECRETS["SLACK_BOT_TOKEN"])
    code, stdout, stderr = await run_copybot("doctor", env=env)
    assert code == 1, stderr
    lines = stdout.splitlines()
    assert lines[0] == "FAIL  configuration COPYBOT_BACKEND is 'gpu'; use one of: local, openai."
    assert lines[1].startswith("FAIL  slack         SLACK_BOT_TOKEN must be the bot token")
    assert lines[-1] == "3 problem(s) to fix, 0 warning(s)."
    assert not leaked_secrets(stdout + stderr)
