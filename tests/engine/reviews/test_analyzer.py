"""The real model end to end: classification, summary structure, themes, trend, languages, HF models."""

from __future__ import annotations

import copy
import datetime as dt
import re
from pathlib import Path

import pytest

from engine.errors import UserError
from engine.reviews import ReviewSummary, SentimentAnalyzer, read_reviews

DATA = Path(__file__).parent / "data"

HEADPHONE_REVIEWS = """\
The battery life is incredible, I charge them once a week.
Battery life easily lasts my whole working week.
Amazing battery life and they charge quickly too.
Great battery life, the best I have had in headphones.
The sound quality is superb, rich bass and clear vocals.
Sound quality is fantastic for the price.
I love the sound quality, every detail of the music comes through.
Excellent sound quality and very comfortable to wear.
Customer service never answered my emails about a broken hinge.
Customer service was rude and refused to replace the faulty pair.
Terrible customer service, I waited three weeks for a reply.
Awful customer service, they kept closing my ticket.
The bluetooth connection drops every few minutes.
The bluetooth connection is unreliable and keeps cutting out.
Bluetooth connection problems make them useless on calls.
They arrived on Tuesday in a small box.
I bought them for the gym.
The case is grey and has a zip.
"""


def verbatim(quote: str, texts: list[str]) -> bool:
    core = quote.strip("…").strip()
    return bool(core) and any(core in t for t in texts)


def test_classification_on_the_projects_held_out_sentences(analyzer):
    rows = [line.split("\t", 1) for line in (DATA / "labelled.tsv").read_text(encoding="utf-8").splitlines() if line]
    summary = analyzer.summarize(read_reviews("\n".join(text for _, text in rows), None, None, None))
    assert summary.analysed == len(rows)
    labelled = {review.line: review for review in summary.reviews}
    correct = sum(labelled[line].label == label for line, (label, _) in enumerate(rows, start=1))
    assert correct / len(rows) >= 0.9, f"{correct}/{len(rows)}"
    for review in summary.reviews:
        assert review.label in ("positive", "negative", "neutral")
        assert 1 / 3 <= review.confidence <= 1


def test_summary_counts_shares_score_and_themes(analyzer):
    batch = read_reviews(HEADPHONE_REVIEWS, None, None, None)
    summary = analyzer.summarize(batch)
    assert isinstance(summary, ReviewSummary)
    assert summary.analysed == 18 and summary.found == 18 and summary.skipped == 0
    assert summary.positive + summary.negative + summary.neutral == 18
    assert summary.positive >= 7 and summary.negative >= 6 and summary.neutral >= 2
    assert summary.score == round(100 * (summary.positive - summary.negative) / 18)
    assert abs(summary.share("positive") + summary.share("negative") + summary.share("neutral") - 1) < 1e-9
    assert len(summary.reviews) == 18 and all(r.label and r.confidence for r in summary.reviews)
    assert summary.created_at.tzinfo is not None

    praise = [t.label for t in summary.praise]
    complaints = [t.label for t in summary.complaints]
    assert any("battery" in label for label in praise), praise
    assert any("sound" in label for label in praise), praise
    assert any("service" in label for label in complaints), complaints
    assert any("bluetooth" in label or "connection" in label for label in complaints), complaints

    texts = [r.text for r in batch.reviews]
    lowered = " ".join(texts).lower()
    for theme in summary.praise + summary.complaints:
        assert all(word in lowered for word in theme.label.split()), theme.label
        assert verbatim(theme.quote, texts), theme.quote
        quoted = next(r for r in batch.reviews if r.line == theme.line)
        assert theme.quote.strip("…").strip() in quoted.text
        assert theme.label.split()[0] in quoted.text.lower()
        assert 2 <= theme.mentions <= summary.analysed
    battery = next(t for t in summary.praise if "battery" in t.label)
    assert battery.mentions == 4


def test_html_reviews_are_classified_on_their_text(analyzer):
    text = ("<p>I <b>love</b> this blender, it is brilliant!</p>\n"
            "<div>Broke after a day &amp; leaked everywhere.</div>")
    batch = read_reviews(text, None, None, None)
    summary = analyzer.summarize(batch)
    assert [r.label for r in summary.reviews] == ["positive", "negative"]
    assert summary.reviews[1].text == "Broke after a day & leaked everywhere."


def test_one_review_gives_a_label_and_says_themes_need_more(analyzer):
    summary = analyzer.summarize(read_reviews("Absolutely love it, best purchase this year!", None, None, None))
    assert (summary.analysed, summary.positive) == (1, 1)
    assert summary.praise == [] and summary.complaints == [] and summary.trend == []
    assert any("Only one review" in n for n in summary.notes)


def test_trend_by_month_improves(analyzer):
    rows = ["review,rating,date"]
    bad = ["Broke within a week, awful.", "Terrible quality, do not buy.", "Stopped working, very disappointed."]
    good = ["Works perfectly, love it.", "Excellent quality, very happy.", "Great value, highly recommend."]
    for month in range(1, 7):
        for i in range(3):
            text = (bad if month <= 3 else good)[i] if i < 2 else (bad[i] if month <= 2 else good[i])
            rows.append(f"\"{text}\",{1 if text in bad else 5},2024-{month:02d}-{10 + i}")
    summary = analyzer.summarize(read_reviews(None, "\n".join(rows).encode(), "shop.csv", None))
    assert summary.trend_unit == "month"
    assert [p.period for p in summary.trend] == [f"2024-{m:02d}" for m in range(1, 7)]
    assert summary.trend[0].score < 0 < summary.trend[-1].score
    assert summary.trend_direction == "improving"
    assert sum(p.reviews for p in summary.trend) == 18
    assert summary.average_rating is not None and summary.rating_scale == 5.0
    assert summary.trend[-1].average_rating == 5.0


