"""Délégations (DELEG-CE): the direction lends a module to an agent, and takes it back.

Thin like every screen: the domain (``domain.delegations``) checks who may do it and
validates; this shows the table, the form and the domain's French messages. The state
of each delegation is a word in its own column, never a colour alone.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, cast

from rich.markup import escape
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import (
    Button,
    DataTable,
    Input,
    Label,
    Select,
    SelectionList,
    Static,
)

from .. import keys
from ..domain.access import delegations
from ..domain.access.caller import SchoolSession
from ..domain.access.delegations import AgentRef, DelegationState, DelegationView
from ..domain.model import french
from ..domain.model.calendar import date_text, parse_date
from ..domain.model.enums import Module
from ..domain.model.errors import ConfirmationRequired, DomainError
from ..domain.store.services import Services
from ..widgets import sized_table
from ..widgets.key_bar import KeyBar
from ..widgets.marked_list import MarkedSelectionList
from ..widgets.worker_errors import ReportsWorkerErrors

if TYPE_CHECKING:
    from ..app import EduConnectApp

_STATE_STYLE = {
    DelegationState.ACTIVE: "green",
    DelegationState.UPCOMING: "yellow",
    DelegationState.EXPIRED: "grey50",
    DelegationState.REVOKED: "red",
}
_STATE_SYMBOL = {
    DelegationState.ACTIVE: "✓",
    DelegationState.UPCOMING: "…",
    DelegationState.EXPIRED: "–",
    DelegationState.REVOKED: "✗",
}
REVOCABLE = (DelegationState.ACTIVE, DelegationState.UPCOMING)
HINT = "Tab\u00a0: champ suivant · ctrl+s\u00a0: accorder · Échap\u00a0: annuler"


def state_text(state: DelegationState) -> Text:
    """Symbol and word; the colour only repeats them."""
    return Text(f"{_STATE_SYMBOL[state]} {state.value}", style=_STATE_STYLE[state])


# What decides first comes first, so that 80 columns show it whole: state, who, which
# module, until when and for which classes; the agent's login, the number (for the
# command line) and the history after.
_HEADERS = (
    "État",
    "Agent",
    "Module",
    "Jusqu'au",
    "Classes",
    "Identifiant",
    "N°",
    "Depuis",
    "Accordée par",
)


class DelegationsScreen(ReportsWorkerErrors, Screen[None]):
    """The school's delegations: n to grant, x to revoke the highlighted one."""

    BINDINGS = keys.bindings(keys.DELEGATION_KEYS)

    def __init__(self, services: Services, signed_in: SchoolSession) -> None:
        super().__init__()
        self.services = services
        self.signed_in = signed_in
        self.rows: list[DelegationView] = []

    def compose(self) -> ComposeResult:
        school = self.signed_in.school
        yield Static(
            f"[b]Délégations[/b] · {escape(school.name)} · {school.uai}",
            id="delegations-header",
            markup=True,
        )
        table: DataTable[str | Text] = DataTable(
            id="delegations-table", cursor_type="row", zebra_stripes=True
        )
        yield table
        yield Static("Chargement…", id="delegations-status")
        yield KeyBar()

    def on_mount(self) -> None:
        table = self.query_one("#delegations-table", DataTable)
        table.add_columns(*_HEADERS)
        table.focus()
        self.load()

    @work(thread=True, exclusive=True, group="delegations", exit_on_error=False)
    def load(self, highlight: int | None = None) -> None:
        rows = delegations.list_delegations(self.services, self.signed_in)
        self.app.call_from_thread(self._show, rows, highlight)

    def _show(self, rows: list[DelegationView], highlight: int | None) -> None:
        self.rows = rows
        table = self.query_one("#delegations-table", DataTable)
        cells = [
            (
                state_text(view.state),
                view.agent_name,
                view.module_label,
                date_text(view.valid_until),
                view.classes_label,
                view.agent_login,
                str(view.id),
                date_text(view.valid_from),
                view.granted_by,
            )
            for view in rows
        ]
        sized_table.fill(table, _HEADERS, cells, [str(view.id) for view in rows])
        if highlight is not None:
            index = next((i for i, v in enumerate(rows) if v.id == highlight), 0)
            table.move_cursor(row=index)
        active = sum(1 for v in rows if v.state is DelegationState.ACTIVE)
        self.query_one("#delegations-status", Static).update(
            f"{french.count(len(rows), 'délégation')}, dont {french.count(active, 'active')}"
            if rows
            else "Aucune délégation\u00a0: n pour en accorder une."
        )
        self.refresh_bindings()

    @property
    def current(self) -> DelegationView | None:
        table = self.query_one("#delegations-table", DataTable)
        if not self.rows or table.cursor_row < 0 or table.cursor_row >= len(self.rows):
            return None
        return self.rows[table.cursor_row]

    @on(DataTable.RowHighlighted)
    def _highlighted(self) -> None:
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "revoke":
            current = self.current
            return None if current is None or current.state not in REVOCABLE else True
        return True

    def action_back(self) -> None:
        self.dismiss(None)

    def action_grant(self) -> None:
        def granted(view: DelegationView | None) -> None:
            if view is not None:
                self.app.notify(
                    f"Délégation n° {view.id} accordée à {view.agent_name} "
                    f"(module {view.module_label}, classes {view.classes_label}, "
                    f"jusqu'au {date_text(view.valid_until)}).",
                    title="Délégation accordée",
                )
                self.load(view.id)

        self.app.push_screen(GrantScreen(self.services, self.signed_in), granted)

    def action_revoke(self) -> None:
        view = self.current
        if view is None or view.state not in REVOCABLE:
            return

        def revoke() -> None:
            self._revoke(view.id)

        def confirmed(yes: bool | None) -> None:
            if yes:
                what = f"Révocation de la délégation n° {view.id} {french.of(view.agent_name)}."
                cast("EduConnectApp", self.app).before_sensitive(revoke, what)

        message = (
            f"Révoquer la délégation n° {view.id} {french.of(view.agent_name)} "
            f"({view.agent_login})\u00a0: "
            f"module {view.module_label}, classes {view.classes_label} ? "
            "Sa prochaine action sera refusée."
        )
        self.app.push_screen(RevokeConfirmScreen(message), confirmed)

    @work(thread=True, exclusive=True, group="delegations", exit_on_error=False)
    def _revoke(self, delegation_id: int) -> None:
        view = delegations.revoke(self.services, self.signed_in, delegation_id)
        self.app.call_from_thread(self._revoked, view)

    def _revoked(self, view: DelegationView) -> None:
        self.app.notify(
            f"Délégation n° {view.id} {french.of(view.agent_name)} révoquée.",
            title="Délégation révoquée",
        )
        self.load(view.id)


