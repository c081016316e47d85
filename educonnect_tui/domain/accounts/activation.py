"""How pupils and guardians activate their accounts with the letter's credentials, and sign in.

See docs/domain.md, « The state machine ». The same functions are the engine of the
``educonnect-tui activate`` command and of the demo, so every activated state in the
database is reached through the rules. What every attempt shares — the generic refusal, the
failures kept even when the call raises — is in ``owner_attempts``; auto-inscription by SMS
and FranceConnect are in ``self_registration``.
"""

from __future__ import annotations

import datetime as dt
import re

from ..access import passwords
from ..access.network import LOCAL_CONSOLE
from ..model.enums import AccountKind, AccountState, ActivationMethod, Channel
from ..model.errors import AuthenticationFailed, InvalidInput
from ..model.tables import Account
from ..store.services import Services
from .owner_attempts import (
    CODE_VALIDITY,
    GENERIC_FAILURE,
    Attempt,
    activate,
    check_code_not_expired,
    find_usable,
    hold_code,
    new_code,
    refuse,
    set_password,
    unit_of_work,
    verify,
)

TEMP_PASSWORD_EXPIRED = (
    "Votre mot de passe provisoire a expiré\u00a0: demandez à votre établissement "
    "de vous notifier à nouveau votre compte."
)

_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]{2,}$")


def _normalize_email(raw: str) -> str:
    email = raw.strip()
    if len(email) > 254 or not _EMAIL_RE.match(email):
        raise InvalidInput(f"Adresse électronique « {email} » invalide.")
    local, _, domain = email.rpartition("@")
    return f"{local}@{domain.lower()}"


def _check_temporary(attempt: Attempt, temp_password: str) -> Account:
    """Verify a notified account's temporary password (counting a failure); the account."""
    account = attempt.account
    stored = None
    if account is not None and account.state is AccountState.NOTIFIED:
        stored = account.temp_password_hash
    if not verify(attempt.services, stored, temp_password):
        attempt.fail()
    assert account is not None
    return account


def _check_not_expired(account: Account, now: dt.datetime) -> None:
    if account.temp_expires_at is None or account.temp_expires_at <= now:
        refuse(AuthenticationFailed(TEMP_PASSWORD_EXPIRED))


# --------------------------------------------------------------------------- pupils


def activate_pupil(
    services: Services,
    login: str,
    temp_password: str,
    birth_date: dt.date,
    new_password: str,
    *,
    source: str = LOCAL_CONSOLE,
) -> None:
    """First sign-in of a pupil: the temporary credentials plus the birth date as a check.

    ``source`` is the client's address, as for every owner's flow: failures count per
    login and address (``access.attempts``).
    """
    now = services.clock()
    with unit_of_work(services) as session:
        attempt = find_usable(services, session, login, AccountKind.PUPIL, now, source)
        account = _check_temporary(attempt, temp_password)
        assert account.pupil is not None
        if account.pupil.birth_date != birth_date:
            attempt.fail()
        _check_not_expired(account, now)
        set_password(services, account, new_password)
        activate(account, ActivationMethod.TEMPORARY_CREDENTIALS, now)
        attempt.succeed()


# --------------------------------------------------------------------------- guardians


def start_guardian_activation(
    services: Services,
    login: str,
    temp_password: str,
    email: str,
    new_password: str,
    *,
    source: str = LOCAL_CONSOLE,
) -> None:
    """Step 1 with temporary credentials: the e-mail must be proved before activation.

    The chosen password's hash is kept in ``password_hash`` meanwhile; it is useless
    until ``confirm_guardian_email`` activates the account, since ``sign_in`` requires
    an activated account. The state stays « notifié ».
    """
    now = services.clock()
    with unit_of_work(services) as session:
        attempt = find_usable(services, session, login, AccountKind.GUARDIAN, now, source)
        account = _check_temporary(attempt, temp_password)
        _check_not_expired(account, now)
        set_password(services, account, new_password)
        address = _normalize_email(email)
        code = new_code()
        code_hash = passwords.hash_password(code, services.hash_params)
        hold_code(account, code_hash, now, for_email=address)
        attempt.succeed()
        services.gateway.send(
            session,
            Channel.EMAIL,
            address,
            "EduConnect\u00a0: code de confirmation de votre adresse électronique",
            _email_body(code, services.time.date_time(now + CODE_VALIDITY)),
            now=now,
            account_id=account.id,
        )


def _email_body(code: str, expires_at: str) -> str:
    return (
        "Bonjour,\n\n"
        "Pour terminer l'activation de votre compte EduConnect, saisissez le code "
        f"de confirmation suivant\u00a0: {code}\n\n"
        f"Ce code est valable jusqu'au {expires_at}. "
        "Si vous n'êtes pas à l'origine de cette demande, ignorez ce message.\n\n"
        "EduConnect — ministère de l'Éducation nationale"
    )


def _code_issued_at(account: Account) -> dt.datetime | None:
    if account.email_code_expires_at is None:
        return None
    return account.email_code_expires_at - CODE_VALIDITY


def _check_code(attempt: Attempt, account: Account | None, code: str, now: dt.datetime) -> None:
    """Verify a one-time code (argon2 verification is constant-time), then its expiry."""
    stored = account.email_code_hash if account is not None else None
    if not verify(attempt.services, stored, code.strip()):
        attempt.fail()
    assert account is not None
    check_code_not_expired(account, now)


def confirm_guardian_email(
    services: Services, login: str, code: str, *, source: str = LOCAL_CONSOLE
) -> None:
    """Step 2 with temporary credentials: the code proves the e-mail; the account is activated."""
    now = services.clock()
    with unit_of_work(services) as session:
        attempt = find_usable(services, session, login, AccountKind.GUARDIAN, now, source)
        account = attempt.account
        if account is not None and (
            account.state is not AccountState.NOTIFIED or account.pending_email is None
        ):
            account = None  # no e-mail confirmation under way: nothing to verify against
        _check_code(attempt, account, code, now)
        assert account is not None and account.pending_email is not None
        issued = _code_issued_at(account)
        # A re-notification after the code was sent voids the step it belonged to: the
        # right code of a void step is its owner's, so it counts nothing.
        if account.temp_issued_at is None or issued is None or account.temp_issued_at > issued:
            refuse(AuthenticationFailed(GENERIC_FAILURE))
        _check_not_expired(account, now)
        email = account.pending_email
        activate(account, ActivationMethod.TEMPORARY_CREDENTIALS, now)
        attempt.succeed()
        account.email = email
        account.email_confirmed_at = now


# --------------------------------------------------------------------------- sign-in


def sign_in(services: Services, login: str, password: str, *, source: str = LOCAL_CONSOLE) -> None:
    """An activated account's owner signs in with the password they chose, from ``source``."""
    now = services.clock()
    with unit_of_work(services) as session:
        attempt = find_usable(services, session, login, None, now, source)
        account = attempt.account
        stored = None
        if account is not None and account.state is AccountState.ACTIVATED:
            stored = account.password_hash
        if not verify(services, stored, password):
            attempt.fail()
        assert account is not None
        attempt.succeed()


__all__ = [
    "TEMP_PASSWORD_EXPIRED",
    "activate_pupil",
    "confirm_guardian_email",
    "sign_in",
    "start_guardian_activation",
]
