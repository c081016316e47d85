"""A school's staff accounts: who they are, and every change to their access.

Rules (docs/domain.md, « Staff accounts »):

- only the direction, in an administration session, and the command line's
  ``Operator`` manage staff (``permissions.Action.MANAGE_STAFF``), and only staff
  attached to the caller's school (``NotFound`` for anyone else);
- a password given to someone (a new account, a reset) is temporary: it must be
  replaced at the next sign-in and is refused after ``staff_temp_password_days``;
- a school always keeps one enabled direction account: neither disabling nor a change
  of role may take away the last one of any school the person is attached to
  (``_keeps_direction``), and nobody disables, demotes or resets the password of
  themselves here;
- disabling ends access at the person's next action (``permissions._scope`` reads the
  row on every call) and revokes their delegations, in every school, each revocation
  audited; the row stays, so the journal still names them; enabling gives access back,
  not the delegations;
- each change is one transaction with its audit record, serialised with the other
  writers (``db.serialise_writes``: two principals disabling each other at once cannot
  both pass the last-direction check); a password, a TOTP secret or a provisioning URI
  is never in a record: they are returned once (``IssuedCredentials``) for the screen
  or the terminal.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, selectinload

from ..model.enums import EstablishmentType, StaffRole
from ..model.errors import InvalidInput, NotFound, PermissionDenied
from ..model.identifiers import search_key, search_terms, sort_key
from ..model.states import Lockout
from ..model.tables import Delegation, Establishment, Staff
from ..store import audit, db, establishments, keys
from ..store.audit import Actor
from ..store.services import Services
from . import attempts, passwords, sessions
from .caller import Caller, SchoolSession, SignedIn, role_label
from .delegations import current_of, revoke_row
from .permissions import CHOOSE_PASSWORD_FIRST, DISABLED_SESSION, Action, require
from .staff import NewStaff, create_staff, generate_staff_password, provisioning_uri

STAFF_PASSWORD_POLICY = passwords.STAFF_PASSWORD_POLICY


class StaffState(StrEnum):
    """One word per person, the most important first (désactivé > … > actif)."""

    DISABLED = "désactivé"
    BLOCKED = "bloqué"
    TEMPORARY_EXPIRED = "provisoire expiré"
    TEMPORARY = "provisoire"  # the password: read beside « provisoire expiré »
    ACTIVE = "actif"


@dataclass(frozen=True)
class StaffView:
    """One staff member as the staff screen and ``staff list`` show them; detached."""

    id: int
    login: str
    first_name: str
    last_name: str
    display_name: str
    role: StaffRole
    role_label: str
    title: str
    schools: tuple[str, ...]  # UAIs
    delegations: tuple[str, ...]  # this school's current ones, in words
    last_sign_in_at: dt.datetime | None
    last_sign_in_source: str | None
    blocked_until: dt.datetime | None  # only while the block lasts
    otp_enrolled: bool
    password_temporary_until: dt.datetime | None
    disabled_at: dt.datetime | None
    state: StaffState
    is_self: bool


@dataclass(frozen=True)
class IssuedCredentials:
    """What is shown once (a new account, a reset): never stored in clear, never audited.

    ``password`` None: the password did not change (an OTP reset); ``totp_secret`` and
    ``provisioning_uri`` None: the OTP key did not change (a password reset). ``repr``
    prints none of them (a traceback or a log line must not).
    """

    staff_id: int
    login: str
    display_name: str
    password: str | None = field(repr=False)
    password_until: dt.datetime | None
    totp_secret: str | None = field(repr=False)
    provisioning_uri: str | None = field(repr=False)


@dataclass(frozen=True)
class NewStaffRequest:
    """Who to add. ``also_at``: other schools (UAIs) the person works in too; a staff
    session may name only schools it is itself attached to."""

    first_name: str
    last_name: str
    role: StaffRole
    title: str = ""
    login: str | None = None
    also_at: tuple[str, ...] = ()


@dataclass(frozen=True)
class NewSchool:
    """The school ``initialise`` creates on an empty database."""

    uai: str
    name: str
    type: EstablishmentType
    academie: str = ""
    city: str = ""


# --------------------------------------------------------------------------- helpers


def state_of(member: Staff, now: dt.datetime) -> StaffState:
    if member.disabled_at is not None:
        return StaffState.DISABLED
    if Lockout.is_blocked(member, now):
        return StaffState.BLOCKED
    until = member.password_temporary_until
    if until is not None:
        return StaffState.TEMPORARY_EXPIRED if until <= now else StaffState.TEMPORARY
    return StaffState.ACTIVE


def _name(member: Staff) -> str:
    return f"{member.first_name} {member.last_name}".strip()


def _temporary_until(services: Services, now: dt.datetime) -> dt.datetime:
    return now + dt.timedelta(days=services.settings.staff_temp_password_days)


def _self_id(caller: Caller) -> int | None:
    return caller.identity.staff_id if isinstance(caller, SchoolSession) else None


def _authorise(services: Services, caller: Caller) -> Actor:
    """A change to someone's access: the direction, with a recent password confirmation."""
    require(services, caller, Action.MANAGE_STAFF)
    sessions.require_recent_confirmation(services, caller)
    return caller.actor()


