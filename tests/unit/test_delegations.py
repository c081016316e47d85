"""DELEG-CE: grant, revoke, list; defaults, validation, audit, and the command line."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from educonnect_tui.domain.access import delegations, sessions
from educonnect_tui.domain.access.delegations import DelegationState, school_year_end
from educonnect_tui.domain.model.enums import Module, StaffRole
from educonnect_tui.domain.model.errors import InvalidInput, NotFound, PermissionDenied
from educonnect_tui.domain.model.tables import AuditEvent, Delegation
from educonnect_tui.domain.store.services import Services
from tests import factories
from tests.conftest import FakeClock
from tests.helpers import RunCli

UAI = factories.DEFAULT_UAI
OTHER_UAI = "0750656F"


def _setup(services: Services) -> dict[str, str]:
    with services.sessions() as session, session.begin():
        school = factories.school(session)
        factories.pupil(session, school, division="6E1")
        factories.pupil(session, school, first_name="Léo", division="5E2")
        factories.school(session, OTHER_UAI, "Collège Voltaire")
    head = factories.staff_member(services).login
    agent = factories.staff_member(
        services, first_name="Karim", last_name="Haddad", role=StaffRole.AGENT, title="CPE"
    ).login
    stranger = factories.staff_member(
        services,
        schools=((OTHER_UAI, "Collège Voltaire"),),
        first_name="Paul",
        last_name="Autre",
        role=StaffRole.AGENT,
    ).login
    return {"head": head, "agent": agent, "stranger": stranger}


def _events(services: Services, action: str) -> list[AuditEvent]:
    with services.sessions() as session:
        return list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
            )
        )


@pytest.mark.parametrize(
    ("day", "end"),
    [
        (dt.date(2026, 9, 1), dt.date(2027, 8, 31)),
        (dt.date(2026, 12, 31), dt.date(2027, 8, 31)),
        (dt.date(2027, 1, 5), dt.date(2027, 8, 31)),
        (dt.date(2027, 8, 31), dt.date(2027, 8, 31)),
    ],
)
def test_school_year_end(day: dt.date, end: dt.date) -> None:
    assert school_year_end(day) == end


def test_grant_defaults_list_and_audit(services: Services) -> None:
    people = _setup(services)
    head = factories.signed_in(services, people["head"], UAI)
    view = delegations.grant(
        services,
        head,
        delegations.GrantRequest(
            agent_login=people["agent"], module=Module.ADMINISTRATION, division_names=tuple(["6e1"])
        ),
    )
    # conftest's clock: 1 September 2026 → the school year ends on 31 August 2027.
    assert (view.valid_from, view.valid_until) == (dt.date(2026, 9, 1), dt.date(2027, 8, 31))
    assert view.classes == ("6E1",)
    assert view.state is DelegationState.ACTIVE
    assert view.granted_by == "Hélène Martin"
    assert view.agent_name == "Karim Haddad"
    [listed] = delegations.list_delegations(services, head)
    assert listed == view
    [event] = _events(services, "delegation_grant")
    assert event.actor_id == head.identity.staff_id
    assert event.details["agent"] == people["agent"]
    assert event.details["module"] == "administration"
    assert event.details["classes"] == ["6E1"]
    assert event.details["valid_until"] == "2027-08-31"
    # The agent now has the module, on that class only.
    agent = factories.signed_in(services, people["agent"], UAI)
    from educonnect_tui.domain.access.permissions import scope_of

    scope = scope_of(services, agent)
    assert scope.modules == {Module.ADMINISTRATION}
    assert scope.division_ids is not None and len(scope.division_ids) == 1


def test_revoke_then_states_in_french(services: Services, clock: FakeClock) -> None:
    people = _setup(services)
    head = factories.signed_in(services, people["head"], UAI)
    first = delegations.grant(
        services,
        head,
        delegations.GrantRequest(agent_login=people["agent"], module=Module.DEPANNAGE),
    )
    revoked = delegations.revoke(services, head, first.id)
    assert revoked.state is DelegationState.REVOKED
    assert revoked.revoked_at == clock.now
    with pytest.raises(InvalidInput, match="déjà révoquée"):
        delegations.revoke(services, head, first.id)
    [event] = _events(services, "delegation_revoke")
    assert event.details["delegation_id"] == first.id
    assert event.details["state_before"] == "active"
    with services.sessions() as session:
        row = session.get_one(Delegation, first.id)
        assert row.revoked_by_id == head.identity.staff_id
    # A new one can follow the revoked one; then it expires.
    short = delegations.grant(
        services,
        head,
        delegations.GrantRequest(
            agent_login=people["agent"], module=Module.DEPANNAGE, until=dt.date(2026, 9, 2)
        ),
    )
    clock.advance(days=2)
    states = {v.id: v.state for v in delegations.list_delegations(services, head)}
    assert states == {first.id: DelegationState.REVOKED, short.id: DelegationState.EXPIRED}
    assert {s.value for s in DelegationState} == {"active", "expirée", "révoquée", "à venir"}
    # Two days on, the password is asked again before revoking (sessions).
    sessions.confirm_password(services, head, factories.STAFF_PASSWORD, purpose="sensitive")
    with pytest.raises(InvalidInput, match="a expiré"):
        delegations.revoke(services, head, short.id)


def test_a_delegation_to_come_is_listed_as_such(services: Services) -> None:
    people = _setup(services)
    head = factories.signed_in(services, people["head"], UAI)
    view = delegations.grant(
        services,
        head,
        delegations.GrantRequest(agent_login=people["agent"], module=Module.DEPANNAGE),
    )
    with services.sessions() as session, session.begin():
        session.get_one(Delegation, view.id).valid_from = dt.date(2026, 10, 1)
    [listed] = delegations.list_delegations(services, head)
    assert listed.state is DelegationState.UPCOMING


@pytest.mark.parametrize(
    ("who", "module", "until", "classes", "error", "fragment"),
    [
        ("inconnu", Module.DEPANNAGE, None, (), InvalidInput, "n'est pas un personnel"),
        ("stranger", Module.DEPANNAGE, None, (), InvalidInput, "n'est pas un personnel"),
        ("head", Module.DEPANNAGE, None, (), InvalidInput, "qu'à un agent"),
        (
            "agent",
            Module.DEPANNAGE,
            None,
            ("6E1", "9Z9"),
            InvalidInput,
            "Classe inconnue dans 0750655E\u00a0: 9Z9",
        ),
        ("agent", Module.DEPANNAGE, dt.date(2026, 8, 31), (), InvalidInput, "est passée"),
    ],
)
def test_grant_validation(
    services: Services,
    who: str,
    module: Module,
    until: dt.date | None,
    classes: tuple[str, ...],
    error: type[Exception],
    fragment: str,
) -> None:
    people = _setup(services)
    head = factories.signed_in(services, people["head"], UAI)
    with pytest.raises(error, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        delegations.grant(
            services,
            head,
            delegations.GrantRequest(
                agent_login=people.get(who, who),
                module=module,
                until=until,
                division_names=tuple(classes),
            ),
        )
    assert delegations.list_delegations(services, head) == []
    assert _events(services, "delegation_grant") == []


def test_one_current_delegation_per_agent_and_module(services: Services) -> None:
    people = _setup(services)
    head = factories.signed_in(services, people["head"], UAI)
    delegations.grant(
        services,
        head,
        delegations.GrantRequest(agent_login=people["agent"], module=Module.DEPANNAGE),
    )
    with pytest.raises(InvalidInput, match="révoquez-la d'abord"):
        delegations.grant(
            services,
            head,
            delegations.GrantRequest(agent_login=people["agent"], module=Module.DEPANNAGE),
        )
    # The other module is another delegation.
    delegations.grant(
        services,
        head,
        delegations.GrantRequest(agent_login=people["agent"], module=Module.ADMINISTRATION),
    )


def test_only_the_direction_manages_delegations(services: Services) -> None:
    people = _setup(services)
    head = factories.signed_in(services, people["head"], UAI)
    view = delegations.grant(
        services,
        head,
        delegations.GrantRequest(agent_login=people["agent"], module=Module.ADMINISTRATION),
    )
    agent = factories.signed_in(services, people["agent"], UAI)  # holds administration
    for call in (
        lambda: delegations.list_delegations(services, agent),
        lambda: delegations.grant(
            services,
            agent,
            delegations.GrantRequest(agent_login=people["agent"], module=Module.DEPANNAGE),
        ),
        lambda: delegations.revoke(services, agent, view.id),
        lambda: delegations.agents_of(services, agent),
    ):
        with pytest.raises(PermissionDenied, match="réservé au personnel de direction"):
            call()
    # A caller always works on its own school: another school's delegation is not found.
    with pytest.raises(NotFound):
        delegations.revoke(services, factories.operator(services, OTHER_UAI), view.id)


def test_agents_and_classes_for_the_form(services: Services) -> None:
    people = _setup(services)
    head = factories.signed_in(services, people["head"], UAI)
    assert [a.login for a in delegations.agents_of(services, head)] == [people["agent"]]
    assert delegations.class_names(services, head) == ["6E1", "5E2"]


# --------------------------------------------------------------------------- command line


def test_cli_grant_list_revoke(cli_env: Services, run_cli: RunCli) -> None:
    people = _setup(cli_env)
    code, out, err = run_cli(
        ["delegate", "grant", "--uai", UAI, "--agent", people["agent"], "--module", "depannage",
         "--class", "6E1", "--until", "30/06/2099"],
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert "accordée à Karim Haddad" in out and "30/06/2099" in out
    code, out, _ = run_cli(["delegate", "list", "--uai", UAI, "--format", "json"])
    [row] = json.loads(out)
    assert row["agent"] == people["agent"] and row["classes"] == ["6E1"]
    assert row["etat"] == "active" and row["accordee_par"] == "Hélène Martin"
    code, out, _ = run_cli(["delegate", "list", "--uai", UAI, "--format", "csv"])
    assert out.splitlines()[0].startswith("N°;Agent;Module;Classes")
    code, out, _ = run_cli(["delegate", "revoke", "--uai", UAI, "--id", str(row["id"])])
    assert code == 0 and "révoquée" in out
    code, out, _ = run_cli(["delegate", "list", "--uai", UAI])
    assert "révoquée" in out and "Karim Haddad" in out
    [event] = _events(cli_env, "delegation_revoke")
    assert event.actor_id is None and event.actor_label.startswith("ligne de commande")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["delegate", "grant", "--uai", UAI, "--agent", "x", "--module", "tout"], "choix"),
        (["delegate", "grant", "--uai", UAI, "--agent", "nobody", "--module", "depannage"],
         "n'est pas un personnel"),
        (["delegate", "grant", "--uai", UAI, "--agent", "AGENT", "--module", "depannage",
          "--until", "31/02/2027"], "JJ/MM/AAAA"),
        (["delegate", "grant", "--uai", UAI, "--agent", "AGENT", "--module", "depannage",
          "--until", "01/01/2020"], "est passée"),
        (["delegate", "grant", "--uai", UAI, "--agent", "AGENT", "--module", "depannage",
          "--class", "9Z9"], "inconnue"),
        (["delegate", "revoke", "--uai", UAI, "--id", "999"], "Aucune délégation n° 999"),
        (["delegate", "revoke", "--uai", UAI, "--id", "abc"], "« abc » n'est pas un nombre entier"),
        (["delegate", "list"], "arguments obligatoires manquants"),
        (["delegate", "list", "--uai", "0750655A"], "lettre de contrôle"),
    ],
)  # fmt: skip
def test_cli_bad_input_is_one_french_line_exit_2(
    cli_env: Services, run_cli: RunCli, args: list[str], fragment: str
) -> None:
    people = _setup(cli_env)
    args = [people["agent"] if a == "AGENT" else a for a in args]
    code, _, err = run_cli(args)
    assert code == 2
    assert err.count("\n") == 1, err
    assert err.startswith("educonnect-tui\u00a0: erreur\u00a0: ")
    assert fragment in err
    assert "Traceback" not in err


def test_cli_asks_who_grants_when_the_direction_is_several(
    cli_env: Services, run_cli: RunCli
) -> None:
    people = _setup(cli_env)
    deputy = factories.staff_member(cli_env, first_name="Sandrine", last_name="Lemoine").login
    base = ["delegate", "grant", "--uai", UAI, "--agent", people["agent"], "--module", "depannage"]
    code, _, err = run_cli(base)
    assert code == 2 and "--by" in err
    code, out, _ = run_cli([*base, "--by", deputy])
    assert code == 0
    code, out, _ = run_cli(["delegate", "list", "--uai", UAI, "--format", "json"])
    assert json.loads(out)[0]["accordee_par"] == "Sandrine Lemoine"


def test_agents_come_in_the_french_order_of_names(services: Services) -> None:
    people = _setup(services)
    for last in ("Émilie", "Eric", "Aït Ahmed", "Arnaud"):
        factories.staff_member(services, first_name="Ana", last_name=last, role=StaffRole.AGENT)
    head = factories.signed_in(services, people["head"], UAI)
    assert [a.name.split(" ", 1)[1] for a in delegations.agents_of(services, head)] == [
        "Aït Ahmed",
        "Arnaud",
        "Émilie",
        "Eric",
        "Haddad",
    ]
