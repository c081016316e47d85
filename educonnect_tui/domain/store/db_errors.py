"""Database failures in French: the one place a driver's error becomes a sentence for staff.

The command line and the TUI both end every failure here (``translate``), so a lock
held by another import reads « occupée » on both, never « inaccessible », and no raw
SQLAlchemy or driver text (English, with SQL in it) reaches a terminal. What staff
cannot act on (an unforeseen error, an unreachable server) is written with its
traceback to the technical log (``logs``: the journal or a file) and nowhere else; engines
hide SQL parameters (``db.make_engine``), so that log holds no hash or secret either.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from ..model.errors import (
    ConcurrentModification,
    DatabaseBusy,
    DatabaseUnavailable,
    DomainError,
    UnexpectedError,
    os_cause,
)
from . import logs

T = TypeVar("T")

log = logs.log

BUSY = "La base de données est occupée par une autre opération\u00a0: réessayez dans un instant."
UNREACHABLE = (
    "Base de données inaccessible\u00a0: vérifiez qu'elle est démarrée et joignable "
    "(réglage database_url), puis réessayez."
)
FULL = "Le disque de la base de données est plein : rien n'a été enregistré ; libérez de la place."
READ_ONLY = (
    "La base de données est en lecture seule\u00a0: rien n'a été enregistré ; "
    "vérifiez les droits sur ses fichiers."
)
CONCURRENT = (
    "Quelqu'un d'autre a modifié les mêmes données pendant l'opération\u00a0: "
    "rien n'a été enregistré ; réessayez."
)
FORBIDDEN = (
    "La base de données refuse cette opération au compte qui l'ouvre (droits insuffisants)\u00a0: "
    "rien n'a été modifié ; voir docs/security.md."
)
UNEXPECTED = (
    "Erreur inattendue\u00a0: l'opération n'a pas abouti ; réessayez, et si l'erreur revient, "
    "transmettez le journal technique à l'administrateur."
)

# SQLite's primary result codes (the low byte of the extended code).
_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_READONLY, _SQLITE_FULL = 5, 6, 8, 13
# PostgreSQL: lock_timeout reached, serialization failure, deadlock (the transaction was
# rolled back and can simply run again).
_PG_BUSY = {"55P03", "40001", "40P01"}
_PG_FULL = {"53100"}
_PG_READ_ONLY = {"25006"}
_PG_FORBIDDEN = {"42501"}


def _sqlite_code(error: DBAPIError) -> int | None:
    code = getattr(error.orig, "sqlite_errorcode", None)
    return None if code is None else int(code) & 0xFF


def _sqlstate(error: DBAPIError) -> str | None:
    state = getattr(error.orig, "sqlstate", None)
    return None if state is None else str(state)


def is_busy(error: BaseException) -> bool:
    """Whether ``error`` means another transaction held what we waited for: worth a retry."""
    if not isinstance(error, DBAPIError):
        return False
    if _sqlite_code(error) in (_SQLITE_BUSY, _SQLITE_LOCKED) or _sqlstate(error) in _PG_BUSY:
        return True
    text = str(error.orig).lower()
    return "database is locked" in text or "database table is locked" in text


def _database_error(error: DBAPIError) -> DomainError:
    if is_busy(error):
        return DatabaseBusy(BUSY)
    code, state = _sqlite_code(error), _sqlstate(error)
    if code == _SQLITE_FULL or state in _PG_FULL:
        return DatabaseUnavailable(FULL)
    if code == _SQLITE_READONLY or state in _PG_READ_ONLY:
        return DatabaseUnavailable(READ_ONLY)
    if state in _PG_FORBIDDEN:
        log.error("droits insuffisants", exc_info=error)
        return DatabaseUnavailable(FORBIDDEN)
    if isinstance(error, IntegrityError):
        # Under contention, the same row written twice at once; otherwise a bug: logged.
        log.error("contrainte violée", exc_info=error)
        return ConcurrentModification(CONCURRENT)
    if error.connection_invalidated or state is None or state.startswith(("08", "57P")):
        log.error("base de données inaccessible", exc_info=error)
        return DatabaseUnavailable(UNREACHABLE)
    log.error("erreur de base de données inattendue", exc_info=error)
    return UnexpectedError(UNEXPECTED)


def translate(error: BaseException) -> DomainError:
    """The French error staff read for ``error``, whatever raised it.

    A ``DomainError`` already speaks French and is returned as is; anything else is
    turned into one of the few sentences above, and what staff cannot act on is logged.
    """
    if isinstance(error, DomainError):
        return error
    if isinstance(error, StaleDataError):
        return ConcurrentModification(CONCURRENT)
    if isinstance(error, DBAPIError):
        return _database_error(error)
    if isinstance(error, OSError) and (what := os_cause(error)) is not None:
        where = f"\u00a0: {error.filename}" if error.filename else ""
        return DomainError(f"{what[0].upper()}{what[1:]}{where}.")
    if isinstance(error, OSError):
        log.error("erreur système", exc_info=error)
        where = f" ({error.filename})" if error.filename else ""
        return DomainError(
            f"Erreur du système de fichiers{where}\u00a0: le détail est dans le journal technique."
        )
    log.error("erreur inattendue", exc_info=error)
    return UnexpectedError(UNEXPECTED)


def retrying_when_busy(work: Callable[[], T], attempts: int = 2) -> T:
    """Run ``work`` (one whole transaction) again when the database was busy, then give up.

    Only for work that starts from scratch each time (an import reads its file and the
    database again): a busy database rolled the transaction back, so nothing is doubled.
    """
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except DBAPIError as error:
            if attempt == attempts or not is_busy(error):
                raise
            log.warning("base occupée, nouvel essai (%d/%d)", attempt + 1, attempts)
    raise AssertionError("unreachable")


def log_to(path: Path, *, journal: bool = False) -> None:
    """The technical log's destination, chosen once per process (``logs.log_to``)."""
    logs.log_to(path, journal=journal)
