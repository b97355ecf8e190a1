"""Bytes of an uploaded review file -> text: BOMs, UTF-8, BOM-less UTF-16, then the legacy
encoding charset-normalizer finds most likely among those review exports come in (Windows-1252,
GB18030/GBK, Big5, Shift-JIS, EUC-KR, Windows-1251), Windows-1252 when it cannot tell; binary
files (archives, spreadsheets, images) are refused with a sentence."""

from __future__ import annotations

import logging

from engine.errors import UserError

logger = logging.getLogger(__name__)

#: uploads larger than this are refused before decoding (the adapters' own limits are lower:
#: Slack 5 MB, Discord 25 MiB)
MAX_INPUT_BYTES = 50 * 1024 * 1024

_BINARY_SIGNATURES = (
    (b"PK\x03\x04", "a ZIP archive or an Excel/Word file"),
    (b"%PDF", "a PDF"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\xd0\xcf\x11\xe0", "an old Excel/Word file"),
    (b"SQLite format 3", "a SQLite database"),
)
_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)
#: legacy encodings a review export may be in, and their names in what the bot says
LEGACY_ENCODINGS = {"cp1252": "Windows-1252", "gb18030": "GB18030 (GBK)", "big5": "Big5",
                    "shift_jis": "Shift-JIS", "euc_kr": "EUC-KR", "cp1251": "Windows-1251"}


def encoding_name(encoding: str) -> str:
    """How the bot names an encoding it read a file in ("gb18030" -> "GB18030 (GBK)")."""
    return LEGACY_ENCODINGS.get(encoding, encoding.upper())


# ---------------------------------------------------------------- decoding


def decode(data: bytes) -> tuple[str, str]:
    """Return (text, encoding). Tries BOMs, UTF-8, BOM-less UTF-16, then Windows-1252."""
    if len(data) > MAX_INPUT_BYTES:
        raise UserError(
            f"The file is {len(data) / 1048576:.0f} MB; review files can be at most {MAX_INPUT_BYTES // 1048576} MB."
        )
    for signature, kind in _BINARY_SIGNATURES:
        if data.startswith(signature):
            raise UserError(f"This file looks like {kind}, not text; upload reviews as a CSV or plain-text file.")
    candidates: list[str] = []
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            candidates.append(encoding)
            break
    else:
        head = data[:4000]
        if head and head.count(0) > len(head) // 4:
            # BOM-less UTF-16: every other byte of ASCII text is zero
            even, odd = head[0::2].count(0), head[1::2].count(0)
            candidates.append("utf-16-be" if even > odd else "utf-16-le")
        candidates += ["utf-8", *_legacy_guess(data), "cp1252"]
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except (UnicodeDecodeError, ValueError):
            continue
        if _looks_binary(text):
            continue
        return text, encoding
    raise UserError(
        "This file is not readable text (not UTF-8, UTF-16, Windows-1252 or GBK, or it is binary); "
        "save it as UTF-8 CSV or plain text and upload it again."
    )


def _legacy_guess(data: bytes) -> list[str]:
    """charset-normalizer's most likely legacy encoding of ``data`` (none when it finds none)."""
    from charset_normalizer import from_bytes

    best = from_bytes(data[:200_000], cp_isolation=list(LEGACY_ENCODINGS)).best()
    if best is None or best.encoding not in LEGACY_ENCODINGS:
        return []
    return [best.encoding]


def _looks_binary(text: str) -> bool:
    if "\x00" in text:
        return True
    sample = text[:20000]
    if not sample:
        return False
    control = sum(1 for c in sample if (ord(c) < 32 and c not in "\t\n\r\f\v") or 0x7F <= ord(c) < 0xA0)
    return control > max(2, len(sample) // 100)
