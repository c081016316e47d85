"""Putting an e-mail in the outbox, inside the caller's transaction.

A message announcing new credentials must exist exactly when the change it announces
does: queued in the same transaction, it is committed or rolled back with it, and a
sender delivers it afterwards (``mail/sender.py``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ..store.outbox import email_row


@dataclass(frozen=True)
class Email:
    """One message to one address: a plain-text body and an HTML body of the same content.

    ``establishment_id`` names the school in the sender's display name (« Collège Jean
    Moulin — EduConnect »).
    """

    recipient: str
    subject: str
    text: str
    html: str
    establishment_id: int | None = None
    account_id: int | None = None


def queue_email(session: Session, email: Email, *, now: dt.datetime) -> None:
    """Add ``email`` to the outbox in ``session``'s transaction (it exists only if it commits).

    It is due at once, with its Message-ID chosen now: every attempt sends the same message.
    """
    session.add(
        email_row(
            recipient=email.recipient,
            subject=email.subject,
            text=email.text,
            html=email.html or None,
            now=now,
            establishment_id=email.establishment_id,
            account_id=email.account_id,
        )
    )
