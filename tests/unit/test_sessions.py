"""Staff sessions: a row per sign-in, ended by a sign-out or by the staff's managers,
read again on every call; the password typed again at the lock or before a sensitive
action, counted like a sign-in when wrong; the re-authentication window."""

from __future__ import annotations

import dataclasses
import datetime as dt
import ipaddress
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import select

from educonnect_tui.domain.access import delegations, permissions, sessions
from educonnect_tui.domain.access.caller import SchoolSession, SignedIn, SignInTrace
from educonnect_tui.domain.access.delegations import GrantRequest
from educonnect_tui.domain.access.network import Connection
from educonnect_tui.domain.access.permissions import Action
from educonnect_tui.domain.access.sign_in import choose_school, sign_in, sign_out
from educonnect_tui.domain.access.staff import NewStaff
from educonnect_tui.domain.accounts import notification
from educonnect_tui.domain.accounts.notification import NotifyRequest
from educonnect_tui.domain.accounts.selection import Selection
from educonnect_tui.domain.model.enums import AccountKind, Module, StaffRole
from educonnect_tui.domain.model.errors import (
    AccountBlocked,
    AuthenticationFailed,
    ConfirmationRequired,
    PermissionDenied,
    SessionEnded,
)
from educonnect_tui.domain.model.states import MAX_FAILED_ATTEMPTS
from educonnect_tui.domain.model.tables import AuditEvent, Staff, StaffSession
from educonnect_tui.domain.store import audit
from educonnect_tui.domain.store.services import Services
from tests import factories
from tests.conftest import START, FakeClock
from tests.factories import STAFF_PASSWORD

UAI = factories.DEFAULT_UAI
DESK = Connection(address="10.1.2.3", via_ssh=True)
OFFICE = Connection(address="10.9.9.9", via_ssh=True)
NBSP = "\u00a0"


@pytest.fixture
def admin_services(services: Services) -> Services:
    """Sign-in from 10.0.0.0/8 needs no OTP code: the tests type only passwords."""
    services.settings = services.settings.model_copy(
        update={"admin_networks": [ipaddress.ip_network("10.0.0.0/8")]}
    )
    return services


@pytest.fixture
def principal(admin_services: Services) -> NewStaff:
    with admin_services.sessions() as session, session.begin():
        school = factories.school(session)
        for i in range(3):
            factories.pupil(session, school, first_name=f"Élève{i}", division="3E1")
    factories.staff_member(
        admin_services, first_name="Karim", last_name="Haddad", role=StaffRole.AGENT
    )
    return factories.staff_member(admin_services)


def _signed_in(services: Services, person: NewStaff, where: Connection = DESK) -> SchoolSession:
    signed = sign_in(services, person.login, STAFF_PASSWORD, None, where)
    assert isinstance(signed, SchoolSession)
    return signed


def _row(services: Services, session_id: int | None) -> StaffSession:
    with services.sessions() as db:
        return db.get_one(StaffSession, session_id)


def _events(services: Services, action: str) -> list[AuditEvent]:
    with services.sessions() as db:
        query = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        return list(db.scalars(query))


def _failed_attempts(services: Services, staff_id: int) -> int:
    with services.sessions() as db:
        return db.get_one(Staff, staff_id).failed_attempts


# --------------------------------------------------------------------------- sign-in


def test_a_sign_in_opens_its_row_and_shows_the_previous_one_next_time(
    admin_services: Services, principal: NewStaff, clock: FakeClock
) -> None:
    first = _signed_in(admin_services, principal, DESK)
    assert first.session_id is not None and first.previous_sign_in is None
    row = _row(admin_services, first.session_id)
    assert (row.staff_id, row.module, row.source) == (
        principal.id,
        Module.ADMINISTRATION,
        DESK.source,
    )
    assert row.started_at == row.confirmed_at == START and row.ended_at is None
    # Stored and read back as an aware UTC instant, whatever the server's zone.
    assert row.started_at.utcoffset() == dt.timedelta(0)
    clock.advance(hours=3)
    second = _signed_in(admin_services, principal, OFFICE)
    assert second.session_id != first.session_id
    assert second.previous_sign_in == SignInTrace(at=START, source=DESK.source)
    with admin_services.sessions() as db:
        staff = db.get_one(Staff, principal.id)
        assert (staff.last_sign_in_at, staff.last_sign_in_source) == (clock.now, OFFICE.source)