def _of_school(school_id: int) -> ColumnElement[bool]:
    return Staff.establishments.any(Establishment.id == school_id)


def _member(session: Session, caller: Caller, staff_id: int) -> Staff:
    """The staff member of the caller's school, row-locked; ``NotFound`` otherwise."""
    member = session.scalar(
        select(Staff).where(Staff.id == staff_id, _of_school(caller.school.id)).with_for_update()
    )
    if member is None:
        raise NotFound(f"Aucun personnel n° {staff_id} dans l'établissement {caller.school.uai}.")
    return member


# What nobody does to their own account: another member of the direction does it.
SELF_REFUSALS = {
    "reset_password": (
        "Vous ne pouvez pas réinitialiser votre propre mot de passe ici\u00a0: changez-le "
        "vous-même, ou demandez-le à un autre personnel de direction."
    ),
    "disable": (
        "Vous ne pouvez pas désactiver votre propre compte\u00a0: demandez-le à un autre "
        "personnel de direction."
    ),
    "change_role": (
        "Vous ne pouvez pas changer votre propre rôle\u00a0: demandez-le à un autre "
        "personnel de direction."
    ),
}


def _not_self(caller: Caller, member: Staff, what: str) -> None:
    if _self_id(caller) == member.id:
        raise InvalidInput(SELF_REFUSALS[what])


def _keeps_direction(session: Session, member: Staff) -> None:
    """Refuse when ``member`` is the last enabled direction account of one of their schools.

    Every school counts, not only the caller's: the role and the disabled state belong
    to the person, and a school left without direction has nobody to manage its staff.
    """
    if member.role is not StaffRole.DIRECTION or member.disabled_at is not None:
        return
    schools = sorted(member.establishments, key=lambda e: (e.name.casefold(), e.uai))
    for school in schools:
        others = session.scalar(
            select(func.count(Staff.id)).where(
                Staff.id != member.id,
                Staff.role == StaffRole.DIRECTION,
                Staff.disabled_at.is_(None),
                _of_school(school.id),
            )
        )
        if not others:
            raise InvalidInput(
                f"{_name(member)} est le dernier compte de direction de l'établissement "
                f"{school.name} ({school.uai})\u00a0: ajoutez d'abord un autre personnel de "
                "direction."
            )


def _record(
    session: Session,
    actor: Actor,
    action: str,
    caller: Caller,
    now: dt.datetime,
    details: dict[str, object],
) -> None:
    audit.record(
        session, actor, action, now=now, establishment_id=caller.school.id, details=details
    )


def _issued(new: NewStaff, until: dt.datetime | None) -> IssuedCredentials:
    return IssuedCredentials(
        staff_id=new.id,
        login=new.login,
        display_name=f"{new.first_name} {new.last_name}".strip(),
        password=new.password,
        password_until=until,
        totp_secret=new.totp_secret,
        provisioning_uri=new.provisioning_uri,
    )


# --------------------------------------------------------------------------- reading


