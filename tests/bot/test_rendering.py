"""Engine results rendered by the adapters: review summaries and weekly reports, per platform.

Summaries are built by hand (no model needed); what matters is what a person reads in the chat.
"""

from __future__ import annotations

import pytest

from bot.console import render_reply
from bot.discord_adapter.render import MARKUP as DISCORD
from bot.discord_adapter.render import MESSAGE_LIMIT as DISCORD_LIMIT
from bot.dispatch import Reply
from bot.rendering.markup import PLAIN
from bot.rendering.reviews import summary_text
from bot.slack_adapter.render import MARKUP as SLACK
from bot.slack_adapter.render import MESSAGE_LIMIT as SLACK_LIMIT
from engine import CopyResult, Understood, Variant
from engine.reviews import Theme
from tests.engine.reviews.helpers import make_summary


@pytest.mark.parametrize("limit", [SLACK_LIMIT, DISCORD_LIMIT, 700, 300])
@pytest.mark.parametrize("markup", [PLAIN, SLACK, DISCORD], ids=["plain", "slack", "discord"])
def test_rendered_summary_fits_the_chat_limit(limit, markup):
    summary = make_summary(quote="A long review sentence that goes on and on about the battery. ")
    text = summary_text(summary, limit, markup)
    assert len(text) <= limit
    assert "300 reviews" in text
    assert "Positive 33%" in text and "Negative 33%" in text


def test_rendered_summary_shows_what_a_marketer_needs():
    text = summary_text(make_summary(), SLACK_LIMIT, SLACK)
    assert text.startswith("*Review sentiment — 300 reviews (shop-export.csv)*")
    assert "Net score 0" in text and "average rating 3.4 / 5" in text
    assert "*Praised*" in text and "1. battery life 0 — 40 mentions, " in text
    assert "*Complaints*" in text and "“The strap snapped after a week.”" in text
    assert "Trend by month: improving" in text and "2025-12" in text
    assert "100 were skipped" in text


def test_discord_rendering_drops_detail_before_cutting():
    text = summary_text(make_summary(quote="word " * 60), DISCORD_LIMIT, DISCORD)
    assert len(text) <= DISCORD_LIMIT
    assert "**Praised**" in text and "**Complaints**" in text
    assert not text.endswith("…") or text.count("\n") > 5


def test_review_text_cannot_ping_or_inject_markup():
    summary = make_summary(n=3)
    summary.praise = [Theme(label="price", mentions=2, quote="@everyone <!channel> *great* price", line=1)]
    slack = summary_text(summary, SLACK_LIMIT, SLACK)
    assert "<!channel>" not in slack and "&lt;!channel&gt;" in slack
    assert "@everyone" not in slack
    discord = summary_text(summary, DISCORD_LIMIT, DISCORD)
    assert "@everyone" not in discord and "\\*great\\*" in discord


def test_a_small_batch_lists_each_review():
    summary = make_summary(n=1)
    summary.praise, summary.complaints, summary.trend, summary.notes = [], [], [], []
    text = summary_text(summary, DISCORD_LIMIT, PLAIN)
    assert "1 review (" in text and "• positive (90% sure): “Review 0 about the battery and the strap”" in text


def test_the_console_shows_what_the_brief_was_read_as_and_the_shortfall():
    result = CopyResult(1, [Variant(5, "Hoodie copy", 1)], "m", requested=3,
                        understood=Understood("卫衣", False, ("宽松", "宝蓝色")),
                        shortfall="did not name the product")
    text = render_reply(Reply(copy=result))
    assert text.splitlines()[0] == "Read as: 卫衣 — 宽松 · 宝蓝色"
    assert "  #5  Hoodie copy" in text
    assert "(only 1 of 3 variants were good enough to show; the others did not name the product)" in text
