"""Staff accounts: temporary passwords, disabled accounts, the last direction account,
OTP and password resets, unlocking, and nothing secret in the trail (both backends)."""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import json
import threading

import pyotp
import pytest
from sqlalchemy import select

from educonnect_tui.domain.access import delegations, sessions, staff_accounts
from educonnect_tui.domain.access.caller import Operator, SchoolSession
from educonnect_tui.domain.access.network import Connection
from educonnect_tui.domain.access.permissions import (
    CHOOSE_PASSWORD_FIRST,
    DISABLED_SESSION,
    Action,
    require,
)
from educonnect_tui.domain.access.sign_in import GENERIC_FAILURE, sign_in
from educonnect_tui.domain.access.staff import NewStaff
from educonnect_tui.domain.access.staff_accounts import (
    IssuedCredentials,
    NewStaffRequest,
    StaffState,
)
from educonnect_tui.domain.accounts import helpdesk_search
from educonnect_tui.domain.model.enums import Module, StaffRole
from educonnect_tui.domain.model.errors import (
    AccountBlocked,
    AuthenticationFailed,
    ConfirmationRequired,
    InvalidInput,
    NotFound,
    PermissionDenied,
    SessionEnded,
)
from educonnect_tui.domain.model.states import MAX_FAILED_ATTEMPTS
from educonnect_tui.domain.model.tables import AuditEvent, Delegation, Staff
from educonnect_tui.domain.store.services import Services
from tests import factories
from tests.conftest import FakeClock
from tests.factories import DEFAULT_UAI, STAFF_PASSWORD

OUTSIDE = Connection(address="203.0.113.9", via_ssh=True)
INSIDE = Connection(address="10.1.2.3", via_ssh=True)
ELSEWHERE = Connection(address="10.9.9.9", via_ssh=True)
SECOND = ("0751234J", "Lycée Victor Hugo")
NEW_PASSWORD = "Cahier-De-Textes-2026"


@pytest.fixture
def admin_services(services: Services) -> Services:
    services.settings = services.settings.model_copy(
        update={"admin_networks": [ipaddress.ip_network("10.0.0.0/8")]}
    )
    return services


@pytest.fixture
def principal(admin_services: Services) -> NewStaff:
    """Hélène Martin (h.martin), direction of the default school, a personal password."""
    return factories.staff_member(admin_services)


def _operator(services: Services) -> Operator:
    return factories.operator(services)


def _add(services: Services, first: str, last: str, role: StaffRole) -> IssuedCredentials:
    return staff_accounts.add_staff(
        services, _operator(services), NewStaffRequest(first_name=first, last_name=last, role=role)
    )


def _row(services: Services, staff_id: int) -> Staff:
    with services.sessions() as session:
        return session.get_one(Staff, staff_id)


def _events(services: Services, action: str | None = None) -> list[AuditEvent]:
    with services.sessions() as session:
        query = select(AuditEvent).order_by(AuditEvent.id)
        if action is not None:
            query = query.where(AuditEvent.action == action)
        return list(session.scalars(query))


def _code(secret: str, clock: FakeClock) -> str:
    return pyotp.TOTP(secret).at(clock.now)


# --------------------------------------------------------------------------- last direction


def test_the_last_direction_account_can_be_neither_disabled_nor_demoted(
    admin_services: Services, principal: NewStaff
) -> None:
    operator = _operator(admin_services)
    with pytest.raises(InvalidInput, match="dernier compte de direction de l'établissement"):
        staff_accounts.disable(admin_services, operator, principal.id)
    with pytest.raises(InvalidInput, match="ajoutez d'abord un autre personnel de direction"):
        staff_accounts.change_role(admin_services, operator, principal.id, StaffRole.AGENT)
    assert _row(admin_services, principal.id).disabled_at is None
    assert _row(admin_services, principal.id).role is StaffRole.DIRECTION
    assert _events(admin_services, "staff_disable") == []

    other = _add(admin_services, "Karim", "Haddad", StaffRole.DIRECTION)
    staff_accounts.disable(admin_services, operator, principal.id)
    # Now the other one is the last: a disabled account does not count.
    with pytest.raises(InvalidInput, match="Karim Haddad est le dernier compte"):
        staff_accounts.change_role(admin_services, operator, other.staff_id, StaffRole.AGENT)
    # An agent attached to the school is no direction either.
    _add(admin_services, "Paul", "Durand", StaffRole.AGENT)
    with pytest.raises(InvalidInput, match="dernier compte"):
        staff_accounts.disable(admin_services, operator, other.staff_id)


