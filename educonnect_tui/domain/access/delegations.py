"""DELEG-CE: the head of school lends a module to an agent, for some classes, until a date.

Rules (docs/domain.md, « Délégations »):

- only the direction grants and revokes (``permissions.Action.MANAGE_DELEGATIONS``); the
  command line's ``Operator`` records a delegation on behalf of a member of the direction
  (``GrantRequest.granted_by_login``);
- the agent is staff of that school with the role agent: the direction already holds
  everything, and a delegation must never reach another school's staff;
- classes, when given, exist in that school; none means the whole school;
- a delegation starts today and ends on ``until`` (default: 31 August closing the school
  year), which cannot be in the past;
- one active or upcoming delegation per agent and module: changing its classes or its
  end is a revocation then a new grant, so the audit trail says what changed when;
- revoking never deletes: the row keeps who granted, who revoked and when, and the
  agent's next action is refused (``permissions`` reads delegations on every call);
- every change is audited, with the agent, module, classes and dates;
- granting and revoking are sensitive: a staff session must have confirmed its
  password within ``settings.reauth_minutes`` (``sessions.require_recent_confirmation``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..model.calendar import date_text
from ..model.enums import Module, StaffRole, division_order
from ..model.errors import InvalidInput, NotFound
from ..model.identifiers import sort_key
from ..model.tables import Delegation, Division, Establishment, Staff
from ..store import audit
from ..store.audit import Actor
from ..store.establishments import divisions_named
from ..store.services import Services
from .caller import Caller, SchoolSession
from .permissions import Action, require
from .sessions import require_recent_confirmation


class DelegationState(StrEnum):
    """Read in French on screen and in the CLI: a word, never a colour alone."""

    ACTIVE = "active"
    UPCOMING = "à venir"
    EXPIRED = "expirée"
    REVOKED = "révoquée"


_STATE_ORDER = {
    DelegationState.ACTIVE: 0,
    DelegationState.UPCOMING: 1,
    DelegationState.EXPIRED: 2,
    DelegationState.REVOKED: 3,
}


@dataclass(frozen=True)
class DelegationView:
    """One delegation as the manager screen and the CLI show it; detached from the ORM."""

    id: int
    agent_login: str
    agent_name: str
    module: Module
    classes: tuple[str, ...]  # empty: the whole school
    valid_from: dt.date
    valid_until: dt.date
    granted_by: str
    granted_at: dt.datetime
    revoked_at: dt.datetime | None
    state: DelegationState

    @property
    def classes_label(self) -> str:
        return ", ".join(self.classes) if self.classes else "toutes les classes"

    @property
    def module_label(self) -> str:
        return "administration" if self.module is Module.ADMINISTRATION else "dépannage"

    @property
    def label(self) -> str:
        """« dépannage (6E1, 6E2) jusqu'au 31/08/2027 »: a current one, in a few words."""
        starts = (
            f" à partir du {date_text(self.valid_from)}"
            if self.state is DelegationState.UPCOMING
            else ""
        )
        return (
            f"{self.module_label} ({self.classes_label}){starts} "
            f"jusqu'au {date_text(self.valid_until)}"
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "agent": self.agent_login,
            "nom": self.agent_name,
            "module": self.module.value,
            "classes": list(self.classes),
            "du": self.valid_from.isoformat(),
            "au": self.valid_until.isoformat(),
            "accordee_par": self.granted_by,
            "accordee_le": self.granted_at.isoformat(),
            "revoquee_le": self.revoked_at.isoformat() if self.revoked_at else None,
            "etat": self.state.value,
        }


@dataclass(frozen=True)
class AgentRef:
    """An agent of the school, for choosing whom to delegate to."""

    staff_id: int
    login: str
    name: str
    title: str

    @property
    def label(self) -> str:
        title = f", {self.title}" if self.title else ""
        return f"{self.name} ({self.login}{title})"


# --------------------------------------------------------------------------- helpers


def school_year_end(day: dt.date) -> dt.date:
    """31 August closing the school year ``day`` belongs to (a year runs 1/9 → 31/8)."""
    return dt.date(day.year if day.month < 9 else day.year + 1, 8, 31)


def state_of(delegation: Delegation, day: dt.date) -> DelegationState:
    if delegation.revoked_at is not None:
        return DelegationState.REVOKED
    if delegation.is_active_on(day):
        return DelegationState.ACTIVE
    return DelegationState.UPCOMING if day < delegation.valid_from else DelegationState.EXPIRED


def _name(staff: Staff) -> str:
    return f"{staff.first_name} {staff.last_name}".strip()


def _view(delegation: Delegation, day: dt.date) -> DelegationView:
    classes = sorted(delegation.divisions, key=lambda d: division_order(d.level, d.name))
    return DelegationView(
        id=delegation.id,
        agent_login=delegation.agent.login,
        agent_name=_name(delegation.agent),
        module=delegation.module,
        classes=tuple(d.name for d in classes),
        valid_from=delegation.valid_from,
        valid_until=delegation.valid_until,
        granted_by=_name(delegation.granted_by),
        granted_at=delegation.granted_at,
        revoked_at=delegation.revoked_at,
        state=state_of(delegation, day),
    )


