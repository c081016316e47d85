"""Reading and checking the audit trail from the command line."""

from __future__ import annotations

import argparse

from ..domain.access.caller import Operator
from ..domain.model import french
from ..domain.store.audit import Actor
from . import context
from .context import require_schema
from .terminal import json_text

EXIT_TAMPERED = 1
_AUDIT_HEADERS = ["N°", "Date", "Qui", "Depuis", "Action", "Comptes", "Détails"]
# A spreadsheet's extract: one line per (event, account), so that every account is there
# and a filter on a login or a class finds its events; an event without accounts is
# one line with those columns empty.
_CSV_HEADERS = [
    "N°", "Date", "Qui", "Depuis", "Action", "Détails", "Comptes", "Identifiant", "Nom",
    "Type", "Classe",
]  # fmt: skip


def _render_audit(
    rows: list[list[str]], dicts: list[dict[str, object]], lines: list[list[str]], fmt: str
) -> str:
    if fmt == "json":
        return json_text(dicts) + "\n"
    if fmt == "csv":
        from ..domain.documents.spreadsheet import csv_text

        return csv_text([_CSV_HEADERS, *lines])
    if not rows:
        return "Aucun événement.\n"
    from tabulate import tabulate

    return tabulate(rows, headers=_AUDIT_HEADERS, disable_numparse=True) + "\n"


def cmd_audit(args: argparse.Namespace) -> int:
    from ..domain.accounts.publishing import swept_lines
    from ..domain.reports import journal as audit_log

    services = context.open_services()
    require_schema(services)
    if args.audit_command == "list" and args.format is None:
        # A file named .csv opened in a spreadsheet must be CSV, not a text table.
        suffix = args.output.suffix.lower() if args.output is not None else ""
        args.format = {".csv": "csv", ".json": "json"}.get(suffix, "table")
    if args.audit_command == "verify":
        report = audit_log.verify_everywhere(services)
        if args.format == "json":
            print(json_text(report.as_dict()))
        else:
            print(report.message())
        return 0 if report.ok else EXIT_TAMPERED
    if args.audit_command == "rotate-key":
        rotation = audit_log.rotate_key(services, Actor.command_line())
        print(
            f"Nouvelle clé {rotation.new_key} (remplace {rotation.old_key}) dans "
            f"{services.settings.key_path} ; {rotation.resealed} secret(s) OTP rechiffré(s). "
            "Les anciennes clés restent dans le fichier pour vérifier ce qu'elles ont signé."
        )
        return 0
    operator = Operator.naming(services, args.uai) if args.uai else None
    wanted = audit_log.AuditFilter(
        actor=args.actor,
        action=args.action,
        account_login=args.account,
        since=args.since,
        until=args.until,
    )
    rows: list[list[str]] = []
    dicts: list[dict[str, object]] = []
    lines: list[list[str]] = []
    offset = 0
    while True:  # page by page: the trail can be long
        page = (
            audit_log.events(services, operator, wanted, offset=offset, limit=1000)
            if operator is not None
            else audit_log.events_everywhere(services, wanted, offset=offset, limit=1000)
        )
        accounts = (
            audit_log.accounts_of_events(services, [r.id for r in page if r.target_count])
            if args.format != "table"
            else {}
        )
        for row in page:
            when = services.time.date_time(row.at)
            rows.append(
                [
                    str(row.id),
                    when,
                    row.who,
                    row.source,
                    row.action_label,
                    f"{row.target_count}\u00a0: {row.targets_label}" if row.target_count else "",
                    row.details,
                ]
            )
            its = accounts.get(row.id, [])
            dicts.append({**row.as_dict(), "accounts": [a.login for a in its]})
            event = [str(row.id), when, row.who, row.source, row.action_label, row.details]
            count = str(row.target_count) if row.target_count else ""
            lines.extend([*event, count, a.login, a.name, a.kind.label, a.division] for a in its)
            if not its:
                lines.append([*event, count, "", "", "", ""])
        if len(page) < 1000:
            break
        offset += len(page)
    if args.output is None:
        context.record(
            services,
            "audit_read",
            establishment_id=operator.school.id if operator is not None else None,
            details={"format": args.format, "rows": len(rows), "filters": wanted.as_dict()},
        )
        print(_render_audit(rows, dicts, lines, args.format), end="")
        return 0
    if args.format == "csv":  # a file opened in a spreadsheet, as every other CSV file
        from ..domain.documents.spreadsheet import csv_bytes

        data = csv_bytes([_CSV_HEADERS, *lines])
    else:
        data = _render_audit(rows, dicts, lines, args.format).encode()
    exported = audit_log.export(
        services,
        Actor.command_line(),
        args.output,
        data,
        establishment_id=operator.school.id if operator is not None else None,
        details={"format": args.format, "rows": len(rows), "filters": wanted.as_dict()},
        overwrite=args.overwrite,
    )
    written = french.count(len(rows), "événement écrit", "événements écrits")
    print(f"{written} dans {exported.path} (lisible par vous seul).")
    for line in swept_lines(exported.swept):
        print(line)
    return 0