def test_the_last_direction_account_of_another_school_is_kept_too(
    admin_services: Services,
) -> None:
    """Attached to two schools; the other school has no other direction: refused here."""
    both = factories.staff_member(admin_services, schools=((DEFAULT_UAI, "Collège"), SECOND))
    factories.staff_member(admin_services, first_name="Karim", last_name="Haddad")
    operator = _operator(admin_services)
    with pytest.raises(InvalidInput, match=r"Lycée Victor Hugo \(0751234J\)"):
        staff_accounts.disable(admin_services, operator, both.id)
    with pytest.raises(InvalidInput, match=r"Lycée Victor Hugo \(0751234J\)"):
        staff_accounts.change_role(admin_services, operator, both.id, StaffRole.AGENT)
    assert _row(admin_services, both.id).disabled_at is None


def test_nobody_disables_demotes_or_resets_themselves(
    admin_services: Services, principal: NewStaff
) -> None:
    _add(admin_services, "Karim", "Haddad", StaffRole.DIRECTION)
    me = factories.signed_in(admin_services, principal.login, DEFAULT_UAI)
    for call, words in (
        (
            lambda: staff_accounts.disable(admin_services, me, principal.id),
            "Vous ne pouvez pas désactiver votre propre compte",
        ),
        (
            lambda: staff_accounts.change_role(admin_services, me, principal.id, StaffRole.AGENT),
            "Vous ne pouvez pas changer votre propre rôle",
        ),
        (
            lambda: staff_accounts.reset_password(admin_services, me, principal.id),
            "Vous ne pouvez pas réinitialiser votre propre mot de passe",
        ),
    ):
        with pytest.raises(InvalidInput, match=words):
            call()


# --------------------------------------------------------------------------- disabled


def _agent_with_delegation(services: Services) -> tuple[int, str]:
    factories.family(services)
    agent = factories.staff_member(
        services, first_name="Paul", last_name="Durand", role=StaffRole.AGENT, title="CPE"
    )
    delegations.grant(
        services,
        _operator(services),
        delegations.GrantRequest(agent_login=agent.login, module=Module.DEPANNAGE),
    )
    return agent.id, agent.login


def test_a_disabled_persons_open_session_is_refused_at_its_next_call(
    admin_services: Services, principal: NewStaff
) -> None:
    agent_id, login = _agent_with_delegation(admin_services)
    session = factories.signed_in(admin_services, login, DEFAULT_UAI, module=Module.DEPANNAGE)
    assert helpdesk_search.search(admin_services, session, "dupont").total == 1

    boss = factories.signed_in(admin_services, principal.login, DEFAULT_UAI)
    staff_accounts.disable(admin_services, boss, agent_id)

    with pytest.raises(SessionEnded) as refused:
        helpdesk_search.search(admin_services, session, "dupont")
    assert str(refused.value) == sessions.ended_message("disabled")
    # Their delegation is revoked, audited as any revocation, after the disabling itself.
    with admin_services.sessions() as db:
        (delegation,) = db.scalars(select(Delegation)).all()
        assert delegation.revoked_at is not None
        assert delegation.revoked_by_id == principal.id
    actions = [e.action for e in _events(admin_services)]
    assert actions[-2:] == ["staff_disable", "delegation_revoke"]

    (record,) = _events(admin_services, "staff_disable")
    assert record.details == {"login": login, "revoked": 1}
    assert record.actor_id == principal.id

    views = {v.login: v for v in staff_accounts.list_staff(admin_services, boss)}
    assert views[login].state is StaffState.DISABLED
    assert views[login].delegations == ()
    assert views[principal.login].is_self and not views[login].is_self

    # Enabled again: access comes back, not the delegation (a new grant is needed).
    # The session ended by the disabling stays ended; a new one has no delegation.
    staff_accounts.enable(admin_services, boss, agent_id)
    with pytest.raises(SessionEnded):
        helpdesk_search.search(admin_services, session, "dupont")
    again = factories.signed_in(admin_services, login, DEFAULT_UAI, module=Module.DEPANNAGE)
    with pytest.raises(PermissionDenied, match="aucune délégation active"):
        helpdesk_search.search(admin_services, again, "dupont")
    assert [e.action for e in _events(admin_services)][-1] == "staff_enable"
    with pytest.raises(InvalidInput, match="n'est pas désactivé"):
        staff_accounts.enable(admin_services, boss, agent_id)


