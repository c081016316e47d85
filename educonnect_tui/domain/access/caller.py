"""Who calls a use case, and for which school: the one argument every service takes.

Two kinds of caller exist, and every use case has the shape ``(services, caller, request)``:

- ``SchoolSession``: a staff member signed in to the TUI and working on one school. The
  school is never missing: a person attached to several schools is a ``SignedIn`` until
  they pick one (``sign_in.choose_school``), and a ``SignedIn`` calls no use case.
- ``Operator``: the command line, run by the machine's operator (the account that owns the
  database), naming the school it acts on. It is not a staff member and holds every right;
  the audit trail records it as « ligne de commande (user) ».

"This caller works on that school" is therefore ``caller.school``: services never take a
UAI or an establishment id beside the caller.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields

from ..model.enums import Module, StaffRole
from ..model.errors import PermissionDenied
from ..store.audit import Actor
from ..store.establishments import get_by_uai
from ..store.services import Services
from .network import Connection, NetworkMode

_ROLE_LABELS = {
    StaffRole.DIRECTION: "Personnel de direction",
    StaffRole.AGENT: "Agent",
}


@dataclass(frozen=True)
class SchoolRef:
    id: int
    uai: str
    name: str

    @property
    def label(self) -> str:
        return f"{self.name} ({self.uai})"


@dataclass(frozen=True)
class StaffIdentity:
    """Who signed in, as the screens show it; detached from the database."""

    staff_id: int
    login: str
    first_name: str
    last_name: str
    role: StaffRole
    title: str
    schools: tuple[SchoolRef, ...]

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def role_label(self) -> str:
        return role_label(self.role)


def role_label(role: StaffRole) -> str:
    """« Personnel de direction » or « Agent »."""
    return _ROLE_LABELS[role]


def not_attached(uai: str) -> str:
    return f"Vous n'êtes pas rattaché à l'établissement « {uai} »."


@dataclass(frozen=True)
class SignInTrace:
    """When and from where a person signed in: shown to them at their next sign-in."""

    at: dt.datetime
    source: str


@dataclass(frozen=True)
class SignedIn:
    """A staff member past the sign-in checks: who, how the second factor was met, from where.

    ``network_mode`` describes the connection (administrative network, or outside it
    where the administration module asks for the OTP key); ``module`` is what the person
    signed in for. Use cases take a ``SchoolSession``: ``at`` makes one.
    """

    identity: StaffIdentity
    network_mode: NetworkMode
    connection: Connection
    module: Module = Module.ADMINISTRATION
    # The ``staff_session`` row of this sign-in: services refuse it once it has ended.
    session_id: int | None = field(default=None, kw_only=True)
    # A temporary password was used: nothing else is allowed before a personal one.
    password_change_required: bool = field(default=False, kw_only=True)
    # The sign-in before this one (None the first time).
    previous_sign_in: SignInTrace | None = field(default=None, kw_only=True)

    @property
    def second_factor(self) -> bool:
        """True when the OTP key was checked or the administrative network stood in for it.

        An administration sign-in always has it (``sign_in`` refuses otherwise); a
        dépannage sign-in has it only from the administrative network.
        """
        return self.module is Module.ADMINISTRATION or self.network_mode is NetworkMode.ADMIN

    def actor(self) -> Actor:
        identity = self.identity
        return Actor(
            label=f"{identity.display_name} ({identity.login})",
            source_address=self.connection.source,
            staff_id=identity.staff_id,
        )

    def at(self, school: SchoolRef) -> SchoolSession:
        """This person working on ``school``, which must be one of theirs."""
        if school not in self.identity.schools:
            raise PermissionDenied(not_attached(school.uai))
        kept = {f.name: getattr(self, f.name) for f in fields(SignedIn)}
        return SchoolSession(**kept, school=school)


@dataclass(frozen=True)
class SchoolSession(SignedIn):
    """A signed-in staff member working on one school: the TUI's caller."""

    school: SchoolRef = field(kw_only=True)


@dataclass(frozen=True)
class Operator:
    """The command line's operator, acting on the school it names; holds every right."""

    school: SchoolRef
    who: Actor
    # The operator holds every right; audit records name the module as for the direction.
    module: Module = Module.ADMINISTRATION

    @classmethod
    def naming(cls, services: Services, uai: str) -> Operator:
        """The operator working on the school of that UAI (checked; ``NotFound`` if absent)."""
        with services.sessions() as session:
            found = get_by_uai(session, uai)
            school = SchoolRef(id=found.id, uai=found.uai, name=found.name)
        return cls(school=school, who=Actor.command_line())

    @property
    def second_factor(self) -> bool:
        return True

    def actor(self) -> Actor:
        return self.who


Caller = SchoolSession | Operator
