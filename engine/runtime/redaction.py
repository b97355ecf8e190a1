"""Quoting a bad setting back to whoever set it, without ever echoing a secret.

A token pasted into the wrong variable (``COPYBOT_SLACK_PORT=xoxb-…``) must not come back in the
error that says the port is wrong: error messages reach terminals, service logs and screenshots.
``shown_value`` quotes ordinary values as written and replaces anything that looks like a token,
key or secret with a description; the message still names the variable that is wrong.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

SECRET_NAME_ENDINGS = ("TOKEN", "SECRET", "KEY", "PASSWORD")
MIN_SECRET_LENGTH = 6
NOT_SHOWN = "a value that looks like a token or secret (not shown)"
LONGEST_SHOWN = 40

_SECRET_SHAPES = re.compile(
    r"\b(?:xox[a-z]-|xapp-|sk-|hf_|gh[pousr]_)|\bbearer\s", re.IGNORECASE)  # known token prefixes
_DISCORD_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{16,}")
_RANDOM_LOOKING = re.compile(r"[A-Za-z0-9_+/=.-]{24,}")


def secret_values(env: Mapping[str, str] | None = None) -> set[str]:
    """The values of the variables that hold secrets (names ending in TOKEN, SECRET, KEY, PASSWORD)."""
    env = os.environ if env is None else env
    return {value.strip() for name, value in env.items()
            if name.upper().endswith(SECRET_NAME_ENDINGS) and len(value.strip()) >= MIN_SECRET_LENGTH}


def looks_like_secret(value: str, env: Mapping[str, str] | None = None) -> bool:
    value = value.strip()
    if _SECRET_SHAPES.search(value) or _DISCORD_TOKEN.search(value):
        return True
    if any(secret in value for secret in secret_values(env)):
        return True
    # A long unbroken run of letters and digits (a signing secret, an API key) is not a setting.
    return any(re.search(r"[A-Za-z]", run) and re.search(r"\d", run)
               for run in _RANDOM_LOOKING.findall(value))


def shown_value(raw: str, env: Mapping[str, str] | None = None) -> str:
    """``raw`` quoted for an error message, or a description of it when it may be a secret."""
    if looks_like_secret(raw, env):
        return NOT_SHOWN
    value = raw.strip()
    return repr(value if len(value) <= LONGEST_SHOWN else value[:LONGEST_SHOWN] + "…")
