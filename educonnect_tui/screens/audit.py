"""« Journal » : the school's audit trail, newest first, filtered, one page at a time.

Thin like every screen: ``domain.audit_log`` filters and pages in SQL and checks who
may read the trail (the direction); this shows one page in a ``DataTable`` (PgUp/PgDn
load the neighbouring pages, so the table never holds more than ``PAGE_SIZE`` rows),
the filters, and, on ``v``, the chain verification run in a worker. Entrée opens the
event under the cursor (``AuditEventScreen``): all its details and all its accounts.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.markup import escape
from rich.text import Text
from textual import on, work
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Input, Select, Static

from .. import keys
from ..domain.access.caller import SchoolSession
from ..domain.model import french
from ..domain.model.calendar import parse_date
from ..domain.model.errors import InvalidInput
from ..domain.model.printable import escaped
from ..domain.reports import journal as audit_log
from ..domain.reports.journal import AuditFilter, AuditRow
from ..domain.store.audit import ChainReport
from ..domain.store.services import Services
from ..widgets import sized_table
from ..widgets.key_bar import KeyBar
from ..widgets.paging import page_key_applies
from ..widgets.worker_errors import ReportsWorkerErrors

PAGE_SIZE = 50
# What staff look for first comes first, so that 80 columns show it.
_HEADERS = ("Date", "Action", "Qui", "Comptes", "Détails", "Depuis", "N°")
FILTER_DEBOUNCE = 0.3
_DATE_FIELDS = (("audit-since", "du"), ("audit-until", "au"))


def _accounts_cell(count: int, label: str) -> str:
    """Short enough to end on screen at 80 columns, or cut with « … »: a login clipped by
    the screen's edge would read as another one (« j.thomas » for j.thomas4)."""
    if not count:
        return ""
    if count == 1:
        return label
    return _cut(f"{count}\u00a0: {label}", 12)


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


@dataclass(frozen=True)
class _Page:
    wanted: AuditFilter
    number: int  # from 0
    total: int
    rows: list[AuditRow]


