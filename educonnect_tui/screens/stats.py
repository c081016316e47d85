"""`s`: the statistics panel — where activation stands, and which classes to chase.

Thin like every screen: the figures come from ``domain.stats`` (SQL aggregates), computed
in a worker, and ``stats_sections`` lays them out. It refreshes itself every few seconds
so a colleague's notification or a pupil's activation shows up while it is open, and it
repaints only when a figure changed (no flicker, the cursor stays on its class).
"""

from __future__ import annotations

from rich.markup import escape
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.coordinate import Coordinate
from textual.geometry import Region
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable, Static
from textual.worker import Worker

from .. import keys
from ..domain.access.caller import SchoolSession
from ..domain.accounts import publishing
from ..domain.reports.class_figures import ClassSort, ClassStats, sort_classes
from ..domain.reports.figures import SchoolStats, school_stats
from ..domain.reports.stats_pdf import ExportResult, export_stats
from ..domain.store.services import Services
from ..widgets.key_bar import KeyBar
from ..widgets.worker_errors import ReportsWorkerErrors
from .stats_sections import (
    activity_text,
    add_class_columns,
    class_cell,
    class_row,
    classes_title,
    fill_pass_table,
    pass_culture_text,
    pass_more_text,
    side_text,
    states_text,
    title_markup,
)

REFRESH_SECONDS = 3.0
NARROW = 110
SORTS = tuple(ClassSort)


