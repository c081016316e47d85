"""Backups of the database, and their restoration into an empty database.

PostgreSQL is copied by its own tools (``pg_dump -Fc``, restored by ``pg_restore`` in one
transaction), SQLite by its online backup API (a consistent copy of a database in use,
WAL included). Both take the connection from ``EDUCONNECT_DATABASE_URL``: a password it
holds reaches ``pg_dump`` through its environment (``PGPASSWORD``), never its arguments,
which any local user can read.

A backup file is written the way documents are (``documents.files``): created 0600
under a hidden temporary name beside its final one, then linked to that name, which
never replaces a file (one that exists is refused from the start); a failed or
interrupted backup leaves no file under the final name. It holds the staff's password
hashes and sealed OTP secrets, the trail and every account: keep it as the database.

The key file is not in a backup (``Settings.key_path``): a stolen backup then gives
neither the OTP secrets nor the means to forge the trail, and a restored database
needs the key file that signed it, kept apart (README, « Backups »). A restore refuses a
target database holding anything (a table, on either backend): it never merges into
nor replaces a live database. Both are in the audit trail: the backup in the database
copied (after the copy, so the backup does not hold its own record), the restore in
the restored one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import shutil
import sqlite3
import stat
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote

from sqlalchemy import inspect
from sqlalchemy.engine import URL, make_url

from ..documents.files import OutputExists, StagedFile, check_targets
from ..model.errors import DomainError, InvalidInput, os_reason
from ..store import audit, db
from ..store.audit import Actor
from ..store.services import Services

# Long enough for a million accounts on a slow disk; a dump that hangs longer is killed.
TOOL_TIMEOUT_SECONDS = 6 * 3600
_SQLITE_MAGIC = b"SQLite format 3\x00"
_PG_MAGIC = b"PGDMP"


class BackupError(DomainError):
    """The copy could not be made or restored; nothing was left half-written."""


@dataclass(frozen=True)
class BackupDone:
    path: Path
    backend: str
    size: int
    revision: str | None
    pruned: tuple[Path, ...] = ()
    # Files with a dated backup's name that ``--keep`` left, each with why (French).
    spared: tuple[tuple[Path, str], ...] = ()


# The backups ``--folder`` names and ``--keep`` may remove: nothing else is ever deleted.
_DATED = re.compile(r"educonnect-[0-9]{8}T[0-9]{6}Z\.(?:dump|db)")
_MAGIC = {"dump": (_PG_MAGIC, "PostgreSQL (pg_dump -Fc)"), "db": (_SQLITE_MAGIC, "SQLite")}


def dated_path(folder: Path, backend: str, now: dt.datetime) -> Path:
    """``educonnect-20261116T023000Z.dump`` (UTC): names that sort as their dates."""
    suffix = "dump" if backend == "postgresql" else "db"
    return Path(folder) / f"educonnect-{now.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}.{suffix}"


def _not_ours(entry: Path) -> str | None:
    """Why ``entry``, named as a dated backup, is not one this user may delete, or None.

    A name anyone can give: the file must also be a regular one (not a link, which may
    lead anywhere), this user's, and begin as its backend's files do. It is opened
    without following a link and without blocking on a pipe, then checked as opened.
    """
    magic, kind = _MAGIC[entry.suffix.removeprefix(".")]
    try:
        if stat.S_ISLNK(entry.lstat().st_mode):
            return "lien symbolique"
        fd = os.open(entry, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as error:
        return f"illisible\u00a0: {os_reason(error)}"
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return "pas un fichier ordinaire"
        if info.st_uid != os.geteuid():
            return "fichier d'un autre utilisateur"
        head = os.read(fd, len(magic))
    except OSError as error:
        return f"illisible\u00a0: {os_reason(error)}"
    finally:
        os.close(fd)
    if head != magic:
        return f"ne commence pas comme une sauvegarde {kind}"
    return None


def prune(folder: Path, keep: int) -> tuple[tuple[Path, ...], tuple[tuple[Path, str], ...]]:
    """Remove the dated backups of ``folder`` beyond the ``keep`` newest; return those
    removed and the files named like backups that were left, with why.

    Only this user's regular files with a dated backup's name and its backend's first
    bytes count as backups (``_not_ours``); anything else is left and not counted.
    """
    found = []
    spared = []
    for entry in sorted(Path(folder).iterdir()):
        if not _DATED.fullmatch(entry.name):
            continue
        reason = _not_ours(entry)
        if reason is None:
            found.append(entry)
        else:
            spared.append((entry, reason))
    found.sort(key=lambda path: path.name[len("educonnect-") :], reverse=True)
    removed = []
    for old in found[keep:]:
        with contextlib.suppress(FileNotFoundError):
            old.unlink()
            removed.append(old)
    return tuple(removed), tuple(spared)


@dataclass(frozen=True)
class RestoreDone:
    source: Path
    backend: str
    revision: str | None
    events: int


def backend_of(services: Services) -> str:
    return services.engine.dialect.name


def configured_url(services: Services) -> URL:
    """The URL as configured: the engine's has lost its ``options`` (given to the driver
    apart, ``db.make_engine``) and shows no password."""
    return make_url(services.settings.database_url)


def libpq_environment(url: URL, base: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The ``PG*`` variables that connect ``pg_dump``/``pg_restore`` where ``url`` does.

    ``host=/var/run/postgresql`` in the query (a Unix socket, peer authentication) and
    ``options=-csearch_path=...`` are kept; the password goes in ``PGPASSWORD``.
    """
    environment = {k: v for k, v in base.items() if not k.startswith("PG")}
    query = {k: (v if isinstance(v, str) else v[-1]) for k, v in url.query.items()}
    values = {
        "PGHOST": url.host or query.get("host"),
        "PGPORT": str(url.port) if url.port else query.get("port"),
        "PGUSER": url.username or query.get("user"),
        "PGPASSWORD": url.password if url.password is None else str(url.password),
        "PGDATABASE": url.database,
        "PGOPTIONS": query.get("options"),
        "PGSSLMODE": query.get("sslmode"),
        "PGAPPNAME": "educonnect-tui",
    }
    environment.update({k: unquote(v) for k, v in values.items() if v})
    return environment


