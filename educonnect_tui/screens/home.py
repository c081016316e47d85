"""« Administration des comptes EduConnect »: the home page.

Thin by design: it turns keys and filter changes into a ``ListQuery`` for the two tables
and opens the modals; every figure comes from the domain.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import TYPE_CHECKING

from rich.markup import escape
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input, Label, SelectionList, Static, TabbedContent, TabPane

from .. import keys
from ..domain.access.caller import SchoolSession
from ..domain.access.permissions import Action, Scope, scope_of
from ..domain.accounts.listing import Listing, ListQuery, PupilRow, SortKey
from ..domain.accounts.selection import MAX_EXPIRY_DAYS, Selection, expiring_within
from ..domain.model import french
from ..domain.model.enums import AccountKind
from ..domain.model.states import NOTIFIABLE
from ..domain.store.services import Services
from ..widgets.account_table import AccountTable
from ..widgets.filters import ClassFilter, ContactFilter, ExpiryFilter, StateFilter
from ..widgets.key_bar import KeyBar
from ..widgets.sign_in_trace import SignInTraceLine
from ..widgets.state_badge import SHORT_LABELS
from ..widgets.worker_errors import ReportsWorkerErrors

if TYPE_CHECKING:  # the notification's modules load on the first (re)notification
    from ..domain.accounts import account_lists
    from ..domain.accounts.notification import NotifyResult
    from .notify import NotifyPlan

TAB_KIND = {"eleves": AccountKind.PUPIL, "responsables": AccountKind.GUARDIAN}
NARROW = 110
# Ticked rows are notified whatever their state, except désactivé (never notifiable).
SEARCH_DEBOUNCE = 0.15
DEFAULT_EXPIRY_DAYS = 7  # `X` without a number of days typed
WIDEN = "F3\u00a0: chercher partout"
# Keys that need a permission (greyed until the scope is known, and when refused).
_ACTION_NEEDS = {
    "notify_accounts": Action.NOTIFY,
    "renotify_expiring": Action.NOTIFY,
    "export_no_sms": Action.EXPORT,
    "notify_guardians": Action.NOTIFY,
    "delegations": Action.MANAGE_DELEGATIONS,
    "staff": Action.MANAGE_STAFF,
    "audit_log": Action.VIEW_AUDIT,
    "open_import": Action.IMPORT,
    "edit_lists": Action.EXPORT,
}


def classes_phrase(divisions: tuple[str, ...], shown: int = 4) -> str:
    """The chosen classes, short enough for one line at 80 columns."""
    if not divisions:
        return "toutes"
    if len(divisions) <= shown:
        return ", ".join(divisions)
    return f"{', '.join(divisions[: shown - 1])} et {len(divisions) - shown + 1} autres"


def contact_phrases(selection: Selection) -> list[str]:
    """The guardians' contact filters as the summary line says them."""
    words = []
    if selection.has_email is not None:
        words.append("avec courriel" if selection.has_email else "sans courriel")
    if selection.sms_mobile is not None:
        words.append("mobile SMS" if selection.sms_mobile else "sans mobile SMS")
    return words


