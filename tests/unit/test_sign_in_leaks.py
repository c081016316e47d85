"""Sign-in answers that tell nothing: who exists, what was typed, who can lock whom out.

Staff (``access.sign_in``) and owners (``accounts.activation.sign_in``) alike, on both
backends. "Usual address": one the account has already signed in from successfully.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from collections.abc import Callable, Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from educonnect_tui.domain.access import attempts, passwords
from educonnect_tui.domain.access import sign_in as staff_sign_in
from educonnect_tui.domain.access.network import Connection
from educonnect_tui.domain.access.staff import NewStaff
from educonnect_tui.domain.accounts import activation
from educonnect_tui.domain.model.errors import AccountBlocked, DomainError
from educonnect_tui.domain.model.tables import Account, AuditEvent, Staff
from educonnect_tui.domain.store import keys
from educonnect_tui.domain.store.services import Services
from tests import factories
from tests.conftest import FakeClock
from tests.factories import STAFF_PASSWORD

# Both inside the administrative network: no code, so only the password matters here.
OFFICE = Connection(address="10.1.2.3", via_ssh=True)
CLASSROOM = Connection(address="10.9.9.9", via_ssh=True)
UNKNOWN = "x.personne"


@pytest.fixture
def admin_services(services: Services) -> Services:
    services.settings = services.settings.model_copy(
        update={"admin_networks": [ipaddress.ip_network("10.0.0.0/8")]}
    )
    return services


@pytest.fixture
def member(admin_services: Services) -> NewStaff:
    return factories.staff_member(admin_services)


@pytest.fixture
def verify_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every argon2 verification run, by the secret it was given."""
    calls: list[str] = []
    real = passwords.verify_password

    def counting(stored_hash: str | None, password: str) -> bool:
        calls.append(password)
        return real(stored_hash, password)

    monkeypatch.setattr(passwords, "verify_password", counting)
    yield calls


def answer(call: Callable[[], object]) -> tuple[type, str]:
    """What the person sees: the kind of refusal and its exact text."""
    with pytest.raises(DomainError) as raised:
        call()
    return type(raised.value), str(raised.value)


def staff(services: Services, login: str, password: str, where: Connection) -> tuple[type, str]:
    return answer(lambda: staff_sign_in.sign_in(services, login, password, None, where))


def trail(services: Services) -> str:
    """Every stored column of every audit record, as one text."""
    with services.sessions() as session:
        rows = session.scalars(select(AuditEvent)).all()
        return "\n".join(
            repr({c.name: getattr(row, c.key) for c in AuditEvent.__mapper__.columns})
            for row in rows
        )


# --------------------------------------------------------------------------- the trail


@pytest.mark.parametrize("typed", ["p.marchandsecret", "Tr0ub4dour&3", "Personne"])
def test_an_unknown_identifier_is_never_stored_as_typed(
    admin_services: Services, member: NewStaff, typed: str
) -> None:
    """A password typed into the identifier field must not be kept forever."""
    staff(admin_services, typed, "x", OFFICE)
    stored = trail(admin_services)
    assert "sign_in_failed" in stored
    assert typed not in stored
    assert typed.lower() not in stored.lower()
    # A shape is kept, so the operator still sees what kind of thing was typed.
    with admin_services.sessions() as session:
        (event,) = session.scalars(select(AuditEvent)).all()
    assert event.actor_label.startswith("inconnu (")
    assert f"{len(typed)} caractères" in event.actor_label


# --------------------------------------------------------------------------- same answer


def _block_from(services: Services, login: str, where: Connection) -> None:
    for _ in range(5):
        staff(services, login, "faux", where)


def test_known_blocked_and_unknown_logins_answer_identically_and_both_hash(
    admin_services: Services, member: NewStaff, verify_calls: list[str]
) -> None:
    # The principal signs in from the office, then mistypes there until blocked.
    staff_sign_in.sign_in(admin_services, member.login, STAFF_PASSWORD, None, OFFICE)
    _block_from(admin_services, member.login, OFFICE)
    assert staff(admin_services, member.login, STAFF_PASSWORD, OFFICE)[0] is AccountBlocked

    # Seen from elsewhere, the blocked account and a login nobody has look the same.
    verify_calls.clear()
    known = staff(admin_services, member.login, "faux", CLASSROOM)
    assert len(verify_calls) == 1
    unknown = staff(admin_services, UNKNOWN, "faux", CLASSROOM)
    assert len(verify_calls) == 2
    assert known == unknown
    assert known[1] == staff_sign_in.GENERIC_FAILURE


