"""Posting to Slack through the Web API: texts split under the size limit, charts as file uploads."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

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

    async def post(self, channel: str, text: str, thread: str | None = None) -> Any:
        """One message (``text`` already rendered and under the limit); Slack's answer."""
        return await self.web.chat_postMessage(channel=channel, text=text, thread_ts=thread,
                                               unfurl_links=False, unfurl_media=False)

    async def post_reply(self, channel: str, text: str, image: Path | None = None,
                         thread: str | None = None) -> None:
        """A plain reply as messages; with an image, the last piece of text becomes its comment."""
        pieces = render.reply_texts(text)
        if image is not None:
            comment = pieces.pop() if pieces else None
        for piece in pieces:
            await self.post(channel, piece, thread)
        if image is not None:
            await self.web.files_upload_v2(channel=channel, file=str(image), filename=image.name,
                                           title=image.stem.replace("-", " "),
                                           initial_comment=comment, thread_ts=thread)

    async def private(self, channel: str, user: str, text: str) -> None:
        """Ephemeral messages only ``user`` sees."""
        for piece in render.reply_texts(text):
            await self.web.chat_postEphemeral(channel=channel, user=user, text=piece)

    async def announce(self, announcement: Announcement) -> None:
        """The engine's own posts (weekly reports), registered as the Slack publisher."""
        await self.post_reply(channel_id(announcement.channel), announcement.text, announcement.image)
