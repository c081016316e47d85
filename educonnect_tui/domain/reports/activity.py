"""Activations per day over the last weeks, counted in the school's days.

Days are the school's days, not UTC's: an activation at 00:30 in Paris belongs to
that day. The database groups UTC instants into local days by the zone's offset at
the time of the computation (``services.time.offset``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Date, DateTime, cast, func, select
from sqlalchemy.orm import Session

from ..model.enums import AccountKind
from ..model.tables import Account

ACTIVITY_WEEKS = 6


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


def activity_stats(
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
