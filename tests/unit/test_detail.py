"""Account detail: everything staff may know about one account, never a secret."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools

import pytest
from sqlalchemy import select

from educonnect_tui.domain.accounts import notification
from educonnect_tui.domain.accounts.detail import HISTORY_LIMIT, AccountDetail, account_detail
from educonnect_tui.domain.accounts.notification import NotifyRequest
from educonnect_tui.domain.accounts.selection import Selection
from educonnect_tui.domain.model.enums import AccountKind, AccountState, ActivationMethod
from educonnect_tui.domain.model.errors import PermissionDenied
from educonnect_tui.domain.model.states import Event, transition
from educonnect_tui.domain.model.tables import Account, GuardianLink, Staff
from educonnect_tui.domain.store import audit
from educonnect_tui.domain.store.audit import Actor
from educonnect_tui.domain.store.services import Services
from tests import factories
from tests.conftest import FakeClock

ACTOR = Actor(label="Hélène Martin (h.martin)", source_address="10.0.0.5")
UAI = factories.DEFAULT_UAI
OTHER_UAI = "0750656F"


def _notify(services: Services, kind: AccountKind, account_ids: tuple[int, ...]) -> None:
    folder = services.settings.output_dir
    folder.mkdir(exist_ok=True)
    # Two notifications at the same instant: documents never replace one another.
    stamp = f"{services.clock().strftime('%H%M%S%f')}_{len(list(folder.iterdir()))}"
    notification.notify(
        services,
        factories.operator(services, UAI, ACTOR),
        NotifyRequest(
            kind,
            Selection(account_ids=account_ids, states=tuple(AccountState)[:3]),
            pdf_path=folder / f"{kind.value}_{stamp}.pdf",
        ),
    )


def test_pupil_detail_names_the_pupil_and_their_guardians(services: Services) -> None:
    family = factories.family(services, guardian_first_name="Marie")
    [pupil_id] = family.pupil_ids

    detail = account_detail(services, factories.operator(services), pupil_id)

    assert detail.kind is AccountKind.PUPIL
    assert detail.state is AccountState.NOT_NOTIFIED
    assert detail.login == family.pupil_logins[0]
    assert (detail.first_name, detail.last_name) == ("Jeanne", "Dupont")
    assert detail.birth_date == dt.date(2012, 5, 14)
    assert detail.division == "6E1" and detail.enrolled
    assert detail.ine is not None and len(detail.ine) == 11
    assert detail.notification_count == 0 and detail.notified_at is None
    assert not detail.blocked and detail.failed_attempts == 0
    [guardian] = detail.relatives
    assert guardian.name == "Mme Marie Dupont"
    assert guardian.login == family.guardian_login
    assert guardian.state is AccountState.NOT_NOTIFIED
    assert guardian.relationship == "MERE" and guardian.legal_guardian
    assert detail.history == ()


def test_guardian_detail_has_contacts_address_and_children_with_their_school(
    services: Services,
) -> None:
    family = factories.family(
        services, children=(("Jeanne", dt.date(2012, 5, 14)), ("Paul", dt.date(2010, 1, 3)))
    )
    with services.sessions() as session, session.begin():
        account = session.get_one(Account, family.guardian_id)
        assert account.guardian is not None
        account.guardian.email = "marie.dupont@example.fr"
        account.guardian.address = "12 rue de la Paix"
        account.guardian.postal_code = "75002"
        account.guardian.city = "Paris"
        link = session.scalars(
            select(GuardianLink).where(GuardianLink.guardian_id == account.guardian_id)
        ).first()
        assert link is not None
        link.legal_guardian = False

    detail = account_detail(services, factories.operator(services), family.guardian_id)

    assert detail.kind is AccountKind.GUARDIAN
    assert detail.civility == "Mme"
    assert detail.email == "marie.dupont@example.fr"
    assert detail.mobile == "06 12 34 56 78"
    assert detail.address == "12 rue de la Paix 75002 Paris"
    # Children: eldest first, each with class, school, link and account state.
    assert [c.name for c in detail.relatives] == ["Paul Dupont", "Jeanne Dupont"]
    assert {c.division for c in detail.relatives} == {"6E1"}
    assert {c.school for c in detail.relatives} == {"Collège Jean Moulin"}
    assert {c.login for c in detail.relatives} == set(family.pupil_logins)
    assert sorted(c.legal_guardian for c in detail.relatives) == [False, True]


def test_detail_never_carries_a_password_or_a_hash(services: Services) -> None:
    family = factories.family(services)
    factories.simulate_notification(services, family.pupil_ids[0], "Provisoire-123")
    detail = account_detail(services, factories.operator(services), family.pupil_ids[0])

    names = {f.name for f in dataclasses.fields(AccountDetail)}
    assert not {n for n in names if "hash" in n or "password" in n}
    assert "Provisoire-123" not in repr(detail)
    assert "argon2" not in repr(detail)


def test_history_after_notification_newest_first_in_french(
    services: Services, clock: FakeClock
) -> None:
    family = factories.family(services)
    [pupil_id] = family.pupil_ids
    _notify(services, AccountKind.PUPIL, (pupil_id,))
    first = clock()
    clock.advance(days=2)
    _notify(services, AccountKind.PUPIL, (pupil_id,))

    detail = account_detail(services, factories.operator(services), pupil_id)

    assert detail.state is AccountState.NOTIFIED
    assert detail.notification_count == 2
    assert detail.notified_at == clock() and detail.temp_issued_at == clock()
    assert detail.temp_expires_at is not None and detail.temp_expires_at > clock()
    assert not detail.temp_expired
    notified = [h for h in detail.history if h.action == "(re)notification"]
    assert [h.at for h in notified] == [clock(), first]
    # Each notification's document holding the password is an export of this account.
    exports = [h for h in detail.history if h.action == audit.action_label("export")]
    assert [h.at for h in exports] == [clock(), first]
    assert "lettres et fiches de notification (mots de passe)" in exports[0].details
    entry = notified[0]
    assert entry.who == ACTOR.label and entry.source == "10.0.0.5"
    # The journal's own words (``audit_words``), not codes.
    assert entry.details.startswith("type\u00a0: élève · comptes\u00a0: 1")
    # The guardian was not notified: their history stays empty.
    assert account_detail(services, factories.operator(services), family.guardian_id).history == ()


def test_history_is_limited_to_the_most_recent_events(services: Services, clock: FakeClock) -> None:
    family = factories.family(services)
    [pupil_id] = family.pupil_ids
    with services.sessions() as session, session.begin():
        for _ in range(HISTORY_LIMIT + 5):
            clock.advance(minutes=1)
            audit.record(session, ACTOR, "recall_login", now=clock(), targets=[pupil_id])

    history = account_detail(services, factories.operator(services), pupil_id).history

    assert len(history) == HISTORY_LIMIT
    assert history[0].at == clock()
    assert history[0].action == "rappel de l'identifiant"
    assert all(a.at > b.at for a, b in itertools.pairwise(history))


def test_blocked_activated_and_expired_accounts(services: Services, clock: FakeClock) -> None:
    family = factories.family(services)
    [pupil_id] = family.pupil_ids
    factories.simulate_notification(services, family.guardian_id, "Provisoire-123")
    with services.sessions() as session, session.begin():
        pupil = session.get_one(Account, pupil_id)
        pupil.state = transition(pupil.kind, pupil.state, Event.NOTIFY)
        method = ActivationMethod.TEMPORARY_CREDENTIALS
        pupil.state = transition(pupil.kind, pupil.state, Event.ACTIVATE, method)
        pupil.activation_method = method
        pupil.activated_at = clock()
        pupil.failed_attempts = 5
        pupil.blocked_until = clock() + dt.timedelta(minutes=30)

    detail = account_detail(services, factories.operator(services), pupil_id)
    assert detail.state is AccountState.ACTIVATED
    assert detail.activation_method is ActivationMethod.TEMPORARY_CREDENTIALS
    assert detail.activated_at == clock()
    assert detail.blocked and detail.failed_attempts == 5
    assert detail.blocked_until == clock() + dt.timedelta(minutes=30)

    clock.advance(days=200)
    assert not account_detail(services, factories.operator(services), pupil_id).blocked
    guardian = account_detail(services, factories.operator(services), family.guardian_id)
    assert guardian.state is AccountState.NOTIFIED and guardian.temp_expired


def test_an_account_of_another_school_is_refused(services: Services) -> None:
    family = factories.family(services)
    with services.sessions() as session, session.begin():
        other = factories.school(session, OTHER_UAI, "Lycée Voltaire")
        stranger = factories.pupil(session, other, first_name="Hugo", last_name="Leroy")
        stranger_guardian = factories.guardian(session, [stranger], first_name="Luc")
        stranger_ids = (stranger.id, stranger_guardian.id)

    for account_id in (*stranger_ids, 999_999):
        with pytest.raises(PermissionDenied, match="n'appartient pas à votre établissement"):
            account_detail(services, factories.operator(services), account_id)
    # Each school sees its own accounts.
    assert account_detail(
        services, factories.operator(services, OTHER_UAI), stranger_ids[1]
    ).relatives
    assert (
        account_detail(services, factories.operator(services), family.guardian_id).login
        == family.guardian_login
    )


def test_a_session_of_another_school_is_refused(services: Services) -> None:
    family = factories.family(services)
    factories.staff_member(
        services, schools=((OTHER_UAI, "Lycée Voltaire"),), first_name="Paul", last_name="Roux"
    )
    factories.staff_member(services)
    with services.sessions() as session:
        login_other, login_here = session.scalars(select(Staff.login).order_by(Staff.id)).all()
    elsewhere = factories.signed_in(services, login_other, OTHER_UAI)
    here = factories.signed_in(services, login_here, UAI)

    with pytest.raises(PermissionDenied):
        account_detail(services, elsewhere, family.pupil_ids[0])
    detail = account_detail(services, here, family.pupil_ids[0])
    assert detail.login == family.pupil_logins[0]