def _search_path(url: URL) -> str | None:
    """The one schema a URL's ``options=-csearch_path=X`` confines the database to."""
    options = url.query.get("options", "")
    text = options if isinstance(options, str) else " ".join(options)
    for part in text.replace("-c ", "-c").split():
        if part.startswith("-csearch_path="):
            schema = part.removeprefix("-csearch_path=").split(",")[0].strip('"')
            return schema or None
    return None


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"Commande {name} introuvable\u00a0: installez le client PostgreSQL "
            "(paquet postgresql-client, de la version du serveur ou plus récente)."
        )
    return found


def _run(
    command: list[str], environment: dict[str, str], outcome: str, stdout: int | None = None
) -> None:
    try:
        done = subprocess.run(
            command,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=stdout if stdout is not None else subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=TOOL_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise BackupError(
            f"{Path(command[0]).name} n'a pas fini en {TOOL_TIMEOUT_SECONDS // 3600} h\u00a0: "
            "arrêté, rien n'a été écrit."
        ) from error
    if done.returncode != 0:
        # The tool's own words (English, or the server's language): last line only, in
        # the technical log; never the environment, which holds the password.
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        from ..store.logs import log

        log.error(
            "%s a échoué (code %d)\u00a0: %s",
            Path(command[0]).name,
            done.returncode,
            detail[-1] if detail else "",
        )
        last = detail[-1][:300] if detail else f"code {done.returncode}"
        raise BackupError(f"{Path(command[0]).name} a échoué, {outcome} (détail\u00a0: {last})")


def _stage(path: Path) -> tuple[Path, int]:
    """A hidden 0600 file beside ``path``, created for us alone (never an existing one)."""
    try:
        fd, temp = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.educonnect-", suffix=".tmp"
        )
    except OSError as error:
        raise BackupError(
            f"Impossible d'écrire dans {path.parent}\u00a0: {os_reason(error)}."
        ) from error
    os.fchmod(fd, 0o600)
    return Path(temp), fd


def _publish(path: Path, temp: Path, fd: int) -> int:
    """Link the finished copy to ``path`` (never replacing a file); the copy is gone
    on failure, and ``fd`` closed either way."""
    try:
        os.fsync(fd)
        size = os.fstat(fd).st_size
        staged = StagedFile(path, temp, fd, overwrite=False)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    try:
        staged.publish()
    except BaseException:
        staged.discard()
        raise
    return size


