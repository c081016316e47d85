"""What an import reads before it writes: the school's pupils, divisions and guardians.

Everything is looked up in bounded IN lists, so applying thousands of rows does not run
a query per row; a pupil import looks its rows up batch by batch, so that a large school
is never in memory all at once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import NamedTuple, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ..model.enums import PupilStatus
from ..model.tables import Division, Establishment, Guardian, GuardianLink, Pupil
from ..store import establishments

# Bound IN lists: SQLite and drivers have parameter limits, and smaller lists plan better.
_CHUNK = 500
_T = TypeVar("_T")


def chunks(items: Sequence[_T], size: int = _CHUNK) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def enrolled_count(session: Session, school: Establishment) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Pupil)
            .where(Pupil.establishment_id == school.id, Pupil.status == PupilStatus.ENROLLED)
        )
        or 0
    )


def enrolled_names(session: Session, school: Establishment) -> list[tuple[int, str, str, str]]:
    """(id, INE, last name, first name) of the school's enrolled pupils: rows, not objects."""
    return [
        (pupil_id, ine, last, first)
        for pupil_id, ine, last, first in session.execute(
            select(Pupil.id, Pupil.ine, Pupil.last_name, Pupil.first_name).where(
                Pupil.establishment_id == school.id, Pupil.status == PupilStatus.ENROLLED
            )
        )
    ]


def pupils_by_id(session: Session, ids: Sequence[int]) -> dict[int, Pupil]:
    """Those pupils with their account and division (at most one IN list's worth)."""
    found: dict[int, Pupil] = {}
    for chunk in chunks(ids):
        for pupil in session.scalars(
            select(Pupil)
            .where(Pupil.id.in_(chunk))
            .options(selectinload(Pupil.account), selectinload(Pupil.division))
        ):
            found[pupil.id] = pupil
    return found


def pupils_by_ine(session: Session, ines: Sequence[str]) -> dict[str, Pupil]:
    """Those pupils wherever they are enrolled: a pupil arriving from another school."""
    found: dict[str, Pupil] = {}
    for chunk in chunks(ines):
        for other in session.scalars(
            select(Pupil)
            .where(Pupil.ine.in_(chunk))
            .options(
                selectinload(Pupil.account),
                selectinload(Pupil.division),
                selectinload(Pupil.establishment),
            )
        ):
            found[other.ine] = other
    return found


def divisions_of(session: Session, school: Establishment) -> dict[str, Division]:
    return {
        d.name: d
        for d in session.scalars(select(Division).where(Division.establishment_id == school.id))
    }


class PupilRef(NamedTuple):
    """A pupil of the school as a guardian import needs it: a row, not an object."""

    id: int
    status: PupilStatus
    label: str  # « Léa MARTIN », as the report names pupils


def pupil_refs(session: Session, school: Establishment) -> dict[str, PupilRef]:
    """The school's pupils by INE, enrolled or not."""
    return {
        ine: PupilRef(pupil_id, PupilStatus(status), f"{first} {last}".strip())
        for pupil_id, ine, status, first, last in session.execute(
            select(Pupil.id, Pupil.ine, Pupil.status, Pupil.first_name, Pupil.last_name).where(
                Pupil.establishment_id == school.id
            )
        )
    }


_GUARDIAN_OPTIONS = (selectinload(Guardian.account), selectinload(Guardian.links))


def guardians_by_key(session: Session, keys: Sequence[str]) -> dict[str, Guardian]:
    """Those guardians (by SIECLE identifier), with their account and every link."""
    found: dict[str, Guardian] = {}
    for chunk in chunks(keys):
        for guardian in session.scalars(
            select(Guardian).where(Guardian.source_key.in_(chunk)).options(*_GUARDIAN_OPTIONS)
        ):
            found[guardian.source_key] = guardian
    return found


def guardians_by_id(session: Session, ids: Sequence[int]) -> dict[int, Guardian]:
    found: dict[int, Guardian] = {}
    for chunk in chunks(ids):
        for guardian in session.scalars(
            select(Guardian).where(Guardian.id.in_(chunk)).options(*_GUARDIAN_OPTIONS)
        ):
            found[guardian.id] = guardian
    return found


def linked_guardian_names(
    session: Session, school: Establishment
) -> list[tuple[int, str, str, str]]:
    """(id, identifier, last name, first name) of the guardians linked to the school's
    pupils, former pupils too (an import also drops the links of pupils who left)."""
    linked = establishments.guardians_of(school.id, enrolled_only=False)
    return [
        (guardian_id, key, last, first)
        for guardian_id, key, last, first in session.execute(
            select(Guardian.id, Guardian.source_key, Guardian.last_name, Guardian.first_name).where(
                Guardian.id.in_(linked)
            )
        )
    ]


def guardians_with_enrolled_pupil(session: Session, guardian_ids: Sequence[int]) -> set[int]:
    found: set[int] = set()
    for chunk in chunks(guardian_ids):
        found.update(
            session.scalars(
                select(GuardianLink.guardian_id)
                .join(Pupil, Pupil.id == GuardianLink.pupil_id)
                .where(GuardianLink.guardian_id.in_(chunk), Pupil.status == PupilStatus.ENROLLED)
                .distinct()
            )
        )
    return found


def guardian_names_of(session: Session, pupil_ids: Sequence[int]) -> set[tuple[int, str, str]]:
    """(id, last name, first name) of those pupils' guardians: rows, not objects."""
    found: set[tuple[int, str, str]] = set()
    for chunk in chunks(pupil_ids):
        found.update(
            (guardian_id, last, first)
            for guardian_id, last, first in session.execute(
                select(Guardian.id, Guardian.last_name, Guardian.first_name)
                .join(GuardianLink, GuardianLink.guardian_id == Guardian.id)
                .where(GuardianLink.pupil_id.in_(chunk))
            )
        )
    return found
