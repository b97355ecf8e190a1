"""Workspace settings that admins change in chat (`/settings brand_voice: ...`), kept in SQLite.

Each setting has a default (deployment-wide, from the environment where one exists) and a
validator that turns bad input into one clear sentence.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.copy.compliance import spelling_pairs, split_list, split_pair, uses
from engine.errors import UserError


def _text(limit: int) -> Callable[[str], str]:
    def validate(value: str) -> str:
        value = " ".join(value.split())
        if len(value) > limit:
            raise UserError(f"That is {len(value)} characters; this setting takes at most {limit}.")
        return value

    return validate


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(
            f"{value!r} is not a time zone; use an IANA name such as Europe/Berlin or America/New_York."
        ) from None
    return value.strip()


def _emoji_list(value: str) -> str:
    names = [name.strip().strip(":") for name in value.replace(" ", ",").split(",") if name.strip()]
    if not names or len(names) > 5:
        raise UserError("Give one to five emoji names separated by commas, e.g. white_check_mark, +1.")
    return ",".join(names)


# The style guide's word lists (engine/copy/compliance.py reads them: split_list, spelling_pairs).
# Stored normalised: "cheap, 便宜" and "e-mail -> email, colour -> color".
MAX_BANNED, MAX_BANNED_CHARS = 50, 40
# Every variant must contain each required item, so a short ad holds only a few (a tagline, a
# hashtag, a disclaimer such as "Terms apply.", the longest).
MAX_REQUIRED, MAX_REQUIRED_CHARS = 5, 100
MAX_SPELLINGS, MAX_SPELLING_CHARS = 50, 40


def _word_list(limit: int, item_chars: int) -> Callable[[str], str]:
    def validate(value: str) -> str:
        items = split_list(value)
        if len(items) > limit:
            raise UserError(f"That is {len(items)} items; this setting takes at most {limit}, separated by commas.")
        for item in items:
            if len(item) > item_chars:
                raise UserError(f"{item!r} is {len(item)} characters; each item takes at most {item_chars}.")
        return ", ".join(items)

    return validate


def _spellings(value: str) -> str:
    items = split_list(value)
    if len(items) > MAX_SPELLINGS:
        raise UserError(f"That is {len(items)} pairs; this setting takes at most {MAX_SPELLINGS}, separated by commas.")
    pairs: dict[str, tuple[str, str]] = {}
    for item in items:
        wrong, right = split_pair(item)
        if not right:
            raise UserError(f"{item!r} has no right-hand side; write each pair as wrong -> right, "
                            "e.g. colour -> color.")
        if not wrong:
            raise UserError(f"{item!r} has no left-hand side; write each pair as wrong -> right, "
                            "e.g. colour -> color.")
        for word in (wrong, right):
            if len(word) > MAX_SPELLING_CHARS:
                raise UserError(f"{word!r} is {len(word)} characters; each spelling takes at most "
                                f"{MAX_SPELLING_CHARS}.")
        if wrong.casefold() == right.casefold():
            raise UserError(f"{item!r} changes nothing; give the spelling to replace, then the one you prefer.")
        if wrong.casefold() in pairs:
            raise UserError(f"{wrong!r} is given two spellings; keep one pair for it.")
        pairs[wrong.casefold()] = (wrong, right)
    return ", ".join(f"{wrong} -> {right}" for wrong, right in pairs.values())


@dataclass(frozen=True)
class SettingSpec:
    name: str
    description: str
    default: str
    validate: Callable[[str], str]


WORKSPACE_SETTINGS: dict[str, SettingSpec] = {
    spec.name: spec
    for spec in (
        SettingSpec("brand_voice", "a short description of your brand's voice, used in every /copy",
                    "", _text(300)),
        SettingSpec("report_channel", "the channel the weekly report is posted to", "", _text(100)),
        SettingSpec("timezone", "the workspace's time zone (IANA name)", "UTC", _timezone),
        SettingSpec("approve_emoji", "reactions that approve a variant",
                    "white_check_mark,+1,✅,👍", _emoji_list),
        SettingSpec("reject_emoji", "reactions that reject a variant", "x,-1,❌,👎", _emoji_list),
        SettingSpec("banned_words", "words and phrases no variant may use, comma-separated", "",
                    _word_list(MAX_BANNED, MAX_BANNED_CHARS)),
        SettingSpec("required_words", "words every variant must include (a tagline, hashtag or disclaimer), "
                    "comma-separated", "", _word_list(MAX_REQUIRED, MAX_REQUIRED_CHARS)),
        SettingSpec("preferred_spellings", "spellings fixed in delivered copy, comma-separated wrong -> right "
                    "pairs (e-mail -> email)", "", _spellings),
    )
}


def setting_spec(name: str) -> SettingSpec:
    spec = WORKSPACE_SETTINGS.get(name.strip().lower())
    if spec is None:
        raise UserError(f"There is no setting {name!r}; settings are: {', '.join(WORKSPACE_SETTINGS)}.")
    return spec


def with_defaults(stored: dict[str, str]) -> dict[str, str]:
    return {name: stored.get(name, spec.default) for name, spec in WORKSPACE_SETTINGS.items()}


def check_together(settings: Mapping[str, str]) -> None:
    """Raise ``UserError`` when the style-guide settings contradict each other (a validator sees
    one setting only): a required word that is or contains a banned one would refuse every
    variant, a spelling that writes a banned word would put it into delivered copy, and one that
    respells a required word would take it out again."""
    banned = split_list(settings.get("banned_words", ""))
    required = split_list(settings.get("required_words", ""))
    for word in required:
        clash = next((b for b in banned if uses(word, b, True)), None)
        if clash is not None and clash.casefold() == word.casefold():
            raise UserError(f"{word!r} is both banned and required; remove it from banned_words or required_words.")
        if clash is not None:
            raise UserError(f"The required {word!r} contains the banned {clash!r}; change banned_words or "
                            "required_words.")
    for wrong, right in spelling_pairs(settings.get("preferred_spellings", "")):
        clash = next((b for b in banned if uses(right, b, True)), None)
        if clash is not None:
            raise UserError(f"preferred_spellings turns {wrong!r} into {right!r}, which uses the banned {clash!r}; "
                            "change one of them.")
        if any(uses(word, wrong, True) for word in required):
            raise UserError(f"preferred_spellings respells {wrong!r}, which a required word contains; "
                            "change one of them.")


def validate_setting(name: str, value: str, current: Mapping[str, str]) -> str:
    """``value`` for setting ``name`` validated and normalised, checked against the workspace's
    ``current`` settings too (what ``Engine.change_setting`` should store)."""
    spec = setting_spec(name)
    clean = spec.validate(value)
    check_together({**current, spec.name: clean})
    return clean
