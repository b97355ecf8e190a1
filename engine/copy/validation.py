"""Checks on what people type, shared by every adapter and the CLI: one clear sentence per problem."""

from __future__ import annotations

import html
import re
import unicodedata

from engine.errors import UserError
from engine.types import CopyRequest

MAX_PRODUCT_CHARS = 1000
MAX_OPTION_CHARS = {"tone": 60, "audience": 120, "channel": 40, "length": 20, "name": 60}
MIN_VARIANTS, MAX_VARIANTS = 1, 10
# What `language:` accepts, and the code each name stands for.
LANGUAGES = {"en": "en", "english": "en", "英文": "en", "英语": "en",
             "zh": "zh", "chinese": "zh", "cn": "zh", "中文": "zh", "汉语": "zh", "zh-cn": "zh"}


def language_code(value: str) -> str:
    code = LANGUAGES.get(value.strip().lower())
    if code is None:
        raise UserError(f"language: {value[:30]!r} is not one copybot writes; use en (English) or "
                        "zh (中文).")
    return code


# Invisible characters that change how text reads without being seen: bidirectional overrides
# and isolates (a product name shown backwards, "Trojan Source") and zero-width spaces/joiners
# pasted in from documents. The zero-width joiner (U+200D) stays: emoji sequences need it.
INVISIBLE = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C,
                           0x200B, 0x200C, 0x2060, 0xFEFF])


def strip_invisible(text: str) -> str:
    """``text`` without the invisible direction and zero-width characters (``INVISIBLE``)."""
    return text.translate(INVISIBLE)


def clean_text(value: str, what: str) -> str:
    """Reject text no person meant to send (control characters, broken Unicode); drop invisible
    direction overrides and zero-width characters; fold whitespace."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise UserError(f"The {what} is not valid UTF-8 text; send plain text.") from None
    for char in value:
        if char in "\n\r\t":
            continue
        if unicodedata.category(char) in ("Cc", "Cs", "Co") or char == "\ufffd":
            raise UserError(
                f"The {what} contains a control character (U+{ord(char):04X}); send plain text."
            )
    return " ".join(strip_invisible(value).split())


# A pasted page escapes its text (``what&#39;s``, ``&amp;``); a brief is never HTML on purpose.
_ENTITY = re.compile(r"&(?:#\d{1,7}|#x[0-9a-fA-F]{1,6}|[a-zA-Z]{2,8});")


def clean_brief(value: str) -> str:
    """``clean_text`` for a description, keeping its lines: bullets, attribute lists and pasted
    pages are read line by line (``engine.copy.brief``). HTML entities are decoded; blank lines
    and the spaces inside each line are folded."""
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    if _ENTITY.search(text):
        text = html.unescape(text)
    lines = [clean_text(line, "product description") for line in text.split("\n")]
    return "\n".join(line for line in lines if line)


def validate_copy_request(request: CopyRequest) -> CopyRequest:
    product = clean_brief(request.product)
    if not product:
        raise UserError("Tell me what to write about: /copy <product description>, e.g. "
                        "/copy bamboo toothbrush that lasts a year tone: playful.")
    if len(product) > MAX_PRODUCT_CHARS:
        raise UserError(
            f"The product description is {len(product):,} characters; keep it to "
            f"{MAX_PRODUCT_CHARS:,} or fewer."
        )
    options = {}
    for name, field in (("tone", "tone"), ("audience", "audience"), ("channel", "ad_channel"),
                        ("length", "length"), ("name", "name")):
        value = getattr(request, field)
        if value is None:
            continue
        value = clean_text(value, f"{name}: option")
        if not value:
            raise UserError(f"The {name}: option is empty; give it a value or leave it out.")
        if len(value) > MAX_OPTION_CHARS[name]:
            raise UserError(
                f"The {name}: option is {len(value)} characters; keep it to {MAX_OPTION_CHARS[name]}."
            )
        options[field] = value
    if not isinstance(request.n, int) or not MIN_VARIANTS <= request.n <= MAX_VARIANTS:
        raise UserError(f"n: must be a whole number from {MIN_VARIANTS} to {MAX_VARIANTS}; got {request.n}.")
    if request.language is not None:
        options["language"] = language_code(clean_text(request.language, "language: option"))
    return CopyRequest(product=product, n=request.n, from_reviews=bool(request.from_reviews), **options)
