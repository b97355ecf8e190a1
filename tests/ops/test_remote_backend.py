"""The OpenAI-compatible backend against a local fake server over real HTTP: a real engine writes
copy with it, and timeouts, 429, 500, a refused key and a dead server each end as people expect."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
from dataclasses import replace

import pytest

from engine import CopyRequest, Engine, UserError
from engine.errors import BusyError
from engine.remote_backend import RemoteBackend, RemoteSettings, chat_completions_url, public_url
from tests.ops.conftest import API_KEY
from tests.ops.fake_openai import ANSWERS, prompt_text

PRODUCT = "single-origin coffee beans roasted every week"


def generations(config) -> int:
    db = sqlite3.connect(config.database_path)
    try:
        return db.execute("SELECT count(*) FROM generations").fetchone()[0]
    finally:
        db.close()


async def test_copy_is_written_by_the_server_one_concurrent_request_per_variant(
        remote_config, fake_openai, console_origin):
    fake_openai.hold()
    async with await Engine.open(remote_config) as engine:
        copy = asyncio.create_task(engine.copy(console_origin, CopyRequest(product=PRODUCT, n=3)))
        await fake_openai.wait_for_in_flight(3)  # all three were asked before any was answered
        fake_openai.release()
        result = await copy
    assert sorted(v.text for v in result.variants) == sorted(ANSWERS[:3])
    assert result.model_version == "fake-model"
    assert len(fake_openai.requests) == 3
    for request in fake_openai.requests:
        assert request.path == "/v1/chat/completions"
        assert request.headers["Authorization"] == f"Bearer {API_KEY}"
        assert request.body["model"] == "fake-model"
        assert 0 < request.body["max_tokens"] <= remote_config.max_new_tokens
        assert request.body["stream"] is False
        assert PRODUCT in prompt_text(request)
    assert generations(remote_config) == 1


async def test_a_500_is_retried_and_the_user_never_notices(remote_config, fake_openai, console_origin):
    fake_openai.fail_next(500)
    async with await Engine.open(remote_config) as engine:
        result = await engine.copy(console_origin, CopyRequest(product=PRODUCT, n=1))
    assert [v.text for v in result.variants] == [ANSWERS[0]]
    assert len(fake_openai.requests) == 2


async def test_a_server_that_stays_down_gets_one_clear_sentence_and_nothing_is_stored(
        remote_config, fake_openai, console_origin):
    fake_openai.fail_next(500, times=3)  # the first try and both retries
    async with await Engine.open(remote_config) as engine:
        with pytest.raises(UserError) as raised:
            await engine.copy(console_origin, CopyRequest(product=PRODUCT, n=1))
    port = fake_openai.url.split(":")[2].split("/")[0]
    assert str(raised.value) == (
        f"The model server at http://127.0.0.1:{port}/v1/chat/completions answered HTTP 500 after 3 "
        "tries; try again in a few minutes, or ask an admin to check it.")
    assert len(fake_openai.requests) == 3
    assert generations(remote_config) == 0


async def test_a_hung_request_times_out_and_is_retried(remote_config, fake_openai, console_origin):
    fake_openai.hang_next(1)
    config = replace(remote_config, openai_timeout=0.5)
    async with await Engine.open(config) as engine:
        result = await engine.copy(console_origin, CopyRequest(product=PRODUCT, n=1))
    assert len(result.variants) == 1
    assert len(fake_openai.requests) == 2


async def test_a_server_that_never_answers_is_reported_with_its_timeout(remote_config, fake_openai,
                                                                        console_origin):
    fake_openai.hang_next(2)
    config = replace(remote_config, openai_timeout=0.5, openai_retries=1)
    async with await Engine.open(config) as engine:
        with pytest.raises(UserError, match=r"did not answer within 0\.5 s after 2 tries"):
            await engine.copy(console_origin, CopyRequest(product=PRODUCT, n=1))


async def test_429_waits_as_long_as_retry_after_says(remote_config, fake_openai, console_origin):
    fake_openai.fail_next(429, retry_after="0.4")
    async with await Engine.open(remote_config) as engine:
        result = await engine.copy(console_origin, CopyRequest(product=PRODUCT, n=1))
    assert len(result.variants) == 1
    first, second = fake_openai.requests
    assert second.arrived - first.arrived >= 0.4


async def test_a_refused_key_is_not_retried_and_names_the_setting(remote_config, fake_openai,
                                                                  console_origin):
    fake_openai.fail_next(401)
    async with await Engine.open(remote_config) as engine:
        with pytest.raises(UserError) as raised:
            await engine.copy(console_origin, CopyRequest(product=PRODUCT, n=1))
    assert "refused the API key (HTTP 401); check COPYBOT_OPENAI_API_KEY" in str(raised.value)
    assert API_KEY not in str(raised.value)
    assert len(fake_openai.requests) == 1


async def test_no_server_at_all(remote_config, console_origin):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = replace(remote_config, openai_url=f"http://127.0.0.1:{port}/v1", openai_retries=1)
    async with await Engine.open(config) as engine:
        with pytest.raises(UserError, match=r"could not be reached \(connection refused\) after 2 tries"):
            await engine.copy(console_origin, CopyRequest(product=PRODUCT, n=1))


async def test_closing_fails_a_request_in_flight_at_once(fake_openai):
    fake_openai.hang_next(1)
    backend = RemoteBackend(RemoteSettings(url=fake_openai.url, model="fake-model", timeout=60))
    messages = [{"role": "user", "content": "Write a line about tea."}]
    waiting = asyncio.create_task(asyncio.to_thread(backend.generate, [messages], [16]))
    await fake_openai.wait_for_in_flight(1)
    backend.close()
    async with asyncio.timeout(5):  # far less than the 60 s timeout
        with pytest.raises(BusyError, match="shutting down"):
            await waiting


async def test_each_sequence_gets_its_own_budget_and_usage_is_counted(fake_openai):
    backend = RemoteBackend(RemoteSettings(url=fake_openai.url, model="fake-model"))
    messages = [{"role": "user", "content": "Write a line about tea."}]
    texts = await asyncio.to_thread(backend.generate, [messages, messages], [12, 40])
    backend.close()
    assert sorted(r.body["max_tokens"] for r in fake_openai.requests) == [12, 40]
    assert len(texts) == 2 and texts.tokens == 2 * fake_openai.completion_tokens


def test_the_url_may_be_the_root_the_v1_base_or_the_endpoint():
    assert chat_completions_url("http://gpu:8000") == "http://gpu:8000/v1/chat/completions"
    assert chat_completions_url("http://gpu:8000/v1/") == "http://gpu:8000/v1/chat/completions"
    assert chat_completions_url("https://h/api/chat/completions") == "https://h/api/chat/completions"
    with pytest.raises(UserError, match="COPYBOT_OPENAI_URL must be an http"):
        chat_completions_url("gpu-box:8000")


def test_credentials_in_the_url_are_never_shown():
    shown = public_url("https://user:hunter2secret@gpu:8000/v1?key=abc")
    assert shown == "https://gpu:8000/v1"
    with pytest.raises(UserError) as raised:
        chat_completions_url("ftp://user:hunter2secret@gpu")
    assert "hunter2secret" not in str(raised.value)
