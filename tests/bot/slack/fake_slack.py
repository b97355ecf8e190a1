"""A local fake of Slack, over real sockets on 127.0.0.1, for tests and the benchmark.

It serves the Web API (``/api/<method>``, every call recorded, failures programmable), the
``response_url`` endpoints slash commands answer through, private file downloads, and a Socket
Mode websocket that ``apps.connections.open`` points to. ``SlackSender`` plays Slack's side of HTTP
mode: it posts slash commands and event envelopes to the bot, signed like Slack signs them.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from slack_sdk.signature import SignatureVerifier

BOT_TOKEN = "xoxb-1111-2222-fakebottoken"
APP_TOKEN = "xapp-1-A0COPYBOT-3333-fakeapptoken"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TEAM_ID = "T0ACME01"
BOT_USER_ID = "U0COPYBOT"
BOT_ID = "B0COPYBOT"
APP_ID = "A0COPYBOT"


@dataclass
class ApiCall:
    method: str
    params: dict[str, Any]
    token: str | None
    status: int  # the HTTP status the fake answered
    response: dict[str, Any]

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.response.get("ok"))


@dataclass
class _Failure:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class FakeSlack:
    def __init__(self, team_id: str = TEAM_ID) -> None:
        self.team_id = team_id
        self.calls: list[ApiCall] = []
        self.responses: list[tuple[str, dict[str, Any]]] = []  # (response_url key, JSON posted)
        self.expired: set[str] = set()  # response_url keys Slack no longer accepts
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}  # (channel, ts) -> message
        self.reactions: dict[tuple[str, str], dict[str, list[str]]] = defaultdict(dict)
        self.files: dict[str, tuple[bytes, str]] = {}  # name -> (content, content type)
        self.uploads: dict[str, dict[str, Any]] = {}  # file id -> what the bot uploaded, and where
        self.socket_acks: dict[str, dict[str, Any]] = {}
        self.socket_connections = 0
        self._failures: dict[str, list[_Failure]] = defaultdict(list)
        self._holds: list[tuple[str, dict[str, str], asyncio.Event]] = []
        self._waiting_at_hold: dict[str, int] = defaultdict(int)
        self._changed = asyncio.Condition()
        self._socket: web.WebSocketResponse | None = None
        self._clock = 1_700_000_000
        self._runner: web.AppRunner | None = None
        self.port = 0

    # --- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/respond/{key}", self._respond)
        app.router.add_get("/files/{name}", self._file)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/socket", self._websocket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def response_url(self, key: str) -> str:
        return f"{self.url}/respond/{key}"

    @property
    def socket_open(self) -> bool:
        return self._socket is not None

    def add_file(self, name: str, content: bytes, content_type: str = "text/csv") -> str:
        self.files[name] = (content, content_type)
        return f"{self.url}/files/{name}"

    # --- programming and reading the fake -------------------------------------------------------

    def fail_next(self, method: str, *, status: int = 200, error: str | None = None,
                  retry_after: int | None = None, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` fail: HTTP ``status`` and/or ``{"ok": false}``."""
        headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
        body = {"ok": False, "error": error or ("ratelimited" if status == 429 else "fatal_error")}
        self._failures[method] += [_Failure(status, body, headers) for _ in range(times)]

    def hold(self, method: str, **params: str) -> asyncio.Event:
        """Calls of ``method`` with these params wait (a slow or rate-limited Slack) until the
        returned event is set."""
        release = asyncio.Event()
        self._holds.append((method, params, release))
        return release

    def held(self, method: str) -> int:
        """How many calls of ``method`` are waiting at a hold now."""
        return self._waiting_at_hold.get(method, 0)

    def calls_to(self, method: str) -> list[ApiCall]:
        return [call for call in self.calls if call.method == method]

    def posted(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Messages the bot posted (chat.postMessage that succeeded), oldest first."""
        return [call.response["message"] | {"channel": call.response["channel"]}
                for call in self.calls_to("chat.postMessage")
                if call.ok and (channel is None or call.response["channel"] == channel)
                and not call.response["message"].get("deleted")]

    def shown(self, channel: str, ts: str) -> list[str]:
        """Every text one message showed, in order: as posted, then each chat.update."""
        texts = [call.params.get("text", "") for call in self.calls
                 if call.ok and call.method in ("chat.postMessage", "chat.update")
                 and str(call.params.get("channel")) == channel
                 and (call.method == "chat.update" and str(call.params.get("ts")) == ts
                      or call.method == "chat.postMessage" and call.response.get("ts") == ts)]
        return texts

    def ephemeral(self, user: str | None = None) -> list[str]:
        """Texts only one person saw: chat.postEphemeral and ephemeral response_url answers."""
        texts = [call.params["text"] for call in self.calls_to("chat.postEphemeral")
                 if call.ok and (user is None or call.params.get("user") == user)]
        texts += [body.get("text", "") for _, body in self.responses
                  if body.get("response_type", "ephemeral") == "ephemeral"]
        return texts

    def shared(self, channel: str) -> list[dict[str, Any]]:
        """Files the bot uploaded and shared into ``channel`` (files_upload_v2 completed)."""
        return [upload for upload in self.uploads.values() if upload.get("channel") == channel]

    def react(self, channel: str, ts: str, name: str, user: str, present: bool = True) -> None:
        """Change what reactions.get reports for a message (the event is sent separately)."""
        users = self.reactions[(channel, ts)].setdefault(name, [])
        if present and user not in users:
            users.append(user)
        elif not present and user in users:
            users.remove(user)

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Until ``predicate()`` is true after some request reached the fake."""
        async with asyncio.timeout(timeout):
            async with self._changed:
                return await self._changed.wait_for(predicate)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # --- Web API --------------------------------------------------------------------------------

    def _next_ts(self) -> str:
        self._clock += 1
        return f"{self._clock}.{self._clock % 1_000_000:06d}"

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                params.update(await request.json())
            else:
                params.update(await request.post())
        for held_method, held_params, release in self._holds:
            if held_method == method and all(str(params.get(k)) == v for k, v in held_params.items()):
                self._waiting_at_hold[method] += 1
                await self._notify()
                await release.wait()
                self._waiting_at_hold[method] -= 1
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else params.pop("token", None)
        failures = self._failures.get(method)
        if failures:
            failure = failures.pop(0)
            status, body, headers = failure.status, failure.body, failure.headers
        else:
            status, headers = 200, {}
            body = self._answer(method, params, token)
        self.calls.append(ApiCall(method, params, token, status, body))
        await self._notify()
        return web.json_response(body, status=status, headers=headers)

    def _answer(self, method: str, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        if method == "apps.connections.open":
            if token != APP_TOKEN:
                return {"ok": False, "error": "invalid_auth"}
            ws = f"ws://127.0.0.1:{self.port}/socket?ticket={uuid.uuid4()}"
            return {"ok": True, "url": ws}
        if token != BOT_TOKEN:
            return {"ok": False, "error": "invalid_auth"}
        if method == "auth.test":
            return {"ok": True, "url": "https://acme.slack.com/", "team": "Acme", "user": "copybot",
                    "team_id": self.team_id, "user_id": BOT_USER_ID, "bot_id": BOT_ID,
                    "is_enterprise_install": False}
        if method in ("chat.postMessage", "chat.postEphemeral") and len(params.get("text", "")) > 4000:
            return {"ok": False, "error": "msg_too_long"}
        if method == "chat.postMessage":
            ts, channel = self._next_ts(), str(params["channel"])
            message = {"type": "message", "text": params.get("text", ""), "user": BOT_USER_ID,
                       "bot_id": BOT_ID, "app_id": APP_ID, "team": self.team_id, "ts": ts}
            if params.get("thread_ts"):
                message["thread_ts"] = params["thread_ts"]
            if params.get("blocks"):
                message["blocks"] = _blocks(params["blocks"])
            self.messages[(channel, ts)] = message
            return {"ok": True, "channel": channel, "ts": ts, "message": message}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._next_ts()}
        if method in ("chat.update", "chat.delete"):
            key = (str(params["channel"]), str(params["ts"]))
            message = self.messages.get(key)
            if message is None or message.get("deleted"):
                return {"ok": False, "error": "message_not_found"}
            if method == "chat.delete":
                message["deleted"] = True
                return {"ok": True, "channel": key[0], "ts": key[1]}
            if len(params.get("text", "")) > 4000:
                return {"ok": False, "error": "msg_too_long"}
            message["text"] = params.get("text", "")
            if params.get("blocks"):
                message["blocks"] = _blocks(params["blocks"])
            return {"ok": True, "channel": key[0], "ts": key[1], "text": message["text"]}
        if method == "reactions.get":
            key = (str(params["channel"]), str(params["timestamp"]))
            reactions = [{"name": name, "users": list(users), "count": len(users)}
                         for name, users in self.reactions.get(key, {}).items() if users]
            message = dict(self.messages.get(key, {"type": "message", "ts": key[1]}))
            return {"ok": True, "type": "message", "channel": key[0],
                    "message": message | {"reactions": reactions}}
        if method == "files.getUploadURLExternal":
            file_id = f"F0UPLOAD{len(self.uploads) + 1:03d}"
            self.uploads[file_id] = {"filename": params["filename"], "length": int(params["length"])}
            return {"ok": True, "file_id": file_id, "upload_url": f"{self.url}/upload/{file_id}"}
        if method == "files.completeUploadExternal":
            listed = params["files"]
            listed = json.loads(listed) if isinstance(listed, str) else listed
            done = []
            for item in listed:
                upload = self.uploads[item["id"]]
                if "data" not in upload:
                    return {"ok": False, "error": "file_upload_not_completed"}
                upload.update(title=item.get("title"), channel=params.get("channel_id"),
                              comment=params.get("initial_comment"), thread=params.get("thread_ts"))
                done.append({"id": item["id"], "title": item.get("title")})
            return {"ok": True, "files": done}
        return {"ok": False, "error": "unknown_method"}

    async def _upload(self, request: web.Request) -> web.Response:
        upload = self.uploads.get(request.match_info["file_id"])
        if upload is None:
            return web.Response(status=404)
        upload["data"] = await request.read()
        await self._notify()
        return web.Response(text=f"OK - {len(upload['data'])}")

    async def _respond(self, request: web.Request) -> web.Response:
        if request.match_info["key"] in self.expired:
            return web.Response(status=404, text="expired_url")
        self.responses.append((request.match_info["key"], await request.json()))
        await self._notify()
        return web.Response(text="ok")

    async def _file(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if request.headers.get("Authorization") != f"Bearer {BOT_TOKEN}" or name not in self.files:
            # Slack answers a request it will not serve with its sign-in page, status 200.
            return web.Response(text="<html><body>Sign in to Slack</body></html>",
                                content_type="text/html")
        content, content_type = self.files[name]
        return web.Response(body=content, content_type=content_type)

    # --- Socket Mode ----------------------------------------------------------------------------

    async def _websocket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._socket = ws
        self.socket_connections += 1
        await ws.send_json({"type": "hello", "num_connections": 1,
                            "debug_info": {"host": "fake-slack", "approximate_connection_time": 18060},
                            "connection_info": {"app_id": APP_ID}})
        await self._notify()
        async for message in ws:
            if message.type == aiohttp.WSMsgType.TEXT:
                data = json.loads(message.data)
                if "envelope_id" in data:
                    self.socket_acks[data["envelope_id"]] = data
                    await self._notify()
        if self._socket is ws:
            self._socket = None
        await self._notify()
        return ws

    async def send_envelope(self, kind: str, payload: dict[str, Any], *, retry_attempt: int = 0,
                            envelope_id: str | None = None) -> str:
        """Push a Socket Mode envelope ("slash_commands" or "events_api"); returns its id."""
        await self.wait_for(lambda: self.socket_open)
        envelope_id = envelope_id or str(uuid.uuid4())
        envelope: dict[str, Any] = {"envelope_id": envelope_id, "type": kind, "payload": payload,
                                    "accepts_response_payload": kind == "slash_commands"}
        if kind == "events_api":
            envelope |= {"retry_attempt": retry_attempt,
                         "retry_reason": "timeout" if retry_attempt else ""}
        assert self._socket is not None
        await self._socket.send_json(envelope)
        return envelope_id

    async def socket_ack(self, envelope_id: str, timeout: float = 10.0) -> dict[str, Any]:
        await self.wait_for(lambda: envelope_id in self.socket_acks, timeout)
        return self.socket_acks[envelope_id]


def _blocks(raw: Any) -> list[dict[str, Any]]:
    """Blocks as a Web API call carries them: a JSON string in a form, a list in JSON."""
    return json.loads(raw) if isinstance(raw, str) else list(raw)


def signed_headers(body: str, secret: str = SIGNING_SECRET, timestamp: int | None = None,
                   content_type: str = "application/json") -> dict[str, str]:
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = SignatureVerifier(secret).generate_signature(timestamp=str(timestamp), body=body)
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": signature,
            "Content-Type": content_type}


@dataclass
class Answer:
    status: int
    text: str
    content_type: str

    @property
    def message(self) -> str:
        """What Slack shows the person from this response: a JSON body's "text", or a plain body."""
        if self.content_type == "application/json":
            return json.loads(self.text).get("text", "")
        return self.text


class SlackSender:
    """Slack's side of HTTP mode: signed POSTs of slash commands and event envelopes to the bot."""

    def __init__(self, url: str, secret: str = SIGNING_SECRET, connections: int = 100) -> None:
        self.url = url
        self.secret = secret
        self.connections = connections  # at once; 0: as many as there are requests (a burst)
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> SlackSender:
        self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=self.connections))
        return self

    async def __aexit__(self, *exc: Any) -> None:
        assert self._session is not None
        await self._session.close()

    async def post(self, body: str, headers: dict[str, str]) -> Answer:
        assert self._session is not None
        async with self._session.post(self.url, data=body.encode(), headers=headers) as response:
            return Answer(response.status, await response.text(), response.content_type)

    async def command(self, fields: dict[str, str], *, secret: str | None = None,
                      timestamp: int | None = None) -> Answer:
        body = urlencode(fields)
        headers = signed_headers(body, secret or self.secret, timestamp,
                                 "application/x-www-form-urlencoded")
        return await self.post(body, headers)

    async def action(self, payload: dict[str, Any]) -> Answer:
        """An interactive payload (a button press), as Slack posts it: a form field ``payload``."""
        body = urlencode({"payload": json.dumps(payload)})
        return await self.post(body, signed_headers(body, self.secret, None,
                                                    "application/x-www-form-urlencoded"))

    async def event(self, envelope: dict[str, Any], *, retry_num: int | None = None,
                    secret: str | None = None, timestamp: int | None = None) -> Answer:
        body = json.dumps(envelope)
        headers = signed_headers(body, secret or self.secret, timestamp)
        if retry_num is not None:
            headers |= {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
        return await self.post(body, headers)
