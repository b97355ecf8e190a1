"""The chat flow both platforms share: what happens between an adapter's translate and its render.

- ``messages``: every sentence the bot says about itself (not taken, interrupted, unknown variant…);
- ``verdicts``: which emoji and which button give which verdict, and a button's approve/reject swap;
- ``reactions``: reconciling a message's reactions with what the channel shows now;
- ``lanes``: carrying journaled events out in order per message, and the unfinished ones at start;
- ``live`` and ``runs``: a request or a turn written, streamed and posted over ``LiveCopy``.

The rule of thumb: adapter code that calls two engine methods in a row belongs here. Adapters keep
translating payloads, rendering markup and delivering messages.
"""
