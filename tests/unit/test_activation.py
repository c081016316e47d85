"""Activation and sign-in by pupils and guardians, on both backends."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy import select

from educonnect_tui.domain.access import passwords
from educonnect_tui.domain.access.network import LOCAL_CONSOLE
from educonnect_tui.domain.accounts.activation import (
    TEMP_PASSWORD_EXPIRED,
    activate_pupil,
    confirm_guardian_email,
    sign_in,
    start_guardian_activation,
)
from educonnect_tui.domain.accounts.outbox_codes import latest_code
from educonnect_tui.domain.accounts.owner_attempts import CODE_EXPIRED, GENERIC_FAILURE
from educonnect_tui.domain.accounts.self_registration import (
    activate_guardian_franceconnect,
    complete_self_registration,
    start_self_registration,
)
from educonnect_tui.domain.model.enums import AccountState, ActivationMethod, Channel, PupilStatus
from educonnect_tui.domain.model.errors import (
    AccountBlocked,
    AuthenticationFailed,
    IllegalTransition,
    InvalidInput,
)
from educonnect_tui.domain.model.states import Event, transition
from educonnect_tui.domain.model.tables import Account, AuditEvent, OutboxMessage, Pupil
from educonnect_tui.domain.store.services import Services
from tests import factories
from tests.conftest import FakeClock

TEMP = "abcd2345xy"
NEW = "Soleil2026!"
BORN = dt.date(2012, 5, 14)
MOBILE = "06 12 34 56 78"


def notified_pupil(services: Services) -> factories.Family:
    family = factories.family(services)
    factories.simulate_notification(services, family.pupil_ids[0], TEMP)
    return family


def notified_guardian(services: Services) -> factories.Family:
    family = factories.family(services)
    factories.simulate_notification(services, family.guardian_id, TEMP)
    return family


def generic(call: Callable[[], object]) -> None:
    """Assert the call fails with exactly the one generic message."""
    with pytest.raises(AuthenticationFailed) as raised:
        call()
    assert str(raised.value) == GENERIC_FAILURE


def deactivate(services: Services, account_id: int) -> None:
    with services.sessions() as session, session.begin():
        account = session.get_one(Account, account_id)
        account.state = transition(account.kind, account.state, Event.DEACTIVATE)


# --------------------------------------------------------------------------- pupils


def test_pupil_activates_with_temporary_credentials_and_birth_date(
    services: Services, clock: FakeClock
) -> None:
    family = notified_pupil(services)
    login = family.pupil_logins[0]
    activate_pupil(services, login.upper() + " ", TEMP, BORN, NEW)

    account = factories.account(services, family.pupil_ids[0])
    assert account.state is AccountState.ACTIVATED
    assert account.activation_method is ActivationMethod.TEMPORARY_CREDENTIALS
    assert account.activated_at == clock.now
    assert account.temp_password_hash is None
    assert passwords.verify_password(account.password_hash, NEW)
    sign_in(services, login, NEW)
    generic(lambda: sign_in(services, login, TEMP))


def test_pupil_wrong_inputs_all_get_the_same_message(services: Services) -> None:
    family = notified_pupil(services)
    login = family.pupil_logins[0]
    generic(lambda: activate_pupil(services, "x.inconnu", TEMP, BORN, NEW))
    generic(lambda: activate_pupil(services, login, "wrongpass22", BORN, NEW))
    generic(lambda: activate_pupil(services, login, TEMP, dt.date(2012, 5, 15), NEW))
    # Wrong password and wrong birth date count, on the (login, address) pair: the pupil
    # never signed in from here. An unknown login counts on its own pair just the same.
    assert factories.pair_failures(services, "owner", login, LOCAL_CONSOLE) == 2
    assert factories.pair_failures(services, "owner", "x.inconnu", LOCAL_CONSOLE) == 1
    assert factories.account(services, family.pupil_ids[0]).failed_attempts == 0
    assert factories.account(services, family.pupil_ids[0]).state is AccountState.NOTIFIED


def test_pupil_not_yet_notified_cannot_activate(services: Services) -> None:
    family = factories.family(services)
    generic(lambda: activate_pupil(services, family.pupil_logins[0], TEMP, BORN, NEW))


def test_failed_attempt_is_committed_despite_the_error(services: Services) -> None:
    family = notified_pupil(services)
    generic(lambda: activate_pupil(services, family.pupil_logins[0], "nope", BORN, NEW))
    # A new session on a new connection sees it: it was committed, not just flushed.
    services.engine.dispose()
    assert factories.pair_failures(services, "owner", family.pupil_logins[0], LOCAL_CONSOLE) == 1


def test_new_password_must_meet_the_policy_and_costs_no_attempt(services: Services) -> None:
    family = notified_pupil(services)
    login = family.pupil_logins[0]
    for weak in ("court1A", "toutminuscule1", "SansChiffre", f"X9{login}Abc"):
        with pytest.raises(InvalidInput) as raised:
            activate_pupil(services, login, TEMP, BORN, weak)
        assert str(raised.value) == passwords.PASSWORD_POLICY
    account = factories.account(services, family.pupil_ids[0])
    assert account.state is AccountState.NOTIFIED
    assert account.failed_attempts == 0
    assert account.temp_password_hash is not None


def test_a_wrong_password_with_a_weak_new_one_still_counts(services: Services) -> None:
    family = notified_pupil(services)
    generic(lambda: activate_pupil(services, family.pupil_logins[0], "nope", BORN, "weak"))
    assert factories.pair_failures(services, "owner", family.pupil_logins[0], LOCAL_CONSOLE) == 1


def test_success_resets_the_failure_counter(services: Services) -> None:
    family = notified_pupil(services)
    login = family.pupil_logins[0]
    for _ in range(4):
        generic(lambda: activate_pupil(services, login, "nope", BORN, NEW))
    activate_pupil(services, login, TEMP, BORN, NEW)
    account = factories.account(services, family.pupil_ids[0])
    assert (account.failed_attempts, account.block_count, account.blocked_until) == (0, 0, None)


# --------------------------------------------------------------------------- blocking


def fail_five_times(services: Services, login: str) -> AccountBlocked:
    for _ in range(4):
        generic(lambda: sign_in(services, login, "wrong"))
    with pytest.raises(AccountBlocked) as raised:
        sign_in(services, login, "wrong")
    return raised.value


def activated_pupil(services: Services) -> factories.Family:
    family = notified_pupil(services)
    activate_pupil(services, family.pupil_logins[0], TEMP, BORN, NEW)
    return family


def test_blocked_after_five_failures_for_15_then_30_minutes(
    services: Services, clock: FakeClock
) -> None:
    family = activated_pupil(services)
    login = family.pupil_logins[0]

    blocked = fail_five_times(services, login)
    # 08:00 UTC on 1 September is 10:00 in Paris (summer time): blocked until 10:15.
    assert "bloqué" in str(blocked)
    assert "01/09/2026 à 10:15" in str(blocked)
    assert factories.account(
        services, family.pupil_ids[0]
    ).blocked_until == clock.now + dt.timedelta(minutes=15)

    # Even the right password is refused while blocked, and that costs nothing more.
    clock.advance(minutes=14, seconds=59)
    with pytest.raises(AccountBlocked):
        sign_in(services, login, NEW)
    assert factories.account(services, family.pupil_ids[0]).failed_attempts == 0

    clock.advance(seconds=1)
    sign_in(services, login, NEW)  # the block has expired

    # Success reset the doubling; fail again twice over to see the second block's length.
    fail_five_times(services, login)
    clock.advance(minutes=15)
    blocked = fail_five_times(services, login)
    account = factories.account(services, family.pupil_ids[0])
    assert account.blocked_until == clock.now + dt.timedelta(minutes=30)
    assert account.block_count == 2
    clock.advance(minutes=29)
    with pytest.raises(AccountBlocked):
        sign_in(services, login, NEW)
    clock.advance(minutes=1)
    sign_in(services, login, NEW)


def test_block_never_exceeds_24_hours(services: Services, clock: FakeClock) -> None:
    family = activated_pupil(services)
    with services.sessions() as session, session.begin():
        session.get_one(Account, family.pupil_ids[0]).block_count = 12
    fail_five_times(services, family.pupil_logins[0])
    account = factories.account(services, family.pupil_ids[0])
    assert account.blocked_until == clock.now + dt.timedelta(hours=24)


def test_blocking_applies_to_activation_too(services: Services) -> None:
    family = notified_pupil(services)
    login = family.pupil_logins[0]
    for _ in range(4):
        generic(lambda: activate_pupil(services, login, TEMP, dt.date(2000, 1, 1), NEW))
    with pytest.raises(AccountBlocked):
        activate_pupil(services, login, "nope", BORN, NEW)
    with pytest.raises(AccountBlocked):
        activate_pupil(services, login, TEMP, BORN, NEW)


# --------------------------------------------------------------------------- expiry


def test_pupil_temporary_password_valid_90_days(services: Services, clock: FakeClock) -> None:
    assert services.settings.pupil_temp_validity_days == 90
    family = notified_pupil(services)
    login = family.pupil_logins[0]
    expires = factories.account(services, family.pupil_ids[0]).temp_expires_at
    assert expires == clock.now + dt.timedelta(days=90)

    clock.advance(days=90)
    # Saying "expired" is only for whoever proved they hold the password.
    generic(lambda: activate_pupil(services, login, "nope", BORN, NEW))
    generic(lambda: activate_pupil(services, login, TEMP, dt.date(2011, 1, 1), NEW))
    with pytest.raises(AuthenticationFailed) as raised:
        activate_pupil(services, login, TEMP, BORN, NEW)
    assert str(raised.value) == TEMP_PASSWORD_EXPIRED
    assert "établissement" in str(raised.value)


def test_pupil_temporary_password_still_valid_on_day_89(
    services: Services, clock: FakeClock
) -> None:
    family = notified_pupil(services)
    clock.advance(days=89, hours=23)
    activate_pupil(services, family.pupil_logins[0], TEMP, BORN, NEW)


def test_guardian_temporary_password_valid_3_months(services: Services, clock: FakeClock) -> None:
    family = notified_guardian(services)
    login = family.guardian_login
    expires = factories.account(services, family.guardian_id).temp_expires_at
    assert expires == dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)

    clock.now = dt.datetime(2026, 12, 1, 7, 59, tzinfo=dt.UTC)
    start_guardian_activation(services, login, TEMP, "marie@example.fr", NEW)
    clock.now = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)
    with pytest.raises(AuthenticationFailed) as raised:
        start_guardian_activation(services, login, TEMP, "marie@example.fr", NEW)
    assert str(raised.value) == TEMP_PASSWORD_EXPIRED


def test_renotification_invalidates_the_previous_password(services: Services) -> None:
    family = notified_pupil(services)
    factories.simulate_notification(services, family.pupil_ids[0], "nouveau234")
    generic(lambda: activate_pupil(services, family.pupil_logins[0], TEMP, BORN, NEW))
    activate_pupil(services, family.pupil_logins[0], "nouveau234", BORN, NEW)


# --------------------------------------------------------------------------- deactivated


def test_deactivated_accounts_can_neither_activate_nor_sign_in(services: Services) -> None:
    family = notified_pupil(services)
    login = family.pupil_logins[0]
    deactivate(services, family.pupil_ids[0])
    generic(lambda: activate_pupil(services, login, TEMP, BORN, NEW))

    other = factories.family(services, children=(("Paul", dt.date(2011, 2, 3)),))
    factories.simulate_notification(services, other.pupil_ids[0], TEMP)
    activate_pupil(services, other.pupil_logins[0], TEMP, dt.date(2011, 2, 3), NEW)
    deactivate(services, other.pupil_ids[0])
    generic(lambda: sign_in(services, other.pupil_logins[0], NEW))

    deactivate(services, family.guardian_id)
    generic(
        lambda: activate_guardian_franceconnect(services, family.guardian_login, "Dupont", "Marie")
    )
    assert factories.account(services, family.guardian_id).failed_attempts == 0


# ------------------------------------------------ guardians: temporary credentials


def test_guardian_activates_with_email_confirmed_by_code(
    services: Services, clock: FakeClock
) -> None:
    family = notified_guardian(services)
    login = family.guardian_login
    start_guardian_activation(services, login, TEMP, " marie.dupont@Example.FR ", NEW)

    pending = factories.account(services, family.guardian_id)
    assert pending.state is AccountState.NOTIFIED
    assert pending.pending_email == "marie.dupont@example.fr"
    assert pending.email_code_expires_at == clock.now + dt.timedelta(minutes=30)
    generic(lambda: sign_in(services, login, NEW))  # not activated yet

    with services.sessions() as session:
        message = session.scalars(select(OutboxMessage)).one()
    assert message.channel is Channel.EMAIL
    assert message.recipient == "marie.dupont@example.fr"
    assert "code de confirmation" in message.subject
    assert "Pour terminer l'activation de votre compte EduConnect" in message.body
    assert "valable jusqu'au 01/09/2026 à 10:30" in message.body
    code = latest_code(services, "marie.dupont@example.fr")
    assert code is not None and len(code) == 6 and code.isdigit()
    assert code in message.body
    assert pending.email_code_hash is not None and code not in pending.email_code_hash

    clock.advance(minutes=5)
    confirm_guardian_email(services, login, code)
    account = factories.account(services, family.guardian_id)
    assert account.state is AccountState.ACTIVATED
    assert account.activation_method is ActivationMethod.TEMPORARY_CREDENTIALS
    assert account.email == "marie.dupont@example.fr"
    assert account.email_confirmed_at == clock.now
    assert account.pending_email is None and account.email_code_hash is None
    assert account.temp_password_hash is None
    sign_in(services, login, NEW)
    generic(lambda: confirm_guardian_email(services, login, code))  # used up


def test_guardian_wrong_code_counts_and_blocks(services: Services) -> None:
    family = notified_guardian(services)
    login = family.guardian_login
    start_guardian_activation(services, login, TEMP, "m@example.fr", NEW)
    code = latest_code(services, "m@example.fr")
    assert code is not None
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    generic(lambda: confirm_guardian_email(services, login, wrong))
    assert factories.account(services, family.guardian_id).failed_attempts == 1
    for _ in range(3):
        generic(lambda: confirm_guardian_email(services, login, wrong))
    with pytest.raises(AccountBlocked):
        confirm_guardian_email(services, login, wrong)
    with pytest.raises(AccountBlocked):
        confirm_guardian_email(services, login, code)


def test_guardian_code_expires_after_30_minutes(services: Services, clock: FakeClock) -> None:
    family = notified_guardian(services)
    start_guardian_activation(services, family.guardian_login, TEMP, "m@example.fr", NEW)
    code = latest_code(services, "m@example.fr")
    assert code is not None
    clock.advance(minutes=30)
    with pytest.raises(AuthenticationFailed) as raised:
        confirm_guardian_email(services, family.guardian_login, code)
    assert str(raised.value) == CODE_EXPIRED

    # Starting again sends a new code; the newest one is what counts.
    start_guardian_activation(services, family.guardian_login, TEMP, "m@example.fr", NEW)
    fresh = latest_code(services, "m@example.fr")
    assert fresh is not None
    confirm_guardian_email(services, family.guardian_login, fresh)


def test_guardian_code_void_after_renotification(services: Services, clock: FakeClock) -> None:
    family = notified_guardian(services)
    start_guardian_activation(services, family.guardian_login, TEMP, "m@example.fr", NEW)
    code = latest_code(services, "m@example.fr")
    assert code is not None
    clock.advance(minutes=1)
    factories.simulate_notification(services, family.guardian_id, "autre23456")
    generic(lambda: confirm_guardian_email(services, family.guardian_login, code))


def test_guardian_start_failures(services: Services) -> None:
    family = notified_guardian(services)
    login = family.guardian_login
    generic(lambda: start_guardian_activation(services, login, "nope", "m@example.fr", NEW))
    generic(lambda: start_guardian_activation(services, "x.inconnu", TEMP, "m@example.fr", NEW))
    with pytest.raises(InvalidInput, match="Adresse électronique"):
        start_guardian_activation(services, login, TEMP, "pas-une-adresse", NEW)
    with pytest.raises(InvalidInput) as raised:
        start_guardian_activation(services, login, TEMP, "m@example.fr", "faible")
    assert str(raised.value) == passwords.PASSWORD_POLICY
    # A pupil's credentials do not open the guardian's flow, and vice versa.
    factories.simulate_notification(services, family.pupil_ids[0], TEMP)
    generic(
        lambda: start_guardian_activation(
            services, family.pupil_logins[0], TEMP, "m@example.fr", NEW
        )
    )
    generic(lambda: activate_pupil(services, login, TEMP, BORN, NEW))
    with services.sessions() as session:
        assert session.scalars(select(OutboxMessage)).all() == []


# --------------------------------------------------------------------------- FranceConnect


def test_guardian_activates_with_franceconnect_without_notification(
    services: Services, clock: FakeClock
) -> None:
    family = factories.family(services, guardian_first_name="Hélène", guardian_last_name="Le Bœuf")
    activate_guardian_franceconnect(services, family.guardian_login, "LE BOEUF", "helene")
    account = factories.account(services, family.guardian_id)
    assert account.state is AccountState.ACTIVATED
    assert account.activation_method is ActivationMethod.FRANCECONNECT
    assert account.activated_at == clock.now
    # Already activated: the state machine refuses a second activation.
    with pytest.raises(IllegalTransition):
        activate_guardian_franceconnect(services, family.guardian_login, "Le Boeuf", "Hélène")


def test_franceconnect_clears_a_notified_guardians_temporary_password(services: Services) -> None:
    family = notified_guardian(services)
    activate_guardian_franceconnect(services, family.guardian_login, "Dupont", "Marie")
    account = factories.account(services, family.guardian_id)
    assert account.temp_password_hash is None
    generic(lambda: start_guardian_activation(services, family.guardian_login, TEMP, "m@x.fr", NEW))


def test_franceconnect_wrong_identity_counts(services: Services) -> None:
    family = factories.family(services)
    generic(
        lambda: activate_guardian_franceconnect(services, family.guardian_login, "Durand", "Marie")
    )
    assert factories.pair_failures(services, "owner", family.guardian_login, LOCAL_CONSOLE) == 1
    assert factories.account(services, family.guardian_id).state is AccountState.NOT_NOTIFIED


def test_pupils_cannot_use_franceconnect(services: Services) -> None:
    family = notified_pupil(services)
    with pytest.raises(IllegalTransition, match="élève"):
        activate_guardian_franceconnect(services, family.pupil_logins[0], "Dupont", "Jeanne")
    assert factories.account(services, family.pupil_ids[0]).state is AccountState.NOTIFIED


# --------------------------------------------------------------------------- auto-inscription


TWINS = (("Jeanne", dt.date(2012, 5, 14)), ("Louis", dt.date(2014, 11, 2)))


def test_guardian_self_registers_with_mobile_code_and_birth_dates(
    services: Services, clock: FakeClock
) -> None:
    family = factories.family(services, children=TWINS)
    start_self_registration(services, "+33 6 12 34 56 78")

    with services.sessions() as session:
        message = session.scalars(select(OutboxMessage)).one()
    assert message.channel is Channel.SMS
    assert message.recipient == "0612345678"
    assert "votre code d'inscription est" in message.body
    code = latest_code(services, "06.12.34.56.78")
    assert code is not None

    login = complete_self_registration(
        services, MOBILE, code, [dt.date(2014, 11, 2), dt.date(2012, 5, 14)], NEW
    )
    assert login == family.guardian_login
    account = factories.account(services, family.guardian_id)
    assert account.state is AccountState.ACTIVATED
    assert account.activation_method is ActivationMethod.SELF_REGISTRATION
    assert account.email_code_hash is None
    sign_in(services, login, NEW)


def test_self_registration_needs_every_enrolled_childs_birth_date(services: Services) -> None:
    family = factories.family(services, children=TWINS)
    start_self_registration(services, MOBILE)
    code = latest_code(services, MOBILE)
    assert code is not None
    generic(lambda: complete_self_registration(services, MOBILE, code, [BORN], NEW))
    generic(
        lambda: complete_self_registration(
            services, MOBILE, code, [BORN, dt.date(2014, 11, 3)], NEW
        )
    )
    generic(lambda: complete_self_registration(services, MOBILE, code, [], NEW))
    assert factories.account(services, family.guardian_id).failed_attempts == 3

    # A child who left the school is no longer asked for.
    with services.sessions() as session, session.begin():
        louis = session.get_one(Pupil, session.get_one(Account, family.pupil_ids[1]).pupil_id)
        louis.status = PupilStatus.LEFT
    assert complete_self_registration(services, MOBILE, code, [BORN], NEW) == family.guardian_login


def test_self_registration_failures(services: Services, clock: FakeClock) -> None:
    family = factories.family(services)
    generic(lambda: start_self_registration(services, "07 00 00 00 00"))
    with pytest.raises(InvalidInput, match="mobile"):
        start_self_registration(services, "12")
    # No code was sent yet: nothing to verify against.
    generic(lambda: complete_self_registration(services, MOBILE, "123456", [BORN], NEW))

    start_self_registration(services, MOBILE)
    code = latest_code(services, MOBILE)
    assert code is not None
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    generic(lambda: complete_self_registration(services, MOBILE, wrong, [BORN], NEW))
    assert factories.account(services, family.guardian_id).failed_attempts == 1
    with pytest.raises(InvalidInput) as raised:
        complete_self_registration(services, MOBILE, code, [BORN], "faible")
    assert str(raised.value) == passwords.PASSWORD_POLICY

    clock.advance(minutes=31)
    with pytest.raises(AuthenticationFailed) as expired:
        complete_self_registration(services, MOBILE, code, [BORN], NEW)
    assert str(expired.value) == CODE_EXPIRED


def test_self_registration_skips_activated_accounts(services: Services) -> None:
    family = factories.family(services)
    activate_guardian_franceconnect(services, family.guardian_login, "Dupont", "Marie")
    generic(lambda: start_self_registration(services, MOBILE))


def test_shared_mobile_is_told_apart_by_birth_dates(services: Services) -> None:
    first = factories.family(services)
    second = factories.family(
        services,
        children=(("Paul", dt.date(2010, 1, 1)),),
        guardian_first_name="Pierre",
        guardian_last_name="Martin",
        mobile="0612345678",
    )
    start_self_registration(services, MOBILE)
    code = latest_code(services, MOBILE)
    assert code is not None
    login = complete_self_registration(services, MOBILE, code, [dt.date(2010, 1, 1)], NEW)
    assert login == second.guardian_login
    assert factories.account(services, first.guardian_id).state is AccountState.NOT_NOTIFIED


# --------------------------------------------------------------------------- sign-in and helpers


def test_sign_in_failures_are_generic(services: Services) -> None:
    family = activated_pupil(services)
    generic(lambda: sign_in(services, family.pupil_logins[0], "Mauvais123"))
    generic(lambda: sign_in(services, "x.inconnu", NEW))
    generic(lambda: sign_in(services, family.guardian_login, NEW))  # not activated


def test_latest_code_without_message(services: Services) -> None:
    assert latest_code(services, "personne@example.fr") is None
    assert latest_code(services, "pas un numéro") is None


def test_owner_actions_bump_the_version_and_are_not_audited(services: Services) -> None:
    family = notified_pupil(services)
    before = factories.account(services, family.pupil_ids[0]).version
    generic(lambda: activate_pupil(services, family.pupil_logins[0], "nope", BORN, NEW))
    activate_pupil(services, family.pupil_logins[0], TEMP, BORN, NEW)
    # The failure counted on its pair (the pupil had never signed in from here).
    assert factories.account(services, family.pupil_ids[0]).version == before + 1
    with services.sessions() as session:
        assert session.scalars(select(AuditEvent)).all() == []
