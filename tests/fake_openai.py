"""A local OpenAI-compatible chat-completions server (aiohttp on 127.0.0.1) for the remote backend.

It answers ``POST /v1/chat/completions`` the way vLLM or Ollama do: a streamed answer (server-sent
events, ``data: {chunk}`` … ``data: [DONE]``) when the request says ``"stream": true``, one JSON
completion otherwise. It records every request (body and headers) and the order requests arrived
and ended in, and can be told to answer the next requests with an HTTP error (with ``Retry-After``),
to hold answers until the test releases them (all, or one at a time), to never answer (so the
client's timeout fires), or to stop part-way through a stream until the test resumes it. A client
that disconnects ends its request at the server.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

# Distinct, well-formed copy: it passes the engine's cleaning unchanged.
ANSWERS = [
    "Small batches, big flavour: taste the difference in every cup.",
    "Roasted this week and shipped within a day, so every bag arrives fresh.",
    "Wake up to beans with character. Order a bag and feel the lift.",
    "Your desk deserves better coffee; treat it to something bright and bold.",
    "Meet your new morning ritual, roasted slowly for a smooth finish.",
    "From farm to mug in days, not months. Try it this weekend.",
    "Rich chocolate notes, a clean citrus finish, zero bitterness.",
    "Brew a cafe-worthy cup at home, without the queue or the price.",
]


def deltas(answer: str) -> list[str]:
    """How the fake streams an answer: one delta per word, each with the space after it, the way
    a tokenizer's pieces add up to the text."""
    return re.findall(r"\S+\s*", answer)


@dataclass
class Recorded:
    number: int  # 1, 2, … in order of arrival
    path: str
    headers: dict[str, str]
    body: dict
    arrived: float  # time.monotonic()
    answer: str = ""  # what it was (or would have been) answered
    finished: bool = False  # the whole answer was sent


@dataclass
class Behaviour:
    status: int = 200
    retry_after: str | None = None
    hang: bool = False  # never answer; the client must time out
    stall_after: int | None = None  # stream this many deltas, then wait for resume()


