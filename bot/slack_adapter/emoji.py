"""Emoji names as Slack sends them, and the same emoji typed as unicode (the form Discord uses).

A workspace's ``approve_emoji`` / ``reject_emoji`` settings may hold either form ("white_check_mark",
"✅", "+1", "👍"); Slack's ``reaction_added`` always carries the name, sometimes with a skin tone
("+1::skin-tone-3"). Both sides are reduced to one canonical Slack name before they are compared.
"""

from __future__ import annotations

import emoji as emoji_data

# Slack accepts several names for one emoji and reports the first; map the others onto it.
NAME_ALIASES = {"thumbsup": "+1", "thumbsdown": "-1", "poop": "hankey", "shit": "hankey",
                "heavy_check": "heavy_check_mark"}

_VARIATION_SELECTOR = "\ufe0f"
_SKIN_TONES = {chr(code) for code in range(0x1F3FB, 0x1F400)}


def canonical(emoji: str) -> str:
    """One comparable form: ``":+1::skin-tone-2:"``, ``"thumbsup"`` and ``"👍🏽"`` all give ``"+1"``."""
    name = emoji.strip().strip(":").split("::")[0]
    name = "".join(char for char in name if char != _VARIATION_SELECTOR and char not in _SKIN_TONES)
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


def shown(name: str) -> str:
    """How Slack text shows an emoji: ``:name:`` renders as the picture; unicode stays as it is."""
    return f":{name}:" if name.isascii() else name
