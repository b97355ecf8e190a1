"""The Slack adapter (slack-bolt, asyncio): `/copy`, `/reviews` and approval by reaction."""

from bot.slack_adapter.app import SlackBot, run_slack
from bot.slack_adapter.config import SlackConfig

__all__ = ["SlackBot", "SlackConfig", "run_slack"]
