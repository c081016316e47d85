"""The statistics panel from the keyboard: s opens it, o sorts, enter filters the home page,
e exports, and a change made by someone else shows up by itself within a few seconds."""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import Callable

from sqlalchemy import select, update
from textual.widgets import DataTable, Static

from educonnect_tui.app import EduConnectApp
from educonnect_tui.domain.accounts import publishing
from educonnect_tui.domain.model.enums import AccountState
from educonnect_tui.domain.model.tables import Account, AuditEvent
from educonnect_tui.domain.reports.class_figures import ClassSort
from educonnect_tui.domain.store.services import Services
from educonnect_tui.screens.home import HomeScreen
from educonnect_tui.screens.stats import REFRESH_SECONDS, StatsScreen
from tests.helpers import killed_run, settle, sync

AppFactory = Callable[[], EduConnectApp]


def _stats(app: EduConnectApp) -> StatsScreen:
    assert isinstance(app.screen, StatsScreen)
    return app.screen


def _cell_text(table: DataTable[object], row: int, column: int) -> str:
    return str(table.get_cell_at((row, column)))  # type: ignore[arg-type]


@sync
async def test_s_opens_o_sorts_and_enter_shows_the_class(principal_app: AppFactory) -> None:
    app = principal_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        screen = _stats(app)
        assert screen.stats is not None and screen.stats.pupils.total > 500
        table: DataTable[object] = screen.query_one("#stats-classes", DataTable)
        assert table.row_count == len(screen.stats.classes) == 20
        assert app.focused is table
        await pilot.press("o")
        await settle(pilot)
        assert screen.sort is ClassSort.PUPIL_RATE
        title = str(screen.query_one("#stats-classes-title", Static).render())
        assert "tri\u00a0: taux élèves ▲" in title
        worst = min(screen.stats.classes, key=lambda c: c.pupils.rate)
        assert _cell_text(table, 0, 0) == worst.division
        await pilot.press("down", "enter")
        await settle(pilot)
        home = app.screen
        assert isinstance(home, HomeScreen)
        second = screen._sorted_classes(screen.stats)[1]
        assert home.queries[home.kind].selection.divisions == (second.division,)
        enrolled = second.pupils.total - second.pupils.by_state.get(AccountState.DEACTIVATED, 0)
        assert home.table.total in (second.pupils.total, enrolled)
        assert f"Classes\u00a0: {second.division}" in str(
            home.query_one("#filter-summary", Static).render()
        )


@sync
async def test_a_change_made_elsewhere_shows_up_by_itself(
    principal_app: AppFactory, demo_services: Services
) -> None:
    app = principal_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        screen = _stats(app)
        assert screen.stats is not None
        before = screen.stats.pupils.activated
        table: DataTable[object] = screen.query_one("#stats-classes", DataTable)
        last = table.row_count - 1
        first_class = _cell_text(table, last, 0)
        assert "100 %" not in _cell_text(table, last, 5)
        # Another staff member's session activates every pupil of the last class.
        with demo_services.sessions() as session, session.begin():
            ids = [
                a.id
                for a in session.scalars(select(Account).where(Account.pupil_id.is_not(None)))
                if a.pupil is not None
                and a.pupil.division is not None
                and a.pupil.division.name == first_class
                and a.state is not AccountState.ACTIVATED
                and a.state is not AccountState.DEACTIVATED
            ]
            session.execute(
                update(Account)
                .where(Account.id.in_(ids))
                .values(state=AccountState.ACTIVATED, activated_at=demo_services.clock())
            )
        assert ids
        for _ in range(int(REFRESH_SECONDS * 10) + 30):
            await pilot.pause(0.1)
            if screen.stats.pupils.activated != before:
                break
        assert screen.stats.pupils.activated == before + len(ids)
        await settle(pilot)
        assert "100 %" in _cell_text(table, last, 5)
        assert app.focused is table  # keys still go to the table


@sync
async def test_e_exports_csv_and_pdf(principal_app: AppFactory, demo_services: Services) -> None:
    app = principal_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        await pilot.press("e")
        for _ in range(50):
            await settle(pilot)
            folder = demo_services.settings.output_dir / "statistiques"
            if folder.exists() and len(list(folder.glob("*.pdf"))) == 1:
                break
            await asyncio.sleep(0.1)
        files = sorted(folder.iterdir())
        assert [f.suffix for f in files] == [".csv", ".pdf"]
        assert all(stat.S_IMODE(os.stat(f).st_mode) == 0o600 for f in files)
        messages = [n.message for n in app._notifications]
        assert any(str(files[0]) in m and str(files[1]) in m for m in messages)
        with demo_services.sessions() as session:
            exports = session.scalars(select(AuditEvent).where(AuditEvent.action == "export")).all()
        # One export, one event.
        assert [e.details["formats"] for e in exports] == [["csv", "pdf"]]


@sync
async def test_escape_goes_back_home_unfiltered(principal_app: AppFactory) -> None:
    app = principal_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        home = app.screen
        assert isinstance(home, HomeScreen)
        assert home.queries[home.kind].selection.divisions == ()


@sync
async def test_e_says_what_it_swept(principal_app: AppFactory, demo_services: Services) -> None:
    """A killed run's document in the export folder is removed, and the toast says so."""
    folder = demo_services.settings.output_dir / "statistiques"
    folder.mkdir(parents=True, exist_ok=True)
    left = killed_run(demo_services, folder)
    app = principal_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        await pilot.press("e")
        for _ in range(50):
            await settle(pilot)
            if len(list(folder.glob("*.pdf"))) == 1 and not left.exists():
                break
            await asyncio.sleep(0.1)
        assert not left.exists()
        messages = [str(n.message) for n in app._notifications]
        assert any(f"{publishing.SWEPT}\u00a0: {left}" in m for m in messages), messages


@sync
async def test_page_down_goes_past_the_class_table_to_the_chart_and_pass_culture(
    principal_app: AppFactory,
) -> None:
    app = principal_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        screen = _stats(app)
        body = screen.query_one("#stats-body")
        classes = screen.query_one("#stats-classes", DataTable)
        passes = screen.query_one("#stats-pass", DataTable)
        assert passes.display and passes.row_count  # the demo has pupils to chase

        def seen(widget_id: str) -> bool:
            region = screen.query_one(widget_id).region
            return region.height > 0 and bool(region.intersection(body.content_region).area)

        assert not seen("#stats-activity")
        for _ in range(12):
            await pilot.press("pagedown")
            await pilot.pause()
            if app.focused is passes:
                break
        else:
            raise AssertionError("PgDn never reached the pass Culture table")
        assert classes.cursor_row == classes.row_count - 1
        await pilot.pause()
        assert seen("#stats-pass-title")
        # Back up: the activity chart, between the two tables, is passed on the way.
        await pilot.press("pageup")
        await pilot.pause()
        assert app.focused is classes
        for _ in range(12):
            if seen("#stats-activity"):
                break
            await pilot.press("pagedown")
            await pilot.pause()
        assert seen("#stats-activity")
