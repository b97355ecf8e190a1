"""The Slack adapter's deployment settings, made from the validated ``Settings`` (engine/config.py).

Socket Mode when ``SLACK_APP_TOKEN`` is set (no public URL needed), otherwise HTTP mode: Slack
posts signed requests to ``http://<host>:<port>/slack/events``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.ops.lifecycle import DEFAULT_SHUTDOWN_SECONDS
from engine import Settings, UserError, load_settings

DEFAULT_API_URL = Settings.model_fields["slack_api_url"].default
DEFAULT_PORT = Settings.model_fields["slack_port"].default
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
    def is_configured(env: Mapping[str, str] | Settings | None = None) -> bool:
        """True when a bot token is set: ``copybot run`` then starts the Slack adapter."""
        settings = env if isinstance(env, Settings) else load_settings(env)
        return settings.slack_bot_token is not None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SlackConfig:
        return cls.from_settings(load_settings(env))

    @classmethod
    def from_settings(cls, settings: Settings) -> SlackConfig:
        if settings.slack_bot_token is None:
            raise UserError("SLACK_BOT_TOKEN is not set; the Slack adapter needs the app's bot token.")
        return cls(
            bot_token=settings.slack_bot_token.get_secret_value(),
            app_token=Settings.secret(settings.slack_app_token),
            signing_secret=Settings.secret(settings.slack_signing_secret),
            port=settings.slack_port,
            host=settings.slack_host,
            api_url=settings.slack_api_url,
            shutdown_grace_seconds=settings.shutdown_seconds,
        )
