"""Staff sessions: one ``staff_session`` row per sign-in, read again by every service call.

Rules (docs/domain.md, « Sessions »):

- a successful sign-in opens a row (``open_row``, from ``sign_in.session_of``) in the
  sign-in's transaction; the caller carries its id, and ``permissions`` refuses a caller
  whose row has ended (``SessionEnded``), so a sign-out, a disabled account or a reset
  password stops a session at its next action, even one a worker is still running;
- the same person may be signed in several times at once (two desks, two terminals):
  each row lives on its own, a sign-out ends only its own row (``end``), and each
  session sees the others (``other_open_sessions``); ending them all is for the
  staff's managers (``end_all``: disable, password reset);
- a session is confirmed when its person types their password in it: at sign-in, at
  the idle lock, before a sensitive action (``confirm_password``). A wrong password
  there is a failed sign-in like any other: it counts on the same counters, through
  the same gate (``attempts``), and can block the account. A right one does not reset
  those counters (only a complete sign-in does, with the OTP key when it is asked):
  otherwise the lock would give whoever guesses codes elsewhere new tries;
- sensitive actions (managing staff and delegations, notifying many accounts) need a
  confirmation younger than ``settings.reauth_minutes`` (``require_recent_confirmation``);
  the command line's ``Operator`` is the machine's operator and is never asked.

Times are aware UTC instants (``UTCDateTime``): a server in UTC and a school in
Europe/Paris compare the same instants; only what is shown is in the school's time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..model.enums import Module
from ..model.errors import (
    AuthenticationFailed,
    ConfirmationRequired,
    DomainError,
    SessionEnded,
)
from ..model.states import Lockout
from ..model.tables import Staff, StaffSession
from ..store import audit
from ..store.services import Services
from . import attempts, passwords
from .caller import Caller, Operator, SchoolSession, SignedIn, SignInTrace
from .network import Connection

# Why a session ended, as the row keeps it and as the person reads it.
END_WORDS = {
    "sign_out": "déconnexion",
    "disabled": "compte désactivé",
    "password_reset": "mot de passe réinitialisé",
}
EndReason = Literal["sign_out", "disabled", "password_reset"]
# Other sessions older than this are not shown: a terminal killed without signing out
# leaves its row open, and nobody is still at it a day later.
OTHER_SESSIONS_WITHIN = dt.timedelta(days=1)
WRONG_PASSWORD = "Mot de passe incorrect."
CONFIRMATION_REQUIRED = "Cette action est sensible\u00a0: confirmez votre mot de passe."
Purpose = Literal["lock", "sensitive"]
_CONFIRMED_ACTION = {"lock": "session_unlocked", "sensitive": "session_confirmed"}


def ended_message(reason: str | None) -> str:
    """« Votre session a pris fin (déconnexion) : reconnectez-vous. »"""
    words = END_WORDS.get(reason or "", (reason or "").replace("_", " "))
    why = f" ({words})" if words else ""
    return f"Votre session a pris fin{why}\u00a0: reconnectez-vous."


# --------------------------------------------------------------------------- rows


def open_row(
    session: Session, staff: Staff, *, connection: Connection, module: Module, now: dt.datetime
) -> StaffSession:
    """A new session of ``staff``, confirmed now (they just typed their password)."""
    row = StaffSession(
        staff_id=staff.id,
        module=module,
        source=connection.source,
        started_at=now,
        confirmed_at=now,
    )
    session.add(row)
    session.flush()
    return row


def live_row(session: Session, caller: SignedIn, *, for_update: bool = False) -> StaffSession:
    """The caller's own session row, still open; ``SessionEnded`` otherwise.

    A caller without a row (none was opened for it), or with one of somebody else, is
    refused too: only ``sign_in`` makes callers, and each of them has its own row.
    """
    row = None
    if caller.session_id is not None:
        query = select(StaffSession).where(StaffSession.id == caller.session_id)
        row = session.scalar(query.with_for_update() if for_update else query)
    if row is None or row.staff_id != caller.identity.staff_id:
        raise SessionEnded(ended_message(None))
    if row.ended_at is not None:
        raise SessionEnded(ended_message(row.end_reason))
    return row


def end_all(session: Session, staff_id: int, now: dt.datetime, reason: EndReason) -> int:
    """End every open session of that person, in the caller's transaction; how many."""
    result = session.execute(
        update(StaffSession)
        .where(StaffSession.staff_id == staff_id, StaffSession.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason)
    )
    return int(getattr(result, "rowcount", 0) or 0)


# --------------------------------------------------------------------------- services


def end(services: Services, caller: SignedIn, reason: EndReason = "sign_out") -> None:
    """End the caller's own session (and no other of the same person); audited.

    Ending a session that has already ended (a disabled account signing out) changes
    nothing but is still recorded: the person did leave.
    """
    school = caller.school if isinstance(caller, SchoolSession) else None
    why = {} if reason == "sign_out" else {"reason": reason}
    now = services.clock()
    with services.sessions() as session, session.begin():
        row = None
        if caller.session_id is not None:
            row = session.get(StaffSession, caller.session_id, with_for_update=True)
        if row is not None and row.staff_id == caller.identity.staff_id and row.ended_at is None:
            row.ended_at = now
            row.end_reason = reason
        audit.record(
            session,
            caller.actor(),
            "sign_out",
            now=now,
            establishment_id=school.id if school is not None else None,
            details={"module": caller.module.value, **why},
        )


