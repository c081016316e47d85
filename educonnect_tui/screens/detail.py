"""Account detail: everything known about one account, its history, and what can be done."""

from __future__ import annotations

import datetime as dt

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from .. import keys
from ..domain.access.caller import SchoolSession
from ..domain.accounts.detail import AccountDetail, account_detail
from ..domain.accounts.notification import NotifyResult
from ..domain.accounts.selection import Selection
from ..domain.model import french
from ..domain.model.calendar import SchoolTime, date_text
from ..domain.model.enums import AccountKind, AccountState, Module, StaffRole
from ..domain.model.printable import escaped
from ..domain.model.states import NOTIFIABLE
from ..domain.store.services import Services
from ..widgets.key_bar import KeyBar
from ..widgets.state_badge import BLOCKED_SYMBOL, state_text
from ..widgets.worker_errors import ReportsWorkerErrors
from .account_actions import Target, start_reset, start_unblock
from .notify import NotifyPlan, start_notify

# Wide enough for the longest label; values wrap in the column beside it, so a long
# address or history line keeps its indentation at 80 columns.
LABEL_WIDTH = 14


def when(time: SchoolTime, value: dt.datetime | None) -> str:
    """The school's time, as on the helpdesk screen: the same instant reads the same."""
    return "—" if value is None else time.date_time(value)


def day(value: dt.date | None) -> str:
    return "—" if value is None else date_text(value)


def _grid(*widths: int | None) -> Table:
    table = Table.grid(padding=(0, 1), expand=True)
    for width in widths:
        if width is None:
            table.add_column(ratio=1, overflow="fold")
        else:
            table.add_column(width=width, no_wrap=True)
    return table


def _heading(title: str, note: str = "") -> Text:
    text = Text.assemble("\n", (title, "bold underline"))
    if note:
        text.append(f" ({note})")
    return text


class DetailScreen(ReportsWorkerErrors, Screen[None]):
    BINDINGS = keys.bindings(keys.DETAIL_KEYS)
    HELP_TITLE = "détail d'un compte"

    def __init__(self, services: Services, signed_in: SchoolSession, account_id: int) -> None:
        super().__init__()
        self.services = services
        self.signed_in = signed_in
        self.account_id = account_id
        self.detail: AccountDetail | None = None

    def compose(self) -> ComposeResult:
        yield Static("Détail du compte", id="detail-title")
        with VerticalScroll(id="detail-body"):
            yield Static("Chargement…", id="detail-account")
            yield Static("", id="detail-relatives")
            yield Static("", id="detail-history")
        yield KeyBar()

    def on_mount(self) -> None:
        # The states are drawn in the theme's shades: drawn again when it changes.
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._redraw())
        self.load()

    def _redraw(self) -> None:
        if self.detail is not None:
            self._show(self.detail)

    @work(thread=True, exclusive=True, group="detail", exit_on_error=False)
    def load(self) -> None:
        detail = escaped(account_detail(self.services, self.signed_in, self.account_id))
        self.app.call_from_thread(self._show, detail)

    def _show(self, detail: AccountDetail) -> None:
        self.detail = detail
        title = Text.assemble(
            (f"{detail.first_name} {detail.last_name}".strip(), "bold"),
            f" — {detail.kind.label} — identifiant ",
            (detail.login, "bold"),
        )
        if detail.blocked:
            title.append(f"  {BLOCKED_SYMBOL} bloqué", style="bold")
        self.query_one("#detail-title", Static).update(title)
        self.query_one("#detail-account", Static).update(
            account_section(detail, self.services.time)
        )
        self.query_one("#detail-relatives", Static).update(relatives_section(detail))
        self.query_one("#detail-history", Static).update(
            history_section(detail, self.services.time)
        )
        self.refresh_bindings()

    # -- actions ---------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Greyed (None) when the action does not apply now; hidden when it never can."""
        d = self.detail
        if action in ("renotify", "reset_password"):
            return None if d is None or d.state is AccountState.DEACTIVATED else True
        if action == "unblock":
            return None if d is None or not d.blocked else True
        if action == "audit_history":
            # Cosmetic (the audit screen's query checks again): direction, administration.
            identity = self.signed_in.identity
            return (
                identity.role is StaffRole.DIRECTION
                and self.signed_in.module is Module.ADMINISTRATION
            )
        if action == "notify_guardians":
            if d is not None and d.kind is AccountKind.GUARDIAN:
                return False
            return None if d is None or not d.relatives else True
        return True

    def action_back(self) -> None:
        self.dismiss()

    def action_audit_history(self) -> None:
        """`h`: the audit trail, filtered on this account (« Historique complet »)."""
        from .audit import AuditScreen

        self.app.push_screen(AuditScreen(self.services, self.signed_in, self.account_id))

    def action_renotify(self) -> None:
        d = self.detail
        if d is None:
            return
        selection = Selection(account_ids=(d.account_id,), states=NOTIFIABLE)
        start_notify(self, NotifyPlan(d.kind, selection, f"le compte {d.login}"))

    def action_notify_guardians(self) -> None:
        d = self.detail
        if d is None or d.kind is not AccountKind.PUPIL:
            return
        from .guardians_notify import notify_guardians_of

        notify_guardians_of(self, d.account_id, f"{d.first_name} {d.last_name}", d.division or "")

    def _target(self) -> Target | None:
        d = self.detail
        if d is None:
            return None
        return Target(
            account_id=d.account_id,
            kind=d.kind,
            name=" ".join(p for p in (d.civility, d.first_name, d.last_name) if p),
            login=d.login,
            division=d.division or "",
            blocked_until=d.blocked_until if d.blocked else None,
            birth_date=d.birth_date,
        )

    def _reload(self) -> None:
        self.load()

    def action_reset_password(self) -> None:
        """`x`: the helpdesk's reset, for pupils and guardians alike (the domain decides)."""
        target = self._target()
        if target is not None:
            start_reset(self, target, self._reload)

    def action_unblock(self) -> None:
        target = self._target()
        if target is not None:
            start_unblock(self, target, self._reload)

    def notified(self, request: NotifyPlan, result: NotifyResult) -> None:
        self.load()


