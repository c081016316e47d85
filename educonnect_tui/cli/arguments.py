"""Arguments of the command line, parsed by an argparse that speaks French."""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import os
import re
import sys
import urllib.parse
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NoReturn

from ..domain.model.calendar import parse_date
from ..domain.model.enums import AccountKind, NotifyChannel
from ..domain.model.errors import InvalidInput, sentences
from ..domain.model.printable import for_terminal

EXIT_USAGE = 2

# argparse's own errors, in English (Python 3.11's texts), as French sentences.
_ARGPARSE_FRENCH: list[tuple[str, str]] = [
    (r"the following arguments are required: (.*)", r"arguments obligatoires manquants : \1"),
    (r"unrecognized arguments: (.*)", r"arguments non reconnus : \1"),
    (r"ambiguous option: (\S+) could match (.*)", r"option \1 ambiguë (\2 ?)"),
    (
        r"argument (.*?): invalid choice: '?(.*?)'? \(choose from (.*)\)",
        r"\1 : choix « \2 » invalide (\3)",
    ),
    (r"argument (.*?): expected one argument", r"\1 attend une valeur"),
    (r"argument (.*?): expected at least one argument", r"\1 attend au moins une valeur"),
    (r"argument (.*?): expected at most one argument", r"\1 attend au plus une valeur"),
    (r"argument (.*?): expected (\d+) arguments?", r"\1 attend \2 valeur(s)"),
    # The value as Python's repr quotes it: 'abc', or "l'a" when it holds a quote.
    (
        r"argument (.*?): invalid int value: (['\"])(.*)\2",
        r"\1 : « \3 » n'est pas un nombre entier",
    ),
    (r"argument (.*?): invalid \w+ value: (['\"])(.*)\2", r"\1 : valeur « \3 » invalide"),
    (r"argument (.*?): not allowed with argument (.*)", r"\1 ne peut pas être utilisé avec \2"),
    (r"argument (.*?): ignored explicit argument (.*)", r"\1 : valeur \2 inattendue"),
    (r"one of the arguments (.*) is required", r"l'un des arguments \1 est obligatoire"),
    # Our own type checks already speak French: keep their message, drop "argument".
    (r"argument (.*?): (.*)", r"\1 : \2"),
]


class FrenchHelpFormatter(argparse.HelpFormatter):
    """argparse's help layout, with French words and French typography (« titre : »)."""

    def add_usage(
        self,
        usage: str | None,
        actions: Iterable[argparse.Action],
        groups: Iterable[argparse._MutuallyExclusiveGroup],
        prefix: str | None = None,
    ) -> None:
        super().add_usage(
            usage, actions, groups, "utilisation\u00a0: " if prefix is None else prefix
        )

    def start_section(self, heading: str | None) -> None:
        # argparse appends the colon itself: French puts a non-breaking space before it.
        super().start_section(f"{heading}\u00a0" if heading else heading)


class FrenchParser(argparse.ArgumentParser):
    """argparse that speaks French: help, titles, and usage errors as one line with exit 2.

    argparse takes its words from its module's ``gettext`` call, which has no French
    catalogue and cannot be given one without patching the module for everyone: the
    words are set here instead (titles, the help option, the usage prefix) and the
    errors are translated from their English texts.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["add_help"] = False
        kwargs.setdefault("formatter_class", FrenchHelpFormatter)
        super().__init__(*args, **kwargs)
        self._positionals.title = "arguments"
        self._optionals.title = "options"
        self.add_argument(
            "-h",
            "--help",
            action="help",
            default=argparse.SUPPRESS,
            help="afficher cette aide et quitter",
        )

    def error(self, message: str) -> NoReturn:
        for pattern, replacement in _ARGPARSE_FRENCH:
            # The whole message or nothing: a search would stop at a lazy group's first
            # (empty) match and leave the rest of the message after the translation.
            if found := re.fullmatch(pattern, message):
                message = found.expand(replacement)
                break
        # Choices as a person reads them, not as Python's repr: (table, csv, json).
        message = re.sub(r"'([\w.-]*)'", r"\1", message)
        fail(f"{message} (voir « {self.prog} --help »)")


def version() -> str:
    """The installed distribution's version: the one ``pip`` and bug reports show."""
    try:
        return importlib.metadata.version("educonnect-tui")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree
        from .. import __version__

        return __version__