class StatsScreen(ReportsWorkerErrors, Screen[str | None]):
    """Dismissed with the name of a class (enter on its row) for the home page to show it."""

    BINDINGS = keys.bindings(keys.STATS_KEYS)

    def __init__(self, services: Services, signed_in: SchoolSession) -> None:
        super().__init__()
        self.services = services
        self.signed_in = signed_in
        self.stats: SchoolStats | None = None
        self.sort = ClassSort.SCHOOL
        self.descending = False
        self._worker: Worker[None] | None = None
        self._class_cells: dict[str, tuple[str, ...]] = {}
        self._bar_width = 0

    # -- layout ----------------------------------------------------------------

    def compose(self) -> ComposeResult:
        school = self.signed_in.school
        yield Static(
            f"[b]Statistiques[/b] · {escape(school.name)} · {school.uai}",
            id="stats-title",
            markup=True,
        )
        body = VerticalScroll(id="stats-body")
        body.can_focus = False  # the two tables take the focus; the page follows them
        with body:
            yield Static("Calcul des statistiques…", id="stats-loading")
            with Horizontal(id="stats-top"):
                yield Static("", id="stats-states")
                yield Static("", id="stats-side")
            yield Static("", id="stats-classes-title", classes="stats-section")
            yield DataTable(id="stats-classes", cursor_type="row", zebra_stripes=True)
            yield Static("", id="stats-activity")
            yield Static("", id="stats-pass-title", classes="stats-section")
            yield DataTable(id="stats-pass", cursor_type="row", zebra_stripes=True)
            yield Static("", id="stats-pass-more")
        yield KeyBar()

    def on_mount(self) -> None:
        self._apply_width(self.size.width)
        self.set_focus(self.query_one("#stats-classes", DataTable))
        self._load()
        self.set_interval(REFRESH_SECONDS, self._tick, name="stats-refresh")
        # The states are drawn in the theme's shades: drawn again when it changes.
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._redraw())

    def _redraw(self) -> None:
        if self.stats is not None:
            self.query_one("#stats-states", Static).update(states_text(self.stats))
            self._show_classes(self.stats, rebuild=True)
            self._show_pass_culture(self.stats)

    def on_resize(self) -> None:
        self._apply_width(self.size.width)

    def _apply_width(self, width: int) -> None:
        self.set_class(width < NARROW, "-narrow")
        bar_width = 6 if width < NARROW else 12
        if bar_width != self._bar_width:
            self._bar_width = bar_width
            if self.stats is not None:
                self._show_classes(self.stats, rebuild=True)
                self._show_activity(self.stats)

    # -- loading ---------------------------------------------------------------

    def _tick(self) -> None:
        """Every few seconds; skipped while the previous computation still runs."""
        if self._worker is None or self._worker.is_finished:
            self._load()

    def _load(self) -> None:
        self._worker = self._compute()

    @work(thread=True, exclusive=True, group="stats", exit_on_error=False)
    def _compute(self) -> None:
        stats = school_stats(self.services, self.signed_in)
        self.app.call_from_thread(self._show, stats)

    def _show(self, stats: SchoolStats) -> None:
        """Repaint only what changed: nothing at all when no figure moved."""
        if stats.same_figures(self.stats):
            return
        first = self.stats is None
        self.stats = stats
        with self.app.batch_update():
            self.query_one("#stats-loading").display = False
            self._show_title(stats)
            self.query_one("#stats-states", Static).update(states_text(stats))
            self.query_one("#stats-side", Static).update(side_text(stats))
            self._show_classes(stats, rebuild=first)
            self._show_activity(stats)
            self._show_pass_culture(stats)
        if first:
            # Focusing the empty table at mount may have scrolled the page: start at the top.
            body = self.query_one("#stats-body", VerticalScroll)
            self.call_after_refresh(body.scroll_home, animate=False)
        self.refresh_bindings()

    # -- sections --------------------------------------------------------------

    def _show_title(self, stats: SchoolStats) -> None:
        self.query_one("#stats-title", Static).update(title_markup(stats))

    def _sorted_classes(self, stats: SchoolStats) -> list[ClassStats]:
        return sort_classes(stats.classes, self.sort, self.descending)

    def _show_classes(self, stats: SchoolStats, *, rebuild: bool) -> None:
        self.query_one("#stats-classes-title", Static).update(
            classes_title(self.sort, self.descending)
        )
        table: DataTable[Text] = self.query_one("#stats-classes", DataTable)
        rows = self._sorted_classes(stats)
        cells = {c.division: class_row(c) for c in rows}
        order = [c.division for c in rows]
        same_rows = not rebuild and [str(k.value) for k in table.rows] == order
        if same_rows:
            for name, values in cells.items():
                old = self._class_cells.get(name)
                for index, value in enumerate(values):
                    if old is None or old[index] != value:
                        table.update_cell(name, f"c{index}", self._class_cell(index, value))
            self._class_cells = cells
            return
        current = self._current_class()
        table.clear(columns=True)
        add_class_columns(table, narrow=self._bar_width < 12)
        for name, values in cells.items():
            table.add_row(
                *(self._class_cell(i, v) for i, v in enumerate(values)), key=name, label=None
            )
        self._class_cells = cells
        if current in cells:
            table.move_cursor(row=order.index(current), animate=False, scroll=False)

    def _class_cell(self, index: int, value: str) -> Text:
        return class_cell(index, value, self._bar_width)

    def _show_activity(self, stats: SchoolStats) -> None:
        self.query_one("#stats-activity", Static).update(activity_text(stats, self._bar_width))

    def _show_pass_culture(self, stats: SchoolStats) -> None:
        pc = stats.pass_culture
        title = self.query_one("#stats-pass-title", Static)
        table: DataTable[Text | str] = self.query_one("#stats-pass", DataTable)
        more = self.query_one("#stats-pass-more", Static)
        if pc is None:
            title.update("")
            return
        title.update(pass_culture_text(pc))
        current = table.cursor_row
        with self.app.batch_update():
            fill_pass_table(table, pc, current)
        table.display = bool(pc.missing)
        more.update(pass_more_text(pc))
        more.display = pc.truncated

    # -- following the cursor ----------------------------------------------------

    @on(DataTable.RowHighlighted)
    def _follow(self, event: DataTable.RowHighlighted) -> None:
        """The tables are as tall as their rows; the page scrolls to keep the cursor seen.

        Measured after the next refresh: a table just filled has no final position yet.
        """
        if event.data_table is self.focused:  # not a table being refilled out of sight
            self.call_after_refresh(self._scroll_to_cursor, event.data_table)
        self.refresh_bindings()

    def set_focus(
        self, widget: Widget | None, scroll_visible: bool = True, from_app_focus: bool = False
    ) -> None:
        """Never let Textual centre a focused table: they are taller than the page, and the
        page follows their cursor instead (a table focused while still empty would leave
        the page scrolled to the middle of the figures)."""
        super().set_focus(widget, scroll_visible=False, from_app_focus=from_app_focus)
        if isinstance(widget, DataTable):
            self.call_after_refresh(self._scroll_to_cursor, widget)

    def _scroll_to_cursor(self, table: DataTable[object]) -> None:
        body = self.query_one("#stats-body", VerticalScroll)
        row = table.cursor_row
        if row <= 0:
            # The first row: the top of the page, or the pass Culture section's title.
            if table.id == "stats-classes":
                body.scroll_home(animate=False)
            else:
                title = self.query_one("#stats-pass-title")
                body.scroll_to_widget(title, animate=False, top=True)
            return
        # The row's line in the page's coordinates (the table's header is one line).
        y = table.region.y + 1 + row - body.content_region.y + int(body.scroll_y)
        body.scroll_to_region(Region(0, y, 1, 1), animate=False)

    def _current_class(self) -> str | None:
        table: DataTable[Text] = self.query_one("#stats-classes", DataTable)
        if not table.row_count:
            return None
        row_key, _ = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0))
        return None if row_key.value is None else str(row_key.value)

    # -- actions ---------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "open":
            focused = self.focused
            if not isinstance(focused, DataTable) or not focused.row_count:
                return None
        if action in ("export", "sort_next", "sort_reverse") and self.stats is None:
            return None
        return True

    def action_back(self) -> None:
        self.dismiss(None)

    def action_open(self) -> None:
        """On a class: back to the home page showing it; on a pupil: their account."""
        focused = self.focused
        if not isinstance(focused, DataTable) or not focused.row_count:
            return
        if focused.id == "stats-classes":
            name = self._current_class()
            if name is not None:
                self.dismiss(name)
            return
        row_key, _ = focused.coordinate_to_cell_key(Coordinate(focused.cursor_row, 0))
        if row_key.value is not None:
            from .detail import DetailScreen

            self.app.push_screen(DetailScreen(self.services, self.signed_in, int(row_key.value)))

    def action_page(self, direction: int) -> None:
        """A page within the focused table; at its end, the page scrolls on to the next
        section (and to the pass Culture table, which then takes the cursor)."""
        focused = self.focused
        body = self.query_one("#stats-body", VerticalScroll)
        if isinstance(focused, DataTable) and focused.row_count:
            before = focused.cursor_row
            if direction > 0:
                focused.action_page_down()
            else:
                focused.action_page_up()
            if focused.cursor_row != before:
                return
        pass_table: DataTable[Text | str] = self.query_one("#stats-pass", DataTable)
        if direction > 0:
            if focused is not pass_table and pass_table.display and pass_table.row_count:
                title = self.query_one("#stats-pass-title")
                at_bottom = body.scroll_y >= body.max_scroll_y
                if at_bottom or title.region.y < body.content_region.bottom:
                    self.set_focus(pass_table)
                    return
            body.scroll_page_down(animate=False)
        else:
            classes: DataTable[Text] = self.query_one("#stats-classes", DataTable)
            if focused is pass_table and classes.row_count:
                self.set_focus(classes)
                return
            body.scroll_page_up(animate=False)

    def action_sort_next(self) -> None:
        self.sort = SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)]
        self.descending = self.sort.descending_first
        self._resort()

    def action_sort_reverse(self) -> None:
        self.descending = not self.descending
        self._resort()

    def _resort(self) -> None:
        if self.stats is not None:
            self._show_classes(self.stats, rebuild=True)
            table: DataTable[Text] = self.query_one("#stats-classes", DataTable)
            if table.row_count:
                table.move_cursor(row=0, animate=False)

    def action_export(self) -> None:
        if self.stats is not None:
            self.notify("Export en cours…", timeout=2)
            self._export(self.stats)

    @work(thread=True, exclusive=True, group="stats-export", exit_on_error=False)
    def _export(self, stats: SchoolStats) -> None:
        result = export_stats(self.services, self.signed_in, stats)
        self.app.call_from_thread(self._exported, result)

    def _exported(self, result: ExportResult) -> None:
        lines = [
            "Statistiques exportées (lisibles par vous seul)\u00a0:",
            str(result.csv_path),
            str(result.pdf_path),
            *publishing.swept_lines(result.swept),
        ]
        self.notify(
            "\n".join(lines),
            title="Export",
            timeout=10,
        )
