"""Sign-in, school choice, help and palette, driven through the keyboard like staff would.

The app is built with ``create_app`` (the production factory) on a migrated SQLite copy,
cheap argon2 parameters and a clock the tests move. The domain decides every outcome;
these tests check what the screens show and where the focus goes.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from rich.console import Console
from textual import events
from textual.command import CommandList, CommandPalette
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widgets import Input, Label, OptionList, Static

from educonnect_tui.app import EduConnectApp, create_app
from educonnect_tui.demo.college import COLLEGE_UAI
from educonnect_tui.domain.access.network import Connection
from educonnect_tui.domain.access.sign_in import GENERIC_FAILURE
from educonnect_tui.domain.access.staff import NewStaff
from educonnect_tui.domain.store.services import Services
from educonnect_tui.domain.store.settings import Settings
from educonnect_tui.screens.help import HelpScreen
from educonnect_tui.screens.home import HomeScreen
from educonnect_tui.screens.login import LoginScreen
from educonnect_tui.screens.school_picker import SchoolPickerScreen
from tests import factories
from tests.conftest import FAST_HASH, FakeClock
from tests.helpers import sync

OUTSIDE = Connection(address="203.0.113.5", via_ssh=True)
SECOND_SCHOOL = ("0941876D", "École élémentaire Joliot-Curie")


def _services(url: str, tmp_path: Path, clock: FakeClock, networks: list[str]) -> Services:
    (tmp_path / "out").mkdir(exist_ok=True)
    settings = Settings(
        database_url=url,
        output_dir=tmp_path / "out",
        admin_networks=[ipaddress.ip_network(n) for n in networks],
        hash_workers=1,
    )
    return Services.from_settings(settings, clock=clock, hash_params=FAST_HASH)


@pytest.fixture
def login_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def outside(sqlite_url: str, tmp_path: Path, login_clock: FakeClock) -> Iterator[Services]:
    """No administrative network configured: the OTP code is asked."""
    built = _services(sqlite_url, tmp_path, login_clock, [])
    yield built
    built.engine.dispose()


@pytest.fixture
def inside(sqlite_url: str, tmp_path: Path, login_clock: FakeClock) -> Iterator[Services]:
    """OUTSIDE's address is in the administrative network: no code."""
    built = _services(sqlite_url, tmp_path, login_clock, ["203.0.113.0/24"])
    yield built
    built.engine.dispose()


def _code(staff: NewStaff, clock: FakeClock) -> str:
    return pyotp.TOTP(staff.totp_secret).at(clock.now)


async def _settle(pilot: Pilot[None]) -> None:
    """Let the sign-in thread finish and its outcome reach the screen."""
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def _type(pilot: Pilot[None], text: str) -> None:
    await pilot.press(*text)


async def _sign_in(pilot: Pilot[None], login: str, password: str, code: str | None) -> None:
    """Fill the fields and press enter on the last one (typing itself is tested apart)."""
    app = pilot.app
    assert isinstance(app, EduConnectApp)
    await pilot.pause()
    _field(app, "identifier").value = login
    _field(app, "password").value = password
    last = _field(app, "password")
    if code is not None:
        last = _field(app, "code")
        last.value = code
    last.focus()
    await pilot.pause()
    await pilot.press("enter")
    await _settle(pilot)


def _field(app: EduConnectApp, name: str) -> Input:
    return app.screen.query_one(f"#login-{name}", Input)


def _drawn(app: EduConnectApp, selector: str) -> str:
    """What the screen really shows of a widget, its lines joined: clipped text is missing."""
    widget = app.screen.query_one(selector)
    visible = widget.region.intersection(app.screen.region)
    assert visible == widget.region, "the widget is cut by the screen"
    lines = widget.render_lines(Region(0, 0, widget.size.width, widget.size.height))
    return " ".join(" ".join(line.text.split()) for line in lines)


def _error(app: EduConnectApp) -> str:
    return str(app.screen.query_one("#login-error", Label).content)