def fail(message: str) -> NoReturn:
    """One line on stderr, ending as a sentence, and exit 2."""
    print(
        f"educonnect-tui\u00a0: erreur\u00a0: {for_terminal(sentences(message))}", file=sys.stderr
    )
    raise SystemExit(EXIT_USAGE)


def _channel(text: str) -> NotifyChannel:
    value = text.strip().lower()
    aliases = {"papier": "paper", "courrier": "paper", "courriel": "email", "mail": "email"}
    try:
        return NotifyChannel(aliases.get(value, value))
    except ValueError:
        raise argparse.ArgumentTypeError(f"« {text} » (paper, email ou auto)") from None


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


def integer(text: str) -> int:
    """A whole number as typed (« 12 », « -3 »): what every number option refuses first."""
    if not re.fullmatch(r"[+-]?[0-9]+", text.strip()):
        raise argparse.ArgumentTypeError(f"« {text} » n'est pas un nombre entier")
    return int(text)


def _positive(text: str) -> int:
    if integer(text) < 1:
        raise argparse.ArgumentTypeError(f"« {text} » n'est pas un entier positif")
    return int(text)


def _port(text: str) -> int:
    if not 1 <= integer(text) <= 65535:
        raise argparse.ArgumentTypeError(f"« {text} » n'est pas un port (1 à 65535)")
    return int(text)


def _public_url(text: str) -> str:
    """The address browsers type: http(s)://host[:port], with no path (the page's scripts
    ask for /ws and /download/ at the root of the site)."""
    value = text.strip().rstrip("/")
    parts = urllib.parse.urlsplit(value)
    try:
        parts.port  # noqa: B018 (raises on a port that is not a number)
    except ValueError:
        parts = urllib.parse.urlsplit("")
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.path
        or (parts.query or parts.fragment or parts.username or parts.password)
    ):
        raise argparse.ArgumentTypeError(
            f"« {text[:80]} » (adresse attendue : https://nom.du.serveur, sans chemin)"
        )
    return value


def _group(text: str) -> int:
    """A group of this machine, by name or number: the group given the Unix socket."""
    import grp

    value = text.strip()
    try:
        return grp.getgrgid(int(value)).gr_gid if value.isdigit() else grp.getgrnam(value).gr_gid
    except (KeyError, OverflowError):
        raise argparse.ArgumentTypeError(
            f"« {text[:40]} » n'est pas un groupe de cette machine"
        ) from None


def _socket_path(text: str) -> Path:
    """An absolute path (a proxy's configuration names it as such), short enough for
    a Unix socket (108 bytes with the final NUL, on Linux)."""
    path = Path(text)
    if not path.is_absolute() or text.endswith("/"):
        raise argparse.ArgumentTypeError(
            f"« {text[:80]} » (chemin absolu attendu, ex. /run/educonnect/web.sock)"
        )
    if len(os.fsencode(text)) > 107:
        raise argparse.ArgumentTypeError(
            f"« {text[:80]}… » est trop long pour une socket (107 octets au plus)"
        )
    return path


def _count(text: str) -> int:
    """A number of accounts: 0 or more (``--activated``)."""
    if integer(text) < 0:
        raise argparse.ArgumentTypeError(f"« {text} » n'est pas un nombre de comptes (0 ou plus)")
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


def _audit_action(text: str) -> str:
    """An action code, from its code or its French label (as the screen shows it)."""
    from ..domain.store.audit import ACTION_LABELS

    wanted = text.strip()
    if wanted in ACTION_LABELS:
        return wanted
    for code, label in ACTION_LABELS.items():
        if label.casefold() == wanted.casefold():
            return code
    raise argparse.ArgumentTypeError(
        f"action « {wanted[:40]} » inconnue (actions\u00a0: {', '.join(sorted(ACTION_LABELS))})"
    )


_UAI = "UAI de l'établissement (ex. 0750655E)"
_FORMAT = "format de sortie (défaut\u00a0: table)"
_LOGIN = "identifiant du compte"
_ACTION = "l'une de celles-ci\u00a0:"


