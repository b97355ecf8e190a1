"""Workspace settings that admins change in chat (`/settings brand_voice: ...`), kept in SQLite.

Each setting has a default (deployment-wide, from the environment where one exists) and a
validator that turns bad input into one clear sentence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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
    )
}


def setting_spec(name: str) -> SettingSpec:
    spec = WORKSPACE_SETTINGS.get(name.strip().lower())
    if spec is None:
        raise UserError(f"There is no setting {name!r}; settings are: {', '.join(WORKSPACE_SETTINGS)}.")
    return spec


def with_defaults(stored: dict[str, str]) -> dict[str, str]:
    return {name: stored.get(name, spec.default) for name, spec in WORKSPACE_SETTINGS.items()}
