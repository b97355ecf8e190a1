"""Inbound translation on recorded Discord payloads: raw interaction/reaction -> copybot terms."""

from __future__ import annotations

import json

import discord
import pytest

from bot.commands import CopyCommand, ReviewsCommand, SettingsCommand
from bot.discord_adapter import translate
from bot.flow.verdicts import verdict_for_emoji
from engine import WORKSPACE_SETTINGS, CopyRequest, UserError, Verdict
from tests.bot.discord.fake_discord import load_payload

DEFAULTS = {name: spec.default for name, spec in WORKSPACE_SETTINGS.items()}


def reaction_event(recorded: str) -> discord.RawReactionActionEvent:
    """Parsed by discord.py exactly as its gateway parser does (less the member cache)."""
    data = load_payload(recorded)
    kind = "REACTION_REMOVE" if "remove" in recorded else "REACTION_ADD"
    return discord.RawReactionActionEvent(data, discord.PartialEmoji.from_dict(data["emoji"]), kind)


def journaled_feedback(event: discord.RawReactionActionEvent, settings):
    """What the client does with a reaction: journal its record (JSON), later read its verdict."""
    return translate.feedback_from_record(json.loads(json.dumps(translate.reaction_record(event))), settings)


def test_copy_options_become_the_request_as_typed():
    invocation = translate.command_from_interaction(load_payload("interaction_copy")["data"])
    # The colon in the description is only a colon: options came typed, not as text.
    assert invocation == translate.Invocation(CopyCommand(CopyRequest(
        product="Bamboo toothbrush: lasts a year, compostable handle", tone="playful",
        ad_channel="instagram", n=2)))


def test_copy_language_choice_is_passed_on():
    data = load_payload("interaction_copy")["data"]
    data["options"].append({"name": "language", "type": 3, "value": "zh"})
    assert translate.command_from_interaction(data).command.request.language == "zh"


def test_copy_defaults_to_three_variants():
    data = load_payload("interaction_copy")["data"]
    data["options"] = [option for option in data["options"] if option["name"] == "product"]
    assert translate.command_from_interaction(data).command.request.n == 3


def test_reviews_attachment_is_referenced_for_download():
    invocation = translate.command_from_interaction(load_payload("interaction_reviews_file")["data"])
    assert invocation.command == ReviewsCommand(text="", column="review")
    assert invocation.attachment.filename == "reviews-june.csv"
    assert invocation.attachment.size == 1482
    assert invocation.attachment.url.startswith("https://cdn.discordapp.com/ephemeral-attachments/")


@pytest.mark.parametrize("change", [
    {"filename": "photo.png", "content_type": "image/png"},
    {"size": translate.MAX_REVIEW_FILE_BYTES + 1},
])
def test_review_files_that_cannot_be_reviews_are_refused_before_download(change):
    data = load_payload("interaction_reviews_file")["data"]
    (attachment,) = data["resolved"]["attachments"].values()
    attachment.update(change)
    with pytest.raises(UserError):
        translate.command_from_interaction(data)


def test_text_commands_use_the_shared_grammar():
    invocation = translate.command_from_interaction(load_payload("interaction_settings")["data"])
    assert invocation.command == SettingsCommand("brand_voice", "warm, plain-spoken, no exclamation marks")
    assert translate.command_from_interaction({"name": "report", "options": []}).command.last_week is False


def test_form_text_keeps_one_review_per_line():
    form = load_payload("interaction_reviews_form_submit")["data"]
    text = form["components"][0]["components"][0]["value"]
    assert translate.reviews_from_form(text).command.text.splitlines() == [
        "Love it, my teeth feel cleaner", "Bristles fell out after a week", "Arrived on time"]


def test_a_guild_is_the_workspace_and_ids_are_strings():
    recorded = load_payload("interaction_copy")
    origin = translate.origin_for(int(recorded["guild_id"]), int(recorded["channel_id"]),
                                  int(recorded["member"]["user"]["id"]), ["1187366105740828732"])
    assert origin.workspace_key == f"discord:{recorded['guild_id']}"
    assert (origin.channel, origin.user, origin.roles) == (
        recorded["channel_id"], recorded["member"]["user"]["id"], ("1187366105740828732",))


