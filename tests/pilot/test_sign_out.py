"""Leaving and changing school without quitting the TUI, with the demo's staff.

Sign-out (ctrl+l or the palette) goes back to an empty login screen with nothing of the
person left: no screen of theirs in the stack, no session on the app, their screens
collected. The deputy of two schools changes school (ctrl+t or the palette) on the same
sign-in: no password, no new code. Both are audited.
"""

from __future__ import annotations

from collections.abc import Callable

import pyotp
import pytest
from sqlalchemy import select
from textual.widgets import Input, OptionList

from educonnect_tui.app import EduConnectApp, create_app
from educonnect_tui.demo import college as demo
from educonnect_tui.demo.college_build import ECOLE_UAI
from educonnect_tui.domain.access.caller import SignedIn
from educonnect_tui.domain.access.network import Connection
from educonnect_tui.domain.access.staff import NewStaff, renew_credentials
from educonnect_tui.domain.accounts.listing import PupilRow
from educonnect_tui.domain.model.tables import AuditEvent, Staff
from educonnect_tui.domain.store.services import Services
from educonnect_tui.screens.detail import DetailScreen
from educonnect_tui.screens.home import HomeScreen
from educonnect_tui.screens.login import LoginScreen
from educonnect_tui.screens.notify import NotifyConfirmScreen
from educonnect_tui.screens.school_picker import SchoolPickerScreen, SchoolSwitchScreen
from tests.helpers import settle, sync

OUTSIDE = Connection(address="203.0.113.5", via_ssh=True)
AppFactory = Callable[[], EduConnectApp]


def _events(services: Services) -> list[AuditEvent]:
    with services.sessions() as session:
        return list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def _credentials(services: Services, login: str) -> NewStaff:
    with services.sessions() as session, session.begin():
        member = session.scalars(select(Staff).where(Staff.login == login)).one()
        return renew_credentials(member, services.hash_params)


def _home(app: EduConnectApp) -> HomeScreen:
    assert isinstance(app.screen, HomeScreen), app.screen
    return app.screen


def _commands(app: EduConnectApp) -> set[str]:
    return {c.title for c in app.get_system_commands(app.screen)}


@sync
async def test_sign_out_leaves_an_empty_login_and_nothing_of_the_session(
    principal_app: AppFactory, demo_services: Services
) -> None:
    app = principal_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        home = _home(app)
        assert "Déconnexion" in _commands(app)
        await pilot.press("enter")  # an account's detail over the list
        await settle(pilot)
        detail = app.screen
        assert isinstance(detail, DetailScreen)
        app.notify("Fiche écrite\u00a0: DUPONT Jeanne.pdf")
        await pilot.press("ctrl+l")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert [type(s).__name__ for s in app.screen_stack][1:] == ["LoginScreen"]
        assert app.signed_in is None
        # Nothing on the app still names the person: no session in any of its attributes.
        assert not [k for k, v in vars(app).items() if isinstance(v, SignedIn)]
        assert not app._notifications  # toasts may name a pupil or a file
        # The session's screens are closed and emptied (their tables, rows and selections
        # were their children), and none of their workers is left.
        for screen in (home, detail):
            assert screen._closed and not screen.is_attached and not screen.children
        assert not list(app.workers)
        fields = app.screen.query(Input)
        assert [f.value for f in fields] == ["", "", ""]
        assert "Déconnexion" not in _commands(app)
    last = _events(demo_services)[-1]
    assert last.action == "sign_out"
    assert last.actor_label == "Philippe Marchand (p.marchand)"
    assert last.details["module"] == "administration"


@sync
async def test_sign_out_from_the_palette(principal_app: AppFactory) -> None:
    app = principal_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p", *"Déconnexion")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert app.signed_in is None


@sync
async def test_sign_out_waits_for_an_open_dialog(principal_app: AppFactory) -> None:
    """A confirmation (or a new password, a job's progress) is never closed behind one's back."""
    app = principal_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, NotifyConfirmScreen)
        await pilot.press("ctrl+l")
        await settle(pilot)
        assert isinstance(app.screen, NotifyConfirmScreen)
        assert app.signed_in is not None
        assert any("Fermez d'abord" in str(n.message) for n in app._notifications)


