"""Dépannage: finding the caller's account from one search field.

A helpdesk agent types whatever the pupil or parent on the phone says — a name, a first
name, a login, a class — and gets a short list to recognise them in. Pupils always;
guardians only when the scope allows them (the administration module, second factor).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session, aliased

from ..access.caller import Caller
from ..access.permissions import Action, Scope, require
from ..model.enums import AccountKind, AccountState, PupilStatus
from ..model.identifiers import search_terms
from ..model.tables import Account, Division, Guardian, GuardianLink, Pupil
from ..store.establishments import guardians_of
from ..store.search_index import has_word_starting
from ..store.services import Services

DEFAULT_LIMIT = 20


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

    @property
    def name(self) -> str:
        return " ".join(p for p in (self.civility, self.first_name, self.last_name) if p)


def search(
    services: Services, caller: Caller, text: str, *, limit: int = DEFAULT_LIMIT
) -> list[HelpdeskRow]:
    """Accounts where every typed word starts a word of the name, first name or login.

    Words are folded (accents and case ignored, see ``search_index``); a word may instead
    be the start of a class name, so "3e2 martin" finds the Martins of 3E2. Pupils
    always; guardians only when the scope allows them (second factor). Each query
    carries its LIMIT: the result is a short list, never a table.
    """
    school = caller.school.id
    scope = require(services, caller, Action.VIEW_ACCOUNTS, kind=AccountKind.PUPIL)
    terms = search_terms(text)
    if not terms or limit <= 0:
        return []
    now = services.clock()
    with services.sessions() as session:
        found = _pupils(session, school, scope, terms, limit, now)
        if scope.guardians:
            found += _guardians(session, school, scope, terms, limit, now)
    found.sort(key=lambda pair: (pair[0], pair[1].kind is AccountKind.GUARDIAN))
    return [row for _, row in found[:limit]]


def _class_starts_with(division: Any, term: str) -> ColumnElement[bool]:
    """A typed word may be the start of a class name ("3e" finds 3E1, 3E2...)."""
    return func.lower(division.name).startswith(term, autoescape=True)


def _block_end(until: dt.datetime | None, now: dt.datetime) -> dt.datetime | None:
    """The end of a block still running; a past one is no longer shown."""
    return until if until is not None and until > now else None


def _pupils(
    session: Session, school: int, scope: Scope, terms: list[str], limit: int, now: dt.datetime
) -> list[tuple[str, HelpdeskRow]]:
    query = (
        select(
            Account.sort_name,
            Account.id,
            Account.state,
            Account.blocked_until,
            Pupil.last_name,
            Pupil.first_name,
            Division.name,
            Account.login,
        )
        .join(Pupil, Pupil.id == Account.pupil_id)
        .join(Division, Division.id == Pupil.division_id)
        .where(Pupil.establishment_id == school, Pupil.status == PupilStatus.ENROLLED)
    )
    if scope.division_ids is not None:
        query = query.where(Pupil.division_id.in_(scope.division_ids))
    for term in terms:
        query = query.where(or_(has_word_starting(term), _class_starts_with(Division, term)))
    rows = session.execute(query.order_by(Account.sort_name, Account.id).limit(limit)).all()
    return [
        (
            key,
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
            ),
        )
        for key, account_id, state, until, last, first, division, login in rows
    ]


def _guardians(
    session: Session, school: int, scope: Scope, terms: list[str], limit: int, now: dt.datetime
) -> list[tuple[str, HelpdeskRow]]:
    query = (
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
    rows = session.execute(query.order_by(Account.sort_name, Account.id).limit(limit)).all()
    classes = _children_classes(session, school, [r[8] for r in rows])
    return [
        (
            key,
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
            ),
        )
        for key, account_id, state, until, civility, last, first, login, guardian_id in rows
    ]


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
