"""Account statistics for a school, computed by SQL aggregates only.

Pupils of the school are all its pupils (those who left show as désactivé); its
guardians are the distinct guardians linked to at least one of those pupils.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from .enums import AccountKind, AccountState, ActivationMethod
from .establishments import get_by_uai
from .models import Account, Division, GuardianLink, Pupil
from .services import Services

EXPIRY_WARNING = dt.timedelta(days=14)


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
    def rate(self) -> float:
        return self.activated / self.active_total if self.active_total else 0.0

    def share(self, state: AccountState) -> float:
        return self.by_state.get(state, 0) / self.total if self.total else 0.0


@dataclass(frozen=True)
class ClassStats:
    division: str
    level: str
    pupils: KindStats
    guardians: KindStats


@dataclass(frozen=True)
class SchoolStats:
    uai: str
    name: str
    at: dt.datetime
    pupils: KindStats
    guardians: KindStats
    guardian_methods: dict[ActivationMethod, int]
    blocked: dict[AccountKind, int]
    expiring_soon: dict[AccountKind, int]
    classes: list[ClassStats] = field(default_factory=list)

    def summary_rows(self) -> list[list[str]]:
        """The school-wide figures as rows of text: what the CLI table prints."""
        rows: list[list[str]] = []
        for kind_stats in (self.pupils, self.guardians):
            who = "Élèves" if kind_stats.kind is AccountKind.PUPIL else "Représentants"
            for state in AccountState:
                count = kind_stats.by_state.get(state, 0)
                rows.append([who, state.label, str(count), _pct(kind_stats.share(state))])
            rows.append([who, "total", str(kind_stats.total), ""])
            rows.append(
                [who, "taux d'activation", str(kind_stats.activated), _pct(kind_stats.rate)]
            )
            rows.append([who, "bloqués", str(self.blocked[kind_stats.kind]), ""])
            rows.append(
                [
                    who,
                    "provisoires expirant sous 14 j",
                    str(self.expiring_soon[kind_stats.kind]),
                    "",
                ]
            )
        activated = self.guardians.activated
        for method in ActivationMethod:
            count = self.guardian_methods.get(method, 0)
            share = count / activated if activated else 0.0
            rows.append(["Représentants", f"activés par {method.label}", str(count), _pct(share)])
        return rows

    def class_rows(self) -> list[list[str]]:
        rows = []
        for c in self.classes:
            rows.append(
                [
                    c.division,
                    str(c.pupils.total),
                    *(str(c.pupils.by_state.get(s, 0)) for s in AccountState),
                    _pct(c.pupils.rate),
                    str(c.guardians.total),
                    *(str(c.guardians.by_state.get(s, 0)) for s in AccountState),
                    _pct(c.guardians.rate),
                ]
            )
        return rows

    @staticmethod
    def class_headers() -> list[str]:
        states = [s.label for s in AccountState]
        return [
            "Classe",
            "Élèves",
            *(f"É. {s}" for s in states),
            "É. taux",
            "Resp.",
            *(f"R. {s}" for s in states),
            "R. taux",
        ]

    def as_dict(self) -> dict[str, Any]:
        def kind_dict(k: KindStats) -> dict[str, Any]:
            return {
                "total": k.total,
                "by_state": {s.value: k.by_state.get(s, 0) for s in AccountState},
                "activated": k.activated,
                "activation_rate": round(k.rate, 4),
            }

        return {
            "uai": self.uai,
            "name": self.name,
            "at": self.at.isoformat(),
            "pupils": kind_dict(self.pupils),
            "guardians": kind_dict(self.guardians),
            "guardian_activation_methods": {
                m.value: self.guardian_methods.get(m, 0) for m in ActivationMethod
            },
            "blocked": {k.value: v for k, v in self.blocked.items()},
            "temporary_expiring_within_14_days": {
                k.value: v for k, v in self.expiring_soon.items()
            },
            "classes": [
                {
                    "division": c.division,
                    "level": c.level,
                    "pupils": kind_dict(c.pupils),
                    "guardians": kind_dict(c.guardians),
                }
                for c in self.classes
            ],
        }


def _pct(value: float) -> str:
    return f"{value * 100:.1f} %".replace(".", ",")


def _school_pupil_accounts(establishment_id: int) -> ColumnElement[bool]:
    return Account.pupil_id.in_(select(Pupil.id).where(Pupil.establishment_id == establishment_id))


def _school_guardian_accounts(establishment_id: int) -> ColumnElement[bool]:
    return Account.guardian_id.in_(
        select(GuardianLink.guardian_id)
        .join(Pupil, Pupil.id == GuardianLink.pupil_id)
        .where(Pupil.establishment_id == establishment_id)
    )


def school_stats(services: Services, uai: str) -> SchoolStats:
    now = services.clock()
    with services.sessions() as session:
        school = get_by_uai(session, uai)
        sid = school.id
        where = {
            AccountKind.PUPIL: _school_pupil_accounts(sid),
            AccountKind.GUARDIAN: _school_guardian_accounts(sid),
        }
        by_kind = {kind: _by_state(session, cond, kind) for kind, cond in where.items()}
        methods = {
            ActivationMethod(m): n
            for m, n in session.execute(
                select(Account.activation_method, func.count())
                .where(where[AccountKind.GUARDIAN], Account.state == AccountState.ACTIVATED)
                .group_by(Account.activation_method)
            )
            if m is not None
        }
        blocked = {
            kind: int(
                session.scalar(select(func.count()).where(cond, Account.blocked_until > now)) or 0
            )
            for kind, cond in where.items()
        }
        expiring = {
            kind: int(
                session.scalar(
                    select(func.count()).where(
                        cond,
                        Account.state == AccountState.NOTIFIED,
                        Account.temp_expires_at > now,
                        Account.temp_expires_at <= now + EXPIRY_WARNING,
                    )
                )
                or 0
            )
            for kind, cond in where.items()
        }
        classes = _class_stats(session, sid)
        return SchoolStats(
            uai=school.uai,
            name=school.name,
            at=now,
            pupils=KindStats(AccountKind.PUPIL, by_kind[AccountKind.PUPIL]),
            guardians=KindStats(AccountKind.GUARDIAN, by_kind[AccountKind.GUARDIAN]),
            guardian_methods=methods,
            blocked=blocked,
            expiring_soon=expiring,
            classes=classes,
        )


def _by_state(
    session: Session, condition: ColumnElement[bool], kind: AccountKind
) -> dict[AccountState, int]:
    query = (
        select(Account.state, func.count())
        .where(condition, Account.kind == kind)
        .group_by(Account.state)
    )
    return {AccountState(state): int(n) for state, n in session.execute(query)}


def _class_stats(session: Session, establishment_id: int) -> list[ClassStats]:
    divisions = session.execute(
        select(Division.id, Division.name, Division.level)
        .where(Division.establishment_id == establishment_id)
        .order_by(Division.level, Division.name)
    ).all()
    pupils: dict[int, dict[AccountState, int]] = {}
    for division_id, state, n in session.execute(
        select(Pupil.division_id, Account.state, func.count())
        .join(Account, Account.pupil_id == Pupil.id)
        .where(Pupil.establishment_id == establishment_id)
        .group_by(Pupil.division_id, Account.state)
    ):
        if division_id is None:
            continue
        pupils.setdefault(division_id, {})[AccountState(state)] = int(n)
    # A guardian counts once per class where they have a child.
    pairs = (
        select(Pupil.division_id.label("division_id"), GuardianLink.guardian_id)
        .join(GuardianLink, GuardianLink.pupil_id == Pupil.id)
        .where(Pupil.establishment_id == establishment_id)
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
    level_order = {"6e": 0, "5e": 1, "4e": 2, "3e": 3, "2de": 4, "1re": 5, "Terminale": 6}
    ordered = sorted(divisions, key=lambda d: (level_order.get(d.level, 9), d.level, d.name))
    return [
        ClassStats(
            division=name,
            level=level,
            pupils=KindStats(AccountKind.PUPIL, pupils.get(division_id, {})),
            guardians=KindStats(AccountKind.GUARDIAN, guardians.get(division_id, {})),
        )
        for division_id, name, level in ordered
    ]