def build_parser() -> FrenchParser:
    from .selecting import add_selection_options  # it reports through ``fail``, below

    parser = FrenchParser(
        prog="educonnect-tui",
        description="Administration des comptes EduConnect, au clavier, dans le terminal.",
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"educonnect-tui {version()}",
        help="afficher la version et quitter",
    )
    commands = parser.add_subparsers(
        dest="command",
        metavar="commande",
        parser_class=FrenchParser,
        help="sans commande\u00a0: ouvre l'interface",
    )

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
        help="college : un collège et une école (défaut) ; academie : 500 établissements et "
        "un million de comptes (données de mesure) ; 0.05\u00a0: 5 %% de l'académie",
    )

    database = commands.add_parser("db", help="base de données")
    db_commands = database.add_subparsers(
        dest="db_command", metavar="action", required=True, parser_class=FrenchParser, help=_ACTION
    )
    db_commands.add_parser("upgrade", help="applique les migrations")

    imp = commands.add_parser("import", help="importe un export SIECLE (XML ou CSV)")
    imports = imp.add_subparsers(
        dest="what", metavar="TYPE", required=True, parser_class=FrenchParser, help=_ACTION
    )
    siecle = imports.add_parser(
        "siecle",
        help="exports XML de SIECLE\u00a0: élèves et responsables ensemble (.xml ou .zip)",
    )
    siecle.add_argument(
        "files",
        type=Path,
        nargs="+",
        metavar="FICHIER",
        help="ElevesSansAdresses et ResponsablesAvecAdresses (.xml ou .zip), dans "
        "n'importe quel ordre",
    )
    for what, label in (("pupils", "élèves"), ("guardians", "responsables")):
        csv_import = imports.add_parser(what, help=f"{label}\u00a0: fichier CSV « ; »")
        csv_import.add_argument("file", type=Path, metavar="FICHIER", help="fichier CSV « ; »")
    for sub in imports.choices.values():
        sub.add_argument("--uai", required=True, help=_UAI)
        sub.add_argument(
            "--dry-run", action="store_true", help="affiche les changements sans écrire"
        )
        sub.add_argument(
            "--allow-departures",
            action="store_true",
            help="applique un import complet qui ferait partir plus d'élèves que le seuil "
            "(EDUCONNECT_IMPORT_DEPARTURE_LIMIT, défaut 20\u00a0%%)",
        )
        sub.add_argument(
            "--report",
            type=Path,
            metavar="FICHIER",
            help="écrit aussi le rapport dans ce fichier (0600)",
        )
        sub.add_argument(
            "--overwrite", action="store_true", help="remplace un fichier de rapport existant"
        )

    school = commands.add_parser("school", help="établissements")
    school_commands = school.add_subparsers(
        dest="school_command",
        metavar="action",
        required=True,
        parser_class=FrenchParser,
        help=_ACTION,
    )
    new_school = school_commands.add_parser("add", help="crée un établissement")
    _school_options(new_school)
    school_commands.add_parser("list", help="liste les établissements de la base")

    notify = commands.add_parser("notify", help="(re)notifie des comptes et écrit les documents")
    notify.add_argument("--uai", required=True, help=_UAI)
    notify.add_argument(
        "--kind", type=_kind, required=True, metavar="TYPE", help="pupils ou guardians"
    )
    add_selection_options(
        notify, states_help="non_notifie, notifie, active (défaut\u00a0: non notifiés et notifiés)"
    )
    notify.add_argument(
        "--channel",
        type=_channel,
        default=NotifyChannel.PAPER,
        metavar="CANAL",
        help="paper (courrier papier, défaut), email (courriel à l'adresse enregistrée) ou "
        "auto (courriel si une adresse est enregistrée, sinon papier)",
    )
    notify.add_argument(
        "--no-reset",
        dest="reset",
        action="store_false",
        help="rappel sans réinitialisation\u00a0: identifiant et moyens d'activer ou de "
        "retrouver le mot de passe, aucun mot de passe ni état modifié",
    )
    notify.add_argument(
        "--no-send",
        dest="send",
        action="store_false",
        help="laisse les courriels dans la boîte d'envoi (educonnect-tui outbox send)",
    )
    notify.add_argument(
        "--pdf",
        type=Path,
        metavar="FICHIER",
        help="fiches à distribuer (PDF, 0600)\u00a0; obligatoire dès que des documents "
        "papier sont produits, sauf avec --dry-run\u00a0; refusé avec --channel email",
    )
    notify.add_argument(
        "--csv",
        type=Path,
        metavar="FICHIER",
        help="liste des comptes notifiés sur papier (CSV, 0600, avec --pdf)",
    )
    notify.add_argument(
        "--overwrite", action="store_true", help="remplace un fichier existant (jamais la base)"
    )
    notify.add_argument(
        "--dry-run",
        action="store_true",
        help="dit combien de comptes seraient notifiés, par état, sans rien modifier",
    )
    notify.add_argument(
        "--activated",
        type=_count,
        metavar="N",
        help="confirme que N comptes déjà activés seront renotifiés (leurs mots de passe "
        "personnels remplacés)\u00a0: N doit être leur nombre exact",
    )

    listing_parser = commands.add_parser(
        "accounts", help="liste les comptes d'un établissement (aucun mot de passe modifié)"
    )
    listing_parser.add_argument("--uai", required=True, help=_UAI)
    listing_parser.add_argument(
        "--kind",
        type=_kind,
        default=AccountKind.PUPIL,
        metavar="TYPE",
        help="pupils ou guardians (défaut\u00a0: pupils)",
    )
    add_selection_options(
        listing_parser,
        states_help="non_notifie, notifie, active, desactive (répétable ; aucun\u00a0: tous)",
    )
    listing_parser.add_argument(
        "--format", choices=["table", "csv", "json"], default="table", help=_FORMAT
    )
    listing_parser.add_argument(
        "--pdf", type=Path, metavar="FICHIER", help="écrit aussi la liste par classe (PDF, 0600)"
    )
    listing_parser.add_argument(
        "--overwrite", action="store_true", help="remplace le fichier --pdf s'il existe"
    )

    stats = commands.add_parser("stats", help="statistiques des comptes d'un établissement")
    stats.add_argument("--uai", required=True, help=_UAI)
    stats.add_argument("--format", choices=["table", "csv", "json"], default="table", help=_FORMAT)

    guardians = commands.add_parser(
        "guardians",
        help="représentants légaux qui ne peuvent pas s'auto-inscrire (CSV pour le secrétariat)",
        description="Les représentants légaux sans mobile pour le SMS d'auto-inscription, "
        "parmi ceux que choisissent les autres options\u00a0; --no-sms-mobile est obligatoire.",
    )
    guardians.add_argument("--uai", required=True, help=_UAI)
    add_selection_options(
        guardians,
        classes_help="classe d'un enfant (répétable ; aucune\u00a0: toutes les classes)",
        states_help="non_notifie, notifie, active, desactive (répétable ; aucun\u00a0: tous)",
    )
    guardians.add_argument(
        "--format", choices=["csv"], default="csv", help="format de sortie (défaut\u00a0: csv)"
    )
    guardians.add_argument(
        "--output",
        type=Path,
        metavar="FICHIER",
        help="fichier écrit (0600, audité ; défaut\u00a0: exports/ du dossier de sortie)",
    )
    guardians.add_argument(
        "--overwrite", action="store_true", help="remplace le fichier --output s'il existe"
    )

    find = commands.add_parser(
        "search", help="cherche un compte dans toute la base (nom, prénom, identifiant)"
    )
    find.add_argument(
        "text",
        nargs="+",
        metavar="TEXTE",
        help="mots cherchés, avec ou sans guillemets\u00a0: « arnaud zoe », « z.arnaud »…",
    )
    find.add_argument(
        "--limit",
        type=_positive,
        default=20,
        metavar="N",
        help="au plus N comptes (défaut\u00a0: 20)",
    )
    find.add_argument("--format", choices=["table", "json"], default="table", help=_FORMAT)

    first_run = commands.add_parser(
        "init",
        help="première installation\u00a0: crée l'établissement et son premier compte de "
        "direction (base vide seulement)",
    )
    _school_options(first_run)
    _person_options(first_run)

    staff = commands.add_parser("staff", help="personnels d'un établissement")
    staff_commands = staff.add_subparsers(
        dest="staff_command",
        metavar="action",
        required=True,
        parser_class=FrenchParser,
        help=_ACTION,
    )
    roster = staff_commands.add_parser("list", help="liste les personnels et leur état")
    roster.add_argument("--uai", required=True, help=_UAI)
    roster.add_argument(
        "--search", default="", metavar="TEXTE", help="nom ou identifiant (accents ignorés)"
    )
    roster.add_argument("--format", choices=["table", "csv", "json"], default="table", help=_FORMAT)
    add = staff_commands.add_parser(
        "add",
        help="ajoute un personnel (affiche une fois son mot de passe provisoire et sa clé OTP)",
    )
    _person_options(add)
    add.add_argument(
        "--role",
        choices=["direction", "agent"],
        required=True,
        help="direction (accorde les délégations) ou agent (agit par délégation)",
    )
    add.add_argument(
        "--uai",
        action="append",
        required=True,
        help="établissement du personnel (répétable\u00a0: le premier est celui qui l'ajoute)",
    )
    for name, words in (
        ("reset-password", "nouveau mot de passe provisoire (affiché une fois)"),
        ("reset-otp", "nouvelle clé OTP (affichée une fois)\u00a0; l'ancienne cesse aussitôt"),
        ("unlock", "lève le blocage après des essais infructueux"),
        ("disable", "désactive le compte et révoque ses délégations"),
        ("enable", "réactive un compte désactivé"),
        ("set-role", "change le rôle (direction ou agent)"),
    ):
        verb = staff_commands.add_parser(name, help=words)
        verb.add_argument("--uai", required=True, help=_UAI)
        verb.add_argument("login", metavar="IDENTIFIANT", help="identifiant du personnel")
        if name == "set-role":
            verb.add_argument("--role", choices=["direction", "agent"], required=True, help="rôle")

    delegate = commands.add_parser("delegate", help="délégations DELEG-CE d'un établissement")
    delegate_commands = delegate.add_subparsers(
        dest="delegate_command",
        metavar="action",
        required=True,
        parser_class=FrenchParser,
        help=_ACTION,
    )
    give = delegate_commands.add_parser("grant", help="accorde un module à un agent")
    give.add_argument("--uai", required=True, help=_UAI)
    give.add_argument(
        "--agent", required=True, metavar="IDENTIFIANT", help="agent qui reçoit la délégation"
    )
    give.add_argument(
        "--module",
        choices=["administration", "depannage"],
        required=True,
        help="administration (notifier, exporter) ou depannage (assistance aux familles)",
    )
    give.add_argument(
        "--class",
        dest="classes",
        action="append",
        default=[],
        metavar="CLASSE",
        help="répétable ; aucune\u00a0: tout l'établissement",
    )
    give.add_argument(
        "--until",
        type=_date,
        metavar="JJ/MM/AAAA",
        help="fin (défaut\u00a0: 31/08 de l'année scolaire)",
    )
    give.add_argument(
        "--by",
        metavar="IDENTIFIANT",
        help="personnel de direction qui accorde (obligatoire s'il y en a plusieurs)",
    )
    take = delegate_commands.add_parser("revoke", help="révoque une délégation")
    take.add_argument("--uai", required=True, help=_UAI)
    take.add_argument(
        "--id", type=int, required=True, metavar="N", help="numéro de la délégation (voir « list »)"
    )
    show = delegate_commands.add_parser("list", help="liste les délégations")
    show.add_argument("--uai", required=True, help=_UAI)
    show.add_argument("--format", choices=["table", "csv", "json"], default="table", help=_FORMAT)

    audit_parser = commands.add_parser("audit", help="journal d'audit (chaîné, en ajout seul)")
    audit_commands = audit_parser.add_subparsers(
        dest="audit_command",
        metavar="action",
        required=True,
        parser_class=FrenchParser,
        help=_ACTION,
    )
    check = audit_commands.add_parser(
        "verify", help="vérifie la chaîne\u00a0: enregistrement modifié ou supprimé"
    )
    check.add_argument("--format", choices=["table", "json"], default="table", help=_FORMAT)
    audit_commands.add_parser(
        "rotate-key",
        help="nouvelle clé de signature et de chiffrement (les anciennes restent pour vérifier)",
    )
    listing = audit_commands.add_parser(
        "list", help="liste les événements, les plus récents d'abord"
    )
    listing.add_argument("--uai", help="établissement (défaut\u00a0: tout le journal)")
    listing.add_argument("--actor", metavar="IDENTIFIANT", help="qui (identifiant ou nom)")
    listing.add_argument(
        "--action", type=_audit_action, metavar="ACTION", help="code (notify, sign_in…) ou libellé"
    )
    listing.add_argument("--account", metavar="IDENTIFIANT", help="compte visé")
    listing.add_argument(
        "--since", type=_date, metavar="JJ/MM/AAAA", help="à partir de ce jour (inclus)"
    )
    listing.add_argument(
        "--until", type=_date, metavar="JJ/MM/AAAA", help="jusqu'à ce jour (inclus)"
    )
    listing.add_argument(
        "--format",
        choices=["table", "csv", "json"],
        default=None,
        help="format de sortie (défaut\u00a0: celui du nom de --output, .csv ou .json, "
        "sinon table)",
    )
    listing.add_argument(
        "--output", type=Path, metavar="FICHIER", help="écrit dans un fichier (0600, audité)"
    )
    listing.add_argument(
        "--overwrite", action="store_true", help="remplace le fichier --output s'il existe"
    )

    outbox = commands.add_parser("outbox", help="courriels en attente d'envoi (SMTP)")
    outbox_commands = outbox.add_subparsers(
        dest="outbox_command",
        metavar="action",
        required=True,
        parser_class=FrenchParser,
        help=_ACTION,
    )
    outbox_commands.add_parser(
        "send",
        help="envoie les courriels dus (EDUCONNECT_SMTP_URL, EDUCONNECT_MAIL_FROM), puis purge",
    )
    queue = outbox_commands.add_parser(
        "list", help="la file des courriels, les plus récents d'abord"
    )
    queue.add_argument(
        "--state",
        choices=["en_attente", "envoi_en_cours", "envoye", "echec", "incertain"],
        help="seulement les courriels dans cet état",
    )
    queue.add_argument("--format", choices=["table", "csv", "json"], default="table", help=_FORMAT)
    queue.add_argument(
        "--limit",
        type=_positive,
        default=100,
        metavar="N",
        help="au plus N courriels (défaut : 100)",
    )
    outbox_commands.add_parser(
        "purge",
        help="efface les textes des courriels terminés depuis EDUCONNECT_OUTBOX_RETENTION_DAYS",
    )
    for name, words in (
        ("resend", "remet en attente des courriels « incertains » (ils seront envoyés)"),
        ("abandon", "classe en échec des courriels « incertains » (jamais renvoyés)"),
    ):
        decide = outbox_commands.add_parser(name, help=words)
        decide.add_argument(
            "ids", type=_positive, nargs="+", metavar="N", help="numéro du courriel (voir « list »)"
        )

    save = commands.add_parser(
        "backup", help="sauvegarde toute la base dans un nouveau fichier (0600, sans les clés)"
    )
    save.add_argument(
        "file",
        type=Path,
        nargs="?",
        metavar="FICHIER",
        help="fichier à créer (jamais remplacé)\u00a0: pg_dump -Fc pour PostgreSQL, copie "
        "SQLite sinon",
    )
    save.add_argument(
        "--folder",
        type=Path,
        metavar="DOSSIER",
        help="au lieu de FICHIER\u00a0: un fichier daté de ce dossier "
        "(educonnect-AAAAMMJJTHHMMSSZ.dump ou .db, en UTC)",
    )
    save.add_argument(
        "--keep",
        type=_positive,
        metavar="N",
        help="avec --folder\u00a0: garde les N sauvegardes datées les plus récentes du dossier "
        "et efface les autres",
    )
    back = commands.add_parser(
        "restore", help="restaure une sauvegarde dans la base configurée, qui doit être vide"
    )
    back.add_argument(
        "file", type=Path, metavar="FICHIER", help="sauvegarde faite par « educonnect-tui backup »"
    )
    doctor = commands.add_parser(
        "doctor", help="vérifie l'installation (base, schéma, droits, clés, dossier, courriel)"
    )
    doctor.add_argument(
        "--smtp",
        action="store_true",
        help="se connecte aussi au relais SMTP (TLS, authentification), sans rien envoyer",
    )

    activate = commands.add_parser("activate", help="parcours d'activation (démonstrations, tests)")
    flows = activate.add_subparsers(
        dest="flow", metavar="parcours", required=True, parser_class=FrenchParser, help=_ACTION
    )
    pupil = flows.add_parser(
        "pupil", help="élève\u00a0: identifiants provisoires + date de naissance"
    )
    pupil.add_argument("--login", required=True, metavar="IDENTIFIANT", help=_LOGIN)
    pupil.add_argument(
        "--birth-date",
        type=_date,
        required=True,
        metavar="JJ/MM/AAAA",
        help="date de naissance de l'élève",
    )
    _password_options(pupil)
    guardian = flows.add_parser(
        "guardian", help="responsable\u00a0: identifiants provisoires + courriel"
    )
    guardian.add_argument("--login", required=True, metavar="IDENTIFIANT", help=_LOGIN)
    guardian.add_argument(
        "--email", required=True, metavar="COURRIEL", help="adresse où recevoir le code"
    )
    _password_options(guardian)
    confirm = flows.add_parser("confirm", help="responsable\u00a0: code reçu par courriel")
    confirm.add_argument("--login", required=True, metavar="IDENTIFIANT", help=_LOGIN)
    confirm.add_argument("--code", required=True, help="code reçu par courriel")
    franceconnect = flows.add_parser("franceconnect", help="responsable\u00a0: via FranceConnect")
    franceconnect.add_argument("--login", required=True, metavar="IDENTIFIANT", help=_LOGIN)
    franceconnect.add_argument(
        "--last-name", required=True, metavar="NOM", help="nom déclaré à FranceConnect"
    )
    franceconnect.add_argument(
        "--first-name", required=True, metavar="PRÉNOM", help="prénom déclaré à FranceConnect"
    )
    serve = commands.add_parser(
        "serve", help="sert l'interface dans un navigateur (derrière un proxy HTTPS)"
    )
    serve.add_argument(
        "--host",
        metavar="ADRESSE",
        help="adresse d'écoute TCP (défaut\u00a0: 127.0.0.1, le proxy est sur la même machine)",
    )
    serve.add_argument("--port", type=_port, help="port d'écoute TCP (défaut\u00a0: 8000)")
    serve.add_argument(
        "--socket",
        type=_socket_path,
        metavar="CHEMIN",
        help="écoute sur une socket Unix (mode 0660) au lieu de TCP\u00a0: "
        "seul le proxy peut s'y connecter (recommandé, ex. /run/educonnect/web.sock)",
    )
    serve.add_argument(
        "--socket-group",
        type=_group,
        metavar="GROUPE",
        help="groupe de la socket, celui du proxy (ex. www-data)",
    )
    serve.add_argument(
        "--public-url",
        type=_public_url,
        metavar="URL",
        help="adresse que tapent les navigateurs, celle du proxy (ex. https://educonnect.example.fr)",
    )
    serve.add_argument(
        "--max-sessions",
        type=_positive,
        default=20,
        metavar="N",
        help="sessions simultanées au plus, un processus chacune (défaut\u00a0: 20)",
    )
    return parser


