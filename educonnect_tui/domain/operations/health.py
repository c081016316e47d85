"""``doctor``: what an installation needs, checked one by one, each with what to do.

Every check reads and never writes: a missing SQLite database or key file is reported,
not created (the engine would create the one, ``KeyStore`` the other), and the relay is
only contacted when asked (``smtp=True``: a connection, TLS and login, no message). Run
as the service's user, since modes and owners are judged against the user running it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, func, select, text

from ..mail.smtp import Relay
from ..model.errors import DomainError, os_reason
from ..model.tables import AuditEvent
from ..store import audit, db, keys, logs
from ..store.settings import Settings, config_file

COLON = "\u00a0:"


@dataclass(frozen=True)
class Check:
    """One line of the report: « ✓ what » or « ✗ what : problem → what to do »."""

    ok: bool
    what: str
    problem: str = ""
    advice: str = ""

    def line(self) -> str:
        if self.ok:
            return f"✓ {self.what}" + (f"{COLON} {self.problem}" if self.problem else "")
        advice = f" → {self.advice}" if self.advice else ""
        return f"✗ {self.what}{COLON} {self.problem}{advice}"


def _good(what: str, note: str = "") -> Check:
    return Check(True, what, note)


def _bad(what: str, problem: str, advice: str = "") -> Check:
    return Check(False, what, problem, advice)


def private_file(what: str, path: Path, *, required: bool = True) -> Check:
    """A file only this user reads and writes: a regular file, 0600 or narrower, ours."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        if required:
            return _bad(what, f"{path} absent")
        return _good(what, f"{path} (pas encore créé)")
    except OSError as error:
        return _bad(what, f"{path} illisible ({os_reason(error)})")
    if not stat.S_ISREG(info.st_mode):
        return _bad(what, f"{path} n'est pas un fichier", "indiquez le fichier lui-même")
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        return _bad(what, f"{path} en droits {mode:04o}, lisible par d'autres", f"chmod 600 {path}")
    if info.st_uid != os.geteuid():
        return _bad(
            what,
            f"{path} appartient à l'uid {info.st_uid}, pas à l'utilisateur qui lance le service",
            f"chown {os.geteuid()} {path}, ou lancez doctor sous le compte du service "
            "(sudo -u educonnect)",
        )
    return _good(what, f"{path} (0600)")


def _config() -> Check:
    path = config_file()
    if not path.exists():
        return _good("Fichier de réglages", f"aucun ({path}), réglages de l'environnement seuls")
    return private_file("Fichier de réglages", path)


def _database_files(settings: Settings) -> Iterator[Check]:
    path = db.sqlite_file(settings.database_url)
    if path is None:
        return
    yield private_file("Fichier de la base SQLite", path)
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            yield private_file(f"Fichier {suffix} de la base", side)


