"""Errors reach the screen as plain text: whatever they say, the app stays alive."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.exc import OperationalError

from educonnect_tui.app import EduConnectApp
from educonnect_tui.domain.accounts.listing import Listing
from educonnect_tui.domain.model.errors import InvalidInput
from educonnect_tui.screens.error import ErrorScreen
from tests.helpers import settle, sync

AppFactory = Callable[[], EduConnectApp]


def _shown(app: EduConnectApp) -> str:
    assert isinstance(app.screen, ErrorScreen)
    return str(app.screen.query_one("#error-message").render())


@sync
async def test_an_error_text_with_markup_is_shown_as_is(principal_app: AppFactory) -> None:
    app = principal_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.show_error(InvalidInput("Nom « [/bold] » ou « [red » refusé."))
        await settle(pilot)
        assert "Nom « [/bold] » ou « [red » refusé." in _shown(app)
        assert app.is_running
        await pilot.press("escape")
        await settle(pilot)
        assert app.is_running and not isinstance(app.screen, ErrorScreen)


@sync
async def test_an_unexpected_error_is_one_french_sentence_without_its_raw_text(
    principal_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: Listing, *args: object, **kwargs: object) -> int:
        raise RuntimeError("détail interne [/bold] [red")

    monkeypatch.setattr(Listing, "counted_page", broken)
    app = principal_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        shown = _shown(app)
        assert "Erreur inattendue" in shown
        assert "détail interne" not in shown
        assert app.is_running


@sync
async def test_a_busy_database_says_busy_not_unreachable(
    principal_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    def locked(self: Listing, *args: object, **kwargs: object) -> int:
        raise OperationalError("SELECT 1", {}, Exception("database is locked"))

    monkeypatch.setattr(Listing, "counted_page", locked)
    app = principal_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        shown = _shown(app)
        assert "occupée par une autre opération" in shown
        assert "locked" not in shown and "inaccessible" not in shown
        assert app.is_running


@sync
async def test_a_toast_naming_a_path_with_brackets_is_shown_as_is(
    principal_app: AppFactory,
) -> None:
    """Toasts quote paths, logins and names: they are text, never markup."""
    app = principal_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.screen.notify("Fiche imprimable écrite\u00a0: /tmp/[/b]fiche[red.pdf")
        await settle(pilot)
        assert app.is_running
        shown = [str(toast.message) for toast in app._notifications]
        assert shown == ["Fiche imprimable écrite\u00a0: /tmp/[/b]fiche[red.pdf"]
        assert not any(toast.markup for toast in app._notifications)
