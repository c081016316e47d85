"""Which counter a sign-in attempt answers to: the account's own, or its (login, address) pair's.

Staff sign-in (``sign_in``) and the owners' flows (``accounts/owner_attempts``) share it,
so both block the same way (docs/domain.md, « Blocking »):

- from a *usual* address of the account (one it has signed in from successfully), a
  failure counts on the account itself (``states.Lockout``): enough of them block it
  everywhere, as before;
- from any other address, a failure counts only on the pair (typed login, address): a
  pupil at a classroom machine can block the principal's login *there*, never at the
  principal's desk;
- unknown logins get pairs too, keyed the same way, so the answer (message, wait) never
  tells whether a login exists; and an account blocked from its usual addresses answers
  elsewhere exactly as an unknown login would (``Gate.refused_silently``).

A pair keeps the login only as a 31-bit keyed digest, never its text: HMAC-SHA256 with
the service's key (``store.keys``, a file outside the database), so someone who reads
the database cannot even test a guess of what was typed (sometimes a password); and
31 bits are too few to read it back even with the key. Two logins sharing a digest
would share their pairs' counters, which can only block sooner, never let anyone in.
A pair nobody has failed for a day is forgotten, and so are all pairs when the key is
rotated (their digests change): at worst a few more tries from each address.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Select, and_, delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..model.states import Counted, Lockout
from ..model.tables import Account, SignInFailure, Staff, UsualSource
from ..store import keys

Realm = Literal["staff", "owner"]
STAFF: Realm = "staff"
OWNER: Realm = "owner"
PAIR_MEMORY = dt.timedelta(days=1)
_CHUNK = 500  # digests per DELETE: well under every backend's limit on parameters
_DIGEST_MASK = 0x7FFF_FFFF  # fits an SQL INTEGER on both backends
_PURPOSE = b"educonnect sign-in pair\0"  # this use of the key, apart from signing records


def login_digest(session: Session, realm: Realm, typed_login: str) -> int:
    """The typed login as the pairs know it: 31 bits of a keyed hash, nothing readable."""
    return _digest(keys.current_key(session).audit, realm, typed_login)


def _digest(key: bytes, realm: Realm, typed_login: str) -> int:
    normalized = typed_login.strip().lower()
    message = _PURPOSE + f"{realm}\0{normalized}".encode()
    mac = hmac.new(key, message, hashlib.sha256).digest()
    return int.from_bytes(mac[:4], "big") & _DIGEST_MASK


@dataclass
class Gate:
    """Where an attempt's failure counts, and what blocks it."""

    realm: Realm
    digest: int
    source: str
    subject: Account | Staff | None
    usual: bool  # the source is one of the subject's usual addresses
    pair: SignInFailure | None  # the pair's row, when one exists yet

    @property
    def counter(self) -> Counted | None:
        """The counter the person is told about; None: a pair with no failure yet."""
        if self.usual:
            assert self.subject is not None
            return self.subject
        return self.pair

    def blocked_until(self, now: dt.datetime) -> dt.datetime | None:
        """The block to announce: the account's own from a usual address, else the pair's."""
        counter = self.counter
        if counter is None or not Lockout.is_blocked(counter, now):
            return None
        return counter.blocked_until

    def refused_silently(self, now: dt.datetime) -> bool:
        """The account is blocked, but seen from elsewhere: refused like a wrong password."""
        return not self.usual and self.subject is not None and Lockout.is_blocked(self.subject, now)


def gate(
    session: Session,
    realm: Realm,
    typed_login: str,
    subject: Account | Staff | None,
    source: str,
    now: dt.datetime,
) -> Gate:
    digest = login_digest(session, realm, typed_login)
    return Gate(
        realm=realm,
        digest=digest,
        source=source,
        subject=subject,
        usual=subject is not None and _is_usual(session, subject, source),
        pair=_pair(session, realm, digest, source),
    )


def record_failure(session: Session, gate: Gate, now: dt.datetime) -> dt.datetime | None:
    """Count a failure where it belongs; the end of the block when this one triggers it."""
    if gate.usual:
        assert gate.subject is not None
        return Lockout.record_failure(gate.subject, now)
    if gate.pair is None:
        _forget_stale(session, now)
        gate.pair = _create_pair(session, gate, now)
    elif _is_stale(gate.pair, now):
        gate.pair.failed_attempts = 0
        gate.pair.block_count = 0
    gate.pair.last_failure_at = now
    return Lockout.record_failure(gate.pair, now)