def test_a_disabled_direction_member_loses_the_staff_screen_at_once(
    admin_services: Services, principal: NewStaff
) -> None:
    other = _add(admin_services, "Karim", "Haddad", StaffRole.DIRECTION)
    first = factories.signed_in(admin_services, other.login, DEFAULT_UAI)
    staff_accounts.change_own_password(admin_services, first, NEW_PASSWORD)
    theirs = factories.signed_in(admin_services, other.login, DEFAULT_UAI)
    assert staff_accounts.list_staff(admin_services, theirs)
    staff_accounts.disable(admin_services, _operator(admin_services), other.staff_id)
    with pytest.raises(PermissionDenied, match="désactivé"):
        staff_accounts.list_staff(admin_services, theirs)
    with pytest.raises(PermissionDenied, match="désactivé"):
        require(admin_services, theirs, Action.VIEW_ACCOUNTS)


def test_a_disabled_account_is_told_so_only_after_the_right_password(
    admin_services: Services, principal: NewStaff, clock: FakeClock
) -> None:
    agent_id, login = _agent_with_delegation(admin_services)
    staff_accounts.disable(admin_services, _operator(admin_services), agent_id)
    with pytest.raises(AuthenticationFailed) as wrong:
        sign_in(admin_services, login, "pas-le-bon", None, INSIDE, module=Module.DEPANNAGE)
    assert str(wrong.value) == GENERIC_FAILURE
    with pytest.raises(PermissionDenied) as right:
        sign_in(admin_services, login, STAFF_PASSWORD, None, INSIDE, module=Module.DEPANNAGE)
    assert str(right.value) == (
        "Ce compte a été désactivé le 01/09/2026\u00a0: contactez votre chef d'établissement."
    )
    refused = _events(admin_services, "sign_in_refused")[-1]
    assert refused.details["reason"] == "disabled"
    assert _events(admin_services, "sign_in_failed")[-1].details["reason"] == "bad_password"


# --------------------------------------------------------------------------- temporary


def test_a_temporary_password_must_be_changed_before_anything_else(
    admin_services: Services, principal: NewStaff, clock: FakeClock
) -> None:
    issued = _add(admin_services, "Karim", "Haddad", StaffRole.DIRECTION)
    assert issued.password and issued.totp_secret and issued.provisioning_uri
    assert issued.password_until == clock.now + dt.timedelta(days=7)
    views = {
        v.login: v for v in staff_accounts.list_staff(admin_services, _operator(admin_services))
    }
    assert views[issued.login].state is StaffState.TEMPORARY
    assert views[issued.login].password_temporary_until == issued.password_until
    assert not views[issued.login].otp_enrolled

    signed = sign_in(
        admin_services, issued.login, issued.password, _code(issued.totp_secret, clock), OUTSIDE
    )
    assert isinstance(signed, SchoolSession)
    assert signed.password_change_required
    for call in (
        lambda: require(admin_services, signed, Action.VIEW_ACCOUNTS),
        lambda: staff_accounts.list_staff(admin_services, signed),
        lambda: helpdesk_search.search(admin_services, signed, "dupont"),
    ):
        with pytest.raises(PermissionDenied) as refused:
            call()
        assert str(refused.value) == CHOOSE_PASSWORD_FIRST

    # The staff policy: 12 characters, classes of characters, not the login, not the current.
    for bad, words in (
        ("Court-2026", "au moins 12 caractères"),
        ("tout-en-minuscules-2026", "une majuscule"),
        (f"X{issued.login}-2026", "identifiant"),
        (issued.password, None),
    ):
        with pytest.raises(InvalidInput) as rule:
            staff_accounts.change_own_password(admin_services, signed, bad)
        if words:
            assert words in str(rule.value)
    staff_accounts.change_own_password(admin_services, signed, NEW_PASSWORD)
    assert _row(admin_services, issued.staff_id).password_temporary_until is None
    assert require(admin_services, signed, Action.VIEW_ACCOUNTS).direction
    (changed,) = _events(admin_services, "staff_password_changed")
    assert changed.details == {"login": issued.login, "was_temporary": True}
    assert changed.actor_id == issued.staff_id

    with pytest.raises(AuthenticationFailed):
        sign_in(admin_services, issued.login, issued.password, None, INSIDE)
    again = sign_in(admin_services, issued.login, NEW_PASSWORD, None, INSIDE)
    assert not again.password_change_required


