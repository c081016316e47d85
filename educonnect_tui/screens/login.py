"""Staff sign-in: identifier, password, and the OTP code only outside the administrative network.

Thin by design: ``auth.sign_in_step`` says which case applies (the sentence shown under
the title), ``auth.sign_in`` decides everything else — the single generic failure, replay,
blocking, auditing. The screen only collects the fields and shows the outcome.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual import on, work
from textual.app import ComposeResult
from textual.containers import CenterMiddle, Horizontal, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Static
from textual.worker import Worker, WorkerState

from .. import keys
from ..domain.access import sign_in as auth
from ..domain.access.caller import SignedIn
from ..domain.access.network import Connection
from ..domain.access.sign_in import TOTP_DIGITS
from ..domain.model.enums import Module
from ..domain.model.errors import AccountBlocked, DomainError
from ..domain.store import db_errors
from ..domain.store.services import Services
from ..widgets.key_bar import KeyBar
from ..widgets.typed_ahead import TypedAheadFields

if TYPE_CHECKING:
    from ..app import EduConnectApp

TITLE = "Administration des comptes EduConnect"
# What staff read on the two choices; the dépannage module covers pupils only.
MODULE_TITLES = {
    Module.ADMINISTRATION: TITLE,
    Module.DEPANNAGE: "Dépannage des comptes élèves",
}
SIGN_IN_GROUP = "sign-in"
CHECKING = "Vérification…"


class ModuleButton(RadioButton):
    """A radio button whose mark shows without colour too (monochrome SSH, NO_COLOR)."""

    def __init__(self, label: str, *, value: bool, id: str) -> None:
        super().__init__(label, value=value, id=id)
        self.BUTTON_INNER = "●" if value else " "

    def watch_value(self) -> None:
        self.BUTTON_INNER = "●" if self.value else " "
        super().watch_value()


class LoginScreen(TypedAheadFields, Screen[None]):
    BINDINGS = keys.bindings(keys.LOGIN_KEYS)
    AUTO_FOCUS = "#login-identifier"
    HELP_TITLE = "connexion"
    HELP_WITH_HOME_KEYS = False  # not signed in yet
    HELP_NOTES = (
        ("ctrl+c", "Quitter (q s'écrit dans les champs)."),
        ("F1", "Cette aide (? s'écrit dans les champs)."),
    )

    def __init__(self, services: Services, connection: Connection, *, notice: str = "") -> None:
        super().__init__()
        self.services = services
        self.connection = connection
        self.step = auth.sign_in_step(services, connection)
        self.busy = False
        # Why the previous session ended (signed out elsewhere, account disabled…).
        self.notice = notice

    @property
    def edu_app(self) -> EduConnectApp:
        """``self.app`` typed as ours: the screen hands the session to ``enter``."""
        return cast("EduConnectApp", self.app)

    def compose(self) -> ComposeResult:
        with CenterMiddle(id="login-center"), Vertical(id="login-panel") as panel:
            panel.border_title = MODULE_TITLES[self.step.module]
            with RadioSet(id="login-module", compact=True):
                for module, title in MODULE_TITLES.items():
                    yield ModuleButton(
                        title, value=module is self.step.module, id=f"module-{module.value}"
                    )
            yield Static(self.step.message, id="login-case", markup=False)
            with Horizontal(classes="login-row"):
                yield Label("Identifiant", classes="login-label")
                yield Input(id="login-identifier", compact=True, max_length=100)
            with Horizontal(classes="login-row"):
                yield Label("Mot de passe", classes="login-label")
                yield Input(id="login-password", password=True, compact=True, max_length=200)
            # Always there, shown only when the module and the network ask for it.
            with Horizontal(classes="login-row", id="login-code-row") as row:
                row.display = self.step.otp_required
                yield Label(f"Code à {TOTP_DIGITS} chiffres", classes="login-label")
                yield Input(
                    id="login-code",
                    compact=True,
                    restrict=r"[0-9]*",
                    max_length=TOTP_DIGITS,
                    placeholder="clé OTP",
                )
            yield Label("", id="login-error")
            with Horizontal(id="login-actions"):
                yield Button("Se connecter", id="login-submit", variant="primary", compact=True)
                yield Static(
                    "F2 module · ctrl+c quitter · F1 aide",
                    id="login-hint",
                    markup=False,
                )
        yield KeyBar()

    def on_mount(self) -> None:
        if self.notice:
            self._show_error(self.notice)

    # -- module -----------------------------------------------------------------

    def action_switch_module(self) -> None:
        """F2, from any field: the other module (the radio buttons follow)."""
        if self.busy:
            return
        other = (
            Module.DEPANNAGE if self.step.module is Module.ADMINISTRATION else Module.ADMINISTRATION
        )
        self.query_one(f"#module-{other.value}", RadioButton).value = True
        self._set_module(other)

    @on(RadioSet.Changed, "#login-module")
    def _module_chosen(self, event: RadioSet.Changed) -> None:
        pressed = event.pressed.id or ""
        self._set_module(Module(pressed.removeprefix("module-")))

    def _set_module(self, module: Module) -> None:
        """What the chosen module asks for: the code only for administration, off-network."""
        if module is self.step.module:
            return
        self.step = auth.sign_in_step(self.services, self.connection, module)
        self.query_one("#login-panel").border_title = MODULE_TITLES[module]
        self.query_one("#login-case", Static).update(self.step.message)
        self.query_one("#login-code-row").display = self.step.otp_required
        if not self.step.otp_required:
            self._field("code").value = ""
        self._show_error("")

    # -- fields -----------------------------------------------------------------

    def _field(self, name: str) -> Input:
        return self.query_one(f"#login-{name}", Input)

    def typed_fields(self) -> list[Input]:
        names = ["identifier", "password", *(["code"] if self.step.otp_required else [])]
        return [self._field(name) for name in names]

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        fields = self.typed_fields()
        if event.input not in fields:
            return
        event.stop()
        index = fields.index(event.input)
        if index + 1 < len(fields):  # only when login_next was remapped away from enter
            fields[index + 1].focus()
        else:
            self.submit()

    @on(Button.Pressed, "#login-submit")
    def _pressed(self) -> None:
        self.submit()

    def _missing(self) -> tuple[Input, str] | None:
        """A field left empty is not an attempt: say so without asking the domain."""
        identifier = self._field("identifier")
        if not identifier.value.strip():
            return identifier, "Saisissez votre identifiant."
        password = self._field("password")
        if not password.value:
            return password, "Saisissez votre mot de passe."
        if self.step.otp_required:
            code = self._field("code")
            if len(code.value) != TOTP_DIGITS:
                return code, f"Saisissez le code à {TOTP_DIGITS} chiffres de votre clé OTP."
        return None

    def submit(self) -> None:
        if self.busy:
            return
        missing = self._missing()
        if missing is not None:
            field, message = missing
            self._show_error(message)
            field.focus()
            return
        code = self._field("code").value if self.step.otp_required else None
        self._set_busy(True)
        self._sign_in(
            self._field("identifier").value, self._field("password").value, code, self.step.module
        )

    # -- the domain call ----------------------------------------------------------

    @work(thread=True, exclusive=True, group=SIGN_IN_GROUP, exit_on_error=False)
    def _sign_in(
        self, login: str, password: str, code: str | None, module: Module
    ) -> SignedIn | DomainError:
        """argon2 takes tens of milliseconds: never on the UI thread."""
        try:
            return auth.sign_in(
                self.services, login, password, code, self.connection, module=module
            )
        except DomainError as error:
            return error

    @on(Worker.StateChanged)
    def _worker_done(self, event: Worker.StateChanged) -> None:
        if event.worker.group != SIGN_IN_GROUP:
            return
        if event.state is WorkerState.SUCCESS:
            self._set_busy(False)
            outcome = event.worker.result
            if isinstance(outcome, SignedIn):
                self._signed_in(outcome)
            elif isinstance(outcome, DomainError):
                self._failed(outcome)
        elif event.state is WorkerState.ERROR:
            self._set_busy(False)
            self._failed(event.worker.error or RuntimeError("?"))
        elif event.state is WorkerState.CANCELLED:
            self._set_busy(False)

    def _signed_in(self, signed_in: SignedIn) -> None:
        # Nothing typed stays behind this screen (esc from the school picker comes back here).
        self._clear_secrets()
        self._field("identifier").value = ""
        self._show_error("")
        self._field("identifier").focus()
        self.edu_app.enter(signed_in)

    def _failed(self, error: BaseException) -> None:
        message = str(db_errors.translate(error))
        self._show_error(message)
        self._clear_secrets()
        if isinstance(error, AccountBlocked):
            # Nothing to retype for this account until the wait is over: maybe someone else.
            self._field("identifier").focus()
        else:
            self._field("password").focus()

    # -- display ------------------------------------------------------------------

    def _clear_secrets(self) -> None:
        self._field("password").value = ""
        if self.step.otp_required:
            self._field("code").value = ""

    def _show_error(self, message: str) -> None:
        label = self.query_one("#login-error", Label)
        label.update(Content(f"⚠ {message}") if message else Content(""))
        label.set_class(bool(message), "-shown")

    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        self.query_one("#login-submit", Button).disabled = busy
        self.query_one("#login-module", RadioSet).disabled = busy
        if busy:
            label = self.query_one("#login-error", Label)
            label.update(Content(CHECKING))
            label.set_class(False, "-shown")
