"""The password again, before a sensitive action: one field, in a dialog.

Asked by ``EduConnectApp.ask_password`` when ``sessions.confirmation_due`` says the last
confirmation is too old, and whenever a worker meets ``ConfirmationRequired`` (the domain
checks it itself, so every interface is covered). The check is
``sessions.confirm_password(purpose="sensitive")``: a wrong password counts as a failed
sign-in and can block the account. Dismissed with True once confirmed, False otherwise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static
from textual.worker import Worker, WorkerState

from .. import keys
from ..domain.access import sessions
from ..domain.access.caller import SignedIn
from ..domain.model.errors import AccountBlocked, DomainError, SessionEnded
from ..domain.store import db_errors
from ..domain.store.services import Services
from .lock import CHECKING

if TYPE_CHECKING:
    from ..app import EduConnectApp

CONFIRM_GROUP = "confirm-password"


class ConfirmPasswordScreen(ModalScreen[bool]):
    BINDINGS = keys.bindings(keys.PASSWORD_PROMPT_KEYS)
    AUTO_FOCUS = "#confirm-password"

    def __init__(
        self, services: Services, signed_in: SignedIn, reason: str, what: str = ""
    ) -> None:
        super().__init__()
        self.services = services
        self.signed_in = signed_in
        self.reason = reason
        self.what = what  # the action waiting for it, in a few words
        self.busy = False

    @property
    def edu_app(self) -> EduConnectApp:
        return cast("EduConnectApp", self.app)

    def compose(self) -> ComposeResult:
        identity = self.signed_in.identity
        with Vertical(id="confirm-password-dialog", classes="dialog"):
            yield Label("Confirmez votre mot de passe", classes="dialog-title")
            if self.what:
                yield Static(Content(self.what), id="confirm-password-what")
            yield Static(Content(self.reason), id="confirm-password-reason")
            yield Static(
                Content(f"{identity.display_name} ({identity.login})"), id="confirm-password-who"
            )
            with Horizontal(classes="login-row"):
                yield Label("Mot de passe", classes="login-label")
                yield Input(id="confirm-password", password=True, compact=True, max_length=200)
            yield Label("", id="confirm-password-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Confirmer", variant="primary", id="confirm-password-ok", compact=True)
                yield Button("Annuler", id="confirm-password-cancel", compact=True)

    @property
    def field(self) -> Input:
        return self.query_one("#confirm-password", Input)

    @on(Input.Submitted, "#confirm-password")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "confirm-password-ok":
            self.submit()
        elif event.button.id == "confirm-password-cancel":
            self.action_cancel()

    def action_cancel(self) -> None:
        if not self.busy:
            self.dismiss(False)

    def submit(self) -> None:
        if self.busy:
            return
        password = self.field.value
        if not password:
            self._show_error("Saisissez votre mot de passe.")
            return
        self.busy = True
        self.query_one("#confirm-password-ok", Button).disabled = True
        label = self.query_one("#confirm-password-error", Label)
        label.update(Content(CHECKING))
        label.set_class(False, "-shown")
        self._confirm(password)

    @work(thread=True, exclusive=True, group=CONFIRM_GROUP, exit_on_error=False)
    def _confirm(self, password: str) -> DomainError | None:
        try:
            sessions.confirm_password(self.services, self.signed_in, password, purpose="sensitive")
        except Exception as error:  # shown in the dialog
            return db_errors.translate(error)
        return None

    @on(Worker.StateChanged)
    def _worker_done(self, event: Worker.StateChanged) -> None:
        if event.worker.group != CONFIRM_GROUP or event.state is not WorkerState.SUCCESS:
            return
        self.busy = False
        self.field.value = ""
        outcome = event.worker.result
        if outcome is None:
            self.dismiss(True)
            return
        assert isinstance(outcome, DomainError)
        if isinstance(outcome, SessionEnded):
            self.edu_app.session_ended(str(outcome))
            return
        self._show_error(str(outcome))
        blocked = isinstance(outcome, AccountBlocked)
        self.query_one("#confirm-password-ok", Button).disabled = blocked
        self.field.disabled = blocked
        if blocked:
            self.set_focus(self.query_one("#confirm-password-cancel", Button))
        else:
            self.set_focus(self.field)

    def _show_error(self, message: str) -> None:
        label = self.query_one("#confirm-password-error", Label)
        label.update(Content(f"⚠ {message}") if message else Content(""))
        label.set_class(bool(message), "-shown")
