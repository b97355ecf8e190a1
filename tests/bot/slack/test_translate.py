"""Inbound translation on recorded Slack payloads: pure functions, no network."""

from __future__ import annotations

import copy

import pytest

from bot.commands import CopyCommand, ReviewsCommand, SettingsCommand
from bot.flow.verdicts import verdict_for_emoji
from bot.slack_adapter import translate
from engine import WORKSPACE_SETTINGS, Origin, UserError, Verdict
from tests.bot.slack.recorded import load

DEFAULTS = {name: spec.default for name, spec in WORKSPACE_SETTINGS.items()}


def test_slash_copy_becomes_origin_and_copy_command():
    request = translate.slash_command(load("slash_command_copy"))
    assert request.origin == Origin("slack", "T0ACME01", "C0MARKETING", "U0ALICE")
    assert request.origin.workspace_key == "slack:T0ACME01"
    assert isinstance(request.command, CopyCommand)
    copy = request.command.request
    assert (copy.product, copy.tone, copy.ad_channel, copy.n) == (
        "bamboo toothbrush that lasts a year", "playful", "instagram", 3)


def test_slash_reviews_keeps_every_pasted_line():
    request = translate.slash_command(load("slash_command_reviews"))
    assert isinstance(request.command, ReviewsCommand)
    assert request.command.text.splitlines() == [
        "Love it, the bristles are soft and it really lasts.",
        "Handle cracked after two weeks, disappointed.",
        "Okay for the price.",
    ]


def test_umbrella_command_reaches_the_rest_of_the_grammar():
    request = translate.slash_command(load("slash_command_copybot_settings"))
    assert request.command == SettingsCommand("brand_voice", "warm, plain words, no exclamation marks")
    bare = load("slash_command_copybot_settings") | {"text": ""}
    assert type(translate.slash_command(bare).command).__name__ == "HelpCommand"


def test_bad_slash_command_raises_one_sentence():
    body = load("slash_command_copy") | {"text": "toothbrush colour: green"}
    with pytest.raises(UserError, match="Unknown option colour:"):
        translate.slash_command(body)


@pytest.mark.parametrize("emoji, verdict", [
    ("white_check_mark", Verdict.APPROVE),
    ("+1", Verdict.APPROVE),
    ("+1::skin-tone-3", Verdict.APPROVE),
    ("thumbsup", Verdict.APPROVE),
    ("x", Verdict.REJECT),
    ("-1::skin-tone-6", Verdict.REJECT),
    ("thumbsdown", Verdict.REJECT),
    ("tada", None),
    ("heavy_check_mark", None),
])
def test_reaction_names_map_to_verdicts_under_default_settings(emoji, verdict):
    assert verdict_for_emoji(emoji, DEFAULTS) is verdict


def test_unicode_settings_match_slack_reaction_names():
    settings = DEFAULTS | {"approve_emoji": "🚀,👍🏽", "reject_emoji": "❌"}
    assert verdict_for_emoji("rocket", settings) is Verdict.APPROVE
    assert verdict_for_emoji("+1", settings) is Verdict.APPROVE
    assert verdict_for_emoji("x", settings) is Verdict.REJECT
    assert verdict_for_emoji("white_check_mark", settings) is None


def test_emoji_configured_both_ways_means_nothing():
    settings = DEFAULTS | {"approve_emoji": "eyes,+1", "reject_emoji": "eyes,x"}
    assert verdict_for_emoji("eyes", settings) is None
    assert verdict_for_emoji("+1", settings) is Verdict.APPROVE


def reaction_feedback(body, settings):
    """What the app does with a reaction envelope: the reaction it journals, then its verdict."""
    event = translate.reaction(body)
    return None if event is None else translate.feedback(event, settings)


def test_reaction_added_becomes_feedback_on_that_message():
    feedback = reaction_feedback(load("event_reaction_added"), DEFAULTS)
    assert feedback is not None
    assert feedback.origin == Origin("slack", "T0ACME01", "C0MARKETING", "U0BRUNO")
    assert (feedback.verdict, feedback.added, feedback.message, feedback.variant_id) == (
        Verdict.APPROVE, True, "1700000002.000002", None)


