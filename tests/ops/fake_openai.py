"""A local OpenAI-compatible chat-completions server (aiohttp on 127.0.0.1) for the remote backend.

It answers ``POST /v1/chat/completions`` the way vLLM or Ollama do, records every request (body and
headers), and can be told to answer the next requests with an HTTP error, to hold them until the
test releases them, or to never answer (so the client's timeout fires).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import deque
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


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict
    arrived: float  # time.monotonic()


@dataclass
class Behaviour:
    status: int = 200
    retry_after: str | None = None
    hang: bool = False  # never answer; the client must time out


@dataclass
class FakeOpenAI:
    requests: list[Recorded] = field(default_factory=list)
    in_flight: int = 0
    most_in_flight: int = 0
    completion_tokens: int = 7  # what each answer reports in ``usage``
    answer_delay: float = 0.0  # seconds each answer takes, like a model generating (benchmarks)

    def __post_init__(self) -> None:
        self._script: deque[Behaviour] = deque()
        self._answers = itertools.cycle(ANSWERS)
        self._arrived = asyncio.Condition()
        self._released = asyncio.Event()
        self._released.set()
        self._hung = asyncio.Event()  # never set: hung requests wait until the server stops
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._complete)
        app.router.add_get("/v1/models", self._models)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/v1"
        return self.url

    async def stop(self) -> None:
        self._released.set()
        if self._runner is not None:
            await self._runner.cleanup()

    # --- what the test controls ----------------------------------------------------------------

    def fail_next(self, status: int, times: int = 1, retry_after: str | None = None) -> None:
        self._script.extend(Behaviour(status, retry_after) for _ in range(times))

    def hang_next(self, times: int = 1) -> None:
        self._script.extend(Behaviour(hang=True) for _ in range(times))

    def hold(self) -> None:
        """Keep answers back until ``release()`` (requests still arrive and are recorded)."""
        self._released.clear()

    def release(self) -> None:
        self._released.set()

    async def wait_for_requests(self, count: int, timeout: float = 15.0) -> None:
        async with asyncio.timeout(timeout):
            async with self._arrived:
                await self._arrived.wait_for(lambda: len(self.requests) >= count)

    async def wait_for_in_flight(self, count: int, timeout: float = 15.0) -> None:
        async with asyncio.timeout(timeout):
            async with self._arrived:
                await self._arrived.wait_for(lambda: self.in_flight >= count)

    # --- the server ----------------------------------------------------------------------------

    async def _complete(self, request: web.Request) -> web.Response:
        body = await request.json()
        behaviour = self._script.popleft() if self._script else Behaviour()
        async with self._arrived:
            self.requests.append(Recorded(request.path, dict(request.headers), body, time.monotonic()))
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            self._arrived.notify_all()
        try:
            if behaviour.hang:
                await self._hung.wait()
            await self._released.wait()
            if self.answer_delay:
                await asyncio.sleep(self.answer_delay)
            if behaviour.status != 200:
                headers = {"Retry-After": behaviour.retry_after} if behaviour.retry_after else {}
                return web.json_response(
                    {"error": {"message": f"fake failure {behaviour.status}", "type": "server_error"}},
                    status=behaviour.status, headers=headers)
            return web.json_response({
                "id": f"chatcmpl-{len(self.requests)}",
                "object": "chat.completion",
                "model": body.get("model"),
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": next(self._answers)}}],
                "usage": {"prompt_tokens": 50, "completion_tokens": self.completion_tokens,
                          "total_tokens": 50 + self.completion_tokens},
            })
        finally:
            async with self._arrived:
                self.in_flight -= 1
                self._arrived.notify_all()

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": "fake-model", "object": "model"}]})


def prompt_text(recorded: Recorded) -> str:
    return json.dumps(recorded.body["messages"])
