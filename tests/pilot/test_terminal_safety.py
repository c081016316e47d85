"""Names holding terminal sequences, stored before the import refused them, drawn harmlessly.

What the app would write to the terminal is rendered from each screen's compositor, as
the driver receives it: it must hold no sequence from the data (OSC 52 sets the
clipboard, OSC 0 the window title, CSI 2J wipes the screen), and the data's own control
characters are drawn as visible marks.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

import pytest
from sqlalchemy import select
from textual.screen import Screen

from educonnect_tui.app import EduConnectApp
from educonnect_tui.domain.model.errors import DomainError
from educonnect_tui.domain.model.printable import UNPRINTABLE_CATEGORIES
from educonnect_tui.domain.model.tables import Establishment
from educonnect_tui.domain.store import audit
from educonnect_tui.domain.store.audit import Actor
from educonnect_tui.screens.audit import AuditScreen
from educonnect_tui.screens.detail import DetailScreen
from educonnect_tui.screens.error import ErrorScreen
from educonnect_tui.screens.home import HomeScreen
from tests import factories
from tests.helpers import settle, sync
from tests.pilot.conftest import SMALL_NOW, SmallSchool

AppFactory = Callable[[], EduConnectApp]

CLIPBOARD = "\x1b]52;c;cHduZWQ=\x07"
TITLE = "\x1b]0;Session terminée\x07"
WIPE = "\x1b[2J"
LAST = f"ABADIE{CLIPBOARD}{TITLE}{WIPE}"
FIRST = "\u202eennA\u200b\x9b5m\x7f"


@pytest.fixture
def hostile_app(small_school: SmallSchool, small_app: AppFactory) -> AppFactory:
    services = small_school.services
    with services.sessions() as session, session.begin():
        school = session.scalars(select(Establishment)).one()
        child = factories.pupil(session, school, last_name=LAST, first_name=FIRST, division="6E1")
        factories.guardian(session, [child], last_name=LAST, first_name=FIRST)
        factories.pupil(session, school, last_name="Zola", division=f"6E{WIPE}")
        audit.record(
            session,
            Actor(label=f"Mme {TITLE}", source_address="10.0.0.1"),
            "notify",
            now=SMALL_NOW,
            establishment_id=school.id,
            targets=[child.id],
            details={"fichier": f"lettres{WIPE}.pdf"},
        )
    return small_app


def _written(screen: Screen[object]) -> str:
    """What the driver would write for a full repaint of ``screen``, checked segment by segment."""
    update = screen._compositor.render_full_update()
    for line in update.strips:
        for strip in line:
            for segment in strip:
                if segment.control is None:
                    bad = [
                        c for c in segment.text if unicodedata.category(c) in UNPRINTABLE_CATEGORIES
                    ]
                    assert bad == [], ascii(segment.text)
    written = update.render_segments(screen.app.console)
    for sequence in ("\x1b]", "\x07", WIPE, "\x9b", "\u202e", "\u200b", "\x7f"):
        assert sequence not in written, ascii(sequence)
    return "".join(
        segment.text
        for line in update.strips
        for strip in line
        for segment in strip
        if segment.control is None
    )


@sync
async def test_home_detail_and_history_draw_hostile_names_as_marks(
    hostile_app: AppFactory,
) -> None:
    app = hostile_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        shown = _written(app.screen)
        assert "ABADIE␛]52" in shown
        assert shown.count("6E␛[2J") == 2  # in its row, and in the class filter

        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        shown = _written(app.screen)
        assert "␛]52;c;cHduZWQ=␇" in shown and "\\u202e" in shown

        await pilot.press("h")
        await settle(pilot)
        assert isinstance(app.screen, AuditScreen)
        shown = _written(app.screen)
        assert "Mme ␛]0;" in shown

        await pilot.press("escape", "escape", "2")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        _written(app.screen)


@sync
async def test_helpdesk_search_draws_hostile_names_as_marks(hostile_app: AppFactory) -> None:
    app = hostile_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        await pilot.press(*"abadie")
        await pilot.pause(0.3)
        await settle(pilot)
        shown = _written(app.screen)
        assert "ABADIE␛]52" in shown
        await pilot.press("enter", "enter")
        await settle(pilot)
        _written(app.screen)


@sync
async def test_text_no_screen_escaped_still_cannot_drive_the_terminal(
    hostile_app: AppFactory,
) -> None:
    """The app-wide filter: an error message or a toast quoting raw data."""
    app = hostile_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.notify(f"Compte {LAST} débloqué.", title=FIRST)
        app.show_error(DomainError(f"Fichier {TITLE}.csv illisible\u00a0: {CLIPBOARD}"))
        await settle(pilot)
        assert isinstance(app.screen, ErrorScreen)
        shown = _written(app.screen)
        assert "illisible" in shown
