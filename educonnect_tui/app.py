"""The Textual application: screens, app-wide keys, the command palette, worker errors.

Services are injected (``EduConnectApp(services, ...)``), never imported as globals, so
tests and snapshots build the app with the same factory as production (``create_app``).
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from importlib import resources
from pathlib import Path

from textual import actions, work
from textual.app import App, SystemCommand
from textual.command import CommandPalette
from textual.dom import DOMNode
from textual.filter import LineFilter
from textual.notifications import SeverityLevel
from textual.screen import ModalScreen, Screen
from textual.worker import Worker, WorkerState

from . import keys, process
from .domain.access import sign_in as auth
from .domain.access.caller import SchoolSession, SignedIn
from .domain.access.network import Connection, current_connection
from .domain.model.enums import Module
from .domain.store import db_errors
from .domain.store.services import Services
from .widgets import no_break, state_badge
from .widgets.palette import FrenchCommandPalette
from .widgets.safe_output import NoTerminalControl

CSS_FILE = Path(str(resources.files("educonnect_tui.styles") / "app.tcss"))
no_break.install()
DIALOG_OPEN = (
    "Fermez d'abord la fenêtre ouverte (Échap)\u00a0: elle peut afficher un mot de passe ou "
    "suivre une opération en cours."
)


class EduConnectApp(App[None]):
    CSS_PATH = CSS_FILE
    TITLE = "EduConnect — Administration des comptes"
    BINDINGS = keys.bindings(keys.APP_KEYS)
    ENABLE_COMMAND_PALETTE = True

    def __init__(
        self,
        services: Services,
        *,
        connection: Connection | None = None,
        signed_in: SignedIn | None = None,
        after_first_paint: Callable[[], None] | None = None,
    ) -> None:
        super().__init__()
        self.services = services
        self.after_first_paint = after_first_paint
        self.connection = connection or current_connection()
        self.signed_in = signed_in
        # Set by ``run_app`` only: tests never take the process's signals.
        self.stops_on_signals = False
        self._no_terminal_control = NoTerminalControl()

    def get_theme_variable_defaults(self) -> dict[str, str]:
        """The account states' shades (``$state-red``…) for the theme in use, dark or light;
        a theme that sets them wins."""
        return {
            **super().get_theme_variable_defaults(),
            **state_badge.theme_variables(self.current_theme.dark),
        }

    def get_line_filters(self) -> Sequence[LineFilter]:
        """Textual's filters, then the one no data can get past (``widgets/safe_output``)."""
        return [*super().get_line_filters(), self._no_terminal_control]

    def on_mount(self) -> None:
        if self.stops_on_signals:
            loop = asyncio.get_running_loop()
            for name in ("SIGTERM", "SIGHUP"):
                if hasattr(signal, name):
                    number = getattr(signal, name)
                    loop.add_signal_handler(number, self.stop_for_signal, number)
        if self.services.settings.keymap:
            self.set_keymap(self.services.settings.keymap)
            problems = keys.keymap_problems(self.services.settings.keymap)
            if problems:
                self.notify(problems, severity="warning", timeout=20)
        if self.signed_in is not None:
            self.enter(self.signed_in)
        else:
            from .screens.login import LoginScreen

            self.push_screen(LoginScreen(self.services, self.connection))
        if self.after_first_paint is not None:
            self.call_after_refresh(self.after_first_paint)

    def stop_for_signal(self, number: int = signal.SIGTERM) -> None:
        """SIGTERM or a hang-up: cancel running jobs, wait for them, then quit (128 + N).

        A job past its last safe point finishes; one before it changes nothing. Either
        way nothing is half done, and its hashing processes are shut down before the
        interpreter is.
        """
        for screen in self.screen_stack:
            cancel = getattr(screen, "cancel_event", None)
            if isinstance(cancel, threading.Event):
                cancel.set()

        async def quit_after_jobs() -> None:
            await self.workers.wait_for_complete()
            self.exit(return_code=128 + number)

        self.call_later(quit_after_jobs)

    def enter(self, signed_in: SignedIn) -> None:
        """After sign-in: choose the school if several, then the module's first screen.

        The dépannage module opens straight on its search (HelpdeskScreen).
        """
        self.signed_in = signed_in
        if not isinstance(signed_in, SchoolSession):
            from .screens.school_picker import SchoolPickerScreen

            self.push_screen(SchoolPickerScreen(self.services, signed_in), callback=self._chosen)
            return
        if signed_in.module is Module.DEPANNAGE:
            from .screens.helpdesk import HelpdeskScreen

            self.switch_to_home(HelpdeskScreen(self.services, signed_in))
            return
        from .screens.home import HomeScreen

        self.switch_to_home(HomeScreen(self.services, signed_in))

    def _chosen(self, signed_in: SchoolSession | None) -> None:
        if signed_in is not None:
            self.enter(signed_in)
        elif self.signed_in is not None:
            # Back to the login screen below the picker without choosing: that person left.
            self._record_sign_out(self.signed_in)
            self.signed_in = None
            from .screens.login import LoginScreen

            if not isinstance(self.screen, LoginScreen):
                self.push_screen(LoginScreen(self.services, self.connection))

    # -- leaving, changing school ---------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Sign-out once someone works on a school; a change of school for several schools."""
        if action == "sign_out":
            # Before a school is chosen, the picker's own Échap goes back to the login.
            return isinstance(self.signed_in, SchoolSession)
        if action == "switch_school":
            from .screens.school_picker import SchoolSwitchScreen

            session = self.signed_in
            return (
                isinstance(session, SchoolSession)
                and len(session.identity.schools) > 1
                and not isinstance(self.screen, SchoolSwitchScreen)
            )
        return True

    def _dialog_open(self) -> bool:
        """A dialog that may hold a password or follow a job: never closed behind one's back.

        Help, the palette and an error message hold nothing: they close with the rest.
        """
        from textual.command import CommandPalette

        from .screens.error import ErrorScreen
        from .screens.help import HelpScreen

        harmless = (HelpScreen, ErrorScreen, CommandPalette)
        return any(
            isinstance(screen, ModalScreen) and not isinstance(screen, harmless)
            for screen in self.screen_stack
        )

    def action_sign_out(self) -> None:
        """Back to an empty login screen: every screen of the session goes, with its data.

        The screens hold the session's lists, selections and caller; popping them and
        forgetting ``signed_in`` leaves nothing of the person in the app. Toasts go too
        (they may name a pupil or a file).
        """
        signed_in = self.signed_in
        if signed_in is None:
            return
        if self._dialog_open():
            self.notify(DIALOG_OPEN, severity="warning")
            return
        from .screens.login import LoginScreen

        self.signed_in = None
        while len(self.screen_stack) > 1:
            self.pop_screen()
        self.clear_notifications()
        self.push_screen(LoginScreen(self.services, self.connection))
        self._record_sign_out(signed_in)

    @work(thread=True, group="sign-out", exit_on_error=False)
    def _record_sign_out(self, signed_in: SignedIn) -> None:
        auth.sign_out(self.services, signed_in)

    def end_session(self) -> None:
        """Whoever was still signed in when the TUI stopped (quit, hang-up) is signed out,
        so a closed terminal is not shown « aussi connecté » at their next sign-in.

        Best effort, after the terminal is given back: a database out of reach then
        leaves the row open (and shown for a day at most); the cause goes to the log.
        """
        signed_in, self.signed_in = self.signed_in, None
        if signed_in is None:
            return
        try:
            auth.sign_out(self.services, signed_in)
        except Exception as error:  # leaving must not end on a traceback
            db_errors.translate(error)

    def action_switch_school(self) -> None:
        """The school picker again, for the same sign-in: no password, no new code."""
        session = self.signed_in
        if not isinstance(session, SchoolSession) or len(session.identity.schools) < 2:
            return
        if self._dialog_open():
            self.notify(DIALOG_OPEN, severity="warning")
            return
        from .screens.school_picker import SchoolSwitchScreen

        if not isinstance(self.screen, SchoolSwitchScreen):
            self.push_screen(SchoolSwitchScreen(self.services, session), callback=self._switched)

    def _switched(self, signed_in: SchoolSession | None) -> None:
        if signed_in is not None:
            self.clear_notifications()
            self.enter(signed_in)

    def switch_to_home(self, home: Screen[None]) -> None:
        # The login and picker screens are gone for good: esc must not go back to them.
        while len(self.screen_stack) > 1:
            self.pop_screen()
        self.push_screen(home)

    def action_help(self) -> None:
        from .screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """Every registry action of the screen the palette was opened on, and the app's.

        Built from the same registry as the bindings, with the keys the user's keymap
        gives. An action hidden by ``check_action`` (False) is left out; one that does not
        apply just now (None, greyed in the footer) is listed but says so.
        """
        keymap = self.services.settings.keymap
        seen: set[str] = set()
        for node in (screen, self):
            for bound in node._bindings.key_to_bindings.values():
                for binding in bound:
                    key = keys.ALL_KEYS.get(binding.id or "")
                    if key is None or key.id in seen or key.action == "command_palette":
                        continue
                    seen.add(key.id)
                    _, name, parameters = actions.parse(key.action)
                    state = node.check_action(name, parameters)
                    if state is False:
                        continue
                    shown = keys.keys_label(key, keymap)
                    help_text = f"{key.help} — touche {shown}"
                    if state is None:
                        help_text = f"Indisponible pour l'instant. {help_text}"
                    yield SystemCommand(
                        key.description, help_text, partial(self._run, node, key.action)
                    )
        yield SystemCommand("Thème", "Changer le thème de couleurs.", self.action_change_theme)

    def action_command_palette(self) -> None:
        """Textual's palette, with a French prompt."""
        if self.use_command_palette and not isinstance(self.screen, CommandPalette):
            self.push_screen(FrenchCommandPalette())

    def _run(self, target: DOMNode, action: str) -> None:
        """After the palette has closed, so the action sees its own screen focused."""

        async def run() -> None:
            if not await self.run_action(action, target):
                self.notify("Cette action ne s'applique pas pour l'instant.", severity="warning")

        self.call_later(run)

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Every toast is plain text: they quote paths, logins and names, which may hold
        « [ » (parsed as markup they crash the app). ``markup`` is ignored because
        ``Widget.notify`` always passes True."""
        del markup
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            self.show_error(event.worker.error)

    def show_error(self, error: BaseException) -> None:
        """Every worker's failure ends here, shown in French, never as a traceback."""
        from .screens.error import ErrorScreen

        message = str(db_errors.translate(error))
        if isinstance(self.screen, ErrorScreen) and self.screen.message == message:
            return  # several workers failing for the same reason: one modal
        self.push_screen(ErrorScreen(message))


def create_app(
    services: Services,
    *,
    connection: Connection | None = None,
    signed_in: SignedIn | None = None,
    after_first_paint: Callable[[], None] | None = None,
) -> EduConnectApp:
    """The one factory: production, Pilot tests and snapshots all build the app here."""
    return EduConnectApp(
        services, connection=connection, signed_in=signed_in, after_first_paint=after_first_paint
    )


def run_app(services: Services) -> int:
    """The TUI as the entry point opens it, with the process tuned for an interface."""
    process.for_interface()
    services.upgrade()
    app = create_app(services, after_first_paint=process.freeze_start_up_objects)
    app.stops_on_signals = True
    app.run()
    app.end_session()
    return 0 if app.return_code is None else int(app.return_code)
