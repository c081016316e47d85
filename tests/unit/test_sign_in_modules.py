"""Sign-in decides the module: nobody gets past it into a module they hold nowhere.

An agent whose delegation is for the other module, revoked or expired, is refused at
sign-in, told in French what they do hold; the refusal is audited but is not a wrong
password (it never counts toward blocking). Then leaving and changing school without
signing in again, both audited.
"""

from __future__ import annotations

import datetime as dt
import ipaddress

import pytest
from sqlalchemy import select

from educonnect_tui.domain.access import delegations
from educonnect_tui.domain.access.caller import SchoolSession
from educonnect_tui.domain.access.delegations import GrantRequest
from educonnect_tui.domain.access.network import Connection
from educonnect_tui.domain.access.sign_in import choose_school, sign_in, sign_out
from educonnect_tui.domain.access.staff import NewStaff
from educonnect_tui.domain.model.enums import Module, StaffRole
from educonnect_tui.domain.model.errors import PermissionDenied
from educonnect_tui.domain.model.tables import AuditEvent, Establishment, Staff
from educonnect_tui.domain.store import audit
from educonnect_tui.domain.store.services import Services
from tests import factories
from tests.conftest import FakeClock
from tests.factories import STAFF_PASSWORD

INSIDE = Connection(address="10.1.2.3", via_ssh=True)
SECOND = ("0941876D", "École élémentaire Joliot-Curie")
NBSP = "\u00a0"


@pytest.fixture
def admin_services(services: Services) -> Services:
    services.settings = services.settings.model_copy(
        update={"admin_networks": [ipaddress.ip_network("10.0.0.0/8")]}
    )
    return services


def _school(services: Services, uai: str, name: str, classes: tuple[str, ...]) -> None:
    with services.sessions() as session, session.begin():
        found = session.scalar(select(Establishment).where(Establishment.uai == uai))
        school = found or factories.school(session, uai, name)
        for division in classes:
            factories.pupil(session, school, division=division, last_name=f"Élève {division}")


@pytest.fixture
def principal(admin_services: Services) -> NewStaff:
    _school(admin_services, factories.DEFAULT_UAI, "Collège Jean Moulin", ("3E1", "3E2", "3E3"))
    return factories.staff_member(admin_services)


def _agent(services: Services, *, two_schools: bool = False) -> NewStaff:
    schools = ((factories.DEFAULT_UAI, "Collège Jean Moulin"),)
    if two_schools:
        _school(services, *SECOND, ("CM2A",))
        factories.staff_member(
            services, schools=(SECOND,), first_name="Martine", last_name="Leroux"
        )
        schools = (*schools, SECOND)
    return factories.staff_member(
        services,
        schools=schools,
        first_name="Julien",
        last_name="Morel",
        role=StaffRole.AGENT,
        title="professeur",
    )


def _grant(
    services: Services,
    agent: NewStaff,
    module: Module,
    classes: tuple[str, ...] = (),
    *,
    uai: str = factories.DEFAULT_UAI,
    until: dt.date | None = None,
) -> int:
    view = delegations.grant(
        services,
        factories.operator(services, uai),
        GrantRequest(agent.login, module, until=until, division_names=classes),
    )
    return view.id


def _events(services: Services) -> list[AuditEvent]:
    with services.sessions() as session:
        return list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def _failures(services: Services, staff_id: int) -> int:
    with services.sessions() as session:
        return session.get_one(Staff, staff_id).failed_attempts


