"""The receive path against the fake Slack: what is acknowledged is stored first, once, and
reactions end as the channel shows them."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import sqlite3
import time
from dataclasses import replace
from urllib.parse import urlencode

from bot.slack_adapter import SlackConfig
from engine import Engine
from tests.bot.slack import recorded
from tests.bot.slack.fake_slack import BOT_TOKEN, SIGNING_SECRET, SlackSender, signed_headers
from tests.bot.slack.helpers import copy, errors, generations, react, rows, statuses, variant_messages
from tests.bot.slack.running import http_config, socket_config, started

CHANNEL = recorded.CHANNEL


async def test_an_add_delivered_after_its_remove_leaves_no_approval(http_bot, sender, fake_slack):
    [(variant, ts)] = await copy(sender, http_bot, fake_slack, "oat milk n: 1")
    # Bruno added ✅ and took it back at once; HTTP delivered the two events the other way round.
    await sender.event(recorded.reaction("white_check_mark", ts, added=False))
    await sender.event(recorded.reaction("white_check_mark", ts))
    await http_bot.tasks.wait_idle(10)
    assert (await statuses(http_bot.engine))[variant] == "pending"

    await react(sender, fake_slack, "white_check_mark", ts)  # and now he means it
    await http_bot.tasks.wait_idle(10)
    assert (await statuses(http_bot.engine))[variant] == "approved"


async def test_a_slow_reactions_lookup_holds_up_only_its_own_message(http_bot, sender, fake_slack):
    engine = http_bot.engine
    [(slow, slow_ts)] = await copy(sender, http_bot, fake_slack, "oat milk n: 1")
    [(fast, fast_ts)] = await copy(sender, http_bot, fake_slack, "oat milk n: 1", channel="C0OTHER",
                                   team="T0OTHER02")
    await react(sender, fake_slack, "white_check_mark", slow_ts)
    await http_bot.tasks.wait_idle(10)
    release = fake_slack.hold("reactions.get", timestamp=slow_ts)  # e.g. waiting out a 429
    await react(sender, fake_slack, "white_check_mark", slow_ts, added=False)
    await fake_slack.wait_for(lambda: fake_slack.held("reactions.get") == 1)

    # Another workspace's approval goes through while that lookup is still waiting.
    await react(sender, fake_slack, "+1", fast_ts, channel="C0OTHER", team="T0OTHER02")
    async with asyncio.timeout(10):
        while (await statuses(engine))[fast] != "approved":
            await fake_slack.wait_for(lambda: True)
    assert (await statuses(engine))[slow] == "approved"  # its removal is still being looked up
    release.set()
    await http_bot.tasks.wait_idle(10)
    assert await statuses(engine) == {slow: "pending", fast: "approved"}


async def test_reactions_by_other_bots_are_not_verdicts(http_bot, sender, fake_slack):
    [(variant, ts)] = await copy(sender, http_bot, fake_slack, "oat milk n: 1")
    fake_slack.react(CHANNEL, ts, "white_check_mark", "U0OTHERBOT")
    by_bot = recorded.reaction("white_check_mark", ts, user="U0OTHERBOT")
    by_bot["event"]["bot_id"] = "B0OTHERBOT"
    assert (await sender.event(by_bot)).status == 200
    await http_bot.tasks.wait_idle(10)
    assert (await statuses(http_bot.engine))[variant] == "pending"


async def test_a_replayed_or_retried_copy_generates_once(http_bot, sender, fake_slack):
    fields = recorded.slash("oat milk n: 1", response_url=fake_slack.response_url("once"))
    first = await sender.command(fields)
    replay = await sender.command(fields)  # the same signed request, sent again
    encoded = urlencode(fields)
    headers = signed_headers(encoded, content_type="application/x-www-form-urlencoded")
    retried = await sender.post(encoded, headers | {"X-Slack-Retry-Num": "1",
                                                    "X-Slack-Retry-Reason": "http_timeout"})
    assert (first.status, replay.status, retried.status) == (200, 200, 200)
    await http_bot.tasks.wait_idle(60)
    assert len(await generations(http_bot.engine)) == 1
    assert len(variant_messages(fake_slack.posted(CHANNEL))) == 1


async def test_the_same_socket_mode_envelope_twice_generates_once(engine, fake_slack):
    bot = await started(engine, socket_config(fake_slack))
    try:
        fields = recorded.slash("oat milk n: 1", response_url=fake_slack.response_url("s"))
        envelope_id = await fake_slack.send_envelope("slash_commands", fields)
        await fake_slack.socket_ack(envelope_id)
        fake_slack.socket_acks.clear()
        await fake_slack.socket_ack(await fake_slack.send_envelope("slash_commands", fields,
                                                                   envelope_id=envelope_id))
        await bot.tasks.wait_idle(60)
    finally:
        await bot.stop()
    assert len(await generations(engine)) == 1


def lock_database(engine) -> sqlite3.Connection:
    """Another process's writer holding the database (a backup tool, a second bot, sqlite3 CLI)."""
    other = sqlite3.connect(engine.config.database_path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    return other


async def test_an_event_the_database_cannot_take_is_not_acknowledged(http_bot, sender, fake_slack):
    engine = http_bot.engine
    [(variant, ts)] = await copy(sender, http_bot, fake_slack, "oat milk n: 1")
    fake_slack.react(CHANNEL, ts, "white_check_mark", "U0BRUNO")
    approve = recorded.reaction("white_check_mark", ts)
    other = lock_database(engine)
    try:
        started_at = time.monotonic()
        refused = await sender.event(approve)
        assert time.monotonic() - started_at < 3  # Slack's deadline: it retries, not gives up
        assert refused.status >= 500
    finally:
        other.execute("ROLLBACK")
        other.close()
    retried = await sender.event(approve, retry_num=1)  # Slack sends it again
    assert retried.status == 200
    await http_bot.tasks.wait_idle(10)
    assert (await statuses(engine))[variant] == "approved"


async def test_a_command_the_database_cannot_take_is_answered_with_one_sentence(http_bot, sender,
                                                                                 fake_slack):
    other = lock_database(http_bot.engine)
    try:
        answer = await sender.command(recorded.slash("oat milk n: 1",
                                                     response_url=fake_slack.response_url("l")))
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert answer.status == 200
    assert answer.message == ("copybot could not take that request just now; please send it "
                              "again in a moment.")
    await http_bot.tasks.wait_idle(10)
    assert await generations(http_bot.engine) == []


async def test_unauthenticated_and_malformed_requests_get_a_status_and_one_short_line(
        http_bot, sender, fake_slack, caplog):
    caplog.set_level(logging.DEBUG)
    big = "x" * (1024 * 1024)
    answers = [await sender.post(big, {"Content-Type": "application/json"}) for _ in range(3)]
    assert [a.status for a in answers] == [413] * 3
    unsigned = [b"null", b"\xff\xfe", b"{not json", b"payload=%7Bbroken"]
    for body in unsigned:
        async with sender._session.post(sender.url, data=body,
                                        headers={"Content-Type": "application/json"}) as response:
            assert response.status == 401
    for body, content_type in [("null", "application/json"), ("{not json", "application/json"),
                               ("[]", "application/json"),
                               ("payload=%7Bbroken", "application/x-www-form-urlencoded")]:
        answer = await sender.post(body, signed_headers(body, content_type=content_type))
        assert answer.status == 400, body
    signed_ff = b"\xff\xfe"  # signed as the bytes it is: not UTF-8
    timestamp = str(int(time.time()))
    digest = hmac.new(SIGNING_SECRET.encode(), b"v0:" + timestamp.encode() + b":" + signed_ff,
                      hashlib.sha256).hexdigest()
    async with sender._session.post(sender.url, data=signed_ff, headers={
            "X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": f"v0={digest}",
            "Content-Type": "application/json"}) as response:
        assert response.status == 400

    log = [record for record in caplog.records if record.name.startswith(("bot.", "slack_bolt", "aiohttp"))]
    assert not [record for record in log if record.levelno >= logging.ERROR]
    assert len(log) == 3 + len(unsigned) + 4 + 1  # one line per refused request
    assert sum(len(record.getMessage()) for record in log) < 200 * len(log)
    await http_bot.tasks.wait_idle(10)
    assert await generations(http_bot.engine) == []


async def test_an_acknowledged_copy_is_finished_by_the_next_start(gated, fake_slack, engine_config,
                                                                  tiny_backend):
    engine, backend = gated
    bot = await started(engine, replace(http_config(fake_slack), shutdown_grace_seconds=0))
    async with SlackSender(f"http://127.0.0.1:{bot.port}/slack/events") as sender:
        answer = await sender.command(recorded.slash("oat milk n: 1",
                                                     response_url=fake_slack.response_url("r")))
    assert answer.status == 200
    assert await asyncio.to_thread(backend.entered.wait, 10)
    await bot.stop()  # stopped while the model worked: the copy was not written
    assert fake_slack.posted(CHANNEL) == []

    restarted = await Engine.open(engine_config, backend=tiny_backend)
    try:
        bot = await started(restarted, http_config(fake_slack))
        await bot.tasks.wait_idle(60)
        await bot.stop()
        assert len(variant_messages(fake_slack.posted(CHANNEL))) == 1
        assert await rows(restarted, "SELECT kind, outcome FROM inbound_events") == [("command", "done")]
    finally:
        await restarted.close()


async def test_the_shutdown_grace_follows_copybot_shutdown_seconds(gated, fake_slack):
    engine, backend = gated
    config = SlackConfig.from_env({
        "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "COPYBOT_SLACK_API_URL": fake_slack.api_url, "COPYBOT_SLACK_HOST": "127.0.0.1",
        "COPYBOT_SLACK_PORT": "0", "COPYBOT_SHUTDOWN_SECONDS": "0.5"})
    bot = await started(engine, config)
    async with SlackSender(f"http://127.0.0.1:{bot.port}/slack/events") as sender:
        await sender.command(recorded.slash("oat milk n: 1", response_url=fake_slack.response_url("g")))
    assert await asyncio.to_thread(backend.entered.wait, 10)
    started_at = time.monotonic()
    await bot.stop()  # the model never finishes: the copy is cancelled when the grace is over
    assert time.monotonic() - started_at < 5  # not a hard-coded 10 s
    assert errors(fake_slack) == []