def _authorise(services: Services, caller: Caller) -> tuple[Actor, int | None]:
    """The actor to audit and, for a staff session, the staff id granting or revoking."""
    require(services, caller, Action.MANAGE_DELEGATIONS)
    staff_id = caller.identity.staff_id if isinstance(caller, SchoolSession) else None
    return caller.actor(), staff_id


def _school(session: Session, caller: Caller) -> Establishment:
    return session.get_one(Establishment, caller.school.id)


def _staff_of(session: Session, school: Establishment) -> list[Staff]:
    """A school's staff (a few dozen, read whole) in the French order of names."""
    staff = session.scalars(
        select(Staff).where(Staff.establishments.any(Establishment.id == school.id))
    )
    return sorted(staff, key=lambda s: (sort_key(s.last_name, s.first_name), s.login))


def _granter(
    session: Session, school: Establishment, staff_id: int | None, login: str | None
) -> Staff:
    """Who the delegation is from: the session's person, or the direction member named."""
    if staff_id is not None:
        return session.get_one(Staff, staff_id)
    direction = [s for s in _staff_of(session, school) if s.role is StaffRole.DIRECTION]
    if login:
        wanted = login.strip().lower()
        found = next((s for s in direction if s.login.lower() == wanted), None)
        if found is None:
            raise InvalidInput(
                f"« {login.strip()[:64]} » n'est pas un personnel de direction de "
                f"l'établissement {school.uai}."
            )
        return found
    if len(direction) == 1:
        return direction[0]
    raise InvalidInput(
        "Précisez le personnel de direction qui accorde la délégation (--by IDENTIFIANT)."
        if direction
        else f"L'établissement {school.uai} n'a aucun personnel de direction."
    )


def _divisions(session: Session, school: Establishment, names: Iterable[str]) -> list[Division]:
    return divisions_named(session, school, (n for n in names if n.strip()))


# --------------------------------------------------------------------------- services


def agents_of(services: Services, caller: Caller) -> list[AgentRef]:
    """The school's agents, whom a delegation may be granted to."""
    _authorise(services, caller)
    with services.sessions() as session:
        school = _school(session, caller)
        return [
            AgentRef(staff_id=s.id, login=s.login, name=_name(s), title=s.title)
            for s in _staff_of(session, school)
            if s.role is StaffRole.AGENT
        ]


def class_names(services: Services, caller: Caller) -> list[str]:
    """The school's classes, in level order, for limiting a delegation."""
    _authorise(services, caller)
    with services.sessions() as session:
        school = _school(session, caller)
        divisions = session.scalars(
            select(Division).where(Division.establishment_id == school.id)
        ).all()
        ordered = sorted(divisions, key=lambda d: division_order(d.level, d.name))
        return [d.name for d in ordered]


@dataclass(frozen=True)
class GrantRequest:
    """What to delegate: a module to an agent, for some classes (none: all), until a date.

    ``until`` None is the 31 August closing the school year; ``granted_by_login`` names
    the member of the direction on whose behalf the command line grants.
    """

    agent_login: str
    module: Module
    until: dt.date | None = None
    division_names: tuple[str, ...] = ()
    granted_by_login: str | None = None


def grant(services: Services, caller: Caller, request: GrantRequest) -> DelegationView:
    """Delegate ``request.module`` to the agent, from today to ``request.until``; audited."""
    agent_login, module, until = request.agent_login, request.module, request.until
    division_names, granted_by_login = request.division_names, request.granted_by_login
    actor, staff_id = _authorise(services, caller)
    require_recent_confirmation(services, caller)
    now = services.clock()
    day = services.today()
    end = until if until is not None else school_year_end(day)
    if end < day:
        raise InvalidInput(
            f"La date de fin ({date_text(end)}) est passée\u00a0: choisissez une date à partir "
            f"du {date_text(day)}."
        )
    with services.sessions() as session, session.begin():
        school = _school(session, caller)
        typed = agent_login.strip().lower()
        agent = next((s for s in _staff_of(session, school) if s.login.lower() == typed), None)
        if agent is None:
            raise InvalidInput(
                f"« {agent_login.strip()[:64]} » n'est pas un personnel de l'établissement "
                f"{school.uai}."
            )
        if agent.role is not StaffRole.AGENT:
            raise InvalidInput(
                f"{_name(agent)} fait partie de la direction, qui a déjà tous les modules\u00a0: "
                "une délégation ne s'accorde qu'à un agent."
            )
        divisions = _divisions(session, school, division_names)
        granter = _granter(session, school, staff_id, granted_by_login)
        current = session.scalars(
            select(Delegation).where(
                Delegation.agent_id == agent.id,
                Delegation.establishment_id == school.id,
                Delegation.module == module,
                # Not only active ones: a delegation still to come would overlap too.
                Delegation.not_over_on(day),
            )
        ).first()
        if current is not None:
            raise InvalidInput(
                f"{_name(agent)} a déjà une délégation {module.value} en cours (n° {current.id}, "
                f"jusqu'au {date_text(current.valid_until)})\u00a0: révoquez-la d'abord."
            )
        delegation = Delegation(
            establishment_id=school.id,
            agent_id=agent.id,
            module=module,
            valid_from=day,
            valid_until=end,
            granted_by_id=granter.id,
            granted_at=now,
            divisions=divisions,
        )
        session.add(delegation)
        session.flush()
        view = _view(delegation, day)
        audit.record(
            session,
            actor,
            "delegation_grant",
            now=now,
            establishment_id=school.id,
            details={
                "delegation_id": delegation.id,
                "agent": agent.login,
                "module": module.value,
                "classes": list(view.classes),
                "valid_from": day.isoformat(),
                "valid_until": end.isoformat(),
                "granted_by": granter.login,
            },
        )
    return view


