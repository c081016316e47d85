"""How pupils and guardians activate their accounts and sign in (DESIGN.md §1–2).

These are the owners' own actions, not staff actions, so nothing here is audited.
The same functions are the engine of the ``educonnect-tui activate`` command and of
the demo, so every activated state in the database is reached through the rules.

Security choices shared by every flow:

- one generic French message for any wrong identifier, password, birth date or code,
  so an attempt never learns which part was wrong; an unknown login costs the same
  argon2 verification as a known one;
- a wrong attempt on an existing account counts towards blocking and is committed
  even though the call raises (see ``_unit_of_work``);
- an expired temporary password or code is reported as such only once the secret
  itself was verified, because only then is the person presumed to be its owner.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ..access import passwords
from ..model.enums import AccountKind, AccountState, ActivationMethod, Channel, PupilStatus
from ..model.errors import (
    AuthenticationFailed,
    ConcurrentModification,
    DomainError,
    InvalidInput,
)
from ..model.identifiers import search_key
from ..model.states import Event, Lockout, transition
from ..model.tables import Account, Guardian, OutboxMessage
from ..store.services import Services

GENERIC_FAILURE = (
    "Identifiant, mot de passe ou information de vérification incorrect. "
    "Vérifiez votre saisie et réessayez."
)
TEMP_PASSWORD_EXPIRED = (
    "Votre mot de passe provisoire a expiré : demandez à votre établissement "
    "de vous notifier à nouveau votre compte."
)
CODE_EXPIRED = "Ce code a expiré : recommencez pour en recevoir un nouveau."
AMBIGUOUS_MOBILE = (
    "Plusieurs comptes correspondent à ce numéro et à ces dates de naissance : "
    "contactez l'établissement de votre enfant."
)

CODE_DIGITS = 6
CODE_VALIDITY = dt.timedelta(minutes=30)
_CODE_RE = re.compile(rf"(?<!\d)(\d{{{CODE_DIGITS}}})(?!\d)")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]{2,}$")


class _Refused(Exception):
    """Carries a domain error out of the transaction so the transaction can commit first."""

    def __init__(self, error: DomainError) -> None:
        super().__init__(str(error))
        self.error = error


# --------------------------------------------------------------------------- helpers


def normalize_mobile(raw: str) -> str:
    """Digits only, national form: schools type "06 12 34 56 78", "+33 6..." or "0033 6..."."""
    digits = re.sub(r"\D", "", raw)
    if raw.strip().startswith("+33") or digits.startswith("0033"):
        digits = "0" + digits.removeprefix("00").removeprefix("33")
    if not 8 <= len(digits) <= 15:
        raise InvalidInput(f"Numéro de téléphone mobile « {raw.strip()} » invalide.")
    return digits


def _normalize_email(raw: str) -> str:
    email = raw.strip()
    if len(email) > 254 or not _EMAIL_RE.match(email):
        raise InvalidInput(f"Adresse électronique « {email} » invalide.")
    local, _, domain = email.rpartition("@")
    return f"{local}@{domain.lower()}"


def _verify(services: Services, stored_hash: str | None, secret: str) -> bool:
    return passwords.verify_or_spend(stored_hash, secret, services.hash_params)


def _new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


@contextmanager
def _unit_of_work(services: Services) -> Iterator[Session]:
    """One transaction that commits even when the attempt is refused.

    A refused attempt has changed the failure counters; they must persist, or an
    attacker would get unlimited tries. So ``_Refused`` commits, then its error is raised.
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
                "Ce compte a été modifié en même temps par une autre opération : réessayez."
            ) from error
    if refused is not None:
        raise refused.error


def _refuse(error: DomainError) -> NoReturn:
    raise _Refused(error)


def _fail(services: Services, account: Account | None, now: dt.datetime) -> NoReturn:
    """A wrong attempt: count it on the account (if any) and refuse with the generic message."""
    if account is not None:
        until = Lockout.record_failure(account, now)
        if until is not None:
            _refuse(Lockout.error(until, services.time))
    _refuse(AuthenticationFailed(GENERIC_FAILURE))


def _find(session: Session, login: str) -> Account | None:
    account = session.scalar(
        select(Account).where(Account.login == login.strip().lower()).with_for_update()
    )
    return account


