"""Who may do what, decided in one place and checked by every domain service.

Access rules (docs/domain.md, « Who may do what »):

- the direction (``StaffRole.DIRECTION``) attached to the school holds the
  administration module on the whole school. It may also sign in to the dépannage
  module, which then gives it what the dépannage module gives anyone (pupils only):
  the smaller module never widens anything the larger one already grants;
- an agent holds only what an active DELEG-CE delegation for that school gives
  (``valid_from <= today <= valid_until``, not revoked): the administration module,
  possibly limited to some classes, and/or the dépannage module (pupils only: see them,
  recall the identifier, reset the password, unblock; never guardians, never notify);
- the administration module needs the second factor (OTP key or administrative
  network); the dépannage module does not, but guardians' accounts always do.

Direction-only actions, part of the administration module (so with the second
factor, and never from a dépannage session): managing delegations (that is what a
delegation must never be able to give), reading the audit trail (it holds every
staff member's actions on the whole school, not only on delegated classes), and the
SIECLE import (it rewrites every class and may deactivate any account). Exporting
account lists is an administration-module action limited to the scope, like listing.

The staff member, their session and their delegations are read again from the
database on every call: a delegation revoked or expired while someone is signed in
stops working at their next action, and so does a session that has ended (signed
out, account disabled: ``sessions.live_row``) and a disabled account; a person whose
password is still temporary holds nothing until they choose their own. Sign-in asks
the same question first (``holdings``): nobody signs in to a module they hold in none
of their schools. The UI hiding a key protects nothing; the services call ``require``
themselves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ..model.enums import AccountKind, Module, StaffRole, division_order
from ..model.errors import PermissionDenied, SessionEnded
from ..model.tables import Account, Delegation, Division, Pupil, Staff
from ..store.db import tested_not_looked_up
from ..store.establishments import guardians_of
from ..store.services import Services
from .caller import Caller, Operator, SchoolRef
from .sessions import live_row

# A person whose account was disabled, or whose password is still a temporary one, holds
# nothing: every action is refused with these words, whatever their role or delegations.
DISABLED_SESSION = "Ce compte a été désactivé\u00a0: votre session est terminée."
CHOOSE_PASSWORD_FIRST = "Choisissez d'abord un nouveau mot de passe."
SECOND_FACTOR_REQUIRED = (
    "Cette opération exige la clé OTP ou une connexion depuis le réseau administratif\u00a0: "
    "reconnectez-vous au module d'administration."
)


class Action(StrEnum):
    """Every staff action in the product."""

    VIEW_ACCOUNTS = "view_accounts"
    VIEW_DETAIL = "view_detail"
    NOTIFY = "notify"
    RECALL_LOGIN = "recall_login"
    RESET_PASSWORD = "reset_password"
    UNBLOCK = "unblock"
    VIEW_STATS = "view_stats"
    IMPORT = "import"
    EXPORT = "export"
    MANAGE_DELEGATIONS = "manage_delegations"
    VIEW_AUDIT = "view_audit"
    MANAGE_STAFF = "manage_staff"

    @property
    def label(self) -> str:
        """What the refusal messages call the action, in French."""
        return _ACTION_LABELS[self]


_ACTION_LABELS = {
    Action.VIEW_ACCOUNTS: "consulter les comptes",
    Action.VIEW_DETAIL: "consulter le détail d'un compte",
    Action.NOTIFY: "(re)notifier des comptes",
    Action.RECALL_LOGIN: "rappeler un identifiant",
    Action.RESET_PASSWORD: "réinitialiser un mot de passe",
    Action.UNBLOCK: "débloquer un compte",
    Action.VIEW_STATS: "consulter les statistiques",
    Action.IMPORT: "importer les données SIECLE",
    Action.EXPORT: "exporter les comptes",
    Action.MANAGE_DELEGATIONS: "gérer les délégations",
    Action.VIEW_AUDIT: "consulter le journal d'audit",
    Action.MANAGE_STAFF: "gérer les personnels",
}

# What each module allows; direction-only actions are in neither.
MODULE_ACTIONS: dict[Module, frozenset[Action]] = {
    Module.ADMINISTRATION: frozenset(
        {
            Action.VIEW_ACCOUNTS,
            Action.VIEW_DETAIL,
            Action.NOTIFY,
            Action.RECALL_LOGIN,
            Action.RESET_PASSWORD,
            Action.UNBLOCK,
            Action.VIEW_STATS,
            Action.EXPORT,
        }
    ),
    Module.DEPANNAGE: frozenset(
        {
            Action.VIEW_ACCOUNTS,
            Action.VIEW_DETAIL,
            Action.RECALL_LOGIN,
            Action.RESET_PASSWORD,
            Action.UNBLOCK,
        }
    ),
}
DIRECTION_ONLY: frozenset[Action] = frozenset(
    {Action.MANAGE_DELEGATIONS, Action.VIEW_AUDIT, Action.MANAGE_STAFF}
)
# The direction, and an agent whose administration delegation covers the whole school:
# an import brings every class in line with the file, not only some.
WHOLE_SCHOOL: frozenset[Action] = frozenset({Action.IMPORT})


@dataclass(frozen=True)
class Scope:
    """What the signed-in person may reach right now, for the module of the session.

    ``modules`` are the modules they hold in the school (role or active delegations);
    ``division_ids`` the classes the session's module covers (None: every class of the
    school; empty: none); ``guardians`` whether guardians' accounts are reachable
    (administration module in use and held, with the second factor).
    """

    modules: frozenset[Module]
    division_ids: frozenset[int] | None
    guardians: bool
    establishment_id: int = 0
    direction: bool = False
    module: Module = Module.ADMINISTRATION
    attached: bool = True

    @property
    def holds_session_module(self) -> bool:
        return self.module in self.modules

    def allows(self, action: Action) -> bool:
        """Whether the action is possible at all in this session (keys, menus)."""
        if action in DIRECTION_ONLY:
            return self.direction and self.module is Module.ADMINISTRATION
        if action in WHOLE_SCHOOL:
            return self.module is Module.ADMINISTRATION and self.whole_school
        return self.holds_session_module and action in MODULE_ACTIONS[self.module]

    @property
    def whole_school(self) -> bool:
        """The direction, or a delegation of the session's module without class limit."""
        return self.direction or (self.holds_session_module and self.division_ids is None)


