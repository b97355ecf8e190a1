"""deploy/slack-manifest.yml asks for what the adapter handles, and the adapter handles all of it."""

from __future__ import annotations

import yaml

from bot.commands import HelpCommand, ReviewsCommand
from bot.slack_adapter import app, translate
from tests.bot.slack.recorded import load
from tests.models import REPO

MANIFEST = yaml.safe_load((REPO / "deploy" / "slack-manifest.yml").read_text(encoding="utf-8"))


def test_every_manifest_command_reaches_the_grammar():
    commands = {entry["command"] for entry in MANIFEST["features"]["slash_commands"]}
    assert commands == set(translate.SLASH_COMMANDS) == {"/copy", "/reviews", "/copybot"}
    for name in commands:  # raises UserError("There is no /… command") for an unknown one
        translate.slash_command(load("slash_command_copy") | {"command": name, "text": ""})
    reviews = load("slash_command_copy") | {"command": "/reviews", "text": "one\ntwo"}
    assert isinstance(translate.slash_command(reviews).command, ReviewsCommand)
    umbrella = load("slash_command_copy") | {"command": "/copybot", "text": ""}
    assert isinstance(translate.slash_command(umbrella).command, HelpCommand)


def test_subscribed_events_are_the_ones_listened_to():
    events = set(MANIFEST["settings"]["event_subscriptions"]["bot_events"])
    # message.* are one "message" event to bolt: DMs and replies in copybot's threads.
    assert events == {*app.REACTION_EVENTS, app.MENTION_EVENT, "message.im", "message.channels",
                      "message.groups"}
    assert app.MESSAGE_EVENT == "message"
    assert MANIFEST["settings"]["interactivity"]["is_enabled"]  # the buttons


def test_scopes_cover_what_the_adapter_calls():
    scopes = set(MANIFEST["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write", "reactions:read", "files:read", "files:write",
            "app_mentions:read", "im:history", "channels:history", "groups:history"} == scopes