def test_a_depannage_only_agent_is_refused_the_administration_module_and_told_what_they_have(
    admin_services: Services, principal: NewStaff
) -> None:
    agent = _agent(admin_services)
    _grant(admin_services, agent, Module.DEPANNAGE, ("3E3", "3E2"))
    with pytest.raises(PermissionDenied) as refused:
        sign_in(admin_services, agent.login, STAFF_PASSWORD, None, INSIDE)
    assert str(refused.value) == (
        "Vous n'avez pas de délégation active pour l'administration des comptes de votre "
        f"établissement. Vous avez{NBSP}: dépannage des élèves (3E2, 3E3). "
        "Choisissez le module dépannage."
    )
    last = _events(admin_services)[-1]
    assert last.action == "sign_in_no_delegation"
    assert last.actor_id == agent.id
    assert last.details["module"] == "administration"
    assert last.details["held"] == [f"{factories.DEFAULT_UAI} depannage"]
    assert audit.action_label(last.action) != last.action  # it has a French label
    # The dépannage module lets the same agent in, on their school.
    session = sign_in(
        admin_services, agent.login, STAFF_PASSWORD, None, INSIDE, module=Module.DEPANNAGE
    )
    assert isinstance(session, SchoolSession)
    assert session.school.uai == factories.DEFAULT_UAI


def test_the_refusal_is_not_a_wrong_password_and_never_blocks(
    admin_services: Services, principal: NewStaff
) -> None:
    agent = _agent(admin_services)
    _grant(admin_services, agent, Module.DEPANNAGE)
    for _ in range(8):  # more than the five failures that block
        with pytest.raises(PermissionDenied, match="toutes les classes"):
            sign_in(admin_services, agent.login, STAFF_PASSWORD, None, INSIDE)
    assert _failures(admin_services, agent.id) == 0
    assert "sign_in_failed" not in {e.action for e in _events(admin_services)}
    sign_in(admin_services, agent.login, STAFF_PASSWORD, None, INSIDE, module=Module.DEPANNAGE)


def test_an_agent_without_any_delegation_is_told_whom_to_ask(
    admin_services: Services, principal: NewStaff
) -> None:
    agent = _agent(admin_services)
    for module in Module:
        with pytest.raises(PermissionDenied, match="Demandez-en une au chef d'établissement"):
            sign_in(admin_services, agent.login, STAFF_PASSWORD, None, INSIDE, module=module)


def test_a_revoked_delegation_refuses_at_sign_in(
    admin_services: Services, principal: NewStaff, clock: FakeClock
) -> None:
    agent = _agent(admin_services)
    delegation = _grant(admin_services, agent, Module.DEPANNAGE, ("3E2",))
    sign_in(admin_services, agent.login, STAFF_PASSWORD, None, INSIDE, module=Module.DEPANNAGE)
    clock.advance(hours=2)
    delegations.revoke(admin_services, factories.operator(admin_services), delegation)
    with pytest.raises(PermissionDenied) as refused:
        sign_in(admin_services, agent.login, STAFF_PASSWORD, None, INSIDE, module=Module.DEPANNAGE)
    message = str(refused.value)
    assert "pas de délégation active pour le dépannage des comptes élèves" in message
    assert "Votre délégation a été révoquée le 01/09/2026." in message
    assert _events(admin_services)[-1].action == "sign_in_no_delegation"


def test_an_expired_delegation_refuses_at_sign_in(
    admin_services: Services, principal: NewStaff, clock: FakeClock
) -> None:
    agent = _agent(admin_services)
    _grant(admin_services, agent, Module.ADMINISTRATION, until=dt.date(2026, 9, 3))
    sign_in(admin_services, agent.login, STAFF_PASSWORD, None, INSIDE)
    clock.advance(days=3)
    with pytest.raises(PermissionDenied, match="Votre délégation a expiré le 03/09/2026"):
        sign_in(admin_services, agent.login, STAFF_PASSWORD, None, INSIDE)


def test_an_agent_with_both_modules_signs_in_to_either(
    admin_services: Services, principal: NewStaff
) -> None:
    agent = _agent(admin_services)
    _grant(admin_services, agent, Module.ADMINISTRATION, ("3E1",))
    _grant(admin_services, agent, Module.DEPANNAGE)
    for module in Module:
        session = sign_in(admin_services, agent.login, STAFF_PASSWORD, None, INSIDE, module=module)
        assert isinstance(session, SchoolSession) and session.module is module
    assert [e.action for e in _events(admin_services)][-2:] == ["sign_in", "sign_in"]


def test_the_direction_holds_both_modules(admin_services: Services, principal: NewStaff) -> None:
    for module in Module:
        session = sign_in(
            admin_services, principal.login, STAFF_PASSWORD, None, INSIDE, module=module
        )
        assert isinstance(session, SchoolSession)


