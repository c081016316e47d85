"""Dépannage: what a helpdesk agent does while a pupil or a parent is on the phone.

Once the caller's account is found (``helpdesk_search``): read them their identifier,
give them a new temporary password, lift a block. The same functions serve the dépannage module
(pupils only, identifier and password sign-in) and the administration module (guardians
too, with the second factor); ``permissions.require`` decides which, in every function,
because hiding a key in the UI protects nothing.

Choices that follow from the state machine (docs/domain.md):

- a reset is a notification of one account: new temporary password, state « notifié, non
  activé » through the state machine, the owner activates again; the previous temporary
  and permanent passwords stop working at once;
- the clear password is returned once (``ResetResult``), never stored, never audited, and
  kept out of ``repr`` so it cannot leak into a log or a traceback;
- the optional slip is written like a notification's documents (same path rule, 0600
  staged file, published inside the transaction just before the commit, settled by the
  next run after a crash): either the password changed and the slip exists, or neither.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ..access import attempts, passwords
from ..access.caller import Caller
from ..access.permissions import Action, require
from ..documents import glyphs, letters, slips
from ..documents.credentials import (
    DocumentContext,
    GuardianCredential,
    PupilCredential,
    SchoolHeader,
)
from ..documents.files import Publication, app_folder, free_name
from ..documents.text import COLON
from ..model.enums import AccountKind, AccountState
from ..model.errors import (
    ConcurrentModification,
    DocumentError,
    IllegalTransition,
    InvalidInput,
    NotFound,
)
from ..model.states import Event, Lockout, transition
from ..model.tables import Account, Establishment
from ..store import audit
from ..store.services import Services
from . import notification, publishing
from .issuing import expiry, issue_all

CONCURRENT = (
    "Le compte a été modifié par quelqu'un d'autre pendant l'opération\u00a0: "
    "rien n'a été changé, recommencez."
)


@dataclass(frozen=True)
class ResetResult:
    """The new temporary password, to show once; ``repr`` never prints it."""

    account_id: int
    kind: AccountKind
    login: str
    temp_password: str = field(repr=False)
    expires_at: dt.datetime
    slip: Path | None = None
    # The documents of a killed run that writing the slip swept away.
    swept: tuple[Path, ...] = ()


@dataclass(frozen=True)
class _Target:
    account_id: int
    kind: AccountKind
    state: AccountState
    login: str
    version: int
    blocked_until: dt.datetime | None


def _target(services: Services, account_id: int) -> _Target:
    """The account's kind (what the permission depends on), read before asking for it."""
    with services.sessions() as session:
        row = session.execute(
            select(
                Account.kind, Account.state, Account.login, Account.version, Account.blocked_until
            ).where(Account.id == account_id)
        ).one_or_none()
    if row is None:
        raise NotFound("Ce compte n'existe pas dans cet établissement.")
    kind, state, login, version, until = row
    return _Target(account_id, AccountKind(kind), AccountState(state), login, version, until)


def recall_login(services: Services, caller: Caller, account_id: int) -> str:
    """The identifier, to read to the caller; audited since it is personal data."""
    target = _target(services, account_id)
    require(services, caller, Action.RECALL_LOGIN, kind=target.kind, account_ids=[account_id])
    now = services.clock()
    with services.sessions() as session, session.begin():
        audit.record(
            session,
            caller.actor(),
            "recall_login",
            now=now,
            establishment_id=caller.school.id,
            targets=[account_id],
            details={"kind": target.kind.value, "module": caller.module.value},
        )
    return target.login


