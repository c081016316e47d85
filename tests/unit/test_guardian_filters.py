"""Guardians selected by their contact details, found by their children, and accounts
whose temporary credentials expire soon: on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
import os
import re
from pathlib import Path

import pytest
from alembic import command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select, text

from educonnect_tui.domain.accounts import guardian_contacts, helpdesk_search
from educonnect_tui.domain.accounts.listing import Listing, ListQuery
from educonnect_tui.domain.accounts.notification import NotifyRequest, preview
from educonnect_tui.domain.accounts.selection import Selection, expiring_within
from educonnect_tui.domain.accounts.self_registration import normalize_mobile
from educonnect_tui.domain.documents.files import OutputExists
from educonnect_tui.domain.model.enums import AccountKind, AccountState
from educonnect_tui.domain.model.errors import InvalidInput
from educonnect_tui.domain.model.identifiers import guardian_search_key, search_key
from educonnect_tui.domain.model.phones import sms_mobile
from educonnect_tui.domain.model.tables import Account, AuditEvent, Guardian, SearchToken
from educonnect_tui.domain.siecle.guardians import import_guardians
from educonnect_tui.domain.siecle.pupils import import_pupils
from educonnect_tui.domain.store import db
from educonnect_tui.domain.store.services import Services
from tests import factories
from tests.conftest import FakeClock, RunCli
from tests.unit.test_importer import (
    LEA,
    UAI,
    as_head,
    import_samples,
    sample_guardians,
    sample_pupils,
    write,
)

GUARDIANS = ListQuery(AccountKind.GUARDIAN)
PUPILS = ListQuery(AccountKind.PUPIL)

# --------------------------------------------------------------------------- the SMS rule

_eight = st.text(alphabet="0123456789", min_size=8, max_size=8)
_separator = st.sampled_from(["", " ", ".", "-", "\u00a0"])


@given(
    _eight, st.sampled_from("67"), _separator, st.sampled_from(["0", "+33 ", "0033 ", "+33 (0)"])
)
def test_every_shape_of_a_french_mobile_is_its_national_form(
    digits: str, first: str, sep: str, prefix: str
) -> None:
    pairs = sep.join(digits[i : i + 2] for i in range(0, 8, 2))
    typed = f"{prefix}{first}{sep}{pairs}"
    assert sms_mobile(typed) == f"0{first}{digits}"
    assert normalize_mobile(typed) == f"0{first}{digits}"


@given(st.text(max_size=30))
def test_any_text_is_a_french_mobile_or_none_and_auto_inscription_agrees(raw: str) -> None:
    number = sms_mobile(raw)
    assert number is None or re.fullmatch(r"0[67][0-9]{8}", number)
    if number is None:
        with pytest.raises(InvalidInput):
            normalize_mobile(raw)
    else:
        assert normalize_mobile(raw) == number
    # The stored column is written from the same rule whenever the number changes.
    assert Guardian(mobile=raw).sms_mobile == number


@pytest.mark.parametrize(
    "raw",
    ["01 23 45 67 89", "+44 7700 900123", "08 00 12 34 56", "06 12 34 56", "+33 1 23 45 67 89",
     "0612345678 9", "", "   "],
)  # fmt: skip
def test_numbers_that_cannot_receive_the_sms(raw: str) -> None:
    assert sms_mobile(raw) is None


# --------------------------------------------------------------------------- contact filters

_typed_mobiles = st.one_of(
    st.none(),
    st.text(alphabet="0123456789 +.()-", max_size=20),
    st.builds(lambda d, f: f"+33 {f} {d}", _eight, st.sampled_from("1679")),
    st.builds(lambda d, f: f"0{f}{d}", _eight, st.sampled_from("1567890")),
)
_schools = itertools.count(1)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(mobiles=st.lists(_typed_mobiles, min_size=1, max_size=6))
def test_the_sql_filter_agrees_with_the_rule_on_any_number(
    services: Services, mobiles: list[str | None]
) -> None:
    """Whatever the school typed, « mobile pour le SMS » lists exactly the guardians whose
    number the auto-inscription would accept, on both backends."""
    with services.sessions() as session, session.begin():
        school = factories.school(session, uai=f"{next(_schools):07d}S")
        school_id = school.id
        ids = []
        for n, mobile in enumerate(mobiles):
            child = factories.pupil(session, school, first_name=f"E{n}")
            ids.append(factories.guardian(session, [child], mobile=mobile).id)
    listing = Listing(services, factories.operator_at(services, school_id))
    accepted = set()
    for account_id, mobile in zip(ids, mobiles, strict=True):
        try:
            normalize_mobile(mobile or "")
            accepted.add(account_id)
        except InvalidInput:
            pass
    assert set(listing.ids(GUARDIANS.with_selection(sms_mobile=True))) == accepted
    assert set(listing.ids(GUARDIANS.with_selection(sms_mobile=False))) == set(ids) - accepted


MOBILES = [
    "06 12 34 56 78", "+33 7 11 22 33 44", "0033612345678", "07.00.00.00.01",
    "+33 (0)6 98 76 54 32", "01 45 67 89 00", "+44 7700 900123", None, "", "06 12",
]  # fmt: skip


def _families(services: Services) -> dict[str, int]:
    """One pupil per mobile, each with one guardian; every other one has an e-mail."""
    ids: dict[str, int] = {}
    with services.sessions() as session, session.begin():
        school = factories.school(session)
        for n, mobile in enumerate(MOBILES):
            child = factories.pupil(session, school, first_name=f"Enfant{n}", last_name="Durand")
            parent = factories.guardian(
                session,
                [child],
                first_name=f"Parent{n}",
                last_name="Durand",
                mobile=mobile,
                email=f"p{n}@example.fr" if n % 2 == 0 else ("" if n == 3 else None),
            )
            ids[f"parent{n}"] = parent.id
    return ids


def test_the_sms_filter_is_the_python_rule_in_sql(services: Services) -> None:
    ids = _families(services)
    listing = Listing(services, factories.operator(services))
    can = {ids[f"parent{n}"] for n, m in enumerate(MOBILES) if sms_mobile(m) is not None}
    assert len(can) == 5
    assert set(listing.ids(GUARDIANS.with_selection(sms_mobile=True))) == can
    cannot = set(listing.ids(GUARDIANS.with_selection(sms_mobile=False)))
    assert cannot == set(ids.values()) - can
    # The pupils' list is not a guardian's contact: the filter leaves it alone.
    assert listing.count(PUPILS.with_selection(sms_mobile=False)) == len(MOBILES)


def test_the_email_filter_and_notification_touch_what_is_listed(services: Services) -> None:
    ids = _families(services)
    operator = factories.operator(services)
    listing = Listing(services, operator)
    with_email = {ids[f"parent{n}"] for n in range(0, len(MOBILES), 2)}
    assert set(listing.ids(GUARDIANS.with_selection(has_email=True))) == with_email
    without = set(listing.ids(GUARDIANS.with_selection(has_email=False)))
    assert without == set(ids.values()) - with_email  # an empty address is no address
    for selection in (
        Selection(has_email=True),
        Selection(has_email=False, sms_mobile=True),
        Selection(sms_mobile=False, divisions=("6E1",)),
    ):
        shown = listing.count(ListQuery(AccountKind.GUARDIAN, selection))
        planned = preview(services, operator, NotifyRequest(AccountKind.GUARDIAN, selection))
        assert planned.total == shown > 0


# --------------------------------------------------------------------------- expiry


def test_expiring_within_days_takes_notified_accounts_up_to_that_instant(
    services: Services, clock: FakeClock
) -> None:
    now = clock()
    validity = dt.timedelta(days=services.settings.pupil_temp_validity_days)
    with services.sessions() as session, session.begin():
        school = factories.school(session)
        accounts = {
            name: factories.pupil(session, school, first_name=name).id
            for name in ("soon", "later", "expired", "activated", "never")
        }
    # Issued so that they expire in 3 days, in 20 days, and 2 days ago.
    for name, expires_in in (("soon", 3), ("later", 20), ("expired", -2), ("activated", 3)):
        issued = now - validity + dt.timedelta(days=expires_in)
        factories.simulate_notification(services, accounts[name], "Provisoire1", issued_at=issued)
    with services.sessions() as session, session.begin():
        account = session.get_one(Account, accounts["activated"])
        account.state = AccountState.ACTIVATED
    operator = factories.operator(services)
    listing = Listing(services, operator)
    by = expiring_within(7, now)
    selection = Selection(expiring_by=by)
    found = set(listing.ids(ListQuery(AccountKind.PUPIL, selection)))
    assert found == {accounts["soon"], accounts["expired"]}
    planned = preview(services, operator, NotifyRequest(AccountKind.PUPIL, selection))
    assert planned.total == 2 and planned.by_state == {AccountState.NOTIFIED: 2}
    # An instant, not a number of days: a minute later the same accounts are meant.
    clock.advance(minutes=1)
    assert set(listing.ids(ListQuery(AccountKind.PUPIL, selection))) == found
    month = Selection(expiring_by=expiring_within(30, now))
    assert set(listing.ids(ListQuery(AccountKind.PUPIL, month))) == found | {accounts["later"]}
    with pytest.raises(InvalidInput, match="jours"):
        expiring_within(-1, now)


# --------------------------------------------------------------------------- search


def test_the_guardians_search_key_adds_their_childrens_words_once() -> None:
    key = guardian_search_key("Diallo", "Awa", "a.diallo", [("Martin", "Léa"), ("Diallo", "Tom")])
    assert key == "diallo awa a diallo martin lea tom"
    long = "x" * 200
    capped = guardian_search_key(long, long[:-1], "a.b", [(f"{long[:-2]}{n}", "Léa") for n in "12"])
    assert len(capped) <= 500 and capped.startswith(search_key(long, long[:-1], "a.b"))


@given(
    st.text(min_size=1, max_size=40),
    st.lists(st.tuples(st.text(max_size=200), st.text(max_size=200)), max_size=4),
)
def test_every_guardian_search_key_fits_and_keeps_their_own_words(
    name: str, children: list[tuple[str, str]]
) -> None:
    key = guardian_search_key(name, "Awa", "a.x", children)
    own = search_key(name, "Awa", "a.x")
    assert key.startswith(own) and len(key) <= max(500, len(own))
    assert len(key.split()) == len(set(key.split())) or len(own.split()) != len(set(own.split()))


def _found(services: Services, words: str) -> set[str]:
    listing = Listing(services, factories.operator(services, UAI))
    rows = listing.page(GUARDIANS.with_selection(search=words), 0, 50)
    return {f"{r.first_name} {r.last_name}" for r in rows if hasattr(r, "children")}


def test_the_home_list_finds_guardians_by_their_childrens_names(
    services: Services, tmp_path: Path
) -> None:
    import_samples(services, tmp_path)
    # Léa MARTIN's parents, Sophie and Pierre MARTIN, are found by « Léa ».
    assert {"Sophie MARTIN", "Pierre MARTIN"} <= _found(services, "léa")
    listing = Listing(services, factories.operator(services, UAI))
    sophie = next(
        r for r in listing.page(GUARDIANS.with_selection(search="lea"), 0, 50)
        if r.first_name == "Sophie"
    )  # fmt: skip
    assert any(c.startswith("Léa MARTIN") for c in sophie.children)  # why she matched

    # Renamed by the next pupils' import: found by the new name, no longer by the old.
    renamed = sample_pupils().replace(";MARTIN;Léa;", ";MARTIN;Léane;")
    report = import_pupils(services, as_head(services, UAI), write(tmp_path, renamed, "cp1252"))
    assert report.updated and not report.errors
    assert {"Sophie MARTIN", "Pierre MARTIN"} <= _found(services, "léane martin")

    # Pierre is no longer linked to Léa: « Léane » no longer finds him.
    unlinked = "".join(
        line
        for line in sample_guardians().splitlines(True)
        if not (line.startswith("4510002;") and LEA in line)
    )
    assert not import_guardians(services, as_head(services, UAI), write(tmp_path, unlinked)).errors
    found = _found(services, "léane")
    assert "Sophie MARTIN" in found and "Pierre MARTIN" not in found


def test_the_helpdesk_and_the_cli_search_find_guardians_by_their_children(
    cli_env: Services, run_cli: RunCli, tmp_path: Path
) -> None:
    import_samples(cli_env, tmp_path)
    page = helpdesk_search.search(cli_env, as_head(cli_env, UAI), "lucas")
    names = {(r.kind, r.first_name) for r in page.rows}
    assert {(AccountKind.PUPIL, "Lucas"), (AccountKind.GUARDIAN, "Sophie")} <= names
    assert (AccountKind.GUARDIAN, "Pierre") in names
    code, out, _ = run_cli(["search", "lucas", "martin", "--format", "json"])
    assert code == 0
    found = json.loads(out)["resultats"]
    sophie = next(r for r in found if r["prenom"] == "Sophie")
    assert sophie["type"] == AccountKind.GUARDIAN.value and "Lucas" in sophie["classe_ou_enfants"]


def test_the_helpdesk_says_which_child_a_guardian_was_found_through(
    services: Services, tmp_path: Path
) -> None:
    import_samples(services, tmp_path)
    caller = as_head(services, UAI)

    def through(words: str, first_name: str) -> tuple[tuple[str, str, str], ...]:
        page = helpdesk_search.search(services, caller, words)
        (row,) = [
            r for r in page.rows if r.kind is AccountKind.GUARDIAN and r.first_name == first_name
        ]
        return tuple(tuple(child) for child in row.through)

    lucas = through("lucas", "Sophie")
    assert [(last, first) for last, first, _ in lucas] == [("MARTIN", "Lucas")]
    assert lucas[0][2]  # his class
    # Her own name found her: no child named, even with the child's last name typed.
    assert through("sophie", "Sophie") == () == through("martin sophie", "Sophie")
    # « lea » starts none of her words: Léa is why, accents folded as the index does.
    assert [first for _, first, _ in through("LÉA martin", "Sophie")] == ["Léa"]
    # A contact who is no legal representative is never shown as the way in.
    assert helpdesk_search.found_through(["lu"], "martin sophie", []) == ()


def test_the_import_indexes_the_legal_childrens_words(services: Services, tmp_path: Path) -> None:
    import_samples(services, tmp_path)
    with services.sessions() as session:
        tokens = {
            token
            for (token,) in session.execute(
                select(SearchToken.token)
                .join(Account, Account.id == SearchToken.account_id)
                .join(Guardian, Guardian.id == Account.guardian_id)
                .where(Guardian.last_name == "MARTIN", Guardian.first_name == "Sophie")
            )
        }
    assert {"martin", "sophie", "lea", "lucas"} <= tokens


MIGRATION_BATCH = 5_000  # the migration's BATCH


def test_upgrade_to_0011_fills_sms_mobile_and_indexes_children(empty_database: str) -> None:
    engine = db.make_engine(empty_database)
    db.upgrade(engine, "0009")
    with engine.begin() as connection:
        for statement in (
            "INSERT INTO establishment (id, uai, name, type, academie, city) "
            "VALUES (1, '0941234F', 'Collège', 'college', 'Créteil', 'Vitry')",
            "INSERT INTO division (id, establishment_id, name, level) VALUES (1, 1, '3E2', '3e')",
            "INSERT INTO pupil (id, establishment_id, ine, last_name, first_name, birth_date,"
            " division_id, status) VALUES (1, 1, '0000000001A', 'Martin', 'Léa', '2011-03-01',"
            " 1, 'enrolled')",
            "INSERT INTO guardian (id, source_key, civility, last_name, first_name, mobile,"
            " address, postal_code, city) VALUES (1, 'G1', 'Mme', 'Diallo', 'Awa',"
            " '+33 6 12 34 56 78', '', '', ''), (2, 'G2', 'M.', 'Diallo', 'Ali', '01 45 00 00 00',"
            " '', '', '')",
            "INSERT INTO guardian_link (guardian_id, pupil_id, relationship_label,"
            " legal_guardian) VALUES (1, 1, 'MERE', TRUE), (2, 1, 'ONCLE', FALSE)",
        ):
            connection.execute(text(statement))
        connection.execute(
            insert(Account.__table__),
            [
                {
                    "id": 7 + n,
                    "kind": "guardian",
                    "guardian_id": 1 + n,
                    "login": login,
                    "search_text": f"diallo {first} {login.replace('.', ' ')}",
                    "sort_name": f"diallo {first}",
                    "state": "non_notifie",
                    "notification_count": 0,
                    "failed_attempts": 0,
                    "block_count": 0,
                    "version": 1,
                }
                for n, (login, first) in enumerate((("a.diallo", "awa"), ("a.diallo2", "ali")))
            ],
        )
        # More guardians than a batch of the migration holds, each with a child.
        many = range(100, 100 + MIGRATION_BATCH + 2)
        connection.execute(
            text(
                "INSERT INTO pupil (id, establishment_id, ine, last_name, first_name, birth_date,"
                " division_id, status) VALUES (:id, 1, :ine, 'Enfant', :first, '2011-03-01', 1,"
                " 'enrolled')"
            ),
            [{"id": n, "ine": f"{n:010d}B", "first": f"Zoe{n}"} for n in many],
        )
        connection.execute(
            text(
                "INSERT INTO guardian (id, source_key, civility, last_name, first_name, mobile,"
                " address, postal_code, city) VALUES (:id, :key, 'Mme', 'Parent', 'Eve',"
                " '07 00 00 00 01', '', '', '')"
            ),
            [{"id": n, "key": f"G{n}"} for n in many],
        )
        connection.execute(
            text(
                "INSERT INTO guardian_link (guardian_id, pupil_id, relationship_label,"
                " legal_guardian) VALUES (:id, :id, 'MERE', TRUE)"
            ),
            [{"id": n} for n in many],
        )
        connection.execute(
            insert(Account.__table__),
            [
                {
                    "id": n,
                    "kind": "guardian",
                    "guardian_id": n,
                    "login": f"e.parent{n}",
                    "search_text": f"parent eve e parent{n}",
                    "sort_name": "parent eve",
                    "state": "non_notifie",
                    "notification_count": 0,
                    "failed_attempts": 0,
                    "block_count": 0,
                    "version": 1,
                }
                for n in many
            ],
        )
    db.upgrade(engine)
    with engine.connect() as connection:
        last = many[-1]
        assert connection.execute(
            text("SELECT count(*) FROM guardian WHERE sms_mobile = '0700000001'")
        ).scalar_one() == len(many)
        assert (
            connection.execute(
                text(f"SELECT search_text FROM account WHERE id = {last}")
            ).scalar_one()
            == f"parent eve e parent{last} enfant zoe{last}"
        )
        assert (
            connection.execute(
                text(f"SELECT count(*) FROM search_token WHERE token = 'zoe{last}'")
            ).scalar_one()
            == 1
        )
        assert connection.execute(
            text("SELECT count(*) FROM account WHERE search_text LIKE '% zoe%'")
        ).scalar_one() == len(many)
    with engine.connect() as connection:
        mobiles = connection.execute(
            text("SELECT id, sms_mobile FROM guardian WHERE id < 100 ORDER BY id")
        ).all()
        tokens = (
            connection.execute(text("SELECT token FROM search_token WHERE account_id = 7"))
            .scalars()
            .all()
        )
        uncle = connection.execute(
            text("SELECT search_text FROM account WHERE id = 8")
        ).scalar_one()
    assert mobiles == [(1, "0612345678"), (2, None)]
    assert {"martin", "lea", "awa", "diallo"} <= set(tokens)
    assert uncle == "diallo ali a diallo2"  # a contact only: no child's word
    # Down and up again: the column comes back filled, the index is not doubled.
    with engine.begin() as connection:
        config = db._alembic_config(engine)
        config.attributes["connection"] = connection
        command.downgrade(config, "0010")
    db.upgrade(engine)
    with engine.connect() as connection:
        assert (
            connection.execute(text("SELECT sms_mobile FROM guardian WHERE id = 1")).scalar_one()
            == "0612345678"
        )
        assert connection.execute(
            text("SELECT count(*) FROM search_token WHERE account_id = 7")
        ).scalar_one() == len(tokens)
    engine.dispose()


# --------------------------------------------------------------------------- the export


def test_the_export_lists_who_cannot_auto_register_privately_and_audited(
    services: Services, tmp_path: Path
) -> None:
    import_samples(services, tmp_path)
    with services.sessions() as session, session.begin():
        pierre = session.scalars(select(Guardian).where(Guardian.first_name == "Pierre")).one()
        pierre.mobile = "01 43 21 00 00"  # a landline: no SMS
    operator = as_head(services, UAI)
    target = tmp_path / "sans_mobile.csv"
    written = guardian_contacts.export_without_sms(services, operator, Selection(), target)
    assert written.path == target and os.stat(target).st_mode & 0o777 == 0o600
    rows = list(csv.reader(io.StringIO(target.read_bytes().decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == list(guardian_contacts.HEADER)
    by_name = {(r[1], r[2]): r for r in rows[1:]}
    assert ("MARTIN", "Pierre") in by_name and ("MARTIN", "Sophie") not in by_name
    pierre_row = by_name[("MARTIN", "Pierre")]
    assert pierre_row[6] == "p.martin@example.com" and pierre_row[7] == "01 43 21 00 00"
    assert "Léa MARTIN (6E1)" in pierre_row[5]
    listing = Listing(services, operator)
    assert (
        written.count == len(rows) - 1 == listing.count(GUARDIANS.with_selection(sms_mobile=False))
    )
    with services.sessions() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "export").order_by(AuditEvent.id.desc())
        ).first()
        assert event is not None and event.details["path"] == str(target)
        assert event.details["what"] == guardian_contacts.WHAT
    before = target.read_bytes()
    with pytest.raises(OutputExists):
        guardian_contacts.export_without_sms(services, operator, Selection(), target)
    assert target.read_bytes() == before
    again = guardian_contacts.export_without_sms(
        services, operator, Selection(), target, overwrite=True
    )
    assert again.count == written.count
    default = guardian_contacts.export_without_sms(services, operator, Selection())
    assert default.path.parent.name == "exports" and UAI in default.path.name
    second = guardian_contacts.export_without_sms(services, operator, Selection())
    assert second.path != default.path and default.path.exists()


def test_the_export_leaves_out_guardians_already_activated(
    services: Services, tmp_path: Path
) -> None:
    """An activated guardian has no need to auto-register: only non notifié and notifié."""
    with services.sessions() as session, session.begin():
        school = factories.school(session)
        logins = {}
        for state in (AccountState.NOT_NOTIFIED, AccountState.NOTIFIED, AccountState.ACTIVATED):
            pupil = factories.pupil(session, school, first_name=f"Enfant{state.value}")
            account = factories.guardian(
                session, [pupil], first_name=f"Parent{state.value}", mobile=None
            )
            account.state = state
            logins[state] = account.login
    operator = as_head(services, UAI)
    target = tmp_path / "sans_mobile.csv"
    written = guardian_contacts.export_without_sms(services, operator, Selection(), target)
    rows = list(csv.reader(io.StringIO(target.read_bytes().decode("utf-8-sig")), delimiter=";"))
    listed = {r[3] for r in rows[1:]}
    assert listed == {logins[AccountState.NOT_NOTIFIED], logins[AccountState.NOTIFIED]}
    assert written.count == 2
    # Asking for the activated ones alone lists nobody, and writes nothing.
    with pytest.raises(InvalidInput, match="activé"):
        guardian_contacts.export_without_sms(
            services, operator, Selection(states=(AccountState.ACTIVATED,)), tmp_path / "x.csv"
        )
    assert not (tmp_path / "x.csv").exists()


def test_the_cli_writes_the_list_and_refuses_bad_input(
    cli_env: Services, run_cli: RunCli, tmp_path: Path
) -> None:
    import_samples(cli_env, tmp_path)
    target = tmp_path / "liste.csv"
    code, out, _ = run_cli(["guardians", "--uai", UAI, "--no-sms-mobile", "--output", str(target)])
    assert code == 0 and str(target) in out and target.exists()
    code, _, err = run_cli(["guardians", "--uai", UAI, "--no-sms-mobile", "--output", str(target)])
    assert code == 2 and "existe déjà" in err and len(err.strip().splitlines()) == 1
    code, _, err = run_cli(["guardians", "--uai", UAI])
    assert code == 2 and "--no-sms-mobile" in err
    code, _, err = run_cli(
        ["guardians", "--uai", UAI, "--no-sms-mobile", "--state", "active", "--output", "a.csv"]
    )
    assert code == 2 and "activé" in err and len(err.strip().splitlines()) == 1
    code, _, _ = run_cli(
        ["guardians", "--uai", UAI, "--no-sms-mobile", "--output", str(target), "--overwrite"]
    )
    assert code == 0