def test_an_expired_temporary_password_is_refused_at_sign_in(
    admin_services: Services, principal: NewStaff, clock: FakeClock
) -> None:
    issued = _add(admin_services, "Karim", "Haddad", StaffRole.DIRECTION)
    assert issued.password is not None
    clock.advance(days=7, minutes=-1)
    assert sign_in(admin_services, issued.login, issued.password, None, INSIDE)
    clock.advance(minutes=1)
    with pytest.raises(PermissionDenied) as expired:
        sign_in(admin_services, issued.login, issued.password, None, INSIDE)
    assert str(expired.value) == (
        "Votre mot de passe provisoire a expiré le 08/09/2026 à 10:00\u00a0: demandez-en un "
        "nouveau à votre chef d'établissement."
    )
    assert _events(admin_services, "sign_in_refused")[-1].details["reason"] == (
        "temporary_password_expired"
    )
    with pytest.raises(AuthenticationFailed):
        sign_in(admin_services, issued.login, "Pas-Le-Bon-2026", None, INSIDE)
    views = {
        v.login: v for v in staff_accounts.list_staff(admin_services, _operator(admin_services))
    }
    assert views[issued.login].state is StaffState.TEMPORARY_EXPIRED

    # A reset gives a new one, valid again for the setting's days.
    renewed = staff_accounts.reset_password(
        admin_services, _operator(admin_services), issued.staff_id
    )
    assert renewed.password is not None
    assert renewed.password_until == clock.now + dt.timedelta(days=7)
    assert sign_in(admin_services, issued.login, renewed.password, None, INSIDE)


# --------------------------------------------------------------------------- resets


def test_reset_otp_stops_the_old_key_at_once(
    admin_services: Services, principal: NewStaff, clock: FakeClock
) -> None:
    old_code = _code(principal.totp_secret, clock)
    issued = staff_accounts.reset_otp(admin_services, _operator(admin_services), principal.id)
    assert issued.password is None and issued.totp_secret != principal.totp_secret
    assert issued.provisioning_uri == (
        f"otpauth://totp/EduConnect%20TUI:{principal.login}?secret={issued.totp_secret}"
    )
    with pytest.raises(AuthenticationFailed):
        sign_in(admin_services, principal.login, STAFF_PASSWORD, old_code, OUTSIDE)
    assert _events(admin_services, "sign_in_failed")[-1].details["reason"] == "bad_code"
    assert issued.totp_secret is not None
    signed = sign_in(
        admin_services, principal.login, STAFF_PASSWORD, _code(issued.totp_secret, clock), OUTSIDE
    )
    assert not signed.password_change_required
    views = {
        v.login: v for v in staff_accounts.list_staff(admin_services, _operator(admin_services))
    }
    assert views[principal.login].otp_enrolled


def test_reset_password_stops_the_old_one_and_unblocks(
    admin_services: Services, principal: NewStaff
) -> None:
    sign_in(admin_services, principal.login, STAFF_PASSWORD, None, INSIDE)  # a usual address
    for _ in range(MAX_FAILED_ATTEMPTS - 1):
        with pytest.raises(AuthenticationFailed):
            sign_in(admin_services, principal.login, "faux", None, INSIDE)
    with pytest.raises(AccountBlocked):
        sign_in(admin_services, principal.login, "faux", None, INSIDE)
    other = _add(admin_services, "Karim", "Haddad", StaffRole.DIRECTION)
    issued = staff_accounts.reset_password(admin_services, _operator(admin_services), principal.id)
    assert issued.password is not None and issued.totp_secret is None
    with pytest.raises(AuthenticationFailed):
        sign_in(admin_services, principal.login, STAFF_PASSWORD, None, INSIDE)
    signed = sign_in(admin_services, principal.login, issued.password, None, INSIDE)
    assert signed.password_change_required
    assert other.staff_id != principal.id