def test_the_blocked_answer_still_spends_one_argon2_verification(
    admin_services: Services, member: NewStaff, verify_calls: list[str]
) -> None:
    staff_sign_in.sign_in(admin_services, member.login, STAFF_PASSWORD, None, OFFICE)
    _block_from(admin_services, member.login, OFFICE)
    verify_calls.clear()
    assert staff(admin_services, member.login, STAFF_PASSWORD, OFFICE)[0] is AccountBlocked
    assert len(verify_calls) == 1


def test_five_failures_block_a_known_and_an_unknown_login_the_same_way(
    admin_services: Services, member: NewStaff, verify_calls: list[str]
) -> None:
    """Lockout must not tell who exists: an unknown login is blocked just like a real one."""
    known = [staff(admin_services, member.login, "faux", CLASSROOM) for _ in range(6)]
    unknown = [staff(admin_services, UNKNOWN, "faux", CLASSROOM) for _ in range(6)]
    assert known == unknown
    assert known[4][0] is AccountBlocked and "réessayez après le" in known[4][1]
    assert known[5] == known[4]
    assert len(verify_calls) == 12


# --------------------------------------------------------------------------- who locks whom


def test_failures_from_another_address_do_not_lock_the_account_at_its_own(
    admin_services: Services, member: NewStaff, clock: FakeClock
) -> None:
    staff_sign_in.sign_in(admin_services, member.login, STAFF_PASSWORD, None, OFFICE)
    for _ in range(12):  # a pupil, from a classroom machine
        staff(admin_services, member.login, "devine", CLASSROOM)
    assert staff(admin_services, member.login, STAFF_PASSWORD, CLASSROOM)[0] is AccountBlocked
    with admin_services.sessions() as session:
        row = session.get_one(Staff, member.id)
        assert (row.failed_attempts, row.blocked_until) == (0, None)
    signed = staff_sign_in.sign_in(admin_services, member.login, STAFF_PASSWORD, None, OFFICE)
    assert signed.identity.staff_id == member.id


def test_a_never_used_account_is_not_locked_out_from_elsewhere_either(
    admin_services: Services, member: NewStaff
) -> None:
    for _ in range(6):
        staff(admin_services, member.login, "devine", CLASSROOM)
    signed = staff_sign_in.sign_in(admin_services, member.login, STAFF_PASSWORD, None, OFFICE)
    assert signed.identity.staff_id == member.id


def test_failures_from_a_usual_address_still_lock_the_account_everywhere(
    admin_services: Services, member: NewStaff, clock: FakeClock
) -> None:
    staff_sign_in.sign_in(admin_services, member.login, STAFF_PASSWORD, None, OFFICE)
    _block_from(admin_services, member.login, OFFICE)
    with admin_services.sessions() as session:
        assert session.get_one(Staff, member.id).blocked_until is not None
    # Elsewhere even the right password is refused, with the answer a wrong one gets.
    assert staff(admin_services, member.login, STAFF_PASSWORD, CLASSROOM) == (
        staff(admin_services, UNKNOWN, STAFF_PASSWORD, CLASSROOM)
    )
    clock.advance(minutes=15)
    staff_sign_in.sign_in(admin_services, member.login, STAFF_PASSWORD, None, OFFICE)


# --------------------------------------------------------------------------- owners

PUPIL_HOME = "198.51.100.7"
SCHOOL_NAT = "192.0.2.1"
TEMP = "abcd2345xy"
NEW = "Soleil2026!"
BORN = dt.date(2012, 5, 14)  # the factory's first child


def _activated_pupil(services: Services) -> str:
    family = factories.family(services)
    factories.simulate_notification(services, family.pupil_ids[0], TEMP)
    login = family.pupil_logins[0]
    activation.activate_pupil(services, login, TEMP, BORN, NEW, source=PUPIL_HOME)
    return login


def owner(services: Services, login: str, password: str, source: str) -> tuple[type, str]:
    return answer(lambda: activation.sign_in(services, login, password, source=source))


