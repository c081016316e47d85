"""Small builders for test data: schools, pupils, guardians, their accounts.

They go through the same domain helpers as production (``accounts.pupil_account``,
``states.transition``) so a test never writes a state the rules could not produce.
``simulate_notification`` stands in for the notification pipeline where a test only
needs an account to hold a known temporary password.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from educonnect_tui.domain.access import passwords
from educonnect_tui.domain.access.caller import Operator, SchoolRef, SchoolSession
from educonnect_tui.domain.access.network import Connection, NetworkMode
from educonnect_tui.domain.access.sign_in import session_of
from educonnect_tui.domain.access.staff import NewStaff, create_staff
from educonnect_tui.domain.accounts import logins as accounts
from educonnect_tui.domain.accounts.issuing import expiry, issue_temporary
from educonnect_tui.domain.model.enums import (
    EstablishmentType,
    Module,
    PupilStatus,
    StaffRole,
)
from educonnect_tui.domain.model.tables import (
    Account,
    Establishment,
    Guardian,
    GuardianLink,
    Pupil,
    Staff,
)
from educonnect_tui.domain.store.audit import Actor
from educonnect_tui.domain.store.establishments import get_or_create_division
from educonnect_tui.domain.store.services import Services

_serial = itertools.count(1)

DEFAULT_UAI = "0750655E"


def school(
    session: Session, uai: str = DEFAULT_UAI, name: str = "Collège Jean Moulin"
) -> Establishment:
    establishment = Establishment(
        uai=uai, name=name, type=EstablishmentType.COLLEGE, academie="Paris", city="Paris"
    )
    session.add(establishment)
    session.flush()
    return establishment


def pupil(
    session: Session,
    establishment: Establishment,
    *,
    first_name: str = "Jeanne",
    last_name: str = "Dupont",
    birth_date: dt.date = dt.date(2012, 5, 14),
    division: str = "6E1",
    status: PupilStatus = PupilStatus.ENROLLED,
) -> Account:
    """A pupil and their (non notifié) account."""
    row = Pupil(
        establishment=establishment,
        ine=f"{next(_serial):010d}A",
        last_name=last_name,
        first_name=first_name,
        birth_date=birth_date,
        division=get_or_create_division(session, establishment, division),
        status=status,
    )
    session.add(row)
    account = accounts.pupil_account(row, accounts.LoginAllocator(session))
    session.add(account)
    session.flush()
    return account


def guardian(
    session: Session,
    children: list[Account],
    *,
    first_name: str = "Marie",
    last_name: str = "Dupont",
    civility: str = "Mme",
    mobile: str | None = "06 12 34 56 78",
    email: str | None = None,
) -> Account:
    """A guardian linked to the pupils owning ``children``, and their (non notifié) account."""
    row = Guardian(
        source_key=f"G{next(_serial)}",
        civility=civility,
        last_name=last_name,
        first_name=first_name,
        mobile=mobile,
        email=email,
    )
    session.add(row)
    for child in children:
        assert child.pupil is not None
        session.add(GuardianLink(guardian=row, pupil=child.pupil, relationship_label="MERE"))
    account = accounts.guardian_account(row, accounts.LoginAllocator(session))
    session.add(account)
    session.flush()
    return account


def simulate_notification(
    services: Services, account_id: int, temp_password: str, *, issued_at: dt.datetime | None = None
) -> None:
    """Give the account a known temporary password, as a (re)notification would.

    Replacing the hash is exactly what invalidates the previous temporary password.
    """
    issued = issued_at or services.clock()
    with services.sessions() as session, session.begin():
        account = session.get_one(Account, account_id)
        issue_temporary(
            account,
            passwords.hash_password(temp_password, services.hash_params),
            now=issued,
            expires=expiry(services, account.kind, issued),
        )


@dataclass(frozen=True)
class Family:
    """Ids and logins of one school's pupil(s) and guardian, committed."""

    pupil_ids: tuple[int, ...]
    pupil_logins: tuple[str, ...]
    guardian_id: int
    guardian_login: str


