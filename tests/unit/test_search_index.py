"""Word-prefix search through ``search_token``: the rule, the index kept in step, the
académie-wide directory, and the migration that fills the index of an existing base."""

from __future__ import annotations

import itertools
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select, text

from educonnect_tui.domain.accounts import directory
from educonnect_tui.domain.accounts.listing import Listing, ListQuery
from educonnect_tui.domain.accounts.logins import refresh_search_text
from educonnect_tui.domain.accounts.selection import Selection
from educonnect_tui.domain.model.enums import AccountKind, AccountState
from educonnect_tui.domain.model.identifiers import search_key, search_terms
from educonnect_tui.domain.model.tables import Account, SearchToken
from educonnect_tui.domain.store import db
from educonnect_tui.domain.store.search_index import TOKEN_MAX_LENGTH, words
from educonnect_tui.domain.store.services import Services
from tests import factories

# Any Unicode a decoded file can hold (no lone surrogate; PostgreSQL refuses NUL).
names = st.text(
    st.characters(exclude_characters="\x00", exclude_categories=("Cs",)), min_size=1, max_size=40
)
_uais = itertools.count(1)


def _tokens(services: Services, account_id: int) -> set[str]:
    with services.sessions() as session:
        return set(
            session.scalars(select(SearchToken.token).where(SearchToken.account_id == account_id))
        )


def _matches(services: Services, account_id: int, query: str) -> bool:
    with services.sessions() as session:
        school_id = session.get_one(Account, account_id).pupil.establishment_id  # type: ignore[union-attr]
    listing = Listing(services, factories.operator_at(services, school_id))
    selection = Selection(search=query, account_ids=(account_id,))
    return listing.count(ListQuery(AccountKind.PUPIL, selection)) == 1


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(first=names, last=names)
def test_every_word_prefix_of_a_name_finds_the_account(
    services: Services, first: str, last: str
) -> None:
    with services.sessions() as session, session.begin():
        establishment = factories.school(session, uai=f"{next(_uais):07d}X")
        account = factories.pupil(session, establishment, first_name=first, last_name=last)
        account_id, login = account.id, account.login
    assert _tokens(services, account_id) == words(search_key(last, first, login))
    for word in search_terms(f"{last} {first}"):
        assert _matches(services, account_id, word[:3])
        assert _matches(services, account_id, word.upper())
    assert _matches(services, account_id, login)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(first=names, last=names, cuts=st.lists(st.integers(1, 8), min_size=1, max_size=4))
def test_directory_finds_an_account_by_prefixes_short_and_long(
    services: Services, first: str, last: str, cuts: list[int]
) -> None:
    """Long words are intersected, one- and two-letter words checked on the candidates:
    whatever the mix, the account whose words they start is found (and only such)."""
    with services.sessions() as session, session.begin():
        establishment = factories.school(session, uai=f"{next(_uais):07d}X")
        account_id = factories.pupil(session, establishment, first_name=first, last_name=last).id
    own = search_terms(f"{last} {first}")
    if not own:
        return
    query = " ".join(own[i % len(own)][:cut] for i, cut in enumerate(cuts))
    found = directory.search(services, query, limit=1000)
    assert account_id in [r.account_id for r in found.rows]
    with services.sessions() as session:
        for row in found.rows:
            text = session.get_one(Account, row.account_id).search_text
            assert all(any(w.startswith(t) for w in text.split()) for t in search_terms(query))


def test_renaming_moves_the_words(services: Services) -> None:
    with services.sessions() as session, session.begin():
        school = factories.school(session)
        account = factories.pupil(session, school, first_name="Noé", last_name="Lefèvre")
        account_id = account.id
    assert _matches(services, account_id, "lefev")
    with services.sessions() as session, session.begin():
        refresh_search_text(session.get_one(Account, account_id), "Lefèvre-Dumas", "Noé")
    assert _matches(services, account_id, "dumas noe")
    with services.sessions() as session, session.begin():
        refresh_search_text(session.get_one(Account, account_id), "Abadie", "Noé")
    assert not _matches(services, account_id, "dumas")
    # The login never changes (n.lefevre): its words stay searchable.
    assert _tokens(services, account_id) == {"abadie", "noe", "n", "lefevre"}


def test_a_word_must_start_a_word_and_long_words_are_cut(services: Services) -> None:
    long_name = "Abcdefghij" * 8
    with services.sessions() as session, session.begin():
        school = factories.school(session)
        noe = factories.pupil(session, school, first_name="Noé", last_name="Lefèvre").id
        long = factories.pupil(session, school, first_name="Al", last_name=long_name).id
    assert not _matches(services, noe, "fevre")  # inside a word: not a match
    assert _matches(services, noe, "le no")
    assert not _matches(services, noe, "le zo")  # every word must match
    assert _matches(services, long, long_name)  # longer than the stored token
    assert max(len(t) for t in _tokens(services, long)) == TOKEN_MAX_LENGTH