def _reachable(settings: Settings) -> tuple[Check, Engine | None]:
    what = "Base de données joignable"
    path = db.sqlite_file(settings.database_url)
    if path is not None and not path.exists():
        return (
            _bad(what, f"{path} introuvable", "educonnect-tui db upgrade (ou init) pour la créer"),
            None,
        )
    engine = db.make_engine(settings.database_url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # whatever the driver says: one French line
        from ..store import db_errors

        engine.dispose()
        return (
            _bad(what, str(db_errors.translate(error)), "vérifiez EDUCONNECT_DATABASE_URL"),
            None,
        )
    url = engine.url
    where = str(path) if path is not None else f"{url.host or 'socket local'}/{url.database}"
    return _good(what, f"{engine.dialect.name}, {where}"), engine


def _migrations(engine: Engine) -> Check:
    what = "Schéma de la base"
    revision = db.current_revision(engine)
    if revision is None:
        return _bad(what, "aucune migration appliquée", "educonnect-tui db upgrade")
    if revision == db.HEAD_REVISION:
        return _good(what, f"à jour (révision {revision})")
    if revision > db.HEAD_REVISION:
        return _bad(
            what,
            f"révision {revision}, plus récente que ce logiciel ({db.HEAD_REVISION})",
            "installez la version d'educonnect-tui qui a migré la base",
        )
    return _bad(
        what, f"révision {revision}, attendue {db.HEAD_REVISION}", "educonnect-tui db upgrade"
    )


def _key_file(settings: Settings, engine: Engine | None) -> Iterator[Check]:
    what = "Fichier de clés du journal"
    path = settings.key_path
    mode_check = private_file(what, path)
    if not mode_check.ok:  # the service refuses such a file too (``keys.read_keyring``)
        yield mode_check
        return
    try:
        ring = keys.read_keyring(path)
    except (DomainError, OSError) as error:
        yield _bad(what, str(error).rstrip("."), "restaurez la copie du fichier de clés")
        return
    yield _good(what, f"{path} (0600, {len(ring.keys)} clé(s))")
    if engine is None or db.current_revision(engine) is None:
        return
    yield from _trail(engine, ring, path)


def _trail(engine: Engine, ring: keys.Keyring, path: Path) -> Iterator[Check]:
    """The keys the trail was signed with are in the file, and its last record verifies."""
    from sqlalchemy.orm import Session

    what = "Journal d'audit et fichier de clés"
    store = keys.KeyStore(path)  # the file exists (just read): nothing is created
    with Session(engine, info=keys.session_info(store)) as session:
        used = set(
            session.scalars(
                select(AuditEvent.key_id).where(AuditEvent.key_id.is_not(None)).distinct()
            )
        )
        missing = sorted(str(k) for k in used if ring.get(str(k)) is None)
        if missing:
            yield _bad(
                what,
                f"clé(s) {', '.join(map(str, missing))} du journal absente(s) du fichier",
                "remettez le fichier de clés de cette base (celui de sa sauvegarde)",
            )
            return
        last = session.scalars(
            select(AuditEvent).where(AuditEvent.key_id.is_not(None)).order_by(AuditEvent.id.desc())
        ).first()
        count = session.scalar(select(func.count()).select_from(AuditEvent)) or 0
        if last is not None:
            from ..model.tables import AuditTarget

            targets = list(
                session.scalars(
                    select(AuditTarget.account_id).where(AuditTarget.event_id == last.id)
                )
            )
            if audit.signed_digest(session, last, targets) != last.hash:
                yield _bad(
                    what,
                    f"le dernier enregistrement (n° {last.id}) ne correspond pas à sa clé",
                    "educonnect-tui audit verify, puis remettez le bon fichier de clés",
                )
                return
        missing_triggers = audit.missing_triggers(session)
        if missing_triggers:
            yield _bad(
                what,
                f"déclencheur(s) absent(s) ou désactivé(s)\u00a0: {', '.join(missing_triggers)}",
                "educonnect-tui db upgrade (en propriétaire du schéma), puis audit verify",
            )
            return
    yield _good(what, f"{count} enregistrement(s), le dernier signé vérifié, déclencheurs en place")


def _log(settings: Settings) -> Check:
    what = "Journal technique"
    if os.environ.get("JOURNAL_STREAM"):
        return _good(what, "journal systemd (JOURNAL_STREAM)")
    if settings.log_to_journal:
        if logs.JOURNAL_SOCKET.is_socket():
            return _good(what, f"journal systemd ({logs.JOURNAL_SOCKET})")
        return _bad(
            what,
            f"EDUCONNECT_LOG_TO_JOURNAL demandé, mais {logs.JOURNAL_SOCKET} absent "
            f"(le journal va dans {settings.log_file})",
            "démarrez systemd-journald, ou retirez ce réglage",
        )
    return private_file(what, settings.log_file, required=False)


def _output_folder(settings: Settings) -> Check:
    what = "Dossier des documents"
    folder = settings.output_dir
    try:
        info = folder.stat()
    except FileNotFoundError:
        return _bad(what, f"{folder} n'existe pas", f"mkdir -m 700 {folder}")
    except OSError as error:
        return _bad(what, f"{folder} illisible ({os_reason(error)})")
    if not stat.S_ISDIR(info.st_mode):
        return _bad(what, f"{folder} n'est pas un dossier", "EDUCONNECT_OUTPUT_DIR")
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        return _bad(
            what,
            f"{folder} en droits {mode:04o}, ouvert à d'autres (les documents portent des "
            "mots de passe)",
            f"chmod 700 {folder}",
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        return _bad(
            what,
            f"{folder} non accessible en écriture à cet utilisateur",
            f"chown {os.geteuid()} {folder}",
        )
    return _good(what, f"{folder} (0700, accessible en écriture)")


def _smtp(settings: Settings, contact: bool) -> Iterator[Check]:
    what = "Courriel (SMTP)"
    server = settings.smtp
    if server is None:
        yield _good(
            what, "non configuré (EDUCONNECT_SMTP_URL vide)\u00a0: notifications sur papier"
        )
        return
    if settings.mail_from is None:
        yield _bad(
            what,
            f"relais {server.where} configuré sans adresse d'expéditeur",
            "réglez EDUCONNECT_MAIL_FROM (ex. ne-pas-repondre@ac-creteil.fr)",
        )
        return
    if not contact:
        yield _good(
            what,
            f"relais {server.where}, expéditeur {settings.mail_from} (non contacté\u00a0: --smtp)",
        )
        return
    relay = Relay(server, timeout=settings.smtp_timeout_seconds)
    try:
        relay.check()
    except DomainError as error:
        yield _bad(what, str(error), "vérifiez EDUCONNECT_SMTP_URL et le relais")
        return
    steps = "connexion et authentification" if server.user else "connexion"
    yield _good(what, f"relais {server.where} joignable ({steps} réussie)")


def run(settings: Settings, *, smtp: bool = False) -> list[Check]:
    """Every check, in the order an administrator fixes them."""
    found: list[Check] = [_config()]
    found.extend(_database_files(settings))
    reachable, engine = _reachable(settings)
    found.append(reachable)
    try:
        if engine is not None:
            found.append(_migrations(engine))
        found.extend(_key_file(settings, engine))
    finally:
        if engine is not None:
            engine.dispose()
    found.append(_log(settings))
    found.append(_output_folder(settings))
    found.extend(_smtp(settings, smtp))
    return found
