"""(Re)Notifier les comptes: confirm what will happen, then run it with a progress bar.

The confirmation chooses the channel (paper, e-mail, or e-mail where an address is on
file) and whether passwords are reset (unticked: a reminder that changes nothing),
and says, recounted at each change, how many accounts go by each channel, which
documents and where they will be written; the job runs in a worker thread (hashing
uses every core) and can be cancelled, in which case the domain guarantees nothing
changed.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from rich.markup import escape
from textual import work
from textual.actions import SkipAction
from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import (
    Button,
    Checkbox,
    Input,
    Label,
    ProgressBar,
    RadioButton,
    RadioSet,
    Static,
)
from textual.worker import Worker, WorkerState

from .. import keys
from ..domain.access.caller import SchoolSession
from ..domain.accounts import notification, publishing
from ..domain.accounts.notification import (
    NotifyPreview,
    NotifyResult,
    no_address_line,
    unprintable_line,
    unreached,
)
from ..domain.accounts.selection import Selection
from ..domain.documents.files import OutputExists
from ..domain.mail import sender
from ..domain.model import french
from ..domain.model.enums import AccountKind, AccountState, NotifyChannel
from ..domain.model.errors import Cancelled, DomainError, sentences
from ..domain.store.services import Services
from ..widgets.typed_number import TypedNumber

PHASES = {
    "hachage": "Création des mots de passe provisoires",
    "documents": "Écriture des documents",
}


@dataclass(frozen=True)
class NotifyPlan:
    """What the user asked to notify, and how the dialogs name it."""

    kind: AccountKind
    selection: Selection
    scope: str  # French: "3 compte(s) coché(s)", "les comptes affichés"...

    def request(
        self,
        pdf_path: Path | None = None,
        csv_path: Path | None = None,
        *,
        channel: NotifyChannel = NotifyChannel.PAPER,
        reset: bool = True,
        activated: int = 0,
    ) -> notification.NotifyRequest:
        return notification.NotifyRequest(
            self.kind,
            self.selection,
            pdf_path,
            csv_path,
            channel=channel,
            reset=reset,
            activated_confirmed=activated,
        )


@dataclass(frozen=True)
class NotifyChoice:
    """What the confirmation settled: where paper documents go, the channel, the reset."""

    pdf_path: Path
    csv_path: Path
    channel: NotifyChannel = NotifyChannel.PAPER
    reset: bool = True
    # The activated accounts' number, typed by the person (0: none to confirm).
    activated: int = 0
    # So many accounts that the password is asked again first (``notification.sensitive``).
    sensitive: bool = False
    total: int = 0


# The channel choices, in the dialog's order.
CHANNELS = (
    (NotifyChannel.PAPER, "Courrier papier"),
    (NotifyChannel.EMAIL, "Courriel"),
    (NotifyChannel.AUTO, "Automatique (courriel si adresse, sinon papier)"),
)


class NotifyHost(Protocol):
    """The screen a notification starts from; it reloads what it shows afterwards."""

    services: Services
    signed_in: SchoolSession

    def notified(self, request: NotifyPlan, result: NotifyResult) -> None: ...


def start_notify(host: NotifyHost, request: NotifyPlan) -> None:
    """Confirm, then run, then tell ``host``: the whole (re)Notifier flow."""
    assert isinstance(host, Screen)
    app = host.app

    def confirmed(choice: NotifyChoice | None) -> None:
        if choice is None:
            return

        progress = NotifyProgressScreen(
            host.services,
            host.signed_in,
            request,
            choice.pdf_path,
            choice.csv_path,
            channel=choice.channel,
            reset=choice.reset,
            activated=choice.activated,
        )

        def done(result: NotifyResult | None) -> None:
            if result is None:
                return
            host.notified(request, result)
            if not result.emailed:
                return
            if progress.cancel_event.is_set():
                # Cancelled too late for the notification: what can still wait, waits.
                app.notify(
                    sender.waiting_line(result.emailed),
                    title="Courriels",
                    timeout=12,
                    markup=False,
                )
            else:
                send_queued(app, host.services, host.signed_in, result.emailed)

        def run() -> None:
            app.push_screen(progress, callback=done)

        before_sensitive = getattr(app, "before_sensitive", None)
        if choice.sensitive and before_sensitive is not None:
            before_sensitive(run, f"Notification de {french.count(choice.total, 'compte')}.")
        else:
            run()

    try:
        paths = notification.default_paths(host.services, host.signed_in, request.kind)
    except DomainError as error:  # e.g. the output folder cannot be created
        show_error = getattr(app, "show_error", None)
        if show_error is not None:
            show_error(error)
        return
    app.push_screen(NotifyConfirmScreen(host.services, host.signed_in, request, paths), confirmed)


def send_queued(app: App[Any], services: Services, signed_in: SchoolSession, queued: int) -> None:
    """Deliver the e-mails a notification queued, in a worker of the app: the screen it
    started from may close meanwhile, and the interface never waits for a relay. The
    domain says what happened (sent, waiting and why); a second toast shows it."""

    def deliver() -> None:
        done = sender.deliver_after_notify(services, queued, actor=signed_in.actor())
        app.call_from_thread(
            app.notify,
            "\n".join(done.lines),
            title="Courriels",
            severity="information" if done.settled else "warning",
            timeout=12,
            markup=False,
        )

    app.run_worker(deliver, thread=True, group="mail", exit_on_error=False)


def _documents(kind: AccountKind) -> str:
    if kind is AccountKind.PUPIL:
        return "fiches à découper (8 par page) et liste de classe, par classe"
    return "une lettre par représentant légal"


def _close_and_report(screen: ModalScreen[Any], error: BaseException) -> None:
    """Close the modal, then hand the error to the app's one error modal."""
    screen.dismiss(None)
    if isinstance(error, OutputExists):  # the TUI names its documents itself
        error = OutputExists(
            sentences(str(error), "Relancez la notification\u00a0: un autre nom sera choisi.")
        )
    show_error = getattr(screen.app, "show_error", None)
    if show_error is not None:
        show_error(error)


