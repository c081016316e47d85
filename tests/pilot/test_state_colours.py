"""Account states wear their colour on every screen that shows them, beside their word and
symbol: pupils red and yellow, guardians red and orange, activé green, désactivé grey; in
the shades of the theme in use (darker on a light theme)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from textual.widgets import SelectionList

from educonnect_tui.app import EduConnectApp
from educonnect_tui.domain.model.enums import AccountState, StateColour
from educonnect_tui.screens.delegations import GrantScreen
from educonnect_tui.screens.detail import DetailScreen
from educonnect_tui.screens.helpdesk import HelpdeskScreen
from educonnect_tui.screens.home import HomeScreen
from educonnect_tui.screens.stats import StatsScreen
from educonnect_tui.widgets.state_badge import SHADES
from tests.helpers import colours_on_screen, settle, sync

AppFactory = Callable[[], EduConnectApp]
DARK, LIGHT = SHADES[True], SHADES[False]
C = StateColour


def _home(app: EduConnectApp) -> HomeScreen:
    assert isinstance(app.screen, HomeScreen)
    return app.screen


@sync
async def test_the_home_list_and_the_filters_colour_every_state(principal_app: AppFactory) -> None:
    app = principal_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        # Row 0 is under the cursor (drawn in the cursor's colours); the others are not.
        assert DARK[C.RED] in colours_on_screen(app, "✗ non notifié  ")
        assert DARK[C.YELLOW] in colours_on_screen(app, "✉ non activé  ")
        assert DARK[C.GREEN] in colours_on_screen(app, "✓ activé  ")
        assert DARK[C.ORANGE] not in colours_on_screen(app, "✉ non activé")
        # The filter pane: the whole words, in the same colours.
        assert colours_on_screen(app, "✉ notifié, non activé") == {DARK[C.YELLOW]}
        assert colours_on_screen(app, "– désactivé") == {DARK[C.GREY]}
        await pilot.press("2")
        await settle(pilot)
        assert DARK[C.ORANGE] in colours_on_screen(app, "✉ non activé  ")
        assert DARK[C.YELLOW] not in colours_on_screen(app, "✉ non activé")
        assert colours_on_screen(app, "✉ notifié, non activé") == {DARK[C.ORANGE]}
        # Only the désactivé ones: grey in the list.
        await pilot.press("1", "e", "down", "down", "down", "space", "escape")
        await settle(pilot)
        assert _home(app).queries[_home(app).kind].selection.states == (AccountState.DEACTIVATED,)
        assert DARK[C.GREY] in colours_on_screen(app, "– désactivé  ")


@sync
async def test_a_light_theme_draws_the_darker_shades(principal_app: AppFactory) -> None:
    app = principal_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.theme = "textual-light"
        await settle(pilot)
        assert LIGHT[C.YELLOW] in colours_on_screen(app, "✉ non activé  ")
        assert LIGHT[C.RED] in colours_on_screen(app, "✗ non notifié  ")
        # The filter pane was drawn before the change: it follows the theme too.
        assert colours_on_screen(app, "✉ notifié, non activé") == {LIGHT[C.YELLOW]}
        await pilot.press("2")
        await settle(pilot)
        assert LIGHT[C.ORANGE] in colours_on_screen(app, "✉ non activé  ")


@sync
async def test_the_detail_colours_the_state_and_the_relatives(principal_app: AppFactory) -> None:
    app = principal_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        row = _home(app).table.current_row
        assert row is not None and row.state is AccountState.NOTIFIED  # Imane Aït Ahmed
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        assert colours_on_screen(app, "✉ notifié, non activé") == {DARK[C.YELLOW]}
        # Her guardians' states, in the guardians' colours.
        relatives = {
            shade for state in AccountState for shade in colours_on_screen(app, state.symbol + " ")
        }
        assert relatives - {DARK[C.YELLOW]} <= {DARK[c] for c in (C.RED, C.ORANGE, C.GREEN)}
        app.theme = "textual-light"  # drawn again in the new theme's shades
        await settle(pilot)
        assert colours_on_screen(app, "✉ notifié, non activé") == {LIGHT[C.YELLOW]}


@sync
async def test_the_depannage_list_colours_pupils_and_guardians(principal_app: AppFactory) -> None:
    app = principal_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("d", *"amrani")
        await pilot.pause(0.3)
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, HelpdeskScreen) and screen.rows
        notified = {r.kind for r in screen.rows if r.state is AccountState.NOTIFIED}
        shades = colours_on_screen(app, "✉ non activé")
        assert {DARK[C.YELLOW], DARK[C.ORANGE]} & shades
        assert len(shades & {DARK[C.YELLOW], DARK[C.ORANGE]}) == len(notified)
        assert DARK[C.RED] in colours_on_screen(app, "✗ non notifié")
        app.theme = "textual-light"
        await settle(pilot)
        assert LIGHT[C.RED] in colours_on_screen(app, "✗ non notifié")
        assert not {DARK[c] for c in StateColour} & colours_on_screen(app, "✗ non notifié")


@sync
async def test_the_statistics_paint_pupils_yellow_and_guardians_orange(
    principal_app: AppFactory,
) -> None:
    app = principal_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, StatsScreen)
        label = colours_on_screen(app, "✉ notifié, non activé")
        assert label == {DARK[C.YELLOW]}, label  # the row of the pupils' first column
        assert colours_on_screen(app, "✗ non notifié") == {DARK[C.RED]}
        assert colours_on_screen(app, "✓ activé") == {DARK[C.GREEN]}
        assert colours_on_screen(app, "– désactivé") == {DARK[C.GREY]}
        app.theme = "textual-light"
        await settle(pilot)
        assert colours_on_screen(app, "✉ notifié, non activé") == {LIGHT[C.YELLOW]}
        # The per-class table: each state's symbol in its population's colour.
        assert colours_on_screen(app, "✉") >= {LIGHT[C.YELLOW], LIGHT[C.ORANGE]}


@sync
async def test_the_grant_form_ticks_classes_without_colour(principal_app: AppFactory) -> None:
    app = principal_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("g")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, GrantScreen)
        classes = app.screen.query_one("#grant-classes", SelectionList)
        classes.select(classes.get_option_at_index(1).value)
        await settle(pilot)
        lines = [classes.render_line(y).text for y in range(3)]
        assert classes.selected == ["6E2"]
        # The plain text tells ticked from unticked: no colour needed.
        assert "✔" in lines[1] and "✔" not in lines[0] + lines[2]
        assert lines[0].replace("6E1", "") != lines[1].replace("6E2", "")


@sync
async def test_without_colour_the_words_the_symbols_and_the_cursor_remain(
    principal_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = principal_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("a", "down")
        await settle(pilot)
        svg = app.export_screenshot()
        screen = re.sub(r"<[^>]+>", "", svg).replace("&#160;", " ")
        for shown in ("▶●✓ activé", " ●✉ non activé", "✗ non notifié"):
            assert shown in screen, shown
        # Every shade reaches the terminal as a grey: none is a hue any more.
        fills = {bytes.fromhex(c) for c in re.findall(r"fill: #([0-9a-fA-F]{6})", svg)}
        assert fills and all(max(c) - min(c) <= 4 for c in fills)
