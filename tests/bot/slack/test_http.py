"""The real bolt app in HTTP mode against the fake Slack: signed requests in, Web API calls out."""

from __future__ import annotations

import time
from dataclasses import replace

from aiohttp import web

from engine import Announcement
from tests.bot.slack import recorded
from tests.bot.slack.fake_slack import SlackSender
from tests.bot.slack.helpers import copy, errors, feedback_rows, generations, react, rows, statuses, variant_messages
from tests.bot.slack.running import http_config, started

CHANNEL = recorded.CHANNEL


async def test_copy_is_acknowledged_before_the_model_finishes(gated, fake_slack):
    engine, backend = gated
    bot = await started(engine, http_config(fake_slack))
    try:
        async with SlackSender(f"http://127.0.0.1:{bot.port}/slack/events") as sender:
            fields = recorded.slash("bamboo toothbrush tone: playful n: 3",
                                    response_url=fake_slack.response_url("c1"))
            answer = await sender.command(fields)
            # The model is held at its gate, yet Slack already has its 200, and the person the note.
            assert answer.status == 200
            await fake_slack.wait_for(lambda: fake_slack.ephemeral() == ["Writing 3 variants…"])
            assert fake_slack.posted() == []
            assert len(bot.tasks) == 1
            backend.open()
            await bot.tasks.wait_idle(60)
    finally:
        await bot.stop()

    posted = fake_slack.posted(CHANNEL)
    assert len(posted) == 4  # a header, then one message per variant
    header = posted[0]["text"]
    assert header.startswith("<@U0ALICE> asked for copy: *bamboo toothbrush* (tone: playful)")
    assert ":white_check_mark:" in header and ":x:" in header
    variants = variant_messages(posted[1:])
    assert len(variants) == 3
    # Each message's ts is stored against its own variant, in this workspace and channel.
    for variant_id, ts in variants:
        assert await engine.store.variant_for_message("slack:T0ACME01", CHANNEL, ts) == variant_id
    assert await generations(engine) == [("slack:T0ACME01", CHANNEL, "U0ALICE")]
    assert errors(fake_slack) == []


async def test_wrongly_signed_or_stale_requests_are_refused(http_bot, sender, fake_slack):
    fields = recorded.slash("bamboo toothbrush", response_url=fake_slack.response_url("bad"))
    forged = await sender.command(fields, secret="not-the-signing-secret")
    stale = await sender.command(fields, timestamp=int(time.time()) - 600)
    assert (forged.status, stale.status) == (401, 401)
    event = await sender.event(recorded.reaction("+1", "1700000002.000002"),
                               secret="not-the-signing-secret")
    assert event.status == 401
    await http_bot.tasks.wait_idle(10)
    assert [call.method for call in fake_slack.calls] == ["auth.test"]  # only the startup check
    assert fake_slack.responses == []
    assert await generations(http_bot.engine) == []


async def test_reaction_approves_exactly_that_variant(http_bot, sender, fake_slack):
    engine = http_bot.engine
    variants = await copy(sender, http_bot, fake_slack)
    (first, _), (second, second_ts), (third, _) = variants

    added = await react(sender, fake_slack, "+1::skin-tone-3", second_ts)
    assert added.status == 200
    await http_bot.tasks.wait_idle(10)
    assert await statuses(engine) == {first: "pending", second: "approved", third: "pending"}

    # Someone else rejects it: one approval, one rejection.
    await react(sender, fake_slack, "x", second_ts, user="U0CARLA")
    await http_bot.tasks.wait_idle(10)
    assert (await statuses(engine))[second] == "pending"

    # Bruno takes his 👍 back: rejected.
    await react(sender, fake_slack, "+1::skin-tone-3", second_ts, added=False)
    await http_bot.tasks.wait_idle(10)
    assert (await statuses(engine))[second] == "rejected"
    assert errors(fake_slack) == []


async def test_removing_one_of_two_approving_reactions_keeps_the_approval(http_bot, sender, fake_slack):
    engine = http_bot.engine
    [(variant, ts), *_] = await copy(sender, http_bot, fake_slack, "oat milk n: 1")
    for emoji in ("white_check_mark", "+1"):
        await react(sender, fake_slack, emoji, ts)
    await react(sender, fake_slack, "+1", ts, added=False)
    await http_bot.tasks.wait_idle(10)
    assert (await statuses(engine))[variant] == "approved"  # ✅ is still on the message

    await react(sender, fake_slack, "white_check_mark", ts, added=False)
    await http_bot.tasks.wait_idle(10)
    assert (await statuses(engine))[variant] == "pending"