class RevokeConfirmScreen(ModalScreen[bool]):
    """Nothing is revoked before the user confirms."""

    BINDINGS = keys.bindings(keys.DELEGATION_CONFIRM_KEYS)

    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="revoke-dialog"):
            yield Label("Révoquer une délégation", classes="dialog-title")
            yield Static(self.message, id="revoke-message")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Révoquer", variant="error", id="revoke-yes", compact=True)
                yield Button("Annuler", id="revoke-no", compact=True)

    def on_mount(self) -> None:
        self.query_one("#revoke-no", Button).focus()

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "revoke-yes")


class GrantScreen(ReportsWorkerErrors, ModalScreen[DelegationView | None]):
    """The grant form: agent, module, classes (none: the whole school), end date.

    The domain validates (agent of the school, classes of the school, date not past)
    and its French message is shown in the form, which stays open to be corrected.
    """

    BINDINGS = keys.bindings(keys.DELEGATION_FORM_KEYS)

    def __init__(self, services: Services, signed_in: SchoolSession) -> None:
        super().__init__()
        self.services = services
        self.signed_in = signed_in
        self.default_end = delegations.school_year_end(services.today())

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="grant-dialog"):
            yield Label("Accorder une délégation", classes="dialog-title")
            with Horizontal(classes="grant-row"):
                yield Label("Agent", classes="grant-label")
                yield Select[str]([], prompt="Choisir un agent…", id="grant-agent", compact=True)
            with Horizontal(classes="grant-row"):
                yield Label("Module", classes="grant-label")
                yield Select[Module](
                    [
                        ("administration (OTP ou réseau administratif)", Module.ADMINISTRATION),
                        ("dépannage (élèves seulement)", Module.DEPANNAGE),
                    ],
                    value=Module.ADMINISTRATION,
                    allow_blank=False,
                    id="grant-module",
                    compact=True,
                )
            yield Label("Classes (aucune cochée\u00a0: tout l'établissement)")
            yield MarkedSelectionList(id="grant-classes", compact=True)
            with Horizontal(classes="grant-row"):
                yield Label("Fin", classes="grant-label")
                yield Input(
                    date_text(self.default_end),
                    placeholder="JJ/MM/AAAA",
                    id="grant-until",
                    compact=True,
                )
            yield Static(HINT, id="grant-message")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Accorder", variant="primary", id="grant-yes", compact=True)
                yield Button("Annuler", id="grant-no", compact=True)

    def on_mount(self) -> None:
        self.query_one("#grant-agent", Select).focus()
        self._load()

    @work(thread=True, exclusive=True, group="grant-load", exit_on_error=False)
    def _load(self) -> None:
        agents = delegations.agents_of(self.services, self.signed_in)
        classes = delegations.class_names(self.services, self.signed_in)
        self.app.call_from_thread(self._loaded, agents, classes)

    def _loaded(self, agents: list[AgentRef], classes: list[str]) -> None:
        self.query_one("#grant-agent", Select).set_options((a.label, a.login) for a in agents)
        self.query_one("#grant-classes", SelectionList).add_options(
            (name, name) for name in classes
        )
        if not agents:
            self._error("Aucun agent n'est rattaché à l'établissement.")

    def _error(self, message: str) -> None:
        """The domain's French message in place of the hint; the form stays open."""
        shown = Text(message, style="bold red") if message else Text(HINT)
        self.query_one("#grant-message", Static).update(shown)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#grant-no")
    def _cancel_pressed(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#grant-yes")
    @on(Input.Submitted, "#grant-until")
    def _submit_pressed(self) -> None:
        self.action_submit()

    def action_submit(self) -> None:
        agent = self.query_one("#grant-agent", Select).value
        if not isinstance(agent, str):
            self._error("Choisissez l'agent à qui accorder la délégation.")
            self.query_one("#grant-agent", Select).focus()
            return
        module = self.query_one("#grant-module", Select).value
        assert isinstance(module, Module)
        classes = tuple(self.query_one("#grant-classes", SelectionList).selected)
        until = self.query_one("#grant-until", Input).value
        self._error("")
        self._grant(agent, module, tuple(str(c) for c in classes), until)

    @work(thread=True, exclusive=True, group="grant", exit_on_error=False)
    def _grant(self, agent: str, module: Module, classes: tuple[str, ...], until: str) -> None:
        try:
            request = delegations.GrantRequest(
                agent_login=agent,
                module=module,
                until=parse_date(until, "Date de fin"),
                division_names=classes,
            )
            view = delegations.grant(self.services, self.signed_in, request)
        except ConfirmationRequired as error:
            # The password, then the same grant again, the form still filled in.
            retry = partial(self._grant, agent, module, classes, until)
            app = cast("EduConnectApp", self.app)
            what = f"Délégation à {agent}, {module.label.lower()}."
            app.call_from_thread(app.ask_password, str(error), retry, what)
        except DomainError as error:
            self.app.call_from_thread(self._error, str(error))
        else:
            self.app.call_from_thread(self.dismiss, view)
