"""Commands on a school's accounts: demo, db, import, notify, stats, guardians, search,
activate."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import getpass
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType

from ..domain.access.caller import Operator
from ..domain.model import french
from ..domain.model.enums import AccountKind, NotifyChannel
from ..domain.store.audit import Actor
from ..domain.store.services import Services
from . import context
from .arguments import fail
from .context import require_schema
from .selecting import selection_from
from .terminal import json_text

log = logging.getLogger("educonnect_tui.cli")


def cmd_demo(args: argparse.Namespace) -> int:
    from ..demo import college as demo

    services = context.open_services(create=True)
    services.upgrade()
    if args.scale == "college":
        seed = demo.DEMO_SEED if args.seed is None else args.seed
        summary = demo.create_demo(services, Actor.command_line(), seed=seed, reset=args.reset)
        print("\n".join(summary.lines()))
    else:
        print("\n".join(_build_academie(services, args)))
    if args.no_open:
        return 0
    if sys.stdin.isatty():
        # The TUI takes the whole screen: let the user note the credentials first.
        with contextlib.suppress(EOFError):
            input("\nNotez ces identifiants, puis appuyez sur Entrée pour ouvrir l'interface… ")
    return open_tui(services)


def _build_academie(services: Services, args: argparse.Namespace) -> list[str]:
    """``demo --scale academie``: about a minute, with one progress line on stderr."""
    from ..demo import academie

    tty = sys.stderr.isatty()

    def progress(message: str) -> None:
        if tty:
            print(f"\r\033[K{message}", end="", file=sys.stderr, flush=True)
        else:
            print(message, file=sys.stderr, flush=True)

    seed = academie.ACADEMIE_SEED if args.seed is None else args.seed
    try:
        summary = academie.build(
            services,
            Actor.command_line(),
            seed=seed,
            scale=args.scale,
            reset=args.reset,
            progress=progress,
        )
    finally:
        if tty:
            print("\r\033[K", end="", file=sys.stderr, flush=True)
    return summary.lines()


def open_tui(services: Services) -> int:
    """The interface, on a terminal (or the browser's driver, ``educonnect-tui serve``).

    Without one (``ssh -T``, a command given to the forced command, output redirected)
    Textual would draw into a pipe and wait for keys that never come, holding the
    database: say so and stop instead.
    """
    from ..app import run_app

    if "TEXTUAL_DRIVER" not in os.environ and not all(
        stream is not None and stream.isatty() for stream in (sys.__stdin__, sys.__stderr__)
    ):
        fail(
            "pas de terminal\u00a0: l'interface s'ouvre dans un terminal "
            "(connectez-vous avec « ssh -t », sans commande)"
        )
    require_schema(services)
    return run_app(services)


def cmd_db(args: argparse.Namespace) -> int:
    from ..domain.store import db

    services = context.open_services(create=True)
    before = db.current_revision(services.engine)
    if args.schema_only:
        db.upgrade(services.engine)
        after = db.current_revision(services.engine)
        log.info("db upgrade --schema-only: %s -> %s", before, after)
        print(f"Schéma à jour (révision {after}).")
        print(
            "Lancez maintenant « educonnect-tui db upgrade » en tant que service\u00a0: il "
            "crée ou vérifie le fichier de clés et inscrit la migration au journal d'audit."
        )
        return 0
    services.upgrade()
    after = db.current_revision(services.engine)
    audited = _last_audited_revision(services)
    if after != before:
        context.record(services, "db_upgrade", details={"from": before, "to": after})
    elif audited is not None and audited != after:
        # Migrated by the schema's owner (--schema-only), who holds no key: audited now.
        context.record(services, "db_upgrade", details={"from": audited, "to": after})
    print(f"Base à jour (révision {after}).")
    print(f"Fichier de clés\u00a0: {services.settings.key_path} (lisible par vous seul).")
    return 0


def _last_audited_revision(services: Services) -> str | None:
    """The revision the trail last recorded a migration to, if any."""
    from sqlalchemy import select

    from ..domain.model.tables import AuditEvent

    with services.sessions() as session:
        details = session.scalar(
            select(AuditEvent.details)
            .where(AuditEvent.action == "db_upgrade")
            .order_by(AuditEvent.id.desc())
            .limit(1)
        )
    to = details.get("to") if isinstance(details, dict) else None
    return to if isinstance(to, str) else None


def cmd_import(args: argparse.Namespace) -> int:
    from ..domain.model.errors import DocumentError, InvalidInput, NotFound, sentences
    from ..domain.siecle import report_file
    from ..domain.siecle.guardians import import_guardians
    from ..domain.siecle.pupils import import_pupils
    from ..domain.siecle.xml_import import import_siecle

    services = context.open_services()
    require_schema(services)
    try:
        operator = Operator.naming(services, args.uai)
    except NotFound as error:
        said = str(error)
        fail(
            f"établissement inconnu\u00a0: {said[:1].lower()}{said[1:]} "
            "Créez-le avec « educonnect-tui school add »."
        )
    if args.report is not None:
        report_file.check(services, args.report, overwrite=args.overwrite)
    if args.what == "siecle":
        report = import_siecle(
            services,
            operator,
            args.files,
            dry_run=args.dry_run,
            allow_departures=args.allow_departures,
        )
    elif args.what == "pupils":
        report = import_pupils(
            services,
            operator,
            args.file,
            dry_run=args.dry_run,
            allow_departures=args.allow_departures,
        )
    else:
        report = import_guardians(services, operator, args.file, dry_run=args.dry_run)
    lines = report.lines()
    if report.dry_run and report.departures_over_limit:
        lines.append(
            "Pour l'appliquer malgré tout\u00a0: relancez sans --dry-run, avec --allow-departures."
        )
    print("\n".join(lines), flush=True)
    if args.report is not None:
        try:
            written = report_file.write(services, args.report, lines, overwrite=args.overwrite)
        except (InvalidInput, DocumentError) as error:
            done = report.dry_run or report.errors or report.held_back
            fail(
                sentences(
                    str(error),
                    "Rien n'a été importé" if done else "L'import, lui, a été enregistré",
                )
            )
        print(f"Rapport écrit dans {written} (lisible par vous seul).")
    if report.errors:
        words = ("ligne rejetée", "lignes rejetées")
        if args.what == "siecle":
            words = ("élément rejeté", "éléments rejetés")
        rejected = french.count(len(report.errors), *words)
        fail(f"{rejected}\u00a0: rien n'a été importé.")
    if report.held_back:
        assert report.departures is not None
        fail(
            f"{report.departures.text()}\u00a0: rien n'a été importé. Vérifiez le fichier, "
            "ou relancez avec --allow-departures."
        )
    return 0


def cmd_notify(args: argparse.Namespace) -> int:
    from ..domain.accounts.notification import NotifyRequest, notify, planned_lines, preview
    from ..domain.model.errors import Cancelled
    from . import exit_code

    if args.channel is NotifyChannel.EMAIL:
        # Known from the options alone: refused before anything is read or changed.
        paper = [name for name, path in (("--pdf", args.pdf), ("--csv", args.csv)) if path]
        if paper:
            fail(
                f"{' et '.join(paper)}\u00a0: --channel email ne produit aucun document papier "
                "(un compte sans adresse n'est pas notifié)\u00a0; "
                + ("retirez-les" if len(paper) > 1 else f"retirez {paper[0]}")
                + ", ou choisissez --channel auto"
            )
    services = context.open_services()
    require_schema(services)
    operator = Operator.naming(services, args.uai)
    selection = selection_from(args, services, operator, args.kind)
    show = sys.stderr.isatty()

    def progress(phase: str, done: int, total: int) -> None:
        if show:
            print(f"\r{phase}\u00a0: {done}/{total}   ", end="", file=sys.stderr, flush=True)

    request = NotifyRequest(
        args.kind,
        selection,
        pdf_path=args.pdf,
        csv_path=args.csv,
        overwrite=args.overwrite,
        channel=args.channel,
        reset=args.reset,
        activated_confirmed=args.activated or 0,
    )
    planned = preview(services, operator, request)
    if args.dry_run:
        print("\n".join(planned_lines(planned, args.kind)))
        if args.activated is not None and args.activated != planned.to_confirm:
            print(
                f"  --activated {args.activated} ne correspond pas : "
                f"{french.count(planned.to_confirm, 'compte activé', 'comptes activés')} "
                "dans cette sélection."
            )
        return 0
    if args.pdf is None and planned.needs_pdf:
        fail(
            "--pdf est obligatoire (les fiches à distribuer)\u00a0: "
            + (
                french.count(planned.on_paper, "compte sans adresse", "comptes sans adresse")
                + f" {french.agreed(planned.on_paper, 'recevra', 'recevront')} un document papier"
                if args.channel is NotifyChannel.AUTO
                else "des documents papier seraient produits"
            )
            + ", sauf avec --dry-run"
        )
    if args.pdf is None and args.csv is not None:
        fail("--csv accompagne les documents papier\u00a0: aucun n'est produit, retirez --csv")
    activated = planned.to_confirm
    if activated and args.activated != activated:
        fail(
            f"{french.count(activated, 'compte déjà activé', 'comptes déjà activés')} "
            f"{french.agreed(activated, 'serait renotifié', 'seraient renotifiés')}\u00a0: "
            + french.agreed(
                activated,
                "son mot de passe personnel serait remplacé",
                "leurs mots de passe personnels seraient remplacés",
            )
            + ". "
            f"Rien n'a été modifié\u00a0; confirmez avec --activated {activated}, "
            "ou retirez --state active"
        )
    with _stops_as_cancel() as cancel:
        try:
            result = notify(services, operator, request, progress=progress, cancel=cancel)
        except Cancelled:
            with contextlib.suppress(OSError):  # after a hang-up, no terminal is left
                print(
                    ("\n" if show else "")
                    + "Interrompu : aucun mot de passe n'a été modifié et aucun document écrit.",
                    file=sys.stderr,
                )
            return exit_code(cancel.signum)
        if show:
            print(file=sys.stderr)
        print("\n".join(result.lines()), flush=True)
        if args.pdf is not None and not result.on_paper:
            print(f"Aucun document papier\u00a0: {args.pdf} n'a pas été écrit.")
        if cancel.is_set():
            print(
                "Arrêt demandé trop tard\u00a0: la notification était déjà enregistrée, "
                "ses documents sont écrits.",
                file=sys.stderr,
            )
    if result.emailed:
        # A stop asked too late for the notification still stops what can wait: sending.
        _send_queued(services, result.emailed, send=args.send and not cancel.is_set())
    return 0


def _send_queued(services: Services, queued: int, *, send: bool) -> None:
    """After a notify: deliver the outbox now, unless ``--no-send``.

    The messages are already committed with their passwords; sending is a separate
    step that can be retried (``educonnect-tui outbox send``) and never undoes them,
    so the command succeeds whatever the relay does.
    """
    from ..domain.mail.sender import deliver_after_notify, waiting_line

    if not send:
        print(waiting_line(queued))
        return
    print("\n".join(deliver_after_notify(services, queued, actor=Actor.command_line()).lines))


class _Stop(threading.Event):
    """A cancellation asked by a signal, remembering which (for the exit code)."""

    signum: int = signal.SIGINT


@contextlib.contextmanager
def _stops_as_cancel() -> Iterator[_Stop]:
    """Ctrl-C, SIGTERM and SIGHUP ask the notification to stop where it still can.

    Raised at any instant, KeyboardInterrupt could land between the commit and the
    report; as a cancellation, the domain stops at its next safe point, before the
    documents are published, or finishes and reports what it did.
    """
    from . import STOP_SIGNALS

    cancel = _Stop()

    def stop(signum: int, frame: FrameType | None) -> None:
        # Nothing here may raise: it runs wherever the main thread is, the commit included
        # (and after a hang-up the terminal is gone).
        if not cancel.is_set():
            cancel.signum = signum
            cancel.set()
            with contextlib.suppress(OSError, RuntimeError, ValueError):
                print("\nArrêt demandé…", file=sys.stderr, flush=True)

    previous = {number: signal.signal(number, stop) for number in STOP_SIGNALS}
    try:
        yield cancel
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def cmd_accounts(args: argparse.Namespace) -> int:
    """``accounts``: the selected accounts by class; ``--pdf`` also writes the printed list.

    Nothing changes on any account: this is the scripting way to list, désactivé
    accounts included (``--state desactive``). A read is audited like ``search``; the
    PDF is audited as an export with its file name.
    """
    from tabulate import tabulate

    from ..domain.accounts.account_lists import (
        ListRequest,
        read_lists,
        trail_filters,
        write_lists,
    )
    from ..domain.accounts.publishing import swept_lines
    from ..domain.documents.account_list_pdf import state_text

    services = context.open_services()
    require_schema(services)
    operator = Operator.naming(services, args.uai)
    selection = selection_from(args, services, operator, args.kind)
    if args.pdf is not None:  # audited as an export, with the file's name
        written = write_lists(
            services,
            operator,
            ListRequest(args.kind, selection, pdf_path=args.pdf, overwrite=args.overwrite),
        )
        lists = written.lists
    else:
        lists = read_lists(services, operator, args.kind, selection)
        context.record(
            services,
            "accounts_read",
            establishment_id=operator.school.id,
            details={
                "kind": args.kind.value,
                "classes": list(selection.divisions),
                "filters": trail_filters(selection),
                "format": args.format,
                "results": lists.count,
            },
        )
    lines = [
        (group.division, row.name(), ", ".join(row.children), row)
        for group in lists.classes
        for row in group.rows
    ]
    guardians = args.kind is AccountKind.GUARDIAN

    def day(value: dt.date | None) -> str:
        return value.isoformat() if value else ""

    if args.format == "json":
        print(
            json_text(
                {
                    "comptes": [
                        {
                            "classe": division,
                            "identifiant": row.login,
                            "nom": row.last_name,
                            "prenom": row.first_name,
                            **(
                                {"civilite": row.civility, "enfants": list(row.children)}
                                if guardians
                                else {}
                            ),
                            "etat": row.state.value,
                            "notifie_le": day(row.notified_on) or None,
                            "active_le": day(row.activated_on) or None,
                        }
                        for division, _, _, row in lines
                    ]
                }
            )
        )
    elif args.format == "csv":
        from ..domain.documents.account_list_pdf import list_csv_rows
        from ..domain.documents.spreadsheet import csv_text

        print(csv_text(list_csv_rows(lists.classes)), end="")
    elif not lines:
        print("Aucun compte ne correspond à la sélection.")
    else:
        headers = [
            "Classe",
            "Nom",
            *(["Enfants"] if guardians else []),
            "Identifiant",
            "État",
            "Notifié le",
            "Activé le",
        ]
        table = [
            [
                division,
                name,
                *([children] if guardians else []),
                row.login,
                state_text(row.state),
                _fr(row.notified_on),
                _fr(row.activated_on),
            ]
            for division, name, children, row in lines
        ]
        print(tabulate(table, headers=headers, disable_numparse=True))
    if args.pdf is not None:
        print(f"Listes écrites dans {written.paths[0]} (lisibles par vous seul).", file=sys.stderr)
        for line in swept_lines(written.swept):
            print(line, file=sys.stderr)
    return 0


def _fr(value: dt.date | None) -> str:
    from ..domain.model.calendar import date_text

    return date_text(value) if value is not None else ""


def cmd_stats(args: argparse.Namespace) -> int:
    from ..domain.reports.figures import school_stats
    from ..domain.reports.stats_text import render_csv, render_table

    services = context.open_services()
    require_schema(services)
    operator = Operator.naming(services, args.uai)
    stats = school_stats(services, operator)
    context.record(
        services, "stats_read", establishment_id=operator.school.id, details={"format": args.format}
    )
    if args.format == "json":
        print(json_text(stats.as_dict()))
    elif args.format == "csv":
        print(render_csv(stats), end="")
    else:
        print(render_table(stats))
    return 0


def cmd_guardians(args: argparse.Namespace) -> int:
    """The list « ne peuvent pas s'auto-inscrire », written like the TUI's export."""
    from ..domain.accounts.guardian_contacts import export_without_sms

    if args.sms_mobile is not False:
        fail(
            (
                "--sms-mobile\u00a0: cette liste est celle des représentants légaux sans mobile, "
                if args.sms_mobile
                else ""
            )
            + "précisez --no-sms-mobile (la liste des représentants légaux sans mobile pour le SMS)"
        )
    services = context.open_services()
    require_schema(services)
    operator = Operator.naming(services, args.uai)
    selection = selection_from(args, services, operator, AccountKind.GUARDIAN)
    written = export_without_sms(
        services, operator, selection, args.output, overwrite=args.overwrite
    )
    print("\n".join(written.lines()))
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    from ..domain.accounts import directory

    services = context.open_services()
    require_schema(services)
    text = " ".join(args.text)
    found = directory.search(services, text, limit=args.limit)
    context.record(
        services,
        "search",
        targets=[row.account_id for row in found.rows],
        details={"text": text, "results": len(found.rows), "more": found.more},
    )
    if args.format == "json":
        rows = [
            {
                "compte": row.account_id,
                "type": row.kind.value,
                "etat": row.state.value,
                "bloque_jusqu_a": row.blocked_until.isoformat() if row.blocked_until else None,
                "nom": row.last_name,
                "prenom": row.first_name,
                "identifiant": row.login,
                "uai": row.uai,
                "etablissement": row.school,
                "classe_ou_enfants": row.division,
                "autres_etablissements": row.other_schools,
            }
            for row in found.rows
        ]
        print(json_text({"resultats": rows, "suite": found.more}))
        return 0
    if not found.rows:
        print("Aucun compte trouvé.")
        return 0
    table = [
        [
            f"{row.state.symbol} {row.state.label}"
            + (
                f" · bloqué jusqu'au {services.time.date_time(row.blocked_until)}"
                if row.blocked_until
                else ""
            ),
            "élève" if row.kind is AccountKind.PUPIL else "responsable",
            " ".join(p for p in (row.civility, row.first_name, row.last_name) if p),
            row.login,
            f"{row.uai} {row.school}" + (f" (+{row.other_schools})" if row.other_schools else ""),
            row.division,
        ]
        for row in found.rows
    ]
    headers = ["État", "Compte", "Nom", "Identifiant", "Établissement", "Classe / enfants"]
    print(tabulate(table, headers=headers, disable_numparse=True))
    if found.more:
        print(f"Plus de {args.limit} comptes\u00a0: précisez la recherche.")
    return 0


def cmd_activate(args: argparse.Namespace) -> int:
    from ..domain.accounts import activation, owner_attempts, self_registration
    from ..domain.model.errors import DomainError
    from ..domain.store.connection import current_connection

    if getattr(args, "password_in_argv", None) is not None:
        fail(
            "mot de passe refusé en argument (tout utilisateur de la machine peut le lire)\u00a0: "
            "tapez-le à l'invite, ou passez --password-stdin avec deux lignes sur l'entrée "
            "standard (le mot de passe provisoire, puis le nouveau)"
        )
    services = context.open_services()
    require_schema(services)
    # The owner's failures count at the address they come from, as on the portal.
    source = current_connection().source
    if args.flow in ("pupil", "guardian"):
        password, new_password = activation_passwords(args.password_stdin)
    try:
        if args.flow == "pupil":
            activation.activate_pupil(
                services, args.login, password, args.birth_date, new_password, source=source
            )
            done = f"Compte {args.login} activé."
        elif args.flow == "guardian":
            activation.start_guardian_activation(
                services, args.login, password, args.email, new_password, source=source
            )
            done = f"Un code de confirmation a été envoyé à {args.email} (voir la boîte d'envoi)."
        elif args.flow == "confirm":
            activation.confirm_guardian_email(services, args.login, args.code, source=source)
            done = f"Compte {args.login} activé (identifiants provisoires)."
        else:
            self_registration.activate_guardian_franceconnect(
                services, args.login, args.last_name, args.first_name, source=source
            )
            done = f"Compte {args.login} activé (FranceConnect)."
    except DomainError as error:
        # Refused attempts are audited too (every command is), by category, never with
        # a password; the refusal stays what the user reads, even if this record fails.
        with contextlib.suppress(Exception):
            details = {
                "flow": args.flow,
                "login": owner_attempts.recorded_login(services, args.login),
                "outcome": "refusé",
                "reason": owner_attempts.refusal_reason(error),
            }
            context.record(services, "owner_flow", details=details)
        raise
    print(done)
    context.record(
        services,
        "owner_flow",
        details={"flow": args.flow, "login": args.login, "outcome": "réussi"},
    )
    return 0


def activation_passwords(from_stdin: bool) -> tuple[str, str]:
    """The temporary password and the new one, from standard input or typed unseen.

    Standard input (``--password-stdin``) gives two lines, for scripts; otherwise a
    terminal prompts without echo, the new password twice. Without a terminal and
    without the option there is nothing to read them from: say how.
    """
    if from_stdin:
        lines = [sys.stdin.readline().rstrip("\r\n") for _ in range(2)]
        if not all(lines):
            fail(
                "--password-stdin attend deux lignes sur l'entrée standard\u00a0: "
                "le mot de passe provisoire, puis le nouveau"
            )
        return lines[0], lines[1]
    if not sys.stdin.isatty():
        fail(
            "pas de terminal pour taper les mots de passe\u00a0: passez --password-stdin avec "
            "deux lignes sur l'entrée standard (le mot de passe provisoire, puis le nouveau)"
        )
    try:
        password = getpass.getpass("Mot de passe provisoire\u00a0: ")
        new_password = getpass.getpass("Nouveau mot de passe\u00a0: ")
        again = getpass.getpass("Nouveau mot de passe (encore)\u00a0: ")
    except EOFError:
        fail("saisie interrompue\u00a0: rien n'a été modifié")
    if new_password != again:
        fail("les deux saisies du nouveau mot de passe diffèrent\u00a0: rien n'a été modifié")
    return password, new_password