async def test_retried_events_are_handled_once(http_bot, sender, fake_slack):
    engine = http_bot.engine
    [(variant, ts), *_] = await copy(sender, http_bot, fake_slack, "oat milk n: 1")
    approve = recorded.reaction("white_check_mark", ts)
    fake_slack.react(CHANNEL, ts, "white_check_mark", "U0BRUNO")
    await sender.event(approve)
    await react(sender, fake_slack, "white_check_mark", ts, added=False)
    await http_bot.tasks.wait_idle(10)
    # Slack resends the first event (it thought our answer was lost): it must not re-approve.
    retry = await sender.event(approve, retry_num=1)
    assert retry.status == 200
    await http_bot.tasks.wait_idle(10)
    assert (await statuses(engine))[variant] == "pending"

    # A retried mention with a file is answered once.
    url = fake_slack.add_file("reviews.csv", b"review\nLove it\nBroke in a week\n")
    mention = recorded.mention_with_file(url)
    for retry_num in (None, 1, 2):
        assert (await sender.event(mention, retry_num=retry_num)).status == 200
    await http_bot.tasks.wait_idle(10)
    answers = (fake_slack.calls_to("chat.postEphemeral")
               + [call for call in fake_slack.calls_to("chat.postMessage")
                  if call.params.get("thread_ts") == mention["event"]["ts"]])
    assert len(answers) == 1


async def test_rate_limited_post_is_retried_after_retry_after(http_bot, sender, fake_slack):
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=0)
    variants = await copy(sender, http_bot, fake_slack, "oat milk n: 2")
    assert variants  # the header went through after the 429, and so did every variant
    statuses_seen = [call.status for call in fake_slack.calls_to("chat.postMessage")]
    assert statuses_seen == [429] + [200] * (1 + len(variants))
    assert errors(fake_slack) == []


async def test_reactions_elsewhere_are_ignored(http_bot, sender, fake_slack):
    engine = http_bot.engine
    [(variant, ts), *_] = await copy(sender, http_bot, fake_slack, "oat milk n: 1")
    calls_before = len(fake_slack.calls)
    someone_elses_message = "1699999999.000100"
    await react(sender, fake_slack, "white_check_mark", someone_elses_message)
    await react(sender, fake_slack, "white_check_mark", ts, channel="C0RANDOM")
    await react(sender, fake_slack, "tada", ts)  # not a verdict emoji
    await sender.event(recorded.load("event_reaction_added_file"))
    await http_bot.tasks.wait_idle(10)
    assert await feedback_rows(engine) == 0
    assert (await statuses(engine))[variant] == "pending"
    assert len(fake_slack.calls) == calls_before  # nothing said, nothing looked up


async def test_workspaces_do_not_see_each_others_variants(http_bot, sender, fake_slack):
    engine = http_bot.engine
    acme = await copy(sender, http_bot, fake_slack, "oat milk n: 1", channel="C0SHARED")
    other = await copy(sender, http_bot, fake_slack, "oat milk n: 1", channel="C0SHARED",
                       team="T0OTHER02")
    [(acme_variant, acme_ts)], [(other_variant, other_ts)] = acme, other
    assert await generations(engine) == [("slack:T0ACME01", "C0SHARED", "U0ALICE"),
                                         ("slack:T0OTHER02", "C0SHARED", "U0ALICE")]

    # A reaction from the other team naming Acme's message finds nothing there.
    await react(sender, fake_slack, "+1", acme_ts, channel="C0SHARED", team="T0OTHER02")
    await react(sender, fake_slack, "+1", other_ts, channel="C0SHARED", team="T0OTHER02")
    await http_bot.tasks.wait_idle(10)
    assert await statuses(engine) == {acme_variant: "pending", other_variant: "approved"}

    # Emoji settings are per workspace too.
    settings = recorded.slash("approve_emoji: rocket", command="/copybot",
                              response_url=fake_slack.response_url("settings"), user="UADMIN")
    settings["text"] = "settings approve_emoji: rocket"
    assert (await sender.command(settings)).status == 200
    await http_bot.tasks.wait_idle(10)
    await react(sender, fake_slack, "rocket", acme_ts, channel="C0SHARED")
    await react(sender, fake_slack, "+1", other_ts, channel="C0SHARED", team="T0OTHER02",
                user="U0CARLA")
    await react(sender, fake_slack, "rocket", other_ts, channel="C0SHARED", team="T0OTHER02",
                user="U0DAVE")
    await http_bot.tasks.wait_idle(10)
    rows = await statuses(engine)
    assert rows[acme_variant] == "approved"
    assert await feedback_rows(engine) == 3  # Bruno +1 (other), rocket (acme), Carla +1 (other)


