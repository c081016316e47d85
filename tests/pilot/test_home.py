"""The home page driven from the keyboard: search, filters, selection, sort, errors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
from sqlalchemy import select
from textual import events
from textual.widgets import Input, Static

from educonnect_tui.app import EduConnectApp
from educonnect_tui.demo import college as demo
from educonnect_tui.domain.accounts.listing import Listing, PupilRow, SortKey
from educonnect_tui.domain.model.enums import AccountState
from educonnect_tui.domain.model.errors import DomainError
from educonnect_tui.domain.model.identifiers import sort_key
from educonnect_tui.domain.model.tables import Account, Establishment, Pupil
from educonnect_tui.domain.store.services import Services
from educonnect_tui.screens.error import ErrorScreen
from educonnect_tui.screens.home import HomeScreen
from educonnect_tui.widgets.account_table import PAGE_SIZE, AccountTable
from educonnect_tui.widgets.filters import ClassFilter
from educonnect_tui.widgets.key_bar import KeyBar
from tests.helpers import settle, sync

AppFactory = Callable[[], EduConnectApp]


def _home(app: EduConnectApp) -> HomeScreen:
    assert isinstance(app.screen, HomeScreen)
    return app.screen


def _status(app: EduConnectApp) -> str:
    return str(_home(app).query_one("#status", Static).render())


@sync
async def test_two_keystrokes_to_typing_a_name(principal_app: AppFactory) -> None:
    app = principal_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"lefevre")
        assert isinstance(app.focused, Input)
        await pilot.pause(0.3)
        await settle(pilot)
        table = _home(app).table
        assert table.total is not None and 0 < table.total < 20
        row = table.current_row
        assert isinstance(row, PupilRow) and "lef" in row.last_name.lower()
        await pilot.press("enter")
        assert app.focused is table


@sync
async def test_select_all_clear_and_filter_keeps_only_rows_still_shown(
    principal_app: AppFactory,
) -> None:
    app = principal_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        home = _home(app)
        await pilot.press("space", "space")
        assert len(home.selected[home.kind]) == 2
        await pilot.press("a")
        await settle(pilot)
        assert len(home.selected[home.kind]) == home.table.total == 527
        assert "527 cochés" in _status(app)
        # Keep only the 3e: the selection shrinks to the rows still shown.
        await pilot.press("c", *["down"] * 18, "space", "escape")
        await settle(pilot)
        shown = set(home.listing.ids(home.queries[home.kind]))
        assert home.selected[home.kind] == shown and 100 < len(shown) < 140
        await pilot.press("A")
        assert not home.selected[home.kind]
        assert app.screen.check_action("clear_selection", ()) is None


@sync
async def test_sort_cycles_and_reverses(principal_app: AppFactory) -> None:
    app = principal_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        home = _home(app)
        await pilot.press("o")
        await settle(pilot)
        assert home.queries[home.kind].sort is SortKey.FIRST_NAME
        await pilot.press("O")
        await settle(pilot)
        assert home.queries[home.kind].descending
        rows = [home.table.row_at(i) for i in range(5)]
        # In the French order: « Zoé » and « Zoë » are the same first name.
        keys = [sort_key(r.first_name, "") for r in rows if isinstance(r, PupilRow)]
        assert len(keys) == 5 and keys == sorted(keys, reverse=True)


@sync
async def test_table_holds_a_screenful_plus_a_margin(principal_app: AppFactory) -> None:
    app = principal_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = _home(app).table
        for key in ("end", "pageup", "home", "pagedown", "pagedown"):
            await pilot.press(key)
            await settle(pilot)
            assert table.loaded_rows <= 3 * PAGE_SIZE
        await pilot.press("end")
        await settle(pilot)
        assert table.cursor == table.total - 1 if table.total else False
        assert table.current_row is not None


@sync
async def test_guardians_tab(principal_app: AppFactory) -> None:
    app = principal_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        home = _home(app)
        assert home.kind.value == "responsable"
        # Legal representatives only: the demo's 16 grandparents given as mere contacts
        # of a pupil are not on the list (nor notified).
        assert isinstance(home.table, AccountTable) and home.table.total == 897
        assert app.screen.check_action("notify_guardians", ()) is None


@sync
async def test_a_failing_worker_shows_the_error_modal(
    principal_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: Listing, query: object, offset: int, limit: int) -> tuple[int, list[object]]:
        raise DomainError("Base de données indisponible.")

    monkeypatch.setattr(Listing, "counted_page", broken)
    app = principal_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ErrorScreen)
        assert "Base de données indisponible." in str(
            app.screen.query_one("#error-message").render()
        )
        await pilot.press("escape")
        assert app.is_running


@sync
async def test_keys_arriving_in_a_burst_reach_the_filters(principal_app: AppFactory) -> None:
    """A slow SSH link delivers keys in bursts: focus and ticks must follow them in order."""
    app = principal_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        characters = {"space": " ", "escape": "\x1b", "c": "c", "e": "e"}
        for key in ["c", *["down"] * 18, "space", "e", "space", "down", "space", "escape"]:
            app.post_message(events.Key(key, characters.get(key)))
        await settle(pilot)
        home = _home(app)
        selection = home.queries[home.kind].selection
        assert selection.divisions == ("3E1", "3E2", "3E3", "3E4", "3E5")
        assert selection.states == (AccountState.NOT_NOTIFIED, AccountState.NOTIFIED)
        assert app.focused is home.table


@sync
async def test_no_color_is_respected_and_states_still_read(
    principal_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = principal_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.no_color
        screen = app.export_screenshot()
        # The words and symbols carry the state; colour is gone (monochrome filter).
        for word in ("✗ non notifié", "✉ non activé", "✓ activé"):
            assert word.replace(" ", "&#160;") in screen
        # Every other screen renders in monochrome too (a None style crashes the filter).
        for keys in (("enter",), ("question_mark",), ("n",), ("2",)):
            await pilot.press(*keys)
            await settle(pilot)
            app.export_screenshot()
            if keys != ("2",):
                await pilot.press("escape")
                await settle(pilot)
        assert app.is_running


@sync
async def test_key_bar_shows_greys_and_clicks_keys(principal_app: AppFactory) -> None:
    app = principal_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        bar = _home(app).query_one(KeyBar)
        line = str(bar.render())
        assert line.startswith("n (re)Notifier / Rechercher")
        assert line.rstrip().endswith("▏? Aide ctrl+p Commandes") and len(line) == 120
        enabled = {key: on for key, _shown, _what, on in bar._keys()[0]}
        assert enabled["space"] and not enabled["A"]  # nothing ticked: nothing to untick
        start = next(s for s, _e, key, _on in bar._spans if key == "slash")
        await pilot.click(KeyBar, offset=(start + 2, 0))
        assert isinstance(app.focused, Input) and app.focused.id == "search"


@sync
async def test_desactive_accounts_are_shown_ticked_listed_and_found(
    principal_app: AppFactory, demo_services: Services
) -> None:
    with demo_services.sessions() as session:
        school = select(Establishment.id).where(Establishment.uai == demo.COLLEGE_UAI)
        pupils = select(Account.id, Account.state, Pupil.last_name, Pupil.first_name).join(
            Pupil, Pupil.id == Account.pupil_id
        )
        everyone = session.execute(
            pupils.where(Pupil.establishment_id == school.scalar_subquery())
        ).all()
    gone = sorted(r for r in everyone if r.state is AccountState.DEACTIVATED)
    assert len(everyone) == 527 and len(gone) == 7
    app = principal_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        home = _home(app)
        assert home.table.total == len(everyone)  # « tous » is every state
        await pilot.press("e", "down", "down", "down", "space", "escape")
        await settle(pilot)
        assert home.queries[home.kind].selection.states == (AccountState.DEACTIVATED,)
        assert home.table.total == len(gone)
        shown = [home.table.row_at(i) for i in range(len(gone))]
        assert sorted(r.account_id for r in shown if r is not None) == [r.id for r in gone]
        assert "Aucun compte" not in str(app.export_screenshot())
        # Back to « tous », the home search finds a pupil who left, as the CLI does.
        await pilot.press("e", "space", "escape")
        await settle(pilot)
        assert home.queries[home.kind].selection.states == ()
        await pilot.press("slash", *f"{gone[0].last_name} {gone[0].first_name}")
        await pilot.pause(0.3)
        await settle(pilot)
        found = [home.table.row_at(i) for i in range(home.table.total or 0)]
        assert gone[0].id in [r.account_id for r in found if r is not None]


def _summary(app: EduConnectApp) -> str:
    return str(_home(app).query_one("#filter-summary", Static).render())


@sync
async def test_a_search_limited_by_the_filters_says_so_and_f3_widens_it(
    principal_app: AppFactory,
) -> None:
    app = principal_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        home = _home(app)
        everywhere = Listing(home.services, home.signed_in)
        home.show_class("3E2")
        await settle(pilot)
        await pilot.press("slash", *"amrani")
        await pilot.pause(0.3)
        await settle(pilot)
        in_class = home.table.total
        assert in_class is not None and in_class >= 1
        wide = home.queries[home.kind]
        total = everywhere.count(replace(wide, selection=replace(wide.selection, divisions=())))
        assert total > in_class
        beyond = total - in_class
        noun = "autre compte" if beyond == 1 else "autres comptes"
        assert f"⚠ {beyond} {noun} hors de ces filtres — F3\u00a0: chercher partout" in _summary(
            app
        )
        await pilot.press("f3")  # from the search field itself
        await settle(pilot)
        assert home.table.total == total
        assert "hors de ces filtres" not in _summary(app)
        assert home.query_one("#search", Input).value == "amrani"


@sync
async def test_escape_in_the_search_field_clears_it_then_goes_back_to_the_list(
    principal_app: AppFactory,
) -> None:
    app = principal_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        home = _home(app)
        everyone = home.table.total
        await pilot.press("slash", *"amrani")
        await pilot.pause(0.3)
        await settle(pilot)
        assert home.table.total != everyone
        await pilot.press("escape")
        await pilot.pause(0.3)
        await settle(pilot)
        search = home.query_one("#search", Input)
        assert search.value == "" and app.focused is search
        assert home.table.total == everyone
        await pilot.press("escape")
        assert app.focused is home.table


@sync
async def test_typing_in_the_class_list_jumps_to_the_level_then_the_class(
    principal_app: AppFactory,
) -> None:
    app = principal_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        classes = _home(app).query_one("#classes", ClassFilter)

        def label() -> str:
            assert classes.highlighted is not None
            return str(classes.get_option_at_index(classes.highlighted).prompt).strip()

        await pilot.press("3")
        assert label().startswith("▸ 3e")
        await pilot.press("e", "2")
        assert label() == "3E2"
        assert app.focused is classes  # « e » went to the type-ahead, not to the states
        await pilot.pause(1.1)
        await pilot.press("e")  # no type-ahead going on: the page's key
        assert app.focused is _home(app).query_one("#states")


@sync
async def test_the_cursor_shows_on_ticked_and_coloured_rows(principal_app: AppFactory) -> None:
    """After `a`, ↑/↓/Home/End still show where the cursor is: its own background, over
    the tick's style and the state's colour, and a ▶ that needs no colour at all."""
    app = principal_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        table = _home(app).table
        await pilot.press("a")
        await settle(pilot)
        assert len(_home(app).selected[_home(app).kind]) == table.total

        def line(index: int) -> list[tuple[str, object]]:
            strip = table.render_line(index - int(table.scroll_y) + 1)
            return [(s.text, s.style.bgcolor if s.style else None) for s in strip]

        for keys in (("down",), ("down", "down"), ("end",), ("up",), ("home",)):
            await pilot.press(*keys)
            await settle(pilot)
            cursor = table.cursor
            other = cursor + 1 if cursor + 1 < (table.total or 0) else cursor - 1
            here, there = line(cursor), line(other)
            assert here[0][0].startswith("▶") and not there[0][0].startswith("▶"), keys
            assert "●" in here[0][0] and "●" in there[0][0]  # both ticked
            assert {bg for _, bg in here} != {bg for _, bg in there}, keys
            # The state's colour gives way to the cursor's: one foreground on the line.
            strip = table.render_line(cursor - int(table.scroll_y) + 1)
            assert len({s.style.color for s in strip if s.style and s.text.strip()}) == 1


@sync
async def test_end_shows_the_last_row_above_the_horizontal_scroll_bar(
    principal_app: AppFactory,
) -> None:
    app = principal_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = _home(app).table
        await pilot.press("end")
        await settle(pilot)
        assert table.total is not None and table.cursor == table.total - 1
        line = table.cursor - int(table.scroll_y) + 1  # the header is the first line
        assert line < table.scrollable_content_region.height, (line, table.size)


@sync
async def test_l_refuses_a_missing_output_folder_and_creates_nothing(
    principal_app: AppFactory, demo_services: Services
) -> None:
    """An unmounted share must not quietly become a local folder."""
    output = demo_services.settings.output_dir
    output.rmdir()
    app = principal_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("l")
        for _ in range(50):
            await settle(pilot)
            if isinstance(app.screen, ErrorScreen):
                break
        assert isinstance(app.screen, ErrorScreen)
        assert f"Le dossier de sortie « {output} » n'existe pas" in app.screen.message
        assert app.is_running
    assert not output.exists()


@sync
async def test_l_writes_the_lists_of_the_shown_accounts_without_touching_a_password(
    principal_app: AppFactory, demo_services: Services
) -> None:
    import asyncio

    from pypdf import PdfReader

    from educonnect_tui.domain.model.tables import AuditEvent

    with demo_services.sessions() as session:
        before = list(session.execute(select(Account.id, Account.version).order_by(Account.id)))
    app = principal_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        _home(app).show_class("3E2")
        await settle(pilot)
        shown = _home(app).table.total
        await pilot.press("l")
        folder = demo_services.settings.output_dir / "listes"
        for _ in range(100):
            await settle(pilot)
            if folder.exists() and len(list(folder.glob("*.csv"))) == 1:
                break
            await asyncio.sleep(0.1)
        files = sorted(folder.iterdir())
        assert [f.suffix for f in files] == [".csv", ".pdf"]
        assert "Classe 3E2" in (PdfReader(files[1]).pages[0].extract_text() or "")
        lines = files[0].read_text("utf-8-sig").splitlines()
        assert len(lines) == 1 + (shown or 0)
        messages = [n.message for n in app._notifications]
        assert any(str(files[0]) in m and str(files[1]) in m for m in messages)
    with demo_services.sessions() as session:
        after = list(session.execute(select(Account.id, Account.version).order_by(Account.id)))
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "export"))
    assert after == before
    assert event is not None and event.details["what"] == "listes des comptes"
