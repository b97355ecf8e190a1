"""The real adapter (discord.py client) against the local fake Discord: what a team sees."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.discord_adapter import run_discord
from bot.flow.messages import INTERRUPTED, NOT_TAKEN
from engine import Announcement, Engine, Origin
from tests.bot.discord.fake_discord import ADMIN_ROLE, EPHEMERAL, LEAD, load_payload
from tests.bot.discord.helpers import VARIANT_ID, run_copy, variant_id, verdicts


async def test_login_registers_typed_commands_per_guild_without_privileged_intents(bot, fake):
    assert fake.calls("GET", "/users/@me") and fake.calls("GET", "/oauth2/applications/@me")
    (identify,) = [d for _, op, d in fake.gateway_in if op == 2]
    intents = identify["intents"]
    privileged = (1 << 1) | (1 << 8) | (1 << 15)  # members, presences, message content
    assert intents & privileged == 0
    assert intents & (1 << 0) and intents & (1 << 10)  # guilds, guild message reactions

    (sync,) = fake.calls("PUT", f"/applications/{fake.app_id}/guilds/{fake.guild_id}/commands")
    commands = {command["name"]: command for command in sync.body}
    assert set(commands) == {"copy", "reviews", "settings", "report", "models", "finetune", "help"}
    copy_options = {option["name"]: option for option in commands["copy"]["options"]}
    assert copy_options["product"]["required"] and copy_options["product"]["type"] == 3
    assert all(copy_options[name].get("autocomplete") for name in ("tone", "channel", "length"))
    assert (copy_options["n"]["type"], copy_options["n"]["min_value"], copy_options["n"]["max_value"]) == (4, 1, 10)
    assert [c["value"] for c in copy_options["language"]["choices"]] == ["en", "zh"]
    review_options = {option["name"]: option["type"] for option in commands["reviews"]["options"]}
    assert review_options["file"] == 11  # an attachment
    assert not fake.calls("PUT", f"/applications/{fake.app_id}/commands")  # nothing global


async def settle(engine, variant: int, expected: tuple[int, int], timeout: float = 30.0) -> None:
    """Wait until a variant has ``expected`` (approvals, rejections). Reactions are recorded in
    the background and send nothing back to Discord, so the store is polled until then."""
    deadline = asyncio.get_running_loop().time() + timeout
    while (found := await verdicts(engine, variant)) != expected:
        assert asyncio.get_running_loop().time() < deadline, f"still {found}, expected {expected}"
        await asyncio.sleep(0.02)


async def react(fake, recorded: str, message: dict, **reaction_args) -> None:
    """Someone reacts: the message's reactions change (what Discord's REST API reports), then the
    gateway delivers the event."""
    event = "MESSAGE_REACTION_REMOVE" if "remove" in recorded else "MESSAGE_REACTION_ADD"
    payload = fake.reaction(recorded, message["id"], **reaction_args)
    emoji = payload["emoji"]
    key = emoji["name"] if not emoji.get("id") else f"{emoji['name']}:{emoji['id']}"
    fake.react(message["id"], key, payload["user_id"], present=event == "MESSAGE_REACTION_ADD")
    await fake.dispatch(event, payload)


async def copy_held_at_the_model(fake, engine, gate, discord_config) -> tuple[asyncio.Task, dict]:
    """The adapter running, and a /copy deferred and waiting at the (shut) model gate."""
    task = asyncio.create_task(run_discord(engine, discord_config))
    await fake.wait_for(lambda: fake.calls("PUT", f"/applications/{fake.app_id}/guilds/"))
    gate.shut()
    payload = fake.interaction("interaction_copy")
    await fake.dispatch("INTERACTION_CREATE", payload)
    await fake.wait_for(lambda: fake.callbacks(payload))
    assert await asyncio.to_thread(gate.entered.wait, 10)
    return task, payload


async def test_copy_is_deferred_before_the_model_runs_then_each_variant_is_its_own_message(
        bot, fake, engine, gate):
    gate.shut()  # the generator is busy
    payload = fake.interaction("interaction_copy")  # n: 2, recorded from the command picker
    await fake.dispatch("INTERACTION_CREATE", payload)
    await fake.wait_for(lambda: fake.callbacks(payload))
    assert [c.body["type"] for c in fake.callbacks(payload)] == [5]  # "copybot is thinking…", public
    assert not fake.callbacks(payload)[0].body.get("data", {}).get("flags", 0) & EPHEMERAL
    assert await asyncio.to_thread(gate.entered.wait, 10)
    assert fake.webhook_posts(payload["token"]) == []  # nothing posted while the model works
    gate.open()

    await fake.wait_for(lambda: len(fake.live_posts(payload["token"])) == 3 and all(
        VARIANT_ID.match(m["content"]) for m in fake.live_posts(payload["token"])[1:]))
    header, *variants = fake.live_posts(payload["token"])
    await fake.wait_for(lambda: "✅ or 👍" in fake.current(header["id"])["content"])
    header = fake.current(header["id"])
    assert "Bamboo toothbrush" in header["content"]
    assert "✅ or 👍" in header["content"] and "❌ or 👎" in header["content"]
    # The emoji are put under the variants once their ids are stored.
    await fake.wait_for(lambda: all(fake.seeded(m["id"]) == ["✅", "❌"] for m in variants))
    workspace = f"discord:{fake.guild_id}"
    for message in variants:
        assert not message["flags"] & EPHEMERAL
        stored = await engine.store.variant_for_message(workspace, message["channel_id"], message["id"])
        assert stored == variant_id(message)
    assert len({variant_id(m) for m in variants}) == 2
    # Model output can never ping anyone.
    assert all(post.body["allowed_mentions"] == {"parse": []}
               for post in fake.webhook_posts(payload["token"]))
    await fake.wait_for(lambda: all(fake.seeded(m["id"]) == ["✅", "❌"] for m in variants))


async def test_a_reaction_approves_its_variant_and_removing_it_withdraws(bot, fake, engine):
    _, _, (first, second) = await run_copy(fake, n=2)
    await react(fake, "reaction_add_check", second)
    await settle(engine, variant_id(second), (1, 0))
    # The bot's own ✅ under each variant (seeded earlier, delivered earlier) counted for nothing.
    assert await verdicts(engine, variant_id(first)) == (0, 0)

    await react(fake, "reaction_remove_check", second)
    await settle(engine, variant_id(second), (0, 0))


async def test_reactions_on_other_messages_and_other_emoji_change_nothing(bot, fake, engine, caplog):
    _, header, (variant,) = await run_copy(fake, n=1)
    foreign = load_payload("reaction_add_check")  # someone's own message in the channel
    await fake.dispatch("MESSAGE_REACTION_ADD", foreign)
    await react(fake, "reaction_add_check", header)  # our header is not a variant
    await react(fake, "reaction_add_heart", variant)  # neither approve nor reject
    await react(fake, "reaction_add_thumbs_skin_tone", variant)  # 👍🏽 is 👍: approves
    await settle(engine, variant_id(variant), (1, 0))  # recorded in order: the others are done
    async with engine.store.db.execute("SELECT COUNT(*) AS n FROM feedback") as cursor:
        assert (await cursor.fetchone())["n"] == 1
    assert not [r for r in caplog.records if r.name.startswith("bot.") and r.levelno >= logging.WARNING]


async def test_a_rate_limited_follow_up_is_retried_and_its_variant_still_counts(bot, fake, engine):
    fake.rate_limit("POST", f"/webhooks/{fake.app_id}/", retry_after=0.25)
    payload, _, (first, second) = await run_copy(fake, n=2)
    attempts = fake.calls("POST", f"/webhooks/{fake.app_id}/{payload['token']}")
    assert [a.status for a in attempts] == [429, 200, 200, 200]
    await react(fake, "reaction_add_thumbs_down", first)
    await settle(engine, variant_id(first), (0, 1))


async def test_after_the_gateway_drops_the_client_resumes_and_no_approval_is_lost(bot, fake, engine):
    _, _, (first, second) = await run_copy(fake, n=2)
    last_sequence = len(fake.history)
    await fake.drop_gateway(4000)
    # Sent while the client is away: Discord replays it on RESUME.
    lead = fake.member(LEAD, "sam.lead", roles=[ADMIN_ROLE])
    await react(fake, "reaction_add_check", first, member=lead)
    await fake.wait_for(lambda: any(op == 6 for _, op, _ in fake.gateway_in))
    (resume,) = [(path, d) for path, op, d in fake.gateway_in if op == 6]
    assert resume == ("/resume", {"session_id": fake.session_id, "seq": last_sequence})
    assert [op for _, op, _ in fake.gateway_in].count(2) == 1  # resumed, not identified again
    await fake.wait_for(lambda: fake.history[-1][1] == "RESUMED")
    await settle(engine, variant_id(first), (1, 0))

    await react(fake, "reaction_add_check", second)  # after the resume
    await settle(engine, variant_id(second), (1, 0))


async def test_past_the_15_minute_token_the_variants_go_to_the_channel(bot, fake, engine):
    fake.rate_limit("POST", "/channels/", retry_after=0.25)  # a per-route 429 on the channel, too
    payload = fake.interaction("interaction_copy", age=14 * 60 + 50)  # a queue that long
    await fake.dispatch("INTERACTION_CREATE", payload)
    channel_posts = f"/channels/{payload['channel_id']}/messages"

    def posted() -> list[dict]:  # the channel messages as they are now, edits applied
        return [fake.current(c.response["id"]) for c in fake.calls("POST", channel_posts) if c.status == 200]

    await fake.wait_for(lambda: len(posted()) == 3 and all(VARIANT_ID.match(m["content"]) for m in posted()[1:]))
    assert fake.webhook_posts(payload["token"]) == []
    header, *variants = posted()
    await fake.wait_for(lambda: all(len(fake.seeded(m["id"])) == 2 for m in variants))
    for message in variants:
        stored = await engine.store.variant_for_message(f"discord:{fake.guild_id}", message["channel_id"],
                                                        message["id"])
        assert stored == variant_id(message)


async def test_a_problem_with_the_request_is_told_only_to_whoever_asked(bot, fake, engine):
    options = [{"name": "product", "type": 3, "value": "Cold brew kit"},
               {"name": "channel", "type": 3, "value": "fax machine"}]
    payload = fake.interaction("interaction_copy", options=options)
    await fake.dispatch("INTERACTION_CREATE", payload)
    await fake.wait_for(lambda: fake.webhook_posts(payload["token"]))
    # The public "thinking…" message is removed and the explanation sent privately.
    original = f"/webhooks/{fake.app_id}/{payload['token']}/messages/@original"
    assert fake.calls("DELETE", original)
    (answer,) = [post.body for post in fake.webhook_posts(payload["token"])]
    assert answer["flags"] & EPHEMERAL
    assert answer["content"] == (
        "Unknown channel 'fax machine'; use one of: email, email subject, facebook, google ad, "
        "instagram, linkedin, product page, sms, social post, tweet.")


async def test_a_malformed_command_is_answered_at_once_without_deferring(bot, fake):
    options = [{"name": "change", "type": 3, "value": "brand_voice warm"}]
    payload = fake.interaction("interaction_settings", options=options)
    await fake.dispatch("INTERACTION_CREATE", payload)
    (callback,) = await fake.wait_for(lambda: fake.callbacks(payload))
    assert callback.body["type"] == 4 and callback.body["data"]["flags"] & EPHEMERAL
    assert callback.body["data"]["content"] == (
        "Write settings as /settings <name>: <value>, e.g. /settings timezone: Europe/Berlin.")


async def test_settings_change_needs_the_admin_role(bot, fake, engine):
    payload = fake.interaction("interaction_settings")  # Maya: Marketing role only
    await fake.dispatch("INTERACTION_CREATE", payload)
    (refusal,) = await fake.wait_for(lambda: fake.webhook_posts(payload["token"]))
    assert refusal.body["content"].startswith("Only workspace admins")

    lead = fake.member(LEAD, "sam.lead", roles=[ADMIN_ROLE])
    payload = fake.interaction("interaction_settings", member=lead)
    await fake.dispatch("INTERACTION_CREATE", payload)
    (answer,) = await fake.wait_for(lambda: fake.webhook_posts(payload["token"]))
    assert [c.body for c in fake.callbacks(payload)] == [{"type": 5, "data": {"flags": EPHEMERAL}}]
    assert "brand_voice is now: warm, plain-spoken" in answer.body["content"]
    settings = await engine.settings(origin(fake))
    assert settings["brand_voice"] == "warm, plain-spoken, no exclamation marks"


async def test_tone_autocomplete_offers_the_presets_from_prompts(bot, fake, engine):
    payload = fake.interaction("interaction_copy_autocomplete")  # typed "pl" into tone:
    await fake.dispatch("INTERACTION_CREATE", payload)
    (callback,) = await fake.wait_for(lambda: fake.callbacks(payload))
    assert callback.body["type"] == 8
    offered = [choice["value"] for choice in callback.body["data"]["choices"]]
    assert "playful" in offered
    assert set(offered) <= set(engine.presets()["tone"]) and all("pl" in tone for tone in offered)


async def test_reviews_from_an_attached_csv_file(bot, fake, engine):
    csv = b'review,stars\n"Love it, my teeth feel cleaner",5\nBristles fell out after a week,1\n'
    payload = fake.interaction("interaction_reviews_file")
    (attachment,) = payload["data"]["resolved"]["attachments"].values()
    attachment.update(url=fake.add_attachment(attachment["filename"], csv), size=len(csv))
    await fake.dispatch("INTERACTION_CREATE", payload)
    await fake.wait_for(lambda: fake.webhook_posts(payload["token"]))
    assert fake.calls("GET", f"/attachments/{attachment['filename']}")
    shown = [post.body for post in fake.webhook_posts(payload["token"])]
    # What the engine answers for that file is what the channel sees.
    # One public message: the file's summary, each review quoted with its sentiment.
    [summary] = shown
    assert not summary.get("flags", 0) & EPHEMERAL
    lines = summary["content"].splitlines()
    assert lines[0] == f"**Review sentiment — 2 reviews ({attachment['filename']})**"
    assert lines[1] == "Positive 50% (1) · Neutral 0% (0) · Negative 50% (1)"
    assert lines[2].endswith("average rating 3.0 / 5")
    assert re.fullmatch(r"• positive \(\d+% sure\): “Love it, my teeth feel cleaner”", lines[3])
    assert re.fullmatch(r"• negative \(\d+% sure\): “Bristles fell out after a week”", lines[4])


async def test_reviews_without_text_opens_a_form_for_one_review_per_line(bot, fake, engine):
    payload = fake.interaction("interaction_reviews_file", options=[])
    await fake.dispatch("INTERACTION_CREATE", payload)
    (callback,) = await fake.wait_for(lambda: fake.callbacks(payload))
    assert callback.body["type"] == 9  # a form
    form = callback.body["data"]
    text_box = form["components"][0]["components"][0]
    assert text_box["style"] == 2  # paragraph: several lines

    submit = fake.interaction("interaction_reviews_form_submit")
    submit["data"]["custom_id"] = form["custom_id"]
    submitted = submit["data"]["components"][0]["components"][0]
    submitted["custom_id"] = text_box["custom_id"]
    await fake.dispatch("INTERACTION_CREATE", submit)
    await fake.wait_for(lambda: fake.webhook_posts(submit["token"]))
    assert fake.callbacks(submit)[0].body["type"] == 5
    shown = [post.body for post in fake.webhook_posts(submit["token"])]
    assert submitted["value"].splitlines() == [
        "Love it, my teeth feel cleaner", "Bristles fell out after a week", "Arrived on time"]
    [summary] = shown
    assert not summary.get("flags", 0) & EPHEMERAL
    lines = summary["content"].splitlines()
    assert lines[:2] == ["**Review sentiment — 3 reviews (pasted text)**",
                         "Positive 33% (1) · Neutral 33% (1) · Negative 33% (1)"]
    assert re.fullmatch(r"• positive \(\d+% sure\): “Love it, my teeth feel cleaner”", lines[3])
    assert re.fullmatch(r"• negative \(\d+% sure\): “Bristles fell out after a week”", lines[4])
    assert re.fullmatch(r"• neutral \(\d+% sure\): “Arrived on time”", lines[5])


def origin(fake) -> Origin:
    """Where the recorded interactions come from: Maya in #marketing."""
    recorded = load_payload("interaction_copy")
    return Origin("discord", fake.guild_id, recorded["channel_id"], recorded["member"]["user"]["id"])


