"""Delivering the outbox's e-mails: claimed in small batches, sent once, each state kept.

The order that makes a crash harmless: a message is marked « envoi en cours » and
committed before its SMTP transaction, then « envoyé » as soon as the server took it.
Killed before the mark, it is still « en attente » and the next run sends it; killed
between, nobody can know whether it left: the next run, once the send is older than
``EDUCONNECT_MAIL_SENDING_TIMEOUT_MINUTES``, marks it « incertain », lists it, and
sends it again only when an operator asks (``resend``) — a person may receive nothing,
never twice the same credentials without someone having decided it.

Claiming reads a batch of due rows, then moves them to « envoi en cours » with an
UPDATE … WHERE state = 'en_attente': on PostgreSQL the read locks the rows it takes and
skips those another sender holds (``FOR UPDATE SKIP LOCKED``); on SQLite the claim holds
the one write lock from its start. Two senders at once never take one message.
"""

from __future__ import annotations

import datetime as dt
import ssl
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from ..model import french
from ..model.enums import Channel, OutboxState
from ..model.errors import DomainError, InvalidInput, sentences
from ..model.tables import Establishment, OutboxMessage
from ..store import audit, db
from ..store.audit import Actor
from ..store.services import Services
from ..store.settings import Settings
from .message import Outgoing, build, display_name
from .smtp import PermanentFailure, Relay, RelayUnavailable, TemporaryFailure, UncertainDelivery

# Small: a run killed outright (kill -9, power cut) leaves its claimed batch « envoi en
# cours », and so « incertain » later, though at most one of them was being sent.
BATCH_SIZE = 5
_EMAIL = OutboxMessage.channel == Channel.EMAIL
_FINISHED = (OutboxState.SENT, OutboxState.FAILED)


class MailNotConfigured(DomainError):
    """No relay or no sender's address: nothing can be sent."""


@dataclass(frozen=True)
class DeliveryReport:
    """One run of the sender: what it did, and what is left in the queue after it."""

    sent: int
    failed: int
    pending: int
    uncertain: int
    purged: int
    # Why the relay could not be reached or refused our session, if it happened.
    unreachable: str | None = None

    @property
    def nothing_could_be_sent(self) -> bool:
        """The relay was unreachable and not one message left: the command fails (exit 2)."""
        return self.unreachable is not None and self.sent == 0

    def lines(self) -> list[str]:
        """« 3 envoyés, 1 en échec, 2 en attente. », then what needs someone's attention."""
        lines = [
            f"{french.count(self.sent, 'envoyé')}, {self.failed} en échec, "
            f"{self.pending} en attente."
        ]
        if self.unreachable:
            lines.append(f"Envoi interrompu\u00a0: {self.unreachable}.")
        if self.uncertain:
            lines.append(
                f"{french.count(self.uncertain, 'envoi incertain', 'envois incertains')} "
                "(peut-être remis)\u00a0: voyez « educonnect-tui outbox list --state incertain », "
                "puis « outbox resend N » ou « outbox abandon N »."
            )
        if self.purged:
            lines.append(
                f"{french.count(self.purged, 'message purgé', 'messages purgés')} "
                "(textes effacés après la durée de conservation)."
            )
        return lines


def deliver_due(
    services: Services,
    *,
    actor: Actor | None = None,
    batch_size: int = BATCH_SIZE,
    tls_context: ssl.SSLContext | None = None,
) -> DeliveryReport:
    """Send every e-mail that is due, record each one's state, then purge (``purge``).

    ``MailNotConfigured`` when ``EDUCONNECT_SMTP_URL`` or ``EDUCONNECT_MAIL_FROM`` is
    missing. A relay that cannot be reached stops the run: the messages of the batch in
    hand count an attempt and wait for their back-off, the others are left as they are.
    A run someone started (``actor``: the command line, a notification's end) is in the
    audit trail with its counts (« outbox_send »).
    """
    settings = services.settings
    server = settings.smtp
    if server is None or settings.mail_from is None:  # not configured()
        missing = " et ".join(
            name
            for name, value in (
                ("EDUCONNECT_SMTP_URL", server),
                ("EDUCONNECT_MAIL_FROM", settings.mail_from),
            )
            if value is None
        )
        raise MailNotConfigured(f"envoi des courriels non configuré\u00a0: réglez {missing}")
    mark_uncertain(services)
    relay = Relay(server, timeout=settings.smtp_timeout_seconds, tls_context=tls_context)
    sent = failed = 0
    unreachable: str | None = None
    try:
        while unreachable is None:
            batch = _claim(services, batch_size)
            if not batch:
                break
            unreachable, batch_sent, batch_failed = _send_batch(services, relay, batch)
            sent += batch_sent
            failed += batch_failed
    finally:
        relay.close()
    purged = purge(services)
    with services.sessions() as session:
        pending = _count(session, OutboxState.PENDING)
        uncertain = _count(session, OutboxState.UNCERTAIN)
    report = DeliveryReport(sent, failed, pending, uncertain, purged, unreachable)
    if actor is not None:
        _record(
            services,
            actor,
            "outbox_send",
            {
                "sent": sent,
                "failed": failed,
                "pending": pending,
                "uncertain": uncertain,
                "purged": purged,
                "reason": unreachable,
            },
        )
    return report


