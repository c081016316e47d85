"""Who may do what: every action × profile × module × second factor × account, on both backends.

The expected outcome is written out here from the rules in docs/domain.md (``expected``), not
computed by the code under test; then the real services are tried (listing, detail,
notification) and a delegation is revoked or expires in the middle of a session.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from educonnect_tui.domain.access import delegations
from educonnect_tui.domain.access.caller import Caller, SchoolRef, SchoolSession
from educonnect_tui.domain.access.network import NetworkMode
from educonnect_tui.domain.access.permissions import Action, Scope, require, scope_of
from educonnect_tui.domain.accounts import notification
from educonnect_tui.domain.accounts.detail import account_detail
from educonnect_tui.domain.accounts.listing import Listing, ListQuery
from educonnect_tui.domain.accounts.notification import NotifyRequest
from educonnect_tui.domain.accounts.selection import Selection, restrict
from educonnect_tui.domain.model.enums import AccountKind, Module, StaffRole
from educonnect_tui.domain.model.errors import PermissionDenied
from educonnect_tui.domain.model.tables import Delegation, Division, Establishment, Staff
from educonnect_tui.domain.store.services import Services
from tests import factories
from tests.conftest import FakeClock

UAI = factories.DEFAULT_UAI
OTHER_UAI = "0750656F"

# The rules, written out (docs/domain.md, « Who may do what »): what each module allows.
ADMINISTRATION_ACTIONS = {
    Action.VIEW_ACCOUNTS,
    Action.VIEW_DETAIL,
    Action.NOTIFY,
    Action.RECALL_LOGIN,
    Action.RESET_PASSWORD,
    Action.UNBLOCK,
    Action.VIEW_STATS,
    Action.EXPORT,
}
DEPANNAGE_ACTIONS = {
    Action.VIEW_ACCOUNTS,
    Action.VIEW_DETAIL,
    Action.RECALL_LOGIN,
    Action.RESET_PASSWORD,
    Action.UNBLOCK,
}
DIRECTION_ONLY = {Action.MANAGE_DELEGATIONS, Action.VIEW_AUDIT, Action.MANAGE_STAFF}
# The direction, or an administration delegation of the whole school.
WHOLE_SCHOOL = {Action.IMPORT}
assert set(Action) == ADMINISTRATION_ACTIONS | DEPANNAGE_ACTIONS | DIRECTION_ONLY | WHOLE_SCHOOL

# Profile -> modules held in the school, and whether the administration module is
# limited to class 6E1. Expired, not yet valid and revoked delegations give nothing.
PROFILES: dict[str, tuple[frozenset[Module], bool]] = {
    "direction": (frozenset(Module), False),
    "agent_sans_delegation": (frozenset(), False),
    "agent_admin_etablissement": (frozenset({Module.ADMINISTRATION}), False),
    "agent_admin_6E1": (frozenset({Module.ADMINISTRATION}), True),
    "agent_depannage": (frozenset({Module.DEPANNAGE}), False),
    "agent_delegation_expiree": (frozenset(), False),
    "agent_delegation_a_venir": (frozenset(), False),
    "agent_delegation_revoquee": (frozenset(), False),
}
# Targets: no account (the kind only), or one account in or out of class 6E1.
TARGETS = ("eleve", "responsable", "eleve_6E1", "eleve_5E1", "responsable_6E1", "responsable_5E1")
SESSIONS = (
    (Module.ADMINISTRATION, True),  # OTP or administrative network
    (Module.ADMINISTRATION, False),  # defensive: a session built without the factor
    (Module.DEPANNAGE, True),  # dépannage from the administrative network
    (Module.DEPANNAGE, False),  # dépannage from outside: identifier and password only
)


def expected(
    profile: str, module: Module, second_factor: bool, action: Action, target: str
) -> bool:
    held, limited = PROFILES[profile]
    guardian = target.startswith("responsable")
    if action in DIRECTION_ONLY:
        if profile != "direction" or module is not Module.ADMINISTRATION or not second_factor:
            return False
    elif action in WHOLE_SCHOOL:
        whole = profile == "direction" or (module in held and not limited)
        if not whole or module is not Module.ADMINISTRATION or not second_factor:
            return False
    else:
        if module not in held:
            return False
        allowed = ADMINISTRATION_ACTIONS if module is Module.ADMINISTRATION else DEPANNAGE_ACTIONS
        if action not in allowed:
            return False
        if module is Module.ADMINISTRATION and not second_factor:
            return False
    if guardian and (module is not Module.ADMINISTRATION or not second_factor):
        return False
    return not (limited and module is Module.ADMINISTRATION and target.endswith("5E1"))


@dataclass(frozen=True)
class World:
    accounts: dict[str, int]  # "eleve_6E1" -> account id ...
    logins: dict[str, str]  # profile -> staff login


class _WithoutSecondFactor(SchoolSession):
    """An administration session lacking the second factor: cannot come out of sign_in,
    and must be refused anyway if something ever builds one."""

    @property
    def second_factor(self) -> bool:
        return False


def _delegate(
    services: Services,
    login: str,
    module: Module,
    *,
    start: dt.date,
    end: dt.date,
    classes: tuple[str, ...] = (),
    revoked: bool = False,
) -> int:
    with services.sessions() as session, session.begin():
        school = session.scalars(select(Establishment).where(Establishment.uai == UAI)).one()
        agent = session.scalars(select(Staff).where(Staff.login == login)).one()
        head = session.scalars(select(Staff).where(Staff.role == StaffRole.DIRECTION)).first()
        assert head is not None
        divisions = list(
            session.scalars(
                select(Division).where(
                    Division.establishment_id == school.id, Division.name.in_(classes)
                )
            )
        )
        delegation = Delegation(
            establishment_id=school.id,
            agent_id=agent.id,
            module=module,
            valid_from=start,
            valid_until=end,
            granted_by_id=head.id,
            granted_at=services.clock(),
            revoked_at=services.clock() if revoked else None,
            divisions=divisions,
        )
        session.add(delegation)
        session.flush()
        return delegation.id


def build_world(services: Services) -> World:
    with services.sessions() as session, session.begin():
        school = factories.school(session)
        factories.school(session, OTHER_UAI, "Collège Voltaire")
        in_ = factories.pupil(session, school, first_name="Inès", division="6E1")
        out = factories.pupil(session, school, first_name="Oscar", division="5E1")
        g_in = factories.guardian(session, [in_], first_name="Gina")
        g_out = factories.guardian(session, [out], first_name="Omar")
        accounts = {
            "eleve_6E1": in_.id,
            "eleve_5E1": out.id,
            "responsable_6E1": g_in.id,
            "responsable_5E1": g_out.id,
        }
    logins: dict[str, str] = {}
    logins["direction"] = factories.staff_member(services).login
    names = {
        "agent_sans_delegation": "Sans",
        "agent_admin_etablissement": "Admin",
        "agent_admin_6E1": "Classes",
        "agent_depannage": "Depannage",
        "agent_delegation_expiree": "Expiree",
        "agent_delegation_a_venir": "Avenir",
        "agent_delegation_revoquee": "Revoquee",
    }
    for profile, last in names.items():
        logins[profile] = factories.staff_member(
            services, first_name="Agent", last_name=last, role=StaffRole.AGENT, title="agent"
        ).login
    today = services.clock().date()
    year = dt.timedelta(days=300)
    admin = Module.ADMINISTRATION
    _delegate(services, logins["agent_admin_etablissement"], admin, start=today, end=today + year)
    _delegate(services, logins["agent_admin_6E1"], admin, start=today, end=today, classes=("6E1",))
    _delegate(
        services,
        logins["agent_depannage"],
        Module.DEPANNAGE,
        start=today - year,
        end=today + year,
        classes=(),
    )
    past = today - dt.timedelta(days=1)
    _delegate(services, logins["agent_delegation_expiree"], admin, start=past - year, end=past)
    future = today + dt.timedelta(days=1)
    _delegate(services, logins["agent_delegation_a_venir"], admin, start=future, end=future + year)
    _delegate(
        services,
        logins["agent_delegation_revoquee"],
        admin,
        start=today,
        end=today + year,
        revoked=True,
    )
    return World(accounts=accounts, logins=logins)


def _count(services: Services, caller: Caller, request: NotifyRequest) -> int:
    return notification.preview(services, caller, request).total


def session_for(
    services: Services, world: World, profile: str, module: Module, second_factor: bool
) -> SchoolSession:
    mode = NetworkMode.ADMIN if second_factor else NetworkMode.OTP
    signed = dataclasses.replace(
        factories.signed_in(services, world.logins[profile], UAI, mode=mode), module=module
    )
    if module is Module.ADMINISTRATION and not second_factor:
        values = {f.name: getattr(signed, f.name) for f in dataclasses.fields(signed)}
        signed = _WithoutSecondFactor(**values)
    assert signed.second_factor is second_factor
    return signed


def _try(
    services: Services, signed: SchoolSession, action: Action, world: World, target: str
) -> bool:
    kwargs: dict[str, object] = {}
    if target == "eleve":
        kwargs["kind"] = AccountKind.PUPIL
    elif target == "responsable":
        kwargs["kind"] = AccountKind.GUARDIAN
    else:
        kwargs["account_ids"] = (world.accounts[target],)
    try:
        require(services, signed, action, **kwargs)  # type: ignore[arg-type]
    except PermissionDenied as error:
        message = str(error)
        assert message.endswith("."), message  # one French sentence
        assert "\n" not in message
        return False
    return True


@pytest.mark.parametrize("profile", list(PROFILES))
def test_every_action_for_every_session(services: Services, profile: str) -> None:
    world = build_world(services)
    wrong: list[str] = []
    for module, second_factor in SESSIONS:
        signed = session_for(services, world, profile, module, second_factor)
        for action in Action:
            for target in TARGETS:
                want = expected(profile, module, second_factor, action, target)
                got = _try(services, signed, action, world, target)
                if got != want:
                    wrong.append(
                        f"{module.value} 2FA={second_factor} {action.value} {target}: "
                        f"attendu {want}, obtenu {got}"
                    )
    assert not wrong, "\n".join(wrong)


def test_the_matrix_covers_allowed_and_refused_cases() -> None:
    """Guard against a table that would only ever say yes (or no)."""
    outcomes = {
        expected(p, m, f, a, t)
        for p in PROFILES
        for m, f in SESSIONS
        for a in Action
        for t in TARGETS
    }
    assert outcomes == {True, False}
    assert expected("agent_depannage", Module.DEPANNAGE, False, Action.RESET_PASSWORD, "eleve")
    assert not expected("agent_depannage", Module.DEPANNAGE, True, Action.NOTIFY, "eleve")
    assert not expected(
        "agent_admin_6E1", Module.ADMINISTRATION, True, Action.VIEW_DETAIL, "eleve_5E1"
    )


def test_refusals_say_why_in_french(services: Services) -> None:
    world = build_world(services)
    dep = session_for(services, world, "agent_depannage", Module.DEPANNAGE, False)
    with pytest.raises(PermissionDenied, match="ne le permet pas"):
        require(services, dep, Action.NOTIFY)
    with pytest.raises(PermissionDenied, match="clé OTP ou une connexion depuis le réseau"):
        require(services, dep, Action.VIEW_DETAIL, kind=AccountKind.GUARDIAN)
    agent = session_for(services, world, "agent_admin_etablissement", Module.ADMINISTRATION, True)
    with pytest.raises(PermissionDenied, match="réservé au personnel de direction"):
        require(services, agent, Action.MANAGE_DELEGATIONS)
    none = session_for(services, world, "agent_sans_delegation", Module.ADMINISTRATION, True)
    with pytest.raises(PermissionDenied, match="aucune délégation active"):
        require(services, none, Action.VIEW_ACCOUNTS)
    limited = session_for(services, world, "agent_admin_6E1", Module.ADMINISTRATION, True)
    with pytest.raises(PermissionDenied, match="hors des classes de votre délégation"):
        require(services, limited, Action.VIEW_DETAIL, account_ids=(world.accounts["eleve_5E1"],))
    with pytest.raises(PermissionDenied, match="classes hors de votre délégation\u00a0: 5E1"):
        require(services, limited, Action.NOTIFY, division_names=("6E1", "5E1"))


def test_another_schools_accounts_and_schools_are_refused(services: Services) -> None:
    world = build_world(services)
    with services.sessions() as session, session.begin():
        other = session.scalars(select(Establishment).where(Establishment.uai == OTHER_UAI)).one()
        stranger = factories.pupil(session, other, first_name="Zoé", division="6E1").id
    head = session_for(services, world, "direction", Module.ADMINISTRATION, True)
    with pytest.raises(PermissionDenied, match="n'appartient pas à votre établissement"):
        require(services, head, Action.VIEW_DETAIL, account_ids=(stranger,))
    # A school the person is not attached to (e.g. detached since signing in).
    with services.sessions() as session:
        other_ref = session.scalars(
            select(Establishment).where(Establishment.uai == OTHER_UAI)
        ).one()
        school = SchoolRef(other_ref.id, other_ref.uai, other_ref.name)
    elsewhere = dataclasses.replace(head, school=school)
    with pytest.raises(PermissionDenied, match="pas rattaché"):
        require(services, elsewhere, Action.VIEW_ACCOUNTS)


# --------------------------------------------------------------------------- during a session


def test_a_revocation_applies_to_the_next_action(services: Services) -> None:
    world = build_world(services)
    agent = session_for(services, world, "agent_admin_etablissement", Module.ADMINISTRATION, True)
    listing = Listing(services, agent)  # type: ignore[union-attr]
    query = ListQuery(AccountKind.PUPIL)
    assert listing.count(query) == 2
    require(services, agent, Action.NOTIFY)
    head = session_for(services, world, "direction", Module.ADMINISTRATION, True)
    [view] = [
        v
        for v in delegations.list_delegations(services, head)
        if v.agent_login == world.logins["agent_admin_etablissement"]
    ]
    delegations.revoke(services, head, view.id)
    # Same session object, same Listing: refused at once, no new sign-in needed.
    with pytest.raises(PermissionDenied):
        require(services, agent, Action.NOTIFY)
    with pytest.raises(PermissionDenied):
        listing.count(query)
    assert scope_of(services, agent).modules == frozenset()


def test_an_expiry_applies_the_next_day(services: Services, clock: FakeClock) -> None:
    world = build_world(services)
    # agent_admin_6E1's delegation ends today (valid_until == today).
    agent = session_for(services, world, "agent_admin_6E1", Module.ADMINISTRATION, True)
    require(services, agent, Action.VIEW_ACCOUNTS)
    clock.advance(days=1)
    with pytest.raises(PermissionDenied, match="aucune délégation active"):
        require(services, agent, Action.VIEW_ACCOUNTS)


def test_a_delegation_to_come_applies_from_its_first_day(
    services: Services, clock: FakeClock
) -> None:
    world = build_world(services)
    agent = session_for(services, world, "agent_delegation_a_venir", Module.ADMINISTRATION, True)
    with pytest.raises(PermissionDenied):
        require(services, agent, Action.VIEW_ACCOUNTS)
    clock.advance(days=1)
    require(services, agent, Action.VIEW_ACCOUNTS)


# --------------------------------------------------------------------------- through the services


def test_listing_is_limited_to_the_delegated_classes(services: Services) -> None:
    world = build_world(services)
    agent = session_for(services, world, "agent_admin_6E1", Module.ADMINISTRATION, True)
    assert agent.school is not None
    listing = Listing(services, agent)
    pupils = ListQuery(AccountKind.PUPIL)
    guardians = ListQuery(AccountKind.GUARDIAN)
    assert listing.ids(pupils) == [world.accounts["eleve_6E1"]]
    assert listing.ids(guardians) == [world.accounts["responsable_6E1"]]
    assert [r.account_id for r in listing.page(pupils, 0, 50)] == [world.accounts["eleve_6E1"]]
    assert listing.count(pupils) == 1
    assert [d.name for d in listing.divisions()] == ["6E1"]
    # Asking for the other class by name shows nothing rather than widening the scope.
    other_class = ListQuery(AccountKind.PUPIL, Selection(divisions=("5E1",)))
    assert listing.count(other_class) == 0
    assert listing.still_shown(pupils, {world.accounts["eleve_5E1"]}) == set()
    # The direction still sees the whole school; the command line (None) too.
    head = session_for(services, world, "direction", Module.ADMINISTRATION, True)
    assert Listing(services, head).count(pupils) == 2
    assert Listing(services, factories.operator(services)).count(pupils) == 2


def test_listing_guardians_needs_the_administration_module(services: Services) -> None:
    world = build_world(services)
    dep = session_for(services, world, "agent_depannage", Module.DEPANNAGE, True)
    assert dep.school is not None
    listing = Listing(services, dep)
    assert listing.count(ListQuery(AccountKind.PUPIL)) == 2
    with pytest.raises(PermissionDenied):
        listing.count(ListQuery(AccountKind.GUARDIAN))


def test_detail_out_of_scope_and_guardians_without_second_factor(services: Services) -> None:
    world = build_world(services)
    limited = session_for(services, world, "agent_admin_6E1", Module.ADMINISTRATION, True)
    detail = account_detail(services, limited, world.accounts["eleve_6E1"])
    assert detail.relatives  # the guardian is listed for an administration session
    with pytest.raises(PermissionDenied, match="hors des classes"):
        account_detail(services, limited, world.accounts["eleve_5E1"])
    with pytest.raises(PermissionDenied, match="hors des classes"):
        account_detail(services, limited, world.accounts["responsable_5E1"])
    dep = session_for(services, world, "agent_depannage", Module.DEPANNAGE, False)
    pupil = account_detail(services, dep, world.accounts["eleve_5E1"])
    assert pupil.relatives == ()  # guardians' data stay out of a dépannage session
    with pytest.raises(PermissionDenied, match="clé OTP"):
        account_detail(services, dep, world.accounts["responsable_6E1"])


def test_notify_is_refused_to_a_depannage_session(services: Services, tmp_path) -> None:  # type: ignore[no-untyped-def]
    world = build_world(services)
    dep = session_for(services, world, "agent_depannage", Module.DEPANNAGE, True)
    with pytest.raises(PermissionDenied, match="ne le permet pas"):
        notification.preview(services, dep, NotifyRequest(AccountKind.PUPIL, Selection()))
    with pytest.raises(PermissionDenied, match="ne le permet pas"):
        notification.notify(
            services,
            dep,
            NotifyRequest(AccountKind.PUPIL, Selection(), pdf_path=tmp_path / "x.pdf"),
        )
    assert not (tmp_path / "x.pdf").exists()
    assert factories.account(services, world.accounts["eleve_6E1"]).notification_count == 0


def test_notify_is_narrowed_to_the_delegated_classes(services: Services, tmp_path) -> None:  # type: ignore[no-untyped-def]
    world = build_world(services)
    limited = session_for(services, world, "agent_admin_6E1", Module.ADMINISTRATION, True)
    assert _count(services, limited, NotifyRequest(AccountKind.PUPIL, Selection())) == 1
    with pytest.raises(PermissionDenied, match="5E1"):
        _count(services, limited, NotifyRequest(AccountKind.PUPIL, Selection(divisions=("5E1",))))
    with pytest.raises(PermissionDenied, match="hors des classes"):
        _count(
            services,
            limited,
            NotifyRequest(
                AccountKind.GUARDIAN, Selection(account_ids=(world.accounts["responsable_5E1"],))
            ),
        )
    result = notification.notify(
        services,
        limited,
        NotifyRequest(AccountKind.PUPIL, Selection(), pdf_path=tmp_path / "eleves.pdf"),
    )
    assert result.count == 1
    assert factories.account(services, world.accounts["eleve_6E1"]).notification_count == 1
    assert factories.account(services, world.accounts["eleve_5E1"]).notification_count == 0
    # The command line's operator sees the whole school (the
    # notified 6E1 pupil is still in the default red + yellow selection).
    assert (
        _count(
            services,
            factories.operator(services, UAI),
            NotifyRequest(AccountKind.PUPIL, Selection()),
        )
        == 2
    )


def test_restrict_narrows_and_never_widens() -> None:
    scope = Scope(
        modules=frozenset({Module.ADMINISTRATION}), division_ids=frozenset({1, 2}), guardians=True
    )
    assert restrict(Selection(), scope).division_ids == frozenset({1, 2})
    narrowed = restrict(Selection(division_ids=frozenset({2, 3})), scope)
    assert narrowed.division_ids == frozenset({2})
    whole = Scope(modules=frozenset(Module), division_ids=None, guardians=True)
    assert restrict(Selection(), whole) == Selection()
    pupils = Scope(modules=frozenset({Module.DEPANNAGE}), division_ids=None, guardians=False)
    assert restrict(Selection(), pupils).pupils_only


@pytest.mark.parametrize(
    ("direction", "module", "division_ids", "allowed"),
    [
        (True, Module.ADMINISTRATION, None, True),
        (False, Module.ADMINISTRATION, None, True),  # an administration delegation, « toutes »
        (False, Module.ADMINISTRATION, frozenset({1}), False),  # limited to some classes
        (False, Module.DEPANNAGE, None, False),
    ],
)
def test_import_needs_the_whole_school_in_the_administration_module(
    direction: bool, module: Module, division_ids: frozenset[int] | None, allowed: bool
) -> None:
    scope = Scope(
        modules=frozenset({module}),
        division_ids=division_ids,
        guardians=module is Module.ADMINISTRATION,
        direction=direction,
        module=module,
    )
    assert scope.allows(Action.IMPORT) is allowed
