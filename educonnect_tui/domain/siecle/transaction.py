"""One import, one transaction: every row is checked before anything is written.

An import is a snapshot: the file says who is in the school now, and the database is
brought to match it in one transaction. A file with a single bad row changes nothing and
the staff get the full list of what to fix, with line numbers, in one go; a dry run goes
all the way and rolls back, so its report is exactly what a real import would say.

Imports run one at a time across the whole database (``db.serialise_writes``): logins
are unique across schools, and two imports of the same school would each bring the
database to their own file. One that waits too long for another is tried once more,
then told the database is busy; it has written nothing either way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ..access.caller import Caller
from ..access.permissions import Action, require
from ..model.errors import InvalidInput
from ..model.tables import Establishment
from ..store import audit, db, db_errors
from ..store.audit import Actor
from ..store.services import Services
from .reading import Column, Rows, read_table, resolve_columns
from .report import ImportReport, Outcome, RowError, refused

# Checks every row, then (only if all are good) brings the database in line. It is given
# the instant of the import and the school's date at that instant.
Apply = Callable[
    [Session, Establishment, dict[str, str], Rows, dt.datetime, dt.date],
    Outcome | list[RowError],
]
# The same, for rows read beforehand.
ApplyRead = Callable[[Session, Establishment, dt.datetime, dt.date], Outcome | list[RowError]]


class _Rollback(Exception):
    """Leaves the transaction without writing, carrying the report out."""

    def __init__(self, report: ImportReport) -> None:
        super().__init__()
        self.report = report


def run(
    services: Services,
    caller: Caller,
    path: Path,
    kind: str,
    spec: Sequence[Column],
    dry_run: bool,
    apply: Apply,
    *,
    allow_departures: bool = False,
) -> ImportReport:
    """Check, then apply, ``path``; a pupil import over the departure limit is held back.

    Held back (nothing written, ``report.held_back``) unless ``allow_departures``: the
    command line's ``--allow-departures``, the TUI's second confirmation. A dry run is
    never held back; its report says the limit is crossed (``departures_over_limit``).
    """
    require(services, caller, Action.IMPORT)
    headers, rows = read_table(path)
    columns = resolve_columns(headers, spec, path)
    if not rows:
        raise InvalidInput(
            f"Fichier {path.name} sans aucune ligne de données\u00a0: rien à importer."
        )

    def apply_rows(
        session: Session, school: Establishment, now: dt.datetime, today: dt.date
    ) -> Outcome | list[RowError]:
        return apply(session, school, columns, rows, now, today)

    details = {"kind": kind, "file": path.name, "rows": len(rows)}
    return run_read(
        services, caller, kind, dry_run, apply_rows, details, allow_departures=allow_departures
    )


def run_read(
    services: Services,
    caller: Caller,
    kind: str,
    dry_run: bool,
    apply: ApplyRead,
    details: dict[str, object],
    *,
    allow_departures: bool = False,
) -> ImportReport:
    """The transaction of an import whose files are read (``details`` go to the audit).

    The departures guard is here, so that every importer (CSV, SIECLE XML) has it.
    """
    require(services, caller, Action.IMPORT)
    limit = services.settings.import_departure_limit

    def attempt() -> ImportReport:
        now = services.clock()
        today = services.time.today(now)
        try:
            with services.sessions() as session, session.begin():
                db.serialise_writes(session)
                school = session.get_one(Establishment, caller.school.id)
                outcome = apply(session, school, now, today)
                if isinstance(outcome, list):
                    raise _Rollback(refused(kind, outcome, dry_run))
                departures = outcome.departures(limit)
                over = departures is not None and departures.over_limit
                held_back = over and not allow_departures and not dry_run
                report = outcome.report(kind, dry_run, departures, held_back)
                if dry_run or held_back:
                    raise _Rollback(report)
                session.flush()
                outcome.settle()
                recorded = details | outcome.counts()
                if over:
                    recorded["allow_departures"] = True
                _record(session, caller.actor(), now, school, outcome, recorded)
                return report
        except _Rollback as rollback:
            return rollback.report

    try:
        return db_errors.retrying_when_busy(attempt)
    except SQLAlchemyError as error:
        raise db_errors.translate(error) from error


def _record(
    session: Session,
    actor: Actor,
    now: dt.datetime,
    school: Establishment,
    outcome: Outcome,
    details: dict[str, object],
) -> None:
    audit.record(
        session,
        actor,
        "import",
        now=now,
        establishment_id=school.id,
        targets=outcome.touched_ids,
        details=details,
    )