def configured(settings: Settings) -> bool:
    """Whether e-mails can leave (a relay and a sender address): a notification's
    e-mails are then sent right after it, otherwise they wait for ``outbox send``."""
    return settings.smtp is not None and settings.mail_from is not None


def waiting_line(queued: int) -> str:
    """« 2 messages en attente dans la boîte d'envoi (educonnect-tui outbox send). »"""
    return (
        f"{french.count(queued, 'message en attente', 'messages en attente')} dans la boîte "
        "d'envoi (educonnect-tui outbox send)."
    )


@dataclass(frozen=True)
class AfterNotify:
    """What sending a notification's e-mails did, as French lines; ``settled`` when
    none is left waiting, failed or uncertain (nothing for anyone to look at)."""

    lines: tuple[str, ...]
    settled: bool


def deliver_after_notify(services: Services, queued: int, *, actor: Actor) -> AfterNotify:
    """A notification just queued ``queued`` e-mails: send the outbox now and say what
    happened, for the command line's output or the interface's toast.

    The notification is committed with its passwords whatever happens here, so nothing
    here is its failure: without a relay, or with one that refuses or cannot be reached,
    the e-mails wait in the outbox and the lines say why and what sends them later.
    """
    try:
        report = deliver_due(services, actor=actor)
    except DomainError as error:  # no relay configured, mostly
        reason = str(error)
        return AfterNotify(
            (sentences(waiting_line(queued), reason[:1].upper() + reason[1:]),), False
        )
    lines = report.lines()
    lines[0] = f"Envoi des courriels\u00a0: {lines[0]}"
    if report.unreachable is not None and report.pending:
        lines.append(
            "Les courriels restent en attente\u00a0: « educonnect-tui outbox send » les "
            "enverra, passé le délai avant un nouvel essai."
        )
    if report.failed:
        lines.append(
            f"{french.count(report.failed, 'courriel')} en échec\u00a0: voyez « educonnect-tui "
            "outbox list --state echec »\u00a0; "
            + french.agreed(
                report.failed,
                "son destinataire n'a rien reçu, renotifiez-le sur papier.",
                "leurs destinataires n'ont rien reçu, renotifiez-les sur papier.",
            )
        )
    settled = not (report.failed or report.pending or report.uncertain or report.unreachable)
    return AfterNotify(tuple(lines), settled)


def _record(services: Services, actor: Actor, action: str, details: dict[str, object]) -> None:
    with services.sessions() as session, session.begin():
        audit.record(
            session,
            actor,
            action,
            now=services.clock(),
            details={k: v for k, v in details.items() if v is not None},
        )


def _send_batch(
    services: Services, relay: Relay, batch: list[Outgoing]
) -> tuple[str | None, int, int]:
    """Send one claimed batch: (why the relay is unavailable, if so; sent; failed).

    Stopped by anything (Ctrl-C, a database failure), the messages not yet handed to the
    server go back to « en attente » as if never claimed; only the one whose data may
    have reached the server stays « envoi en cours », to become « incertain ».
    """
    settings = services.settings
    assert settings.mail_from is not None
    sent = failed = 0
    position = 0  # the message in hand; those before it have their state recorded
    may_be_out = False  # whether it may have reached the server
    try:
        for position, outgoing in enumerate(batch):
            may_be_out = relay.handed_over = False
            name = display_name(settings.mail_from_name, outgoing.school_name)
            try:
                message = build(outgoing, sender=settings.mail_from, sender_name=name)
            except (ValueError, TypeError):  # the email package's words are English
                _finish(
                    services,
                    outgoing,
                    OutboxState.FAILED,
                    "message impossible à composer\u00a0: destinataire ou objet invalide "
                    "(saut de ligne, adresse illisible)",
                )
                failed += 1
                continue
            try:
                relay.send(message, sender=settings.mail_from, recipient=outgoing.recipient)
            except RelayUnavailable as error:
                for waiting in batch[position:]:
                    failed += _retry_later(services, waiting, str(error))
                return str(error), sent, failed
            except UncertainDelivery as error:
                may_be_out = True
                _finish(services, outgoing, OutboxState.UNCERTAIN, error.reason)
            except TemporaryFailure as error:
                failed += _retry_later(services, outgoing, error.reason)
            except PermanentFailure as error:
                _finish(services, outgoing, OutboxState.FAILED, error.reason)
                failed += 1
            else:
                may_be_out = True  # taken by the server: « envoi en cours » until recorded
                _finish(services, outgoing, OutboxState.SENT, None)
                sent += 1
    except BaseException:
        kept = 1 if may_be_out or relay.handed_over else 0
        _release(services, batch[position + kept :])
        raise
    return None, sent, failed