async def test_stopping_the_bot_lets_a_running_copy_finish_first(fake, engine, gate, discord_config):
    task, payload = await copy_held_at_the_model(fake, engine, gate, discord_config)

    task.cancel()  # e.g. systemd stopping the service while the model works
    gate.open()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(fake.webhook_posts(payload["token"])) == 3  # the answer went out before it stopped
    await fake.wait_for(lambda: not fake.connected)  # then it disconnected


async def test_stopping_now_tells_whoever_waits_that_it_was_interrupted(fake, engine, gate, discord_config):
    # and it stays shut: the model never finishes
    task, payload = await copy_held_at_the_model(fake, engine, gate, discord_config)

    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=0.5)
    assert not done  # still waiting for the copy
    task.cancel()  # the stop deadline passed
    with pytest.raises(asyncio.CancelledError):
        await task
    (notice,) = [post.body for post in fake.webhook_posts(payload["token"])]
    assert notice["content"] == INTERRUPTED and notice["flags"] & EPHEMERAL
    await fake.wait_for(lambda: not fake.connected)


async def test_the_weekly_report_is_posted_to_the_report_channel_with_its_chart(bot, fake, engine, tmp_path):
    chart = tmp_path / "report-chart.png"
    chart.write_bytes(b"\x89PNG\r\n\x1a\n fake chart")
    channel = next(c for c in fake.guild["channels"] if c["name"] == "random")
    text = "Weekly report: 3 copies\n" + "Most approved: “Brush brighter.” (2 approvals) <@1097200143112716310>\n" * 60
    for written in (f"<#{channel['id']}>", "#random"):  # as Discord inserts it, or by name
        before = len(fake.calls("POST", f"/channels/{channel['id']}/messages"))
        announcement = Announcement(f"discord:{fake.guild_id}", written, text, image=chart)
        assert await engine.announce(announcement)
        posts = fake.calls("POST", f"/channels/{channel['id']}/messages")[before:]
        assert len(posts) == 3 and all(len(p.body["content"]) <= 2000 for p in posts)
        assert " ".join(p.body["content"] for p in posts).split() == text.split()
        assert posts[-1].files == {"report-chart.png": chart.read_bytes()}
        assert all(p.body["allowed_mentions"] == {"parse": []} for p in posts)  # names, no pings

    assert not await engine.announce(Announcement(f"discord:{fake.guild_id}", "#no-such-channel", text))


