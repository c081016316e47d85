"""Reading the audit trail: one school's events, filtered and paged in SQL.

The trail grows with every sign-in and every notified account; the screen and the
command line only ever ask for one page (``offset``/``limit``) and a count, never the
whole table. Rows leave as frozen dataclasses with French labels, never ORM objects.

Reading the trail is direction-only (``permissions.Action.VIEW_AUDIT``): it holds every
staff member's actions on the whole school. The ``..._everywhere`` functions read the
whole trail, every school and the sign-ins before any school: only the command line's
operator does, so they take no caller.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select

from ..access.caller import Caller
from ..access.permissions import Action, require
from ..accounts import publishing
from ..model.calendar import SchoolTime, date_text
from ..model.enums import AccountKind
from ..model.errors import InvalidInput, NotFound
from ..model.tables import (
    Account,
    AuditEvent,
    AuditTarget,
    Division,
    Guardian,
    Pupil,
    Staff,
    staff_establishment,
)
from ..store import audit, audit_words, keys
from ..store.audit import ACTION_LABELS, Actor, ChainReport, action_label
from ..store.audit import verify as verify_chain
from ..store.services import Services

PAGE_SIZE = 100
SHOWN_LOGINS = 3


@dataclass(frozen=True)
class AuditFilter:
    """What the staff asked for; every field optional. ``until`` includes that day."""

    actor: str | None = None  # a staff login, or part of the name/label
    action: str | None = None  # an action code (``ACTION_LABELS`` keys)
    account_login: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None

    def __post_init__(self) -> None:
        if self.since and self.until and self.since > self.until:
            raise InvalidInput("La date de début est après la date de fin.")

    def as_dict(self) -> dict[str, str]:
        out: dict[str, str | None] = {
            "qui": self.actor,
            "action": self.action,
            "compte": self.account_login,
            "du": date_text(self.since) if self.since else None,
            "au": date_text(self.until) if self.until else None,
        }
        return {k: v for k, v in out.items() if v}


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: dt.datetime
    who: str
    source: str
    action: str  # the code
    action_label: str  # French
    target_count: int
    target_logins: tuple[str, ...]  # at most SHOWN_LOGINS, in login order
    details: str  # short French summary, never a secret
    # The same, one detail a line and every file whole, for the event's own view.
    detail_lines: tuple[audit_words.DetailLine, ...] = ()
    # The school's zone: the trail is read in its time, whatever the server's.
    time: SchoolTime = field(default_factory=SchoolTime.named, compare=False, repr=False)

    @property
    def local_time(self) -> str:
        """``16/11/2026 10:30``, the school's time: compact for a table column."""
        return self.time.short(self.at)

    @property
    def targets_label(self) -> str:
        if not self.target_count:
            return ""
        shown = ", ".join(self.target_logins)
        more = self.target_count - len(self.target_logins)
        return f"{shown} (+{more})" if more > 0 else shown

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "who": self.who,
            "source": self.source,
            "action": self.action,
            "action_label": self.action_label,
            "target_count": self.target_count,
            "target_logins": list(self.target_logins),
            "details": self.details,
        }


def known_actions() -> list[tuple[str, str]]:
    """(French label, code) of every action the trail records, by label, for a Select."""
    return sorted(((label, code) for code, label in ACTION_LABELS.items()), key=lambda p: p[0])


def _check(services: Services, caller: Caller) -> None:
    require(services, caller, Action.VIEW_AUDIT)


def _where(
    establishment_id: int | None, wanted: AuditFilter, time: SchoolTime
) -> list[ColumnElement[bool]]:
    """``since`` and ``until`` are the school's days: they start at its midnight."""
    conditions: list[ColumnElement[bool]] = []
    if establishment_id is not None:
        # The school's events, and the sign-ins of its staff made before choosing a
        # school (staff attached to several schools sign in to none in particular).
        staff_of_school = select(staff_establishment.c.staff_id).where(
            staff_establishment.c.establishment_id == establishment_id
        )
        conditions.append(
            or_(
                AuditEvent.establishment_id == establishment_id,
                and_(
                    AuditEvent.establishment_id.is_(None),
                    AuditEvent.actor_id.in_(staff_of_school),
                ),
            )
        )
    if wanted.actor and wanted.actor.strip():
        who = wanted.actor.strip().lower()
        conditions.append(
            or_(
                AuditEvent.actor_id.in_(select(Staff.id).where(func.lower(Staff.login) == who)),
                func.lower(AuditEvent.actor_label).contains(who, autoescape=True),
            )
        )
    if wanted.action:
        conditions.append(AuditEvent.action == wanted.action)
    if wanted.account_login and wanted.account_login.strip():
        login = wanted.account_login.strip().lower()
        conditions.append(
            exists(
                select(AuditTarget.event_id)
                .join(Account, Account.id == AuditTarget.account_id)
                .where(AuditTarget.event_id == AuditEvent.id, Account.login == login)
            )
        )
    if wanted.since:
        conditions.append(AuditEvent.occurred_at >= time.day_start(wanted.since))
    if wanted.until:
        conditions.append(
            AuditEvent.occurred_at < time.day_start(wanted.until + dt.timedelta(days=1))
        )
    return conditions


