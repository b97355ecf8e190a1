"""Reading reviews: decoding, CSV column detection, HTML, ratings and dates, caps, bad input.

No model is loaded here, so these run in well under a second.
"""

from __future__ import annotations

import datetime as dt

import pytest

from engine.errors import UserError
from engine.reviews import MAX_REVIEWS, read_reviews
from engine.reviews.cells import parse_date, parse_rating


def one_sentence(message: str) -> bool:
    """What a user sees: one sentence, no newline, no developer noise."""
    return (
        message.endswith(".")
        and "\n" not in message
        and "Traceback" not in message
        and "Error" not in message
        and len(message) < 400
    )


# ------------------------------------------------------------------ pasted lines


def test_pasted_lines_become_one_review_each_with_their_line_numbers():
    batch = read_reviews("- Great phone, love it\n\n* The battery died in a day\n3. It is okay\n", None, None, None)
    assert [(r.line, r.text) for r in batch.reviews] == [
        (1, "Great phone, love it"),
        (3, "The battery died in a day"),
        (4, "It is okay"),
    ]
    assert batch.source == "pasted text"
    assert batch.skipped_over_cap == 0


NO_REVIEWS = ("There are no reviews to analyse: paste one review per line after /reviews, or attach "
              "a CSV or text file.")
EMPTY_FILE = "The uploaded file is empty; attach a CSV or text file with one review per line."


@pytest.mark.parametrize("text,data,expected", [
    (None, None, NO_REVIEWS), ("", None, NO_REVIEWS), ("  \n\t\n ", None, NO_REVIEWS),
    (None, b"", EMPTY_FILE), (None, b"\n\n  \n", NO_REVIEWS)])
def test_empty_input_is_refused_with_a_clear_sentence(text, data, expected):
    with pytest.raises(UserError) as error:
        read_reviews(text, data, "reviews.txt" if data is not None else None, None)
    message = str(error.value)
    assert one_sentence(message)
    assert message == expected


def test_one_review_is_read():
    batch = read_reviews("Only one review here", None, None, None)
    assert len(batch.reviews) == 1 and batch.found == 1


def test_hundred_thousand_reviews_are_capped_and_the_rest_counted():
    text = "\n".join(f"Review number {i} says the product is fine" for i in range(100_000))
    batch = read_reviews(text, None, None, None)
    assert len(batch.reviews) == MAX_REVIEWS == 5000
    assert batch.found == 100_000
    assert batch.skipped_over_cap == 95_000
    assert any("95,000 were skipped" in note and "limit 5,000" in note for note in batch.notes)
    assert batch.reviews[-1].text == "Review number 4999 says the product is fine"


def test_a_custom_limit_is_honoured():
    batch = read_reviews("a review\n" * 30, None, None, None, limit=10)
    assert len(batch.reviews) == 10 and batch.skipped_over_cap == 20


# ------------------------------------------------------------------ HTML


def test_html_is_removed_and_entities_decoded():
    raw = (
        "<p>Great <b>sound</b> &amp; battery&nbsp;life!<br/>Would buy again.</p>\n"
        "<script>alert('x')</script>Fast &lt;b&gt;delivery&lt;/b&gt; <!-- tracking -->\n"
        "I <3 it, 2 < 3 and 5 > 4\n"
    )
    batch = read_reviews(raw, None, None, None)
    assert [r.text for r in batch.reviews] == [
        "Great sound & battery life! Would buy again.",
        "Fast delivery",
        "I <3 it, 2 < 3 and 5 > 4",
    ]
    assert any("HTML" in note for note in batch.notes)


def test_a_review_that_is_only_markup_is_left_out():
    batch = read_reviews("<div><br></div>\nReal review", None, None, None)
    assert [r.text for r in batch.reviews] == ["Real review"]


# ------------------------------------------------------------------ CSV columns


@pytest.mark.parametrize(
    "header",
    ["review", "Review Text", "comment", "Comments", "body", "Content", "customer_feedback", "text", "review_body"],
)
def test_csv_text_column_is_found_by_name(header):
    data = f"id,{header},author\n1,Lovely shoes,Ann\n2,\"Too small, sent back\",Bo\n".encode()
    batch = read_reviews(None, data, "export.csv", None)
    assert batch.text_column == header
    assert [r.text for r in batch.reviews] == ["Lovely shoes", "Too small, sent back"]
    assert [r.line for r in batch.reviews] == [1, 2]