async def test_report_is_answered_for_the_channel_with_its_chart(bot, fake, engine):
    await run_copy(fake, n=1)  # something to report on
    payload = fake.interaction("interaction_report")  # week: last
    await fake.dispatch("INTERACTION_CREATE", payload)
    await fake.wait_for(lambda: fake.webhook_posts(payload["token"]))
    assert fake.callbacks(payload)[0].body == {"type": 5}  # public: the team reads it
    posts = fake.webhook_posts(payload["token"])
    # Last week: from the Monday 09:00 UTC before the latest one (the default schedule and zone).
    now = datetime.now(UTC)
    end = (now - timedelta(days=now.weekday())).replace(hour=9, minute=0, second=0, microsecond=0)
    end -= timedelta(days=7) if end > now else timedelta(0)
    start = end - timedelta(days=7)
    assert [post.body["content"] for post in posts] == [
        f"Weekly report: {start:%a %d %b} – {end:%a %d %b %Y}\n"
        "Copy: 0 requests, 0 variants (last week 0 / 0).\n"  # the copy above is this week's
        "Approved –; rejected –.\n"
        "Model: tiny-test."]
    [(chart_name, chart)] = posts[-1].files.items()
    assert chart_name == f"discord_{fake.guild_id}-{start:%Y%m%dT%H%M}-{end:%Y%m%dT%H%M}.png"
    assert chart.startswith(b"\x89PNG")


