"""A local fake of Discord for a real discord.py client: REST API, gateway and CDN on one aiohttp
server on 127.0.0.1, recording every request and every gateway op it receives.

Gateway: HELLO -> IDENTIFY -> READY + GUILD_CREATE, heartbeats acknowledged, and RESUME replaying
the events the client missed (then RESUMED), as Discord does; ``press`` makes the INTERACTION_CREATE
of a button press (type 3, the message with its components). REST: the routes copybot uses (message
edits keep what they do not name, as Discord's do; interaction callbacks of every type), with
injectable 429s. Two discord.py traps it honours: JSON is only parsed when the content type is
exactly ``application/json``, and a 429 without a ``Via`` header counts as a Cloudflare ban.
Payloads come from ``payloads/`` (Discord's documented shapes) with fresh snowflakes.
"""

from __future__ import annotations

import asyncio
import copy
import datetime
import itertools
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import discord
from aiohttp import WSMsgType, web

PAYLOADS = Path(__file__).parent / "payloads"
EPHEMERAL = 1 << 6
HEARTBEAT_ACK_DELAY = 0.05  # seconds


def load_payload(name: str) -> dict:
    return json.loads((PAYLOADS / f"{name}.json").read_text(encoding="utf-8"))


GUILD = load_payload("gateway_guild_create")
ADMIN_ROLE = next(role["id"] for role in GUILD["roles"] if role["name"] == "copybot admins")
LEAD = GUILD["owner_id"]  # given the admin role where the tests need an admin


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # Exactly "application/json": aiohttp's json_response adds a charset and discord.py then
    # treats the body as text.
    return web.Response(body=json.dumps(data).encode(), status=status,
                        headers={"Content-Type": "application/json", **(headers or {})})


@dataclass
class Request:
    method: str
    path: str  # without the /api/v10 prefix
    query: dict[str, str]
    body: Any  # parsed JSON (of a multipart request: its payload_json), or None
    files: dict[str, bytes] = field(default_factory=dict)  # uploaded files by name
    status: int = 0
    response: Any = None  # the JSON answered, e.g. the message created
    at: float = field(default_factory=time.perf_counter)  # when it arrived

    @property
    def callback_type(self) -> int | None:
        return self.body.get("type") if self.path.endswith("/callback") else None


@dataclass
class RateLimit:
    method: str
    path_prefix: str
    retry_after: float
    remaining: int = 1


@dataclass
class Refusal:
    """Matching requests answered 403 Missing Permissions (discord.py does not retry those)."""

    method: str
    path_prefix: str
    remaining: int
    let_through: int = 0  # matching requests that pass before the refusals start


