"""`r`: notifying a pupil's legal representatives, those not yet activated only.

The dialog lists every legal representative of the pupil with their state. Those non
notifié or notifié are ticked and may be unticked; an activated one (whose own password
a notification would replace) and a désactivé one are shown greyed, and cannot be
ticked. « Notifier » then opens the usual confirmation (``notify.start_notify``) with
exactly the ticked accounts.
"""

from __future__ import annotations

from rich.markup import escape
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Label, Static
from textual.widgets.selection_list import Selection as Choice

from .. import keys
from ..domain.access.caller import SchoolSession
from ..domain.accounts.listing import GuardianRow, Listing, ListQuery
from ..domain.accounts.selection import Selection
from ..domain.model import french
from ..domain.model.enums import AccountKind
from ..domain.model.printable import for_terminal
from ..domain.model.states import NOTIFIED_BY_DEFAULT
from ..domain.store.services import Services
from ..widgets.marked_list import MarkedSelectionList
from ..widgets.state_badge import state_text
from ..widgets.worker_errors import ReportsWorkerErrors
from .notify import NotifyHost, NotifyPlan, start_notify

# A pupil has a handful of legal representatives; more would be a data problem.
_SHOWN = 20


def notify_guardians_of(host: NotifyHost, pupil_account_id: int, name: str, division: str) -> None:
    """Pick among the pupil's legal representatives, then the (re)Notifier flow."""
    assert isinstance(host, Screen)
    of_whom = french.of(name)
    scope = f"les représentants légaux {of_whom}" + (f" ({division})" if division else "")

    def picked(chosen: tuple[int, ...] | None) -> None:
        if not chosen:
            return
        selection = Selection(
            states=NOTIFIED_BY_DEFAULT,
            guardians_of_pupil=pupil_account_id,
            account_ids=chosen,
        )
        start_notify(host, NotifyPlan(AccountKind.GUARDIAN, selection, scope))

    host.app.push_screen(
        GuardiansPickScreen(host.services, host.signed_in, pupil_account_id, scope), picked
    )


def offered(row: GuardianRow) -> bool:
    """Proposed for a notification: not yet activated (non notifié, notifié)."""
    return row.state in NOTIFIED_BY_DEFAULT


class GuardiansPickScreen(ReportsWorkerErrors, ModalScreen[tuple[int, ...] | None]):
    """The pupil's legal representatives: the not-yet-activated ones ticked, the others
    greyed with their state."""

    BINDINGS = keys.bindings(keys.GUARDIANS_PICK_KEYS)

    def __init__(
        self, services: Services, signed_in: SchoolSession, pupil_account_id: int, scope: str
    ) -> None:
        super().__init__()
        self.services = services
        self.signed_in = signed_in
        self.pupil_account_id = pupil_account_id
        self.scope = scope
        self.rows: list[GuardianRow] | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="guardians-pick", classes="dialog"):
            yield Label(f"Notifier {escape(self.scope)}", classes="dialog-title")
            yield Static("Lecture des représentants légaux…", id="guardians-pick-summary")
            yield MarkedSelectionList(id="guardians-pick-list")
            with Horizontal(classes="dialog-buttons"):
                yield Button(
                    "Notifier", variant="primary", id="guardians-go", disabled=True, compact=True
                )
                yield Button("Annuler", id="guardians-no", compact=True)

    def on_mount(self) -> None:
        self._load()

    @work(thread=True, exit_on_error=False)
    def _load(self) -> None:
        listing = Listing(self.services, self.signed_in)
        query = ListQuery(AccountKind.GUARDIAN, Selection(guardians_of_pupil=self.pupil_account_id))
        rows = [r for r in listing.page(query, 0, _SHOWN) if isinstance(r, GuardianRow)]
        self.app.call_from_thread(self._loaded, rows)

    def _loaded(self, rows: list[GuardianRow]) -> None:
        self.rows = rows
        choices = self.query_one("#guardians-pick-list", MarkedSelectionList)
        choices.clear_options()
        for row in rows:
            name = " ".join(p for p in (row.civility, row.first_name, row.last_name) if p)
            line = Text(f"{for_terminal(name)} ({for_terminal(row.login)}) — ")
            line.append_text(state_text(row.state, AccountKind.GUARDIAN, short=False))
            if row.blocked:
                line.append(" · bloqué")
            can = offered(row)
            if not can:
                line.stylize("dim")
            choices.add_option(Choice(line, str(row.account_id), can, disabled=not can))
        others = sum(1 for r in rows if not offered(r))
        summary = self.query_one("#guardians-pick-summary", Static)
        proposed = len(rows) - others
        if not proposed:
            summary.update(
                "Aucun représentant légal à notifier\u00a0: "
                + ("tous sont déjà activés ou désactivés." if rows else "l'élève n'en a aucun.")
            )
            no = self.query_one("#guardians-no", Button)
            no.label = "Fermer"
            no.focus()
            return
        lines = [
            "Seuls les comptes [b]non activés[/b] sont proposés (Espace coche ou décoche, "
            "n\u00a0: notifier les cochés).",
        ]
        if others:
            lines.append(
                f"{french.count(others, 'autre compte')} (activé ou désactivé) "
                f"{french.agreed(others, 'est grisé', 'sont grisés')}\u00a0: "
                "une notification remplacerait un mot de passe personnel."
            )
        summary.update("\n".join(lines))
        self.query_one("#guardians-go", Button).disabled = False
        choices.highlighted = next(i for i, r in enumerate(rows) if offered(r))
        choices.focus()

    @property
    def chosen(self) -> tuple[int, ...]:
        choices = self.query_one("#guardians-pick-list", MarkedSelectionList)
        offered_ids = {r.account_id for r in self.rows or () if offered(r)}
        return tuple(sorted(int(v) for v in choices.selected if int(v) in offered_ids))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "guardians-go":
            self.action_confirm()
        else:
            self.action_cancel()

    def action_confirm(self) -> None:
        if self.rows is None:
            return  # still reading
        self.dismiss(self.chosen or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
