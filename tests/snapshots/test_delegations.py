"""Snapshots of the delegation manager and its grant form, at 80×24 and 120×40."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from educonnect_tui.app import EduConnectApp
from tests.helpers import settle
from tests.snapshots.conftest import SIZES


@pytest.mark.parametrize("size", SIZES)
def test_delegations_list(snap_compare, principal_app: Callable[[], EduConnectApp], size) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot):  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("g")
        await settle(pilot)

    assert snap_compare(principal_app(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_delegations_grant_form(
    snap_compare, principal_app: Callable[[], EduConnectApp], size
) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot):  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("g")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press("ctrl+s")  # nothing chosen: the French error shows in the form
        await settle(pilot)
        await pilot.press("tab", "tab", "down", "space")  # 6E1 ticked: ✔, the others empty
        await settle(pilot)

    assert snap_compare(principal_app(), terminal_size=size, run_before=run_before)