class NotifyConfirmScreen(ModalScreen[NotifyChoice | None]):
    """How many, by which channel, which documents, where: nothing is done before the
    user says so.

    Nothing has the focus while the accounts are counted, so an enter typed ahead
    reaches ``action_confirm``, which ignores it: no one confirms a count unseen. A
    change of channel or of the reset box recounts, and confirming waits for it.
    Activated accounts whose password a reset would replace (``to_confirm``) are
    confirmed by typing their number, as ``--activated N`` on the command line: the
    number of the current count, the field appearing only once it is shown.

    Enter confirms from anywhere but a button (which it presses): on the reset box or
    the channel it would otherwise toggle them, which space does.
    """

    BINDINGS = keys.bindings(keys.NOTIFY_CONFIRM_KEYS)
    AUTO_FOCUS = ""  # None would inherit the app's "*" and focus "Annuler"

    def __init__(
        self,
        services: Services,
        signed_in: SchoolSession,
        request: NotifyPlan,
        paths: tuple[Path, Path],
    ) -> None:
        super().__init__()
        self.services = services
        self.signed_in = signed_in
        self.request = request
        self.total: int | None = None
        self.counted: NotifyPreview | None = None
        self.paths = paths
        self.channel = NotifyChannel.PAPER
        self.reset = True
        self._counted_once = False

    def compose(self) -> ComposeResult:
        noun = "élèves" if self.request.kind is AccountKind.PUPIL else "représentants légaux"
        with VerticalScroll(id="notify-dialog", classes="dialog"):
            yield Label(f"(Re)notifier les comptes {noun}", classes="dialog-title")
            yield Checkbox(_reset_label(True), True, id="notify-reset", compact=True)
            with RadioSet(id="notify-channel", compact=True):
                for i, (channel, label) in enumerate(CHANNELS):
                    yield RadioButton(label, value=i == 0, name=channel.value)
            yield Static("Calcul du nombre de comptes…", id="notify-summary")
            with Horizontal(classes="dialog-buttons"):
                yield Label("", id="notify-typed-prompt")
                yield TypedNumber(id="notify-typed")
                yield Button(
                    "Notifier", variant="primary", id="notify-go", disabled=True, compact=True
                )
                yield Button("Annuler", id="notify-no", compact=True)

    def on_mount(self) -> None:
        self._ask_number(0)
        self._count()

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        self.reset = event.value
        # Said in words, not only by the box's colour.
        event.checkbox.label = _reset_label(event.value)
        self.query_one("#notify-go", Button).label = "Notifier" if event.value else "Rappeler"
        self._recount()

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        self.channel = NotifyChannel(event.pressed.name or NotifyChannel.PAPER.value)
        self._recount()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.query_one("#notify-go", Button).disabled = not self._allowed()

    def _recount(self) -> None:
        self.total = None
        self.counted = None
        self._ask_number(0)  # no number shown before its count
        self.query_one("#notify-go", Button).disabled = True
        self.query_one("#notify-summary", Static).update("Calcul du nombre de comptes…")
        self._count()

    @work(thread=True, exclusive=True, group="count", exit_on_error=False)
    def _count(self) -> None:
        request = self.request.request(channel=self.channel, reset=self.reset)
        counted = notification.preview(self.services, self.signed_in, request)
        self.app.call_from_thread(self._counted, counted)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            _close_and_report(self, event.worker.error)

    def _counted(self, counted: notification.NotifyPreview) -> None:
        if (counted.channel, counted.reset) != (self.channel, self.reset):
            return  # a count for a choice since changed: the next one is on its way
        self.total = counted.total
        self.counted = counted
        summary = self.query_one("#notify-summary", Static)
        go = self.query_one("#notify-go", Button)
        close = self.query_one("#notify-no", Button)
        typed = self._ask_number(counted.to_confirm if self.total else 0)
        if not self.total:
            summary.update(nothing_to_notify(counted, self.request.scope))
            go.display = False
            close.label = "Fermer"
            if not self._counted_once:
                close.focus()
            self._counted_once = True
            return
        go.display = True
        close.label = "Annuler"
        relayed = sender.configured(self.services.settings)
        summary.update(
            "\n".join(
                summary_lines(
                    counted, self.request.scope, self.request.kind, self.paths, relayed=relayed
                )
            )
        )
        go.disabled = not self._allowed()
        if not self._counted_once:
            (typed if typed.display else go).focus()
        self._counted_once = True

    def _ask_number(self, number: int) -> TypedNumber:
        """Show the field for ``number`` (hidden for none)."""
        prompt = self.query_one("#notify-typed-prompt", Label)
        typed = self.query_one("#notify-typed", TypedNumber)
        prompt.update(f"Tapez {number} pour confirmer\u00a0:")
        typed.expect(number)
        prompt.display = typed.display = number > 0
        return typed

    def _allowed(self) -> bool:
        """Counted, something to do, and the activated ones' number typed if any."""
        counted = self.counted
        if counted is None or not counted.total:
            return False
        return not counted.to_confirm or self.query_one("#notify-typed", TypedNumber).confirms

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "notify-go":
            self._confirm()
        else:
            self.action_cancel()

    def action_confirm(self) -> None:
        if isinstance(self.focused, Button):
            raise SkipAction()  # the button's own enter: « Annuler » cancels
        self._confirm()

    def _confirm(self) -> None:
        if self.counted is None:
            return  # still counting
        if not self.counted.total:
            self.dismiss(None)
            return
        if not self._allowed():
            self.query_one("#notify-typed", TypedNumber).focus()
            return
        pdf, csv = self.paths
        self.dismiss(
            NotifyChoice(
                pdf,
                csv,
                self.channel,
                self.reset,
                activated=self.counted.to_confirm,
                sensitive=notification.sensitive(self.services, self.counted),
                total=self.counted.total,
            )
        )

    def action_cancel(self) -> None:
        self.dismiss(None)


