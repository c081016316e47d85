"""The sessions as a person meets them: the forced password change after a temporary
password, the password asked again before a sensitive action (and whenever the domain
asks for it), a session ended elsewhere, and the last sign-in line."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace

import pyotp
import pytest
from sqlalchemy import select
from textual.command import CommandPalette
from textual.widgets import DataTable, Input, Static

from educonnect_tui.app import CONFIRMED_RETRY, EduConnectApp, create_app
from educonnect_tui.demo import college as demo
from educonnect_tui.domain.access import delegations, passwords, sessions
from educonnect_tui.domain.access.delegations import DelegationState
from educonnect_tui.domain.access.network import Connection
from educonnect_tui.domain.access.staff import NewStaff
from educonnect_tui.domain.model.errors import ConfirmationRequired
from educonnect_tui.domain.model.tables import AuditEvent, Staff
from educonnect_tui.domain.store.services import Services
from educonnect_tui.screens.confirm_password import ConfirmPasswordScreen
from educonnect_tui.screens.delegations import DelegationsScreen, RevokeConfirmScreen
from educonnect_tui.screens.helpdesk import HelpdeskScreen
from educonnect_tui.screens.home import HomeScreen
from educonnect_tui.screens.login import LoginScreen
from educonnect_tui.screens.notify import NotifyConfirmScreen
from educonnect_tui.screens.password_change import TITLE, PasswordChangeScreen
from educonnect_tui.screens.staff import StaffScreen
from educonnect_tui.widgets.sign_in_trace import SignInTraceLine
from tests import factories
from tests.conftest import FakeClock
from tests.helpers import settle, sync
from tests.pilot.conftest import SmallSchool

OUTSIDE = Connection(address="203.0.113.5", via_ssh=True)
NEW_PASSWORD = "Cahier-de-Textes-2027"
PRINCIPAL_PASSWORD = "Principal-Marchand-2026"
AppFactory = Callable[[], EduConnectApp]


def _actions(services: Services) -> list[str]:
    with services.sessions() as session:
        return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def _text(widget: Static) -> str:
    return str(widget.render())


# -- « Choisissez un nouveau mot de passe » ------------------------------------------


def _temporary(small_school: SmallSchool) -> NewStaff:
    """A second direction member whose password is still the temporary one."""
    services = small_school.services
    member = factories.staff_member(services, first_name="Paul", last_name="Roux")
    with services.sessions() as session, session.begin():
        staff = session.scalars(select(Staff).where(Staff.login == member.login)).one()
        staff.password_temporary_until = services.clock() + dt.timedelta(days=7)
    return member


async def _sign_in(pilot, services: Services, member: NewStaff) -> None:  # type: ignore[no-untyped-def]
    await settle(pilot)
    code = pyotp.TOTP(member.totp_secret).at(services.clock())
    await pilot.press(*member.login, "enter", *member.password, "enter", *code, "enter")
    await settle(pilot)


@sync
async def test_a_temporary_password_must_be_replaced_before_anything_else(
    small_school: SmallSchool,
) -> None:
    services = small_school.services
    member = _temporary(small_school)
    app = create_app(services, connection=OUTSIDE)
    async with app.run_test(size=(80, 24)) as pilot:
        await _sign_in(pilot, services, member)
        screen = app.screen
        assert isinstance(screen, PasswordChangeScreen)
        assert screen.query_one("#change-panel").border_title == TITLE
        assert "12 caractères" in _text(screen.query_one("#change-policy", Static))
        # No way around it: the palette offers no page, keys are typed in the field.
        await pilot.press("ctrl+p")
        await settle(pilot)
        assert not isinstance(app.screen, CommandPalette) or not {
            c.title for c in app.get_system_commands(screen)
        } & {"(re)Notifier", "Délégations", "Journal"}
        if isinstance(app.screen, CommandPalette):
            await pilot.press("escape")
            await settle(pilot)
        await pilot.press(*"ng")
        assert screen.query_one("#new-password", Input).value == "ng"
        screen.query_one("#new-password", Input).value = ""
        # Two entries that differ; then one too short: said, and typed again.
        await pilot.press(*NEW_PASSWORD, "enter", *"Autre-chose-2027", "enter")
        await settle(pilot)
        assert "diffèrent" in _text(screen.query_one("#change-error", Static))
        assert app.screen is screen
        await pilot.press("shift+tab")
        screen.query_one("#new-password", Input).value = ""
        await pilot.press(*"Court-2027", "enter", *"Court-2027", "enter")
        await settle(pilot)
        assert "12 caractères" in _text(screen.query_one("#change-error", Static))
        assert app.screen is screen
        # Typed ahead, Enter included: each key in its own field.
        await pilot.press(*NEW_PASSWORD, "enter", *NEW_PASSWORD, "enter")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        assert app.signed_in is not None and not app.signed_in.password_change_required
    with services.sessions() as session:
        staff = session.scalars(select(Staff).where(Staff.login == member.login)).one()
        assert staff.password_temporary_until is None
        assert passwords.verify_password(staff.password_hash, NEW_PASSWORD)
    assert "staff_password_changed" in _actions(services)


@sync
async def test_escape_on_the_forced_change_signs_out(small_school: SmallSchool) -> None:
    services = small_school.services
    member = _temporary(small_school)
    app = create_app(services, connection=OUTSIDE)
    async with app.run_test(size=(80, 24)) as pilot:
        await _sign_in(pilot, services, member)
        assert isinstance(app.screen, PasswordChangeScreen)
        await pilot.press(*"à moitié", "escape")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert app.signed_in is None
        assert [f.value for f in app.screen.query(Input)] == ["", "", ""]
    assert _actions(services)[-1] == "sign_out"
    with services.sessions() as session:
        staff = session.scalars(select(Staff).where(Staff.login == member.login)).one()
        assert staff.password_temporary_until is not None  # still to be chosen


# -- the password asked again ------------------------------------------------------------


def _principal_app(services: Services) -> EduConnectApp:
    with services.sessions() as session, session.begin():
        staff = session.scalars(select(Staff).where(Staff.login == "p.marchand")).one()
        staff.password_hash = passwords.hash_password(PRINCIPAL_PASSWORD, services.hash_params)
    caller = factories.signed_in(services, "p.marchand", demo.COLLEGE_UAI)
    return create_app(services, signed_in=caller)


def _clock(services: Services) -> FakeClock:
    clock = services.clock
    assert isinstance(clock, FakeClock)
    return clock


@sync
async def test_a_revocation_asks_the_password_once_the_confirmation_is_old(
    demo_services: Services,
) -> None:
    app = _principal_app(demo_services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        _clock(demo_services).advance(minutes=demo_services.settings.reauth_minutes + 1)
        await pilot.press("g")
        await settle(pilot)
        manager = app.screen
        assert isinstance(manager, DelegationsScreen)
        target = manager.current
        assert target is not None and target.state is DelegationState.ACTIVE
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, RevokeConfirmScreen)
        await pilot.press("enter")
        await settle(pilot)
        prompt = app.screen
        assert isinstance(prompt, ConfirmPasswordScreen)
        assert "sensible" in _text(prompt.query_one("#confirm-password-reason", Static))
        await pilot.press(*"pas-le-bon", "enter")
        await settle(pilot)
        error = _text(prompt.query_one("#confirm-password-error", Static))
        assert "Mot de passe incorrect." in error
        assert app.screen is prompt
        await pilot.press(*PRINCIPAL_PASSWORD, "enter")
        await settle(pilot)
        assert app.screen is manager
        operator = factories.operator(demo_services, demo.COLLEGE_UAI)
        views = {v.id: v for v in delegations.list_delegations(demo_services, operator)}
        assert views[target.id].state is DelegationState.REVOKED
        # Confirmed just now: the next one is not asked.
        manager.query_one("#delegations-table").focus()
        await pilot.press("down", "x")
        await settle(pilot)
        if isinstance(app.screen, RevokeConfirmScreen):
            await pilot.press("enter")
            await settle(pilot)
        assert not isinstance(app.screen, ConfirmPasswordScreen)
    actions = _actions(demo_services)
    failed, confirmed = actions.index("session_confirm_failed"), actions.index("session_confirmed")
    assert failed < confirmed < actions.index("delegation_revoke")
    assert actions.count("session_confirmed") == 1


@sync
async def test_escape_on_the_prompt_does_nothing(demo_services: Services) -> None:
    app = _principal_app(demo_services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        _clock(demo_services).advance(minutes=demo_services.settings.reauth_minutes + 1)
        await pilot.press("g")
        await settle(pilot)
        manager = app.screen
        assert isinstance(manager, DelegationsScreen)
        target = manager.current
        assert target is not None
        await pilot.press("x")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmPasswordScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is manager
        operator = factories.operator(demo_services, demo.COLLEGE_UAI)
        views = {v.id: v for v in delegations.list_delegations(demo_services, operator)}
        assert views[target.id].state is DelegationState.ACTIVE
    assert "delegation_revoke" not in _actions(demo_services)


@sync
async def test_confirmation_required_from_any_worker_asks_then_says_to_do_it_again(
    demo_services: Services,
) -> None:
    app = _principal_app(demo_services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        home = app.screen
        assert isinstance(home, HomeScreen)

        def refused() -> None:
            raise ConfirmationRequired(sessions.CONFIRMATION_REQUIRED)

        home.run_worker(refused, thread=True, exit_on_error=False)
        await settle(pilot)
        assert isinstance(app.screen, ConfirmPasswordScreen)
        await pilot.press(*PRINCIPAL_PASSWORD, "enter")
        await settle(pilot)
        assert app.screen is home
        assert any(CONFIRMED_RETRY in n.message for n in app._notifications)
    assert _actions(demo_services)[-1] == "session_confirmed"


# -- a session ended elsewhere -------------------------------------------------------------


@sync
async def test_a_session_ended_elsewhere_goes_back_to_the_login_saying_why(
    small_school: SmallSchool,
) -> None:
    services = small_school.services
    with services.sessions() as session:
        login = session.scalars(select(Staff.login)).one()
    caller = factories.signed_in(services, login, factories.DEFAULT_UAI)
    app = create_app(services, signed_in=caller)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        with services.sessions() as session, session.begin():
            sessions.end_all(session, caller.identity.staff_id, services.clock(), "password_reset")
        await pilot.press("slash", *"ber")
        await pilot.pause(0.4)
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert app.signed_in is None
        error = _text(app.screen.query_one("#login-error", Static))
        assert "Votre session a pris fin (mot de passe réinitialisé)" in error
        assert [type(s).__name__ for s in app.screen_stack][1:] == ["LoginScreen"]


# -- the last sign-in line --------------------------------------------------------------


@sync
async def test_home_and_helpdesk_show_the_last_sign_in_and_the_other_session(
    demo_services: Services,
) -> None:
    factories.signed_in(demo_services, "p.marchand", demo.COLLEGE_UAI, address="203.0.113.7")
    _clock(demo_services).advance(minutes=5)
    caller = factories.signed_in(demo_services, "p.marchand", demo.COLLEGE_UAI)
    assert caller.previous_sign_in is not None
    app = create_app(demo_services, signed_in=caller)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        line = _text(app.screen.query_one("#sign-in-trace", Static))
        assert "Dernière connexion\u00a0: le 16/11/2026 à 10:30 depuis 203.0.113.7" in line
        assert "une autre session est ouverte en ce moment depuis 203.0.113.7" in line
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, HelpdeskScreen)
        assert "Dernière connexion" in _text(app.screen.query_one("#sign-in-trace", Static))


def _warnings(app: EduConnectApp) -> list[str]:
    return [n.message for n in app._notifications if "Une autre session" in n.message]


@sync
async def test_a_second_sign_in_is_told_to_the_open_session_once(
    small_school: SmallSchool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Window A is open; the same account signs in at window B: A's line says it at its
    next reading, with one warning toast, and not again for that session."""
    services = small_school.services
    with services.sessions() as session:
        login = session.scalars(select(Staff.login)).one()
    monkeypatch.setattr(SignInTraceLine, "REFRESH_SECONDS", 0.05)
    caller = factories.signed_in(services, login, factories.DEFAULT_UAI)
    app = create_app(services, signed_in=caller)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        line = app.screen.query_one(SignInTraceLine)
        assert "une autre session" not in _text(line).lower() and not _warnings(app)
        _clock(services).advance(minutes=3)
        factories.signed_in(services, login, factories.DEFAULT_UAI, address="198.51.100.9")
        await pilot.pause(0.3)  # a few periodic readings
        await settle(pilot)
        assert "Une autre session est ouverte en ce moment depuis 198.51.100.9" in _text(line)
        assert _warnings(app) == [
            "Une autre session de votre compte vient de s'ouvrir depuis 198.51.100.9 "
            "(le 16/11/2026 à 10:33). Si ce n'est pas vous, changez votre mot de passe "
            "et prévenez votre chef d'établissement."
        ]
        await pilot.pause(0.3)
        await settle(pilot)
        assert len(_warnings(app)) == 1


