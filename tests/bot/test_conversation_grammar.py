"""What people write in a copybot thread, read as turns (bot/conversation.py): the name correction
that fixes a misread brief, beside the turns it must not swallow."""

from __future__ import annotations

import pytest

from bot.commands import parse_command
from bot.conversation import parse_turn
from engine import TurnKind, UserError

PRESETS = {"channel": ["instagram", "tweet", "linkedin"], "tone": ["playful"], "length": ["short"]}


@pytest.mark.parametrize("text,name", [
    ("the product is called Nordlys", "Nordlys"),
    ("No, it's called “Drift”", "Drift"),
    ("call it Penny & Post", "Penny & Post"),
    ("产品名是云朵枕", "云朵枕"),
    ("不对，名字叫「小方盒」", "小方盒"),
])
def test_a_reply_that_names_the_product_rewrites_under_that_name(text, name):
    turn = parse_turn(text, PRESETS)
    assert (turn.kind, turn.name, turn.change) == (TurnKind.REWRITE, name, "")


@pytest.mark.parametrize("text", ["#2 shorter", "make it sound like a product called Nordlys would", "again"])
def test_other_turns_set_no_name(text):
    assert parse_turn(text, PRESETS).name is None


def test_a_correction_without_a_name_says_what_to_write():
    with pytest.raises(UserError, match="Say what the product is called"):
        parse_turn("call it “”", PRESETS)


def test_the_name_option_of_copy():
    command = parse_command("copy", "oat milk cold brew in cans, 250ml name: Drift n: 2")
    assert (command.request.product, command.request.name, command.request.n) == (
        "oat milk cold brew in cans, 250ml", "Drift", 2)
