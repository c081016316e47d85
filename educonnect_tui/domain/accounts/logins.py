"""Creating accounts: one per pupil and one per guardian, with a unique, stable login."""

from __future__ import annotations

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from ..model.enums import AccountKind, AccountState
from ..model.identifiers import login_base, next_login, search_key, sort_key
from ..model.tables import Account, Guardian, Pupil
from ..store import db


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
    login = allocator.allocate(guardian.first_name, guardian.last_name)
    return Account(
        kind=AccountKind.GUARDIAN,
        guardian=guardian,
        login=login,
        search_text=search_key(guardian.last_name, guardian.first_name, login),
        sort_name=sort_key(guardian.last_name, guardian.first_name),
        state=AccountState.NOT_NOTIFIED,
        notification_count=0,
        failed_attempts=0,
        block_count=0,
        email=guardian.email,
    )


def refresh_search_text(account: Account, last_name: str, first_name: str) -> None:
    """Names can change on import; the login never does (docs/domain.md, « Logins »).

    The sort key follows the name too, or a renamed pupil would stay at the old place.
    """
    account.search_text = search_key(last_name, first_name, account.login)
    account.sort_name = sort_key(last_name, first_name)
