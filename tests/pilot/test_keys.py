"""Keys as staff see them: the bar in French and in order, help and palette always there,
keymap mistakes told at start, the help opened on the screen's own keys."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console
from textual.command import CommandList
from textual.widgets import Static

from educonnect_tui.app import EduConnectApp, create_app
from educonnect_tui.demo import college as demo
from educonnect_tui.domain.access.network import Connection
from educonnect_tui.domain.store.services import Services
from educonnect_tui.domain.store.settings import Settings
from educonnect_tui.screens.help import HelpScreen
from educonnect_tui.widgets.key_bar import KeyBar
from educonnect_tui.widgets.palette import NO_MATCHES, FrenchCommandPalette
from tests import factories
from tests.conftest import FakeClock
from tests.helpers import settle, sync


def _app(services: Services, keymap: dict[str, str] | None = None) -> EduConnectApp:
    services.settings.keymap = keymap or {}
    session = factories.signed_in(services, "p.marchand", demo.COLLEGE_UAI)
    return create_app(services, signed_in=session)


def _bar(app: EduConnectApp) -> str:
    return str(app.screen.query_one(KeyBar).render())


@sync
async def test_the_bar_names_keys_as_the_help_does(demo_services: Services) -> None:
    app = _app(demo_services)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        line = _bar(app)
        assert "Espace Cocher" in line and "Entrée Détail" in line
        assert not re.search(r"\bspace\b|⏎|\^p|\besc\b", line)
        assert line.rstrip().endswith("▏? Aide ctrl+p Commandes")


@sync
async def test_help_and_palette_keys_are_shown_at_80_columns(demo_services: Services) -> None:
    app = _app(demo_services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        line = _bar(app)
        assert len(line) == 80 and line.endswith("▏? Aide ctrl+p Commandes")
        assert line.startswith("n (re)Notifier / Rechercher d Dépannage")
        await pilot.press("slash")  # in the search field, « ? » is typed: F1 is shown
        await pilot.pause()
        assert _bar(app).endswith("▏F1 Aide ctrl+p Commandes")


@sync
async def test_a_remapped_key_keeps_its_place_in_the_bar(demo_services: Services) -> None:
    app = _app(demo_services, {"search": "ctrl+f", "helpdesk": "f5"})
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert _bar(app).startswith("n (re)Notifier ctrl+f Rechercher F5 Dépannage")
        assert not app._notifications  # nothing wrong with this keymap


@sync
async def test_keymap_mistakes_are_told_at_start_in_one_line(demo_services: Services) -> None:
    app = _app(demo_services, {"serach": "ctrl+f", "search": "n"})
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        (told,) = [n.message for n in app._notifications]
        assert "\n" not in told and told.startswith("Réglages, table [keymap]")
        assert "serach" in told and "n (notify et search)" in told


@sync
async def test_the_palette_says_no_match_in_french(demo_services: Services) -> None:
    app = _app(demo_services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, FrenchCommandPalette)
        await pilot.press(*"zzzz")
        await pilot.pause(0.8)
        results = app.screen.query_one(CommandList)
        prompts = [str(results.get_option_at_index(i).prompt) for i in range(results.option_count)]
        assert any(NO_MATCHES in p for p in prompts), prompts


def _help_text(screen: HelpScreen) -> str:
    console = Console(width=76, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(screen._content())
    return console.export_text()


@pytest.fixture
def login_services(sqlite_url: str, tmp_path: Path) -> Iterator[Services]:
    services = Services.from_settings(
        Settings(database_url=sqlite_url, output_dir=tmp_path, admin_networks=[]),
        clock=FakeClock(),
    )
    yield services
    services.engine.dispose()


@sync
async def test_f1_on_the_login_screen_opens_on_the_login_keys(login_services: Services) -> None:
    app = create_app(login_services, connection=Connection(address="203.0.113.5", via_ssh=True))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        title = str(app.screen.query_one(".dialog-title", Static).render())
        assert title == "Aide — connexion"
        text = _help_text(app.screen)
        assert text.lstrip().startswith("Cet écran")
        assert "Page d'accueil" not in text  # not signed in: the home's keys do not apply
        assert text.index("Module") < text.index("Général")


@sync
async def test_the_home_help_starts_with_the_home_keys_said_once(demo_services: Services) -> None:
    app = _app(demo_services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = _help_text(app.screen)
        assert text.lstrip().startswith("Cet écran")
        assert str(app.screen.query_one(".dialog-title", Static).render()).startswith(
            "Aide — page d'accueil"
        )
        assert text.index("(re)Notifier") < text.index("Général")
        assert "Dépannage\u00a0: Dépannage" not in text and "Représentants légaux" in text
        assert text.count("Tout cocher") == 1


@sync
async def test_a_toast_keeps_a_file_name_on_one_line_at_80_columns(
    demo_services: Services,
) -> None:
    from textual.widgets._toast import Toast

    app = _app(demo_services)
    name = "eleves_0941234F_2026-12-01_153403.pdf"
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot)
        app.notify(f"Dans /home/secretariat/EduConnect/notifications/\u00a0:\n  {name}")
        await pilot.pause(0.2)
        toast = app.screen.query_one(Toast)
        lines = [line.text.strip() for line in toast.render_lines(toast.region.reset_offset)]
        assert any(line.endswith(name) for line in lines), lines


def test_no_wrapped_line_starts_with_a_colon() -> None:
    """Textual and Rich keep « mot\u00a0: » together (widgets/no_break)."""
    from rich.text import Text
    from textual.content import Content

    import educonnect_tui.app  # noqa: F401 - installs the no-break wrapping

    text = "Le fichier de clés est illisible\u00a0: restaurez-le depuis une sauvegarde."
    for width in range(14, 60):  # narrower, « illisible\u00a0: » itself is folded
        lines = [line.plain for line in Content(text).wrap(width)]
        assert not any(line.lstrip().startswith(":") for line in lines), (width, lines)
        rich_lines = Text(text).wrap(Console(width=width), width)
        assert not any(line.plain.lstrip().startswith(":") for line in rich_lines), width