def test_reaction_removed_withdraws():
    feedback = reaction_feedback(load("event_reaction_removed"), DEFAULTS)
    assert feedback is not None and feedback.added is False and feedback.verdict is Verdict.APPROVE


def test_reaction_on_a_file_or_with_another_emoji_is_not_feedback():
    assert reaction_feedback(load("event_reaction_added_file"), DEFAULTS) is None
    party = load("event_reaction_added")
    party["event"]["reaction"] = "tada"
    assert reaction_feedback(party, DEFAULTS) is None


def test_workspace_falls_back_to_authorizations():
    body = load("event_reaction_added")
    del body["team_id"], body["context_team_id"]
    assert translate.reaction(body).origin.workspace == "T0ACME01"


def test_holds_verdict_reads_reactions_get():
    answer = load("reactions_get")
    assert translate.holds_verdict(answer, "U0BRUNO", Verdict.APPROVE, DEFAULTS)
    assert translate.holds_verdict(answer, "U0CARLA", Verdict.APPROVE, DEFAULTS)  # skin tone
    assert not translate.holds_verdict(answer, "U0CARLA", Verdict.REJECT, DEFAULTS)
    assert not translate.holds_verdict(answer, "U0ERIN", Verdict.APPROVE, DEFAULTS)


def test_mention_with_a_file_asks_for_reviews():
    mention = translate.mention(load("event_app_mention_file"), "U0COPYBOT")
    assert mention.origin == Origin("slack", "T0ACME01", "C0MARKETING", "U0ALICE")
    assert mention.command == ReviewsCommand(text="", column="review")
    assert mention.file is not None
    assert (mention.file.name, mention.file.filetype, mention.file.size) == (
        "reviews-october.csv", "csv", 214)
    assert mention.file.url.endswith("/download/reviews-october.csv")
    assert mention.thread == "1700000300.000400"


def test_mention_without_reviews_is_copy_written_in_its_thread():
    mention = translate.mention(load("event_app_mention_text"), "U0COPYBOT")
    assert mention.command is None and mention.file is None
    assert mention.text == "can you help <@U0BRUNO> with the launch?"
    assert mention.in_thread == "1700000350.000900" and not mention.direct


def test_only_peoples_new_messages_in_dms_and_threads_are_read():
    reply = load("event_message_thread_reply")
    assert translate.message(reply, "U0COPYBOT").text == "#2 shorter"
    dm = translate.message(load("event_message_im"), "U0COPYBOT")
    assert dm.direct and dm.in_thread is None and dm.origin.channel == "D0ALICEDM"
    top_level = copy.deepcopy(reply)
    del top_level["event"]["thread_ts"]
    edited = copy.deepcopy(reply)
    edited["event"]["subtype"] = "message_changed"
    by_bot = copy.deepcopy(reply)
    by_bot["event"]["bot_id"] = "B0OTHER"
    by_itself = copy.deepcopy(reply)
    by_itself["event"]["user"] = "U0COPYBOT"
    mentioning = copy.deepcopy(reply)  # its app_mention event carries it
    mentioning["event"]["text"] = "<@U0COPYBOT> #2 shorter"
    for body in (top_level, edited, by_bot, by_itself, mentioning):
        assert translate.message(body, "U0COPYBOT") is None


def test_a_button_press_names_its_variant_message_and_thread():
    pressed = translate.button(load("block_actions_approve"))
    assert pressed.origin == Origin("slack", "T0ACME01", "C0MARKETING", "U0BRUNO")
    assert (pressed.action, pressed.variant_id, pressed.message, pressed.thread) == (
        "approve", 1, "1700000501.000001", "1700000500.000200")
    assert translate.action_id(load("block_actions_approve")).startswith("action:6134201337.")
    other = load("block_actions_approve")
    other["actions"][0]["action_id"] = "someone_elses_button"
    assert translate.button(other) is None


def test_mention_with_typed_reviews_keeps_other_mentions_and_answers_in_thread():
    body = load("event_app_mention_text")
    body["event"]["text"] = "<@U0COPYBOT> reviews\nGreat gift for <@U0BRUNO>!\nToo pricey."
    mention = translate.mention(body, "U0COPYBOT")
    assert mention.file is None
    assert mention.command.text.splitlines() == ["Great gift for <@U0BRUNO>!", "Too pricey."]
    assert mention.thread == "1700000350.000900"