@sync
async def test_outside_the_admin_network_the_code_is_asked_and_said(outside: Services) -> None:
    app = create_app(outside, connection=OUTSIDE)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, LoginScreen)
        case = str(app.screen.query_one("#login-case", Static).content)
        assert "hors du réseau administratif (SSH depuis 203.0.113.5)" in case
        assert "code à 6 chiffres de votre clé OTP" in case
        code = _field(app, "code")
        assert code.max_length == 6
        assert _field(app, "password").password
        assert app.focused is _field(app, "identifier")
        # Only digits reach the code field.
        code.focus()
        await pilot.pause()
        await _type(pilot, "12ab3-4")
        assert code.value == "1234"


@sync
async def test_from_the_admin_network_there_is_no_code_field(
    inside: Services, login_clock: FakeClock
) -> None:
    staff = factories.staff_member(inside)
    app = create_app(inside, connection=OUTSIDE)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        case = str(app.screen.query_one("#login-case", Static).content)
        assert "depuis le réseau administratif" in case
        assert "suffisent" in case
        assert not app.screen.query_one("#login-code-row").display
        await _sign_in(pilot, staff.login, staff.password, None)
        assert isinstance(app.screen, HomeScreen)
        assert app.screen.signed_in.network_mode.label == "réseau administratif"


@sync
async def test_right_credentials_and_code_reach_the_home_page(
    outside: Services, login_clock: FakeClock
) -> None:
    staff = factories.staff_member(outside)
    app = create_app(outside, connection=OUTSIDE)
    async with app.run_test(size=(80, 24)) as pilot:
        await _sign_in(pilot, staff.login, staff.password, _code(staff, login_clock))
        assert isinstance(app.screen, HomeScreen)
        assert app.screen.signed_in.school is not None
        assert app.screen.signed_in.school.uai == factories.DEFAULT_UAI
        # The login screen is gone: esc cannot go back to it.
        assert not any(isinstance(s, LoginScreen) for s in app.screen_stack)


@sync
async def test_keys_typed_ahead_land_in_the_right_fields(
    outside: Services, login_clock: FakeClock
) -> None:
    """A burst (paste, slow SSH link) must not spill into the field being left."""
    staff = factories.staff_member(outside)
    app = create_app(outside, connection=OUTSIDE)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        _burst(app, [*staff.login, "enter", *staff.password, "enter"])
        await pilot.pause()
        await pilot.pause()
        assert _field(app, "identifier").value == staff.login
        assert _field(app, "password").value == staff.password
        assert app.focused is _field(app, "code")


def _burst(app: EduConnectApp, keys: list[str]) -> None:
    """Keys arriving at once, as a paste or a password manager sends them over SSH."""
    for key in keys:
        character = key if len(key) == 1 else None
        name = key if key.isalnum() or len(key) > 1 else _key_name(key)
        app.post_message(events.Key(name, character))


@sync
async def test_tab_typed_ahead_moves_before_the_next_keys(outside: Services) -> None:
    """« identifiant, Tab, mot de passe » in one burst: the password never shows."""
    app = create_app(outside, connection=OUTSIDE)
    async with app.run_test(size=(80, 24)) as pilot:
        _burst(app, [*"p.marchand", "tab", *"secret"])
        await pilot.pause()
        await pilot.pause()
        assert _field(app, "identifier").value == "p.marchand"
        assert _field(app, "password").value == "secret"
        assert app.focused is _field(app, "password")
        # And back: Maj+Tab returns to the identifier before what follows is typed (the
        # field selects its text when it gets the focus, so the typing replaces it).
        _burst(app, ["shift+tab", *"h.martin"])
        await pilot.pause()
        await pilot.pause()
        assert _field(app, "identifier").value == "h.martin"
        assert _field(app, "password").value == "secret"


