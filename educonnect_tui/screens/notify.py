"""(Re)Notifier les comptes: confirm what will happen, then run it with a progress bar.

The confirmation says how many accounts, which documents and where they will be
written; the job runs in a worker thread (hashing uses every core) and can be
cancelled, in which case the domain guarantees nothing changed.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from rich.markup import escape
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Label, ProgressBar, Static
from textual.worker import Worker, WorkerState

from .. import keys
from ..domain.access.caller import SchoolSession
from ..domain.accounts import notification, publishing
from ..domain.accounts.notification import NotifyResult, unprintable_line
from ..domain.accounts.selection import Selection
from ..domain.documents.files import OutputExists
from ..domain.model import french
from ..domain.model.enums import AccountKind, AccountState
from ..domain.model.errors import Cancelled, DomainError, sentences
from ..domain.store.services import Services

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
        self, pdf_path: Path | None = None, csv_path: Path | None = None
    ) -> notification.NotifyRequest:
        return notification.NotifyRequest(self.kind, self.selection, pdf_path, csv_path)


class NotifyHost(Protocol):
    """The screen a notification starts from; it reloads what it shows afterwards."""

    services: Services
    signed_in: SchoolSession

    def notified(self, request: NotifyPlan, result: NotifyResult) -> None: ...


def start_notify(host: NotifyHost, request: NotifyPlan) -> None:
    """Confirm, then run, then tell ``host``: the whole (re)Notifier flow."""
    assert isinstance(host, Screen)
    app = host.app

    def confirmed(paths: tuple[Path, Path] | None) -> None:
        if paths is None:
            return

        def done(result: NotifyResult | None) -> None:
            if result is not None:
                host.notified(request, result)

        app.push_screen(
            NotifyProgressScreen(host.services, host.signed_in, request, *paths), callback=done
        )

    try:
        paths = notification.default_paths(host.services, host.signed_in, request.kind)
    except DomainError as error:  # e.g. the output folder cannot be created
        show_error = getattr(app, "show_error", None)
        if show_error is not None:
            show_error(error)
        return
    app.push_screen(NotifyConfirmScreen(host.services, host.signed_in, request, paths), confirmed)


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


class NotifyConfirmScreen(ModalScreen[tuple[Path, Path] | None]):
    """How many, which documents, where: nothing is done before the user says so.

    Nothing has the focus while the accounts are counted, so an enter typed ahead
    reaches ``action_confirm``, which ignores it: no one confirms a count unseen.
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
        self.paths = paths

    def compose(self) -> ComposeResult:
        noun = "élèves" if self.request.kind is AccountKind.PUPIL else "représentants légaux"
        with Vertical(id="notify-dialog", classes="dialog"):
            yield Label(f"(Re)notifier les comptes {noun}", classes="dialog-title")
            yield Static("Calcul du nombre de comptes…", id="notify-summary")
            with Horizontal(classes="dialog-buttons"):
                yield Button(
                    "Notifier", variant="primary", id="notify-go", disabled=True, compact=True
                )
                yield Button("Annuler", id="notify-no", compact=True)

    def on_mount(self) -> None:
        self._count()

    @work(thread=True, exit_on_error=False)
    def _count(self) -> None:
        counted = notification.preview(self.services, self.signed_in, self.request.request())
        self.app.call_from_thread(self._counted, counted)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            _close_and_report(self, event.worker.error)

    def _counted(self, counted: notification.NotifyPreview) -> None:
        counts = counted.by_state
        self.total = counted.total
        summary = self.query_one("#notify-summary", Static)
        if not self.total:
            summary.update(
                f"Aucun compte à notifier parmi {escape(self.request.scope)} "
                "(les comptes désactivés ne sont jamais notifiés)."
            )
            self.query_one("#notify-go", Button).display = False
            close = self.query_one("#notify-no", Button)
            close.label = "Fermer"
            close.focus()
            return
        pdf, csv = self.paths
        lines = [
            f"[b]{french.count(self.total, 'compte')}[/b]\u00a0: {escape(self.request.scope)}",
            "  " + " · ".join(f"{s.symbol} {s.label} : {n}" for s, n in sorted(counts.items())),
        ]
        if counted.blocked:
            blocked = counted.blocked
            lines.append(
                f"  dont [b]{french.count(blocked, 'bloqué')}[/b], "
                f"{french.agreed(blocked, 'qui sera débloqué', 'qui seront débloqués')}."
            )
        activated = counts.get(AccountState.ACTIVATED, 0)
        if activated:
            lines.append(
                f"[b]⚠ {french.count(activated, 'déjà activé', 'déjà activés')}[/b]\u00a0: "
                + french.agreed(activated, "il devra être réactivé", "ils devront être réactivés")
                + "."
            )
        lines += [
            "Chacun reçoit un nouveau mot de passe provisoire (l'ancien ne marchera plus).",
            f"Documents\u00a0: {_documents(self.request.kind)}, et un tableau CSV.",
            f"Dossier\u00a0: {escape(str(pdf.parent))}/",
            f"  {escape(pdf.name)} et {escape(csv.suffix)} (lisibles par vous seul)",
        ]
        summary.update("\n".join(lines))
        go = self.query_one("#notify-go", Button)
        go.disabled = False
        go.focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "notify-go":
            self.action_confirm()
        else:
            self.action_cancel()

    def action_confirm(self) -> None:
        if self.total is None:
            return  # still counting
        self.dismiss(self.paths if self.total else None)

    def action_cancel(self) -> None:
        self.dismiss(None)


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
    ) -> None:
        super().__init__()
        self.services = services
        self.signed_in = signed_in
        self.request = request
        self.pdf_path = pdf_path
        self.csv_path = csv_path
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
                self.request.request(self.pdf_path, self.csv_path),
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
            title="Notification terminée",
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
    folders = {path.parent for path in result.files}
    if len(folders) == 1:
        lines.append(f"Dans {folders.pop()}/\u00a0:")
        lines += [f"  {path.name}" for path in result.files]
    else:
        lines += [str(path) for path in result.files]
    if result.left_out:
        lines.append(result.left_out_line())
    if result.unprintable:
        lines.append(unprintable_line(result.unprintable))
    lines += publishing.swept_lines(result.swept)
    return "\n".join(lines)
