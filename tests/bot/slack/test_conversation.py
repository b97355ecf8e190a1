"""Talking to copybot in Slack threads, against the fake Slack: mentions and DMs start requests,
replies in the thread are turns with the thread as context, buttons approve once and redraw the
tally, and other bots are never answered."""

from __future__ import annotations

import json

from tests.bot.slack import recorded
from tests.bot.slack.helpers import VARIANT_ID, feedback_rows, rows, statuses

CHANNEL = recorded.CHANNEL


def errors(fake) -> list[str]:
    return [text for text in fake.ephemeral() if not text.startswith("Writing ")]


def variants_in(fake, thread: str) -> list[dict]:
    """The variant messages posted under ``thread``, as they are now (final text and blocks)."""
    return [fake.messages[(m["channel"], m["ts"])] | {"channel": m["channel"]}
            for m in fake.posted() if m.get("thread_ts") == thread
            and VARIANT_ID.match(fake.messages[(m["channel"], m["ts"])]["text"])]


def number(message: dict) -> int:
    return int(VARIANT_ID.match(message["text"]).group(1))


async def turns(engine) -> list[dict]:
    found = await rows(engine, """SELECT id, prompt, request, turn_kind, instruction, turn,
                                         conversation_id FROM generations ORDER BY id""")
    return [{"id": r[0], "prompt": json.loads(r[1]), "request": json.loads(r[2]), "kind": r[3],
             "instruction": r[4], "turn": r[5], "conversation": r[6]} for r in found]


async def start_by_mention(sender, bot, fake, text="2 instagram captions for our cold brew, playful"):
    """Mention copybot in the channel; returns the header message and the variants under it."""
    before = len(fake.posted(CHANNEL))
    assert (await sender.event(recorded.mention(text))).status == 200
    await bot.tasks.wait_idle(60)
    header = fake.posted(CHANNEL)[before]
    return header, variants_in(fake, header["ts"])


async def reply(sender, bot, fake, text: str, thread: str) -> list[dict]:
    """Reply in a thread; returns the variant messages that reply added to it."""
    before = {m["ts"] for m in variants_in(fake, thread)}
    assert (await sender.event(recorded.thread_reply(text, thread))).status == 200
    await bot.tasks.wait_idle(60)
    assert errors(fake) == []
    return [m for m in variants_in(fake, thread) if m["ts"] not in before]


async def test_a_mention_starts_a_request_in_a_thread_with_buttons(http_bot, sender, fake_slack):
    header, variants = await start_by_mention(sender, http_bot, fake_slack)
    assert "thread_ts" not in header  # the header opens the thread in the channel
    assert "our cold brew" in header["text"] and "Reply in this thread" in header["text"]
    assert len(variants) == 2
    (generation,) = await turns(http_bot.engine)
    # The natural words became the /copy options.
    assert (generation["request"]["n"], generation["request"]["ad_channel"],
            generation["request"]["tone"], generation["request"]["product"]) == (
        2, "instagram", "playful", "our cold brew")
    for message in variants:
        actions = [element["action_id"] for block in message["blocks"] if block["type"] == "actions"
                   for element in block["elements"]]
        assert actions == ["copybot_approve", "copybot_reject", "copybot_shorter", "copybot_like"]
    conversations = await rows(http_bot.engine, "SELECT workspace_id, channel, thread FROM conversations")
    assert conversations == [("slack:T0ACME01", CHANNEL, header["ts"])]
    assert errors(fake_slack) == []


