"""/metrics and /healthz over HTTP after real engine work: what a Prometheus scrape would see."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import replace

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.commands import parse_line
from bot.dispatch import execute
from bot.ops.health_server import MetricsServer, start_metrics_server
from engine import CopyRequest, Engine, EngineConfig, UserError
from tests.fake_openai import deltas

# copybot's own log, checked for secrets after every test (tests/conftest.py), as for tests/bot/ops.
pytestmark = pytest.mark.usefixtures("captured_log")


def samples(text: str) -> dict[tuple[str, tuple], float]:
    """``{(sample name, sorted labels): value}`` from Prometheus text."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


async def scrape(server: MetricsServer, path: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://127.0.0.1:{server.port}{path}") as response:
            return response.status, response.headers["Content-Type"], await response.text()


async def run(engine: Engine, origin, line: str):
    try:
        return await execute(engine, origin, parse_line(line.encode()))
    except UserError as exc:
        return exc


async def test_metrics_count_what_the_engine_did(remote_config, fake_openai, console_origin):
    config = replace(remote_config, openai_retries=0)
    async with await Engine.open(config) as engine:
        server = MetricsServer(engine, "127.0.0.1", 0)
        await server.start()
        try:
            first = await run(engine, console_origin, "/copy linen bed sheets n: 2")
            await run(engine, console_origin, "/copy wool socks n: 1")
            answered = [r for r in fake_openai.requests if r.finished]  # before the failing one
            refused = await run(engine, console_origin, "/copy wool socks channel: billboard")
            fake_openai.fail_next(500)
            down = await run(engine, console_origin, "/copy cotton towels n: 1")
            await run(engine, console_origin, f"/approve {first.copy.variants[0].id}")
            await run(engine, console_origin, "/help")
            status, content_type, text = await scrape(server, "/metrics")
        finally:
            await server.stop()
    assert isinstance(refused, UserError) and isinstance(down, UserError)
    assert status == 200 and content_type.startswith("text/plain")
    values = samples(text)

    def value(name: str, **labels: str) -> float:
        return values[(name, tuple(sorted(labels.items())))]

    assert value("copybot_requests_total", command="copy", outcome="ok") == 2
    assert value("copybot_requests_total", command="copy", outcome="user_error") == 2
    assert value("copybot_requests_total", command="feedback", outcome="ok") == 1
    assert value("copybot_requests_total", command="help", outcome="ok") == 1
    # The refused channel never reached the model; the server failure did.
    assert value("copybot_generation_seconds_count") == 3
    assert value("copybot_model_call_seconds_count") == 2
    # Each variant is one streamed request (the copywriter asks for a spare one too); a token is a
    # streamed piece, which the fake sends one per word.
    assert value("copybot_sequences_generated_total") == len(answered) == 5
    assert value("copybot_tokens_generated_total") == sum(len(deltas(r.answer)) for r in answered)
    assert value("copybot_errors_total", component="generator") == 1
    assert value("copybot_feedback_total", verdict="approve", change="added") == 1
    assert value("copybot_queue_depth") == 0
    assert value("copybot_model_info", version="fake-model") == 1
    assert "# HELP copybot_finetune_runs_total Fine-tune runs, by outcome." in text


async def test_local_model_tokens_are_counted_and_latency_has_buckets(engine, console_origin):
    server = MetricsServer(engine, "127.0.0.1", 0)
    await server.start()
    try:
        result = await engine.copy(console_origin, CopyRequest(product="linen bed sheets", n=2))
        _, _, text = await scrape(server, "/metrics")
    finally:
        await server.stop()
    values = samples(text)
    sequences = values[("copybot_sequences_generated_total", ())]
    tokens = values[("copybot_tokens_generated_total", ())]
    assert sequences >= 2 and len(result.variants) >= 1
    assert 0 < tokens <= sequences * engine.config.max_new_tokens
    assert values[("copybot_generation_seconds_bucket", (("le", "+Inf"),))] == 1
    assert values[("copybot_model_info", (("version", "tiny-test"),))] == 1


async def test_two_engines_keep_separate_counts(engine, remote_config, console_origin):
    async with await Engine.open(remote_config) as other:
        await other.copy(console_origin, CopyRequest(product="wool socks", n=1))
        # One variant asked, two written: the copywriter asks for a spare.
        assert b'copybot_sequences_generated_total 2.0' in other.metrics.render()
    assert b'copybot_sequences_generated_total 0.0' in engine.metrics.render()


async def test_healthz_is_ok_while_serving_and_503_when_stopping_or_closed(remote_config):
    stopping = asyncio.Event()
    engine = await Engine.open(remote_config)
    server = MetricsServer(engine, "127.0.0.1", 0, stopping=stopping.is_set)
    await server.start()
    try:
        healthy = await scrape(server, "/healthz")
        stopping.set()
        draining = await scrape(server, "/healthz")
        stopping.clear()
        await engine.close()
        closed = await scrape(server, "/healthz")
    finally:
        await server.stop()
    assert healthy[0] == 200 and '"status": "ok"' in healthy[2] and '"database": "ok"' in healthy[2]
    assert '"model": "fake-model"' in healthy[2]
    assert draining[0] == 503 and '"stopping"' in draining[2]
    assert closed[0] == 503 and '"generator": "stopped"' in closed[2]
    assert '"database": "failing' in closed[2]


async def test_the_server_is_off_unless_a_port_is_set_and_local_by_default(remote_config):
    assert EngineConfig().metrics_port is None and EngineConfig().metrics_host == "127.0.0.1"
    async with await Engine.open(remote_config) as engine:
        assert await start_metrics_server(engine) is None
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = replace(remote_config, metrics_port=port)
    async with await Engine.open(config) as engine:
        server = await start_metrics_server(engine)
        try:
            assert server is not None
            assert server.host == "127.0.0.1"
            status, _, _ = await scrape(server, "/healthz")
            assert status == 200
        finally:
            await server.stop()

