"""Downloading a file shared in Slack (a CSV or text file of reviews) with the bot token."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import aiohttp

from bot.slack_adapter.translate import SharedFile
from engine import UserError

logger = logging.getLogger(__name__)

MAX_FILE_BYTES = 5_000_000
TEXT_FILETYPES = {"csv", "tsv", "text", "txt", "markdown"}
# Where Slack serves private files: https on files.slack.com, default port. The bot token goes
# nowhere else, however a payload names the URL.
SLACK_FILE_ORIGIN = ("https", "files.slack.com", 443)
_DEFAULT_PORTS = {"https": 443, "http": 80}


def _origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of ``url``, the port filled in from the scheme; None if unparseable."""
    try:
        parts = urlsplit(url)
        scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
        port = parts.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:  # a port that is not a number
        return None
    return (scheme, host, port) if host and port else None


def token_may_go_to(url: str, api_url: str) -> bool:
    """Only Slack's file host over https, or exactly the configured API origin (scheme, host and
    port: where a test's fake Slack or a proxy serves files) may see the bot token."""
    origin = _origin(url)
    return origin is not None and origin in {SLACK_FILE_ORIGIN, _origin(api_url)}


def check_shareable(shared: SharedFile) -> None:
    """Refuse, with a sentence, files we cannot or will not read."""
    if shared.url is None:
        raise UserError(f"I cannot open {shared.name}: the app needs the files:read scope; ask an "
                        "admin to reinstall it from the manifest.")
    if shared.filetype.lower() not in TEXT_FILETYPES and not shared.mimetype.startswith("text/"):
        raise UserError(f"{shared.name} is not a CSV or text file; attach reviews as .csv or .txt.")
    if shared.size > MAX_FILE_BYTES:
        raise UserError(f"{shared.name} is {shared.size / 1e6:.1f} MB; files of reviews may be at most "
                        f"{MAX_FILE_BYTES / 1e6:.0f} MB.")


async def download(shared: SharedFile, bot_token: str, api_url: str) -> bytes:
    """The file's bytes. The token is sent only to Slack's file host (or the configured API origin,
    which is where a test or proxy serves files), never to any other URL a payload names."""
    check_shareable(shared)
    assert shared.url is not None
    if not token_may_go_to(shared.url, api_url):
        logger.warning("refusing to send the bot token to %s (not Slack's file host)",
                       _origin(shared.url) or "an unreadable URL")
        raise UserError(f"I could not download {shared.name}; share it again from Slack.")
    headers = {"Authorization": f"Bearer {bot_token}"}
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        async with session.get(shared.url, headers=headers) as response:
            if response.status != 200:
                raise UserError(f"Slack would not give me {shared.name} (HTTP {response.status}); "
                                "share it again, or paste the reviews after /reviews.")
            # Without files:read Slack answers 200 with its sign-in page instead of the file.
            if response.content_type == "text/html":
                raise UserError(f"I cannot open {shared.name}: the app needs the files:read scope; "
                                "ask an admin to reinstall it from the manifest.")
            data = bytearray()
            async for chunk in response.content.iter_chunked(1 << 16):
                data += chunk
                if len(data) > MAX_FILE_BYTES:
                    raise UserError(f"{shared.name} is over {MAX_FILE_BYTES / 1e6:.0f} MB; files of "
                                    f"reviews may be at most {MAX_FILE_BYTES / 1e6:.0f} MB.")
    return bytes(data)
