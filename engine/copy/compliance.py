"""Compliance and style-guide checks on generated copy: pure functions over text, no model.

- ``compliance_problems``: the absolute terms China's Advertising Law (Art. 9) forbids in ads (最佳,
  第一, 国家级 ...) and claims no brief supports ("the best", "guaranteed", "#1"), read from
  ``prompts/compliance.toml`` (``ComplianceRules``);
- ``style_problems`` / ``missing_required``: a workspace's banned and required words (its
  ``banned_words`` and ``required_words`` settings, as a ``StyleGuide``);
- ``apply_spellings``: its ``preferred_spellings``, applied to the copy delivered.

Each problem is one short phrase worded like the brief checks' (engine/copy/brief_checks.py), e.g.
``uses “最佳”, an absolute term China's Advertising Law (Art. 9) forbids in ads``. Banned words and
compliance findings are lasting (no further text undoes them); a missing required word is not (a
variant still being written may add it).

Matching: case is ignored; a Chinese term matches anywhere (Chinese has no spaces between words), a
Latin one whole words only, where a Latin word ends at anything but a Latin letter or digit (a
Chinese character included: "买cheap货" uses "cheap").
"""

from __future__ import annotations

import logging
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

logger = logging.getLogger(__name__)

FILE_NAME = "compliance.toml"
_CJK_RANGE = "\u3400-\u9fff\uf900-\ufaff"
_CJK = re.compile(f"[{_CJK_RANGE}]")
# A Latin word character: a word character that is not Chinese.
_LATIN_WORD = re.compile(f"[^\\W{_CJK_RANGE}]")
_NOT_AFTER_LATIN = f"(?<![^\\W{_CJK_RANGE}])"
_NOT_BEFORE_LATIN = f"(?![^\\W{_CJK_RANGE}])"
_DASHES = " -\u2010\u2011\u2013\u2014"
_APOSTROPHES = "'\u2019"

# The workspace settings' list format (engine/workspace/settings.py validates and stores it): items
# separated by commas, Chinese ones too (，、); a spelling pair is wrong -> right or wrong = right.
_LIST_SEPARATOR = re.compile(r"[,，、]")
_PAIR_SEPARATOR = re.compile(r"->|=>|→|=")


def split_list(value: str) -> list[str]:
    """The items of a comma-separated setting, spaces collapsed, each once (ignoring case)."""
    items: dict[str, str] = {}
    for raw in _LIST_SEPARATOR.split(value):
        item = " ".join(raw.split())
        if item:
            items.setdefault(item.casefold(), item)
    return list(items.values())


def split_pair(item: str) -> tuple[str, str]:
    """``"e-mail -> email"`` (or ``"e-mail=email"``) as ``("e-mail", "email")``; a side not given is
    empty."""
    parts = _PAIR_SEPARATOR.split(item, maxsplit=1)
    return parts[0].strip(), parts[1].strip() if len(parts) == 2 else ""


def spelling_pairs(value: str) -> list[tuple[str, str]]:
    """The ``(wrong, right)`` pairs of a ``preferred_spellings`` value; an item that is not a pair
    is skipped (the setting's validator refuses it before it is stored)."""
    return [pair for pair in map(split_pair, split_list(value)) if all(pair)]


@lru_cache(maxsize=4096)
def term_pattern(term: str, plural: bool = False) -> re.Pattern[str]:
    """How ``term`` is found in copy (case ignored). A space or hyphen in it matches any run of spaces
    and hyphens or none ("best-selling": "best selling", "bestselling"); an apostrophe matches ’ or
    none; a term that starts or ends with a Latin letter or digit matches whole words only there;
    ``plural``: a final s may follow a final letter ("guarantee": "guarantees")."""
    term = " ".join(term.split())
    parts: list[str] = []
    for char in term:
        if char in _DASHES:
            if parts and parts[-1] == "SEP":
                continue
            parts.append("SEP")
        elif char in _APOSTROPHES:
            parts.append(f"[{_APOSTROPHES}]?")
        else:
            parts.append(re.escape(char))
    separator = f"[\\s{re.escape(_DASHES[1:])}]*"
    body = "".join(separator if part == "SEP" else part for part in parts)
    if plural and term[-1:].isascii() and term[-1:].isalpha():
        body += "s?"
    start = _NOT_AFTER_LATIN if _LATIN_WORD.match(term[:1]) else ""
    end = _NOT_BEFORE_LATIN if _LATIN_WORD.match(term[-1:]) else ""
    return re.compile(start + body + end, re.IGNORECASE)


