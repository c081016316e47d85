"""E-mail and SMS go through a gateway; the default writes them to the outbox table."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from sqlalchemy.orm import Session

from ..model.enums import Channel, OutboxState
from ..model.tables import OutboxMessage
from .outbox import email_row


class MessageGateway(Protocol):
    def send(
        self,
        session: Session,
        channel: Channel,
        recipient: str,
        subject: str,
        body: str,
        *,
        now: dt.datetime,
        account_id: int | None = None,
    ) -> None: ...


class OutboxGateway:
    """Queues the message in the caller's transaction: it exists only if the change commits.

    An e-mail is queued as ``mail.queue_email`` queues one (``outbox.email_row``), so the
    sender delivers it; an SMS waits in the outbox, since nothing delivers SMS.
    """

    def send(
        self,
        session: Session,
        channel: Channel,
        recipient: str,
        subject: str,
        body: str,
        *,
        now: dt.datetime,
        account_id: int | None = None,
    ) -> None:
        if channel is Channel.EMAIL:
            session.add(
                email_row(
                    recipient=recipient,
                    subject=subject,
                    text=body,
                    html=None,
                    now=now,
                    account_id=account_id,
                )
            )
            return
        session.add(
            OutboxMessage(
                created_at=now,
                channel=channel,
                recipient=recipient,
                subject=subject,
                body=body,
                state=OutboxState.PENDING,
                state_since=now,
                account_id=account_id,
            )
        )
