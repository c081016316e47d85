"""Pupils of an age to open their pass Culture, and those who cannot yet (no activated account).

Ages are counted on the school's date: a pupil turns 15 at midnight in Paris.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from ..model.enums import AccountState, Level, PupilStatus
from ..model.tables import Account, Division, Pupil
from .counts import pupils_of

# pass Culture opens from the 15th birthday to the day before the 18th.
PASS_CULTURE_MIN_AGE = 15
PASS_CULTURE_MAX_AGE = 17
# How every output names the ages: « 15 à 17 ans ».
AGES_LABEL = f"{PASS_CULTURE_MIN_AGE} à {PASS_CULTURE_MAX_AGE} ans"
# Enough for any class to chase; the count is always exact, only the list is cut.
PASS_CULTURE_LIST_LIMIT = 500


@dataclass(frozen=True)
class PassCulturePupil:
    account_id: int
    last_name: str
    first_name: str
    division: str
    login: str
    state: AccountState
    birth_date: dt.date


@dataclass(frozen=True)
class PassCulture:
    """Enrolled pupils aged 15 to 17 today: born after ``born_after``, up to ``born_until``."""

    born_after: dt.date
    born_until: dt.date
    eligible: int
    activated: int
    # Those without an activated account, by class and name; at most ``list_limit``.
    missing: tuple[PassCulturePupil, ...]
    list_limit: int

    @property
    def born_from(self) -> dt.date:
        """The earliest birth date in the window (the day after ``born_after``)."""
        return self.born_after + dt.timedelta(days=1)

    @property
    def not_activated(self) -> int:
        return self.eligible - self.activated

    @property
    def rate(self) -> float:
        return self.activated / self.eligible if self.eligible else 0.0

    @property
    def truncated(self) -> bool:
        return len(self.missing) < self.not_activated


def years_before(today: dt.date, years: int) -> dt.date:
    """The same day ``years`` earlier; 29 February becomes 28 February in a common year."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:
        return today.replace(year=today.year - years, day=28)


def pass_culture_window(today: dt.date) -> tuple[dt.date, dt.date]:
    """Born strictly after the first date and on or before the second: aged 15 to 17 today.

    Fifteen today means born on or before today 15 years ago; not yet eighteen means
    born after today 18 years ago (the 18th birthday itself is out).
    """
    return years_before(today, PASS_CULTURE_MAX_AGE + 1), years_before(today, PASS_CULTURE_MIN_AGE)


def pass_culture_stats(
    session: Session,
    establishment_id: int,
    division_ids: frozenset[int] | None,
    today: dt.date,
    limit: int,
) -> PassCulture:
    born_after, born_until = pass_culture_window(today)
    eligible = (
        *pupils_of(establishment_id, division_ids),
        Pupil.status == PupilStatus.ENROLLED,
        Pupil.birth_date > born_after,
        Pupil.birth_date <= born_until,
    )
    total, activated = session.execute(
        select(
            func.count(),
            func.count(case((Account.state == AccountState.ACTIVATED, 1))),
        )
        .select_from(Pupil)
        .join(Account, Account.pupil_id == Pupil.id)
        .where(*eligible)
    ).one()
    level = case(Level.ranks(), value=Division.level, else_=Level.OTHER.rank)
    missing = session.execute(
        select(
            Account.id,
            Pupil.last_name,
            Pupil.first_name,
            Division.name,
            Account.login,
            Account.state,
            Pupil.birth_date,
        )
        .select_from(Pupil)
        .join(Account, Account.pupil_id == Pupil.id)
        .outerjoin(Division, Division.id == Pupil.division_id)
        .where(*eligible, Account.state != AccountState.ACTIVATED)
        .order_by(level, Division.name, Account.sort_name, Account.login)
        .limit(limit)
    ).all()
    return PassCulture(
        born_after=born_after,
        born_until=born_until,
        eligible=int(total or 0),
        activated=int(activated or 0),
        missing=tuple(
            PassCulturePupil(
                account_id=account_id,
                last_name=last,
                first_name=first,
                division=division or "",
                login=login,
                state=AccountState(state),
                birth_date=born,
            )
            for account_id, last, first, division, login, state, born in missing
        ),
        list_limit=limit,
    )