@pytest.mark.parametrize("delimiter,filename",
                         [(";", "export.csv"), ("\t", "export.tsv"), ("|", "export.csv"), ("\t", None)])
def test_csv_delimiters_are_sniffed(delimiter, filename):
    rows = ["Rating", "Review", "Date"], ["5", "Works great", "2024-01-02"], ["1", "Broke quickly", "2024-02-03"]
    data = "\n".join(delimiter.join(r) for r in rows).encode()
    batch = read_reviews(None, data, filename, None)
    assert [r.text for r in batch.reviews] == ["Works great", "Broke quickly"]
    assert [r.rating for r in batch.reviews] == [5.0, 1.0]


def test_pasted_csv_with_a_header_is_read_as_csv():
    batch = read_reviews("rating,review\n5,Superb\n2,Meh", None, None, None)
    assert batch.text_column == "review" and [r.text for r in batch.reviews] == ["Superb", "Meh"]


def test_given_column_wins_and_a_missing_one_lists_the_columns():
    data = b"title,review,notes\nNice,Loved the colour,internal note one\nBad,Hated the fit,internal note two\n"
    assert [r.text for r in read_reviews(None, data, "a.csv", "title").reviews] == ["Nice", "Bad"]
    with pytest.raises(UserError) as error:
        read_reviews(None, data, "a.csv", "opinion")
    assert one_sentence(str(error.value))
    assert "'opinion'" in str(error.value) and "title, review, notes" in str(error.value)


def test_csv_without_a_text_column_is_refused_with_its_columns():
    data = b"order_id,stars,date\n1001,5,2024-01-01\n1002,2,2024-01-02\n"
    with pytest.raises(UserError) as error:
        read_reviews(None, data, "orders.csv", None)
    message = str(error.value)
    assert one_sentence(message.replace("`column: NAME`", "column"))
    assert "no review text column" in message and "order_id, stars, date" in message and "column:" in message


def test_csv_with_an_unnamed_free_text_column_is_used_and_said():
    data = (b"id,what customers said\n1,The delivery was quick and the box was intact\n"
            b"2,It stopped working after only two days\n")
    batch = read_reviews(None, data, "survey.csv", None)
    assert batch.text_column == "what customers said"
    assert any("'what customers said'" in note for note in batch.notes)


def test_csv_header_only_and_blank_text_rows():
    with pytest.raises(UserError) as error:
        read_reviews(None, b"review,rating\n", "a.csv", None)
    assert "no reviews" in str(error.value)
    batch = read_reviews(None, b"review,rating\nGood,5\n,4\n  ,3\nBad,1\n", "a.csv", None)
    assert [r.text for r in batch.reviews] == ["Good", "Bad"]
    assert any("2 rows had no review text" in note for note in batch.notes)


def test_csv_quoted_fields_with_newlines_and_html():
    data = b'review,date\n"<p>First line<br>second line</p>",2024-05-01\n"Plain, with comma",2024-05-02\n'
    batch = read_reviews(None, data, "a.csv", None)
    assert [r.text for r in batch.reviews] == ["First line second line", "Plain, with comma"]


# ------------------------------------------------------------------ ratings and dates


@pytest.mark.parametrize(
    "raw,expected",
    [("4", (4.0, None)), ("4.5", (4.5, None)), ("4,5", (4.5, None)), ("4/5", (4.0, 5.0)), ("8 out of 10", (8.0, 10.0)),
     ("★★★☆☆", (3.0, 5.0)), ("3 stars", (3.0, None)), ("80%", (80.0, 100.0)), ("n/a", (None, None)),
     ("", (None, None))],
)
def test_ratings_are_parsed(raw, expected):
    assert parse_rating(raw) == expected


