"""Errors meant for people.

A ``UserError`` carries one sentence that says what is wrong and what is allowed; adapters show its
text as it is. Any other exception is a bug: it is logged with its traceback and the user sees a
generic apology, never the exception text.
"""


class UserError(Exception):
    """Something the user can fix; ``str(error)`` is shown to them verbatim."""


class BusyError(UserError):
    """The generator queue is full; the user should retry shortly."""


class EventNotStored(Exception):
    """An inbound platform event could not be committed to the journal (the database stayed locked
    past the busy timeout, the disk is full). The adapter must not acknowledge it: Slack then sends
    it again, and a Discord user is told to retry."""
