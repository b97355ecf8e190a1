"""RemoteGenerator against a local fake OpenAI-compatible server over real HTTP and real SSE: text
streams in order, sequences go out concurrently within the limit, the openai client's retries cover
429/5xx/timeouts, people get one sentence when the server stays down, the API key stays out of logs,
and stop() fails what is waiting without hanging."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from itertools import accumulate

import pytest

from engine import EngineConfig, UserError
from engine.errors import BusyError
from engine.generation.openai_compatible import (
    NOT_ANSWERING,
    QUEUE_FULL,
    SERVER_BUSY,
    SHUTTING_DOWN,
    RemoteGenerator,
    RemoteSettings,
    openai_base_url,
    public_url,
)
from tests.fake_openai import ANSWERS, deltas, prompt_text
from tests.processes import API_KEY

# copybot's own log, checked for secrets after every test (tests/conftest.py), as for tests/bot/ops.
pytestmark = pytest.mark.usefixtures("captured_log")

MESSAGES = [{"role": "user", "content": "Write one line of ad copy for single-origin coffee beans."}]
# Not in tests.processes.TEST_SECRETS, so the log redactor does not hide it: a leak would show.
UNLISTED_KEY = "sk-unlistedRemoteKey0123456789"


@pytest.fixture
async def make_generator(fake_openai):
    made: list[RemoteGenerator] = []

    def make(**settings) -> RemoteGenerator:
        values = {"url": fake_openai.url, "model": "fake-model", "api_key": API_KEY, "timeout": 5.0,
                  "retries": 2, **settings}
        generator = RemoteGenerator(RemoteSettings(**values))
        made.append(generator)
        return generator

    yield make
    for generator in made:
        await generator.stop()


class TextLog:
    """An ``on_text`` that keeps every call, per sequence index."""

    def __init__(self) -> None:
        self.seen: dict[int, list[str]] = {}
        self.called = asyncio.Event()

    def __call__(self, index: int, text: str) -> None:
        self.seen.setdefault(index, []).append(text)
        self.called.set()


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def assert_one_plain_sentence(message: str, fake_openai) -> None:
    port = fake_openai.url.split(":")[2].split("/")[0]
    for private in ("127.0.0.1", port, "gpu-box-internal", "fake failure", "http", API_KEY):
        assert private not in message


# --- streaming and concurrency -----------------------------------------------------------------

async def test_deltas_arrive_in_order_and_on_text_sees_each_sequence_grow(make_generator, fake_openai):
    texts_seen = TextLog()
    texts, version = await make_generator().generate(MESSAGES, 3, 40, on_text=texts_seen)
    assert version == "fake-model"
    assert sorted(texts) == sorted(ANSWERS[:3])
    assert sorted(texts_seen.seen) == [0, 1, 2]
    for index, text in enumerate(texts):
        assert texts_seen.seen[index] == list(accumulate(deltas(text)))
    assert len(fake_openai.requests) == 3
    for request in fake_openai.requests:
        assert request.path == "/v1/chat/completions"
        assert request.body["stream"] is True
        assert request.body["model"] == "fake-model"
        assert request.body["max_tokens"] == 40
        assert "n" not in request.body  # one sequence per request: not every server honours n
        assert "single-origin coffee beans" in prompt_text(request)


async def test_text_reaches_on_text_while_the_server_is_still_writing(make_generator, fake_openai):
    fake_openai.stall_next(after=1)
    texts_seen = TextLog()
    writing = asyncio.create_task(make_generator().generate(MESSAGES, 1, 40, on_text=texts_seen))
    async with asyncio.timeout(5):
        await texts_seen.called.wait()
    assert not writing.done()  # the answer is not finished at the server, yet its start is here
    assert texts_seen.seen == {0: [deltas(ANSWERS[0])[0]]}
    fake_openai.resume()
    texts, _ = await writing
    assert texts == [ANSWERS[0]]


async def test_the_n_sequences_are_requested_at_once(make_generator, fake_openai):
    fake_openai.hold()
    writing = asyncio.create_task(make_generator().generate(MESSAGES, 3, 40))
    await fake_openai.wait_for_in_flight(3)  # all three were asked before any was answered
    fake_openai.release()
    texts, _ = await writing
    assert len(texts) == 3 and fake_openai.most_in_flight == 3


async def test_at_most_concurrency_requests_are_in_flight_across_callers(make_generator, fake_openai):
    generator = make_generator(concurrency=2)
    fake_openai.hold()
    first = asyncio.create_task(generator.generate(MESSAGES, 2, 40))
    second = asyncio.create_task(generator.generate(MESSAGES, 1, 40))
    await fake_openai.wait_for_in_flight(2)
    assert generator.queue_depth == 1  # one call still has a sequence without a slot
    fake_openai.release_one()
    await fake_openai.wait_for_requests(3)
    # The third request was sent only once one of the first two had ended.
    before_third = fake_openai.events[:fake_openai.events.index(("arrived", 3))]
    assert ("ended", 1) in before_third or ("ended", 2) in before_third
    fake_openai.release()
    assert len((await first)[0]) == 2 and len((await second)[0]) == 1
    assert fake_openai.most_in_flight == 2
    assert generator.queue_depth == 0


async def test_a_full_queue_is_refused_at_once(make_generator, fake_openai):
    generator = make_generator(concurrency=1, queue_size=1)
    fake_openai.hold()
    running = asyncio.create_task(generator.generate(MESSAGES, 1, 40))
    waiting = asyncio.create_task(generator.generate(MESSAGES, 1, 40))
    await fake_openai.wait_for_in_flight(1)
    assert generator.queue_depth == 1
    with pytest.raises(BusyError) as refused:
        generator.check_capacity()
    assert str(refused.value) == QUEUE_FULL
    with pytest.raises(BusyError):
        await generator.generate(MESSAGES, 1, 40)
    fake_openai.release()
    assert (await running)[0] and (await waiting)[0]
    assert len(fake_openai.requests) == 2


# --- retries and failures ----------------------------------------------------------------------

async def test_429_is_retried_after_as_long_as_retry_after_says(make_generator, fake_openai):
    fake_openai.fail_next(429, retry_after="1")
    texts, _ = await make_generator().generate(MESSAGES, 1, 40)
    assert texts == [ANSWERS[0]]
    first, second = fake_openai.requests
    # The client's own first backoff is at most 0.5 s; this wait came from the header.
    assert second.arrived - first.arrived >= 1.0


async def test_429_after_every_retry_tells_people_the_server_is_busy(make_generator, fake_openai):
    fake_openai.fail_next(429, times=2, retry_after="0.05")
    with pytest.raises(BusyError) as raised:
        await make_generator(retries=1).generate(MESSAGES, 1, 40)
    assert str(raised.value) == SERVER_BUSY
    assert len(fake_openai.requests) == 2


async def test_a_500_is_retried_and_the_caller_gets_text(make_generator, fake_openai):
    fake_openai.fail_next(500)
    texts, _ = await make_generator().generate(MESSAGES, 1, 40)
    assert texts == [ANSWERS[0]]
    assert len(fake_openai.requests) == 2


async def test_a_server_that_stays_down_gets_one_sentence_and_the_log_gets_the_details(
        make_generator, fake_openai, caplog):
    fake_openai.fail_next(500, times=2)
    with pytest.raises(UserError) as raised:
        await make_generator(retries=1).generate(MESSAGES, 1, 40)
    assert str(raised.value) == NOT_ANSWERING
    assert_one_plain_sentence(str(raised.value), fake_openai)
    assert raised.value.__cause__ is None and raised.value.__suppress_context__
    assert len(fake_openai.requests) == 2
    logged = [r.getMessage() for r in caplog.records if r.name == "engine.generation.openai_compatible"]
    assert any("HTTP 500" in line and "fake failure 500" in line for line in logged)


async def test_a_request_that_hangs_times_out_and_is_retried(make_generator, fake_openai):
    fake_openai.hang_next(1)
    texts, _ = await make_generator(timeout=0.3, retries=1).generate(MESSAGES, 1, 40)
    assert texts == [ANSWERS[0]]
    assert len(fake_openai.requests) == 2


async def test_a_server_that_never_answers_gets_one_sentence(make_generator, fake_openai):
    fake_openai.hang_next(2)
    with pytest.raises(UserError) as raised:
        await make_generator(timeout=0.3, retries=1).generate(MESSAGES, 1, 40)
    assert str(raised.value) == NOT_ANSWERING
    assert len(fake_openai.requests) == 2


async def test_a_stream_that_stops_half_way_fails_after_the_timeout(make_generator, fake_openai):
    fake_openai.stall_next(after=1)
    texts_seen = TextLog()
    with pytest.raises(UserError) as raised:
        await make_generator(timeout=0.3).generate(MESSAGES, 1, 40, on_text=texts_seen)
    assert str(raised.value) == NOT_ANSWERING
    assert texts_seen.seen == {0: [deltas(ANSWERS[0])[0]]}
    assert len(fake_openai.requests) == 1  # a half-written answer is not asked for again


async def test_no_server_at_all(make_generator, fake_openai):
    generator = make_generator(url=f"http://127.0.0.1:{unused_port()}/v1", retries=1)
    with pytest.raises(UserError) as raised:
        await generator.generate(MESSAGES, 1, 40)
    assert str(raised.value) == NOT_ANSWERING
    assert_one_plain_sentence(str(raised.value), fake_openai)


async def test_a_refused_key_is_not_retried_and_names_the_setting(make_generator, fake_openai):
    fake_openai.fail_next(401)
    with pytest.raises(UserError) as raised:
        await make_generator().generate(MESSAGES, 1, 40)
    assert "COPYBOT_OPENAI_API_KEY" in str(raised.value)
    assert_one_plain_sentence(str(raised.value), fake_openai)
    assert len(fake_openai.requests) == 1


async def test_one_failed_sequence_fails_the_call_and_ends_the_others(make_generator, fake_openai):
    fake_openai.stall_next(after=1)  # the first request streams a word, then waits
    fake_openai.fail_next(400)  # the second is turned down
    with pytest.raises(UserError, match="turned this request down"):
        await make_generator(concurrency=2).generate(MESSAGES, 2, 40)
    await fake_openai.wait_for_ended(2)  # the stalled stream was closed, not left running
    assert len(fake_openai.requests) == 2
    assert not any(request.finished for request in fake_openai.requests)


# --- the key -----------------------------------------------------------------------------------

@pytest.fixture
def raw_log():
    """Every record as it is logged, before the copybot handler redacts it in place (caplog sees
    records after that handler, so it would hide a leak)."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep(logging.DEBUG)
    root = logging.getLogger()
    root.handlers.insert(0, handler)
    yield records
    root.removeHandler(handler)