def test_a_refused_sign_in_opens_no_session(admin_services: Services, principal: NewStaff) -> None:
    with pytest.raises(AuthenticationFailed):
        sign_in(admin_services, principal.login, "pas le bon", None, DESK)
    with admin_services.sessions() as db:
        assert db.scalars(select(StaffSession)).all() == []
        assert db.get_one(Staff, principal.id).last_sign_in_at is None


def test_the_test_factory_opens_a_session_like_sign_in(
    admin_services: Services, principal: NewStaff
) -> None:
    caller = factories.signed_in(admin_services, principal.login, UAI)
    assert _row(admin_services, caller.session_id).ended_at is None
    permissions.require(admin_services, caller, Action.VIEW_ACCOUNTS)


# --------------------------------------------------------------------------- two at once


def test_two_sessions_of_one_person_both_work_and_each_sees_the_other(
    admin_services: Services, principal: NewStaff, clock: FakeClock
) -> None:
    desk = _signed_in(admin_services, principal, DESK)
    clock.advance(minutes=5)
    office = _signed_in(admin_services, principal, OFFICE)
    for caller in (desk, office):
        permissions.require(admin_services, caller, Action.VIEW_ACCOUNTS)
    assert sessions.other_open_sessions(admin_services, desk) == [
        SignInTrace(at=clock.now, source=OFFICE.source)
    ]
    assert sessions.other_open_sessions(admin_services, office) == [
        SignInTrace(at=START, source=DESK.source)
    ]
    # A sign-out at the desk ends the desk's session only.
    sign_out(admin_services, desk)
    with pytest.raises(SessionEnded, match=f"Votre session a pris fin \\(déconnexion\\){NBSP}:"):
        permissions.require(admin_services, desk, Action.VIEW_ACCOUNTS)
    permissions.require(admin_services, office, Action.VIEW_ACCOUNTS)
    assert sessions.other_open_sessions(admin_services, office) == []
    row = _row(admin_services, desk.session_id)
    assert (row.ended_at, row.end_reason) == (clock.now, "sign_out")
    [event] = _events(admin_services, "sign_out")
    assert (event.actor_id, event.source_address) == (principal.id, DESK.source)
    with admin_services.sessions() as db:
        assert audit.verify(db).ok


def test_other_sessions_older_than_a_day_or_ended_are_not_shown(
    admin_services: Services, principal: NewStaff, clock: FakeClock
) -> None:
    _signed_in(admin_services, principal, OFFICE)  # a terminal killed, never signed out
    clock.advance(hours=2)
    ended = _signed_in(admin_services, principal, OFFICE)
    sign_out(admin_services, ended)
    clock.advance(hours=23)
    now = _signed_in(admin_services, principal, DESK)
    assert sessions.other_open_sessions(admin_services, now) == []


def test_a_signed_out_session_can_neither_choose_a_school_nor_list_its_others(
    admin_services: Services, principal: NewStaff
) -> None:
    caller = _signed_in(admin_services, principal)
    sign_out(admin_services, caller)
    with pytest.raises(SessionEnded):
        choose_school(admin_services, caller, UAI)
    with pytest.raises(SessionEnded):
        sessions.other_open_sessions(admin_services, caller)
    with pytest.raises(SessionEnded):
        sessions.confirmation_due(admin_services, caller)


def test_a_caller_without_its_own_row_holds_nothing(
    admin_services: Services, principal: NewStaff
) -> None:
    caller = _signed_in(admin_services, principal)
    agent = factories.signed_in(admin_services, "k.haddad", UAI)
    for forged in (
        dataclasses.replace(caller, session_id=None),
        dataclasses.replace(caller, session_id=agent.session_id),
        dataclasses.replace(caller, session_id=10_000),
    ):
        with pytest.raises(SessionEnded, match=f"^Votre session a pris fin{NBSP}: reconnectez"):
            permissions.require(admin_services, forged, Action.VIEW_ACCOUNTS)
        assert not permissions.allowed(admin_services, forged, Action.VIEW_ACCOUNTS)