def count(services: Services, caller: Caller, wanted: AuditFilter) -> int:
    """How many of the caller's school's events match (one SQL count)."""
    _check(services, caller)
    return _count(services, caller.school.id, wanted)


def _count(services: Services, establishment_id: int | None, wanted: AuditFilter) -> int:
    query = (
        select(func.count())
        .select_from(AuditEvent)
        .where(*_where(establishment_id, wanted, services.time))
    )
    with services.sessions() as session:
        return int(session.scalar(query) or 0)


def events(
    services: Services,
    caller: Caller,
    wanted: AuditFilter,
    *,
    offset: int = 0,
    limit: int = PAGE_SIZE,
) -> list[AuditRow]:
    """One page of the caller's school's matching events, newest first."""
    _check(services, caller)
    return _events(services, caller.school.id, wanted, offset, limit)


def events_everywhere(
    services: Services, wanted: AuditFilter, *, offset: int = 0, limit: int = PAGE_SIZE
) -> list[AuditRow]:
    """One page of the whole trail's matching events, newest first."""
    return _events(services, None, wanted, offset, limit)


def _events(
    services: Services,
    establishment_id: int | None,
    wanted: AuditFilter,
    offset: int,
    limit: int,
) -> list[AuditRow]:
    """Newest first, by id: the chain's own order."""
    page = (
        select(AuditEvent)
        .where(*_where(establishment_id, wanted, services.time))
        .order_by(AuditEvent.id.desc())
        .offset(max(offset, 0))
        .limit(max(limit, 0))
    )
    with services.sessions() as session:
        found = session.scalars(page).all()
        ids = [e.id for e in found]
        counts: dict[int, int] = {}
        logins: dict[int, list[str]] = {}
        if ids:
            counts = {
                event_id: int(n)
                for event_id, n in session.execute(
                    select(AuditTarget.event_id, func.count())
                    .where(AuditTarget.event_id.in_(ids))
                    .group_by(AuditTarget.event_id)
                )
            }
            rank = (
                func.row_number()
                .over(partition_by=AuditTarget.event_id, order_by=Account.login)
                .label("rank")
            )
            ranked = (
                select(AuditTarget.event_id, Account.login, rank)
                .join(Account, Account.id == AuditTarget.account_id)
                .where(AuditTarget.event_id.in_(ids))
                .subquery()
            )
            for event_id, login in session.execute(
                select(ranked.c.event_id, ranked.c.login)
                .where(and_(ranked.c.rank <= SHOWN_LOGINS))
                .order_by(ranked.c.event_id, ranked.c.login)
            ):
                logins.setdefault(event_id, []).append(login)
        return [
            AuditRow(
                id=e.id,
                at=e.occurred_at,
                who=e.actor_label,
                source=e.source_address,
                action=e.action,
                action_label=action_label(e.action),
                target_count=counts.get(e.id, 0),
                target_logins=tuple(logins.get(e.id, ())),
                details=audit_words.summarize(e.action, e.details or {}, services.time),
                detail_lines=tuple(
                    audit_words.event_lines(e.action, e.details or {}, services.time)
                ),
                time=services.time,
            )
            for e in found
        ]


@dataclass(frozen=True)
class EventAccount:
    """One account an event concerned, as the event's view and the CSV extract name it."""

    login: str
    last_name: str
    first_name: str
    kind: AccountKind
    division: str  # a pupil's class; "" for a guardian or a pupil without one

    @property
    def name(self) -> str:
        return f"{self.last_name} {self.first_name}".strip()


def _accounts_query(event_ids: list[int]) -> Any:
    """The accounts of those events, by event then login (the order of ``target_logins``)."""
    return (
        select(
            AuditTarget.event_id,
            Account.login,
            func.coalesce(Pupil.last_name, Guardian.last_name, ""),
            func.coalesce(Pupil.first_name, Guardian.first_name, ""),
            Account.kind,
            func.coalesce(Division.name, ""),
        )
        .join(Account, Account.id == AuditTarget.account_id)
        .outerjoin(Pupil, Pupil.id == Account.pupil_id)
        .outerjoin(Guardian, Guardian.id == Account.guardian_id)
        .outerjoin(Division, Division.id == Pupil.division_id)
        .where(AuditTarget.event_id.in_(event_ids))
        .order_by(AuditTarget.event_id, Account.login)
    )


