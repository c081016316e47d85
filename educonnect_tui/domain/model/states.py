"""The account state machine and the blocking rule, in one place each (docs/domain.md)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Protocol

from .calendar import SchoolTime
from .enums import AccountKind, AccountState, ActivationMethod
from .errors import AccountBlocked, IllegalTransition


class Event(StrEnum):
    NOTIFY = "notify"  # (re)notification: new temporary credentials
    ACTIVATE = "activate"  # the owner activates the account
    DEACTIVATE = "deactivate"  # pupil left / guardian has no pupil left
    REINSTATE = "reinstate"  # a pupil who left comes back


S = AccountState
_TRANSITIONS: dict[tuple[AccountState, Event], AccountState] = {
    (S.NOT_NOTIFIED, Event.NOTIFY): S.NOTIFIED,
    (S.NOTIFIED, Event.NOTIFY): S.NOTIFIED,
    # Re-notifying an activated account resets it: the owner activates again.
    (S.ACTIVATED, Event.NOTIFY): S.NOTIFIED,
    (S.NOTIFIED, Event.ACTIVATE): S.ACTIVATED,
    (S.NOT_NOTIFIED, Event.ACTIVATE): S.ACTIVATED,  # guardians only, see below
    (S.NOT_NOTIFIED, Event.DEACTIVATE): S.DEACTIVATED,
    (S.NOTIFIED, Event.DEACTIVATE): S.DEACTIVATED,
    (S.ACTIVATED, Event.DEACTIVATE): S.DEACTIVATED,
    (S.DEACTIVATED, Event.REINSTATE): S.NOT_NOTIFIED,
}

# Which states a (re)notification may take: those the NOTIFY event leaves (not désactivé).
NOTIFIABLE: tuple[AccountState, ...] = tuple(
    state for state in AccountState if (state, Event.NOTIFY) in _TRANSITIONS
)
# What a notification picks when no state is chosen: the red and yellow accounts, never
# the activated ones, whose owners' own passwords it would replace.
NOTIFIED_BY_DEFAULT: tuple[AccountState, ...] = (S.NOT_NOTIFIED, S.NOTIFIED)

_EVENT_LABELS = {
    Event.NOTIFY: "notifier",
    Event.ACTIVATE: "activer",
    Event.DEACTIVATE: "désactiver",
    Event.REINSTATE: "réintégrer",
}


def transition(
    kind: AccountKind,
    state: AccountState,
    event: Event,
    method: ActivationMethod | None = None,
) -> AccountState:
    """The state after ``event``, or ``IllegalTransition`` with a French reason.

    Pupils activate only with the temporary credentials the school gave them; guardians
    may also activate through FranceConnect or auto-inscription without being notified.
    """
    target = _TRANSITIONS.get((state, event))
    if event is Event.ACTIVATE:
        if method is None:
            raise IllegalTransition("Une activation doit préciser sa méthode.")
        if kind is AccountKind.PUPIL and method is not ActivationMethod.TEMPORARY_CREDENTIALS:
            raise IllegalTransition(
                "Un élève n'active son compte qu'avec les identifiants provisoires "
                "remis par l'établissement."
            )
        if state is S.NOT_NOTIFIED and method is ActivationMethod.TEMPORARY_CREDENTIALS:
            target = None
    if target is None:
        raise IllegalTransition(
            f"Impossible de {_EVENT_LABELS[event]} un compte {kind.label} "
            f"à l'état « {state.label} »."
        )
    return target


# Blocking after repeated failures: 5 attempts, then 15 minutes, doubling, at most 24 h.
MAX_FAILED_ATTEMPTS = 5
FIRST_BLOCK = dt.timedelta(minutes=15)
LONGEST_BLOCK = dt.timedelta(hours=24)


def block_duration(previous_blocks: int) -> dt.timedelta:
    """How long the ``previous_blocks + 1``-th block lasts: 15 min, 30, 60... capped at 24 h."""
    wait: dt.timedelta = FIRST_BLOCK * (2 ** min(previous_blocks, 16))
    return min(wait, LONGEST_BLOCK)


class Counted(Protocol):
    """What the rule counts on: an account, a staff member, or one (login, address) pair."""

    failed_attempts: int
    blocked_until: dt.datetime | None
    block_count: int


class Lockout:
    """The blocking rule applied to whatever signs in: a pupil/guardian account or staff.

    Which counter a failure lands on (the account's own, or a pair's) is decided by
    ``access.attempts``; the rule itself is the same for both.
    """

    @staticmethod
    def error(until: dt.datetime, time: SchoolTime) -> AccountBlocked:
        """What a blocked person is told, with the end of the block in the school's time."""
        return AccountBlocked(
            "Compte bloqué après trop d'essais infructueux\u00a0: réessayez après le "
            f"{time.date_time(until)}."
        )

    @staticmethod
    def is_blocked(subject: Counted, now: dt.datetime) -> bool:
        return subject.blocked_until is not None and subject.blocked_until > now

    @staticmethod
    def record_failure(subject: Counted, now: dt.datetime) -> dt.datetime | None:
        """Count a failure; returns the end of the block when this failure triggers one."""
        attempts = subject.failed_attempts + 1
        if attempts >= MAX_FAILED_ATTEMPTS:
            until = now + block_duration(subject.block_count)
            subject.blocked_until = until
            subject.block_count += 1
            subject.failed_attempts = 0
            return until
        subject.failed_attempts = attempts
        return None

    @staticmethod
    def record_success(subject: Counted) -> None:
        """A successful sign-in, or staff lifting a block: the counters start over."""
        subject.failed_attempts = 0
        subject.blocked_until = None
        subject.block_count = 0
