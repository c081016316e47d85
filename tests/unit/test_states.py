"""The account state machine and the blocking rule."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from educonnect_tui.domain.model.enums import AccountKind, AccountState, ActivationMethod
from educonnect_tui.domain.model.errors import IllegalTransition
from educonnect_tui.domain.model.states import Event, Lockout, block_duration, transition
from educonnect_tui.domain.model.tables import Staff

S, K, M = AccountState, AccountKind, ActivationMethod
TEMP = M.TEMPORARY_CREDENTIALS

LEGAL = {
    (K.PUPIL, S.NOT_NOTIFIED, Event.NOTIFY, None): S.NOTIFIED,
    (K.PUPIL, S.NOTIFIED, Event.NOTIFY, None): S.NOTIFIED,
    (K.PUPIL, S.ACTIVATED, Event.NOTIFY, None): S.NOTIFIED,
    (K.PUPIL, S.NOTIFIED, Event.ACTIVATE, TEMP): S.ACTIVATED,
    (K.GUARDIAN, S.NOTIFIED, Event.ACTIVATE, TEMP): S.ACTIVATED,
    (K.GUARDIAN, S.NOTIFIED, Event.ACTIVATE, M.FRANCECONNECT): S.ACTIVATED,
    (K.GUARDIAN, S.NOTIFIED, Event.ACTIVATE, M.SELF_REGISTRATION): S.ACTIVATED,
    (K.GUARDIAN, S.NOT_NOTIFIED, Event.ACTIVATE, M.FRANCECONNECT): S.ACTIVATED,
    (K.GUARDIAN, S.NOT_NOTIFIED, Event.ACTIVATE, M.SELF_REGISTRATION): S.ACTIVATED,
    (K.GUARDIAN, S.NOT_NOTIFIED, Event.NOTIFY, None): S.NOTIFIED,
    (K.GUARDIAN, S.NOTIFIED, Event.NOTIFY, None): S.NOTIFIED,
    (K.GUARDIAN, S.ACTIVATED, Event.NOTIFY, None): S.NOTIFIED,
}
for kind, state in itertools.product(K, [S.NOT_NOTIFIED, S.NOTIFIED, S.ACTIVATED]):
    LEGAL[(kind, state, Event.DEACTIVATE, None)] = S.DEACTIVATED
for kind in K:
    LEGAL[(kind, S.DEACTIVATED, Event.REINSTATE, None)] = S.NOT_NOTIFIED

ALL = [
    (kind, state, event, method if event is Event.ACTIVATE else None)
    for kind, state, event, method in itertools.product(K, S, Event, M)
]


@pytest.mark.parametrize("case", sorted(set(ALL), key=str))
def test_every_transition_is_either_legal_or_refused(
    case: tuple[AccountKind, AccountState, Event, ActivationMethod | None],
) -> None:
    kind, state, event, method = case
    if case in LEGAL:
        assert transition(kind, state, event, method) is LEGAL[case]
    else:
        with pytest.raises(IllegalTransition, match=r"Impossible|n'active|préciser"):
            transition(kind, state, event, method)


def test_activation_without_method_is_refused() -> None:
    with pytest.raises(IllegalTransition):
        transition(K.PUPIL, S.NOTIFIED, Event.ACTIVATE, None)


def test_block_durations_double_up_to_a_day() -> None:
    minutes = [block_duration(n) / dt.timedelta(minutes=1) for n in range(9)]
    assert minutes == [15, 30, 60, 120, 240, 480, 960, 1440, 1440]


def test_lockout_after_five_failures() -> None:
    now = dt.datetime(2026, 9, 1, tzinfo=dt.UTC)
    staff = Staff(failed_attempts=0, block_count=0)
    for _ in range(4):
        assert Lockout.record_failure(staff, now) is None
    assert not Lockout.is_blocked(staff, now)
    until = Lockout.record_failure(staff, now)
    assert until == now + dt.timedelta(minutes=15)
    assert Lockout.is_blocked(staff, now + dt.timedelta(minutes=14))
    assert not Lockout.is_blocked(staff, now + dt.timedelta(minutes=15))
    for _ in range(5):
        until = Lockout.record_failure(staff, now)
    assert until == now + dt.timedelta(minutes=30)
    Lockout.record_success(staff)
    assert (staff.failed_attempts, staff.block_count, staff.blocked_until) == (0, 0, None)