async def test_the_key_is_sent_as_a_bearer_header_and_never_logged_or_shown(make_generator,
                                                                            fake_openai, raw_log):
    generator = make_generator(api_key=UNLISTED_KEY, retries=1)
    await generator.generate(MESSAGES, 2, 40)
    fake_openai.fail_next(500, times=2)
    with pytest.raises(UserError) as raised:
        await generator.generate(MESSAGES, 1, 40)
    assert [r.headers["Authorization"] for r in fake_openai.requests] == [f"Bearer {UNLISTED_KEY}"] * 4
    assert any(r.name == "engine.generation.openai_compatible" for r in raw_log)  # the failure was logged
    assert any(r.name.startswith("openai") for r in raw_log)  # so was the client's own debugging
    for record in raw_log:
        text = record.getMessage() + (logging.Formatter().formatException(record.exc_info)
                                      if record.exc_info else "")
        assert UNLISTED_KEY not in text, record.name
    assert UNLISTED_KEY not in repr(generator) + repr(generator.settings) + str(raised.value)


async def test_without_a_key_this_machines_openai_key_is_not_sent(make_generator, fake_openai,
                                                                  monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-thisMachinesOwnOpenAIKey")
    await make_generator(api_key="").generate(MESSAGES, 1, 40)
    assert "sk-thisMachinesOwnOpenAIKey" not in str(fake_openai.requests[0].headers)


# --- stopping and the model thread -------------------------------------------------------------

async def test_stop_fails_running_and_waiting_calls_at_once(make_generator, fake_openai):
    generator = make_generator(concurrency=1, timeout=60)
    fake_openai.hang_next(1)
    running = asyncio.create_task(generator.generate(MESSAGES, 1, 40))
    waiting = asyncio.create_task(generator.generate(MESSAGES, 1, 40))
    await fake_openai.wait_for_in_flight(1)
    async with asyncio.timeout(5):  # far less than the 60 s timeout
        await generator.stop()
        for call in (running, waiting):
            with pytest.raises(BusyError) as raised:
                await call
            assert str(raised.value) == SHUTTING_DOWN
    with pytest.raises(BusyError, match="shutting down"):
        await generator.generate(MESSAGES, 1, 40)
    with pytest.raises(BusyError, match="shutting down"):
        generator.check_capacity()
    assert len(fake_openai.requests) == 1


async def test_model_thread_work_runs_in_one_other_thread_and_stop_fails_what_waits(make_generator):
    generator = make_generator()
    threads = {await generator.run_in_model_thread(threading.get_ident) for _ in range(3)}
    assert len(threads) == 1 and threading.get_ident() not in threads

    loop = asyncio.get_running_loop()
    started, gate = asyncio.Event(), threading.Event()

    def work() -> None:
        loop.call_soon_threadsafe(started.set)
        gate.wait(10)

    running = asyncio.create_task(generator.run_in_model_thread(work))
    queued = asyncio.create_task(generator.run_in_model_thread(threading.get_ident))
    await started.wait()
    try:
        async with asyncio.timeout(5):
            await generator.stop()
            for job in (running, queued):
                with pytest.raises(BusyError, match="shutting down"):
                    await job
    finally:
        gate.set()  # let the thread end


# --- configuration -----------------------------------------------------------------------------

async def test_from_config_uses_the_engine_settings(remote_config, fake_openai):
    config = EngineConfig(**{**remote_config.__dict__, "openai_concurrency": 3, "queue_size": 5,
                             "temperature": 0.7, "top_p": 0.8})
    generator = RemoteGenerator.from_config(config)
    try:
        await generator.generate(MESSAGES, 1, 16)
    finally:
        await generator.stop()
    settings = generator.settings
    assert (settings.model, settings.api_key, settings.timeout, settings.retries,
            settings.concurrency, settings.queue_size) == ("fake-model", API_KEY, 2.0, 2, 3, 5)
    body = fake_openai.requests[0].body
    assert (body["temperature"], body["top_p"], body["max_tokens"]) == (0.7, 0.8, 16)


def test_from_config_needs_a_url_and_a_model():
    with pytest.raises(UserError, match="COPYBOT_OPENAI_URL"):
        RemoteGenerator.from_config(EngineConfig(backend="openai", openai_model="m"))
    with pytest.raises(UserError, match="COPYBOT_OPENAI_MODEL"):
        RemoteGenerator.from_config(EngineConfig(backend="openai", openai_url="http://gpu:8000/v1"))


def test_the_url_may_be_the_root_the_v1_base_or_the_endpoint():
    assert openai_base_url("http://gpu:8000") == "http://gpu:8000/v1"
    assert openai_base_url(" http://gpu:8000/v1/ ") == "http://gpu:8000/v1"
    assert openai_base_url("http://gpu:8000/v1/chat/completions") == "http://gpu:8000/v1"
    assert openai_base_url("https://h/api/chat/completions") == "https://h/api"
    with pytest.raises(UserError, match="COPYBOT_OPENAI_URL must be an http"):
        openai_base_url("gpu-box:8000")
    with pytest.raises(UserError, match="must not have a query"):
        openai_base_url("http://gpu:8000/v1?key=abc")


def test_credentials_in_the_url_are_never_shown():
    shown = public_url("https://user:hunter2secret@gpu:8000/v1?key=abc")
    assert shown == "https://gpu:8000/v1"
    with pytest.raises(UserError) as raised:
        openai_base_url("ftp://user:hunter2secret@gpu")
    assert "hunter2secret" not in str(raised.value)
    generator = RemoteGenerator(RemoteSettings(url="https://user:hunter2secret@gpu:8000", model="m"))
    assert "hunter2secret" not in repr(generator) and generator.shown_url == "https://gpu:8000/v1"

