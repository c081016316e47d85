"""Putting an e-mail in the outbox, inside the caller's transaction.

A message announcing new credentials must exist exactly when the change it announces
does: queued in the same transaction, it is committed or rolled back with it, and a
sender delivers it afterwards.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ..model.enums import Channel
from ..model.tables import OutboxMessage


@dataclass(frozen=True)
class Email:
    """One message to one address: a plain-text body and an HTML body of the same content."""

    recipient: str
    subject: str
    text: str
    html: str
    establishment_id: int | None = None
    account_id: int | None = None


def queue_email(session: Session, email: Email, *, now: dt.datetime) -> None:
    """Add ``email`` to the outbox in ``session``'s transaction (it exists only if it commits)."""
    session.add(
        OutboxMessage(
            created_at=now,
            channel=Channel.EMAIL,
            recipient=email.recipient,
            subject=email.subject,
            body=email.text,
        )
    )