# --------------------------------------------------------------------------- scope


def _scope(session: Session, services: Services, caller: Caller) -> Scope:
    school_id = caller.school.id
    if isinstance(caller, Operator):
        return Scope(
            modules=frozenset(Module),
            division_ids=None,
            guardians=True,
            establishment_id=school_id,
            direction=True,
        )
    live_row(session, caller)  # an ended session holds nothing: SessionEnded
    module = caller.module
    staff = session.get(Staff, caller.identity.staff_id)
    if staff is None or school_id not in {e.id for e in staff.establishments}:
        return Scope(
            modules=frozenset(),
            division_ids=frozenset(),
            guardians=False,
            establishment_id=school_id,
            module=module,
            attached=False,
        )
    if staff.disabled_at is not None:
        raise SessionEnded(DISABLED_SESSION)
    if staff.password_temporary_until is not None:
        raise PermissionDenied(CHOOSE_PASSWORD_FIRST)
    if staff.role is StaffRole.DIRECTION:
        return Scope(
            modules=frozenset(Module),
            division_ids=None,
            guardians=module is Module.ADMINISTRATION and caller.second_factor,
            establishment_id=school_id,
            direction=True,
            module=module,
        )
    delegations = _active_delegations(session, services.today(), staff.id, school_id)
    modules = frozenset(d.module for d in delegations)
    divisions: set[int] | None = set()
    for delegation in delegations:
        if delegation.module is not module:
            continue
        if not delegation.divisions:
            divisions = None  # one delegation on the whole school covers every class
            break
        assert divisions is not None
        divisions.update(d.id for d in delegation.divisions)
    return Scope(
        modules=modules,
        division_ids=None if divisions is None else frozenset(divisions),
        guardians=module is Module.ADMINISTRATION and module in modules and caller.second_factor,
        establishment_id=school_id,
        module=module,
    )