# -- sections, as Rich renderables (module level so tests can render them as text) ------


def account_section(d: AccountDetail, time: SchoolTime) -> RenderableType:
    grid = _grid(LABEL_WIDTH, None)
    state = state_text(d.state, d.kind, short=False)
    grid.add_row(Text("État", style="bold"), state)
    if d.blocked:
        grid.add_row(
            Text(f"{BLOCKED_SYMBOL} Bloqué", style="bold"),
            f"jusqu'au {when(time, d.blocked_until)}, "
            f"après {french.count(d.failed_attempts, 'essai infructueux', 'essais infructueux')} "
            " (identifiant, mot de passe, code ou date de naissance erronés). "
            "Touche u pour débloquer.",
        )
    elif d.failed_attempts:
        grid.add_row(
            Text("Essais", style="bold"),
            french.count(d.failed_attempts, "essai infructueux", "essais infructueux")
            + " depuis la dernière connexion réussie",
        )
    rows: list[tuple[str, str]]
    if d.kind is AccountKind.PUPIL:
        division = d.division or "—"
        rows = [
            ("Classe", division if d.enrolled else f"{division} (a quitté l'établissement)"),
            ("Né(e) le", day(d.birth_date)),
            ("INE", d.ine or "—"),
        ]
        if d.email:
            rows.append(("Courriel", d.email))
    else:
        email = d.email or "—"
        if d.email:
            confirmed = d.email_confirmed_at
            email += f" (confirmé le {when(time, confirmed)})" if confirmed else " (non confirmé)"
        rows = [
            ("Civilité", d.civility or "—"),
            ("Courriel", email),
            ("Portable", d.mobile or "—"),
            ("Adresse", d.address or "—"),
        ]
    rows.append(("", ""))
    if d.notification_count:
        rows.append(
            ("Notifications", f"{d.notification_count}, la dernière le {when(time, d.notified_at)}")
        )
    else:
        rows.append(("Notifications", "jamais notifié"))
    if d.temp_issued_at is not None:
        issued, expires = when(time, d.temp_issued_at), when(time, d.temp_expires_at)
        temp = f"remis le {issued}, valable jusqu'au {expires}"
        if d.temp_expired and d.state is AccountState.NOTIFIED:
            temp += " — expiré\u00a0: à renotifier"
        rows.append(("Provisoire", temp))
    if d.activated_at is not None:
        method = f" ({d.activation_method.label})" if d.activation_method else ""
        rows.append(("Activé le", f"{when(time, d.activated_at)}{method}"))
    for label, value in rows:
        grid.add_row(Text(label, style="bold"), value)
    return grid


def relatives_section(d: AccountDetail) -> RenderableType:
    is_guardian = d.kind is AccountKind.GUARDIAN
    title = _heading("Enfants" if is_guardian else "Représentants légaux")
    if not d.relatives:
        return Group(title, Text("  aucun"))
    kind = AccountKind.PUPIL if is_guardian else AccountKind.GUARDIAN
    grid = _grid(LABEL_WIDTH, None)
    for r in d.relatives:
        line = Text(r.name, style="bold")
        if r.division:
            line.append(f" — {r.division}, {r.school}")
        if r.relationship:
            line.append(f" — {r.relationship.lower()}")
        if not r.legal_guardian:
            line.append(" (non représentant légal)")
        if r.state is None or r.login is None:
            grid.add_row(Text("contact", style="dim"), line.append(" · sans compte"))
            continue
        line.append(f" · {r.login}")
        grid.add_row(state_text(r.state, kind), line)
    return Group(title, grid)


def history_section(d: AccountDetail, time: SchoolTime) -> RenderableType:
    title = _heading("Historique", "actions du personnel, les plus récentes d'abord")
    if not d.history:
        return Group(title, Text("  aucune action enregistrée"))
    grid = _grid(18, None)
    for h in d.history:
        line = Text(h.action, style="bold")
        if h.details:
            line.append(f" — {h.details}")
        line.append(f" · par {h.who}, depuis {h.source}")
        grid.add_row(when(time, h.at), line)
    return Group(title, grid)