def family(
    services: Services,
    *,
    children: tuple[tuple[str, dt.date], ...] = (("Jeanne", dt.date(2012, 5, 14)),),
    guardian_first_name: str = "Marie",
    guardian_last_name: str = "Dupont",
    mobile: str | None = "06 12 34 56 78",
) -> Family:
    """A school, some children named Dupont and one guardian: everything non notifié."""
    with services.sessions() as session, session.begin():
        establishment = session.scalar(
            select(Establishment).where(Establishment.uai == DEFAULT_UAI)
        )
        if establishment is None:
            establishment = school(session)
        kids = [
            pupil(session, establishment, first_name=name, birth_date=born)
            for name, born in children
        ]
        parent = guardian(
            session,
            kids,
            first_name=guardian_first_name,
            last_name=guardian_last_name,
            mobile=mobile,
        )
        return Family(
            pupil_ids=tuple(k.id for k in kids),
            pupil_logins=tuple(k.login for k in kids),
            guardian_id=parent.id,
            guardian_login=parent.login,
        )


def account(services: Services, account_id: int) -> Account:
    """A detached snapshot of an account, to assert on after the domain call committed."""
    with services.sessions() as session:
        return session.get_one(Account, account_id)


STAFF_PASSWORD = "Bureau-Direction-2026"


def staff_member(
    services: Services,
    *,
    schools: tuple[tuple[str, str], ...] = ((DEFAULT_UAI, "Collège Jean Moulin"),),
    first_name: str = "Hélène",
    last_name: str = "Martin",
    role: StaffRole = StaffRole.DIRECTION,
    title: str = "principale",
    password: str = STAFF_PASSWORD,
) -> NewStaff:
    """A committed staff member attached to ``schools`` (UAI, name), created when missing."""
    with services.sessions() as session, session.begin():
        attached = []
        for uai, name in schools:
            found = session.scalar(select(Establishment).where(Establishment.uai == uai))
            attached.append(found if found is not None else school(session, uai, name))
        return create_staff(
            session,
            first_name=first_name,
            last_name=last_name,
            role=role,
            title=title,
            establishments=attached,
            hash_params=services.hash_params,
            password=password,
        )


def signed_in(
    services: Services,
    login: str,
    uai: str,
    *,
    mode: NetworkMode = NetworkMode.ADMIN,
    address: str | None = "10.0.0.5",
    module: Module = Module.ADMINISTRATION,
) -> SchoolSession:
    """The session ``sign_in`` gives this staff member once past the checks, on that school.

    Built by the domain's own rule (``sign_in.session_of``), without the password and code:
    it opens the session's row and records the sign-in, as a real one does.
    """
    with services.sessions() as session, session.begin():
        staff = session.scalar(select(Staff).where(Staff.login == login))
        assert staff is not None, login
        person = session_of(
            staff,
            connection=Connection(address=address, via_ssh=address is not None),
            module=module,
            mode=mode,
            now=services.clock(),
        )
    school = next(s for s in person.identity.schools if s.uai == uai)
    return person.at(school)


def operator(services: Services, uai: str = DEFAULT_UAI, who: Actor | None = None) -> Operator:
    """The command line's operator on that school (``who``: the actor the trail records)."""
    caller = Operator.naming(services, uai)
    return caller if who is None else replace(caller, who=who)


def operator_at(services: Services, establishment_id: int) -> Operator:
    """The command line's operator on the school of that id (whatever its UAI looks like)."""
    with services.sessions() as session:
        school = session.get_one(Establishment, establishment_id)
        ref = SchoolRef(id=school.id, uai=school.uai, name=school.name)
    return Operator(school=ref, who=Actor.command_line())


def pair_failures(services: Services, realm: str, login: str, source: str) -> int | None:
    """Failures counted on the (login, address) pair, None when it has none (access.attempts)."""
    from educonnect_tui.domain.access import attempts
    from educonnect_tui.domain.model.tables import SignInFailure

    with services.sessions() as session:
        digest = attempts.login_digest(session, realm, login)  # type: ignore[arg-type]
        return session.scalar(
            select(SignInFailure.failed_attempts).where(
                SignInFailure.realm == realm,
                SignInFailure.login_digest == digest,
                SignInFailure.source == source,
            )
        )
