"""A real SMTP server for the tests (aiosmtpd), on 127.0.0.1 and a free port.

It keeps every message it accepts and can be told to refuse a recipient (550 at RCPT),
to drop the connection before the data (at RCPT) or after it (at the end of DATA,
before its reply), or to stop listening.
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Inbox:
    """What the server received, and how it should misbehave next."""

    port: int = 0
    received: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    refused: set[str] = field(default_factory=set)
    drop_at_rcpt: int = 0
    drop_after_data: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refused:
            return "550 5.1.1 <" + address + ">: utilisateur inconnu"
        with self.lock:
            drop = self.drop_at_rcpt > 0
            self.drop_at_rcpt -= drop
        if drop:
            server.transport.close()
            return "421 fermeture"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        # UTF-8 headers as they are with SMTPUTF8 (RFC 6532), encoded words otherwise.
        raw = envelope.original_content.decode("utf-8")
        message = email.message_from_string(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self.lock:
            self.received.append(message)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            drop = self.drop_after_data > 0
            self.drop_after_data -= drop
        if drop:  # taken, but the client never hears it
            server.transport.close()
            return "421 fermeture"
        return "250 2.0.0 Ok: queued"

    def message_ids(self) -> list[str]:
        return [str(m["Message-ID"]) for m in self.received]


@contextmanager
def running(inbox: Inbox, **kwargs: Any) -> Iterator[Inbox]:
    inbox.port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port, **kwargs)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()
