"""Engine results as chat text, laid out once for every platform.

The engine returns data (``ReviewSummary``, ``WeeklyReport``); these modules lay it out as lines,
and each adapter supplies its ``Markup``: how it writes bold, how text from users or the model is
escaped (exactly once), how a person is named. ``bot/slack_adapter/render.py``,
``bot/discord_adapter/render.py`` and the console call them with their own markup and limits.
"""