def _usable(
    services: Services, account: Account | None, kind: AccountKind | None, now: dt.datetime
) -> Account | None:
    """The account if this flow may try it at all; raises when it is blocked.

    An unknown login, an account of the other kind and a deactivated account are all
    refused the same way and count nothing: there is no owner to protect.
    """
    if account is None or account.state is AccountState.DEACTIVATED:
        return None
    if kind is not None and account.kind is not kind:
        return None
    if Lockout.is_blocked(account, now):
        assert account.blocked_until is not None
        _refuse(Lockout.error(account.blocked_until, services.time))
    return account


def _check_temporary(
    services: Services, account: Account | None, temp_password: str, now: dt.datetime
) -> Account:
    """Verify a notified account's temporary password (counting a failure); the account."""
    stored = None
    if account is not None and account.state is AccountState.NOTIFIED:
        stored = account.temp_password_hash
    if not _verify(services, stored, temp_password):
        _fail(services, account, now)
    assert account is not None
    return account


def _check_not_expired(account: Account, now: dt.datetime) -> None:
    if account.temp_expires_at is None or account.temp_expires_at <= now:
        _refuse(AuthenticationFailed(TEMP_PASSWORD_EXPIRED))


def _activate(account: Account, method: ActivationMethod, now: dt.datetime) -> None:
    """The state change every successful activation ends with; the machine may refuse it."""
    account.state = transition(account.kind, account.state, Event.ACTIVATE, method)
    account.activation_method = method
    account.activated_at = now
    account.temp_password_hash = None
    account.email_code_hash = None
    account.email_code_expires_at = None
    account.pending_email = None
    Lockout.record_success(account)


# --------------------------------------------------------------------------- pupils


def activate_pupil(
    services: Services, login: str, temp_password: str, birth_date: dt.date, new_password: str
) -> None:
    """First sign-in of a pupil: the temporary credentials plus the birth date as a check."""
    now = services.clock()
    with _unit_of_work(services) as session:
        account = _usable(services, _find(session, login), AccountKind.PUPIL, now)
        account = _check_temporary(services, account, temp_password, now)
        assert account.pupil is not None
        if account.pupil.birth_date != birth_date:
            _fail(services, account, now)
        _check_not_expired(account, now)
        passwords.check_new_password(new_password, account.login)
        _activate(account, ActivationMethod.TEMPORARY_CREDENTIALS, now)
        account.password_hash = passwords.hash_password(new_password, services.hash_params)


# --------------------------------------------------------------------------- guardians


def start_guardian_activation(
    services: Services, login: str, temp_password: str, email: str, new_password: str
) -> None:
    """Step 1 with temporary credentials: the e-mail must be proved before activation.

    The chosen password's hash is kept in ``password_hash`` meanwhile; it is useless
    until ``confirm_guardian_email`` activates the account, since ``sign_in`` requires
    an activated account. The state stays « notifié ».
    """
    now = services.clock()
    with _unit_of_work(services) as session:
        account = _usable(services, _find(session, login), AccountKind.GUARDIAN, now)
        account = _check_temporary(services, account, temp_password, now)
        _check_not_expired(account, now)
        passwords.check_new_password(new_password, account.login)
        address = _normalize_email(email)
        code = _new_code()
        account.password_hash = passwords.hash_password(new_password, services.hash_params)
        account.pending_email = address
        account.email_code_hash = passwords.hash_password(code, services.hash_params)
        account.email_code_expires_at = now + CODE_VALIDITY
        Lockout.record_success(account)
        services.gateway.send(
            session,
            Channel.EMAIL,
            address,
            "EduConnect : code de confirmation de votre adresse électronique",
            _email_body(code, services.time.date_time(now + CODE_VALIDITY)),
            now=now,
        )


def _email_body(code: str, expires_at: str) -> str:
    return (
        "Bonjour,\n\n"
        "Pour terminer l'activation de votre compte EduConnect, saisissez le code "
        f"de confirmation suivant : {code}\n\n"
        f"Ce code est valable jusqu'au {expires_at}. "
        "Si vous n'êtes pas à l'origine de cette demande, ignorez ce message.\n\n"
        "EduConnect — ministère de l'Éducation nationale"
    )


