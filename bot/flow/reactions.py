"""Reactions on a variant message, reconciled with what the message shows now.

Each journaled reaction sets the reacting person's verdict to what the message's reactions say
when it is carried out (✅ and 👍 both approve: removing one keeps the approval; an add delivered
after its remove leaves nothing). The platform says how to read the message's reactions now
(Slack: ``reactions.get``; Discord: the message and its reactors); this module does the rest.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from typing import TypeVar

from engine import Engine, Feedback, InboundEvent, Origin

Current = TypeVar("Current")  # the message's reactions as the platform reads them


async def reconcile(engine: Engine, origin: Origin, message: str, events: list[InboundEvent],
                    feedback_of: Callable[[InboundEvent, Mapping[str, str]], Feedback | None],
                    read_current: Callable[[], Awaitable[Current | None]],
                    holds: Callable[[Current, Feedback, Mapping[str, str]], Awaitable[bool | None]]) -> None:
    """Reactions on ``message``, in the order accepted. ``feedback_of``: the verdict an event's
    emoji gives under the workspace's settings (``None``: none); ``read_current``: the message's
    reactions now, ``None`` when the platform will not say (the events are then taken as they
    came); ``holds``: whether the person has, right now, a reaction giving that verdict (``None``:
    the platform will not say)."""
    settings = await engine.settings(origin)
    verdicts = await engine.verdicts_on_variant(origin, message, [
        (event, feedback_of(event, settings)) for event in events])
    if not verdicts:
        return
    current = await read_current()
    for event, feedback in verdicts:
        if current is not None:
            held = await holds(current, feedback, settings)
            if held is not None:
                feedback = replace(feedback, added=held)
        await engine.record_feedback(feedback, event=event)