async def test_copy_streams_into_its_follow_ups_then_shows_the_final_text(fake, engine, discord_config):
    task = asyncio.create_task(run_discord(engine, replace(discord_config, stream_interval=0)))
    try:
        await fake.wait_for(lambda: fake.calls("PUT", f"/applications/{fake.app_id}/guilds/"))
        _, header, variants = await run_copy(fake, n=2)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert fake.current(header["id"])["shown"][0].startswith("Writing **2 variants**")
    # Posted at the first text, edited while written (at least one: the random test model may end
    # a preview's first line early), then the final text.
    assert max(len(fake.current(m["id"])["shown"]) for m in variants) >= 3
    for message in variants:
        shown = fake.current(message["id"])["shown"]
        assert all(text.endswith("✍️") for text in shown[:-1])
        (stored,) = [t for (i, t) in await _variant_texts(engine) if i == variant_id(message)]
        assert shown[-1] == f"**#{variant_id(message)}** {stored}"


async def _variant_texts(engine) -> list[tuple[int, str]]:
    async with engine.store.db.execute("SELECT id, text FROM variants") as cursor:
        return [(row[0], row[1]) async for row in cursor]


async def test_removing_one_of_two_approving_emoji_keeps_the_approval(bot, fake, engine):
    _, _, (variant,) = await run_copy(fake, n=1)
    await react(fake, "reaction_add_check", variant)
    await react(fake, "reaction_add_check", variant, emoji="👍")
    await settle(engine, variant_id(variant), (1, 0))
    await react(fake, "reaction_remove_check", variant, emoji="👍")
    # Reactions on a message are applied in order: once Sam's ✅ counts, Maya's removal of 👍
    # has been applied too, and her ✅ still stands.
    lead = fake.member(LEAD, "sam.lead", roles=[ADMIN_ROLE])
    await react(fake, "reaction_add_check", variant, member=lead)
    await settle(engine, variant_id(variant), (2, 0))

    await react(fake, "reaction_remove_check", variant)  # Maya's ✅ goes too: only Sam's is left
    await settle(engine, variant_id(variant), (1, 0))