@sync
async def test_tab_pressed_at_once_after_start_lands_in_the_password(outside: Services) -> None:
    app = create_app(outside, connection=OUTSIDE)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*"p.marchand", "tab", *"secret")
        assert _field(app, "identifier").value == "p.marchand"
        assert _field(app, "password").value == "secret"


@sync
async def test_tab_burst_on_a_login_screen_pushed_again(
    outside: Services, login_clock: FakeClock
) -> None:
    """Back from the school picker, the login screen takes a burst the same way."""
    staff = factories.staff_member(
        outside, schools=((factories.DEFAULT_UAI, "Collège Jean Moulin"), SECOND_SCHOOL)
    )
    app = create_app(outside, connection=OUTSIDE)
    async with app.run_test(size=(80, 24)) as pilot:
        await _sign_in(pilot, staff.login, staff.password, _code(staff, login_clock))
        assert isinstance(app.screen, SchoolPickerScreen)
        _burst(app, ["escape", *"s.lemoine", "tab", *"motdepasse", "tab", *"123456"])
        await pilot.pause()
        await pilot.pause()
        assert isinstance(app.screen, LoginScreen)
        values = [_field(app, n).value for n in ("identifier", "password", "code")]
        assert values == ["s.lemoine", "motdepasse", "123456"]


def _key_name(character: str) -> str:
    from textual.keys import _character_to_key

    return _character_to_key(character)


@sync
async def test_wrong_password_shows_the_generic_message_and_clears_the_secrets(
    outside: Services, login_clock: FakeClock
) -> None:
    staff = factories.staff_member(outside)
    app = create_app(outside, connection=OUTSIDE)
    async with app.run_test(size=(80, 24)) as pilot:
        await _sign_in(pilot, staff.login, "pas-le-bon", _code(staff, login_clock))
        assert isinstance(app.screen, LoginScreen)
        assert _error(app) == f"⚠ {GENERIC_FAILURE}"
        assert app.screen.query_one("#login-error", Label).has_class("-shown")
        assert _field(app, "password").value == ""
        assert _field(app, "code").value == ""
        assert _field(app, "identifier").value == staff.login
        assert app.focused is _field(app, "password")


@sync
async def test_an_empty_field_is_pointed_at_without_an_attempt(outside: Services) -> None:
    app = create_app(outside, connection=OUTSIDE)
    async with app.run_test(size=(80, 24)) as pilot:
        await _type(pilot, "h.martin")
        await pilot.press("enter", "enter", "enter")
        await _settle(pilot)
        assert "Saisissez votre mot de passe" in _error(app)
        assert app.focused is _field(app, "password")


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
@sync
async def test_five_failures_block_the_account_and_show_the_wait(
    outside: Services, login_clock: FakeClock, size: tuple[int, int]
) -> None:
    staff = factories.staff_member(outside)
    app = create_app(outside, connection=OUTSIDE)
    async with app.run_test(size=size) as pilot:
        for attempt in range(1, 6):
            await _sign_in(pilot, staff.login, f"mauvais-{attempt}", "000000")
            assert isinstance(app.screen, LoginScreen)
        message = _error(app)
        assert message.startswith("⚠ Compte bloqué après trop d'essais infructueux")
        assert "réessayez après le" in message
        # The whole message is drawn, the time to come back included.
        assert "réessayez après le 01/09/2026 à 10:15." in _drawn(app, "#login-error")
        # Even the right password is refused now, with the same wait.
        _field(app, "identifier").focus()
        await pilot.pause()
        _field(app, "password").value = staff.password
        _field(app, "code").value = _code(staff, login_clock)
        app.screen.submit()
        await _settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert "Compte bloqué" in _error(app)