def test_sessions_ended_while_a_worker_runs_refuse_its_next_call(
    admin_services: Services, principal: NewStaff
) -> None:
    desk = _signed_in(admin_services, principal, DESK)
    office = _signed_in(admin_services, principal, OFFICE)
    listed = delegations.list_delegations(admin_services, desk)  # the worker's first call
    assert listed == []
    # Meanwhile the person is disabled: every open session of theirs ends.
    with admin_services.sessions() as db, db.begin():
        db.get_one(Staff, principal.id).disabled_at = admin_services.clock()
        assert sessions.end_all(db, principal.id, admin_services.clock(), "disabled") == 2
    for caller in (desk, office):
        with pytest.raises(SessionEnded, match="\\(compte désactivé\\)"):
            delegations.list_delegations(admin_services, caller)
    # Ending them again changes nothing, and signing out of an ended session still says so.
    with admin_services.sessions() as db, db.begin():
        assert sessions.end_all(db, principal.id, admin_services.clock(), "disabled") == 0
    sign_out(admin_services, desk)
    assert _row(admin_services, desk.session_id).end_reason == "disabled"
    assert len(_events(admin_services, "sign_out")) == 1


def test_end_all_ends_only_that_persons_sessions(
    admin_services: Services, principal: NewStaff
) -> None:
    head = _signed_in(admin_services, principal)
    agent = factories.signed_in(admin_services, "k.haddad", UAI, module=Module.ADMINISTRATION)
    with admin_services.sessions() as db, db.begin():
        sessions.end_all(db, agent.identity.staff_id, admin_services.clock(), "password_reset")
    with pytest.raises(SessionEnded, match="\\(mot de passe réinitialisé\\)"):
        sessions.other_open_sessions(admin_services, agent)
    permissions.require(admin_services, head, Action.VIEW_ACCOUNTS)


# --------------------------------------------------------------------------- the password again


@pytest.mark.parametrize(
    ("purpose", "action"), [("lock", "session_unlocked"), ("sensitive", "session_confirmed")]
)
def test_the_right_password_confirms_the_session(
    admin_services: Services,
    principal: NewStaff,
    clock: FakeClock,
    purpose: sessions.Purpose,
    action: str,
) -> None:
    caller = _signed_in(admin_services, principal)
    clock.advance(minutes=12)
    sessions.confirm_password(admin_services, caller, STAFF_PASSWORD, purpose=purpose)
    assert _row(admin_services, caller.session_id).confirmed_at == clock.now
    [event] = _events(admin_services, action)
    assert event.details == {"purpose": purpose, "module": "administration"}
    assert event.actor_id == principal.id and event.establishment_id == caller.school.id


def test_a_wrong_password_counts_like_a_failed_sign_in_and_blocks(
    admin_services: Services, principal: NewStaff, clock: FakeClock
) -> None:
    caller = _signed_in(admin_services, principal)
    for tried in range(1, MAX_FAILED_ATTEMPTS):
        with pytest.raises(AuthenticationFailed, match=r"^Mot de passe incorrect\.$"):
            sessions.confirm_password(admin_services, caller, "faux", purpose="lock")
        assert _failed_attempts(admin_services, principal.id) == tried
    # The last try blocks the account, as a sign-in would; the time is the school's.
    with pytest.raises(AccountBlocked, match="réessayez après le 01/09/2026 à 10:15"):
        sessions.confirm_password(admin_services, caller, "faux", purpose="lock")
    # Blocked: the right password no longer unlocks, nor signs in.
    with pytest.raises(AccountBlocked):
        sessions.confirm_password(admin_services, caller, STAFF_PASSWORD, purpose="lock")
    with pytest.raises(AccountBlocked):
        sign_in(admin_services, principal.login, STAFF_PASSWORD, None, DESK)
    assert _row(admin_services, caller.session_id).confirmed_at == START
    failed = _events(admin_services, "session_confirm_failed")
    assert [e.details.get("reason") for e in failed] == [
        *["bad_password"] * MAX_FAILED_ATTEMPTS,
        "blocked",
    ]
    assert "blocked_until" in failed[MAX_FAILED_ATTEMPTS - 1].details
    assert all(
        STAFF_PASSWORD not in str(e.details) and "faux" not in str(e.details) for e in failed
    )
    with admin_services.sessions() as db:
        assert audit.verify(db).ok