@sync
async def test_the_line_is_read_again_when_its_screen_comes_back(
    small_school: SmallSchool,
) -> None:
    services = small_school.services
    with services.sessions() as session:
        login = session.scalars(select(Staff.login)).one()
    caller = factories.signed_in(services, login, factories.DEFAULT_UAI)
    app = create_app(services, signed_in=caller)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        home = app.screen
        assert isinstance(home, HomeScreen)
        app.push_screen(StaffScreen(services, caller))
        await settle(pilot)
        factories.signed_in(services, login, factories.DEFAULT_UAI, address="198.51.100.9")
        app.pop_screen()
        await settle(pilot)
        assert app.screen is home
        assert "depuis 198.51.100.9" in _text(home.query_one(SignInTraceLine))
        assert len(_warnings(app)) == 1
        # The dépannage screen opening later says it in its line, without a second toast.
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, HelpdeskScreen)
        assert "depuis 198.51.100.9" in _text(app.screen.query_one(SignInTraceLine))
        await pilot.press("escape")
        await settle(pilot)
        assert len(_warnings(app)) == 1


@sync
async def test_a_second_sign_in_under_the_lock_is_told_after_the_unlock(
    small_school: SmallSchool,
) -> None:
    services = small_school.services
    with services.sessions() as session:
        login = session.scalars(select(Staff.login)).one()
    caller = factories.signed_in(services, login, factories.DEFAULT_UAI)
    app = create_app(services, signed_in=caller)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        line = app.screen.query_one(SignInTraceLine)
        app.lock_now()
        await settle(pilot)
        factories.signed_in(services, login, factories.DEFAULT_UAI, address="198.51.100.9")
        line.refresh_sessions()  # a periodic reading under the lock: its toast waits
        await settle(pilot)
        assert not _warnings(app)
        await pilot.press(*factories.STAFF_PASSWORD, "enter")
        await settle(pilot)
        assert app.lock is None and isinstance(app.screen, HomeScreen)
        assert len(_warnings(app)) == 1
        assert "depuis 198.51.100.9" in _text(line)


