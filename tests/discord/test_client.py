"""The real adapter (discord.py client) against the local fake Discord: what a team sees."""

from __future__ import annotations

import asyncio
import re

from tests.discord.conftest import ADMIN_ROLE
from tests.discord.fake_discord import EPHEMERAL, load_payload

VARIANT_ID = re.compile(r"^\*\*#(\d+)\*\*")


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
    review_options = {option["name"]: option["type"] for option in commands["reviews"]["options"]}
    assert review_options["file"] == 11  # an attachment
    assert not fake.calls("PUT", f"/applications/{fake.app_id}/commands")  # nothing global


async def verdicts(engine, variant_id: int) -> tuple[int, int]:
    async with engine.store.db.execute(
        "SELECT approvals, rejections FROM variant_status WHERE variant_id = ?", (variant_id,)
    ) as cursor:
        row = await cursor.fetchone()
    return (row["approvals"], row["rejections"]) if row else (0, 0)


async def settle(engine, variant: int, expected: tuple[int, int], timeout: float = 30.0) -> None:
    """Wait until a variant has ``expected`` (approvals, rejections). Reactions are recorded in
    the background and send nothing back to Discord, so the store is polled until then."""
    deadline = asyncio.get_running_loop().time() + timeout
    while (found := await verdicts(engine, variant)) != expected:
        assert asyncio.get_running_loop().time() < deadline, f"still {found}, expected {expected}"
        await asyncio.sleep(0.02)


async def run_copy(fake, n: int = 2, **interaction_args) -> tuple[dict, dict, list[dict]]:
    """Send /copy; wait until its header and ``n`` variant messages are posted and the bot has
    put its approve/reject emoji under each. Returns the interaction, header and variants."""
    payload = fake.interaction("interaction_copy", **interaction_args)
    for option in payload["data"]["options"]:
        if option["name"] == "n":
            option["value"] = n
    await fake.dispatch("INTERACTION_CREATE", payload)
    await fake.wait_for(lambda: len(fake.webhook_posts(payload["token"])) == n + 1)
    header, *variants = [post.response for post in fake.webhook_posts(payload["token"])]
    await fake.wait_for(lambda: all(len(fake.seeded(v["id"])) == 2 for v in variants))
    return payload, header, variants


def variant_id(message: dict) -> int:
    return int(VARIANT_ID.match(message["content"]).group(1))


async def react(fake, recorded: str, message: dict, **reaction_args) -> None:
    event = "MESSAGE_REACTION_REMOVE" if "remove" in recorded else "MESSAGE_REACTION_ADD"
    await fake.dispatch(event, fake.reaction(recorded, message["id"], **reaction_args))


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

    await fake.wait_for(lambda: len(fake.webhook_posts(payload["token"])) == 3)
    header, *variants = [post.response for post in fake.webhook_posts(payload["token"])]
    assert "Bamboo toothbrush" in header["content"]
    assert "✅ or 👍" in header["content"] and "❌ or 👎" in header["content"]
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
    assert not [r for r in caplog.records if r.name.startswith("bot.") and r.levelname != "INFO"]


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
    lead = fake.member("934571224018632704", "sam.lead", roles=[ADMIN_ROLE])
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
    await fake.wait_for(lambda: len([c for c in fake.calls("POST", channel_posts) if c.status == 200]) == 3)
    assert fake.webhook_posts(payload["token"]) == []
    header, *variants = [c.response for c in fake.calls("POST", channel_posts) if c.status == 200]
    for message in variants:
        stored = await engine.store.variant_for_message(f"discord:{fake.guild_id}", message["channel_id"],
                                                        message["id"])
        assert stored == variant_id(message)
