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


async def _every_state(pilot) -> None:  # type: ignore[no-untyped-def]
    """The Bertrand pupils are in all four states; two ticked, the cursor on a ticked one."""
    await settle(pilot)
    await pilot.press("slash", *"bertrand")
    await pilot.pause(0.3)
    await settle(pilot)
    await pilot.press("enter", "space", "space", "up")
    await settle(pilot)


@pytest.mark.parametrize("size", SIZES)
def test_home_every_state(snap_compare, principal_app: Callable[[], EduConnectApp], size) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(principal_app(), terminal_size=size, run_before=_every_state)


@pytest.mark.parametrize("size", SIZES)
def test_home_every_state_light_theme(
    snap_compare, principal_app: Callable[[], EduConnectApp], size
) -> None:  # type: ignore[no-untyped-def]
    """The darker shades of a light theme: yellow becomes ochre, readable on light grey."""

    async def run_before(pilot):  # type: ignore[no-untyped-def]
        pilot.app.theme = "textual-light"
        await _every_state(pilot)

    assert snap_compare(principal_app(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_home_guardians_contact_and_expiry_filters(
    snap_compare, principal_app: Callable[[], EduConnectApp], size
) -> None:  # type: ignore[no-untyped-def]
    """The guardians' tab, the pane open: « sans mobile » ticked, expiring within 30 days."""

    async def run_before(pilot):  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("m", "down", "down", "down", "space")
        await pilot.press("x", "3", "0", "enter")
        await pilot.pause(0.3)
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)

    assert snap_compare(principal_app(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_home_r_offers_only_guardians_not_yet_activated(
    snap_compare, principal_app: Callable[[], EduConnectApp], size
) -> None:  # type: ignore[no-untyped-def]
    """`r` on the first pupil: one parent to notify, the activated one greyed."""

    async def run_before(pilot):  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)

    assert snap_compare(principal_app(), terminal_size=size, run_before=run_before)
