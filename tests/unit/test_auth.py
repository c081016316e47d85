"""Staff sign-in: password, TOTP and its replay guard, lockout, audit, school choice."""

from __future__ import annotations

import datetime as dt
import ipaddress
from typing import Any

import pyotp
import pytest
from sqlalchemy import select

from educonnect_tui.domain.access import delegations, passwords
from educonnect_tui.domain.access.caller import SchoolRef, SchoolSession
from educonnect_tui.domain.access.network import Connection, NetworkMode
from educonnect_tui.domain.access.sign_in import (
    GENERIC_FAILURE,
    choose_school,
    needs_otp,
    sign_in,
    sign_in_step,
)
from educonnect_tui.domain.access.staff import NewStaff
from educonnect_tui.domain.model.enums import Module, StaffRole
from educonnect_tui.domain.model.errors import (
    AccountBlocked,
    AuthenticationFailed,
    PermissionDenied,
)
from educonnect_tui.domain.model.tables import AuditEvent, Staff
from educonnect_tui.domain.store import audit
from educonnect_tui.domain.store.services import Services
from tests import factories
from tests.conftest import FakeClock
from tests.factories import STAFF_PASSWORD

OUTSIDE = Connection(address="203.0.113.9", via_ssh=True)
INSIDE = Connection(address="10.1.2.3", via_ssh=True)
CONSOLE = Connection(address=None, via_ssh=False)
SECOND_SCHOOL = ("0751234J", "Lycée Victor Hugo")


@pytest.fixture
def admin_services(services: Services) -> Services:
    """The services with 10.0.0.0/8 as the administrative network."""
    services.settings = services.settings.model_copy(
        update={"admin_networks": [ipaddress.ip_network("10.0.0.0/8")]}
    )
    return services


@pytest.fixture
def member(admin_services: Services) -> NewStaff:
    return factories.staff_member(admin_services)


def code_at(member: NewStaff, moment: dt.datetime) -> str:
    return pyotp.TOTP(member.totp_secret).at(moment)


def staff_row(services: Services, staff_id: int) -> Staff:
    """Read on a fresh session: what was committed, not what a session still holds."""
    with services.sessions() as session:
        return session.get_one(Staff, staff_id)


def events(services: Services) -> list[AuditEvent]:
    with services.sessions() as session:
        return list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def chain_ok(services: Services) -> bool:
    with services.sessions() as session:
        return audit.verify(session).ok


# --------------------------------------------------------------------------- success


def test_sign_in_with_otp_outside_the_admin_network(
    admin_services: Services, member: NewStaff, clock: FakeClock
) -> None:
    assert needs_otp(admin_services, OUTSIDE)
    signed = sign_in(
        admin_services, member.login, STAFF_PASSWORD, code_at(member, clock.now), OUTSIDE
    )
    assert signed.network_mode is NetworkMode.OTP
    assert signed.connection == OUTSIDE
    assert signed.identity.login == member.login
    assert signed.identity.display_name == "Hélène Martin"
    assert signed.identity.role is StaffRole.DIRECTION
    assert signed.identity.role_label == "Personnel de direction"
    assert signed.identity.title == "principale"
    assert isinstance(signed, SchoolSession) and signed.school.uai == factories.DEFAULT_UAI
    assert signed.second_factor
    assert staff_row(admin_services, member.id).last_totp_step == pyotp.TOTP(
        member.totp_secret
    ).timecode(clock.now)

    actor = signed.actor()
    assert actor.label == f"Hélène Martin ({member.login})"
    assert actor.source_address == "203.0.113.9"
    assert actor.staff_id == member.id

    (event,) = events(admin_services)
    assert event.action == "sign_in"
    assert event.source_address == "203.0.113.9"
    assert event.actor_id == member.id
    assert event.details["network_mode"] == "otp"
    assert event.details["schools"] == 1
    assert event.establishment_id == signed.school.id


