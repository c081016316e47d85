"""The Textual application: screens, app-wide keys, the command palette, worker errors.

Services are injected (``EduConnectApp(services, ...)``), never imported as globals, so
tests and snapshots build the app with the same factory as production (``create_app``).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from functools import partial
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import actions, events, work
from textual._context import active_message_pump
from textual.app import App, ScreenStackError, SystemCommand
from textual.await_complete import AwaitComplete
from textual.command import CommandPalette
from textual.dom import DOMNode
from textual.filter import LineFilter
from textual.message_pump import MessagePump
from textual.notifications import SeverityLevel
from textual.screen import ModalScreen, Screen, ScreenResultCallbackType
from textual.widget import AwaitMount
from textual.widgets import Input
from textual.worker import Worker, WorkerState

from . import keys, process
from .domain.access import proxy, sessions
from .domain.access import sign_in as auth
from .domain.access.caller import SchoolSession, SignedIn, SignInTrace
from .domain.access.network import Connection, current_connection
from .domain.model.enums import Module
from .domain.model.errors import ConfirmationRequired, SessionEnded
from .domain.store import db_errors
from .domain.store.services import Services
from .widgets import no_break, state_badge
from .widgets.palette import FrenchCommandPalette
from .widgets.safe_output import NoTerminalControl

if TYPE_CHECKING:
    from .screens.lock import LockScreen

CSS_FILE = Path(str(resources.files("educonnect_tui.styles") / "app.tcss"))
no_break.install()
DIALOG_OPEN = (
    "Fermez d'abord la fenêtre ouverte (Échap)\u00a0: elle peut afficher un mot de passe ou "
    "suivre une opération en cours."
)
# What counts as someone at the keyboard: a key, a click, the wheel, a paste.
ACTIVITY = (
    events.Key,
    events.MouseDown,
    events.MouseScrollDown,
    events.MouseScrollUp,
    events.Paste,
)
SECRET_CLOSED = (
    "Le verrouillage a fermé une fenêtre qui affichait un mot de passe (ou une clé OTP)\u00a0: "
    "il ne sera plus affiché. S'il n'a pas été transmis, recommencez la réinitialisation."
)
CONFIRMED_RETRY = "Mot de passe confirmé\u00a0: recommencez l'action."


def boot_clock() -> float:
    """Seconds that keep counting while the machine sleeps (a laptop's lid closed), so a
    session idle through a suspend locks at once on resume; ``monotonic`` elsewhere."""
    if hasattr(time, "CLOCK_BOOTTIME"):
        return time.clock_gettime(time.CLOCK_BOOTTIME)
    return time.monotonic()


# How long a browser session may stay at the sign-in without a key before it ends.
WEB_SIGN_IN_SECONDS = 5 * 60
WEB_SIGN_IN_EXPIRED = (
    "Session fermée\u00a0: personne ne s'est connecté pendant 5 minutes. Rechargez la page."
)


class EduConnectApp(App[None]):
    CSS_PATH = CSS_FILE
    TITLE = "EduConnect — Administration des comptes"
    BINDINGS = keys.bindings(keys.APP_KEYS)
    ENABLE_COMMAND_PALETTE = True
    # How often the idle time is looked at; a key after a longer idle locks at once too.
    IDLE_CHECK_SECONDS = 1.0

    def __init__(
        self,
        services: Services,
        *,
        connection: Connection | None = None,
        signed_in: SignedIn | None = None,
        after_first_paint: Callable[[], None] | None = None,
        idle_clock: Callable[[], float] = boot_clock,
    ) -> None:
        super().__init__()
        self.services = services
        self.after_first_paint = after_first_paint
        self.connection = connection or current_connection()
        self.signed_in = signed_in
        # The idle lock: when the last key came (``idle_clock`` seconds), the lock while
        # it is up, and what the screens beneath asked to show meanwhile (after it).
        self.idle_clock = idle_clock
        self.last_activity = idle_clock()
        self.lock: LockScreen | None = None
        self._held_screens: list[tuple[Screen[Any], Any, MessagePump]] = []
        self._held_toasts: list[tuple[str, str, SeverityLevel, float | None]] = []
        # Documents for the browser that came while the lock was up (``deliver_documents``).
        self._held_documents: list[Path] = []
        # The person's other sessions already shown or said (widgets/sign_in_trace.py).
        self.other_sessions_seen: set[SignInTrace] = set()
        # Set by ``run_app`` only: tests never take the process's signals.
        self.stops_on_signals = False
        self._stopping_for_signal = False
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
        if self.is_web:
            self.services.on_published = self.deliver_documents
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
        self.set_interval(self.IDLE_CHECK_SECONDS, self.check_idle_lock)

    def deliver_documents(self, paths: tuple[Path, ...]) -> None:
        """In a browser, every document written on the server is also its download: the
        person at the browser has no other way to the file. Called from the job's thread."""
        if threading.get_ident() == self._thread_id:
            self._deliver(paths)
        else:
            self.call_from_thread(self._deliver, paths)

    def _deliver(self, paths: tuple[Path, ...]) -> None:
        """Under the lock the browser gets nothing: whoever sits at it now may not be the
        person who started the job. The documents follow the unlock, as its toasts do."""
        if self.lock is not None:
            self._held_documents.extend(paths)
            return
        for path in paths:
            self.deliver_binary(path, save_filename=path.name, open_method="download")

    def stop_for_signal(self, number: int = signal.SIGTERM) -> None:
        """SIGTERM or a hang-up: cancel running jobs, wait for them, then quit (128 + N).

        A job past its last safe point finishes; one before it changes nothing. Either
        way nothing is half done, and its hashing processes are shut down before the
        interpreter is.
        """
        if self._stopping_for_signal:  # a hang-up often comes twice (lost_terminal.py)
            return
        self._stopping_for_signal = True
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

        The dépannage module opens straight on its search (HelpdeskScreen). A temporary
        password is replaced first, before anything else (only sign-out avoids it).
        """
        self.signed_in = signed_in
        self.last_activity = self.idle_clock()
        if signed_in.password_change_required:
            from .screens.password_change import PasswordChangeScreen

            self.push_screen(
                PasswordChangeScreen(self.services, signed_in), callback=self._password_changed
            )
            return
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

    def _password_changed(self, changed: bool | None) -> None:
        """A personal password now: on to the school and the module, as after any sign-in."""
        if changed and self.signed_in is not None:
            self.enter(replace(self.signed_in, password_change_required=False))
        else:
            self._chosen(None)

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
        """Sign-out once someone works on a school; a change of school for several schools.

        Under the idle lock only quitting and signing out (« changer d'utilisateur ») are
        left: no palette, no help, no other school over it.
        """
        if self.lock is not None:
            return action in {"quit", "sign_out"}
        if action == "sign_out":
            from .screens.password_change import PasswordChangeScreen

            # Before a school is chosen, the picker's own Échap goes back to the login.
            return isinstance(self.signed_in, SchoolSession) or isinstance(
                self.screen, PasswordChangeScreen
            )
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
        if self.lock is not None:
            self.lock.change_user()
            return
        if self._dialog_open():
            self.notify(DIALOG_OPEN, severity="warning")
            return
        self._leave(signed_in, record=True)

    def _leave(self, signed_in: SignedIn | None, *, record: bool, notice: str = "") -> None:
        """Every screen of the session goes, and what was held for after the lock; then
        the login screen, with ``notice`` (why the session ended) when there is one."""
        from .screens.login import LoginScreen

        self.signed_in = None
        self.lock = None
        self._held_screens.clear()
        self._held_toasts.clear()
        self._held_documents.clear()
        self.other_sessions_seen.clear()
        while len(self.screen_stack) > 1:
            self.pop_screen()
        self.clear_notifications()
        self.push_screen(LoginScreen(self.services, self.connection, notice=notice))
        if record and signed_in is not None:
            self._record_sign_out(signed_in)

    @work(thread=True, group="sign-out", exit_on_error=False)
    def _record_sign_out(self, signed_in: SignedIn) -> None:
        auth.sign_out(self.services, signed_in)

    # -- the idle lock ----------------------------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        """Every key, click and paste, as it reaches the app and before any widget: the
        time of the last one. One that comes after the idle delay (a timer is late, the
        machine slept) locks instead of acting on the screen it would have reached."""
        if isinstance(event, ACTIVITY) and not event.is_forwarded:
            if self.lock is None and self._idle_due():
                self.lock_now()
                return
            self.last_activity = self.idle_clock()
        await super().on_event(event)

    def _idle_due(self) -> bool:
        limit = self.services.settings.idle_lock_minutes * 60
        return self.signed_in is not None and self.idle_clock() - self.last_activity >= limit

    def check_idle_lock(self) -> None:
        if self.lock is None and self._idle_due():
            self.lock_now()
        elif self._unsigned_web_session_due():
            self.exit(return_code=0, message=WEB_SIGN_IN_EXPIRED)

    def _unsigned_web_session_due(self) -> bool:
        """A browser tab left at the sign-in: it holds one of serve's few sessions
        (``--max-sessions``), so it ends, and anyone holding many open would not keep
        staff out for long."""
        return (
            self.is_web
            and self.signed_in is None
            and self.idle_clock() - self.last_activity >= WEB_SIGN_IN_SECONDS
        )

    def lock_now(self) -> None:
        """Cover everything with the lock; no once-shown secret stays behind it.

        Screens marked ``HOLDS_SECRET`` are closed first (with what was opened over
        them), toasts go, password fields beneath are emptied. Jobs keep running.
        """
        signed_in = self.signed_in
        if signed_in is None or self.lock is not None:
            return
        from .screens.lock import LockScreen

        closed = self._close_secrets()
        self.clear_notifications()
        for screen in self.screen_stack:
            for field in screen.query(Input):
                if field.password:
                    field.value = ""
        self.lock = LockScreen(self.services, signed_in, self.services.settings.idle_lock_minutes)
        super().push_screen(self.lock)
        if closed:  # said after the unlock, to the person who saw it
            self.notify(SECRET_CLOSED, severity="warning", timeout=20)

    def _close_secrets(self) -> bool:
        """Close every screen holding a secret, the screens over it first (no callback
        of theirs runs: they are help, the palette, an error over the secret); whether
        there was one."""
        closed = False
        while True:
            stack = self._screen_stack
            secret = next((s for s in reversed(stack) if getattr(s, "HOLDS_SECRET", False)), None)
            if secret is None:
                return closed
            while self._screen_stack[-1] is not secret:
                self.pop_screen()
            secret.dismiss(None)
            closed = True

    def unlock(self) -> None:
        """The right password: the screens as they were, then what arrived meanwhile."""
        lock = self.lock
        if lock is None:
            return
        self.lock = None
        self.last_activity = self.idle_clock()
        if self._screen_stack[-1] is lock:
            self.pop_screen()
        held, self._held_screens = self._held_screens, []
        for screen, callback, requester in held:
            token = active_message_pump.set(requester)
            try:
                self.push_screen(screen, callback)
            finally:
                active_message_pump.reset(token)
        toasts, self._held_toasts = self._held_toasts, []
        for message, title, severity, timeout in toasts:
            self.notify(message, title=title, severity=severity, timeout=timeout)
        documents, self._held_documents = self._held_documents, []
        if documents:
            self._deliver(tuple(documents))

    def jobs_running(self) -> bool:
        """A worker of the session still at work beneath the lock (a notification, an import)."""
        return any(
            worker.state in (WorkerState.PENDING, WorkerState.RUNNING)
            and worker.node is not self.lock
            and worker.group != "sign-out"
            for worker in self.workers
        )

    def sign_out_from_lock(self) -> None:
        """« Changer d'utilisateur »: jobs are asked to stop and waited for, then sign-out."""
        signed_in = self.signed_in
        if self._stopping_for_signal:  # a hang-up often comes twice (lost_terminal.py)
            return
        self._stopping_for_signal = True
        for screen in self.screen_stack:
            cancel = getattr(screen, "cancel_event", None)
            if isinstance(cancel, threading.Event):
                cancel.set()

        async def after_jobs() -> None:
            await self.workers.wait_for_complete()
            if self.signed_in is signed_in:
                self._leave(signed_in, record=True)

        if self.jobs_running():
            self.call_later(after_jobs)
        else:
            self._leave(signed_in, record=True)

    def session_ended(self, reason: str) -> None:
        """The domain refused the session (signed out elsewhere, account disabled): back to
        the login screen, saying why. Jobs are asked to stop; the domain refuses them anyway."""
        if self.signed_in is None:
            return
        if self._stopping_for_signal:  # a hang-up often comes twice (lost_terminal.py)
            return
        self._stopping_for_signal = True
        for screen in self.screen_stack:
            cancel = getattr(screen, "cancel_event", None)
            if isinstance(cancel, threading.Event):
                cancel.set()
        self._leave(self.signed_in, record=False, notice=reason)

    def push_screen(
        self,
        screen: Screen[Any] | str,
        callback: ScreenResultCallbackType[Any] | None = None,
        wait_for_dismiss: bool = False,
        *,
        mode: str | None = None,
    ) -> Any:
        """Under the lock, nothing is drawn over it: a screen a job opens (its result, an
        error, a new password) waits and opens once the lock is gone."""
        if self.lock is not None and isinstance(screen, Screen) and not wait_for_dismiss:
            requester = active_message_pump.get(None) or self
            self._held_screens.append((screen, callback, requester))
            return AwaitMount(screen, [])
        return super().push_screen(screen, callback, wait_for_dismiss, mode=mode)  # type: ignore[call-overload]

    def pop_screen(self) -> AwaitComplete:
        """Under the lock, a screen closing itself (a dialog whose job ended) is the one
        just beneath the lock, never the lock."""
        stack = self._screen_stack
        lock = self.lock
        if lock is None or not stack or stack[-1] is not lock:
            return super().pop_screen()
        if len(stack) <= 2:
            raise ScreenStackError("Nothing beneath the lock to close.")
        beneath = stack.pop(-2)
        beneath._pop_result_callback()
        return AwaitComplete(self._replace_screen(beneath)).call_next(self)

    def before_sensitive(self, then: Callable[[], None], what: str = "") -> None:
        """Run ``then``, a sensitive action, at once when the password was confirmed within
        ``reauth_minutes``; else ask for it first. The domain checks again
        (``ConfirmationRequired``): this only spares the person a refusal."""
        signed_in = self.signed_in
        if not isinstance(signed_in, SchoolSession):
            return

        def check() -> None:
            due = sessions.confirmation_due(self.services, signed_in)
            if due:
                self.call_from_thread(self.ask_password, sessions.CONFIRMATION_REQUIRED, then, what)
            else:
                self.call_from_thread(then)

        self.run_worker(check, thread=True, group="confirmation-due", exit_on_error=False)

    def ask_password(
        self, reason: str, then: Callable[[], None] | None = None, what: str = ""
    ) -> None:
        """The password again before a sensitive action (``sessions.confirmation_due``), or
        after the domain asked for it (``ConfirmationRequired``): ``then`` runs once it is
        confirmed, or the person is told to do the action again."""
        from .screens.confirm_password import ConfirmPasswordScreen

        signed_in = self.signed_in
        if signed_in is None or isinstance(self.screen, ConfirmPasswordScreen):
            return

        def confirmed(yes: bool | None) -> None:
            if not yes:
                return
            if then is not None:
                then()
            else:
                self.notify(CONFIRMED_RETRY)

        self.push_screen(ConfirmPasswordScreen(self.services, signed_in, reason, what), confirmed)

    def end_session(self) -> None:
        """Whoever was still signed in when the TUI stopped (quit, hang-up) is signed out,
        so a closed terminal is not shown « une autre session est ouverte » at their next sign-in.

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

        if self.lock is None and not isinstance(self.screen, HelpScreen):
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
        if (
            self.lock is None
            and self.use_command_palette
            and not isinstance(self.screen, CommandPalette)
        ):
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
        if self.lock is not None:  # a toast may name a pupil or a file: after the lock
            self._held_toasts.append((message, title, severity, timeout))
            return
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            self.show_error(event.worker.error)

    def show_error(self, error: BaseException) -> None:
        """Every worker's failure ends here, shown in French, never as a traceback."""
        from .screens.error import ErrorScreen

        translated = db_errors.translate(error)
        message = str(translated)
        if isinstance(translated, SessionEnded):
            self.session_ended(message)
            return
        if isinstance(translated, ConfirmationRequired):
            self.ask_password(message)
            return
        waiting = [held for held, _, _ in self._held_screens] if self.lock is not None else []
        if any(
            isinstance(screen, ErrorScreen) and screen.message == message
            for screen in (self.screen, *waiting)
        ):
            return  # several workers failing for the same reason: one modal
        self.push_screen(ErrorScreen(message))


def create_app(
    services: Services,
    *,
    connection: Connection | None = None,
    signed_in: SignedIn | None = None,
    after_first_paint: Callable[[], None] | None = None,
    idle_clock: Callable[[], float] = boot_clock,
) -> EduConnectApp:
    """The one factory: production, Pilot tests and snapshots all build the app here."""
    return EduConnectApp(
        services,
        connection=connection,
        signed_in=signed_in,
        after_first_paint=after_first_paint,
        idle_clock=idle_clock,
    )


def run_app(services: Services) -> int:
    """The TUI as the entry point opens it, with the process tuned for an interface."""
    process.for_interface()
    services.upgrade()
    app = create_app(
        services,
        # Under ``serve``, the browser's connection as the server decided it (access/proxy.py).
        connection=proxy.from_environment(os.environ),
        after_first_paint=process.freeze_start_up_objects,
    )
    app.stops_on_signals = True
    if sys.platform != "win32":
        from textual.drivers.linux_driver import LinuxDriver

        from .lost_terminal import SurvivingLinuxDriver

        # A browser session (textual-serve's web driver) keeps its own driver.
        if app.driver_class is LinuxDriver:
            app.driver_class = SurvivingLinuxDriver
    app.run()
    app.end_session()
    return 0 if app.return_code is None else int(app.return_code)
