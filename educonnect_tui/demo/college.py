"""A realistic, deterministic demo: a collège in mid-campaign and a neighbouring école.

Everything about the pupils and guardians (names, birth dates, classes, states, dates)
comes from ``random.Random(seed)``, so two runs with the same seed and clock build the
same school; dates are relative to ``services.clock()`` so the demo always looks like a
campaign that started about ten weeks ago. Staff passwords and TOTP secrets come from
``staff.create_staff`` (``secrets``): they are shown once and cannot be rebuilt, so
running the demo again renews them instead of rebuilding everything.

``reset=True`` empties the whole database (every table) before recreating the demo; it
is refused when the database holds any establishment that is not a demo one (this
collège and école, or the académie of ``academie.py``). Without it, a database holding
the académie is refused too: the two demos are not meant to be mixed.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..domain.access.staff import NewStaff, renew_credentials
from ..domain.model.enums import AccountState
from ..domain.model.errors import InvalidInput
from ..domain.model.tables import (
    Account,
    Base,
    Establishment,
    GuardianLink,
    Pupil,
    Staff,
    staff_establishment,
)
from ..domain.store import audit
from ..domain.store.audit import Actor
from ..domain.store.db import transaction
from ..domain.store.services import Services
from . import reset as audit_guard
from .academie_plan import LARGEST_UAI, is_academie_uai
from .college_build import COLLEGE_UAI, DEMO_UAIS, build
from .college_staff import COLLEGE_STAFF, ECOLE_STAFF, credentials_lines

__all__ = [
    "COLLEGE_UAI",
    "DEMO_SEED",
    "DEMO_UAIS",
    "DemoSummary",
    "check_resettable",
    "create_demo",
    "empty_database",
]

DEMO_SEED = 20260901


@dataclass(frozen=True)
class DemoSummary:
    """What ``educonnect-tui demo`` prints: the staff credentials exist nowhere else."""

    created: bool
    establishments: list[tuple[str, str]]  # (uai, name)
    pupils: int
    guardians: int
    accounts_by_state: dict[str, int]  # AccountState value -> accounts of the demo
    staff: list[NewStaff]

    def lines(self) -> list[str]:
        out = [
            "Démonstration créée."
            if self.created
            else "La démonstration existait déjà\u00a0: données conservées,\n"
            "identifiants du personnel renouvelés.",
            "",
            "Établissements\u00a0:",
        ]
        out += [f"  {uai}  {name}" for uai, name in self.establishments]
        states = " · ".join(
            f"{state.label} {self.accounts_by_state.get(state.value, 0)}" for state in AccountState
        )
        out += [
            f"Élèves\u00a0: {self.pupils} — représentants légaux\u00a0: {self.guardians}",
            f"Comptes\u00a0: {states}",
            "",
            "Personnel (notez-les maintenant\u00a0: ils ne sont conservés que hachés)\u00a0:",
        ]
        out += credentials_lines(
            self.staff,
            (
                "Relancer « demo » renouvelle ces identifiants ;",
                "« demo --reset » vide toute la base et recrée la démonstration.",
            ),
        )
        return out


def create_demo(
    services: Services, actor: Actor, *, seed: int = DEMO_SEED, reset: bool = False
) -> DemoSummary:
    """Build the demo once; later runs only renew the staff credentials (see module doc)."""
    now = services.clock()
    with transaction(services.sessions) as session:
        if reset:
            empty_database(session)
        elif session.scalar(select(Establishment.id).where(Establishment.uai == LARGEST_UAI)):
            raise InvalidInput(
                "la base contient l'académie (demo --scale academie)\u00a0: « demo --reset » la "
                "remplace par la démonstration du collège."
            )
        existing = session.scalar(select(Establishment).where(Establishment.uai == COLLEGE_UAI))
        if existing is not None:
            new_staff = _renew_staff(session, services)
            created = False
            college_id = existing.id
        else:
            new_staff, college_id = build(session, services, random.Random(seed), now)
            created = True
        audit.record(
            session,
            actor,
            "demo",
            now=now,
            establishment_id=college_id,
            details={"seed": seed, "created": created, "reset": reset},
        )
        summary = _summary(session, created, new_staff)
    if reset:
        audit_guard.restate_empty_trail(services.key_store)
    return summary


# --- reset and rerun ------------------------------------------------------------------


def empty_database(session: Session) -> None:
    """Delete every row, children first: the demo owns the database when reset is asked.

    Also used by ``academie.build``; the académie's schools count as demo ones. Once it
    commits, the caller restates the key file (``reset.restate_empty_trail``).
    """
    check_resettable(session.scalars(select(Establishment.uai).order_by(Establishment.uai)))
    # The audit trail's triggers refuse DELETE: audit_guard empties it on purpose.
    audit_guard.empty_tables(session, list(reversed(Base.metadata.sorted_tables)))


def check_resettable(uais: Iterable[str]) -> None:
    """Refuse to empty a database holding schools that are not the demos' (``InvalidInput``)."""
    foreign = [uai for uai in uais if uai not in DEMO_UAIS and not is_academie_uai(uai)]
    if foreign:
        shown = ", ".join(foreign[:5]) + ("…" if len(foreign) > 5 else "")
        raise InvalidInput(
            "Réinitialisation refusée\u00a0: la base contient d'autres établissements que ceux "
            f"de la démonstration ({shown}). « demo --reset » vide toute la base."
        )


def _renew_staff(session: Session, services: Services) -> list[NewStaff]:
    """New passwords and TOTP secrets for the demo staff only (not staff added since)."""
    wanted = {(first, last, title) for first, last, _, title, _ in COLLEGE_STAFF + ECOLE_STAFF}
    demo_ids = select(Establishment.id).where(Establishment.uai.in_(DEMO_UAIS))
    members = session.scalars(
        select(Staff)
        .join(staff_establishment, staff_establishment.c.staff_id == Staff.id)
        .where(staff_establishment.c.establishment_id.in_(demo_ids))
        .distinct()
        .order_by(Staff.id)
    ).all()
    return [
        renew_credentials(member, services.hash_params)
        for member in members
        if (member.first_name, member.last_name, member.title) in wanted
    ]


def _summary(session: Session, created: bool, staff: list[NewStaff]) -> DemoSummary:
    schools = session.execute(
        select(Establishment.id, Establishment.uai, Establishment.name)
        .where(Establishment.uai.in_(DEMO_UAIS))
        .order_by(Establishment.uai)
    ).all()
    ids = [row.id for row in schools]
    pupil_ids = select(Pupil.id).where(Pupil.establishment_id.in_(ids))
    guardian_ids = (
        select(GuardianLink.guardian_id).where(GuardianLink.pupil_id.in_(pupil_ids)).distinct()
    )
    pupils = session.scalar(select(func.count()).select_from(pupil_ids.subquery())) or 0
    guardians = session.scalar(select(func.count()).select_from(guardian_ids.subquery())) or 0
    by_state = session.execute(
        select(Account.state, func.count())
        .where(Account.pupil_id.in_(pupil_ids) | Account.guardian_id.in_(guardian_ids))
        .group_by(Account.state)
    ).all()
    return DemoSummary(
        created=created,
        establishments=[(row.uai, row.name) for row in schools],
        pupils=pupils,
        guardians=guardians,
        accounts_by_state={AccountState(state).value: count for state, count in by_state},
        staff=staff,
    )