def other_open_sessions(services: Services, caller: SignedIn) -> list[SignInTrace]:
    """The person's other sessions still open and begun within a day, latest first.

    For the « une autre session est ouverte depuis … » line: a second sign-in is allowed, and shown.
    """
    now = services.clock()
    with services.sessions() as session:
        row = live_row(session, caller)
        others = session.execute(
            select(StaffSession.started_at, StaffSession.source)
            .where(
                StaffSession.staff_id == row.staff_id,
                StaffSession.id != row.id,
                StaffSession.ended_at.is_(None),
                StaffSession.started_at >= now - OTHER_SESSIONS_WITHIN,
            )
            .order_by(StaffSession.started_at.desc(), StaffSession.id.desc())
        ).all()
    return [SignInTrace(at=at, source=source) for at, source in others]


@dataclass
class _Confirmation:
    """One password typed in a session, audited the same way whatever the outcome."""

    session: Session
    caller: SignedIn
    purpose: Purpose
    now: dt.datetime

    def audit(self, action: str, **details: object) -> None:
        school = self.caller.school if isinstance(self.caller, SchoolSession) else None
        audit.record(
            self.session,
            self.caller.actor(),
            action,
            now=self.now,
            establishment_id=school.id if school is not None else None,
            details={"purpose": self.purpose, "module": self.caller.module.value, **details},
        )


def confirm_password(
    services: Services, caller: SignedIn, password: str, *, purpose: Purpose
) -> None:
    """The person typed their password again in this session: at the lock, or before a
    sensitive action. Right: the session is confirmed now. Wrong: a failed sign-in.

    Raises ``SessionEnded`` (nothing checked: an ended session is no way to test
    passwords), ``AuthenticationFailed`` « Mot de passe incorrect. », or
    ``AccountBlocked`` with the end of the block (this failure blocked the account, or
    it already was). Every outcome is audited and committed before the error is raised.
    """
    now = services.clock()
    with services.sessions() as session, session.begin():
        try:
            row = live_row(session, caller, for_update=True)
        except SessionEnded as ended:
            _Confirmation(session, caller, purpose, now).audit(
                "session_confirm_failed", reason="session_ended"
            )
            outcome: DomainError | None = ended
        else:
            outcome = _confirm(services, session, caller, row, password, purpose, now)
    if outcome is not None:
        raise outcome


def _confirm(
    services: Services,
    session: Session,
    caller: SignedIn,
    row: StaffSession,
    password: str,
    purpose: Purpose,
    now: dt.datetime,
) -> DomainError | None:
    """The checks of ``sign_in._decide`` for the password alone, on the session's person."""
    attempt = _Confirmation(session, caller, purpose, now)
    staff = session.scalar(select(Staff).where(Staff.id == row.staff_id).with_for_update())
    assert staff is not None  # a row goes with its person (ON DELETE CASCADE)
    gate = attempts.gate(session, attempts.STAFF, staff.login, staff, caller.connection.source, now)
    blocked_until = gate.blocked_until(now)
    silently = gate.refused_silently(now)
    # One verification whatever the case, as at sign-in.
    stored = None if blocked_until is not None or silently else staff.password_hash
    right = passwords.verify_or_spend(stored, password, services.hash_params)
    if blocked_until is not None:
        attempt.audit(
            "session_confirm_failed", reason="blocked", blocked_until=blocked_until.isoformat()
        )
        return Lockout.error(blocked_until, services.time)
    if silently or not right:
        reason = "blocked_elsewhere" if silently else "bad_password"
        until = attempts.record_failure(session, gate, now)
        if until is None:
            attempt.audit("session_confirm_failed", reason=reason)
            return AuthenticationFailed(WRONG_PASSWORD)
        attempt.audit("session_confirm_failed", reason=reason, blocked_until=until.isoformat())
        return Lockout.error(until, services.time)
    row.confirmed_at = now
    attempt.audit(_CONFIRMED_ACTION[purpose])
    return None


def confirmation_due(services: Services, caller: Caller) -> bool:
    """Whether a sensitive action must first ask for the password again.

    True when the session's last confirmation is older than ``settings.reauth_minutes``;
    never for the command line's ``Operator``. ``SessionEnded`` for an ended session.
    """
    if isinstance(caller, Operator):
        return False
    window = dt.timedelta(minutes=services.settings.reauth_minutes)
    now = services.clock()
    with services.sessions() as session:
        row = live_row(session, caller)
        return now - row.confirmed_at > window


def require_recent_confirmation(services: Services, caller: Caller) -> None:
    """``ConfirmationRequired`` before a sensitive action when ``confirmation_due``."""
    if confirmation_due(services, caller):
        raise ConfirmationRequired(CONFIRMATION_REQUIRED)


__all__ = [
    "CONFIRMATION_REQUIRED",
    "END_WORDS",
    "OTHER_SESSIONS_WITHIN",
    "WRONG_PASSWORD",
    "EndReason",
    "Purpose",
    "confirm_password",
    "confirmation_due",
    "end",
    "end_all",
    "ended_message",
    "live_row",
    "open_row",
    "other_open_sessions",
    "require_recent_confirmation",
]
