"""Snapshots of the staff screen, its add form, the credentials with their QR code and the
disable confirmation, at 80×24 and 120×40.

The credentials are random when the domain issues them: the QR picture is taken of
fixed credentials handed to the dialog, as the staff screen hands it what it got.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy import select

from educonnect_tui.app import EduConnectApp
from educonnect_tui.domain.access.staff import provisioning_uri
from educonnect_tui.domain.access.staff_accounts import IssuedCredentials
from educonnect_tui.domain.model.tables import Staff
from educonnect_tui.domain.store.services import Services
from educonnect_tui.screens.credentials import CredentialsScreen
from educonnect_tui.screens.staff import StaffScreen
from tests.conftest import DEMO_NOW
from tests.helpers import settle
from tests.snapshots.conftest import SIZES

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def fixed_credentials(*, password: bool = True, otp: bool = True) -> IssuedCredentials:
    return IssuedCredentials(
        staff_id=2,
        login="s.lemoine",
        display_name="Sandrine Lemoine",
        password="Kp7wXr4mNa9tQz" if password else None,
        password_until=DEMO_NOW + dt.timedelta(days=7) if password else None,
        totp_secret=SECRET if otp else None,
        provisioning_uri=provisioning_uri("s.lemoine", SECRET) if otp else None,
    )


async def _open_staff(pilot) -> None:  # type: ignore[no-untyped-def]
    await settle(pilot)
    await pilot.press("p")
    await settle(pilot)


async def _go_to(pilot, login: str) -> None:  # type: ignore[no-untyped-def]
    screen = pilot.app.screen
    assert isinstance(screen, StaffScreen)
    index = next(i for i, v in enumerate(screen.rows) if v.login == login)
    screen.query_one("#staff-table").move_cursor(row=index)
    await settle(pilot)


def _every_state(services: Services) -> None:
    """One person in each state, and one who has used their OTP key."""
    with services.sessions() as session, session.begin():
        by_login = {s.login: s for s in session.scalars(select(Staff))}
        by_login["a.guerin"].password_temporary_until = DEMO_NOW + dt.timedelta(days=5)
        by_login["j.morel"].password_temporary_until = DEMO_NOW - dt.timedelta(days=1)
        by_login["t.nguyen"].blocked_until = DEMO_NOW + dt.timedelta(minutes=25)
        by_login["e.vanderberg"].disabled_at = DEMO_NOW - dt.timedelta(days=3)
        by_login["k.haddad"].last_totp_step = 1
        by_login["k.haddad"].last_sign_in_at = DEMO_NOW - dt.timedelta(hours=2)
        by_login["k.haddad"].last_sign_in_source = "192.0.2.44 (SSH)"


@pytest.mark.parametrize("size", SIZES)
def test_staff_list(  # type: ignore[no-untyped-def]
    snap_compare, principal_app: Callable[[], EduConnectApp], demo_services: Services, size
) -> None:
    _every_state(demo_services)
    assert snap_compare(principal_app(), terminal_size=size, run_before=_open_staff)


@pytest.mark.parametrize("size", SIZES)
def test_staff_add_form(snap_compare, principal_app: Callable[[], EduConnectApp], size) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot):  # type: ignore[no-untyped-def]
        await _open_staff(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press("ctrl+s")  # no name: the French error shows in the form
        await settle(pilot)
        await pilot.press(*"Lucie", "enter", *"Fabre", "enter")
        await settle(pilot)

    assert snap_compare(principal_app(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_staff_credentials_with_qr(
    snap_compare, principal_app: Callable[[], EduConnectApp], size
) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot):  # type: ignore[no-untyped-def]
        await _open_staff(pilot)
        app = pilot.app
        app.push_screen(CredentialsScreen(app.services, fixed_credentials(), "Nouveau personnel"))
        await settle(pilot)

    assert snap_compare(principal_app(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_staff_new_password_without_qr(
    snap_compare, principal_app: Callable[[], EduConnectApp], size
) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot):  # type: ignore[no-untyped-def]
        await _open_staff(pilot)
        app = pilot.app
        issued = fixed_credentials(otp=False)
        app.push_screen(CredentialsScreen(app.services, issued, "Nouveau mot de passe provisoire"))
        await settle(pilot)

    assert snap_compare(principal_app(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_staff_disable_confirmation(
    snap_compare, principal_app: Callable[[], EduConnectApp], size
) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot):  # type: ignore[no-untyped-def]
        await _open_staff(pilot)
        await _go_to(pilot, "k.haddad")
        await pilot.press("x")
        await settle(pilot)

    assert snap_compare(principal_app(), terminal_size=size, run_before=run_before)
