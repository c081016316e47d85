"""Creating accounts: one per pupil and one per guardian, with a unique, stable login."""

from __future__ import annotations

from sqlalchemy import select
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
            query = select(Account.login).where(Account.login.startswith(base, autoescape=True))
            if self._session.get_bind().dialect.name == "sqlite":
                # SQLite's LIKE cannot use the login index (it folds case): the same
                # logins as a range of it, in its byte order, so a large import does not
                # read every account once per new name.
                query = query.where(Account.login >= base, Account.login < _after(base))
            rows = self._session.scalars(query)
            taken = {login for login in rows if login[len(base) :].isdigit() or login == base}
            self._taken[base] = taken
        login = next_login(base, taken)
        taken.add(login)
        return login


def _after(base: str) -> str:
    """The first string past every one that starts with ``base`` (``[a-z0-9.]`` logins)."""
    return base[:-1] + chr(ord(base[-1]) + 1)


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