def list_staff(services: Services, caller: Caller, search: str = "") -> list[StaffView]:
    """The school's staff, enabled first, each part in the French order of names.

    ``search``: every word must start a word of the person's names or login, accents
    and case ignored (the accounts' rule, ``identifiers.search_terms``). The school's
    staff (a few dozen) are selected in SQL and the words compared here: the staff
    table keeps no folded search column.
    """
    require(services, caller, Action.MANAGE_STAFF)
    now = services.clock()
    day = services.today()
    terms = search_terms(search)
    with services.sessions() as session:
        rows = session.scalars(
            select(Staff)
            .where(_of_school(caller.school.id))
            .options(selectinload(Staff.establishments))
        ).all()
        if terms:
            rows = [r for r in rows if _matches(terms, r)]
        current = current_of(session, (r.id for r in rows), caller.school.id, day)
        views = [_view(r, caller, now, [v.label for v in current.get(r.id, [])]) for r in rows]
    return sorted(
        views,
        key=lambda v: (v.disabled_at is not None, sort_key(v.last_name, v.first_name), v.login),
    )


def _matches(terms: list[str], member: Staff) -> bool:
    words = search_key(member.last_name, member.first_name, member.login).split()
    return all(any(w.startswith(t) for w in words) for t in terms)


def _view(member: Staff, caller: Caller, now: dt.datetime, delegations: list[str]) -> StaffView:
    return StaffView(
        id=member.id,
        login=member.login,
        first_name=member.first_name,
        last_name=member.last_name,
        display_name=_name(member),
        role=member.role,
        role_label=role_label(member.role),
        title=member.title,
        schools=tuple(sorted(e.uai for e in member.establishments)),
        delegations=tuple(delegations),
        last_sign_in_at=member.last_sign_in_at,
        last_sign_in_source=member.last_sign_in_source,
        blocked_until=member.blocked_until if Lockout.is_blocked(member, now) else None,
        otp_enrolled=member.last_totp_step is not None,
        password_temporary_until=member.password_temporary_until,
        disabled_at=member.disabled_at,
        state=state_of(member, now),
        is_self=_self_id(caller) == member.id,
    )


def staff_id_of(services: Services, caller: Caller, login: str) -> int:
    """The id of the school's staff member with that login (any case); ``NotFound``."""
    require(services, caller, Action.MANAGE_STAFF)
    typed = login.strip().lower()
    with services.sessions() as session:
        found = session.scalar(
            select(Staff.id).where(func.lower(Staff.login) == typed, _of_school(caller.school.id))
        )
    if found is None:
        raise NotFound(
            f"Aucun personnel « {login.strip()[:64]} » dans l'établissement {caller.school.uai}."
        )
    return int(found)


# --------------------------------------------------------------------------- changes


def add_staff(services: Services, caller: Caller, request: NewStaffRequest) -> IssuedCredentials:
    """A new staff member of the caller's school, with a temporary password and an OTP key."""
    actor = _authorise(services, caller)
    now = services.clock()
    until = _temporary_until(services, now)
    with services.sessions() as session, session.begin():
        db.serialise_writes(session)
        schools = [session.get_one(Establishment, caller.school.id)]
        schools += _other_schools(session, caller, request.also_at, schools[0])
        new = create_staff(
            session,
            first_name=request.first_name,
            last_name=request.last_name,
            role=request.role,
            establishments=schools,
            hash_params=services.hash_params,
            title=request.title,
            login=request.login,
            temporary_until=until,
        )
        _record(
            session,
            actor,
            "staff_add",
            caller,
            now,
            {"login": new.login, "role": new.role.value, "uai": [s.uai for s in schools]},
        )
    return _issued(new, until)


def _other_schools(
    session: Session, caller: Caller, uais: tuple[str, ...], first: Establishment
) -> list[Establishment]:
    found: list[Establishment] = []
    mine = None
    if isinstance(caller, SchoolSession):
        me = session.get_one(Staff, caller.identity.staff_id)
        mine = {e.id for e in me.establishments}
    for uai in uais:
        school = establishments.get_by_uai(session, uai)
        if school.id == first.id or school in found:
            continue
        if mine is not None and school.id not in mine:
            raise PermissionDenied(
                f"Vous n'êtes pas rattaché à l'établissement {school.uai}\u00a0: vous ne "
                "pouvez pas y ajouter un personnel."
            )
        found.append(school)
    return found