def test_admin_network_needs_no_code(
    admin_services: Services, member: NewStaff, clock: FakeClock
) -> None:
    assert not needs_otp(admin_services, INSIDE)
    signed = sign_in(admin_services, member.login, STAFF_PASSWORD, None, INSIDE)
    assert signed.network_mode is NetworkMode.ADMIN
    assert signed.second_factor
    assert staff_row(admin_services, member.id).last_totp_step is None
    (event,) = events(admin_services)
    assert event.details["network_mode"] == "reseau_administratif"
    assert event.source_address == "10.1.2.3"


def test_local_console_is_admin_only_when_configured(
    admin_services: Services, member: NewStaff
) -> None:
    assert needs_otp(admin_services, CONSOLE)
    with pytest.raises(AuthenticationFailed):
        sign_in(admin_services, member.login, STAFF_PASSWORD, None, CONSOLE)
    admin_services.settings = admin_services.settings.model_copy(
        update={"local_console_is_admin_network": True}
    )
    assert not needs_otp(admin_services, CONSOLE)
    signed = sign_in(admin_services, member.login, STAFF_PASSWORD, None, CONSOLE)
    assert signed.actor().source_address == "console locale"
    assert events(admin_services)[-1].source_address == "console locale"


def test_login_is_case_and_space_insensitive_and_code_may_hold_spaces(
    admin_services: Services, member: NewStaff, clock: FakeClock
) -> None:
    code = code_at(member, clock.now)
    signed = sign_in(
        admin_services,
        f"  {member.login.upper()} ",
        STAFF_PASSWORD,
        f"{code[:3]} {code[3:]}",
        OUTSIDE,
    )
    assert signed.identity.login == member.login


def test_sign_in_step_says_which_case_applies(admin_services: Services) -> None:
    outside = sign_in_step(admin_services, OUTSIDE)
    assert outside.otp_required and outside.network_mode is NetworkMode.OTP
    assert "clé OTP" in outside.message and "SSH depuis 203.0.113.9" in outside.message
    inside = sign_in_step(admin_services, INSIDE)
    assert not inside.otp_required and inside.network_mode is NetworkMode.ADMIN
    assert "réseau administratif" in inside.message
    depannage = sign_in_step(admin_services, OUTSIDE, Module.DEPANNAGE)
    assert not depannage.otp_required
    assert "dépannage" in depannage.message


def test_success_resets_the_failure_counter(
    admin_services: Services, member: NewStaff, clock: FakeClock
) -> None:
    sign_in(admin_services, member.login, STAFF_PASSWORD, None, INSIDE)  # a usual address
    for _ in range(3):
        with pytest.raises(AuthenticationFailed):
            sign_in(admin_services, member.login, "faux", None, INSIDE)
    assert staff_row(admin_services, member.id).failed_attempts == 3
    sign_in(admin_services, member.login, STAFF_PASSWORD, None, INSIDE)
    row = staff_row(admin_services, member.id)
    assert (row.failed_attempts, row.block_count, row.blocked_until) == (0, 0, None)


# --------------------------------------------------------------------------- failures


def _unknown(services: Services, member: NewStaff, now: dt.datetime) -> None:
    sign_in(services, "x.inconnu", STAFF_PASSWORD, code_at(member, now), OUTSIDE)


def _bad_password(services: Services, member: NewStaff, now: dt.datetime) -> None:
    sign_in(services, member.login, "Mauvais-mot-de-passe", code_at(member, now), OUTSIDE)


def _bad_code(services: Services, member: NewStaff, now: dt.datetime) -> None:
    wrong = f"{(int(code_at(member, now)) + 1) % 1_000_000:06d}"
    sign_in(services, member.login, STAFF_PASSWORD, wrong, OUTSIDE)


def _too_old_code(services: Services, member: NewStaff, now: dt.datetime) -> None:
    code = code_at(member, now - dt.timedelta(seconds=60))  # outside the ±1 step window
    sign_in(services, member.login, STAFF_PASSWORD, code, OUTSIDE)


def _not_digits(services: Services, member: NewStaff, now: dt.datetime) -> None:
    sign_in(services, member.login, STAFF_PASSWORD, "abcdef", OUTSIDE)


