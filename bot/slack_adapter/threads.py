"""Copy in Slack threads: a request's header in the channel and its variants under it, turns
written as replies in the thread, and the buttons under each variant.

Every request (a /copy, a mention, a DM) posts a header and its variants in the header's thread
(or in the thread it was asked in), streamed as they are written, each variant with Approve,
Reject, Shorter and More like this. Replies in that thread, and the Shorter / More like this
buttons, are turns: their variants follow in the same thread. Approve and Reject record the
person's verdict once and redraw the tally under the variant.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.conversation import parse_request, parse_turn
from bot.dispatch import Reply
from bot.flow.live import LiveCopy
from bot.flow.runs import run_request, run_turn
from bot.flow.verdicts import VERDICT_BUTTONS, button_turn, give_button_verdict
from bot.slack_adapter import render, translate
from bot.slack_adapter.delivery import Delivery
from engine import CopyRequest, Engine, InboundEvent, Origin, Refinement, Thread

logger = logging.getLogger(__name__)


class SlackThreads:
    def __init__(self, engine: Engine, delivery: Delivery, stream_interval: float) -> None:
        self.engine = engine
        self.delivery = delivery
        self.stream_interval = stream_interval

    # --- posting a request or a turn -----------------------------------------------------------

    def _live(self, origin: Origin, n: int, header: str, thread: str | None) -> LiveCopy:
        """Messages posted at the first text and updated while the model writes (at most one
        chat.update per message per ``stream_interval``, Slack's pace): the header at ``thread``
        (``None``: the channel), the variants in ``thread`` or else under the header."""
        posted: dict[str, Any] = {}

        async def create(text: Any) -> Any:
            answer = await self.delivery.post(origin.channel, text, thread or posted.get("header"))
            posted.setdefault("header", str(answer["ts"]))
            return answer

        async def edit(message: Any, text: Any) -> Any:
            return await self.delivery.update(message["channel"], message["ts"], text)

        async def delete(message: Any) -> Any:
            return await self.delivery.web.chat_delete(channel=message["channel"], ts=message["ts"])

        return LiveCopy(n, create=create, edit=edit, delete=delete,
                        render_preview=render.preview_text, header=header,
                        message_interval=self.stream_interval)

    def _location(self, origin: Origin):
        # Slack answers with the real channel id (a DM asked for by user id comes back as D…),
        # which is what reactions and button presses on the message will name.
        return lambda message: (str(message.get("channel") or origin.channel), str(message["ts"]))

    async def copy(self, origin: Origin, command: Any, *, thread: str | None = None,
                   progress: Any = None) -> Reply:
        """A request (a /copy, a mention, a DM) as a new conversation in Slack."""
        request: CopyRequest = command.request
        live = self._live(origin, request.n, render.writing_header(request, origin.user), thread)

        def thread_of(posted: list) -> Thread:
            channel = str(posted[0].get("channel") or origin.channel) if posted else origin.channel
            return Thread(channel, thread or str(live.handles[-1]["ts"]))

        reply, _, _ = await run_request(
            self.engine, origin, command, live, progress=progress,
            header=lambda result, settings: render.copy_header(result, request, origin.user, settings),
            render_variant=render.variant_message, location=self._location(origin), thread_of=thread_of)
        return reply

    async def turn(self, origin: Origin, conversation: int, turn: Refinement, thread: str) -> None:
        """A turn of the conversation in ``thread``: a header reply, then the new variants."""
        writing = render.turn_header(turn.instruction, origin.user)
        await run_turn(
            self.engine, origin, conversation, turn,
            open_live=lambda count: self._live(origin, count, writing, thread),
            header=lambda result: render.turn_header(turn.instruction, origin.user, len(result.variants),
                                                     result.requested),
            render_variant=render.variant_message, location=self._location(origin))

    # --- what people write: mentions, DMs, replies in threads --------------------------------

    async def message(self, mention: translate.Mention) -> Reply | None:
        """A mention or message asking for copy: a turn when it is in one of copybot's threads,
        else a new request. Raises ``UserError`` for what the person can fix."""
        origin = mention.origin
        if mention.in_thread is not None:
            conversation = await self.engine.conversation(origin, Thread(origin.channel,
                                                                         mention.in_thread))
            if conversation is not None:
                turn = parse_turn(mention.text, self.engine.presets())
                await self.turn(origin, conversation, turn, mention.in_thread)
                return None
        command = parse_request(mention.text, self.engine.presets())
        return await self.copy(origin, command, thread=mention.in_thread)

    # --- buttons -----------------------------------------------------------------------------

    async def press(self, event: InboundEvent) -> None:
        """A journaled button press, carried out; the event is finished here."""
        pressed = translate.button(event.payload)
        assert pressed is not None, "only copybot's buttons are journaled"
        origin = pressed.origin
        if pressed.action in VERDICT_BUTTONS:
            outcome = await give_button_verdict(self.engine, origin, VERDICT_BUTTONS[pressed.action],
                                                pressed.message, event)
            if outcome is None:
                return
            await self.delivery.update(origin.channel, pressed.message, render.Message(
                pressed.text, render.with_tally(pressed.blocks, outcome.approvals,
                                                outcome.rejections)))
            return
        turn = button_turn(pressed.action, pressed.variant_id)
        thread = Thread(origin.channel, pressed.thread) if pressed.thread else None
        conversation = await self.engine.conversation(origin, thread, replied_to=pressed.message)
        if conversation is None:
            await self.engine.finish_event(event, "ignored")
            return
        await self.turn(origin, conversation, turn, pressed.thread or pressed.message)
        await self.engine.finish_event(event)
