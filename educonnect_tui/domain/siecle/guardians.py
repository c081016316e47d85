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

from sqlalchemy.orm import Session

from ..access.caller import Caller
from ..accounts.logins import (
    LoginAllocator,
    guardian_account,
    refresh_guardian_search,
    refresh_search_text,
)
from ..model.enums import PupilStatus
from ..model.identifiers import fold
from ..model.tables import Division, Establishment, Guardian, GuardianLink
from ..store.services import Services
from . import lookups
from .enrolment import deactivate, reinstate
from .guardian_rows import GUARDIAN_COLUMNS, GuardianRow, parse_guardians
from .reading import Rows
from .report import GUARDIANS, ImportReport, Outcome, RowError, guardian_label
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
    pupils = lookups.pupil_refs(session, school)
    errors.extend(e for e in (_unknown_pupil(row, pupils) for row in parsed) if e is not None)
    errors = merged(errors, foreign_rows(school, columns, rows, divisions=False))
    if errors:
        return errors
    return GuardianSync(session, school, now, pupils).apply(parsed)


def _unknown_pupil(row: GuardianRow, pupils: dict[str, lookups.PupilRef]) -> RowError | None:
    """Guardians are linked to pupils imported first, and enrolled here."""
    pupil = pupils.get(row.ine)
    if pupil is None:
        return RowError(
            row.line,
            f"élève inconnu\u00a0: l'INE {row.ine} n'est pas inscrit dans cet "
            "établissement (importez d'abord les élèves)",
        )
    if pupil.status is not PupilStatus.ENROLLED:
        return RowError(
            row.line,
            f"élève inconnu\u00a0: {pupil.label} (INE {row.ine}) a quitté l'établissement",
        )
    return None


