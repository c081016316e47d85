"""Staff members: creation with an argon2id password and a TOTP secret.

The secret is stored sealed with the key file's TOTP key (``store/keys.py``) and read
back only through ``totp_secret_of``: the database alone gives no one the codes.

A password given to someone else to type (``init``, ``staff add``, the staff screen, a
reset) is temporary (``temporary_until``): it must be replaced at the first sign-in
and is refused after that instant. The demo and the tests' factories create personal
passwords (no end): their operator chose to print them.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from urllib.parse import quote

import pyotp
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from ..model.enums import StaffRole
from ..model.errors import InvalidInput
from ..model.identifiers import TYPED_LOGIN_RULE, login_base, next_login, typed_login
from ..model.names import name_problem, normal_name
from ..model.printable import excerpt, unprintable
from ..model.states import Lockout
from ..model.tables import Establishment, Staff
from ..store import keys
from ..store.settings import HashParams
from .passwords import hash_password

ISSUER = "EduConnect TUI"
_STAFF_PASSWORD_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"


@dataclass(frozen=True)
class NewStaff:
    """What is shown once when a staff member is created: never stored in clear (nor in
    its ``repr``)."""

    id: int
    login: str
    first_name: str
    last_name: str
    role: StaffRole
    title: str
    password: str = field(repr=False)
    totp_secret: str = field(repr=False)
    provisioning_uri: str = field(repr=False)


def generate_staff_password() -> str:
    """14 symbols of 56: over 80 bits, for adults who keep it in a password manager."""
    return "".join(secrets.choice(_STAFF_PASSWORD_ALPHABET) for _ in range(14))


def provisioning_uri(login: str, secret: str) -> str:
    """The ``otpauth://`` URI an authenticator app scans: « EduConnect TUI:login ».

    The issuer is named by the label's prefix only, not again by an ``issuer=``
    parameter: the key URI format reads the prefix when the parameter is absent, and
    those 24 bytes keep the QR code of any login of up to 32 characters at version 5
    (``documents/qr.py``), small enough for an 80×24 terminal. The code's settings are
    the defaults every app assumes (SHA-1, 6 digits, 30 seconds), so they are not written.
    """
    return f"otpauth://totp/{quote(ISSUER)}:{quote(login)}?secret={secret}"


def create_staff(
    session: Session,
    *,
    first_name: str,
    last_name: str,
    role: StaffRole,
    establishments: list[Establishment],
    hash_params: HashParams,
    title: str = "",
    login: str | None = None,
    password: str | None = None,
    temporary_until: dt.datetime | None = None,
) -> NewStaff:
    """Add a staff member; the login is derived from the name unless given.

    ``temporary_until`` makes the password temporary (to be changed at the first
    sign-in, refused after that instant); None makes it the person's own.

    Staff names follow the rule of every person's name (``model/names.py``): they are
    shown on every screen, in the audit trail and on the pupils' letters.
    """
    first_name, last_name = normal_name(first_name), normal_name(last_name)
    if not last_name:
        raise InvalidInput("Le nom du personnel est obligatoire.")
    for what, value in (("nom", last_name), ("prénom", first_name)):
        problem = name_problem(value)
        if problem is not None:
            raise InvalidInput(
                f"Le {what} du personnel « {excerpt(value)} » est refusé\u00a0: {problem}."
            )
    for what, value in (("titre", title), ("identifiant", login or "")):
        char = unprintable(value)
        if char is not None:
            raise InvalidInput(
                f"Le {what} du personnel contient un caractère de contrôle ou invisible "
                f"(U+{ord(char):04X})\u00a0: refusé."
            )
    if not establishments:
        raise InvalidInput("Un personnel doit être rattaché à au moins un établissement.")
    if login is not None and login.strip():
        typed = typed_login(login)
        if typed is None:
            raise InvalidInput(
                f"L'identifiant « {excerpt(login)} » est refusé\u00a0: {TYPED_LOGIN_RULE}."
            )
        login = typed
    else:
        login = None
    if login is None:
        base = login_base(first_name, last_name)
        taken = set(session.scalars(select(Staff.login).where(Staff.login.startswith(base))))
        login = next_login(base, taken)
    elif session.scalar(select(Staff.id).where(Staff.login == login)) is not None:
        raise InvalidInput(f"L'identifiant « {login} » est déjà utilisé.")
    password = password or generate_staff_password()
    secret = pyotp.random_base32()
    staff = Staff(
        login=login,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        role=role,
        title=title,
        password_hash=hash_password(password, hash_params),
        password_temporary_until=temporary_until,
        totp_secret="",  # sealed below: the seal is bound to the row's id
        failed_attempts=0,
        block_count=0,
        establishments=list(establishments),
    )
    session.add(staff)
    session.flush()
    staff.totp_secret = keys.seal_totp(session, staff.id, secret)
    session.flush()
    return NewStaff(
        id=staff.id,
        login=login,
        first_name=staff.first_name,
        last_name=staff.last_name,
        role=role,
        title=title,
        password=password,
        totp_secret=secret,
        provisioning_uri=provisioning_uri(login, secret),
    )


def _session_of(member: Staff) -> Session:
    session = object_session(member)
    assert session is not None, "a staff member read from a session"
    return session


def totp_secret_of(member: Staff) -> str:
    """The base32 TOTP secret of ``member``, opened with the key file.

    ``keys.SecretUnreadable`` when the stored value is not one the keys sealed for this
    member (written in clear, copied from another row, or sealed by a lost key).
    """
    return keys.open_totp(_session_of(member), member.id, member.totp_secret)


def renew_credentials(member: Staff, hash_params: HashParams) -> NewStaff:
    """A new password and TOTP secret for ``member`` (demos print them again), unblocked.

    The old ones cannot be shown again: only their hash and the secret are stored, and
    a demo's operator rerunning it has usually lost what was printed.
    """
    password = generate_staff_password()
    secret = pyotp.random_base32()
    member.password_hash = hash_password(password, hash_params)
    member.totp_secret = keys.seal_totp(_session_of(member), member.id, secret)
    member.last_totp_step = None
    Lockout.record_success(member)
    return NewStaff(
        id=member.id,
        login=member.login,
        first_name=member.first_name,
        last_name=member.last_name,
        role=member.role,
        title=member.title,
        password=password,
        totp_secret=secret,
        provisioning_uri=provisioning_uri(member.login, secret),
    )
