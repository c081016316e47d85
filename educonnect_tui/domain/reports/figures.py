"""Account statistics for a school, computed by SQL aggregates only.

Pupils of the school are all its pupils (those who left show as désactivé); its
guardians are the distinct guardians linked to at least one of those pupils.

Every figure is a ``GROUP BY`` or a ``COUNT`` in the database: a school of 8,000
accounts must open its panel at once and refresh it every few seconds, so accounts
are never loaded into Python. The only rows read are the (limited) list of pupils
who cannot open their pass Culture yet.

Days are the school's days, not UTC's: an activation at 00:30 in Paris belongs to
that day. The offset is the local one at the time of the computation (the host runs
in the school's time zone); dates of birth are compared with the local date too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Date, DateTime, case, cast, func, select
from sqlalchemy.orm import Session

from ..access import permissions
from ..access.caller import Caller
from ..documents.spreadsheet import csv_text
from ..model.enums import (
    AccountKind,
    AccountState,
    ActivationMethod,
    Level,
    PupilStatus,
    division_order,
)
from ..model.tables import Account, Division, GuardianLink, Pupil
from ..store.establishments import get_by_uai
from ..store.services import Services

EXPIRY_WARNING = dt.timedelta(days=14)
ACTIVITY_WEEKS = 6
# pass Culture opens from the 15th birthday to the day before the 18th (DESIGN.md §1).
PASS_CULTURE_MIN_AGE = 15
PASS_CULTURE_MAX_AGE = 17
# Enough for any class to chase; the count is always exact, only the list is cut.
PASS_CULTURE_LIST_LIMIT = 500


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


@dataclass(frozen=True)
class DayActivations:
    day: dt.date
    pupils: int
    guardians: int

    @property
    def total(self) -> int:
        return self.pupils + self.guardians


@dataclass(frozen=True)
class Activity:
    """Activations per day over the last weeks, every day present (zeros included)."""

    days: tuple[DayActivations, ...]

    @property
    def total(self) -> int:
        return sum(d.total for d in self.days)

    @property
    def peak(self) -> DayActivations | None:
        """The busiest day (the earliest of equals), None when nobody activated."""
        best = max(self.days, key=lambda d: d.total, default=None)
        if best is None or best.total == 0:
            return None
        return next(d for d in self.days if d.total == best.total)


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
    today: dt.date | None = None
    activity: Activity = field(default_factory=lambda: Activity(()))
    pass_culture: PassCulture | None = None
    # True for a delegation limited to some classes: every figure covers those classes only.
    limited_to_classes: bool = False

    def same_figures(self, other: SchoolStats | None) -> bool:
        """Whether nothing but the time of computation differs: the panel then repaints nothing."""
        return other is not None and replace(other, at=self.at) == self

    def summary_rows(self) -> list[list[str]]:
        """The school-wide figures as rows of text: what the CLI table prints."""
        rows: list[list[str]] = []
        for kind_stats in (self.pupils, self.guardians):
            who = "Élèves" if kind_stats.kind is AccountKind.PUPIL else "Représentants"
            for state in AccountState:
                count = kind_stats.by_state.get(state, 0)
                rows.append([who, state.label, str(count), pct(kind_stats.share(state))])
            rows.append([who, "total", str(kind_stats.total), ""])
            rows.append([who, "taux d'activation", str(kind_stats.activated), pct(kind_stats.rate)])
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
            rows.append(["Représentants", f"activés par {method.label}", str(count), pct(share)])
        if self.activity.days:
            rows.append(
                [
                    "Activations",
                    f"du {day(self.activity.days[0].day)} au {day(self.activity.days[-1].day)}",
                    str(self.activity.total),
                    "",
                ]
            )
            peak = self.activity.peak
            if peak is not None:
                rows.append(
                    ["Activations", f"maximum en un jour ({day(peak.day)})", str(peak.total), ""]
                )
        pc = self.pass_culture
        if pc is not None:
            who = "pass Culture"
            rows.append([who, "élèves de 15 à 17 ans", str(pc.eligible), ""])
            rows.append([who, "avec un compte activé", str(pc.activated), pct(pc.rate)])
            rows.append(
                [
                    who,
                    "sans compte activé",
                    str(pc.not_activated),
                    pct(1 - pc.rate) if pc.eligible else pct(0.0),
                ]
            )
        return rows

    def class_rows(self, classes: Sequence[ClassStats] | None = None) -> list[list[str]]:
        rows = []
        for c in self.classes if classes is None else classes:
            rows.append(
                [
                    c.division,
                    str(c.pupils.total),
                    *(str(c.pupils.by_state.get(s, 0)) for s in AccountState),
                    pct(c.pupils.rate),
                    str(c.guardians.total),
                    *(str(c.guardians.by_state.get(s, 0)) for s in AccountState),
                    pct(c.guardians.rate),
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

    def activity_rows(self, *, only_active_days: bool = False) -> list[list[str]]:
        return [
            [day(d.day), str(d.pupils), str(d.guardians), str(d.total)]
            for d in self.activity.days
            if d.total or not only_active_days
        ]

    @staticmethod
    def activity_headers() -> list[str]:
        return ["Jour", "Élèves", "Représentants", "Total"]

    def pass_culture_rows(self) -> list[list[str]]:
        if self.pass_culture is None:
            return []
        return [
            [p.last_name, p.first_name, p.division, p.login, p.state.label, day(p.birth_date)]
            for p in self.pass_culture.missing
        ]

    @staticmethod
    def pass_culture_headers() -> list[str]:
        return ["Nom", "Prénom", "Classe", "Identifiant", "État", "Né(e) le"]

    def as_dict(self) -> dict[str, Any]:
        def kind_dict(k: KindStats) -> dict[str, Any]:
            return {
                "total": k.total,
                "by_state": {s.value: k.by_state.get(s, 0) for s in AccountState},
                "activated": k.activated,
                "activation_rate": round(k.rate, 4),
            }

        pc = self.pass_culture
        peak = self.activity.peak
        return {
            "uai": self.uai,
            "name": self.name,
            "at": self.at.isoformat(),
            "today": self.today.isoformat() if self.today else None,
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
            "activations_per_day": {
                "total": self.activity.total,
                "peak": None
                if peak is None
                else {"date": peak.day.isoformat(), "total": peak.total},
                "days": [
                    {
                        "date": d.day.isoformat(),
                        "pupils": d.pupils,
                        "guardians": d.guardians,
                        "total": d.total,
                    }
                    for d in self.activity.days
                ],
            },
            "pass_culture": None
            if pc is None
            else {
                "born_after": pc.born_after.isoformat(),
                "born_until": pc.born_until.isoformat(),
                "eligible": pc.eligible,
                "activated": pc.activated,
                "activation_rate": round(pc.rate, 4),
                "not_activated": pc.not_activated,
                "list_truncated": pc.truncated,
                "not_activated_list": [
                    {
                        "last_name": p.last_name,
                        "first_name": p.first_name,
                        "division": p.division,
                        "login": p.login,
                        "state": p.state.value,
                        "birth_date": p.birth_date.isoformat(),
                    }
                    for p in pc.missing
                ],
            },
        }


def pct(value: float) -> str:
    """A share as French staff write it: "45,2 %" (non-breaking space avoided for terminals)."""
    return f"{value * 100:.1f} %".replace(".", ",")


def day(value: dt.date) -> str:
    return value.strftime("%d/%m/%Y")


# ------------------------------------------------------------------- the queries


def _pupils_of(establishment_id: int, division_ids: frozenset[int] | None) -> list[Any]:
    """The pupils counted: the school's, or only those of some classes (a delegation)."""
    conditions: list[Any] = [Pupil.establishment_id == establishment_id]
    if division_ids is not None:
        conditions.append(Pupil.division_id.in_(sorted(division_ids)))
    return conditions


