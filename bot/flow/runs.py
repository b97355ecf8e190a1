"""A request or a turn, written and posted the same way on every platform: the engine writes
(streaming previews into a ``LiveCopy``), the final header and variants replace the previews, the
engine is told which message shows which variant, and a request's conversation is opened on its
thread. On any failure no preview stays behind (``LiveCopy.abort``).

The adapter says only how its platform shows things: the header, one variant, where a posted
message is (for reactions and presses), and where the request's thread is.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from bot.commands import CopyCommand
from bot.dispatch import Reply, execute, execute_turn
from bot.flow.live import LiveCopy, deliver
from engine import CopyResult, Engine, Origin, Refinement, Thread, Variant

Handle = TypeVar("Handle")  # a posted message, as the platform's client returns it
RenderVariant = Callable[[Variant, Any], Any]  # (variant, its source turn or None) -> a message
Location = Callable[[Any], tuple[str, str]]  # a posted message -> (channel id, message id)


def variant_messages(result: CopyResult, render_variant: RenderVariant) -> list[Any]:
    sources = result.sources or (None,) * len(result.variants)
    return [render_variant(variant, source) for variant, source in zip(result.variants, sources)]


async def run_request(engine: Engine, origin: Origin, command: CopyCommand, live: LiveCopy[Handle], *,
                      header: Callable[[CopyResult, Mapping[str, str]], Any], render_variant: RenderVariant,
                      location: Location, thread_of: Callable[[list[Handle]], Thread],
                      progress: Callable[[str], Awaitable[None]] | None = None,
                      ) -> tuple[Reply, list[Handle], Mapping[str, str]]:
    """A /copy, a mention or a DM asking for copy, as a new conversation: written, posted and
    its thread opened. Returns the reply, the posted variant messages and the workspace's
    settings (the adapter may need them to finish: Discord seeds the approve emoji)."""
    try:
        reply = await execute(engine, origin, command, progress=progress,
                              preview=lambda p: live.preview(p.slot, p.text))
        assert reply.copy is not None, "a copy command answers with copy"
        settings = await engine.settings(origin)
        posted = await deliver(engine, origin, reply.copy, live, header(reply.copy, settings),
                               variant_messages(reply.copy, render_variant), location)
    except BaseException:
        await live.abort()  # no preview stays behind without its final text
        raise
    await engine.open_thread(origin, reply.copy.generation_id, thread_of(posted))
    return reply, posted, settings


async def run_turn(engine: Engine, origin: Origin, conversation: int, turn: Refinement, *,
                   open_live: Callable[[int], LiveCopy[Handle]], header: Callable[[CopyResult], Any],
                   render_variant: RenderVariant, location: Location) -> list[Handle]:
    """A turn of ``conversation`` (a reply in its thread, or a Shorter / More like this press):
    the previews open once the engine says how many variants are coming (``open_live``)."""
    lives: list[LiveCopy[Handle]] = []

    async def accepted(count: int) -> None:
        lives.append(open_live(count))

    def preview(p: Any) -> None:
        if lives:
            lives[0].preview(p.slot, p.text)

    try:
        reply = await execute_turn(engine, origin, conversation, turn, preview=preview, on_accepted=accepted)
        assert reply.copy is not None, "a turn answers with copy"
        return await deliver(engine, origin, reply.copy, lives[0], header(reply.copy),
                             variant_messages(reply.copy, render_variant), location)
    except BaseException:
        if lives:
            await lives[0].abort()
        raise
