"""Replies rendered for Slack: escaping, splitting under the size limit, the how-to-react line."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.commands import parse_command
from bot.slack_adapter import render
from engine import WORKSPACE_SETTINGS, CopyRequest, CopyResult, Understood, Variant

DEFAULTS = {name: spec.default for name, spec in WORKSPACE_SETTINGS.items()}


@given(st.text(alphabet=st.sampled_from("ab \n"), max_size=400), st.integers(1, 40))
def test_split_keeps_every_character_and_respects_the_limit(text, limit):
    messages = render.split_text(text, limit)
    assert all(0 < len(message) <= limit for message in messages)
    # Only whitespace at a break may go; a word longer than the limit is cut, never dropped.
    assert "".join("".join(messages).split()) == "".join(text.split())
    if limit >= 2 and all(len(word) < limit for word in text.split()):
        assert " ".join(" ".join(messages).split()) == " ".join(text.split())


def test_long_reply_splits_at_lines_under_slack_limit():
    lines = [f"review {i}: " + "good value " * 30 for i in range(60)]  # ~20,000 characters
    messages = render.reply_texts("\n".join(lines))
    assert len(messages) > 4
    assert all(len(message) <= render.MESSAGE_LIMIT for message in messages)
    assert [line for message in messages for line in message.split("\n")] == lines


def test_model_output_cannot_ping_the_channel():
    text = render.variant_text(Variant(id=7, text="Big news <!channel> & <http://x.io|free>", position=1))
    assert "<!channel>" not in text and "<http" not in text
    assert text == "*#7*  Big news &lt;!channel&gt; &amp; &lt;http://x.io|free&gt;"


def test_header_names_the_requester_and_the_configured_emoji():
    request = CopyRequest(product="bamboo  toothbrush", tone="playful", n=3)
    result = CopyResult(1, [Variant(1, "a", 1), Variant(2, "b", 2)], "tiny", requested=3)
    header = render.copy_header(result, request, "U0ALICE", DEFAULTS)
    assert header.startswith("<@U0ALICE> asked for copy: *bamboo toothbrush* (tone: playful)")
    assert "Only 2 of 3 variants" in header
    assert "React :white_check_mark: or :+1: to approve a variant, :x: or :-1: to reject it." in header
    custom = DEFAULTS | {"approve_emoji": "rocket,🚀", "reject_emoji": "no_entry"}
    assert "React :rocket: to approve a variant, :no_entry: to reject it." in render.copy_header(
        result, request, "U0ALICE", custom)


def test_header_says_what_the_brief_was_read_as_in_slack_markup():
    request = CopyRequest(product="Type: jacket, Material: denim <b>, Fit: relaxed", n=2)
    result = CopyResult(1, [Variant(1, "a", 1)], "tiny", requested=2,
                        understood=Understood("jacket", False, ("denim <b>", "relaxed")),
                        shortfall="promised offers the description does not make")
    header = render.copy_header(result, request, "U0ALICE", DEFAULTS)
    assert "Read as: *jacket* — denim &lt;b&gt; · relaxed" in header
    assert "Only 1 of 2 variants were good enough to show; the others promised offers" in header


def test_ack_note_only_where_nothing_else_will_say_it():
    # /copy's "Writing 3 variants…" comes from execute's progress, after the engine accepted it.
    assert render.ack_note(parse_command("copy", "toothbrush n: 1")) is None
    assert render.ack_note(parse_command("reviews", "great\nbad")) == "Reading the reviews…"
    assert render.ack_note(parse_command("settings", "")) is None


def test_replies_keep_user_mentions_but_not_broadcasts():
    [text] = render.reply_texts("Best copy by <@U0ALICE>: <!here> buy <http://x.io|now> & save")
    assert text == "Best copy by <@U0ALICE>: &lt;!here&gt; buy &lt;http://x.io|now&gt; &amp; save"
