"""Carrying out journaled inbound events (``Engine.accept_event``), in lanes.

A lane is one ordering key: reactions on one message go through one lane, in the order they were
accepted, and events queued behind a slow call (``reactions.get`` waiting out a 429) are handed
over together, so one lookup can serve them all. Lanes run side by side: a slow message holds up
only itself. A command runs in a lane of its own. An event still queued when the bot stops stays
unfinished in the journal and is carried out at the next start.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from bot.tasks import TaskTracker
from engine import Engine, InboundEvent

logger = logging.getLogger(__name__)


class EventLanes:
    def __init__(self, tasks: TaskTracker,
                 carry_out: Callable[[list[InboundEvent]], Awaitable[None]], name: str) -> None:
        self._tasks = tasks
        self._carry_out = carry_out
        self._name = name
        self._queued: dict[str, list[InboundEvent]] = {}  # lane -> events not yet handed over

    def __len__(self) -> int:
        return sum(len(events) for events in self._queued.values())

    def submit(self, lane: str, event: InboundEvent) -> None:
        queued = self._queued.get(lane)
        if queued is not None:  # the lane is running: it takes this next
            queued.append(event)
            return
        if self._tasks.closing:
            logger.info("stopping: %s event %s stays journaled for the next start", self._name, event.key)
            return
        self._queued[lane] = [event]
        self._tasks.spawn(self._drain(lane), name=f"{self._name} {event.kind} {lane}")

    async def _drain(self, lane: str) -> None:
        try:
            while batch := self._queued[lane]:
                self._queued[lane] = []
                try:
                    await self._carry_out(batch)
                except Exception:  # carry_out has its own boundary; this is a bug. The events
                    # stay unfinished in the journal (the next start retries them).
                    logger.exception("%s events %s failed", self._name, [e.key for e in batch])
        finally:
            del self._queued[lane]


def message_lane(kind: str, workspace_key: str, channel: str, message: str) -> str:
    """The lane of events that must run in order on one message: its reactions (``kind``
    "reaction"), or its Approve/Reject presses ("button": each redraws the tally, newest last)."""
    return f"{kind} {workspace_key} {channel} {message}"


async def resubmit_unfinished(engine: Engine, platform: str,
                              submit: Callable[[InboundEvent], None]) -> int:
    """At start: what an earlier run acknowledged but did not finish, carried out now."""
    unfinished = await engine.unfinished_events(platform)
    if unfinished:
        logger.warning("finishing %d %s events acknowledged before the last stop", len(unfinished),
                       platform)
    for event in unfinished:
        submit(event)
    return len(unfinished)
