"""Log lines: one per event, JSON when asked, a request id from adapter to engine, and never a secret
(whatever the message, its arguments or a traceback contain)."""

from __future__ import annotations

import asyncio
import io
import json
import logging

from bot.commands import parse_line
from bot.dispatch import execute, failure_text
from bot.flow.messages import GENERIC_FAILURE
from bot.ops.logs import configure_logging, current_request_id, request_scope
from tests.processes import TEST_SECRETS

logger = logging.getLogger("tests.bot.ops.logs")
BOT_TOKEN = TEST_SECRETS["SLACK_BOT_TOKEN"]
API_KEY = TEST_SECRETS["COPYBOT_OPENAI_API_KEY"]


def events(buffer: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def test_secrets_are_redacted_from_messages_arguments_and_tracebacks(captured_log):
    logger.warning("connecting with %s and key=%s", BOT_TOKEN, API_KEY)
    try:
        raise RuntimeError(f"the server said: bad key {API_KEY}")
    except RuntimeError:
        logger.exception("call failed for token %s", BOT_TOKEN)
    logger.info("a token we were never told about: xoxb-999-888-unlisted and Bearer abc.def.ghi")
    found = events(captured_log)[-3:]
    assert found[0]["message"] == "connecting with [redacted] and key=[redacted]"
    assert found[1]["message"] == "call failed for token [redacted]"
    assert "RuntimeError: the server said: bad key [redacted]" in found[1]["exception"]
    assert found[2]["message"] == "a token we were never told about: [redacted] and Bearer [redacted]"


def test_the_error_boundary_logs_a_traceback_without_the_secret_in_it(captured_log):
    text = failure_text(ConnectionError(f"auth.test failed with token {BOT_TOKEN}"))
    assert text == GENERIC_FAILURE
    [event] = [e for e in events(captured_log) if e["message"] == "command failed"]
    assert "ConnectionError: auth.test failed with token [redacted]" in event["exception"]


async def test_a_request_id_follows_the_command_from_dispatch_into_the_engine(captured_log, engine,
                                                                               console_origin):
    await execute(engine, console_origin, parse_line(b"/copy linen bed sheets n: 1"))
    await execute(engine, console_origin, parse_line(b"/copy wool socks n: 1"))
    saved = [e for e in events(captured_log) if e["logger"] == "engine.engine"
             and e["message"].startswith("generation ")]
    assert len(saved) == 2
    assert saved[0]["request_id"] != saved[1]["request_id"]
    assert all(len(e["request_id"]) == 12 for e in saved)


async def test_an_adapters_request_id_is_kept_and_inherited_by_its_tasks():
    with request_scope("slack-Ev123") as outer:
        with request_scope() as inner:  # dispatch inside an adapter's scope keeps the adapter's id
            assert inner == outer == "slack-Ev123"
        seen = await asyncio.create_task(asyncio.to_thread(current_request_id))
    assert seen == "slack-Ev123" and current_request_id() is None


def test_plain_lines_are_one_line_per_event_and_reconfiguring_replaces_the_handler():
    root = logging.getLogger()
    level = root.level
    first, second = io.StringIO(), io.StringIO()
    env = {"COPYBOT_LOG_LEVEL": "INFO", "DISCORD_TOKEN": TEST_SECRETS["DISCORD_TOKEN"]}
    try:
        configure_logging("WARNING", env=env, stream=first)
        handler = configure_logging("WARNING", env=env, stream=second)
        with request_scope("abc123"):
            logger.info("product: %s", "linen sheets\nFAKE 2020-01-01 ERROR forged line")
        logger.info("token %s", TEST_SECRETS["DISCORD_TOKEN"])
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        logging.captureWarnings(False)
    assert first.getvalue() == ""
    lines = second.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].endswith("INFO tests.bot.ops.logs [abc123]: product: linen sheets\\nFAKE 2020-01-01 "
                             "ERROR forged line")
    assert lines[1].endswith("INFO tests.bot.ops.logs [-]: token [redacted]")
