"""Issuing temporary credentials: what a notification and a helpdesk reset both do to an account.

A new temporary password is a fresh start of the account's activation: the state
machine's NOTIFY event, the new temporary hash with its validity, the password the
owner had chosen no longer opens anything, and any block after failed sign-ins is
lifted, the account's own and its addresses' (the owner is told to sign in with the new
password: a block left in place would refuse them) (re-notifying an activated account resets it,
docs/domain.md « (Re)notification »). Both callers write exactly these fields here.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence

from sqlalchemy.orm import Session

from ..access import attempts
from ..model.enums import AccountKind
from ..model.states import Event, Lockout, transition
from ..model.tables import Account
from ..store.services import Services


def add_months(day: dt.datetime, months: int) -> dt.datetime:
    """The same day ``months`` later, clamped to the month's end (30 Nov + 3 months = 28 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def expiry(services: Services, kind: AccountKind, issued: dt.datetime) -> dt.datetime:
    """When a temporary password issued at ``issued`` stops opening the account."""
    settings = services.settings
    if kind is AccountKind.PUPIL:
        return issued + dt.timedelta(days=settings.pupil_temp_validity_days)
    return add_months(issued, settings.guardian_temp_validity_months)


def issue_temporary(
    account: Account, temp_hash: str, *, now: dt.datetime, expires: dt.datetime
) -> None:
    """Give ``account`` a new temporary password (already hashed); refused for désactivé.

    The account's own block is lifted here; ``issue_all`` also forgets its addresses'.
    """
    account.state = transition(account.kind, account.state, Event.NOTIFY)
    account.temp_password_hash = temp_hash
    account.temp_issued_at = now
    account.temp_expires_at = expires
    account.password_hash = None
    account.activation_method = None
    account.activated_at = None
    account.notification_count += 1
    account.notified_at = now
    Lockout.record_success(account)


def issue_all(
    session: Session,
    issued: Sequence[tuple[Account, str]],
    *,
    now: dt.datetime,
    expires: dt.datetime,
) -> None:
    """What a notification and a reset do: each account its new password, no block left."""
    for account, temp_hash in issued:
        issue_temporary(account, temp_hash, now=now, expires=expires)
    attempts.forget_pairs(session, attempts.OWNER, [account.login for account, _ in issued])