def reset_password(
    services: Services,
    caller: Caller,
    account_id: int,
    *,
    slip_path: Path | None = None,
) -> ResetResult:
    """A new temporary password for one account, shown once (and printed if asked).

    The account goes back to « notifié, non activé »: the owner activates again with the
    new password, which is valid as long as a notification's. The permanent password and
    any block are cleared. ``slip_path`` writes the slip (pupils) or letter (guardians),
    0600, committed together with the new hash.
    """
    target = _target(services, account_id)
    require(services, caller, Action.RESET_PASSWORD, kind=target.kind, account_ids=[account_id])
    school_id = caller.school.id
    # The state machine's refusal, before any hashing: a désactivé account stays closed.
    transition(target.kind, target.state, Event.NOTIFY)
    now = services.clock()
    expires = expiry(services, target.kind, now)
    password = passwords.generate_temporary_password()
    pdf: bytes | None = None
    swept: list[Path] = []
    if slip_path is not None:
        publishing.check(services, [slip_path], overwrite=False)
        swept = publishing.sweep(services, [slip_path])
        with services.sessions() as session:
            school = session.get_one(Establishment, school_id)
            credential = _credential(
                session, school, target, password, services.time.today(expires)
            )
            _require_printable(
                credential,
                "Réinitialisez sans fiche et recopiez le mot de passe à la main si besoin. "
                "Aucun mot de passe n'a été modifié.",
            )
            pdf = _pdf(_context(services, school, now), credential)
    hashed = passwords.hash_password(password, services.hash_params)
    publication = publishing.publication(services, now)
    if slip_path is not None and pdf is not None:
        publication.stage(slip_path, pdf)
    try:
        with services.sessions() as session, session.begin():
            account = session.get(Account, account_id)
            if account is None or account.version != target.version:
                raise ConcurrentModification(CONCURRENT)
            issue_all(session, [(account, hashed)], now=now, expires=expires)
            session.flush()
            audit.record(
                session,
                caller.actor(),
                "reset_password",
                now=now,
                establishment_id=school_id,
                targets=[account_id],
                details={
                    "kind": target.kind.value,
                    "module": caller.module.value,
                    "slip": bool(publication.files),
                    **(
                        {"path": audit.file_named(publication.paths[0])}
                        if publication.files
                        else {}
                    ),
                    "lot": publication.lot,
                },
            )
            if publication.files:
                _audit_export(session, caller, now, account_id, target.kind, publication)
                publishing.check(services, publication.paths, overwrite=False)
                publication.publish()
    except StaleDataError as error:
        publication.undo()
        raise ConcurrentModification(CONCURRENT) from error
    except BaseException:
        publication.undo()
        raise
    publication.settle()
    published = publication.paths[0] if publication.paths else None
    return ResetResult(
        account_id, target.kind, target.login, password, expires, published, tuple(swept)
    )


def _credential(
    session: Session, school: Establishment, target: _Target, password: str, expires_on: dt.date
) -> PupilCredential | GuardianCredential:
    """What the slip prints: the same rows a notification renders, for one account."""
    rows = notification._rows(  # one place for what the documents print
        session, target.kind, school, [target.account_id], [password], expires_on
    )
    if not rows:
        raise InvalidInput("Ce compte n'a pas de fiche imprimable (élève sans classe).")
    return rows[0].credential


def _require_printable(credential: PupilCredential | GuardianCredential, outcome: str) -> None:
    """A slip is never printed with a hole in the name (``glyphs.unprintable``)."""
    missing = glyphs.unprintable(credential)
    if missing:
        raise DocumentError(
            "La fiche de ce compte contiendrait des caractères qu'aucune police fournie ne "
            f"sait imprimer ({glyphs.describe(missing)}){COLON} le nom serait incomplet. "
            f"Corrigez l'orthographe dans SIECLE. {outcome}"
        )


def unblock(services: Services, caller: Caller, account_id: int) -> dt.datetime:
    """Lift a block before its end (the caller proved who they are); returns the old end."""
    target = _target(services, account_id)
    require(services, caller, Action.UNBLOCK, kind=target.kind, account_ids=[account_id])
    now = services.clock()
    try:
        with services.sessions() as session, session.begin():
            account = session.get(Account, account_id)
            if account is None:
                raise NotFound("Ce compte n'existe pas dans cet établissement.")
            until = account.blocked_until
            if until is None or not Lockout.is_blocked(account, now):
                raise IllegalTransition("Ce compte n'est pas bloqué\u00a0: rien à débloquer.")
            Lockout.record_success(account)
            attempts.forget_pairs(session, attempts.OWNER, [account.login])
            session.flush()
            audit.record(
                session,
                caller.actor(),
                "unblock",
                now=now,
                establishment_id=caller.school.id,
                targets=[account_id],
                details={
                    "kind": target.kind.value,
                    "module": caller.module.value,
                    "blocked_until": until.isoformat(),
                },
            )
    except StaleDataError as error:
        raise ConcurrentModification(CONCURRENT) from error
    return until


