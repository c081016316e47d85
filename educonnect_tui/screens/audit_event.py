"""One event of the journal, opened with Entrée: all of its details and all of its accounts.

The journal's row says « 400 : a.bernard, c.durand, e.faure (+397) »; this lists the
400, one page at a time read in SQL (``journal.event_accounts``), never all at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.geometry import Size
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label, Static

from .. import keys
from ..domain.access.caller import SchoolSession
from ..domain.model import french
from ..domain.model.printable import escaped
from ..domain.reports import journal as audit_log
from ..domain.reports.journal import AuditRow, EventAccount
from ..domain.store.audit_words import DetailLine
from ..domain.store.services import Services
from ..widgets import sized_table
from ..widgets.key_bar import KeyBar
from ..widgets.paging import page_key_applies
from ..widgets.worker_errors import ReportsWorkerErrors

PAGE_SIZE = 50
MAX_HEIGHT = 40
_HEADERS = ("Identifiant", "Nom", "Type", "Classe")
COLON = "\u00a0:"


@dataclass(frozen=True)
class _Page:
    number: int  # from 0
    total: int
    accounts: list[EventAccount]


def path_lines(path: str, width: int) -> list[str]:
    """A path in lines of at most ``width``, broken after its separators; a single name
    longer than a line loses its start (« … »), never its end (the suffix says the kind)."""
    width = max(width, 8)
    if len(path) <= width:
        return [path]
    lines: list[str] = []
    line = ""
    for part in re.split(r"(?<=[/\\])", path):
        if line and len(line) + len(part) > width:
            lines.append(line)
            line = ""
        line += part
    lines.append(line)
    return [piece if len(piece) <= width else "…" + piece[-(width - 1) :] for piece in lines]


def event_text(row: AuditRow, width: int = 76) -> Text:
    """When, who, from where, then each detail on its own line (labels in bold); files
    one a line, indented, each path whole within ``width``."""
    text = Text()
    lines = [
        DetailLine("Date", (row.local_time,)),
        DetailLine("Qui", (row.who,)),
        DetailLine("Depuis", (row.source,)),
        *(replace(d, label=d.label[:1].upper() + d.label[1:]) for d in row.detail_lines),
    ]
    for index, line in enumerate(lines):
        if index:
            text.append("\n")
        text.append(f"{line.label}{COLON}", style="bold")
        if not line.files:
            text.append(" " + ", ".join(line.values))
            continue
        for value in line.values:
            for piece in path_lines(value, width - len(_INDENT)):
                text.append(f"\n{_INDENT}{piece}")
    return text


_INDENT = "  "


class _Details(Static):
    """The event's details, laid out again at the width they get (paths cut to fit)."""

    def __init__(self, row: AuditRow, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.row = row

    def _text(self, width: int) -> Text:
        return event_text(self.row, width or 76)

    def render(self) -> Text:
        return self._text(self.content_size.width)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._text(width).wrap(self.app.console, max(width, 1)))


