"""Snapshots of the home page, both tabs, at 80×24 and 120×40."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from educonnect_tui.app import EduConnectApp
from tests.helpers import settle
from tests.snapshots.conftest import SIZES


@pytest.mark.parametrize("size", SIZES)
def test_home_pupils(snap_compare, principal_app: Callable[[], EduConnectApp], size) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(principal_app(), terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", SIZES)
def test_home_guardians(snap_compare, principal_app: Callable[[], EduConnectApp], size) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot):  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)

    assert snap_compare(principal_app(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_home_filtered_and_selected(
    snap_compare, principal_app: Callable[[], EduConnectApp], size
) -> None:  # type: ignore[no-untyped-def]
    """3e classes, red and yellow states, searched, two rows ticked: the notify workflow."""

    async def run_before(pilot):  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("c")
        for _ in range(18):
            await pilot.press("down")
        await pilot.press("space", "e", "space", "down", "space", "escape")
        await settle(pilot)
        await pilot.press("space", "space")
        await settle(pilot)

    assert snap_compare(principal_app(), terminal_size=size, run_before=run_before)
