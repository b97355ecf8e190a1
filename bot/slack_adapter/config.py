"""The Slack adapter's deployment settings, from the environment.

Socket Mode when ``SLACK_APP_TOKEN`` is set (no public URL needed), otherwise HTTP mode: Slack
posts signed requests to ``http://<host>:<port>/slack/events``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Mapping

from bot.ops.lifecycle import DEFAULT_SHUTDOWN_SECONDS, shutdown_seconds_from_env
from engine import UserError, shown_value

DEFAULT_API_URL = "https://slack.com/api/"
DEFAULT_PORT = 3000
EVENTS_PATH = "/slack/events"


@dataclass(frozen=True)
class SlackConfig:
    # repr=False: tokens must never reach a log line through a printed config.
    bot_token: str = field(repr=False)
    app_token: str | None = field(default=None, repr=False)
    signing_secret: str | None = field(default=None, repr=False)
    port: int = DEFAULT_PORT
    host: str = "0.0.0.0"
    path: str = EVENTS_PATH
    api_url: str = DEFAULT_API_URL  # tests point this at a local fake Slack
    rate_limit_retries: int = 3  # 429s retried after Retry-After, per Web API call
    # In-flight work may finish for this long before it is cancelled (COPYBOT_SHUTDOWN_SECONDS).
    shutdown_grace_seconds: float = DEFAULT_SHUTDOWN_SECONDS
    stream_interval: float = 1.0  # seconds between two chat.update calls on one message (Slack's pace)

    @property
    def socket_mode(self) -> bool:
        return bool(self.app_token)

    def __post_init__(self) -> None:
        if not self.bot_token.startswith("xoxb-"):
            raise UserError("SLACK_BOT_TOKEN must be the bot token (it starts with xoxb-; find it "
                            "under OAuth & Permissions).")
        if self.app_token and not self.app_token.startswith("xapp-"):
            raise UserError("SLACK_APP_TOKEN must be an app-level token (it starts with xapp-; create "
                            "one under Basic Information with the connections:write scope).")
        if not self.app_token and not self.signing_secret:
            raise UserError("Set SLACK_APP_TOKEN to run in Socket Mode, or SLACK_SIGNING_SECRET (Basic "
                            "Information > Signing Secret) to receive requests over HTTP.")

    @staticmethod
    def is_configured(env: Mapping[str, str] | None = None) -> bool:
        """True when a bot token is set: ``copybot run`` then starts the Slack adapter."""
        env = os.environ if env is None else env
        return bool(env.get("SLACK_BOT_TOKEN", "").strip())

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "SlackConfig":
        env = os.environ if env is None else env

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        bot_token = get("SLACK_BOT_TOKEN")
        if bot_token is None:
            raise UserError("SLACK_BOT_TOKEN is not set; the Slack adapter needs the app's bot token.")
        port = get("COPYBOT_SLACK_PORT") or str(DEFAULT_PORT)
        if not port.isdigit() or not 0 <= int(port) <= 65535:
            raise UserError(f"COPYBOT_SLACK_PORT is {shown_value(port)}; give a port number such as 3000.")
        api_url = get("COPYBOT_SLACK_API_URL") or DEFAULT_API_URL
        return cls(
            bot_token=bot_token,
            app_token=get("SLACK_APP_TOKEN"),
            signing_secret=get("SLACK_SIGNING_SECRET"),
            port=int(port),
            host=get("COPYBOT_SLACK_HOST") or "0.0.0.0",
            api_url=api_url if api_url.endswith("/") else api_url + "/",
            shutdown_grace_seconds=shutdown_seconds_from_env(env),
        )
