"""Dépannage: one search field, a short list, and the three things a caller needs.

What a helpdesk agent opens when a pupil or a parent calls: the search is focused on
open and follows the typing (debounced, in a worker); Enter on a result shows the
identifier large and offers `r` (new temporary password, shown once, large and spelled
out for the phone; `p` prints the slip) and `u` (unblock, after showing why and until
when). The domain (``domain/accounts/helpdesk.py``) checks every permission itself: in the dépannage
module guardians never appear and are refused; from the administration module (`d` on
the home page) they are reachable like pupils.

The list comes in pages of ``PAGE_SIZE`` (a class fits in one) and loads the next one
when the cursor or the scroll nears its end; the status counts every match in the
scope, and names the delegation's classes when the scope is limited to some.

The reset and unblock flows live in ``account_actions``, so the account detail screen
(`x`, `u`) runs exactly the same ones.
"""

from __future__ import annotations

from rich.markup import escape
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.timer import Timer
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from .. import keys
from ..domain.access.caller import SchoolSession
from ..domain.accounts import helpdesk, helpdesk_search
from ..domain.accounts.helpdesk_search import After, HelpdeskPage, HelpdeskRow
from ..domain.model import french
from ..domain.model.calendar import date_text
from ..domain.model.enums import AccountKind, AccountState, Module, StateColour
from ..domain.model.printable import escaped
from ..domain.store.services import Services
from ..widgets.key_bar import KeyBar
from ..widgets.sign_in_trace import SignInTraceLine
from ..widgets.state_badge import BLOCKED_SYMBOL, colour_style, state_text
from ..widgets.worker_errors import ReportsWorkerErrors
from .account_actions import BLOCK_REASON, Target, spaced_login, start_reset, start_unblock

SEARCH_DEBOUNCE = 0.15
# One SQL page: a whole class at once; longer lists load the next page as they scroll.
PAGE_SIZE = 40
MORE_MARGIN = 3  # rows before the end of the list where the next page starts loading
WIDE = 100  # from this width the list shows the pupils' birth dates too
NAME_ROOM = 20  # what a name keeps before a block's end is written short
CHILD_KEEPS_NAME = 10  # what a guardian's own name keeps before their child's is cut
MODULE_LABEL = "Dépannage"
# One line at 80 columns (the status has 2 columns of padding each side).
GUARDIANS_NOTE = "Élèves seulement (représentants légaux\u00a0: clé OTP ou réseau administratif)."


class AccountActionsScreen(ReportsWorkerErrors, ModalScreen[bool]):
    """One result opened: the identifier large (the recall is audited), then r / u."""

    BINDINGS = keys.bindings(keys.HELPDESK_ACCOUNT_KEYS)

    def __init__(self, services: Services, signed_in: SchoolSession, row: HelpdeskRow) -> None:
        super().__init__()
        self.services = services
        self.signed_in = signed_in
        self.row = row
        self.changed = False

    def compose(self) -> ComposeResult:
        row = self.row
        with Vertical(id="account-dialog", classes="dialog"):
            yield Label(Target.of(row).who, classes="dialog-title", markup=False)
            yield Static(self._state_line(), id="account-state")
            yield Static(Target.of(row).identity_check, id="account-identity")
            yield Label("Identifiant", classes="account-label")
            yield Static("…", id="account-login")
            with Horizontal(classes="dialog-buttons"):
                yield Button("r Réinitialiser", id="account-reset", compact=True)
                yield Button(
                    "u Débloquer", id="account-unblock", compact=True, disabled=not row.blocked
                )
                yield Button("Échap Fermer", id="account-close", compact=True)

    def _state_line(self) -> Text:
        row = self.row
        text = Text.assemble("État\u00a0: ", state_text(row.state, row.kind, short=False))
        if row.blocked_until is not None:
            text.append(
                f"\n{BLOCKED_SYMBOL} Bloqué jusqu'au "
                f"{self.services.time.date_time(row.blocked_until)} "
                f"{BLOCK_REASON}.",
                style="bold",
            )
        return text

    def on_mount(self) -> None:
        self._recall()

    @work(thread=True, exclusive=True, group="recall", exit_on_error=False)
    def _recall(self) -> None:
        login = helpdesk.recall_login(self.services, self.signed_in, self.row.account_id)
        self.app.call_from_thread(self._show_login, login)

    def _show_login(self, login: str) -> None:
        self.query_one("#account-login", Static).update(spaced_login(login))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "unblock" and not self.row.blocked:
            return None
        if action == "reset_password" and self.row.state is AccountState.DEACTIVATED:
            return None
        return True

    def on_button_pressed(self, event: Button.Pressed) -> None:
        actions = {
            "account-reset": self.action_reset_password,
            "account-unblock": self.action_unblock,
            "account-close": self.action_close,
        }
        if event.button.id in actions:
            actions[event.button.id]()

    def action_reset_password(self) -> None:
        start_reset(self, Target.of(self.row), self._done)

    def action_unblock(self) -> None:
        start_unblock(self, Target.of(self.row), self._done)

    def _done(self) -> None:
        self.dismiss(True)

    def action_close(self) -> None:
        self.dismiss(False)


