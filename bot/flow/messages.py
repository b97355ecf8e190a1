"""What copybot says about itself in a channel, in one place: each a sentence that says what
happened and what to do. (What it says about a request's content comes from the engine's
``UserError`` sentences; ``bot.dispatch.failure_text`` picks between the two.)"""

GENERIC_FAILURE = "Sorry, something went wrong on our side; it has been logged. Please try again."
NOT_TAKEN = "copybot could not take that request just now; please send it again in a moment."
PRESS_NOT_TAKEN = "copybot could not take that press just now; please press it again in a moment."
INTERRUPTED = "copybot had to stop before finishing this; it will finish it once it is back."
RESTARTING = "copybot is restarting; try again in a minute."
NOT_SERVED = "copybot is not enabled in this channel; ask a server admin which channels it serves."
UNKNOWN_VARIANT = ("copybot has no variant #{id} on this message; react to a variant it posted, "
                   "or ask for new copy with /copy.")
NO_CONVERSATION = "This variant is not part of a conversation copybot can continue; ask with /copy."
