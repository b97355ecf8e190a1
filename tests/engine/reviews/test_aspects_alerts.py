"""Chinese reviews, clause-level aspects and week-over-week alerts, with the real bundled model."""

from __future__ import annotations

import datetime as dt

from engine.reviews import read_reviews
from engine.reviews.alerts import rising_negative_p
from engine.reviews.themes_zh import is_chinese

CHINESE = "\n".join([
    "电池太不耐用了，半天就没电。",
    "电池续航很差，一天要充三次。",
    "电池不耐用，客服也不理人。",
    "电池用了一个月就鼓包了，很失望。",
    "客服态度很差，问题一直没解决。",
    "客服一直不回复，太差了。",
    "屏幕很亮，看视频很舒服。",
    "屏幕显示清晰，颜色很鲜艳。",
    "屏幕很大，看着很舒服，很喜欢。",
    "物流很快，包装也很好。",
])


def test_a_chinese_file_has_chinese_themes_and_chinese_quotes(analyzer):
    summary = analyzer.summarize(read_reviews(None, CHINESE.encode("utf-8"), "评价.txt", None))
    assert summary.analysed == 10 and summary.skipped == 0
    assert summary.languages == {"Chinese": 10}
    complaints = {t.label: t for t in summary.complaints}
    praise = {t.label: t for t in summary.praise}
    assert "电池" in complaints and complaints["电池"].negative_share >= 0.75
    assert "屏幕" in praise and praise["屏幕"].positive >= 2
    for theme in summary.complaints + summary.praise:
        assert is_chinese(theme.label) and is_chinese(theme.quote)
        assert theme.quote.rstrip("…").lstrip("…") in CHINESE  # copied verbatim from a review


def test_a_review_praising_one_thing_and_criticising_another_counts_for_both(analyzer):
    text = "\n".join([
        "The battery is great but the screen cracked in a week.",
        "Battery life is amazing, two full days.",
        "Love the battery, it lasts forever.",
        "The screen scratched after one day.",
        "Screen is dim and hard to read outside.",
        "屏幕很清楚，但是电池不行。",
    ])
    summary = analyzer.summarize(read_reviews(text))
    mixed = summary.reviews[0]
    assert mixed.aspects == {"battery": "positive", "screen": "negative"}
    battery = next(t for t in summary.praise if t.label == "battery")
    screen = next(t for t in summary.complaints if t.label == "screen")
    assert (battery.mentions, battery.positive, battery.negative) == (3, 3, 0)
    assert (screen.mentions, screen.negative) == (3, 3)
    assert "cracked" not in battery.quote  # the praise quote does not carry the complaint next to it


def _dated_csv(rows: list[tuple[dt.date, str]]) -> bytes:
    lines = ["date,review"] + [f"{d.isoformat()},\"{text}\"" for d, text in rows]
    return "\n".join(lines).encode("utf-8")


GOOD = ["The battery lasts all day, great.", "Battery life is excellent.", "Love how long the battery lasts."]
BAD = ["The battery dies by noon, awful.", "Battery life is terrible.", "The battery drains in a few hours."]


def test_a_jump_in_battery_complaints_is_an_alert_with_its_test(analyzer):
    week1, week2 = dt.date(2026, 3, 2), dt.date(2026, 3, 9)  # two ISO weeks in a row
    rows = [(week1, GOOD[i % 3]) for i in range(11)] + [(week1, BAD[0])]
    rows += [(week2, BAD[i % 3]) for i in range(10)] + [(week2, GOOD[i % 3]) for i in range(2)]
    summary = analyzer.summarize(read_reviews(None, _dated_csv(rows), "reviews.csv", None))
    assert [a.theme for a in summary.alerts] == ["battery"]
    alert = summary.alerts[0]
    assert (alert.previous_week, alert.week) == ("2026-W10", "2026-W11")
    assert alert.previous_share < 0.2 and alert.share > 0.75 and alert.p_value < 0.001
    assert alert.mentions >= 10 and alert.previous_mentions >= 10


def test_a_small_volume_wobble_is_no_alert(analyzer):
    week1, week2 = dt.date(2026, 3, 2), dt.date(2026, 3, 9)
    rows = [(week1, GOOD[0]), (week1, GOOD[1]), (week1, BAD[0]), (week2, BAD[1]), (week2, BAD[2]), (week2, GOOD[2])]
    summary = analyzer.summarize(read_reviews(None, _dated_csv(rows), "reviews.csv", None))
    assert summary.alerts == []


def test_fisher_exact_p_value_matches_the_hand_computed_table():
    # 0 of 3 negative, then 3 of 3: C(3,3)·C(3,0) / C(6,3) = 1/20
    assert abs(rising_negative_p(0, 3, 3, 3) - 0.05) < 1e-12
    # no rise at all: the one-sided p-value is large
    assert rising_negative_p(5, 10, 5, 10) > 0.5


def test_repeated_reviews_are_read_once_and_counted_every_time(analyzer):
    distinct = [
        "The battery is great but the screen cracked in a week.",
        "Battery life is amazing, two full days.",
        "Screen is dim and hard to read outside.",
    ]
    encoder = analyzer.model.encoder
    before = encoder.encoded
    summary = analyzer.summarize(read_reviews("\n".join(distinct * 20)))
    encoded = encoder.encoded - before
    assert summary.analysed == 60
    assert [r.label for r in summary.reviews] == [r.label for r in summary.reviews[:3]] * 20
    assert summary.reviews[0].aspects == {"battery": "positive", "screen": "negative"}
    battery = next(t for t in summary.praise if t.label == "battery")
    screen = next(t for t in summary.complaints if t.label == "screen")
    assert (battery.mentions, battery.positive) == (40, 40)
    assert (screen.mentions, screen.negative) == (40, 40)
    # three reviews, two clauses and the theme phrases, not 60 reviews and 40 clauses
    assert encoded < 3 + 2 + 30, encoded