async def test_an_interaction_the_database_cannot_take_gets_one_sentence(bot, fake, engine):
    other = sqlite3.connect(engine.config.database_path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another writer holds the database past the busy timeout
    try:
        payload = fake.interaction("interaction_copy")
        await fake.dispatch("INTERACTION_CREATE", payload)
        (callback,) = await fake.wait_for(lambda: fake.callbacks(payload))
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert callback.body["type"] == 4 and callback.body["data"]["flags"] & EPHEMERAL
    assert callback.body["data"]["content"] == NOT_TAKEN
    assert await engine.store.variant_for_message(f"discord:{fake.guild_id}", payload["channel_id"],
                                                  "0") is None
    async with engine.store.db.execute("SELECT COUNT(*) AS n FROM generations") as cursor:
        assert (await cursor.fetchone())["n"] == 0


async def test_a_deferred_copy_cut_off_by_a_stop_is_finished_by_the_next_start(
        fake, engine_config, gate, discord_config):
    engine = await Engine.open(engine_config, backend=gate)
    task, payload = await copy_held_at_the_model(fake, engine, gate, discord_config)
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=0.5)
    assert not done  # still waiting for the copy
    task.cancel()  # the stop deadline passed: the copy is cut off
    with pytest.raises(asyncio.CancelledError):
        await task
    gate.open()
    await engine.close()
    (notice,) = [post.body for post in fake.webhook_posts(payload["token"])]
    assert notice["content"] == INTERRUPTED

    engine = await Engine.open(engine_config, backend=gate)
    task = asyncio.create_task(run_discord(engine, discord_config))
    try:
        # The same interaction's token, still valid: the header and both variants follow.
        await fake.wait_for(lambda: len(fake.webhook_posts(payload["token"])) == 4)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await engine.close()
