"""The home page's lists: SQL filters, search, sort, paging and selection survival."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event

from educonnect_tui.domain.accounts.listing import (
    GuardianRow,
    Listing,
    ListQuery,
    PupilRow,
    SortKey,
    mask_email,
    mask_mobile,
)
from educonnect_tui.domain.accounts.selection import Selection
from educonnect_tui.domain.model.enums import AccountKind, AccountState, PupilStatus
from educonnect_tui.domain.model.states import Event, transition
from educonnect_tui.domain.store.services import Services
from tests import factories


def _listing(services: Services) -> tuple[Listing, dict[str, int]]:
    with services.sessions() as session, session.begin():
        school = factories.school(session)
        people = {
            "noe": factories.pupil(
                session,
                school,
                first_name="Noé",
                last_name="Lefèvre",
                division="3E1",
                birth_date=dt.date(2011, 3, 2),
            ),
            "lea": factories.pupil(
                session, school, first_name="Léa", last_name="Martin", division="3E2"
            ),
            "zoe": factories.pupil(
                session, school, first_name="Zoë", last_name="Abadie", division="6E1"
            ),
        }
        parent = factories.guardian(
            session,
            [people["noe"], people["lea"]],
            first_name="Anne",
            last_name="Lefèvre",
            email="anne.lefevre@exemple.fr",
        )
        ids = {k: v.id for k, v in people.items()} | {"parent": parent.id}
    return Listing(services, factories.operator(services)), ids


def test_count_page_and_filters(services: Services) -> None:
    listing, ids = _listing(services)
    pupils = ListQuery(AccountKind.PUPIL)
    assert listing.count(pupils) == 3
    rows = listing.page(pupils, 0, 10)
    assert [r.last_name for r in rows if isinstance(r, PupilRow)] == ["Abadie", "Lefèvre", "Martin"]
    third = pupils.with_selection(divisions=("3E1", "3E2"))
    assert listing.count(third) == 2
    assert listing.count(third.with_selection(states=(AccountState.ACTIVATED,))) == 0
    assert [r.account_id for r in listing.page(pupils, 1, 1)] == [ids["noe"]]


def test_search_ignores_accents_case_and_order(services: Services) -> None:
    listing, ids = _listing(services)
    query = ListQuery(AccountKind.PUPIL, Selection(search="lefevre noe"))
    assert [r.account_id for r in listing.page(query, 0, 10)] == [ids["noe"]]
    assert listing.count(ListQuery(AccountKind.PUPIL, Selection(search="NOÉ"))) == 1
    assert listing.count(ListQuery(AccountKind.PUPIL, Selection(search="l.martin"))) == 1
    assert listing.count(ListQuery(AccountKind.PUPIL, Selection(search="100%"))) == 0


def test_sort_by_any_column_both_ways(services: Services) -> None:
    listing, _ = _listing(services)
    for key in SortKey:
        for descending in (False, True):
            query = ListQuery(AccountKind.PUPIL, sort=key, descending=descending)
            assert len(listing.page(query, 0, 10)) == 3
    # Classes sort in school order (the levels' rank, then the name), as everywhere else.
    for descending, expected in ((False, ["6E1", "3E1", "3E2"]), (True, ["3E2", "3E1", "6E1"])):
        by_class = ListQuery(AccountKind.PUPIL, sort=SortKey.DIVISION, descending=descending)
        shown = [r.division for r in listing.page(by_class, 0, 10) if isinstance(r, PupilRow)]
        assert shown == expected


def test_selection_survives_only_for_rows_still_shown(services: Services) -> None:
    listing, ids = _listing(services)
    query = ListQuery(AccountKind.PUPIL, Selection(divisions=("3E1",)))
    assert listing.still_shown(query, {ids["noe"], ids["lea"]}) == {ids["noe"]}
    assert set(listing.ids(ListQuery(AccountKind.PUPIL))) == {ids["noe"], ids["lea"], ids["zoe"]}


def test_guardian_rows_show_children_and_masked_contact(services: Services) -> None:
    listing, _ids = _listing(services)
    query = ListQuery(AccountKind.GUARDIAN, Selection(divisions=("3E2",)))
    [row] = listing.page(query, 0, 10)
    assert isinstance(row, GuardianRow)
    assert row.children == ("Noé Lefèvre (3E1)", "Léa Martin (3E2)")
    assert row.contact == "a•••@exemple.fr · 06 •• •• •• 78"
    assert listing.count(ListQuery(AccountKind.GUARDIAN, Selection(divisions=("6E1",)))) == 0
    assert [d.name for d in listing.divisions()] == ["6E1", "3E1", "3E2"]


def test_masks() -> None:
    assert mask_email("x@y.fr") == "x•••@y.fr"
    assert mask_email(None) == "" and mask_mobile("12") == ""
    assert mask_mobile("+33 6 12 34 56 78") == "33 •• •• •• 78"


FRENCH_ORDER = [
    ("Aït Ahmed", "Nour"),
    ("Arnaud", "Léa"),
    ("Émilie", "Zoé"),
    ("Eric", "Paul"),
    ("Martin", "Élise"),
    ("Martin", "Zoé"),
    ("Martin-Dupont", "Anne"),
    ("N'Diaye", "Awa"),
    ("Ndiaye", "Binta"),
    ("zola", "émile"),
]


def test_names_sort_the_french_way_in_sql_pages(services: Services) -> None:
    with services.sessions() as session, session.begin():
        school = factories.school(session)
        pupils = [
            factories.pupil(session, school, last_name=last, first_name=first, division="4E1")
            for last, first in reversed(FRENCH_ORDER)
        ]
        factories.guardian(session, pupils[:3], last_name="Émond", first_name="Anne")
        factories.guardian(session, pupils[:1], last_name="Eluard", first_name="Paul")
        factories.guardian(session, pupils[:1], last_name="Ezra", first_name="Ana")
    listing = Listing(services, factories.operator(services))
    for key in (SortKey.LAST_NAME, SortKey.DIVISION):  # names also break ties of a column
        query = ListQuery(AccountKind.PUPIL, sort=key)
        # Pages of 3 rows: the order is SQL's, not a sort of what one page holds.
        rows = [r for offset in range(0, 12, 3) for r in listing.page(query, offset, 3)]
        assert [(r.last_name, r.first_name) for r in rows if isinstance(r, PupilRow)] == (
            FRENCH_ORDER
        )
    by_first_name = listing.page(ListQuery(AccountKind.PUPIL, sort=SortKey.FIRST_NAME), 0, 20)
    assert [r.first_name for r in by_first_name] == [
        "Anne",
        "Awa",
        "Binta",
        "Élise",
        "émile",
        "Léa",
        "Nour",
        "Paul",
        "Zoé",  # Émilie Zoé, then Martin Zoé: the last name breaks the tie
        "Zoé",
    ]
    assert [r.last_name for r in by_first_name][-2:] == ["Émilie", "Martin"]
    backwards = listing.page(ListQuery(AccountKind.PUPIL, descending=True), 0, 20)
    assert [(r.last_name, r.first_name) for r in backwards if isinstance(r, PupilRow)] == (
        FRENCH_ORDER[::-1]
    )
    guardians = listing.page(ListQuery(AccountKind.GUARDIAN), 0, 10)
    assert [r.last_name for r in guardians if isinstance(r, GuardianRow)] == [
        "Eluard",
        "Émond",
        "Ezra",
    ]


def test_pupils_who_left_and_their_guardians_are_listed_as_desactive(services: Services) -> None:
    """« tous » is every state: a former pupil is listed (désactivé), never a stranger."""
    with services.sessions() as session, session.begin():
        school = factories.school(session)
        other = factories.school(session, uai="0750001A", name="Collège Voltaire")
        here = factories.pupil(session, school, first_name="Noé", last_name="Lefèvre")
        gone = factories.pupil(
            session,
            school,
            first_name="Gilles",
            last_name="Henry",
            division="5E2",
            status=PupilStatus.LEFT,
        )
        gone.state = transition(gone.kind, gone.state, Event.DEACTIVATE)
        orphan = factories.guardian(session, [gone], first_name="Paul", last_name="Henry")
        orphan.state = transition(orphan.kind, orphan.state, Event.DEACTIVATE)
        # A parent whose child left for another school: still active there, not ours.
        moved = factories.pupil(
            session, school, first_name="Inès", last_name="Roux", status=PupilStatus.LEFT
        )
        moved.state = transition(moved.kind, moved.state, Event.DEACTIVATE)
        sibling = factories.pupil(session, other, first_name="Jules", last_name="Roux")
        elsewhere = factories.guardian(session, [moved, sibling], last_name="Roux")
        ids = {
            "here": here.id,
            "gone": gone.id,
            "orphan": orphan.id,
            "moved": moved.id,
            "elsewhere": elsewhere.id,
        }
    listing = Listing(services, factories.operator(services))
    pupils, guardians = ListQuery(AccountKind.PUPIL), ListQuery(AccountKind.GUARDIAN)
    assert set(listing.ids(pupils)) == {ids["here"], ids["gone"], ids["moved"]}
    deactivated = pupils.with_selection(states=(AccountState.DEACTIVATED,))
    assert listing.count(deactivated) == 2
    assert [r.account_id for r in listing.page(deactivated, 0, 10)] == [ids["gone"], ids["moved"]]
    assert [r.state for r in listing.page(deactivated, 0, 10)] == [AccountState.DEACTIVATED] * 2
    # Their class and the search find them too.
    assert listing.ids(pupils.with_selection(divisions=("5E2",))) == [ids["gone"]]
    assert listing.ids(pupils.with_selection(search="henry gil")) == [ids["gone"]]
    # Guardians: the one whose only child left, désactivé; not the one still active elsewhere.
    assert listing.ids(guardians) == [ids["orphan"]]
    assert listing.ids(guardians.with_selection(states=(AccountState.DEACTIVATED,))) == [
        ids["orphan"]
    ]
    assert listing.ids(guardians.with_selection(search="roux")) == []


def _plan_nodes(node: dict[str, Any], under_subplan: bool = False) -> Iterator[tuple[str, bool]]:
    """Each scanned relation of a PostgreSQL JSON plan, and whether it runs as a SubPlan."""
    under_subplan = under_subplan or node.get("Parent Relationship") == "SubPlan"
    if "Relation Name" in node:
        yield node["Relation Name"], under_subplan
    for child in node.get("Plans", ()):
        yield from _plan_nodes(child, under_subplan)


def test_a_school_list_tests_the_typed_words_row_by_row(services: Services) -> None:
    """A typed word is a range of the whole académie's tokens (thousands of accounts for
    « arnau »), and PostgreSQL's estimate of a text range is often one row: flattened into
    a join, the list then walked its school's guardians once per token's account (5 s
    instead of 20 ms at a million accounts). Each of the school's rows is tested on the
    ``(account_id, token)`` index instead, whatever the estimate."""
    if services.engine.dialect.name != "postgresql":
        pytest.skip("forme du plan propre à PostgreSQL (SQLite ne met pas EXISTS en jointure)")
    listing, _ = _listing(services)
    statements: list[tuple[str, Any]] = []

    def seen(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "search_token" in statement:
            statements.append((statement, parameters))

    event.listen(services.engine, "before_cursor_execute", seen)
    try:
        for kind in (AccountKind.GUARDIAN, AccountKind.PUPIL):
            listing.counted_page(ListQuery(kind, Selection(search="lefev an")), 0, 50)
    finally:
        event.remove(services.engine, "before_cursor_execute", seen)
    assert len(statements) == 2
    for statement, parameters in statements:
        raw = services.engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("EXPLAIN (FORMAT JSON) " + statement, parameters)
            plan = cursor.fetchone()[0][0]["Plan"]
        finally:
            raw.close()
        scans = [under for name, under in _plan_nodes(plan) if name == "search_token"]
        assert scans and all(scans), plan
