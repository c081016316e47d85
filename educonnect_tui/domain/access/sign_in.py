"""Staff sign-in for the TUI: identifier, password, then the OTP key unless the network is enough.

Access rules (docs/domain.md, « Access rules »):

- the administration module needs a second factor: a TOTP code from the OTP key, or a
  connection from the school's administrative network (``network.is_admin_network``);
- the dépannage module needs only the agent's identifier and password;
- guardians' accounts are never reachable without that second factor, whatever the
  module: ``permissions.require`` refuses them without ``caller.second_factor``.

Whether the person actually holds the module (their role or a DELEG-CE delegation)
is not decided here: ``SignedIn.module`` says what they signed in for, and the
module's services check the rights.

Security choices, shared with the owners' flows (``accounts/owner_attempts.py``):

- one generic French message for an unknown identifier, a wrong password and a wrong,
  missing or replayed code; the precise reason goes to the audit trail only;
- an unknown identifier costs the same argon2 verification as a known one;
- a failure on an existing staff member counts towards blocking (``states.Lockout``) and
  is committed together with its audit record, even though the call raises;
- a TOTP code is accepted once: its time step must be later than the last one used,
  so neither the same code nor an older one can be replayed;
- every attempt, successful or not, is audited with its source address.
"""

from __future__ import annotations

import datetime as dt
import hmac
import re
from dataclasses import dataclass, replace
from typing import Any

import pyotp
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..model.enums import Module
from ..model.errors import AuthenticationFailed, DomainError, PermissionDenied
from ..model.states import Lockout
from ..model.tables import Staff
from ..store import audit
from ..store.audit import Actor
from ..store.services import Services
from . import passwords
from .caller import SchoolRef, SchoolSession, SignedIn, StaffIdentity, not_attached
from .network import Connection, NetworkMode, network_mode
from .staff import totp_secret_of

GENERIC_FAILURE = "Identifiant, mot de passe ou code incorrect."
NO_SCHOOL = (
    "Votre compte n'est rattaché à aucun établissement : contactez votre chef d'établissement."
)
TOTP_DIGITS = 6
# Steps accepted either side of the current one: the clock drift of a phone.
TOTP_VALID_WINDOW = 1
_CODE_RE = re.compile(rf"[0-9]{{{TOTP_DIGITS}}}")
# Typed identifiers are echoed in the audit trail (200 characters): keep them bounded.
_MAX_LOGIN_ECHO = 100

# --------------------------------------------------------------------------- value objects


@dataclass(frozen=True)
class SignInStep:
    """What the login screen needs before asking anything: which case applies, and why.

    The screen shows ``message`` and asks for the code only when ``otp_required``.
    """

    connection: Connection
    network_mode: NetworkMode
    module: Module
    otp_required: bool

    @property
    def message(self) -> str:
        where = self.connection.label()
        if self.network_mode is NetworkMode.ADMIN:
            return (
                f"Connexion depuis le réseau administratif ({where}) : "
                "l'identifiant et le mot de passe suffisent."
            )
        if not self.otp_required:
            return (
                f"Connexion hors du réseau administratif ({where}) : l'identifiant et le "
                "mot de passe suffisent pour le module dépannage."
            )
        return (
            f"Connexion hors du réseau administratif ({where}) : le code à "
            f"{TOTP_DIGITS} chiffres de votre clé OTP sera demandé."
        )


# --------------------------------------------------------------------------- before asking


def sign_in_step(
    services: Services, connection: Connection, module: Module = Module.ADMINISTRATION
) -> SignInStep:
    mode = network_mode(connection, services.settings)
    return SignInStep(
        connection=connection,
        network_mode=mode,
        module=module,
        otp_required=mode is NetworkMode.OTP and module is Module.ADMINISTRATION,
    )


def needs_otp(
    services: Services, connection: Connection, module: Module = Module.ADMINISTRATION
) -> bool:
    """False from the administrative network, and for the dépannage module."""
    return sign_in_step(services, connection, module).otp_required


