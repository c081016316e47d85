"""Reading the code a person was sent, from the outbox — for demos and tests only.

The outbox is what a real relay would deliver, so reading it stands in for the person
reading their e-mail or SMS.
"""

from __future__ import annotations

import re

from sqlalchemy import select

from ..model.errors import InvalidInput
from ..model.tables import OutboxMessage
from ..store.services import Services
from .owner_attempts import CODE_DIGITS
from .self_registration import normalize_mobile

_CODE_RE = re.compile(rf"(?<!\d)(\d{{{CODE_DIGITS}}})(?!\d)")


def latest_code(services: Services, recipient: str) -> str | None:
    """The code in the newest outbox message to ``recipient``; phone numbers in any format."""
    address = recipient.strip()
    if "@" not in address:
        try:
            address = normalize_mobile(address)
        except InvalidInput:
            return None
    with services.sessions() as session:
        body = session.scalar(
            select(OutboxMessage.body)
            .where(OutboxMessage.recipient == address)
            .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
            .limit(1)
        )
    if body is None:
        return None
    match = _CODE_RE.search(body)
    return match.group(1) if match else None
