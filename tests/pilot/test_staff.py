"""The staff screen and the once-shown credentials, driven from the keyboard on the demo."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable

import pytest
from rich.console import Console
from sqlalchemy import select
from textual import events
from textual.command import CommandList
from textual.widgets import DataTable, Static

from educonnect_tui.app import EduConnectApp, create_app
from educonnect_tui.demo import college as demo
from educonnect_tui.domain.access.passwords import verify_password
from educonnect_tui.domain.access.sessions import CONFIRMATION_REQUIRED
from educonnect_tui.domain.access.staff import provisioning_uri, totp_secret_of
from educonnect_tui.domain.access.staff_accounts import IssuedCredentials, StaffState
from educonnect_tui.domain.model.enums import StaffRole
from educonnect_tui.domain.model.tables import AuditEvent, Establishment, Staff
from educonnect_tui.domain.store.services import Services
from educonnect_tui.screens import credentials
from educonnect_tui.screens.account_actions import ConfirmScreen
from educonnect_tui.screens.confirm_password import ConfirmPasswordScreen
from educonnect_tui.screens.credentials import CredentialsScreen, grouped
from educonnect_tui.screens.error import ErrorScreen
from educonnect_tui.screens.help import HelpScreen
from educonnect_tui.screens.home import HomeScreen
from educonnect_tui.screens.staff import AddStaffScreen, StaffScreen
from educonnect_tui.widgets.qr_code import QrCode
from tests import factories
from tests.conftest import DEMO_NOW, FakeClock
from tests.helpers import settle, sync

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
FIXED = IssuedCredentials(
    staff_id=1,
    login="s.lemoine",
    display_name="Sandrine Lemoine",
    password="Kp7wXr4mNa9tQz",
    password_until=DEMO_NOW + dt.timedelta(days=7),
    totp_secret=SECRET,
    provisioning_uri=provisioning_uri("s.lemoine", SECRET),
)


def _rows(app: EduConnectApp) -> list[str]:
    table = app.screen.query_one("#staff-table", DataTable)
    return [" ".join(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]


def _screen_text(app: EduConnectApp) -> str:
    return "\n".join(
        "".join(segment.text for segment in strip)
        for strip in app.screen._compositor.render_strips()
    )


async def _open_staff(pilot) -> StaffScreen:  # type: ignore[no-untyped-def]
    await settle(pilot)
    await pilot.press("p")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, StaffScreen)
    return screen


async def _go_to(pilot, login: str) -> None:  # type: ignore[no-untyped-def]
    screen = pilot.app.screen
    assert isinstance(screen, StaffScreen)
    index = next(i for i, v in enumerate(screen.rows) if v.login == login)
    screen.query_one("#staff-table", DataTable).move_cursor(row=index)
    await settle(pilot)


@pytest.fixture(autouse=True)
def short_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    """The credentials close after a short delay here (one test sets a long one)."""
    monkeypatch.setattr(credentials, "ARMED_AFTER", 0.05)


async def _close_credentials(pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.pause(credentials.ARMED_AFTER + 0.05)
    await pilot.press("enter")
    await settle(pilot)


def _actions(services: Services) -> list[str]:
    with services.sessions() as session:
        return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


@sync
async def test_p_opens_the_staff_with_states_in_words(
    principal_app: Callable[[], EduConnectApp],
) -> None:
    app = principal_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await _open_staff(pilot)
        rows = _rows(app)
        assert len(rows) == len(demo.COLLEGE_STAFF)
        marchand = next(r for r in rows if "p.marchand" in r)
        assert "Philippe Marchand (vous)" in marchand and "actif" in marchand
        assert any("Karim Haddad" in r and "administration" in r for r in rows)  # delegation
        status = str(app.screen.query_one("#staff-status", Static).render())
        assert status.startswith(f"{len(demo.COLLEGE_STAFF)} personnels · 2 de direction")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)


@sync
async def test_p_is_greyed_for_an_agent(demo_services: Services) -> None:
    session = factories.signed_in(demo_services, "k.haddad", demo.COLLEGE_UAI)
    app = create_app(demo_services, signed_in=session)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        assert app.screen.check_action("staff", ()) is None
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)


@sync
async def test_search_then_escape_clears_it_then_goes_back_to_the_list(
    principal_app: Callable[[], EduConnectApp],
) -> None:
    app = principal_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open_staff(pilot)
        await pilot.press("slash", *"lemo")
        await pilot.pause(0.3)
        await settle(pilot)
        assert [v.login for v in screen.rows] == ["s.lemoine"]
        assert "« lemo »" in str(screen.query_one("#staff-status", Static).render())
        await pilot.press("escape")
        await pilot.pause(0.3)
        await settle(pilot)
        assert len(screen.rows) == len(demo.COLLEGE_STAFF)
        await pilot.press("escape")
        assert isinstance(screen.focused, DataTable)
        await pilot.press(*"zzz")  # typed in the table: nothing happens, nothing found
        assert isinstance(app.screen, StaffScreen)


@sync
async def test_add_shows_the_form_error_then_the_credentials_once(
    principal_app: Callable[[], EduConnectApp], demo_services: Services
) -> None:
    app = principal_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await _open_staff(pilot)
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, AddStaffScreen)
        await pilot.press("ctrl+s")  # no name: the domain's French message, form open
        await settle(pilot)
        assert isinstance(app.screen, AddStaffScreen)
        message = str(form.query_one("#add-staff-message", Static).render())
        assert "nom" in message.lower()
        await pilot.press(*"Lucie", "enter", *"Fabre", "enter")
        await pilot.press("ctrl+s")
        await settle(pilot)
        shown = app.screen
        assert isinstance(shown, CredentialsScreen) and shown.HOLDS_SECRET
        issued = shown.credentials
        assert issued is not None and issued.password and issued.totp_secret
        text = _screen_text(app)
        assert grouped(issued.password) in text and issued.login in text
        assert grouped(issued.totp_secret)[:19] in text
        assert "Nouveau personnel — Lucie Fabre" in text
        assert "affichés une seule fois" in text.lower()
        # What is shown is what opens the account: the password and the OTP key.
        with demo_services.sessions() as session:
            row = session.scalars(select(Staff).where(Staff.login == issued.login)).one()
            assert verify_password(row.password_hash, issued.password)
            assert totp_secret_of(row) == issued.totp_secret
            assert row.password_temporary_until is not None
        await _close_credentials(pilot)
        assert isinstance(app.screen, StaffScreen)
        assert shown.credentials is None
        assert issued.password not in _screen_text(app)
        assert any(n.title == "Personnel ajouté" for n in app._notifications)
        assert any("Lucie Fabre" in r and StaffState.TEMPORARY.value in r for r in _rows(app))
        assert "staff_add" in _actions(demo_services)


@sync
async def test_reset_otp_asks_first_and_the_new_key_replaces_the_old(
    principal_app: Callable[[], EduConnectApp], demo_services: Services
) -> None:
    with demo_services.sessions() as session:
        row = session.scalars(select(Staff).where(Staff.login == "j.morel")).one()
        old = totp_secret_of(row)
    app = principal_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await _open_staff(pilot)
        await _go_to(pilot, "j.morel")
        await pilot.press("k")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "cesse aussitôt" in _screen_text(app)
        await pilot.press("escape")  # nothing changed
        await settle(pilot)
        assert "staff_otp_reset" not in _actions(demo_services)
        await pilot.press("k")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        shown = app.screen
        assert isinstance(shown, CredentialsScreen)
        issued = shown.credentials
        assert issued is not None and issued.password is None and issued.totp_secret
        assert issued.totp_secret != old
        assert shown.query_one(QrCode).rows  # the QR code drawn
        await _close_credentials(pilot)
        assert any(n.title == "Clé OTP" for n in app._notifications)
        assert "staff_otp_reset" in _actions(demo_services)


@sync
async def test_reset_password_shows_the_new_temporary_password(
    principal_app: Callable[[], EduConnectApp], demo_services: Services
) -> None:
    app = principal_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await _open_staff(pilot)
        await _go_to(pilot, "b.dacosta")
        await pilot.press("m")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("enter")
        await settle(pilot)
        shown = app.screen
        assert isinstance(shown, CredentialsScreen)
        issued = shown.credentials
        assert issued is not None and issued.password and issued.totp_secret is None
        assert not shown.query(QrCode)  # no new key, no QR code
        assert "à changer à la première" in _screen_text(app)
        await _close_credentials(pilot)
        assert any("b.dacosta" in r and StaffState.TEMPORARY.value in r for r in _rows(app))
        assert "staff_password_reset" in _actions(demo_services)


@sync
async def test_disable_after_confirmation_then_enable(
    principal_app: Callable[[], EduConnectApp], demo_services: Services
) -> None:
    app = principal_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open_staff(pilot)
        await _go_to(pilot, "k.haddad")
        assert screen.check_action("enable", ()) is False  # not disabled: not shown
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        text = _screen_text(app)
        assert "Karim Haddad" in text and "délégations sont révoquées" in text
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, StaffScreen)
        haddad = next(v for v in screen.rows if v.login == "k.haddad")
        assert haddad.state is StaffState.DISABLED and not haddad.delegations
        assert any(n.title == "Compte désactivé" for n in app._notifications)
        assert screen.check_action("disable", ()) is False
        await pilot.press("a")
        await settle(pilot)
        haddad = next(v for v in screen.rows if v.login == "k.haddad")
        assert haddad.state is not StaffState.DISABLED
        actions = _actions(demo_services)
        assert "staff_disable" in actions and "staff_enable" in actions


@sync
async def test_a_role_change_after_confirmation(
    principal_app: Callable[[], EduConnectApp], demo_services: Services
) -> None:
    app = principal_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open_staff(pilot)
        await _go_to(pilot, "s.lemoine")
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "« Agent »" in _screen_text(app)
        await pilot.press("escape")  # nothing changed
        await settle(pilot)
        assert "staff_role_changed" not in _actions(demo_services)
        await pilot.press("c")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        lemoine = next(v for v in screen.rows if v.login == "s.lemoine")
        assert lemoine.role is StaffRole.AGENT
        assert any(n.title == "Rôle changé" for n in app._notifications)
        assert "staff_role_changed" in _actions(demo_services)


@sync
async def test_the_last_direction_account_is_refused_in_french(
    principal_app: Callable[[], EduConnectApp], demo_services: Services
) -> None:
    """The école's directrice, also attached to the collège, is the école's only one."""
    with demo_services.sessions() as session, session.begin():
        college = session.scalars(
            select(Establishment).where(Establishment.uai == demo.COLLEGE_UAI)
        ).one()
        leroux = session.scalars(select(Staff).where(Staff.login == "m.leroux")).one()
        lemoine = session.scalars(select(Staff).where(Staff.login == "s.lemoine")).one()
        leroux.establishments.append(college)
        lemoine.establishments = [college]
    app = principal_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open_staff(pilot)
        for key in ("x", "c"):
            await _go_to(pilot, "m.leroux")
            await pilot.press(key)
            await settle(pilot)
            assert isinstance(app.screen, ConfirmScreen)
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, ErrorScreen)
            assert "Martine Leroux est le dernier compte de direction" in app.screen.message
            await pilot.press("escape")
            await settle(pilot)
        leroux_view = next(v for v in screen.rows if v.login == "m.leroux")
        assert leroux_view.role is StaffRole.DIRECTION
        assert leroux_view.state is not StaffState.DISABLED
        actions = _actions(demo_services)
        assert "staff_disable" not in actions and "staff_role_changed" not in actions


@sync
async def test_disabling_oneself_is_refused_in_french(
    principal_app: Callable[[], EduConnectApp],
) -> None:
    app = principal_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await _open_staff(pilot)
        await _go_to(pilot, "p.marchand")
        for key, words in (
            ("x", "désactiver votre propre compte"),
            ("m", "réinitialiser votre propre mot de passe"),
            ("c", "changer votre propre rôle"),
        ):
            await pilot.press(key)
            await settle(pilot)
            # Said at once, never after a confirmation that could only be refused.
            assert isinstance(app.screen, StaffScreen)
            toast = list(app._notifications)[-1]
            assert words in toast.message and toast.severity == "warning"
        await pilot.press("k")  # one's own OTP key is allowed: a new phone
        await settle(pilot)
        assert not isinstance(app.screen, StaffScreen)


@sync
async def test_unlock_a_blocked_account(
    principal_app: Callable[[], EduConnectApp], demo_services: Services
) -> None:
    with demo_services.sessions() as session, session.begin():
        row = session.scalars(select(Staff).where(Staff.login == "t.nguyen")).one()
        row.failed_attempts = 5
        row.blocked_until = DEMO_NOW + dt.timedelta(hours=1)
    app = principal_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_staff(pilot)
        await _go_to(pilot, "t.nguyen")
        assert screen.check_action("unlock", ()) is True
        assert any("t.nguyen" in r and StaffState.BLOCKED.value in r for r in _rows(app))
        await pilot.press("u")
        await settle(pilot)
        nguyen = next(v for v in screen.rows if v.login == "t.nguyen")
        assert nguyen.state is StaffState.ACTIVE
        assert screen.check_action("unlock", ()) is None
        assert any(n.title == "Déblocage" for n in app._notifications)


@sync
async def test_the_credentials_fit_80x24_qr_left_text_right(
    principal_app: Callable[[], EduConnectApp],
) -> None:
    app = principal_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await _open_staff(pilot)
        app.push_screen(CredentialsScreen(app.services, FIXED, "Nouvelle clé OTP"))
        await settle(pilot)
        screen = app.screen
        qr = screen.query_one(QrCode)
        words = screen.query_one("#credentials-words", Static)
        dialog = screen.query_one("#credentials-dialog")
        assert (qr.region.width, qr.region.height) == (41, 21)
        assert words.region.x >= qr.region.right and words.region.height <= 21
        screen_region = screen.region
        assert dialog.region == dialog.region.intersection(screen_region)
        text = _screen_text(app)
        for shown in (
            "s.lemoine",
            grouped(FIXED.password or ""),
            "23/11/2026",
            "JBSW Y3DP",
            "Échap ou Entrée\u00a0: fermer",
        ):
            assert shown in text, shown
        # The URI, folded over several lines, is there whole.
        assert FIXED.provisioning_uri is not None
        assert FIXED.provisioning_uri in "".join(
            line[words.region.x : words.region.right].rstrip() for line in text.split("\n")
        )


def _qr_colours(app: EduConnectApp, qr: QrCode) -> set[tuple[str, str]]:
    """(foreground, background) of every cell of the code, as the terminal gets them."""
    region = qr.region
    colours = set()
    for strip in app.screen._compositor.render_strips()[region.y : region.bottom]:
        offset = 0
        for segment in strip:
            style = segment.style
            if region.x <= offset < region.right and style is not None:
                assert style.color is not None and style.bgcolor is not None
                colours.add((style.color.get_truecolor().hex, style.bgcolor.get_truecolor().hex))
            offset += len(segment.text)
    return colours


@sync
async def test_the_qr_code_is_dark_on_light_and_can_be_inverted(
    principal_app: Callable[[], EduConnectApp],
) -> None:
    app = principal_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await _open_staff(pilot)
        app.push_screen(CredentialsScreen(app.services, FIXED, "Nouvelle clé OTP"))
        await settle(pilot)
        qr = app.screen.query_one(QrCode)
        assert qr.drawn_rows() == qr.rows  # the blocks are the dark modules
        assert _qr_colours(app, qr) == {("#000000", "#ffffff")}
        app.theme = "textual-light"  # the same in a light theme
        await settle(pilot)
        assert _qr_colours(app, qr) == {("#000000", "#ffffff")}
        await pilot.press("i")
        await pilot.pause()
        assert qr.inverted and qr.drawn_rows() != qr.rows
        app.no_color = True  # colours dropped: the blocks take the terminal's (light) text
        qr.inverted = False
        assert qr.drawn_rows() != qr.rows
        assert set(qr.drawn_rows()[0]) == {"█"}  # the quiet zone is the block colour


@sync
async def test_staff_keys_are_in_the_help_and_the_palette(
    principal_app: Callable[[], EduConnectApp],
) -> None:
    app = principal_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        names = [c.title for c in app.get_system_commands(app.screen)]
        assert "Personnels" in names
        await _open_staff(pilot)
        names = [c.title for c in app.get_system_commands(app.screen)]
        for word in ("Ajouter", "Mot de passe", "Clé OTP", "Débloquer", "Désactiver", "Rôle"):
            assert word in names, word
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"clé")
        await pilot.pause(0.5)
        results = app.screen.query_one(CommandList)
        prompts = [str(results.get_option_at_index(i).prompt) for i in range(results.option_count)]
        assert any("Clé OTP" in p for p in prompts), prompts


@sync
async def test_a_refused_caller_sees_the_domain_refusal(demo_services: Services) -> None:
    """The screen is opened only from home's greyed key; the domain refuses all the same."""
    session = factories.signed_in(demo_services, "k.haddad", demo.COLLEGE_UAI)
    app = create_app(demo_services, signed_in=session)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.push_screen(StaffScreen(demo_services, session))
        await settle(pilot)
        assert isinstance(app.screen, ErrorScreen)
        assert "gérer les personnels" in app.screen.message


