"""Snapshots of the dépannage screen (results) and of the one-time password window,
at 80×24 and 120×40, on the deterministic demo with a fixed password."""

from __future__ import annotations

import pytest

from educonnect_tui.app import create_app
from educonnect_tui.demo import college as demo
from educonnect_tui.domain.access import passwords
from educonnect_tui.domain.access.network import NetworkMode
from educonnect_tui.domain.model.enums import Module
from educonnect_tui.domain.store.services import Services
from tests import factories
from tests.helpers import settle
from tests.snapshots.conftest import SIZES


def _agent_app(services: Services):  # type: ignore[no-untyped-def]
    session = factories.signed_in(
        services, "t.nguyen", demo.COLLEGE_UAI, mode=NetworkMode.OTP, module=Module.DEPANNAGE
    )
    return create_app(services, signed_in=session)


async def _search(pilot, text: str) -> None:  # type: ignore[no-untyped-def]
    await settle(pilot)
    await pilot.press(*text)
    await pilot.pause(0.3)
    await settle(pilot)


@pytest.mark.parametrize("size", SIZES)
def test_helpdesk_results(snap_compare, demo_services: Services, size) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot):  # type: ignore[no-untyped-def]
        await _search(pilot, "martin")

    assert snap_compare(_agent_app(demo_services), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_helpdesk_password(snap_compare, demo_services: Services, size, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(passwords, "generate_temporary_password", lambda: "k7mzp4xqa9")

    async def run_before(pilot):  # type: ignore[no-untyped-def]
        await _search(pilot, "3e2 martin")
        await pilot.press("enter", "enter")
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(_agent_app(demo_services), terminal_size=size, run_before=run_before)


def _limited_agent_app(services: Services):  # type: ignore[no-untyped-def]
    session = factories.signed_in(
        services, "j.morel", demo.COLLEGE_UAI, mode=NetworkMode.OTP, module=Module.DEPANNAGE
    )
    return create_app(services, signed_in=session)


@pytest.mark.parametrize("size", SIZES)
def test_helpdesk_whole_class(snap_compare, demo_services: Services, size) -> None:  # type: ignore[no-untyped-def]
    """A class search lists the whole class, counted; at 120 columns the birth dates too."""

    async def run_before(pilot):  # type: ignore[no-untyped-def]
        await _search(pilot, "3e2")

    assert snap_compare(_agent_app(demo_services), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_helpdesk_nothing_in_the_delegation(snap_compare, demo_services: Services, size) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot):  # type: ignore[no-untyped-def]
        await _search(pilot, "bourgeois")  # pupils of other classes: not said

    assert snap_compare(
        _limited_agent_app(demo_services), terminal_size=size, run_before=run_before
    )


@pytest.mark.parametrize("size", SIZES)
def test_helpdesk_unblock_confirmation(snap_compare, demo_services: Services, size) -> None:  # type: ignore[no-untyped-def]
    """A blocked pupil, the longest identifier of its list, then `u`: the birth date to check."""

    async def run_before(pilot):  # type: ignore[no-untyped-def]
        await _search(pilot, "a.bourgeoismeunier")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)

    assert snap_compare(_agent_app(demo_services), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_helpdesk_account_window(snap_compare, demo_services: Services, size) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot):  # type: ignore[no-untyped-def]
        await _search(pilot, "a.bourgeoismeunier")
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(_agent_app(demo_services), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_helpdesk_long_identifiers(snap_compare, principal_app, size) -> None:  # type: ignore[no-untyped-def]
    """From the administration module (pupils and guardians): 24-letter identifiers whole."""

    async def run_before(pilot):  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("d")
        await _search(pilot, "desaint")

    assert snap_compare(principal_app(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_helpdesk_first_pages(snap_compare, demo_services: Services, size) -> None:  # type: ignore[no-untyped-def]
    """More matches than a page: the count of all, how many are shown, the rest on scrolling."""

    async def run_before(pilot):  # type: ignore[no-untyped-def]
        await _search(pilot, "l")

    assert snap_compare(_agent_app(demo_services), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_helpdesk_delegation_hint(snap_compare, demo_services: Services, size) -> None:  # type: ignore[no-untyped-def]
    """A class-limited agent opens the dépannage: the hint names the delegation's classes."""

    async def run_before(pilot):  # type: ignore[no-untyped-def]
        await settle(pilot)

    assert snap_compare(
        _limited_agent_app(demo_services), terminal_size=size, run_before=run_before
    )


@pytest.mark.parametrize("size", SIZES)
def test_helpdesk_guardians_found_through_a_child(snap_compare, principal_app, size) -> None:  # type: ignore[no-untyped-def]
    """« martin » from the administration module: Mme Masson is there for Lucas MARTIN,
    and says so with his class; the Martins found by their own name name no child."""

    async def run_before(pilot):  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("d")
        await _search(pilot, "martin")

    assert snap_compare(principal_app(), terminal_size=size, run_before=run_before)