@dataclass
class FakeOpenAI:
    requests: list[Recorded] = field(default_factory=list)
    # ("arrived" | "ended", request number), in the order it happened at the server.
    events: list[tuple[str, int]] = field(default_factory=list)
    in_flight: int = 0
    most_in_flight: int = 0
    completion_tokens: int = 7  # what each non-streamed answer reports in ``usage``
    answer_delay: float = 0.0  # seconds each answer takes, spread over its deltas (benchmarks)
    #: answers chosen from the request's messages (a classifier's reply); None: the copy ANSWERS in turn
    answer_for: Callable[[list[dict]], str] | None = None

    def __post_init__(self) -> None:
        self._script: deque[Behaviour] = deque()
        self._answers = itertools.cycle(ANSWERS)
        self._changed = asyncio.Condition()
        self._held = False
        self._permits = 0  # held requests allowed to go on, one each
        self._resumed = asyncio.Event()
        self._hung = asyncio.Event()  # never set: hung requests wait until the server stops
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._complete)
        app.router.add_get("/v1/models", self._models)
        # A client that goes away ends its handler, as vLLM aborts a request whose client left.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5,
                                     handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/v1"
        return self.url

    async def stop(self) -> None:
        self.release()
        self._resumed.set()
        if self._runner is not None:
            await self._runner.cleanup()

    # --- what the test controls ----------------------------------------------------------------

    def fail_next(self, status: int, times: int = 1, retry_after: str | None = None) -> None:
        self._script.extend(Behaviour(status, retry_after) for _ in range(times))

    def hang_next(self, times: int = 1) -> None:
        self._script.extend(Behaviour(hang=True) for _ in range(times))

    def stall_next(self, after: int, times: int = 1) -> None:
        """Stream ``after`` deltas of the next answers, then wait until ``resume()``."""
        self._script.extend(Behaviour(stall_after=after) for _ in range(times))

    def resume(self) -> None:
        self._resumed.set()

    def hold(self) -> None:
        """Keep answers back until ``release()`` or ``release_one()`` (requests still arrive and are
        recorded)."""
        self._held = True

    def release(self) -> None:
        self._held = False
        self._notify()

    def release_one(self) -> None:
        self._permits += 1
        self._notify()

    async def wait_for_requests(self, count: int, timeout: float = 15.0) -> None:
        await self._wait_until(lambda: len(self.requests) >= count, timeout)

    async def wait_for_in_flight(self, count: int, timeout: float = 15.0) -> None:
        await self._wait_until(lambda: self.in_flight >= count, timeout)

    async def wait_for_ended(self, count: int, timeout: float = 15.0) -> None:
        await self._wait_until(lambda: sum(e == "ended" for e, _ in self.events) >= count, timeout)

    # --- the server ----------------------------------------------------------------------------

    def _notify(self) -> None:
        async def notify() -> None:
            async with self._changed:
                self._changed.notify_all()
        asyncio.get_running_loop().create_task(notify())

    async def _wait_until(self, predicate, timeout: float) -> None:
        async with asyncio.timeout(timeout):
            async with self._changed:
                await self._changed.wait_for(predicate)

    async def _complete(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        behaviour = self._script.popleft() if self._script else Behaviour()
        async with self._changed:
            recorded = Recorded(len(self.requests) + 1, request.path, dict(request.headers), body,
                                time.monotonic())
            self.requests.append(recorded)
            self.events.append(("arrived", recorded.number))
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            self._changed.notify_all()
        try:
            if behaviour.hang:
                await self._hung.wait()
            await self._wait_for_turn()
            if behaviour.status != 200:
                headers = {"Retry-After": behaviour.retry_after} if behaviour.retry_after else {}
                return web.json_response(
                    {"error": {"message": f"fake failure {behaviour.status} at gpu-box-internal",
                               "type": "server_error"}},
                    status=behaviour.status, headers=headers)
            recorded.answer = self.answer_for(body["messages"]) if self.answer_for else next(self._answers)
            if body.get("stream"):
                return await self._stream(request, recorded, behaviour)
            if self.answer_delay:
                await asyncio.sleep(self.answer_delay)
            recorded.finished = True
            return web.json_response({
                "id": f"chatcmpl-{recorded.number}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model"),
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": recorded.answer}}],
                "usage": {"prompt_tokens": 50, "completion_tokens": self.completion_tokens,
                          "total_tokens": 50 + self.completion_tokens},
            })
        finally:
            async with self._changed:
                self.in_flight -= 1
                self.events.append(("ended", recorded.number))
                self._changed.notify_all()

    async def _wait_for_turn(self) -> None:
        async with self._changed:
            await self._changed.wait_for(lambda: not self._held or self._permits > 0)
            if self._held:
                self._permits -= 1

    async def _stream(self, request: web.Request, recorded: Recorded,
                      behaviour: Behaviour) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                               "Cache-Control": "no-cache"})
        await response.prepare(request)
        pieces = deltas(recorded.answer)
        base = {"id": f"chatcmpl-{recorded.number}", "object": "chat.completion.chunk",
                "created": int(time.time()), "model": recorded.body.get("model")}

        async def send(delta: dict, finish_reason: str | None = None) -> None:
            chunk = {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]}
            await response.write(f"data: {json.dumps(chunk)}\n\n".encode())

        await send({"role": "assistant", "content": ""})
        for sent, piece in enumerate(pieces):
            if sent == behaviour.stall_after:
                await self._resumed.wait()
            if self.answer_delay:
                await asyncio.sleep(self.answer_delay / len(pieces))
            await send({"content": piece})
        await send({}, finish_reason="stop")
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        recorded.finished = True
        return response

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": "fake-model", "object": "model"}]})


def prompt_text(recorded: Recorded) -> str:
    return json.dumps(recorded.body["messages"])
