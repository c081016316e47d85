"""(Re)notification: new temporary credentials and the documents to hand out, together.

The order of the steps is what makes it safe:
1. check where the documents go (``publishing.check``) and clear what a killed run left
   there (``publishing.sweep``);
2. read the selection (ids, versions and what the documents print), leaving out the
   accounts whose document would need a character no shipped font has (named in the
   result, password unchanged: a slip never prints a name with a hole);
3. draw passwords and hash them on every core (progress per account, cancellable);
4. render the documents of the accounts going on paper and stage them as hidden 0600
   files; build the e-mails of the others (``mail.notices``);
5. in one transaction: lock the accounts and leave out those someone changed meanwhile
   (then render again without them), apply the state machine, store the hashes, queue
   the e-mails in the outbox, audit; publish the documents under their final names
   (``files.Publication``); commit.
A failure before the commit removes the documents and rolls back, the queued e-mails
with it; a crash between the publication and the commit leaves markers that the next
run settles. So either the old passwords still work and no new document or e-mail
exists, or the new passwords work and their complete documents and e-mails exist.

A reminder (``reset`` False) takes the same steps without 3 and without touching the
accounts: the documents and e-mails give the identifier and the ways to activate or
recover a password, never a password.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ..access import sessions
from ..access.caller import Caller
from ..access.passwords import (
    generate_temporary_password,
    hash_many,
    run_in_background,
    stop_workers,
    worker_count,
)
from ..access.permissions import Action
from ..documents import glyphs, letters, mail_merge, slips
from ..documents.credentials import (
    DocumentContext,
    GuardianCredential,
    PupilCredential,
    SchoolHeader,
)
from ..documents.files import Publication, app_folder, free_name
from ..mail.notices import notice_email
from ..mail.queue import Email, queue_email
from ..model import french
from ..model.enums import AccountKind, AccountState, NotifyChannel
from ..model.errors import (
    Cancelled,
    ConcurrentModification,
    DocumentError,
    DomainError,
    InvalidInput,
    sentences,
)
from ..model.states import NOTIFIABLE, NOTIFIED_BY_DEFAULT
from ..model.tables import Account, Division, Establishment, Guardian, Pupil
from ..store import audit
from ..store.audit import Actor
from ..store.services import Services
from . import publishing
from .guardian_children import legal_children
from .issuing import expiry, issue_all
from .selection import Selection, accounts_of, require_selection

# (phase, done, total): phases are "hachage", "documents", "enregistrement".
Progress = Callable[[str, int, int], None]
_CHUNK = 500


@dataclass(frozen=True)
class NotifyResult:
    """What was done: ``left_out`` are the logins someone changed meanwhile (not notified,
    not in the documents); ``unprintable`` the accounts left out because their document
    would need a character no font has (« login (U+…) »); ``swept`` the documents of a
    killed run that were removed."""

    kind: AccountKind
    count: int
    files: tuple[Path, ...]
    by_division: dict[str, int] = field(default_factory=dict)
    left_out: tuple[str, ...] = ()
    swept: tuple[Path, ...] = ()
    unprintable: tuple[str, ...] = ()
    emailed: int = 0
    reset: bool = True
    # Under the e-mail channel, the accounts without an address: not notified.
    no_address: tuple[str, ...] = ()

    @property
    def on_paper(self) -> int:
        return self.count - self.emailed

    def headline(self) -> str:
        """« 1 compte élève notifié. », « 3 comptes représentants légaux notifiés. »"""
        done = ("notifié", "notifiés") if self.reset else ("rappelé", "rappelés")
        if self.kind is AccountKind.PUPIL:
            noun = french.count(self.count, f"compte élève {done[0]}", f"comptes élèves {done[1]}")
        else:
            noun = french.count(
                self.count,
                f"compte représentant légal {done[0]}",
                f"comptes représentants légaux {done[1]}",
            )
        if self.reset:
            return f"{noun}."
        return f"{noun} (rappel sans réinitialisation : aucun mot de passe modifié)."

    def channel_line(self) -> str:
        """« 2 par courriel (en attente d'envoi), 1 sur papier »"""
        return channel_words(self.emailed, self.on_paper)

    def left_out_line(self) -> str:
        n = len(self.left_out)
        return (
            f"{french.count(n, 'compte modifié')} par quelqu'un d'autre pendant l'opération, "
            f"{french.agreed(n, 'laissé')} de côté (à notifier de nouveau)\u00a0: "
            + ", ".join(self.left_out)
        )

    def lines(self) -> list[str]:
        out = [self.headline(), self.channel_line()]
        out += [f"  {name}\u00a0: {n}" for name, n in sorted(self.by_division.items())]
        out += [f"Document écrit\u00a0: {path}" for path in self.files]
        if self.no_address:
            out.append(no_address_line(self.no_address, self.reset))
        if self.left_out:
            out.append(self.left_out_line())
        if self.unprintable:
            out.append(unprintable_line(self.unprintable))
        return out + publishing.swept_lines(self.swept)


def channel_words(emailed: int, on_paper: int) -> str:
    """« 2 par courriel (en attente d'envoi), 1 sur papier »"""
    return (
        f"{emailed} par courriel (en attente d'envoi), {on_paper} sur papier"
        if emailed
        else f"{on_paper} sur papier"
    )


def unreached(n: int, reset: bool = True) -> str:
    """What the accounts left out for want of an address miss: « non notifié(s) », or
    for a reminder « sans rappel » (« non notifié » alone would read as the state)."""
    return french.agreed(n, "non notifié", "non notifiés") if reset else "sans rappel"


def no_address_line(accounts: Sequence[str], reset: bool = True) -> str:
    n = len(accounts)
    return (
        f"{french.count(n, 'compte')} {unreached(n, reset)}, "
        f"sans adresse électronique enregistrée\u00a0: " + ", ".join(accounts)
    )


def unprintable_line(accounts: Sequence[str]) -> str:
    """Why some accounts were left out, and what to do about it."""
    n = len(accounts)
    return (
        f"{french.count(n, 'compte laissé')} de côté, "
        f"{french.agreed(n, 'mot de passe inchangé', 'mots de passe inchangés')}\u00a0: "
        f"{french.agreed(n, 'son', 'leur')} document contiendrait des "
        "caractères qu'aucune police fournie ne sait imprimer (le nom serait incomplet). "
        "Corrigez l'orthographe dans SIECLE puis notifiez de nouveau\u00a0: " + ", ".join(accounts)
    )


def default_paths(services: Services, caller: Caller, kind: AccountKind) -> tuple[Path, Path]:
    """Where the TUI writes a notification's PDF and CSV unless told otherwise.

    Names already taken get a suffix: a previous document may hold the only copy of
    passwords issued a second earlier (and publication never replaces a file anyway).
    """
    stamp = services.time.stamp(services.clock())
    who = "eleves" if kind is AccountKind.PUPIL else "responsables"
    stem = f"{who}_{caller.school.uai}_{stamp}"
    folder = app_folder(services.settings.output_dir / "notifications")

    def named(ext: str) -> Callable[[int], Path]:
        return lambda n: folder / (f"{stem}.{ext}" if n == 1 else f"{stem}_{n}.{ext}")

    pdf, csv = free_name(named("pdf"), named("csv"))
    return pdf, csv


@dataclass(frozen=True)
class NotifyRequest:
    """What to notify: one kind of account, a selection, and where the documents go.

    The paths are needed only by ``notify``, and only when documents go on paper;
    counting before confirming needs none. An existing file at a path is refused
    unless ``overwrite``. ``channel`` says how each holder is reached; without
    ``reset`` the notification is a reminder: no password drawn, nothing of the
    account changed (docs/domain.md, « Rappel sans réinitialisation »).
    """

    kind: AccountKind
    selection: Selection
    pdf_path: Path | None = None
    csv_path: Path | None = None
    overwrite: bool = False
    channel: NotifyChannel = NotifyChannel.PAPER
    reset: bool = True
    # How many activated accounts the person confirmed (« --activated N », the number
    # typed in the dialog): a reset never replaces more personal passwords than that.
    activated_confirmed: int = 0


@dataclass(frozen=True)
class NotifyPreview:
    """What ``notify`` would touch: by state (activated ones will have to activate again),
    how many are blocked after failed sign-ins (a reset unblocks them), how many go by
    e-mail and on paper, and, under the e-mail channel, how many have no address (left
    out)."""

    by_state: dict[AccountState, int]
    blocked: int
    emailed: int = 0
    without_address: int = 0
    channel: NotifyChannel = NotifyChannel.PAPER
    reset: bool = True
    # Désactivé accounts the selection shows, never notified: said, not silently dropped.
    deactivated: int = 0

    @property
    def total(self) -> int:
        return sum(self.by_state.values())

    @property
    def on_paper(self) -> int:
        return self.total - self.emailed

    @property
    def needs_pdf(self) -> bool:
        """Whether paper documents would be produced (and so a PDF path is needed)."""
        return self.on_paper > 0

    @property
    def to_confirm(self) -> int:
        """The activated accounts whose personal password a reset would replace: counted
        and confirmed (``--activated N``). A reminder replaces nothing: none to confirm."""
        return self.by_state.get(AccountState.ACTIVATED, 0) if self.reset else 0


def address_on_file(kind: AccountKind) -> ColumnElement[str | None]:
    """« L'adresse enregistrée », in SQL (the query joins ``Guardian`` for guardians).

    A pupil's is the address confirmed in EduConnect (``Account.email`` once
    ``email_confirmed_at`` is set): an unconfirmed one may be mistyped or someone
    else's. A guardian's is the one they confirmed in EduConnect if any, otherwise the
    one the school keeps in SIECLE (``Guardian.email``), if it looks like one.
    """
    confirmed = case((Account.email_confirmed_at.is_not(None), func.nullif(Account.email, "")))
    if kind is AccountKind.PUPIL:
        return confirmed
    # SIECLE holds what a secretary typed: « néant », « - » or a phone number is no address
    # (the account then goes on paper rather than its password to nowhere).
    siecle = func.trim(Guardian.email)
    shaped = case((siecle.like("%_@_%.%") & siecle.not_like("% %"), siecle))
    return func.coalesce(confirmed, shaped)


def _routes(channel: NotifyChannel, has_address: bool) -> str | None:
    """Where one account goes: "email", "paper", or None (e-mail channel, no address)."""
    if channel is NotifyChannel.PAPER:
        return "paper"
    if has_address:
        return "email"
    return "paper" if channel is NotifyChannel.AUTO else None


def preview(services: Services, caller: Caller, request: NotifyRequest) -> NotifyPreview:
    """Checked and narrowed exactly as ``notify`` will be, so the confirmation counts what
    will really happen."""
    selection = require_selection(services, caller, Action.NOTIFY, request.kind, request.selection)
    now = services.clock()
    with services.sessions() as session:
        ids = accounts_of(request.kind, caller.school.id, _notifiable(selection))
        blocked = case((Account.blocked_until > now, 1), else_=0)
        has_address = case((address_on_file(request.kind).is_not(None), 1), else_=0)
        query = (
            select(Account.state, has_address, func.count(), func.sum(blocked))
            .outerjoin(Guardian, Guardian.id == Account.guardian_id)
            .where(Account.id.in_(ids))
            .group_by(Account.state, has_address)
        )
        rows = session.execute(query).all()
        deactivated = 0
        if AccountState.DEACTIVATED in selection.states:
            shown = replace(selection, states=(AccountState.DEACTIVATED,))
            deactivated = (
                session.scalar(
                    select(func.count()).select_from(
                        accounts_of(request.kind, caller.school.id, shown).subquery()
                    )
                )
                or 0
            )
    by_state: dict[AccountState, int] = {}
    counted = {"email": 0, "blocked": 0, "without": 0}
    for state, addressed, n, b in rows:
        route = _routes(request.channel, bool(addressed))
        if route is None:
            counted["without"] += int(n)
            continue
        by_state[AccountState(state)] = by_state.get(AccountState(state), 0) + int(n)
        counted["blocked"] += int(b or 0)
        counted["email"] += int(n) if route == "email" else 0
    return NotifyPreview(
        by_state=by_state,
        blocked=counted["blocked"],
        emailed=counted["email"],
        without_address=counted["without"],
        channel=request.channel,
        reset=request.reset,
        deactivated=deactivated,
    )


def deactivated_line(n: int) -> str:
    """« 2 comptes désactivés de la sélection ne sont jamais notifiés. »"""
    never = french.agreed(n, "n'est jamais notifié", "ne sont jamais notifiés")
    return f"{french.count(n, 'compte désactivé', 'comptes désactivés')} de la sélection {never}."


def planned_lines(planned: NotifyPreview, kind: AccountKind) -> list[str]:
    """What a notification would do, said before it is done (``notify --dry-run``)."""
    noun = (
        ("compte élève", "comptes élèves")
        if kind is AccountKind.PUPIL
        else (
            "compte représentant légal",
            "comptes représentants légaux",
        )
    )
    done = ("serait notifié", "seraient notifiés")
    if not planned.reset:
        done = ("recevrait un rappel", "recevraient un rappel")
    out = [
        "Simulation\u00a0: aucun mot de passe n'a été modifié, aucun document écrit, "
        "aucun courriel mis en attente.",
        f"{french.count(planned.total, *noun)} "
        f"{french.agreed(planned.total, *done)}" + ("\u00a0:" if planned.total else "."),
    ]
    out += [
        f"  {state.symbol} {state.label}\u00a0: {n}"
        for state, n in sorted(planned.by_state.items())
    ]
    if planned.total:
        out.append(
            f"  canal {planned.channel.label}\u00a0: "
            + channel_words(planned.emailed, planned.on_paper)
        )
    if planned.without_address:
        n = planned.without_address
        out.append(
            f"  {french.count(n, 'compte sans adresse', 'comptes sans adresse')} "
            "électronique\u00a0: "
            + (
                french.agreed(n, "il ne serait pas notifié", "ils ne seraient pas notifiés")
                if planned.reset
                else french.agreed(n, "il n'aurait pas de rappel", "ils n'auraient pas de rappel")
            )
            + "."
        )
    if not planned.reset:
        out.append(
            "  Rappel sans réinitialisation\u00a0: l'identifiant et les moyens d'activer ou de "
            "retrouver le mot de passe, aucun mot de passe ne serait modifié."
        )
    elif planned.blocked:
        out.append(
            f"  dont {french.count(planned.blocked, 'bloqué')}, "
            f"{french.agreed(planned.blocked, 'qui serait débloqué', 'qui seraient débloqués')}."
        )
    activated = planned.to_confirm
    if activated:
        out.append(
            f"  {french.count(activated, 'déjà activé', 'déjà activés')}\u00a0: "
            f"à confirmer avec --activated {activated}."
        )
    if planned.deactivated:
        out.append("  " + deactivated_line(planned.deactivated))
    return out


def _notifiable(selection: Selection) -> Selection:
    """Désactivé accounts are never notified; no state chosen means red and yellow."""
    states = tuple(s for s in selection.states or NOTIFIED_BY_DEFAULT if s in NOTIFIABLE)
    if not states:
        raise InvalidInput("Un compte désactivé ne peut pas être notifié.")
    return replace(selection, states=states)


@dataclass(frozen=True)
class _Row:
    account_id: int
    version: int
    credential: PupilCredential | GuardianCredential
    address: str | None = None


def notify(
    services: Services,
    caller: Caller,
    request: NotifyRequest,
    *,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> NotifyResult:
    """Notify the selected accounts: documents on paper, e-mails in the outbox, or both.

    The caller is checked here (``permissions.require``) and the selection narrowed to
    its scope. Accounts someone else changes meanwhile are left out (and named in the
    result); the documents and e-mails never hold them. With ``request.reset`` each
    account gets new temporary credentials; without it, a reminder: nothing of the
    account changes and no password is drawn, printed or sent.
    """
    kind, pdf_path, csv_path = request.kind, request.pdf_path, request.csv_path
    if pdf_path is None and request.channel is NotifyChannel.PAPER:
        raise InvalidInput("Indiquez le fichier PDF des documents à remettre.")
    selection = require_selection(services, caller, Action.NOTIFY, kind, request.selection)
    _require_confirmed(services, caller, request)
    actor = caller.actor()
    now = services.clock()
    targets = (pdf_path, csv_path)
    try:
        publishing.check(services, targets, overwrite=request.overwrite)
    except DomainError as error:
        raise _unchanged(error) from error
    swept = publishing.sweep(services, targets)
    with services.sessions() as session:
        school = session.get_one(Establishment, caller.school.id)
        header = SchoolHeader.of(school)
        ids = list(session.scalars(accounts_of(kind, school.id, _notifiable(selection))))
        if not ids:
            raise InvalidInput(
                "Aucun compte ne correspond à la sélection\u00a0: rien n'a été notifié."
            )
        expires = expiry(services, kind, now)
        passwords: list[str | None] = [
            generate_temporary_password() if request.reset else None for _ in ids
        ]
        expires_on = services.time.today(expires) if request.reset else None
        rows = _rows(session, kind, school, ids, passwords, expires_on)
    no_address = tuple(
        sorted(
            r.credential.login for r in rows if _routes(request.channel, bool(r.address)) is None
        )
    )
    rows = [r for r in rows if _routes(request.channel, bool(r.address)) is not None]
    if not rows:
        raise InvalidInput(
            sentences(
                no_address_line(no_address, request.reset),
                "Rien n'a été notifié." if request.reset else "Aucun rappel n'a été envoyé.",
            )
            if no_address
            else "Aucun compte ne correspond à la sélection\u00a0: rien n'a été notifié."
        )
    rows, unprintable = _printable(rows, request.channel)
    if pdf_path is None and any(_on_paper(request.channel, r) for r in rows):
        raise InvalidInput(
            "Des documents sont à imprimer (comptes sans adresse électronique)\u00a0: "
            "indiquez le fichier PDF. Aucun mot de passe n'a été modifié."
        )

    def report(phase: str, done: int, total: int) -> None:
        if progress is not None:
            progress(phase, done, total)

    context = DocumentContext(
        school=header, portal_url=services.settings.portal_url, generated_at=now, time=services.time
    )
    paper = [r.credential for r in rows if _on_paper(request.channel, r)]
    with_csv = csv_path is not None
    workers = worker_count(services.settings.hash_workers)
    # The documents need the clear passwords, not their hashes: on several cores they are
    # drawn in their own process while the pool hashes, so the PDF costs no extra time
    # and the interface's process keeps the GIL for key presses.
    renderer = (
        ProcessPoolExecutor(max_workers=1, initializer=run_in_background, initargs=(os.getpid(),))
        if workers > 1 and len(paper) >= 8 and request.reset
        else None
    )
    try:
        drawing = (
            renderer.submit(_render_documents, context, kind, paper, with_csv)
            if renderer is not None
            else None
        )
        hashes: list[str | None] = (
            list(
                hash_many(
                    [r.credential.temp_password or "" for r in rows],
                    services.hash_params,
                    workers=services.settings.hash_workers,
                    progress=lambda done, total: report("hachage", done, total),
                    cancel=cancel,
                )
            )
            if request.reset
            else [None] * len(rows)
        )
        _check_cancel(cancel, request.reset)
        report("documents", 0, 1)
        documents = (
            drawing.result()
            if drawing is not None
            else (_render_documents(context, kind, paper, with_csv) if paper else None)
        )
    except BaseException:
        # Cancelled or failed: the documents will not be used; do not wait for them.
        if renderer is not None:
            stop_workers(renderer)
        raise
    finally:
        if renderer is not None:
            renderer.shutdown(wait=False, cancel_futures=True)
    pairs = list(zip(rows, hashes, strict=True))
    left_out: list[_Row] = []
    for _ in range(_ATTEMPTS):
        _check_cancel(cancel, request.reset)
        emails = [
            notice_email(context, r.credential, r.address, establishment_id=school.id)
            for r, _h in pairs
            if r.address is not None and not _on_paper(request.channel, r)
        ]
        publication = publishing.publication(services, now)
        try:
            if documents is not None:
                _stage_documents(publication, documents, request)
        except DocumentError as error:
            raise _unchanged(error, request.reset) from error
        report("documents", 1, 1)
        report("enregistrement", 0, 1)
        committed = False
        try:
            with services.sessions() as session:
                with session.begin():
                    by_division, stale = _apply(
                        session,
                        actor,
                        school.id,
                        request,
                        pairs,
                        now,
                        expires,
                        publication,
                        emails,
                        no_address,
                    )
                    if not stale:
                        # The last moment to stop: past it, the documents get their final
                        # names and the commit makes their passwords valid.
                        _check_cancel(cancel, request.reset)
                        publishing.check(services, targets, overwrite=request.overwrite)
                        publication.publish()
                committed = True
        except StaleDataError as error:
            publication.undo()
            raise ConcurrentModification(_CHANGED) from error
        except (DocumentError, InvalidInput) as error:
            publication.undo()
            raise _unchanged(error, request.reset) from error
        except BaseException:
            # Once committed, the documents hold the only valid passwords: they stay.
            if committed:
                publication.settle()
            else:
                publication.undo()
            raise
        if not stale:
            publication.settle()
            report("enregistrement", 1, 1)
            return NotifyResult(
                kind,
                len(pairs),
                publication.paths,
                by_division,
                left_out=tuple(sorted(r.credential.login for r in left_out)),
                swept=tuple(swept),
                unprintable=unprintable,
                emailed=len(emails),
                reset=request.reset,
                no_address=no_address,
            )
        publication.undo()
        left_out += stale
        gone = {r.account_id for r in stale}
        pairs = [(r, h) for r, h in pairs if r.account_id not in gone]
        if not pairs:
            break
        paper = [r.credential for r, _ in pairs if _on_paper(request.channel, r)]
        documents = _render_documents(context, kind, paper, with_csv) if paper else None
    raise ConcurrentModification(_CHANGED)


def _on_paper(channel: NotifyChannel, row: _Row) -> bool:
    return _routes(channel, row.address is not None) == "paper"


def sensitive(services: Services, planned: NotifyPreview) -> bool:
    """Whether notifying what ``planned`` counts is a sensitive action: more than
    ``settings.reauth_notify_over`` accounts, reminders included (either puts many
    documents or e-mails in circulation). It then needs a recent confirmation of the
    password (``sessions.require_recent_confirmation``; never for the ``Operator``).
    """
    return planned.total > services.settings.reauth_notify_over


def _require_confirmed(services: Services, caller: Caller, request: NotifyRequest) -> None:
    """Refuse a reset that would replace more personal passwords than were confirmed, and
    a large notification without a recent confirmation of the password.

    The interfaces ask for the number they counted (``NotifyPreview.to_confirm``);
    counted again here with the same rule, an account activated since, or a caller that
    asked for nothing, cannot slip through.
    """
    planned = preview(services, caller, request)
    if sensitive(services, planned):
        sessions.require_recent_confirmation(services, caller)
    activated = planned.to_confirm
    if activated > request.activated_confirmed:
        raise InvalidInput(
            f"{french.count(activated, 'compte déjà activé', 'comptes déjà activés')} "
            f"dans la sélection\u00a0: "
            + french.agreed(
                activated,
                "son mot de passe personnel serait remplacé",
                "leurs mots de passe personnels seraient remplacés",
            )
            + f", confirmez leur nombre ({activated}). Aucun mot de passe n'a été modifié."
        )


_ATTEMPTS = 3
_CHANGED = (
    "Des comptes ont été modifiés par quelqu'un d'autre pendant l'opération\u00a0: "
    "rien n'a été notifié, recommencez."
)


def _printable(rows: list[_Row], channel: NotifyChannel) -> tuple[list[_Row], tuple[str, ...]]:
    """The rows whose documents print whole, and « login (U+…) » for the others.

    Checked before any hashing: an account whose name would print with a hole keeps its
    old password, and the others are notified. Only the rows going on paper are
    checked (an e-mail has no font). If none is left, nothing is done.
    """
    kept: list[_Row] = []
    out: list[str] = []
    for row in rows:
        missing = glyphs.unprintable(row.credential) if _on_paper(channel, row) else ""
        if missing:
            out.append(f"{row.credential.login} ({glyphs.describe(missing)})")
        else:
            kept.append(row)
    if out and not kept:
        raise DocumentError(sentences(unprintable_line(out), "Aucun mot de passe n'a été modifié."))
    return kept, tuple(sorted(out))


def _unchanged(error: DomainError, reset: bool = True) -> DomainError:
    """The same refusal, saying what it means here: the old passwords still work."""
    said = "Aucun mot de passe n'a été modifié." if reset else "Aucun rappel n'a été envoyé."
    return type(error)(sentences(str(error), said))


def _check_cancel(cancel: threading.Event | None, reset: bool = True) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled(
            "Opération annulée\u00a0: aucun mot de passe n'a été modifié."
            if reset
            else "Opération annulée\u00a0: aucun rappel n'a été envoyé ni écrit."
        )


def _render_documents(
    context: DocumentContext,
    kind: AccountKind,
    credentials: Sequence[PupilCredential | GuardianCredential],
    with_csv: bool,
) -> tuple[bytes, bytes]:
    """The PDF and the CSV as bytes (run in a separate process on several cores)."""
    if kind is AccountKind.PUPIL:
        pupils = [c for c in credentials if isinstance(c, PupilCredential)]
        return slips.pupil_documents_pdf(context, pupils), (
            mail_merge.pupil_csv(pupils) if with_csv else b""
        )
    guardians = [c for c in credentials if isinstance(c, GuardianCredential)]
    return letters.guardian_letters_pdf(context, guardians), (
        mail_merge.guardian_csv(guardians, context.school.uai) if with_csv else b""
    )


def _stage_documents(
    publication: Publication, documents: tuple[bytes, bytes], request: NotifyRequest
) -> None:
    pdf, csv = documents
    assert request.pdf_path is not None
    publication.stage(request.pdf_path, pdf, overwrite=request.overwrite)
    if request.csv_path is not None:
        publication.stage(request.csv_path, csv, overwrite=request.overwrite)


def _apply(
    session: Session,
    actor: Actor,
    establishment_id: int,
    request: NotifyRequest,
    pairs: Sequence[tuple[_Row, str | None]],
    now: dt.datetime,
    expires: dt.datetime,
    publication: Publication,
    emails: Sequence[Email],
    no_address: Sequence[str],
) -> tuple[dict[str, int], list[_Row]]:
    """Store the hashes, queue the e-mails and audit, unless some accounts changed since
    they were read.

    The accounts are locked as they are read (PostgreSQL), so none can change between
    this check and the commit; the changed ones are returned and nothing is written.
    The e-mails are queued here, in the transaction of the passwords they announce: they
    exist exactly when those passwords do. A reminder changes no account: it only
    queues its e-mails and is audited as ``notify_reminder``.
    """
    accounts: dict[int, Account] = {}
    for start in range(0, len(pairs), _CHUNK):
        part = [row.account_id for row, _ in pairs[start : start + _CHUNK]]
        query = select(Account).where(Account.id.in_(part)).with_for_update()
        accounts.update((a.id, a) for a in session.scalars(query))
    stale = [
        row
        for row, _ in pairs
        if (account := accounts.get(row.account_id)) is None or account.version != row.version
    ]
    if stale:
        return {}, stale
    # Personal passwords this reset replaces (confirmed beforehand): the trail says so.
    replaced = (
        sum(1 for a in accounts.values() if a.state == AccountState.ACTIVATED)
        if request.reset
        else 0
    )
    by_division: dict[str, int] = {}
    for start in range(0, len(pairs), _CHUNK):
        chunk = pairs[start : start + _CHUNK]
        if request.reset:
            issued = [(accounts[row.account_id], hashed or "") for row, hashed in chunk]
            issue_all(session, issued, now=now, expires=expires)
        for row, _ in chunk:
            division = getattr(row.credential, "division", None)
            if isinstance(row.credential, GuardianCredential):
                division = "représentants"
            by_division[division or "?"] = by_division.get(division or "?", 0) + 1
        session.flush()
    for email in emails:
        queue_email(session, email, now=now)
    audit.record(
        session,
        actor,
        "notify" if request.reset else "notify_reminder",
        now=now,
        establishment_id=establishment_id,
        targets=[row.account_id for row, _ in pairs],
        details={
            "kind": request.kind.value,
            "count": len(pairs),
            "by_division": by_division,
            "lot": publication.lot,
            # The documents holding the passwords (none when every one went by e-mail).
            "paths": [audit.file_named(path) for path in publication.paths],
            "channel": request.channel.value,
            "emailed": len(emails),
            "on_paper": len(pairs) - len(emails),
            "no_address": len(no_address),
            "activated_replaced": replaced,
        },
    )
    if publication.paths:
        # The documents are an export too: the journal's list of exports names every
        # file written, and whose passwords (or, for a reminder, logins) it holds.
        on_paper = [row.account_id for row, _ in pairs if _on_paper(request.channel, row)]
        audit.record(
            session,
            actor,
            "export",
            now=now,
            establishment_id=establishment_id,
            targets=on_paper,
            details={
                "what": DOCUMENTS_WHAT if request.reset else REMINDERS_WHAT,
                "kind": request.kind.value,
                "count": len(on_paper),
                "paths": [audit.file_named(path) for path in publication.paths],
                "lot": publication.lot,
            },
        )
    return by_division, []


DOCUMENTS_WHAT = "lettres et fiches de notification (mots de passe)"
REMINDERS_WHAT = "lettres et fiches de rappel (sans mot de passe)"


def _rows(
    session: Session,
    kind: AccountKind,
    school: Establishment,
    ids: list[int],
    passwords: Sequence[str | None],
    expires_on: dt.date | None,
) -> list[_Row]:
    """What the documents print, read in chunks of ids (never the whole table)."""
    rows: list[_Row] = []
    password_of = dict(zip(ids, passwords, strict=True))
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        if kind is AccountKind.PUPIL:
            rows += _pupil_rows(session, chunk, password_of, expires_on)
        else:
            rows += _guardian_rows(session, chunk, password_of, expires_on)
    return rows


def _pupil_rows(
    session: Session, ids: list[int], password_of: dict[int, str | None], expires_on: dt.date | None
) -> list[_Row]:
    query = (
        select(
            Account.id,
            Account.version,
            Account.login,
            Pupil.last_name,
            Pupil.first_name,
            Pupil.birth_date,
            Division.name,
            Division.level,
            address_on_file(AccountKind.PUPIL),
        )
        .join(Pupil, Pupil.id == Account.pupil_id)
        .join(Division, Division.id == Pupil.division_id)
        .where(Account.id.in_(ids))
    )
    return [
        _Row(
            account_id,
            version,
            PupilCredential(
                account_id=account_id,
                last_name=last,
                first_name=first,
                division=division,
                level=level,
                birth_date=birth,
                login=login,
                temp_password=password_of[account_id],
                expires_on=expires_on,
            ),
            address,
        )
        for account_id, version, login, last, first, birth, division, level, address in (
            session.execute(query)
        )
    ]


def _guardian_rows(
    session: Session, ids: list[int], password_of: dict[int, str | None], expires_on: dt.date | None
) -> list[_Row]:
    children = legal_children(session, ids)
    query = (
        select(
            Account.id,
            Account.version,
            Account.login,
            Guardian,
            address_on_file(AccountKind.GUARDIAN),
        )
        .join(Guardian, Guardian.id == Account.guardian_id)
        .where(Account.id.in_(ids))
    )
    return [
        _Row(
            account_id,
            version,
            GuardianCredential(
                account_id=account_id,
                civility=guardian.civility,
                last_name=guardian.last_name,
                first_name=guardian.first_name,
                address=guardian.address,
                postal_code=guardian.postal_code,
                city=guardian.city,
                children=tuple(children.get(account_id, ())),
                login=login,
                temp_password=password_of[account_id],
                expires_on=expires_on,
                email=guardian.email or "",
                mobile=guardian.mobile or "",
            ),
            address,
        )
        for account_id, version, login, guardian, address in session.execute(query)
    ]
