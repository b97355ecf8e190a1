"""The buttons under each variant, pressed through the real discord.py client against the fake
Discord: Approve and Reject count once per person (the same interaction delivered twice counts
once) and redraw the tally in place; Shorter and More like this are turns on that variant; a bot's
press does nothing; a press naming no variant of its message gets one private sentence."""

from __future__ import annotations

import asyncio
import json

from bot.flow.messages import UNKNOWN_VARIANT
from tests.bot.discord.fake_discord import EPHEMERAL
from tests.bot.discord.helpers import generations, number, run_copy, variant_id, variants, verdicts

ACTIONS = ["approve", "reject", "shorter", "like"]


def buttons(message: dict) -> list[tuple[str, str]]:
    """(custom_id, label) of the buttons under a message, row by row."""
    return [(button["custom_id"], button["label"]) for row in message["components"]
            for button in row["components"]]


def tally(fake, message: dict) -> str | None:
    """The tally line of a variant message as it is now, or ``None`` when it has none."""
    last = fake.current(message["id"])["content"].rsplit("\n", 1)
    return last[1].removeprefix("-# ") if len(last) == 2 and last[1].startswith("-# ✅") else None


async def press(fake, message: dict, action: str, variant: int | None = None, **press_args) -> dict:
    payload = fake.press(message["id"], f"copybot:{action}:{variant or variant_id(message)}",
                         **press_args)
    await fake.dispatch("INTERACTION_CREATE", payload)
    return payload


async def journaled(engine, kind: str) -> list[tuple[str, str | None]]:
    async with engine.store.db.execute(
            "SELECT key, outcome FROM inbound_events WHERE kind = ? ORDER BY id", (kind,)) as cursor:
        return [(row["key"], row["outcome"]) async for row in cursor]


async def finished_outcomes(engine, kind: str, count: int, timeout: float = 30.0) -> list[str]:
    """The outcomes of the ``kind`` events once ``count`` of them are finished: the journal marks
    an event finished after its reply went out, so the reply alone does not mean it is marked."""
    deadline = asyncio.get_running_loop().time() + timeout
    while len(outcomes := [o for _, o in await journaled(engine, kind) if o is not None]) < count:
        assert asyncio.get_running_loop().time() < deadline, f"only {outcomes} finished"
        await asyncio.sleep(0.02)
    return outcomes


async def feedback_count(engine) -> int:
    async with engine.store.db.execute("SELECT COUNT(*) AS n FROM feedback") as cursor:
        return (await cursor.fetchone())["n"]


async def test_each_posted_variant_carries_the_four_buttons(bot, fake):
    _, header, variants_posted = await run_copy(fake, n=2)
    assert buttons(fake.current(header["id"])) == []
    for message in variants_posted:
        shown = fake.current(message["id"])
        assert buttons(shown) == [(f"copybot:{action}:{variant_id(shown)}", label) for action, label in
                                  zip(ACTIONS, ["Approve", "Reject", "Shorter", "More like this"])]
        assert [row["type"] for row in shown["components"]] == [1]  # one row
    # The buttons came with the final text, not with the previews before it.
    edits = [r for r in fake.calls("PATCH", f"/webhooks/{fake.app_id}/") if r.body.get("components")]
    assert {r.path.rsplit("/", 1)[1] for r in edits} == {m["id"] for m in variants_posted}


async def test_a_press_approves_that_variant_once_and_redraws_the_tally(bot, fake, engine):
    _, _, (first, second) = await run_copy(fake, n=2)
    approve = await press(fake, first, "approve")
    await fake.wait_for(lambda: tally(fake, first) == "✅ 1 · ❌ 0")
    assert [callback.body["type"] for callback in fake.callbacks(approve)] == [6]  # deferred update
    await fake.dispatch("INTERACTION_CREATE", approve)  # the same interaction, delivered again

    carla = fake.member("1187366510038618777", "carla", [])
    await press(fake, first, "reject", member=carla)
    await fake.wait_for(lambda: tally(fake, first) == "✅ 1 · ❌ 1")
    assert len(fake.callbacks(approve)) == 1  # the repeat was not acknowledged again
    assert await verdicts(engine, variant_id(first)) == (1, 1)
    assert await verdicts(engine, variant_id(second)) == (0, 0)
    assert await feedback_count(engine) == 2
    assert await finished_outcomes(engine, "button", 2) == ["done", "done"]

    # Maya changes her mind: Reject takes back her Approve; the tally is redrawn, not added.
    await press(fake, first, "reject")
    await fake.wait_for(lambda: tally(fake, first) == "✅ 0 · ❌ 2")
    shown = fake.current(first["id"])
    assert shown["content"].count("✅") == 1 and shown["content"].startswith(first["content"])
    assert len(buttons(shown)) == 4  # redrawing the tally kept the buttons
    assert not [p for p in fake.calls("POST", f"/webhooks/{fake.app_id}/") if p.status == 200
                and p.body.get("flags", 0) & EPHEMERAL]  # nothing needed saying


