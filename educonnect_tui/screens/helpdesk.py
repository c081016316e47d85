"""Dépannage: one search field, a short list, and the three things a caller needs.

What a helpdesk agent opens when a pupil or a parent calls: the search is focused on
open and follows the typing (debounced, in a worker); Enter on a result shows the
identifier large and offers `r` (new temporary password, shown once, large and spelled
out for the phone; `p` prints the slip) and `u` (unblock, after showing why and until
when). The domain (``domain/accounts/helpdesk.py``) checks every permission itself: in the dépannage
module guardians never appear and are refused; from the administration module (`d` on
the home page) they are reachable like pupils.

The reset and unblock flows live in ``account_actions``, so the account detail screen
(`x`, `u`) runs exactly the same ones.
"""

from __future__ import annotations

from rich.markup import escape
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.timer import Timer
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from .. import keys
from ..domain.access.caller import SchoolSession
from ..domain.accounts import helpdesk, helpdesk_search
from ..domain.accounts.helpdesk_search import HelpdeskRow
from ..domain.model import french
from ..domain.model.enums import AccountKind, AccountState, Module, StateColour
from ..domain.model.printable import escaped
from ..domain.store.services import Services
from ..widgets.key_bar import KeyBar
from ..widgets.state_badge import BLOCKED_SYMBOL, colour_style, state_text
from ..widgets.worker_errors import ReportsWorkerErrors
from .account_actions import BLOCK_REASON, Target, spaced_login, start_reset, start_unblock

SEARCH_DEBOUNCE = 0.15
RESULT_LIMIT = 20
MODULE_LABEL = "Dépannage"
# One line at 80 columns (the status has 2 columns of padding each side).
GUARDIANS_NOTE = "Élèves seulement (représentants légaux\u00a0: clé OTP ou réseau administratif)."


class AccountActionsScreen(ReportsWorkerErrors, ModalScreen[bool]):
    """One result opened: the identifier large (the recall is audited), then r / u."""

    BINDINGS = keys.bindings(keys.HELPDESK_ACCOUNT_KEYS)

    def __init__(self, services: Services, signed_in: SchoolSession, row: HelpdeskRow) -> None:
        super().__init__()
        self.services = services
        self.signed_in = signed_in
        self.row = row
        self.changed = False

    def compose(self) -> ComposeResult:
        row = self.row
        with Vertical(id="account-dialog", classes="dialog"):
            yield Label(Target.of(row).who, classes="dialog-title", markup=False)
            yield Static(self._state_line(), id="account-state")
            yield Label("Identifiant", classes="account-label")
            yield Static("…", id="account-login")
            with Horizontal(classes="dialog-buttons"):
                yield Button("r Réinitialiser", id="account-reset", compact=True)
                yield Button(
                    "u Débloquer", id="account-unblock", compact=True, disabled=not row.blocked
                )
                yield Button("Échap Fermer", id="account-close", compact=True)

    def _state_line(self) -> Text:
        row = self.row
        text = Text.assemble("État\u00a0: ", state_text(row.state, row.kind, short=False))
        if row.blocked_until is not None:
            text.append(
                f"\n{BLOCKED_SYMBOL} Bloqué jusqu'au "
                f"{self.services.time.date_time(row.blocked_until)} "
                f"{BLOCK_REASON}.",
                style="bold",
            )
        return text

    def on_mount(self) -> None:
        self._recall()

    @work(thread=True, exclusive=True, group="recall", exit_on_error=False)
    def _recall(self) -> None:
        login = helpdesk.recall_login(self.services, self.signed_in, self.row.account_id)
        self.app.call_from_thread(self._show_login, login)

    def _show_login(self, login: str) -> None:
        self.query_one("#account-login", Static).update(spaced_login(login))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "unblock" and not self.row.blocked:
            return None
        if action == "reset_password" and self.row.state is AccountState.DEACTIVATED:
            return None
        return True

    def on_button_pressed(self, event: Button.Pressed) -> None:
        actions = {
            "account-reset": self.action_reset_password,
            "account-unblock": self.action_unblock,
            "account-close": self.action_close,
        }
        if event.button.id in actions:
            actions[event.button.id]()

    def action_reset_password(self) -> None:
        start_reset(self, Target.of(self.row), self._done)

    def action_unblock(self) -> None:
        start_unblock(self, Target.of(self.row), self._done)

    def _done(self) -> None:
        self.dismiss(True)

    def action_close(self) -> None:
        self.dismiss(False)


# --------------------------------------------------------------------------- the screen