@pytest.mark.parametrize(
    "raw,day_first,expected",
    [("2024-03-05", None, dt.date(2024, 3, 5)), ("2024-03-05T14:22:00Z", None, dt.date(2024, 3, 5)),
     ("03/05/2024", None, dt.date(2024, 3, 5)), ("03/05/2024", True, dt.date(2024, 5, 3)),
     ("5 March 2024", None, dt.date(2024, 3, 5)), ("Mar 5, 2024", None, dt.date(2024, 3, 5)),
     ("05.03.2024 10:15", True, dt.date(2024, 3, 5)), ("1709596800", None, dt.date(2024, 3, 5)),
     ("yesterday", None, None), ("Tuesday, March 5, 2024", None, dt.date(2024, 3, 5)),
     ("March 2024", None, dt.date(2024, 3, 1)), ("2024年3月5日", None, dt.date(2024, 3, 5)),
     ("2024 年 3 月 5 号", None, dt.date(2024, 3, 5)),
     # Not dates, though dateutil would fill in the rest from today's date.
     ("5", None, None), ("Tuesday", None, None), ("March", None, None)],
)
def test_dates_are_parsed(raw, day_first, expected):
    assert parse_date(raw, day_first) == expected


def test_rating_scale_and_day_first_dates_are_inferred_per_column():
    data = b"Review,Score,Date\nGood,8,25/01/2024\nBad,3,02/02/2024\nFine,6,not a date\n"
    batch = read_reviews(None, data, "a.csv", None)
    assert batch.rating_column == "Score" and batch.rating_scale == 10.0
    assert batch.date_column == "Date"
    assert [r.date for r in batch.reviews] == [dt.date(2024, 1, 25), dt.date(2024, 2, 2), None]
    assert any("could not be read" in note for note in batch.notes)


# ------------------------------------------------------------------ encodings and binary files

TEXT = "Café was lovely – the crème brûlée too\nNaïve design, but it works\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_unicode_encodings_are_decoded(encoding):
    batch = read_reviews(None, TEXT.encode(encoding), "reviews.txt", None)
    assert [r.text for r in batch.reviews] == TEXT.strip().split("\n")
    assert not any("Windows-1252" in note for note in batch.notes)


def test_windows_1252_file_is_read_and_said():
    batch = read_reviews(None, TEXT.encode("cp1252"), "reviews.txt", None)
    assert [r.text for r in batch.reviews] == TEXT.strip().split("\n")
    assert batch.encoding == "cp1252"
    assert any("not UTF-8" in note and "Windows-1252" in note for note in batch.notes)


@pytest.mark.parametrize("encoding,name,lines", [
    ("gb18030", "GB18030 (GBK)", ["外卖送得很快，味道也不错。", "包装破了，汤洒了一半，客服也不理人。"]),
    ("big5", "Big5", ["房間很乾淨，服務人員非常親切。", "早餐選擇太少，隔音也不好。"]),
])
def test_chinese_files_in_legacy_encodings_are_read_and_said(encoding, name, lines):
    # Chinese Windows saves text in GBK or Big5 by default; read as Windows-1252 it is mojibake.
    batch = read_reviews(None, "\n".join(lines).encode(encoding), "reviews.txt", None)
    assert [r.text for r in batch.reviews] == lines
    assert any(f"read it as {name}" in note for note in batch.notes)


def test_utf16_csv_from_excel_keeps_columns():
    data = "Review\tRating\nSuper comfy\t5\nToo tight\t2\n".encode("utf-16")
    batch = read_reviews(None, data, "export.csv", None)
    assert [(r.text, r.rating) for r in batch.reviews] == [("Super comfy", 5.0), ("Too tight", 2.0)]


@pytest.mark.parametrize(
    "data,kind",
    [(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "PNG"), (b"PK\x03\x04" + b"\x00" * 200, "Excel"),
     (b"%PDF-1.7\n%\xe2\xe3", "PDF"), (bytes(range(256)) * 40, "not readable"),
     (b"\x00\x01\x02\x03" * 500 + b"review\n", "not readable")],
)
def test_binary_files_are_refused_clearly(data, kind):
    with pytest.raises(UserError) as error:
        read_reviews(None, data, "upload.csv", None)
    message = str(error.value)
    assert one_sentence(message)
    assert kind in message


def test_a_file_wins_over_pasted_text_and_its_name_is_the_source():
    batch = read_reviews("ignored", b"from the file\n", "/tmp/x/shop-reviews.txt", None)
    assert [r.text for r in batch.reviews] == ["from the file"]
    assert batch.source == "shop-reviews.txt"


