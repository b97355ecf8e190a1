"""Aspects: what reviews praise and criticise, clause by clause, in English and Chinese.

1. Each review is cut into clauses at sentence ends, semicolons, commas and contrast words
   ("but", "however", 但是, 不过, …), so "great battery but the screen cracked" gives two clauses,
   each labelled by the sentiment model on its own.
2. Candidate aspect phrases come from each clause (English: ``themes.candidate_phrases``; Chinese:
   jieba nouns, ``themes_zh``). Praise themes are phrases of positive clauses, complaint themes
   phrases of negative ones; a phrase must be mentioned by at least two reviews and goes to the
   side where it is relatively more frequent.
3. Phrases are grouped by the similarity of their sentence vectors (average linkage), so "battery",
   "battery life" and 电池 can land together; each group is a theme whose label is its most
   mentioned phrase and whose counts are the reviews that mention it, by the sentiment of the
   mentioning clause. A review that praises one aspect and criticises another counts for both.
"""

from __future__ import annotations

import logging
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from engine.reviews.summary import Theme
from engine.reviews.themes import candidate_phrases, english_quote
from engine.reviews.themes_zh import chinese_phrases, chinese_quote, is_chinese

logger = logging.getLogger(__name__)

MAX_PHRASES = 60  # candidates embedded per side (the most mentioned; embedding is most of the cost)
OVERLAP = 0.7  # a theme whose reviews are mostly those of a bigger theme is left out
MAX_CLAUSES = 12  # per review: a long review's later clauses are not read for aspects

_CLAUSE = re.compile(
    r"[.!?;。！？；…\n]+|[,，、]\s*|\s[-–—]\s|\b(?=(?:but|however|although|though|except|whereas|yet)\b)"
    r"|(?=但是|可是|不过|然而|可惜|只是|就是太|但)", re.I)
_WORD = re.compile(r"\w+")
#: words that turn a review's sentiment around mid-way: only such reviews are read clause by clause
#: by the model (the others' clauses share the review's label), which keeps a summary's cost near
#: one model pass per review
_CONTRAST = re.compile(r"\b(?:but|however|although|though|except|whereas|yet|otherwise|only downside|apart from)\b"
                       r"|但是|可是|不过|然而|可惜|只是|就是|但|虽然|除了|唯一", re.I)


def has_contrast(text: str) -> bool:
    return bool(_CONTRAST.search(text))


@dataclass
class Clause:
    review: int  # index of the review in the batch
    text: str
    chinese: bool
    label: str = "neutral"
    weight: float = 0.0  # the model's probability of ``label``


def split_clauses(review: int, text: str) -> list[Clause]:
    """The clauses of one review worth reading for aspects (a fragment too short is joined to the
    clause before it)."""
    pieces: list[str] = []
    for piece in _CLAUSE.split(text):
        piece = piece.strip() if piece else ""
        if not piece:
            continue
        short = len(piece) < 3 if is_chinese(piece) else len(_WORD.findall(piece)) < 3
        if short and pieces:
            pieces[-1] = f"{pieces[-1]} {piece}"
        else:
            pieces.append(piece)
    return [Clause(review, p, is_chinese(p)) for p in pieces[:MAX_CLAUSES]]


def clause_phrases(clause: Clause) -> set[str]:
    """Candidate aspect phrases of one clause (jieba nouns for Chinese)."""
    return chinese_phrases(clause.text) if clause.chinese else candidate_phrases(clause.text)


def find_aspects(
    clauses: Sequence[Clause],
    texts: Sequence[str],
    lines: Sequence[int],
    embed: Callable[[list[str]], object],
    similarity: float,
    top: int = 5,
    phrases_of: Sequence[set[str]] | None = None,
) -> tuple[list[Theme], list[Theme], dict[int, dict[str, str]]]:
    """(praise, complaints, per review index: {theme label: sentiment}) from labelled clauses.

    ``texts``/``lines``: each review's text and input line, by review index (the quotes come from them);
    ``phrases_of``: each clause's ``clause_phrases`` when the caller has them already.
    """
    if phrases_of is None:
        phrases_of = [clause_phrases(c) for c in clauses]
    sides = {}
    for side, other in (("positive", "negative"), ("negative", "positive")):
        mine = [i for i, c in enumerate(clauses) if c.label == side]
        theirs = [i for i, c in enumerate(clauses) if c.label == other]
        sides[side] = _side_themes(side, clauses, phrases_of, mine, theirs, texts, lines, embed, similarity, top)
    praise, complaints = sides["positive"], sides["negative"]
    verdicts: dict[int, dict[str, str]] = defaultdict(dict)
    for theme in praise + complaints:
        _count(theme, clauses, phrases_of, verdicts)
    return praise, complaints, dict(verdicts)


