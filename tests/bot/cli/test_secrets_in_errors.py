"""A secret pasted into the wrong variable: `copybot run` and `copybot doctor` name the variable
and never print the value."""

from __future__ import annotations

import pytest

from tests.processes import run_copybot

BOT_TOKEN = "xoxb-1111-2222-cliTestBotTokenValue"
APP_TOKEN = "xapp-1-A111-cliTestAppTokenValue"
DISCORD = "MTExMTExMTExMTExMTExMTEx.GhIjKl.cliTestDiscordTokenValue0123"
SIGNING = "8f742231b10e8888abcd99yyyzzz85a5"


def slack_env(cli_env: dict[str, str], **wrong: str) -> dict[str, str]:
    return cli_env | {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": APP_TOKEN} | wrong


@pytest.mark.parametrize("variable, pasted", [
    ("COPYBOT_SLACK_PORT", BOT_TOKEN),  # the bot token, one line too low in the .env
    ("COPYBOT_SHUTDOWN_SECONDS", DISCORD),
    ("COPYBOT_THREADS", SIGNING),
])
async def test_run_names_the_variable_and_hides_the_value(cli_env, variable, pasted):
    code, stdout, stderr = await run_copybot("run", "--no-console", env=slack_env(cli_env, **{variable: pasted}))
    assert code == 2
    [line] = stderr.splitlines()
    assert line.startswith(f"copybot: {variable} is a value that looks like a token or secret (not shown)")
    assert pasted not in stdout + stderr


async def test_doctor_names_the_variable_and_hides_the_value(cli_env):
    env = slack_env(cli_env, COPYBOT_SLACK_PORT=BOT_TOKEN, COPYBOT_DISCORD_GUILDS=DISCORD,
                    COPYBOT_LOG_LEVEL=SIGNING, DISCORD_TOKEN="MTIy.another.token")
    code, stdout, stderr = await run_copybot("doctor", env=env)
    assert code == 1
    output = stdout + stderr
    for secret in (BOT_TOKEN, DISCORD, SIGNING):
        assert secret not in output
    assert "COPYBOT_SLACK_PORT is a value that looks like a token or secret (not shown)" in output
    assert "COPYBOT_LOG_LEVEL is a value that looks like a token or secret (not shown)" in output
    assert "COPYBOT_DISCORD_GUILDS takes comma-separated Discord ids" in output


async def test_an_ordinary_wrong_value_is_still_quoted(cli_env):
    code, _, stderr = await run_copybot("run", "--no-console",
                                        env=slack_env(cli_env, COPYBOT_SLACK_PORT="30OO"))
    assert code == 2
    assert stderr.splitlines() == [
        "copybot: COPYBOT_SLACK_PORT is '30OO'; give a port number such as 3000."]