def test_column_on_plain_text_is_refused():
    with pytest.raises(UserError) as error:
        read_reviews("just a line\nanother line", None, None, "review")
    assert one_sentence(str(error.value).replace("`column:`", "column"))


def test_prose_with_a_comma_after_a_column_like_word_stays_plain_text():
    batch = read_reviews("Review, 5 stars from me\nLoved the colour\nHated the fit", None, None, None)
    assert [r.text for r in batch.reviews] == ["Review, 5 stars from me", "Loved the colour", "Hated the fit"]


def test_text_typed_with_an_attached_file_is_said_to_be_ignored():
    batch = read_reviews("please analyse", b"from the file\n", "r.txt", None)
    assert any("attached file" in note for note in batch.notes)


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_any_line_ending_splits_reviews(newline):
    text = newline.join(["First review", "Second review", "Third review"])
    assert len(read_reviews(None, text.encode(), "r.txt", None).reviews) == 3
    csv_text = newline.join(["review,rating", "Good,5", "Bad,1"])
    assert [r.rating for r in read_reviews(None, csv_text.encode(), "r.csv", None).reviews] == [5.0, 1.0]


def test_json_exports_are_read_like_csv():
    data = (b'[{"id": 1, "content": "Lovely app", "score": 5, "at": "2024-06-01"}, '
            b'{"id": 2, "content": "Crashes", "score": 1, "at": "2024-06-02"}]')
    batch = read_reviews(None, data, "export.json", None)
    assert [(r.text, r.rating, r.date) for r in batch.reviews] == [
        ("Lovely app", 5.0, dt.date(2024, 6, 1)), ("Crashes", 1.0, dt.date(2024, 6, 2))]
    assert batch.text_column == "content"
    wrapped = read_reviews(None, b'{"reviews": ["Good", "Bad"]}', "r.json", None)
    assert [r.text for r in wrapped.reviews] == ["Good", "Bad"]


@pytest.mark.parametrize("data", [b"{not json", b'{"count": 3}', b"[1, 2, 3]", b"[]"])
def test_unusable_json_is_refused_clearly(data):
    with pytest.raises(UserError) as error:
        read_reviews(None, data, "r.json", None)
    assert one_sentence(str(error.value)) and "JSON" in str(error.value)


def test_pasted_text_that_only_looks_like_json_stays_text():
    batch = read_reviews("[Verified buyer] Great fit\n{sic} bad seams", None, None, None)
    assert [r.text for r in batch.reviews] == ["[Verified buyer] Great fit", "{sic} bad seams"]


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=150, deadline=None)
@given(data=st.binary(max_size=600), name=st.sampled_from(["r.csv", "r.txt", "r.json", "r.tsv", None]))
def test_any_bytes_give_a_batch_or_a_user_error(data, name):
    try:
        batch = read_reviews(None, data, name, None)
    except UserError as error:
        assert one_sentence(str(error).replace("`column: NAME`", "column"))
    else:
        assert batch.reviews and all(r.text.strip() == r.text and r.text for r in batch.reviews)


@settings(max_examples=150, deadline=None)
@given(text=st.text(max_size=400))
def test_any_pasted_text_gives_a_batch_or_a_user_error(text):
    try:
        batch = read_reviews(text, None, None, None)
    except UserError as error:
        assert "\n" not in str(error)
    else:
        assert batch.reviews and all(r.text for r in batch.reviews)


def test_stray_carriage_returns_are_line_ends_not_a_crash():
    batch = read_reviews(data=b"Great battery\r\rBroke after a week\r\n\r\x01", filename="r.txt")
    assert [review.text for review in batch.reviews][:2] == ["Great battery", "Broke after a week"]


def test_rows_past_the_cap_are_counted_but_not_read():
    rows = ["review,date"] + [f"Review number {i} is fine,2024-03-{1 + i % 28:02d}" for i in range(50)]
    rows += [f"Review number {i} is fine,not a date" for i in range(50, 80)]  # past the cap
    batch = read_reviews(data="\n".join(rows).encode(), filename="export.csv", limit=50)
    assert (len(batch.reviews), batch.found, batch.skipped_over_cap) == (50, 80, 30)
    # The skipped rows were never date-parsed: nothing is said about their dates.
    assert batch.notes == ["Analysed the first 50 of 80 reviews; 30 were skipped (limit 50 per request)."]
