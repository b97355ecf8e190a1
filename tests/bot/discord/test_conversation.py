"""Talking to copybot on Discord, against the fake Discord: a mention starts a request in a thread
made on its header, a mention in that thread is a turn with the thread as context, and messages
by bots (or without a mention, lacking the message_content intent) are never answered."""

from __future__ import annotations

from tests.bot.discord.helpers import VARIANT_ID, generations, number, variants


async def test_a_mention_starts_a_thread_and_a_mention_in_it_is_a_turn(bot, fake, engine):
    bot_id = fake.identity["id"]
    asked = fake.message_event(f"<@{bot_id}> 2 instagram captions for our cold brew, playful")
    await fake.dispatch("MESSAGE_CREATE", asked)
    await fake.wait_for(lambda: fake.threads and len(variants(fake, next(iter(fake.threads)))) == 2
                        and all(len(fake.seeded(v["id"])) == 2
                                for v in variants(fake, next(iter(fake.threads)))))
    (thread_id, thread), = fake.threads.items()
    header = fake.messages[thread_id]  # the thread is made on the header, a reply to the ask
    assert str(header["message_reference"]["message_id"]) == asked["id"]
    assert "our cold brew" in header["content"] and thread["parent_id"] == asked["channel_id"]
    (request, _, _, conversation), = await generations(engine)
    assert (request["n"], request["ad_channel"], request["tone"]) == (2, "instagram", "playful")
    first, second = variants(fake, thread_id)

    # A bot's message, and (without message_content) a person's message that does not mention
    # copybot, are not answered.
    other_bot = dict(asked["author"], id="1187366510038618999", bot=True)
    await fake.dispatch("MESSAGE_CREATE", fake.message_event(
        f"<@{bot_id}> #{number(first)} shorter", channel_id=thread_id, author=other_bot))
    await fake.dispatch("MESSAGE_CREATE", fake.message_event(
        f"#{number(first)} shorter", channel_id=thread_id, mentions_bot=False))
    turn = fake.message_event(f"<@{bot_id}> #{number(second)} shorter", channel_id=thread_id)
    await fake.dispatch("MESSAGE_CREATE", turn)
    await fake.wait_for(lambda: len(variants(fake, thread_id)) > 2)
    await fake.wait_for(lambda: all(VARIANT_ID.match(m["content"]) for m in variants(fake, thread_id)))
    found = await generations(engine)
    assert len(found) == 2  # one request, one turn: the two unanswered messages made none
    _, prompt, kind, turn_conversation = found[-1]
    assert (kind, turn_conversation) == ("rewrite", conversation)
    async with engine.store.db.execute("SELECT text FROM variants WHERE id = ?",
                                       (number(second),)) as cursor:
        (second_text,) = await cursor.fetchone()
    assert prompt[2] == {"role": "assistant", "content": second_text}
    assert "shorter" in prompt[-1]["content"] and "our cold brew" in prompt[1]["content"]
    new = [m for m in variants(fake, thread_id) if number(m) > number(second)]
    assert new and all(m["channel_id"] == thread_id for m in new)
