"""After sign-in, someone attached to several schools picks the one they work on.

The list comes from the session; the choice is checked again by ``auth.choose_school``
(the attachment may have changed since sign-in) and audited there.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.containers import CenterMiddle, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from .. import keys
from ..domain.access import sign_in as auth
from ..domain.access.caller import SchoolRef, SchoolSession, SignedIn
from ..domain.model.errors import DomainError
from ..domain.store.services import Services
from ..widgets.key_bar import KeyBar

CHOOSE_GROUP = "choose-school"


class SchoolPickerScreen(Screen[SchoolSession | None]):
    """Dismissed with the session bound to the chosen school, or None to sign in again."""

    BINDINGS = keys.bindings(keys.SCHOOL_PICKER_KEYS)
    AUTO_FOCUS = "#schools"
    HELP_TITLE = "choix de l'établissement"
    HELP_WITH_HOME_KEYS = False  # no school chosen yet
    PANEL_TITLE = "Choix de l'établissement"

    def __init__(self, services: Services, signed_in: SignedIn) -> None:
        super().__init__()
        self.services = services
        self.signed_in = signed_in
        self.busy = False

    def intro(self) -> str:
        identity = self.signed_in.identity
        return (
            f"{identity.display_name} ({identity.role_label})\u00a0: vous êtes rattaché(e) à "
            f"{len(identity.schools)} établissements. Choisissez celui sur lequel travailler."
        )

    def option(self, school: SchoolRef) -> Option:
        return Option(Content(f"{school.uai}  {school.name}"), id=school.uai)

    def compose(self) -> ComposeResult:
        with CenterMiddle(id="picker-center"), Vertical(id="picker-panel") as panel:
            panel.border_title = self.PANEL_TITLE
            yield Static(Content(self.intro()), id="picker-intro")
            yield OptionList(
                *(self.option(school) for school in self.signed_in.identity.schools),
                id="schools",
            )
            yield Label("", id="picker-error")
        yield KeyBar()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "choose" and (self.busy or self.query_one(OptionList).highlighted is None):
            return None
        return True

    def action_choose(self) -> None:
        options = self.query_one(OptionList)
        if self.busy or options.highlighted is None:
            return
        uai = options.get_option_at_index(options.highlighted).id
        if uai is not None:
            self._choose(uai)

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        """A mouse click, or enter if the user remapped ``school_choose`` elsewhere."""
        event.stop()
        if not self.busy and event.option.id is not None:
            self._choose(event.option.id)

    def action_back(self) -> None:
        self.dismiss(None)

    def _choose(self, uai: str) -> None:
        self.busy = True
        self._show_error("")
        self.refresh_bindings()
        self._run_choice(uai)

    @work(thread=True, exclusive=True, group=CHOOSE_GROUP, exit_on_error=False)
    def _run_choice(self, uai: str) -> SchoolSession | DomainError:
        try:
            return auth.choose_school(self.services, self.signed_in, uai)
        except DomainError as error:
            return error

    @on(Worker.StateChanged)
    def _worker_done(self, event: Worker.StateChanged) -> None:
        if event.worker.group != CHOOSE_GROUP or event.state not in (
            WorkerState.SUCCESS,
            WorkerState.ERROR,
            WorkerState.CANCELLED,
        ):
            return
        self.busy = False
        self.refresh_bindings()
        outcome = event.worker.result if event.state is WorkerState.SUCCESS else None
        if isinstance(outcome, SchoolSession):
            self.dismiss(outcome)
        elif isinstance(outcome, DomainError):
            self._show_error(str(outcome))
        elif event.state is WorkerState.ERROR:
            self._show_error(f"Erreur inattendue\u00a0: {event.worker.error}")

    def _show_error(self, message: str) -> None:
        label = self.query_one("#picker-error", Label)
        label.update(Content(f"⚠ {message}") if message else Content(""))
        label.set_class(bool(message), "-shown")


class SchoolSwitchScreen(SchoolPickerScreen):
    """Changing school while signed in: the same sign-in, another school, no new code.

    Dismissed with the session on the chosen school, or None to stay; ``choose_school``
    checks the choice again and audits the change. The current school is listed but
    cannot be chosen.
    """

    BINDINGS = keys.bindings(keys.SCHOOL_SWITCH_KEYS)
    HELP_TITLE = "changement d'établissement"
    PANEL_TITLE = "Changement d'établissement"

    def __init__(self, services: Services, signed_in: SchoolSession) -> None:
        super().__init__(services, signed_in)
        self.current = signed_in.school

    def intro(self) -> str:
        return (
            f"Établissement en cours\u00a0: {self.current.label}. Choisissez celui sur "
            "lequel passer, sans vous reconnecter."
        )

    def option(self, school: SchoolRef) -> Option:
        if school == self.current:
            return Option(
                Content(f"{school.uai}  {school.name} (en cours)"), id=school.uai, disabled=True
            )
        return super().option(school)

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        schools = self.signed_in.identity.schools
        options.highlighted = next(
            (i for i, school in enumerate(schools) if school != self.current), None
        )
