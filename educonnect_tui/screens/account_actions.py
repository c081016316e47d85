"""Reset and unblock, as the helpdesk and the account detail screen both run them.

Each flow confirms first, calls the domain in a worker (it checks every permission itself)
and tells the screen it started from when it is over. A new temporary password is shown
once, large, spaced and spelled out for the phone; `p` prints the slip while it is open.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Protocol

from rich.markup import escape
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Label, Static

from .. import keys
from ..domain.access.caller import SchoolSession
from ..domain.accounts import helpdesk, publishing
from ..domain.accounts.helpdesk import ResetResult
from ..domain.accounts.helpdesk_search import HelpdeskRow
from ..domain.model.calendar import date_text
from ..domain.model.enums import AccountKind
from ..domain.store.services import Services
from ..widgets.state_badge import BLOCKED_SYMBOL
from ..widgets.worker_errors import ReportsWorkerErrors

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
    "Lettres minuscules et chiffres 2 à 9 seulement\u00a0: jamais de majuscule, "
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


def spaced_login(login: str) -> Text:
    """The identifier as read on the phone: large-ish (spaced, bold) and spelled out."""
    text = Text()
    text.append(" ".join(login), style="bold")
    text.append("\n")
    text.append(spelled(login), style="dim")
    return text


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
    # A pupil's, shown to check who is on the phone; None when the domain gave none.
    birth_date: dt.date | None = None

    @classmethod
    def of(cls, row: HelpdeskRow) -> Target:
        return cls(
            row.account_id,
            row.kind,
            row.name,
            row.login,
            row.division,
            row.blocked_until,
            row.birth_date,
        )

    @property
    def who(self) -> str:
        where = f", {self.division}" if self.division else ""
        return f"{self.name} ({self.kind.label}{where})"

    @property
    def identity_check(self) -> str:
        """Markup: ask to check who is on the phone, with the birth date when it is known."""
        if self.birth_date is None:
            return "Vérifiez d'abord l'identité de la personne."
        born = date_text(self.birth_date)
        return f"Vérifiez d'abord l'identité\u00a0: date de naissance [b]{born}[/b]."


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
        "L'ancien mot de passe (provisoire ou personnel) ne fonctionnera plus\u00a0: le compte "
        "repasse à « notifié, non activé » et sera à activer de nouveau. Le nouveau mot de "
        "passe s'affichera une seule fois."
    )
    if target.blocked_until is not None:
        message += "\nLe compte sera aussi débloqué."
    message += f"\n\n{target.identity_check}"

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
        f"{target.identity_check}\n\n"
        "Débloquer maintenant\u00a0? Le compte pourra de nouveau être essayé tout de suite."
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
    it is open (the domain checks the password still opens the account). The idle lock
    closes it (``HOLDS_SECRET``): the password is never on screen behind or after it.
    """

    BINDINGS = keys.bindings(keys.PASSWORD_KEYS)
    HOLDS_SECRET = True

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
                f"Identifiant\u00a0: [b]{escape(result.login)}[/b] · valable jusqu'au "
                f"[b]{self.services.time.date_time(result.expires_at)}[/b]\n"
                "Le compte est à activer de nouveau. Ce mot de passe ne sera plus affiché "
                "après la fermeture de cette fenêtre.",
                id="password-validity",
            )
            yield Static(
                "p\u00a0: fiche imprimable (PDF) · Entrée ou Échap\u00a0: fermer",
                id="password-hint",
            )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "print_slip" and (self.result is None or self.slip_written):
            return None
        return True

    def action_print_slip(self) -> None:
        result = self.result
        if result is None or self.slip_written:
            return
        self._write(result)

    @work(thread=True, exclusive=True, group="slip", exit_on_error=False)
    def _write(self, result: ResetResult) -> None:
        # In the worker: a folder that cannot be made is reported, the window stays open.
        path = helpdesk.default_slip_path(self.services, result.login, self.services.clock())
        written = helpdesk.write_slip(self.services, self.signed_in, result, path)
        self.app.call_from_thread(self._written, written)

    def _written(self, written: publishing.Written) -> None:
        path = written.path
        self.slip_written = True
        self.refresh_bindings()
        self.query_one("#password-hint", Static).update(
            f"Fiche écrite : {escape(path.name)} (dossier depannage) · Entrée ou Échap : fermer"
        )
        lines = [f"Fiche imprimable écrite\u00a0: {path}", *publishing.swept_lines(written.swept)]
        self.app.notify("\n".join(lines), title="Fiche", timeout=12)

    def action_close(self) -> None:
        # Nothing keeps the password once the window is gone.
        self.result = None
        self.dismiss(None)

    def on_unmount(self) -> None:
        self.result = None  # however it was closed (the idle lock, a sign-out)


__all__ = [
    "ALPHABET_LEGEND",
    "BLOCK_REASON",
    "ActionHost",
    "ConfirmScreen",
    "PasswordScreen",
    "Target",
    "spaced",
    "spaced_login",
    "spelled",
    "start_reset",
    "start_unblock",
]
