"""How a guardian activates without the school's letter: auto-inscription by SMS, FranceConnect.

See docs/domain.md, « The state machine ». Neither needs a notification: the mobile number
the school holds and the children's birth dates, or the identity FranceConnect asserts,
stand in for the temporary password. Refusals and counted failures follow
``owner_attempts``, like every owner's flow.
"""

from __future__ import annotations

import datetime as dt
from typing import NoReturn

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..access import passwords
from ..access.network import LOCAL_CONSOLE
from ..model.enums import AccountKind, AccountState, ActivationMethod, Channel, PupilStatus
from ..model.errors import InvalidInput
from ..model.identifiers import search_key
from ..model.phones import sms_mobile
from ..model.printable import excerpt
from ..model.states import Lockout
from ..model.tables import Account, Guardian
from ..store.services import Services
from .owner_attempts import (
    CODE_VALIDITY,
    activate,
    check_code_not_expired,
    fail,
    find_usable,
    hold_code,
    new_code,
    refuse,
    set_password,
    unit_of_work,
    verify,
)

AMBIGUOUS_MOBILE = (
    "Plusieurs comptes correspondent à ce numéro et à ces dates de naissance\u00a0: "
    "contactez l'établissement de votre enfant."
)


def normalize_mobile(raw: str) -> str:
    """The typed number in national form, refused unless it can receive the SMS.

    The rule is ``phones.sms_mobile``, the same the guardians' ``sms_mobile`` column holds.
    """
    number = sms_mobile(raw)
    if number is None:
        raise InvalidInput(
            f"Numéro de téléphone mobile « {excerpt(raw.strip())} » invalide\u00a0: "
            "un mobile français (06 ou 07) est attendu."
        )
    return number


# --------------------------------------------------------------------------- FranceConnect


def activate_guardian_franceconnect(
    services: Services, login: str, last_name: str, first_name: str, *, source: str = LOCAL_CONSOLE
) -> None:
    """FranceConnect asserts an identity; it activates the account whose names it matches.

    Names are compared folded (accents, case, punctuation, spacing), as the national
    federation and the school information system spell them differently. The account
    needs no notification. The state machine refuses it for pupils.
    """
    now = services.clock()
    with unit_of_work(services) as session:
        attempt = find_usable(services, session, login, None, now, source)
        account = attempt.account
        owner = None
        if account is not None:
            owner = account.guardian if account.kind is AccountKind.GUARDIAN else account.pupil
        if owner is None or search_key(owner.last_name, owner.first_name) != search_key(
            last_name, first_name
        ):
            attempt.fail()
        assert account is not None
        activate(account, ActivationMethod.FRANCECONNECT, now)
        attempt.succeed()


# --------------------------------------------------------------------------- auto-inscription


def _candidates(session: Session, mobile: str) -> list[Account]:
    """Guardian accounts not yet activated whose guardian's mobile is ``mobile``.

    Schools type numbers in many formats; ``Guardian.sms_mobile`` holds each in the
    national form ``normalize_mobile`` gives, so they are compared in SQL, by its index.
    """
    return list(
        session.scalars(
            select(Account)
            .join(Guardian, Account.guardian_id == Guardian.id)
            .where(
                Account.kind == AccountKind.GUARDIAN,
                Account.state.in_([AccountState.NOT_NOTIFIED, AccountState.NOTIFIED]),
                Guardian.sms_mobile == mobile,
            )
            .order_by(Account.id)
            .with_for_update(of=Account)
        )
    )


def start_self_registration(services: Services, mobile: str) -> None:
    """Auto-inscription step 1: an SMS code to the mobile number the school holds.

    When both guardians share one number, both accounts get the same code; the
    children's birth dates tell them apart at step 2.
    """
    number = normalize_mobile(mobile)
    now = services.clock()
    with unit_of_work(services) as session:
        candidates = _unblocked(services, _candidates(session, number), now)
        if not candidates:
            fail(services, None, now)
        code = new_code()
        code_hash = passwords.hash_password(code, services.hash_params)
        for account in candidates:
            hold_code(account, code_hash, now, for_email=None)
        services.gateway.send(
            session,
            Channel.SMS,
            number,
            "EduConnect\u00a0: code d'inscription",
            f"EduConnect\u00a0: votre code d'inscription est {code}. "
            f"Valable jusqu'au {services.time.date_time(now + CODE_VALIDITY)}.",
            now=now,
        )


def _unblocked(services: Services, accounts: list[Account], now: dt.datetime) -> list[Account]:
    """The accounts free to try; ``AccountBlocked`` when every one of them is blocked."""
    free = [a for a in accounts if not Lockout.is_blocked(a, now)]
    if accounts and not free:
        until = min(a.blocked_until for a in accounts if a.blocked_until)
        refuse(Lockout.error(until, services.time))
    return free


def _children_birth_dates(account: Account) -> list[dt.date]:
    assert account.guardian is not None
    return sorted(
        link.pupil.birth_date
        for link in account.guardian.links
        if link.pupil.status is PupilStatus.ENROLLED
    )


def _fail_all(services: Services, accounts: list[Account], now: dt.datetime) -> NoReturn:
    """A wrong attempt counts on every account sharing the number, then is refused."""
    for account in accounts[1:]:
        Lockout.record_failure(account, now)
    fail(services, accounts[0] if accounts else None, now)


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
    with unit_of_work(services) as session:
        candidates = [
            a
            for a in _candidates(session, number)
            if a.email_code_hash is not None and a.pending_email is None
        ]
        if not candidates:
            verify(services, None, code)
            fail(services, None, now)
        holders = _unblocked(services, candidates, now)
        matching_code = [a for a in holders if verify(services, a.email_code_hash, code.strip())]
        if not matching_code:
            _fail_all(services, holders, now)
        matching = [a for a in matching_code if given and _children_birth_dates(a) == given]
        if not matching:
            _fail_all(services, matching_code, now)
        if len(matching) > 1:
            refuse(InvalidInput(AMBIGUOUS_MOBILE))
        account = matching[0]
        check_code_not_expired(account, now)
        set_password(services, account, new_password)
        activate(account, ActivationMethod.SELF_REGISTRATION, now)
        return account.login


__all__ = [
    "AMBIGUOUS_MOBILE",
    "activate_guardian_franceconnect",
    "complete_self_registration",
    "normalize_mobile",
    "start_self_registration",
]
