"""What every owner's attempt shares, so each flow refuses and counts the same way.

Pupils and guardians activating their accounts or signing in (``activation``,
``self_registration``) are the owners' own actions, not staff actions, so nothing here is
audited; the command line audits its own runs of them, refused or not, with what
``recorded_login`` and ``refusal_reason`` say (never a password). Security choices
shared by every flow (docs/domain.md):

- one generic French message for any wrong identifier, password, birth date or code,
  so an attempt never learns which part was wrong; every attempt by login costs one
  argon2 verification, blocked and unknown logins included;
- a wrong attempt counts on the account from its usual addresses, else on the (login,
  address) pair, unknown logins alike (``access.attempts``), and is committed even
  though the call raises (see ``unit_of_work``);
- an expired temporary password or code is reported as such only once the secret
  itself was verified, because only then is the person presumed to be its owner.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import NoReturn

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ..access import attempts, passwords
from ..access.network import LOCAL_CONSOLE
from ..model.enums import AccountKind, AccountState, ActivationMethod
from ..model.errors import (
    AccountBlocked,
    AuthenticationFailed,
    ConcurrentModification,
    DomainError,
    IllegalTransition,
    InvalidInput,
)
from ..model.states import Event, Lockout, transition
from ..model.tables import Account
from ..store.services import Services

GENERIC_FAILURE = (
    "Identifiant, mot de passe ou information de vérification incorrect. "
    "Vérifiez votre saisie et réessayez."
)
CODE_EXPIRED = "Ce code a expiré\u00a0: recommencez pour en recevoir un nouveau."

CODE_DIGITS = 6
CODE_VALIDITY = dt.timedelta(minutes=30)


# The kind of refusal an audit record keeps: the French message may name a date or a
# detail, the category never says which secret was wrong (as the owner is not told).
_REASONS: tuple[tuple[type[DomainError], str], ...] = (
    (AccountBlocked, "compte bloqué"),
    (AuthenticationFailed, "identifiants incorrects ou expirés"),
    (IllegalTransition, "état du compte"),
    (InvalidInput, "saisie invalide"),
    (ConcurrentModification, "modification concurrente"),
)


def refusal_reason(error: DomainError) -> str:
    """The category of ``error`` for the audit trail."""
    return next((reason for kind, reason in _REASONS if isinstance(error, kind)), "autre refus")


def recorded_login(services: Services, typed: str) -> str:
    """What the trail may keep of a typed login: an owner's login, else only its shape.

    A login nobody has may be a password typed into the wrong field (``attempts.shape``).
    """
    with services.sessions() as session:
        found = session.scalar(select(Account.id).where(Account.login == typed))
    return typed if found is not None else f"inconnu ({attempts.shape(typed)})"


class _Refused(Exception):
    """Carries a domain error out of the transaction so the transaction can commit first."""

    def __init__(self, error: DomainError) -> None:
        super().__init__(str(error))
        self.error = error


@contextmanager
def unit_of_work(services: Services) -> Iterator[Session]:
    """One transaction that commits even when the attempt is refused.

    A refused attempt has changed the failure counters; they must persist, or an
    attacker would get unlimited tries. So ``refuse`` commits, then its error is raised.
    Any other exception rolls back as usual.
    """
    refused: _Refused | None = None
    with services.sessions() as session:
        try:
            with session.begin():
                try:
                    yield session
                except _Refused as signal:
                    refused = signal
        except StaleDataError as error:
            raise ConcurrentModification(
                "Ce compte a été modifié en même temps par une autre opération\u00a0: réessayez."
            ) from error
    if refused is not None:
        raise refused.error


def refuse(error: DomainError) -> NoReturn:
    """Leave the ``unit_of_work`` with ``error``, keeping what the attempt counted."""
    raise _Refused(error)


def fail(services: Services, account: Account | None, now: dt.datetime) -> NoReturn:
    """A wrong attempt not made by login (auto-inscription by mobile): count it on the account."""
    if account is not None:
        until = Lockout.record_failure(account, now)
        if until is not None:
            refuse(Lockout.error(until, services.time))
    refuse(AuthenticationFailed(GENERIC_FAILURE))


def verify(services: Services, stored_hash: str | None, secret: str) -> bool:
    return passwords.verify_or_spend(stored_hash, secret, services.hash_params)


@dataclass
class Attempt:
    """One attempt by login: the account it may try (None: answered as unknown), its gate."""

    services: Services
    session: Session
    account: Account | None
    gate: attempts.Gate
    now: dt.datetime

    def fail(self) -> NoReturn:
        """A wrong attempt: count it where it belongs, refuse with the generic message."""
        until = attempts.record_failure(self.session, self.gate, self.now)
        if until is not None:
            refuse(Lockout.error(until, self.services.time))
        refuse(AuthenticationFailed(GENERIC_FAILURE))

    def succeed(self) -> None:
        """The owner proved who they are: counters start over, the address becomes usual."""
        attempts.record_success(self.session, self.gate, self.now)


def find_usable(
    services: Services,
    session: Session,
    login: str,
    kind: AccountKind | None,
    now: dt.datetime,
    source: str = LOCAL_CONSOLE,
) -> Attempt:
    """The account of ``login`` if this flow may try it at all; raises when it is blocked.

    An unknown login, an account of the other kind, a deactivated account and one
    blocked from its usual addresses (seen from another) all leave ``account`` None: the
    caller verifies against nothing and fails on the pair, as for any unknown login. A
    block announced here still costs the one argon2 verification every attempt costs.
    """
    account = session.scalar(
        select(Account).where(Account.login == login.strip().lower()).with_for_update()
    )
    if account is not None and account.state is AccountState.DEACTIVATED:
        account = None
    if account is not None and kind is not None and account.kind is not kind:
        account = None
    gate = attempts.gate(session, attempts.OWNER, login, account, source, now)
    blocked_until = gate.blocked_until(now)
    if blocked_until is not None:
        verify(services, None, "")
        refuse(Lockout.error(blocked_until, services.time))
    if gate.refused_silently(now):
        account = None
    return Attempt(services=services, session=session, account=account, gate=gate, now=now)


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def hold_code(account: Account, code_hash: str, now: dt.datetime, *, for_email: str | None) -> None:
    """The code the account now waits for: to confirm ``for_email``, or (None) to self-register."""
    account.email_code_hash = code_hash
    account.email_code_expires_at = now + CODE_VALIDITY
    account.pending_email = for_email


def check_code_not_expired(account: Account, now: dt.datetime) -> None:
    """Asked once the code itself was verified: only its owner learns that it expired."""
    assert account.email_code_expires_at is not None
    if account.email_code_expires_at <= now:
        refuse(AuthenticationFailed(CODE_EXPIRED))


def set_password(services: Services, account: Account, new_password: str) -> None:
    """The permanent password the owner chose, once it passes the rules."""
    passwords.check_new_password(new_password, account.login)
    account.password_hash = passwords.hash_password(new_password, services.hash_params)


def activate(account: Account, method: ActivationMethod, now: dt.datetime) -> None:
    """The state change every successful activation ends with; the machine may refuse it."""
    account.state = transition(account.kind, account.state, Event.ACTIVATE, method)
    account.activation_method = method
    account.activated_at = now
    account.temp_password_hash = None
    account.email_code_hash = None
    account.email_code_expires_at = None
    account.pending_email = None
    Lockout.record_success(account)
