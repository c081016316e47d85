"""Creating accounts: one per pupil and one per guardian, with a unique, stable login."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from ..model.enums import AccountKind, AccountState
from ..model.identifiers import (
    guardian_search_key,
    login_base,
    next_login,
    search_key,
    sort_key,
)
from ..model.tables import Account, Guardian, GuardianLink, Pupil, SearchToken
from ..store import db
from ..store.search_index import token_rows


class LoginAllocator:
    """Hands out unique logins within one transaction.

    Logins already in the database are read once per base (an indexed prefix query);
    logins handed out in this transaction are remembered, so a bulk import of siblings
    never asks the database twice nor collides with itself. Another transaction
    creating accounts at the same time (another school's import) would read the same
    logins as free: the allocator's transaction is made the only such writer first.
    """

    def __init__(self, session: Session) -> None:
        db.serialise_writes(session)
        self._session = session
        self._taken: dict[str, set[str]] = {}

    def allocate(self, first_name: str, last_name: str) -> str:
        base = login_base(first_name, last_name)
        taken = self._taken.get(base)
        if taken is None:
            rows = self._session.scalars(
                select(Account.login).where(
                    Account.login.startswith(base, autoescape=True),
                    *_index_range(self._session, base),
                )
            )
            taken = {login for login in rows if login[len(base) :].isdigit() or login == base}
            self._taken[base] = taken
        login = next_login(base, taken)
        taken.add(login)
        return login


def _index_range(session: Session, base: str) -> tuple[ColumnElement[bool], ...]:
    """The logins starting with ``base`` as a range of a login index, in byte order.

    Neither backend reads an index for ``LIKE 'base%'`` as a prepared statement runs it
    (SQLite's LIKE folds case; PostgreSQL's plan for a parameter cannot), and an import
    asks once per new name: without the range each asking read every account. PostgreSQL
    compares in pattern order on its ``text_pattern_ops`` index (migration 0009), SQLite
    on its unique index.
    """
    after = base[:-1] + chr(ord(base[-1]) + 1)  # past every login that starts with base
    if session.get_bind().dialect.name == "postgresql":
        return (Account.login.op("~>=~")(base), Account.login.op("~<~")(after))
    return (Account.login >= base, Account.login < after)


def pupil_account(pupil: Pupil, allocator: LoginAllocator) -> Account:
    login = allocator.allocate(pupil.first_name, pupil.last_name)
    return Account(
        kind=AccountKind.PUPIL,
        pupil=pupil,
        login=login,
        search_text=search_key(pupil.last_name, pupil.first_name, login),
        sort_name=sort_key(pupil.last_name, pupil.first_name),
        state=AccountState.NOT_NOTIFIED,
        notification_count=0,
        failed_attempts=0,
        block_count=0,
    )


def guardian_account(guardian: Guardian, allocator: LoginAllocator) -> Account:
    """The account of a legal representative; links made before it count in its search."""
    login = allocator.allocate(guardian.first_name, guardian.last_name)
    children = [
        (link.pupil.last_name, link.pupil.first_name)
        for link in guardian.links
        if link.legal_guardian and link.pupil is not None
    ]
    return Account(
        kind=AccountKind.GUARDIAN,
        guardian=guardian,
        login=login,
        search_text=guardian_search_key(guardian.last_name, guardian.first_name, login, children),
        sort_name=sort_key(guardian.last_name, guardian.first_name),
        state=AccountState.NOT_NOTIFIED,
        notification_count=0,
        failed_attempts=0,
        block_count=0,
        email=guardian.email,
    )


def refresh_search_text(account: Account, last_name: str, first_name: str) -> None:
    """Names can change on import; the login never does (docs/domain.md, « Logins »).

    A guardian's children's words are added back by ``refresh_guardian_search``, which
    every import that renames or relinks runs at its end.

    The sort key follows the name too, or a renamed pupil would stay at the old place.
    """
    account.search_text = search_key(last_name, first_name, account.login)
    account.sort_name = sort_key(last_name, first_name)


def refresh_guardian_search(session: Session, guardian_ids: Iterable[int]) -> None:
    """Recompute the search words of these guardians' accounts: their names and login,
    and the names of the children they are the legal representative of.

    Called once an import has changed links or names, in batches of plain rows: the
    accounts whose words differ get their ``search_text`` and ``search_token`` rows
    rewritten, the others are left untouched.
    """
    wanted = sorted(set(guardian_ids))
    for start in range(0, len(wanted), _REFRESH_BATCH):
        batch = wanted[start : start + _REFRESH_BATCH]
        children: dict[int, list[tuple[str, str]]] = {}
        for guardian_id, last, first in session.execute(
            select(GuardianLink.guardian_id, Pupil.last_name, Pupil.first_name)
            .join(Pupil, Pupil.id == GuardianLink.pupil_id)
            .where(GuardianLink.guardian_id.in_(batch), GuardianLink.legal_guardian.is_(True))
            .order_by(GuardianLink.guardian_id, Pupil.birth_date, Pupil.id)
        ):
            children.setdefault(guardian_id, []).append((last, first))
        changed: dict[int, str] = {}
        for account_id, login, old, guardian_id, last, first in session.execute(
            select(
                Account.id,
                Account.login,
                Account.search_text,
                Guardian.id,
                Guardian.last_name,
                Guardian.first_name,
            )
            .join(Guardian, Guardian.id == Account.guardian_id)
            .where(Account.guardian_id.in_(batch))
        ):
            key = guardian_search_key(last, first, login, children.get(guardian_id, ()))
            if key != old:
                changed[account_id] = key
        if changed:
            _rewrite_search(session, changed)


def refresh_search_of_guardians_of(session: Session, pupil_ids: Iterable[int]) -> None:
    """After pupils were renamed: their legal representatives are found by the new name."""
    wanted = sorted(set(pupil_ids))
    guardian_ids: set[int] = set()
    for start in range(0, len(wanted), _REFRESH_BATCH):
        guardian_ids.update(
            session.scalars(
                select(GuardianLink.guardian_id).where(
                    GuardianLink.pupil_id.in_(wanted[start : start + _REFRESH_BATCH]),
                    GuardianLink.legal_guardian.is_(True),
                )
            )
        )
    refresh_guardian_search(session, guardian_ids)


def _rewrite_search(session: Session, changed: dict[int, str]) -> None:
    """Plain SQL on rows the ORM may hold: those objects' ``search_text`` is expired."""
    connection = session.connection()  # Core: no ORM bulk update, no mapper event
    connection.execute(
        update(Account)
        .where(Account.id == bindparam("account_id"))
        .values(search_text=bindparam("text")),
        [{"account_id": i, "text": t} for i, t in changed.items()],
    )
    connection.execute(delete(SearchToken).where(SearchToken.account_id.in_(list(changed))))
    rows = [row for i, t in sorted(changed.items()) for row in token_rows(i, t)]
    if rows:
        connection.execute(insert(SearchToken), rows)
    for held in session.identity_map.values():
        if isinstance(held, Account) and held.id in changed:
            session.expire(held, ["search_text"])


_REFRESH_BATCH = 1000