def _reset_label(reset: bool) -> str:
    state = "oui" if reset else "non, simple rappel"
    return f"Avec réinitialisation du mot de passe\u00a0: {state}"


def nothing_to_notify(counted: NotifyPreview, scope: str) -> str:
    """Why the confirmation has nothing to confirm, and what would change it."""
    what = "Aucun compte à notifier" if counted.reset else "Aucun rappel à envoyer"
    said = f"{what} parmi {escape(scope)}."
    n = counted.without_address
    if n:
        lacks = french.agreed(n, "n'a", "n'ont")
        said += (
            f" {french.count(n, 'compte')} {lacks} pas d'adresse "
            "électronique\u00a0: choisissez « Courrier papier » ou « Automatique » pour "
            f"{french.agreed(n, 'lui', 'leur')} écrire sur papier."
        )
    return said


def summary_lines(
    counted: NotifyPreview,
    scope: str,
    kind: AccountKind,
    paths: tuple[Path, Path],
    *,
    relayed: bool = False,
) -> list[str]:
    """What the confirmation says will happen, by channel, with or without a reset;
    ``relayed`` when the e-mails leave right after (``sender.configured``)."""
    counts = counted.by_state
    total = counted.total
    lines = [
        f"[b]{french.count(total, 'compte')}[/b]\u00a0: {escape(scope)}",
        "  " + " · ".join(f"{s.symbol} {s.label}\u00a0: {n}" for s, n in sorted(counts.items())),
    ]
    if counted.reset:
        if counted.blocked:
            blocked = counted.blocked
            lines.append(
                f"  dont [b]{french.count(blocked, 'bloqué')}[/b], "
                f"{french.agreed(blocked, 'qui sera débloqué', 'qui seront débloqués')}."
            )
        activated = counted.to_confirm
        if activated:
            lines.append(
                f"[b]⚠ {french.count(activated, 'déjà activé', 'déjà activés')}[/b]\u00a0: "
                + french.agreed(activated, "il devra être réactivé", "ils devront être réactivés")
                + "."
            )
        lines.append(
            french.agreed(
                counted.total,
                "Il reçoit un mot de passe provisoire",
                "Chacun reçoit un mot de passe provisoire",
            )
            + (
                " (l'ancien ne marchera plus)."
                if any(counts.get(s, 0) for s in (AccountState.NOTIFIED, AccountState.ACTIVATED))
                else "."
            )
        )
    else:
        lines.append(
            "Rappel de l'identifiant et des moyens d'activer ou de retrouver le mot de passe,"
            " sans réinitialisation\u00a0: [b]aucun mot de passe ne sera modifié[/b]."
        )
    if counted.emailed:
        n = counted.emailed
        sent = french.agreed(n, "envoyé", "envoyés")
        after = "la notification" if counted.reset else "le rappel"
        lines.append(
            f"Courriel\u00a0: [b]{n}[/b], {sent} juste après {after}."
            if relayed
            else f"Courriel\u00a0: [b]{n}[/b], en attente d'envoi (educonnect-tui outbox send)."
        )
    if counted.without_address:
        n = counted.without_address
        lines.append(
            f"[b]⚠ {french.count(n, 'compte sans adresse', 'comptes sans adresse')}[/b] "
            f"électronique\u00a0: {unreached(n, counted.reset)}."
        )
    if counted.deactivated:
        lines.append(notification.deactivated_line(counted.deactivated))
    if counted.on_paper:
        pdf, csv = paths
        lines += [
            f"Papier\u00a0: [b]{counted.on_paper}[/b] — {_documents(kind)}, et un tableau CSV.",
            f"Dossier\u00a0: {escape(str(pdf.parent))}/",
            f"  {escape(pdf.name)} et {escape(csv.suffix)} (lisibles par vous seul)",
        ]
    else:
        lines.append("Aucun document papier.")
    return lines