def _school_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--uai", required=True, help=_UAI)
    parser.add_argument("--name", required=True, metavar="NOM", help="nom de l'établissement")
    parser.add_argument(
        "--type",
        required=True,
        choices=["ecole", "college", "lycee", "lp"],
        help="ecole, college, lycee ou lp (lycée professionnel)",
    )
    parser.add_argument("--academie", default="", metavar="ACADÉMIE", help="académie")
    parser.add_argument("--city", default="", metavar="COMMUNE", help="commune")


def _person_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--first-name", required=True, metavar="PRÉNOM", help="prénom")
    parser.add_argument("--last-name", required=True, metavar="NOM", help="nom")
    parser.add_argument(
        "--title", default="", metavar="FONCTION", help="fonction affichée (ex. CPE)"
    )
    parser.add_argument(
        "--login", metavar="IDENTIFIANT", help="identifiant (défaut\u00a0: formé sur le nom)"
    )


def _password_options(flow: argparse.ArgumentParser) -> None:
    """Passwords are typed at a prompt or piped in, never given as arguments.

    Any local user reads another's arguments (``ps``, ``/proc/PID/cmdline``) and the
    shell keeps them in its history. The old options are still recognised, only to
    refuse them with the way to do it now (``cli.accounts.activation_passwords``).
    """
    flow.add_argument(
        "--password-stdin",
        action="store_true",
        help="lit sur l'entrée standard deux lignes : le mot de passe provisoire, puis le nouveau"
        " (sans cette option, ils sont demandés à l'invite)",
    )
    flow.add_argument("--password", dest="password_in_argv", help=argparse.SUPPRESS)
    flow.add_argument("--new-password", dest="password_in_argv", help=argparse.SUPPRESS)
