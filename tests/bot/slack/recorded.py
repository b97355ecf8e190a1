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


def mention(text: str, *, ts: str = "1700000500.000200", thread_ts: str | None = None,
            user: str = "U0ALICE", channel: str = CHANNEL, event_id: str | None = None
            ) -> dict[str, Any]:
    """A recorded app_mention with this text (after "<@U0COPYBOT> ")."""
    envelope = load("event_app_mention_copy")
    envelope["event_id"] = event_id or new_event_id()
    envelope["event"].update(text=f"<@U0COPYBOT> {text}", ts=ts, event_ts=ts, user=user,
                             channel=channel)
    envelope["event"].pop("blocks")
    if thread_ts is not None:
        envelope["event"]["thread_ts"] = thread_ts
    return envelope


def thread_reply(text: str, thread_ts: str, *, user: str = "U0ALICE", channel: str = CHANNEL,
                 bot_id: str | None = None, event_id: str | None = None) -> dict[str, Any]:
    """A recorded message event: a reply in a thread of a channel (message.channels)."""
    envelope = load("event_message_thread_reply")
    envelope["event_id"] = event_id or new_event_id()
    ts = f"{1700001000 + uuid.uuid4().int % 100000}.000100"
    envelope["event"].update(text=text, thread_ts=thread_ts, ts=ts, event_ts=ts, user=user,
                             channel=channel)
    envelope["event"].pop("blocks")
    if bot_id is not None:  # another app's bot writing in the thread
        envelope["event"].update(bot_id=bot_id, subtype="bot_message")
    return envelope


def direct_message(text: str, *, channel: str = "D0ALICEDM", thread_ts: str | None = None,
                   event_id: str | None = None) -> dict[str, Any]:
    envelope = load("event_message_im")
    envelope["event_id"] = event_id or new_event_id()
    envelope["event"].update(text=text, channel=channel)
    if thread_ts is not None:
        envelope["event"]["thread_ts"] = thread_ts
    return envelope


def button(action: str, variant_id: int, message: dict[str, Any], *, user: str = "U0BRUNO",
           trigger_id: str | None = None) -> dict[str, Any]:
    """A recorded block_actions press of one of copybot's buttons under ``message`` (as the fake
    Slack holds it: its ts, channel, thread and blocks)."""
    payload = load("block_actions_approve")
    payload["trigger_id"] = trigger_id or new_trigger_id()
    payload["user"]["id"] = user
    payload["container"].update(message_ts=message["ts"], channel_id=message["channel"],
                                thread_ts=message.get("thread_ts"))
    payload["channel"]["id"] = message["channel"]
    payload["message"].update(ts=message["ts"], text=message["text"],
                              thread_ts=message.get("thread_ts"),
                              blocks=message.get("blocks") or [])
    payload["actions"][0].update(action_id=f"copybot_{action}", value=str(variant_id))
    return payload
