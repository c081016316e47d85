"""The delegation manager, driven from the keyboard on the deterministic demo."""

from __future__ import annotations

from collections.abc import Callable

from textual.widgets import DataTable, Input, Select, SelectionList, Static

from educonnect_tui.app import EduConnectApp, create_app
from educonnect_tui.demo import college as demo
from educonnect_tui.domain.access import delegations
from educonnect_tui.domain.access.delegations import DelegationState
from educonnect_tui.domain.model.enums import Module
from educonnect_tui.domain.model.tables import AuditEvent
from educonnect_tui.domain.store import audit
from educonnect_tui.domain.store.services import Services
from educonnect_tui.screens.delegations import DelegationsScreen, GrantScreen, RevokeConfirmScreen
from educonnect_tui.screens.home import HomeScreen
from tests import factories
from tests.helpers import settle, sync


def _table_text(app: EduConnectApp) -> str:
    table = app.screen.query_one("#delegations-table", DataTable)
    return "\n".join(
        " ".join(str(cell) for cell in table.get_row_at(i)) for i in range(table.row_count)
    )


@sync
async def test_g_opens_the_manager_with_states_in_words(
    principal_app: Callable[[], EduConnectApp],
) -> None:
    app = principal_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("g")
        await settle(pilot)
        assert isinstance(app.screen, DelegationsScreen)
        text = _table_text(app)
        assert "Karim Haddad administration" in text and "k.haddad" in text
        assert "active" in text
        assert app.screen.query_one("#delegations-table", DataTable).row_count == 5
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)


@sync
async def test_g_is_greyed_for_an_agent(demo_services: Services) -> None:
    session = factories.signed_in(demo_services, "k.haddad", demo.COLLEGE_UAI)
    app = create_app(demo_services, signed_in=session)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        assert app.screen.check_action("delegations", ()) is None
        assert app.screen.check_action("notify_accounts", ()) is True
        await pilot.press("g")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)


@sync
async def test_grant_from_the_form_then_revoke_after_confirmation(
    principal_app: Callable[[], EduConnectApp], demo_services: Services
) -> None:
    app = principal_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("g")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, GrantScreen)
        assert form.query_one("#grant-until", Input).value == "31/08/2027"
        # Nothing chosen: the form says so and stays open.
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Choisissez l'agent" in str(form.query_one("#grant-message", Static).render())
        form.query_one("#grant-agent", Select).value = "e.vanderberg"
        form.query_one("#grant-module", Select).value = Module.DEPANNAGE
        form.query_one("#grant-classes", SelectionList).select("4E1")
        until = form.query_one("#grant-until", Input)
        until.value = "01/01/2020"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert "est passée" in str(form.query_one("#grant-message", Static).render())
        until.value = "30/06/2027"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, DelegationsScreen)
        views = delegations.list_delegations(
            demo_services, factories.operator(demo_services, demo.COLLEGE_UAI)
        )
        new = next(v for v in views if v.agent_login == "e.vanderberg")
        assert (new.module, new.classes, new.state) == (
            Module.DEPANNAGE,
            ("4E1",),
            DelegationState.ACTIVE,
        )
        # The new row is highlighted; x asks first, escape keeps it.
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, RevokeConfirmScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert (
            delegations.list_delegations(
                demo_services, factories.operator(demo_services, demo.COLLEGE_UAI)
            )[0].revoked_at
            is None
        )
        await pilot.press("x")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DelegationsScreen)
        after = {
            v.id: v
            for v in delegations.list_delegations(
                demo_services, factories.operator(demo_services, demo.COLLEGE_UAI)
            )
        }
        assert after[new.id].state is DelegationState.REVOKED
        assert "révoquée" in _table_text(app)
        # Revoked: x is greyed on that row.
        assert app.screen.check_action("revoke", ()) is None
    with demo_services.sessions() as session:
        actions = [e.action for e in session.query(AuditEvent).order_by(AuditEvent.id)]
    assert actions[-2:] == ["delegation_grant", "delegation_revoke"]
    assert audit.action_label("delegation_grant")


@sync
async def test_at_80_columns_each_delegation_shows_its_classes_whole(
    principal_app: Callable[[], EduConnectApp],
) -> None:
    app = principal_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("g")
        await settle(pilot)
        table = app.screen.query_one("#delegations-table", DataTable)
        labels = [str(column.label) for column in table.columns.values()]
        through_classes = labels.index("Classes") + 1
        used = sum(
            column.get_render_width(table)
            for column in list(table.columns.values())[:through_classes]
        )
        assert used <= table.size.width, (used, table.size.width)
        classes = [
            str(table.get_cell_at((row, through_classes - 1))) for row in range(table.row_count)
        ]
        assert "toutes les classes" in classes