def _account(row: Any) -> EventAccount:
    _event_id, login, last, first, kind, division = row
    return EventAccount(login, last, first, AccountKind(kind), division)


def _require_event(services: Services, caller: Caller, event_id: int) -> None:
    """The event must be one the caller's school reads (``_where``), else NotFound."""
    _check(services, caller)
    query = select(AuditEvent.id).where(
        AuditEvent.id == event_id, *_where(caller.school.id, AuditFilter(), services.time)
    )
    with services.sessions() as session:
        if session.scalar(query) is None:
            raise NotFound(f"Aucun événement n° {event_id} dans le journal de l'établissement.")


def event_account_count(services: Services, caller: Caller, event_id: int) -> int:
    """How many accounts the event concerned (one SQL count)."""
    _require_event(services, caller, event_id)
    query = select(func.count()).select_from(AuditTarget).where(AuditTarget.event_id == event_id)
    with services.sessions() as session:
        return int(session.scalar(query) or 0)


def event_accounts(
    services: Services, caller: Caller, event_id: int, *, offset: int = 0, limit: int = PAGE_SIZE
) -> list[EventAccount]:
    """One page of the accounts an event concerned, by login: all of them, page by page."""
    _require_event(services, caller, event_id)
    query = _accounts_query([event_id]).offset(max(offset, 0)).limit(max(limit, 0))
    with services.sessions() as session:
        return [_account(row) for row in session.execute(query)]


def accounts_of_events(services: Services, event_ids: list[int]) -> dict[int, list[EventAccount]]:
    """Every account of those events (a page of events already read and allowed), for an
    extract that lists them all; events without accounts are absent."""
    found: dict[int, list[EventAccount]] = {}
    if not event_ids:
        return found
    with services.sessions() as session:
        for row in session.execute(_accounts_query(event_ids)):
            found.setdefault(row[0], []).append(_account(row))
    return found


def account_login(services: Services, caller: Caller, account_id: int) -> str | None:
    """The login to prefill the « compte » filter when opened from an account's detail."""
    _check(services, caller)
    with services.sessions() as session:
        return session.scalar(select(Account.login).where(Account.id == account_id))


def verify(services: Services, caller: Caller) -> ChainReport:
    """Check the whole chain (``audit.verify``): it is one for the whole database, so the
    check is too; the caller must still hold the right to read the trail."""
    _check(services, caller)
    return verify_everywhere(services)


def verify_everywhere(services: Services) -> ChainReport:
    """Check the whole chain in a session of its own (the command line's operator)."""
    with services.sessions() as session:
        return verify_chain(session)


@dataclass(frozen=True)
class KeyRotation:
    old_key: str
    new_key: str
    resealed: int


def rotate_key(services: Services, actor: Actor) -> KeyRotation:
    """A new current key in the key file; OTP secrets sealed again with it; audited.

    The file is written first: a record is never signed by a key the file does not hold
    yet. If the database part then fails, the new key simply has signed nothing. Old keys
    stay in the file, for the records they signed (and the processes started before,
    which go on signing with theirs until restarted).
    """
    store = services.key_store
    with services.sessions() as session:
        old = store.ring(session).current.id
    _ring, new = keys.add_key(store.path, services.clock())
    store.forget()
    with services.sessions() as session, session.begin():
        resealed = keys.reseal_secrets(session, new)
        audit.record(
            session,
            actor,
            "key_rotated",
            now=services.clock(),
            details={"old_key": old, "new_key": new.id, "resealed": resealed},
        )
    return KeyRotation(old_key=old, new_key=new.id, resealed=resealed)


def export(
    services: Services,
    actor: Actor,
    path: Path,
    data: bytes,
    *,
    establishment_id: int | None,
    details: dict[str, Any],
    overwrite: bool = False,
) -> publishing.Written:
    """Write an extract of the trail to ``path`` (0600) and audit it as an "export".

    Reading the trail leaves no trace, but a copy taken away does: the file is staged,
    then published inside the transaction of its audit record, just before the commit
    (``files.Publication``), so either both exist or neither (as for notification
    documents and statistics exports). An existing file is replaced only if asked.
    """
    publishing.check(services, [path], overwrite=overwrite)
    swept = publishing.sweep(services, [path])
    now = services.clock()
    publication = publishing.publication(services, now)
    publication.stage(path, data, overwrite=overwrite)
    with publishing.recorded(services, publication, overwrite=overwrite) as session:
        audit.record(
            session,
            actor,
            "export",
            now=now,
            establishment_id=establishment_id,
            details={
                "what": "journal d'audit",
                "path": audit.file_named(path),
                **details,
                "lot": publication.lot,
            },
        )
    return publishing.Written(path, tuple(swept))
