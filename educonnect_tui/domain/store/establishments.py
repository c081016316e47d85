"""Looking up and creating establishments and their classes."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, aliased

from ..model.enums import EstablishmentType, Level, PupilStatus, division_order
from ..model.errors import InvalidInput, NotFound
from ..model.identifiers import normalize_uai
from ..model.printable import excerpt, mark, unprintable
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
    """A new school: its UAI checked (check letter) and not already in the database.

    The one way a school comes into existence, for ``school add`` and the demo alike.
    """
    code = normalize_uai(uai)
    existing = session.scalar(select(Establishment).where(Establishment.uai == code))
    if existing is not None:
        raise InvalidInput(
            f"L'établissement d'UAI {code} existe déjà ({excerpt(existing.name)})\u00a0: "
            "rien n'a été créé."
        )
    establishment = Establishment(
        uai=code,
        name=_label(name, "nom de l'établissement", 200, required=True),
        type=type,
        academie=_label(academie, "académie", 100),
        city=_label(city, "commune", 100),
    )
    session.add(establishment)
    session.flush()
    return establishment


def _label(value: str, what: str, limit: int, *, required: bool = False) -> str:
    value = re.sub(r"\s+", " ", value).strip()
    if required and not value:
        raise InvalidInput(f"{what[:1].upper()}{what[1:]} manquant\u00a0: rien n'a été créé.")
    if len(value) > limit:
        raise InvalidInput(f"{what[:1].upper()}{what[1:]} trop long ({limit} caractères au plus).")
    char = unprintable(value)
    if char is not None:
        raise InvalidInput(
            f"{what[:1].upper()}{what[1:]}\u00a0: caractère de contrôle ou invisible "
            f"U+{ord(char):04X} ({mark(char)}) interdit."
        )
    return value


@dataclass(frozen=True)
class SchoolRow:
    """One school as ``school list`` shows it, with what it holds."""

    id: int
    uai: str
    name: str
    type: EstablishmentType
    city: str
    academie: str
    divisions: int
    pupils: int  # enrolled
    guardians: int  # with a child enrolled there


def list_schools(session: Session) -> list[SchoolRow]:
    """Every school by UAI, its counts made by SQL (grouped), never by loading pupils."""
    divisions = dict(
        session.execute(
            select(Division.establishment_id, func.count()).group_by(Division.establishment_id)
        ).all()
    )
    pupils = dict(
        session.execute(
            select(Pupil.establishment_id, func.count())
            .where(Pupil.status == PupilStatus.ENROLLED)
            .group_by(Pupil.establishment_id)
        ).all()
    )
    guardians = dict(
        session.execute(
            select(Pupil.establishment_id, func.count(func.distinct(GuardianLink.guardian_id)))
            .join(GuardianLink, GuardianLink.pupil_id == Pupil.id)
            .where(Pupil.status == PupilStatus.ENROLLED)
            .group_by(Pupil.establishment_id)
        ).all()
    )
    return [
        SchoolRow(
            id=school.id,
            uai=school.uai,
            name=school.name,
            type=school.type,
            city=school.city,
            academie=school.academie,
            divisions=divisions.get(school.id, 0),
            pupils=pupils.get(school.id, 0),
            guardians=guardians.get(school.id, 0),
        )
        for school in session.scalars(select(Establishment).order_by(Establishment.uai))
    ]


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


# How many of the school's classes a refusal names (a lycée has dozens).
_CLASSES_SHOWN = 12


def class_key(name: str) -> str:
    """A class as typed and as stored compare trimmed and upper-cased (« 3e1 » is 3E1)."""
    return name.strip().upper()


def divisions_named(
    session: Session, establishment: Establishment, names: Iterable[str]
) -> list[Division]:
    """The school's classes of these names (``class_key``), in the order first given.

    An unknown name is refused (``InvalidInput``) rather than ignored: a filter on a
    mistyped class would otherwise select nobody, or a delegation cover no class,
    without a word. The refusal names the school's classes, so the right one is at hand.
    """
    wanted = list(dict.fromkeys(class_key(name) for name in names))
    if not wanted:
        return []
    found = {
        class_key(d.name): d
        for d in session.scalars(
            select(Division).where(
                Division.establishment_id == establishment.id,
                func.upper(func.trim(Division.name)).in_(wanted),
            )
        )
    }
    missing = [name for name in wanted if name not in found]
    if missing:
        listed = ", ".join(excerpt(name, 40) if name else "« »" for name in missing)
        word = "Classe inconnue" if len(missing) == 1 else "Classes inconnues"
        raise InvalidInput(
            f"{word} dans {establishment.uai}\u00a0: {listed} "
            f"({_school_classes(session, establishment)})."
        )
    return [found[name] for name in wanted]


def _school_classes(session: Session, establishment: Establishment) -> str:
    rows = session.execute(
        select(Division.name, Division.level).where(Division.establishment_id == establishment.id)
    ).all()
    if not rows:
        return "l'établissement n'a aucune classe"
    names = [name for name, _ in sorted(rows, key=lambda r: division_order(r.level, r.name))]
    shown = ", ".join(names[:_CLASSES_SHOWN])
    more = f", … {len(names)} en tout" if len(names) > _CLASSES_SHOWN else ""
    return f"classes\u00a0: {shown}{more}"


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
