"""Import SIECLE: choose the two exports, simulate, read the report, then apply.

The XML pair goes in the two fields (in either order: the domain tells them apart); a
SIECLE-like CSV imports alone, the pupils' in the first field, the guardians' in the
second.

Thin like every screen: the domain (``siecle/xml_import.py``) checks who may import,
reads and checks the files and records the audit event; this screen only runs it in
a worker, twice. « Simuler » is the dry run (nothing written); « Appliquer » is only
possible after a dry run without a rejected element, on the same files unchanged
(path, size, modification time), and imports for real. A full import that would make
more of the school's pupils leave than the school's limit allows is confirmed twice.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.markup import escape
from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import (
    Button,
    DataTable,
    Input,
    Label,
    ProgressBar,
    Static,
    TabbedContent,
    TabPane,
)
from textual.worker import Worker, WorkerState

from .. import keys
from ..domain.access.caller import SchoolSession
from ..domain.model import french
from ..domain.model.errors import Cancelled, InvalidInput
from ..domain.model.printable import for_terminal
from ..domain.siecle.guardians import import_guardians
from ..domain.siecle.pupils import import_pupils
from ..domain.siecle.report import SIECLE, Departures, ImportReport
from ..domain.siecle.xml_import import import_siecle
from ..domain.siecle.xml_reading import Cancel, Progress
from ..domain.store.services import Services
from ..widgets import sized_table
from ..widgets.key_bar import KeyBar
from ..widgets.path_input import PathInput
from ..widgets.typed_number import TypedNumber
from ..widgets.worker_errors import ReportsWorkerErrors
from .account_actions import ConfirmScreen

# The report's outcomes, one tab each, in the order the report gives them: its key,
# the tab's title, and a shorter one below ``NARROW`` columns (all six fit in 80).
OUTCOMES = (
    ("added", "Ajouts", "Ajouts"),
    ("moved", "Changements de classe", "Classes"),
    ("updated", "Mises à jour", "Mises à jour"),
    ("left", "Départs", "Départs"),
    ("reinstated", "Réintégrations", "Retours"),
)
REJECTED = ("errors", "Lignes refusées", "Refus")
NARROW = 110
HINT = "Tab ou →\u00a0: compléter le chemin · Entrée ou F5\u00a0: simuler"

# --------------------------------------------------------------------------- the domain


@dataclass(frozen=True)
class ImportFiles:
    """The two fields: SIECLE's XML pair (in either field), or one SIECLE-like CSV."""

    pupils: Path | None
    guardians: Path | None

    @property
    def paths(self) -> list[Path]:
        return [p for p in (self.pupils, self.guardians) if p is not None]


def run_import(
    services: Services,
    caller: SchoolSession,
    files: ImportFiles,
    *,
    dry_run: bool,
    allow_departures: bool,
    progress: Progress,
    cancel: Cancel,
) -> ImportReport:
    """The domain's import for these files, the departures confirmed when it asks for it.

    The CSV files import one at a time (the guardians name pupils already imported), and
    without progress: they are read whole, in one go.
    """
    paths = files.paths
    csv = [p for p in paths if p.suffix.lower() == ".csv"]
    if not csv:
        return import_siecle(
            services,
            caller,
            paths,
            dry_run=dry_run,
            progress=progress,
            cancel=cancel,
            allow_departures=allow_departures,
        )
    if len(csv) < len(paths):
        raise InvalidInput(MIXED)
    if files.pupils is not None and files.guardians is not None:
        raise InvalidInput(CSV_ONE_AT_A_TIME)
    if files.pupils is not None:
        return import_pupils(
            services, caller, csv[0], dry_run=dry_run, allow_departures=allow_departures
        )
    return import_guardians(services, caller, csv[0], dry_run=dry_run)