# --------------------------------------------------------------------------- the screen


class HelpdeskScreen(ReportsWorkerErrors, Screen[None]):
    """The dépannage module's only screen, also reached with `d` from the home page."""

    BINDINGS = [
        *keys.bindings(keys.HELPDESK_KEYS),
        Binding("down", "to_results", show=False, id="helpdesk_down"),
    ]
    AUTO_FOCUS = "#helpdesk-search"
    HELP_TITLE = "dépannage"
    HELP_WITH_HOME_KEYS = False  # the page of its own: the home keys do not apply here

    def __init__(self, services: Services, signed_in: SchoolSession) -> None:
        super().__init__()
        self.services = services
        self.signed_in = signed_in
        self.rows: list[HelpdeskRow] = []
        self.page: HelpdeskPage | None = None  # the last page loaded (count, scope, next)
        self.searched: str | None = None
        self._timer: Timer | None = None
        self._loading: After | None = None  # the page being loaded, once at a time

    @property
    def is_root(self) -> bool:
        """In the dépannage module there is nothing behind this screen to go back to."""
        return self.signed_in.module is Module.DEPANNAGE

    def compose(self) -> ComposeResult:
        school = self.signed_in.school
        identity = self.signed_in.identity
        yield Static(
            f"[b]{escape(school.name)}[/b] · {school.uai} │ "
            f"{escape(identity.first_name[:1])}. {escape(identity.last_name)} │ "
            f"[b]{MODULE_LABEL}[/b]",
            id="helpdesk-header",
        )
        yield SignInTraceLine(self.services, self.signed_in, id="sign-in-trace")
        yield Input(
            placeholder="Nom, prénom, identifiant ou classe (ex.\u00a0: 3e2 martin)",
            id="helpdesk-search",
        )
        yield Static(self._idle_status(), id="helpdesk-status")
        yield Static("", id="helpdesk-columns", markup=False)
        yield OptionList(id="helpdesk-results", compact=True)
        yield KeyBar()

    def on_mount(self) -> None:
        # The states are drawn in the theme's shades: drawn again when it changes.
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._redraw())
        self.set_focus(self.query_one("#helpdesk-search", Input))
        results = self.query_one("#helpdesk-results", OptionList)
        self.watch(results, "scroll_y", self._scrolled, init=False)
        self._search("", PAGE_SIZE)  # no rows, but the scope: its classes for the hint

    def _redraw(self) -> None:
        if self.page is not None:
            self._draw()

    def on_screen_resume(self) -> None:
        """Back on this screen: a sign-in elsewhere meanwhile is said now."""
        for line in self.query(SignInTraceLine):
            line.refresh_sessions()

    def _idle_status(self) -> str:
        hint = "Tapez un nom, un prénom, un identifiant ou une classe."
        if self.page is not None and self.page.classes is not None:
            scope = _scope(self.page.classes)
            hint = f"{hint}\n{scope[:1].upper()}{scope[1:]}."
        return hint if self.signed_in.second_factor else f"{hint}\n{GUARDIANS_NOTE}"

    # -- search ------------------------------------------------------------------

    @on(Input.Changed, "#helpdesk-search")
    def _changed(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(SEARCH_DEBOUNCE, self.refresh_results)

    def refresh_results(self) -> None:
        self._search(self.query_one("#helpdesk-search", Input).value, PAGE_SIZE)

    @work(thread=True, exclusive=True, group="helpdesk-search", exit_on_error=False)
    def _search(self, text: str, limit: int) -> None:
        page = escaped(helpdesk_search.search(self.services, self.signed_in, text, limit=limit))
        self.app.call_from_thread(self._show, text, page)

    def _show(self, text: str, page: HelpdeskPage) -> None:
        if text != self.query_one("#helpdesk-search", Input).value:
            return  # typing went on; a newer search is on its way
        self.rows = list(page.rows)
        self.page = page
        self.searched = text
        self._loading = None
        self._draw()

    # -- the next pages ----------------------------------------------------------

    @on(OptionList.OptionHighlighted, "#helpdesk-results")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_index >= len(self.rows) - MORE_MARGIN:
            self._load_more()

    def _scrolled(self) -> None:
        results = self.query_one("#helpdesk-results", OptionList)
        if results.scroll_y >= results.max_scroll_y - MORE_MARGIN:
            self._load_more()

    def _load_more(self) -> None:
        page, text = self.page, self.searched
        if page is None or page.after is None or text is None or self._loading == page.after:
            return
        self._loading = page.after
        self._next_page(text, page.after)

    @work(thread=True, group="helpdesk-more", exit_on_error=False)
    def _next_page(self, text: str, after: After) -> None:
        page = escaped(
            helpdesk_search.search(
                self.services, self.signed_in, text, limit=PAGE_SIZE, after=after
            )
        )
        self.app.call_from_thread(self._append, text, after, page)

    def _append(self, text: str, after: After, page: HelpdeskPage) -> None:
        current = self.page
        if text != self.searched or current is None or current.after != after:
            return  # a newer search replaced the list meanwhile
        self.rows += page.rows
        self.page = page
        self._loading = None
        self._draw()

    # -- drawing -----------------------------------------------------------------

    def _draw(self) -> None:
        """The loaded rows and the status; the cursor stays where it was."""
        rows, page, text = self.rows, self.page, self.searched or ""
        results = self.query_one("#helpdesk-results", OptionList)
        highlighted = results.highlighted
        results.clear_options()
        columns = self.query_one("#helpdesk-columns", Static)
        width = results.size.width or self.size.width - 2
        # The column titles about to appear take a line from the list.
        height = results.size.height - (1 if rows and not columns.display else 0)
        if len(rows) > height:  # the scroll bar will take its columns
            width -= results.styles.scrollbar_size_vertical
        titles, lines = self._lines(rows, width)
        results.add_options(Option(line) for line in lines)
        columns.update(titles)
        columns.display = bool(rows)
        if page is not None and page.after is not None and len(rows) < height:
            self._load_more()  # the list is not full yet: nothing to scroll to
        if rows:
            results.highlighted = min(highlighted or 0, len(rows) - 1)
        status = self.query_one("#helpdesk-status", Static)
        if not text.strip() or page is None:
            status.update(self._idle_status())
        else:
            status.update(self._status(text, page))
        self.refresh_bindings()

    def _status(self, text: str, page: HelpdeskPage) -> str:
        note = "" if self.signed_in.second_factor else f"\n{GUARDIANS_NOTE}"
        noun = "compte" if page.guardians else "élève"
        scope = "" if page.classes is None else f" dans {_scope(page.classes)}"
        if not self.rows:
            said = f"«\u00a0{escape(text.strip())}\u00a0»"
            if scope:
                return f"Aucun {noun} trouvé pour {said}{scope}.{note}"
            return f"Aucun {noun} ne correspond à {said}.{note}"
        count = french.count(page.total, noun)
        shown = len(self.rows)
        more = f" ({shown} affichés, la suite en descendant)" if shown < page.total else ""
        return f"{count}{scope}{more} · ↓ puis Entrée\u00a0: ouvrir{note}"

    def _lines(self, rows: list[HelpdeskRow], width: int) -> tuple[str, list[Text]]:
        """The column titles and one line per row, in columns sized on every loaded row:
        the identifier whole, the name taking what is left (cut with an ellipsis, never
        the identifier nor the block's end)."""
        guardians = self.page is not None and self.page.guardians
        kind_width = 6 if guardians else 0
        login_width = max((len(row.login) for row in rows), default=0) + 1
        login_width = max(login_width, len("Identifiant") + 1)  # its title never runs on
        births = width >= WIDE and any(row.birth_date is not None for row in rows)
        birth_width = 12 if births else 0
        # badge, kind, the space after the name, class, birth date, identifier
        fixed = 14 + kind_width + 1 + 8 + birth_width + login_width
        names = [_list_name(row) for row in rows]
        wanted = min(max(map(len, names), default=0), NAME_ROOM)
        blocks = [self._block(row, short=False) for row in rows]
        short = width - fixed - max(map(len, blocks), default=0) < wanted
        if short:  # « ⊘ 10:58 » under « Jusqu'à »: the names keep their room
            blocks = [self._block(row, short=True) for row in rows]
        room = width - fixed - max(map(len, blocks), default=0)
        name_width = max(12, min(room, max(map(len, names), default=0)))
        titles = (
            "État".ljust(14 + kind_width)
            + "Nom".ljust(name_width + 1)
            + "Classe".ljust(8)
            + "Naissance".ljust(birth_width)[:birth_width]
            + "Identifiant".ljust(login_width)
            + (("Jusqu'à" if short else "Blocage") if any(blocks) else "")
        )
        lines = []
        for row, name, block in zip(rows, names, blocks, strict=True):
            text = Text(no_wrap=True, overflow="ellipsis")
            badge = state_text(row.state, row.kind)
            badge.truncate(13, pad=True)
            text.append_text(badge)
            text.append(" ")
            if guardians:
                text.append("élève " if row.kind is AccountKind.PUPIL else "resp. ", style="dim")
            text.append(_fit(row, name, name_width).ljust(name_width) + " ")
            text.append(_cut(_classes(row), 7).ljust(8))
            if births:
                born = date_text(row.birth_date) if row.birth_date is not None else ""
                text.append(born.ljust(birth_width), style="dim")
            text.append(row.login.ljust(login_width), style="bold")
            text.append(block, style=colour_style(StateColour.RED))
            lines.append(text)
        return titles[:width].rstrip(), lines

    def _block(self, row: HelpdeskRow, *, short: bool) -> str:
        """« ⊘ jusqu'à 10:58 » (today) or « ⊘ jusqu'au 17/11 10:58 », the school's time."""
        if row.blocked_until is None:
            return ""
        time = self.services.time
        if time.today(row.blocked_until) == self.services.today():
            until = time.time(row.blocked_until)
            return f"{BLOCKED_SYMBOL} {until}" if short else f"{BLOCKED_SYMBOL} jusqu'à {until}"
        until = time.day_and_time(row.blocked_until)
        return f"{BLOCKED_SYMBOL} {until}" if short else f"{BLOCKED_SYMBOL} jusqu'au {until}"

    # -- keys ----------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "open" and not self.rows:
            return None
        if (
            action == "back"
            and self.is_root
            and not self.query_one("#helpdesk-search", Input).value
        ):
            return None
        return True

    def action_focus_search(self) -> None:
        self.set_focus(self.query_one("#helpdesk-search", Input))

    def action_to_results(self) -> None:
        results = self.query_one("#helpdesk-results", OptionList)
        if self.rows:
            if results.highlighted is None:
                results.highlighted = 0
            self.set_focus(results)

    def action_open(self) -> None:
        """Enter: from the field, the only result opens, or the list takes the focus."""
        results = self.query_one("#helpdesk-results", OptionList)
        if not self.rows:
            return
        if self.focused is not results and len(self.rows) > 1:
            self.action_to_results()
            return
        index = results.highlighted if results.highlighted is not None else 0
        self._open(self.rows[min(index, len(self.rows) - 1)])

    @on(OptionList.OptionSelected, "#helpdesk-results")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        if 0 <= event.option_index < len(self.rows):
            self._open(self.rows[event.option_index])

    def _open(self, row: HelpdeskRow) -> None:
        def closed(changed: bool | None) -> None:
            if changed:  # the rows loaded so far, again: the cursor stays on that account
                self._search(self.searched or "", max(PAGE_SIZE, len(self.rows)))

        self.app.push_screen(AccountActionsScreen(self.services, self.signed_in, row), closed)

    def action_back(self) -> None:
        """Échap: list → field; a typed search is cleared; then back to the home page."""
        search = self.query_one("#helpdesk-search", Input)
        if self.focused is not search:
            self.set_focus(search)
        elif search.value:
            search.value = ""
        elif not self.is_root:
            self.dismiss()


def _scope(classes: tuple[str, ...]) -> str:
    """« vos délégations : 3E2, 3E3 » (markup)."""
    return f"vos délégations\u00a0: {escape(', '.join(classes) or 'aucune classe')}"


def _list_name(row: HelpdeskRow) -> str:
    """« LAST First », with the civility of a guardian, then the children the search
    found them through: « Mme DIALLO Awa (Léa MARTIN) », « Mme MARTIN Sophie (Lucas) »."""
    name = f"{row.last_name.upper()} {row.first_name}".strip()
    name = f"{row.civility} {name}" if row.civility else name
    return f"{name} ({_children(row)})" if row.through else name


def _children(row: HelpdeskRow) -> str:
    """The children's first names, with their last name when it is not the guardian's."""
    return ", ".join(
        child.first_name
        if child.last_name.upper() == row.last_name.upper()
        else f"{child.first_name} {child.last_name.upper()}"
        for child in row.through
    )


def _fit(row: HelpdeskRow, name: str, width: int) -> str:
    """The name in ``width``: the guardian's own name is cut before the child's, who is
    why this row was found."""
    if len(name) <= width or not row.through:
        return _cut(name, width)
    children = f" ({_children(row)})"
    own = len(name) - len(children)
    keep = max(width - len(children), min(own, CHILD_KEEPS_NAME))
    return _cut(_cut(name[:own], keep) + children, width)


def _classes(row: HelpdeskRow) -> str:
    """A pupil's class; a guardian's children's classes, only those of the children the
    search found them through when it did."""
    if not row.through:
        return row.division
    return ", ".join(dict.fromkeys(child.division for child in row.through))


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