def _code_issued_at(account: Account) -> dt.datetime | None:
    if account.email_code_expires_at is None:
        return None
    return account.email_code_expires_at - CODE_VALIDITY


def _check_code(services: Services, account: Account | None, code: str, now: dt.datetime) -> None:
    """Verify a one-time code (argon2 verification is constant-time), then its expiry."""
    stored = account.email_code_hash if account is not None else None
    if not _verify(services, stored, code.strip()):
        _fail(services, account, now)
    assert account is not None and account.email_code_expires_at is not None
    if account.email_code_expires_at <= now:
        _refuse(AuthenticationFailed(CODE_EXPIRED))


def confirm_guardian_email(services: Services, login: str, code: str) -> None:
    """Step 2 with temporary credentials: the code proves the e-mail; the account is activated."""
    now = services.clock()
    with _unit_of_work(services) as session:
        account = _usable(services, _find(session, login), AccountKind.GUARDIAN, now)
        if account is not None and (
            account.state is not AccountState.NOTIFIED or account.pending_email is None
        ):
            account = None  # no e-mail confirmation under way: nothing to verify against
        _check_code(services, account, code, now)
        assert account is not None and account.pending_email is not None
        issued = _code_issued_at(account)
        # A re-notification after the code was sent voids the step it belonged to.
        if account.temp_issued_at is None or issued is None or account.temp_issued_at > issued:
            _fail(services, None, now)
        _check_not_expired(account, now)
        email = account.pending_email
        _activate(account, ActivationMethod.TEMPORARY_CREDENTIALS, now)
        account.email = email
        account.email_confirmed_at = now


def activate_guardian_franceconnect(
    services: Services, login: str, last_name: str, first_name: str
) -> None:
    """FranceConnect asserts an identity; it activates the account whose names it matches.

    Names are compared folded (accents, case, punctuation, spacing), as the national
    federation and the school information system spell them differently. The account
    needs no notification. The state machine refuses it for pupils.
    """
    now = services.clock()
    with _unit_of_work(services) as session:
        account = _usable(services, _find(session, login), None, now)
        owner = None
        if account is not None:
            owner = account.guardian if account.kind is AccountKind.GUARDIAN else account.pupil
        if owner is None or search_key(owner.last_name, owner.first_name) != search_key(
            last_name, first_name
        ):
            _fail(services, account, now)
        assert account is not None
        _activate(account, ActivationMethod.FRANCECONNECT, now)


def _self_registration_candidates(session: Session, mobile: str) -> list[Account]:
    """Guardian accounts not yet activated whose guardian's mobile is ``mobile``.

    Schools type numbers in many formats, so they are compared normalised in Python
    among the guardians that have a mobile at all.
    """
    rows = session.scalars(
        select(Account)
        .join(Guardian, Account.guardian_id == Guardian.id)
        .where(
            Account.kind == AccountKind.GUARDIAN,
            Account.state.in_([AccountState.NOT_NOTIFIED, AccountState.NOTIFIED]),
            Guardian.mobile.is_not(None),
        )
        .order_by(Account.id)
        .with_for_update(of=Account)
    )
    found = []
    for account in rows:
        assert account.guardian is not None and account.guardian.mobile is not None
        try:
            if normalize_mobile(account.guardian.mobile) == mobile:
                found.append(account)
        except InvalidInput:
            continue
    return found


def start_self_registration(services: Services, mobile: str) -> None:
    """Auto-inscription step 1: an SMS code to the mobile number the school holds.

    When both guardians share one number, both accounts get the same code; the
    children's birth dates tell them apart at step 2.
    """
    number = normalize_mobile(mobile)
    now = services.clock()
    with _unit_of_work(services) as session:
        candidates = _unblocked(services, _self_registration_candidates(session, number), now)
        if not candidates:
            _fail(services, None, now)
        code = _new_code()
        code_hash = passwords.hash_password(code, services.hash_params)
        for account in candidates:
            account.email_code_hash = code_hash
            account.email_code_expires_at = now + CODE_VALIDITY
            account.pending_email = None  # the code now belongs to auto-inscription
        services.gateway.send(
            session,
            Channel.SMS,
            number,
            "EduConnect : code d'inscription",
            f"EduConnect : votre code d'inscription est {code}. "
            f"Valable jusqu'au {services.time.date_time(now + CODE_VALIDITY)}.",
            now=now,
        )