def test_failures_at_the_lock_and_at_sign_in_add_up(
    admin_services: Services, principal: NewStaff
) -> None:
    caller = _signed_in(admin_services, principal)
    for _ in range(MAX_FAILED_ATTEMPTS - 1):
        with pytest.raises(AuthenticationFailed):
            sign_in(admin_services, principal.login, "faux", None, DESK)
    with pytest.raises(AccountBlocked):
        sessions.confirm_password(admin_services, caller, "faux", purpose="sensitive")


def test_a_right_password_at_the_lock_does_not_clear_the_failures(
    admin_services: Services, principal: NewStaff
) -> None:
    """Only a whole sign-in starts the counters over, or the lock would hand out tries."""
    caller = _signed_in(admin_services, principal)
    with pytest.raises(AuthenticationFailed):
        sessions.confirm_password(admin_services, caller, "faux", purpose="lock")
    sessions.confirm_password(admin_services, caller, STAFF_PASSWORD, purpose="lock")
    assert _failed_attempts(admin_services, principal.id) == 1


def test_an_ended_session_cannot_be_confirmed_even_with_the_right_password(
    admin_services: Services, principal: NewStaff
) -> None:
    caller = _signed_in(admin_services, principal)
    sign_out(admin_services, caller)
    for password in (STAFF_PASSWORD, "faux"):
        with pytest.raises(SessionEnded):
            sessions.confirm_password(admin_services, caller, password, purpose="lock")
    assert _failed_attempts(admin_services, principal.id) == 0
    failed = _events(admin_services, "session_confirm_failed")
    assert [e.details["reason"] for e in failed] == ["session_ended", "session_ended"]


# --------------------------------------------------------------------------- re-authentication


def _grant(services: Services, caller: SchoolSession | None = None) -> None:
    delegations.grant(
        services,
        caller or factories.operator(services),
        GrantRequest(agent_login="k.haddad", module=Module.DEPANNAGE),
    )


def test_delegations_ask_the_password_again_after_the_window(
    admin_services: Services, principal: NewStaff, clock: FakeClock
) -> None:
    admin_services.settings.reauth_minutes = 15
    head = _signed_in(admin_services, principal)
    clock.advance(minutes=15)
    assert not sessions.confirmation_due(admin_services, head)
    _grant(admin_services, head)
    [granted] = delegations.list_delegations(admin_services, head)
    clock.advance(seconds=1)
    assert sessions.confirmation_due(admin_services, head)
    with pytest.raises(ConfirmationRequired, match=f"sensible{NBSP}: confirmez"):
        delegations.revoke(admin_services, head, granted.id)
    assert isinstance(ConfirmationRequired(""), PermissionDenied)
    sessions.confirm_password(admin_services, head, STAFF_PASSWORD, purpose="sensitive")
    assert not sessions.confirmation_due(admin_services, head)
    delegations.revoke(admin_services, head, granted.id)
    clock.advance(minutes=16)
    with pytest.raises(ConfirmationRequired):
        _grant(admin_services, head)
    # Unlocking the screen is a confirmation too: the person typed the password.
    sessions.confirm_password(admin_services, head, STAFF_PASSWORD, purpose="lock")
    _grant(admin_services, head)


def test_the_command_line_operator_is_never_asked(
    admin_services: Services, principal: NewStaff, clock: FakeClock
) -> None:
    operator = factories.operator(admin_services)
    clock.advance(days=30)
    assert not sessions.confirmation_due(admin_services, operator)
    sessions.require_recent_confirmation(admin_services, operator)
    _grant(admin_services)


def test_the_window_follows_the_setting(
    admin_services: Services, principal: NewStaff, clock: FakeClock
) -> None:
    admin_services.settings.reauth_minutes = 1
    head = _signed_in(admin_services, principal)
    clock.advance(seconds=61)
    assert sessions.confirmation_due(admin_services, head)


