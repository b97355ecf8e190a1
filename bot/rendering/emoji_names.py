"""Reaction emoji, as settings name them and as Slack and Discord send them, reduced to one form.

A workspace's ``approve_emoji`` / ``reject_emoji`` settings may hold Slack-style short names or
the emoji themselves (``white_check_mark,+1,✅,👍``). Slack's ``reaction_added`` carries a name,
sometimes with a skin tone (``+1::skin-tone-3``); Discord sends the emoji (``👍🏽``) or, for a
server's custom emoji, its name. ``canonical`` reduces each of these to one short name (the
gemoji alias Slack uses), so a reaction and a setting compare equal whichever form either is in.
"""

from __future__ import annotations

import emoji as emoji_data

# Slack accepts several names for one emoji and reports the first; map the others onto it.
NAME_ALIASES = {"thumbsup": "+1", "thumbsdown": "-1", "poop": "hankey", "shit": "hankey",
                "heavy_check": "heavy_check_mark"}

# Skin-tone modifiers and the text/emoji presentation selectors: 👍🏽 and ✔️ mean 👍 and ✔.
_IGNORED = {0xFE0E, 0xFE0F, *range(0x1F3FB, 0x1F400)}


def canonical(emoji: str) -> str:
    """One comparable form: ``":+1::skin-tone-2:"``, ``"thumbsup"`` and ``"👍🏽"`` all give ``"+1"``."""
    name = emoji.strip().strip(":").split("::")[0]
    name = "".join(char for char in name if ord(char) not in _IGNORED)
    if name.isascii():
        name = name.lower()
    if emoji_data.is_emoji(name):  # "✅" -> "white_check_mark": Slack's names are the gemoji aliases
        name = emoji_data.demojize(name, language="alias").strip(":")
    return NAME_ALIASES.get(name, name)


def canonical_set(setting: str) -> list[str]:
    """The distinct canonical names in a comma-separated setting, in their order."""
    names: list[str] = []
    for item in setting.split(","):
        if item.strip() and (name := canonical(item)) and name not in names:
            names.append(name)
    return names


def setting_names(setting: str) -> list[str]:
    """The items of a comma-separated setting, as written (without colons)."""
    return [name.strip().strip(":") for name in setting.split(",") if name.strip().strip(":")]


def unicode_for(name: str) -> str | None:
    """``white_check_mark`` -> ``✅``; ``None`` for a name that is not a standard emoji."""
    name = name.strip().strip(":")
    if not name.isascii():
        return name if emoji_data.is_emoji(name) else None
    found = emoji_data.emojize(f":{name}:", language="alias")
    return None if found == f":{name}:" else found


def faces(setting: str) -> list[str]:
    """The setting's emoji as people see them, without repeats: ``✅ 👍`` (custom ones as ``:name:``)."""
    seen: list[str] = []
    for name in setting_names(setting):
        face = unicode_for(name) or f":{name}:"
        if face not in seen:
            seen.append(face)
    return seen
