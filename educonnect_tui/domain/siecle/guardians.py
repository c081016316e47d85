"""Importing guardians: the school's pupils' guardians are made to match a SIECLE export.

Links to pupils of other schools are left alone: one guardian account covers all of a
guardian's children, possibly across schools (docs/domain.md, « Accounts and their
kinds »), so a guardian dropped from
this school's file is only deactivated once no child of theirs is enrolled anywhere.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..access.caller import Caller
from ..accounts.logins import LoginAllocator, guardian_account, refresh_search_text
from ..model.enums import PupilStatus
from ..model.identifiers import fold
from ..model.tables import Establishment, Guardian, GuardianLink, Pupil
from ..store.services import Services
from . import lookups
from .enrolment import deactivate, reinstate
from .guardian_rows import GUARDIAN_COLUMNS, GuardianRow, parse_guardians
from .reading import Rows
from .report import GUARDIANS, ImportReport, Outcome, RowError, guardian_label, pupil_label
from .school_fit import foreign_rows, merged
from .transaction import run


def _apply_guardians(
    session: Session,
    school: Establishment,
    columns: dict[str, str],
    rows: Rows,
    now: dt.datetime,
    today: dt.date,
) -> Outcome | list[RowError]:
    parsed, errors = parse_guardians(columns, rows)
    with session.no_autoflush:
        pupils = {
            p.ine: p
            for p in session.scalars(select(Pupil).where(Pupil.establishment_id == school.id))
        }
    errors.extend(e for e in (_unknown_pupil(row, pupils) for row in parsed) if e is not None)
    errors = merged(errors, foreign_rows(school, columns, rows, divisions=False))
    if errors:
        return errors
    return _GuardianSync(session, school, now, pupils).apply(parsed)


def _unknown_pupil(row: GuardianRow, pupils: dict[str, Pupil]) -> RowError | None:
    """Guardians are linked to pupils imported first, and enrolled here."""
    pupil = pupils.get(row.ine)
    if pupil is None:
        return RowError(
            row.line,
            f"élève inconnu : l'INE {row.ine} n'est pas inscrit dans cet "
            "établissement (importez d'abord les élèves)",
        )
    if pupil.status is not PupilStatus.ENROLLED:
        return RowError(
            row.line,
            f"élève inconnu : {pupil_label(pupil)} (INE {row.ine}) a quitté l'établissement",
        )
    return None


@dataclass
class _GuardianSync:
    """Brings the guardians in line with rows that are all known to be good."""

    session: Session
    school: Establishment
    now: dt.datetime
    pupils: dict[str, Pupil]  # this school's, by INE
    out: Outcome = field(default_factory=Outcome)

    def __post_init__(self) -> None:
        self.by_id = {p.id: p for p in self.pupils.values()}

    def apply(self, parsed: list[GuardianRow]) -> Outcome:
        session = self.session
        groups: dict[str, list[GuardianRow]] = {}
        for row in parsed:
            groups.setdefault(row.key, []).append(row)
        with session.no_autoflush:
            known = lookups.guardians_in_play(session, self.school, list(groups))
        by_key = {g.source_key: g for g in known}
        allocator = LoginAllocator(session)
        in_file: set[int] = set()
        with session.no_autoflush:
            for key, links in groups.items():
                guardian = by_key.get(key)
                if guardian is None:
                    self._add(key, links, allocator)
                    continue
                in_file.add(guardian.id)
                self._update(guardian, links)
            dropped = self._unlink_dropped(known, in_file, groups)
        session.flush()
        self._report_dropped(dropped)
        return self.out

    def _children(self, links: list[GuardianRow]) -> str:
        return ", ".join(pupil_label(self.pupils[r.ine]) for r in links)

    def _ours(self, guardian: Guardian) -> list[GuardianLink]:
        """The guardian's links to this school's pupils."""
        return [lk for lk in guardian.links if lk.pupil_id in self.by_id]

    def _add(self, key: str, links: list[GuardianRow], allocator: LoginAllocator) -> None:
        head = links[0]
        guardian = Guardian(
            source_key=key,
            last_name=head.last_name,
            first_name=head.first_name,
            civility=head.civility or "",
            email=head.email or None,
            mobile=head.mobile or None,
            address=head.address or "",
            postal_code=head.postal_code or "",
            city=head.city or "",
        )
        account = guardian_account(guardian, allocator)
        self.session.add_all((guardian, account))
        self.out.touched_accounts.append(account)
        for row in links:
            self.session.add(_new_link(guardian, self.pupils[row.ine], row))
        self.out.added.append(f"{guardian_label(guardian)} ({self._children(links)})")

    def _update(self, guardian: Guardian, links: list[GuardianRow]) -> None:
        """A guardian already known, perhaps only through another school's pupils."""
        ours = self._ours(guardian)
        was_here = bool(ours)
        before = guardian_label(guardian)
        changes = _update_identity(guardian, links[0])
        changes += self._replace_links(guardian, ours, links)
        if reinstate(guardian.account):
            self.out.reinstated.append(f"{guardian_label(guardian)} ({self._children(links)})")
            self.out.touched_accounts.append(guardian.account)
        if not was_here:
            suffix = " — compte existant conservé"
            self.out.added.append(f"{guardian_label(guardian)} ({self._children(links)}){suffix}")
            self.out.touched_accounts.append(guardian.account)
        elif changes:
            self.out.updated.append(f"{before} : {', '.join(changes)}")
            self.out.touched_accounts.append(guardian.account)

    def _replace_links(
        self, guardian: Guardian, ours: list[GuardianLink], rows: list[GuardianRow]
    ) -> list[str]:
        """This school's links follow the file; links to other schools' pupils are kept."""
        changes: list[str] = []
        existing = {lk.pupil_id: lk for lk in ours}
        wanted = {self.pupils[r.ine].id: r for r in rows}
        for pupil_id, link in existing.items():
            if pupil_id not in wanted:
                self.session.delete(link)
                changes.append(f"lien retiré avec {pupil_label(self.by_id[pupil_id])}")
        for pupil_id, row in wanted.items():
            pupil = self.by_id[pupil_id]
            link_or_none = existing.get(pupil_id)
            if link_or_none is None:
                self.session.add(_new_link(guardian, pupil, row))
                changes.append(f"lien ajouté avec {pupil_label(pupil)}")
            else:
                changes += _update_link(link_or_none, pupil, row)
        return changes

    def _unlink_dropped(
        self, known: list[Guardian], in_file: set[int], groups: dict[str, list[GuardianRow]]
    ) -> list[Guardian]:
        """Guardians of this school's pupils absent from the file lose this school's links."""
        dropped: list[Guardian] = []
        for guardian in sorted(known, key=lambda g: (fold(g.last_name), fold(g.first_name), g.id)):
            if guardian.id in in_file or guardian.source_key in groups:
                continue
            ours = self._ours(guardian)
            if not ours:
                continue
            for link in ours:
                self.session.delete(link)
            dropped.append(guardian)
        return dropped

    def _report_dropped(self, dropped: list[Guardian]) -> None:
        """Their account stays while a child of theirs is enrolled in another school."""
        keep = lookups.guardians_with_enrolled_pupil(self.session, [g.id for g in dropped])
        for guardian in dropped:
            line = f"{guardian_label(guardian)} : plus lié à aucun élève de l'établissement"
            if guardian.id not in keep and deactivate(guardian.account, self.now):
                line += ", compte désactivé"
            self.out.left.append(line)
            self.out.touched_accounts.append(guardian.account)


