"""Turning raw model output into copy a person can use, or rejecting it.

Small models pad their answers ("Sure! Here's an ad:"), wrap them in quotes or markdown, run past
the length asked for, repeat themselves, or drift into emoji soup. ``clean_variant`` fixes what
can be fixed and returns ``None`` for what cannot; ``is_near_duplicate`` keeps variants distinct.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from engine.copy.validation import strip_invisible


@dataclass(frozen=True)
class CopyLimits:
    """How long a variant may be once cleaned (the prompt book says it per ad channel)."""

    max_words: int
    max_chars: int | None
    multiline: bool = False


_PREAMBLE = re.compile(
    r"^\s*((sure|certainly|of course|absolutely|here('s| is| are)|okay|ok)\b[^\n:]*[:!.]"
    r"|(当然|好的|以下是|这是)[^\n:：]*[:：!！。])\s*\n?",
    re.IGNORECASE,
)
_LABEL_LINE = re.compile(
    r"^\s*[#*_]*\s*(ad copy|copy|caption|headline|subject( line)?|tweet|instagram caption|"
    r"product description|variant \d+|option \d+)\s*[:\-]*\s*[*_]*\s*$",
    re.IGNORECASE,
)
_LABEL_PREFIX = re.compile(
    r"^\s*[*_]*(ad copy|caption|headline|(e-?mail )?subject( line)?|tweet|text|文案|广告语|广告文案|标题|"
    r"邮件主题)\s*[:：][*_]*\s*",
    re.IGNORECASE,
)
# A markdown heading has a space after its #s; "#NordicOak" at the start of a line is a hashtag.
_MARKDOWN = re.compile(r"(\*\*|__|^#+\s+)", re.MULTILINE)
# The parts of a format the prompt names ("a hook, one benefit, a call to action"), written out
# as labels by the model: "Hook: … Benefit: … Call to action: …".
_PART_LABEL = re.compile(r"(^|[.!?…]\s+|\n)\s*[*_]*(hook|benefit|call to action|cta|body|"
                         r"offer)[*_]*\s*[:：]\s*", re.IGNORECASE)
_HASHTAG = re.compile(r"(?<!\w)#\w+")
# Links, @handles and [placeholders] are never right in generated copy: the model invents them.
_INVENTED = re.compile(
    r"\[[^\]]*\]\([^)]*\)|https?://\S+|www\.\S+|(?<![\w.])@\w+|\[[^\]\n]{0,60}\]|<[^>\n]{0,200}>"
)
_META_LINE = re.compile(
    r"^\s*(sentence \d|hashtags?:|caption:|note:|tone:|sentiment:|format:|length:|audience:|---|\d+\.\s)",
    re.IGNORECASE,
)
MAX_HASHTAGS = 3
# Western sentences end at punctuation and a space; Chinese ones at 。！？ with no space after.
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"')\]]*\s+|(?<=[。！？])[”’」』）]*")
_CJK = "\u3400-\u9fff\uf900-\ufaff"
# "We're" is one word to a reader (and to a length limit), so an inner apostrophe joins. Chinese
# has no spaces: each character is a token, and two count as one word against length limits.
_WORD = re.compile(rf"[{_CJK}]|[^\W_{_CJK}]+(?:['’][^\W_{_CJK}]+)*", re.UNICODE)
_IS_CJK = re.compile(rf"[{_CJK}]")
_QUOTES = "\"'“”‘’«»"
# Double quotes pair up; single ones can't be checked that way, since apostrophes look the same.
_QUOTE_PAIRS = {'"': '"', "“": "”", "«": "»"}
# A phrase cut at a word limit should not end on a word that needs the next one.
_DANGLING = frozenset(
    "a an the and or but nor so to of in on at by for from with into onto as than that this these "
    "those your our my their its his her is are was be will can we're you're they're it's that's "
    "there's i'm".split()
)

MIN_WORDS = 3


def _first_block(lines: list[str], multiline: bool) -> list[str]:
    """The copy itself: small models follow it with notes, lists or a second attempt."""
    kept: list[str] = []
    for line in lines:
        if _META_LINE.match(line):
            break
        if not line.strip():
            if kept and not multiline:
                break
            continue
        kept.append(line)
        if not multiline:
            break
    return kept


def _drop_invented(text: str) -> str:
    """Sentences built around an invented link or handle go ("Shop now at <url>"); when the copy
    is a single sentence, only the invented part is cut out."""
    if not _INVENTED.search(text):
        return text
    clean = [s for s in _sentences(text) if not _INVENTED.search(s)]
    return " ".join(clean) if clean else _INVENTED.sub("", text)


def _limit_hashtags(text: str) -> str:
    seen = 0

    def keep(match: re.Match) -> str:
        nonlocal seen
        seen += 1
        return match.group(0) if seen <= MAX_HASHTAGS else ""

    return re.sub(r"(?<!\w)#\w+", keep, text)


def _drop_unclosed_quote(text: str) -> str:
    """An opening quote the model never closed (or a closing one never opened) goes."""
    text = text.strip()
    for opener, closer in _QUOTE_PAIRS.items():
        if opener == closer:
            balanced = text.count(opener) % 2 == 0
        else:
            balanced = text.count(opener) == text.count(closer)
        if balanced:
            continue
        if text.startswith(opener):
            text = text[1:].strip()
        elif text.endswith(closer):
            text = text[:-1].strip()
    return text


def _drop_unclosed_placeholder(text: str) -> str:
    """``Hi [Your`` is a template placeholder the token budget cut off: cut it out."""
    opening = text.rfind("[")
    return text[:opening].rstrip() if opening > text.rfind("]") else text


def _strip_wrapping(text: str, multiline: bool = False) -> str:
    text = _PREAMBLE.sub("", text, count=1)
    text = _PART_LABEL.sub(lambda m: m.group(1), text)
    lines = [line for line in text.splitlines() if not _LABEL_LINE.match(line)]
    if lines:
        lines[0] = _LABEL_PREFIX.sub("", lines[0], count=1)
    text = "\n".join(_first_block(lines, multiline)).strip()
    text = _drop_invented(text)
    text = re.sub(r"\(\s*\)|\[\s*\]", "", text)  # brackets left empty by the line above
    text = _limit_hashtags(text)
    text = _LABEL_PREFIX.sub("", text, count=1)
    text = _MARKDOWN.sub("", text)
    text = text.strip()
    if len(text) >= 2 and text[0] in _QUOTES and text[-1] in _QUOTES:
        text = text[1:-1]
    text = _drop_unclosed_quote(text)
    text = _drop_unclosed_placeholder(text)
    # Collapse runs of blank lines and spaces the model likes to leave.
    text = re.sub(r"\n\s*\n+", "\n", text)
    text = re.sub(r"[ \t]+", " ", text)
    text = re.sub(r" +([,.!?;:])", r"\1", text)
    return text.strip()


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def word_count(text: str) -> float:
    """Words as a length limit counts them: a Chinese character is half a word."""
    return sum(0.5 if _IS_CJK.match(token) else 1 for token in words(text))


def _letter_share(text: str) -> float:
    visible = [c for c in text if not c.isspace()]
    if not visible:
        return 0.0
    letters = sum(1 for c in visible if unicodedata.category(c)[0] in "LN")
    return letters / len(visible)


def is_degenerate(text: str) -> bool:
    """True for output nobody would publish: too short (hashtags not counted), mostly symbols, or
    looping."""
    tokens = words(text)
    if word_count(_HASHTAG.sub("", text)) < MIN_WORDS or _letter_share(text) < 0.6:
        return True
    # The same word four times in a row, or a long text made of few distinct words.
    for i in range(len(tokens) - 3):
        if tokens[i] == tokens[i + 1] == tokens[i + 2] == tokens[i + 3]:
            return True
    if len(tokens) >= 12 and len(set(tokens)) / len(tokens) < 0.45:
        return True
    # A repeated 3-word phrase three times or more is a loop.
    trigrams = [tuple(tokens[i:i + 3]) for i in range(len(tokens) - 2)]
    return any(trigrams.count(t) >= 3 for t in set(trigrams))


def _sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(text) if s.strip()]


def _ends_sentence(text: str) -> bool:
    text = text.rstrip()
    return bool(re.search(r"[.!?…。！？][\"')\]”’」』）]*$", text)) or bool(
        re.search(r"#\w+$", text)  # a closing hashtag ends a caption
    ) or bool(text) and unicodedata.category(text[-1]) == "So"  # so does a closing emoji


def ends_sentence(text: str) -> bool:
    """True when ``text`` ends as a sentence, caption or post does (not cut off mid-phrase)."""
    return _ends_sentence(text)


def fit_length(text: str, limits: CopyLimits) -> str:
    """Cut ``text`` to the limits at a sentence end; a single over-long sentence is cut at a word."""

    def fits(candidate: str) -> bool:
        return word_count(candidate) <= limits.max_words and (
            limits.max_chars is None or len(candidate) <= limits.max_chars
        )

    sentences = _sentences(text)
    joiner = "" if _IS_CJK.search(text) else " "
    # An unfinished last sentence (the token budget ran out) is dropped when others are complete.
    if len(sentences) > 1 and not _ends_sentence(sentences[-1]):
        sentences = sentences[:-1]
    kept: list[str] = []
    for sentence in sentences:
        if not fits(joiner.join(kept + [sentence])):
            break
        kept.append(sentence)
    if kept:
        return joiner.join(kept).strip()
    # Even the first sentence is too long: cut at the last whole word that fits.
    if joiner == "":
        cut_text = ""
        for char in text:
            if not fits(cut_text + char):
                break
            cut_text += char
        return cut_text.rstrip("，,、；;：:")
    cut: list[str] = []
    for token in text.split():
        if not fits(" ".join(cut + [token])):
            break
        cut.append(token)
    while len(cut) > 1 and cut[-1].lower().strip(",;:-–—") in _DANGLING:
        cut.pop()
    return " ".join(cut).rstrip(",;:-–— ")


def preview_text(raw: str, limits: CopyLimits) -> str:
    """What to show of a variant still being written: its wrapping (preamble, labels, markdown)
    removed; the length is fitted, and the checks are made, once it is finished."""
    if not raw.strip():
        return ""
    return _strip_wrapping(raw, multiline=limits.multiline)


def clean_variant(raw: str, limits: CopyLimits) -> str | None:
    text = _strip_wrapping(strip_invisible(raw), multiline=limits.multiline)
    if not text:
        return None
    text = _drop_unclosed_quote(fit_length(text, limits))
    if is_degenerate(text):
        return None
    return text


def _normalised(text: str) -> set[str]:
    """Words, and for Chinese pairs of characters (single characters repeat across any two texts
    on the same product)."""
    tokens = words(text)
    latin = {t for t in tokens if not _IS_CJK.match(t)}
    cjk = [t for t in tokens if _IS_CJK.match(t)]
    return latin | {a + b for a, b in zip(cjk, cjk[1:])}


def is_near_duplicate(text: str, others: list[str], threshold: float = 0.8) -> bool:
    """True when ``text`` shares at least ``threshold`` of its words (Jaccard) with another."""
    mine = _normalised(text)
    for other in others:
        theirs = _normalised(other)
        union = mine | theirs
        if union and len(mine & theirs) / len(union) >= threshold:
            return True
    return False
