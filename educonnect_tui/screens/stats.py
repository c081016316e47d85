"""`s`: the statistics panel — where activation stands, and which classes to chase.

Thin like every screen: the figures come from ``domain.stats`` (SQL aggregates), computed
in a worker; this screen only lays them out. It refreshes itself every few seconds so a
colleague's notification or a pupil's activation shows up while it is open, and it
repaints only when a figure changed (no flicker, the cursor stays on its class).

Everything reads without colour: states carry their symbol and word, rates their
percentage beside the bar.
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
from ..domain.model.enums import AccountKind, AccountState, ActivationMethod
from ..domain.reports.charts import bar, column_chart
from ..domain.reports.class_figures import ClassSort, ClassStats, sort_classes
from ..domain.reports.counts import KindStats
from ..domain.reports.figures import SchoolStats, day, pct, school_stats
from ..domain.reports.stats_pdf import ExportResult, export_stats
from ..domain.store.services import Services
from ..widgets.key_bar import KeyBar
from ..widgets.state_badge import BLOCKED_SYMBOL, state_text
from ..widgets.worker_errors import ReportsWorkerErrors

REFRESH_SECONDS = 3.0
NARROW = 110
SORTS = tuple(ClassSort)
STATE_HEADERS = tuple(s.symbol for s in AccountState)


def _bar(rate: float, width: int) -> Text:
    """A bar drawn in eighths on a dim track (the track keeps a 0 % bar visible)."""
    drawn = bar(rate, width).rstrip()
    text = Text(drawn, style="green")
    text.append("░" * (width - len(drawn)), style="dim")
    return text


def _rate(rate: float, width: int) -> Text:
    """The bar, then the percentage as text: the bar is never alone."""
    text = _bar(rate, width)
    text.append(f" {round(rate * 100):>3d} %")
    return text


def _count(n: int) -> Text:
    return Text(str(n), style="dim" if n == 0 else "", justify="right")


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
            self.query_one("#stats-states", Static).update(self._states(stats))
            self.query_one("#stats-side", Static).update(self._side(stats))
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
        scope = " (classes de votre délégation)" if stats.limited_to_classes else ""
        self.query_one("#stats-title", Static).update(
            f"[b]Statistiques[/b] · {escape(stats.name)} · {stats.uai}{scope} │ "
            f"{stats.at_text} (en direct)"
        )

    @staticmethod
    def _states(stats: SchoolStats) -> Text:
        """Counts and shares by state, pupils then guardians: a word and a symbol per state."""
        label_w = 22
        text = Text()
        text.append(f"{'Comptes par état':<{label_w}}", style="bold")
        text.append(f"{'Élèves':>15}   {'Représentants':>15}\n", style="bold")
        for state in AccountState:
            label = state_text(state, AccountKind.PUPIL, short=False)
            label.pad_right(label_w - label.cell_len)
            text.append_text(label)
            for k in (stats.pupils, stats.guardians):
                text.append(f"{k.by_state.get(state, 0):>6} {pct(k.share(state)):>8}   ")
            text.rstrip()
            text.append("\n")
        text.append(f"{'Total':<{label_w}}", style="bold")
        text.append(f"{stats.pupils.total:>6}{'':12}{stats.guardians.total:>6}\n")
        text.append(f"{'Taux d’activation':<{label_w}}", style="bold")
        for k in (stats.pupils, stats.guardians):
            text.append(f"{'':4}")
            text.append_text(_bar(k.rate, 6))
            text.append(f"{pct(k.rate):>8}   ", style="bold")
        text.rstrip()
        return text

    @staticmethod
    def _side(stats: SchoolStats) -> Text:
        text = Text()
        text.append("Représentants activés par\n", style="bold")
        activated = stats.guardians.activated
        for method in ActivationMethod:
            n = stats.guardian_methods.get(method, 0)
            share = pct(n / activated if activated else 0.0)
            text.append(f"  {method.label:<26}{n:>6} {share:>8}\n")
        blocked, expiring = stats.blocked, stats.expiring_soon
        text.append(f"{'':28}{'Élèves':>6} {'Resp.':>8}\n", style="bold")
        for label, figures in (
            (f"{BLOCKED_SYMBOL} Bloqués", blocked),
            ("Provisoires expirant ≤ 14 j", expiring),
        ):
            text.append(f"{label:<28}", style="bold")
            pupils = figures.get(AccountKind.PUPIL, 0)
            text.append(f"{pupils:>6} {figures.get(AccountKind.GUARDIAN, 0):>8}\n")
        text.rstrip()
        return text

    def _sorted_classes(self, stats: SchoolStats) -> list[ClassStats]:
        return sort_classes(stats.classes, self.sort, self.descending)

    def _show_classes(self, stats: SchoolStats, *, rebuild: bool) -> None:
        arrow = "▼" if self.descending else "▲"
        self.query_one("#stats-classes-title", Static).update(
            f"[b]Par classe[/b] · tri : {self.sort.label} {arrow}  "
            "[dim](o trier, O inverser, Entrée : voir la classe)[/dim]"
        )
        table: DataTable[Text] = self.query_one("#stats-classes", DataTable)
        rows = self._sorted_classes(stats)
        cells = {c.division: self._class_row(c) for c in rows}
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
        narrow = self._bar_width < 12
        table.add_column("Classe", key="c0")
        for i, symbol in enumerate(STATE_HEADERS):
            table.add_column(symbol, key=f"c{1 + i}")
        table.add_column("Élèves" if narrow else "Taux élèves", key="c5")
        for i, symbol in enumerate(STATE_HEADERS):
            table.add_column(symbol, key=f"c{6 + i}")
        table.add_column("Resp." if narrow else "Taux représentants", key="c10")
        for name, values in cells.items():
            table.add_row(
                *(self._class_cell(i, v) for i, v in enumerate(values)), key=name, label=None
            )
        self._class_cells = cells
        if current in cells:
            table.move_cursor(row=order.index(current), animate=False, scroll=False)

    def _class_row(self, c: ClassStats) -> tuple[str, ...]:
        """Plain values, compared between refreshes so only changed cells are repainted."""

        def part(k: KindStats) -> list[str]:
            return [str(k.by_state.get(s, 0)) for s in AccountState] + [f"{k.rate:.6f}"]

        return (c.division, *part(c.pupils), *part(c.guardians))

    def _class_cell(self, index: int, value: str) -> Text:
        if index in (5, 10):
            return _rate(float(value), self._bar_width)
        if index == 0:
            return Text(value, style="bold")
        return _count(int(value))

    def _show_activity(self, stats: SchoolStats) -> None:
        days = stats.activity.days
        widget = self.query_one("#stats-activity", Static)
        if not days:
            widget.update("")
            return
        step = 1 if self._bar_width < 12 else 2
        peak = stats.activity.peak
        top = peak.total if peak else 0
        chart = column_chart([d.total for d in days], rows=3, step=step)
        axis = f"{top:>4} ┤"
        lines = Text()
        lines.append("Activations par jour", style="bold")
        lines.append(
            f" — {stats.activity.total} en {len(days) // 7} semaines"
            + (f", maximum {peak.total} le {day(peak.day)}" if peak else ", aucune")
            + "\n"
        )
        for i, row in enumerate(chart):
            lines.append(axis if i == 0 else "     │", style="dim")
            lines.append(row + "\n", style="cyan")
        width = len(days) * step
        axis_line = ["─"] * width
        if peak is not None:
            axis_line[days.index(peak) * step] = "▲"  # the busiest day, named above
        lines.append("     └" + "".join(axis_line) + "\n", style="dim")
        first, last = day(days[0].day)[:5], day(days[-1].day)[:5]
        lines.append("      " + first + last.rjust(width - len(first)), style="dim")
        widget.update(lines)

    def _show_pass_culture(self, stats: SchoolStats) -> None:
        pc = stats.pass_culture
        title = self.query_one("#stats-pass-title", Static)
        table: DataTable[Text | str] = self.query_one("#stats-pass", DataTable)
        more = self.query_one("#stats-pass-more", Static)
        if pc is None:
            title.update("")
            return
        text = Text()
        text.append("pass Culture", style="bold")
        text.append(
            f" — élèves de 15 à 17 ans (nés du {day(pc.born_from)} au {day(pc.born_until)})\n"
            f"{pc.eligible} élève(s), dont {pc.activated} avec un compte activé "
        )
        text.append_text(_bar(pc.rate, 6))
        text.append(f" {pct(pc.rate)}\n")
        if pc.not_activated:
            text.append(
                f"{pc.not_activated} sans compte activé : ils ne peuvent pas ouvrir leur "
                "pass Culture.",
                style="bold",
            )
        else:
            text.append("Tous ont un compte activé.")
        title.update(text)
        current = table.cursor_row
        with self.app.batch_update():
            table.clear(columns=True)
            for label in ("Nom", "Prénom", "Classe", "Identifiant", "État"):
                table.add_column(label)
            for p in pc.missing:
                table.add_row(
                    p.last_name,
                    p.first_name,
                    p.division,
                    p.login,
                    state_text(p.state, AccountKind.PUPIL),
                    key=str(p.account_id),
                )
            if pc.missing:
                table.move_cursor(row=min(current, len(pc.missing) - 1), scroll=False)
        table.display = bool(pc.missing)
        more.update(
            f"… et {pc.not_activated - len(pc.missing)} autre(s) : la liste complète "
            "est dans l'export CSV (e)."
            if pc.truncated
            else ""
        )
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
        self.notify(
            f"Statistiques exportées (lisibles par vous seul) :\n{result.csv_path}\n"
            f"{result.pdf_path}",
            title="Export",
            timeout=10,
        )