@dataclass
class GuardianSync:
    """Brings the guardians in line with rows that are all known to be good.

    As for pupils, the guardians go in batches (looked up by identifier, changed, flushed,
    let go), and those the file no longer names are found by SQL; the school's pupils
    are known as rows (``PupilRef``), not objects.
    """

    session: Session
    school: Establishment
    now: dt.datetime
    pupils: dict[str, lookups.PupilRef]  # this school's, by INE
    out: Outcome = field(default_factory=Outcome)

    def __post_init__(self) -> None:
        self.by_id = {p.id: p for p in self.pupils.values()}

    def apply(self, parsed: list[GuardianRow]) -> Outcome:
        session = self.session
        groups: dict[str, list[GuardianRow]] = {}
        for row in parsed:
            groups.setdefault(row.key, []).append(row)
        allocator = LoginAllocator(session)
        for batch in lookups.chunks(list(groups), _BATCH):
            with session.no_autoflush:
                by_key = lookups.guardians_by_key(session, batch)
                for key in batch:
                    guardian = by_key.get(key)
                    if guardian is None:
                        self._add(key, groups[key], allocator)
                    else:
                        self._update(guardian, groups[key], allocator)
            self._settle()
        dropped = self._unlink_dropped(set(groups))
        # The guardians' search words follow their links and names (their children's
        # names are part of them), for those of this school and those it let go.
        linked = [row[0] for row in lookups.linked_guardian_names(session, self.school)]
        refresh_guardian_search(session, [*linked, *dropped])
        return self.out

    def _settle(self) -> None:
        """Write the batch and let its people go; the school and its classes stay."""
        self.session.flush()
        self.out.settle()
        for held in list(self.session.identity_map.values()):
            if not isinstance(held, (Division, Establishment)):
                self.session.expunge(held)

    def _children(self, links: list[GuardianRow]) -> str:
        return ", ".join(self.pupils[r.ine].label for r in links)

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
        self.session.add(guardian)
        for row in links:
            self.session.add(_new_link(guardian, self.pupils[row.ine].id, row))
        suffix = ""
        if is_legal(links):
            account = guardian_account(guardian, allocator)
            self.session.add(account)
            self.out.touched_accounts.append(account)
        else:
            suffix = " — contact, sans compte"
        self.out.added.append(f"{guardian_label(guardian)} ({self._children(links)}){suffix}")

    def _update(
        self, guardian: Guardian, links: list[GuardianRow], allocator: LoginAllocator
    ) -> None:
        """A guardian already known, perhaps only through another school's pupils."""
        ours = self._ours(guardian)
        was_here = bool(ours)
        before = guardian_label(guardian)
        changes = _update_identity(guardian, links[0])
        changes += self._replace_links(guardian, ours, links)
        legal = is_legal(links)
        account = guardian.account
        if legal and account is None:
            account = guardian_account(guardian, allocator)
            self.session.add(account)
            changes.append("compte créé")
        elif (
            not legal
            and account is not None
            and not self._legal_elsewhere(guardian)
            and deactivate(account, self.now)
        ):
            changes.append("compte désactivé (plus représentant légal)")
        if legal and account is not None and reinstate(account):
            self.out.reinstated.append(f"{guardian_label(guardian)} ({self._children(links)})")
            self.out.touched_accounts.append(account)
        if not was_here:
            suffix = " — compte existant conservé" if account else " — contact, sans compte"
            self.out.added.append(f"{guardian_label(guardian)} ({self._children(links)}){suffix}")
        elif changes:
            self.out.updated.append(f"{before}\u00a0: {', '.join(changes)}")
        if (changes or not was_here) and account is not None:
            self.out.touched_accounts.append(account)

    def _legal_elsewhere(self, guardian: Guardian) -> bool:
        """Legal representative of a child enrolled in another school: the account stays."""
        return any(
            link.legal_guardian
            and link.pupil_id not in self.by_id
            and link.pupil.status is PupilStatus.ENROLLED
            for link in guardian.links
        )

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
                changes.append(f"lien retiré avec {self.by_id[pupil_id].label}")
        for pupil_id, row in wanted.items():
            label = self.by_id[pupil_id].label
            link_or_none = existing.get(pupil_id)
            if link_or_none is None:
                self.session.add(_new_link(guardian, pupil_id, row))
                changes.append(f"lien ajouté avec {label}")
            else:
                changes += _update_link(link_or_none, label, row)
        return changes

    def _unlink_dropped(self, in_file: set[str]) -> list[int]:
        """Guardians of this school's pupils absent from the file lose this school's links.

        Their account stays while a child of theirs is enrolled in another school.
        Returns their ids.
        """
        dropped = sorted(
            (fold(last), fold(first), guardian_id)
            for guardian_id, key, last, first in lookups.linked_guardian_names(
                self.session, self.school
            )
            if key not in in_file
        )
        for batch in lookups.chunks([guardian_id for *_, guardian_id in dropped], _BATCH):
            with self.session.no_autoflush:
                guardians = lookups.guardians_by_id(self.session, batch)
                for guardian in guardians.values():
                    for link in self._ours(guardian):
                        self.session.delete(link)
            self.session.flush()
            keep = lookups.guardians_with_enrolled_pupil(self.session, batch)
            for guardian_id in batch:
                guardian = guardians[guardian_id]
                line = (
                    f"{guardian_label(guardian)}\u00a0: plus lié à aucun élève de l'établissement"
                )
                account = guardian.account
                if (
                    account is not None
                    and guardian.id not in keep
                    and deactivate(account, self.now)
                ):
                    line += ", compte désactivé"
                self.out.left.append(line)
                if account is not None:
                    self.out.touched_accounts.append(account)
            self._settle()
        return [guardian_id for *_, guardian_id in dropped]


def is_legal(links: list[GuardianRow]) -> bool:
    """A legal representative of one of the pupils: only they get an account.

    A file without the column says nothing, and everyone it lists is taken as legal.
    """
    return any(row.legal is not False for row in links)


NOT_HERE = "\u00a0: plus lié à aucun élève de l'établissement"

# Guardians applied, flushed and let go at a time (as ``pupils._BATCH``).
_BATCH = 1000


def _new_link(guardian: Guardian, pupil_id: int, row: GuardianRow) -> GuardianLink:
    return GuardianLink(
        guardian=guardian,
        pupil_id=pupil_id,
        relationship_label=row.relationship or "",
        legal_guardian=True if row.legal is None else row.legal,
    )


def _update_link(link: GuardianLink, pupil: str, row: GuardianRow) -> list[str]:
    """Only columns present in the file are compared; ``pupil`` is the child's name."""
    changes: list[str] = []
    if row.relationship is not None and link.relationship_label != row.relationship:
        link.relationship_label = row.relationship
        changes.append(f"lien de parenté avec {pupil}")
    if row.legal is not None and link.legal_guardian != row.legal:
        link.legal_guardian = row.legal
        changes.append(f"représentant légal de {pupil}")
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
    if {"nom", "prénom"} & set(changes) and guardian.account is not None:
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