def _unblocked(services: Services, accounts: list[Account], now: dt.datetime) -> list[Account]:
    """The accounts free to try; ``AccountBlocked`` when every one of them is blocked."""
    free = [a for a in accounts if not Lockout.is_blocked(a, now)]
    if accounts and not free:
        until = min(a.blocked_until for a in accounts if a.blocked_until)
        _refuse(Lockout.error(until, services.time))
    return free


def _children_birth_dates(account: Account) -> list[dt.date]:
    assert account.guardian is not None
    return sorted(
        link.pupil.birth_date
        for link in account.guardian.links
        if link.pupil.status is PupilStatus.ENROLLED
    )


def complete_self_registration(
    services: Services,
    mobile: str,
    code: str,
    children_birth_dates: list[dt.date],
    new_password: str,
) -> str:
    """Auto-inscription step 2: the code, then every enrolled child's birth date.

    Returns the login, which the guardian has never been told until now.
    """
    number = normalize_mobile(mobile)
    now = services.clock()
    given = sorted(children_birth_dates)
    with _unit_of_work(services) as session:
        candidates = [
            a
            for a in _self_registration_candidates(session, number)
            if a.email_code_hash is not None and a.pending_email is None
        ]
        if not candidates:
            _verify(services, None, code)
            _fail(services, None, now)
        holders = _unblocked(services, candidates, now)
        matching_code = [a for a in holders if _verify(services, a.email_code_hash, code.strip())]
        if not matching_code:
            for account in holders[1:]:
                Lockout.record_failure(account, now)
            _fail(services, holders[0] if holders else None, now)
        matching = [a for a in matching_code if given and _children_birth_dates(a) == given]
        if not matching:
            for account in matching_code[1:]:
                Lockout.record_failure(account, now)
            _fail(services, matching_code[0], now)
        if len(matching) > 1:
            _refuse(InvalidInput(AMBIGUOUS_MOBILE))
        account = matching[0]
        assert account.email_code_expires_at is not None
        if account.email_code_expires_at <= now:
            _refuse(AuthenticationFailed(CODE_EXPIRED))
        passwords.check_new_password(new_password, account.login)
        _activate(account, ActivationMethod.SELF_REGISTRATION, now)
        account.password_hash = passwords.hash_password(new_password, services.hash_params)
        return account.login


# --------------------------------------------------------------------------- sign-in


def sign_in(services: Services, login: str, password: str) -> None:
    """An activated account's owner signs in with the password they chose."""
    now = services.clock()
    with _unit_of_work(services) as session:
        account = _usable(services, _find(session, login), None, now)
        stored = None
        if account is not None and account.state is AccountState.ACTIVATED:
            stored = account.password_hash
        if not _verify(services, stored, password):
            _fail(services, account, now)
        assert account is not None
        Lockout.record_success(account)


# --------------------------------------------------------------------------- demo/test aid


def latest_code(services: Services, recipient: str) -> str | None:
    """The code in the newest outbox message to ``recipient`` — for demos and tests only.

    The outbox is what a real relay would deliver, so reading it stands in for the
    person reading their e-mail or SMS. Phone numbers may be given in any format.
    """
    address = recipient.strip()
    if "@" not in address:
        try:
            address = normalize_mobile(address)
        except InvalidInput:
            return None
    with services.sessions() as session:
        body = session.scalar(
            select(OutboxMessage.body)
            .where(OutboxMessage.recipient == address)
            .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
            .limit(1)
        )
    if body is None:
        return None
    match = _CODE_RE.search(body)
    return match.group(1) if match else None


__all__ = [
    "CODE_VALIDITY",
    "GENERIC_FAILURE",
    "activate_guardian_franceconnect",
    "activate_pupil",
    "complete_self_registration",
    "confirm_guardian_email",
    "latest_code",
    "normalize_mobile",
    "sign_in",
    "start_guardian_activation",
    "start_self_registration",
]
