"""``outbox send``, ``list``, ``purge``, ``resend``, ``abandon``: the e-mails of the outbox.

Sending needs ``EDUCONNECT_SMTP_URL`` and ``EDUCONNECT_MAIL_FROM``; every run, like
every other command, is in the audit trail with the Unix user who ran it.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ..domain.model import french
from ..domain.model.enums import OutboxState
from ..domain.store.audit import Actor
from . import context
from .arguments import fail
from .context import require_schema
from .terminal import json_text

if TYPE_CHECKING:
    from ..domain.mail.sender import QueuedEmail
    from ..domain.store.services import Services

_HEADERS = [
    "N°",
    "État",
    "Destinataire",
    "Objet",
    "Tentatives",
    "Mis en file",
    "Envoyé / prochain essai",
    "Dernière erreur",
]


def cmd_outbox(args: argparse.Namespace) -> int:
    from ..domain.mail import sender

    services = context.open_services()
    require_schema(services)
    if args.outbox_command == "send":
        report = sender.deliver_due(services, actor=Actor.command_line())
        if report.nothing_could_be_sent:
            waiting = french.count(report.pending, "courriel reste", "courriels restent")
            fail(f"{report.unreachable}\u00a0; {waiting} en attente")
        print("\n".join(report.lines()))
    elif args.outbox_command == "list":
        return _list(services, args)
    elif args.outbox_command == "purge":
        purged = sender.purge(services, actor=Actor.command_line())
        days = services.settings.outbox_retention_days
        print(
            f"{french.count(purged, 'courriel purgé', 'courriels purgés')} (textes effacés, "
            f"envoyés ou en échec depuis plus de {french.count(days, 'jour')})."
        )
    else:
        resend = args.outbox_command == "resend"
        done = sender.settle_uncertain(services, Actor.command_line(), args.ids, resend=resend)
        numbers = ", ".join(str(i) for i in done)
        if resend:
            print(
                f"{french.count(len(done), 'courriel')} n° {numbers} remis en attente\u00a0: "
                "« educonnect-tui outbox send » les envoie."
            )
        else:
            abandoned = french.agreed(len(done), "abandonné")
            print(f"{french.count(len(done), 'courriel')} n° {numbers} {abandoned} (échec).")
    return 0


def _row(services: Services, message: QueuedEmail) -> list[str]:
    time = services.time
    if message.sent_at is not None:
        when = time.short(message.sent_at)
    elif (
        message.next_attempt_at is not None
        and message.attempts
        and message.state is OutboxState.PENDING
    ):
        when = f"essai {time.short(message.next_attempt_at)}"
    else:
        when = ""
    state = message.state.label + (" (purgé)" if message.purged_at is not None else "")
    return [
        str(message.id),
        state,
        message.recipient,
        message.subject,
        str(message.attempts),
        time.short(message.created_at),
        when,
        message.last_error or "",
    ]


def _list(services: Services, args: argparse.Namespace) -> int:
    from ..domain.mail import sender

    states = [OutboxState(args.state)] if args.state else []
    found = sender.list_queue(services, states=states, limit=args.limit + 1)
    shown, more = found[: args.limit], len(found) > args.limit
    details: dict[str, object] = {"format": args.format, "rows": len(shown)}
    if args.state:
        details["state"] = args.state
    context.record(services, "outbox_read", details=details)
    if args.format == "json":
        print(json_text({"courriels": [m.as_dict() for m in shown], "suite": more}))
    elif args.format == "csv":
        from ..domain.documents.spreadsheet import csv_text

        print(csv_text([_HEADERS, *(_row(services, m) for m in shown)]), end="")
    elif not shown:
        print("Aucun courriel dans la file.")
    else:
        from tabulate import tabulate

        print(tabulate([_row(services, m) for m in shown], headers=_HEADERS, disable_numparse=True))
        if more:
            print(f"(les {args.limit} plus récents\u00a0; --limit N pour en voir plus)")
    return 0
