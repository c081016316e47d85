"""The audit screen from the keyboard: h from an account's detail shows that account's
events, j from the home page the whole trail; filters, pages and v (verification)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Input, Select, Static

from educonnect_tui.app import EduConnectApp
from educonnect_tui.demo import college as demo
from educonnect_tui.domain.model.enums import AccountKind
from educonnect_tui.domain.model.tables import Account, Establishment
from educonnect_tui.domain.store import audit
from educonnect_tui.domain.store.audit import Actor
from educonnect_tui.domain.store.services import Services
from educonnect_tui.screens.audit import PAGE_SIZE, AuditScreen
from educonnect_tui.screens.audit_event import PAGE_SIZE as EVENT_PAGE_SIZE
from educonnect_tui.screens.audit_event import AuditEventScreen
from educonnect_tui.screens.detail import DetailScreen
from educonnect_tui.screens.home import HomeScreen
from tests.helpers import settle, sync

AppFactory = Callable[[], EduConnectApp]
ACTOR = Actor(label="Philippe Marchand (p.marchand)", source_address="10.0.0.5")


def _record(services: Services, action: str, targets: tuple[int, ...] = ()) -> None:
    with services.sessions() as session, session.begin():
        college = session.scalars(
            select(Establishment.id).where(Establishment.uai == demo.COLLEGE_UAI)
        ).one()
        audit.record(
            session,
            ACTOR,
            action,
            now=services.clock(),
            establishment_id=college,
            targets=targets,
            details={"count": len(targets)} if targets else {},
        )


def _audit(app: EduConnectApp) -> AuditScreen:
    assert isinstance(app.screen, AuditScreen)
    return app.screen


def _text(screen: AuditScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


@sync
async def test_h_from_the_detail_filters_on_the_account(
    principal_app: AppFactory, demo_services: Services
) -> None:
    app = principal_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        home = app.screen
        assert isinstance(home, HomeScreen)
        row = home.table.current_row
        assert row is not None
        _record(demo_services, "notify", (row.account_id,))
        _record(demo_services, "reset_password", (row.account_id,))
        _record(demo_services, "sign_in")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        await pilot.press("h")
        await settle(pilot)
        screen = _audit(app)
        assert screen.query_one("#audit-account", Input).value == row.login
        table = screen.query_one("#audit-table", DataTable)
        assert table.row_count == 2
        assert "2 événements" in _text(screen, "#audit-status")
        assert str(table.get_cell_at(Coordinate(0, 1))) == "réinitialisation du mot de passe"

        screen.query_one("#audit-action", Select).value = "notify"
        await settle(pilot)
        assert table.row_count == 1
        assert str(table.get_cell_at(Coordinate(0, 1))) == "(re)notification"

        await pilot.press("v")
        await settle(pilot)
        assert (
            _text(screen, "#audit-message")
            == "✓ chaîne intacte\u00a0: 4 enregistrements ; déclencheurs en place"
        )

        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)


@sync
async def test_j_from_home_dates_in_french_and_pages(
    principal_app: AppFactory, demo_services: Services
) -> None:
    for _ in range(PAGE_SIZE + 5):
        _record(demo_services, "sign_in")
    app = principal_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("j")
        await settle(pilot)
        screen = _audit(app)
        table = screen.query_one("#audit-table", DataTable)
        total = PAGE_SIZE + 6  # and the demo's own record
        assert table.row_count == PAGE_SIZE
        assert f"{total} événements" in _text(screen, "#audit-status")
        await pilot.press("pagedown")
        await settle(pilot)
        assert table.row_count == 6 and "page 2/2" in _text(screen, "#audit-status")
        await pilot.press("pageup")
        await settle(pilot)
        assert table.row_count == PAGE_SIZE

        await pilot.press("slash")
        assert app.focused is screen.query_one("#audit-actor")
        screen.query_one("#audit-since", Input).focus()
        await pilot.press(*"31/02/2026", "enter")
        await settle(pilot)
        assert "Date « du » « 31/02/2026 » invalide\u00a0: attendu JJ/MM/AAAA" in _text(
            screen, "#audit-message"
        )
        assert table.row_count == PAGE_SIZE  # nothing reloaded
        since = screen.query_one("#audit-since", Input)
        since.value = ""
        since.focus()
        await pilot.press(*"17/11/2026", "enter")
        await settle(pilot)
        assert _text(screen, "#audit-message") == ""
        assert table.row_count == 0
        assert "Aucun événement" in _text(screen, "#audit-status")
        assert app.focused is screen.query_one("#audit-table")


@sync
async def test_enter_opens_the_event_with_all_its_accounts(
    principal_app: AppFactory, demo_services: Services
) -> None:
    """A notification of 60 accounts: the journal names 3, Entrée shows them all, paged."""
    with demo_services.sessions() as session:
        college = session.scalars(
            select(Establishment.id).where(Establishment.uai == demo.COLLEGE_UAI)
        ).one()
        ids = tuple(
            session.scalars(
                select(Account.id)
                .where(Account.kind == AccountKind.PUPIL)
                .order_by(Account.login)
                .limit(EVENT_PAGE_SIZE + 10)
            )
        )
        first = session.scalars(select(Account).where(Account.id.in_(ids))).all()
        logins = sorted(a.login for a in first)
    with demo_services.sessions() as session, session.begin():
        audit.record(
            session, ACTOR, "notify", now=demo_services.clock(), establishment_id=college,
            targets=ids, details={"kind": "eleve", "count": len(ids), "lot": "ab12"},
        )  # fmt: skip
    app = principal_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("j")
        await settle(pilot)
        journal = _audit(app)
        table = journal.query_one("#audit-table", DataTable)
        assert str(table.get_cell_at(Coordinate(0, 1))) == "(re)notification"
        await pilot.press("enter")
        await settle(pilot)
        event = app.screen
        assert isinstance(event, AuditEventScreen)
        details = str(event.query_one("#event-details-text", Static).render())
        assert "Type\u00a0: élève" in details and "Comptes\u00a0: 60" in details
        accounts = event.query_one("#event-accounts", DataTable)
        status = str(event.query_one("#event-status", Static).render())
        assert accounts.row_count == EVENT_PAGE_SIZE
        assert status.startswith("60 comptes concernés · 1–50 · page 1/2")
        shown = [str(accounts.get_cell_at(Coordinate(r, 0))) for r in range(accounts.row_count)]
        await pilot.press("pagedown")
        await settle(pilot)
        assert accounts.row_count == 10
        shown += [str(accounts.get_cell_at(Coordinate(r, 0))) for r in range(accounts.row_count)]
        assert shown == logins
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is journal and app.focused is table


LONG = "/srv/partages/secretariat/Documents/EduConnect/2026-2027/notifications"


@sync
async def test_an_event_shows_every_detail_and_each_long_path_whole_at_80x24(
    principal_app: AppFactory, demo_services: Services
) -> None:
    """Each file on its own lines, cut after a « / », its suffix kept; the details scroll."""
    from textual.containers import VerticalScroll

    stem = f"{LONG}/notification_eleves_{demo.COLLEGE_UAI}_20261116_185401"
    paths = [f"{stem}.pdf", f"{stem}.csv"]
    with demo_services.sessions() as session, session.begin():
        college = session.scalars(
            select(Establishment.id).where(Establishment.uai == demo.COLLEGE_UAI)
        ).one()
        ids = session.scalars(select(Account.id).order_by(Account.id).limit(3)).all()
        audit.record(
            session, ACTOR, "notify", now=demo_services.clock(), establishment_id=college,
            targets=ids,
            details={"kind": "eleve", "count": 3, "lot": "ab12", "paths": paths,
                     "channel": "auto", "emailed": 1, "on_paper": 2, "no_address": 0},
        )  # fmt: skip
    app = principal_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("j")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        event = app.screen
        assert isinstance(event, AuditEventScreen)
        text = event.query_one("#event-details-text", Static)
        lines = str(text.render()).split("\n")
        width = text.content_size.width
        assert all(len(line) <= width for line in lines), (width, lines)
        start = lines.index("Fichiers\u00a0:")
        pieces = [line.strip() for line in lines[start + 1 : start + 5]]
        assert "".join(pieces[:2]) == paths[0] and "".join(pieces[2:]) == paths[1]
        for label in ("Canal\u00a0: automatique", "Par courriel\u00a0: 1", "Sur papier\u00a0: 2",
                      "Sans adresse (non notifiés)\u00a0: 0"):  # fmt: skip
            assert label in lines
        # Not all on screen at 80×24: the details scroll, with Tab and the arrows.
        scroll = event.query_one("#event-details", VerticalScroll)
        assert scroll.max_scroll_y > 0
        await pilot.press("shift+tab")
        await settle(pilot)
        assert app.focused is scroll
        await pilot.press("end")
        await settle(pilot)
        assert scroll.scroll_y == scroll.max_scroll_y
