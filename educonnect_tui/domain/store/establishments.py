"""Looking up and creating establishments and their classes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..model.enums import EstablishmentType, Level
from ..model.errors import NotFound
from ..model.identifiers import normalize_uai
from ..model.tables import Division, Establishment


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


def get_or_create_division(session: Session, establishment: Establishment, name: str) -> Division:
    division = session.scalar(
        select(Division).where(Division.establishment_id == establishment.id, Division.name == name)
    )
    if division is None:
        division = Division(
            establishment=establishment, name=name, level=Level.of_division(name).value
        )
        session.add(division)
        session.flush()
    return division