def uses(text: str, term: str, plural: bool = False) -> bool:
    """Does ``text`` contain ``term`` (Latin: as whole words; Chinese: anywhere; case ignored)?
    ``plural``: or its plural in s (how banned words and spellings are matched)."""
    return bool(term.strip()) and term_pattern(term, plural).search(text) is not None


# --- compliance: prompts/compliance.toml ----------------------------------------------------------

@dataclass(frozen=True)
class ComplianceRules:
    """The terms of ``prompts/compliance.toml``. ``absolute`` (with ``superlative`` followed by any
    Chinese character) are refused in Chinese copy whatever the brief says, except inside an
    ``allowed`` word or the product's name; each group of ``claims`` (the ways of writing one
    claim) is refused unless the brief makes that claim too."""

    superlative: str = ""
    absolute: tuple[str, ...] = ()
    allowed: tuple[str, ...] = ()
    claims: tuple[tuple[str, ...], ...] = ()
    _superlative: re.Pattern[str] | None = field(init=False, repr=False, compare=False, default=None)

    def __post_init__(self) -> None:
        if self.superlative:
            pattern = re.compile(re.escape(self.superlative) + f"[{_CJK_RANGE}]")
            object.__setattr__(self, "_superlative", pattern)

    @classmethod
    def load(cls, path: Path) -> ComplianceRules:
        """``path``: the file, or the prompts folder that holds ``compliance.toml``
        (``EngineConfig.prompts_dir``). Raises ``ValueError`` naming what is malformed."""
        if path.is_dir():
            path = path / FILE_NAME
        with open(path, "rb") as f:
            data = tomllib.load(f)
        zh, en = data.get("zh", {}), data.get("en", {})
        superlative = zh.get("superlative", "")
        if not isinstance(superlative, str):
            raise ValueError(f"{path}: [zh] superlative must be a string")
        claims = [*_strings(path, "zh", "claims", zh), *_strings(path, "en", "claims", en)]
        return cls(
            superlative=superlative,
            absolute=tuple(_strings(path, "zh", "terms", zh)),
            allowed=tuple(_strings(path, "zh", "allowed", zh)),
            claims=tuple(tuple(way.strip() for way in line.split("|") if way.strip()) for line in claims),
        )

    def self_check(self) -> list[str]:
        """What is wrong with the lists themselves (empty: nothing): a term its own rules do not
        refuse, an allowed word that excuses nothing, a way of writing a claim that is not
        refused when the brief does not make it, or not allowed when it does."""
        problems = []
        for term in self.absolute:
            found = compliance_problems(term, "", "zh", self)
            if len(found) != 1 or f"\u201c{term}\u201d" not in found[0]:
                problems.append(f"the term {term!r} is not refused as itself: {found}")
        for word in self.allowed:
            if not any(_absolute_matches(word, self)):
                problems.append(f"the allowed word {word!r} contains no term")
            elif compliance_problems(word, "", "zh", self):
                problems.append(f"the allowed word {word!r} is refused")
        for ways in self.claims:
            for way in ways:
                language = "zh" if _CJK.search(way) else "en"
                if not compliance_problems(way, "", language, self):
                    problems.append(f"the claim {way!r} is not refused without a brief")
                if compliance_problems(way, f"Brief: {ways[0]}.", language, self):
                    problems.append(f"the claim {way!r} is refused when the brief makes it as {ways[0]!r}")
        return problems


def _strings(path: Path, section: str, key: str, table: Mapping[str, object]) -> list[str]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        raise ValueError(f"{path}: [{section}] {key} must be a list of non-empty strings")
    return value


