"""Account detail: everything known about one account, its history, and what can be done."""

from __future__ import annotations

import datetime as dt

from rich.markup import escape
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from .. import keys
from ..domain.auth import SignedIn
from ..domain.detail import AccountDetail, account_detail
from ..domain.enums import AccountKind, AccountState
from ..domain.notification import NotifyResult
from ..domain.selection import Selection
from ..domain.services import Services
from ..widgets.state_badge import state_text
from ..widgets.worker_errors import ReportsWorkerErrors
from .helpdesk import Target, start_reset, start_unblock
from .notify import NotifyRequest, start_notify

NOTIFIABLE = tuple(s for s in AccountState if s is not AccountState.DEACTIVATED)


def when(value: dt.datetime | None) -> str:
    return "—" if value is None else value.astimezone().strftime("%d/%m/%Y %H:%M")


def day(value: dt.date | None) -> str:
    return "—" if value is None else value.strftime("%d/%m/%Y")


class DetailScreen(ReportsWorkerErrors, Screen[None]):
    BINDINGS = [
        Binding("escape", "back", "Retour", id="detail_back"),
        Binding("n", "renotify", "(re)Notifier", id="detail_notify"),
        Binding("r", "notify_guardians", "Notifier resp.", id="detail_notify_guardians"),
        *keys.bindings(keys.DETAIL_KEYS),
    ]

    def __init__(self, services: Services, signed_in: SignedIn, account_id: int) -> None:
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
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="detail", exit_on_error=False)
    def load(self) -> None:
        school = self.signed_in.school
        assert school is not None
        detail = account_detail(self.services, school.id, self.account_id, self.signed_in)
        self.app.call_from_thread(self._show, detail)

    def _show(self, detail: AccountDetail) -> None:
        self.detail = detail
        self.query_one("#detail-title", Static).update(
            f"[b]{escape(detail.first_name)} {escape(detail.last_name)}[/b] — "
            f"{detail.kind.label} — identifiant [b]{escape(detail.login)}[/b]"
        )
        self.query_one("#detail-account", Static).update(self._account_text(detail))
        self.query_one("#detail-relatives", Static).update(self._relatives_text(detail))
        self.query_one("#detail-history", Static).update(self._history_text(detail))
        self.refresh_bindings()

    @staticmethod
    def _account_text(d: AccountDetail) -> str:
        state = state_text(d.state, d.kind, short=False).markup
        lines = [f"[b]État[/b]          {state}"]
        if d.blocked:
            lines.append(
                f"[b]⊘ Bloqué[/b] jusqu'au {when(d.blocked_until)} après trop d'essais "
                "infructueux (identifiant, mot de passe ou date de naissance erronés)."
            )
        elif d.failed_attempts:
            lines.append(f"Essais infructueux depuis la dernière connexion : {d.failed_attempts}")
        if d.kind is AccountKind.PUPIL:
            lines += [
                f"[b]Classe[/b]        {escape(d.division or '—')}"
                + ("" if d.enrolled else "  (a quitté l'établissement)"),
                f"[b]Né(e) le[/b]      {day(d.birth_date)}",
                f"[b]INE[/b]           {escape(d.ine or '—')}",
            ]
        else:
            lines += [
                f"[b]Civilité[/b]      {escape(d.civility or '—')}",
                f"[b]Courriel[/b]      {escape(d.email or '—')}",
                f"[b]Portable[/b]      {escape(d.mobile or '—')}",
                f"[b]Adresse[/b]       {escape(d.address or '—')}",
            ]
        method = d.activation_method.label if d.activation_method else "—"
        temp = "—"
        if d.temp_issued_at is not None:
            expired = "  [b]expiré : à renotifier[/b]" if d.temp_expired else ""
            temp = f"remis le {when(d.temp_issued_at)}, valable jusqu'au {when(d.temp_expires_at)}"
            temp += expired
        lines += [
            "",
            f"[b]Notifications[/b] {d.notification_count} (dernière : {when(d.notified_at)})",
            f"[b]Provisoire[/b]    {temp}",
            f"[b]Activation[/b]    {when(d.activated_at)} ({escape(method)})",
        ]
        if d.kind is AccountKind.GUARDIAN:
            lines.append(f"[b]Courriel confirmé[/b] {when(d.email_confirmed_at)}")
        return "\n".join(lines)

    @staticmethod
    def _relatives_text(d: AccountDetail) -> str:
        title = "Enfants" if d.kind is AccountKind.GUARDIAN else "Représentants légaux"
        if not d.relatives:
            return f"\n[b u]{title}[/b u]\n  aucun"
        lines = [f"\n[b u]{title}[/b u]"]
        for r in d.relatives:
            kind = AccountKind.PUPIL if d.kind is AccountKind.GUARDIAN else AccountKind.GUARDIAN
            badge = state_text(r.state, kind).markup
            where = f" — {escape(r.division)}, {escape(r.school)}" if r.division else ""
            legal = "" if r.legal_guardian else " (non représentant légal)"
            relation = f" [{escape(r.relationship.lower())}]" if r.relationship else ""
            lines.append(
                f"  {badge}  {escape(r.name)}{where}{escape(relation)}{legal} · {escape(r.login)}"
            )
        return "\n".join(lines)

    @staticmethod
    def _history_text(d: AccountDetail) -> str:
        lines = ["\n[b u]Historique[/b u] (actions du personnel, les plus récentes d'abord)"]
        if not d.history:
            lines.append("  aucune action enregistrée")
        for h in d.history:
            details = f" — {escape(h.details)}" if h.details else ""
            lines.append(
                f"  {when(h.at)}  {escape(h.action)}{details}  par {escape(h.who)} "
                f"depuis {escape(h.source)}"
            )
        return "\n".join(lines)

    # -- actions ---------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        d = self.detail
        if action == "renotify":
            return None if d is None or d.state is AccountState.DEACTIVATED else True
        if action == "reset_password":
            return None if d is None or d.state is AccountState.DEACTIVATED else True
        if action == "unblock":
            return None if d is None or not d.blocked else True
        pupil = d is not None and d.kind is AccountKind.PUPIL and bool(d.relatives)
        if action == "notify_guardians" and not pupil:
            return None
        return True

    def action_back(self) -> None:
        self.dismiss()

    def action_renotify(self) -> None:
        d = self.detail
        if d is None:
            return
        selection = Selection(account_ids=(d.account_id,), states=NOTIFIABLE)
        start_notify(self, NotifyRequest(d.kind, selection, f"le compte {d.login}"))

    def action_notify_guardians(self) -> None:
        d = self.detail
        if d is None or d.kind is not AccountKind.PUPIL:
            return
        selection = Selection(states=NOTIFIABLE, guardians_of_pupil=d.account_id)
        scope = f"les représentants légaux de {d.first_name} {d.last_name}"
        start_notify(self, NotifyRequest(AccountKind.GUARDIAN, selection, scope))

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

    def notified(self, request: NotifyRequest, result: NotifyResult) -> None:
        self.load()
