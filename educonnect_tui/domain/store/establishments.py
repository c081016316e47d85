"""Looking up and creating establishments and their classes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, aliased

from ..model.enums import EstablishmentType, Level, PupilStatus
from ..model.errors import NotFound
from ..model.identifiers import normalize_uai
from ..model.tables import Division, Establishment, GuardianLink, Pupil


def get_by_uai(session: Session, uai: str) -> Establishment:
    """The establishment for ``uai`` (checked first), or a French ``NotFound``."""
    code = normalize_uai(uai)
    found = session.scalar(select(Establishment).where(Establishment.uai == code))
    if found is None:
        raise NotFound(f"Aucun établissement d'UAI {code} dans la base.")
    return found


def create(
    session: Session,
    *,
    uai: str,
    name: str,
    type: EstablishmentType,
    academie: str,
    city: str,
) -> Establishment:
    establishment = Establishment(
        uai=normalize_uai(uai), name=name, type=type, academie=academie, city=city
    )
    session.add(establishment)
    session.flush()
    return establishment


def get_or_create_division(
    session: Session, establishment: Establishment, name: str, level: str | None = None
) -> Division:
    """``level`` is what the import file says; without it, the name tells (``Level``)."""
    division = session.scalar(
        select(Division).where(Division.establishment_id == establishment.id, Division.name == name)
    )
    if division is None:
        division = Division(
            establishment=establishment,
            name=name,
            level=level or Level.of_division(name).value,
        )
        session.add(division)
        session.flush()
    return division


def guardians_of(
    establishment_id: int,
    *,
    division_ids: Iterable[int] | None = None,
    enrolled_only: bool = True,
    child: Any = None,
) -> Select[int]:
    """Ids of the guardians who belong to the school: through a child of it (in those classes).

    ``enrolled_only`` is the rule for acting on guardians (helpdesk): a guardian belongs
    to a school while a child of theirs is enrolled there. With False, a child who left
    counts too: reading what the school holds (an account's detail, the permission check
    on named accounts, statistics that show former pupils as désactivé, the home lists
    that show the désactivé ones, ``accounts.selection``) keeps its former pupils'
    guardians. ``child`` is the caller's
    alias of ``Pupil`` when it narrows the children further.
    """
    child = child if child is not None else aliased(Pupil)
    query = (
        select(GuardianLink.guardian_id)
        .join(child, child.id == GuardianLink.pupil_id)
        .where(child.establishment_id == establishment_id)
    )
    if enrolled_only:
        query = query.where(child.status == PupilStatus.ENROLLED)
    if division_ids is not None:
        query = query.where(child.division_id.in_(sorted(division_ids)))
    return query