def test_trend_by_week_for_a_short_span(analyzer):
    start = dt.date(2024, 3, 4)  # a Monday
    lines = ["date;comment"] + [
        f"{(start + dt.timedelta(days=d)).isoformat()};{'Lovely, works great' if d % 2 else 'Broken and useless'}"
        for d in range(0, 21)
    ]
    summary = analyzer.summarize(read_reviews("\n".join(lines), None, None, None))
    assert summary.trend_unit == "week"
    assert [p.period for p in summary.trend] == ["2024-W10", "2024-W11", "2024-W12"]
    assert summary.trend[0].start == start


def test_chinese_is_read_and_other_languages_are_skipped_and_reported(analyzer):
    text = "\n".join([
        "Great little camera, sharp photos.",
        "El producto llegó roto y la calidad es muy mala.",
        "Le produit est arrivé cassé et le service client ne répond pas.",
        "Das Gerät ist sehr laut und leider nicht gut verarbeitet.",
        "这个产品质量很好，我很喜欢。",
        "Terrible battery, it dies by lunchtime.",
    ])
    summary = analyzer.summarize(read_reviews(text, None, None, None))
    assert summary.analysed == 3 and summary.skipped == 3
    assert summary.skipped_language == {"Spanish": 1, "French": 1, "German": 1}
    assert [r.label for r in summary.reviews] == ["positive", None, None, None, "positive", "negative"]
    assert summary.languages == {"English": 2, "Chinese": 1}
    assert summary.reviews[1].skipped == "language not supported (Spanish)"
    assert any("Skipped 3 reviews not in Chinese, English" in n and "cannot read them" in n for n in summary.notes)


def test_only_unsupported_languages_is_a_clear_error(analyzer):
    with pytest.raises(UserError) as error:
        batch = read_reviews("Muy bueno, me encanta.\nEs el mejor producto que he comprado.", None, None, None)
        analyzer.summarize(batch)
    message = str(error.value)
    assert "Spanish" in message and "Chinese, English only" in message and "\n" not in message


def test_language_check_can_be_switched_off_for_multilingual_models(analyzer):
    open_analyzer = copy.copy(analyzer)  # same loaded model, language check off
    open_analyzer.languages = None
    summary = open_analyzer.summarize(read_reviews("Muy bueno, me encanta.", None, None, None))
    assert summary.analysed == 1 and summary.skipped == 0


def test_capped_batch_reports_the_skipped_reviews(analyzer):
    batch = read_reviews("\n".join(["Fast delivery and great quality."] * 50), None, None, None, limit=20)
    summary = analyzer.summarize(batch)
    assert summary.analysed == 20 and summary.skipped_over_cap == 30 and summary.found == 50
    assert any("30 were skipped" in n for n in summary.notes)


def tiny_classifier(path: Path, labels: dict[int, str]) -> Path:
    """A randomly initialised BERT text classifier saved like a hub model, with MiniLM's tokenizer."""
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    from engine.reviews.classifier import bundled_model_dir

    config = BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=64, id2label=labels, label2id={v: k for k, v in labels.items()})
    BertForSequenceClassification(config).save_pretrained(path)
    AutoTokenizer.from_pretrained(str(bundled_model_dir())).save_pretrained(path)
    return path


@pytest.mark.parametrize("labels", [{0: "NEGATIVE", 1: "POSITIVE"}, {0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"},
                                    {i: f"{i + 1} star{'s' if i else ''}" for i in range(5)}])
def test_any_hugging_face_classifier_folder_can_be_configured(tmp_path, labels):
    model = SentimentAnalyzer(str(tiny_classifier(tmp_path / "tiny", labels)))
    summary = model.summarize(read_reviews(HEADPHONE_REVIEWS, None, None, None))
    assert summary.model == str(tmp_path / "tiny")
    assert summary.analysed == 18
    assert {r.label for r in summary.reviews} <= {"positive", "negative", "neutral"}
    for theme in summary.praise + summary.complaints:
        assert verbatim(theme.quote, [r.text for r in summary.reviews])


def test_a_classifier_with_unknown_labels_is_refused(tmp_path):
    with pytest.raises(UserError) as error:
        SentimentAnalyzer(str(tiny_classifier(tmp_path / "odd", {0: "sports", 1: "politics"})))
    assert "'sports'" in str(error.value)


def test_words_in_theme_labels_come_from_reviews_on_a_bigger_mixed_batch(analyzer):
    rows = [line.split("\t", 1)[1] for line in (DATA / "labelled.tsv").read_text(encoding="utf-8").splitlines() if line]
    batch = read_reviews("\n".join(rows * 3), None, None, None)
    summary = analyzer.summarize(batch)
    texts = [r.text for r in batch.reviews]
    words = set(re.findall(r"[a-z']+", " ".join(texts).lower()))
    for theme in summary.praise + summary.complaints:
        assert set(theme.label.split()) <= words
        assert verbatim(theme.quote, texts)


def test_an_unreachable_model_id_fails_at_startup_with_its_name(tmp_path):
    with pytest.raises(RuntimeError) as error:
        SentimentAnalyzer(str(tmp_path / "no-such-model"))
    assert "no-such-model" in str(error.value)