def backup(
    services: Services,
    path: Path | None,
    actor: Actor,
    *,
    folder: Path | None = None,
    keep: int | None = None,
) -> BackupDone:
    """Copy the whole database to ``path`` (new, 0600), or to a dated file of ``folder``
    keeping its ``keep`` newest backups; then audit the copy."""
    if path is None:
        if folder is None:
            raise InvalidInput("Indiquez le fichier de la sauvegarde, ou --folder.")
        path = dated_path(folder, backend_of(services), services.clock())
    path = Path(path)
    check_targets([path], protected=services.own_files())
    revision = db.current_revision(services.engine)
    if revision is None:
        raise InvalidInput(
            "La base de données est vide (aucune migration appliquée)\u00a0: rien à sauvegarder."
        )
    backend = backend_of(services)
    temp, fd = _stage(path)
    try:
        if backend == "sqlite":
            _sqlite_copy(services, temp)
        elif backend == "postgresql":
            _pg_dump(configured_url(services), fd)
        else:
            raise BackupError(f"Sauvegarde impossible pour une base {backend}.")
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    size = _publish(path, temp, fd)
    pruned: tuple[Path, ...] = ()
    spared: tuple[tuple[Path, str], ...] = ()
    if folder is not None and keep is not None:
        pruned, spared = prune(path.parent, keep)
    with services.sessions() as session, session.begin():
        audit.record(
            session,
            actor,
            "backup",
            now=services.clock(),
            details={
                "file": audit.file_named(path),
                "backend": backend,
                "bytes": size,
                "revision": revision,
                **({"pruned": len(pruned)} if keep is not None else {}),
            },
        )
    return BackupDone(
        path=path, backend=backend, size=size, revision=revision, pruned=pruned, spared=spared
    )


def _read_only(path: Path) -> str:
    """A URI opening ``path`` read-only, whatever characters its name holds (?, #, %)."""
    return f"file:{quote(str(Path(path).absolute()))}?mode=ro"


def _sqlite_copy(services: Services, temp: Path) -> None:
    source_file = db.sqlite_file(services.settings.database_url)
    if source_file is None:
        raise BackupError("Seule une base SQLite enregistrée dans un fichier se sauvegarde.")
    source = sqlite3.connect(_read_only(source_file), uri=True, timeout=10)
    target = sqlite3.connect(temp)
    try:
        source.backup(target)
        check = target.execute("PRAGMA integrity_check").fetchone()
        if not check or check[0] != "ok":
            raise BackupError("La copie de la base est incohérente\u00a0: rien n'a été écrit.")
        # A copy that stands alone: no -wal file beside it to lose.
        target.execute("PRAGMA journal_mode=DELETE")
    except sqlite3.Error as error:
        raise BackupError(f"Copie SQLite impossible\u00a0: {error}") from error
    finally:
        target.close()
        source.close()


def _pg_dump(url: URL, fd: int) -> None:
    command = [_tool("pg_dump"), "--format=custom", "--no-password"]
    schema = _search_path(url)
    if schema:
        command.append(f"--schema={schema}")
    _run(command, libpq_environment(url), "aucune sauvegarde écrite", stdout=fd)


# --------------------------------------------------------------------------- restore


