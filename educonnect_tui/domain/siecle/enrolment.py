"""Accounts follow enrolment: a leaver's account is deactivated, a return reinstates it."""

from __future__ import annotations

import datetime as dt

from ..model.enums import AccountState
from ..model.states import Event, transition
from ..model.tables import Account


def deactivate(account: Account, now: dt.datetime) -> bool:
    if account.state is AccountState.DEACTIVATED:
        return False
    account.state = transition(account.kind, account.state, Event.DEACTIVATE)
    account.deactivated_at = now
    return True


def reinstate(account: Account) -> bool:
    """Back to "non notifié": a letter printed before the owner left must not work again."""
    if account.state is not AccountState.DEACTIVATED:
        return False
    account.state = transition(account.kind, account.state, Event.REINSTATE)
    account.deactivated_at = None
    account.temp_password_hash = None
    account.temp_issued_at = None
    account.temp_expires_at = None
    return True
