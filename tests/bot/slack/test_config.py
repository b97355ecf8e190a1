"""SlackConfig from the environment: modes, defaults and one clear sentence per mistake."""

from __future__ import annotations

import pytest

from bot.slack_adapter import SlackConfig
from engine import UserError

BOT = "xoxb-1-2-secretbottoken"
APP = "xapp-1-A1-3-secretapptoken"


def test_socket_mode_when_an_app_token_is_set():
    config = SlackConfig.from_env({"SLACK_BOT_TOKEN": BOT, "SLACK_APP_TOKEN": APP})
    assert config.socket_mode
    assert config.api_url == "https://slack.com/api/"


def test_http_mode_with_signing_secret_and_port():
    config = SlackConfig.from_env({"SLACK_BOT_TOKEN": BOT, "SLACK_SIGNING_SECRET": "s3cr3t",
                                   "COPYBOT_SLACK_PORT": "8080",
                                   "COPYBOT_SLACK_API_URL": "http://127.0.0.1:9/api"})
    assert not config.socket_mode
    assert (config.port, config.path, config.api_url) == (8080, "/slack/events", "http://127.0.0.1:9/api/")


def test_tokens_never_show_in_repr():
    config = SlackConfig.from_env({"SLACK_BOT_TOKEN": BOT, "SLACK_APP_TOKEN": APP,
                                   "SLACK_SIGNING_SECRET": "s3cr3t"})
    assert "secret" not in repr(config) and "s3cr3t" not in repr(config)


@pytest.mark.parametrize("env, message", [
    ({}, "SLACK_BOT_TOKEN is not set"),
    ({"SLACK_BOT_TOKEN": BOT}, "SLACK_APP_TOKEN to run in Socket Mode, or SLACK_SIGNING_SECRET"),
    ({"SLACK_BOT_TOKEN": APP, "SLACK_APP_TOKEN": BOT}, "starts with xoxb-"),
    ({"SLACK_BOT_TOKEN": BOT, "SLACK_APP_TOKEN": BOT}, "starts with xapp-"),
    ({"SLACK_BOT_TOKEN": BOT, "SLACK_SIGNING_SECRET": "s", "COPYBOT_SLACK_PORT": "http"}, "port number"),
])
def test_mistakes_are_explained(env, message):
    with pytest.raises(UserError, match=message):
        SlackConfig.from_env(env)


def test_is_configured_follows_the_bot_token():
    assert SlackConfig.is_configured({"SLACK_BOT_TOKEN": BOT})
    assert not SlackConfig.is_configured({"SLACK_BOT_TOKEN": "  "})
