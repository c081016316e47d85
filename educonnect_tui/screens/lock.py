"""The idle lock: an opaque screen over everything, asking the same person's password.

The app pushes it (``EduConnectApp.lock_now``) after ``idle_lock_minutes`` without a key,
once every screen that holds a once-shown secret is closed. It shows who is signed in
and a password field, nothing of the screens beneath (it is a full screen, not a
modal: they are not drawn, and mouse clicks reach only this one). The password is
checked by ``sessions.confirm_password(purpose="lock")``: a wrong one counts as a failed
sign-in from this address and can block the account, after which only « changer
d'utilisateur » is left. That signs out, as ctrl+l does, and leaves nothing behind.
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

from ..domain.access import sessions
from ..domain.access.caller import SignedIn
from ..domain.model import french
from ..domain.model.errors import AccountBlocked, DomainError, SessionEnded
from ..domain.store import db_errors
from ..domain.store.services import Services

if TYPE_CHECKING:
    from ..app import EduConnectApp

TITLE = "Session verrouillée"
UNLOCK_GROUP = "unlock"
CHECKING = "Vérification…"
JOBS_RUNNING = (
    "Une opération est encore en cours sous le verrouillage\u00a0: changer d'utilisateur "
    "l'arrête (ce qui n'est pas terminé ne change rien). Appuyez de nouveau pour confirmer."
)
STOPPING = "Arrêt de l'opération en cours…"


class LockScreen(Screen[None]):
    AUTO_FOCUS = "#lock-password"

    def __init__(self, services: Services, signed_in: SignedIn, minutes: int) -> None:
        super().__init__()
        self.services = services
        self.signed_in = signed_in
        self.minutes = minutes
        self.busy = False
        self.blocked = False
        self.stop_jobs_asked = False

    @property
    def edu_app(self) -> EduConnectApp:
        return cast("EduConnectApp", self.app)

    def compose(self) -> ComposeResult:
        identity = self.signed_in.identity
        with CenterMiddle(id="lock-center"), Vertical(id="lock-panel") as panel:
            panel.border_title = TITLE
            yield Static(Content(f"{identity.display_name} ({identity.login})"), id="lock-who")
            yield Static(
                Content(
                    f"Verrouillée après {french.count(self.minutes, 'minute')} sans activité. "
                    "Saisissez votre mot de passe pour reprendre."
                ),
                id="lock-case",
            )
            with Horizontal(classes="login-row"):
                yield Label("Mot de passe", classes="login-label")
                yield Input(id="lock-password", password=True, compact=True, max_length=200)
            yield Label("", id="lock-error")
            with Horizontal(id="lock-actions"):
                yield Button("Déverrouiller", id="lock-submit", variant="primary", compact=True)
                yield Button("Changer d'utilisateur", id="lock-change-user", compact=True)
            yield Static(
                "Entrée\u00a0: déverrouiller · ctrl+l\u00a0: changer d'utilisateur",
                id="lock-hint",
                markup=False,
            )

    @property
    def field(self) -> Input:
        return self.query_one("#lock-password", Input)

    # -- unlocking -----------------------------------------------------------------

    @on(Input.Submitted, "#lock-password")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.submit()

    @on(Button.Pressed, "#lock-submit")
    def _pressed_submit(self) -> None:
        self.submit()

    @on(Button.Pressed, "#lock-change-user")
    def _pressed_change_user(self) -> None:
        self.change_user()

    def submit(self) -> None:
        if self.busy or self.blocked:
            return
        password = self.field.value
        if not password:
            self._show_error("Saisissez votre mot de passe.")
            return
        self._set_busy(True)
        self._confirm(password)

    @work(thread=True, exclusive=True, group=UNLOCK_GROUP, exit_on_error=False)
    def _confirm(self, password: str) -> DomainError | None:
        """argon2 takes tens of milliseconds: never on the UI thread."""
        try:
            sessions.confirm_password(self.services, self.signed_in, password, purpose="lock")
        except Exception as error:  # shown on this screen, never behind it
            return db_errors.translate(error)
        return None

    @on(Worker.StateChanged)
    def _worker_done(self, event: Worker.StateChanged) -> None:
        if event.worker.group != UNLOCK_GROUP or event.state is not WorkerState.SUCCESS:
            return
        self._set_busy(False)
        outcome = event.worker.result
        if outcome is None:
            self.field.value = ""
            self.edu_app.unlock()
            return
        assert isinstance(outcome, DomainError)
        self.field.value = ""
        if isinstance(outcome, SessionEnded):
            self.edu_app.session_ended(str(outcome))
            return
        self._show_error(str(outcome))
        if isinstance(outcome, AccountBlocked):
            # Nothing to type until the wait is over: someone else may sign in meanwhile.
            self.blocked = True
            self.field.disabled = True
            self.query_one("#lock-submit", Button).disabled = True
            self.set_focus(self.query_one("#lock-change-user", Button))
        else:
            self.set_focus(self.field)

    # -- changing user ---------------------------------------------------------------

    def change_user(self) -> None:
        """Sign out from the lock; a job still running is stopped, after a second press."""
        app = self.edu_app
        if app.jobs_running() and not self.stop_jobs_asked:
            self.stop_jobs_asked = True
            self._show_error(JOBS_RUNNING)
            return
        if app.jobs_running():
            self._show_error(STOPPING)
            self.field.disabled = True
            self.query_one("#lock-submit", Button).disabled = True
            self.query_one("#lock-change-user", Button).disabled = True
        app.sign_out_from_lock()

    # -- display ---------------------------------------------------------------------

    def _show_error(self, message: str) -> None:
        label = self.query_one("#lock-error", Label)
        label.update(Content(f"⚠ {message}") if message else Content(""))
        label.set_class(bool(message), "-shown")

    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        self.query_one("#lock-submit", Button).disabled = busy or self.blocked
        if busy:
            label = self.query_one("#lock-error", Label)
            label.update(Content(CHECKING))
            label.set_class(False, "-shown")
