"""Importing SIECLE's XML exports: the pupils and their guardians in one transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.orm import Session

from ..access.caller import Caller
from ..access.permissions import Action, require
from ..model.tables import Establishment
from ..store.services import Services
from . import lookups
from .guardians import GuardianSync
from .pupils import PupilSync
from .report import SIECLE, ImportReport, Outcome, RowError, refused
from .school_fit import misfit_class
from .transaction import run_read
from .xml_reading import Cancel, Progress
from .xml_rows import read_siecle


def import_siecle(
    services: Services,
    caller: Caller,
    paths: Sequence[Path],
    *,
    dry_run: bool,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    allow_departures: bool = False,
) -> ImportReport:
    """Make the school's pupils and guardians match SIECLE's XML exports.

    ``paths`` are the pupils export (root ``BEE_ELEVES``, « ElevesSansAdresses ») and,
    optionally, the guardians export (root ``BEE_RESPONSABLES``,
    « ResponsablesAvecAdresses »), each an ``.xml`` or the ``.zip`` SIECLE hands out, in
    any order: they are told apart by their root element. Both must be the caller's
    school's (``PARAMETRES/UAJ``). The pupils file is a full export: enrolled pupils it
    does not list, or lists with a ``DATE_SORTIE`` before today, have left. Without a
    guardians file, guardians are left as they are.

    Returns the ``ImportReport`` the CSV imports return (kind ``report.SIECLE``): the
    changes, or every refused element (``RowError``: file, line of the element, whom
    it is about and why) and nothing written. ``dry_run`` goes all the way and rolls
    back, so its report is what the import would do. Only legal representatives
    (``RESP_LEGAL`` 1 or 2) get an account; other contacts are kept without one. Logins
    never change and importing the same files again changes nothing.

    A file that cannot be read at all (not XML, a zip bomb, entity declarations, the
    wrong school…) raises ``InvalidInput`` with a French message; ``progress(phase,
    done, total)`` is told the bytes read, and ``cancel()`` returning True stops the
    reading with ``Cancelled``. Nothing is written before every row is checked.
    """
    require(services, caller, Action.IMPORT)
    today = services.time.today(services.clock())
    rows = read_siecle(paths, caller.school.uai, today, progress, cancel)
    if rows.errors:
        return refused(SIECLE, rows.errors, dry_run)

    def apply(
        session: Session, school: Establishment, now: dt.datetime, today: dt.date
    ) -> Outcome | list[RowError]:
        misfits = [
            RowError(row.line, reason, rows.pupils_file)
            for row in rows.pupils
            if (reason := misfit_class(school, row.division, row.level)) is not None
        ]
        if misfits:
            return misfits
        outcome = PupilSync(session, school, now, today).apply(rows.pupils)
        if rows.guardians is not None:
            pupils = lookups.pupil_refs(session, school)
            outcome.extend(GuardianSync(session, school, now, pupils).apply(rows.guardians))
        return outcome

    details: dict[str, object] = {
        "kind": SIECLE,
        "files": rows.files,
        "rows": len(rows.pupils) + len(rows.guardians or ()),
    }
    return run_read(
        services, caller, SIECLE, dry_run, apply, details, allow_departures=allow_departures
    )
