"""The idle lock, from the keyboard: a fake idle clock stands for the minutes.

After ``idle_lock_minutes`` without a key the screen is covered by the lock, which asks
the same person's password (never the OTP key). Nothing beneath is drawn, reached by a
key or a click, or left holding a once-shown password; jobs keep running beneath and
what they open or say waits for the unlock. « Changer d'utilisateur » signs out.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import replace

import pytest
from sqlalchemy import select
from textual.command import CommandPalette
from textual.widgets import Button, DataTable, Input, Static

from educonnect_tui.app import SECRET_CLOSED, EduConnectApp, create_app
from educonnect_tui.demo import college as demo
from educonnect_tui.domain.access import passwords, sessions
from educonnect_tui.domain.access.caller import SignedIn
from educonnect_tui.domain.access.network import NetworkMode
from educonnect_tui.domain.model.enums import AccountKind, Module
from educonnect_tui.domain.model.errors import DocumentError
from educonnect_tui.domain.model.states import MAX_FAILED_ATTEMPTS
from educonnect_tui.domain.model.tables import AuditEvent, Staff
from educonnect_tui.domain.store.services import Services
from educonnect_tui.screens import credentials
from educonnect_tui.screens.account_actions import PasswordScreen
from educonnect_tui.screens.credentials import CredentialsScreen
from educonnect_tui.screens.error import ErrorScreen
from educonnect_tui.screens.help import HelpScreen
from educonnect_tui.screens.helpdesk import AccountActionsScreen, HelpdeskScreen
from educonnect_tui.screens.home import HomeScreen
from educonnect_tui.screens.lock import JOBS_RUNNING, LockScreen
from educonnect_tui.screens.login import LoginScreen
from educonnect_tui.screens.notify import NotifyConfirmScreen
from educonnect_tui.screens.password_change import PasswordChangeScreen
from educonnect_tui.screens.staff import StaffScreen
from tests import factories
from tests.helpers import settle, sync
from tests.pilot.conftest import SmallSchool

MINUTES = 10  # the default ``idle_lock_minutes``
AGENT_PASSWORD = "Depannage-Histoire-2026"


class IdleClock:
    """Seconds the test moves by hand, standing for the boot clock."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, minutes: float) -> None:
        self.now += minutes * 60


def _login(services: Services) -> str:
    with services.sessions() as session:
        return session.scalars(select(Staff.login)).one()


def _app(small_school: SmallSchool, clock: IdleClock) -> EduConnectApp:
    services = small_school.services
    caller = factories.signed_in(services, _login(services), factories.DEFAULT_UAI)
    return create_app(services, signed_in=caller, idle_clock=clock)


def _actions(services: Services) -> list[str]:
    with services.sessions() as session:
        return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def _on_screen(app: EduConnectApp) -> str:
    """Every character drawn, as the terminal receives it."""
    return "\n".join(
        "".join(segment.text for segment in strip)
        for strip in app.screen._compositor.render_strips()
    )


def _lock(app: EduConnectApp) -> LockScreen:
    assert isinstance(app.screen, LockScreen), app.screen
    return app.screen


async def _idle(pilot, clock: IdleClock, minutes: float = MINUTES, *, jobs: bool = False) -> None:  # type: ignore[no-untyped-def]
    """``minutes`` without a key; ``jobs``: one is running, so do not wait for workers."""
    clock.advance(minutes)
    pilot.app.check_idle_lock()
    if jobs:
        await pilot.pause(0.1)
    else:
        await settle(pilot)


