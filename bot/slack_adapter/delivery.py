"""Posting to Slack through the Web API: texts split under the size limit, charts as file uploads."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.dispatch import Reply
from bot.slack_adapter import render
from engine import Announcement

logger = logging.getLogger(__name__)

_CHANNEL_LINK = re.compile(r"^<#([A-Z0-9]+)(?:\|[^>]*)?>$")


def channel_id(channel: str) -> str:
    """A channel as people paste it ("<#C0123|marketing>", "#C0123") -> the id Slack's API takes."""
    channel = channel.strip()
    link = _CHANNEL_LINK.match(channel)
    return link.group(1) if link else channel.lstrip("#")


class Delivery:
    def __init__(self, web: AsyncWebClient) -> None:
        self.web = web

    async def post(self, channel: str, text: str | render.Message, thread: str | None = None) -> Any:
        """One message (``text`` already rendered and under the limit, or a message with
        blocks); Slack's answer."""
        blocks = None
        if isinstance(text, render.Message):
            text, blocks = text.text, list(text.blocks) or None
        return await self.web.chat_postMessage(channel=channel, text=text, blocks=blocks,
                                               thread_ts=thread, unfurl_links=False,
                                               unfurl_media=False)

    async def update(self, channel: str, ts: str, text: str | render.Message) -> Any:
        if isinstance(text, render.Message):
            return await self.web.chat_update(channel=channel, ts=ts, text=text.text,
                                              blocks=list(text.blocks))
        return await self.web.chat_update(channel=channel, ts=ts, text=text)

    async def post_parts(self, channel: str, parts: list[render.Part], thread: str | None = None, *,
                         skip: int = 0, posted: Callable[[int], Awaitable[None]] | None = None) -> None:
        """Post ``parts`` in order, leaving out the first ``skip``; ``posted(count)`` after each."""
        for count, part in enumerate(parts, start=1):
            if count <= skip:
                continue
            if part.image is None:
                await self.post(channel, part.text or "", thread)
            else:
                await self.web.files_upload_v2(channel=channel, file=str(part.image),
                                               filename=part.image.name,
                                               title=part.image.stem.replace("-", " "),
                                               initial_comment=part.text, thread_ts=thread)
            if posted is not None:
                await posted(count)

    async def post_reply(self, channel: str, reply: Reply, thread: str | None = None) -> None:
        """A public reply: text, a review summary, or a report with its chart as an upload."""
        await self.post_parts(channel, render.reply_parts(reply), thread)

    async def private(self, channel: str, user: str, text: str, thread: str | None = None) -> None:
        """Ephemeral messages only ``user`` sees (in ``thread``, when given)."""
        for piece in render.reply_texts(text):
            await self.web.chat_postEphemeral(channel=channel, user=user, text=piece, thread_ts=thread)

    async def announce(self, announcement: Announcement) -> None:
        """The engine's own posts (weekly reports), registered as the Slack publisher."""
        await self.post_parts(channel_id(announcement.channel), render.announcement_parts(announcement),
                              skip=announcement.skip_parts, posted=announcement.part_posted)