async def test_a_bad_command_is_answered_in_the_ack_and_nothing_runs(http_bot, sender, fake_slack):
    fields = recorded.slash("toothbrush colour: green", response_url=fake_slack.response_url("x"))
    answer = await sender.command(fields)
    assert answer.status == 200
    assert answer.message.startswith("Unknown option colour:;")
    await http_bot.tasks.wait_idle(10)
    assert await generations(http_bot.engine) == []
    assert fake_slack.posted() == []


async def test_a_channel_without_the_bot_gets_one_private_hint(http_bot, sender, fake_slack):
    fake_slack.fail_next("chat.postMessage", error="not_in_channel")
    await copy(sender, http_bot, fake_slack, "oat milk n: 1")
    assert fake_slack.posted() == []
    assert errors(fake_slack) == [
        "I am not in this channel yet; add me with /invite @copybot and try again."]


async def test_unexpected_failures_never_show_their_text(http_bot, sender, fake_slack, caplog):
    fake_slack.fail_next("chat.postMessage", error="internal_secret_detail")
    await copy(sender, http_bot, fake_slack, "oat milk n: 1")
    [text] = errors(fake_slack)
    assert text.startswith("Sorry, something went wrong on our side")
    assert "internal_secret_detail" not in text
    assert "internal_secret_detail" in caplog.text  # it is in the log, with its traceback


async def test_reviews_summary_arrives_escaped_exactly_once(http_bot, sender, fake_slack):
    reviews = ("Fast & cheap, arrived the next day, love it\n"
               "Broke after a week <!channel> avoid > returns were a pain")
    body = recorded.load("slash_command_reviews") | {"response_url": fake_slack.response_url("rv"),
                                                      "text": reviews}
    answer = await sender.command(body)
    assert answer.message == "Reading the reviews…"
    await http_bot.tasks.wait_idle(60)
    [summary] = [message["text"] for message in fake_slack.posted(CHANNEL)]
    lines = summary.splitlines()
    assert lines[0] == "*Review sentiment — 2 reviews (pasted text)*"
    # Each review is quoted as a person in Slack will read it: escaped once, never twice.
    [fast] = [line for line in lines if "Fast" in line]
    assert fast.endswith("“Fast &amp; cheap, arrived the next day, love it”")
    [broke] = [line for line in lines if "Broke" in line]
    assert broke.endswith("“Broke after a week &lt;!channel&gt; avoid &gt; returns were a pain”")
    assert "&amp;amp;" not in summary and "&amp;lt;" not in summary and "&amp;gt;" not in summary
    assert errors(fake_slack) == []


async def test_help_comes_back_privately_and_readable(http_bot, sender, fake_slack):
    fields = recorded.slash("help", command="/copybot", response_url=fake_slack.response_url("h"))
    await sender.command(fields)
    await http_bot.tasks.wait_idle(10)
    [text] = fake_slack.ephemeral()
    assert "/copy &lt;product description&gt;" in text
    assert fake_slack.posted() == []


async def test_file_mention_downloads_with_the_bot_token(http_bot, sender, fake_slack):
    url = fake_slack.add_file("reviews.csv", b"review\nLove it\nBroke in a week\n")
    await sender.event(recorded.mention_with_file(url))
    await http_bot.tasks.wait_idle(10)
    # The file was fetched with the bot token and read: the channel gets its summary, nothing else.
    assert fake_slack.ephemeral() == []
    [summary] = [m["text"] for m in fake_slack.posted(CHANNEL)]
    lines = summary.splitlines()
    assert lines[0] == "*Review sentiment — 2 reviews (reviews-october.csv)*"
    assert any(line.endswith("“Love it”") for line in lines)
    assert any(line.endswith("“Broke in a week”") for line in lines)

    foreign = recorded.mention_with_file("https://evil.example.com/reviews.csv")
    await sender.event(foreign)
    await http_bot.tasks.wait_idle(10)
    assert fake_slack.ephemeral()[-1].startswith("I could not download reviews-october.csv")


