"""Reaction emoji as settings name them and as Discord sends them.

Settings hold names such as ``white_check_mark,+1,✅,👍`` (Slack-style short names or the emoji
itself). Discord sends the unicode emoji (``✅``; ``👍🏽`` with a skin tone) or, for a server's custom
emoji, its name. Both sides are reduced to one key so they compare equal.
"""

from __future__ import annotations

import emoji

# Skin-tone modifiers and the text/emoji presentation selectors: 👍🏽 and ✔️ mean 👍 and ✔.
_IGNORED = {0xFE0E, 0xFE0F, *range(0x1F3FB, 0x1F400)}


def key(text: str) -> str:
    """The form two reactions are compared in."""
    if text.isascii():
        return text.strip().strip(":").lower()  # a short name, or a custom emoji's name
    return "".join(char for char in text if ord(char) not in _IGNORED)


def unicode_for(name: str) -> str | None:
    """``white_check_mark`` -> ``✅``; ``None`` for a name that is not a standard emoji."""
    name = name.strip().strip(":")
    if not name.isascii():
        return name if emoji.is_emoji(name) else None
    found = emoji.emojize(f":{name}:", language="alias")
    return None if found == f":{name}:" else found


def setting_names(setting: str) -> list[str]:
    return [name.strip().strip(":") for name in setting.split(",") if name.strip().strip(":")]


def setting_keys(setting: str) -> frozenset[str]:
    """Every key a reaction may have to count for this setting (short names match both ways)."""
    keys = set()
    for name in setting_names(setting):
        keys.add(key(name))
        unicode = unicode_for(name)
        if unicode is not None:
            keys.add(key(unicode))
    return frozenset(keys)


def shown(setting: str) -> list[str]:
    """The setting's emoji as people see them, without repeats: ``✅ 👍`` (custom ones as ``:name:``)."""
    seen: list[str] = []
    for name in setting_names(setting):
        face = unicode_for(name) or f":{name}:"
        if face not in seen:
            seen.append(face)
    return seen
