"""Which verdict a reaction or a button gives, and a button press as a choice.

One rule for emoji on every platform: an emoji gives APPROVE when the workspace's
``approve_emoji`` lists it, REJECT when ``reject_emoji`` does, and nothing when neither or both
list it (a team that put 👍 in both lists has said nothing usable with it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from bot.rendering.emoji_names import canonical, canonical_set
from engine import Engine, Feedback, FeedbackOutcome, InboundEvent, Origin, Refinement, TurnKind, Verdict

# The buttons under a variant that are turns of its conversation, by action name.
BUTTON_TURNS = {"shorter": Refinement("Shorter", TurnKind.REWRITE, length_change=-1),
                "like": Refinement("More like this", TurnKind.LIKE)}
VERDICT_BUTTONS = {"approve": Verdict.APPROVE, "reject": Verdict.REJECT}


def verdict_for_emoji(emoji: str | None, settings: Mapping[str, str]) -> Verdict | None:
    """What a reaction means under a workspace's approve/reject emoji settings (``None``: nothing).
    ``emoji`` as the platform sends it: a Slack name (``+1::skin-tone-2``), a unicode emoji or a
    custom emoji's name; ``None`` or empty for a deleted custom emoji."""
    if not emoji:
        return None
    name = canonical(emoji)
    approves = name in canonical_set(settings.get("approve_emoji", ""))
    rejects = name in canonical_set(settings.get("reject_emoji", ""))
    if approves == rejects:  # neither, or configured as both: it says nothing we can use
        return None
    return Verdict.APPROVE if approves else Verdict.REJECT


def button_turn(action: str, variant_id: int) -> Refinement:
    """The turn a Shorter / More like this press asks for, aimed at its variant."""
    return replace(BUTTON_TURNS[action], targets=(variant_id,))


async def give_button_verdict(engine: Engine, origin: Origin, verdict: Verdict, message: str,
                              event: InboundEvent) -> FeedbackOutcome | None:
    """An Approve or Reject press on the variant ``message`` shows. A button is a choice: approving
    takes back this person's rejection, and the other way round. The pressed verdict finishes the
    journaled ``event`` in the same transaction. ``None``: the message shows no variant."""
    other = Verdict.REJECT if verdict is Verdict.APPROVE else Verdict.APPROVE
    await engine.record_feedback(Feedback(origin, other, added=False, message=message))
    return await engine.record_feedback(Feedback(origin, verdict, added=True, message=message), event=event)