class HelpdeskScreen(ReportsWorkerErrors, Screen[None]):
    """The dépannage module's only screen, also reached with `d` from the home page."""

    BINDINGS = [
        *keys.bindings(keys.HELPDESK_KEYS),
        Binding("down", "to_results", show=False, id="helpdesk_down"),
    ]
    AUTO_FOCUS = "#helpdesk-search"
    HELP_TITLE = "dépannage"

    def __init__(self, services: Services, signed_in: SchoolSession) -> None:
        super().__init__()
        self.services = services
        self.signed_in = signed_in
        self.rows: list[HelpdeskRow] = []
        self.searched: str | None = None
        self._timer: Timer | None = None

    @property
    def is_root(self) -> bool:
        """In the dépannage module there is nothing behind this screen to go back to."""
        return self.signed_in.module is Module.DEPANNAGE

    def compose(self) -> ComposeResult:
        school = self.signed_in.school
        identity = self.signed_in.identity
        yield Static(
            f"[b]{escape(school.name)}[/b] · {school.uai} │ "
            f"{escape(identity.first_name[:1])}. {escape(identity.last_name)} │ "
            f"[b]{MODULE_LABEL}[/b]",
            id="helpdesk-header",
        )
        yield Input(
            placeholder="Nom, prénom, identifiant ou classe (ex.\u00a0: 3e2 martin)",
            id="helpdesk-search",
        )
        yield Static(self._idle_status(), id="helpdesk-status")
        yield OptionList(id="helpdesk-results", compact=True)
        yield KeyBar()

    def on_mount(self) -> None:
        # The states are drawn in the theme's shades: drawn again when it changes.
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._redraw())
        self.set_focus(self.query_one("#helpdesk-search", Input))

    def _redraw(self) -> None:
        if self.searched is not None:
            self._show(self.searched, self.rows)

    def _idle_status(self) -> str:
        hint = "Tapez un nom, un prénom, un identifiant ou une classe."
        return hint if self.signed_in.second_factor else f"{hint}\n{GUARDIANS_NOTE}"

    # -- search ------------------------------------------------------------------

    @on(Input.Changed, "#helpdesk-search")
    def _changed(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(SEARCH_DEBOUNCE, self.refresh_results)

    def refresh_results(self) -> None:
        self._search(self.query_one("#helpdesk-search", Input).value)

    @work(thread=True, exclusive=True, group="helpdesk-search", exit_on_error=False)
    def _search(self, text: str) -> None:
        rows = escaped(
            helpdesk_search.search(self.services, self.signed_in, text, limit=RESULT_LIMIT)
        )
        self.app.call_from_thread(self._show, text, rows)

    def _show(self, text: str, rows: list[HelpdeskRow]) -> None:
        if text != self.query_one("#helpdesk-search", Input).value:
            return  # typing went on; a newer search is on its way
        self.rows = rows
        self.searched = text
        results = self.query_one("#helpdesk-results", OptionList)
        highlighted = results.highlighted
        results.clear_options()
        width = max(results.size.width, self.size.width) - 2
        results.add_options(Option(self._line(row, width)) for row in rows)
        if rows:
            results.highlighted = min(highlighted or 0, len(rows) - 1)
        status = self.query_one("#helpdesk-status", Static)
        note = "" if self.signed_in.second_factor else f"\n{GUARDIANS_NOTE}"
        if not text.strip():
            status.update(self._idle_status())
        elif not rows:
            status.update(f"Aucun compte ne correspond à « {escape(text.strip())} ».{note}")
        else:
            more = " (les premiers\u00a0: précisez)" if len(rows) >= RESULT_LIMIT else ""
            status.update(
                f"{french.count(len(rows), 'compte')}{more} · ↓ puis Entrée\u00a0: ouvrir{note}"
            )
        self.refresh_bindings()

    def _line(self, row: HelpdeskRow, width: int) -> Text:
        guardians = self.signed_in.second_factor
        block = ""
        if row.blocked_until is not None:
            time = self.services.time
            block = f"{BLOCKED_SYMBOL} jusqu'à {time.time(row.blocked_until)}"
            if time.today(row.blocked_until) != self.services.today():
                block = f"{BLOCKED_SYMBOL} jusqu'au {time.day_and_time(row.blocked_until)}"
        fixed = 13 + 1 + (6 if guardians else 0) + 8 + 19 + 16
        name_width = max(12, width - fixed)
        name = f"{row.last_name.upper()} {row.first_name}".strip()
        if row.civility:
            name = f"{row.civility} {name}"
        text = Text(no_wrap=True, overflow="ellipsis")
        badge = state_text(row.state, row.kind)
        badge.truncate(13, pad=True)
        text.append_text(badge)
        text.append(" ")
        if guardians:
            text.append("élève " if row.kind is AccountKind.PUPIL else "resp. ", style="dim")
        text.append(_cut(name, name_width).ljust(name_width) + " ")
        text.append(_cut(row.division, 7).ljust(8))
        text.append(_cut(row.login, 18).ljust(19), style="bold")
        text.append(block, style=colour_style(StateColour.RED))
        return text

    # -- keys ----------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "open" and not self.rows:
            return None
        if (
            action == "back"
            and self.is_root
            and not self.query_one("#helpdesk-search", Input).value
        ):
            return None
        return True

    def action_focus_search(self) -> None:
        self.set_focus(self.query_one("#helpdesk-search", Input))

    def action_to_results(self) -> None:
        results = self.query_one("#helpdesk-results", OptionList)
        if self.rows:
            if results.highlighted is None:
                results.highlighted = 0
            self.set_focus(results)

    def action_open(self) -> None:
        """Enter: from the field, the only result opens, or the list takes the focus."""
        results = self.query_one("#helpdesk-results", OptionList)
        if not self.rows:
            return
        if self.focused is not results and len(self.rows) > 1:
            self.action_to_results()
            return
        index = results.highlighted if results.highlighted is not None else 0
        self._open(self.rows[min(index, len(self.rows) - 1)])

    @on(OptionList.OptionSelected, "#helpdesk-results")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        if 0 <= event.option_index < len(self.rows):
            self._open(self.rows[event.option_index])

    def _open(self, row: HelpdeskRow) -> None:
        def closed(changed: bool | None) -> None:
            if changed:
                self.refresh_results()

        self.app.push_screen(AccountActionsScreen(self.services, self.signed_in, row), closed)

    def action_back(self) -> None:
        """Échap: list → field; a typed search is cleared; then back to the home page."""
        search = self.query_one("#helpdesk-search", Input)
        if self.focused is not search:
            self.set_focus(search)
        elif search.value:
            search.value = ""
        elif not self.is_root:
            self.dismiss()


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