@sync
async def test_a_first_sign_in_shows_no_line(small_school: SmallSchool) -> None:
    services = small_school.services
    with services.sessions() as session:
        login = session.scalars(select(Staff.login)).one()
    app = create_app(services, signed_in=factories.signed_in(services, login, "0750655E"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert not app.screen.query_one("#sign-in-trace", Static).display


@sync
async def test_ctrl_l_on_the_forced_change_signs_out(small_school: SmallSchool) -> None:
    services = small_school.services
    member = _temporary(small_school)
    app = create_app(services, connection=OUTSIDE)
    async with app.run_test(size=(80, 24)) as pilot:
        await _sign_in(pilot, services, member)
        assert isinstance(app.screen, PasswordChangeScreen)
        await pilot.press("ctrl+l")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen) and app.signed_in is None
    assert _actions(services)[-1] == "sign_out"


@sync
async def test_a_large_notification_asks_the_password_first(small_school: SmallSchool) -> None:
    """Over ``reauth_notify_over`` accounts (0 here: any), once the confirmation is old."""
    services = replace(
        small_school.services,
        settings=small_school.services.settings.model_copy(update={"reauth_notify_over": 0}),
    )
    with services.sessions() as session:
        login = session.scalars(select(Staff.login)).one()
    app = create_app(services, signed_in=factories.signed_in(services, login, "0750655E"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        _clock(services).advance(minutes=services.settings.reauth_minutes + 1)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, NotifyConfirmScreen)
        await pilot.press("enter")
        await settle(pilot)
        prompt = app.screen
        assert isinstance(prompt, ConfirmPasswordScreen)
        assert "Notification de 3 comptes." in _text(
            prompt.query_one("#confirm-password-what", Static)
        )
        assert "notify" not in _actions(services)  # nothing done before the password
        await pilot.press(*factories.STAFF_PASSWORD, "enter")
        await settle(pilot)
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        actions = _actions(services)
        assert actions.index("session_confirmed") < actions.index("notify")
        # Confirmed just now: the next one goes straight to the job.
        await pilot.press("n")
        await settle(pilot)
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert not isinstance(app.screen, ConfirmPasswordScreen)


@sync
async def test_a_staff_action_asks_the_password_then_runs(demo_services: Services) -> None:
    app = _principal_app(demo_services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        _clock(demo_services).advance(minutes=demo_services.settings.reauth_minutes + 1)
        await pilot.press("p")
        await settle(pilot)
        staff_screen = app.screen
        assert isinstance(staff_screen, StaffScreen)
        index = next(i for i, v in enumerate(staff_screen.rows) if v.login == "k.haddad")
        staff_screen.query_one("#staff-table", DataTable).move_cursor(row=index)
        await settle(pilot)
        await pilot.press("x", "enter")  # disable, confirmed
        await settle(pilot)
        prompt = app.screen
        assert isinstance(prompt, ConfirmPasswordScreen)
        assert "k.haddad" in _text(prompt.query_one("#confirm-password-what", Static))
        assert "staff_disable" not in _actions(demo_services)
        await pilot.press(*PRINCIPAL_PASSWORD, "enter")
        await settle(pilot)
        assert app.screen is staff_screen
    actions = _actions(demo_services)
    assert actions.index("session_confirmed") < actions.index("staff_disable")
