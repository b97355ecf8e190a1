"""What the documentation promises about limits and permissions is what the code does.

The README is the front door; the facts live in docs/ (reviews.md: upload limits; commands.md: who
may look at and change the model)."""

from __future__ import annotations

import re

from bot.discord_adapter.translate import MAX_REVIEW_FILE_BYTES
from bot.slack_adapter.files import MAX_FILE_BYTES
from engine.reviews.reading import MAX_INPUT_BYTES, MAX_REVIEWS
from tests.models import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")
DOCS = REPO / "docs"


def doc(name: str) -> str:
    """A docs/ page as one line of words, so a sentence matches wherever it was wrapped."""
    return " ".join((DOCS / name).read_text(encoding="utf-8").split())


def test_the_upload_limits_in_the_readme_are_the_ones_enforced():
    sentence = doc("reviews.md")
    assert f"files of up to {MAX_FILE_BYTES // 1_000_000} MB from Slack" in sentence
    assert f"{MAX_REVIEW_FILE_BYTES // 2**20} MiB from Discord" in sentence
    assert f"{MAX_INPUT_BYTES // 2**20} MB from the command line" in sentence
    assert f"Limits: {MAX_REVIEWS:,} reviews per request" in sentence


def test_the_readme_says_who_may_look_at_and_change_the_model():
    sentence = doc("commands.md")
    assert "model versions (anyone, privately); switching is admins only" in sentence
    assert "or see its progress (anyone, privately)" in sentence
    front_door = " ".join(README.split())
    assert "model versions (anyone, privately); switching is admins only" in front_door
    assert "or see its progress (anyone, privately)" in front_door


def anchors(text: str) -> set[str]:
    """The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces as hyphens."""
    headings = re.findall(r"^#+ (.+)$", re.sub(r"^```.*?^```", "", text, flags=re.M | re.S), re.M)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


def test_the_readme_is_a_front_door_whose_links_into_docs_resolve():
    assert len(README.encode("utf-8")) <= 12 * 1024, "move detail from README.md into docs/"
    assert "make run" in README and "make test" in README
    pages = {REPO / "README.md": README}
    pages |= {page: page.read_text(encoding="utf-8") for page in sorted(DOCS.glob("*.md"))}
    links = 0
    for page, text in pages.items():
        for target, anchor in re.findall(r"\]\(([^)#\s:]*\.md)?(?:#([^)\s]+))?\)", text):
            if not target and not anchor:
                continue
            linked = (page.parent / target).resolve() if target else page
            assert linked.is_file(), f"{page.name} links to a missing {target}"
            if anchor:
                headings = anchors(linked.read_text(encoding="utf-8"))
                assert anchor in headings, f"{page.name}: no #{anchor} in {linked.name}"
            links += 1
    assert "docs/operations.md" in README
    assert links >= 30  # the README's links into docs/ and the pages' links to each other
