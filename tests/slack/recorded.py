"""Recorded Slack payloads (``payloads/*.json``), re-addressed for a test."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

PAYLOADS = Path(__file__).parent / "payloads"
CHANNEL = "C0MARKETING"


def load(name: str) -> dict[str, Any]:
    return json.loads((PAYLOADS / f"{name}.json").read_text(encoding="utf-8"))


def new_event_id() -> str:
    return "Ev" + uuid.uuid4().hex[:10].upper()


def new_trigger_id() -> str:
    """Slack gives every invocation of a slash command its own trigger id."""
    return f"6134201337.1234567890123.{uuid.uuid4().hex}"


def _set_team(envelope: dict[str, Any], team: str) -> None:
    envelope["team_id"] = team
    if "context_team_id" in envelope:
        envelope["context_team_id"] = team
    for authorization in envelope.get("authorizations") or ():
        authorization["team_id"] = team


def slash(text: str, *, command: str = "/copy", response_url: str, team: str = "T0ACME01",
          channel: str = CHANNEL, user: str = "U0ALICE") -> dict[str, str]:
    """The form fields of a recorded slash command, with this text and these ids."""
    fields = load("slash_command_copy")
    fields.update(text=text, command=command, response_url=response_url, team_id=team,
                  channel_id=channel, user_id=user, trigger_id=new_trigger_id())
    return fields


def reaction(emoji: str, ts: str, *, added: bool = True, channel: str = CHANNEL,
             user: str = "U0BRUNO", team: str = "T0ACME01", event_id: str | None = None
             ) -> dict[str, Any]:
    envelope = copy.deepcopy(load("event_reaction_added" if added else "event_reaction_removed"))
    _set_team(envelope, team)
    envelope["event_id"] = event_id or new_event_id()
    envelope["event"].update(reaction=emoji, user=user)
    envelope["event"]["item"].update(channel=channel, ts=ts)
    return envelope


def mention_with_file(file_url: str, *, text: str = "<@U0COPYBOT> reviews column: review",
                      size: int = 214, event_id: str | None = None) -> dict[str, Any]:
    envelope = load("event_app_mention_file")
    envelope["event_id"] = event_id or new_event_id()
    envelope["event"]["text"] = text
    shared = envelope["event"]["files"][0]
    shared.update(url_private=file_url, url_private_download=file_url, size=size)
    return envelope
