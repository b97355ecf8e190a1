"""The operations tests: copybot's own log is checked for secrets in every one of them."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_secret_in_any_log_line(captured_log):
    """tests/conftest.py's ``captured_log`` for every test here (JSON lines, no secret)."""
    yield captured_log