def _no_code(services: Services, member: NewStaff, now: dt.datetime) -> None:
    sign_in(services, member.login, STAFF_PASSWORD, None, OUTSIDE)


def _empty_code(services: Services, member: NewStaff, now: dt.datetime) -> None:
    sign_in(services, member.login, STAFF_PASSWORD, "  ", OUTSIDE)


def _replayed(services: Services, member: NewStaff, now: dt.datetime) -> None:
    sign_in(services, member.login, STAFF_PASSWORD, code_at(member, now), OUTSIDE)
    sign_in(services, member.login, STAFF_PASSWORD, code_at(member, now), OUTSIDE)


@pytest.mark.parametrize(
    ("attempt", "reason"),
    [
        (_unknown, "unknown_login"),
        (_bad_password, "bad_password"),
        (_bad_code, "bad_code"),
        (_too_old_code, "bad_code"),
        (_not_digits, "bad_code"),
        (_no_code, "missing_code"),
        (_empty_code, "missing_code"),
        (_replayed, "replayed_code"),
    ],
)
def test_every_failure_gives_the_same_message_and_audits_its_reason(
    admin_services: Services, member: NewStaff, clock: FakeClock, attempt: Any, reason: str
) -> None:
    with pytest.raises(AuthenticationFailed) as raised:
        attempt(admin_services, member, clock.now)
    assert str(raised.value) == GENERIC_FAILURE
    last = events(admin_services)[-1]
    assert last.action == "sign_in_failed"
    assert last.details["reason"] == reason
    assert last.source_address == "203.0.113.9"
    assert reason not in str(raised.value)


def test_unknown_login_is_audited_by_its_shape_and_counts_on_its_pair_only(
    admin_services: Services, member: NewStaff, clock: FakeClock
) -> None:
    with pytest.raises(AuthenticationFailed):
        sign_in(admin_services, "Personne", "x", None, OUTSIDE)
    (event,) = events(admin_services)
    assert event.actor_label == "inconnu (8 caractères\u00a0: minuscules, majuscules)"
    assert factories.pair_failures(admin_services, "staff", "personne", OUTSIDE.source) == 1
    assert event.actor_id is None
    assert event.establishment_id is None
    assert staff_row(admin_services, member.id).failed_attempts == 0


