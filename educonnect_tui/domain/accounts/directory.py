"""Search every account of the database (an académie helpdesk), by name or identifier.

A school's lists narrow to its accounts first; here nothing narrows, so the search is
driven by the index: each typed word is a range of ``search_token``, the accounts are
the intersection of those ranges, and the page carries its LIMIT. At a million accounts
a query stays in milliseconds. The command line's operator owns the database: this
service is the command line's (``search``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, intersect, select
from sqlalchemy.orm import Session, aliased

from ..model.enums import AccountKind, AccountState, PupilStatus
from ..model.identifiers import search_terms
from ..model.tables import Account, Division, Establishment, Guardian, GuardianLink, Pupil
from ..store.db import sorted_after_filtering
from ..store.search_index import also_starting_with, starting_with
from ..store.services import Services

DEFAULT_LIMIT = 20


@dataclass(frozen=True)
class DirectoryRow:
    account_id: int
    kind: AccountKind
    state: AccountState
    blocked_until: dt.datetime | None  # only while still blocked
    civility: str
    last_name: str
    first_name: str
    login: str
    uai: str  # pupils: their school; guardians: their first enrolled child's school
    school: str
    division: str  # pupils: their class; guardians: their children, "Léa (3E2)"
    other_schools: int = 0  # guardians with children in more schools


@dataclass(frozen=True)
class DirectoryResult:
    rows: list[DirectoryRow]
    more: bool  # there are more matches than the limit: type more letters


def search(services: Services, text: str, *, limit: int = DEFAULT_LIMIT) -> DirectoryResult:
    """Accounts where every typed word starts a word of the name, first name or login."""
    terms = list(dict.fromkeys(search_terms(text)))
    if not terms or limit <= 0:
        return DirectoryResult([], more=False)
    # Each word of three letters or more is a range of the token index; the accounts
    # having all of them are the intersection of those ranges (read in index order). A
    # word of one or two letters ("d'", "Ma") is a range of a tenth of the index: it is
    # checked on those accounts only, unless nothing longer was typed. One Chinese
    # character is as selective as a Latin word.
    wide = [term for term in terms if len(term) < 3 and term.isascii()]
    narrow = [term for term in terms if term not in wide] or [
        wide.pop(wide.index(max(wide, key=len)))
    ]
    ranges = [starting_with(term) for term in narrow]
    ranges[0] = ranges[0].where(*(also_starting_with(term) for term in wide))
    query = select(Account.id).where(
        Account.id.in_(intersect(*ranges) if len(ranges) > 1 else ranges[0])
    )
    order = sorted_after_filtering(Account.__table__.c.sort_name, services.engine)
    query = query.order_by(order, Account.id).limit(limit + 1)
    now = services.clock()
    with services.sessions() as session:
        ids = list(session.scalars(query))
        more = len(ids) > limit
        ids = ids[:limit]
        found = _pupils(session, ids, now) | _guardians(session, ids, now)
    return DirectoryResult([found[i] for i in ids if i in found], more=more)


def _still_blocked(until: dt.datetime | None, now: dt.datetime) -> dt.datetime | None:
    return until if until is not None and until > now else None


def _pupils(session: Session, ids: list[int], now: dt.datetime) -> dict[int, DirectoryRow]:
    rows = session.execute(
        select(
            Account.id,
            Account.state,
            Account.blocked_until,
            Pupil.last_name,
            Pupil.first_name,
            Account.login,
            Establishment.uai,
            Establishment.name,
            Division.name,
        )
        .join(Pupil, Pupil.id == Account.pupil_id)
        .join(Establishment, Establishment.id == Pupil.establishment_id)
        .outerjoin(Division, Division.id == Pupil.division_id)
        .where(Account.id.in_(ids))
    )
    return {
        account_id: DirectoryRow(
            account_id=account_id,
            kind=AccountKind.PUPIL,
            state=AccountState(state),
            blocked_until=_still_blocked(until, now),
            civility="",
            last_name=last,
            first_name=first,
            login=login,
            uai=uai,
            school=school,
            division=division or "",
        )
        for account_id, state, until, last, first, login, uai, school, division in rows
    }


def _guardians(session: Session, ids: list[int], now: dt.datetime) -> dict[int, DirectoryRow]:
    rows = session.execute(
        select(
            Account.id,
            Account.state,
            Account.blocked_until,
            Guardian.civility,
            Guardian.last_name,
            Guardian.first_name,
            Account.login,
            Guardian.id,
        )
        .join(Guardian, Guardian.id == Account.guardian_id)
        .where(Account.id.in_(ids))
    ).all()
    children = _children(session, [r[7] for r in rows])
    out: dict[int, DirectoryRow] = {}
    for account_id, state, until, civility, last, first, login, guardian_id in rows:
        kids = children.get(guardian_id, [])
        schools = list(dict.fromkeys((uai, school) for uai, school, _ in kids))
        uai, school = schools[0] if schools else ("", "")
        out[account_id] = DirectoryRow(
            account_id=account_id,
            kind=AccountKind.GUARDIAN,
            state=AccountState(state),
            blocked_until=_still_blocked(until, now),
            civility=civility,
            last_name=last,
            first_name=first,
            login=login,
            uai=uai,
            school=school,
            division=", ".join(child for u, _, child in kids if u == uai),
            other_schools=max(len(schools) - 1, 0),
        )
    return out


def _children(session: Session, guardian_ids: list[int]) -> dict[int, list[tuple[str, str, str]]]:
    """Enrolled children of the page's guardians: (UAI, school, "Léa (3E2)"), in one query."""
    if not guardian_ids:
        return {}
    child = aliased(Pupil)
    out: dict[int, list[tuple[str, str, str]]] = {}
    for guardian_id, uai, school, first, division in session.execute(
        select(
            GuardianLink.guardian_id,
            Establishment.uai,
            Establishment.name,
            child.first_name,
            func.coalesce(Division.name, ""),
        )
        .join(child, child.id == GuardianLink.pupil_id)
        .join(Establishment, Establishment.id == child.establishment_id)
        .outerjoin(Division, Division.id == child.division_id)
        .where(GuardianLink.guardian_id.in_(guardian_ids), child.status == PupilStatus.ENROLLED)
        .order_by(GuardianLink.guardian_id, child.birth_date)
    ):
        out.setdefault(guardian_id, []).append((uai, school, f"{first} ({division})"))
    return out