def test_notifying_more_accounts_than_the_setting_asks_the_password_again(
    admin_services: Services, principal: NewStaff, clock: FakeClock, tmp_path: Path
) -> None:
    head = _signed_in(admin_services, principal)
    clock.advance(minutes=admin_services.settings.reauth_minutes + 1)
    three = NotifyRequest(
        AccountKind.PUPIL, Selection(divisions=("3E1",)), pdf_path=tmp_path / "a.pdf"
    )
    planned = notification.preview(admin_services, head, three)
    assert planned.total == 3
    # Up to the setting, no question.
    admin_services.settings.reauth_notify_over = 3
    assert not notification.sensitive(admin_services, planned)
    notification.notify(admin_services, head, three)
    # Above it, the password again — reminders too; the operator is never asked.
    admin_services.settings.reauth_notify_over = 2
    assert notification.sensitive(admin_services, planned)
    for request in (
        dataclasses.replace(three, pdf_path=tmp_path / "b.pdf"),
        dataclasses.replace(three, pdf_path=tmp_path / "c.pdf", reset=False),
    ):
        with pytest.raises(ConfirmationRequired):
            notification.notify(admin_services, head, request)
    assert not (tmp_path / "b.pdf").exists() and not (tmp_path / "c.pdf").exists()
    notification.notify(
        admin_services,
        factories.operator(admin_services),
        dataclasses.replace(three, pdf_path=tmp_path / "d.pdf", activated_confirmed=3),
    )
    sessions.confirm_password(admin_services, head, STAFF_PASSWORD, purpose="sensitive")
    notification.notify(
        admin_services,
        head,
        dataclasses.replace(three, pdf_path=tmp_path / "e.pdf", activated_confirmed=3),
    )


def test_a_school_in_paris_and_a_server_in_utc_compare_the_same_instants(
    admin_services: Services, principal: NewStaff, clock: FakeClock
) -> None:
    """Late on 31 December in UTC is already 1 January in Paris: the window counts minutes."""
    clock.now = dt.datetime(2026, 12, 31, 22, 50, tzinfo=dt.UTC)
    head = _signed_in(admin_services, principal)
    paris = dt.timezone(dt.timedelta(hours=1))
    clock.now = dt.datetime(2027, 1, 1, 0, 4, tzinfo=paris)  # 23:04 UTC: 14 minutes later
    assert not sessions.confirmation_due(admin_services, head)
    clock.now = dt.datetime(2026, 12, 31, 23, 6, tzinfo=dt.UTC)
    assert sessions.confirmation_due(admin_services, head)
    assert _row(admin_services, head.session_id).started_at == dt.datetime(
        2026, 12, 31, 22, 50, tzinfo=dt.UTC
    )


def test_a_signed_in_person_before_choosing_a_school_keeps_the_same_session(
    admin_services: Services,
) -> None:
    with admin_services.sessions() as db, db.begin():
        factories.school(db)
        factories.school(db, "0941876D", "École Joliot-Curie")
    person = factories.staff_member(
        admin_services, schools=((UAI, "Collège"), ("0941876D", "École Joliot-Curie"))
    )
    signed = sign_in(admin_services, person.login, STAFF_PASSWORD, None, DESK)
    assert type(signed) is SignedIn and signed.session_id is not None
    chosen = choose_school(admin_services, signed, "0941876D")
    switched = choose_school(admin_services, chosen, UAI)
    assert chosen.session_id == switched.session_id == signed.session_id
    with admin_services.sessions() as db:
        assert len(db.scalars(select(StaffSession)).all()) == 1


def test_two_sign_ins_of_one_person_at_the_same_instant_both_open_a_session(
    admin_services: Services, principal: NewStaff
) -> None:
    """Two terminals at once: the staff row's lock puts one after the other, none lost."""
    barrier = threading.Barrier(2)

    def one(where: Connection) -> SchoolSession:
        barrier.wait()
        return _signed_in(admin_services, principal, where)

    with ThreadPoolExecutor(max_workers=2) as pool:
        desk, office = pool.map(one, (DESK, OFFICE))
    assert desk.session_id != office.session_id
    assert [t.source for t in sessions.other_open_sessions(admin_services, desk)] == [OFFICE.source]
    assert [t.source for t in sessions.other_open_sessions(admin_services, office)] == [DESK.source]
    # One of them saw the other as the sign-in before it.
    previous = {desk.previous_sign_in, office.previous_sign_in}
    assert previous in (
        {None, SignInTrace(at=START, source=DESK.source)},
        {None, SignInTrace(at=START, source=OFFICE.source)},
    )