@sync
async def test_several_schools_pick_one_then_its_home_page(
    outside: Services, login_clock: FakeClock
) -> None:
    staff = factories.staff_member(
        outside, schools=((factories.DEFAULT_UAI, "Collège Jean Moulin"), SECOND_SCHOOL)
    )
    app = create_app(outside, connection=OUTSIDE)
    async with app.run_test(size=(80, 24)) as pilot:
        await _sign_in(pilot, staff.login, staff.password, _code(staff, login_clock))
        assert isinstance(app.screen, SchoolPickerScreen)
        options = app.screen.query_one(OptionList)
        labels = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert labels == [
            f"{factories.DEFAULT_UAI}  Collège Jean Moulin",
            f"{SECOND_SCHOOL[0]}  {SECOND_SCHOOL[1]}",
        ]
        await pilot.press("down", "enter")
        await _settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        school = app.screen.signed_in.school
        assert school is not None
        assert school.uai == SECOND_SCHOOL[0]


@sync
async def test_escape_from_the_picker_goes_back_to_an_empty_login(
    outside: Services, login_clock: FakeClock
) -> None:
    staff = factories.staff_member(
        outside, schools=((factories.DEFAULT_UAI, "Collège Jean Moulin"), SECOND_SCHOOL)
    )
    app = create_app(outside, connection=OUTSIDE)
    async with app.run_test(size=(80, 24)) as pilot:
        await _sign_in(pilot, staff.login, staff.password, _code(staff, login_clock))
        assert isinstance(app.screen, SchoolPickerScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, LoginScreen)
        assert [_field(app, n).value for n in ("identifier", "password", "code")] == ["", "", ""]


@sync
async def test_q_and_question_mark_are_typed_in_a_field_ctrl_c_quits(outside: Services) -> None:
    app = create_app(outside, connection=OUTSIDE)
    async with app.run_test(size=(80, 24)) as pilot:
        await _type(pilot, "q?q")
        await pilot.pause()
        assert _field(app, "identifier").value == "q?q"
        assert isinstance(app.screen, LoginScreen)
        assert app.return_code is None
        await pilot.press("ctrl+c")
        await pilot.pause()
        assert app.return_code == 0


@sync
async def test_help_lists_every_key_with_its_id_and_closes(
    outside: Services, login_clock: FakeClock
) -> None:
    staff = factories.staff_member(outside)
    app = create_app(outside, connection=OUTSIDE)
    async with app.run_test(size=(80, 24)) as pilot:
        await _sign_in(pilot, staff.login, staff.password, _code(staff, login_clock))
        assert isinstance(app.screen, HomeScreen)
        await pilot.press("question_mark")
        await pilot.pause()
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        console = Console(width=76, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
        console.print(help_screen._content())
        text = console.export_text()
        for expected in (
            "(re)Notifier",
            "notify",
            "Général",
            "Cet écran",
            "PgUp PgDn",
            "Début Fin",
            "Maj+Tab",
            "ctrl+p",
            "[keymap]",
            "home_back",
        ):
            assert expected in text, expected
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        assert app.return_code is None


@sync
async def test_palette_lists_the_screen_actions_in_french_and_runs_one(
    outside: Services, login_clock: FakeClock
) -> None:
    staff = factories.staff_member(outside)
    app = create_app(outside, connection=OUTSIDE)
    async with app.run_test(size=(80, 24)) as pilot:
        await _sign_in(pilot, staff.login, staff.password, _code(staff, login_clock))
        home = app.screen
        assert isinstance(home, HomeScreen)
        commands = {c.title: c.help for c in app.get_system_commands(home)}
        for title in ("(re)Notifier", "Rechercher", "Tout cocher", "Quitter", "Aide", "Thème"):
            assert title in commands, title
        assert "touche n" in commands["(re)Notifier"]
        assert "Commandes" not in commands
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await _type(pilot, "Aide")
        await pilot.pause(0.3)
        results = app.screen.query_one(CommandList)
        assert results.option_count >= 1
        await pilot.press("down", "enter")
        await pilot.pause()
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)


