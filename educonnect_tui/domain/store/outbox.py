"""The outbox's e-mail rows, as every writer makes them: ``mail.queue`` and the gateway.

One place decides what a queued e-mail is (« en attente », a Message-ID chosen now, so
that every attempt of the sender sends the very same message), whoever queues it.
"""

from __future__ import annotations

import datetime as dt
import secrets

from ..model.enums import Channel, OutboxState
from ..model.tables import OutboxMessage

# The right-hand side of every Message-ID: no host name of the server goes out in it.
MESSAGE_ID_DOMAIN = "educonnect-tui"


def new_message_id() -> str:
    """``<128 random bits@educonnect-tui>``: unique without asking the database."""
    return f"<{secrets.token_hex(16)}@{MESSAGE_ID_DOMAIN}>"


def email_row(
    *,
    recipient: str,
    subject: str,
    text: str,
    html: str | None,
    now: dt.datetime,
    establishment_id: int | None = None,
    account_id: int | None = None,
) -> OutboxMessage:
    """A new e-mail, due now: the sender takes it at its next run."""
    return OutboxMessage(
        created_at=now,
        channel=Channel.EMAIL,
        recipient=recipient,
        subject=subject,
        body=text,
        html=html,
        state=OutboxState.PENDING,
        state_since=now,
        attempts=0,
        next_attempt_at=now,
        message_id=new_message_id(),
        establishment_id=establishment_id,
        account_id=account_id,
    )