class HomeScreen(ReportsWorkerErrors, Screen[None]):
    BINDINGS = [
        *keys.bindings(keys.HOME_KEYS),
        Binding("escape", "back_to_table", show=False, id="home_back"),
    ]

    def __init__(self, services: Services, signed_in: SchoolSession) -> None:
        super().__init__()
        self.services = services
        self.signed_in = signed_in
        self.listing = Listing(services, signed_in)
        # What this person may do, read at mount (and after a refusal); keys are greyed
        # from it. Only cosmetic: every domain service checks again (permissions.require).
        self.scope: Scope | None = None
        self.selected: dict[AccountKind, set[int]] = {kind: set() for kind in AccountKind}
        self.queries = {kind: ListQuery(kind) for kind in AccountKind}
        self.totals: dict[AccountKind, int | None] = {kind: None for kind in AccountKind}
        self._search_timer: Timer | None = None
        self._row_keys: tuple[bool, bool, bool] | None = None  # see _highlighted
        # Accounts the search finds outside the class and state filters (None: no search).
        self._beyond: int | None = None
        # Set while « Éditer les listes » runs; Échap sets it to stop them.
        self._lists_cancel: threading.Event | None = None

    # -- layout ----------------------------------------------------------------

    def compose(self) -> ComposeResult:
        school = self.signed_in.school
        identity = self.signed_in.identity
        yield Static(
            f"[b]{escape(school.name)}[/b] · {school.uai} │ "
            f"{escape(identity.first_name[:1])}. {escape(identity.last_name)}, "
            f"{identity.role.value} │ {self.signed_in.network_mode.label}",
            id="school-header",
            markup=True,
        )
        yield SignInTraceLine(self.services, self.signed_in, id="sign-in-trace")
        with Horizontal(id="body"):
            with Vertical(id="filters"):
                yield Label("Classes  [dim](c, +/-)[/dim]", classes="filter-title")
                yield ClassFilter(id="classes")
                yield Label("États  [dim](e)[/dim]", classes="filter-title")
                yield StateFilter(AccountKind.PUPIL, (), id="states")
                yield Label(
                    "Contacts  [dim](m, E\u00a0: export)[/dim]",
                    classes="filter-title guardians-only",
                )
                yield ContactFilter(id="contacts", classes="guardians-only")
                yield Label("Expiration  [dim](x, X)[/dim]", classes="filter-title")
                with Horizontal(id="expiry-row"):
                    yield Label("d'ici ")
                    yield ExpiryFilter(id="expiry")
                    yield Label(" jours")
            with Vertical(id="main"):
                search_key = keys.keys_label(
                    keys.ALL_KEYS["search"], self.services.settings.keymap
                ).split(" ")[0]
                yield Input(
                    placeholder=f"{search_key} Rechercher un nom, un prénom, un identifiant…",
                    id="search",
                )
                yield Static("", id="filter-summary")
                with TabbedContent(initial="eleves", id="tabs"):
                    with TabPane("Élèves", id="eleves"):
                        yield AccountTable(
                            self.listing,
                            self.queries[AccountKind.PUPIL],
                            self.selected[AccountKind.PUPIL],
                            id="table-eleves",
                        )
                    with TabPane("Représentants légaux", id="responsables"):
                        yield AccountTable(
                            self.listing,
                            self.queries[AccountKind.GUARDIAN],
                            self.selected[AccountKind.GUARDIAN],
                            id="table-responsables",
                            load_on_mount=False,
                        )
                yield Static("", id="status")
        yield KeyBar()

    def on_mount(self) -> None:
        self._apply_width(self.size.width)
        self.table.focus()
        self._load_divisions()
        self._load_scope()
        self._update_summary()
        self._update_status()

    @work(thread=True, group="scope", exclusive=True, exit_on_error=False)
    def _load_scope(self) -> None:
        scope = scope_of(self.services, self.signed_in)
        self.app.call_from_thread(self._scoped, scope)

    def _scoped(self, scope: Scope) -> None:
        self.scope = scope
        self.refresh_bindings()

    def on_resize(self) -> None:
        self._apply_width(self.size.width)

    def on_screen_resume(self) -> None:
        """Back on this screen: a sign-in elsewhere meanwhile is said now."""
        for line in self.query(SignInTraceLine):
            line.refresh_sessions()

    def _apply_width(self, width: int) -> None:
        self.set_class(width < NARROW, "-narrow")

    # -- state -----------------------------------------------------------------

    @property
    def kind(self) -> AccountKind:
        active = self.query_one("#tabs", TabbedContent).active or "eleves"
        return TAB_KIND[active]

    @property
    def table(self) -> AccountTable:
        return self.query_one(f"#table-{self._tab_of(self.kind)}", AccountTable)

    @staticmethod
    def _tab_of(kind: AccountKind) -> str:
        return "eleves" if kind is AccountKind.PUPIL else "responsables"

    def _selection(self) -> Selection:
        """The pane's filters; the expiry's « N jours » becomes an instant here, so that
        what is shown is what a notification touches however long the dialog stays open."""
        classes = self.query_one("#classes", ClassFilter).classes_chosen
        states = self.query_one("#states", StateFilter).states_chosen
        search = self.query_one("#search", Input).value
        contacts = self.query_one("#contacts", ContactFilter)
        days = self.query_one("#expiry", ExpiryFilter).days
        expiring_by = None
        if days is not None:
            expiring_by = expiring_within(min(days, MAX_EXPIRY_DAYS), self.services.clock())
        return Selection(
            divisions=classes,
            states=states,
            search=search,
            has_email=contacts.has_email,
            sms_mobile=contacts.sms_mobile,
            expiring_by=expiring_by,
        )

    def _refilter(self) -> None:
        """Apply the filters to both tabs; selections keep only rows still shown."""
        selection = self._selection()
        for kind in AccountKind:
            query = replace(self.queries[kind], selection=selection)
            self.queries[kind] = query
            table = self.query_one(f"#table-{self._tab_of(kind)}", AccountTable)
            table.set_query(query, defer=kind is not self.kind)  # the other tab: when shown
            if self.selected[kind]:
                self._prune_selection(kind, query, frozenset(self.selected[kind]))
        self._update_summary()
        self._update_status()
        self._count_beyond_filters(self.queries[self.kind])

    @work(thread=True, group="beyond", exclusive=True, exit_on_error=False)
    def _count_beyond_filters(self, query: ListQuery) -> None:
        """How many more accounts the search finds once the class and state filters go."""
        selection = query.selection
        beyond = None
        if selection.search and (selection.divisions or selection.states):
            wide = replace(query, selection=replace(selection, divisions=(), states=()))
            beyond = self.listing.count(wide) - self.listing.count(query)
        self.app.call_from_thread(self._beyond_counted, query, beyond)

    def _beyond_counted(self, query: ListQuery, beyond: int | None) -> None:
        if query == self.queries[self.kind]:
            self._beyond = beyond
            self._update_summary()

    @work(thread=True, group="prune", exit_on_error=False)
    def _prune_selection(self, kind: AccountKind, query: ListQuery, ticked: frozenset[int]) -> None:
        kept = self.listing.still_shown(query, set(ticked))
        self.app.call_from_thread(self._pruned, kind, query, ticked - kept)

    def _pruned(self, kind: AccountKind, query: ListQuery, hidden: frozenset[int]) -> None:
        if query != self.queries[kind]:
            return  # the filters moved on; a newer pruning is on its way
        self.selected[kind].difference_update(hidden)
        self._refresh_after_selection()

    @work(thread=True, group="divisions", exit_on_error=False)
    def _load_divisions(self) -> None:
        divisions = self.listing.divisions()
        self.app.call_from_thread(self.query_one("#classes", ClassFilter).set_divisions, divisions)

    def _refresh_after_selection(self) -> None:
        self.table.refresh()
        self._update_status()
        self.refresh_bindings()

    def _update_summary(self) -> None:
        selection = self.queries[self.kind].selection
        parts = [
            "Classes\u00a0: " + classes_phrase(selection.divisions),
            "États\u00a0: "
            + (
                ", ".join(f"{s.symbol} {SHORT_LABELS[s]}" for s in selection.states)
                if selection.states
                else "tous"
            ),
        ]
        if self.kind is AccountKind.GUARDIAN:
            parts += contact_phrases(selection)
        days = self.query_one("#expiry", ExpiryFilter).days
        if selection.expiring_by is not None and days is not None:
            parts.append(f"Expire d'ici {french.count(min(days, MAX_EXPIRY_DAYS), 'jour')}")
        if selection.search:
            parts.append(f"Recherche\u00a0: « {selection.search} »")
        lines = [" · ".join(parts)]
        if selection.search and (selection.divisions or selection.states):
            if self._beyond:
                beyond = french.count(self._beyond, "autre compte")
                lines.append(f"⚠ {beyond} hors de ces filtres — {WIDEN}")
            else:
                lines.append(f"Recherche limitée à ces filtres — {WIDEN}")
        summary = self.query_one("#filter-summary", Static)
        summary.update("\n".join(lines))
        summary.set_class(len(lines) > 1, "-two-lines")

    def _update_status(self) -> None:
        total = self.totals[self.kind]
        shown = "…" if total is None else str(total)
        query = self.queries[self.kind]
        arrow = "▼" if query.descending else "▲"
        titles = {c.sort: c.title for c in self.table.columns if c.sort is not None}
        self.query_one("#status", Static).update(
            f"{shown} {french.agreed(total or 0, 'affiché')} · "
            f"{french.count(len(self.selected[self.kind]), 'coché')} · "
            f"tri\u00a0: {titles.get(query.sort, query.sort.value)} {arrow}"
        )

    # -- events ----------------------------------------------------------------

    @on(SelectionList.SelectedChanged)
    def _filters_changed(self) -> None:
        self._refilter()

    @on(Input.Changed, "#search")
    def _search_changed(self) -> None:
        if self._search_timer is not None:
            self._search_timer.stop()
        self._search_timer = self.set_timer(SEARCH_DEBOUNCE, self._refilter)

    @on(Input.Submitted, "#search")
    @on(Input.Submitted, "#expiry")
    def _search_done(self) -> None:
        self.table.focus()

    @on(Input.Changed, "#expiry")
    def _expiry_changed(self) -> None:
        self._search_changed()

    @on(AccountTable.Counted)
    def _counted(self, event: AccountTable.Counted) -> None:
        self.totals[event.table.query_.kind] = event.total
        self._update_status()

    @on(TabbedContent.TabActivated)
    def _tab_changed(self) -> None:
        self.set_class(self.kind is AccountKind.GUARDIAN, "-guardians")
        self._update_summary()
        self.table.ensure_loaded()
        self.query_one("#states", StateFilter).show_colours_of(self.kind)
        self._update_status()
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Grey out keys that do not apply (footer shows them dimmed)."""
        needs = _ACTION_NEEDS.get(action)
        if needs is not None and (self.scope is None or not self.scope.allows(needs)):
            return None
        if action in ("toggle_select", "open", "notify_guardians"):
            row = self.table.current_row
            if row is None:
                return None
            if action == "notify_guardians" and not isinstance(row, PupilRow):
                return None
        if action == "clear_selection" and not self.selected[self.kind]:
            return None
        if action == "export_no_sms" and self.kind is not AccountKind.GUARDIAN:
            return None
        if action == "focus_filter" and parameters == ("contacts",):
            return None if self.kind is not AccountKind.GUARDIAN else True
        if action == "widen_search":
            selection = self.queries[self.kind].selection
            if not (selection.search and (selection.divisions or selection.states)):
                return None
        return True

    @on(AccountTable.Highlighted)
    def _highlighted(self) -> None:
        # The key bar follows when a key's applicability changes, not on each cursor move.
        if self.table.total is None:
            return  # a new query is loading: its count and page will highlight again
        row = self.table.current_row
        applies = (row is not None, isinstance(row, PupilRow), bool(self.selected[self.kind]))
        if applies != self._row_keys:
            self._row_keys = applies
            self.refresh_bindings()

    # -- actions ---------------------------------------------------------------

    def action_back_to_table(self) -> None:
        """Échap: a typed search is cleared first (as in dépannage); from the empty search
        box or a filter, back to the list (closing a narrow pane)."""
        if self._lists_cancel is not None and not self._lists_cancel.is_set():
            self._lists_cancel.set()  # the lists stop at their next chunk, nothing written
            return
        search = self.query_one("#search", Input)
        if self.focused is search and search.value:
            search.value = ""
            return
        self.remove_class("-filters-open")
        self.table.focus()

    def action_widen_search(self) -> None:
        """F3: the same search over every class and state (the filters are emptied)."""
        self.query_one("#classes", ClassFilter).deselect_all()
        self.query_one("#states", StateFilter).deselect_all()
        self._refilter()

    def action_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_show_tab(self, tab: str) -> None:
        self.query_one("#tabs", TabbedContent).active = tab
        self.table.focus()

    def action_focus_filter(self, which: str) -> None:
        """Open the pane (narrow screens hide it) and focus the list at once.

        ``Widget.focus`` is deferred: keys typed right behind (a fast typist, a slow SSH
        link delivering keys in bursts) would still reach the table. ``set_focus`` is not.
        """
        self.add_class("-filters-open")
        self.remove_class("-filters-hidden")
        target = self.query_one(f"#{which}", SelectionList)
        if target.highlighted is None and target.option_count:
            target.highlighted = 0  # the list does this on its Focus event, too late here
        self.set_focus(target)

    def action_focus_expiry(self) -> None:
        """`x`: the expiry's number of days, in the pane (opened on narrow screens)."""
        self.add_class("-filters-open")
        self.remove_class("-filters-hidden")
        self.set_focus(self.query_one("#expiry", ExpiryFilter))

    def action_toggle_filters(self) -> None:
        if self.has_class("-narrow"):
            self.toggle_class("-filters-open")
        else:
            self.toggle_class("-filters-hidden")
        if not self.query_one("#filters").display:
            self.table.focus()

    def action_toggle_select(self) -> None:
        row = self.table.current_row
        if row is None:
            return
        chosen = self.selected[self.kind]
        chosen.symmetric_difference_update({row.account_id})
        self.table.refresh()
        self.table.action_cursor(1)
        self._update_status()

    def action_select_all(self) -> None:
        self._select_all(self.kind, self.queries[self.kind])

    @work(thread=True, group="select_all", exclusive=True, exit_on_error=False)
    def _select_all(self, kind: AccountKind, query: ListQuery) -> None:
        ids = self.listing.ids(query)
        self.app.call_from_thread(self._all_selected, kind, query, ids)

    def _all_selected(self, kind: AccountKind, query: ListQuery, ids: list[int]) -> None:
        if query == self.queries[kind]:
            self.selected[kind].update(ids)
            self._refresh_after_selection()

    def action_clear_selection(self) -> None:
        self.selected[self.kind].clear()
        self._refresh_after_selection()

    def action_sort_next(self) -> None:
        sortable = [c.sort for c in self.table.columns if c.sort is not None]
        current = self.queries[self.kind].sort
        following = (
            sortable[(sortable.index(current) + 1) % len(sortable)]
            if current in sortable
            else sortable[0]
        )
        self._sort(following, False)

    def action_sort_reverse(self) -> None:
        query = self.queries[self.kind]
        self._sort(query.sort, not query.descending)

    def _sort(self, key: SortKey, descending: bool) -> None:
        query = replace(self.queries[self.kind], sort=key, descending=descending)
        self.queries[self.kind] = query
        self.table.set_query(query)
        self._update_status()

    def action_open(self) -> None:
        row = self.table.current_row
        if row is None:
            return
        from .detail import DetailScreen

        self.app.push_screen(
            DetailScreen(self.services, self.signed_in, row.account_id),
            callback=lambda _: self.refresh_tables(),
        )

    def action_helpdesk(self) -> None:
        """`d`: the dépannage search, focused, over the home page (Échap comes back)."""
        from .helpdesk import HelpdeskScreen

        self.app.push_screen(
            HelpdeskScreen(self.services, self.signed_in), callback=lambda _: self.refresh_tables()
        )

    def action_open_stats(self) -> None:
        """`s`: the statistics panel; enter on a class there comes back showing that class."""
        from .stats import StatsScreen

        screen = StatsScreen(self.services, self.signed_in)
        self.app.push_screen(screen, callback=self._stats_closed)

    def _stats_closed(self, division: str | None) -> None:
        if division is not None:
            self.show_class(division)

    def show_class(self, name: str) -> None:
        """Show the accounts of one class: it alone is ticked in the class filter."""
        classes = self.query_one("#classes", ClassFilter)
        classes.deselect_all()
        classes.select(name)
        self._refilter()
        self.table.focus()

    def action_delegations(self) -> None:
        """`g`: the delegation manager (direction only; greyed otherwise)."""
        from .delegations import DelegationsScreen

        self.app.push_screen(DelegationsScreen(self.services, self.signed_in))

    def action_staff(self) -> None:
        """`p`: the school's staff (direction only; greyed otherwise)."""
        from .staff import StaffScreen

        self.app.push_screen(StaffScreen(self.services, self.signed_in))

    def action_audit_log(self) -> None:
        """`j`: the school's audit trail (direction only; greyed otherwise)."""
        from .audit import AuditScreen

        self.app.push_screen(AuditScreen(self.services, self.signed_in))

    def action_open_import(self) -> None:
        """`i`: the SIECLE import (direction only; greyed otherwise)."""
        from .import_siecle import ImportScreen

        def closed(applied: bool | None) -> None:
            if applied:
                self._load_divisions()
                self.refresh_tables()

        self.app.push_screen(ImportScreen(self.services, self.signed_in), callback=closed)

    def action_notify_accounts(self) -> None:
        kind = self.kind
        selection, scope = self._chosen_selection()
        from .notify import NotifyPlan, start_notify

        start_notify(self, NotifyPlan(kind=kind, selection=selection, scope=scope))

    def _chosen_selection(self) -> tuple[Selection, str]:
        """The ticked rows, or else every row shown: what ``n`` and ``l`` act on."""
        chosen = self.selected[self.kind]
        base = self.queries[self.kind].selection
        if chosen:
            states = base.states or NOTIFIABLE
            return replace(base, account_ids=tuple(sorted(chosen)), states=states), (
                "les comptes cochés"
            )
        return base, "les comptes affichés"

    def action_edit_lists(self) -> None:
        """`l`: the PDF and CSV lists of the selection, in ``listes/``; no password changes."""
        kind = self.kind
        selection, _ = self._chosen_selection()
        if self.selected[kind]:  # ticked rows are listed whatever their state
            selection = replace(selection, states=self.queries[kind].selection.states)
        if self._lists_cancel is not None:
            self.notify("Des listes sont déjà en cours d'édition.", timeout=3)
            return
        self._lists_cancel = threading.Event()
        self.notify("Édition des listes… (Échap\u00a0: annuler)", timeout=3)
        self._write_lists(kind, selection, self._lists_cancel)

    @work(thread=True, group="lists", exit_on_error=False)
    def _write_lists(
        self, kind: AccountKind, selection: Selection, cancel: threading.Event
    ) -> None:
        from ..domain.accounts import account_lists
        from ..domain.model.errors import Cancelled

        def progress(done: int, total: int) -> None:
            line = f"Listes\u00a0: {done}/{total} comptes lus"
            self.app.call_from_thread(self.query_one("#status", Static).update, line)

        try:
            pdf, csv = account_lists.default_paths(self.services, self.signed_in, kind)
            written = account_lists.write_lists(
                self.services,
                self.signed_in,
                account_lists.ListRequest(kind, selection, pdf_path=pdf, csv_path=csv),
                progress=progress,
                cancel=cancel,
            )
        except Cancelled as stopped:
            self.app.call_from_thread(self._lists_stopped, str(stopped))
            return
        except BaseException:
            self.app.call_from_thread(self._lists_stopped, None)
            raise
        self.app.call_from_thread(self._lists_written, written)

    def _lists_stopped(self, message: str | None) -> None:
        self._lists_cancel = None
        self._update_status()
        if message:
            self.notify(message, timeout=5)

    def _lists_written(self, written: account_lists.ListsWritten) -> None:
        from ..domain.accounts.publishing import swept_lines

        self._lists_stopped(None)
        self.notify(
            "\n".join(
                [
                    f"Listes éditées ({french.count(written.count, 'compte')}, "
                    "aucun mot de passe modifié)\u00a0:",
                    *(str(p) for p in written.paths),
                    *swept_lines(written.swept),
                ]
            ),
            title="Listes",
            timeout=10,
        )

    def action_renotify_expiring(self) -> None:
        """`X`: the accounts shown whose credentials expire within the days typed (7 when
        none), exactly those: the filter is set first, so the list shows them."""
        expiry = self.query_one("#expiry", ExpiryFilter)
        if expiry.days is None:
            expiry.value = str(DEFAULT_EXPIRY_DAYS)
        self._refilter()
        days = min(expiry.days or DEFAULT_EXPIRY_DAYS, MAX_EXPIRY_DAYS)
        selection = self.queries[self.kind].selection
        scope = (
            f"les comptes affichés dont les identifiants expirent d'ici "
            f"{french.count(days, 'jour')}"
        )
        from .notify import NotifyPlan, start_notify

        start_notify(self, NotifyPlan(kind=self.kind, selection=selection, scope=scope))

    def action_export_no_sms(self) -> None:
        """`E` (guardians): « ne peuvent pas s'auto-inscrire », the guardians shown
        without a mobile for the SMS, in a new CSV file of the output folder."""
        if self.kind is AccountKind.GUARDIAN:
            self._export_no_sms(self.queries[AccountKind.GUARDIAN].selection)

    @work(thread=True, group="export", exclusive=True, exit_on_error=False)
    def _export_no_sms(self, selection: Selection) -> None:
        from ..domain.accounts.guardian_contacts import export_without_sms

        written = export_without_sms(self.services, self.signed_in, selection)
        self.app.call_from_thread(
            self.notify, "\n".join(escape(line) for line in written.lines()), timeout=10
        )

    def action_notify_guardians(self) -> None:
        row = self.table.current_row
        if not isinstance(row, PupilRow):
            return
        from .guardians_notify import notify_guardians_of

        notify_guardians_of(self, row.account_id, f"{row.first_name} {row.last_name}", row.division)

    def notified(self, request: NotifyPlan, result: NotifyResult) -> None:
        """After a notification: new states on screen, notified rows no longer ticked."""
        if request.selection.account_ids is not None:
            self.selected[request.kind].difference_update(request.selection.account_ids)
        self.refresh_tables()
        self._refresh_after_selection()

    def refresh_tables(self) -> None:
        for kind in AccountKind:
            self.query_one(f"#table-{self._tab_of(kind)}", AccountTable).reload()
