"""« Choisissez un nouveau mot de passe »: after a sign-in with a temporary password.

Shown before anything else (``EduConnectApp.enter``): the domain refuses every action
of a person whose password is still temporary, and this screen offers no way past it
but a personal password or signing out (Échap, ctrl+l). The rule is the domain's
(``staff_accounts.change_own_password``: the staff policy, not the current password);
the screen shows it before anything is typed and only checks that the two entries agree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual import on, work
from textual.app import ComposeResult
from textual.containers import CenterMiddle, Horizontal, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Button, Input, Label, Static
from textual.worker import Worker, WorkerState

from .. import keys
from ..domain.access import passwords, staff_accounts
from ..domain.access.caller import SignedIn
from ..domain.model.errors import DomainError, SessionEnded
from ..domain.store import db_errors
from ..domain.store.services import Services
from ..widgets.key_bar import KeyBar
from ..widgets.typed_ahead import TypedAheadFields
from .lock import CHECKING

if TYPE_CHECKING:
    from ..app import EduConnectApp

TITLE = "Choisissez un nouveau mot de passe"
CHANGE_GROUP = "password-change"
MISMATCH = "Les deux saisies diffèrent\u00a0: tapez deux fois le même mot de passe."


class PasswordChangeScreen(TypedAheadFields, Screen[bool]):
    """Dismissed with True once the new password is recorded, False to sign out."""

    BINDINGS = keys.bindings(keys.PASSWORD_CHANGE_KEYS)
    AUTO_FOCUS = "#new-password"
    HELP_TITLE = "nouveau mot de passe"
    HELP_WITH_HOME_KEYS = False  # nothing else is open yet

    def __init__(self, services: Services, signed_in: SignedIn) -> None:
        super().__init__()
        self.services = services
        self.signed_in = signed_in
        self.busy = False

    @property
    def edu_app(self) -> EduConnectApp:
        return cast("EduConnectApp", self.app)

    def compose(self) -> ComposeResult:
        identity = self.signed_in.identity
        with CenterMiddle(id="login-center"), Vertical(id="change-panel") as panel:
            panel.border_title = TITLE
            yield Static(
                Content(
                    f"{identity.display_name} ({identity.login})\u00a0: le mot de passe "
                    "saisi est provisoire. Choisissez votre mot de passe personnel avant de "
                    "continuer."
                ),
                id="change-intro",
            )
            yield Static(Content(passwords.STAFF_PASSWORD_POLICY), id="change-policy")
            with Horizontal(classes="login-row"):
                yield Label("Nouveau", classes="login-label")
                yield Input(id="new-password", password=True, compact=True, max_length=200)
            with Horizontal(classes="login-row"):
                yield Label("Encore une fois", classes="login-label")
                yield Input(id="new-password-again", password=True, compact=True, max_length=200)
            yield Label("", id="change-error")
            with Horizontal(id="login-actions"):
                yield Button("Enregistrer", id="change-submit", variant="primary", compact=True)
                yield Static("Échap\u00a0: changer d'utilisateur", id="login-hint", markup=False)
        yield KeyBar()

    def typed_fields(self) -> list[Input]:
        return [
            self.query_one("#new-password", Input),
            self.query_one("#new-password-again", Input),
        ]

    # -- fields, as on the login screen: typed-ahead keys stay in their field -------

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        fields = self.typed_fields()
        if event.input not in fields:
            return
        event.stop()
        if event.input is fields[-1]:
            self.submit()
        else:
            fields[-1].focus()

    @on(Button.Pressed, "#change-submit")
    def _pressed(self) -> None:
        self.submit()

    def action_sign_out_now(self) -> None:
        if not self.busy:
            self.dismiss(False)

    def submit(self) -> None:
        if self.busy:
            return
        first, second = self.typed_fields()
        if not first.value:
            self._show_error("Saisissez votre nouveau mot de passe.")
            self.set_focus(first)
            return
        if first.value != second.value:
            self._show_error(MISMATCH)
            second.value = ""
            self.set_focus(second)
            return
        self.busy = True
        self.query_one("#change-submit", Button).disabled = True
        label = self.query_one("#change-error", Label)
        label.update(Content(CHECKING))
        label.set_class(False, "-shown")
        self._change(first.value)

    @work(thread=True, exclusive=True, group=CHANGE_GROUP, exit_on_error=False)
    def _change(self, password: str) -> DomainError | None:
        try:
            staff_accounts.change_own_password(self.services, self.signed_in, password)
        except Exception as error:  # shown on this screen
            return db_errors.translate(error)
        return None

    @on(Worker.StateChanged)
    def _worker_done(self, event: Worker.StateChanged) -> None:
        if event.worker.group != CHANGE_GROUP or event.state is not WorkerState.SUCCESS:
            return
        self.busy = False
        self.query_one("#change-submit", Button).disabled = False
        first, second = self.typed_fields()
        outcome = event.worker.result
        first.value = second.value = ""
        if outcome is None:
            self.app.notify("Votre nouveau mot de passe est enregistré.", title="Mot de passe")
            self.dismiss(True)
            return
        assert isinstance(outcome, DomainError)
        if isinstance(outcome, SessionEnded):
            self.edu_app.session_ended(str(outcome))
            return
        self._show_error(str(outcome))
        self.set_focus(first)

    def _show_error(self, message: str) -> None:
        label = self.query_one("#change-error", Label)
        label.update(Content(f"⚠ {message}") if message else Content(""))
        label.set_class(bool(message), "-shown")
