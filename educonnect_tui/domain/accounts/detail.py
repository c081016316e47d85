"""Everything known about one account, for the detail screen: never a password or a hash."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..access.caller import Caller
from ..access.permissions import Action, require
from ..model.calendar import SchoolTime
from ..model.enums import AccountKind, AccountState, ActivationMethod, PupilStatus
from ..model.errors import NotFound
from ..model.tables import (
    Account,
    AuditEvent,
    AuditTarget,
    Division,
    Establishment,
    Guardian,
    GuardianLink,
    Pupil,
)
from ..store import audit_words
from ..store.audit import action_label
from ..store.establishments import guardians_of
from ..store.services import Services

HISTORY_LIMIT = 50


@dataclass(frozen=True)
class Relative:
    """A child of a guardian, or a guardian of a pupil, as a line of the detail."""

    name: str
    division: str  # children: class; guardians: ""
    school: str
    relationship: str
    legal_guardian: bool
    # None: a contact of the pupil who is no one's legal representative has no account.
    state: AccountState | None
    login: str | None


@dataclass(frozen=True)
class HistoryEntry:
    at: dt.datetime
    who: str
    source: str
    action: str  # French
    details: str


@dataclass(frozen=True)
class AccountDetail:
    account_id: int
    kind: AccountKind
    state: AccountState
    login: str
    civility: str
    last_name: str
    first_name: str
    # Pupils
    ine: str | None
    birth_date: dt.date | None
    division: str | None
    enrolled: bool
    # Guardians
    email: str | None
    mobile: str | None
    address: str
    # The account
    activation_method: ActivationMethod | None
    activated_at: dt.datetime | None
    notification_count: int
    notified_at: dt.datetime | None
    temp_issued_at: dt.datetime | None
    temp_expires_at: dt.datetime | None
    email_confirmed_at: dt.datetime | None
    failed_attempts: int
    blocked_until: dt.datetime | None
    relatives: tuple[Relative, ...]
    history: tuple[HistoryEntry, ...]
    now: dt.datetime

    @property
    def blocked(self) -> bool:
        return self.blocked_until is not None and self.blocked_until > self.now

    @property
    def temp_expired(self) -> bool:
        return self.temp_expires_at is not None and self.temp_expires_at <= self.now


def _belongs(session: Session, establishment_id: int, account: Account) -> bool:
    if account.pupil_id is not None:
        return bool(
            session.scalar(
                select(Pupil.id).where(
                    Pupil.id == account.pupil_id, Pupil.establishment_id == establishment_id
                )
            )
        )
    former_too = guardians_of(establishment_id, enrolled_only=False)
    return bool(
        session.scalar(
            select(former_too.where(GuardianLink.guardian_id == account.guardian_id).exists())
        )
    )


def account_detail(services: Services, caller: Caller, account_id: int) -> AccountDetail:
    """The account, its owner, relatives and history; NotFound outside the school.

    ``permissions.require`` decides first: the account must be within the caller's
    classes, and a guardian needs the second factor. A caller who may not reach guardians
    does not see the guardians listed on a pupil's detail either (their logins are
    guardians' account data).
    """
    establishment_id = caller.school.id
    scope = require(services, caller, Action.VIEW_DETAIL, account_ids=(account_id,))
    guardians_visible = scope.guardians
    with services.sessions() as session:
        account = session.get(Account, account_id)
        if account is None or not _belongs(session, establishment_id, account):
            raise NotFound("Ce compte n'existe pas dans cet établissement.")
        history = _history(session, account_id, services.time)
        if account.pupil is not None:
            pupil = account.pupil
            division = session.get(Division, pupil.division_id) if pupil.division_id else None
            return _detail(
                account,
                civility="",
                last_name=pupil.last_name,
                first_name=pupil.first_name,
                ine=pupil.ine,
                birth_date=pupil.birth_date,
                division=division.name if division else None,
                enrolled=pupil.status is PupilStatus.ENROLLED,
                email=account.email,
                mobile=None,
                address="",
                relatives=_guardians_of(session, pupil.id) if guardians_visible else (),
                history=history,
                now=services.clock(),
            )
        guardian = account.guardian
        assert guardian is not None
        address = " ".join(
            part for part in (guardian.address, guardian.postal_code, guardian.city) if part
        )
        return _detail(
            account,
            civility=guardian.civility,
            last_name=guardian.last_name,
            first_name=guardian.first_name,
            ine=None,
            birth_date=None,
            division=None,
            enrolled=True,
            email=account.email or guardian.email,
            mobile=guardian.mobile,
            address=address,
            relatives=_children_of(session, guardian.id),
            history=history,
            now=services.clock(),
        )


def _detail(account: Account, **owner: object) -> AccountDetail:
    return AccountDetail(
        account_id=account.id,
        kind=account.kind,
        state=account.state,
        login=account.login,
        activation_method=account.activation_method,
        activated_at=account.activated_at,
        notification_count=account.notification_count,
        notified_at=account.notified_at,
        temp_issued_at=account.temp_issued_at,
        temp_expires_at=account.temp_expires_at,
        email_confirmed_at=account.email_confirmed_at,
        failed_attempts=account.failed_attempts,
        blocked_until=account.blocked_until,
        **owner,  # type: ignore[arg-type]
    )


def _guardians_of(session: Session, pupil_id: int) -> tuple[Relative, ...]:
    rows = session.execute(
        select(
            Guardian.civility,
            Guardian.first_name,
            Guardian.last_name,
            GuardianLink.relationship_label,
            GuardianLink.legal_guardian,
            Account.state,
            Account.login,
        )
        .join(GuardianLink, GuardianLink.guardian_id == Guardian.id)
        .outerjoin(Account, Account.guardian_id == Guardian.id)
        .where(GuardianLink.pupil_id == pupil_id)
        # Contacts (no account) after the legal representatives.
        .order_by(Account.id.is_(None), Account.sort_name, Account.id, Guardian.id)
    )
    return tuple(
        Relative(
            name=" ".join(p for p in (civility, first, last) if p),
            division="",
            school="",
            relationship=relationship,
            legal_guardian=legal,
            state=None if state is None else AccountState(state),
            login=login,
        )
        for civility, first, last, relationship, legal, state, login in rows
    )


def _children_of(session: Session, guardian_id: int) -> tuple[Relative, ...]:
    rows = session.execute(
        select(
            Pupil.first_name,
            Pupil.last_name,
            Division.name,
            Establishment.name,
            GuardianLink.relationship_label,
            GuardianLink.legal_guardian,
            Account.state,
            Account.login,
        )
        .join(GuardianLink, GuardianLink.pupil_id == Pupil.id)
        .outerjoin(Division, Division.id == Pupil.division_id)
        .join(Establishment, Establishment.id == Pupil.establishment_id)
        .join(Account, Account.pupil_id == Pupil.id)
        .where(GuardianLink.guardian_id == guardian_id)
        .order_by(Pupil.birth_date)
    )
    return tuple(
        Relative(
            name=f"{first} {last}",
            division=division or "",
            school=school,
            relationship=relationship,
            legal_guardian=legal,
            state=AccountState(state),
            login=login,
        )
        for first, last, division, school, relationship, legal, state, login in rows
    )


def _history(session: Session, account_id: int, time: SchoolTime) -> tuple[HistoryEntry, ...]:
    events = session.scalars(
        select(AuditEvent)
        .join(AuditTarget, AuditTarget.event_id == AuditEvent.id)
        .where(AuditTarget.account_id == account_id)
        .order_by(AuditEvent.id.desc())
        .limit(HISTORY_LIMIT)
    )
    return tuple(
        HistoryEntry(
            at=event.occurred_at,
            who=event.actor_label,
            source=event.source_address,
            action=action_label(event.action),
            details=audit_words.summarize(event.action, event.details or {}, time),
        )
        for event in events
    )
