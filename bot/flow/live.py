"""Showing a /copy while it is written: a header and one message per variant, edited as the text
grows, then replaced by the final, cleaned copy. Platform-neutral: each adapter passes its own
create / edit / delete calls and its rate limits (Slack: about one update per second per message;
Discord: five edits per five seconds per channel).

Ordering and rate limits are kept by one flusher task per /copy: previews only record the newest
text; the flusher sends the oldest pending change once the limits allow. ``finish`` stops it, then
writes the final texts (editing the previews in place, so a reaction lands on the final message)
and deletes previews of variants that did not make the cut.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, Generic, TypeVar

from engine import CopyResult, Engine, Origin

logger = logging.getLogger(__name__)

Handle = TypeVar("Handle")
HEADER = -1  # the slot of the header message


class LiveCopy(Generic[Handle]):
    def __init__(self, n: int, *, create: Callable[[str], Awaitable[Handle]],
                 edit: Callable[[Handle, str], Awaitable[Any]],
                 delete: Callable[[Handle], Awaitable[Any]],
                 render_preview: Callable[[int, str], str], header: str,
                 message_interval: float = 1.0, channel_interval: float = 0.0) -> None:
        self.n = n
        self._create, self._edit, self._delete = create, edit, delete
        self._render = render_preview
        self._header = header
        self.message_interval = message_interval  # seconds between two edits of one message
        self.channel_interval = channel_interval  # seconds between any two edits (Discord)
        self.handles: dict[int, Handle] = {}  # slot -> posted message
        self._shown: dict[int, str] = {}  # slot -> text the message shows now
        self._latest: dict[int, str] = {}  # slot -> newest preview text
        self._last_edit: dict[int, float] = {}
        self._last_any = 0.0
        self._changed = asyncio.Event()
        self._initial: asyncio.Task | None = None  # posting the first messages; never cancelled
        self._flusher: asyncio.Task | None = None
        self._failed = False
        self._post_error: Exception | None = None

    @property
    def started(self) -> bool:
        return bool(self.handles)

    def preview(self, slot: int, text: str) -> None:
        """The newest text of variant ``slot`` (called from the engine's stream, on the loop)."""
        if self._failed or not 0 <= slot < self.n:
            return
        self._latest[slot] = self._render(slot, text)
        self._changed.set()
        if self._flusher is None:
            loop = asyncio.get_running_loop()
            # The first text posts the header and every slot at once, in order. Cancelling a post
            # half-way could leave a message we hold no handle to, so that task always completes.
            self._initial = loop.create_task(self._post_all(), name="copybot live copy post")
            self._flusher = loop.create_task(self._flush_loop(), name="copybot live copy")

    async def _flush_loop(self) -> None:
        try:
            await asyncio.shield(self._initial)
            while True:
                await self._changed.wait()
                self._changed.clear()
                while (slot := self._next_due()) is not None:
                    await self._wait_for_turn(slot)
                    text = self._latest[slot]
                    if text != self._shown.get(slot):
                        await self._edit(self.handles[slot], text)
                        self._shown[slot] = text
                        self._mark(slot)
        except asyncio.CancelledError:
            raise
        except Exception:  # a preview that cannot be shown: the final post still happens
            self._failed = True
            logger.warning("could not update the copy while it was written", exc_info=True)

    async def _post_all(self) -> None:
        self.handles[HEADER] = await self._create(self._header)
        self._shown[HEADER] = self._header
        for slot in range(self.n):
            text = self._latest.get(slot) or self._render(slot, "…")
            self.handles[slot] = await self._create(text)
            self._shown[slot] = text
            self._mark(slot)

    def _next_due(self) -> int | None:
        pending = [s for s in range(self.n) if self._latest.get(s) not in (None, self._shown.get(s))]
        return min(pending, key=lambda s: self._last_edit.get(s, 0.0)) if pending else None

    async def _wait_for_turn(self, slot: int) -> None:
        now = time.monotonic()
        ready = max(self._last_edit.get(slot, 0.0) + self.message_interval,
                    self._last_any + self.channel_interval)
        if ready > now:
            await asyncio.sleep(ready - now)  # a rate limit, not synchronisation

    def _mark(self, slot: int) -> None:
        self._last_edit[slot] = self._last_any = time.monotonic()

    async def _stop_flusher(self) -> None:
        if self._initial is not None:
            initial, self._initial = self._initial, None
            try:
                await initial
            except Exception as exc:
                # Posting itself failed (not in the channel, say): the final post would too, and
                # the person should hear why, so ``finish`` raises this.
                self._failed = True
                self._post_error = exc
        if self._flusher is not None:
            self._flusher.cancel()
            try:
                await self._flusher
            except asyncio.CancelledError:
                pass
            self._flusher = None

    async def finish(self, header: str, texts: list[str]) -> list[Handle]:
        """Show the final ``header`` and variant ``texts`` (already rendered); returns the message
        of each text, in order. Previews beyond ``len(texts)`` are deleted."""
        await self._stop_flusher()
        if self._post_error is not None:
            raise self._post_error
        if HEADER in self.handles:
            if header != self._shown.get(HEADER):
                await self._edit(self.handles[HEADER], header)
        else:
            self.handles[HEADER] = await self._create(header)
        posted = []
        for slot, text in enumerate(texts):
            if slot in self.handles:
                await self._edit(self.handles[slot], text)
            else:
                self.handles[slot] = await self._create(text)
            self._shown[slot] = text
            posted.append(self.handles[slot])
        for slot in [s for s in self.handles if s >= len(texts)]:
            await self._delete_quietly(self.handles.pop(slot))
        return posted

    async def abort(self) -> None:
        """The request failed: no preview may stay behind without its final text."""
        await self._stop_flusher()
        for slot in list(self.handles):
            await self._delete_quietly(self.handles.pop(slot))

    async def _delete_quietly(self, handle: Handle) -> None:
        try:
            await self._delete(handle)
        except Exception:
            logger.warning("could not delete a preview message", exc_info=True)


async def deliver(engine: Engine, origin: Origin, result: CopyResult, live: LiveCopy[Handle], header: Any,
                  texts: list[str], location: Callable[[Handle], tuple[str, str]]) -> list[Handle]:
    """Show ``result``'s final ``header`` and variant ``texts`` and tell the engine which message
    shows which variant (``location``: a posted message's channel id and message id, as the
    platform names them for reactions and presses). When posting fails, no preview stays behind
    and the variants that were never posted are forgotten, so nobody approves or trains on them."""
    try:
        posted = await live.finish(header, texts)
    except Exception:
        await live.abort()
        for generation in result.generations:
            await engine.discard_unposted(origin, generation)
        raise
    for variant, message in zip(result.variants, posted):
        channel, message_id = location(message)
        await engine.mark_posted(replace(origin, channel=channel), variant.id, message_id)
    return posted