def compliance_problems(text: str, brief_text: str, language: str, rules: ComplianceRules) -> list[str]:
    """One problem per absolute term (Chinese copy: ``language`` "zh", or any copy with Chinese in
    it) and per claim the brief does not make, in the order they appear in ``text``."""
    findings: list[_Finding] = []
    if language == "zh" or _CJK.search(text):
        allowed = _spans(text, rules.allowed)
        names = _name_spans(text, brief_text)
        for start, end, quote in _absolute_matches(text, rules):
            # Inside an allowed word (最近, 第一次), or the product's name when that is more than the term.
            if any(a <= start and end <= b for a, b in allowed) or \
                    any(a <= start and end <= b and b - a > end - start for a, b in names):
                continue
            findings.append(_Finding(start, end, 0, quote.casefold(), f"uses \u201c{quote}\u201d, an absolute "
                                     "term China's Advertising Law (Art. 9) forbids in ads"))
    for group, ways in enumerate(rules.claims):
        if any(term_pattern(way, True).search(brief_text) for way in ways):
            continue  # the brief makes this claim
        for way in ways:
            for match in term_pattern(way, True).finditer(text):
                findings.append(_Finding(match.start(), match.end(), 1, f"claim {group}",
                                         f"claims \u201c{match.group(0)}\u201d, which the description does not"))
    return _report(findings)


@dataclass(frozen=True)
class _Finding:
    start: int
    end: int
    rank: int  # where two overlap and are as long: an absolute term (0) before a claim (1)
    key: str  # one problem per key: a term as written, or a claim however it is written
    problem: str


# Read after 最 to quote an unlisted superlative whole (最柔软, not 最柔); a particle ends it (最美的).
_PARTICLES = "的地得之了是最"


def _absolute_matches(text: str, rules: ComplianceRules) -> Iterable[tuple[int, int, str]]:
    """``(start, end, quote)`` of each absolute term in ``text``: the listed ones, then 最 followed
    by a Chinese character where no listed term starts (quoted with one more character when one
    follows that is not a particle)."""
    listed = [match.span() for term in rules.absolute for match in term_pattern(term).finditer(text)]
    for start, end in listed:
        yield start, end, text[start:end]
    if rules._superlative is not None:
        starts = {start for start, _ in listed}
        for match in rules._superlative.finditer(text):
            start, end = match.span()
            if start in starts:
                continue
            quote_end = end + 1 if end < len(text) and _CJK.match(text[end]) and text[end] not in _PARTICLES else end
            yield start, end, text[start:quote_end]


def _spans(text: str, terms: Iterable[str]) -> list[tuple[int, int]]:
    return [match.span() for term in terms for match in term_pattern(term).finditer(text)]


# The product's name is the brief's head, before the first colon, comma, bracket or dash (as
# brief_checks.product_names reads it); its words of three characters or more count on their own.
_NAME_END = re.compile(r"[:：,，;；(（—–]| - ")


def _name_spans(text: str, brief_text: str) -> list[tuple[int, int]]:
    """Where ``text`` names the product with a name that contains a term (最美茶园): a registered
    name is not an absolute claim, as the regulator's guideline on absolute terms says."""
    head = _NAME_END.split(brief_text, maxsplit=1)[0].strip()
    if not head or len(head) > 40:
        return []
    names = {head, *(word for word in head.split() if len(word) >= 3)}
    return [(m.start(), m.end()) for name in names for m in re.finditer(re.escape(name), text, re.IGNORECASE)]


def _report(findings: list[_Finding]) -> list[str]:
    """Where findings overlap, the longest one (全网第一, not 第一; "best-selling", not "the
    best"); then in text order, one problem per key."""
    chosen: list[_Finding] = []
    for finding in sorted(findings, key=lambda f: (f.start - f.end, f.rank, f.start)):
        if all(finding.end <= other.start or finding.start >= other.end for other in chosen):
            chosen.append(finding)
    by_key: dict[str, str] = {}
    for finding in sorted(chosen, key=lambda f: f.start):
        by_key.setdefault(finding.key, finding.problem)
    return list(by_key.values())