MIXED = (
    "Un export XML et un fichier CSV ne s'importent pas ensemble\u00a0: choisissez les deux "
    "exports XML de SIECLE, ou un seul fichier CSV."
)
CSV_ONE_AT_A_TIME = (
    "Les fichiers CSV s'importent un par un\u00a0: d'abord celui des élèves (simuler, "
    "appliquer), puis celui des responsables, seul dans son champ."
)


def departures_over_limit(report: ImportReport) -> Departures | None:
    """What the dry run says of departures beyond the limit, None when within it."""
    return report.departures if report.departures_over_limit else None


# --------------------------------------------------------------------------- files

Fingerprint = tuple[tuple[str, int, int], ...]


def fingerprint(paths: Sequence[Path]) -> Fingerprint | None:
    """The files as they are now (path, size, modification time); None if one is gone."""
    try:
        return tuple((str(p.resolve()), (st := p.stat()).st_size, st.st_mtime_ns) for p in paths)
    except OSError:
        return None


def _path(value: str) -> Path | None:
    value = value.strip()
    return Path(os.path.expanduser(value)) if value else None


# --------------------------------------------------------------------------- the screen


class ImportScreen(ReportsWorkerErrors, Screen[bool]):
    """Dismissed with True when an import was applied (the home page then reloads)."""

    BINDINGS = keys.bindings(keys.IMPORT_KEYS)
    HELP_TITLE = "import SIECLE"

    def __init__(self, services: Services, signed_in: SchoolSession) -> None:
        super().__init__()
        self.services = services
        self.signed_in = signed_in
        self.report: ImportReport | None = None
        # The files the last successful dry run read, as they were then.
        self.simulated: Fingerprint | None = None
        self.running: bool | None = None  # None: idle; else whether it is a dry run
        self.applied = False
        self.cancel_event = threading.Event()

    def compose(self) -> ComposeResult:
        school = self.signed_in.school
        yield Static(
            f"[b]Import SIECLE[/b] · {escape(school.name)} · {school.uai}",
            id="import-header",
            markup=True,
        )
        with Vertical(id="import-form"):
            with Horizontal(classes="import-row"):
                yield Label("Élèves", classes="import-label")
                yield PathInput(
                    placeholder="ElevesSansAdresses.zip ou .xml (ou un CSV des élèves)",
                    id="import-pupils",
                    compact=True,
                )
            with Horizontal(classes="import-row"):
                yield Label("Responsables", classes="import-label")
                yield PathInput(
                    placeholder="ResponsablesAvecAdresses.zip ou .xml (facultatif)",
                    id="import-guardians",
                    compact=True,
                )
            with Horizontal(id="import-actions"):
                yield Button("Simuler", variant="primary", id="import-simulate", compact=True)
                yield Button(
                    "Appliquer", variant="warning", id="import-apply", compact=True, disabled=True
                )
            yield Static(HINT, id="import-message")
            with Horizontal(id="import-progress"):
                yield ProgressBar(total=None, show_eta=False, id="import-bar")
                yield Static("", id="import-phase")
        with TabbedContent(id="import-tabs"):
            for key, title, _ in (*OUTCOMES, REJECTED):
                with TabPane(title, id=f"tab-{key}"):
                    yield DataTable(id=f"import-{key}", cursor_type="row", zebra_stripes=True)
                    if key == REJECTED[0]:
                        yield Static("", id="import-error-detail")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#import-progress").display = False
        self.query_one("#import-tabs").display = False
        self.query_one("#import-pupils", Input).focus()
        self._apply_width(self.size.width)

    def on_resize(self) -> None:
        self._apply_width(self.size.width)
        if self.report is not None:
            self._titles(self.report)

    def _apply_width(self, width: int) -> None:
        self.set_class(width < NARROW, "-narrow")

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """The row being typed in is marked without colour too (monochrome SSH, NO_COLOR).

        A class rather than ``:focus-within``, which Textual does not take back from
        the label when the focus leaves the row for a button.
        """
        for row in self.query(".import-row"):
            row.set_class(event.widget in row.children, "-current")

    def on_descendant_blur(self) -> None:
        for row in self.query(".import-row"):
            row.remove_class("-current")

    # -- state -------------------------------------------------------------------

    def _files(self) -> ImportFiles:
        return ImportFiles(
            _path(self.query_one("#import-pupils", Input).value),
            _path(self.query_one("#import-guardians", Input).value),
        )

    def _paths(self) -> list[Path]:
        return self._files().paths

    def _simulated(self) -> bool:
        """A dry run with changes and no refusal, on the files now in the fields."""
        report = self.report
        return (
            self.running is None
            and report is not None
            and report.dry_run
            and not report.errors
            and report.changed
            and self.simulated is not None
        )

    def can_apply(self) -> bool:
        """After a dry run without refusal, on the very files it read, as they were."""
        return self._simulated() and fingerprint(self._paths()) == self.simulated

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "apply":  # the files themselves are looked at when it is pressed
            return True if self._simulated() else None
        if action == "simulate":
            return True if self.running is None else None
        return True

    def _refresh_buttons(self) -> None:
        self.query_one("#import-simulate", Button).disabled = self.running is not None
        self.query_one("#import-apply", Button).disabled = not self._simulated()
        self.refresh_bindings()

    def _message(self, text: str | Text) -> None:
        self.query_one("#import-message", Static).update(text)

    # -- events ------------------------------------------------------------------

    @on(Input.Changed)
    def _paths_changed(self) -> None:
        if self.simulated is not None and self.running is None:
            self.simulated = None  # another file: simulate it first
            self._message(HINT)
        self._refresh_buttons()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_simulate()

    @on(Button.Pressed, "#import-simulate")
    def _simulate_pressed(self) -> None:
        self.action_simulate()

    @on(Button.Pressed, "#import-apply")
    def _apply_pressed(self) -> None:
        self.action_apply()

    # -- actions -----------------------------------------------------------------

    def action_simulate(self) -> None:
        if self.running is not None:
            return
        files = self._files()
        if not files.paths:
            self._message(Text("Indiquez les fichiers à importer.", "bold red"))
            self.query_one("#import-pupils", Input).focus()
            return
        self._start(files, dry_run=True, allow_departures=False)

    def action_apply(self) -> None:
        report = self.report
        if report is None or not self._simulated():
            return
        if not self.can_apply():
            self._message(
                Text("Les fichiers ont changé depuis la simulation\u00a0: simulez à nouveau.",
                     "bold red")
            )  # fmt: skip
            self.simulated = None
            self._refresh_buttons()
            return
        files = self._files()
        over = departures_over_limit(report)
        if over is None:
            self._start(files, dry_run=False, allow_departures=False)
            return

        def second(yes: bool | None) -> None:
            if yes:
                self._start(files, dry_run=False, allow_departures=True)

        def first(yes: bool | None) -> None:
            if yes:
                self.app.push_screen(DeparturesConfirmScreen(over), second)

        self.app.push_screen(
            ConfirmScreen(
                "Départs au-delà du seuil",
                f"{over.text()}. Un fichier incomplet ou d'un autre établissement "
                "désactiverait ces comptes. Continuer vers l'import\u00a0?",
                "Continuer",
            ),
            first,
        )

    def action_back(self) -> None:
        """Échap: stops a running import (nothing written), else back to the home page."""
        if self.running is not None:
            if not self.cancel_event.is_set():
                self.cancel_event.set()
                self.query_one("#import-phase", Static).update("Annulation demandée…")
            return
        self.dismiss(self.applied)

    # -- the worker --------------------------------------------------------------

    def _start(self, files: ImportFiles, *, dry_run: bool, allow_departures: bool) -> None:
        self.running = dry_run
        self.cancel_event = threading.Event()
        self.query_one("#import-progress").display = True
        self.query_one("#import-bar", ProgressBar).update(total=None, progress=0)
        self.query_one("#import-phase", Static).update("Préparation…")
        verb = "Simulation" if dry_run else "Import"
        self._message(f"{verb} en cours… Échap\u00a0: annuler (rien n'est enregistré).")
        self._refresh_buttons()
        self._run(files, fingerprint(files.paths), dry_run, allow_departures)

    @work(thread=True, exclusive=True, group="import", exit_on_error=False)
    def _run(
        self,
        files: ImportFiles,
        before: Fingerprint | None,
        dry_run: bool,
        allow_departures: bool,
    ) -> None:
        event = self.cancel_event
        try:
            report = run_import(
                self.services,
                self.signed_in,
                files,
                dry_run=dry_run,
                allow_departures=allow_departures,
                progress=lambda phase, done, total: self.app.call_from_thread(
                    self._progress, phase, done, total
                ),
                cancel=event.is_set,
            )
        except Cancelled:
            self.app.call_from_thread(self._cancelled, dry_run)
        except InvalidInput as error:
            self.app.call_from_thread(self._refused, str(error))
        else:
            if dry_run and event.is_set():  # a CSV is read in one go: its report is dropped
                self.app.call_from_thread(self._cancelled, dry_run)
            else:
                self.app.call_from_thread(self._finished, report, before)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A failure other than a refused file (refused permission, database busy): the
        error modal opens (``ReportsWorkerErrors``, called by Textual too), the run stops."""
        if event.worker.group == "import" and event.state is WorkerState.ERROR:
            self._stopped()

    def _progress(self, phase: str, done: int, total: int) -> None:
        if self.cancel_event.is_set() or self.running is None:
            return
        share = done * 100 // total if total else 100
        then = " — puis vérification des lignes" if done >= total else ""
        self.query_one("#import-phase", Static).update(f"{phase}\u00a0: {share}\u00a0%{then}")
        self.query_one("#import-bar", ProgressBar).update(total=total, progress=done)

    def _stopped(self) -> None:
        self.running = None
        self.query_one("#import-progress").display = False
        self._refresh_buttons()

    def _cancelled(self, dry_run: bool) -> None:
        self._stopped()
        what = "Simulation annulée" if dry_run else "Import annulé"
        self._message(Text(f"{what}\u00a0: rien n'a été enregistré.", "bold"))

    def _refused(self, message: str) -> None:
        """A file the domain would not read (wrong school, not XML, entities…)."""
        self._stopped()
        self.report = None
        self.simulated = None
        self.query_one("#import-tabs").display = False
        self._message(Text(for_terminal(message), "bold red"))
        self._refresh_buttons()

    def _finished(self, report: ImportReport, before: Fingerprint | None) -> None:
        late = self.cancel_event.is_set() and not report.dry_run
        self._stopped()
        self.report = report
        self.simulated = before if report.dry_run and not report.errors else None
        if not report.dry_run and not report.errors and not report.held_back:
            self.applied = True
        self._show(report)
        self._message(_headline(report, late))
        self._refresh_buttons()
        # The report, not « Appliquer »: an Entrée typed ahead must not apply it unread.
        active = self.query_one("#import-tabs", TabbedContent).active
        self.query_one(f"#import-{active.removeprefix('tab-')}", DataTable).focus()

    def _show(self, report: ImportReport) -> None:
        tabs = self.query_one("#import-tabs", TabbedContent)
        tabs.display = True
        for key, _, _ in OUTCOMES:
            table = self.query_one(f"#import-{key}", DataTable)
            rows = [[Text(for_terminal(line))] for line in getattr(report, key)]
            sized_table.fill(table, ["Élève ou responsable"], rows, _keys(rows))
        errors = self.query_one("#import-errors", DataTable)
        cells = [
            [Text(for_terminal(e.file)), Text(str(e.line)), Text(for_terminal(e.reason))]
            for e in report.errors
        ]
        sized_table.fill(errors, ["Fichier", "Ligne", "Motif"], cells, _keys(cells))
        self._error_detail(0)
        self._titles(report)
        with_lines = (f"tab-{key}" for key, _, _ in OUTCOMES if getattr(report, key))
        tabs.active = "tab-errors" if report.errors else next(with_lines, "tab-added")

    def _titles(self, report: ImportReport) -> None:
        tabs = self.query_one("#import-tabs", TabbedContent)
        narrow = self.has_class("-narrow")
        for key, title, short in (*OUTCOMES, REJECTED):
            shown = short if narrow else title
            tabs.get_tab(f"tab-{key}").label = f"{shown} ({len(getattr(report, key))})"

    @on(DataTable.RowHighlighted, "#import-errors")
    def _error_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._error_detail(event.cursor_row)

    def _error_detail(self, row: int) -> None:
        """The highlighted refusal in full, wrapped: its reason may be wider than the table."""
        errors = self.report.errors if self.report is not None else []
        detail = self.query_one("#import-error-detail", Static)
        detail.display = bool(errors)
        if 0 <= row < len(errors):
            error = errors[row]
            detail.update(Text(for_terminal(f"{error.where()}\u00a0: {error.reason}")))


def _keys(rows: Sequence[object]) -> list[str]:
    return [str(i) for i in range(len(rows))]


def _headline(report: ImportReport, late: bool) -> Text:
    """One line above the tabs: what was done, and what to do next."""
    if report.errors:
        what = "élément" if report.kind == SIECLE else "ligne"  # XML elements, CSV rows
        rejected = f"{french.count(len(report.errors), what)} en erreur"
        return Text(
            f"Import refusé\u00a0: {rejected}, rien n'a été enregistré ; "
            "corrigez dans SIECLE, puis simulez à nouveau.",
            "bold red",
        )
    if report.held_back:
        return Text(for_terminal(report.lines()[0]), "bold red")
    if report.dry_run:
        if not report.changed:
            return Text("Simulation\u00a0: aucun changement, rien à appliquer.")
        over = departures_over_limit(report)
        warning = f" ⚠ {over.text()}." if over is not None else ""
        return Text(
            f"Simulation\u00a0: rien n'a été enregistré.{warning} F8\u00a0: appliquer.",
            "bold" if over is None else "bold yellow",
        )
    prefix = "Annulation trop tard\u00a0: " if late else ""
    done = "l'import était déjà enregistré." if late else "Import enregistré."
    return Text(f"{prefix}{done}", "bold green")


class DeparturesConfirmScreen(ModalScreen[bool]):
    """The second confirmation: the number of departures, typed in, then Entrée."""

    BINDINGS = keys.bindings(keys.DEPARTURES_CONFIRM_KEYS)

    def __init__(self, over: Departures) -> None:
        super().__init__()
        self.over = over

    def compose(self) -> ComposeResult:
        n = self.over.leaving
        leave = french.agreed(n, "quittera", "quitteront")
        accounts = french.agreed(n, "son compte sera désactivé", "leurs comptes seront désactivés")
        with Vertical(classes="dialog", id="departures-dialog"):
            yield Label("Confirmer les départs", classes="dialog-title")
            yield Static(
                f"{french.count(n, 'élève')} {leave} l'établissement et {accounts}. "
                f"Tapez {n} pour confirmer.",
                classes="confirm-message",
            )
            yield TypedNumber(n, id="departures-number")
            yield Static("", id="departures-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Appliquer", variant="error", id="departures-yes", compact=True)
                yield Button("Annuler", id="departures-no", compact=True)

    def on_mount(self) -> None:
        self.query_one("#departures-number", TypedNumber).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#departures-yes")
    def _confirm(self) -> None:
        if self.query_one("#departures-number", TypedNumber).confirms:
            self.dismiss(True)
        else:
            self.query_one("#departures-error", Static).update(
                Text(f"Tapez {self.over.leaving}, le nombre de départs, pour confirmer.", "red")
            )

    @on(Button.Pressed, "#departures-no")
    def action_cancel(self) -> None:
        self.dismiss(False)
