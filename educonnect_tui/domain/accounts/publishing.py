"""Documents that become valid with a transaction: where they may go, what a crash left.

The rules themselves are in ``documents/files.py``; this module gives them what only the
account layer knows: the service's own files (database, key file, technical log: never
replaced by a document) and whether
a lot of documents found after a crash belongs to a transaction that committed (its lot
is in the audit record written by that transaction).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..documents import files
from ..model.tables import AuditAnchor, AuditEvent
from ..store.services import Services

# The audit record's time and the lot's are the same instant; the window only absorbs
# how each backend stores fractions of a second.
_SAME_INSTANT = dt.timedelta(seconds=1)


def check(services: Services, paths: Iterable[Path | None], *, overwrite: bool) -> None:
    """``files.check_targets`` with the service's own files protected (``own_files``)."""
    files.check_targets(paths, overwrite=overwrite, protected=services.own_files())


def publication(services: Services, at: dt.datetime) -> files.Publication:
    """Documents to publish with a transaction at ``at`` (the time its audit record bears)."""
    return files.Publication(at, owner=_owner(services), settled=services.published)


@contextlib.contextmanager
def recorded(
    services: Services, publication: files.Publication, *, overwrite: bool = False
) -> Iterator[Session]:
    """The transaction that records staged documents (the caller writes its audit record
    in the session it is given) and publishes them just before its commit.

    The paths are checked once more there (a file may have appeared since); if anything
    fails the staged files are removed, and once committed the markers are settled: the
    documents exist exactly when their record does.
    """
    try:
        with services.sessions() as session, session.begin():
            yield session
            check(services, publication.paths, overwrite=overwrite)
            publication.publish()
    except BaseException:
        publication.undo()
        raise
    publication.settle()


def sweep(services: Services, paths: Iterable[Path | None]) -> list[Path]:
    """Clear what killed runs left in the folders of ``paths``; the documents removed."""
    folders = [Path(p).parent for p in paths if p is not None]
    return files.sweep(
        folders, lambda lot, at: committed(services, lot, at), owner=_owner(services)
    )


# What the user reads of each document a sweep removed: a kill -9 left it, and its
# transaction (passwords, or the audit record of an export) never committed.
SWEPT = "Supprimé (document d'une opération interrompue, jamais enregistrée)"


def swept_lines(paths: Iterable[Path]) -> list[str]:
    """The lines every notification, slip and export shows of what its sweep removed."""
    return [f"{SWEPT}\u00a0: {path}" for path in paths]


@dataclass(frozen=True)
class Written:
    """One file written; ``swept`` the documents of a killed run its sweep removed."""

    path: Path
    swept: tuple[Path, ...] = ()


def _owner(services: Services) -> str:
    """Which database a marker belongs to: two databases may write to one folder."""
    url = services.engine.url.render_as_string(hide_password=True)
    return hashlib.sha256(url.encode()).hexdigest()[:16]


def committed(services: Services, lot: str, at: dt.datetime) -> bool:
    """Whether the transaction that published lot ``lot`` at ``at`` committed."""
    with services.sessions() as session, session.begin():
        # A writer of the trail still finishing (a commit sent just before its client
        # died) holds the anchor: wait for it, so the answer is final.
        session.execute(select(AuditAnchor.id).where(AuditAnchor.id == 1).with_for_update())
        details = session.scalars(
            select(AuditEvent.details).where(
                AuditEvent.occurred_at.between(at - _SAME_INSTANT, at + _SAME_INSTANT)
            )
        )
        return any(isinstance(d, dict) and d.get("lot") == lot for d in details)