def test_unknown_login_costs_one_argon2_verification(
    admin_services: Services, member: NewStaff, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real = passwords.verify_password

    def counting(stored_hash: str | None, password: str) -> bool:
        calls.append(password)
        return real(stored_hash, password)

    monkeypatch.setattr(passwords, "verify_password", counting)
    for login in ("x.inconnu", member.login):
        with pytest.raises(AuthenticationFailed):
            sign_in(admin_services, login, "faux", None, INSIDE)
    assert calls == ["faux", "faux"]


# --------------------------------------------------------------------------- replay


def test_same_code_cannot_be_used_twice(
    admin_services: Services, member: NewStaff, clock: FakeClock
) -> None:
    code = code_at(member, clock.now)
    sign_in(admin_services, member.login, STAFF_PASSWORD, code, OUTSIDE)
    clock.advance(seconds=5)
    with pytest.raises(AuthenticationFailed):
        sign_in(admin_services, member.login, STAFF_PASSWORD, code, OUTSIDE)
    assert events(admin_services)[-1].details["reason"] == "replayed_code"


def test_older_code_is_refused_and_next_step_is_accepted(
    admin_services: Services, member: NewStaff, clock: FakeClock
) -> None:
    older = code_at(member, clock.now - dt.timedelta(seconds=30))  # still inside the window
    sign_in(admin_services, member.login, STAFF_PASSWORD, code_at(member, clock.now), OUTSIDE)
    with pytest.raises(AuthenticationFailed):
        sign_in(admin_services, member.login, STAFF_PASSWORD, older, OUTSIDE)
    assert events(admin_services)[-1].details["reason"] == "replayed_code"
    clock.advance(seconds=30)
    signed = sign_in(
        admin_services, member.login, STAFF_PASSWORD, code_at(member, clock.now), OUTSIDE
    )
    assert signed.identity.staff_id == member.id


def test_code_from_the_next_step_is_accepted_for_clock_drift(
    admin_services: Services, member: NewStaff, clock: FakeClock
) -> None:
    ahead = code_at(member, clock.now + dt.timedelta(seconds=30))
    sign_in(admin_services, member.login, STAFF_PASSWORD, ahead, OUTSIDE)
    # The current step is now behind the one used: refused as a replay.
    with pytest.raises(AuthenticationFailed):
        sign_in(admin_services, member.login, STAFF_PASSWORD, code_at(member, clock.now), OUTSIDE)


def test_code_is_not_checked_after_a_wrong_password(
    admin_services: Services, member: NewStaff, clock: FakeClock
) -> None:
    code = code_at(member, clock.now)
    with pytest.raises(AuthenticationFailed):
        sign_in(admin_services, member.login, "faux", code, OUTSIDE)
    assert staff_row(admin_services, member.id).last_totp_step is None
    sign_in(admin_services, member.login, STAFF_PASSWORD, code, OUTSIDE)


# --------------------------------------------------------------------------- lockout


def _fail_times(services: Services, member: NewStaff, times: int) -> None:
    for _ in range(times):
        with pytest.raises(AuthenticationFailed):
            sign_in(services, member.login, "faux", None, OUTSIDE)


def _make_usual(services: Services, member: NewStaff, clock: FakeClock) -> None:
    """Sign in once from OUTSIDE: from now on its failures count on the account itself."""
    sign_in(services, member.login, STAFF_PASSWORD, code_at(member, clock.now), OUTSIDE)
    clock.advance(seconds=30)


def test_five_failures_block_15_minutes_then_30(
    admin_services: Services, member: NewStaff, clock: FakeClock
) -> None:
    _make_usual(admin_services, member, clock)
    clock.now = clock.now.replace(second=0)  # 08:00:00 again: the times below are exact
    _fail_times(admin_services, member, 4)
    with pytest.raises(AccountBlocked) as raised:
        sign_in(admin_services, member.login, "faux", None, OUTSIDE)
    # 08:15 UTC is 10:15 in Paris in September.
    assert "01/09/2026 à 10:15" in str(raised.value)
    row = staff_row(admin_services, member.id)
    assert row.blocked_until == clock.now + dt.timedelta(minutes=15)
    assert row.block_count == 1
    last = events(admin_services)[-1]
    assert (last.action, last.details["reason"]) == ("sign_in_failed", "bad_password")
    assert "blocked_until" in last.details

    clock.advance(minutes=15)
    _fail_times(admin_services, member, 4)
    with pytest.raises(AccountBlocked):
        sign_in(admin_services, member.login, "faux", None, OUTSIDE)
    row = staff_row(admin_services, member.id)
    assert row.blocked_until == clock.now + dt.timedelta(minutes=30)
    assert row.block_count == 2


def test_blocked_account_is_refused_even_with_the_right_credentials(
    admin_services: Services, member: NewStaff, clock: FakeClock
) -> None:
    _fail_times(admin_services, member, 4)
    with pytest.raises(AccountBlocked):
        sign_in(admin_services, member.login, "faux", None, OUTSIDE)
    clock.advance(minutes=14)
    code = code_at(member, clock.now)
    with pytest.raises(AccountBlocked) as raised:
        sign_in(admin_services, member.login, STAFF_PASSWORD, code, OUTSIDE)
    assert "10:15" in str(raised.value)
    last = events(admin_services)[-1]
    assert last.action == "sign_in_blocked"
    assert last.source_address == "203.0.113.9"
    # The code was not spent by the refused attempt: it works once the block ends.
    assert staff_row(admin_services, member.id).last_totp_step is None
    clock.advance(minutes=1)
    signed = sign_in(
        admin_services, member.login, STAFF_PASSWORD, code_at(member, clock.now), OUTSIDE
    )
    assert signed.identity.staff_id == member.id


def test_failure_counters_are_committed_despite_the_exception(
    admin_services: Services, member: NewStaff, clock: FakeClock
) -> None:
    _make_usual(admin_services, member, clock)
    _fail_times(admin_services, member, 2)
    with pytest.raises(AuthenticationFailed):
        sign_in(admin_services, member.login, STAFF_PASSWORD, "000000", OUTSIDE)
    assert staff_row(admin_services, member.id).failed_attempts == 3


# --------------------------------------------------------------------------- audit


def test_every_attempt_is_audited_with_its_source_and_the_chain_verifies(
    admin_services: Services, member: NewStaff, clock: FakeClock
) -> None:
    with pytest.raises(AuthenticationFailed):
        sign_in(admin_services, "x.inconnu", "x", None, OUTSIDE)
    with pytest.raises(AuthenticationFailed):
        sign_in(admin_services, member.login, "faux", None, INSIDE)
    sign_in(admin_services, member.login, STAFF_PASSWORD, None, INSIDE)
    sign_in(admin_services, member.login, STAFF_PASSWORD, code_at(member, clock.now), OUTSIDE)
    recorded = [(e.action, e.source_address, e.actor_id) for e in events(admin_services)]
    assert recorded == [
        ("sign_in_failed", "203.0.113.9", None),
        ("sign_in_failed", "10.1.2.3", member.id),
        ("sign_in", "10.1.2.3", member.id),
        ("sign_in", "203.0.113.9", member.id),
    ]
    assert all(e.occurred_at == clock.now for e in events(admin_services))
    assert chain_ok(admin_services)


# --------------------------------------------------------------------------- schools


def test_several_schools_then_choose_one(admin_services: Services, clock: FakeClock) -> None:
    member = factories.staff_member(
        admin_services, schools=((factories.DEFAULT_UAI, "Collège Jean Moulin"), SECOND_SCHOOL)
    )
    signed = sign_in(admin_services, member.login, STAFF_PASSWORD, None, INSIDE)
    assert not isinstance(signed, SchoolSession)  # no school until one is chosen
    assert {s.uai for s in signed.identity.schools} == {factories.DEFAULT_UAI, SECOND_SCHOOL[0]}
    (event,) = events(admin_services)
    assert event.establishment_id is None and event.details["schools"] == 2

    chosen = choose_school(admin_services, signed, " 0751234j ")
    assert chosen.school.name == "Lycée Victor Hugo"
    assert chosen.identity == signed.identity
    last = events(admin_services)[-1]
    assert last.action == "school_chosen"
    assert last.establishment_id == chosen.school.id
    assert last.actor_label == f"Hélène Martin ({member.login})"
    assert last.source_address == "10.1.2.3"
    assert chain_ok(admin_services)


def test_choosing_a_foreign_school_is_refused(admin_services: Services) -> None:
    member = factories.staff_member(
        admin_services, schools=((factories.DEFAULT_UAI, "Collège Jean Moulin"), SECOND_SCHOOL)
    )
    with admin_services.sessions() as session, session.begin():
        foreign = factories.school(session, "0921500F", "Collège Voltaire")
        foreign_ref = SchoolRef(id=foreign.id, uai=foreign.uai, name=foreign.name)
    signed = sign_in(admin_services, member.login, STAFF_PASSWORD, None, INSIDE)
    with pytest.raises(PermissionDenied, match="0921500F"):
        choose_school(admin_services, signed, "0921500F")
    assert events(admin_services)[-1].action == "school_choice_refused"
    with pytest.raises(PermissionDenied):
        signed.at(foreign_ref)
    assert chain_ok(admin_services)


def test_school_detached_since_sign_in_cannot_be_chosen(admin_services: Services) -> None:
    member = factories.staff_member(
        admin_services, schools=((factories.DEFAULT_UAI, "Collège Jean Moulin"), SECOND_SCHOOL)
    )
    signed = sign_in(admin_services, member.login, STAFF_PASSWORD, None, INSIDE)
    with admin_services.sessions() as session, session.begin():
        staff = session.get_one(Staff, member.id)
        staff.establishments = [e for e in staff.establishments if e.uai != SECOND_SCHOOL[0]]
    with pytest.raises(PermissionDenied):
        choose_school(admin_services, signed, SECOND_SCHOOL[0])


def test_staff_without_any_school_cannot_sign_in(
    admin_services: Services, member: NewStaff
) -> None:
    with admin_services.sessions() as session, session.begin():
        session.get_one(Staff, member.id).establishments = []
    with pytest.raises(PermissionDenied):
        sign_in(admin_services, member.login, STAFF_PASSWORD, None, INSIDE)
    assert events(admin_services)[-1].action == "sign_in_refused"


# --------------------------------------------------------------------------- modules


def test_depannage_needs_only_the_password_but_has_no_second_factor(
    admin_services: Services, clock: FakeClock
) -> None:
    factories.staff_member(admin_services)  # the principal who delegates
    agent = factories.staff_member(
        admin_services, first_name="Paul", last_name="Durand", role=StaffRole.AGENT, title="CPE"
    )
    delegations.grant(
        admin_services,
        factories.operator(admin_services),
        delegations.GrantRequest(agent.login, Module.DEPANNAGE),
    )
    assert not needs_otp(admin_services, OUTSIDE, Module.DEPANNAGE)
    signed = sign_in(
        admin_services, agent.login, STAFF_PASSWORD, None, OUTSIDE, module=Module.DEPANNAGE
    )
    assert signed.module is Module.DEPANNAGE
    assert signed.identity.role_label == "Agent"
    assert not signed.second_factor
    assert events(admin_services)[-1].details["module"] == "depannage"

    from_inside = sign_in(
        admin_services, agent.login, STAFF_PASSWORD, None, INSIDE, module=Module.DEPANNAGE
    )
    assert from_inside.second_factor


def test_the_journal_says_how_each_sign_in_met_the_second_factor(
    admin_services: Services, member: NewStaff, clock: FakeClock
) -> None:
    """A dépannage sign-in off the network had no code: it must not read « otp »."""
    from educonnect_tui.domain.reports import journal
    from educonnect_tui.domain.reports.journal import AuditFilter

    agent = factories.staff_member(
        admin_services, first_name="Paul", last_name="Durand", role=StaffRole.AGENT, title="CPE"
    )
    delegations.grant(
        admin_services,
        factories.operator(admin_services),
        delegations.GrantRequest(agent.login, Module.DEPANNAGE),
    )
    sign_in(admin_services, agent.login, STAFF_PASSWORD, None, OUTSIDE, module=Module.DEPANNAGE)
    clock.advance(seconds=40)
    sign_in(admin_services, agent.login, STAFF_PASSWORD, None, INSIDE, module=Module.DEPANNAGE)
    clock.advance(seconds=40)
    sign_in(admin_services, member.login, STAFF_PASSWORD, code_at(member, clock.now), OUTSIDE)
    clock.advance(seconds=40)
    with pytest.raises(AuthenticationFailed):
        sign_in(admin_services, member.login, STAFF_PASSWORD, None, OUTSIDE)
    rows = journal.events_everywhere(admin_services, AuditFilter())
    assert [r.details for r in reversed(rows) if r.details.startswith("accès")] == [
        "accès\u00a0: hors réseau administratif, sans code (dépannage) · module\u00a0: dépannage"
        " · établissements rattachés\u00a0: 1",
        "accès\u00a0: réseau administratif, sans code · module\u00a0: dépannage"
        " · établissements rattachés\u00a0: 1",
        "accès\u00a0: hors réseau administratif, code OTP vérifié · module\u00a0: administration"
        " · établissements rattachés\u00a0: 1",
        "accès\u00a0: hors réseau administratif, code OTP exigé · module\u00a0: administration"
        " · motif\u00a0: code OTP absent",
    ]


def test_depannage_still_checks_the_password(admin_services: Services, member: NewStaff) -> None:
    with pytest.raises(AuthenticationFailed):
        sign_in(admin_services, member.login, "faux", None, OUTSIDE, module=Module.DEPANNAGE)