def _two_schools(services: Services) -> dict[str, int]:
    with services.sessions() as session, session.begin():
        college = factories.school(session, uai="0941234F")
        lycee = factories.school(session, uai="0941876D", name="Lycée Marie Curie")
        noe = factories.pupil(
            session, college, first_name="Noé", last_name="Lefèvre", division="3E2"
        )
        ines = factories.pupil(
            session, lycee, first_name="Inès", last_name="Lefèvre", division="2DE1"
        )
        parent = factories.guardian(session, [noe, ines], first_name="Anne", last_name="Lefèvre")
        for n in range(5):
            factories.pupil(session, lycee, first_name=f"Léo{n}", last_name="Martin")
        return {"noe": noe.id, "ines": ines.id, "parent": parent.id}


def test_directory_searches_every_school(services: Services) -> None:
    ids = _two_schools(services)
    found = directory.search(services, "LEFÈVRE")
    assert [r.account_id for r in found.rows] == [ids["parent"], ids["ines"], ids["noe"]]
    assert not found.more
    parent, ines, noe = found.rows
    assert (parent.kind, parent.civility != "" or True) == (AccountKind.GUARDIAN, True)
    assert parent.other_schools == 1
    assert {ines.uai, noe.uai} == {"0941876D", "0941234F"}
    assert (noe.division, noe.state) == ("3E2", AccountState.NOT_NOTIFIED)
    assert "Noé (3E2)" in parent.division or "Inès (2DE1)" in parent.division
    # Noé's mother is found by her child's name too; her row names the child.
    by_child = directory.search(services, "no lef").rows
    assert [r.account_id for r in by_child] == [ids["parent"], ids["noe"]]
    assert "Noé (3E2)" in by_child[0].division
    assert [r.account_id for r in directory.search(services, "ines anne").rows] == [ids["parent"]]
    assert directory.search(services, "  ").rows == []
    some = directory.search(services, "martin", limit=3)
    assert (len(some.rows), some.more) == (3, True)


def test_upgrade_fills_the_index_of_an_existing_base(tmp_path: Path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    db.upgrade(engine, "0002")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO establishment (id, uai, name, type, academie, city) "
                "VALUES (1, '0941234F', 'Collège', 'college', 'Créteil', 'Vitry')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO guardian (id, source_key, civility, last_name, first_name, address,"
                " postal_code, city) VALUES (1, 'G1', 'Mme', 'Lefèvre', 'Anne', '', '', '')"
            )
        )
        connection.execute(
            insert(Account.__table__),
            [
                {
                    "id": 7,
                    "kind": "guardian",
                    "guardian_id": 1,
                    "login": "a.lefevre",
                    "search_text": "lefevre anne a lefevre",
                    "state": "non_notifie",
                    "notification_count": 0,
                    "failed_attempts": 0,
                    "block_count": 0,
                    "version": 1,
                }
            ],
        )
    db.upgrade(engine)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT token, account_id FROM search_token")).all()
    engine.dispose()
    assert sorted(rows) == [("a", 7), ("anne", 7), ("lefevre", 7)]


def test_upgrade_indexes_the_names_in_other_scripts_of_an_existing_base(tmp_path: Path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    db.upgrade(engine, "0007")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO establishment (id, uai, name, type, academie, city) "
                "VALUES (1, '0941234F', 'Collège', 'college', 'Créteil', 'Vitry')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO guardian (id, source_key, civility, last_name, first_name, address,"
                " postal_code, city) VALUES (1, 'G1', 'M.', 'بن علي', '王明', '', '', '')"
            )
        )
        connection.execute(
            insert(Account.__table__),
            [
                {
                    "id": 7,
                    "kind": "guardian",
                    "guardian_id": 1,
                    "login": "x.compte",
                    "search_text": "x compte",  # what the old rule kept of this name
                    "state": "non_notifie",
                    "notification_count": 0,
                    "failed_attempts": 0,
                    "block_count": 0,
                    "version": 1,
                }
            ],
        )
        connection.execute(text("INSERT INTO search_token VALUES ('compte', 7), ('x', 7)"))
    db.upgrade(engine)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT token, account_id FROM search_token")).all()
        stored = connection.execute(text("SELECT search_text FROM account")).scalar_one()
    engine.dispose()
    assert stored == search_key("بن علي", "王明", "x.compte")
    assert sorted(rows) == sorted((t, 7) for t in ("x", "compte", "بن", "علي", "王", "明"))
