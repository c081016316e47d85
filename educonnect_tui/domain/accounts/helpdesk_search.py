"""Dépannage: finding the caller's account from one search field.

A helpdesk agent types whatever the pupil or parent on the phone says — a name, a first
name, a login, a class — and gets a list to recognise them in. Pupils always; guardians
only when the scope allows them (the administration module, second factor).

The list comes in pages (keyset: each page starts after the last account of the one
before, in the order of names), with the count of every match in the scope, so a
search for a class lists the whole class without loading it at once. Nothing outside
the scope is ever queried: a search that finds nothing answers the same whether or not
someone matches elsewhere in the school, and names the scope's classes instead.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from ..access.caller import Caller
from ..access.permissions import Action, Scope, require
from ..model.enums import AccountKind, AccountState, PupilStatus, division_order
from ..model.identifiers import search_key, search_terms
from ..model.tables import Account, Division, Guardian, GuardianLink, Pupil
from ..store.establishments import guardians_of
from ..store.search_index import has_word_starting
from ..store.services import Services

DEFAULT_LIMIT = 20
# A search's query, whatever columns it reads.
Query = Select[*tuple[Any, ...]]


class Child(NamedTuple):
    """A guardian's child in this school, as the helpdesk names them."""

    last_name: str
    first_name: str
    division: str


@dataclass(frozen=True)
class HelpdeskRow:
    """One search result: enough to recognise the caller and see what is wrong."""

    account_id: int
    kind: AccountKind
    state: AccountState
    blocked: bool
    blocked_until: dt.datetime | None  # only while still blocked
    civility: str
    last_name: str
    first_name: str
    division: str  # pupils: their class; guardians: their children's classes here
    login: str
    # A pupil's, to check the caller's identity before a reset or an unblock; None for
    # guardians and for staff who may not open an account's detail.
    birth_date: dt.date | None = None
    # A guardian found through a child's name (a typed word starting none of their own):
    # those children, so that the agent sees whose parent this is.
    through: tuple[Child, ...] = ()

    @property
    def name(self) -> str:
        return " ".join(p for p in (self.civility, self.first_name, self.last_name) if p)


class After(NamedTuple):
    """Where a page ended: the next one starts after this account in the order of names
    (pupils before guardians of the same name, then by id)."""

    sort_name: str
    guardian: bool
    account_id: int


@dataclass(frozen=True)
class HelpdeskPage:
    """One page of a search, with what the screen says about the whole of it."""

    rows: list[HelpdeskRow]
    total: int  # every account the search finds in the scope, not only this page
    # The classes the scope covers, in the school's order; None: the whole school.
    classes: tuple[str, ...] | None
    guardians: bool  # whether guardians were searched too
    after: After | None  # where the next page starts; None: this was the last one


def search(
    services: Services,
    caller: Caller,
    text: str,
    *,
    limit: int = DEFAULT_LIMIT,
    after: After | None = None,
) -> HelpdeskPage:
    """Accounts where every typed word starts a word of the name, first name or login.

    Words are folded (accents and case ignored, see ``search_index``); a word may instead
    be the start of a class name, so "3e2 martin" finds the Martins of 3E2. Pupils
    always; guardians only when the scope allows them (second factor). Each query
    carries its LIMIT and the total is a COUNT: a page, never a table.
    """
    school = caller.school.id
    scope = require(services, caller, Action.VIEW_ACCOUNTS, kind=AccountKind.PUPIL)
    terms = search_terms(text)
    now = services.clock()
    with services.sessions() as session:
        classes = _scope_classes(session, scope)
        if not terms or limit <= 0:
            return HelpdeskPage([], 0, classes, scope.guardians, None)
        birth = scope.allows(Action.VIEW_DETAIL)
        pupils = _pupil_query(school, scope, terms)
        found = _pupils(session, _page(pupils, False, after), limit + 1, now, birth)
        total = _count(session, pupils)
        if scope.guardians:
            guardians = _guardian_query(school, scope, terms)
            found += _guardians(
                session, school, _page(guardians, True, after), limit + 1, now, terms
            )
            total += _count(session, guardians)
    found.sort(key=lambda pair: pair[0])
    more = found[limit - 1][0] if len(found) > limit else None
    return HelpdeskPage([row for _, row in found[:limit]], total, classes, scope.guardians, more)


def _scope_classes(session: Session, scope: Scope) -> tuple[str, ...] | None:
    """The names of the classes a delegation limits the search to, as the school orders them."""
    if scope.division_ids is None:
        return None
    rows = session.execute(
        select(Division.level, Division.name).where(Division.id.in_(scope.division_ids))
    ).all()
    return tuple(name for _, name in sorted(rows, key=lambda r: division_order(r[0], r[1])))


def _page(query: Query, guardian: bool, after: After | None) -> Query:
    """Only the accounts after ``after`` in (sort name, pupils first, id) order."""
    if after is None:
        return query
    later = Account.sort_name > after.sort_name
    if guardian == after.guardian:
        same = and_(Account.sort_name == after.sort_name, Account.id > after.account_id)
        later = or_(later, same)
    elif guardian:  # guardians come after the pupils of the same name
        later = Account.sort_name >= after.sort_name
    return query.where(later)


def _count(session: Session, query: Query) -> int:
    return int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)


def _class_starts_with(division: Any, term: str) -> ColumnElement[bool]:
    """A typed word may be the start of a class name ("3e" finds 3E1, 3E2...)."""
    return func.lower(division.name).startswith(term, autoescape=True)


def _block_end(until: dt.datetime | None, now: dt.datetime) -> dt.datetime | None:
    """The end of a block still running; a past one is no longer shown."""
    return until if until is not None and until > now else None