class AuditScreen(ReportsWorkerErrors, Screen[None]):
    """The audit trail of the signed-in school; ``account_id`` prefills « compte »."""

    BINDINGS = keys.bindings(keys.AUDIT_KEYS)
    HELP_TITLE = "journal d'audit"
    DEFAULT_CSS = """
    AuditScreen #audit-filters { height: 1; margin: 1 0 0 0; }
    AuditScreen #audit-filters Input { width: 1fr; margin: 0 1 0 0; }
    AuditScreen #audit-filters Select { width: 2fr; margin: 0 1 0 0; }
    AuditScreen #audit-filters .date { width: 14; }
    AuditScreen #audit-message { height: auto; min-height: 1; margin: 0 0 0 1; }
    AuditScreen #audit-table { height: 1fr; }
    AuditScreen #audit-status { height: 1; margin: 0 0 0 1; }
    """

    def __init__(
        self, services: Services, signed_in: SchoolSession, account_id: int | None = None
    ) -> None:
        super().__init__()
        self.services = services
        self.signed_in = signed_in
        self.account_id = account_id
        self.wanted = AuditFilter()
        self.page: _Page | None = None
        self.verification: ChainReport | None = None
        self._timer: Timer | None = None

    # -- layout ----------------------------------------------------------------

    def compose(self) -> ComposeResult:
        school = self.signed_in.school
        yield Static(
            f"[b]Journal d'audit[/b] · {escape(school.name)} · {school.uai}",
            id="audit-header",
            markup=True,
        )
        with Horizontal(id="audit-filters"):
            yield Input(placeholder="Qui", id="audit-actor", compact=True)
            yield Select[str](
                [(label, code) for label, code in audit_log.known_actions()],
                prompt="Action\u00a0: toutes",
                id="audit-action",
                compact=True,
            )
            yield Input(placeholder="Compte", id="audit-account", compact=True)
            yield Input(placeholder="Du JJ/MM/AAAA", id="audit-since", classes="date", compact=True)
            yield Input(placeholder="Au JJ/MM/AAAA", id="audit-until", classes="date", compact=True)
        yield Static("", id="audit-message")
        table: DataTable[str | Text] = DataTable(
            id="audit-table", cursor_type="row", zebra_stripes=True
        )
        yield table
        yield Static("Chargement…", id="audit-status")
        yield KeyBar()

    def on_mount(self) -> None:
        table = self.query_one("#audit-table", DataTable)
        table.add_columns(*_HEADERS)
        table.focus()
        self._start()

    @work(thread=True, exclusive=True, group="audit-page", exit_on_error=False)
    def _start(self) -> None:
        """Resolve the account to prefill (from a detail), then load the first page."""
        login = None
        if self.account_id is not None:
            login = audit_log.account_login(self.services, self.signed_in, self.account_id)
        wanted = AuditFilter(account_login=login)
        page = self._fetch_page(wanted, 0)
        self.app.call_from_thread(self._prefilled, login, page)

    def _prefilled(self, login: str | None, page: _Page) -> None:
        if login:
            field = self.query_one("#audit-account", Input)
            with field.prevent(Input.Changed):
                field.value = login
        self._show(page)

    # -- loading ---------------------------------------------------------------

    def _fetch_page(self, wanted: AuditFilter, number: int) -> _Page:
        total = audit_log.count(self.services, self.signed_in, wanted)
        last = max((total - 1) // PAGE_SIZE, 0)
        number = min(max(number, 0), last)
        rows = audit_log.events(
            self.services, self.signed_in, wanted, offset=number * PAGE_SIZE, limit=PAGE_SIZE
        )
        return _Page(wanted, number, total, escaped(rows))

    @work(thread=True, exclusive=True, group="audit-page", exit_on_error=False)
    def load(self, wanted: AuditFilter, number: int = 0) -> None:
        page = self._fetch_page(wanted, number)
        self.app.call_from_thread(self._show, page)

    def _show(self, page: _Page) -> None:
        self.page = page
        self.wanted = page.wanted
        table = self.query_one("#audit-table", DataTable)
        cells = [
            (
                row.local_time,
                _cut(row.action_label, 32),
                # Narrow enough for the accounts to show at 80 columns; Entrée shows all.
                _cut(row.who, 12),
                _accounts_cell(row.target_count, row.targets_label),
                _cut(row.details, 60),
                _cut(row.source, 20),
                str(row.id),
            )
            for row in page.rows
        ]
        sized_table.fill(table, _HEADERS, cells, [str(row.id) for row in page.rows])
        self._update_status()
        self.refresh_bindings()

    def _update_status(self) -> None:
        page = self.page
        if page is None:
            return
        if not page.total:
            text = "Aucun événement pour ces filtres."
        else:
            pages = (page.total - 1) // PAGE_SIZE + 1
            first = page.number * PAGE_SIZE + 1
            last = first + len(page.rows) - 1
            text = (
                f"{french.count(page.total, 'événement')} · {first}–{last} · "
                f"page {page.number + 1}/{pages}"
                " · PgUp/PgDn\u00a0: pages"
            )
        self.query_one("#audit-status", Static).update(text)

    # -- filters ---------------------------------------------------------------

    def _read_filters(self) -> AuditFilter | None:
        """The filters typed; None (and a French message) when a date is not valid."""
        try:
            dates = {}
            for field_id, label in _DATE_FIELDS:
                value = self.query_one(f"#{field_id}", Input).value.strip()
                dates[field_id] = parse_date(value, f"Date « {label} »") if value else None
            action = self.query_one("#audit-action", Select).value
            wanted = AuditFilter(
                actor=self.query_one("#audit-actor", Input).value.strip() or None,
                action=action if isinstance(action, str) else None,
                account_login=self.query_one("#audit-account", Input).value.strip() or None,
                since=dates["audit-since"],
                until=dates["audit-until"],
            )
        except InvalidInput as error:
            self._message(Text(f"✗ {error}", style="bold"))
            return None
        self._message(self._verification_text())
        return wanted

    def _apply_filters(self) -> None:
        wanted = self._read_filters()
        if wanted is not None:
            self.load(wanted, 0)

    @on(Input.Changed)
    def _typed(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(FILTER_DEBOUNCE, self._apply_filters)

    @on(Input.Submitted)
    def _submitted(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        wanted = self._read_filters()
        if wanted is not None:
            self.load(wanted, 0)
            self.query_one("#audit-table", DataTable).focus()

    @on(Select.Changed, "#audit-action")
    def _action_chosen(self) -> None:
        self._apply_filters()

    # -- messages --------------------------------------------------------------

    def _message(self, text: Text | str) -> None:
        self.query_one("#audit-message", Static).update(text)

    def _verification_text(self) -> Text | str:
        report = self.verification
        if report is None:
            return ""
        symbol = "✓" if report.ok else "✗"
        return Text(f"{symbol} {report.message()}", style="bold" if not report.ok else "")

    # -- actions ---------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        page = self.page
        if page is None:
            return page_key_applies(action, None, 0, PAGE_SIZE)
        return page_key_applies(action, page.number, page.total, PAGE_SIZE)

    def action_next_page(self) -> None:
        if self.page is not None:
            self.load(self.wanted, self.page.number + 1)

    def action_previous_page(self) -> None:
        if self.page is not None:
            self.load(self.wanted, self.page.number - 1)

    def action_open(self) -> None:
        """Entrée on an event: its details and all of its accounts (``AuditEventScreen``).

        From a filter, Entrée stays the filter's (apply, or open the list of actions).
        """
        table = self.query_one("#audit-table", DataTable)
        if self.focused is not table:
            raise SkipAction()
        page = self.page
        if page is None or not page.rows or not 0 <= table.cursor_row < len(page.rows):
            return
        from .audit_event import AuditEventScreen

        self.app.push_screen(
            AuditEventScreen(self.services, self.signed_in, page.rows[table.cursor_row])
        )

    def action_focus_filters(self) -> None:
        self.query_one("#audit-actor", Input).focus()

    def action_back(self) -> None:
        """Échap: from a filter back to the list; from the list, back to where we came."""
        if isinstance(self.focused, (Input, Select)):
            self.query_one("#audit-table", DataTable).focus()
            return
        self.dismiss(None)

    def action_verify(self) -> None:
        self._message("Vérification de la chaîne…")
        self._verify()

    @work(thread=True, exclusive=True, group="audit-verify", exit_on_error=False)
    def _verify(self) -> None:
        report = audit_log.verify(self.services, self.signed_in)
        self.app.call_from_thread(self._verified, report)

    def _verified(self, report: ChainReport) -> None:
        self.verification = report
        self._message(self._verification_text())
        if not report.ok:
            self.app.notify(report.message(), title="Journal altéré", severity="error")