def reset_password(services: Services, caller: Caller, staff_id: int) -> IssuedCredentials:
    """A new temporary password (the old one stops at once); the account is unblocked."""
    actor = _authorise(services, caller)
    now = services.clock()
    until = _temporary_until(services, now)
    password = generate_staff_password()
    hashed = passwords.hash_password(password, services.hash_params)
    with services.sessions() as session, session.begin():
        db.serialise_writes(session)
        member = _member(session, caller, staff_id)
        _not_self(caller, member, "reset_password")
        member.password_hash = hashed
        member.password_temporary_until = until
        Lockout.record_success(member)
        attempts.forget_pairs(session, attempts.STAFF, [member.login])
        # Whoever is signed in with the old password is signed in no more.
        sessions.end_all(session, member.id, now, "password_reset")
        _record(
            session,
            actor,
            "staff_password_reset",
            caller,
            now,
            {"login": member.login, "temporary_until": until.isoformat()},
        )
        issued = IssuedCredentials(
            staff_id=member.id,
            login=member.login,
            display_name=_name(member),
            password=password,
            password_until=until,
            totp_secret=None,
            provisioning_uri=None,
        )
    return issued


def reset_otp(services: Services, caller: Caller, staff_id: int) -> IssuedCredentials:
    """A new OTP key: the old one stops at once, the person scans the new one."""
    import pyotp

    actor = _authorise(services, caller)
    now = services.clock()
    secret = pyotp.random_base32()
    with services.sessions() as session, session.begin():
        db.serialise_writes(session)
        member = _member(session, caller, staff_id)
        member.totp_secret = keys.seal_totp(session, member.id, secret)
        member.last_totp_step = None
        _record(session, actor, "staff_otp_reset", caller, now, {"login": member.login})
        issued = IssuedCredentials(
            staff_id=member.id,
            login=member.login,
            display_name=_name(member),
            password=None,
            password_until=None,
            totp_secret=secret,
            provisioning_uri=provisioning_uri(member.login, secret),
        )
    return issued


def unlock(services: Services, caller: Caller, staff_id: int) -> None:
    """Lift the account's block and those of its (login, address) pairs."""
    actor = _authorise(services, caller)
    now = services.clock()
    with services.sessions() as session, session.begin():
        db.serialise_writes(session)
        member = _member(session, caller, staff_id)
        was = member.blocked_until if Lockout.is_blocked(member, now) else None
        Lockout.record_success(member)
        attempts.forget_pairs(session, attempts.STAFF, [member.login])
        _record(
            session,
            actor,
            "staff_unlock",
            caller,
            now,
            {"login": member.login, "blocked_until": was.isoformat() if was else None},
        )


def disable(services: Services, caller: Caller, staff_id: int) -> None:
    """End the person's access now and revoke their delegations, in every school."""
    actor = _authorise(services, caller)
    now = services.clock()
    day = services.today()
    with services.sessions() as session, session.begin():
        db.serialise_writes(session)
        member = _member(session, caller, staff_id)
        _not_self(caller, member, "disable")
        if member.disabled_at is not None:
            raise InvalidInput(
                f"{_name(member)} est déjà désactivé depuis le "
                f"{services.time.date(member.disabled_at)}."
            )
        _keeps_direction(session, member)
        member.disabled_at = now
        sessions.end_all(session, member.id, now, "disabled")
        current = session.scalars(
            select(Delegation)
            .where(Delegation.agent_id == member.id, Delegation.not_over_on(day))
            .order_by(Delegation.id)
            .with_for_update()
        ).all()
        _record(
            session,
            actor,
            "staff_disable",
            caller,
            now,
            {"login": member.login, "revoked": len(current)},
        )
        for delegation in current:
            revoke_row(session, actor, delegation, revoked_by_id=_self_id(caller), now=now, day=day)


def enable(services: Services, caller: Caller, staff_id: int) -> None:
    """Give a disabled person their access back (not their revoked delegations)."""
    actor = _authorise(services, caller)
    now = services.clock()
    with services.sessions() as session, session.begin():
        db.serialise_writes(session)
        member = _member(session, caller, staff_id)
        if member.disabled_at is None:
            raise InvalidInput(f"{_name(member)} n'est pas désactivé.")
        member.disabled_at = None
        _record(session, actor, "staff_enable", caller, now, {"login": member.login})


