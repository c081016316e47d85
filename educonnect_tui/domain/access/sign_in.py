"""Staff sign-in for the TUI: identifier, password, then the OTP key unless the network is enough.

Access rules (docs/domain.md, « Access rules »):

- the administration module needs a second factor: a TOTP code from the OTP key, or a
  connection from the school's administrative network (``network.is_admin_network``);
- the dépannage module needs only the agent's identifier and password;
- guardians' accounts are never reachable without that second factor, whatever the
  module: ``permissions.require`` refuses them without ``caller.second_factor``.

Whether the person holds the module is decided here too, after the credentials, by the
rule the services check (``permissions.holdings``): a person who holds it in none of
their schools (an agent whose delegation is for the other module, revoked or expired)
is refused at once, told what they do hold; the session then lists only the schools
where they hold it. The services still check the rights on every call.

A disabled account and an expired temporary password are refused the same way, after
the credentials (``_refused_access``); a valid temporary password signs in with
``password_change_required``, and the services refuse everything else until it is
replaced (``permissions._scope``).

Such a refusal is not a wrong password: the credentials were right, so it counts as a
success for the lockout (counters start over, as for a person without a school) and is
audited apart (``sign_in_no_delegation``), never as ``sign_in_failed``. It tells what
the person holds only to whoever passed the password and, for the administration
module, the OTP key.

Security choices, shared with the owners' flows (``accounts/owner_attempts.py``):

- one generic French message for an unknown identifier, a wrong password and a wrong,
  missing or replayed code; the precise reason goes to the audit trail only;
- every attempt costs one argon2 verification, blocked or unknown logins included, and
  an unknown login is answered and blocked exactly like a known one (``attempts``);
- a failure counts on the account from its usual addresses, else on the (login,
  address) pair (``attempts``), and is committed together with its audit record, even
  though the call raises; an unknown identifier is audited by its shape, never as typed;
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
from sqlalchemy.orm import Session, object_session

from ..model.calendar import date_text
from ..model.enums import Module
from ..model.errors import AuthenticationFailed, DomainError, PermissionDenied
from ..model.states import Lockout
from ..model.tables import Delegation, Staff
from ..store import audit
from ..store.audit import Actor
from ..store.services import Services
from . import attempts, passwords, sessions
from .caller import (
    SchoolRef,
    SchoolSession,
    SignedIn,
    SignInTrace,
    StaffIdentity,
    not_attached,
)
from .network import Connection, NetworkMode, network_mode
from .permissions import Holding, holdings
from .staff import totp_secret_of

GENERIC_FAILURE = "Identifiant, mot de passe ou code incorrect."
NO_SCHOOL = (
    "Votre compte n'est rattaché à aucun établissement\u00a0: contactez votre chef d'établissement."
)
NBSP = "\u00a0"
# What the refusal says the person lacks, what they hold, and which module to choose.
_LACKING = {
    Module.ADMINISTRATION: "l'administration des comptes",
    Module.DEPANNAGE: "le dépannage des comptes élèves",
}
_HELD = {
    Module.ADMINISTRATION: "administration des comptes",
    Module.DEPANNAGE: "dépannage des élèves",
}
_CHOOSE = {
    Module.ADMINISTRATION: "le module d'administration",
    Module.DEPANNAGE: "le module dépannage",
}
TOTP_DIGITS = 6
# Steps accepted either side of the current one: the clock drift of a phone.
TOTP_VALID_WINDOW = 1
_CODE_RE = re.compile(rf"[0-9]{{{TOTP_DIGITS}}}")
# Typed school codes are echoed in the audit trail (200 characters): keep them bounded.
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
                f"Connexion depuis le réseau administratif ({where})\u00a0: "
                "l'identifiant et le mot de passe suffisent."
            )
        if not self.otp_required:
            return (
                f"Connexion hors du réseau administratif ({where})\u00a0: l'identifiant et le "
                "mot de passe suffisent pour le module dépannage."
            )
        return (
            f"Connexion hors du réseau administratif ({where})\u00a0: le code à "
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


def _held(holding: Holding, several_schools: bool) -> str:
    classes = ", ".join(holding.classes) if holding.classes else "toutes les classes"
    where = f", {holding.school.name}" if several_schools else ""
    return f"{_HELD[holding.module]} ({classes}){where}"


def _ended(session: Session, services: Services, staff: Staff, module: Module) -> str:
    """When the agent's latest delegation of ``module`` ended (revoked or expired), or ""."""
    today = services.today()
    rows = session.scalars(
        select(Delegation).where(Delegation.agent_id == staff.id, Delegation.module == module)
    ).all()
    over = [d for d in rows if d.revoked_at is not None or d.valid_until < today]
    last = max(over, key=lambda d: (d.valid_from, d.id), default=None)
    if last is None:
        return ""
    if last.revoked_at is not None:
        return f"Votre délégation a été révoquée le {services.time.date(last.revoked_at)}."
    return f"Votre délégation a expiré le {date_text(last.valid_until)}."


