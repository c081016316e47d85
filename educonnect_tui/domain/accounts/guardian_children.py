"""The children a guardian's documents name: their enrolled legal children, in SQL."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from ..documents.credentials import ChildRef
from ..model.enums import PupilStatus
from ..model.tables import Account, Division, Establishment, GuardianLink, Pupil


def legal_children(
    session: Session, account_ids: Sequence[int], *, school_id: int | None = None
) -> dict[int, list[ChildRef]]:
    """Each guardian account's enrolled children they are the legal representative of,
    eldest first, with what places a letter (class, level, birth date, school).

    Another contact of a pupil is never named. ``school_id`` keeps only that school's
    children (a list of the school's accounts); a letter names them all, wherever they are.
    """
    child = aliased(Pupil)
    query = (
        select(
            Account.id,
            child.last_name,
            child.first_name,
            Division.name,
            Establishment.name,
            Division.level,
            child.birth_date,
            Establishment.uai,
        )
        .join(GuardianLink, GuardianLink.guardian_id == Account.guardian_id)
        .join(child, child.id == GuardianLink.pupil_id)
        .join(Division, Division.id == child.division_id)
        .join(Establishment, Establishment.id == child.establishment_id)
        .where(
            Account.id.in_(account_ids),
            child.status == PupilStatus.ENROLLED,
            GuardianLink.legal_guardian.is_(True),
        )
        .order_by(Account.id, child.birth_date)
    )
    if school_id is not None:
        query = query.where(child.establishment_id == school_id)
    children: dict[int, list[ChildRef]] = {}
    for account_id, last, first, division, school_name, level, born, uai in session.execute(query):
        children.setdefault(account_id, []).append(
            ChildRef(last, first, division, school_name, level, born, uai)
        )
    return children