# --------------------------------------------------------------------------- helpers


def _check_password(services: Services, staff: Staff | None, password: str) -> bool:
    stored = staff.password_hash if staff is not None else None
    return passwords.verify_or_spend(stored, password, services.hash_params)


def totp_step(secret: str, code: str, now: dt.datetime) -> int | None:
    """The time step ``code`` belongs to within the accepted window, or None.

    ``pyotp.TOTP.verify(valid_window=1)`` says yes or no but not which step matched,
    and the step is what prevents replay; so this walks the same window itself, newest
    first, with a constant-time comparison. Spaces typed from an app ("123 456") are
    ignored.
    """
    typed = "".join(code.split())
    if not _CODE_RE.fullmatch(typed):
        return None
    totp = pyotp.TOTP(secret, digits=TOTP_DIGITS)
    current = totp.timecode(now)
    for step in range(current + TOTP_VALID_WINDOW, current - TOTP_VALID_WINDOW - 1, -1):
        if hmac.compare_digest(totp.generate_otp(step).encode(), typed.encode()):
            return step
    return None


def _echo(login: str) -> str:
    printable = "".join(ch if ch.isprintable() else "?" for ch in login.strip())
    return printable[:_MAX_LOGIN_ECHO]


def _find(session: Session, login: str) -> Staff | None:
    typed = login.strip().lower()
    if not typed:
        return None
    return session.scalar(select(Staff).where(func.lower(Staff.login) == typed).with_for_update())


def _schools(staff: Staff) -> tuple[SchoolRef, ...]:
    refs = (SchoolRef(id=e.id, uai=e.uai, name=e.name) for e in staff.establishments)
    return tuple(sorted(refs, key=lambda s: (s.name.casefold(), s.uai)))


def _identity(staff: Staff) -> StaffIdentity:
    return StaffIdentity(
        staff_id=staff.id,
        login=staff.login,
        first_name=staff.first_name,
        last_name=staff.last_name,
        role=staff.role,
        title=staff.title,
        schools=_schools(staff),
    )


def _single_school_id(staff: Staff | None) -> int | None:
    if staff is None or len(staff.establishments) != 1:
        return None
    return staff.establishments[0].id


@dataclass
class _Attempt:
    """One sign-in attempt being decided, so each outcome is audited the same way."""

    services: Services
    session: Session
    typed_login: str
    connection: Connection
    mode: NetworkMode
    module: Module
    staff: Staff | None
    now: dt.datetime

    def audit(self, action: str, **details: Any) -> None:
        staff = self.staff
        actor = Actor(
            label=staff.login if staff is not None else f"inconnu ({_echo(self.typed_login)})",
            source_address=self.connection.source,
            staff_id=staff.id if staff is not None else None,
        )
        audit.record(
            self.session,
            actor,
            action,
            now=self.now,
            establishment_id=_single_school_id(staff),
            details={"network_mode": self.mode.value, "module": self.module.value, **details},
        )

    def fail(self, reason: str) -> DomainError:
        """Count the failure (if anyone is there to protect) and audit it; the error to raise."""
        until = Lockout.record_failure(self.staff, self.now) if self.staff is not None else None
        if until is None:
            self.audit("sign_in_failed", reason=reason)
            return AuthenticationFailed(GENERIC_FAILURE)
        self.audit("sign_in_failed", reason=reason, blocked_until=until.isoformat())
        return Lockout.error(until, self.services.time)