@pytest.mark.parametrize("recorded, verdict, added", [
    ("reaction_add_check", Verdict.APPROVE, True),
    ("reaction_add_thumbs_skin_tone", Verdict.APPROVE, True),
    ("reaction_add_thumbs_down", Verdict.REJECT, True),
    ("reaction_remove_check", Verdict.APPROVE, False),
])
def test_reactions_become_feedback_on_their_message(recorded, verdict, added):
    feedback = journaled_feedback(reaction_event(recorded), DEFAULTS)
    data = load_payload(recorded)
    assert (feedback.verdict, feedback.added, feedback.message) == (verdict, added, data["message_id"])
    assert feedback.origin.workspace_key == f"discord:{data['guild_id']}"
    assert (feedback.origin.channel, feedback.origin.user) == (data["channel_id"], data["user_id"])


def test_other_emoji_are_no_verdict():
    assert journaled_feedback(reaction_event("reaction_add_heart"), DEFAULTS) is None
    assert journaled_feedback(reaction_event("reaction_add_custom"), DEFAULTS) is None


def test_a_workspace_may_choose_its_own_emoji():
    settings = dict(DEFAULTS, approve_emoji="rocket,shipit", reject_emoji="-1")
    assert verdict_for_emoji("🚀", settings) is Verdict.APPROVE
    assert journaled_feedback(reaction_event("reaction_add_custom"), settings).verdict \
        is Verdict.APPROVE  # the server's own :shipit:
    assert verdict_for_emoji("✅", settings) is None  # no longer an approval
    assert verdict_for_emoji("👎🏿", settings) is Verdict.REJECT
    assert verdict_for_emoji(None, settings) is None  # a deleted custom emoji


def test_emoji_configured_both_ways_means_nothing():
    # The same rule as Slack's (bot.flow.verdicts): an emoji in both lists gives no verdict.
    settings = dict(DEFAULTS, approve_emoji="white_check_mark,+1", reject_emoji="white_check_mark,x")
    assert journaled_feedback(reaction_event("reaction_add_check"), settings) is None
    assert verdict_for_emoji("✅", settings) is None
    assert journaled_feedback(reaction_event("reaction_add_thumbs_skin_tone"), settings).verdict is Verdict.APPROVE


def test_autocomplete_puts_names_that_start_with_the_typed_text_first():
    tones = ["bold", "playful", "calm", "urgent", "luxurious"]
    assert translate.matching_presets(tones, "L") == ["luxurious", "bold", "playful", "calm"]
    assert translate.matching_presets(tones, "") == tones
    many = [f"tone {i}" for i in range(40)]
    assert len(translate.matching_presets(many, "tone")) == translate.AUTOCOMPLETE_LIMIT


def test_a_button_press_names_its_action_variant_message_and_presser():
    payload = load_payload("interaction_button")
    press = translate.button_press(payload)
    assert press == translate.ButtonPress(
        origin=translate.origin_for(1187365430218760262, 1187365430218760265, 1097200143112716310,
                                    ["1187366105740828732"]),
        guild_id=1187365430218760262, interaction_id="1252031187760218142", action="approve",
        variant_id=7, message="1252030652331184229", content=payload["message"]["content"],
        by_bot=False)
    assert translate.button_id(press.action, press.variant_id) == payload["data"]["custom_id"]


def test_a_button_press_in_a_dm_is_the_dm_channels_workspace():
    payload = load_payload("interaction_button")
    payload["user"] = payload.pop("member")["user"]
    del payload["guild_id"]
    press = translate.button_press(payload)
    assert (press.origin.workspace, press.origin.channel, press.guild_id) == (
        payload["channel_id"], payload["channel_id"], None)


def test_a_bots_press_is_marked_and_other_interactions_are_not_presses():
    payload = load_payload("interaction_button")
    payload["member"]["user"]["bot"] = True
    assert translate.button_press(payload).by_bot
    for custom_id in ("copybot:publish:7", "copybot:approve:", "other:approve:7", "copybot:approve:7x"):
        other = load_payload("interaction_button")
        other["data"]["custom_id"] = custom_id
        assert translate.button_press(other) is None
    assert translate.button_press(load_payload("interaction_copy")) is None  # a slash command
    select = load_payload("interaction_button")
    select["data"]["component_type"] = 3  # a select menu, not a button
    assert translate.button_press(select) is None