def _side_themes(side, clauses, phrases_of, mine, theirs, texts, lines, embed, similarity, top) -> list[Theme]:
    mentions: dict[str, set[int]] = defaultdict(set)  # phrase -> reviews with a clause of this side
    best_clause: dict[tuple[str, int], int] = {}
    for i in mine:
        for phrase in phrases_of[i]:
            review = clauses[i].review
            mentions[phrase].add(review)
            key = (phrase, review)
            if key not in best_clause or clauses[i].weight > clauses[best_clause[key]].weight:
                best_clause[key] = i
    elsewhere: Counter[str] = Counter()
    for phrase, reviews in _reviews_by_phrase(clauses, phrases_of, theirs).items():
        elsewhere[phrase] = len(reviews)
    n = len({clauses[i].review for i in mine})
    m = len({clauses[i].review for i in theirs})
    if n < 2:
        return []
    def here(p):
        return (len(mentions[p]) + 0.5) / (n + 1)

    def there(p):
        return (elsewhere[p] + 0.5) / (m + 1)

    # A phrase belongs to the side where it is relatively more frequent (ties: complaints), so an
    # aspect whose sentiment turned ("battery", praised last week, criticised this week) stays a
    # theme and its counts show the split.
    phrases = [p for p, ids in mentions.items()
               if len(ids) >= 2 and (here(p) > there(p) or (here(p) == there(p) and side == "negative"))]
    if not phrases:
        return []
    # most mentioned first; longer phrases first among equals (they read better as labels)
    phrases.sort(key=lambda p: (-len(mentions[p]), -_length(p), p))
    groups = group_phrases(phrases[:MAX_PHRASES], embed, similarity)
    candidates = []
    for members in groups:
        reviews = set().union(*(mentions[p] for p in members))
        label = max(members, key=lambda p: (len(mentions[p]) * (1 + 0.25 * (_length(p) - 1)), -len(p), p))
        candidates.append((label, members, reviews))
    candidates.sort(key=lambda c: (-len(c[2]), -_length(c[0]), c[0]))

    themes: list[Theme] = []
    kept: list[tuple[str, set[int]]] = []
    for label, members, reviews in candidates:
        if any(label in k or k in label for k, _ in kept):
            continue  # "battery" after "battery life", 电池 after 电池续航: one theme seen from two sides
        if any(len(reviews & r) >= OVERLAP * len(reviews) for _, r in kept):
            continue  # "reply" inside "customer service": mostly the same reviews
        # the quote: among the most confident clauses that use the label, one of readable length
        options = [best_clause[(label, r)] for r in sorted(mentions[label])]
        top_weight = max(clauses[i].weight for i in options)
        sure = [i for i in options if clauses[i].weight >= top_weight - 0.1]
        best = min(sure, key=lambda i: (abs(len(texts[clauses[i].review]) - 80), i))
        review = clauses[best].review
        # a review that says the opposite elsewhere is quoted by its clause alone, so the quote
        # under "Praised" never carries the complaint next to it
        mixed = any(c.review == review and c.label not in (clauses[best].label, "neutral") for c in clauses)
        quote = clauses[best].text if mixed else _quote(texts[review], clauses[best], label)
        themes.append(Theme(label=label, mentions=len(reviews), quote=quote,
                            line=lines[review], phrases=sorted(members)))
        kept.append((label, reviews))
        if len(themes) == top:
            break
    return themes


def _reviews_by_phrase(clauses, phrases_of, indices) -> dict[str, set[int]]:
    found: dict[str, set[int]] = defaultdict(set)
    for i in indices:
        for phrase in phrases_of[i]:
            found[phrase].add(clauses[i].review)
    return found


def _count(theme: Theme, clauses, phrases_of, verdicts: dict[int, dict[str, str]]) -> None:
    """Set the theme's counts: every review with a clause mentioning one of its phrases, by the
    sentiment of its most confident such clause."""
    members = set(theme.phrases)
    by_review: dict[int, Clause] = {}
    for clause, phrases in zip(clauses, phrases_of):
        if phrases & members:
            held = by_review.get(clause.review)
            if held is None or clause.weight > held.weight:
                by_review[clause.review] = clause
    counts = Counter(c.label for c in by_review.values())
    theme.mentions = len(by_review)
    theme.positive, theme.negative, theme.neutral = counts["positive"], counts["negative"], counts["neutral"]
    for review, clause in by_review.items():
        verdicts[review].setdefault(theme.label, clause.label)


def _length(phrase: str) -> int:
    """Words in a phrase (a Chinese phrase counts a word per two characters)."""
    return max(1, len(phrase) // 2) if is_chinese(phrase) else len(phrase.split())


def _quote(text: str, clause: Clause, phrase: str) -> str:
    if clause.chinese:
        return chinese_quote(text, phrase)
    return english_quote(text, phrase)


def group_phrases(phrases: list[str], embed: Callable[[list[str]], object], similarity: float) -> list[list[str]]:
    """Average-linkage (UPGMA) agglomerative grouping on cosine similarity, stopping at ``similarity``."""
    if len(phrases) == 1:
        return [phrases]
    import numpy as np

    vectors = np.asarray(embed(phrases), dtype="float64")
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    sim = vectors @ vectors.T
    np.fill_diagonal(sim, -np.inf)
    members: dict[int, list[int]] = {i: [i] for i in range(len(phrases))}
    while True:
        flat = int(np.argmax(sim))
        a, b = divmod(flat, len(phrases))
        if sim[a, b] < similarity:
            break
        if a > b:
            a, b = b, a
        na, nb = len(members[a]), len(members[b])
        merged = (na * sim[a] + nb * sim[b]) / (na + nb)  # average similarity to every other group
        sim[a], sim[:, a] = merged, merged
        sim[a, a] = -np.inf
        sim[b], sim[:, b] = -np.inf, -np.inf
        members[a] += members.pop(b)
    return [[phrases[i] for i in sorted(ids)] for ids in members.values()]