def _release(services: Services, untried: list[Outgoing]) -> None:
    """Claimed but never handed to the server: back in the queue, the attempt not counted."""
    if not untried:
        return
    with services.sessions() as session, session.begin():
        session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id.in_([m.id for m in untried]),
                OutboxMessage.state == OutboxState.SENDING,
            )
            .values(state=OutboxState.PENDING, attempts=OutboxMessage.attempts - 1)
        )


def _count(session: Session, state: OutboxState) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(_EMAIL, OutboxMessage.state == state)
        )
        or 0
    )


def _claim(services: Services, size: int) -> list[Outgoing]:
    """Take up to ``size`` due messages for this run: « envoi en cours », committed."""
    now = services.clock()
    due = (
        select(OutboxMessage.id)
        .where(
            _EMAIL,
            OutboxMessage.state == OutboxState.PENDING,
            OutboxMessage.message_id.is_not(None),
            or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now),
        )
        .order_by(OutboxMessage.id)
        .limit(size)
        .with_for_update(skip_locked=True)
    )
    with services.sessions() as session, session.begin():
        if session.get_bind().dialect.name == "sqlite":
            # The write lock first: a read snapshot could no longer become a write.
            db.serialise_writes(session)
        # Read first, then updated: inside an UPDATE's IN (…), PostgreSQL may run the
        # LIMIT sub-select again for each row and take far more than ``size``.
        wanted = list(session.scalars(due))
        if not wanted:
            return []
        claimed = session.scalars(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(wanted), OutboxMessage.state == OutboxState.PENDING)
            .values(
                state=OutboxState.SENDING,
                state_since=now,
                attempts=OutboxMessage.attempts + 1,
            )
            .returning(OutboxMessage.id)
        ).all()
        if not claimed:
            return []
        rows = session.execute(
            select(OutboxMessage, Establishment.name)
            .outerjoin(Establishment, Establishment.id == OutboxMessage.establishment_id)
            .where(OutboxMessage.id.in_(claimed))
            .order_by(OutboxMessage.id)
        ).all()
        return [
            Outgoing(
                id=row.id,
                recipient=row.recipient,
                subject=row.subject,
                text=row.body,
                html=row.html,
                message_id=row.message_id or "",
                created_at=row.created_at,
                school_name=school,
                attempts=row.attempts,
            )
            for row, school in rows
        ]


def _finish(services: Services, outgoing: Outgoing, state: OutboxState, reason: str | None) -> None:
    now = services.clock()
    values: dict[str, object] = {"state": state, "state_since": now, "next_attempt_at": None}
    if state is OutboxState.SENT:
        values["sent_at"] = now
    if reason is not None:
        values["last_error"] = reason[:500]
    _leave_sending(services, outgoing.id, values)


def _retry_later(services: Services, outgoing: Outgoing, reason: str) -> int:
    """Back to « en attente » after the back-off, or « échec » after the last attempt;
    1 when the message has failed for good."""
    settings = services.settings
    if outgoing.attempts >= settings.mail_max_attempts:
        _finish(
            services,
            outgoing,
            OutboxState.FAILED,
            f"{french.count(outgoing.attempts, 'tentative')} sans succès\u00a0: {reason}",
        )
        return 1
    delay = min(
        settings.mail_retry_seconds * 2 ** (outgoing.attempts - 1),
        settings.mail_retry_max_seconds,
    )
    now = services.clock()
    _leave_sending(
        services,
        outgoing.id,
        {
            "state": OutboxState.PENDING,
            "state_since": now,
            "next_attempt_at": now + dt.timedelta(seconds=delay),
            "last_error": reason[:500],
        },
    )
    return 0


def _leave_sending(services: Services, message_id: int, values: dict[str, object]) -> None:
    with services.sessions() as session, session.begin():
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.state == OutboxState.SENDING)
            .values(**values)
        )


