"""Which adapters `copybot run` starts: every platform whose token is set, else the console."""

from __future__ import annotations

import logging
from collections.abc import Coroutine
from typing import Any

from engine import Engine, Settings, load_settings

logger = logging.getLogger(__name__)


def platform_services(engine: Engine, settings: Settings | None = None
                      ) -> dict[str, Coroutine[Any, Any, None]]:
    """One serving coroutine per configured platform (Slack and Discord may run together)."""
    from bot.discord_adapter import DiscordConfig, run_discord
    from bot.slack_adapter import SlackConfig, run_slack

    settings = settings or load_settings()
    services: dict[str, Coroutine[Any, Any, None]] = {}
    if SlackConfig.is_configured(settings):
        services["slack"] = run_slack(engine, SlackConfig.from_settings(settings))
    discord = DiscordConfig.from_settings(settings)
    if discord is not None:
        services["discord"] = run_discord(engine, discord)
    return services


def platform_configured(settings: Settings) -> bool:
    """True when a Slack or Discord token is set (checked before the model loads)."""
    return settings.slack_bot_token is not None or settings.discord_token is not None


def bot_services(engine: Engine, settings: Settings | None = None
                 ) -> dict[str, Coroutine[Any, Any, None]]:
    """The platform adapters, or the console when no platform token is set."""
    services = platform_services(engine, settings)
    if not services:
        from bot.console import run_console

        logger.info("no Slack or Discord token set: starting the console")
        services["console"] = run_console(engine)
    else:
        logger.info("starting %s", " and ".join(services))
    return services
