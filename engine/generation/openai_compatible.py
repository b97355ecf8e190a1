"""A generator that asks an OpenAI-compatible chat-completions server, streaming, with the official
``openai`` async client.

vLLM, TGI, SGLang, llama.cpp's server and Ollama all serve ``POST /v1/chat/completions``: pointing
copybot at one moves generation to a GPU machine while the bot stays where it is. Everything runs on
the event loop (no thread per request): each of the ``n`` sequences of a request is its own streamed
request, sent concurrently, because not every server honours ``n`` and a server batches concurrent
requests itself; at most ``concurrency`` are in flight across all callers. The client retries
timeouts, connection errors, 408/409/429 and 5xx itself (honouring ``Retry-After``); when the server
stays down people get one sentence and the details go to the log.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast
from urllib.parse import urlsplit, urlunsplit

import openai

from engine.errors import BusyError, UserError
from engine.generation.contract import Completions, Messages, OnText

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletionMessageParam

logger = logging.getLogger(__name__)

SHUTTING_DOWN = "The bot is shutting down; try again in a minute."
NOT_ANSWERING = "The model server is not answering right now; try again in a few minutes."
SERVER_BUSY = "The model server is busy with other work; try again in a minute."
QUEUE_FULL = "The copywriter is busy with other requests; try again in a moment."
# Without a key the client would fall back to OPENAI_API_KEY from the environment and send this
# machine's OpenAI key to a self-hosted server; "EMPTY" is what vLLM's docs use for "no key".
NO_KEY = "EMPTY"
MAX_DETAIL = 200  # characters of a server's error message kept in a log line
# Cancelled streams close in milliseconds; a wedged one must not hold up shutdown.
STOP_GRACE_SECONDS = 5.0


@dataclass(frozen=True)
class RemoteSettings:
    url: str  # the server's root, its /v1 base URL, or the full .../chat/completions endpoint
    model: str
    api_key: str = field(default="", repr=False)  # a secret: never logged, never in a repr
    timeout: float = 60.0  # seconds the server may stay silent: to connect, to start, between deltas
    retries: int = 2  # further tries (by the openai client) after a timeout, 429, 5xx or lost connection
    concurrency: int = 8  # requests in flight at once, across all callers
    queue_size: int = 32  # requests (not sequences) waiting for a free slot before new ones are refused
    temperature: float = 0.5
    top_p: float = 0.9


def openai_base_url(url: str) -> str:
    """Accept a server root, its ``/v1`` base or the full chat-completions endpoint; return the base
    URL the client wants (it appends ``/chat/completions`` itself)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UserError(f"COPYBOT_OPENAI_URL must be an http(s) URL such as http://gpu-box:8000/v1; "
                        f"{public_url(url)!r} is not.")
    if parts.query or parts.fragment:  # the client appends paths, which a query would swallow
        raise UserError("COPYBOT_OPENAI_URL must not have a query (?…) or fragment (#…); give the "
                        "server's base URL, such as http://gpu-box:8000/v1.")
    path = parts.path.rstrip("/")
    path = path.removesuffix("/chat/completions") if path.endswith("/chat/completions") else (
        path if path.endswith("/v1") else path + "/v1")
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def public_url(url: str) -> str:
    """``url`` without user:password and query, safe to log (never shown in chat: it names an
    internal host)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.port:
            host += f":{parts.port}"
        return urlunsplit((parts.scheme, host, parts.path, "", ""))
    except ValueError:
        return "(an unreadable URL)"


@dataclass(eq=False)  # compared by identity
class _Call:
    """One ``generate`` call; ``unstarted`` of its sequences have no slot yet."""
    unstarted: int
    tokens: int = 0  # streamed content pieces (servers send about one per token)


class RemoteGenerator:
    """``engine.generation.contract.Generator`` over an OpenAI-compatible server."""

    def __init__(self, settings: RemoteSettings) -> None:
        if not settings.model:
            raise UserError("COPYBOT_BACKEND=openai needs COPYBOT_OPENAI_MODEL, the model name the "
                            "server serves (e.g. Qwen/Qwen2.5-7B-Instruct).")
        if settings.timeout <= 0 or settings.retries < 0 or settings.concurrency < 1:
            raise UserError("COPYBOT_OPENAI_TIMEOUT must be above 0 seconds, COPYBOT_OPENAI_RETRIES 0 or "
                            "more, and COPYBOT_OPENAI_CONCURRENCY 1 or more.")
        self.settings = settings
        self.base_url = openai_base_url(settings.url)
        self.shown_url = public_url(self.base_url)  # for logs and `copybot doctor`, not for chat
        self._client = openai.AsyncOpenAI(base_url=self.base_url, api_key=settings.api_key or NO_KEY,
                                          timeout=settings.timeout, max_retries=settings.retries)
        self._slots = asyncio.Semaphore(settings.concurrency)
        self._holding = 0  # sequences holding a slot
        self._calls: dict[_Call, None] = {}  # in arrival order, the order slots are handed out
        self._sequences: set[asyncio.Task] = set()
        self._thread_jobs: set[asyncio.Future] = set()
        # Review sentiment runs here: one thread, so two torch jobs never fight over the cores.
        self._model_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="copybot-model")
        self._closing = False

    @classmethod
    def from_config(cls, config) -> RemoteGenerator:
        if not config.openai_url:
            raise UserError("COPYBOT_BACKEND=openai needs COPYBOT_OPENAI_URL, the server's base URL "
                            "(e.g. http://gpu-box:8000/v1).")
        return cls(RemoteSettings(
            url=config.openai_url, model=config.openai_model, api_key=config.openai_api_key,
            timeout=config.openai_timeout, retries=config.openai_retries,
            concurrency=config.openai_concurrency, queue_size=config.queue_size,
            temperature=config.temperature, top_p=config.top_p,
        ))

    def __repr__(self) -> str:
        return f"RemoteGenerator(model={self.settings.model!r}, url={self.shown_url!r})"

    # --- the Generator interface ---------------------------------------------------------------

    @property
    def version(self) -> str:
        return self.settings.model

    @property
    def queue_depth(self) -> int:
        """Calls with a sequence that will not get a slot yet. Counted from the free slots rather
        than from who is blocked, so a call whose tasks have not run their first step is not
        counted as waiting when a slot is free for it."""
        free = self.settings.concurrency - self._holding
        waiting = 0
        for call in self._calls:
            waiting += call.unstarted > max(free, 0)
            free -= call.unstarted
        return waiting

    @property
    def served(self) -> frozenset[str]:
        return frozenset()  # the server's own model; fine-tuned versions are served locally only

    @property
    def running(self) -> bool:
        return not self._closing

    @property
    def stats(self) -> object | None:
        return None  # the server keeps its own (its /metrics)

    def start(self) -> None:
        """Nothing to start: the client connects on the first request."""

    def check_capacity(self) -> None:
        if self._closing:
            raise BusyError(SHUTTING_DOWN)
        if self.queue_depth >= self.settings.queue_size:
            raise BusyError(QUEUE_FULL)

    async def generate(self, messages: Messages, n: int, max_new_tokens: int,
                       on_text: OnText | None = None, model: str | None = None) -> tuple[Completions, str]:
        # The server's model is the only one (fine-tunes are for the local model): ``model`` is unused.
        self.check_capacity()
        version = self.version
        if n < 1:
            return Completions([]), version
        call = _Call(unstarted=n)
        self._calls[call] = None
        tasks = [asyncio.create_task(self._sequence(call, index, messages, max_new_tokens, on_text),
                                     name=f"copybot-remote-{index}") for index in range(n)]
        self._sequences.update(tasks)
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        finally:
            # One failed sequence fails the request: the others' answers would be thrown away.
            for task in tasks:
                task.cancel()
            await asyncio.wait(tasks)  # their streams are closed before the caller moves on
            self._sequences.difference_update(tasks)
            self._calls.pop(call, None)
        # Read every failure (asyncio logs the ones nobody read); the first is the caller's.
        failures = [task.exception() for task in tasks if not task.cancelled()]
        for failure in failures:
            if failure is not None:
                raise failure
        return Completions([task.result() for task in tasks], tokens=call.tokens), version

    async def warm_up(self, prompts: list[Messages]) -> None:
        """Nothing to warm here: the server keeps its own caches."""

    async def run_in_model_thread(self, function, *args):
        if self._closing:
            raise BusyError(SHUTTING_DOWN)
        job = asyncio.get_running_loop().run_in_executor(self._model_thread, function, *args)
        self._thread_jobs.add(job)
        try:
            return await job
        except asyncio.CancelledError:
            if self._closing and not asyncio.current_task().cancelling():  # stop() cancelled it
                raise BusyError(SHUTTING_DOWN) from None
            raise
        finally:
            self._thread_jobs.discard(job)

    async def stop(self) -> None:
        self._closing = True
        sequences = list(self._sequences)
        for task in sequences:
            task.cancel()
        for job in self._thread_jobs:
            job.cancel()  # its caller is told now; a function already running ends on its own
        if sequences:
            await asyncio.wait(sequences, timeout=STOP_GRACE_SECONDS)
        await self._client.close()
        self._model_thread.shutdown(wait=False, cancel_futures=True)

    # --- one sequence ----------------------------------------------------------------------------

    async def _sequence(self, call: _Call, index: int, messages: Messages, max_tokens: int,
                        on_text: OnText | None) -> str:
        try:
            async with self._slots:
                call.unstarted -= 1
                self._holding += 1
                try:
                    return await self._stream(call, index, messages, max_tokens, on_text)
                finally:
                    self._holding -= 1
        except asyncio.CancelledError:
            if self._closing:
                raise BusyError(SHUTTING_DOWN) from None
            raise
        except openai.OpenAIError as exc:
            if self._closing:  # the client was closed under it
                raise BusyError(SHUTTING_DOWN) from None
            raise self._user_error(exc) from None

    async def _stream(self, call: _Call, index: int, messages: Messages, max_tokens: int,
                      on_text: OnText | None) -> str:
        # Our messages are the role/content dicts the client's TypedDicts describe.
        chat = cast("list[ChatCompletionMessageParam]", messages)
        stream = await self._client.chat.completions.create(
            model=self.settings.model, messages=chat, max_tokens=max_tokens,
            temperature=self.settings.temperature, top_p=self.settings.top_p, stream=True)
        text = ""
        chunks = 0
        async with stream:
            async for chunk in stream:
                chunks += 1
                choices = getattr(chunk, "choices", None) or []
                delta = getattr(choices[0], "delta", None) if choices else None
                piece = getattr(delta, "content", None)
                if piece:
                    text += piece
                    call.tokens += 1
                    if on_text is not None:
                        on_text(index, text)
        if not chunks:  # a 200 with no events: not an OpenAI-compatible streaming endpoint
            logger.warning("model server %s answered without any stream event; is "
                           "COPYBOT_OPENAI_URL an OpenAI-compatible server?", self.shown_url)
            raise UserError("The model server did not answer with a chat completion; ask an admin to "
                            "check COPYBOT_OPENAI_URL.")
        return text

    def _user_error(self, exc: openai.OpenAIError) -> UserError:
        """One sentence for people; what happened, for the admin, in the log."""
        logger.warning("model server %s failed (the client retries up to %d times): %s",
                       self.shown_url, self.settings.retries, _describe(exc, self.settings.timeout))
        if isinstance(exc, openai.RateLimitError):
            return BusyError(SERVER_BUSY)
        if isinstance(exc, (openai.AuthenticationError, openai.PermissionDeniedError)):
            return UserError("The model server refused copybot's API key; ask an admin to check "
                             "COPYBOT_OPENAI_API_KEY.")
        if isinstance(exc, openai.NotFoundError):
            return UserError("The model server does not serve the configured model; ask an admin to "
                             "check COPYBOT_OPENAI_MODEL and COPYBOT_OPENAI_URL.")
        if isinstance(exc, openai.APIStatusError) and exc.status_code < 500:
            return UserError("The model server turned this request down; try a shorter description, "
                             "or ask an admin to look at the log.")
        return UserError(NOT_ANSWERING)


def _describe(exc: openai.OpenAIError, timeout: float) -> str:
    if isinstance(exc, openai.APIStatusError):
        return f"HTTP {exc.status_code}: {_detail(exc)}"
    if isinstance(exc, openai.APITimeoutError):
        return f"silent for more than {timeout:g} s"
    if isinstance(exc, openai.APIConnectionError):
        cause = exc.__cause__
        reason = f"{type(cause).__name__}: {cause}" if cause is not None else str(exc)
        return f"could not be reached ({reason[:MAX_DETAIL]})"
    return f"{type(exc).__name__}: {_detail(exc)}"


def _detail(exc: openai.OpenAIError) -> str:
    """The server's own error message (OpenAI shape ``{"error": {"message": …}}``), shortened."""
    body = getattr(exc, "body", None)
    message = body.get("message") if isinstance(body, dict) else body
    return " ".join(str(message or getattr(exc, "message", "") or "").split())[:MAX_DETAIL]