@sync
async def test_the_lock_comes_after_the_setting_and_covers_everything(
    small_school: SmallSchool,
) -> None:
    clock = IdleClock()
    app = _app(small_school, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        home = app.screen
        assert isinstance(home, HomeScreen)
        assert "a.bernard" in _on_screen(app)
        await _idle(pilot, clock, MINUTES - 0.5)
        assert app.screen is home  # not yet
        await pilot.press("down")  # a key: the idle time starts again
        await _idle(pilot, clock, MINUTES - 0.5)
        assert app.screen is home
        await _idle(pilot, clock, 0.5)
        lock = _lock(app)
        drawn = _on_screen(app)
        assert "Session verrouillée" in drawn and "Hélène Martin" in drawn
        for pupil in ("Bernard", "a.bernard", "Durand", "Faure", "6E1"):
            assert pupil not in drawn
        assert "code" not in drawn.lower()  # the password only, never the OTP key
        # Keys go to the lock's field, never to the page beneath (a = tick all there).
        await pilot.press(*"abc", "space")
        assert lock.field.value == "abc "
        assert not home.selected[AccountKind.PUPIL]


@sync
async def test_the_timer_locks_on_its_own(small_school: SmallSchool) -> None:
    clock = IdleClock()
    app = _app(small_school, clock)
    app.IDLE_CHECK_SECONDS = 0.05
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        clock.advance(MINUTES)
        await pilot.pause(0.3)
        _lock(app)


@sync
async def test_a_key_after_a_long_idle_locks_and_does_nothing_beneath(
    small_school: SmallSchool,
) -> None:
    """The timer may be late (a suspended machine): the key that wakes it is not obeyed."""
    clock = IdleClock()
    app = _app(small_school, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        home = app.screen
        assert isinstance(home, HomeScreen)
        clock.advance(MINUTES + 50)
        await pilot.press("a")
        await settle(pilot)
        lock = _lock(app)
        assert lock.field.value == ""
        assert not home.selected[AccountKind.PUPIL]


@sync
async def test_wrong_password_counts_right_one_unlocks_onto_the_same_screen(
    small_school: SmallSchool,
) -> None:
    services = small_school.services
    clock = IdleClock()
    app = _app(small_school, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        home = app.screen
        await pilot.press("space")  # a ticked pupil: still ticked after the lock
        await _idle(pilot, clock)
        lock = _lock(app)
        await pilot.press(*"pas le bon", "enter")
        await settle(pilot)
        error = str(lock.query_one("#lock-error").render())
        assert "Mot de passe incorrect." in error
        assert lock.field.value == ""
        assert app.screen is lock
        assert _actions(services)[-1] == "session_confirm_failed"
        with services.sessions() as session:
            failed = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
            assert failed is not None and failed.details["reason"] == "bad_password"
        await pilot.press(*factories.STAFF_PASSWORD, "enter")
        await settle(pilot)
        assert app.screen is home
        assert isinstance(home, HomeScreen) and len(home.selected[AccountKind.PUPIL]) == 1
        assert app.lock is None
        assert _actions(services)[-1] == "session_unlocked"
        # The idle time starts again from the unlock.
        await _idle(pilot, clock, MINUTES - 1)
        assert app.screen is home


@sync
async def test_a_blocked_account_leaves_only_change_user(small_school: SmallSchool) -> None:
    clock = IdleClock()
    app = _app(small_school, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await _idle(pilot, clock)
        lock = _lock(app)
        for _ in range(MAX_FAILED_ATTEMPTS):
            await pilot.press(*"devine", "enter")
            await settle(pilot)
        assert lock.blocked
        assert "bloqué" in str(lock.query_one("#lock-error").render()).lower()
        assert lock.field.disabled and lock.query_one("#lock-submit", Button).disabled
        assert app.focused is lock.query_one("#lock-change-user", Button)
        await pilot.press("enter")  # « Changer d'utilisateur »
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert app.signed_in is None


@sync
async def test_change_user_from_the_lock_leaves_nothing(small_school: SmallSchool) -> None:
    services = small_school.services
    clock = IdleClock()
    app = _app(small_school, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")  # a dialog open under the lock: it goes too
        await settle(pilot)
        assert isinstance(app.screen, NotifyConfirmScreen)
        await _idle(pilot, clock)
        _lock(app)
        app.notify("Fiche écrite\u00a0: BERNARD Anne.pdf")  # held for after the lock
        await pilot.press(*"a moitié tapé")
        await pilot.press("ctrl+l")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert [type(s).__name__ for s in app.screen_stack][1:] == ["LoginScreen"]
        assert app.signed_in is None and app.lock is None
        assert not [k for k, v in vars(app).items() if isinstance(v, SignedIn)]
        assert not app._notifications and not app._held_toasts and not app._held_screens
        assert [f.value for f in app.screen.query(Input)] == ["", "", ""]
        # No lock for nobody: the login screen stays as it is.
        await _idle(pilot, clock)
        assert isinstance(app.screen, LoginScreen)
    assert _actions(services)[-1] == "sign_out"


@sync
async def test_a_dialog_open_under_the_lock_is_back_after_it(small_school: SmallSchool) -> None:
    clock = IdleClock()
    app = _app(small_school, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, NotifyConfirmScreen)
        await _idle(pilot, clock)
        _lock(app)
        assert "Notifier" not in _on_screen(app)
        await pilot.press(*factories.STAFF_PASSWORD, "enter")
        await settle(pilot)
        assert app.screen is dialog


@sync
async def test_palette_and_help_stay_out_of_the_lock(small_school: SmallSchool) -> None:
    clock = IdleClock()
    app = _app(small_school, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        palette = app.screen
        assert isinstance(palette, CommandPalette)
        await _idle(pilot, clock)
        lock = _lock(app)
        await pilot.press("ctrl+p")
        await pilot.press("f1")
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert app.screen is lock
        assert not any(isinstance(s, HelpScreen) for s in app.screen_stack)
        assert {c.title for c in app.get_system_commands(lock)} <= {
            "Déconnexion",
            "Quitter",
            "Thème",
        }
        await pilot.press(*factories.STAFF_PASSWORD, "enter")
        await settle(pilot)
        assert app.screen is palette


@sync
async def test_clicks_reach_only_the_lock(small_school: SmallSchool) -> None:
    clock = IdleClock()
    app = _app(small_school, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        home = app.screen
        assert isinstance(home, HomeScreen)
        table = home.table
        await pilot.press("down")
        cursor = table.cursor
        await _idle(pilot, clock)
        _lock(app)
        for y in (3, 6, 9, 12, 20, 23):  # where the rows, the tabs and the key bar were
            for x in (2, 20, 40, 70):
                await pilot.click(offset=(x, y))
        await settle(pilot)
        assert isinstance(app.screen, (LockScreen, LoginScreen))
        if isinstance(app.screen, LockScreen):  # a click on « Changer d'utilisateur » signs out
            assert table.cursor == cursor
            assert not home.selected[AccountKind.PUPIL]
            assert app.screen_stack[-2] is home


@sync
async def test_what_a_job_opens_or_says_under_the_lock_waits_for_the_unlock(
    small_school: SmallSchool,
) -> None:
    """A job keeps running; its dialog closing itself never takes the lock away."""
    clock = IdleClock()
    app = _app(small_school, clock)
    gate = threading.Event()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        home = app.screen
        assert isinstance(home, HomeScreen)
        await pilot.press("n")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, NotifyConfirmScreen)

        def job() -> str:
            gate.wait(10)
            return "fini"

        worker = home.run_worker(job, thread=True, group="test-job")
        await _idle(pilot, clock, jobs=True)
        lock = _lock(app)
        assert app.jobs_running()
        # What the job does when it ends: close its dialog, show an error, say it in a toast.
        dialog.dismiss(None)
        app.push_screen(ErrorScreen("Le disque est plein."))
        app.show_error(DocumentError("Le disque est plein."))  # the same again: one modal
        app.notify("Notification terminée\u00a0: BERNARD Anne")
        gate.set()
        await settle(pilot)
        assert worker.result == "fini"
        assert app.screen is lock
        assert dialog not in app.screen_stack
        assert not app._notifications
        assert "BERNARD" not in _on_screen(app) and "disque" not in _on_screen(app)
        await pilot.press(*factories.STAFF_PASSWORD, "enter")
        await settle(pilot)
        assert isinstance(app.screen, ErrorScreen)
        assert app.screen_stack[-2] is home  # one error, over the page
        assert any("BERNARD" in n.message for n in app._notifications)


@sync
async def test_change_user_with_a_job_running_asks_then_stops_it(
    small_school: SmallSchool,
) -> None:
    clock = IdleClock()
    app = _app(small_school, clock)
    stopped = threading.Event()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        home = app.screen
        assert isinstance(home, HomeScreen)
        home.cancel_event = threading.Event()  # type: ignore[attr-defined]

        def job() -> None:
            home.cancel_event.wait(10)  # type: ignore[attr-defined]
            stopped.set()

        home.run_worker(job, thread=True, group="test-job")
        await _idle(pilot, clock, jobs=True)
        lock = _lock(app)
        await pilot.press("ctrl+l")
        await pilot.pause(0.1)
        assert app.screen is lock
        assert JOBS_RUNNING.split("\u00a0")[0] in str(lock.query_one("#lock-error").render())
        await pilot.press("ctrl+l")
        for _ in range(50):
            await asyncio.sleep(0.02)
            if isinstance(app.screen, LoginScreen):
                break
        await settle(pilot)
        assert stopped.is_set()
        assert isinstance(app.screen, LoginScreen) and app.signed_in is None


@sync
async def test_keys_typed_as_the_lock_appears_land_in_its_field(
    small_school: SmallSchool,
) -> None:
    clock = IdleClock()
    app = _app(small_school, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        home = app.screen
        clock.advance(MINUTES)
        app.check_idle_lock()
        # No pause: the lock is not even drawn yet when these arrive.
        await pilot.press(*factories.STAFF_PASSWORD, "enter")
        await settle(pilot)
        assert app.screen is home
        assert isinstance(home, HomeScreen) and not home.selected[AccountKind.PUPIL]


# -- the once-shown password (dépannage) ---------------------------------------------


def _known_password(services: Services, login: str) -> None:
    with services.sessions() as session, session.begin():
        staff = session.scalars(select(Staff).where(Staff.login == login)).one()
        staff.password_hash = passwords.hash_password(AGENT_PASSWORD, services.hash_params)


@pytest.mark.parametrize("over", ["nothing", "help", "error"])
@sync
async def test_a_password_shown_once_is_closed_before_the_lock(
    demo_services: Services, monkeypatch: pytest.MonkeyPatch, over: str
) -> None:
    monkeypatch.setattr(passwords, "generate_temporary_password", lambda: "k7mzp4xqa9")
    _known_password(demo_services, "t.nguyen")
    caller = factories.signed_in(
        demo_services, "t.nguyen", demo.COLLEGE_UAI, mode=NetworkMode.OTP, module=Module.DEPANNAGE
    )
    clock = IdleClock()
    app = create_app(demo_services, signed_in=caller, idle_clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press(*"3e2 martin")
        await pilot.pause(0.3)
        await settle(pilot)
        await pilot.press("enter", "enter", "r")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        shown = app.screen
        assert isinstance(shown, PasswordScreen)
        assert "k  7  m  z  p" in _on_screen(app)
        if over == "help":
            await pilot.press("f1")
        elif over == "error":
            app.push_screen(ErrorScreen("La fiche n'a pas pu être écrite."))
        await settle(pilot)
        await _idle(pilot, clock)
        await settle(pilot)  # the callbacks of the closed windows have all run
        lock = _lock(app)
        assert not any(
            isinstance(s, (PasswordScreen, AccountActionsScreen)) for s in app.screen_stack
        )
        assert shown.result is None
        for screen in app.screen_stack:
            for widget in screen.query(Static):
                assert "k7mzp4xqa9" not in str(widget.render()).replace(" ", "")
        assert "k  7  m" not in _on_screen(app)
        await pilot.press(*AGENT_PASSWORD, "enter")
        await settle(pilot)
        assert app.lock is None and lock not in app.screen_stack
        assert isinstance(app.screen, HelpdeskScreen)
        assert "k  7  m" not in _on_screen(app)
        assert any(n.message == SECRET_CLOSED for n in app._notifications)


@sync
async def test_a_session_ended_meanwhile_goes_to_the_login_from_the_lock(
    small_school: SmallSchool,
) -> None:
    """Signed out elsewhere (a password reset, a disabled account): no password tried."""
    services = small_school.services
    clock = IdleClock()
    app = _app(small_school, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await _idle(pilot, clock)
        _lock(app)
        assert app.signed_in is not None
        with services.sessions() as session, session.begin():
            sessions.end_all(
                session, app.signed_in.identity.staff_id, services.clock(), "password_reset"
            )
        await pilot.press(*factories.STAFF_PASSWORD, "enter")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert app.signed_in is None and app.lock is None
        error = str(app.screen.query_one("#login-error", Static).render())
        assert "Votre session a pris fin (mot de passe réinitialisé)" in error
    assert _actions(services)[-1] == "session_confirm_failed"


@sync
async def test_the_forced_change_is_locked_too_and_its_fields_emptied(
    small_school: SmallSchool,
) -> None:
    services = small_school.services
    clock = IdleClock()
    caller = factories.signed_in(services, _login(services), factories.DEFAULT_UAI)
    app = create_app(
        services, signed_in=replace(caller, password_change_required=True), idle_clock=clock
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        change = app.screen
        assert isinstance(change, PasswordChangeScreen)
        await pilot.press(*"Nouveau-mot-2027")
        await _idle(pilot, clock)
        _lock(app)
        await pilot.press(*factories.STAFF_PASSWORD, "enter")
        await settle(pilot)
        assert app.screen is change
        assert [f.value for f in change.query(Input)] == ["", ""]


@sync
async def test_new_staff_credentials_are_closed_before_the_lock(
    demo_services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The staff screen's once-shown password and QR code: gone before the lock is up."""
    monkeypatch.setattr(credentials, "ARMED_AFTER", 0.0)
    with demo_services.sessions() as session, session.begin():
        staff = session.scalars(select(Staff).where(Staff.login == "p.marchand")).one()
        staff.password_hash = passwords.hash_password(AGENT_PASSWORD, demo_services.hash_params)
    clock = IdleClock()
    caller = factories.signed_in(demo_services, "p.marchand", demo.COLLEGE_UAI)
    app = create_app(demo_services, signed_in=caller, idle_clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        staff_screen = app.screen
        assert isinstance(staff_screen, StaffScreen)
        index = next(i for i, v in enumerate(staff_screen.rows) if v.login == "k.haddad")
        staff_screen.query_one("#staff-table", DataTable).move_cursor(row=index)
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        shown = app.screen
        assert isinstance(shown, CredentialsScreen) and shown.credentials is not None
        password = shown.credentials.password
        assert password is not None
        await _idle(pilot, clock)
        await settle(pilot)
        _lock(app)
        assert shown not in app.screen_stack and shown.credentials is None
        for screen in app.screen_stack:
            for widget in screen.query(Static):
                assert password not in str(widget.render()).replace(" ", "")
        await pilot.press(*AGENT_PASSWORD, "enter")
        await settle(pilot)
        assert app.screen is staff_screen
        assert any(n.message == SECRET_CLOSED for n in app._notifications)
