"""Snapshot sizes, and a steady cursor; the deterministic demo fixtures live in
tests/conftest.py."""

from __future__ import annotations

import pytest
from textual.widgets import Input

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


@pytest.fixture(autouse=True)
def no_cursor_blink(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every Input starts with a steady cursor: a blinking one would make a picture depend
    on the instant it is taken (under load the capture can fall in the "off" half)."""
    monkeypatch.setattr(Input.cursor_blink, "_default", False)
