"""The académie-scale demo, built tiny on both backends: proportions, rules, index, reruns."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from pathlib import Path

import pyotp
import pytest
from sqlalchemy import func, inspect, select, update
from sqlalchemy.orm import Session

from educonnect_tui.demo import academie
from educonnect_tui.demo.academie_plan import LARGEST_UAI, is_academie_uai
from educonnect_tui.demo.college import COLLEGE_UAI, DEMO_UAIS, check_resettable, create_demo
from educonnect_tui.domain.access.passwords import verify_password
from educonnect_tui.domain.accounts import directory
from educonnect_tui.domain.accounts.listing import Listing, ListQuery
from educonnect_tui.domain.model.enums import (
    AccountKind,
    AccountState,
    ActivationMethod,
    EstablishmentType,
    PupilStatus,
)
from educonnect_tui.domain.model.errors import InvalidInput
from educonnect_tui.domain.model.identifiers import (
    guardian_search_key,
    login_base,
    normalize_uai,
    search_key,
    sort_key,
)
from educonnect_tui.domain.model.phones import sms_mobile
from educonnect_tui.domain.model.tables import (
    Account,
    AuditEvent,
    Division,
    Establishment,
    Guardian,
    GuardianLink,
    Pupil,
    SearchToken,
    Staff,
)
from educonnect_tui.domain.reports import figures as stats
from educonnect_tui.domain.reports import journal as audit_log
from educonnect_tui.domain.store import audit, keys
from educonnect_tui.domain.store.audit import Actor
from educonnect_tui.domain.store.search_index import token_rows
from educonnect_tui.domain.store.services import Services
from tests import factories
from tests.conftest import FAST_HASH, FakeClock
from tests.helpers import RunCli

ACTOR = Actor(label="test", source_address="127.0.0.1")
TINY = 0.002  # 3 schools, 800 pupils, ~1,200 guardians
LOGIN = re.compile(r"^[a-z0-9]+\.[a-z0-9]+$")


def _schema(services: Services) -> dict[str, object]:
    """Indexes, unique and foreign keys of every table, as the database reports them."""
    inspector = inspect(services.engine)
    out: dict[str, object] = {}
    for table in inspector.get_table_names():
        out[table] = (
            sorted(
                (i["name"], tuple(i["column_names"]), i["unique"])
                for i in inspector.get_indexes(table)
            ),
            sorted(str(u["column_names"]) for u in inspector.get_unique_constraints(table)),
            sorted(str(f["constrained_columns"]) for f in inspector.get_foreign_keys(table)),
            inspector.get_pk_constraint(table)["constrained_columns"],
        )
    return out


def _owners(session: Session) -> list[tuple[Account, str, str]]:
    rows = session.execute(
        select(Account, Pupil.last_name, Pupil.first_name).join(Pupil, Account.pupil_id == Pupil.id)
    ).all()
    rows += session.execute(
        select(Account, Guardian.last_name, Guardian.first_name).join(
            Guardian, Account.guardian_id == Guardian.id
        )
    ).all()
    return [(account, last, first) for account, last, first in rows]


def test_tiny_academie_is_plausible_and_follows_the_rules(services: Services) -> None:
    before = _schema(services)
    summary = academie.build(services, ACTOR, scale=TINY)
    assert summary.created
    assert _schema(services) == before  # indexes dropped for the load are all back
    now = services.clock()
    assert (summary.schools, summary.pupils) == (3, 800)
    assert 1.4 < summary.guardians / summary.pupils < 1.6
    assert summary.accounts == summary.pupils + summary.guardians
    assert summary.multi_school_guardians > 0

    with services.sessions() as session:
        schools = session.scalars(select(Establishment)).all()
        assert {s.type for s in schools} == {
            EstablishmentType.ECOLE,
            EstablishmentType.COLLEGE,
            EstablishmentType.LYCEE,
        }
        for school in schools:
            assert normalize_uai(school.uai) == school.uai and is_academie_uai(school.uai)
            assert school.academie == "Créteil"
        levels = {
            (s.type, d.level)
            for s in schools
            for d in session.scalars(select(Division).where(Division.establishment_id == s.id))
        }
        assert (EstablishmentType.ECOLE, "CP") in levels
        assert (EstablishmentType.COLLEGE, "3e") in levels
        assert (EstablishmentType.LYCEE, "Terminale") in levels

        owners = _owners(session)
        assert len(owners) == summary.accounts  # one account per pupil and per guardian
        logins = [account.login for account, _, _ in owners]
        assert len(set(logins)) == len(logins)
        children: dict[int, list[tuple[str, str]]] = {}
        for guardian_id, child_last, child_first in session.execute(
            select(GuardianLink.guardian_id, Pupil.last_name, Pupil.first_name)
            .join(Pupil, Pupil.id == GuardianLink.pupil_id)
            .where(GuardianLink.legal_guardian.is_(True))
            .order_by(GuardianLink.guardian_id, Pupil.id)
        ):
            children.setdefault(guardian_id, []).append((child_last, child_first))
        mobiles = session.execute(select(Guardian.mobile, Guardian.sms_mobile)).all()
        assert all(stored == sms_mobile(mobile) for mobile, stored in mobiles)
        assert any(stored for _mobile, stored in mobiles)
        expected_tokens = set()
        for account, last, first in owners:
            base = login_base(first, last)
            suffix = account.login[len(base) :]
            assert account.login.startswith(base) and (suffix == "" or int(suffix) >= 2)
            assert LOGIN.match(account.login) and len(account.login) <= 32
            if account.guardian_id is None:
                assert account.search_text == search_key(last, first, account.login)
            else:  # a legal representative is found by their children's names too
                assert account.search_text == guardian_search_key(
                    last, first, account.login, children.get(account.guardian_id, ())
                )
            assert account.sort_name == sort_key(last, first)
            expected_tokens |= {
                (row["token"], row["account_id"])
                for row in token_rows(account.id, account.search_text)
            }
            for moment in (account.notified_at, account.activated_at, account.deactivated_at):
                assert moment is None or moment <= now
            if account.state is AccountState.ACTIVATED:
                assert account.password_hash and account.activated_at
                assert account.temp_password_hash is None
            if account.state is AccountState.NOTIFIED:
                assert account.temp_password_hash and account.temp_expires_at
                assert account.temp_issued_at == account.notified_at
        stored = set(session.execute(select(SearchToken.token, SearchToken.account_id)).all())
        assert stored == expected_tokens

        states = Counter(a.state for a, _, _ in owners)
        assert set(states) == set(AccountState)
        methods = {
            (a.kind, a.activation_method) for a, _, _ in owners if a.state is AccountState.ACTIVATED
        }
        assert (AccountKind.PUPIL, ActivationMethod.TEMPORARY_CREDENTIALS) in methods
        assert {m for k, m in methods if k is AccountKind.GUARDIAN} == set(ActivationMethod)
        assert all(m is ActivationMethod.TEMPORARY_CREDENTIALS
                   for k, m in methods if k is AccountKind.PUPIL)  # fmt: skip
        blocked = sum(1 for a, _, _ in owners if a.blocked_until and a.blocked_until > now)
        assert blocked == summary.blocked

        left = session.scalars(select(Pupil).where(Pupil.status == PupilStatus.LEFT)).all()
        for pupil in left:
            assert pupil.left_on is not None
            assert session.scalar(select(Account.state).where(Account.pupil_id == pupil.id)) is (
                AccountState.DEACTIVATED
            )
        shared = session.execute(
            select(GuardianLink.guardian_id)
            .group_by(GuardianLink.guardian_id)
            .having(func.count() > 1)
        ).all()
        assert shared  # siblings share their guardians

        if services.engine.dialect.name == "sqlite":
            connection = session.connection()
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert audit_log.verify_everywhere(services).ok


def test_largest_school_proportions_listing_and_search(services: Services) -> None:
    summary = academie.build(services, ACTOR, scale=TINY)
    assert summary.largest_uai == LARGEST_UAI
    assert (summary.largest_pupils, summary.largest_guardians) == (300, 500)
    with services.sessions() as session:
        largest = session.scalars(
            select(Establishment).where(Establishment.uai == LARGEST_UAI)
        ).one()
        assert largest.type is EstablishmentType.LYCEE
        sizes = session.execute(
            select(Pupil.establishment_id, func.count()).group_by(Pupil.establishment_id)
        ).all()
        assert max(sizes, key=lambda row: row[1])[0] == largest.id

    # The principal signs in to it: the home page's lists, filters and search.
    signed_in = factories.signed_in(services, summary.principal, LARGEST_UAI)
    listing = Listing(services, signed_in)
    pupils = ListQuery(AccountKind.PUPIL)
    assert listing.count(pupils) == 300
    # Legal representatives only: the few grandparents the families gave as contacts are
    # not on the lists (nor notified).
    assert listing.count(ListQuery(AccountKind.GUARDIAN)) == 490
    red = pupils.with_selection(states=(AccountState.NOT_NOTIFIED,))
    assert listing.count(red) > 200  # at the start of its campaign
    row = listing.page(pupils, 0, 1)[0]
    found = pupils.with_selection(search=f"{row.last_name[:4]} {row.first_name}")
    assert row.account_id in listing.ids(found)
    hits = directory.search(services, f"{row.first_name} {row.login}", limit=50)
    assert row.account_id in [hit.account_id for hit in hits.rows]

    school = stats.school_stats(services, factories.operator(services, LARGEST_UAI))
    assert school.activity.total > 0  # the sparkline has days with activations


def test_staff_can_sign_in_and_owners_cannot(services: Services) -> None:
    summary = academie.build(services, ACTOR, scale=TINY)
    principal, deputy = summary.staff
    assert principal.login == summary.principal
    with services.sessions() as session:
        staff = {s.login: s for s in session.scalars(select(Staff))}
        assert verify_password(staff[principal.login].password_hash, principal.password)
        assert len(staff[deputy.login].establishments) == 2
        assert pyotp.TOTP(principal.totp_secret).now().isdigit()
        hashes = set(session.scalars(select(Account.password_hash))) | set(
            session.scalars(select(Account.temp_password_hash))
        )
        assert len(hashes - {None}) <= academie.HASH_POOL
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "demo")).all()
        assert len(events) == 1


def test_same_seed_same_people_whatever_the_day(services: Services, tmp_path: Path) -> None:
    academie.build(services, ACTOR, scale=TINY, seed=5)
    later = Services.from_settings(
        services.settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'b.db'}"}),
        clock=FakeClock(services.clock() + dt.timedelta(days=17)),
        hash_params=FAST_HASH,
    )
    other = Services.from_settings(
        services.settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'c.db'}"}),
        clock=FakeClock(services.clock()),
        hash_params=FAST_HASH,
    )
    academie.build(later, ACTOR, scale=TINY, seed=5)
    academie.build(other, ACTOR, scale=TINY, seed=6)

    def people(built: Services) -> list[tuple[str, str, str]]:
        with built.sessions() as session:
            return [
                (a.login, last, first)
                for a, last, first in sorted(_owners(session), key=lambda r: r[0].id)
            ]

    assert people(services) == people(later)
    assert people(services) != people(other)
    for built in (later, other):
        built.engine.dispose()


def test_rerun_keeps_the_academie_and_renews_staff(services: Services) -> None:
    first = academie.build(services, ACTOR, scale=TINY)
    again = academie.build(services, ACTOR, scale=TINY)
    assert not again.created
    assert (again.pupils, again.guardians, again.accounts) == (800, first.guardians, first.accounts)
    assert again.accounts_by_state == first.accounts_by_state
    assert [s.login for s in again.staff] == [s.login for s in first.staff]
    assert again.staff[0].password != first.staff[0].password
    assert (again.largest_pupils, again.largest_guardians) == (300, 500)


def _college_demo_school(services: Services) -> None:
    """What tells the collège demo is there (its full build takes seconds: test_demo.py)."""
    with services.sessions() as session, session.begin():
        factories.school(session, uai=COLLEGE_UAI, name="Collège Jean Moulin")


def test_college_demo_and_academie_do_not_mix(services: Services) -> None:
    _college_demo_school(services)
    with pytest.raises(InvalidInput, match="démonstration du collège"):
        academie.build(services, ACTOR, scale=TINY)
    # As an upgraded old database's key file: the reset empties those records on purpose.
    services.key_store.state_legacy(keys.Legacy(records=2, last_hash="a" * 64))
    summary = academie.build(services, ACTOR, scale=TINY, reset=True)
    assert keys.read_keyring(services.key_store.path).legacy == keys.NO_LEGACY
    with services.sessions() as session:
        assert audit.verify(session).ok
    assert summary.created and summary.accounts == summary.pupils + summary.guardians
    with services.sessions() as session:
        uais = set(session.scalars(select(Establishment.uai)))
        assert COLLEGE_UAI not in uais and LARGEST_UAI in uais
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == 1
    with pytest.raises(InvalidInput, match="contient l'académie"):
        create_demo(services, ACTOR)
    check_resettable([*uais, *DEMO_UAIS])  # « demo --reset » may replace the académie
    with pytest.raises(InvalidInput, match="0750655E"):
        check_resettable([*uais, "0750655E"])
    assert audit_log.verify_everywhere(services).ok


def test_added_to_a_database_with_other_data(services: Services) -> None:
    """Ids continue after the existing rows; an existing login is never handed out again."""
    with services.sessions() as session, session.begin():
        school = factories.school(session)
        pupil = factories.pupil(session, school, first_name="Léa", last_name="Martin")
        factories.guardian(session, [pupil], first_name="Louise", last_name="Martin")
    academie.build(services, ACTOR, scale=TINY)
    with services.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Establishment)) == 4
        martins = session.scalars(select(Account.login).where(Account.login.like("l.martin%")))
        logins = list(martins)
        assert len(logins) == len(set(logins)) and "l.martin" in logins
        ids = list(session.scalars(select(Account.id).order_by(Account.id)))
        assert ids == list(range(1, len(ids) + 1))
    with services.sessions() as session, session.begin():  # PostgreSQL: sequences moved on
        school = factories.school(session, uai="0750656F", name="Lycée Condorcet")
        late = factories.pupil(session, school, first_name="Léa", last_name="Martin")
        assert late.id == ids[-1] + 1 and late.login not in logins
    with pytest.raises(InvalidInput, match="Réinitialisation refusée"):
        academie.build(services, ACTOR, scale=TINY, reset=True)


def test_command_line(cli_env: Services, run_cli: RunCli) -> None:
    services = cli_env

    def run(*args: str) -> tuple[int, str, str]:
        return run_cli(["demo", *args, "--no-open"])

    code, out, err = run("--scale", str(TINY))
    assert code == 0 and "Académie de Créteil créée" in out
    assert "établissements 3/3" in err and "Traceback" not in err
    assert LARGEST_UAI in out and "h.rousseaudiallo" in out
    code, out, _ = run("--scale", "academie")
    assert code == 0 and "existait déjà" in out
    code, out, err = run()  # the collège demo on the académie: refused, one line
    assert code == 2 and err.count("\n") == 1 and "contient l'académie" in err
    code, out, err = run("--scale", str(TINY), "--reset")
    assert code == 0 and "base vidée" in err and "créée" in out
    with services.sessions() as session, session.begin():
        session.execute(update(Establishment).where(Establishment.uai == LARGEST_UAI).values(
            uai=COLLEGE_UAI))  # fmt: skip
    code, out, err = run("--scale", "academie")
    assert code == 2 and err.count("\n") == 1 and "--reset" in err
    code, _, err = run("--scale", "lycee")
    assert code == 2 and "college, academie" in err