class FakeDiscord:
    def __init__(self) -> None:
        self.identity = load_payload("rest_users_me")
        self.application = load_payload("rest_application_me")
        self.guild = copy.deepcopy(GUILD)
        self.requests: list[Request] = []
        self.gateway_in: list[tuple[str, int, Any]] = []  # (path, op, d) received, token removed
        self.connections: list[tuple[str, dict[str, str]]] = []  # (path, query) of each websocket
        self.messages: dict[str, dict] = {}  # every message the bot posted, by id
        self.threads: dict[str, dict] = {}  # threads the bot started, by id
        # message id -> reaction ("✅", or "name:id" for a custom emoji) -> ids of who reacted
        self.reactions: dict[str, dict[str, list[str]]] = {}
        self.attachments: dict[str, bytes] = {}
        self.rate_limits: list[RateLimit] = []
        self.refusals: list[Refusal] = []
        self.history: list[tuple[int, str, dict]] = []  # (seq, event, d) dispatched
        self.session_id: str | None = None  # the gateway session READY handed out
        self._ws: web.WebSocketResponse | None = None
        self._live = False  # the connected client has a session (READY or RESUMED sent)
        self._changed = asyncio.Condition()
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.port = 0
        self._channel_of_token: dict[str, str] = {}  # interaction token -> its channel
        self._acks: set[asyncio.Task] = set()
        self.token_revoked = False  # answer login with 401, as for a reset token

    # --- addresses ---------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._ws is not None and not self._ws.closed

    @property
    def app_id(self) -> str:
        return self.application["id"]

    @property
    def guild_id(self) -> str:
        return self.guild["id"]

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"

    @property
    def resume_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/resume"

    def snowflake(self, age: float = 0.0) -> str:
        """A fresh id that encodes a time ``age`` seconds ago, like Discord's."""
        moment = discord.utils.utcnow() - datetime.timedelta(seconds=age)
        return str(discord.utils.time_snowflake(moment) + next(self._ids))

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("GET", "/", self._gateway)
        app.router.add_route("GET", "/resume", self._gateway)
        app.router.add_route("GET", "/attachments/{name}", self._attachment)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # --- waiting -----------------------------------------------------------------------------

    async def _note(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 60.0) -> Any:
        """Wait until ``predicate()`` is truthy (checked after every request and gateway op)."""
        async with self._changed:
            return await asyncio.wait_for(self._changed.wait_for(predicate), timeout)

    def calls(self, method: str, path_prefix: str = "") -> list[Request]:
        return [r for r in self.requests if r.method == method and r.path.startswith(path_prefix)]

    def webhook_posts(self, token: str) -> list[Request]:
        """Follow-up messages created with an interaction's token (429'd attempts left out)."""
        return [r for r in self.calls("POST", f"/webhooks/{self.app_id}/{token}") if r.status == 200]

    def current(self, message_id: str) -> dict:
        """A message as it is now (edits applied), with ``shown``: every content it had."""
        return self.messages[message_id]

    def live_posts(self, token: str) -> list[dict]:
        """The follow-ups of an interaction as they are now, deleted ones left out."""
        return [self.messages[post.response["id"]] for post in self.webhook_posts(token)
                if not self.messages[post.response["id"]].get("deleted")]

    def callbacks(self, interaction: dict) -> list[Request]:
        """Initial responses to an interaction: type 4 message, 5 deferred, 8 choices, 9 form."""
        return self.calls("POST", f"/interactions/{interaction['id']}/{interaction['token']}/callback")

    def seeded(self, message_id: str) -> list[str]:
        """The emoji the bot put under a message."""
        parts = [r.path.strip("/").split("/") for r in self.calls("PUT", "/channels/") if r.status == 204]
        return [unquote(p[5]) for p in parts if p[2:5] == ["messages", message_id, "reactions"]]

    # --- REST --------------------------------------------------------------------------------

    def rate_limit(self, method: str, path_prefix: str, retry_after: float, times: int = 1) -> None:
        """Answer the next ``times`` matching requests with a per-route 429."""
        self.rate_limits.append(RateLimit(method, path_prefix, retry_after, times))

    def refuse(self, method: str, path_prefix: str, *, times: int = 1, after: int = 0) -> None:
        """Answer ``times`` matching requests with 403, once ``after`` of them went through."""
        self.refusals.append(Refusal(method, path_prefix, times, after))

    def _take_refusal(self, method: str, path: str) -> bool:
        for refusal in self.refusals:
            if refusal.remaining > 0 and refusal.method == method and path.startswith(refusal.path_prefix):
                if refusal.let_through > 0:
                    refusal.let_through -= 1
                    return False
                refusal.remaining -= 1
                return True
        return False

    def _take_rate_limit(self, method: str, path: str) -> RateLimit | None:
        for limit in self.rate_limits:
            if limit.remaining > 0 and limit.method == method and path.startswith(limit.path_prefix):
                limit.remaining -= 1
                return limit
        return None

    async def _rest(self, request: web.Request) -> web.Response:
        path = request.path.removeprefix("/api/v10")
        body, files = None, {}
        if request.content_type == "multipart/form-data":  # a message with files
            form = await request.post()
            body = json.loads(form["payload_json"])
            files = {part.filename: part.file.read() for part in form.values() if isinstance(part, web.FileField)}
        elif raw := await request.read():
            body = json.loads(raw) if request.content_type == "application/json" else None
        record = Request(request.method, path, dict(request.query), body, files=files)
        self.requests.append(record)
        if self._take_refusal(request.method, path):
            response = _json({"message": "Missing Permissions", "code": 50013}, status=403)
        elif (limit := self._take_rate_limit(request.method, path)) is not None:
            response = _json({"message": "You are being rate limited.", "retry_after": limit.retry_after,
                              "global": False}, status=429, headers={
                "Retry-After": str(max(1, round(limit.retry_after))), "X-RateLimit-Limit": "5",
                "X-RateLimit-Remaining": "0", "X-RateLimit-Reset-After": str(limit.retry_after),
                "X-RateLimit-Bucket": "80c17d2f203122d936070c88c8d10f33", "X-RateLimit-Scope": "user",
                "Via": "1.1 google"})
        else:
            response = await self._route(request.method, path, body, record.query)
        record.status = response.status
        if response.content_type == "application/json":
            record.response = json.loads(response.body)
        await self._note()
        return response

    async def _route(self, method: str, path: str, body: Any, query: dict[str, str]) -> web.Response:
        parts = path.strip("/").split("/")
        if path == "/users/@me":
            if self.token_revoked:
                return _json({"message": "401: Unauthorized", "code": 0}, status=401)
            return _json(self.identity)
        if path == "/oauth2/applications/@me":
            return _json(self.application)
        if method == "PUT" and parts[:1] == ["applications"] and parts[-1] == "commands":
            if len(parts) == 5 and parts[3] != self.guild_id:
                return _json({"message": "Missing Access", "code": 50001}, status=403)
            return _json([dict(command, id=self.snowflake(), application_id=self.app_id, version=self.snowflake(),
                               type=command.get("type", 1), guild_id=parts[3] if len(parts) == 5 else None)
                          for command in body])
        if method == "POST" and parts[0] == "interactions" and parts[-1] == "callback":
            return _json({"interaction": {"id": parts[1], "type": 2, "response_message_loading": body["type"] == 5,
                                          "response_message_ephemeral": bool(
                                              (body.get("data") or {}).get("flags", 0) & EPHEMERAL)},
                          "resource": {"type": body["type"]}})
        if parts[-2:-1] == ["messages"] and method in ("PATCH", "DELETE") and parts[-1] != "@original" and (
                parts[0] == "webhooks" or parts[0] == "channels"):
            message = self.messages.get(parts[-1])
            if message is None or message.get("deleted"):
                return _json({"message": "Unknown Message", "code": 10008}, status=404)
            if method == "DELETE":
                message["deleted"] = True
                return web.Response(status=204)
            # Like Discord: what the edit does not name stays (an edit of the content alone
            # keeps the embeds and the buttons).
            for key in ("content", "embeds", "components"):
                if key in body:
                    message[key] = body[key] or ("" if key == "content" else [])
            message["shown"].append(message["content"])
            message["edited_timestamp"] = discord.utils.utcnow().isoformat()
            return _json({k: v for k, v in message.items() if k != "shown"})
        if parts[0] == "webhooks" and len(parts) == 3 and method == "POST":
            return _json(self._post_message(self._channel_of_token[parts[2]], body, webhook=True))
        if parts[0] == "webhooks" and parts[-1] == "@original":
            if method == "DELETE":
                return web.Response(status=204)
            return _json(self._post_message(self._channel_of_token[parts[2]], body, webhook=True))
        if parts[0] == "channels" and len(parts) == 5 and parts[4] == "threads" and method == "POST":
            return _json(await self._start_thread(parts[1], parts[3], body))
        if parts[0] == "channels" and len(parts) == 3 and parts[2] == "messages" and method == "POST":
            return _json(self._post_message(parts[1], body, webhook=False))
        if parts[0] == "channels" and "reactions" in parts and method == "PUT":
            self.react(parts[3], unquote(parts[5]), self.identity["id"])
            # Discord tells every client about the bot's own reaction too.
            await self.dispatch("MESSAGE_REACTION_ADD", self.reaction(
                "reaction_add_check", parts[3], emoji=unquote(parts[5]), member=self._bot_member()))
            return web.Response(status=204)
        if parts[0] == "channels" and len(parts) == 6 and parts[4] == "reactions" and method == "GET":
            return _json(self._reactors(parts[3], unquote(parts[5]), query))
        if parts[0] == "channels" and len(parts) == 4 and parts[2] == "messages" and method == "GET":
            message = self.messages.get(parts[3])
            if message is None:
                return _json({"message": "Unknown Message", "code": 10008}, status=404)
            return _json(dict(message, reactions=self._reaction_counts(parts[3])))
        return _json({"message": "404: Not Found", "code": 0}, status=404)

    async def _start_thread(self, channel_id: str, message_id: str, body: dict) -> dict:
        """A public thread on a message (its id is the message's, as on Discord); THREAD_CREATE
        goes to the client, as Discord sends it."""
        thread = {"id": message_id, "guild_id": self.guild_id, "parent_id": channel_id, "type": 11,
                  "name": body["name"], "owner_id": self.identity["id"], "message_count": 0,
                  "member_count": 1, "rate_limit_per_user": 0, "flags": 0, "last_message_id": None,
                  "thread_metadata": {"archived": False, "auto_archive_duration": 1440,
                                      "archive_timestamp": discord.utils.utcnow().isoformat(),
                                      "locked": False, "create_timestamp": discord.utils.utcnow().isoformat()}}
        self.threads[message_id] = thread
        await self.dispatch("THREAD_CREATE", dict(thread, newly_created=True))
        return thread

    def message_event(self, content: str, *, channel_id: str | None = None, author: dict | None = None,
                      mentions_bot: bool = True, reference: str | None = None) -> dict:
        """A recorded MESSAGE_CREATE from a person (or ``author``), with a fresh id."""
        payload = load_payload("gateway_message_create")
        payload.update(id=self.snowflake(), content=content)
        if channel_id is not None:
            payload["channel_id"] = channel_id
        if author is not None:
            payload["author"] = author
        if not mentions_bot:
            payload["mentions"] = []
        if reference is not None:
            payload["message_reference"] = {"message_id": reference, "channel_id": payload["channel_id"],
                                            "guild_id": self.guild_id, "type": 0}
        return payload

    def _post_message(self, channel_id: str, body: dict, *, webhook: bool) -> dict:
        message = {
            "id": self.snowflake(), "channel_id": channel_id, "guild_id": self.guild_id,
            "author": self.identity, "content": body.get("content") or "", "embeds": body.get("embeds") or [],
            "flags": body.get("flags", 0), "timestamp": discord.utils.utcnow().isoformat(),
            "edited_timestamp": None, "tts": False, "mention_everyone": False, "mentions": [],
            "mention_roles": [], "attachments": [], "pinned": False, "type": 0,
            "components": body.get("components") or [],
        }
        if body.get("message_reference"):
            message["message_reference"] = body["message_reference"]
        if webhook:
            message["webhook_id"] = self.app_id
        self.messages[message["id"]] = message
        message["shown"] = [message["content"]]  # every content it had, edits included (not Discord's)
        return {k: v for k, v in message.items() if k != "shown"}

    # --- reactions on messages ---------------------------------------------------------------

    def react(self, message_id: str, emoji: str, user_id: str, present: bool = True) -> None:
        """Change who has reacted with ``emoji`` (the event is dispatched separately)."""
        users = self.reactions.setdefault(message_id, {}).setdefault(emoji, [])
        if present and user_id not in users:
            users.append(user_id)
        elif not present and user_id in users:
            users.remove(user_id)

    def _reaction_counts(self, message_id: str) -> list[dict]:
        counts = []
        for key, users in self.reactions.get(message_id, {}).items():
            if not users:
                continue
            name, _, emoji_id = key.partition(":")
            counts.append({"count": len(users), "count_details": {"burst": 0, "normal": len(users)},
                           "me": self.identity["id"] in users, "me_burst": False, "burst_colors": [],
                           "emoji": {"id": emoji_id or None, "name": name}})
        return counts

    def _reactors(self, message_id: str, emoji: str, query: dict[str, str]) -> list[dict]:
        """Who reacted with ``emoji``, by id ascending, after ``after``, at most ``limit``."""
        users = sorted(self.reactions.get(message_id, {}).get(emoji, []), key=int)
        after = int(query.get("after", 0))
        chosen = [u for u in users if int(u) > after][: int(query.get("limit", 25))]
        return [{"id": u, "username": f"user{u}", "discriminator": "0", "global_name": None,
                 "avatar": None} for u in chosen]

    def _bot_member(self) -> dict:
        return {"user": self.identity, "roles": [], "joined_at": "2026-01-12T10:02:11.114000+00:00",
                "deaf": False, "mute": False, "flags": 0}

    async def _attachment(self, request: web.Request) -> web.Response:
        self.requests.append(Request("GET", request.path, dict(request.query), None, 200))
        await self._note()
        data = self.attachments.get(request.match_info["name"])
        if data is None:
            return web.Response(status=404)
        return web.Response(body=data, content_type="text/csv")

    def add_attachment(self, filename: str, data: bytes) -> str:
        """Serve ``data`` like Discord's CDN; returns its URL."""
        self.attachments[filename] = data
        return f"http://127.0.0.1:{self.port}/attachments/{filename}?ex=6671c2b5&is=66707135&hm=5b8a4c&"

    # --- gateway -----------------------------------------------------------------------------

    async def _send(self, payload: dict) -> None:
        if self._ws is not None and not self._ws.closed:
            await self._ws.send_str(json.dumps(payload))

    async def _ack_heartbeat(self) -> None:
        # After a network's worth of delay: discord.py notes a heartbeat's send time only once the
        # send returns, and an instant ACK would read as 41 s of latency ("Can't keep up").
        await asyncio.sleep(HEARTBEAT_ACK_DELAY)
        await self._send({"op": 11})

    async def dispatch(self, event: str, data: dict) -> int:
        """Send a gateway event; while the client is away it is kept for its RESUME."""
        sequence = len(self.history) + 1
        self.history.append((sequence, event, data))
        if self._live:
            await self._send({"op": 0, "t": event, "s": sequence, "d": data})
        return sequence

    async def drop_gateway(self, code: int = 4000) -> None:
        """Close the websocket the way Discord does before asking a client to resume."""
        self._live = False
        if self._ws is not None:
            await self._ws.close(code=code, message=b"Unknown error")

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._ws, self._live = ws, False
        self.connections.append((request.path, dict(request.query)))
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 41250}}))
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                continue
            payload = json.loads(message.data)
            op, data = payload["op"], payload.get("d")
            if isinstance(data, dict):
                data = {k: v for k, v in data.items() if k != "token"}
            self.gateway_in.append((request.path, op, data))
            if op == 1:
                ack = asyncio.create_task(self._ack_heartbeat())
                self._acks.add(ack)
                ack.add_done_callback(self._acks.discard)
            elif op == 2:
                await self._identify()
            elif op == 6:
                await self._resume(data)
            await self._note()
        if self._ws is ws:
            self._ws, self._live = None, False
        await self._note()
        return ws

    async def _identify(self) -> None:
        self.session_id = secrets.token_hex(16)
        ready = load_payload("gateway_ready")
        ready.update(session_id=self.session_id, resume_gateway_url=self.resume_url,
                     user=self.identity, application={"id": self.app_id, "flags": 565248},
                     guilds=[{"id": self.guild_id, "unavailable": True}])
        self._live = True
        await self.dispatch("READY", ready)
        await self.dispatch("GUILD_CREATE", self.guild)

    async def _resume(self, data: dict) -> None:
        if self.session_id is None or data.get("session_id") != self.session_id:
            await self._send({"op": 9, "d": False})  # invalid session: identify again
            return
        for sequence, event, payload in self.history:
            if sequence > data["seq"]:
                await self._send({"op": 0, "t": event, "s": sequence, "d": payload})
        self._live = True
        await self.dispatch("RESUMED", {"_trace": ["[\"gateway-prd-us-east1-c-7l2s\",{\"micros\":812}]"]})

    # --- payloads ----------------------------------------------------------------------------

    def interaction(self, recorded: str, *, options: list[dict] | None = None, member: dict | None = None,
                    channel_id: str | None = None, age: float = 0.0) -> dict:
        """A recorded INTERACTION_CREATE with a fresh id (``age`` seconds old) and token."""
        payload = load_payload(recorded)
        payload["id"] = self.snowflake(age)
        payload["token"] = "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(48)
        if options is not None:
            payload["data"]["options"] = options
        if member is not None:
            payload["member"] = member
        if channel_id is not None:
            payload["channel_id"] = channel_id
            payload["channel"] = dict(payload["channel"], id=channel_id)
        self._channel_of_token[payload["token"]] = payload["channel_id"]
        return payload

    def press(self, message_id: str, custom_id: str, *, member: dict | None = None) -> dict:
        """A recorded INTERACTION_CREATE of type 3: someone (or ``member``) presses the button
        ``custom_id`` under ``message_id``, which comes as Discord sends it, components included."""
        message = {k: v for k, v in self.messages[message_id].items() if k not in ("shown", "deleted")}
        payload = self.interaction("interaction_button", member=member, channel_id=message["channel_id"])
        if message["channel_id"] in self.threads:  # a thread copybot made: sent as the thread
            payload["channel"] = copy.deepcopy(self.threads[message["channel_id"]])
        payload["message"] = message
        payload["data"]["custom_id"] = custom_id
        return payload

    def bot_message(self, channel_id: str, content: str, components: list[dict]) -> dict:
        """A message copybot posted before this run (and this database): e.g. with buttons."""
        return self._post_message(channel_id, {"content": content, "components": components},
                                  webhook=False)

    def member(self, user_id: str, username: str, roles: list[str]) -> dict:
        """Another guild member, shaped like the recorded one."""
        member = load_payload("interaction_copy")["member"]
        member["user"].update(id=user_id, username=username, global_name=username.title())
        member["roles"] = roles
        return member

    def reaction(self, recorded: str, message_id: str, *, emoji: str | None = None,
                 member: dict | None = None) -> dict:
        """A recorded MESSAGE_REACTION_ADD/REMOVE on ``message_id`` (by ``member``, if given)."""
        payload = load_payload(recorded)
        payload["message_id"] = message_id
        message = self.messages.get(message_id)
        if message is not None:
            payload["channel_id"] = message["channel_id"]
            if "message_author_id" in payload:
                payload["message_author_id"] = message["author"]["id"]
        if emoji is not None:
            payload["emoji"] = {"id": None, "name": emoji}
        if member is not None:
            payload["member"] = member
            payload["user_id"] = member["user"]["id"]
        return payload
