"""Dépannage: one search field, a short list, and the three things a caller needs.

What a helpdesk agent opens when a pupil or a parent calls: the search is focused on
open and follows the typing (debounced, in a worker); Enter on a result shows the
identifier large and offers `r` (new temporary password, shown once, large and spelled
out for the phone; `p` prints the slip) and `u` (unblock, after showing why and until
when). The domain (``helpdesk.py``) checks every permission itself: in the dépannage
module guardians never appear and are refused; from the administration module (`d` on
the home page) they are reachable like pupils.

The reset and unblock flows are module functions taking the screen they start from, so
the account detail screen (`x`, `u`) runs exactly the same ones.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Protocol

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
from ..domain.access.passwords import TEMP_PASSWORD_ALPHABET
from ..domain.accounts import helpdesk, helpdesk_search
from ..domain.accounts.helpdesk import ResetResult
from ..domain.accounts.helpdesk_search import HelpdeskRow
from ..domain.model.enums import AccountKind, AccountState, Module
from ..domain.store.services import Services
from ..widgets.key_bar import KeyBar
from ..widgets.state_badge import BLOCKED_SYMBOL, state_text
from ..widgets.worker_errors import ReportsWorkerErrors

SEARCH_DEBOUNCE = 0.15
RESULT_LIMIT = 20
MODULE_LABEL = "Dépannage"
# One line at 80 columns (the status has 2 columns of padding each side).
GUARDIANS_NOTE = "Élèves seulement (représentants légaux : clé OTP ou réseau administratif)."
BLOCK_REASON = (
    "après trop d'essais infructueux (identifiant, mot de passe ou date de naissance erronés)"
)

# French telephone spelling, so a password read over the phone is heard right.
SPELLING = {
    "a": "Anatole", "b": "Berthe", "c": "Célestin", "d": "Désiré", "e": "Eugène",
    "f": "François", "g": "Gaston", "h": "Henri", "i": "Irma", "j": "Joseph",
    "k": "Kléber", "l": "Louis", "m": "Marcel", "n": "Nicolas", "o": "Oscar",
    "p": "Pierre", "q": "Quintal", "r": "Raoul", "s": "Suzanne", "t": "Thérèse",
    "u": "Ursule", "v": "Victor", "w": "William", "x": "Xavier", "y": "Yvonne",
    "z": "Zoé", "2": "deux", "3": "trois", "4": "quatre", "5": "cinq", "6": "six",
    "7": "sept", "8": "huit", "9": "neuf", ".": "point", "-": "tiret", "_": "tiret bas",
}  # fmt: skip
ALPHABET_LEGEND = (
    "Lettres minuscules et chiffres 2 à 9 seulement : jamais de majuscule, "
    "ni 0, 1, l ou o. Les chiffres sont soulignés."
)


def spaced(secret: str) -> Text:
    """Each character apart, in groups of five, digits underlined: read without doubt."""
    text = Text()
    for index, char in enumerate(secret):
        if index and index % 5 == 0:
            text.append("     ")
        elif index:
            text.append("  ")
        text.append(char, style="bold underline" if char.isdigit() else "bold")
    return text


def spelled(secret: str) -> str:
    """« k Kléber · m Marcel · 7 sept… »: what the agent reads to the caller."""
    return " · ".join(f"{char} {SPELLING.get(char, char)}" for char in secret)


# --------------------------------------------------------------------------- shared flows


@dataclass(frozen=True)
class Target:
    """The account an action is about, as the screens know it (never a password)."""

    account_id: int
    kind: AccountKind
    name: str
    login: str
    division: str
    blocked_until: dt.datetime | None

    @classmethod
    def of(cls, row: HelpdeskRow) -> Target:
        return cls(row.account_id, row.kind, row.name, row.login, row.division, row.blocked_until)

    @property
    def who(self) -> str:
        where = f", {self.division}" if self.division else ""
        return f"{self.name} ({self.kind.label}{where})"


class ActionHost(Protocol):
    """The screen a reset or unblock starts from (helpdesk, account detail)."""

    services: Services
    signed_in: SchoolSession


def start_reset(host: ActionHost, target: Target, done: Callable[[], None]) -> None:
    """Confirm, reset in a worker, show the password once; ``done`` after it closes."""
    assert isinstance(host, Screen)
    screen = host
    message = (
        f"Donner un nouveau mot de passe provisoire à [b]{escape(target.who)}[/b] ?\n\n"
        "L'ancien mot de passe (provisoire ou personnel) ne fonctionnera plus : le compte "
        "repasse à « notifié, non activé » et sera à activer de nouveau. Le nouveau mot de "
        "passe s'affichera une seule fois."
    )
    if target.blocked_until is not None:
        message += "\nLe compte sera aussi débloqué."

    def confirmed(yes: bool | None) -> None:
        if yes:
            screen.run_worker(
                partial(_reset, host, target, done),
                thread=True,
                exclusive=True,
                group="helpdesk-action",
                exit_on_error=False,
            )

    screen.app.push_screen(
        ConfirmScreen("Réinitialiser le mot de passe", message, "Réinitialiser"), confirmed
    )


def _reset(host: ActionHost, target: Target, done: Callable[[], None]) -> None:
    result = helpdesk.reset_password(host.services, host.signed_in, target.account_id)
    assert isinstance(host, Screen)
    screen = host

    def show() -> None:
        screen.app.push_screen(
            PasswordScreen(host.services, host.signed_in, target, result),
            callback=lambda _: done(),
        )

    screen.app.call_from_thread(show)


def start_unblock(host: ActionHost, target: Target, done: Callable[[], None]) -> None:
    """Show why and until when, confirm, unblock in a worker; ``done`` afterwards."""
    assert isinstance(host, Screen)
    screen = host
    if target.blocked_until is None:
        screen.app.notify("Ce compte n'est pas bloqué.", severity="warning")
        return
    message = (
        f"[b]{escape(target.who)}[/b]\n\n"
        f"{BLOCKED_SYMBOL} Bloqué jusqu'au "
        f"[b]{host.services.time.date_time(target.blocked_until)}[/b] "
        f"{BLOCK_REASON}.\n\n"
        "Débloquer maintenant ? Vérifiez d'abord l'identité de la personne : le compte "
        "pourra de nouveau être essayé tout de suite."
    )

    def confirmed(yes: bool | None) -> None:
        if yes:
            screen.run_worker(
                partial(_unblock, host, target, done),
                thread=True,
                exclusive=True,
                group="helpdesk-action",
                exit_on_error=False,
            )

    screen.app.push_screen(ConfirmScreen("Débloquer le compte", message, "Débloquer"), confirmed)


def _unblock(host: ActionHost, target: Target, done: Callable[[], None]) -> None:
    helpdesk.unblock(host.services, host.signed_in, target.account_id)
    assert isinstance(host, Screen)
    screen = host

    def finished() -> None:
        screen.app.notify(f"Compte {target.login} débloqué.", title="Déblocage")
        done()

    screen.app.call_from_thread(finished)


# --------------------------------------------------------------------------- modals


class ConfirmScreen(ModalScreen[bool]):
    """Nothing changes before the agent says so (Enter), Échap changes nothing."""

    BINDINGS = keys.bindings(keys.CONFIRM_KEYS)

    def __init__(self, title: str, message: str, verb: str) -> None:
        super().__init__()
        self.title_text = title
        self.message = message
        self.verb = verb

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog confirm-dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield Static(self.message, classes="confirm-message")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.verb, variant="primary", id="confirm-yes", compact=True)
                yield Button("Annuler", id="confirm-no", compact=True)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm-yes")

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)


class PasswordScreen(ReportsWorkerErrors, ModalScreen[None]):
    """The new temporary password, once: large, spaced, spelled out, with its validity.

    The result is dropped when the window closes; `p` writes the printable slip while
    it is open (the domain checks the password still opens the account).
    """

    BINDINGS = keys.bindings(keys.PASSWORD_KEYS)

    def __init__(
        self, services: Services, signed_in: SchoolSession, target: Target, result: ResetResult
    ) -> None:
        super().__init__()
        self.services = services
        self.signed_in = signed_in
        self.target = target
        self.result: ResetResult | None = result
        self.slip_written = False

    def compose(self) -> ComposeResult:
        result = self.result
        assert result is not None
        with Vertical(id="password-dialog", classes="dialog"):
            yield Label(
                f"Nouveau mot de passe provisoire — {self.target.name} ({result.login})",
                classes="dialog-title",
                markup=False,
            )
            yield Static(spaced(result.temp_password), id="password-big")
            yield Static(ALPHABET_LEGEND, id="password-legend")
            yield Static(spelled(result.temp_password), id="password-spelled", markup=False)
            yield Static(
                f"Identifiant : [b]{escape(result.login)}[/b] · valable jusqu'au "
                f"[b]{self.services.time.date_time(result.expires_at)}[/b]\n"
                "Le compte est à activer de nouveau. Ce mot de passe ne sera plus affiché "
                "après la fermeture de cette fenêtre.",
                id="password-validity",
            )
            yield Static(
                "p : fiche imprimable (PDF) · Entrée ou Échap : fermer", id="password-hint"
            )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "print_slip" and (self.result is None or self.slip_written):
            return None
        return True

    def action_print_slip(self) -> None:
        result = self.result
        if result is None or self.slip_written:
            return
        path = helpdesk.default_slip_path(self.services, result.login, self.services.clock())
        self._write(result, path)

    @work(thread=True, exclusive=True, group="slip", exit_on_error=False)
    def _write(self, result: ResetResult, path: Path) -> None:
        written = helpdesk.write_slip(self.services, self.signed_in, result, path)
        self.app.call_from_thread(self._written, written)

    def _written(self, path: Path) -> None:
        self.slip_written = True
        self.refresh_bindings()
        self.query_one("#password-hint", Static).update(
            f"Fiche écrite : {escape(path.name)} (dossier depannage) · Entrée ou Échap : fermer"
        )
        self.app.notify(f"Fiche imprimable écrite : {path}", title="Fiche", timeout=12)

    def action_close(self) -> None:
        # Nothing keeps the password once the window is gone.
        self.result = None
        self.dismiss(None)


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
        text = Text.assemble("État : ", state_text(row.state, row.kind, short=False))
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


def spaced_login(login: str) -> Text:
    """The identifier as read on the phone: large-ish (spaced, bold) and spelled out."""
    text = Text()
    text.append(" ".join(login), style="bold")
    text.append("\n")
    text.append(spelled(login), style="dim")
    return text


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
            placeholder="Nom, prénom, identifiant ou classe (ex. : 3e2 martin)",
            id="helpdesk-search",
        )
        yield Static(self._idle_status(), id="helpdesk-status")
        yield OptionList(id="helpdesk-results", compact=True)
        yield KeyBar()

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#helpdesk-search", Input))

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
        rows = helpdesk_search.search(self.services, self.signed_in, text, limit=RESULT_LIMIT)
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
            more = " (les premiers : précisez)" if len(rows) >= RESULT_LIMIT else ""
            status.update(f"{len(rows)} compte(s){more} · ↓ puis Entrée : ouvrir{note}")
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
        text.append(block, style="bold red")
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


__all__ = [
    "ALPHABET_LEGEND",
    "TEMP_PASSWORD_ALPHABET",
    "AccountActionsScreen",
    "ConfirmScreen",
    "HelpdeskScreen",
    "PasswordScreen",
    "Target",
    "spaced",
    "spelled",
    "start_reset",
    "start_unblock",
]
