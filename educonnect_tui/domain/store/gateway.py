"""E-mail and SMS go through a gateway; the default writes them to the outbox table."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from sqlalchemy.orm import Session

from ..model.enums import Channel
from ..model.tables import OutboxMessage


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
    ) -> None: ...


class OutboxGateway:
    """Queues the message in the caller's transaction: it exists only if the change commits."""

    def send(
        self,
        session: Session,
        channel: Channel,
        recipient: str,
        subject: str,
        body: str,
        *,
        now: dt.datetime,
    ) -> None:
        session.add(
            OutboxMessage(
                created_at=now, channel=channel, recipient=recipient, subject=subject, body=body
            )
        )
