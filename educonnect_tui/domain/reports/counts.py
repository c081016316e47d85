"""Accounts counted by state, and which accounts a figure counts.

Pupils of the school are all its pupils (those who left show as désactivé); its
guardians are the distinct guardians linked to at least one of those pupils. A
delegation limited to some classes counts the pupils of those classes only, and
their guardians.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from ..model.enums import AccountKind, AccountState
from ..model.tables import Account, Pupil
from ..store.establishments import guardians_of


@dataclass(frozen=True)
class KindStats:
    kind: AccountKind
    by_state: dict[AccountState, int]

    @property
    def total(self) -> int:
        return sum(self.by_state.values())

    @property
    def active_total(self) -> int:
        """Accounts that can still be activated or are: désactivé ones do not count."""
        return self.total - self.by_state.get(AccountState.DEACTIVATED, 0)

    @property
    def activated(self) -> int:
        return self.by_state.get(AccountState.ACTIVATED, 0)

    @property
    def not_activated(self) -> int:
        """Who is left to chase: neither activated nor désactivé."""
        return self.active_total - self.activated

    @property
    def rate(self) -> float:
        return self.activated / self.active_total if self.active_total else 0.0

    def share(self, state: AccountState) -> float:
        return self.by_state.get(state, 0) / self.total if self.total else 0.0


def pupils_of(establishment_id: int, division_ids: frozenset[int] | None) -> list[Any]:
    """The pupils counted: the school's, or only those of some classes (a delegation)."""
    conditions: list[Any] = [Pupil.establishment_id == establishment_id]
    if division_ids is not None:
        conditions.append(Pupil.division_id.in_(sorted(division_ids)))
    return conditions


def school_pupil_accounts(
    establishment_id: int, division_ids: frozenset[int] | None = None
) -> ColumnElement[bool]:
    return Account.pupil_id.in_(select(Pupil.id).where(*pupils_of(establishment_id, division_ids)))


def school_guardian_accounts(
    establishment_id: int, division_ids: frozenset[int] | None = None
) -> ColumnElement[bool]:
    # Former pupils' guardians too: statistics show the pupils who left as désactivé.
    return Account.guardian_id.in_(
        guardians_of(establishment_id, division_ids=division_ids, enrolled_only=False)
    )


def by_state(
    session: Session, condition: ColumnElement[bool], kind: AccountKind
) -> dict[AccountState, int]:
    query = (
        select(Account.state, func.count())
        .where(condition, Account.kind == kind)
        .group_by(Account.state)
    )
    return {AccountState(state): int(n) for state, n in session.execute(query)}
