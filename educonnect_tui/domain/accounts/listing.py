"""The home page's account lists: counted, filtered, sorted and paged by SQL.

Screens ask for one page at a time and receive frozen rows; nothing here loads a whole
table. Filters are the same ``Selection`` a notification uses, so what is shown is
exactly what (re)Notifier would touch.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, String, case, func, select
from sqlalchemy.orm import Session, aliased

from ..access.caller import Caller
from ..access.permissions import Action, Scope, require
from ..model.enums import (
    AccountKind,
    AccountState,
    ActivationMethod,
    Level,
    PupilStatus,
    division_order,
)
from ..model.tables import Account, Division, Guardian, GuardianLink, Pupil
from ..store.db import sorted_after_filtering
from ..store.services import Services
from .selection import Selection, accounts_of, restrict

_STATE_ORDER = {
    AccountState.NOT_NOTIFIED: 0,
    AccountState.NOTIFIED: 1,
    AccountState.ACTIVATED: 2,
    AccountState.DEACTIVATED: 3,
}


class SortKey(StrEnum):
    STATE = "state"
    LAST_NAME = "last_name"
    FIRST_NAME = "first_name"
    DIVISION = "division"
    LOGIN = "login"
    BIRTH_DATE = "birth_date"
    NOTIFIED_AT = "notified_at"
    ACTIVATED_AT = "activated_at"
    METHOD = "method"


@dataclass(frozen=True)
class ListQuery:
    kind: AccountKind
    selection: Selection = field(default_factory=Selection)
    sort: SortKey = SortKey.LAST_NAME
    descending: bool = False

    def with_selection(self, **changes: Any) -> ListQuery:
        return replace(self, selection=replace(self.selection, **changes))


@dataclass(frozen=True)
class PupilRow:
    account_id: int
    state: AccountState
    blocked: bool
    last_name: str
    first_name: str
    division: str
    login: str
    birth_date: dt.date
    notified_on: dt.date | None  # the school's day (model/calendar.py)
    activated_on: dt.date | None


@dataclass(frozen=True)
class GuardianRow:
    account_id: int
    state: AccountState
    blocked: bool
    civility: str
    last_name: str
    first_name: str
    login: str
    children: tuple[str, ...]  # "Léa Martin (3E2)"
    contact: str  # masked e-mail and/or mobile
    method: ActivationMethod | None
    notified_on: dt.date | None


Row = PupilRow | GuardianRow


@dataclass(frozen=True)
class DivisionRef:
    name: str
    level: str
    pupils: int


def mask_email(email: str | None) -> str:
    """Enough to recognise an address on the phone, not enough to harvest it."""
    if not email or "@" not in email:
        return ""
    user, domain = email.split("@", 1)
    return f"{user[:1]}•••@{domain}"


def mask_mobile(mobile: str | None) -> str:
    digits = "".join(ch for ch in mobile or "" if ch.isdigit())
    if len(digits) < 4:
        return ""
    return f"{digits[:2]} •• •• •• {digits[-2:]}"


def masked_contact(email: str | None, mobile: str | None) -> str:
    return " · ".join(part for part in (mask_email(email), mask_mobile(mobile)) if part)


class Listing:
    """The accounts of one school, as the home page shows them.

    Every query first asks ``permissions.require`` for the caller (so a delegation
    revoked meanwhile stops the next page) and is narrowed to the caller's scope: their
    classes, pupils only without the second factor.
    """

    def __init__(self, services: Services, caller: Caller) -> None:
        self._services = services
        self._establishment_id = caller.school.id
        self._caller = caller

    def _scope(self, kind: AccountKind | None = None) -> Scope:
        return require(self._services, self._caller, Action.VIEW_ACCOUNTS, kind=kind)

    def _selection(self, query: ListQuery) -> Selection:
        return restrict(query.selection, self._scope(query.kind))

    def _day(self, moment: dt.datetime | None) -> dt.date | None:
        return None if moment is None else self._services.time.today(moment)

    def _ids(self, query: ListQuery) -> Any:
        return accounts_of(query.kind, self._establishment_id, self._selection(query))

    def count(self, query: ListQuery) -> int:
        with self._services.sessions() as session:
            ids = self._ids(query).subquery()
            return int(session.scalar(select(func.count()).select_from(ids)) or 0)

    def ids(self, query: ListQuery) -> list[int]:
        """Every id shown (integers only): for "select all shown"."""
        with self._services.sessions() as session:
            return list(session.scalars(self._ids(query)))

    def still_shown(self, query: ListQuery, selected: set[int]) -> set[int]:
        """The part of a selection that the new filters still show."""
        if not selected:
            return set()
        narrowed = replace(self._selection(query), account_ids=tuple(selected))
        with self._services.sessions() as session:
            return set(session.scalars(accounts_of(query.kind, self._establishment_id, narrowed)))

    def divisions(self) -> list[DivisionRef]:
        """The school's classes, or only those of the person's delegation."""
        scope = self._scope()
        with self._services.sessions() as session:
            statement = (
                select(Division.name, Division.level, func.count(Pupil.id))
                .outerjoin(
                    Pupil,
                    (Pupil.division_id == Division.id) & (Pupil.status == PupilStatus.ENROLLED),
                )
                .where(Division.establishment_id == self._establishment_id)
                .group_by(Division.id, Division.name, Division.level)
            )
            if scope.division_ids is not None:
                statement = statement.where(Division.id.in_(scope.division_ids))
            rows = session.execute(statement).all()
        refs = [DivisionRef(name, level, int(n)) for name, level, n in rows]
        return sorted(refs, key=lambda d: division_order(d.level, d.name))

    def page(self, query: ListQuery, offset: int, limit: int) -> list[Row]:
        return self._read_page(query, offset, limit, counted=False)[1]

    def counted_page(self, query: ListQuery, offset: int, limit: int) -> tuple[int, list[Row]]:
        """How many rows the list has, and one page of them, in one query where it can.

        A filter change needs both: the page's query finds every row of the list before
        it sorts them, so it counts them too (``count(*) OVER ()``) rather than a second
        query finding them again (on PostgreSQL, a school's guardians 20 ms saved). A
        page past the end has no row to carry the count: it is then counted alone.
        """
        total, rows = self._read_page(query, offset, limit, counted=True)
        if not rows and offset > 0:
            total = self.count(query)
        return total, rows

    def _read_page(
        self, query: ListQuery, offset: int, limit: int, *, counted: bool
    ) -> tuple[int, list[Row]]:
        now = self._services.clock()
        with self._services.sessions() as session:
            if query.kind is AccountKind.PUPIL:
                return self._pupil_page(session, query, offset, limit, now, counted)
            return self._guardian_page(session, query, offset, limit, now, counted)

    def _listed(self, query: ListQuery, columns: list[Any], counted: bool) -> Any:
        """The list's own query with the page's columns: its rows are read where they are
        found, not found by id and looked up again (``Account.id IN (...)``)."""
        selected = accounts_of(
            query.kind, self._establishment_id, self._selection(query), with_owner=True
        )
        total = [func.count().over()] if counted else []
        return selected.with_only_columns(*columns, *total, maintain_column_froms=True)

    def _order(self, query: ListQuery, columns: dict[SortKey, Any]) -> list[Any]:
        state_rank = case(
            *((Account.state == s, rank) for s, rank in _STATE_ORDER.items()), else_=9
        )
        key = columns.get(query.sort, columns[SortKey.LAST_NAME])
        if query.sort is SortKey.STATE:
            key = state_rank
        keys = [sorted_after_filtering(key, self._services.engine)]
        if query.sort is SortKey.DIVISION:  # classes in school order: 6e before 3e
            keys.insert(0, case(Level.ranks(), value=Division.level, else_=Level.OTHER.rank))
        primary = [k.desc() if query.descending else k.asc() for k in keys]
        # Names (in French order) break ties, then the id keeps paging stable.
        return [*primary, Account.sort_name, Account.id]

    def _first_names(self) -> ColumnElement[Any]:
        """The first-name half of ``sort_name`` (after its one space), for « trier par prénom ».

        The same French order as the last names, without a second stored key: the list is
        sorted after filtering anyway (``sorted_after_filtering``), so no index is lost.
        """
        key = Account.sort_name
        if self._services.engine.dialect.name == "postgresql":
            space = func.strpos(key, " ")
        else:
            space = func.instr(key, " ")
        return func.substr(key, space + 1, type_=String)

    def _pupil_page(
        self,
        session: Session,
        query: ListQuery,
        offset: int,
        limit: int,
        now: dt.datetime,
        counted: bool,
    ) -> tuple[int, list[Row]]:
        columns: dict[SortKey, Any] = {
            SortKey.LAST_NAME: Account.sort_name,
            SortKey.FIRST_NAME: self._first_names(),
            SortKey.DIVISION: Division.name,
            SortKey.LOGIN: Account.login,
            SortKey.BIRTH_DATE: Pupil.birth_date,
            SortKey.NOTIFIED_AT: Account.notified_at,
            SortKey.ACTIVATED_AT: Account.activated_at,
        }
        statement = (
            self._listed(
                query,
                [
                    Account.id,
                    Account.state,
                    _blocked(now),
                    Pupil.last_name,
                    Pupil.first_name,
                    Division.name,
                    Account.login,
                    Pupil.birth_date,
                    Account.notified_at,
                    Account.activated_at,
                ],
                counted,
            )
            .order_by(*self._order(query, columns))
            .offset(offset)
            .limit(limit)
        )
        found = session.execute(statement).all()
        return _total(found, 10, counted), [
            PupilRow(
                account_id=r[0],
                state=AccountState(r[1]),
                blocked=bool(r[2]),
                last_name=r[3],
                first_name=r[4],
                division=r[5],
                login=r[6],
                birth_date=r[7],
                notified_on=self._day(r[8]),
                activated_on=self._day(r[9]),
            )
            for r in found
        ]

    def _guardian_page(
        self,
        session: Session,
        query: ListQuery,
        offset: int,
        limit: int,
        now: dt.datetime,
        counted: bool,
    ) -> tuple[int, list[Row]]:
        columns: dict[SortKey, Any] = {
            SortKey.LAST_NAME: Account.sort_name,
            SortKey.FIRST_NAME: self._first_names(),
            SortKey.LOGIN: Account.login,
            SortKey.NOTIFIED_AT: Account.notified_at,
            SortKey.ACTIVATED_AT: Account.activated_at,
            SortKey.METHOD: Account.activation_method,
        }
        statement = (
            self._listed(
                query,
                [
                    Account.id,
                    Account.state,
                    _blocked(now),
                    Guardian.civility,
                    Guardian.last_name,
                    Guardian.first_name,
                    Account.login,
                    Guardian.email,
                    Guardian.mobile,
                    Account.activation_method,
                    Account.notified_at,
                    Guardian.id,
                ],
                counted,
            )
            .order_by(*self._order(query, columns))
            .offset(offset)
            .limit(limit)
        )
        rows = session.execute(statement).all()
        children = children_of(session, self._establishment_id, [r[11] for r in rows])
        return _total(rows, 12, counted), [
            GuardianRow(
                account_id=r[0],
                state=AccountState(r[1]),
                blocked=bool(r[2]),
                civility=r[3],
                last_name=r[4],
                first_name=r[5],
                login=r[6],
                children=tuple(children.get(r[11], ())),
                contact=masked_contact(r[7], r[8]),
                method=ActivationMethod(r[9]) if r[9] else None,
                notified_on=self._day(r[10]),
            )
            for r in rows
        ]


def children_of(
    session: Session, establishment_id: int, guardian_ids: list[int]
) -> dict[int, list[str]]:
    """This school's enrolled children of these guardians, « Léa Martin (3E2) », in one
    query: the guardians' list and its exports show the same."""
    if not guardian_ids:
        return {}
    child = aliased(Pupil)
    out: dict[int, list[str]] = {}
    for guardian_id, first, last, division in session.execute(
        select(GuardianLink.guardian_id, child.first_name, child.last_name, Division.name)
        .join(child, child.id == GuardianLink.pupil_id)
        .join(Division, Division.id == child.division_id)
        .where(
            GuardianLink.guardian_id.in_(guardian_ids),
            child.establishment_id == establishment_id,
            child.status == PupilStatus.ENROLLED,
        )
        .order_by(GuardianLink.guardian_id, child.birth_date)
    ):
        out.setdefault(guardian_id, []).append(f"{first} {last} ({division})")
    return out


def _total(rows: Sequence[Any], column: int, counted: bool) -> int:
    """The list's length that ``count(*) OVER ()`` put on each row (0 when none came)."""
    return int(rows[0][column]) if counted and rows else 0


def _blocked(now: dt.datetime) -> ColumnElement[bool]:
    return case((Account.blocked_until > now, True), else_=False)
