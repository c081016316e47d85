"""The filter pane's contact and expiry filters, `X` and `E`, driven from the keyboard."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable
from dataclasses import replace

from sqlalchemy import select
from textual.widgets import Static

from educonnect_tui.app import EduConnectApp
from educonnect_tui.domain.accounts.guardian_contacts import without_sms
from educonnect_tui.domain.accounts.listing import GuardianRow, ListQuery
from educonnect_tui.domain.accounts.selection import Selection, expiring_within
from educonnect_tui.domain.model.enums import AccountKind, AccountState
from educonnect_tui.domain.model.phones import sms_mobile
from educonnect_tui.domain.model.states import NOTIFIED_BY_DEFAULT
from educonnect_tui.domain.model.tables import Account, Guardian
from educonnect_tui.domain.store.services import Services
from educonnect_tui.screens.detail import DetailScreen
from educonnect_tui.screens.guardians_notify import GuardiansPickScreen, offered
from educonnect_tui.screens.home import HomeScreen
from educonnect_tui.screens.notify import NotifyConfirmScreen
from educonnect_tui.widgets.filters import ContactFilter, ExpiryFilter
from tests.helpers import settle, sync

AppFactory = Callable[[], EduConnectApp]


def _home(app: EduConnectApp) -> HomeScreen:
    assert isinstance(app.screen, HomeScreen)
    return app.screen


def _plain(widget: Static) -> str:
    return str(widget.render())


@sync
async def test_the_contact_filter_shows_and_notifies_the_same_guardians(
    principal_app: AppFactory, demo_services: Services
) -> None:
    app = principal_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        home = _home(app)
        contacts = home.query_one("#contacts", ContactFilter)
        assert not contacts.display or not home.has_class("-guardians")  # pupils: hidden
        assert home.check_action("focus_filter", ("contacts",)) is None
        await pilot.press("2")
        await settle(pilot)
        assert home.has_class("-guardians") and contacts.display
        everyone = home.table.total
        await pilot.press("m")
        assert app.focused is contacts
        await pilot.press("down", "down", "down", "space")  # « sans mobile »
        await settle(pilot)
        query = home.queries[AccountKind.GUARDIAN]
        assert query.selection.sms_mobile is False and query.selection.has_email is None
        shown = home.table.total
        assert everyone is not None and shown is not None and 0 < shown < everyone
        assert shown == home.listing.count(
            ListQuery(AccountKind.GUARDIAN, Selection(sms_mobile=False))
        )
        rows = [home.table.row_at(i) for i in range(min(shown, 10))]
        with demo_services.sessions() as session:
            mobiles = dict(
                session.execute(
                    select(Account.id, Guardian.mobile)
                    .join(Guardian, Guardian.id == Account.guardian_id)
                    .where(Account.id.in_([r.account_id for r in rows if r is not None]))
                ).all()
            )
        assert mobiles and all(sms_mobile(m) is None for m in mobiles.values())
        summary = _plain(home.query_one("#filter-summary", Static))
        assert "sans mobile SMS" in summary
        # Both « avec » and « sans » ticked: no filter on it.
        await pilot.press("up", "space")
        await settle(pilot)
        assert home.queries[AccountKind.GUARDIAN].selection.sms_mobile is None
        await pilot.press("space", "up", "up", "space")  # sans mobile, avec courriel
        await settle(pilot)
        selection = home.queries[AccountKind.GUARDIAN].selection
        assert (selection.sms_mobile, selection.has_email) == (False, True)
        # Nothing ticked, no state chosen: « n » takes those shown not yet activated.
        not_activated = replace(selection, states=NOTIFIED_BY_DEFAULT)
        expected = home.listing.count(ListQuery(AccountKind.GUARDIAN, not_activated))
        await pilot.press("escape", "n")
        await settle(pilot)
        confirm = app.screen
        assert isinstance(confirm, NotifyConfirmScreen)
        assert confirm.request.selection == selection and confirm.total == expected > 0


@sync
async def test_the_expiry_filter_and_x_renotify_exactly_those(
    principal_app: AppFactory, demo_services: Services
) -> None:
    app = principal_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        home = _home(app)
        await pilot.press("x")
        expiry = home.query_one("#expiry", ExpiryFilter)
        assert app.focused is expiry
        await pilot.press(*"30", "enter")
        await pilot.pause(0.3)
        await settle(pilot)
        assert app.focused is home.table
        selection = home.queries[AccountKind.PUPIL].selection
        assert selection.expiring_by == expiring_within(30, demo_services.clock())
        shown = home.table.total
        assert shown is not None and shown > 0
        row = home.table.row_at(0)
        assert row is not None and row.state is AccountState.NOTIFIED
        assert "Expire d'ici 30 jours" in _plain(home.query_one("#filter-summary", Static))
        await pilot.press("X")
        await settle(pilot)
        confirm = app.screen
        assert isinstance(confirm, NotifyConfirmScreen)
        assert confirm.request.selection == selection and confirm.total == shown
        assert "expirent d'ici 30 jours" in confirm.request.scope
        await pilot.press("escape")
        # Without a number typed, `X` takes 7 days and shows them first.
        expiry.value = ""
        await pilot.pause(0.3)
        await settle(pilot)
        assert home.queries[AccountKind.PUPIL].selection.expiring_by is None
        await pilot.press("X")
        await settle(pilot)
        assert expiry.value == "7"
        confirm = app.screen
        assert isinstance(confirm, NotifyConfirmScreen)
        week = home.queries[AccountKind.PUPIL].selection
        assert confirm.request.selection == week and week.expiring_by is not None
        assert confirm.total == home.table.total


@sync
async def test_e_exports_the_guardians_shown_who_cannot_auto_register(
    principal_app: AppFactory, demo_services: Services
) -> None:
    app = principal_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        home = _home(app)
        assert home.check_action("export_no_sms", ()) is None  # pupils' tab
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("c", *["down"] * 18, "space", "escape")  # the 3e
        await settle(pilot)
        await pilot.press("E")
        await settle(pilot)
        folder = demo_services.settings.output_dir / "exports"
        [path] = list(folder.glob("sans_mobile_sms_*.csv"))
        assert os.stat(path).st_mode & 0o777 == 0o600
        rows = list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig")), delimiter=";"))
        base = home.queries[AccountKind.GUARDIAN].selection
        expected = home.listing.count(ListQuery(AccountKind.GUARDIAN, without_sms(base)))
        assert len(rows) - 1 == expected > 0
        # Already activated guardians need no auto-inscription: they are not listed.
        without_mobile = home.listing.count(
            ListQuery(AccountKind.GUARDIAN, replace(base, sms_mobile=False))
        )
        assert without_mobile > expected
        assert AccountState.ACTIVATED.label not in {r[4] for r in rows[1:]}
        assert all("(3E" in r[5] for r in rows[1:])
        assert all(sms_mobile(r[7]) is None for r in rows[1:])
        await pilot.press("E")
        await settle(pilot)
        assert len(list(folder.glob("sans_mobile_sms_*.csv"))) == 2  # never over the first
        assert isinstance(home.table.row_at(0), GuardianRow)


@sync
async def test_r_from_a_pupils_detail_offers_the_same_choice(principal_app: AppFactory) -> None:
    app = principal_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        await pilot.press("r")
        await settle(pilot)
        pick = app.screen
        assert isinstance(pick, GuardiansPickScreen) and pick.rows
        assert all(r.state in NOTIFIED_BY_DEFAULT for r in pick.rows if offered(r))
        assert set(pick.chosen) == {r.account_id for r in pick.rows if offered(r)}
        assert any(not offered(r) for r in pick.rows)  # the activated parent, greyed
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)  # nothing notified, back where it was
