"""The demo school: realistic counts and mix, deterministic, renewable, resettable."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import pyotp
import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from educonnect_tui.demo.college import COLLEGE_UAI, DEMO_SEED, DEMO_UAIS, create_demo
from educonnect_tui.domain.access.passwords import verify_password
from educonnect_tui.domain.access.staff import totp_secret_of
from educonnect_tui.domain.model.enums import (
    AccountKind,
    AccountState,
    ActivationMethod,
    EstablishmentType,
    PupilStatus,
)
from educonnect_tui.domain.model.errors import InvalidInput
from educonnect_tui.domain.model.identifiers import login_base, normalize_uai
from educonnect_tui.domain.model.tables import (
    Account,
    Division,
    Establishment,
    Guardian,
    GuardianLink,
    Pupil,
    Staff,
)
from educonnect_tui.domain.store import audit, establishments, keys
from educonnect_tui.domain.store.audit import Actor
from educonnect_tui.domain.store.services import Services
from educonnect_tui.domain.store.settings import Settings
from tests.conftest import FAST_HASH, FakeClock

ACTOR = Actor(label="test", source_address="127.0.0.1")


def _digest(services: Services) -> str:
    """What must not change between two builds with the same seed."""
    with services.sessions() as session:
        rows = session.execute(
            select(Pupil.ine, Pupil.last_name, Pupil.first_name, Account.login, Account.state)
            .join(Account, Account.pupil_id == Pupil.id)
            .order_by(Pupil.ine)
        ).all()
        guardians = session.execute(
            select(Guardian.source_key, Guardian.last_name, Account.login, Account.state)
            .join(Account, Account.guardian_id == Guardian.id)
            .order_by(Guardian.source_key)
        ).all()
    text = repr([tuple(map(str, r)) for r in rows]) + repr([tuple(map(str, r)) for r in guardians])
    return hashlib.sha256(text.encode()).hexdigest()


def _college_id(session: Session) -> int:
    found = session.scalar(select(Establishment.id).where(Establishment.uai == COLLEGE_UAI))
    assert found is not None
    return found


def test_demo_is_a_plausible_school(services: Services) -> None:
    summary = create_demo(services, ACTOR)
    assert summary.created
    assert [uai for uai, _ in summary.establishments] == sorted(DEMO_UAIS)
    for uai, _ in summary.establishments:
        assert normalize_uai(uai) == uai
    now = services.clock()

    with services.sessions() as session:
        college = _college_id(session)
        divisions = session.execute(
            select(Division.level, func.count()).where(Division.establishment_id == college)
            .group_by(Division.level)
        ).all()  # fmt: skip
        assert sorted(level for level, _ in divisions) == ["3e", "4e", "5e", "6e"]
        assert sum(count for _, count in divisions) == 20
        pupils = session.scalar(
            select(func.count()).select_from(Pupil).where(Pupil.establishment_id == college)
        )
        assert pupils is not None and 500 <= pupils <= 540
        college_guardians = session.scalar(
            select(func.count(func.distinct(GuardianLink.guardian_id)))
            .join(Pupil, Pupil.id == GuardianLink.pupil_id)
            .where(Pupil.establishment_id == college)
        )
        assert college_guardians is not None and 850 <= college_guardians <= 950
        assert summary.pupils > pupils and summary.guardians > college_guardians

        # Guardians of pupils in both schools, and siblings at different levels.
        per_guardian = session.execute(
            select(
                GuardianLink.guardian_id,
                func.count(func.distinct(Pupil.establishment_id)),
                func.count(func.distinct(Division.level)),
            )
            .join(Pupil, Pupil.id == GuardianLink.pupil_id)
            .join(Division, Division.id == Pupil.division_id)
            .group_by(GuardianLink.guardian_id)
        ).all()
        assert 15 <= sum(1 for _, schools, _ in per_guardian if schools == 2) <= 45
        assert sum(1 for _, schools, levels in per_guardian if schools == 1 and levels > 1) > 20

        # Every login is unique and follows the rule (base, then a numeric suffix).
        names = (
            session.execute(
                select(Account.login, Pupil.first_name, Pupil.last_name).join(
                    Pupil, Pupil.id == Account.pupil_id
                )
            ).all()
            + session.execute(
                select(Account.login, Guardian.first_name, Guardian.last_name).join(
                    Guardian, Guardian.id == Account.guardian_id
                )
            ).all()
        )
        logins = [login for login, _, _ in names]
        assert len(logins) == len(set(logins))
        for login, first, last in names:
            base = login_base(first, last)
            assert re.fullmatch(re.escape(base) + r"(\d+)?", login), (login, first, last)
            assert len(login) <= 32
        assert {"l.martin", "l.martin2"} <= set(logins)
        assert any(re.search(r"[^\x00-\u024f]", last) for _, _, last in names)  # Cyrillic

        accounts = session.scalars(select(Account)).all()
        for kind in AccountKind:
            states = {a.state for a in accounts if a.kind is kind}
            assert states == set(AccountState), kind
        methods = {a.activation_method for a in accounts if a.kind is AccountKind.GUARDIAN}
        assert set(ActivationMethod) <= methods
        pupil_states = [a.state for a in accounts if a.kind is AccountKind.PUPIL]
        activated = pupil_states.count(AccountState.ACTIVATED) / len(pupil_states)
        assert 0.45 <= activated <= 0.65
        blocked = [a for a in accounts if a.blocked_until is not None and a.blocked_until > now]
        assert 3 <= len(blocked) <= 15
        for account in accounts:
            if account.state is AccountState.NOTIFIED:
                assert account.temp_password_hash and account.temp_expires_at
                assert account.notification_count >= 1 and account.notified_at is not None
            if account.state is AccountState.ACTIVATED:
                assert account.password_hash and account.activated_at is not None
                assert account.activated_at < now
        left = session.scalars(select(Pupil).where(Pupil.status == PupilStatus.LEFT)).all()
        assert left and all(p.account.state is AccountState.DEACTIVATED for p in left)

        staff = session.scalars(select(Staff)).all()
        assert len(staff) == len(summary.staff) >= 7
        deputy = next(s for s in staff if s.title == "Principale adjointe")
        assert {e.uai for e in deputy.establishments} == set(DEMO_UAIS)
        assert audit.verify(session).ok

    for member in summary.staff:
        stored = next(s for s in staff if s.id == member.id)
        assert verify_password(stored.password_hash, member.password)
        assert pyotp.TOTP(member.totp_secret).now().isdigit()
    text = "\n".join(summary.lines())
    assert COLLEGE_UAI in text and "Collège Jean Moulin" in text
    assert all(s.password in text and s.totp_secret in text for s in summary.staff)
    assert "pyotp" in text


def test_same_seed_same_school(services: Services, sqlite_template: Path, tmp_path: Path) -> None:
    """Same seed on another database (SQLite; the other backend for the PostgreSQL run)."""
    create_demo(services, ACTOR, seed=DEMO_SEED)
    target = tmp_path / "other.db"
    shutil.copy(sqlite_template, target)
    clock = services.clock
    assert isinstance(clock, FakeClock)
    other = Services.from_settings(
        Settings(database_url=f"sqlite:///{target}", output_dir=tmp_path),
        clock=FakeClock(clock.now),
        hash_params=FAST_HASH,
    )
    try:
        create_demo(other, ACTOR, seed=DEMO_SEED)
        assert _digest(other) == _digest(services)
    finally:
        other.engine.dispose()


def test_rerun_keeps_the_data_and_renews_staff_credentials(services: Services) -> None:
    first = create_demo(services, ACTOR)
    before = _digest(services)
    again = create_demo(services, ACTOR)
    assert not again.created
    assert _digest(services) == before
    assert "identifiants du personnel renouvelés" in "\n".join(again.lines())
    assert again.pupils == first.pupils and again.accounts_by_state == first.accounts_by_state
    assert [s.login for s in again.staff] == [s.login for s in first.staff]
    with services.sessions() as session:
        stored = {s.id: s for s in session.scalars(select(Staff))}
        assert len(stored) == len(first.staff)
        for old, new in zip(first.staff, again.staff, strict=True):
            assert old.password != new.password and old.totp_secret != new.totp_secret
            assert not verify_password(stored[new.id].password_hash, old.password)
            assert verify_password(stored[new.id].password_hash, new.password)
            assert new.totp_secret not in stored[new.id].totp_secret
            assert totp_secret_of(stored[new.id]) == new.totp_secret


def test_reset_recreates_and_is_refused_next_to_another_school(services: Services) -> None:
    create_demo(services, ACTOR)
    before = _digest(services)
    with services.sessions.begin() as session:
        account = session.scalars(select(Account).order_by(Account.id).limit(1)).one()
        session.delete(account)
    assert _digest(services) != before

    again = create_demo(services, ACTOR, reset=True)
    assert again.created and _digest(services) == before
    assert {s.login for s in again.staff} >= {"p.marchand", "s.lemoine"}
    with services.sessions() as session:
        assert audit.verify(session).ok

    with services.sessions.begin() as session:
        establishments.create(
            session,
            uai="0750655E",
            name="Lycée réel",
            type=EstablishmentType.LYCEE,
            academie="Paris",
            city="Paris",
        )
    with pytest.raises(InvalidInput, match="0750655E"):
        create_demo(services, ACTOR, reset=True)
    assert _digest(services) == before  # nothing was deleted


def test_reset_of_a_trail_with_records_older_than_the_key_verifies(services: Services) -> None:
    """The reset empties the trail on purpose, records older than the key included: the
    key file then states none, or ``audit verify`` would report them deleted."""
    create_demo(services, ACTOR)
    with services.sessions() as session:
        assert audit.verify(session).ok
    stated = keys.Legacy(records=2, last_hash="a" * 64)  # as an upgraded old database's
    services.key_store.state_legacy(stated)
    with services.sessions() as session:
        assert "supprimés" in audit.verify(session).reason
    with pytest.raises(InvalidInput):  # a refused reset leaves the statement alone
        with services.sessions.begin() as session:
            establishments.create(
                session,
                uai="0750655E",
                name="Lycée réel",
                type=EstablishmentType.LYCEE,
                academie="Paris",
                city="Paris",
            )
        create_demo(services, ACTOR, reset=True)
    assert keys.read_keyring(services.key_store.path).legacy == stated
    with services.sessions.begin() as session:
        session.execute(delete(Establishment).where(Establishment.uai == "0750655E"))
    create_demo(services, ACTOR, reset=True)
    assert keys.read_keyring(services.key_store.path).legacy == keys.Legacy(0, audit.GENESIS)
    with services.sessions() as session:
        assert audit.verify(session).ok
