"""The benchmark's académie, built small: proportions, identifier rules, the search index."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from benchmarks import dataset
from educonnect_tui.domain import directory
from educonnect_tui.domain.enums import AccountKind
from educonnect_tui.domain.listing import Listing, ListQuery
from educonnect_tui.domain.models import Account, Establishment, SearchToken
from educonnect_tui.domain.search_index import words
from educonnect_tui.domain.selection import Selection
from educonnect_tui.domain.services import Services

LOGIN = re.compile(r"^[a-z0-9.]{1,32}$")


def test_small_academie(services: Services) -> None:
    built = dataset.build(services, scale=0.01)
    assert (built.schools, built.pupils) == (5, 4000)
    assert 1.3 < built.guardians / built.pupils < 1.6
    with services.sessions() as session:
        logins = list(session.scalars(select(Account.login)))
        assert len(logins) == len(set(logins)) == built.accounts
        assert all(LOGIN.match(login) for login in logins)
        texts = list(session.scalars(select(Account.search_text)))
        assert session.scalar(select(func.count()).select_from(SearchToken)) == sum(
            len(words(t)) for t in texts
        )
        largest = session.scalar(
            select(Establishment).where(Establishment.uai == built.largest_uai)
        )
        assert largest is not None
    listing = Listing(services, largest.id)
    pupils = listing.count(ListQuery(AccountKind.PUPIL))
    assert pupils > 1400
    assert listing.count(ListQuery(AccountKind.GUARDIAN)) > pupils
    row = listing.page(ListQuery(AccountKind.PUPIL), 0, 1)[0]
    query = ListQuery(AccountKind.PUPIL, Selection(search=f"{row.last_name} {row.first_name}"))
    assert row.account_id in listing.ids(query)
    found = directory.search(services, row.login, limit=200)  # "a.adam" also finds a.adam6
    assert row.account_id in [r.account_id for r in found.rows]


def test_same_seed_same_logins(services: Services, tmp_path) -> None:  # type: ignore[no-untyped-def]
    dataset.build(services, scale=0.004, seed=5)
    with services.sessions() as session:
        first = list(session.scalars(select(Account.login).order_by(Account.id).limit(200)))
    other = Services.from_settings(
        services.settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'b.db'}"})
    )
    dataset.build(other, scale=0.004, seed=5)
    with other.sessions() as session:
        again = list(session.scalars(select(Account.login).order_by(Account.id).limit(200)))
    other.engine.dispose()
    assert first == again