def _active_delegations(
    session: Session, today: dt.date, staff_id: int, school_id: int | None = None
) -> list[Delegation]:
    """The agent's delegations active today, in one school or in all of them."""
    query = select(Delegation).where(Delegation.agent_id == staff_id, Delegation.active_on(today))
    if school_id is not None:
        query = query.where(Delegation.establishment_id == school_id)
    return list(session.scalars(query.options(selectinload(Delegation.divisions))))


@dataclass(frozen=True)
class Holding:
    """A module a person holds in one of their schools, by role or by active delegation.

    ``classes`` names the classes it covers, in school order; None is every class.
    """

    school: SchoolRef
    module: Module
    classes: tuple[str, ...] | None


def holdings(session: Session, today: dt.date, staff: Staff) -> list[Holding]:
    """Every module ``staff`` holds today, school by school (the rule of ``_scope``).

    The direction holds both modules on every school it is attached to; an agent holds
    what their active delegations give, in the schools they are still attached to.
    """
    schools = {e.id: SchoolRef(id=e.id, uai=e.uai, name=e.name) for e in staff.establishments}
    if staff.role is StaffRole.DIRECTION:
        return [
            Holding(school=school, module=module, classes=None)
            for school in schools.values()
            for module in Module
        ]
    covered: dict[tuple[int, Module], set[tuple[tuple[int, str, str], str]] | None] = {}
    for delegation in _active_delegations(session, today, staff.id):
        if delegation.establishment_id not in schools:
            continue
        key = (delegation.establishment_id, delegation.module)
        classes = {(division_order(d.level, d.name), d.name) for d in delegation.divisions}
        if not classes or covered.get(key, set()) is None:
            covered[key] = None  # one delegation on the whole school covers every class
        else:
            known = covered.setdefault(key, set())
            assert known is not None
            known.update(classes)
    return [
        Holding(
            school=schools[school_id],
            module=module,
            classes=None if names is None else tuple(name for _, name in sorted(names)),
        )
        for (school_id, module), names in covered.items()
    ]


def scope_of(services: Services, caller: Caller) -> Scope:
    """The caller's scope, read again from the database (revocation applies at once)."""
    with services.sessions() as session:
        return _scope(session, services, caller)


# --------------------------------------------------------------------------- require


def _refuse(action: Action, why: str) -> PermissionDenied:
    return PermissionDenied(f"Vous ne pouvez pas {action.label}\u00a0: {why}.")


def _check_action(caller: Caller, scope: Scope, action: Action) -> None:
    uai = caller.school.uai
    if not scope.attached:
        raise _refuse(action, f"vous n'êtes pas rattaché à l'établissement {uai}")
    if not scope.modules and not scope.direction:
        raise _refuse(
            action,
            f"aucune délégation active ne vous donne accès à l'établissement {uai}",
        )
    if action in DIRECTION_ONLY:
        if not scope.direction:
            raise _refuse(action, "c'est réservé au personnel de direction")
        if scope.module is not Module.ADMINISTRATION:
            raise _refuse(action, "reconnectez-vous au module d'administration")
    if action in WHOLE_SCHOOL:
        if scope.module is not Module.ADMINISTRATION:
            raise _refuse(action, "reconnectez-vous au module d'administration")
        if not scope.whole_school:
            raise _refuse(
                action,
                "c'est réservé à la direction et aux délégations d'administration de tout "
                "l'établissement",
            )
    if not scope.holds_session_module:
        raise _refuse(
            action,
            f"aucune délégation active ne vous donne le module « {scope.module.label} »",
        )
    if action not in DIRECTION_ONLY | WHOLE_SCHOOL and action not in MODULE_ACTIONS[scope.module]:
        raise _refuse(action, f"le module « {scope.module.label} » ne le permet pas")
    if scope.module is Module.ADMINISTRATION and not caller.second_factor:
        raise PermissionDenied(SECOND_FACTOR_REQUIRED)


def _check_guardians(caller: Caller, scope: Scope, action: Action) -> None:
    if not caller.second_factor:
        raise PermissionDenied(SECOND_FACTOR_REQUIRED)
    if not scope.guardians:
        raise _refuse(
            action,
            "les comptes des représentants légaux relèvent du module d'administration",
        )