class NotifyProgressScreen(ModalScreen[NotifyResult | None]):
    """The running job: a bar per account, the phase, and a way out (escape).

    The job's outcome comes back as the worker's state change: its result, None when
    cancelled, or its error, which closes this modal before the one error modal opens
    (left open, this modal would wait forever for a job that is over).
    """

    BINDINGS = keys.bindings(keys.NOTIFY_PROGRESS_KEYS)

    def __init__(
        self,
        services: Services,
        signed_in: SchoolSession,
        request: NotifyPlan,
        pdf_path: Path,
        csv_path: Path,
        *,
        channel: NotifyChannel = NotifyChannel.PAPER,
        reset: bool = True,
        activated: int = 0,
    ) -> None:
        super().__init__()
        self.services = services
        self.signed_in = signed_in
        self.request = request
        self.pdf_path = pdf_path
        self.csv_path = csv_path
        self.channel = channel
        self.reset = reset
        self.activated = activated
        self.cancel_event = threading.Event()

    def compose(self) -> ComposeResult:
        with Vertical(id="progress-dialog", classes="dialog"):
            yield Label("Notification en cours…", classes="dialog-title")
            yield Static("Préparation…", id="progress-phase")
            yield ProgressBar(total=None, show_eta=False, id="progress-bar")
            yield Static("Échap pour annuler\u00a0: rien ne sera modifié.", id="progress-hint")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Annuler", variant="error", id="progress-cancel", compact=True)

    def on_mount(self) -> None:
        self._run()

    @work(thread=True, exclusive=True, group="notify", exit_on_error=False)
    def _run(self) -> NotifyResult | None:
        try:
            return notification.notify(
                self.services,
                self.signed_in,
                self.request.request(
                    self.pdf_path,
                    self.csv_path,
                    channel=self.channel,
                    reset=self.reset,
                    activated=self.activated,
                ),
                progress=lambda phase, done, total: self.app.call_from_thread(
                    self._progress, phase, done, total
                ),
                cancel=self.cancel_event,
            )
        except Cancelled:
            return None

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group != "notify":
            return
        if event.state is WorkerState.SUCCESS:
            result = worker.result
            if isinstance(result, NotifyResult):
                self._finished(result)
            else:
                self._cancelled()
        elif event.state is WorkerState.ERROR and worker.error is not None:
            _close_and_report(self, worker.error)

    def _progress(self, phase: str, done: int, total: int) -> None:
        if self.cancel_event.is_set():
            return
        label = PHASES.get(phase, phase)
        self.query_one("#progress-phase", Static).update(f"{label}\u00a0: {done} / {total}")
        self.query_one("#progress-bar", ProgressBar).update(total=total, progress=done)

    def _finished(self, result: NotifyResult) -> None:
        late = (
            "Annulation trop tard\u00a0: la notification était déjà enregistrée.\n"
            if self.cancel_event.is_set()
            else ""
        )
        self.app.notify(
            late + finished_message(result),
            title="Notification terminée" if self.reset else "Rappel terminé",
            timeout=10,
            markup=False,
        )
        self.dismiss(result)

    def _cancelled(self) -> None:
        self.app.notify(
            "Notification annulée\u00a0: aucun mot de passe n'a été modifié.",
            title="Annulée",
            severity="warning",
            timeout=8,
        )
        self.dismiss(None)

    def on_button_pressed(self) -> None:
        self.action_cancel()

    def action_cancel(self) -> None:
        if self.cancel_event.is_set():
            return
        self.cancel_event.set()
        self.query_one("#progress-phase", Static).update("Annulation demandée…")
        self.query_one("#progress-cancel", Button).disabled = True


def finished_message(result: NotifyResult) -> str:
    """The toast: how many, then the folder once and each file's name on its own line."""
    lines = [result.headline()]
    if result.emailed:
        lines.append(result.channel_line())
    folders = {path.parent for path in result.files}
    if len(folders) == 1:
        lines.append(f"Dans {folders.pop()}/\u00a0:")
        lines += [f"  {path.name}" for path in result.files]
    else:
        lines += [str(path) for path in result.files]
    if result.no_address:
        lines.append(no_address_line(result.no_address, result.reset))
    if result.left_out:
        lines.append(result.left_out_line())
    if result.unprintable:
        lines.append(unprintable_line(result.unprintable))
    lines += publishing.swept_lines(result.swept)
    return "\n".join(lines)