def _pupil_query(school: int, scope: Scope, terms: list[str]) -> Query:
    query: Query = (
        select(
            Account.sort_name,
            Account.id,
            Account.state,
            Account.blocked_until,
            Pupil.last_name,
            Pupil.first_name,
            Division.name,
            Account.login,
            Pupil.birth_date,
        )
        .join(Pupil, Pupil.id == Account.pupil_id)
        .join(Division, Division.id == Pupil.division_id)
        .where(Pupil.establishment_id == school, Pupil.status == PupilStatus.ENROLLED)
    )
    if scope.division_ids is not None:
        query = query.where(Pupil.division_id.in_(scope.division_ids))
    for term in terms:
        query = query.where(or_(has_word_starting(term), _class_starts_with(Division, term)))
    return query


def _pupils(
    session: Session, query: Query, limit: int, now: dt.datetime, birth: bool
) -> list[tuple[After, HelpdeskRow]]:
    rows = session.execute(query.order_by(Account.sort_name, Account.id).limit(limit)).all()
    return [
        (
            After(key, False, account_id),
            HelpdeskRow(
                account_id=account_id,
                kind=AccountKind.PUPIL,
                state=AccountState(state),
                blocked=_block_end(until, now) is not None,
                blocked_until=_block_end(until, now),
                civility="",
                last_name=last,
                first_name=first,
                division=division,
                login=login,
                birth_date=born if birth else None,
            ),
        )
        for key, account_id, state, until, last, first, division, login, born in rows
    ]


def _guardian_query(school: int, scope: Scope, terms: list[str]) -> Query:
    query: Query = (
        select(
            Account.sort_name,
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
        .where(Account.guardian_id.in_(guardians_of(school, division_ids=scope.division_ids)))
    )
    for term in terms:
        query = query.where(
            or_(has_word_starting(term), Account.guardian_id.in_(_with_child_in(school, term)))
        )
    return query


def _guardians(
    session: Session,
    school: int,
    query: Query,
    limit: int,
    now: dt.datetime,
    terms: list[str],
) -> list[tuple[After, HelpdeskRow]]:
    rows = session.execute(query.order_by(Account.sort_name, Account.id).limit(limit)).all()
    classes = _children_classes(session, school, [r[8] for r in rows])
    children = _legal_children(session, school, [r[8] for r in rows])
    return [
        (
            After(key, True, account_id),
            HelpdeskRow(
                account_id=account_id,
                kind=AccountKind.GUARDIAN,
                state=AccountState(state),
                blocked=_block_end(until, now) is not None,
                blocked_until=_block_end(until, now),
                civility=civility,
                last_name=last,
                first_name=first,
                division=", ".join(classes.get(guardian_id, ())),
                login=login,
                through=found_through(
                    terms, search_key(last, first, login), children.get(guardian_id, [])
                ),
            ),
        )
        for key, account_id, state, until, civility, last, first, login, guardian_id in rows
    ]


def found_through(terms: list[str], own: str, children: list[Child]) -> tuple[Child, ...]:
    """The children whose names a typed word found a guardian by.

    Only the words starting none of the guardian's own (``own``, their ``search_key``)
    count: « martin » finds Mme Martin by her own name, and names no child; « lea »
    finds her through Léa. The same folding as the index (``search_key``), so what is
    shown is why the search matched.
    """
    mine = own.split()
    others = [t for t in terms if not any(word.startswith(t) for word in mine)]
    if not others:
        return ()
    return tuple(
        child
        for child in children
        if any(
            word.startswith(t)
            for t in others
            for word in search_key(child.last_name, child.first_name).split()
        )
    )


def _legal_children(
    session: Session, school: int, guardian_ids: list[int]
) -> dict[int, list[Child]]:
    """The enrolled children of this school each guardian is the legal representative of:
    the children whose words their search text holds (``guardian_search_key``)."""
    if not guardian_ids:
        return {}
    child = aliased(Pupil)
    division = aliased(Division)
    query = (
        guardians_of(school, child=child)
        .add_columns(child.last_name, child.first_name, division.name)
        .join(division, division.id == child.division_id)
        .where(GuardianLink.guardian_id.in_(guardian_ids), GuardianLink.legal_guardian.is_(True))
        .order_by(GuardianLink.guardian_id, child.birth_date, child.id)
    )
    out: dict[int, list[Child]] = {}
    for guardian_id, last, first, name in session.execute(query):
        out.setdefault(guardian_id, []).append(Child(last, first, name))
    return out


def _with_child_in(school: int, term: str) -> Select[int]:
    """Guardian ids with an enrolled child of the school in a class starting with ``term``."""
    child = aliased(Pupil)
    division = aliased(Division)
    return (
        guardians_of(school, child=child)
        .join(division, division.id == child.division_id)
        .where(_class_starts_with(division, term))
    )


def _children_classes(
    session: Session, school: int, guardian_ids: list[int]
) -> dict[int, list[str]]:
    """Each guardian's children's classes in this school, to tell namesakes apart."""
    if not guardian_ids:
        return {}
    child = aliased(Pupil)
    division = aliased(Division)
    query = (
        guardians_of(school, child=child)
        .add_columns(division.name)
        .join(division, division.id == child.division_id)
        .where(GuardianLink.guardian_id.in_(guardian_ids))
        .order_by(GuardianLink.guardian_id, division.name)
        .distinct()
    )
    out: dict[int, list[str]] = {}
    for guardian_id, name in session.execute(query):
        out.setdefault(guardian_id, []).append(name)
    return out