async def test_report_posts_its_text_with_the_chart(http_bot, sender, fake_slack):
    await copy(sender, http_bot, fake_slack, "oat milk n: 1")
    fields = recorded.slash("report", command="/copybot", response_url=fake_slack.response_url("rp"))
    await sender.command(fields)
    await http_bot.tasks.wait_idle(30)
    [chart] = fake_slack.shared(CHANNEL)
    assert chart["data"].startswith(b"\x89PNG")
    assert chart["comment"] and "<!" not in chart["comment"]
    assert errors(fake_slack) == []


async def test_engine_announcements_are_posted_to_the_named_channel(http_bot, fake_slack):
    text = "Weekly report: best copy by <@U0ALICE> <!channel>"
    announcement = Announcement("slack:T0ACME01", "<#C0REPORTS|reports>", text)
    assert await http_bot.engine.announce(announcement)
    [message] = fake_slack.posted("C0REPORTS")
    assert message["text"] == "Weekly report: best copy by <@U0ALICE> &lt;!channel&gt;"


async def test_an_expired_response_url_falls_back_to_an_ephemeral_post(http_bot, sender, fake_slack):
    fake_slack.expired.add("old")
    await sender.command(recorded.slash("help", command="/copybot",
                                        response_url=fake_slack.response_url("old")))
    await http_bot.tasks.wait_idle(10)
    [call] = fake_slack.calls_to("chat.postEphemeral")
    assert (call.params["channel"], call.params["user"]) == (CHANNEL, "U0ALICE")
    assert call.params["text"].startswith("/copy &lt;product description&gt;")


async def streamed_copy(engine, fake_slack, stream_interval: float) -> list[tuple[int, str]]:
    """One /copy of two variants through a bot that updates messages every ``stream_interval`` s."""
    bot = await started(engine, replace(http_config(fake_slack), stream_interval=stream_interval))
    try:
        async with SlackSender(f"http://127.0.0.1:{bot.port}/slack/events") as sender:
            return await copy(sender, bot, fake_slack, "oat milk barista edition n: 2")
    finally:
        await bot.stop()


async def test_copy_streams_into_its_messages_then_shows_the_final_text(engine, fake_slack):
    """Each variant message appears at the model's first text, is updated while it grows, and
    ends as the cleaned, numbered variant; spare candidates leave no message behind."""
    variants = await streamed_copy(engine, fake_slack, stream_interval=0)
    posted = fake_slack.posted(CHANNEL)
    assert len(posted) == 3 and len(variants) == 2  # header + 2 variants; no leftover preview
    header = fake_slack.shown(CHANNEL, posted[0]["ts"])
    assert header[0].endswith("Writing 2 variants…") and "React" in header[-1]
    # Posted at the first text, then updated while written (the random test model may end a
    # preview's first line early, so at least one of them), then the final text.
    assert max(len(fake_slack.shown(CHANNEL, ts)) for _, ts in variants) >= 3
    for variant_id, ts in variants:
        shown = fake_slack.shown(CHANNEL, ts)
        assert all(text.endswith("✍️") for text in shown[:-1])
        assert shown[-1].startswith(f"*#{variant_id}*") and "✍️" not in shown[-1]
        stored = (await rows(engine, "SELECT text FROM variants WHERE id = ?", variant_id))[0][0]
        assert shown[-1] == f"*#{variant_id}*  {stored}"


async def test_copy_updates_respect_the_per_message_interval(engine, fake_slack):
    # An interval longer than the whole generation: the previews are posted once and then only
    # the final text follows; no update in between.
    variants = await streamed_copy(engine, fake_slack, stream_interval=600)
    for _, ts in variants:
        assert len(fake_slack.shown(CHANNEL, ts)) == 2


async def test_a_failed_copy_leaves_no_preview_behind(engine, fake_slack):
    fake_slack.fail_next("chat.update", error="fatal_error", times=1000)  # every edit fails
    await streamed_copy(engine, fake_slack, stream_interval=0)
    # The final edit failed too: the previews were deleted, and the person was told privately.
    assert [m for m in fake_slack.posted(CHANNEL) if "✍️" in m["text"]] == []
    assert len(errors(fake_slack)) == 1
    # Nothing undelivered stays stored to be approved by number or trained on.
    assert await rows(engine, "SELECT COUNT(*) FROM variants") == [(0,)]
    assert await generations(engine) == []


