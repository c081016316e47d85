"""Staff sign-in for the TUI: identifier, password, then the OTP key unless the network is enough.

Access rules (DESIGN.md §1):

- the administration module needs a second factor: a TOTP code from the OTP key, or a
  connection from the school's administrative network (``network.is_admin_network``);
- the dépannage module needs only the agent's identifier and password;
- guardians' accounts are never reachable without that second factor, whatever the
  module: services guarding them call ``SignedIn.require_second_factor()``.

Whether the person actually holds the module (their role or a DELEG-CE delegation)
is not decided here: ``SignedIn.module`` says what they signed in for, and the
module's services check the rights.

Security choices, shared with ``activation.py``:

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

from ..model.enums import Module, StaffRole
from ..model.errors import AuthenticationFailed, DomainError, PermissionDenied
from ..model.states import Lockout
from ..model.tables import Staff
from ..store import audit
from ..store.audit import Actor
from ..store.services import Services
from . import passwords
from .network import Connection, NetworkMode, network_mode

GENERIC_FAILURE = "Identifiant, mot de passe ou code incorrect."
NO_SCHOOL = (
    "Votre compte n'est rattaché à aucun établissement : contactez votre chef d'établissement."
)
SECOND_FACTOR_REQUIRED = (
    "Cette opération exige la clé OTP ou une connexion depuis le réseau administratif : "
    "reconnectez-vous au module d'administration."
)

TOTP_DIGITS = 6
# Steps accepted either side of the current one: the clock drift of a phone.
TOTP_VALID_WINDOW = 1
_CODE_RE = re.compile(rf"[0-9]{{{TOTP_DIGITS}}}")
# Typed identifiers are echoed in the audit trail (200 characters): keep them bounded.
_MAX_LOGIN_ECHO = 100

_ROLE_LABELS = {
    StaffRole.DIRECTION: "Personnel de direction",
    StaffRole.AGENT: "Agent",
}


# --------------------------------------------------------------------------- value objects


@dataclass(frozen=True)
class SchoolRef:
    id: int
    uai: str
    name: str

    @property
    def label(self) -> str:
        return f"{self.name} ({self.uai})"


@dataclass(frozen=True)
class StaffIdentity:
    """Who signed in, as the screens show it; detached from the database."""

    staff_id: int
    login: str
    first_name: str
    last_name: str
    role: StaffRole
    title: str
    schools: tuple[SchoolRef, ...]

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def role_label(self) -> str:
        return _ROLE_LABELS[self.role]


@dataclass(frozen=True)
class SignedIn:
    """A staff session: who, how the second factor was met, from where, for which school.

    ``network_mode`` describes the connection (administrative network, or outside it
    where the administration module asks for the OTP key); ``module`` is what the person
    signed in for. ``school`` stays None until someone attached to several schools
    picks one (``choose_school``).
    """

    identity: StaffIdentity
    network_mode: NetworkMode
    connection: Connection
    school: SchoolRef | None
    module: Module = Module.ADMINISTRATION

    @property
    def second_factor(self) -> bool:
        """True when the OTP key was checked or the administrative network stood in for it.

        An administration sign-in always has it (``sign_in`` refuses otherwise); a
        dépannage sign-in has it only from the administrative network.
        """
        return self.module is Module.ADMINISTRATION or self.network_mode is NetworkMode.ADMIN

    def require_second_factor(self) -> None:
        """For guardians' accounts and the administration module's services."""
        if not self.second_factor:
            raise PermissionDenied(SECOND_FACTOR_REQUIRED)

    def actor(self) -> Actor:
        identity = self.identity
        return Actor(
            label=f"{identity.display_name} ({identity.login})",
            source_address=self.connection.source,
            staff_id=identity.staff_id,
        )

    def with_school(self, school: SchoolRef) -> SignedIn:
        if school not in self.identity.schools:
            raise PermissionDenied(_not_attached(school.uai))
        return replace(self, school=school)


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


def _not_attached(uai: str) -> str:
    return f"Vous n'êtes pas rattaché à l'établissement « {uai} »."


# --------------------------------------------------------------------------- sign-in


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
        step = totp_step(staff.totp_secret, code, attempt.now)
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
    return SignedIn(
        identity=identity,
        network_mode=attempt.mode,
        connection=attempt.connection,
        school=identity.schools[0] if len(identity.schools) == 1 else None,
        module=attempt.module,
    )


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


def choose_school(services: Services, signed_in: SignedIn, uai: str) -> SignedIn:
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
        raise PermissionDenied(_not_attached(_echo(wanted)))
    identity = replace(signed_in.identity, schools=schools)
    return replace(signed_in, identity=identity, school=chosen)


__all__ = [
    "GENERIC_FAILURE",
    "SECOND_FACTOR_REQUIRED",
    "SchoolRef",
    "SignInStep",
    "SignedIn",
    "StaffIdentity",
    "choose_school",
    "needs_otp",
    "sign_in",
    "sign_in_step",
    "totp_step",
]
