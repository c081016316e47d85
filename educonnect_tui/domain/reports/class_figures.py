"""Figures per class, and the orders a head sorts them in to see which classes to chase.

A guardian counts once in each class where they have a child, so the guardians of the
classes add up to more than the school's guardians.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..model.enums import AccountKind, AccountState, division_order
from ..model.tables import Account, Division, GuardianLink, Pupil
from .counts import KindStats, pupils_of


@dataclass(frozen=True)
class ClassStats:
    division: str
    level: str
    pupils: KindStats
    guardians: KindStats


class ClassSort(StrEnum):
    """How the per-class table can be ordered; rates put the classes to chase first."""

    SCHOOL = "classe"
    PUPIL_RATE = "taux_eleves"
    GUARDIAN_RATE = "taux_responsables"
    PUPILS_LEFT = "eleves_a_activer"
    GUARDIANS_LEFT = "responsables_a_activer"

    @property
    def label(self) -> str:
        return {
            "classe": "classe",
            "taux_eleves": "taux élèves",
            "taux_responsables": "taux représentants",
            "eleves_a_activer": "élèves à activer",
            "responsables_a_activer": "représentants à activer",
        }[self.value]

    @property
    def descending_first(self) -> bool:
        """Counts of who is left to activate read best from the largest down."""
        return self in (ClassSort.PUPILS_LEFT, ClassSort.GUARDIANS_LEFT)


def sort_classes(
    classes: Sequence[ClassStats], key: ClassSort, descending: bool = False
) -> list[ClassStats]:
    """Order the class rows; ties (and ``SCHOOL``) keep the school order (level, name).

    Ascending rates and descending "left to activate" both put the classes to chase on top,
    which is what a head opens this table for.
    """
    school_order = {c.division: i for i, c in enumerate(classes)}
    if key is ClassSort.SCHOOL:
        ordered = sorted(classes, key=lambda c: school_order[c.division])
        return ordered[::-1] if descending else ordered
    sign = -1.0 if descending else 1.0
    return sorted(classes, key=lambda c: (sign * _sort_value(c, key), school_order[c.division]))


def _sort_value(c: ClassStats, key: ClassSort) -> float:
    if key is ClassSort.PUPIL_RATE:
        return c.pupils.rate
    if key is ClassSort.GUARDIAN_RATE:
        return c.guardians.rate
    if key is ClassSort.PUPILS_LEFT:
        return float(c.pupils.not_activated)
    if key is ClassSort.GUARDIANS_LEFT:
        return float(c.guardians.not_activated)
    return 0.0


def class_stats(
    session: Session, establishment_id: int, division_ids: frozenset[int] | None
) -> list[ClassStats]:
    only = () if division_ids is None else (Division.id.in_(sorted(division_ids)),)
    divisions = session.execute(
        select(Division.id, Division.name, Division.level).where(
            Division.establishment_id == establishment_id, *only
        )
    ).all()
    pupils: dict[int, dict[AccountState, int]] = {}
    for division_id, state, n in session.execute(
        select(Pupil.division_id, Account.state, func.count())
        .join(Account, Account.pupil_id == Pupil.id)
        .where(*pupils_of(establishment_id, division_ids))
        .group_by(Pupil.division_id, Account.state)
    ):
        if division_id is None:
            continue
        pupils.setdefault(division_id, {})[AccountState(state)] = int(n)
    # A guardian counts once per class where they have a child.
    pairs = (
        select(Pupil.division_id.label("division_id"), GuardianLink.guardian_id)
        .join(GuardianLink, GuardianLink.pupil_id == Pupil.id)
        .where(*pupils_of(establishment_id, division_ids))
        .distinct()
        .subquery()
    )
    guardians: dict[int, dict[AccountState, int]] = {}
    for division_id, state, n in session.execute(
        select(pairs.c.division_id, Account.state, func.count())
        .join(Account, Account.guardian_id == pairs.c.guardian_id)
        .group_by(pairs.c.division_id, Account.state)
    ):
        guardians.setdefault(division_id, {})[AccountState(state)] = int(n)
    ordered = sorted(divisions, key=lambda d: division_order(d.level, d.name))
    return [
        ClassStats(
            division=name,
            level=level,
            pupils=KindStats(AccountKind.PUPIL, pupils.get(division_id, {})),
            guardians=KindStats(AccountKind.GUARDIAN, guardians.get(division_id, {})),
        )
        for division_id, name, level in ordered
    ]