def _new_link(guardian: Guardian, pupil: Pupil, row: GuardianRow) -> GuardianLink:
    return GuardianLink(
        guardian=guardian,
        pupil=pupil,
        relationship_label=row.relationship or "",
        legal_guardian=True if row.legal is None else row.legal,
    )


def _update_link(link: GuardianLink, pupil: Pupil, row: GuardianRow) -> list[str]:
    """Only columns present in the file are compared."""
    changes: list[str] = []
    if row.relationship is not None and link.relationship_label != row.relationship:
        link.relationship_label = row.relationship
        changes.append(f"lien de parenté avec {pupil_label(pupil)}")
    if row.legal is not None and link.legal_guardian != row.legal:
        link.legal_guardian = row.legal
        changes.append(f"représentant légal de {pupil_label(pupil)}")
    return changes


def _update_identity(guardian: Guardian, row: GuardianRow) -> list[str]:
    """Only columns present in the file are compared; the login never changes."""
    changes: list[str] = []
    wanted: list[tuple[str, str, object]] = [
        ("nom", "last_name", row.last_name),
        ("prénom", "first_name", row.first_name),
    ]
    if row.civility is not None:
        wanted.append(("civilité", "civility", row.civility))
    if row.email is not None:
        wanted.append(("courriel", "email", row.email or None))
    if row.mobile is not None:
        wanted.append(("téléphone portable", "mobile", row.mobile or None))
    if row.address is not None:
        wanted.append(("adresse", "address", row.address))
    if row.postal_code is not None:
        wanted.append(("code postal", "postal_code", row.postal_code))
    if row.city is not None:
        wanted.append(("commune", "city", row.city))
    for label, attribute, value in wanted:
        if getattr(guardian, attribute) != value:
            setattr(guardian, attribute, value)
            changes.append(label)
    if {"nom", "prénom"} & set(changes):
        refresh_search_text(guardian.account, guardian.last_name, guardian.first_name)
    return changes


def import_guardians(
    services: Services, caller: Caller, path: Path, *, dry_run: bool = False
) -> ImportReport:
    """Make the guardians of the school's pupils match a SIECLE export.

    Links to pupils of other schools are left alone: one guardian account covers all of
    a guardian's children, possibly across schools (docs/domain.md, « Accounts and their kinds »).
    """
    return run(services, caller, path, GUARDIANS, GUARDIAN_COLUMNS, dry_run, _apply_guardians)