def _school_pupil_accounts(
    establishment_id: int, division_ids: frozenset[int] | None = None
) -> ColumnElement[bool]:
    return Account.pupil_id.in_(select(Pupil.id).where(*_pupils_of(establishment_id, division_ids)))


def _school_guardian_accounts(
    establishment_id: int, division_ids: frozenset[int] | None = None
) -> ColumnElement[bool]:
    return Account.guardian_id.in_(
        select(GuardianLink.guardian_id)
        .join(Pupil, Pupil.id == GuardianLink.pupil_id)
        .where(*_pupils_of(establishment_id, division_ids))
    )


def local_offset(now: dt.datetime) -> dt.timedelta:
    """The host's offset from UTC at ``now``: where the school's days start."""
    return now.astimezone().utcoffset() or dt.timedelta(0)


def school_stats(
    services: Services, caller: Caller, *, pass_culture_limit: int = PASS_CULTURE_LIST_LIMIT
) -> SchoolStats:
    """The caller's figures: refused without the right, and limited to the classes of their
    delegation when it names some (names and counts alike)."""
    scope = permissions.require(services, caller, permissions.Action.VIEW_STATS)
    return _school_stats(
        services,
        caller.school.uai,
        division_ids=scope.division_ids,
        pass_culture_limit=pass_culture_limit,
    )