def _covered_accounts(session: Session, scope: Scope, ids: list[int]) -> tuple[int, bool]:
    """How many of ``ids`` the scope covers, and whether any is a guardian's, in SQL.

    A pupil is covered when in the scope's school (and classes); a guardian when one of
    their children is. Three small queries whatever the number of accounts (a
    notification of 2,000 pupils once loaded each pupil one by one: ~300 ms). They are
    driven by the ids; the school and classes are tested on what those find.
    """
    covered = tested_not_looked_up(Pupil.establishment_id) == scope.establishment_id
    if scope.division_ids is not None:
        covered = covered & tested_not_looked_up(Pupil.division_id).in_(scope.division_ids)
    pupils = session.scalar(
        select(func.count(Account.id))
        .join(Pupil, Pupil.id == Account.pupil_id)
        .where(Account.id.in_(ids), Account.kind == AccountKind.PUPIL, covered)
    )
    guardian_ids = select(Account.id).where(
        Account.id.in_(ids), Account.kind == AccountKind.GUARDIAN
    )
    # Former pupils' guardians too: the check covers what the school holds.
    school_guardians = guardians_of(
        scope.establishment_id, division_ids=scope.division_ids, enrolled_only=False
    )
    guardians = session.scalar(
        select(func.count(Account.id)).where(
            Account.id.in_(guardian_ids), Account.guardian_id.in_(school_guardians)
        )
    )
    any_guardian = session.scalar(select(guardian_ids.exists()))
    return int(pupils or 0) + int(guardians or 0), bool(any_guardian)


def _require(
    session: Session,
    services: Services,
    caller: Caller,
    action: Action,
    kind: AccountKind | None,
    account_ids: Iterable[int],
    division_names: Iterable[str],
) -> Scope:
    scope = _scope(session, services, caller)
    _check_action(caller, scope, action)
    if kind is AccountKind.GUARDIAN:
        _check_guardians(caller, scope, action)
    ids = sorted(set(account_ids))
    if ids:
        covered, any_guardian = _covered_accounts(session, scope, ids)
        if any_guardian:
            _check_guardians(caller, scope, action)
        if covered != len(ids):
            raise _refuse(
                action,
                "ce compte est hors des classes de votre délégation"
                if scope.division_ids is not None
                else "ce compte n'appartient pas à votre établissement",
            )
    names = sorted(set(division_names))
    if names and scope.division_ids is not None:
        found = session.scalars(
            select(Division).where(
                Division.establishment_id == scope.establishment_id,
                Division.name.in_(names),
            )
        ).all()
        outside = set(names) - {d.name for d in found if d.id in scope.division_ids}
        if outside:
            listed = ", ".join(sorted(outside))
            raise _refuse(action, f"classes hors de votre délégation\u00a0: {listed}")
    return scope


def require(
    services: Services,
    caller: Caller,
    action: Action,
    *,
    kind: AccountKind | None = None,
    account_ids: Iterable[int] = (),
    division_names: Iterable[str] = (),
) -> Scope:
    """The scope if ``action`` is allowed on these accounts/classes; ``PermissionDenied`` if not.

    Checks, in order: the school is one of the person's; the session's module is held
    and allows the action (direction-only actions apart); the administration module's
    second factor; the second factor and the administration module for any guardian
    (``kind`` or among ``account_ids``); every account and class within the scope.
    """
    with services.sessions() as session:
        return _require(session, services, caller, action, kind, account_ids, division_names)


def allowed(services: Services, caller: Caller, action: Action, **kwargs: object) -> bool:
    """``require`` as a yes/no, for tests and greying out keys."""
    try:
        require(services, caller, action, **kwargs)  # type: ignore[arg-type]
    except PermissionDenied:
        return False
    return True


__all__ = [
    "CHOOSE_PASSWORD_FIRST",
    "DIRECTION_ONLY",
    "DISABLED_SESSION",
    "MODULE_ACTIONS",
    "WHOLE_SCHOOL",
    "Action",
    "Holding",
    "Scope",
    "allowed",
    "holdings",
    "require",
    "scope_of",
]
