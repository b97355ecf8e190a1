"""A generation backend that asks an OpenAI-compatible chat-completions server over HTTP.

vLLM, TGI, llama.cpp's server and Ollama all serve ``POST /v1/chat/completions``: pointing copybot at
one moves generation to a GPU machine while the bot stays where it is. ``generate`` is synchronous
(the batching worker calls it from its thread). Every sequence of a batch is its own request, sent
concurrently from a small thread pool, because not every server honours ``n`` and a server batches
concurrent requests itself. Timeouts, 429, 5xx and connection errors are retried with backoff; when
the server stays down the user gets one sentence saying so.
"""

from __future__ import annotations

import http.client
import json
import logging
import socket
import threading
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from engine.errors import BusyError, UserError
from engine.local_backend import Completions, Messages

logger = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
MAX_DETAIL = 200  # characters of a server's error message shown to people


@dataclass(frozen=True)
class RemoteSettings:
    url: str  # the server's base URL, e.g. http://gpu-box:8000/v1, or the full .../chat/completions
    model: str
    api_key: str = field(default="", repr=False)  # a secret: never logged, never in a repr
    timeout: float = 60.0  # seconds to wait for one answer
    retries: int = 2  # further tries after a timeout, 429, 5xx or connection error
    concurrency: int = 8  # requests in flight at once
    temperature: float = 0.5
    top_p: float = 0.9
    backoff: float = 0.5  # first wait before a retry; doubles each time
    max_backoff: float = 8.0


