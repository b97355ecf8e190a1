"""The shared command grammar: what people type becomes a command, or one clear sentence."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.commands import (
    CopyCommand,
    FeedbackCommand,
    HelpCommand,
    ModelsCommand,
    ReportCommand,
    ReviewsCommand,
    SettingsCommand,
    parse_command,
    parse_line,
)
from engine import UserError, Verdict


def test_copy_with_every_option():
    command = parse_line("/copy bamboo toothbrush that lasts a year tone: playful audience: students "
                         "channel: email subject length: short n: 5")
    assert isinstance(command, CopyCommand)
    request = command.request
    assert request.product == "bamboo toothbrush that lasts a year"
    assert (request.tone, request.audience, request.ad_channel, request.length, request.n) == (
        "playful", "students", "email subject", "short", 5)


def test_copy_defaults_to_three_variants_and_no_options():
    request = parse_line("/copy  organic cold brew coffee ").request
    assert request.product == "organic cold brew coffee"
    assert request.n == 3 and request.tone is None and request.ad_channel is None


def test_options_are_case_insensitive_and_may_omit_the_space():
    request = parse_command("copy", "running shoes TONE:bold N:2").request
    assert request.tone == "bold" and request.n == 2


def test_links_are_not_options():
    request = parse_command("copy", "our new app, see https://example.com/app tone: calm").request
    assert request.product == "our new app, see https://example.com/app"
    assert request.tone == "calm"


def test_quoted_description_may_contain_colons():
    request = parse_command("copy", '"Note: ships free in 24h" n: 2').request
    assert request.product == "Note: ships free in 24h"
    assert request.n == 2


@pytest.mark.parametrize("args, expected", [
    ("shoes colour: red", "Unknown option colour:"),
    ("shoes tone: fun tone: calm", "given twice"),
    ("shoes n: three", "n: must be a whole number from 1 to 10"),
    ("shoes n: -1", "n: must be a whole number from 1 to 10"),
])
def test_bad_copy_options_get_one_clear_sentence(args, expected):
    with pytest.raises(UserError) as error:
        parse_command("copy", args)
    assert expected in str(error.value)
    assert str(error.value).count(". ") <= 1  # one sentence, not a lecture


def test_invalid_utf8_is_refused_clearly():
    with pytest.raises(UserError, match="not valid UTF-8"):
        parse_line(b"/copy caf\xe9 latte")


def test_oversized_message_is_refused_before_any_work():
    with pytest.raises(UserError, match="50,0"):
        parse_command("copy", "x" * 50_000)


@pytest.mark.parametrize("line, expected", [
    ("/approve 12", FeedbackCommand(12, Verdict.APPROVE)),
    ("/reject #7", FeedbackCommand(7, Verdict.REJECT)),
    ("/withdraw 3", FeedbackCommand(3, None)),
    ("/help", HelpCommand()),
    ("/help copy", HelpCommand()),
    ("/settings", SettingsCommand()),
    ("/settings brand_voice: Warm, direct, no jargon", SettingsCommand("brand_voice", "Warm, direct, no jargon")),
    ("/settings reset brand_voice", SettingsCommand("brand_voice", None)),
    ("/report last", ReportCommand(last_week=True)),
    ("/models use v3", ModelsCommand("use", "v3")),
])
def test_other_commands(line, expected):
    assert parse_line(line) == expected


def test_reviews_take_options_on_the_first_line_only():
    command = parse_command("reviews", "column: comment\nGreat: fast shipping\nBad: broke in a week")
    assert command == ReviewsCommand(text="Great: fast shipping\nBad: broke in a week", column="comment")
    pasted = parse_command("reviews", "Love it: works great\nNope")
    assert pasted.text == "Love it: works great\nNope" and pasted.column is None


@pytest.mark.parametrize("line", ["copy shoes", "/dance", "/approve twelve", "/approve", "/report yesterday"])
def test_unknown_or_malformed_commands_say_what_is_allowed(line):
    with pytest.raises(UserError):
        parse_line(line)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=300), st.binary(max_size=300)))
def test_no_input_crashes_the_parser(raw):
    """Whatever arrives, the parser returns a command or raises UserError, never anything else."""
    for line in (raw, (b"/copy " + raw) if isinstance(raw, bytes) else "/copy " + raw):
        try:
            parse_line(line)
        except UserError as error:
            assert str(error)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=80)
       .filter(lambda s: ":" not in s and '"' not in s and "“" not in s and s.strip()))
def test_a_plain_description_survives_parsing(description):
    assert parse_command("copy", description).request.product == description.strip()


def test_a_pasted_review_list_may_start_on_the_next_line():
    command = parse_line("/reviews\nGreat battery\nBroke in a week")
    assert command == ReviewsCommand(text="Great battery\nBroke in a week")


@pytest.mark.parametrize("text,product,tone", [
    ("Type: jacket, Material: denim, Fit: relaxed", "Type: jacket, Material: denim, Fit: relaxed", None),
    ("Kestrel trail headlamp: 450 lumens, 62 g tone: playful", "Kestrel trail headlamp: 450 lumens, 62 g",
     "playful"),
    ("类型：上衣，版型：宽松 tone: playful", "类型：上衣，版型：宽松", "playful"),
])
def test_a_briefs_own_colons_are_not_options(text, product, tone):
    request = parse_command("copy", text).request
    assert (request.product, request.tone) == (product, tone)


def test_a_lone_unknown_option_is_still_refused():
    with pytest.raises(UserError, match="Unknown option colour:"):
        parse_command("copy", "toothbrush colour: green")