class AuditEventScreen(ReportsWorkerErrors, ModalScreen[None]):
    """An event's details and the accounts it concerned, paged; Échap back to the journal."""

    BINDINGS = keys.bindings(keys.AUDIT_EVENT_KEYS)
    HELP_TITLE = "journal d'audit"
    DEFAULT_CSS = """
    AuditEventScreen { align: center middle; }
    AuditEventScreen #event-dialog { width: 100; height: 100%; max-height: 40; padding: 0 1; }
    AuditEventScreen #event-details {
        height: auto; max-height: 50%; margin: 0 0 1 0; scrollbar-size-vertical: 1;
    }
    AuditEventScreen #event-details-text { height: auto; }
    AuditEventScreen #event-accounts { height: 1fr; }
    AuditEventScreen #event-status { height: 1; }
    """

    def __init__(self, services: Services, signed_in: SchoolSession, row: AuditRow) -> None:
        super().__init__()
        self.services = services
        self.signed_in = signed_in
        self.row = row
        self.page: _Page | None = None

    def compose(self) -> ComposeResult:
        row = self.row
        with Vertical(id="event-dialog", classes="dialog"):
            yield Label(
                f"Événement n° {row.id} · {row.action_label}",
                classes="dialog-title",
                markup=False,
            )
            with VerticalScroll(id="event-details"):
                yield _Details(row, id="event-details-text")
            table: DataTable[str] = DataTable(
                id="event-accounts", cursor_type="row", zebra_stripes=True
            )
            yield table
            yield Static("Chargement…", id="event-status")
        yield KeyBar()

    def on_mount(self) -> None:
        table = self.query_one("#event-accounts", DataTable)
        table.add_columns(*_HEADERS)
        table.display = bool(self.row.target_count)
        table.focus()
        self.load(0)

    @work(thread=True, exclusive=True, group="audit-event-page", exit_on_error=False)
    def load(self, number: int) -> None:
        total = audit_log.event_account_count(self.services, self.signed_in, self.row.id)
        number = min(max(number, 0), max((total - 1) // PAGE_SIZE, 0))
        accounts = audit_log.event_accounts(
            self.services, self.signed_in, self.row.id, offset=number * PAGE_SIZE, limit=PAGE_SIZE
        )
        self.app.call_from_thread(self._show, _Page(number, total, escaped(accounts)))

    def _show(self, page: _Page) -> None:
        self.page = page
        table = self.query_one("#event-accounts", DataTable)
        table.display = bool(page.total)
        cells = [(a.login, a.name, a.kind.label, a.division) for a in page.accounts]
        sized_table.fill(table, _HEADERS, cells, [a.login for a in page.accounts])
        # As tall as what it holds (a long list takes the screen and scrolls).
        table_lines = 1 + len(page.accounts) if page.total else 0
        # Border, padding, title, its margin, the details and theirs, the table, the status.
        details = self.query_one("#event-details-text", _Details)
        width = details.content_size.width or self._details_width()
        detail_height = details.get_content_height(self.size, self.size, width)
        fixed = 2 + 2 + 2 + 1 + 1
        # The screen less the key bar: the dialog never runs under it.
        height = min(fixed + detail_height + table_lines, MAX_HEIGHT, self.size.height - 1)
        room = height - fixed
        # Every detail when they fit beside a few accounts; otherwise the details scroll
        # and the accounts keep their header and three lines.
        table_height = min(table_lines, max(min(table_lines, 4), room - detail_height))
        self.query_one("#event-details").styles.max_height = max(room - table_height, 3)
        table.styles.height = table_height
        self.query_one("#event-dialog").styles.max_height = height
        self.query_one("#event-status", Static).update(self._status(page))
        self.refresh_bindings()

    def _details_width(self) -> int:
        """The details' width before they are laid out: the dialog's, less its frame."""
        return min(100, self.size.width * 95 // 100) - 4

    @staticmethod
    def _status(page: _Page) -> str:
        if not page.total:
            return "Aucun compte concerné par cet événement."
        if page.total == 1:
            return "1 compte concerné."
        pages = (page.total - 1) // PAGE_SIZE + 1
        first = page.number * PAGE_SIZE + 1
        last = first + len(page.accounts) - 1
        if pages == 1:
            return f"{french.count(page.total, 'compte concerné')}."
        return (
            f"{french.count(page.total, 'compte concerné')} · {first}–{last} · "
            f"page {page.number + 1}/{pages}"
            f" · PgUp/PgDn{COLON} pages"
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        page = self.page
        if page is None:
            return page_key_applies(action, None, 0, PAGE_SIZE)
        return page_key_applies(action, page.number, page.total, PAGE_SIZE)

    def action_next_page(self) -> None:
        if self.page is not None:
            self.load(self.page.number + 1)

    def action_previous_page(self) -> None:
        if self.page is not None:
            self.load(self.page.number - 1)

    def action_back(self) -> None:
        self.dismiss(None)
