"""Account statistics for a school, computed by SQL aggregates only.

Every figure is a ``GROUP BY`` or a ``COUNT`` in the database: a school of 8,000
accounts must open its panel at once and refresh it every few seconds, so accounts
are never loaded into Python. The only rows read are the (limited) list of pupils
who cannot open their pass Culture yet.

Days and times are the school's (``services.time``), whatever the server's zone: the
figures carry that ``SchoolTime`` so that every header shows the school's time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import func, select

from ..access import permissions
from ..access.caller import Caller
from ..model.calendar import SchoolTime, date_text
from ..model.enums import AccountKind, AccountState, ActivationMethod
from ..model.tables import Account
from ..store.establishments import get_by_uai
from ..store.services import Services
from .activity import Activity, activity_stats
from .class_figures import ClassStats, class_stats
from .counts import KindStats, by_state, school_guardian_accounts, school_pupil_accounts
from .pass_culture import PASS_CULTURE_LIST_LIMIT, PassCulture, pass_culture_stats

EXPIRY_WARNING = dt.timedelta(days=14)
EXPIRY_WARNING_DAYS = EXPIRY_WARNING.days  # « expirant sous 14 j »


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
    # How the school reads ``at`` and the days: its zone, not the server's.
    time: SchoolTime = field(default_factory=SchoolTime.named, compare=False, repr=False)

    def same_figures(self, other: SchoolStats | None) -> bool:
        """Whether nothing but the time of computation differs: the panel then repaints nothing."""
        return other is not None and replace(other, at=self.at) == self

    @property
    def at_text(self) -> str:
        """``16/11/2026 13:00``, the school's time of the computation: headers."""
        return self.time.short(self.at)

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
    return date_text(value)


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
    offset = services.time.offset(now)
    today = services.time.today(now)
    with services.sessions() as session:
        school = get_by_uai(session, uai)
        sid = school.id
        where = {
            AccountKind.PUPIL: school_pupil_accounts(sid, division_ids),
            AccountKind.GUARDIAN: school_guardian_accounts(sid, division_ids),
        }
        by_kind = {kind: by_state(session, cond, kind) for kind, cond in where.items()}
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
        classes = class_stats(session, sid, division_ids)
        activity = activity_stats(session, where, today, offset)
        pass_culture = pass_culture_stats(session, sid, division_ids, today, pass_culture_limit)
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
            time=services.time,
        )