def revoke(services: Services, caller: Caller, delegation_id: int) -> DelegationView:
    """End a delegation now; the agent's next action is refused. Audited."""
    actor, staff_id = _authorise(services, caller)
    require_recent_confirmation(services, caller)
    now = services.clock()
    day = services.today()
    with services.sessions() as session, session.begin():
        school = _school(session, caller)
        delegation = session.get(Delegation, delegation_id, with_for_update=True)
        if delegation is None or delegation.establishment_id != school.id:
            raise NotFound(
                f"Aucune délégation n° {delegation_id} dans l'établissement {school.uai}."
            )
        state = state_of(delegation, day)
        if state is DelegationState.REVOKED:
            raise InvalidInput(f"La délégation n° {delegation_id} est déjà révoquée.")
        if state is DelegationState.EXPIRED:
            raise InvalidInput(
                f"La délégation n° {delegation_id} a expiré le "
                f"{date_text(delegation.valid_until)}\u00a0: il n'y a rien à révoquer."
            )
        view = revoke_row(session, actor, delegation, revoked_by_id=staff_id, now=now, day=day)
    return view


def revoke_row(
    session: Session,
    actor: Actor,
    delegation: Delegation,
    *,
    revoked_by_id: int | None,
    now: dt.datetime,
    day: dt.date,
) -> DelegationView:
    """Revoke a delegation that is not over, in the caller's transaction; audited.

    ``revoke`` and disabling a staff member (``staff_accounts.disable``, which revokes
    each of their delegations, in every school) write the same record.
    """
    state = state_of(delegation, day)
    delegation.revoked_at = now
    delegation.revoked_by_id = revoked_by_id
    session.flush()
    view = _view(delegation, day)
    audit.record(
        session,
        actor,
        "delegation_revoke",
        now=now,
        establishment_id=delegation.establishment_id,
        details={
            "delegation_id": delegation.id,
            "agent": delegation.agent.login,
            "module": delegation.module.value,
            "classes": list(view.classes),
            "valid_until": delegation.valid_until.isoformat(),
            "state_before": state.value,
        },
    )
    return view


def current_of(
    session: Session, agent_ids: Iterable[int], school_id: int | None, day: dt.date
) -> dict[int, list[DelegationView]]:
    """The agents' delegations not over on ``day`` (active or to come), by agent id.

    In one school, or in every school with ``school_id`` None. One query whatever the
    number of agents; each agent's in the order of ``list_delegations``.
    """
    ids = sorted(set(agent_ids))
    found: dict[int, list[DelegationView]] = {}
    if not ids:
        return found
    query = select(Delegation).where(Delegation.agent_id.in_(ids), Delegation.not_over_on(day))
    if school_id is not None:
        query = query.where(Delegation.establishment_id == school_id)
    rows = session.scalars(
        query.options(
            selectinload(Delegation.agent),
            selectinload(Delegation.granted_by),
            selectinload(Delegation.divisions),
        )
    ).all()
    for row in sorted(rows, key=lambda d: (d.valid_from, d.module, d.id)):
        found.setdefault(row.agent_id, []).append(_view(row, day))
    return found


def list_delegations(services: Services, caller: Caller) -> list[DelegationView]:
    """Every delegation of the school, current ones first, then by agent."""
    _authorise(services, caller)
    day = services.today()
    with services.sessions() as session:
        school = _school(session, caller)
        rows = session.scalars(
            select(Delegation)
            .where(Delegation.establishment_id == school.id)
            .options(
                selectinload(Delegation.agent),
                selectinload(Delegation.granted_by),
                selectinload(Delegation.divisions),
            )
        ).all()
        views = [_view(d, day) for d in rows]
    return sorted(
        views,
        key=lambda v: (_STATE_ORDER[v.state], v.agent_name.casefold(), v.module, -v.id),
    )


__all__ = [
    "AgentRef",
    "DelegationState",
    "DelegationView",
    "GrantRequest",
    "agents_of",
    "class_names",
    "current_of",
    "grant",
    "list_delegations",
    "revoke",
    "revoke_row",
    "school_year_end",
    "state_of",
]