def test_pupils_failures_elsewhere_do_not_lock_them_out_at_home(services: Services) -> None:
    login = _activated_pupil(services)
    for _ in range(7):
        owner(services, login, "devine", SCHOOL_NAT)
    assert owner(services, login, NEW, SCHOOL_NAT)[0] is AccountBlocked
    activation.sign_in(services, login, NEW, source=PUPIL_HOME)


def test_pupils_blocked_and_unknown_logins_answer_identically_and_both_hash(
    services: Services, verify_calls: list[str]
) -> None:
    login = _activated_pupil(services)
    for _ in range(5):
        owner(services, login, "faux", PUPIL_HOME)
    assert owner(services, login, NEW, PUPIL_HOME)[0] is AccountBlocked
    verify_calls.clear()
    known = owner(services, login, NEW, SCHOOL_NAT)
    unknown = owner(services, "zz.personne", NEW, SCHOOL_NAT)
    assert known == unknown
    assert len(verify_calls) == 2
    # And once blocked from one place, both get the same wait there.
    known_runs = [owner(services, login, "faux", SCHOOL_NAT) for _ in range(5)]
    unknown_runs = [owner(services, "zz.personne", "faux", SCHOOL_NAT) for _ in range(5)]
    assert known_runs == unknown_runs
    assert known_runs[-1][0] is AccountBlocked


def test_staff_unblocking_an_account_lifts_its_blocks_elsewhere_too(services: Services) -> None:
    from educonnect_tui.domain.accounts import helpdesk

    login = _activated_pupil(services)
    for _ in range(5):
        owner(services, login, "faux", PUPIL_HOME)
    for _ in range(5):
        owner(services, login, "faux", SCHOOL_NAT)
    with services.sessions() as session:
        account_id = session.scalars(select(Account.id).where(Account.login == login)).one()
    principal = factories.staff_member(services)
    caller = factories.signed_in(services, principal.login, factories.DEFAULT_UAI)
    helpdesk.unblock(services, caller, account_id)
    activation.sign_in(services, login, NEW, source=SCHOOL_NAT)


_SHAPE = re.compile(
    r"\d+ caractères : (vide|(minuscules|majuscules|chiffres|point|espaces|autres)"
    r"(, (minuscules|majuscules|chiffres|point|espaces|autres))*)"
)


@given(st.text(max_size=300))
def test_the_shape_of_a_login_is_made_of_fixed_words_only(typed: str) -> None:
    """Nothing typed passes into the shape: only its length and fixed words."""
    shown = attempts.shape(typed)
    assert _SHAPE.fullmatch(shown), shown
    assert shown.startswith(f"{len(typed.strip())} caractères")


def test_a_pair_forgets_its_failures_after_a_quiet_day(
    admin_services: Services, member: NewStaff, clock: FakeClock
) -> None:
    for _ in range(4):
        staff(admin_services, member.login, "faux", CLASSROOM)
    clock.advance(hours=25)
    for _ in range(4):  # four more: had the first four been kept, this would block
        assert staff(admin_services, member.login, "faux", CLASSROOM)[0] is not AccountBlocked
    source = CLASSROOM.source
    assert factories.pair_failures(admin_services, "staff", member.login, source) == 4
    # Another pair's failure clears the stale rows it finds (nothing blocked in them).
    staff(admin_services, UNKNOWN, "faux", OFFICE)
    clock.advance(hours=25)
    staff(admin_services, "y.autre", "faux", OFFICE)
    assert factories.pair_failures(admin_services, "staff", member.login, source) is None
    assert factories.pair_failures(admin_services, "staff", UNKNOWN, OFFICE.source) is None


def test_the_pairs_digest_is_keyed_by_the_key_file(
    services: Services, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whoever reads the database without the key file cannot test a guess of the login."""
    with services.sessions() as session:
        first = attempts.login_digest(session, "staff", "p.marchandsecret")
        assert first == attempts.login_digest(session, "staff", " P.Marchandsecret ")
        assert first != attempts.login_digest(session, "owner", "p.marchandsecret")
        other = keys.Key.new("autre", clock.now)
        monkeypatch.setattr(keys, "current_key", lambda _session: other)
        assert attempts.login_digest(session, "staff", "p.marchandsecret") != first