def backup_kind(path: Path) -> str:
    """``sqlite`` or ``postgresql``: what the file is, from its first bytes."""
    try:
        with path.open("rb") as file:
            head = file.read(len(_SQLITE_MAGIC))
    except FileNotFoundError:
        raise InvalidInput(f"Fichier de sauvegarde « {path} » introuvable.") from None
    except IsADirectoryError:
        raise InvalidInput(f"« {path} » est un dossier, pas une sauvegarde.") from None
    except OSError as error:
        raise InvalidInput(f"Lecture de « {path} » impossible\u00a0: {os_reason(error)}.") from None
    if head.startswith(_SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(_PG_MAGIC):
        return "postgresql"
    raise InvalidInput(
        f"« {path} » n'est pas une sauvegarde d'educonnect-tui (ni SQLite, ni pg_dump -Fc)."
    )


def target_problem(services: Services) -> str | None:
    """Why the configured database may not receive a restore (it holds tables), or None."""
    tables = inspect(services.engine).get_table_names()
    if not tables:
        return None
    return (
        f"la base cible n'est pas vide ({len(tables)} table(s), dont {sorted(tables)[0]})\u00a0: "
        "une restauration ne remplace ni ne complète jamais une base\u00a0; créez une base vide "
        "(PostgreSQL\u00a0: createdb ; SQLite\u00a0: un nouveau chemin) et pointez "
        "EDUCONNECT_DATABASE_URL dessus."
    )


def restore(services: Services, source: Path, actor: Actor) -> RestoreDone:
    """Restore ``source`` into the configured, empty database, then audit it there.

    The key file must already be in place (it is not in the backup): without it the
    restored trail could not be verified nor its OTP secrets opened, and a new one would
    be made that signs nothing of the past.
    """
    source = Path(source)
    kind = backup_kind(source)
    backend = backend_of(services)
    if kind != backend:
        raise InvalidInput(
            f"« {source} » est une sauvegarde {kind}, la base configurée est {backend}\u00a0: "
            "restaurez-la dans une base du même type."
        )
    key = services.settings.key_path
    if not key.is_file():
        raise InvalidInput(
            f"Fichier de clés {key} absent\u00a0: remettez d'abord la copie du fichier de clés "
            "de la base sauvegardée (il n'est pas dans la sauvegarde), 0600, puis relancez."
        )
    problem = target_problem(services)
    if problem:
        raise InvalidInput(f"Restauration refusée\u00a0: {problem}")
    if backend == "sqlite":
        _sqlite_restore(services, source)
    else:
        _pg_restore(configured_url(services), source)
    services.engine.dispose()  # the pool may hold a connection opened before the restore
    revision = db.current_revision(services.engine)
    services.check_keys()
    with services.sessions() as session, session.begin():
        events = audit.verify(session).checked
        audit.record(
            session,
            actor,
            "restore",
            now=services.clock(),
            details={
                "file": audit.file_named(source),
                "backend": backend,
                "revision": revision,
                "events": events,
            },
        )
    return RestoreDone(source=source, backend=backend, revision=revision, events=events)


def _sqlite_restore(services: Services, source: Path) -> None:
    target_file = db.sqlite_file(services.settings.database_url)
    if target_file is None:
        raise BackupError("Seule une base SQLite enregistrée dans un fichier se restaure.")
    services.engine.dispose()
    origin = sqlite3.connect(_read_only(source), uri=True)
    try:
        check = origin.execute("PRAGMA integrity_check").fetchone()
        if not check or check[0] != "ok":
            raise InvalidInput(
                f"« {source} » est une base SQLite abîmée\u00a0: rien n'a été restauré."
            )
        has_schema = origin.execute(
            "SELECT count(*) FROM sqlite_master WHERE name = 'alembic_version'"
        ).fetchone()
        if not has_schema or not has_schema[0]:
            raise InvalidInput(f"« {source} » n'est pas une base d'educonnect-tui.")
        # The target was made 0600 by the engine; the backup API writes it in one
        # transaction, under SQLite's lock.
        target = sqlite3.connect(target_file, timeout=10)
        try:
            if target.execute("SELECT count(*) FROM sqlite_master").fetchone() != (0,):
                raise InvalidInput("Restauration refusée\u00a0: la base cible n'est plus vide.")
            origin.backup(target)
        finally:
            target.close()
    except sqlite3.OperationalError as error:  # the target busy, a disk full...
        raise BackupError(
            f"Restauration SQLite impossible ({error})\u00a0: rien n'a été restauré."
        ) from error
    except sqlite3.DatabaseError as error:  # « malformed », « not a database »
        raise InvalidInput(
            f"« {source} » est une base SQLite abîmée ou incomplète ({error})\u00a0: "
            "rien n'a été restauré."
        ) from error
    finally:
        origin.close()


def _pg_restore(url: URL, source: Path) -> None:
    command = [
        _tool("pg_restore"),
        "--exit-on-error",
        "--single-transaction",
        "--no-password",
        f"--dbname={url.database}",
        str(source),
    ]
    _run(
        command,
        libpq_environment(url),
        "rien n'a été restauré (la sauvegarde est peut-être incomplète ou abîmée)",
    )


__all__ = ["BackupDone", "BackupError", "OutputExists", "RestoreDone", "backup", "restore"]