def test_login_renders_under_no_color(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")

    async def scenario() -> None:
        services = _services(sqlite_url, tmp_path, FakeClock(), [])
        app = create_app(services, connection=OUTSIDE)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await pilot.press(*"x", "enter", *"y", "enter", *"123456", "enter")
            await pilot.app.workers.wait_for_complete()
            await pilot.pause()
            assert app.no_color and "Identifiant" in app.export_screenshot()

    asyncio.run(scenario())


# -- the module decided at sign-in, with the demo's staff ----------------------------------


def _demo_credentials(services: Services, login: str) -> NewStaff:
    """New credentials for a demo staff member (the demo prints its own only once)."""
    from sqlalchemy import select

    from educonnect_tui.domain.access.staff import renew_credentials
    from educonnect_tui.domain.model.tables import Staff

    with services.sessions() as session, session.begin():
        member = session.scalars(select(Staff).where(Staff.login == login)).one()
        return renew_credentials(member, services.hash_params)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
@sync
async def test_a_depannage_only_agent_is_told_at_sign_in_what_they_have(
    demo_services: Services, size: tuple[int, int]
) -> None:
    """j.morel holds the dépannage of 3E2 only: refused on the login screen, in French."""
    from educonnect_tui.screens.helpdesk import HelpdeskScreen

    agent = _demo_credentials(demo_services, "j.morel")
    app = create_app(demo_services, connection=OUTSIDE)
    async with app.run_test(size=size) as pilot:
        code = pyotp.TOTP(agent.totp_secret).at(demo_services.clock())
        await _sign_in(pilot, agent.login, agent.password, code)
        assert isinstance(app.screen, LoginScreen)
        assert app.signed_in is None
        assert [type(s).__name__ for s in app.screen_stack][1:] == ["LoginScreen"]
        message = _error(app)
        assert message == (
            "⚠ Vous n'avez pas de délégation active pour l'administration des comptes de "
            "votre établissement. Vous avez\u00a0: dépannage des élèves (3E2). Choisissez "
            "le module dépannage."
        )
        # Drawn whole (it wraps), the way out included.
        assert "Choisissez le module dépannage." in _drawn(app, "#login-error")
        assert _field(app, "password").value == "" and _field(app, "code").value == ""
        assert _field(app, "identifier").value == agent.login
        # What it says works: F2, the password again, and the dépannage search opens.
        await pilot.press("f2")
        _field(app, "password").value = agent.password
        _field(app, "password").focus()
        await pilot.pause()
        await pilot.press("enter")
        await _settle(pilot)
        assert isinstance(app.screen, HelpdeskScreen)


@sync
async def test_a_revoked_agent_cannot_sign_in_any_more(demo_services: Services) -> None:
    """t.nguyen's dépannage delegation revoked: refused at sign-in, not at the first search."""
    from educonnect_tui.domain.access import delegations

    agent = _demo_credentials(demo_services, "t.nguyen")
    principal = factories.signed_in(demo_services, "p.marchand", COLLEGE_UAI)
    (current,) = [
        d
        for d in delegations.list_delegations(demo_services, principal)
        if d.agent_login == "t.nguyen" and d.state.value == "active"
    ]
    delegations.revoke(demo_services, principal, current.id)
    app = create_app(demo_services, connection=OUTSIDE)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("f2")
        await _sign_in(pilot, agent.login, agent.password, None)
        assert isinstance(app.screen, LoginScreen)
        message = _error(app)
        assert "pas de délégation active pour le dépannage des comptes élèves" in message
        assert "Votre délégation a été révoquée le 16/11/2026." in message
        assert "Demandez-en une au chef d'établissement." in message


@sync
async def test_an_agent_without_delegation_is_told_whom_to_ask(demo_services: Services) -> None:
    agent = _demo_credentials(demo_services, "e.vanderberg")
    app = create_app(demo_services, connection=OUTSIDE)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("f2")
        await _sign_in(pilot, agent.login, agent.password, None)
        assert isinstance(app.screen, LoginScreen)
        assert "Demandez-en une au chef d'établissement." in _error(app)
