"""Looking up and creating establishments and their classes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .enums import EstablishmentType
from .errors import NotFound
from .identifiers import normalize_uai
from .models import Division, Establishment


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


def level_of(division_name: str) -> str:
    """The level of a class from its name as SIECLE writes it: "3E2" -> "3e", "2NDE1" -> "2nde"."""
    name = division_name.strip().upper()
    for prefix, level in (
        ("TERM", "Terminale"),
        ("TLE", "Terminale"),
        ("1ERE", "1re"),
        ("1RE", "1re"),
        ("2NDE", "2de"),
        ("2DE", "2de"),
        ("6", "6e"),
        ("5", "5e"),
        ("4", "4e"),
        ("3", "3e"),
        ("CM2", "CM2"),
        ("CM1", "CM1"),
        ("CE2", "CE2"),
        ("CE1", "CE1"),
        ("CP", "CP"),
    ):
        if name.startswith(prefix):
            return level
    return "Autre"


def get_or_create_division(session: Session, establishment: Establishment, name: str) -> Division:
    division = session.scalar(
        select(Division).where(Division.establishment_id == establishment.id, Division.name == name)
    )
    if division is None:
        division = Division(establishment=establishment, name=name, level=level_of(name))
        session.add(division)
        session.flush()
    return division