async def test_shorter_is_a_turn_on_that_variant_in_its_thread(bot, fake, engine):
    asked = fake.message_event(f"<@{fake.identity['id']}> 2 instagram captions for our cold brew")
    await fake.dispatch("MESSAGE_CREATE", asked)
    await fake.wait_for(lambda: fake.threads and len(variants(fake, next(iter(fake.threads)))) == 2
                        and all(len(fake.seeded(v["id"])) == 2
                                for v in variants(fake, next(iter(fake.threads)))))
    (thread_id,) = fake.threads
    first, second = variants(fake, thread_id)
    await press(fake, second, "shorter", variant=number(second))
    await fake.wait_for(lambda: [m for m in variants(fake, thread_id) if number(m) > number(second)
                                 and buttons(m)])
    new = [m for m in variants(fake, thread_id) if number(m) > number(second)]
    _, (_, turn_prompt, turn_kind, _) = await generations(engine)
    async with engine.store.db.execute("SELECT text FROM variants WHERE id = ?",
                                       (number(second),)) as cursor:
        (second_text,) = await cursor.fetchone()
    assert turn_kind == "rewrite"
    assert turn_prompt[2] == {"role": "assistant", "content": second_text}  # the one being shortened
    assert "shorter" in turn_prompt[-1]["content"].lower()
    assert all(m["channel_id"] == thread_id for m in new)  # answered in the variant's thread
    assert all(f"**#{number(m)}** *(from #{number(second)})*" in m["content"] for m in new)
    turn_header = next(m for m in fake.messages.values() if m["content"].startswith("*Shorter*"))
    assert str(turn_header["message_reference"]["message_id"]) == second["id"]  # it answers the variant


async def test_more_like_this_on_a_copy_variant_is_a_turn_in_the_channel(bot, fake, engine):
    payload, _, (first, _) = await run_copy(fake, n=2)
    await press(fake, first, "like")
    await fake.wait_for(lambda: [m for m in variants(fake, payload["channel_id"])
                                 if number(m) > variant_id(first) + 1 and buttons(m)])
    *_, (_, prompt, kind, conversation) = await generations(engine)
    async with engine.store.db.execute("SELECT text FROM variants WHERE id = ?",
                                       (variant_id(first),)) as cursor:
        (first_text,) = await cursor.fetchone()
    assert kind == "like" and conversation is not None
    assert prompt[2] == {"role": "assistant", "content": first_text}


async def test_a_bots_press_does_nothing(bot, fake, engine):
    _, _, (first, _) = await run_copy(fake, n=2)
    robot = fake.member("1187366510038618999", "otherbot", [])
    robot["user"]["bot"] = True
    by_bot = await press(fake, first, "approve", member=robot)
    await press(fake, first, "reject")  # then a person's: carried out once the bot's was seen
    await fake.wait_for(lambda: tally(fake, first) == "✅ 0 · ❌ 1")
    assert fake.callbacks(by_bot) == [] and fake.webhook_posts(by_bot["token"]) == []
    assert f"discord:interaction:{by_bot['id']}" not in {k for k, _ in await journaled(engine, "button")}
    assert await verdicts(engine, variant_id(first)) == (0, 1)


async def test_a_press_naming_no_variant_of_its_message_gets_one_private_sentence(bot, fake, engine):
    payload, _, (first, _) = await run_copy(fake, n=2)

    def buttons_of(variant: int) -> list[dict]:
        return [{"type": 1, "components": [
            {"type": 2, "style": 3, "label": "Approve", "custom_id": f"copybot:approve:{variant}"}]}]

    # A copybot message this database never had (e.g. restored from an older backup), and one
    # whose buttons name a variant posted elsewhere.
    unknown = fake.bot_message(payload["channel_id"], "**#999** Old copy", buttons_of(999))
    foreign = fake.bot_message(payload["channel_id"], "**#1** Copied", buttons_of(variant_id(first)))
    for message, variant in ((unknown, 999), (foreign, variant_id(first))):
        pressed = await press(fake, message, "approve", variant=variant)
        await fake.wait_for(lambda pressed=pressed: fake.webhook_posts(pressed["token"]))
        (answer,) = fake.webhook_posts(pressed["token"])
        assert answer.body["flags"] & EPHEMERAL
        assert answer.body["content"] == UNKNOWN_VARIANT.format(id=variant)
        assert [c.body["type"] for c in fake.callbacks(pressed)] == [6]
    assert await feedback_count(engine) == 0
    assert all(m["content"] == m["shown"][0] for m in (fake.current(unknown["id"]),
                                                         fake.current(foreign["id"])))
    assert json.dumps(fake.current(first["id"])["content"]).count("✅") == 0
    assert await finished_outcomes(engine, "button", 2) == ["failed", "failed"]
