"""A virtual table of accounts: only the rows on screen (plus a margin) exist in memory.

The table asks the domain ``Listing`` for a count and for pages of rows, in worker
threads; rows not loaded yet are drawn as a placeholder and appear when their page
arrives. Scrolling a list of 8,000 (or 800,000) accounts therefore costs a page query,
never a table load.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ..domain.accounts.listing import GuardianRow, Listing, ListQuery, PupilRow, Row, SortKey
from ..domain.model.calendar import date_text
from ..domain.model.enums import AccountKind
from ..domain.model.printable import escaped
from .state_badge import state_text
from .worker_errors import ReportsWorkerErrors

PAGE_SIZE = 64
KEPT_PAGES_AROUND = 1


def _date(value: dt.date | None) -> str:
    return "—" if value is None else date_text(value)


@dataclass(frozen=True)
class Column:
    title: str
    width: int
    sort: SortKey | None
    cell: Callable[[Row], Text | str]


def _pupil(row: Row) -> PupilRow:
    assert isinstance(row, PupilRow)
    return row


def _guardian(row: Row) -> GuardianRow:
    assert isinstance(row, GuardianRow)
    return row


def _state(kind: AccountKind) -> Callable[[Row], Text]:
    return lambda row: state_text(row.state, kind, blocked=row.blocked)


PUPIL_COLUMNS = (
    Column("État", 14, SortKey.STATE, _state(AccountKind.PUPIL)),
    Column("Nom", 18, SortKey.LAST_NAME, lambda r: _pupil(r).last_name),
    Column("Prénom", 14, SortKey.FIRST_NAME, lambda r: _pupil(r).first_name),
    Column("Classe", 7, SortKey.DIVISION, lambda r: _pupil(r).division),
    Column("Identifiant", 18, SortKey.LOGIN, lambda r: _pupil(r).login),
    Column("Né(e) le", 10, SortKey.BIRTH_DATE, lambda r: _date(_pupil(r).birth_date)),
    Column("Notifié le", 10, SortKey.NOTIFIED_AT, lambda r: _date(_pupil(r).notified_on)),
    Column("Activé le", 10, SortKey.ACTIVATED_AT, lambda r: _date(_pupil(r).activated_on)),
)
GUARDIAN_COLUMNS = (
    Column("État", 14, SortKey.STATE, _state(AccountKind.GUARDIAN)),
    Column("Nom", 18, SortKey.LAST_NAME, lambda r: _guardian(r).last_name),
    Column("Prénom", 14, SortKey.FIRST_NAME, lambda r: _guardian(r).first_name),
    Column("Enfants", 30, None, lambda r: ", ".join(_guardian(r).children)),
    Column("Contact", 30, None, lambda r: _guardian(r).contact),
    Column(
        "Activation",
        16,
        SortKey.METHOD,
        lambda r: _guardian(r).method.label if _guardian(r).method else "—",  # type: ignore[union-attr]
    ),
    Column("Notifié le", 10, SortKey.NOTIFIED_AT, lambda r: _date(_guardian(r).notified_on)),
)
COLUMNS = {AccountKind.PUPIL: PUPIL_COLUMNS, AccountKind.GUARDIAN: GUARDIAN_COLUMNS}
MARK_WIDTH = 2
GAP = 1


def with_arrow(title: str, arrow: str, width: int) -> str:
    """The sort arrow always shows: the title gives way (« Classe▲ », « Identi… ▲»)."""
    for candidate in (f"{title} {arrow}", f"{title}{arrow}"):
        if len(candidate) <= width:
            return candidate
    return f"{title[: max(width - 2, 0)]}…{arrow}"


class AccountTable(ReportsWorkerErrors, ScrollView, can_focus=True):
    """Accounts of one kind, filtered by a ``ListQuery``; selection is a set of account ids."""

    DEFAULT_CSS = """
    AccountTable { height: 1fr; }
    AccountTable > .account-table--header { text-style: bold; background: $panel; }
    AccountTable > .account-table--cursor { background: $accent 40%; text-style: bold; }
    AccountTable:focus > .account-table--cursor { background: $accent; color: $text; }
    AccountTable > .account-table--placeholder { color: $text-muted; }
    AccountTable > .account-table--selected { text-style: bold; }
    """
    COMPONENT_CLASSES = {
        "account-table--header",
        "account-table--cursor",
        "account-table--placeholder",
        "account-table--selected",
    }
    BINDINGS = [
        Binding("up", "cursor(-1)", show=False),
        Binding("down", "cursor(1)", show=False),
        Binding("pageup", "page(-1)", show=False),
        Binding("pagedown", "page(1)", show=False),
        Binding("home", "jump(0)", show=False),
        Binding("end", "jump(-1)", show=False),
    ]

    cursor: reactive[int] = reactive(0, repaint=False)  # watch_cursor repaints two lines

    class Counted(Message):
        def __init__(self, table: AccountTable, total: int) -> None:
            super().__init__()
            self.table = table
            self.total = total

    class Highlighted(Message):
        def __init__(self, table: AccountTable, row: Row | None) -> None:
            super().__init__()
            self.table = table
            self.row = row

    def __init__(
        self,
        listing: Listing,
        query: ListQuery,
        selected: set[int],
        *,
        id: str | None = None,
        load_on_mount: bool = True,
    ) -> None:
        super().__init__(id=id)
        self._listing = listing
        self.query_ = query
        self.selected = selected
        self.total: int | None = None
        self._generation = 0
        # The last query whose rows were drawn (not just fetched): what a person sees.
        self.painted_generation = -1
        self._pages: dict[int, list[Row]] = {}
        self._loading: set[tuple[int, int]] = set()
        self.columns = COLUMNS[query.kind]
        # A table in a hidden tab counts nothing until shown (``ensure_loaded``): its
        # queries would only compete with the visible one's.
        self._stale = not load_on_mount

    # -- loading ---------------------------------------------------------------

    def on_mount(self) -> None:
        self.set_query(self.query_, defer=self._stale)

    def set_query(
        self, query: ListQuery, *, keep_cursor: bool = False, defer: bool = False
    ) -> None:
        """Show another filter or sort: forget every page, count again, load the top.

        ``defer``: only remember the query; the table loads when ``ensure_loaded`` is called.
        """
        self.query_ = query
        self._generation += 1
        self._pages.clear()
        self._loading.clear()
        self.total = None
        if not keep_cursor:
            self.cursor = 0
            self.scroll_to(y=0, animate=False)
        self._stale = defer
        if defer:
            self.refresh()
            return
        generation = self._generation
        first_page = self.cursor // PAGE_SIZE
        self._loading.add((generation, first_page))
        self.run_worker(
            lambda: self._fetch_count(generation, query, first_page),
            thread=True,
            group="count",
            exclusive=True,
            exit_on_error=False,
            name="count",
        )
        self.refresh()

    def reload(self) -> None:
        self.set_query(self.query_, keep_cursor=True, defer=self._stale)

    def ensure_loaded(self) -> None:
        """Load a table whose query was deferred (its tab is now shown)."""
        if self._stale:
            self.set_query(self.query_, keep_cursor=True)

    def _fetch_count(self, generation: int, query: ListQuery, page: int) -> None:
        """The count and the page under the cursor in one trip: no wait for a repaint."""
        total, rows = self._listing.counted_page(query, page * PAGE_SIZE, PAGE_SIZE)
        # The page first: the count's highlight then already names the row under the cursor.
        self.app.call_from_thread(self._page_arrived, generation, page, rows)
        self.app.call_from_thread(self._count_arrived, generation, total)

    def _count_arrived(self, generation: int, total: int) -> None:
        if generation != self._generation:
            return
        self.total = total
        self.virtual_size = Size(self._content_width(), total + 1)
        self.cursor = min(self.cursor, max(total - 1, 0))
        self.post_message(self.Counted(self, total))
        self.refresh()
        self._post_highlight()

    def _request_page(self, page: int) -> None:
        key = (self._generation, page)
        if page in self._pages or key in self._loading:
            return
        self._loading.add(key)
        generation, query = self._generation, self.query_
        self.run_worker(
            lambda: self._fetch_page(generation, query, page),
            thread=True,
            group="pages",
            exit_on_error=False,
            name=f"page {page}",
        )

    def _fetch_page(self, generation: int, query: ListQuery, page: int) -> None:
        rows = self._listing.page(query, page * PAGE_SIZE, PAGE_SIZE)
        self.app.call_from_thread(self._page_arrived, generation, page, rows)

    def _page_arrived(self, generation: int, page: int, rows: list[Row]) -> None:
        self._loading.discard((generation, page))
        if generation != self._generation:
            return
        self._pages[page] = escaped(rows)
        self._evict()
        self.refresh()
        if self.cursor // PAGE_SIZE == page:
            self._post_highlight()

    def _visible_pages(self) -> range:
        top = int(self.scroll_y)
        first = max(top // PAGE_SIZE - KEPT_PAGES_AROUND, 0)
        last = (top + self.size.height) // PAGE_SIZE + KEPT_PAGES_AROUND
        return range(first, last + 1)

    def _evict(self) -> None:
        """Keep only the pages around the viewport and the cursor: a screenful plus a margin."""
        keep = set(self._visible_pages()) | {self.cursor // PAGE_SIZE}
        for page in list(self._pages):
            if page not in keep:
                del self._pages[page]

    @property
    def loaded_rows(self) -> int:
        return sum(len(rows) for rows in self._pages.values())

    def row_at(self, index: int) -> Row | None:
        rows = self._pages.get(index // PAGE_SIZE)
        if rows is None:
            return None
        offset = index % PAGE_SIZE
        return rows[offset] if offset < len(rows) else None

    @property
    def current_row(self) -> Row | None:
        return self.row_at(self.cursor) if self.total else None

    # -- cursor ----------------------------------------------------------------

    def watch_cursor(self, old: int, new: int) -> None:
        top = int(self.scroll_y)
        self._scroll_cursor_into_view()
        if int(self.scroll_y) == top:
            # Only the two rows whose highlight moved (row i is virtual line i + 1, under
            # the header): a key press then costs a few ms, even while a job runs.
            self.refresh_line(old + 1)
            self.refresh_line(new + 1)
        else:
            self.refresh()
        self._post_highlight()

    def _post_highlight(self) -> None:
        self.post_message(self.Highlighted(self, self.current_row))

    def _visible_rows(self) -> int:
        """Rows that show, under the header and above the horizontal scroll bar (a row
        under the bar would have the cursor on a line nobody sees)."""
        return max(self.scrollable_content_region.height - 1, 1)

    def _scroll_cursor_into_view(self) -> None:
        visible = self._visible_rows()
        top = int(self.scroll_y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + visible:
            self.scroll_to(y=self.cursor - visible + 1, animate=False)

    def action_cursor(self, delta: int) -> None:
        if self.total:
            self.cursor = max(0, min(self.total - 1, self.cursor + delta))

    def action_page(self, direction: int) -> None:
        self.action_cursor(direction * max(self._visible_rows() - 1, 1))

    def action_jump(self, index: int) -> None:
        if self.total:
            self.cursor = self.total - 1 if index < 0 else index

    # -- rendering -------------------------------------------------------------

    def _content_width(self) -> int:
        return MARK_WIDTH + sum(c.width + GAP for c in self.columns)

    def _cells(self, texts: list[Text | str], base: Style, *, plain: bool = False) -> list[Segment]:
        """The row's cells, each cut to its column; ``plain`` (the cursor's row) drops the
        cells' own colours, which would blend into the cursor's background."""
        segments: list[Segment] = []
        console = self.app.console
        for column, value in zip(self.columns, texts, strict=True):
            text = value if isinstance(value, Text) else Text(value)
            text = text.copy()
            text.truncate(column.width, overflow="ellipsis", pad=True)
            text.append(" " * GAP)
            own = console.get_style(text.style)  # a Text's own style is not in its spans
            segments.extend(Segment.apply_style(text.render(console), own))
        return [
            Segment(s.text, base + (s.style.without_color if plain else s.style))
            if s.style
            else Segment(s.text, base)
            for s in segments
        ]

    def _header(self, width: int) -> Strip:
        style = self.get_component_rich_style("account-table--header")
        titles: list[Text | str] = []
        for column in self.columns:
            title = column.title
            if column.sort is not None and column.sort is self.query_.sort:
                title = with_arrow(title, "▼" if self.query_.descending else "▲", column.width)
            titles.append(title)
        strip = Strip([Segment(" " * MARK_WIDTH, style), *self._cells(titles, style)])
        return strip.crop_extend(int(self.scroll_x), int(self.scroll_x) + width, style)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y == 0:
            return self._header(width)
        index = int(self.scroll_y) + y - 1
        base = self.rich_style
        if self.total is None:
            if y == 1:
                placeholder = self.get_component_rich_style("account-table--placeholder")
                return Strip([Segment("  Chargement…", placeholder)]).extend_cell_length(
                    width, placeholder
                )
            return Strip.blank(width, base)
        if self.total == 0:
            self.painted_generation = self._generation
            if y == 1:
                placeholder = self.get_component_rich_style("account-table--placeholder")
                text = "  Aucun compte ne correspond aux filtres."
                return Strip([Segment(text, placeholder)]).extend_cell_length(width, placeholder)
            return Strip.blank(width, base)
        if index >= self.total:
            return Strip.blank(width, base)
        row = self.row_at(index)
        on_cursor = index == self.cursor
        cursor = self.get_component_rich_style("account-table--cursor")
        if row is None:
            self._request_page(index // PAGE_SIZE)
            placeholder = self.get_component_rich_style("account-table--placeholder")
            if on_cursor:
                placeholder += cursor
            strip = Strip([Segment("▶ …" if on_cursor else "  …", placeholder)])
            return strip.extend_cell_length(width, placeholder)
        self.painted_generation = self._generation
        ticked = row.account_id in self.selected
        style = base
        if ticked:
            style += self.get_component_rich_style("account-table--selected")
        if on_cursor:
            # Last, so that neither the tick's style nor a state's colour can hide it.
            style += cursor
        mark = ("▶" if on_cursor else " ") + ("●" if ticked else " ")
        cells = self._cells([c.cell(row) for c in self.columns], style, plain=on_cursor)
        segments = [Segment(mark, style), *cells]
        return Strip(segments).crop_extend(int(self.scroll_x), int(self.scroll_x) + width, style)

    def on_resize(self) -> None:
        if self.total is not None:
            self.virtual_size = Size(self._content_width(), self.total + 1)