async def test_the_bot_token_goes_only_to_slacks_file_origin(http_bot, sender, fake_slack):
    # Another server on this machine, one port over from the (fake) Slack API: same host name.
    seen: list[str | None] = []

    async def serve_file(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Authorization"))
        return web.Response(text="review\nLove it\n", content_type="text/csv")

    app = web.Application()
    app.router.add_get("/{name}", serve_file)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    other_port = runner.addresses[0][1]
    try:
        for url in (f"http://127.0.0.1:{other_port}/reviews.csv",  # same host, other port
                    f"https://127.0.0.1:{fake_slack.port}/files/reviews.csv",  # other scheme
                    "http://files.slack.com/files-pri/T1/reviews.csv",  # Slack's host, not https
                    "https://files.slack.com:8443/files-pri/T1/reviews.csv"):  # Slack's host, other port
            await sender.event(recorded.mention_with_file(url))
            await http_bot.tasks.wait_idle(10)
            assert fake_slack.ephemeral()[-1] == (
                "I could not download reviews-october.csv; share it again from Slack.")
    finally:
        await runner.cleanup()
    assert seen == []  # the other server never even heard from the bot
    assert fake_slack.posted() == []


async def test_approving_by_number_reaches_only_variants_of_this_channel_and_answers_privately(
        http_bot, sender, fake_slack):
    engine = http_bot.engine
    [(private_variant, _)] = await copy(sender, http_bot, fake_slack, "oat milk n: 1",
                                        channel="G0ALICEPRIVATE")  # Alice's private channel
    [(public_variant, _)] = await copy(sender, http_bot, fake_slack, "oat milk n: 1")
    posted_before = len(fake_slack.posted())

    async def verdict(text: str, channel: str, user: str) -> str:
        fields = recorded.slash(text, command="/copybot", channel=channel, user=user,
                                response_url=fake_slack.response_url(f"v{time.monotonic_ns()}"))
        assert (await sender.command(fields)).status == 200
        await http_bot.tasks.wait_idle(10)
        return fake_slack.ephemeral(None)[-1]

    # Bruno, in the public channel, names the number of a variant in Alice's private channel.
    answer = await verdict(f"approve {private_variant}", CHANNEL, "U0BRUNO")
    assert answer.startswith(f"There is no variant #{private_variant} in this channel")
    answer = await verdict(f"reject {private_variant}", "C0RANDOM", "U0BRUNO")
    assert answer.startswith(f"There is no variant #{private_variant} in this channel")
    assert (await statuses(engine))[private_variant] == "pending"

    # Where it was posted, and for the variant's own author anywhere, it works, privately.
    assert (await verdict(f"approve {public_variant}", CHANNEL, "U0BRUNO")).startswith(
        f"Approved #{public_variant}; it is now approved")
    assert (await verdict(f"approve {private_variant}", "C0RANDOM", "U0ALICE")).startswith(
        f"Approved #{private_variant}; it is now approved")
    assert await statuses(engine) == {private_variant: "approved", public_variant: "approved"}
    assert len(fake_slack.posted()) == posted_before  # nothing was said in any channel


async def test_the_style_guide_is_set_by_an_admin_and_refused_for_anyone_else(http_bot, sender, fake_slack):
    def settings_command(text: str, user: str) -> dict:
        fields = recorded.slash(text, command="/copybot", response_url=fake_slack.response_url("settings"),
                                user=user)
        fields["text"] = f"settings {text}"
        return fields

    assert (await sender.command(settings_command("banned_words: cheap, 便宜", "U0ALICE"))).status == 200
    await http_bot.tasks.wait_idle(10)
    assert errors(fake_slack)[-1] == "Only workspace admins can change settings; ask one to do it."
    stored = await http_bot.engine.store.settings("slack:T0ACME01")
    assert "banned_words" not in stored

    assert (await sender.command(settings_command("banned_words: cheap, 便宜", "UADMIN"))).status == 200
    await http_bot.tasks.wait_idle(10)
    assert (await http_bot.engine.store.settings("slack:T0ACME01"))["banned_words"] == "cheap, 便宜"