def record_success(session: Session, gate: Gate, now: dt.datetime) -> None:
    """The owner got in: their counters start over and this address becomes usual."""
    subject = gate.subject
    assert subject is not None
    Lockout.record_success(subject)
    if gate.pair is not None:
        session.delete(gate.pair)
        gate.pair = None
    usual = session.scalar(_usual_query(subject, gate.source))
    if usual is None:
        usual = UsualSource(source=gate.source, last_success_at=now)
        if isinstance(subject, Staff):
            usual.staff_id = subject.id
        else:
            usual.account_id = subject.id
        session.add(usual)
    usual.last_success_at = now


def forget_pairs(session: Session, realm: Realm, logins: Iterable[str]) -> None:
    """Lift every pair block of ``logins``, as staff unblocking or renotifying do."""
    key = keys.current_key(session).audit
    digests = sorted({_digest(key, realm, login) for login in logins})
    for start in range(0, len(digests), _CHUNK):
        session.execute(
            delete(SignInFailure).where(
                SignInFailure.realm == realm,
                SignInFailure.login_digest.in_(digests[start : start + _CHUNK]),
            )
        )


def shape(typed_login: str) -> str:
    """What the audit trail keeps of a login nobody has: its length and kinds of characters.

    Never the text: a password typed into the identifier field would stay in an
    append-only trail for ever. The shape still tells an auditor a typo ("11 caractères :
    minuscules, point") from a pasted password or a scan.
    """
    typed = typed_login.strip()
    kinds = []
    for label, test in _KINDS:
        if any(test(ch) for ch in typed):
            kinds.append(label)
    listed = ", ".join(kinds) if kinds else "vide"
    return f"{len(typed)} caractères\u00a0: {listed}"


_KINDS = (
    ("minuscules", str.islower),
    ("majuscules", str.isupper),
    ("chiffres", str.isdigit),
    ("point", lambda ch: ch == "."),
    ("espaces", str.isspace),
    ("autres", lambda ch: not (ch.isalnum() or ch == "." or ch.isspace())),
)


# --------------------------------------------------------------------------- storage


def _usual_query(subject: Account | Staff, source: str) -> Select[UsualSource]:
    column = UsualSource.staff_id if isinstance(subject, Staff) else UsualSource.account_id
    return select(UsualSource).where(column == subject.id, UsualSource.source == source)


def _is_usual(session: Session, subject: Account | Staff, source: str) -> bool:
    return session.scalar(_usual_query(subject, source)) is not None


def _pair(session: Session, realm: Realm, digest: int, source: str) -> SignInFailure | None:
    return session.scalar(
        select(SignInFailure)
        .where(
            SignInFailure.realm == realm,
            SignInFailure.login_digest == digest,
            SignInFailure.source == source,
        )
        .with_for_update()
    )


def _create_pair(session: Session, gate: Gate, now: dt.datetime) -> SignInFailure:
    """The pair's row, created once even when two attempts race for it."""
    values = {
        "realm": gate.realm,
        "login_digest": gate.digest,
        "source": gate.source,
        "failed_attempts": 0,
        "block_count": 0,
        "last_failure_at": now,
    }
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(SignInFailure).values(**values).on_conflict_do_nothing())
    pair = _pair(session, gate.realm, gate.digest, gate.source)
    assert pair is not None
    return pair


def _is_stale(pair: SignInFailure, now: dt.datetime) -> bool:
    return pair.last_failure_at < now - PAIR_MEMORY and not Lockout.is_blocked(pair, now)


def _forget_stale(session: Session, now: dt.datetime) -> None:
    """Pairs without a failure for a day and not blocked: nothing left to protect."""
    session.execute(
        delete(SignInFailure).where(
            SignInFailure.last_failure_at < now - PAIR_MEMORY,
            or_(
                SignInFailure.blocked_until.is_(None),
                and_(SignInFailure.blocked_until.is_not(None), SignInFailure.blocked_until < now),
            ),
        )
    )


__all__ = [
    "OWNER",
    "PAIR_MEMORY",
    "STAFF",
    "Gate",
    "forget_pairs",
    "gate",
    "login_digest",
    "record_failure",
    "record_success",
    "shape",
]
