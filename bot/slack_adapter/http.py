"""Slack's HTTP mode endpoint: every request is checked before bolt parses it.

Bodies over ``MAX_BODY_BYTES`` are refused before they are read (413); a request without a valid
signature from the last 5 minutes gets 401; a signed body that is not UTF-8 JSON or form data
gets 400. Each refusal is one short log line, never the body (bolt would log a badly signed
body whole, and answer a malformed one with 500 and a traceback).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest

logger = logging.getLogger(__name__)

# Slack's event envelopes and slash commands are a few kB; a message event with a 40,000
# character text and its blocks stays well under this.
MAX_BODY_BYTES = 512 * 1024
SIGNATURE_WINDOW_SECONDS = 5 * 60


def signature_is_valid(secret: str, raw: bytes, timestamp: str, signature: str,
                       now: float | None = None) -> bool:
    """Slack's ``v0=`` HMAC-SHA256 of ``v0:{timestamp}:{body}``, over the bytes as received."""
    if not timestamp.isascii() or not timestamp.isdigit():
        return False
    now = time.time() if now is None else now
    if abs(now - int(timestamp)) > SIGNATURE_WINDOW_SECONDS:
        return False
    digest = hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + raw, hashlib.sha256)
    return hmac.compare_digest(f"v0={digest.hexdigest()}", signature)


def _well_formed(bolt_request: AsyncBoltRequest) -> bool:
    body = bolt_request.body
    if not isinstance(body, dict) or not body:
        return False
    payload = body.get("payload")  # interactive requests carry JSON in a form field
    return payload is None or isinstance(payload, dict)


def events_app(bolt_app: AsyncApp, signing_secret: str, path: str) -> web.Application:
    """The aiohttp application serving ``path`` for ``bolt_app``."""

    def refuse(request: web.Request, status: int, why: str) -> web.Response:
        logger.info("refused a request to %s from %s: %s (HTTP %d)", path, request.remote, why, status)
        return web.Response(status=status, text=why)

    async def handle(request: web.Request) -> web.StreamResponse:
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            return refuse(request, 413, "body too large")
        try:
            raw = await request.read()  # aiohttp stops reading at client_max_size
        except web.HTTPRequestEntityTooLarge:
            return refuse(request, 413, "body too large")
        timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
        signature = request.headers.get("X-Slack-Signature", "")
        if not signature_is_valid(signing_secret, raw, timestamp, signature):
            return refuse(request, 401, "invalid signature")
        try:
            bolt_request = AsyncBoltRequest(body=raw.decode("utf-8"), query=request.query_string,
                                            headers=request.headers)  # type: ignore[arg-type]
            well_formed = _well_formed(bolt_request)
        except (UnicodeDecodeError, json.JSONDecodeError, ValueError, TypeError, AttributeError,
                KeyError, IndexError):
            well_formed = False
        if not well_formed:
            return refuse(request, 400, "malformed body")
        return await to_aiohttp_response(await bolt_app.async_dispatch(bolt_request))

    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app.router.add_post(path, handle)
    return app