def test_several_schools_keep_only_those_where_the_module_is_held(
    admin_services: Services, principal: NewStaff
) -> None:
    agent = _agent(admin_services, two_schools=True)
    _grant(admin_services, agent, Module.DEPANNAGE, ("3E2",))
    _grant(admin_services, agent, Module.ADMINISTRATION, uai=SECOND[0])
    # Administration: only the école, so no choice to make.
    session = sign_in(admin_services, agent.login, STAFF_PASSWORD, None, INSIDE)
    assert isinstance(session, SchoolSession) and session.school.uai == SECOND[0]
    assert [s.uai for s in session.identity.schools] == [SECOND[0]]
    with pytest.raises(PermissionDenied, match="délégation active"):
        choose_school(admin_services, session, factories.DEFAULT_UAI)


def test_the_refusal_names_each_school_when_there_are_several(
    admin_services: Services, principal: NewStaff
) -> None:
    agent = _agent(admin_services, two_schools=True)
    _grant(admin_services, agent, Module.DEPANNAGE, ("3E2",))
    with pytest.raises(PermissionDenied) as refused:
        sign_in(admin_services, agent.login, STAFF_PASSWORD, None, INSIDE)
    assert str(refused.value) == (
        "Vous n'avez de délégation active pour l'administration des comptes dans aucun de "
        f"vos établissements. Vous avez{NBSP}: dépannage des élèves (3E2), Collège Jean "
        "Moulin. Choisissez le module dépannage."
    )


def test_switching_school_is_audited_without_signing_in_again(
    admin_services: Services, principal: NewStaff
) -> None:
    deputy = factories.staff_member(
        admin_services,
        schools=((factories.DEFAULT_UAI, "Collège Jean Moulin"), SECOND),
        first_name="Sandrine",
        last_name="Lemoine",
    )
    signed = sign_in(admin_services, deputy.login, STAFF_PASSWORD, None, INSIDE)
    first = choose_school(admin_services, signed, factories.DEFAULT_UAI)
    other = choose_school(admin_services, first, SECOND[0])
    assert other.school.uai == SECOND[0]
    assert other.identity == first.identity
    last = _events(admin_services)[-1]
    assert last.action == "school_switched"
    assert last.details["from_uai"] == factories.DEFAULT_UAI
    assert last.details["uai"] == SECOND[0]
    assert last.establishment_id == other.school.id
    assert [e.action for e in _events(admin_services)].count("sign_in") == 1


def test_a_switch_to_a_school_whose_delegation_ended_is_refused(
    admin_services: Services, principal: NewStaff
) -> None:
    agent = _agent(admin_services, two_schools=True)
    _grant(admin_services, agent, Module.DEPANNAGE)
    at_ecole = _grant(admin_services, agent, Module.DEPANNAGE, uai=SECOND[0])
    signed = sign_in(
        admin_services, agent.login, STAFF_PASSWORD, None, INSIDE, module=Module.DEPANNAGE
    )
    assert not isinstance(signed, SchoolSession)
    college = choose_school(admin_services, signed, factories.DEFAULT_UAI)
    delegations.revoke(admin_services, factories.operator(admin_services, SECOND[0]), at_ecole)
    with pytest.raises(PermissionDenied, match=SECOND[0]):
        choose_school(admin_services, college, SECOND[0])
    assert _events(admin_services)[-1].action == "school_choice_refused"


def test_sign_out_is_audited(admin_services: Services, principal: NewStaff) -> None:
    session = sign_in(admin_services, principal.login, STAFF_PASSWORD, None, INSIDE)
    assert isinstance(session, SchoolSession)
    sign_out(admin_services, session)
    last = _events(admin_services)[-1]
    assert (last.action, last.actor_id, last.source_address) == (
        "sign_out",
        principal.id,
        "10.1.2.3",
    )
    assert last.establishment_id == session.school.id
    assert audit.action_label("sign_out") == "déconnexion"
    with admin_services.sessions() as db:
        assert audit.verify(db).ok