@sync
async def test_the_help_lists_the_staff_keys_first(
    principal_app: Callable[[], EduConnectApp],
) -> None:
    app = principal_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await _open_staff(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        title = str(app.screen.query_one(".dialog-title", Static).render())
        assert title == "Aide — personnels de l'établissement"
        console = Console(width=76, record=True, file=io.StringIO())
        console.print(app.screen._content())
        text = console.export_text()
        assert text.index("Ajouter") < text.index("Général")
        for key_id in ("staff_add", "staff_reset_otp", "staff_disable", "staff_role"):
            assert key_id in text, key_id


@sync
async def test_no_sign_out_behind_the_credentials_and_nothing_left_after(
    principal_app: Callable[[], EduConnectApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    # However slow the machine running the test, these keys come within the delay.
    monkeypatch.setattr(credentials, "ARMED_AFTER", 60.0)
    app = principal_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await _open_staff(pilot)
        app.push_screen(CredentialsScreen(app.services, FIXED, "Nouvelle clé OTP"))
        await settle(pilot)
        await pilot.press("ctrl+l")  # refused while the window is open: told, not closed
        await settle(pilot)
        assert isinstance(app.screen, CredentialsScreen)
        await pilot.press("escape", "enter", "escape")  # in its first instant: ignored
        assert isinstance(app.screen, CredentialsScreen)
        app.screen.opened_at -= 60.0  # the delay is over
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, StaffScreen)
        text = _screen_text(app)
        assert SECRET[:8] not in text and "Kp7w" not in text


def _burst(app: EduConnectApp, keys: list[str]) -> None:
    """Keys arriving at once, as a paste or a burst over a slow SSH link sends them."""
    for key in keys:
        app.post_message(events.Key(key, key if len(key) == 1 else None))


@sync
async def test_a_burst_of_keys_fills_the_add_form_field_by_field(
    principal_app: Callable[[], EduConnectApp], demo_services: Services
) -> None:
    app = principal_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await _open_staff(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, AddStaffScreen)
        _burst(app, [*"Lucie", "enter", *"Fabre", "enter", *"CPE", "tab", *"lfab", "ctrl+s"])
        await settle(pilot)
        shown = app.screen
        assert isinstance(shown, CredentialsScreen)  # ctrl+s came after the last letter
        assert shown.credentials is not None and shown.credentials.login == "lfab"
        with demo_services.sessions() as session:
            row = session.scalars(select(Staff).where(Staff.login == "lfab")).one()
            assert (row.first_name, row.last_name, row.title) == ("Lucie", "Fabre", "CPE")


@sync
async def test_leaving_while_a_reset_runs_still_shows_its_credentials(
    principal_app: Callable[[], EduConnectApp],
) -> None:
    app = principal_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await _open_staff(pilot)
        await _go_to(pilot, "j.morel")
        await pilot.press("k")
        await settle(pilot)
        _burst(app, ["enter", "escape"])  # confirmed, and the screen left at once
        await settle(pilot)
        assert isinstance(app.screen, CredentialsScreen)
        assert not any(isinstance(s, ErrorScreen) for s in app.screen_stack)
        await _close_credentials(pilot)
        assert any(n.title == "Clé OTP" for n in app._notifications)


@sync
async def test_the_add_form_adds_once_and_keeps_its_credentials(
    principal_app: Callable[[], EduConnectApp], demo_services: Services
) -> None:
    """ctrl+s twice and Échap at once: one person added, and their credentials shown."""
    app = principal_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await _open_staff(pilot)
        await pilot.press("n")
        await settle(pilot)
        _burst(app, [*"Lucie", "enter", *"Fabre", "ctrl+s", "ctrl+s", "escape"])
        await settle(pilot)
        assert isinstance(app.screen, CredentialsScreen)
        with demo_services.sessions() as session:
            added = session.scalars(select(Staff.login).where(Staff.last_name == "Fabre")).all()
        assert added == ["l.fabre"]


@sync
async def test_a_confirmation_due_is_said_in_french_and_changes_nothing(
    principal_app: Callable[[], EduConnectApp], demo_services: Services
) -> None:
    """Past the re-authentication window the password is asked first; Échap there, or
    on the one the domain asks for itself (the add form), changes nothing."""
    app = principal_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await _open_staff(pilot)
        clock = demo_services.clock
        assert isinstance(clock, FakeClock)
        clock.advance(minutes=demo_services.settings.reauth_minutes + 1)
        await _go_to(pilot, "k.haddad")
        await pilot.press("x")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmPasswordScreen)
        assert app.screen.reason == CONFIRMATION_REQUIRED
        assert "k.haddad" in app.screen.what
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("n")  # the add form: the domain's refusal asks, the form kept
        await settle(pilot)
        _burst(app, [*"Lucie", "enter", *"Fabre", "ctrl+s"])
        await settle(pilot)
        assert isinstance(app.screen, ConfirmPasswordScreen)
        assert app.screen.reason == CONFIRMATION_REQUIRED
        await pilot.press("escape")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, AddStaffScreen) and not form.adding
        assert "staff_disable" not in _actions(demo_services)
        assert "staff_add" not in _actions(demo_services)
