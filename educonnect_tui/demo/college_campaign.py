"""How far the collège's campaign got: letters, activation hours and each account's state.

Dates are relative to ``now`` so the demo always looks like a campaign that started
about ten weeks ago; every state change goes through ``states.transition``.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
from dataclasses import dataclass

from ..domain.access.passwords import hash_password
from ..domain.accounts.issuing import expiry, issue_temporary
from ..domain.model.enums import AccountKind, AccountState, ActivationMethod
from ..domain.model.states import Event, Lockout, transition
from ..domain.model.tables import Account, Guardian
from ..domain.store.services import Services
from .college_people import Adult, People

# How far the campaign of each collège class got: "done" (an activation hour took place),
# "partial" (letters handed out, pupils activate at home) or "never" (not notified yet).
_CAMPAIGNS = {
    "6": ("done", "done", "done", "done", "done"),
    "5": ("done", "done", "partial", "partial", "never"),
    "4": ("partial", "partial", "never", "never", "never"),
    "3": ("done", "done", "done", "partial", "partial"),
}
# Days before "now" the campaign of each level started: 6e first, right after the rentrée.
_LEVEL_START_DAYS = {"6": 70, "3": 52, "5": 36, "4": 18, "CM2": 28}


class Campaign:
    """Dates and state changes, always through ``states.transition``."""

    def __init__(self, services: Services, rng: random.Random, now: dt.datetime) -> None:
        self.rng = rng
        self.now = now
        self.services = services
        # Hashing ~1,500 demo passwords with argon2id would take minutes. These accounts'
        # credentials were never printed and nobody knows them (staff re-notify to get
        # real ones), so ONE hash of a random secret that is immediately discarded stands
        # for all of them: it verifies against nothing anyone can type.
        self.unknown_hash = hash_password(secrets.token_urlsafe(32), services.hash_params)

    def school_day(self, days_ago: float) -> dt.datetime:
        """Midnight of a weekday ``days_ago`` before now (weekends move to the Friday)."""
        day = (self.now - dt.timedelta(days=days_ago)).date()
        while day.weekday() >= 5:
            day -= dt.timedelta(days=1)
        return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)

    def at(self, day: dt.datetime, hours: float) -> dt.datetime:
        """A moment on ``day``, never later than an hour before now."""
        return min(day + dt.timedelta(hours=hours), self.now - dt.timedelta(hours=1))

    def notify(self, account: Account, when: dt.datetime) -> None:
        expires = expiry(self.services, account.kind, when)
        issue_temporary(account, self.unknown_hash, now=when, expires=expires)

    def activate(
        self, account: Account, when: dt.datetime, method: ActivationMethod, email: str | None
    ) -> None:
        account.state = transition(account.kind, account.state, Event.ACTIVATE, method)
        account.activation_method = method
        account.activated_at = when
        account.password_hash = self.unknown_hash
        account.temp_password_hash = None
        account.temp_issued_at = None
        account.temp_expires_at = None
        if email:
            account.email = email
            account.email_confirmed_at = when + dt.timedelta(minutes=self.rng.randint(1, 30))

    def deactivate(self, account: Account, when: dt.datetime) -> None:
        account.state = transition(account.kind, account.state, Event.DEACTIVATE)
        account.deactivated_at = when


@dataclass
class ClassPlan:
    kind: str  # "done", "partial", "never"
    notified: dt.datetime | None
    hour: dt.datetime | None  # the class activation hour


def class_plans(campaign: Campaign) -> dict[str, ClassPlan]:
    rng = campaign.rng
    plans: dict[str, ClassPlan] = {}
    for level, kinds in _CAMPAIGNS.items():
        start = _LEVEL_START_DAYS[level]
        for n, kind in enumerate(kinds, start=1):
            if kind == "never":
                plans[f"{level}E{n}"] = ClassPlan(kind, None, None)
                continue
            days_ago = start - n * 1.5 + rng.random()
            notified = campaign.school_day(days_ago)
            hour = campaign.school_day(days_ago - rng.randint(1, 4)) if kind == "done" else None
            plans[f"{level}E{n}"] = ClassPlan(kind, notified, hour)
    start = _LEVEL_START_DAYS["CM2"]
    plans["CM2"] = ClassPlan("partial", campaign.school_day(start), None)
    plans["CM1"] = ClassPlan("never", None, None)
    return plans


def pupil_states(campaign: Campaign, account: Account, plan: ClassPlan, email: str) -> None:
    rng = campaign.rng
    if plan.notified is None:
        return
    campaign.notify(account, campaign.at(plan.notified, rng.uniform(7, 9)))
    roll = rng.random()
    if plan.hour is not None and roll < 0.86:
        # The class activation hour: pupils activate within the hour, in one room.
        when = campaign.at(plan.hour, 8 + rng.randint(0, 7) + rng.uniform(0, 0.9))
        campaign.activate(account, when, ActivationMethod.TEMPORARY_CREDENTIALS, None)
    elif roll < (0.93 if plan.hour is not None else 0.42):
        start = plan.hour or plan.notified
        when = campaign.at(start, 16 + 24 * rng.expovariate(1 / 4))
        campaign.activate(account, when, ActivationMethod.TEMPORARY_CREDENTIALS, None)
    elif rng.random() < 0.12:  # lost the letter: a second one was printed
        campaign.notify(account, campaign.at(plan.notified, 24 * rng.randint(3, 10) + 9))
    if account.state is AccountState.ACTIVATED and rng.random() < 0.2:
        account.email = email
        account.email_confirmed_at = account.activated_at


def guardian_states(
    campaign: Campaign,
    account: Account,
    guardian: Guardian,
    plan_notified: dt.datetime | None,
    people: People,
    adult: Adult,
) -> None:
    rng = campaign.rng
    roll = rng.random()
    letter_day = plan_notified or campaign.school_day(rng.uniform(5, 70))
    if roll < 0.30:
        return
    if roll < 0.55:
        campaign.notify(account, campaign.at(letter_day, rng.uniform(7, 16)))
        if rng.random() < 0.08:
            campaign.notify(account, campaign.at(letter_day, 24 * rng.randint(5, 20) + 10))
        return
    method_roll = rng.random()
    if method_roll < 0.50:
        method = ActivationMethod.TEMPORARY_CREDENTIALS
    elif method_roll < 0.85 or not guardian.mobile:
        method = ActivationMethod.FRANCECONNECT
    else:
        method = ActivationMethod.SELF_REGISTRATION
    email = guardian.email or people.email(adult)
    if method is ActivationMethod.TEMPORARY_CREDENTIALS or rng.random() < 0.3:
        campaign.notify(account, campaign.at(letter_day, rng.uniform(7, 16)))
        when = campaign.at(letter_day, 18 + 24 * rng.expovariate(1 / 5))
    else:  # FranceConnect and auto-inscription need no letter: mostly at the rentrée
        when = campaign.at(campaign.school_day(rng.triangular(3, 75, 70)), rng.uniform(6, 21))
    campaign.activate(account, when, method, email)


def blocks_and_failures(campaign: Campaign, accounts: list[Account]) -> None:
    """A handful of blocked accounts (still blocked when the demo opens) and near-misses."""
    rng = campaign.rng
    live = [a for a in accounts if a.state in (AccountState.NOTIFIED, AccountState.ACTIVATED)]
    for kind, count in ((AccountKind.PUPIL, 5), (AccountKind.GUARDIAN, 3)):
        for account in rng.sample([a for a in live if a.kind is kind], count):
            # Earlier blocks make this one longer (the wait doubles), so it lasts hours.
            account.block_count = rng.randint(2, 5)
            moment = campaign.now - dt.timedelta(minutes=rng.randint(2, 20))
            while Lockout.record_failure(account, moment) is None:
                moment += dt.timedelta(seconds=20)
    for account in rng.sample(live, 25):
        if account.blocked_until is None:
            account.failed_attempts = rng.randint(1, 4)