def no_module_message(module: Module, held: list[Holding], schools: int, ended: str = "") -> str:
    """Why a person who signed in with the right credentials cannot use ``module``.

    Names what they do hold (module, classes, and the school when they have several),
    so an agent knows which module to choose, or whom to ask; ``ended`` says when their
    delegation of that module ended, if it did.
    """
    if schools <= 1:
        text = (
            f"Vous n'avez pas de délégation active pour {_LACKING[module]} de votre établissement."
        )
    else:
        text = (
            f"Vous n'avez de délégation active pour {_LACKING[module]} dans aucun de vos "
            "établissements."
        )
    if ended:
        text += f" {ended}"
    others = [h for h in held if h.module is not module]
    if not others:
        return f"{text} Demandez-en une au chef d'établissement."
    ordered = sorted(others, key=lambda h: (h.school.name.casefold(), h.module.value))
    listed = " ; ".join(_held(h, schools > 1) for h in ordered)
    return f"{text} Vous avez{NBSP}: {listed}. Choisissez {_CHOOSE[others[0].module]}."


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
    gate: attempts.Gate
    now: dt.datetime

    def audit(self, action: str, **details: Any) -> None:
        staff = self.staff
        unknown = f"inconnu ({attempts.shape(self.typed_login)})"
        actor = Actor(
            label=staff.login if staff is not None else unknown,
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
        """Count the failure where it belongs and audit it; the error to raise."""
        until = attempts.record_failure(self.session, self.gate, self.now)
        if until is None:
            self.audit("sign_in_failed", reason=reason)
            return AuthenticationFailed(GENERIC_FAILURE)
        self.audit("sign_in_failed", reason=reason, blocked_until=until.isoformat())
        return Lockout.error(until, self.services.time)


def _decide(attempt: _Attempt, password: str, code: str | None) -> SignedIn | DomainError:
    staff = attempt.staff
    blocked_until = attempt.gate.blocked_until(attempt.now)
    silently = attempt.gate.refused_silently(attempt.now)
    # One verification whatever the case: a blocked or unknown login must not answer sooner.
    checked = None if blocked_until is not None or silently else staff
    password_ok = _check_password(attempt.services, checked, password)
    if blocked_until is not None:
        attempt.audit("sign_in_blocked", blocked_until=blocked_until.isoformat())
        return Lockout.error(blocked_until, attempt.services.time)
    if silently:
        return attempt.fail("blocked_elsewhere")
    if not password_ok:
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
    # The credentials were right: whatever follows is not a failure to count.
    attempts.record_success(attempt.session, attempt.gate, attempt.now)
    refused = _refused_access(attempt, staff)
    if refused is not None:
        return refused
    identity = _identity(staff)
    if not identity.schools:
        attempt.audit("sign_in_refused", reason="no_school")
        return PermissionDenied(NO_SCHOOL)
    held = holdings(attempt.session, attempt.services.today(), staff)
    usable = {h.school for h in held if h.module is attempt.module}
    if not usable:
        attempt.audit(
            "sign_in_no_delegation",
            held=sorted(f"{h.school.uai} {h.module.value}" for h in held),
        )
        ended = _ended(attempt.session, attempt.services, staff, attempt.module)
        return PermissionDenied(
            no_module_message(attempt.module, held, len(identity.schools), ended)
        )
    attempt.audit("sign_in", schools=len(usable))
    signed_in = session_of(
        staff,
        connection=attempt.connection,
        module=attempt.module,
        mode=attempt.mode,
        now=attempt.now,
        only=usable,
    )
    if staff.password_temporary_until is not None:
        # Nothing else is allowed before a personal password (``permissions._scope``).
        signed_in = replace(signed_in, password_change_required=True)
    return signed_in


def _refused_access(attempt: _Attempt, staff: Staff) -> DomainError | None:
    """A disabled account, or an expired temporary password: said only to whoever
    passed the password (and the code), audited ``sign_in_refused``."""
    services = attempt.services
    if staff.disabled_at is not None:
        attempt.audit("sign_in_refused", reason="disabled")
        return PermissionDenied(
            f"Ce compte a été désactivé le {services.time.date(staff.disabled_at)}\u00a0: "
            "contactez votre chef d'établissement."
        )
    until = staff.password_temporary_until
    if until is not None and until <= attempt.now:
        attempt.audit("sign_in_refused", reason="temporary_password_expired")
        return PermissionDenied(
            f"Votre mot de passe provisoire a expiré le {services.time.date_time(until)}"
            "\u00a0: demandez-en un nouveau à votre chef d'établissement."
        )
    return None


def session_of(
    staff: Staff,
    *,
    connection: Connection,
    module: Module,
    mode: NetworkMode,
    now: dt.datetime,
    only: set[SchoolRef] | None = None,
) -> SignedIn:
    """What a staff member past the checks gets: their identity, and their school if only one.

    ``only`` keeps only those of their schools (where they hold the module); a person
    left with several stays a ``SignedIn`` until ``choose_school``. Opens the session's
    row and records this sign-in as the person's last one, in ``staff``'s transaction
    (the caller commits it), keeping the one before for the person to see.
    """
    identity = _identity(staff)
    if only is not None:
        identity = replace(identity, schools=tuple(s for s in identity.schools if s in only))
    session = object_session(staff)
    assert session is not None, "session_of needs the staff row of an open transaction"
    row = sessions.open_row(session, staff, connection=connection, module=module, now=now)
    # Read again now that this transaction writes: on SQLite the row lock of ``_find`` is
    # no lock, and a sign-in of the same person elsewhere may have committed meanwhile.
    session.refresh(staff, ["last_sign_in_at", "last_sign_in_source"])
    previous = (
        SignInTrace(at=staff.last_sign_in_at, source=staff.last_sign_in_source or "")
        if staff.last_sign_in_at is not None
        else None
    )
    staff.last_sign_in_at = now
    staff.last_sign_in_source = connection.source
    signed_in = SignedIn(
        identity=identity,
        network_mode=mode,
        connection=connection,
        module=module,
        session_id=row.id,
        previous_sign_in=previous,
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

    The order matters: a blocked account is refused whatever its password (so blocking
    really stops guessing; the verification still runs, against a dummy hash), and the
    code is checked only after the password (so a code is never spent by someone who
    does not know the password). Outcomes are
    returned, not raised, inside the transaction so that counters and the audit record
    commit before the error reaches the caller.
    """
    now = services.clock()
    mode = network_mode(connection, services.settings)
    with services.sessions() as session, session.begin():
        staff = _find(session, login)
        attempt = _Attempt(
            services=services,
            session=session,
            typed_login=login,
            connection=connection,
            mode=mode,
            module=module,
            staff=staff,
            gate=attempts.gate(session, attempts.STAFF, login, staff, connection.source, now),
            now=now,
        )
        outcome = _decide(attempt, password, code)
    if isinstance(outcome, DomainError):
        raise outcome
    return outcome


def choose_school(services: Services, signed_in: SignedIn, uai: str) -> SchoolSession:
    """The school a person attached to several works on; checked against the database.

    The attachments and delegations are read again rather than trusted from the session,
    so a person detached from a school, or whose delegation there ended, since signing in
    cannot pick it. From a ``SchoolSession`` it is a change of school without signing in
    again (no new code): audited as ``school_switched``, from one school to the other.
    Refusals are audited too.
    """
    wanted = uai.strip().upper()
    now = services.clock()
    actor = signed_in.actor()
    switching = signed_in.school if isinstance(signed_in, SchoolSession) else None
    with services.sessions() as session, session.begin():
        sessions.live_row(session, signed_in)  # an ended session chooses nothing
        staff = session.get(Staff, signed_in.identity.staff_id)
        attached = _schools(staff) if staff is not None else ()
        held = holdings(session, services.today(), staff) if staff is not None else []
        usable = {h.school for h in held if h.module is signed_in.module}
        schools = tuple(s for s in attached if s in usable)
        chosen = next((s for s in schools if s.uai == wanted), None)
        moved = {"from_uai": switching.uai} if switching is not None else {}
        if chosen is None:
            audit.record(
                session,
                actor,
                "school_choice_refused",
                now=now,
                details={"uai": _echo(wanted), "module": signed_in.module.value, **moved},
            )
        else:
            audit.record(
                session,
                actor,
                "school_switched" if switching is not None else "school_chosen",
                now=now,
                establishment_id=chosen.id,
                details={"uai": chosen.uai, "module": signed_in.module.value, **moved},
            )
    if chosen is None:
        if any(s.uai == wanted for s in attached):
            raise PermissionDenied(
                f"Vous n'avez pas de délégation active pour {_LACKING[signed_in.module]} "
                f"dans l'établissement {wanted}."
            )
        raise PermissionDenied(not_attached(_echo(wanted)))
    identity = replace(signed_in.identity, schools=schools)
    return replace(signed_in, identity=identity).at(chosen)


def sign_out(services: Services, caller: SchoolSession | SignedIn) -> None:
    """The person left the TUI without quitting it (the next one signs in): their session
    ends, and only this one (``sessions.end``); audited."""
    sessions.end(services, caller, "sign_out")


__all__ = [
    "GENERIC_FAILURE",
    "SignInStep",
    "choose_school",
    "needs_otp",
    "no_module_message",
    "session_of",
    "sign_in",
    "sign_in_step",
    "sign_out",
    "totp_step",
]