def _school_stats(
    services: Services,
    uai: str,
    *,
    division_ids: frozenset[int] | None,
    pass_culture_limit: int,
) -> SchoolStats:
    """Every figure of the school (or of ``division_ids`` only), in a dozen aggregate queries."""
    now = services.clock()
    offset = local_offset(now)
    today = (now + offset).date()
    with services.sessions() as session:
        school = get_by_uai(session, uai)
        sid = school.id
        where = {
            AccountKind.PUPIL: _school_pupil_accounts(sid, division_ids),
            AccountKind.GUARDIAN: _school_guardian_accounts(sid, division_ids),
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
        classes = _class_stats(session, sid, division_ids)
        activity = _activity(session, where, today, offset)
        pass_culture = _pass_culture(session, sid, division_ids, today, pass_culture_limit)
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
            today=today,
            activity=activity,
            pass_culture=pass_culture,
            limited_to_classes=division_ids is not None,
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


def _class_stats(
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
        .where(*_pupils_of(establishment_id, division_ids))
        .group_by(Pupil.division_id, Account.state)
    ):
        if division_id is None:
            continue
        pupils.setdefault(division_id, {})[AccountState(state)] = int(n)
    # A guardian counts once per class where they have a child.
    pairs = (
        select(Pupil.division_id.label("division_id"), GuardianLink.guardian_id)
        .join(GuardianLink, GuardianLink.pupil_id == Pupil.id)
        .where(*_pupils_of(establishment_id, division_ids))
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


def _local_day(session: Session, column: Any, offset: dt.timedelta) -> ColumnElement[Any]:
    """The local calendar day of a UTC timestamp column, computed by the database.

    SQLite stores naive UTC text: ``date(col, '+3600 seconds')`` gives 'YYYY-MM-DD'.
    PostgreSQL stores timestamptz: read it in UTC (whatever the session's TimeZone),
    shift by the offset, then cast to a date.
    """
    seconds = int(offset.total_seconds())
    if session.get_bind().dialect.name == "sqlite":
        return func.date(column, f"{seconds:+d} seconds")
    return cast(func.timezone("UTC", column, type_=DateTime()) + offset, Date)


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def _activity(
    session: Session,
    where: dict[AccountKind, ColumnElement[bool]],
    today: dt.date,
    offset: dt.timedelta,
) -> Activity:
    """Activations per local day over the last ``ACTIVITY_WEEKS`` weeks, today included.

    Counted on ``activated_at`` whatever the account's state now: a pupil who activated
    and left since did activate that day (a re-notification clears the date, and rightly:
    that activation no longer holds).
    """
    first = today - dt.timedelta(weeks=ACTIVITY_WEEKS) + dt.timedelta(days=1)
    start = dt.datetime.combine(first, dt.time(), dt.UTC) - offset
    end = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(), dt.UTC) - offset
    counts: dict[tuple[dt.date, AccountKind], int] = {}
    for kind, cond in where.items():
        bucket = _local_day(session, Account.activated_at, offset).label("day")
        for value, n in session.execute(
            select(bucket, func.count())
            .where(cond, Account.activated_at >= start, Account.activated_at < end)
            .group_by(bucket)
        ):
            counts[(_as_date(value), kind)] = int(n)
    days = []
    current = first
    while current <= today:
        days.append(
            DayActivations(
                current,
                counts.get((current, AccountKind.PUPIL), 0),
                counts.get((current, AccountKind.GUARDIAN), 0),
            )
        )
        current += dt.timedelta(days=1)
    return Activity(tuple(days))


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


def _pass_culture(
    session: Session,
    establishment_id: int,
    division_ids: frozenset[int] | None,
    today: dt.date,
    limit: int,
) -> PassCulture:
    born_after, born_until = pass_culture_window(today)
    eligible = (
        *_pupils_of(establishment_id, division_ids),
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
        .order_by(level, Division.name, Pupil.last_name, Pupil.first_name, Account.login)
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


# ---------------------------------------------- text output, shared by CLI and TUI

BAR_EIGHTHS = " ▏▎▍▌▋▊▉█"
SPARK_LEVELS = "▁▂▃▄▅▆▇█"
COLUMN_EIGHTHS = " ▁▂▃▄▅▆▇█"


def bar(rate: float, width: int) -> str:
    """A rate as a bar of ``width`` cells drawn in eighths: ▏▎▍▌▋▊▉█, padded with spaces."""
    rate = min(max(rate, 0.0), 1.0)
    eighths = round(rate * width * 8)
    full, part = divmod(eighths, 8)
    text = "█" * full + (BAR_EIGHTHS[part] if part else "")
    return text.ljust(width)


def sparkline(values: Sequence[int]) -> str:
    """One cell per value, scaled to the maximum.

    Zero is drawn as a space so that a day without activations reads as nothing, while
    the smallest non-zero value still shows (▁): a quiet day is not an empty one.
    """
    top = max(values, default=0)
    if top <= 0:
        return " " * len(values)
    cells = []
    for v in values:
        if v <= 0:
            cells.append(" ")
        else:
            level = max(0, min(len(SPARK_LEVELS) - 1, round(v / top * (len(SPARK_LEVELS) - 1))))
            cells.append(SPARK_LEVELS[level])
    return "".join(cells)


def column_chart(values: Sequence[int], rows: int, step: int = 1) -> list[str]:
    """A column chart ``rows`` lines high, top line first, one column per value.

    Each line holds eight levels (▁ to █), so three lines draw 24 heights. A non-zero
    value always shows at least ▁; a zero shows nothing. With ``step`` > 1 each value
    takes ``step`` cells: its column then spaces, which keeps neighbouring days apart.
    """
    top = max(values, default=0)
    lines: list[list[str]] = [[] for _ in range(rows)]
    for v in values:
        eighths = 0 if v <= 0 or top <= 0 else max(1, round(v / top * rows * 8))
        for line in range(rows):
            floor = (rows - 1 - line) * 8
            fill = min(max(eighths - floor, 0), 8)
            lines[line].append(COLUMN_EIGHTHS[fill])
            lines[line].append(" " * (step - 1))
    return ["".join(line) for line in lines]


SUMMARY_HEADERS = ["Public", "Indicateur", "Nombre", "Part"]
STATE_LEGEND = "✗ non notifié · ✉ notifié, non activé · ✓ activé · – désactivé"


def render_table(stats: SchoolStats) -> str:
    """The figures as text tables (``educonnect-tui stats``): summary, classes, days, list."""
    from tabulate import tabulate

    out = [f"{stats.name} ({stats.uai}) — {stats.at.astimezone():%d/%m/%Y %H:%M}"]
    out.append(
        tabulate(
            stats.summary_rows(),
            headers=SUMMARY_HEADERS,
            colalign=("left", "left", "right", "right"),
            disable_numparse=True,
        )
    )
    out.append("")
    short = ["Classe", "Élèves", "✗", "✉", "✓", "–", "Taux", "Resp.", "✗", "✉", "✓", "–", "Taux"]
    out.append(
        tabulate(
            stats.class_rows(),
            headers=short,
            disable_numparse=True,
            colalign=("left",) + ("right",) * 12,
        )
    )
    out.append(STATE_LEGEND)
    days = stats.activity.days
    if days:
        out.append("")
        out.append(f"Activations par jour, du {day(days[0].day)} au {day(days[-1].day)} :")
        out.append("│" + sparkline([d.total for d in days]) + "│")
        peak = stats.activity.peak
        out.append(
            f"maximum : {peak.total} le {day(peak.day)}"
            if peak
            else "aucune activation sur la période"
        )
        active_days = stats.activity_rows(only_active_days=True)
        if active_days:
            out.append(
                tabulate(
                    active_days,
                    headers=stats.activity_headers(),
                    disable_numparse=True,
                    colalign=("left", "right", "right", "right"),
                )
            )
    pc = stats.pass_culture
    if pc is not None:
        out.append("")
        out.append(
            f"pass Culture : {pc.eligible} élève(s) de 15 à 17 ans "
            f"(nés du {day(pc.born_from)} au {day(pc.born_until)}), "
            f"{pc.activated} avec un compte activé ({pct(pc.rate)})."
        )
        if pc.not_activated:
            out.append(
                f"Sans compte activé, ils ne peuvent pas ouvrir leur pass Culture "
                f"({pc.not_activated}) :"
            )
            out.append(
                tabulate(
                    stats.pass_culture_rows(),
                    headers=stats.pass_culture_headers(),
                    disable_numparse=True,
                )
            )
            if pc.truncated:
                out.append(f"… et {pc.not_activated - len(pc.missing)} autre(s).")
    return "\n".join(out)


def csv_rows(stats: SchoolStats) -> list[list[str]]:
    """The figures as CSV rows in sections separated by an empty row, headers first."""
    rows: list[list[str]] = [SUMMARY_HEADERS, *stats.summary_rows(), []]
    rows += [stats.class_headers(), *stats.class_rows(), []]
    rows += [stats.activity_headers(), *stats.activity_rows()]
    pc = stats.pass_culture
    if pc is not None:
        rows += [[], ["pass Culture : élèves de 15 à 17 ans sans compte activé"]]
        rows += [stats.pass_culture_headers()]
        rows += stats.pass_culture_rows()
        if pc.truncated:
            rows.append([f"… et {pc.not_activated - len(pc.missing)} autre(s)"])
    return rows


def render_csv(stats: SchoolStats) -> str:
    """The CSV for the command line (no BOM, ``\n``); the file export is ``stats_csv``."""
    return csv_text(csv_rows(stats))
