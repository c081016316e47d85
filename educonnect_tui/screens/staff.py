"""Personnels: the direction adds its staff, resets a password or an OTP key, unlocks,
disables, enables and changes a role.

Thin like every screen: ``domain.access.staff_accounts`` checks who may do it, keeps the
last direction account of the school, audits each action and issues the credentials;
this shows the table, the forms, the confirmations and the domain's French messages
(a refusal ends in the error window, from the worker). What is issued is shown once,
in ``CredentialsScreen``, and the toast that follows names no secret.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.markup import escape
from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.timer import Timer
from textual.widgets import Button, DataTable, Input, Label, Select, Static

from .. import keys
from ..domain.access import staff_accounts
from ..domain.access.caller import SchoolSession, role_label
from ..domain.access.staff_accounts import (
    IssuedCredentials,
    NewStaffRequest,
    StaffState,
    StaffView,
)
from ..domain.model import french
from ..domain.model.enums import StaffRole, StateColour
from ..domain.model.errors import DomainError, PermissionDenied
from ..domain.store.services import Services
from ..widgets import sized_table
from ..widgets.key_bar import KeyBar
from ..widgets.state_badge import BLOCKED_SYMBOL, colour_style
from ..widgets.typed_ahead import TypedAheadFields
from ..widgets.worker_errors import ReportsWorkerErrors
from .account_actions import ConfirmScreen
from .credentials import CredentialsScreen

SEARCH_DEBOUNCE = 0.15
# The add form's text fields, in the order Entrée goes through them (the role is a list).
_TYPED_FIELDS = ("first-name", "last-name", "title", "login")
HINT = "Entrée ou Tab\u00a0: champ suivant · ctrl+s\u00a0: ajouter · Échap\u00a0: annuler"
# The symbol and the word say the state; the colour only repeats them.
_STATE_LOOK = {
    StaffState.ACTIVE: ("✓", StateColour.GREEN),
    StaffState.TEMPORARY: ("…", StateColour.YELLOW),
    StaffState.TEMPORARY_EXPIRED: ("!", StateColour.ORANGE),
    StaffState.BLOCKED: (BLOCKED_SYMBOL, StateColour.RED),
    StaffState.DISABLED: ("✗", StateColour.GREY),
}
# The table's column is narrow: the role in one word (the dialogs say it in full).
ROLE_WORDS = {StaffRole.DIRECTION: "direction", StaffRole.AGENT: "agent"}

# What decides first comes first, so that 80 columns show it: state, who, role; then
# what the direction checks on a call (OTP, last sign-in, lock), then the rest.
_HEADERS = (
    "État",
    "Nom",
    "Identifiant",
    # Before the rest: within 80 columns, when and from where someone last signed in.
    "Dern. connexion",
    "Depuis",
    "Rôle",
    "OTP",
    "Bloqué jusqu'au",
    "Fonction",
    "Établissements",
    "Délégations",
)


def state_text(state: StaffState) -> Text:
    symbol, colour = _STATE_LOOK[state]
    return Text(f"{symbol} {state.value}", style=colour_style(colour))


def other_role(role: StaffRole) -> StaffRole:
    return StaffRole.AGENT if role is StaffRole.DIRECTION else StaffRole.DIRECTION


class StaffScreen(ReportsWorkerErrors, Screen[None]):
    """The school's staff: n to add one, the other keys act on the highlighted row."""

    HELP_TITLE = "personnels de l'établissement"
    BINDINGS = keys.bindings(keys.STAFF_KEYS)

    def __init__(self, services: Services, signed_in: SchoolSession) -> None:
        super().__init__()
        self.services = services
        self.signed_in = signed_in
        self.rows: list[StaffView] = []
        self._search_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        school = self.signed_in.school
        yield Static(
            f"[b]Personnels[/b] · {escape(school.name)} · {school.uai}",
            id="staff-header",
            markup=True,
        )
        search_key = keys.keys_label(
            keys.ALL_KEYS["staff_search"], self.services.settings.keymap
        ).split(" ")[0]
        yield Input(
            placeholder=f"{search_key} Rechercher un nom, un prénom, un identifiant…",
            id="staff-search",
            compact=True,
        )
        table: DataTable[str | Text] = DataTable(
            id="staff-table", cursor_type="row", zebra_stripes=True
        )
        yield table
        yield Static("Chargement…", id="staff-status")
        yield KeyBar()

    def on_mount(self) -> None:
        table = self.query_one("#staff-table", DataTable)
        table.add_columns(*_HEADERS)
        table.focus()
        self.load()

    # -- the list ----------------------------------------------------------------

    @property
    def search(self) -> str:
        return self.query_one("#staff-search", Input).value

    def load(self, highlight: int | None = None) -> None:
        """The list again, the same row highlighted (or ``highlight``)."""
        if not self.is_attached or self not in self.app.screen_stack:
            return  # left while an action ran: its credentials and toast still show
        if highlight is None and self.current is not None:
            highlight = self.current.id
        self._load(self.search, highlight)

    @work(thread=True, exclusive=True, group="staff", exit_on_error=False)
    def _load(self, search: str, highlight: int | None) -> None:
        rows = staff_accounts.list_staff(self.services, self.signed_in, search)
        self.app.call_from_thread(self._show, search, rows, highlight)

    def _show(self, search: str, rows: list[StaffView], highlight: int | None) -> None:
        if not self.is_attached or self not in self.app.screen_stack or search != self.search:
            return  # gone, or typed on since: the newer search is on its way
        self.rows = rows
        table = self.query_one("#staff-table", DataTable)
        now = self.services.clock()
        time = self.services.time
        cells = [
            (
                state_text(view.state),
                f"{view.display_name} (vous)" if view.is_self else view.display_name,
                view.login,
                time.short(view.last_sign_in_at) if view.last_sign_in_at else "jamais",
                view.last_sign_in_source or "",
                ROLE_WORDS[view.role],
                "oui" if view.otp_enrolled else "non",
                time.short(view.blocked_until)
                if view.blocked_until and view.blocked_until > now
                else "",
                view.title,
                ", ".join(view.schools),
                "\u00a0; ".join(view.delegations) or "aucune",
            )
            for view in rows
        ]
        sized_table.fill(table, _HEADERS, cells, [str(view.id) for view in rows])
        if highlight is not None:
            index = next((i for i, v in enumerate(rows) if v.id == highlight), 0)
            table.move_cursor(row=index)
        self.query_one("#staff-status", Static).update(self._status(search, rows))
        self.refresh_bindings()

    @staticmethod
    def _status(search: str, rows: list[StaffView]) -> str:
        if not rows:
            if search:
                return f"Aucun personnel ne correspond à « {search} »."
            return "Aucun personnel\u00a0: n pour en ajouter un."
        direction = sum(1 for v in rows if v.role is StaffRole.DIRECTION)
        parts = [french.count(len(rows), "personnel"), f"{direction} de direction"]
        for state, word in (
            (StaffState.BLOCKED, "bloqué"),
            (StaffState.TEMPORARY_EXPIRED, "provisoire expiré"),
            (StaffState.DISABLED, "désactivé"),
        ):
            counted = sum(1 for v in rows if v.state is state)
            if counted:
                parts.append(french.count(counted, word))
        if search:
            parts.append(f"recherche\u00a0: « {search} »")
        return " · ".join(parts)

    @property
    def current(self) -> StaffView | None:
        table = self.query_one("#staff-table", DataTable)
        if not self.rows or table.cursor_row < 0 or table.cursor_row >= len(self.rows):
            return None
        return self.rows[table.cursor_row]

    @on(DataTable.RowHighlighted)
    def _highlighted(self) -> None:
        self.refresh_bindings()

    @on(Input.Changed, "#staff-search")
    def _search_changed(self) -> None:
        if self._search_timer is not None:
            self._search_timer.stop()
        self._search_timer = self.set_timer(SEARCH_DEBOUNCE, self.load)

    @on(Input.Submitted, "#staff-search")
    def _search_done(self) -> None:
        self.query_one("#staff-table", DataTable).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Disable and enable share a place: only the one that applies is shown."""
        if action in ("add", "back", "focus_search"):
            return True
        view = self.current
        if action == "disable":
            if view is not None and view.state is StaffState.DISABLED:
                return False
            return None if view is None else True
        if action == "enable":
            return view is not None and view.state is StaffState.DISABLED
        if view is None:
            return None
        if action == "unlock":
            until = view.blocked_until
            return True if until is not None and until > self.services.clock() else None
        return True

    # -- actions -----------------------------------------------------------------

    def action_back(self) -> None:
        search = self.query_one("#staff-search", Input)
        if self.focused is search:
            if search.value:
                search.value = ""
            else:
                self.query_one("#staff-table", DataTable).focus()
            return
        self.dismiss(None)

    def action_focus_search(self) -> None:
        self.set_focus(self.query_one("#staff-search", Input))

    def action_add(self) -> None:
        def added(issued: IssuedCredentials | None) -> None:
            if issued is not None:
                self.load(issued.staff_id)
                show_credentials(
                    self.app,
                    self.services,
                    issued,
                    "Nouveau personnel",
                    f"{issued.display_name} ({issued.login}) fait partie du personnel de "
                    "l'établissement. Ses identifiants ne seront plus affichés.",
                    "Personnel ajouté",
                )

        self.app.push_screen(AddStaffScreen(self.services, self.signed_in), added)

    def action_reset_password(self) -> None:
        view = self.current
        if view is None:
            return
        if self._refused_for_self(view, "reset_password"):
            return
        message = (
            f"Donner un nouveau mot de passe provisoire à [b]{escape(view.display_name)}[/b] "
            f"({escape(view.login)})\u00a0?\n\nSon mot de passe actuel ne fonctionnera plus. "
            f"Le nouveau s'affichera une seule fois\u00a0; il devra le changer à sa prochaine "
            f"connexion, dans les {self.services.settings.staff_temp_password_days} jours."
        )
        if view.blocked_until is not None:
            message += "\nLe compte sera aussi débloqué."
        self._confirm(
            "Nouveau mot de passe",
            message,
            "Réinitialiser",
            lambda: self._issue(
                staff_accounts.reset_password,
                view,
                "Nouveau mot de passe provisoire",
                f"Mot de passe {french.of(view.display_name)} réinitialisé.",
                "Mot de passe",
            ),
        )

    def action_reset_otp(self) -> None:
        view = self.current
        if view is None:
            return
        message = (
            f"Donner une nouvelle clé OTP à [b]{escape(view.display_name)}[/b] "
            f"({escape(view.login)})\u00a0?\n\nL'ancienne clé cesse aussitôt de fonctionner\u00a0: "
            "ses codes actuels seront refusés. La nouvelle (QR code) s'affichera une seule "
            "fois, à scanner dans son application d'authentification."
        )
        self._confirm(
            "Nouvelle clé OTP",
            message,
            "Nouvelle clé",
            lambda: self._issue(
                staff_accounts.reset_otp,
                view,
                "Nouvelle clé OTP",
                f"Clé OTP {french.of(view.display_name)} renouvelée\u00a0: l'ancienne ne "
                "fonctionne plus.",
                "Clé OTP",
            ),
        )

    def action_unlock(self) -> None:
        view = self.current
        if view is None or view.blocked_until is None:
            return
        self._act(
            staff_accounts.unlock,
            view,
            f"Compte {french.of(view.display_name)} ({view.login}) débloqué.",
            "Déblocage",
        )

    def _refused_for_self(self, view: StaffView, action: str) -> bool:
        """One's own row: the domain's refusal at once, not after a confirmation."""
        if not view.is_self:
            return False
        self.app.notify(
            staff_accounts.SELF_REFUSALS[action], title="Opération impossible", severity="warning"
        )
        return True

    def action_disable(self) -> None:
        view = self.current
        if view is None or view.state is StaffState.DISABLED:
            return
        if self._refused_for_self(view, "disable"):
            return
        message = (
            f"Désactiver le compte {french.of(escape(view.display_name))} "
            f"({escape(view.login)})\u00a0?\n\nSon accès cesse aussitôt, y compris ses "
            "sessions ouvertes\u00a0; ses délégations sont révoquées. Ses actions restent "
            "dans le journal, et le compte pourra être réactivé."
        )
        if view.delegations:
            revoked = escape("\u00a0; ".join(view.delegations))
            message += f"\n\nDélégations révoquées\u00a0: {revoked}"
        self._confirm(
            "Désactiver un compte",
            message,
            "Désactiver",
            lambda: self._act(
                staff_accounts.disable,
                view,
                f"Compte {french.of(view.display_name)} ({view.login}) désactivé"
                + ("\u00a0; ses délégations sont révoquées." if view.delegations else "."),
                "Compte désactivé",
            ),
        )

    def action_enable(self) -> None:
        view = self.current
        if view is None or view.state is not StaffState.DISABLED:
            return
        self._act(
            staff_accounts.enable,
            view,
            f"Compte {french.of(view.display_name)} ({view.login}) réactivé.",
            "Compte réactivé",
        )

    def action_change_role(self) -> None:
        view = self.current
        if view is None:
            return
        if self._refused_for_self(view, "change_role"):
            return
        role = other_role(view.role)
        message = (
            f"Donner à [b]{escape(view.display_name)}[/b] ({escape(view.login)}) le rôle "
            f"« {role_label(role)} » (aujourd'hui « {escape(view.role_label)} »)\u00a0?\n\n"
        )
        message += (
            "La direction gère les comptes, les délégations, les personnels et le journal "
            "de l'établissement."
            if role is StaffRole.DIRECTION
            else "Un agent n'agit que par les délégations que la direction lui accorde."
        )
        self._confirm(
            "Changer de rôle",
            message,
            "Changer",
            lambda: self._act(
                lambda services, caller, staff_id: staff_accounts.change_role(
                    services, caller, staff_id, role
                ),
                view,
                f"{view.display_name} ({view.login}) a maintenant le rôle « {role_label(role)} ».",
                "Rôle changé",
            ),
        )

    # -- how each action runs ------------------------------------------------------

    def _confirm(self, title: str, message: str, verb: str, then: Callable[[], None]) -> None:
        def confirmed(yes: bool | None) -> None:
            if yes:
                then()

        self.app.push_screen(ConfirmScreen(title, message, verb), confirmed)

    def _act(
        self,
        action: Callable[[Services, SchoolSession, int], Any],
        view: StaffView,
        done: str,
        title: str,
    ) -> None:
        """The domain refuses in French (the error window shows it); else the toast."""
        app = self.app

        def run() -> None:
            try:
                action(self.services, self.signed_in, view.id)
            finally:
                app.call_from_thread(self.load, view.id)
            app.call_from_thread(app.notify, done, title=title)

        self._in_app_worker(run, view)

    def _issue(
        self,
        action: Callable[[Services, SchoolSession, int], IssuedCredentials],
        view: StaffView,
        heading: str,
        done: str,
        title: str,
    ) -> None:
        app = self.app

        def run() -> None:
            try:
                issued = action(self.services, self.signed_in, view.id)
            finally:
                app.call_from_thread(self.load, view.id)
            app.call_from_thread(show_credentials, app, self.services, issued, heading, done, title)

        self._in_app_worker(run, view)

    def _in_app_worker(self, run: Callable[[], None], view: StaffView) -> None:
        """A confirmed action runs to its end even if this screen is left meanwhile:
        a screen's workers are cancelled with it, and a new password or OTP key made
        and never shown would lock the person out. The app shows its errors. Nothing
        in ``run`` may ask this screen for its app once it is gone: it is given it.

        Every one is sensitive: the password is asked first when its last confirmation
        is older than ``reauth_minutes`` (``EduConnectApp.before_sensitive``)."""
        app = self.app

        def start() -> None:
            app.run_worker(run, thread=True, group="staff-action", exit_on_error=False)

        before_sensitive = getattr(app, "before_sensitive", None)
        if before_sensitive is None:
            start()
        else:
            before_sensitive(start, f"Personnel\u00a0: {view.display_name} ({view.login}).")


def show_credentials(
    app: App[Any],
    services: Services,
    issued: IssuedCredentials,
    heading: str,
    done: str,
    title: str,
) -> None:
    """The credentials once; the toast after, so that it never covers the QR code."""
    app.push_screen(
        CredentialsScreen(services, issued, heading), lambda _: app.notify(done, title=title)
    )


class AddStaffScreen(TypedAheadFields, ReportsWorkerErrors, ModalScreen[IssuedCredentials | None]):
    """The new person's names, role and title (the login is derived unless given).

    The domain validates; its French message about what was typed is shown in the form,
    which stays open. A refusal of the person instead (``PermissionDenied``: session
    ended, password to confirm) goes to the app, like every other screen's.
    """

    BINDINGS = keys.bindings(keys.STAFF_FORM_KEYS)

    def __init__(self, services: Services, signed_in: SchoolSession) -> None:
        super().__init__()
        self.services = services
        self.signed_in = signed_in
        # While the domain adds: a second ctrl+s would add the person twice (the login
        # taken, the next one is derived), Échap would drop the credentials made.
        self.adding = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="add-staff-dialog"):
            yield Label(
                f"Ajouter un personnel — {self.signed_in.school.name}",
                classes="dialog-title",
                markup=False,
            )
            for label, field, placeholder in (
                ("Prénom", "first-name", ""),
                ("Nom", "last-name", ""),
            ):
                with Horizontal(classes="staff-row"):
                    yield Label(label, classes="staff-label")
                    yield Input(placeholder=placeholder, id=f"staff-{field}", compact=True)
            with Horizontal(classes="staff-row"):
                yield Label("Rôle", classes="staff-label")
                yield Select[StaffRole](
                    [
                        ("agent (par délégation)", StaffRole.AGENT),
                        ("direction", StaffRole.DIRECTION),
                    ],
                    value=StaffRole.AGENT,
                    allow_blank=False,
                    id="staff-role",
                    compact=True,
                )
            with Horizontal(classes="staff-row"):
                yield Label("Fonction", classes="staff-label")
                yield Input(
                    placeholder="Conseillère principale d'éducation…",
                    id="staff-title",
                    compact=True,
                )
            with Horizontal(classes="staff-row"):
                yield Label("Identifiant", classes="staff-label")
                yield Input(
                    placeholder="(vide\u00a0: tiré du nom, p.nom)", id="staff-login", compact=True
                )
            yield Static(
                f"Un mot de passe provisoire (valable "
                f"{french.count(self.services.settings.staff_temp_password_days, 'jour')}, "
                "à changer à la première connexion) et une clé OTP sont créés\u00a0; ils "
                "s'affichent une seule fois.",
                id="add-staff-note",
            )
            yield Static(HINT, id="add-staff-message")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Ajouter", variant="primary", id="add-staff-yes", compact=True)
                yield Button("Annuler", id="add-staff-no", compact=True)

    def on_mount(self) -> None:
        self.query_one("#staff-first-name", Input).focus()

    def _error(self, message: str) -> None:
        shown = Text(message, style="bold red") if message else Text(HINT)
        self.query_one("#add-staff-message", Static).update(shown)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return None if self.adding and action in ("cancel", "submit") else True

    def action_cancel(self) -> None:
        if not self.adding:
            self.dismiss(None)

    @on(Button.Pressed, "#add-staff-no")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def typed_fields(self) -> list[Input]:
        return [self.query_one(f"#staff-{name}", Input) for name in _TYPED_FIELDS]

    def last_field_entered(self) -> None:
        self.action_submit()

    @on(Button.Pressed, "#add-staff-yes")
    def _submit_pressed(self) -> None:
        self.action_submit()

    def action_submit(self) -> None:
        """After what was typed before the key: the focused field's queue holds it."""
        focused = self.focused
        if isinstance(focused, Input):
            focused.call_later(self._submit)
        else:
            self._submit()

    def _submit(self) -> None:
        if self.adding:
            return
        role = self.query_one("#staff-role", Select).value
        assert isinstance(role, StaffRole)
        login = self.query_one("#staff-login", Input).value.strip()
        request = NewStaffRequest(
            first_name=self.query_one("#staff-first-name", Input).value,
            last_name=self.query_one("#staff-last-name", Input).value,
            role=role,
            title=self.query_one("#staff-title", Input).value.strip(),
            login=login or None,
        )
        self._error("")
        self._busy(True)
        self._add(request)

    def _busy(self, adding: bool) -> None:
        self.adding = adding
        for button in self.query(Button):
            button.disabled = adding
        self.refresh_bindings()

    def _refused(self, message: str) -> None:
        self._busy(False)
        self._error(message)

    @work(thread=True, exclusive=True, group="add-staff", exit_on_error=False)
    def _add(self, request: NewStaffRequest) -> None:
        try:
            issued = staff_accounts.add_staff(self.services, self.signed_in, request)
        except PermissionDenied:
            self.app.call_from_thread(self._busy, False)
            raise  # a refusal of the person (session over, confirmation due): the app's
        except DomainError as error:
            self.app.call_from_thread(self._refused, str(error))
        except BaseException:
            self.app.call_from_thread(self._busy, False)
            raise
        else:
            self.app.call_from_thread(self.dismiss, issued)