def change_role(services: Services, caller: Caller, staff_id: int, role: StaffRole) -> None:
    """Direction or agent; the last direction account of a school stays direction."""
    actor = _authorise(services, caller)
    now = services.clock()
    with services.sessions() as session, session.begin():
        db.serialise_writes(session)
        member = _member(session, caller, staff_id)
        if member.role is role:
            raise InvalidInput(f"{_name(member)} a déjà le rôle « {role_label(role)} ».")
        _not_self(caller, member, "change_role")
        _keeps_direction(session, member)
        before = member.role
        member.role = role
        _record(
            session,
            actor,
            "staff_role_changed",
            caller,
            now,
            {"login": member.login, "role": role.value, "role_before": before.value},
        )


def change_own_password(services: Services, caller: SignedIn, new_password: str) -> None:
    """The person's own new password (the staff policy, not the current one); audited.

    This is what a temporary password must be replaced by before anything else; it
    needs no right of the school (``_scope`` grants none while the password is
    temporary), only that the account exists and is not disabled.
    """
    now = services.clock()
    staff_id = caller.identity.staff_id
    with services.sessions() as session, session.begin():
        sessions.live_row(session, caller)  # an ended session changes nothing
        member = session.get(Staff, staff_id, with_for_update=True)
        if member is None or member.disabled_at is not None:
            raise PermissionDenied(DISABLED_SESSION)
        passwords.check_new_password(
            new_password, member.login, minimum=passwords.STAFF_PASSWORD_MIN_LENGTH
        )
        if passwords.verify_password(member.password_hash, new_password):
            raise InvalidInput(
                "Le nouveau mot de passe doit être différent du mot de passe actuel."
            )
        was_temporary = member.password_temporary_until is not None
        member.password_hash = passwords.hash_password(new_password, services.hash_params)
        member.password_temporary_until = None
        audit.record(
            session,
            caller.actor(),
            "staff_password_changed",
            now=now,
            establishment_id=caller.school.id if isinstance(caller, SchoolSession) else None,
            details={"login": member.login, "was_temporary": was_temporary},
        )


def initialise(
    services: Services, actor: Actor, school: NewSchool, person: NewStaffRequest
) -> IssuedCredentials:
    """First run: the school and its first direction account, on an empty database only.

    One transaction: either both exist, or neither. The password is temporary like any
    other given out; the OTP key is new.
    """
    now = services.clock()
    until = _temporary_until(services, now)
    with services.sessions() as session, session.begin():
        db.serialise_writes(session)
        schools = session.scalar(select(func.count(Establishment.id))) or 0
        staff = session.scalar(select(func.count(Staff.id))) or 0
        if schools or staff:
            raise InvalidInput(
                "La base contient déjà un établissement ou un personnel\u00a0: « init » ne sert "
                "qu'à une première installation. Ajoutez un personnel avec "
                "« educonnect-tui staff add »."
            )
        created = establishments.create(
            session,
            uai=school.uai,
            name=school.name,
            type=school.type,
            academie=school.academie,
            city=school.city,
        )
        audit.record(
            session,
            actor,
            "school_add",
            now=now,
            establishment_id=created.id,
            details={
                "uai": created.uai,
                "name": created.name,
                "school_type": created.type.value,
                "academie": created.academie,
                "city": created.city,
            },
        )
        new = create_staff(
            session,
            first_name=person.first_name,
            last_name=person.last_name,
            role=StaffRole.DIRECTION,
            establishments=[created],
            hash_params=services.hash_params,
            title=person.title,
            login=person.login,
            temporary_until=until,
        )
        audit.record(
            session,
            actor,
            "staff_add",
            now=now,
            establishment_id=created.id,
            details={"login": new.login, "role": new.role.value, "uai": [created.uai]},
        )
    return _issued(new, until)


__all__ = [
    "CHOOSE_PASSWORD_FIRST",
    "DISABLED_SESSION",
    "STAFF_PASSWORD_POLICY",
    "IssuedCredentials",
    "NewSchool",
    "NewStaffRequest",
    "StaffState",
    "StaffView",
    "add_staff",
    "change_own_password",
    "change_role",
    "disable",
    "enable",
    "initialise",
    "list_staff",
    "reset_otp",
    "reset_password",
    "staff_id_of",
    "state_of",
    "unlock",
]