def test_unlock_lifts_the_account_block_and_the_pairs(
    admin_services: Services, principal: NewStaff
) -> None:
    sign_in(admin_services, principal.login, STAFF_PASSWORD, None, INSIDE)  # a usual address
    for connection in (INSIDE, ELSEWHERE):
        for _ in range(MAX_FAILED_ATTEMPTS - 1):
            with pytest.raises(AuthenticationFailed):
                sign_in(admin_services, principal.login, "faux", None, connection)
        with pytest.raises(AccountBlocked):
            sign_in(admin_services, principal.login, "faux", None, connection)
    operator = _operator(admin_services)
    views = {v.login: v for v in staff_accounts.list_staff(admin_services, operator)}
    assert views[principal.login].state is StaffState.BLOCKED
    assert views[principal.login].blocked_until is not None

    staff_accounts.unlock(admin_services, operator, principal.id)
    assert factories.pair_failures(admin_services, "staff", principal.login, "10.9.9.9") is None
    for connection in (INSIDE, ELSEWHERE):
        assert sign_in(admin_services, principal.login, STAFF_PASSWORD, None, connection)
    (record,) = _events(admin_services, "staff_unlock")
    assert record.details["login"] == principal.login and record.details["blocked_until"]


# --------------------------------------------------------------------------- scope


def test_staff_of_another_school_and_agents_are_out_of_reach(
    admin_services: Services, principal: NewStaff
) -> None:
    elsewhere = factories.staff_member(
        admin_services, schools=(SECOND,), first_name="Léa", last_name="Roux"
    )
    operator = _operator(admin_services)
    for call in (
        lambda: staff_accounts.reset_password(admin_services, operator, elsewhere.id),
        lambda: staff_accounts.reset_otp(admin_services, operator, elsewhere.id),
        lambda: staff_accounts.unlock(admin_services, operator, elsewhere.id),
        lambda: staff_accounts.disable(admin_services, operator, elsewhere.id),
    ):
        with pytest.raises(NotFound):
            call()
    with pytest.raises(NotFound):
        staff_accounts.staff_id_of(admin_services, operator, elsewhere.login)
    assert staff_accounts.staff_id_of(admin_services, operator, " H.Martin ") == principal.id

    agent_id, login = _agent_with_delegation(admin_services)
    agent = factories.signed_in(admin_services, login, DEFAULT_UAI, module=Module.DEPANNAGE)
    with pytest.raises(PermissionDenied, match="gérer les personnels"):
        staff_accounts.list_staff(admin_services, agent)
    with pytest.raises(PermissionDenied, match="gérer les personnels"):
        staff_accounts.reset_password(admin_services, agent, principal.id)
    assert agent_id


def test_list_staff_searches_names_without_accents_and_says_the_delegations(
    admin_services: Services, principal: NewStaff
) -> None:
    _agent_with_delegation(admin_services)
    operator = _operator(admin_services)
    everyone = staff_accounts.list_staff(admin_services, operator)
    assert [v.login for v in everyone] == ["p.durand", "h.martin"]
    found = staff_accounts.list_staff(admin_services, operator, "helene")
    assert [v.login for v in found] == ["h.martin"]
    assert staff_accounts.list_staff(admin_services, operator, "h.mar")[0].login == "h.martin"
    assert staff_accounts.list_staff(admin_services, operator, "zorro") == []
    (agent,) = staff_accounts.list_staff(admin_services, operator, "Durand")
    assert agent.delegations == ("dépannage (toutes les classes) jusqu'au 31/08/2027",)
    assert agent.role_label == "Agent" and agent.title == "CPE"
    assert agent.schools == (DEFAULT_UAI,)
    assert agent.state is StaffState.ACTIVE and not agent.is_self


def test_add_staff_to_a_second_school_needs_to_be_attached_there(
    admin_services: Services, principal: NewStaff
) -> None:
    factories.staff_member(admin_services, schools=(SECOND,), first_name="Léa", last_name="Roux")
    me = factories.signed_in(admin_services, principal.login, DEFAULT_UAI)
    request = NewStaffRequest(
        first_name="Paul", last_name="Durand", role=StaffRole.AGENT, also_at=(SECOND[0],)
    )
    with pytest.raises(PermissionDenied, match="0751234J"):
        staff_accounts.add_staff(admin_services, me, request)
    issued = staff_accounts.add_staff(admin_services, _operator(admin_services), request)
    (record,) = [e for e in _events(admin_services, "staff_add")]
    assert record.details == {
        "login": issued.login,
        "role": "agent",
        "uai": [DEFAULT_UAI, SECOND[0]],
    }