# --- the workspace's style guide -----------------------------------------------------------------

@dataclass(frozen=True)
class StyleGuide:
    """A workspace's words: ``banned`` (no variant may use them), ``required`` (every variant must
    include them: a tagline, a hashtag, a disclaimer) and preferred ``spellings`` as ``(wrong,
    right)`` pairs, fixed in delivered copy."""

    banned: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    spellings: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_settings(cls, settings: Mapping[str, str]) -> StyleGuide:
        """From the workspace settings ``banned_words``, ``required_words`` and
        ``preferred_spellings``. The settings refuse contradictions when they are set; one stored
        before that is resolved here so copy can still be written: a required word that is also
        banned is not required, and a spelling that would write a banned word or respell a
        required one is not applied."""
        banned = tuple(split_list(settings.get("banned_words", "")))
        required = []
        for word in split_list(settings.get("required_words", "")):
            clash = next((b for b in banned if uses(word, b, True)), None)
            if clash is None:
                required.append(word)
            else:
                logger.warning("required word %r uses the banned %r; it is not required", word, clash)
        spellings = []
        for wrong, right in spelling_pairs(settings.get("preferred_spellings", "")):
            if any(uses(right, b, True) for b in banned) or any(uses(r, wrong, True) for r in required):
                logger.warning("preferred spelling %r -> %r clashes with the banned or required words; "
                               "it is not applied", wrong, right)
            else:
                spellings.append((wrong, right))
        return cls(banned, tuple(required), tuple(spellings))


def style_problems(text: str, style: StyleGuide) -> list[str]:
    """One problem per banned word or phrase ``text`` uses (a final s included: banning "voucher"
    bans "vouchers"); lasting: no further text undoes it."""
    problems = []
    for word in style.banned:
        match = term_pattern(word, True).search(text)
        if match:
            problems.append(f"uses \u201c{match.group(0)}\u201d, which the workspace bans (banned_words)")
    return problems


def missing_required(text: str, style: StyleGuide) -> list[str]:
    """One problem per required word or phrase ``text`` leaves out. Not lasting: a variant still
    being written may add it, so previews are not held to these."""
    return [f"leaves out \u201c{word}\u201d, which the workspace requires (required_words)"
            for word in style.required if not uses(text, word)]


# Links, handles and hashtags keep their spelling: "#colourpop" and "colour.com" name something.
_NAME_BEFORE = "./@#"
_NAME_AFTER = re.compile(r"\.\w|@|/")


def apply_spellings(text: str, style: StyleGuide) -> str:
    """``text`` with each preferred spelling in place of the wrong one (whole words and their plural in
    s; Chinese anywhere). A replacement with capitals of its own (Wi-Fi, iPhone) is written as given;
    otherwise it takes the case of what it replaces: "E-mail" -> "Email", "COLOUR" -> "COLOR"."""
    if not style.spellings:
        return text
    # One pass over all of them, longest first, so a replacement is never replaced again.
    pairs = sorted(style.spellings, key=lambda pair: len(pair[0]), reverse=True)
    alternatives = (f"(?P<s{i}>{term_pattern(wrong, True).pattern})" for i, (wrong, _) in enumerate(pairs))
    pattern = re.compile("|".join(alternatives), re.IGNORECASE)

    def replace(match: re.Match[str]) -> str:
        found, start, end = match.group(0), match.start(), match.end()
        if (start and text[start - 1] in _NAME_BEFORE) or _NAME_AFTER.match(text, end):
            return found
        wrong, right = pairs[int((match.lastgroup or "s0")[1:])]
        if found[-1] in "sS" and wrong[-1] not in "sS":
            right += "s"  # the plural: colours -> colors
        return _cased(right, found)

    return pattern.sub(replace, text)


def _cased(right: str, found: str) -> str:
    if any(char.isupper() for char in right):
        return right
    if len(found) > 1 and found.isupper():
        return right.upper()
    if found[:1].isupper():
        return right[:1].upper() + right[1:]
    return right
