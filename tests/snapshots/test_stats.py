"""Snapshots of the statistics panel at 80×24 and 120×40, on the deterministic demo.

The panel refreshes itself every few seconds; with the demo's fixed clock and nobody
changing the database, a refresh finds the same figures and repaints nothing.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from educonnect_tui.app import EduConnectApp
from tests.helpers import settle
from tests.snapshots.conftest import SIZES


@pytest.mark.parametrize("size", SIZES)
def test_stats_panel(snap_compare, principal_app: Callable[[], EduConnectApp], size) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot):  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)

    assert snap_compare(principal_app(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_stats_panel_sorted_and_scrolled_to_pass_culture(
    snap_compare, principal_app: Callable[[], EduConnectApp], size
) -> None:  # type: ignore[no-untyped-def]
    """Sorted by pupils' rate (classes to chase first), then tab to the pass Culture list."""

    async def run_before(pilot):  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        await pilot.press("o", "tab")
        await settle(pilot)

    assert snap_compare(principal_app(), terminal_size=size, run_before=run_before)
