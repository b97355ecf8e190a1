"""Slack Web API failures a person can fix, turned into one sentence for them."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError

from engine import UserError

logger = logging.getLogger(__name__)

# Slack error code -> what the person in the channel can do about it.
FIXABLE = {
    "not_in_channel": "I am not in this channel yet; add me with /invite @copybot and try again.",
    "channel_not_found": "I cannot post here (a private channel or a DM I am not part of); add me "
                         "with /invite @copybot, or use the command in a channel I am in.",
    "is_archived": "This channel is archived; use the command in an active channel.",
    "restricted_action": "This workspace does not let me post in this channel; ask an admin.",
    "ratelimited": "Slack is limiting how fast I can post right now; try again in a minute.",
}


def as_user_error(exc: BaseException) -> BaseException:
    """``exc`` as a ``UserError`` when it is a Slack error the user can act on, else unchanged."""
    if isinstance(exc, SlackApiError):
        code = exc.response.get("error") if exc.response is not None else None
        if code in FIXABLE:
            logger.info("Slack refused a call: %s", code)
            return UserError(FIXABLE[code])
    return exc
