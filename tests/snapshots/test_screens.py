"""Snapshots of every other screen at 80×24 and 120×40: login (OTP and administrative
network, a blocked account's wait), school picker, (re)Notifier confirmation and
progress, account detail, help."""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyotp
import pytest
from sqlalchemy import select

from educonnect_tui.app import EduConnectApp, create_app
from educonnect_tui.demo import college as demo
from educonnect_tui.domain.access.caller import SignedIn
from educonnect_tui.domain.access.network import Connection
from educonnect_tui.domain.access.staff import renew_credentials
from educonnect_tui.domain.accounts import notification
from educonnect_tui.domain.model.tables import Staff
from educonnect_tui.domain.store.services import Services
from tests import factories
from tests.helpers import settle
from tests.snapshots.conftest import SIZES

OUTSIDE = Connection(address="203.0.113.5", via_ssh=True)


@pytest.mark.parametrize("size", SIZES)
def test_login_with_otp(snap_compare, demo_services: Services, size) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot):  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press(*"p.marchand", "enter")

    app = create_app(demo_services, connection=OUTSIDE)
    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_login_wrong_password(snap_compare, demo_services: Services, size) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot):  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press(*"p.marchand", "enter", *"mauvais", "enter", *"123456", "enter")
        await settle(pilot)

    app = create_app(demo_services, connection=OUTSIDE)
    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_login_blocked_shows_the_whole_wait(snap_compare, demo_services: Services, size) -> None:  # type: ignore[no-untyped-def]
    """The block's message wraps: its end, the time to come back, is on screen."""

    async def run_before(pilot):  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press(*"p.marchand", "tab")
        for _ in range(5):
            await pilot.press(*"mauvais", "tab", *"123456", "enter")
            await settle(pilot)

    app = create_app(demo_services, connection=OUTSIDE)
    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_login_refused_without_delegation(snap_compare, demo_services: Services, size) -> None:  # type: ignore[no-untyped-def]
    """j.morel holds only the dépannage of 3E2: told so, and what to choose, in French."""
    with demo_services.sessions() as session, session.begin():
        member = session.scalars(select(Staff).where(Staff.login == "j.morel")).one()
        agent = renew_credentials(member, demo_services.hash_params)
    code = pyotp.TOTP(agent.totp_secret).at(demo_services.clock())

    async def run_before(pilot):  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press(*agent.login, "enter", *agent.password, "enter", *code, "enter")
        await settle(pilot)

    app = create_app(demo_services, connection=OUTSIDE)
    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_login_from_admin_network(snap_compare, demo_services: Services, size) -> None:  # type: ignore[no-untyped-def]
    demo_services.settings.local_console_is_admin_network = True
    app = create_app(demo_services, connection=Connection(address=None, via_ssh=False))
    assert snap_compare(app, terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", SIZES)
def test_school_picker(snap_compare, demo_services: Services, size) -> None:  # type: ignore[no-untyped-def]
    session = factories.signed_in(demo_services, "s.lemoine", demo.COLLEGE_UAI)
    before_choice = SignedIn(
        session.identity, session.network_mode, session.connection, session_id=session.session_id
    )
    app = create_app(demo_services, signed_in=before_choice)
    assert snap_compare(app, terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", SIZES)
def test_school_switch(snap_compare, demo_services: Services, size) -> None:  # type: ignore[no-untyped-def]
    """The deputy of two schools, on the collège, about to move to the école (ctrl+t)."""
    session = factories.signed_in(demo_services, "s.lemoine", demo.COLLEGE_UAI)
    app = create_app(demo_services, signed_in=session)

    async def run_before(pilot):  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("ctrl+t")
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


def fixed_output_dir() -> Path:
    """A folder that exists on every machine, always named the same: the dialogs print it
    (and refuse a missing one), so a per-test temporary folder would change the image."""
    folder = Path(tempfile.gettempdir()) / "educonnect-snapshots"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


async def _to_3e(pilot) -> None:  # type: ignore[no-untyped-def]
    await settle(pilot)
    await pilot.press("c", *["down"] * 18, "space", "escape")
    await settle(pilot)


@pytest.mark.parametrize("size", SIZES)
def test_notify_confirmation(  # type: ignore[no-untyped-def]
    snap_compare, principal_app: Callable[[], EduConnectApp], demo_services: Services, size
) -> None:
    demo_services.settings.output_dir = fixed_output_dir()

    async def run_before(pilot):  # type: ignore[no-untyped-def]
        await _to_3e(pilot)
        await pilot.press("n")
        await settle(pilot)

    assert snap_compare(principal_app(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_notify_confirmation_reminder_by_auto(  # type: ignore[no-untyped-def]
    snap_compare, principal_app: Callable[[], EduConnectApp], demo_services: Services, size
) -> None:
    """The guardians of 3e, from the keyboard only: « Automatique » chosen, the reset box
    unticked; the counts by channel and « aucun mot de passe ne sera modifié »."""
    demo_services.settings.output_dir = fixed_output_dir()

    async def run_before(pilot):  # type: ignore[no-untyped-def]
        await _to_3e(pilot)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press("shift+tab", "down", "down", "space", "shift+tab", "space")
        await settle(pilot)

    assert snap_compare(principal_app(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_notify_confirmation_of_activated_accounts(  # type: ignore[no-untyped-def]
    snap_compare, principal_app: Callable[[], EduConnectApp], demo_services: Services, size
) -> None:
    """The activated guardians of 3e only: their number to type, « Notifier » greyed."""
    demo_services.settings.output_dir = fixed_output_dir()

    async def run_before(pilot):  # type: ignore[no-untyped-def]
        await _to_3e(pilot)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("e", "down", "down", "space", "escape")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)

    assert snap_compare(principal_app(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_notify_in_progress(  # type: ignore[no-untyped-def]
    snap_compare, principal_app: Callable[[], EduConnectApp], size, monkeypatch
) -> None:
    """The job held after 12 accounts: the bar, the phase and the way out."""
    gate = threading.Event()
    real_notify = notification.notify

    def held(*args: Any, **kwargs: Any) -> Any:
        progress = kwargs["progress"]

        def gated(phase: str, done: int, total: int) -> None:
            if phase == "hachage" and done >= 12:
                progress(phase, 12, total)
                gate.wait(3)
                raise notification.Cancelled("arrêt du test")
            progress(phase, done, total)

        kwargs["progress"] = gated
        return real_notify(*args, **kwargs)

    monkeypatch.setattr(notification, "notify", held)

    async def run_before(pilot):  # type: ignore[no-untyped-def]
        await _to_3e(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press("enter")
        await pilot.pause(0.5)

    try:
        assert snap_compare(principal_app(), terminal_size=size, run_before=run_before)
    finally:
        gate.set()


@pytest.mark.parametrize("size", SIZES)
def test_account_detail(snap_compare, principal_app: Callable[[], EduConnectApp], size) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot):  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("down", "down", "enter")
        await settle(pilot)

    assert snap_compare(principal_app(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_help(snap_compare, principal_app: Callable[[], EduConnectApp], size) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot):  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)

    assert snap_compare(principal_app(), terminal_size=size, run_before=run_before)