def default_slip_path(services: Services, login: str, now: dt.datetime) -> Path:
    """Where the TUI writes a helpdesk slip: ``depannage/`` beside the notifications."""
    stamp = services.time.stamp(now)
    folder = app_folder(services.settings.output_dir / "depannage")
    stem = f"fiche_{login}_{stamp}"
    (path,) = free_name(lambda n: folder / (f"{stem}.pdf" if n == 1 else f"{stem}_{n}.pdf"))
    return path


def write_slip(
    services: Services, caller: Caller, result: ResetResult, path: Path
) -> publishing.Written:
    """The printable slip (pupils) or letter (guardians) of a reset just done, 0600.

    For the password window's « imprimer » after the reset: the password is still on
    screen, so the account does not change. It is printed only while it still opens
    the account — if anyone reset or notified it since, the slip would mislead the owner.
    A document holding a valid password is handed out, so it is audited, published just
    before that record commits (and removed if the commit fails), like a reset's slip.
    """
    target = _target(services, result.account_id)
    require(
        services,
        caller,
        Action.RESET_PASSWORD,
        kind=target.kind,
        account_ids=[result.account_id],
    )
    school_id = caller.school.id
    with services.sessions() as session:
        stored = session.scalar(
            select(Account.temp_password_hash).where(Account.id == result.account_id)
        )
        if target.state is not AccountState.NOTIFIED or not passwords.verify_password(
            stored, result.temp_password
        ):
            raise ConcurrentModification(
                "Ce mot de passe a été remplacé depuis\u00a0: la fiche n'a pas été écrite."
            )
        school = session.get_one(Establishment, school_id)
        context = _context(services, school, services.clock())
        credential = _credential(
            session, school, target, result.temp_password, services.time.today(result.expires_at)
        )
    _require_printable(
        credential,
        f"La fiche n'a pas été écrite. Le mot de passe affiché reste valable{COLON} recopiez-le.",
    )
    publishing.check(services, [path], overwrite=False)
    swept = publishing.sweep(services, [path])
    now = services.clock()
    publication = publishing.publication(services, now)
    publication.stage(path, _pdf(context, credential))
    with publishing.recorded(services, publication) as session:
        audit.record(
            session,
            caller.actor(),
            "slip_written",
            now=now,
            establishment_id=school_id,
            targets=[result.account_id],
            details={
                "kind": target.kind.value,
                "path": audit.file_named(path),
                "lot": publication.lot,
            },
        )
        _audit_export(session, caller, now, result.account_id, target.kind, publication)
    return publishing.Written(publication.paths[0], tuple(swept))


SLIP_WHAT = "fiche de dépannage (mot de passe)"


def _audit_export(
    session: Session,
    caller: Caller,
    now: dt.datetime,
    account_id: int,
    kind: AccountKind,
    publication: Publication,
) -> None:
    """The slip is also an export: the journal's list of exports names every document
    holding a password, in the transaction that publishes it."""
    audit.record(
        session,
        caller.actor(),
        "export",
        now=now,
        establishment_id=caller.school.id,
        targets=[account_id],
        details={
            "what": SLIP_WHAT,
            "kind": kind.value,
            "format": "pdf",
            "count": 1,
            "paths": [audit.file_named(p) for p in publication.paths],
            "lot": publication.lot,
        },
    )


def _pdf(context: DocumentContext, credential: PupilCredential | GuardianCredential) -> bytes:
    """One page: the pupil's slip, or the guardian's letter (no class or distribution list)."""
    if isinstance(credential, PupilCredential):
        return slips.helpdesk_slip_pdf(context, credential)
    return letters.guardian_letters_pdf(context, [credential], distribution_lists=False)


def _context(services: Services, school: Establishment, now: dt.datetime) -> DocumentContext:
    header = SchoolHeader.of(school)
    return DocumentContext(
        school=header, portal_url=services.settings.portal_url, generated_at=now, time=services.time
    )
