"""One outbox e-mail as the MIME message that leaves: text, its HTML alternative, UTF-8.

Built again at each attempt from the row, identical each time: the same Message-ID and
the same Date (when it was queued, with the change it announces), so a receiving server
or a person can tell a repeat from a new message.
"""

from __future__ import annotations

import datetime as dt
import email.utils
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage

PRODUCT_NAME = "EduConnect"


@dataclass(frozen=True)
class Outgoing:
    """What the sender read of one claimed row: everything the message carries."""

    id: int
    recipient: str
    subject: str
    text: str
    html: str | None
    message_id: str
    created_at: dt.datetime
    school_name: str | None
    attempts: int


def display_name(template: str, school_name: str | None) -> str:
    """« Collège Jean Moulin — EduConnect » (``EDUCONNECT_MAIL_FROM_NAME``); « EduConnect »
    alone for a message no school sends (an owner's confirmation code)."""
    if not school_name:
        return PRODUCT_NAME
    name = " ".join(school_name.split())
    return " ".join(template.format(school=name).split())


def build(outgoing: Outgoing, *, sender: str, sender_name: str) -> EmailMessage:
    message = EmailMessage()
    local, _, domain = sender.partition("@")
    message["From"] = Address(display_name=sender_name, username=local, domain=domain)
    message["To"] = outgoing.recipient
    message["Subject"] = outgoing.subject
    message["Date"] = email.utils.format_datetime(outgoing.created_at.astimezone(dt.UTC))
    message["Message-ID"] = outgoing.message_id
    message["Auto-Submitted"] = "auto-generated"
    # Quoted-printable: 7-bit lines that any relay carries, even one without 8BITMIME.
    message.set_content(outgoing.text, charset="utf-8", cte="quoted-printable")
    if outgoing.html:
        message.add_alternative(
            outgoing.html, subtype="html", charset="utf-8", cte="quoted-printable"
        )
    return message