async def test_three_turns_in_the_thread_each_carry_the_thread_as_context(http_bot, sender, fake_slack):
    engine = http_bot.engine
    header, (first, second) = await start_by_mention(sender, http_bot, fake_slack)
    thread = header["ts"]
    first_text = (await rows(engine, "SELECT text FROM variants WHERE id = ?", number(first)))[0][0]
    second_text = (await rows(engine, "SELECT text FROM variants WHERE id = ?", number(second)))[0][0]

    shorter = await reply(sender, http_bot, fake_slack, f"#{number(first)} shorter", thread)
    assert shorter and all(number(m) > number(second) for m in shorter)  # new numbers
    turn = (await turns(engine))[-1]
    assert (turn["kind"], turn["instruction"], turn["turn"]) == ("rewrite", f"#{number(first)} shorter", 1)
    prompt = turn["prompt"]
    assert [m["role"] for m in prompt] == ["system", "user", "assistant", "user"]
    assert "our cold brew" in prompt[1]["content"]  # the brief carries over
    assert prompt[2]["content"] == first_text  # the variant being shortened
    assert "shorter" in prompt[3]["content"]
    assert int(turn["request"]["length"]) < 35  # fewer words than the instagram preset allows

    # Someone approves #2 with its button; the next turn is told so, and is in Chinese.
    await sender.action(recorded.button("approve", number(second), second))
    await http_bot.tasks.wait_idle(30)
    await reply(sender, http_bot, fake_slack, f"translate #{number(second)} to Chinese", thread)
    turn = (await turns(engine))[-1]
    assert turn["request"]["language"] == "zh"
    assert "简体中文" in turn["prompt"][0]["content"] and "简体中文" in turn["prompt"][-1]["content"]
    assert turn["prompt"][2]["content"] == second_text

    liked = await reply(sender, http_bot, fake_slack, f"more like #{number(shorter[0])}", thread)
    assert liked
    turn = (await turns(engine))[-1]
    assert turn["kind"] == "like"
    shorter_text = (await rows(engine, "SELECT text FROM variants WHERE id = ?", number(shorter[0])))[0][0]
    assert turn["prompt"][2]["content"] == shorter_text
    assert "same style" in turn["prompt"][-1]["content"]
    assert f"The team liked: {second_text}" in turn["prompt"][-1]["content"]
    # Every turn is one conversation, and each new variant names the one it came from.
    assert {t["conversation"] for t in await turns(engine)} == {1}
    sources = dict(await rows(engine, "SELECT id, source_variant_id FROM variants"))
    assert {sources[number(m)] for m in shorter} == {number(first)}
    assert {sources[number(m)] for m in liked} == {number(shorter[0])}


async def test_a_button_press_approves_that_variant_once_and_redraws_the_tally(
        http_bot, sender, fake_slack):
    engine = http_bot.engine
    header, (first, second) = await start_by_mention(sender, http_bot, fake_slack)
    press = recorded.button("approve", number(first), first)
    assert (await sender.action(press)).status == 200
    assert (await sender.action(press)).status == 200  # Slack sends the same press again
    await http_bot.tasks.wait_idle(30)
    assert await statuses(engine) == {number(first): "approved", number(second): "pending"}
    assert await feedback_rows(engine) == 1
    redraws = [call for call in fake_slack.calls_to("chat.update")
               if call.params["ts"] == first["ts"]
               and "✅" in json.dumps(call.params.get("blocks", ""), ensure_ascii=False)]
    assert len(redraws) == 1  # the repeat changed nothing, so nothing was redrawn
    shown = fake_slack.messages[(CHANNEL, first["ts"])] | {"channel": CHANNEL}
    assert shown["blocks"][-1]["elements"][0]["text"] == "✅ 1 · ❌ 0"

    # Carla rejects it, then changes her mind: one verdict per person, the tally in place.
    carla = recorded.button("reject", number(first), shown, user="U0CARLA")
    await sender.action(carla)
    await http_bot.tasks.wait_idle(30)
    shown = fake_slack.messages[(CHANNEL, first["ts"])] | {"channel": CHANNEL}
    assert shown["blocks"][-1]["elements"][0]["text"] == "✅ 1 · ❌ 1"
    await sender.action(recorded.button("approve", number(first), shown, user="U0CARLA"))
    await http_bot.tasks.wait_idle(30)
    shown = fake_slack.messages[(CHANNEL, first["ts"])]
    assert shown["blocks"][-1]["elements"][0]["text"] == "✅ 2 · ❌ 0"
    assert sum(1 for b in shown["blocks"] if b.get("block_id") == "copybot_tally") == 1
    assert (await statuses(engine))[number(second)] == "pending"


