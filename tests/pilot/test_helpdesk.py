"""Dépannage from the keyboard: an agent signs in without a code, finds a pupil, resets the
password and sees it once; guardians stay out of reach; `d` from the home page."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from textual.widgets import Input, Static

from educonnect_tui.app import EduConnectApp, create_app
from educonnect_tui.demo import college as demo
from educonnect_tui.domain.access import passwords
from educonnect_tui.domain.access.network import Connection
from educonnect_tui.domain.accounts import helpdesk
from educonnect_tui.domain.model.enums import AccountKind, AccountState, Module
from educonnect_tui.domain.model.tables import Account, Staff
from educonnect_tui.domain.store.services import Services
from educonnect_tui.screens.account_actions import ConfirmScreen, PasswordScreen
from educonnect_tui.screens.detail import DetailScreen
from educonnect_tui.screens.helpdesk import AccountActionsScreen, HelpdeskScreen
from educonnect_tui.screens.home import HomeScreen
from tests import factories
from tests.helpers import settle, sync

OUTSIDE = Connection(address="203.0.113.5", via_ssh=True)
AGENT_PASSWORD = "Depannage-Histoire-2026"
AppFactory = Callable[[], EduConnectApp]


def _known_password(services: Services, login: str) -> None:
    with services.sessions() as session, session.begin():
        staff = session.scalars(select(Staff).where(Staff.login == login)).one()
        staff.password_hash = passwords.hash_password(AGENT_PASSWORD, services.hash_params)


async def _type_search(pilot, text: str) -> None:  # type: ignore[no-untyped-def]
    await pilot.press(*text)
    await pilot.pause(0.3)
    await settle(pilot)


def _helpdesk(app: EduConnectApp) -> HelpdeskScreen:
    assert isinstance(app.screen, HelpdeskScreen), app.screen
    return app.screen


@sync
async def test_agent_resets_a_pupil_and_cannot_reach_a_guardian(demo_services: Services) -> None:
    _known_password(demo_services, "t.nguyen")
    app = create_app(demo_services, connection=OUTSIDE)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f2")
        assert not app.screen.query_one("#login-code-row").display
        await pilot.press(*"t.nguyen", "enter", *AGENT_PASSWORD, "enter")
        await settle(pilot)
        screen = _helpdesk(app)
        assert app.signed_in is not None and app.signed_in.module is Module.DEPANNAGE
        assert isinstance(app.focused, Input)

        await _type_search(pilot, "3e2 martin")
        assert screen.rows and all(r.division == "3E2" for r in screen.rows)
        assert all(r.kind is AccountKind.PUPIL for r in screen.rows)
        target = screen.rows[0]
        await pilot.press("enter", "enter")  # to the list, then open the first
        await settle(pilot)
        assert isinstance(app.screen, AccountActionsScreen)
        shown_login = str(app.screen.query_one("#account-login", Static).render())
        assert target.login in shown_login.split("\n")[0].replace(" ", "")

        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, PasswordScreen)
        result = app.screen.result
        assert result is not None and result.login == target.login
        account = factories.account(demo_services, target.account_id)
        assert account.state is AccountState.NOTIFIED
        assert passwords.verify_password(account.temp_password_hash, result.temp_password)
        shown = str(app.screen.query_one("#password-big", Static).render())
        assert shown.replace(" ", "") == result.temp_password

        await pilot.press("p")
        await settle(pilot)
        slips = list((demo_services.settings.output_dir / "depannage").glob("*.pdf"))
        assert len(slips) == 1 and slips[0].stat().st_mode & 0o777 == 0o600
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, HelpdeskScreen)

        # A guardian's name: no result, and why.
        await pilot.press("escape", "escape")
        with demo_services.sessions() as session:
            guardian = session.scalars(
                select(Account).where(Account.kind == AccountKind.GUARDIAN).limit(1)
            ).one()
            guardian_id, guardian_name = guardian.id, guardian.search_text.split(" ")[0]
        await _type_search(pilot, guardian_name)
        assert all(r.kind is AccountKind.PUPIL for r in screen.rows)
        status = str(screen.query_one("#helpdesk-status", Static).render())
        assert "représentants légaux" in status
        assert app.signed_in is not None
        try:
            helpdesk.reset_password(demo_services, app.signed_in, guardian_id)
        except Exception as error:
            assert "OTP" in str(error) or "représentants légaux" in str(error)
        else:
            raise AssertionError("a dépannage session reset a guardian's password")


@sync
async def test_class_limited_agent_sees_only_their_class(demo_services: Services) -> None:
    session = factories.signed_in(
        demo_services, "j.morel", demo.COLLEGE_UAI, module=Module.DEPANNAGE
    )
    app = create_app(demo_services, signed_in=session)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await _type_search(pilot, "martin")
        rows = _helpdesk(app).rows
        assert rows and {r.division for r in rows} == {"3E2"}


@sync
async def test_d_from_home_then_typing_reaches_results(principal_app: AppFactory) -> None:
    app = principal_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("d", *"martin")
        await pilot.pause(0.3)
        await settle(pilot)
        screen = _helpdesk(app)
        assert screen.query_one("#helpdesk-search", Input).value == "martin"
        kinds = {r.kind for r in screen.rows}
        assert kinds == {AccountKind.PUPIL, AccountKind.GUARDIAN}
        await pilot.press("escape", "escape", "escape")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)


@sync
async def test_detail_resets_a_guardian_from_the_administration_module(
    principal_app: AppFactory, demo_services: Services
) -> None:
    app = principal_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        detail = app.screen
        assert isinstance(detail, DetailScreen) and detail.detail is not None
        assert detail.detail.kind is AccountKind.GUARDIAN
        await pilot.press("x")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, PasswordScreen)
        result = app.screen.result
        assert result is not None
        account = factories.account(demo_services, detail.detail.account_id)
        assert passwords.verify_password(account.temp_password_hash, result.temp_password)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is detail and detail.detail.state is AccountState.NOTIFIED
        assert app.screen.check_action("unblock", ()) in (None, True)


@sync
async def test_a_slip_folder_that_cannot_be_made_is_said_and_the_password_stays(
    demo_services: Services,
) -> None:
    """The password is shown once: a failing slip must not take its window away."""
    from educonnect_tui.screens.error import ErrorScreen

    _known_password(demo_services, "t.nguyen")
    app = create_app(demo_services, connection=OUTSIDE)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f2", *"t.nguyen", "enter", *AGENT_PASSWORD, "enter")
        await settle(pilot)
        await _type_search(pilot, "3e2 martin")
        await pilot.press("enter", "enter", "r")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, PasswordScreen)
        blocker = demo_services.settings.output_dir
        blocker.parent.mkdir(parents=True, exist_ok=True)
        blocker.write_text("un fichier, pas un dossier")
        await pilot.press("p")
        await settle(pilot)
        assert app.is_running
        assert isinstance(app.screen, ErrorScreen)
        assert "Impossible de créer le dossier" in app.screen.message
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, PasswordScreen) and app.screen.result is not None