def mark_uncertain(services: Services) -> int:
    """« envoi en cours » for longer than the sending timeout: no sender is still on it
    (a run gives up on a server after ``EDUCONNECT_SMTP_TIMEOUT_SECONDS``), so it was
    interrupted; whether the message left is unknown. Returns how many were marked."""
    now = services.clock()
    limit = now - dt.timedelta(minutes=services.settings.mail_sending_timeout_minutes)
    with services.sessions() as session, session.begin():
        result = session.execute(
            update(OutboxMessage)
            .where(
                _EMAIL,
                OutboxMessage.state == OutboxState.SENDING,
                OutboxMessage.state_since < limit,
            )
            .values(
                state=OutboxState.UNCERTAIN,
                state_since=now,
                last_error="envoi interrompu (arrêt du programme ?)\u00a0: le message a pu "
                "être remis",
            )
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


def purge(services: Services, *, actor: Actor | None = None) -> int:
    """Empty the bodies of the e-mails finished (envoyé, échec) more than
    ``EDUCONNECT_OUTBOX_RETENTION_DAYS`` ago; what stays says who was sent what, when,
    without the credentials it carried. Returns how many were purged; audited
    (« outbox_purge ») when someone asked for it."""
    now = services.clock()
    limit = now - dt.timedelta(days=services.settings.outbox_retention_days)
    with services.sessions() as session, session.begin():
        result = session.execute(
            update(OutboxMessage)
            .where(
                _EMAIL,
                OutboxMessage.state.in_(_FINISHED),
                OutboxMessage.purged_at.is_(None),
                OutboxMessage.state_since <= limit,
            )
            .values(body="", html=None, purged_at=now)
        )
        purged = int(result.rowcount or 0)  # type: ignore[attr-defined]
        if actor is not None:
            audit.record(
                session,
                actor,
                "outbox_purge",
                now=now,
                details={
                    "purged": purged,
                    "retention_days": services.settings.outbox_retention_days,
                },
            )
        return purged


@dataclass(frozen=True)
class QueuedEmail:
    """One e-mail of the queue as ``outbox list`` shows it (no body: it may hold a code)."""

    id: int
    state: OutboxState
    recipient: str
    subject: str
    attempts: int
    last_error: str | None
    created_at: dt.datetime
    next_attempt_at: dt.datetime | None
    sent_at: dt.datetime | None
    purged_at: dt.datetime | None

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["state"] = self.state.value
        for key in ("created_at", "next_attempt_at", "sent_at", "purged_at"):
            value = data[key]
            data[key] = value.isoformat() if value is not None else None
        return data


def list_queue(
    services: Services, *, states: Sequence[OutboxState] = (), limit: int | None = None
) -> list[QueuedEmail]:
    """The e-mails of the outbox, newest first, in ``states`` if given."""
    query = select(OutboxMessage).where(_EMAIL).order_by(OutboxMessage.id.desc())
    if states:
        query = query.where(OutboxMessage.state.in_(states))
    if limit is not None:
        query = query.limit(limit)
    with services.sessions() as session:
        return [
            QueuedEmail(
                id=row.id,
                state=row.state,
                recipient=row.recipient,
                subject=row.subject,
                attempts=row.attempts,
                last_error=row.last_error,
                created_at=row.created_at,
                next_attempt_at=row.next_attempt_at,
                sent_at=row.sent_at,
                purged_at=row.purged_at,
            )
            for row in session.scalars(query)
        ]


def settle_uncertain(
    services: Services, actor: Actor, ids: Iterable[int], *, resend: bool
) -> list[int]:
    """An operator's decision on « incertain » messages: sent again (« en attente », due
    now) or abandoned (« échec »). Every id must be an uncertain e-mail whose text is still
    there; else ``InvalidInput`` and nothing changes. Audited (« outbox_resend »,
    « outbox_abandon »): someone decided a person may receive a message twice, or none.
    Returns the ids, sorted."""
    wanted = sorted(set(ids))
    now = services.clock()
    with services.sessions() as session, session.begin():
        found = set(
            session.scalars(
                select(OutboxMessage.id).where(
                    _EMAIL,
                    OutboxMessage.id.in_(wanted),
                    OutboxMessage.state == OutboxState.UNCERTAIN,
                    OutboxMessage.purged_at.is_(None),
                )
            )
        )
        missing = [str(i) for i in wanted if i not in found]
        if missing:
            raise InvalidInput(
                f"{french.agreed(len(missing), 'message')} n° {', '.join(missing)} "
                "introuvable ou non « incertain »\u00a0: rien n'a été modifié"
            )
        values: dict[str, object] = (
            {"state": OutboxState.PENDING, "next_attempt_at": now}
            if resend
            else {
                "state": OutboxState.FAILED,
                "last_error": "abandonné par un opérateur après un envoi incertain",
            }
        )
        session.execute(
            update(OutboxMessage)
            .where(and_(OutboxMessage.id.in_(wanted), OutboxMessage.state == OutboxState.UNCERTAIN))
            .values(state_since=now, **values)
        )
        audit.record(
            session,
            actor,
            "outbox_resend" if resend else "outbox_abandon",
            now=now,
            details={"messages": wanted},
        )
    return wanted