async def test_the_shorter_button_is_a_turn_on_that_variant(http_bot, sender, fake_slack):
    engine = http_bot.engine
    header, (first, second) = await start_by_mention(sender, http_bot, fake_slack)
    await sender.action(recorded.button("shorter", number(second), second))
    await http_bot.tasks.wait_idle(60)
    assert errors(fake_slack) == []
    new = [m for m in variants_in(fake_slack, header["ts"]) if number(m) > number(second)]
    assert new
    turn = (await turns(engine))[-1]
    assert turn["instruction"] == "Shorter" and turn["kind"] == "rewrite"
    sources = dict(await rows(engine, "SELECT id, source_variant_id FROM variants"))
    assert {sources[number(m)] for m in new} == {number(second)}


async def test_bots_and_other_threads_are_never_answered(http_bot, sender, fake_slack):
    engine = http_bot.engine
    header, _ = await start_by_mention(sender, http_bot, fake_slack)
    before = len(fake_slack.calls)
    by_bot = recorded.thread_reply("#1 shorter", header["ts"], user="U0OTHERBOT", bot_id="B0OTHER")
    by_itself = recorded.thread_reply("#1 shorter", header["ts"], user="U0COPYBOT")
    elsewhere = recorded.thread_reply("#1 shorter", "1690000000.000001")  # someone else's thread
    for envelope in (by_bot, by_itself, elsewhere):
        assert (await sender.event(envelope)).status == 200
    await http_bot.tasks.wait_idle(30)
    assert len(await turns(engine)) == 1
    assert fake_slack.calls[before:] == []  # not a word, not even an error
    journaled = await rows(engine, "SELECT kind FROM inbound_events ORDER BY id")
    assert journaled == [("mention",)]  # nothing of theirs was even stored


async def test_a_direct_message_starts_a_request_and_its_thread_takes_turns(http_bot, sender, fake_slack):
    dm = "D0ALICEDM"
    assert (await sender.event(recorded.direct_message("bamboo toothbrush that lasts a year n: 1",
                                                       channel=dm))).status == 200
    await http_bot.tasks.wait_idle(60)
    header = fake_slack.posted(dm)[0]
    [variant] = variants_in(fake_slack, header["ts"])
    await sender.event(recorded.direct_message("again", channel=dm, thread_ts=header["ts"]))
    await http_bot.tasks.wait_idle(60)
    assert errors(fake_slack) == []
    again = [m for m in variants_in(fake_slack, header["ts"]) if number(m) > number(variant)]
    assert len(again) == 1  # again: as many as the request asked for
    assert (await turns(http_bot.engine))[-1]["kind"] == "again"


async def test_a_turn_naming_a_variant_of_another_thread_gets_one_sentence(http_bot, sender, fake_slack):
    header, _ = await start_by_mention(sender, http_bot, fake_slack)
    await sender.event(recorded.thread_reply("#99 shorter", header["ts"]))
    await http_bot.tasks.wait_idle(30)
    (text,) = errors(fake_slack)
    assert text.startswith("There is no #99 in this thread; the variants here are #1, #2.")


async def test_another_apps_bot_that_mentions_copybot_gets_no_answer(http_bot, sender, fake_slack):
    # A bot that answers its mentions would loop with copybot: its mention is acknowledged and
    # dropped, never journaled, never answered, never pinged back.
    for bot_fields in ({"bot_id": "B0OTHER", "bot_profile": {"name": "otherbot"}},
                       {"subtype": "bot_message", "bot_id": "B0OTHER"}):
        envelope = recorded.mention("2 instagram captions for our cold brew")
        envelope["event"].update(bot_fields)
        assert (await sender.event(envelope)).status == 200
    await http_bot.tasks.wait_idle(60)
    assert fake_slack.posted() == []
    assert await rows(http_bot.engine, "SELECT count(*) FROM inbound_events") == [(0,)]
    assert await turns(http_bot.engine) == []
    # A person's mention right after is answered as usual.
    header, variants = await start_by_mention(sender, http_bot, fake_slack)
    assert len(variants) == 2