# --------------------------------------------------------------------------- audit


def test_nothing_secret_reaches_the_audit_trail(
    admin_services: Services, principal: NewStaff, clock: FakeClock
) -> None:
    operator = _operator(admin_services)
    added = _add(admin_services, "Karim", "Haddad", StaffRole.DIRECTION)
    reset = staff_accounts.reset_password(admin_services, operator, added.staff_id)
    otp = staff_accounts.reset_otp(admin_services, operator, added.staff_id)
    assert reset.password is not None and otp.totp_secret is not None
    signed = sign_in(admin_services, added.login, reset.password, None, INSIDE)
    staff_accounts.change_own_password(admin_services, signed, NEW_PASSWORD)
    staff_accounts.unlock(admin_services, operator, added.staff_id)
    staff_accounts.change_role(admin_services, operator, added.staff_id, StaffRole.AGENT)
    staff_accounts.disable(admin_services, operator, added.staff_id)
    staff_accounts.enable(admin_services, operator, added.staff_id)
    with admin_services.sessions() as session:
        sealed = session.get_one(Staff, added.staff_id).totp_secret
    secrets = [
        added.password,
        added.totp_secret,
        added.provisioning_uri,
        reset.password,
        otp.totp_secret,
        otp.provisioning_uri,
        NEW_PASSWORD,
        sealed,
    ]
    for shown in (added, reset, otp):
        assert all(secret not in repr(shown) for secret in secrets if secret)
    trail = _events(admin_services)
    assert {e.action for e in trail} >= {
        "staff_add",
        "staff_password_reset",
        "staff_otp_reset",
        "staff_password_changed",
        "staff_unlock",
        "staff_role_changed",
        "staff_disable",
        "staff_enable",
    }
    for event in trail:
        text = json.dumps(event.details, ensure_ascii=False) + event.actor_label
        for secret in secrets:
            assert secret and secret not in text, (event.action, text)
            assert secret[:12] not in text, (event.action, text)


# --------------------------------------------------------------------------- at once