def _decide(attempt: _Attempt, password: str, code: str | None) -> SignedIn | DomainError:
    staff = attempt.staff
    if staff is not None and Lockout.is_blocked(staff, attempt.now):
        assert staff.blocked_until is not None
        attempt.audit("sign_in_blocked", blocked_until=staff.blocked_until.isoformat())
        return Lockout.error(staff.blocked_until, attempt.services.time)
    if not _check_password(attempt.services, staff, password):
        return attempt.fail("unknown_login" if staff is None else "bad_password")
    assert staff is not None
    otp_required = attempt.mode is NetworkMode.OTP and attempt.module is Module.ADMINISTRATION
    if otp_required:
        if not code or not code.strip():
            return attempt.fail("missing_code")
        step = totp_step(totp_secret_of(staff), code, attempt.now)
        if step is None:
            return attempt.fail("bad_code")
        if staff.last_totp_step is not None and step <= staff.last_totp_step:
            return attempt.fail("replayed_code")
        # Spent even if the sign-in is refused below: the code was shown, it is used up.
        staff.last_totp_step = step
    Lockout.record_success(staff)
    identity = _identity(staff)
    if not identity.schools:
        attempt.audit("sign_in_refused", reason="no_school")
        return PermissionDenied(NO_SCHOOL)
    attempt.audit("sign_in", schools=len(identity.schools))
    return session_of(
        staff, connection=attempt.connection, module=attempt.module, mode=attempt.mode
    )


def session_of(
    staff: Staff, *, connection: Connection, module: Module, mode: NetworkMode
) -> SignedIn:
    """What a staff member past the checks gets: their identity, and their school if only one.

    A person attached to several schools stays a ``SignedIn`` until ``choose_school``.
    """
    signed_in = SignedIn(
        identity=_identity(staff), network_mode=mode, connection=connection, module=module
    )
    schools = signed_in.identity.schools
    return signed_in.at(schools[0]) if len(schools) == 1 else signed_in


def sign_in(
    services: Services,
    login: str,
    password: str,
    code: str | None,
    connection: Connection,
    *,
    module: Module = Module.ADMINISTRATION,
) -> SignedIn:
    """Check a staff member's credentials; ``AuthenticationFailed`` or ``AccountBlocked``.

    The order matters: a blocked account is refused before its password is tried (so
    blocking really stops guessing), and the code is checked only after the password
    (so a code is never spent by someone who does not know the password). Outcomes are
    returned, not raised, inside the transaction so that counters and the audit record
    commit before the error reaches the caller.
    """
    now = services.clock()
    mode = network_mode(connection, services.settings)
    with services.sessions() as session, session.begin():
        attempt = _Attempt(
            services=services,
            session=session,
            typed_login=login,
            connection=connection,
            mode=mode,
            module=module,
            staff=_find(session, login),
            now=now,
        )
        outcome = _decide(attempt, password, code)
    if isinstance(outcome, DomainError):
        raise outcome
    return outcome


def choose_school(services: Services, signed_in: SignedIn, uai: str) -> SchoolSession:
    """The school a person attached to several works on; checked against the database.

    The attachments are read again rather than trusted from the session, so a person
    detached from a school since signing in cannot pick it. Refusals are audited too.
    """
    wanted = uai.strip().upper()
    now = services.clock()
    actor = signed_in.actor()
    with services.sessions() as session, session.begin():
        staff = session.get(Staff, signed_in.identity.staff_id)
        schools = _schools(staff) if staff is not None else ()
        chosen = next((s for s in schools if s.uai == wanted), None)
        if chosen is None:
            audit.record(
                session,
                actor,
                "school_choice_refused",
                now=now,
                details={"uai": _echo(wanted)},
            )
        else:
            audit.record(
                session,
                actor,
                "school_chosen",
                now=now,
                establishment_id=chosen.id,
                details={"uai": chosen.uai},
            )
    if chosen is None:
        raise PermissionDenied(not_attached(_echo(wanted)))
    identity = replace(signed_in.identity, schools=schools)
    return replace(signed_in, identity=identity).at(chosen)


__all__ = [
    "GENERIC_FAILURE",
    "SignInStep",
    "choose_school",
    "needs_otp",
    "session_of",
    "sign_in",
    "sign_in_step",
    "totp_step",
]