def chat_completions_url(base: str) -> str:
    """Accept a server root, its ``/v1`` base or the full endpoint; return the endpoint."""
    parts = urlsplit(base.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UserError(f"COPYBOT_OPENAI_URL must be an http(s) URL such as http://gpu-box:8000/v1; "
                        f"{public_url(base)!r} is not.")
    path = parts.path.rstrip("/")
    if not path.endswith("/chat/completions"):
        path += "/chat/completions" if path.endswith("/v1") else "/v1/chat/completions"
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def public_url(url: str) -> str:
    """``url`` without user:password and query, safe to show and log."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.port:
            host += f":{parts.port}"
        return urlunsplit((parts.scheme, host, parts.path, "", ""))
    except ValueError:
        return "(an unreadable URL)"


class _Failure(Exception):
    """One try went wrong in a way worth another try; ``str`` completes 'the model server …'."""

    def __init__(self, problem: str, retry_after: float | None = None) -> None:
        super().__init__(problem)
        self.retry_after = retry_after


class RemoteBackend:
    def __init__(self, settings: RemoteSettings) -> None:
        if not settings.model:
            raise UserError("COPYBOT_BACKEND=openai needs COPYBOT_OPENAI_MODEL, the model name the "
                            "server serves (e.g. Qwen/Qwen2.5-7B-Instruct).")
        if settings.timeout <= 0 or settings.retries < 0 or settings.concurrency < 1:
            raise UserError("COPYBOT_OPENAI_TIMEOUT must be above 0 seconds, COPYBOT_OPENAI_RETRIES 0 or "
                            "more, and COPYBOT_OPENAI_CONCURRENCY 1 or more.")
        self.settings = settings
        self.version = settings.model
        self.endpoint = chat_completions_url(settings.url)
        self.shown_url = public_url(self.endpoint)
        self._pool = ThreadPoolExecutor(max_workers=max(1, settings.concurrency),
                                        thread_name_prefix="copybot-remote")
        self._closing = threading.Event()
        self._open: set[http.client.HTTPConnection] = set()
        self._open_lock = threading.Lock()

    @classmethod
    def from_config(cls, config) -> "RemoteBackend":
        if not config.openai_url:
            raise UserError("COPYBOT_BACKEND=openai needs COPYBOT_OPENAI_URL, the server's base URL "
                            "(e.g. http://gpu-box:8000/v1).")
        return cls(RemoteSettings(
            url=config.openai_url, model=config.openai_model, api_key=config.openai_api_key,
            timeout=config.openai_timeout, retries=config.openai_retries,
            concurrency=config.openai_concurrency, temperature=config.temperature, top_p=config.top_p,
        ))

    # --- the GenerationBackend interface -------------------------------------------------------

    def generate(self, prompts: list[Messages], max_new_tokens: list[int]) -> list[str]:
        if self._closing.is_set():
            raise BusyError("The bot is shutting down; try again in a minute.")
        try:
            futures = [self._pool.submit(self.complete, messages, budget)
                       for messages, budget in zip(prompts, max_new_tokens)]
        except RuntimeError:  # close() shut the pool between the check above and here
            raise BusyError("The bot is shutting down; try again in a minute.") from None
        wait(futures)  # let every request end before raising, so none outlives the batch
        for future in futures:
            if future.cancelled():  # close() dropped it before it started
                raise BusyError("The bot is shutting down; try again in a minute.")
            if future.exception() is not None:
                raise future.exception()
        answers = [future.result() for future in futures]
        counts = [tokens for _, tokens in answers]
        return Completions([text for text, _ in answers],
                           tokens=sum(counts) if None not in counts else None)

    def close(self) -> None:
        """Fail what is in flight at once (shutdown must not wait out a slow server's timeout)."""
        self._closing.set()
        with self._open_lock:
            for connection in self._open:
                if connection.sock is not None:
                    try:
                        connection.sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
        self._pool.shutdown(wait=False, cancel_futures=True)

    # --- one completion, with retries ----------------------------------------------------------

    def complete(self, messages: Messages, max_tokens: int) -> tuple[str, int | None]:
        """One chat completion: its text and the number of tokens the server says it generated."""
        body = json.dumps({
            "model": self.settings.model,
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": self.settings.temperature,
            "top_p": self.settings.top_p,
            "stream": False,
        }).encode()
        tries = self.settings.retries + 1
        for attempt in range(1, tries + 1):
            if self._closing.is_set():
                raise BusyError("The bot is shutting down; try again in a minute.")
            try:
                return self._post(body)
            except _Failure as failure:
                if self._closing.is_set():
                    raise BusyError("The bot is shutting down; try again in a minute.") from None
                if attempt == tries:
                    raise UserError(
                        f"The model server at {self.shown_url} {failure} after {tries} "
                        f"{'tries' if tries != 1 else 'try'}; try again in a few minutes, or ask an "
                        "admin to check it.") from None
                delay = failure.retry_after
                if delay is None:
                    delay = self.settings.backoff * 2 ** (attempt - 1)
                delay = min(delay, self.settings.max_backoff)
                logger.warning("model server %s %s; try %d of %d again in %.1f s", self.shown_url,
                               failure, attempt + 1, tries, delay)
                if self._closing.wait(delay):
                    raise BusyError("The bot is shutting down; try again in a minute.") from None
        raise AssertionError("unreachable")

    def _post(self, body: bytes) -> tuple[str, int | None]:
        parts = urlsplit(self.endpoint)
        connection_class = (http.client.HTTPSConnection if parts.scheme == "https"
                            else http.client.HTTPConnection)
        connection = connection_class(parts.hostname, parts.port, timeout=self.settings.timeout)
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.settings.api_key:
            headers["Authorization"] = f"Bearer {self.settings.api_key}"
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        with self._open_lock:
            self._open.add(connection)
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read()
        except TimeoutError:
            raise _Failure(f"did not answer within {self.settings.timeout:g} s") from None
        except (OSError, http.client.HTTPException) as exc:
            raise _Failure(f"could not be reached ({_reason(exc)})") from None
        finally:
            with self._open_lock:
                self._open.discard(connection)
            connection.close()
        return self._read_answer(response.status, response.getheader("Retry-After"), payload)

    def _read_answer(self, status: int, retry_after: str | None,
                     payload: bytes) -> tuple[str, int | None]:
        if status in RETRYABLE_STATUS or status >= 500:
            raise _Failure(f"answered HTTP {status}", _seconds(retry_after))
        if status in (401, 403):
            raise UserError(f"The model server at {self.shown_url} refused the API key (HTTP {status}); "
                            "check COPYBOT_OPENAI_API_KEY.")
        if status == 404:
            raise UserError(f"The model server at {self.shown_url} has no model "
                            f"{self.settings.model!r} or no chat-completions endpoint (HTTP 404); "
                            "check COPYBOT_OPENAI_MODEL and COPYBOT_OPENAI_URL.")
        if status != 200:
            raise UserError(f"The model server at {self.shown_url} rejected the request (HTTP {status}"
                            f"{': ' + _error_detail(payload) if _error_detail(payload) else ''}).")
        try:
            answer = json.loads(payload)
            text = answer["choices"][0]["message"].get("content") or ""
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            raise UserError(f"The model server at {self.shown_url} did not answer with a chat "
                            "completion; check that COPYBOT_OPENAI_URL points at an OpenAI-compatible "
                            "server.") from None
        usage = answer.get("usage") if isinstance(answer, dict) else None
        tokens = usage.get("completion_tokens") if isinstance(usage, dict) else None
        return str(text), tokens if isinstance(tokens, int) else None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return "unknown host"
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return text[:MAX_DETAIL]


def _seconds(retry_after: str | None) -> float | None:
    try:
        return max(0.0, float(retry_after)) if retry_after else None
    except ValueError:  # an HTTP date: rare from model servers; fall back to our own backoff
        return None


def _error_detail(payload: bytes) -> str:
    """The server's own error message (OpenAI shape ``{"error": {"message": …}}``), shortened."""
    try:
        error = json.loads(payload).get("error")
        message = error.get("message") if isinstance(error, dict) else error
    except (ValueError, AttributeError):
        return ""
    return " ".join(str(message or "").split())[:MAX_DETAIL]