def test_two_principals_disabling_each_other_at_once_leave_one(
    admin_services: Services, principal: NewStaff, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worst interleaving: each waits, after its own check, for the other's (at most a
    second). Serialised, the second one checks after the first committed: refused."""
    other = factories.staff_member(admin_services, first_name="Karim", last_name="Haddad")
    mine = factories.signed_in(admin_services, principal.login, DEFAULT_UAI)
    theirs = factories.signed_in(admin_services, other.login, DEFAULT_UAI)
    barrier = threading.Barrier(2, timeout=1)
    check = staff_accounts._keeps_direction

    def checked_then_wait(session: object, member: Staff) -> None:
        check(session, member)  # type: ignore[arg-type]
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait()

    monkeypatch.setattr(staff_accounts, "_keeps_direction", checked_then_wait)
    outcomes: list[str] = []

    def run(caller: SchoolSession, target: int) -> None:
        try:
            staff_accounts.disable(admin_services, caller, target)
            outcomes.append("disabled")
        except InvalidInput as error:
            outcomes.append(str(error))

    threads = [
        threading.Thread(target=run, args=(mine, other.id)),
        threading.Thread(target=run, args=(theirs, principal.id)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(outcomes) == 2 and outcomes.count("disabled") == 1, outcomes
    (refused,) = [o for o in outcomes if o != "disabled"]
    assert "dernier compte de direction" in refused
    with admin_services.sessions() as session:
        enabled = session.scalars(
            select(Staff).where(Staff.role == StaffRole.DIRECTION, Staff.disabled_at.is_(None))
        ).all()
    assert len(enabled) == 1


def test_a_disabled_account_whose_session_row_stayed_open_holds_nothing(
    admin_services: Services, principal: NewStaff
) -> None:
    """Disabled by hand in the database, its sessions left open: still refused."""
    agent_id, login = _agent_with_delegation(admin_services)
    session = factories.signed_in(admin_services, login, DEFAULT_UAI, module=Module.DEPANNAGE)
    with admin_services.sessions() as db, db.begin():
        member = db.get(Staff, agent_id)
        assert member is not None
        member.disabled_at = admin_services.clock()
    with pytest.raises(SessionEnded) as refused:
        helpdesk_search.search(admin_services, session, "dupont")
    assert str(refused.value) == DISABLED_SESSION


def test_every_change_to_someones_access_asks_the_password_again_after_the_window(
    admin_services: Services, principal: NewStaff, clock: FakeClock
) -> None:
    """Listing does not; adding, resets, unlocking, disabling, enabling, roles do."""
    agent_id, _ = _agent_with_delegation(admin_services)
    boss = factories.signed_in(admin_services, principal.login, DEFAULT_UAI)
    clock.advance(minutes=admin_services.settings.reauth_minutes, seconds=1)
    assert staff_accounts.list_staff(admin_services, boss)
    changes = [
        lambda: staff_accounts.add_staff(
            admin_services,
            boss,
            NewStaffRequest(first_name="Inès", last_name="Roux", role=StaffRole.AGENT),
        ),
        lambda: staff_accounts.reset_password(admin_services, boss, agent_id),
        lambda: staff_accounts.reset_otp(admin_services, boss, agent_id),
        lambda: staff_accounts.unlock(admin_services, boss, agent_id),
        lambda: staff_accounts.disable(admin_services, boss, agent_id),
        lambda: staff_accounts.enable(admin_services, boss, agent_id),
        lambda: staff_accounts.change_role(admin_services, boss, agent_id, StaffRole.DIRECTION),
    ]
    before = len(_events(admin_services))
    for change in changes:
        with pytest.raises(ConfirmationRequired):
            change()
    assert len(_events(admin_services)) == before  # nothing done, nothing recorded
    sessions.confirm_password(admin_services, boss, STAFF_PASSWORD, purpose="sensitive")
    staff_accounts.disable(admin_services, boss, agent_id)


def test_a_password_reset_ends_the_persons_open_sessions(
    admin_services: Services, principal: NewStaff
) -> None:
    agent_id, login = _agent_with_delegation(admin_services)
    session = factories.signed_in(admin_services, login, DEFAULT_UAI, module=Module.DEPANNAGE)
    boss = factories.signed_in(admin_services, principal.login, DEFAULT_UAI)
    staff_accounts.reset_password(admin_services, boss, agent_id)
    with pytest.raises(SessionEnded) as refused:
        helpdesk_search.search(admin_services, session, "dupont")
    assert str(refused.value) == sessions.ended_message("password_reset")
    # The head's own session is not touched.
    assert staff_accounts.list_staff(admin_services, boss)


@pytest.mark.parametrize(
    "typed",
    ["assistant d'éducation", "k haddad", "k.haddad!", "-k.haddad", "é.martin", "a" * 33, "k..h/x"],
)
def test_a_login_typed_by_hand_follows_the_login_rule(
    admin_services: Services, principal: NewStaff, typed: str
) -> None:
    """Spaces, accents, apostrophes: nobody could type it at the sign-in of every module."""
    with pytest.raises(InvalidInput, match=r"L'identifiant « .* » est refusé"):
        staff_accounts.add_staff(
            admin_services,
            _operator(admin_services),
            NewStaffRequest(
                first_name="Karim", last_name="Haddad", role=StaffRole.AGENT, login=typed
            ),
        )
    with admin_services.sessions() as db:
        assert db.scalar(select(Staff).where(Staff.last_name == "Haddad")) is None


def test_a_login_typed_in_capitals_is_the_same_login(
    admin_services: Services, principal: NewStaff
) -> None:
    """Sign-in ignores case: « H.Martin » beside « h.martin » would be two people one login."""
    request = NewStaffRequest(
        first_name="Hugo", last_name="Martin", role=StaffRole.AGENT, login=" H.Martin "
    )
    with pytest.raises(InvalidInput, match="déjà utilisé"):
        staff_accounts.add_staff(admin_services, _operator(admin_services), request)
    made = staff_accounts.add_staff(
        admin_services,
        _operator(admin_services),
        NewStaffRequest(
            first_name="Karim", last_name="Haddad", role=StaffRole.AGENT, login="K.Haddad-2"
        ),
    )
    assert made.login == "k.haddad-2"
