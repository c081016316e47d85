"""Dépannage from the keyboard: an agent signs in without a code, finds a pupil, resets the
password and sees it once; guardians stay out of reach; `d` from the home page."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Callable
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from textual.widgets import Input, OptionList, Static

from educonnect_tui.app import EduConnectApp, create_app
from educonnect_tui.demo import college as demo
from educonnect_tui.domain.access import passwords
from educonnect_tui.domain.access.network import Connection
from educonnect_tui.domain.accounts import helpdesk, helpdesk_search
from educonnect_tui.domain.model.enums import AccountKind, AccountState, Module, PupilStatus
from educonnect_tui.domain.model.tables import Account, Division, Pupil, Staff
from educonnect_tui.domain.store.services import Services
from educonnect_tui.screens import helpdesk as helpdesk_screen
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
        assert _status(_helpdesk(app)).startswith(
            "Tapez un nom, un prénom, un identifiant ou une classe.\nVos délégations\u00a0: 3E2."
        )
        await _type_search(pilot, "martin")
        rows = _helpdesk(app).rows
        assert rows and {r.division for r in rows} == {"3E2"}
        assert _status(_helpdesk(app)).startswith(
            f"{len(rows)} élèves dans vos délégations\u00a0: 3E2 · "
        )


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
        blocker.rmdir()
        blocker.write_text("un fichier, pas un dossier")
        await pilot.press("p")
        await settle(pilot)
        assert app.is_running
        assert isinstance(app.screen, ErrorScreen)
        assert "Impossible de créer le dossier" in app.screen.message
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, PasswordScreen) and app.screen.result is not None


@sync
async def test_a_missing_output_folder_is_refused_for_the_slip_and_nothing_is_created(
    demo_services: Services,
) -> None:
    """An unmounted share must not quietly become a local folder of passwords."""
    from educonnect_tui.screens.error import ErrorScreen

    _known_password(demo_services, "t.nguyen")
    output = demo_services.settings.output_dir
    output.rmdir()
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
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, ErrorScreen)
        assert f"Le dossier de sortie « {output} » n'existe pas" in app.screen.message
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, PasswordScreen) and app.screen.result is not None
    assert not output.exists()


def _status(screen: HelpdeskScreen) -> str:
    return str(screen.query_one("#helpdesk-status", Static).render())


def _class_size(services: Services, name: str) -> int:
    with services.sessions() as session:
        return int(
            session.scalar(
                select(func.count(Pupil.id))
                .join(Division, Division.id == Pupil.division_id)
                .where(Division.name == name, Pupil.status == PupilStatus.ENROLLED)
            )
            or 0
        )


def _agent_app(services: Services, login: str = "t.nguyen") -> EduConnectApp:
    session = factories.signed_in(services, login, demo.COLLEGE_UAI, module=Module.DEPANNAGE)
    return create_app(services, signed_in=session)


@sync
async def test_a_class_search_lists_the_whole_class(demo_services: Services) -> None:
    size = _class_size(demo_services, "3E2")
    assert size > 20  # more than the 20 rows the list once stopped at
    app = _agent_app(demo_services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await _type_search(pilot, "3e2")
        screen = _helpdesk(app)
        assert len(screen.rows) == size
        assert {r.division for r in screen.rows} == {"3E2"}
        assert _status(screen).startswith(f"{size} élèves · ")
        results = screen.query_one("#helpdesk-results", OptionList)
        assert results.option_count == size


@sync
async def test_a_long_list_loads_the_next_pages_as_the_cursor_goes_down(
    demo_services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(helpdesk_screen, "PAGE_SIZE", 10)
    size = _class_size(demo_services, "3E2")
    app = _agent_app(demo_services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await _type_search(pilot, "3e2")
        screen = _helpdesk(app)
        # Pages load until the list is full: more than one page, not the whole class.
        shown = len(screen.rows)
        assert shown % 10 == 0 and 10 < shown < size
        assert f"{size} élèves ({shown} affichés, la suite en descendant)" in _status(screen)
        results = screen.query_one("#helpdesk-results", OptionList)
        results.scroll_end(animate=False, immediate=True)  # the mouse wheel, to the bottom
        await settle(pilot)
        assert len(screen.rows) > shown
        await pilot.press("down")
        for _ in range(5):
            await pilot.press("end")
            await settle(pilot)
        assert len(screen.rows) == size == len({r.account_id for r in screen.rows})
        assert _status(screen).startswith(f"{size} élèves · ")
        assert app.signed_in is not None
        whole = helpdesk_search.search(demo_services, app.signed_in, "3e2", limit=100)
        assert [r.account_id for r in screen.rows] == [r.account_id for r in whole.rows]
        last = results.highlighted
        assert last is not None and last >= 20
        # A reset far down the list: the list comes back whole, the cursor where it was.
        await pilot.press("enter", "r")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, PasswordScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen and len(screen.rows) == size
        assert results.highlighted == last
        assert screen.rows[last].state is AccountState.NOTIFIED


@sync
async def test_nothing_found_names_the_delegation_and_not_who_is_elsewhere(
    demo_services: Services,
) -> None:
    """« 3E1 » pupils exist, outside j.morel's 3E2: the answer is the one for nobody."""
    with demo_services.sessions() as session:
        elsewhere = session.scalars(
            select(Account.login)
            .join(Pupil, Pupil.id == Account.pupil_id)
            .join(Division, Division.id == Pupil.division_id)
            .where(Division.name == "3E1")
            .limit(1)
        ).one()
    app = _agent_app(demo_services, "j.morel")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = _helpdesk(app)
        await _type_search(pilot, elsewhere)
        assert screen.rows == []
        found_elsewhere = _status(screen)
        await pilot.press("escape")
        await _type_search(pilot, "zzyzx")
        nobody = _status(screen)
    scope = "dans vos délégations\u00a0: 3E2."
    assert found_elsewhere == f"Aucun élève trouvé pour «\u00a0{elsewhere}\u00a0» {scope}"
    assert nobody == f"Aucun élève trouvé pour «\u00a0zzyzx\u00a0» {scope}"


