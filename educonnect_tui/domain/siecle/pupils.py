"""Importing pupils: the school's enrolment is made to match a full SIECLE export.

Pupils missing from the file have left (their account is deactivated, and their
guardians' once no child of theirs is enrolled anywhere); a pupil known to another school
arrives with the account they already have; a leaver who is back is reinstated.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from ..access.caller import Caller
from ..accounts.logins import (
    LoginAllocator,
    pupil_account,
    refresh_search_of_guardians_of,
    refresh_search_text,
)
from ..model.calendar import date_text
from ..model.enums import PupilStatus
from ..model.identifiers import fold
from ..model.tables import Division, Establishment, Guardian, Pupil
from ..store import establishments
from ..store.services import Services
from . import cells, lookups
from .enrolment import deactivate, reinstate
from .reading import Column, Rows
from .report import PUPILS, ImportReport, Outcome, RowError, guardian_label, pupil_label
from .school_fit import UAI_COLUMN, foreign_rows, merged
from .transaction import run

PUPIL_COLUMNS = (
    Column("ine", "INE", ("Numéro INE", "N° INE")),
    Column("last_name", "Nom de famille", ("Nom",)),
    Column("first_name", "Prénom", ("Prénom 1",)),
    Column("birth_date", "Date de naissance", ("Date naissance", "Né(e) le")),
    Column("division", "Division", ("Classe",)),
    UAI_COLUMN,
)


@dataclass(frozen=True, slots=True)
class PupilRow:
    line: int
    ine: str
    last_name: str
    first_name: str
    birth_date: dt.date
    division: str
    # Given when the file tells it otherwise than by the name (SIECLE's MEF code).
    level: str | None = None


def parse_pupils(
    columns: dict[str, str], rows: Rows, today: dt.date
) -> tuple[list[PupilRow], list[RowError]]:
    parsed: list[PupilRow] = []
    errors: list[RowError] = []
    first_line: dict[str, int] = {}
    for line, values in rows:
        checked = _check_row(
            line, {name: values[header] for name, header in columns.items()}, today, first_line
        )
        if isinstance(checked, RowError):
            errors.append(checked)
        else:
            parsed.append(checked)
    return parsed, errors


def _check_row(
    line: int, values: dict[str, str], today: dt.date, first_line: dict[str, int]
) -> PupilRow | RowError:
    """Every problem of the row; an INE seen earlier in the file is one of them."""
    checks = cells.Checks()
    check = checks.run
    ine = check(cells.ine, values["ine"])
    last = check(cells.name, values["last_name"], "nom de famille", 200, True)
    first = check(cells.name, values["first_name"], "prénom", 200)
    birth = check(cells.birth_date, values["birth_date"], today)
    division = check(cells.division, values["division"])
    if ine is not None:
        if ine in first_line:
            checks.reasons.append(f"INE {ine} en double (déjà ligne {first_line[ine]})")
        else:
            first_line[ine] = line
    if checks.reasons:
        return RowError(line, checks.summary())
    assert ine is not None and last is not None and first is not None and birth is not None
    assert division is not None
    return PupilRow(line, ine, last, first, birth, division)


def _apply_pupils(
    session: Session,
    school: Establishment,
    columns: dict[str, str],
    rows: Rows,
    now: dt.datetime,
    today: dt.date,
) -> Outcome | list[RowError]:
    parsed, errors = parse_pupils(columns, rows, today)
    errors = merged(errors, foreign_rows(school, columns, rows, divisions=True))
    if errors:
        return errors
    return PupilSync(session, school, now, today).apply(parsed)


@dataclass
class PupilSync:
    """Brings the school's pupils in line with rows that are all known to be good.

    The rows go in batches: each batch's pupils are looked up by INE, changed, flushed
    and let go, so a school of 100,000 pupils is never held in memory as objects; the
    pupils who left are found by SQL (the enrolled ones the file does not name).
    """

    session: Session
    school: Establishment
    now: dt.datetime
    today: dt.date
    out: Outcome = field(default_factory=Outcome)
    back: list[int] = field(default_factory=list)  # pupils enrolled again: their guardians too
    renamed: list[int] = field(default_factory=list)  # their guardians' search words follow

    def apply(self, parsed: list[PupilRow]) -> Outcome:
        session = self.session
        self.out.pupils_enrolled = lookups.enrolled_count(session, self.school)
        with session.no_autoflush:
            divisions = lookups.divisions_of(session, self.school)
        self._create_divisions(divisions, parsed)
        allocator = LoginAllocator(session)
        for batch in lookups.chunks(parsed, _BATCH):
            with session.no_autoflush:
                known = lookups.pupils_by_ine(session, [r.ine for r in batch])
                for row in batch:
                    self._apply(row, known.get(row.ine), divisions[row.division], allocator)
            self._settle()
        gone = self._mark_departures({r.ine for r in parsed})
        self.out.pupils_leaving = len(gone)
        self._deactivate_orphaned_guardians(gone)
        self._reinstate_returning_guardians()
        refresh_search_of_guardians_of(session, self.renamed)
        return self.out

    def _apply(
        self, row: PupilRow, pupil: Pupil | None, division: Division, allocator: LoginAllocator
    ) -> None:
        if pupil is None:
            self._enrol(row, division, allocator)
        elif pupil.establishment_id != self.school.id:
            self._arrive(pupil, row, division)
        elif pupil.status is PupilStatus.LEFT:
            self._come_back(pupil, row, division)
        else:
            self._update(pupil, row, division)

    def _settle(self) -> None:
        """Write the batch and let its people go (the outcome keeps their accounts' ids).

        The school and its classes stay: every batch uses them.
        """
        self.session.flush()
        self.out.settle()
        for held in list(self.session.identity_map.values()):
            if not isinstance(held, (Division, Establishment)):
                self.session.expunge(held)

    def _create_divisions(self, divisions: dict[str, Division], parsed: list[PupilRow]) -> None:
        levels = {r.division: r.level for r in parsed}
        for name, level in levels.items():
            if name not in divisions:
                divisions[name] = establishments.get_or_create_division(
                    self.session, self.school, name, level
                )

    def _arrive(self, pupil: Pupil, row: PupilRow, division: Division) -> None:
        """From another school, with the account they already have."""
        origin = pupil.establishment.uai
        pupil.establishment = self.school
        was_left = pupil.status is PupilStatus.LEFT
        pupil.status = PupilStatus.ENROLLED
        pupil.left_on = None
        self._apply_row(pupil, row, division)
        if reinstate(pupil.account) or was_left:
            self.back.append(pupil.id)
        self.out.added.append(
            f"{pupil_label(pupil)} ({row.division}) — arrivée de l'établissement "
            f"{origin}, compte conservé"
        )
        self.out.touched_accounts.append(pupil.account)

    def _enrol(self, row: PupilRow, division: Division, allocator: LoginAllocator) -> None:
        pupil = Pupil(
            establishment_id=self.school.id,
            ine=row.ine,
            last_name=row.last_name,
            first_name=row.first_name,
            birth_date=row.birth_date,
            division_id=division.id,
            status=PupilStatus.ENROLLED,
        )
        account = pupil_account(pupil, allocator)
        self.session.add_all((pupil, account))
        self.out.touched_accounts.append(account)
        self.out.added.append(f"{pupil_label(pupil)} ({row.division})")

    def _come_back(self, pupil: Pupil, row: PupilRow, division: Division) -> None:
        pupil.status = PupilStatus.ENROLLED
        pupil.left_on = None
        self._apply_row(pupil, row, division)
        reinstate(pupil.account)
        self.back.append(pupil.id)
        self.out.touched_accounts.append(pupil.account)
        self.out.reinstated.append(f"{pupil_label(pupil)} ({row.division})")

    def _update(self, pupil: Pupil, row: PupilRow, division: Division) -> None:
        old_division = pupil.division.name if pupil.division else "sans classe"
        before = pupil_label(pupil)
        moved, changes = self._apply_row(pupil, row, division)
        if moved:
            self.out.moved.append(f"{pupil_label(pupil)}\u00a0: {old_division} → {row.division}")
        if changes:
            self.out.updated.append(f"{before}\u00a0: {', '.join(changes)}")
        if moved or changes:
            self.out.touched_accounts.append(pupil.account)

    def _apply_row(self, pupil: Pupil, row: PupilRow, division: Division) -> tuple[bool, list[str]]:
        moved, changes = _apply_row(pupil, row, division)
        if any(c.startswith(("nom", "prénom")) for c in changes):
            self.renamed.append(pupil.id)
        return moved, changes

    def _mark_departures(self, in_file: set[str]) -> list[int]:
        """Enrolled pupils the file no longer lists have left, on the school's today.

        Found by SQL as (id, names) rows, sorted by name for the report, then changed
        batch by batch like the file's rows.
        """
        gone = sorted(
            (
                (fold(last), fold(first), ine, pupil_id)
                for pupil_id, ine, last, first in lookups.enrolled_names(self.session, self.school)
                if ine not in in_file
            )
        )
        ids = [pupil_id for *_, pupil_id in gone]
        for batch in lookups.chunks(ids, _BATCH):
            with self.session.no_autoflush:
                pupils = lookups.pupils_by_id(self.session, batch)
                for pupil_id in batch:
                    pupil = pupils[pupil_id]
                    pupil.status = PupilStatus.LEFT
                    pupil.left_on = self.today
                    deactivate(pupil.account, self.now)
                    self.out.touched_accounts.append(pupil.account)
                    where = pupil.division.name if pupil.division else "sans classe"
                    self.out.left.append(f"{pupil_label(pupil)} ({where}) — compte désactivé")
            self._settle()
        return ids

    def _deactivate_orphaned_guardians(self, gone: list[int]) -> None:
        """A guardian's account lives as long as one of their children is enrolled somewhere."""
        for guardians in self._guardians_of(gone):
            keep = lookups.guardians_with_enrolled_pupil(self.session, [g.id for g in guardians])
            for guardian in guardians:
                if guardian.account is None:  # a contact, not a legal representative
                    continue
                if guardian.id not in keep and deactivate(guardian.account, self.now):
                    self.out.touched_accounts.append(guardian.account)
                    self.out.left.append(
                        f"{guardian_label(guardian)} (responsable) — plus aucun élève inscrit, "
                        "compte désactivé"
                    )
            self._settle()

    def _reinstate_returning_guardians(self) -> None:
        for guardians in self._guardians_of(self.back):
            for guardian in guardians:
                if guardian.account is not None and reinstate(guardian.account):
                    self.out.touched_accounts.append(guardian.account)
                    self.out.reinstated.append(f"{guardian_label(guardian)} (responsable)")
            self._settle()

    def _guardians_of(self, pupil_ids: list[int]) -> Iterator[list[Guardian]]:
        """The guardians of those pupils in name order, a batch at a time, with accounts."""
        ordered = sorted(
            (fold(last), fold(first), guardian_id)
            for guardian_id, last, first in lookups.guardian_names_of(self.session, pupil_ids)
        )
        for batch in lookups.chunks([guardian_id for *_, guardian_id in ordered], _BATCH):
            found = lookups.guardians_by_id(self.session, batch)
            yield [found[guardian_id] for guardian_id in batch]


# Rows applied, flushed and let go at a time: big enough for few queries, small enough
# that a batch's objects weigh a few megabytes.
_BATCH = 1000


def _apply_row(pupil: Pupil, row: PupilRow, division: Division) -> tuple[bool, list[str]]:
    """Assign only what differs, so a re-import leaves rows (and versions) untouched."""
    moved = pupil.division is not division
    if moved:
        pupil.division = division
    changes: list[str] = []
    if pupil.last_name != row.last_name:
        changes.append(f"nom {pupil.last_name} → {row.last_name}")
        pupil.last_name = row.last_name
    if pupil.first_name != row.first_name:
        changes.append(f"prénom {pupil.first_name} → {row.first_name}")
        pupil.first_name = row.first_name
    if pupil.birth_date != row.birth_date:
        old = date_text(pupil.birth_date)
        changes.append(f"date de naissance {old} → {date_text(row.birth_date)}")
        pupil.birth_date = row.birth_date
    if any(c.startswith(("nom", "prénom")) for c in changes):
        refresh_search_text(pupil.account, pupil.last_name, pupil.first_name)
    return moved, changes


def import_pupils(
    services: Services,
    caller: Caller,
    path: Path,
    *,
    dry_run: bool = False,
    allow_departures: bool = False,
) -> ImportReport:
    """Make the school's pupils match a full SIECLE export (README, « Importing school data »).

    More departures than the setting ``import_departure_limit`` allows hold the import
    back (``report.held_back``) unless ``allow_departures``.
    """
    return run(
        services,
        caller,
        path,
        PUPILS,
        PUPIL_COLUMNS,
        dry_run,
        _apply_pupils,
        allow_departures=allow_departures,
    )
