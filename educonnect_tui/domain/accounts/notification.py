"""(Re)notification: new temporary credentials and the documents to hand out, together.

The order of the steps is what makes it safe:
1. read the selection (ids, versions and what the documents print);
2. draw passwords and hash them on every core (progress per account, cancellable);
3. render the documents and stage them as 0600 temporary files;
4. in one transaction: check nobody changed the accounts meanwhile, apply the state
   machine, store the hashes, audit; publish the files; commit.
Anything failing before the commit discards the staged files and rolls back, so either
the passwords changed and the documents exist, or neither.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.exc import StaleDataError

from ..access.caller import Caller
from ..access.passwords import (
    generate_temporary_password,
    hash_many,
    run_in_background,
    worker_count,
)
from ..access.permissions import Action
from ..documents import letters, mail_merge, slips
from ..documents.credentials import (
    ChildRef,
    DocumentContext,
    GuardianCredential,
    PupilCredential,
    SchoolHeader,
)
from ..documents.files import StagedFile, stage_file
from ..model.enums import AccountKind, AccountState, PupilStatus
from ..model.errors import Cancelled, ConcurrentModification, InvalidInput
from ..model.states import NOTIFIABLE, NOTIFIED_BY_DEFAULT
from ..model.tables import Account, Division, Establishment, Guardian, GuardianLink, Pupil
from ..store import audit
from ..store.audit import Actor
from ..store.services import Services
from .issuing import expiry, issue_temporary
from .selection import Selection, accounts_of, require_selection

# (phase, done, total): phases are "hachage", "documents", "enregistrement".
Progress = Callable[[str, int, int], None]
_CHUNK = 500


@dataclass(frozen=True)
class NotifyResult:
    kind: AccountKind
    count: int
    files: tuple[Path, ...]
    by_division: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        noun = "élève(s)" if self.kind is AccountKind.PUPIL else "représentant(s) légal(aux)"
        out = [f"{self.count} compte(s) {noun} notifié(s)."]
        out += [f"  {name} : {n}" for name, n in sorted(self.by_division.items())]
        out += [f"Document écrit : {path}" for path in self.files]
        return out


def default_paths(services: Services, caller: Caller, kind: AccountKind) -> tuple[Path, Path]:
    """Where the TUI writes a notification's PDF and CSV unless told otherwise.

    Names already taken get a suffix: publishing replaces a file of the same name, and
    a previous document may hold the only copy of passwords issued a second earlier.
    """
    stamp = services.time.stamp(services.clock())
    who = "eleves" if kind is AccountKind.PUPIL else "responsables"
    stem = f"{who}_{caller.school.uai}_{stamp}"
    folder = services.settings.output_dir / "notifications"
    pdf, csv = folder / f"{stem}.pdf", folder / f"{stem}.csv"
    suffix = 2
    while pdf.exists() or csv.exists():
        pdf, csv = folder / f"{stem}_{suffix}.pdf", folder / f"{stem}_{suffix}.csv"
        suffix += 1
    return pdf, csv


@dataclass(frozen=True)
class NotifyRequest:
    """What to notify: one kind of account, a selection, and where the documents go.

    The paths are needed only by ``notify``; counting before confirming needs none.
    """

    kind: AccountKind
    selection: Selection
    pdf_path: Path | None = None
    csv_path: Path | None = None


def count_by_state(
    services: Services, caller: Caller, request: NotifyRequest
) -> dict[AccountState, int]:
    """What ``notify`` would touch, by state: activated ones will have to activate again.

    Checked and narrowed exactly as ``notify`` will be, so the confirmation counts what
    will really happen.
    """
    selection = require_selection(services, caller, Action.NOTIFY, request.kind, request.selection)
    with services.sessions() as session:
        ids = accounts_of(request.kind, caller.school.id, _notifiable(selection))
        query = (
            select(Account.state, func.count()).where(Account.id.in_(ids)).group_by(Account.state)
        )
        return {AccountState(state): int(n) for state, n in session.execute(query)}


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


def notify(
    services: Services,
    caller: Caller,
    request: NotifyRequest,
    *,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> NotifyResult:
    """Issue new temporary credentials to the selected accounts and write their documents.

    The caller is checked here (``permissions.require``) and the selection narrowed to
    its scope.
    """
    kind, pdf_path, csv_path = request.kind, request.pdf_path, request.csv_path
    if pdf_path is None:
        raise InvalidInput("Indiquez le fichier PDF des documents à remettre.")
    selection = require_selection(services, caller, Action.NOTIFY, kind, request.selection)
    actor = caller.actor()
    now = services.clock()
    if pdf_path.exists() and pdf_path.is_dir():
        raise InvalidInput(f"« {pdf_path} » est un dossier : indiquez un fichier PDF.")
    with services.sessions() as session:
        school = session.get_one(Establishment, caller.school.id)
        header = SchoolHeader.of(school)
        ids = list(session.scalars(accounts_of(kind, school.id, _notifiable(selection))))
        if not ids:
            raise InvalidInput("Aucun compte ne correspond à la sélection : rien n'a été notifié.")
        expires = expiry(services, kind, now)
        passwords = [generate_temporary_password() for _ in ids]
        rows = _rows(session, kind, school, ids, passwords, services.time.today(expires))

    def report(phase: str, done: int, total: int) -> None:
        if progress is not None:
            progress(phase, done, total)

    context = DocumentContext(
        school=header, portal_url=services.settings.portal_url, generated_at=now, time=services.time
    )
    credentials = [r.credential for r in rows]
    workers = worker_count(services.settings.hash_workers)
    # The documents need the clear passwords, not their hashes: on several cores they are
    # drawn in their own process while the pool hashes, so the PDF costs no extra time
    # and the interface's process keeps the GIL for key presses.
    renderer = (
        ProcessPoolExecutor(max_workers=1, initializer=run_in_background)
        if workers > 1 and len(rows) >= 8
        else None
    )
    try:
        drawing = (
            renderer.submit(_render_documents, context, kind, credentials, csv_path is not None)
            if renderer is not None
            else None
        )
        hashes = hash_many(
            [r.credential.temp_password for r in rows],
            services.hash_params,
            workers=services.settings.hash_workers,
            progress=lambda done, total: report("hachage", done, total),
            cancel=cancel,
        )
        _check_cancel(cancel)
        report("documents", 0, 1)
        pdf, csv = (
            drawing.result()
            if drawing is not None
            else _render_documents(context, kind, credentials, csv_path is not None)
        )
    finally:
        if renderer is not None:
            renderer.shutdown(wait=False, cancel_futures=True)
    staged = _stage_documents(pdf, csv, pdf_path, csv_path)
    report("documents", 1, 1)
    try:
        _check_cancel(cancel)
        by_division = _apply(services, actor, school.id, kind, rows, hashes, now, expires)
        for file in staged:
            file.publish()
    except BaseException:
        for file in staged:
            file.discard()
        raise
    return NotifyResult(kind, len(rows), tuple(f.final_path for f in staged), by_division)


def _check_cancel(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled("Opération annulée : aucun mot de passe n'a été modifié.")


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
        mail_merge.guardian_csv(guardians) if with_csv else b""
    )


def _stage_documents(
    pdf: bytes, csv: bytes, pdf_path: Path, csv_path: Path | None
) -> list[StagedFile]:
    staged = [stage_file(pdf_path, pdf)]
    if csv_path is not None:
        try:
            staged.append(stage_file(csv_path, csv))
        except BaseException:
            staged[0].discard()
            raise
    return staged


def _apply(
    services: Services,
    actor: Actor,
    establishment_id: int,
    kind: AccountKind,
    rows: Sequence[_Row],
    hashes: Sequence[str],
    now: dt.datetime,
    expires: dt.datetime,
) -> dict[str, int]:
    by_division: dict[str, int] = {}
    try:
        with services.sessions() as session, session.begin():
            for start in range(0, len(rows), _CHUNK):
                part = rows[start : start + _CHUNK]
                accounts = {
                    a.id: a
                    for a in session.scalars(
                        select(Account).where(Account.id.in_([r.account_id for r in part]))
                    )
                }
                for offset, row in enumerate(part):
                    account = accounts.get(row.account_id)
                    if account is None or account.version != row.version:
                        raise ConcurrentModification(
                            "Des comptes ont été modifiés par quelqu'un d'autre pendant "
                            "l'opération : rien n'a été notifié, recommencez."
                        )
                    issue_temporary(account, hashes[start + offset], now=now, expires=expires)
                    division = getattr(row.credential, "division", None)
                    if isinstance(row.credential, GuardianCredential):
                        division = "représentants"
                    by_division[division or "?"] = by_division.get(division or "?", 0) + 1
                session.flush()
            audit.record(
                session,
                actor,
                "notify",
                now=now,
                establishment_id=establishment_id,
                targets=[r.account_id for r in rows],
                details={"kind": kind.value, "count": len(rows), "by_division": by_division},
            )
    except StaleDataError as error:
        raise ConcurrentModification(
            "Des comptes ont été modifiés par quelqu'un d'autre pendant l'opération : "
            "rien n'a été notifié, recommencez."
        ) from error
    return by_division


def _rows(
    session: Session,
    kind: AccountKind,
    school: Establishment,
    ids: list[int],
    passwords: list[str],
    expires_on: dt.date,
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
    session: Session, ids: list[int], password_of: dict[int, str], expires_on: dt.date
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
        )
        for account_id, version, login, last, first, birth, division, level in session.execute(
            query
        )
    ]


def _guardian_rows(
    session: Session, ids: list[int], password_of: dict[int, str], expires_on: dt.date
) -> list[_Row]:
    child = aliased(Pupil)
    children: dict[int, list[ChildRef]] = {}
    child_query = (
        select(Account.id, child.last_name, child.first_name, Division.name, Establishment.name)
        .join(GuardianLink, GuardianLink.guardian_id == Account.guardian_id)
        .join(child, child.id == GuardianLink.pupil_id)
        .join(Division, Division.id == child.division_id)
        .join(Establishment, Establishment.id == child.establishment_id)
        .where(Account.id.in_(ids), child.status == PupilStatus.ENROLLED)
        .order_by(Account.id, child.birth_date)
    )
    for account_id, last, first, division, school_name in session.execute(child_query):
        children.setdefault(account_id, []).append(ChildRef(last, first, division, school_name))
    query = (
        select(Account.id, Account.version, Account.login, Guardian)
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
            ),
        )
        for account_id, version, login, guardian in session.execute(query)
    ]