@sync
async def test_a_whole_school_agent_is_told_nothing_about_delegations(
    demo_services: Services,
) -> None:
    app = _agent_app(demo_services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await _type_search(pilot, "zzyzx")
        assert _status(_helpdesk(app)).startswith(
            "Aucun élève ne correspond à «\u00a0zzyzx\u00a0»."
        )
        await pilot.press("escape")
        await _type_search(pilot, "martin")
        assert "délégations" not in _status(_helpdesk(app))


def _blocked_pupil(services: Services) -> tuple[str, str, dt.datetime]:
    """A pupil of the demo blocked until later today: login, birth date, block end."""
    now = services.clock()
    with services.sessions() as session:
        login, born, until = session.execute(
            select(Account.login, Pupil.birth_date, Account.blocked_until)
            .join(Pupil, Pupil.id == Account.pupil_id)
            .where(Account.blocked_until > now, Pupil.status == PupilStatus.ENROLLED)
            .order_by(Account.login)
            .limit(1)
        ).one()
    return login, f"{born:%d/%m/%Y}", until


@sync
async def test_reset_and_unblock_show_the_birth_date_to_check_identity(
    demo_services: Services,
) -> None:
    login, born, _ = _blocked_pupil(demo_services)
    app = _agent_app(demo_services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await _type_search(pilot, login)
        await pilot.press("enter")
        await settle(pilot)
        actions = app.screen
        assert isinstance(actions, AccountActionsScreen)
        identity = str(actions.query_one("#account-identity", Static).render())
        assert identity == (f"Vérifiez d'abord l'identité\u00a0: date de naissance {born}.")
        for key in ("u", "r"):
            await pilot.press(key)
            await settle(pilot)
            assert isinstance(app.screen, ConfirmScreen)
            message = str(app.screen.query_one(".confirm-message", Static).render())
            assert f"date de naissance {born}." in message, message
            await pilot.press("escape")
            await settle(pilot)
            assert app.screen is actions


@sync
async def test_the_list_and_its_pop_up_show_the_same_school_time(demo_services: Services) -> None:
    login, _, until = _blocked_pupil(demo_services)
    paris = until.astimezone(ZoneInfo("Europe/Paris"))
    app = _agent_app(demo_services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await _type_search(pilot, login)
        results = _helpdesk(app).query_one("#helpdesk-results", OptionList)
        line = str(results.get_option_at_index(0).prompt)
        assert f"jusqu'à {paris:%H:%M}" in line, line
        await pilot.press("enter")
        await settle(pilot)
        state = str(app.screen.query_one("#account-state", Static).render())
        assert f"Bloqué jusqu'au {paris:%d/%m/%Y} à {paris:%H:%M}" in state, state


def _screen_text(app: EduConnectApp) -> str:
    svg = app.export_screenshot()
    return html.unescape(re.sub(r"<[^>]+>", "", svg)).replace("\xa0", " ")


@sync
async def test_identifiers_and_block_times_are_whole_at_80_columns(
    principal_app: AppFactory, demo_services: Services
) -> None:
    """The name gives way: the identifier (read on the phone) and the block's end never do."""
    login, _, until = _blocked_pupil(demo_services)
    paris = until.astimezone(ZoneInfo("Europe/Paris"))
    with demo_services.sessions() as session:
        longest = session.scalars(
            select(Account.login).order_by(func.length(Account.login).desc()).limit(2)
        ).all()
    assert min(map(len, longest)) > 18  # wider than the column once was
    app = principal_app()  # administration module: pupils and guardians, one more column
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        await _type_search(pilot, longest[0][2:10])
        shown = _screen_text(app)
        assert all(f" {name} " in shown or shown.endswith(name) for name in longest), shown
        await pilot.press("escape")
        await _type_search(pilot, login)
        # « ⊘ jusqu'à 11:13 », or « ⊘ 11:13 » under « Jusqu'à » when the name needs the room
        assert re.search(rf"{re.escape(login)} ⊘ (jusqu'à )?{paris:%H:%M}", _screen_text(app))
        await pilot.press("escape")
        await _type_search(pilot, "b")  # a long list: the scroll bar takes two columns
        screen = _helpdesk(app)
        results = screen.query_one("#helpdesk-results", OptionList)
        for index, row in enumerate(screen.rows):
            line = str(results.get_option_at_index(index).prompt)
            assert len(line) <= 76 and f" {row.login} " in line, line


@sync
async def test_a_reset_from_the_detail_shows_the_birth_date_too(
    principal_app: AppFactory, demo_services: Services
) -> None:
    app = principal_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        detail = app.screen
        assert isinstance(detail, DetailScreen) and detail.detail is not None
        assert detail.detail.kind is AccountKind.PUPIL and detail.detail.birth_date is not None
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        message = str(app.screen.query_one(".confirm-message", Static).render())
        assert f"date de naissance {detail.detail.birth_date:%d/%m/%Y}." in message