@sync
async def test_the_deputy_changes_school_without_a_new_code(demo_services: Services) -> None:
    deputy = _credentials(demo_services, "s.lemoine")
    app = create_app(demo_services, connection=OUTSIDE)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        code = pyotp.TOTP(deputy.totp_secret).at(demo_services.clock())
        await pilot.press(*deputy.login, "enter", *deputy.password, "enter", *code, "enter")
        await settle(pilot)
        assert isinstance(app.screen, SchoolPickerScreen)
        await pilot.press("enter")  # the collège, first in the list
        await settle(pilot)
        college_home = _home(app)
        assert college_home.signed_in.school.uai == demo.COLLEGE_UAI
        assert "Établissement" in _commands(app)

        await pilot.press("ctrl+t")
        await settle(pilot)
        picker = app.screen
        assert isinstance(picker, SchoolSwitchScreen)
        options = picker.query_one(OptionList)
        current = options.get_option(demo.COLLEGE_UAI)
        assert current.disabled and "(en cours)" in str(current.prompt)
        assert options.get_option_at_index(options.highlighted or 0).id == ECOLE_UAI
        await pilot.press("escape")  # changing one's mind: the same page, untouched
        await settle(pilot)
        assert app.screen is college_home

        await pilot.press("ctrl+t")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        home = _home(app)
        assert home is not college_home
        assert home.signed_in.school.uai == ECOLE_UAI
        assert app.signed_in is home.signed_in
        row = home.table.current_row
        assert isinstance(row, PupilRow)
        assert row.division[:2] in {"CP", "CE", "CM"}  # the école's classes
        assert not any(isinstance(s, (LoginScreen, SchoolPickerScreen)) for s in app.screen_stack)
        assert [type(s).__name__ for s in app.screen_stack][1:] == ["HomeScreen"]
    actions = [e.action for e in _events(demo_services)]
    assert actions.count("sign_in") == 1  # one sign-in, one code
    assert actions[-2:] == ["school_chosen", "school_switched"]
    switched = _events(demo_services)[-1]
    assert switched.details["from_uai"] == demo.COLLEGE_UAI
    assert switched.details["uai"] == ECOLE_UAI


@sync
async def test_one_school_has_no_change_of_school(principal_app: AppFactory) -> None:
    app = principal_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        home = _home(app)
        assert "Établissement" not in _commands(app)
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert app.screen is home


@sync
async def test_leaving_the_picker_at_sign_in_is_a_sign_out(demo_services: Services) -> None:
    """Échap on the school picker (« Changer d'utilisateur ») ends that sign-in, audited."""
    deputy = _credentials(demo_services, "s.lemoine")
    app = create_app(demo_services, connection=OUTSIDE)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        code = pyotp.TOTP(deputy.totp_secret).at(demo_services.clock())
        await pilot.press(*deputy.login, "enter", *deputy.password, "enter", *code, "enter")
        await settle(pilot)
        assert isinstance(app.screen, SchoolPickerScreen)
        assert "Déconnexion" not in _commands(app)  # Échap does it here
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert app.signed_in is None
    assert [e.action for e in _events(demo_services)][-2:] == ["sign_in", "sign_out"]


@sync
async def test_quitting_the_tui_signs_out_whoever_was_signed_in(
    principal_app: AppFactory, demo_services: Services
) -> None:
    """As ``run_app`` does once the app has stopped: no open session left behind."""
    from educonnect_tui.domain.access import sessions
    from educonnect_tui.domain.model.errors import SessionEnded
    from educonnect_tui.domain.model.tables import StaffSession

    app = principal_app()
    signed_in = app.signed_in
    assert signed_in is not None
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("ctrl+q")
    before = len(_events(demo_services))
    app.end_session()
    assert app.signed_in is None
    with demo_services.sessions() as session:
        row = session.get_one(StaffSession, signed_in.session_id)
        assert row.end_reason == "sign_out"
    assert [e.action for e in _events(demo_services)[before:]] == ["sign_out"]
    with pytest.raises(SessionEnded):
        sessions.other_open_sessions(demo_services, signed_in)
    app.end_session()  # nobody left: nothing more
    assert len(_events(demo_services)) == before + 1
