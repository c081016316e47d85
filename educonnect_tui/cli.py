"""The ``educonnect-tui`` command line, over the same services as the TUI.

Every failure the user can cause ends with one French line on stderr and exit code 2,
never a traceback; nothing is half-written because each service is all-or-nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from pydantic import ValidationError
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from .domain.access.caller import Operator
from .domain.accounts.selection import Selection, parse_state
from .domain.model.calendar import date_text, parse_date
from .domain.model.enums import AccountKind, StaffRole
from .domain.model.errors import DomainError, InvalidInput
from .domain.store.audit import Actor
from .domain.store.services import Services
from .domain.store.settings import Settings

if TYPE_CHECKING:
    from .domain.access.delegations import DelegationView

EXIT_USAGE = 2

_ARGPARSE_FRENCH: list[tuple[str, str]] = [
    (r"the following arguments are required: (.*)", r"arguments obligatoires manquants : \1"),
    (r"unrecognized arguments: (.*)", r"arguments non reconnus : \1"),
    (r"argument (.*?): invalid choice: (.*?) \(choose from (.*)\)", r"\1 : choix \2 invalide (\3)"),
    (r"argument (.*?): expected one argument", r"\1 attend une valeur"),
    (r"argument (.*?): invalid (\w+) value: (.*)", r"\1 : valeur \3 invalide"),
    (r"argument (.*?): not allowed with argument (.*)", r"\1 ne peut pas être utilisé avec \2"),
    # Our own type checks already speak French: keep their message, drop "argument".
    (r"argument (.*?): (.*)", r"\1 : \2"),
]


class FrenchParser(argparse.ArgumentParser):
    """argparse that reports usage errors as one French line and exit code 2."""

    def error(self, message: str) -> NoReturn:
        for pattern, replacement in _ARGPARSE_FRENCH:
            if re.fullmatch(pattern, message):
                message = re.sub(pattern, replacement, message)
                break
        fail(f"{message} (voir « {self.prog} --help »)")


def fail(message: str) -> NoReturn:
    print(f"educonnect-tui : erreur : {message}", file=sys.stderr)
    raise SystemExit(EXIT_USAGE)


def _date(text: str) -> dt.date:
    try:
        return parse_date(text)
    except InvalidInput as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _kind(text: str) -> AccountKind:
    value = text.strip().lower()
    if value in ("pupils", "eleves", "élèves", "pupil", "eleve"):
        return AccountKind.PUPIL
    if value in ("guardians", "responsables", "guardian", "responsable"):
        return AccountKind.GUARDIAN
    raise argparse.ArgumentTypeError(f"« {text} » (pupils ou guardians)")


def _positive(text: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"« {text} » (un entier positif)")
    return int(text)


def _scale(text: str) -> str | float:
    """``college`` (the default demo), ``academie`` (1.0) or a fraction of the académie."""
    value = text.strip().lower().replace("é", "e").replace("è", "e")
    if value in ("college", "academie"):
        return value if value == "college" else 1.0
    try:
        fraction = float(value)
    except ValueError:
        fraction = 0.0
    if not 0 < fraction <= 2:
        raise argparse.ArgumentTypeError(
            f"« {text} » (college, academie ou une fraction de l'académie, ex. 0.05)"
        )
    return fraction


def build_parser() -> FrenchParser:
    parser = FrenchParser(
        prog="educonnect-tui",
        description="Administration des comptes EduConnect, au clavier, dans le terminal.",
    )
    commands = parser.add_subparsers(dest="command", metavar="commande", parser_class=FrenchParser)

    demo = commands.add_parser(
        "demo", help="crée l'établissement de démonstration et ouvre l'interface"
    )
    demo.add_argument(
        "--reset", action="store_true", help="vide la base et recrée la démonstration"
    )
    demo.add_argument(
        "--no-open", action="store_true", help="crée et affiche sans ouvrir l'interface"
    )
    demo.add_argument("--seed", type=int, default=None, help="graine des données (déterministes)")
    demo.add_argument(
        "--scale",
        type=_scale,
        default="college",
        metavar="college|academie|FRACTION",
        help="college : un collège et une école (défaut) ; academie : 500 établissements et "
        "un million de comptes (données de mesure) ; 0.05 : 5 %% de l'académie",
    )

    database = commands.add_parser("db", help="base de données")
    db_commands = database.add_subparsers(
        dest="db_command", metavar="action", required=True, parser_class=FrenchParser
    )
    db_commands.add_parser("upgrade", help="applique les migrations")

    imp = commands.add_parser("import", help="importe un export SIECLE (CSV)")
    imp.add_argument("what", choices=["pupils", "guardians"], help="élèves ou responsables")
    imp.add_argument("file", type=Path, help="fichier CSV « ; »")
    imp.add_argument("--uai", required=True)
    imp.add_argument("--dry-run", action="store_true", help="affiche les changements sans écrire")

    notify = commands.add_parser("notify", help="(re)notifie des comptes et écrit les documents")
    notify.add_argument("--uai", required=True)
    notify.add_argument("--kind", type=_kind, required=True, help="pupils ou guardians")
    notify.add_argument("--class", dest="classes", action="append", default=[], metavar="CLASSE")
    notify.add_argument(
        "--state",
        dest="states",
        action="append",
        default=[],
        metavar="ÉTAT",
        help="non_notifie, notifie, active (défaut : non notifiés et notifiés)",
    )
    notify.add_argument("--pdf", type=Path, required=True)
    notify.add_argument("--csv", type=Path)

    stats = commands.add_parser("stats", help="statistiques des comptes d'un établissement")
    stats.add_argument("--uai", required=True)
    stats.add_argument("--format", choices=["table", "csv", "json"], default="table")

    find = commands.add_parser(
        "search", help="cherche un compte dans toute la base (nom, prénom, identifiant)"
    )
    find.add_argument("text", metavar="TEXTE", help="« lefevre noe », « n.lefevre »…")
    find.add_argument("--limit", type=_positive, default=20)
    find.add_argument("--format", choices=["table", "json"], default="table")

    staff = commands.add_parser("staff", help="personnels")
    staff_commands = staff.add_subparsers(
        dest="staff_command", metavar="action", required=True, parser_class=FrenchParser
    )
    add = staff_commands.add_parser("add", help="ajoute un personnel (affiche son secret TOTP)")
    add.add_argument("--first-name", required=True)
    add.add_argument("--last-name", required=True)
    add.add_argument("--role", choices=["direction", "agent"], required=True)
    add.add_argument("--uai", action="append", required=True, help="répétable")
    add.add_argument("--title", default="")
    add.add_argument("--login")

    delegate = commands.add_parser("delegate", help="délégations DELEG-CE d'un établissement")
    delegate_commands = delegate.add_subparsers(
        dest="delegate_command", metavar="action", required=True, parser_class=FrenchParser
    )
    give = delegate_commands.add_parser("grant", help="accorde un module à un agent")
    give.add_argument("--uai", required=True)
    give.add_argument("--agent", required=True, metavar="IDENTIFIANT")
    give.add_argument("--module", choices=["administration", "depannage"], required=True)
    give.add_argument(
        "--class",
        dest="classes",
        action="append",
        default=[],
        metavar="CLASSE",
        help="répétable ; aucune : tout l'établissement",
    )
    give.add_argument(
        "--until", type=_date, metavar="JJ/MM/AAAA", help="fin (défaut : 31/08 de l'année scolaire)"
    )
    give.add_argument(
        "--by",
        metavar="IDENTIFIANT",
        help="personnel de direction qui accorde (obligatoire s'il y en a plusieurs)",
    )
    take = delegate_commands.add_parser("revoke", help="révoque une délégation")
    take.add_argument("--uai", required=True)
    take.add_argument("--id", type=int, required=True, metavar="N")
    show = delegate_commands.add_parser("list", help="liste les délégations")
    show.add_argument("--uai", required=True)
    show.add_argument("--format", choices=["table", "csv", "json"], default="table")

    audit_parser = commands.add_parser("audit", help="journal d'audit (chaîné, en ajout seul)")
    audit_commands = audit_parser.add_subparsers(
        dest="audit_command", metavar="action", required=True, parser_class=FrenchParser
    )
    check = audit_commands.add_parser(
        "verify", help="vérifie la chaîne : enregistrement modifié ou supprimé"
    )
    check.add_argument("--format", choices=["table", "json"], default="table")
    listing = audit_commands.add_parser(
        "list", help="liste les événements, les plus récents d'abord"
    )
    listing.add_argument("--uai", help="établissement (défaut : tout le journal)")
    listing.add_argument("--actor", metavar="IDENTIFIANT", help="qui (identifiant ou nom)")
    listing.add_argument("--action", metavar="ACTION", help="code (notify, sign_in…) ou libellé")
    listing.add_argument("--account", metavar="IDENTIFIANT", help="compte visé")
    listing.add_argument("--since", type=_date, metavar="JJ/MM/AAAA")
    listing.add_argument("--until", type=_date, metavar="JJ/MM/AAAA")
    listing.add_argument("--format", choices=["table", "csv", "json"], default="table")
    listing.add_argument(
        "--output", type=Path, metavar="FICHIER", help="écrit dans un fichier (0600, audité)"
    )

    activate = commands.add_parser("activate", help="parcours d'activation (démonstrations, tests)")
    flows = activate.add_subparsers(
        dest="flow", metavar="parcours", required=True, parser_class=FrenchParser
    )
    pupil = flows.add_parser("pupil", help="élève : identifiants provisoires + date de naissance")
    pupil.add_argument("--login", required=True)
    pupil.add_argument("--password", required=True)
    pupil.add_argument("--birth-date", type=_date, required=True)
    pupil.add_argument("--new-password", required=True)
    guardian = flows.add_parser(
        "guardian", help="responsable : identifiants provisoires + courriel"
    )
    guardian.add_argument("--login", required=True)
    guardian.add_argument("--password", required=True)
    guardian.add_argument("--email", required=True)
    guardian.add_argument("--new-password", required=True)
    confirm = flows.add_parser("confirm", help="responsable : code reçu par courriel")
    confirm.add_argument("--login", required=True)
    confirm.add_argument("--code", required=True)
    franceconnect = flows.add_parser("franceconnect", help="responsable : via FranceConnect")
    franceconnect.add_argument("--login", required=True)
    franceconnect.add_argument("--last-name", required=True)
    franceconnect.add_argument("--first-name", required=True)
    return parser


def _services() -> Services:
    try:
        settings = Settings()
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"]).upper()
        fail(f"réglage EDUCONNECT_{where} invalide : {first['msg']}")
    return Services.from_settings(settings)


def _require_schema(services: Services) -> None:
    from .domain.store import db

    if db.current_revision(services.engine) is None:
        fail(
            "base de données non initialisée : lancez « educonnect-tui db upgrade » "
            "ou « educonnect-tui demo »."
        )


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import college as demo

    services = _services()
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
    return _open_tui(services)


def _build_academie(services: Services, args: argparse.Namespace) -> list[str]:
    """``demo --scale academie``: about a minute, with one progress line on stderr."""
    from .demo import academie

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


def _open_tui(services: Services) -> int:
    try:
        from .app import run_app
    except ImportError:
        print("\n(L'interface n'est pas encore disponible dans cette version.)")
        return 0
    return run_app(services)


def cmd_db(args: argparse.Namespace) -> int:
    from .domain.store import db

    services = _services()
    services.upgrade()
    print(f"Base à jour (révision {db.current_revision(services.engine)}).")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from .domain.siecle.guardians import import_guardians
    from .domain.siecle.pupils import import_pupils

    services = _services()
    _require_schema(services)
    run = import_pupils if args.what == "pupils" else import_guardians
    report = run(services, Operator.naming(services, args.uai), args.file, dry_run=args.dry_run)
    print("\n".join(report.lines()))
    if report.errors:
        fail(f"{len(report.errors)} ligne(s) rejetée(s) : rien n'a été importé.")
    return 0


def cmd_notify(args: argparse.Namespace) -> int:
    from .domain.accounts.notification import NotifyRequest, notify

    services = _services()
    _require_schema(services)
    selection = Selection(
        divisions=tuple(c.strip().upper() for c in args.classes),
        states=tuple(parse_state(s) for s in args.states),
    )
    show = sys.stderr.isatty()

    def progress(phase: str, done: int, total: int) -> None:
        if show:
            print(f"\r{phase} : {done}/{total}   ", end="", file=sys.stderr, flush=True)

    request = NotifyRequest(args.kind, selection, pdf_path=args.pdf, csv_path=args.csv)
    result = notify(services, Operator.naming(services, args.uai), request, progress=progress)
    if show:
        print(file=sys.stderr)
    print("\n".join(result.lines()))
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    from .domain.reports.figures import school_stats
    from .domain.reports.stats_text import render_csv, render_table

    services = _services()
    _require_schema(services)
    stats = school_stats(services, Operator.naming(services, args.uai))
    if args.format == "json":
        print(json.dumps(stats.as_dict(), ensure_ascii=False, indent=2))
    elif args.format == "csv":
        print(render_csv(stats), end="")
    else:
        print(render_table(stats))
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    from .domain.accounts import directory

    services = _services()
    _require_schema(services)
    found = directory.search(services, args.text, limit=args.limit)
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
        print(json.dumps({"resultats": rows, "suite": found.more}, ensure_ascii=False, indent=2))
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
        print(f"Plus de {args.limit} comptes : précisez la recherche.")
    return 0


def cmd_staff(args: argparse.Namespace) -> int:
    from .domain.access.staff import create_staff
    from .domain.store import audit, establishments

    services = _services()
    _require_schema(services)
    actor = Actor.command_line()
    with services.sessions() as session, session.begin():
        schools = [establishments.get_by_uai(session, uai) for uai in args.uai]
        new = create_staff(
            session,
            first_name=args.first_name,
            last_name=args.last_name,
            role=StaffRole(args.role),
            establishments=schools,
            hash_params=services.hash_params,
            title=args.title,
            login=args.login,
        )
        audit.record(
            session,
            actor,
            "staff_add",
            now=services.clock(),
            establishment_id=schools[0].id,
            details={"login": new.login, "role": new.role.value, "uai": [s.uai for s in schools]},
        )
    print(f"Identifiant : {new.login}")
    print(f"Mot de passe : {new.password}")
    print(f"Secret TOTP : {new.totp_secret}")
    print(f"URI de provisionnement : {new.provisioning_uri}")
    print("Le mot de passe et le secret ne sont affichés qu'une fois.")
    return 0


def _delegation_row(view: DelegationView) -> list[str]:

    return [
        str(view.id),
        f"{view.agent_name} ({view.agent_login})",
        view.module_label,
        view.classes_label,
        date_text(view.valid_from),
        date_text(view.valid_until),
        view.granted_by,
        view.state.value,
    ]


_DELEGATION_HEADERS = ["N°", "Agent", "Module", "Classes", "Du", "Au", "Accordée par", "État"]


def cmd_delegate(args: argparse.Namespace) -> int:
    from .domain.access import delegations
    from .domain.model.enums import Module

    services = _services()
    _require_schema(services)
    if args.delegate_command == "grant":
        request = delegations.GrantRequest(
            agent_login=args.agent,
            module=Module(args.module),
            until=args.until,
            division_names=tuple(args.classes),
            granted_by_login=args.by,
        )
        view = delegations.grant(services, Operator.naming(services, args.uai), request)
        print(
            f"Délégation n° {view.id} accordée à {view.agent_name} ({view.agent_login}) : "
            f"module {view.module_label}, classes {view.classes_label}, "
            f"jusqu'au {date_text(view.valid_until)}."
        )
    elif args.delegate_command == "revoke":
        view = delegations.revoke(services, Operator.naming(services, args.uai), args.id)
        print(f"Délégation n° {view.id} de {view.agent_name} ({view.agent_login}) révoquée.")
    else:
        views = delegations.list_delegations(services, Operator.naming(services, args.uai))
        if args.format == "json":
            print(json.dumps([v.as_dict() for v in views], ensure_ascii=False, indent=2))
        elif args.format == "csv":
            from .domain.documents.spreadsheet import csv_text

            print(csv_text([_DELEGATION_HEADERS, *(_delegation_row(v) for v in views)]), end="")
        elif not views:
            print("Aucune délégation.")
        else:
            from tabulate import tabulate

            print(
                tabulate(
                    [_delegation_row(v) for v in views],
                    headers=_DELEGATION_HEADERS,
                    disable_numparse=True,
                )
            )
    return 0


def cmd_activate(args: argparse.Namespace) -> int:
    from .domain.accounts import activation

    services = _services()
    _require_schema(services)
    if args.flow == "pupil":
        activation.activate_pupil(
            services, args.login, args.password, args.birth_date, args.new_password
        )
        print(f"Compte {args.login} activé.")
    elif args.flow == "guardian":
        activation.start_guardian_activation(
            services, args.login, args.password, args.email, args.new_password
        )
        print(f"Un code de confirmation a été envoyé à {args.email} (voir la boîte d'envoi).")
    elif args.flow == "confirm":
        activation.confirm_guardian_email(services, args.login, args.code)
        print(f"Compte {args.login} activé (identifiants provisoires).")
    else:
        activation.activate_guardian_franceconnect(
            services, args.login, args.last_name, args.first_name
        )
        print(f"Compte {args.login} activé (FranceConnect).")
    return 0


EXIT_TAMPERED = 1
_AUDIT_HEADERS = ["N°", "Date", "Qui", "Depuis", "Action", "Comptes", "Détails"]


def _audit_action(text: str | None) -> str | None:
    """An action code, from its code or its French label (as the screen shows it)."""
    from .domain.store.audit import ACTION_LABELS

    if text is None or not text.strip():
        return None
    wanted = text.strip()
    if wanted in ACTION_LABELS:
        return wanted
    for code, label in ACTION_LABELS.items():
        if label.casefold() == wanted.casefold():
            return code
    if re.fullmatch(r"[a-z_]{1,64}", wanted):
        return wanted  # an action recorded without a French label yet
    fail(f"action « {wanted[:40]} » inconnue (codes : {', '.join(sorted(ACTION_LABELS))})")


def _render_audit(rows: list[list[str]], dicts: list[dict[str, object]], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(dicts, ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":
        from .domain.documents.spreadsheet import csv_text

        return csv_text([_AUDIT_HEADERS, *rows])
    if not rows:
        return "Aucun événement.\n"
    from tabulate import tabulate

    return tabulate(rows, headers=_AUDIT_HEADERS, disable_numparse=True) + "\n"


def cmd_audit(args: argparse.Namespace) -> int:
    from .domain.reports import journal as audit_log

    services = _services()
    _require_schema(services)
    if args.audit_command == "verify":
        report = audit_log.verify_everywhere(services)
        if args.format == "json":
            print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        else:
            print(report.message())
        return 0 if report.ok else EXIT_TAMPERED
    operator = Operator.naming(services, args.uai) if args.uai else None
    wanted = audit_log.AuditFilter(
        actor=args.actor,
        action=_audit_action(args.action),
        account_login=args.account,
        since=args.since,
        until=args.until,
    )
    rows: list[list[str]] = []
    dicts: list[dict[str, object]] = []
    offset = 0
    while True:  # page by page: the trail can be long
        page = (
            audit_log.events(services, operator, wanted, offset=offset, limit=1000)
            if operator is not None
            else audit_log.events_everywhere(services, wanted, offset=offset, limit=1000)
        )
        for row in page:
            rows.append(
                [
                    str(row.id),
                    services.time.date_time(row.at),
                    row.who,
                    row.source,
                    row.action_label,
                    f"{row.target_count} : {row.targets_label}" if row.target_count else "",
                    row.details,
                ]
            )
            dicts.append(row.as_dict())
        if len(page) < 1000:
            break
        offset += len(page)
    if args.output is None:
        print(_render_audit(rows, dicts, args.format), end="")
        return 0
    if args.format == "csv":  # a file opened in a spreadsheet, as every other CSV file
        from .domain.documents.spreadsheet import csv_bytes

        data = csv_bytes([_AUDIT_HEADERS, *rows])
    else:
        data = _render_audit(rows, dicts, args.format).encode()
    path = audit_log.export(
        services,
        Actor.command_line(),
        args.output,
        data,
        establishment_id=operator.school.id if operator is not None else None,
        details={"format": args.format, "rows": len(rows), "filters": wanted.as_dict()},
    )
    print(f"{len(rows)} événement(s) écrit(s) dans {path} (lisible par vous seul).")
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "audit": cmd_audit,
    "demo": cmd_demo,
    "db": cmd_db,
    "import": cmd_import,
    "notify": cmd_notify,
    "stats": cmd_stats,
    "search": cmd_search,
    "staff": cmd_staff,
    "activate": cmd_activate,
    "delegate": cmd_delegate,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command is None:
            return _open_tui(_services())
        return COMMANDS[args.command](args)
    except DomainError as error:
        fail(str(error))
    except OperationalError as error:
        fail(f"base de données inaccessible : {str(error.orig).splitlines()[0]}")
    except SQLAlchemyError as error:
        fail(f"erreur de base de données : {str(error).splitlines()[0]}")
    except OSError as error:
        fail(f"{error.strerror or error} : {error.filename or ''}".rstrip(" :"))
    except KeyboardInterrupt:
        print("Interrompu : rien n'a été modifié.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
