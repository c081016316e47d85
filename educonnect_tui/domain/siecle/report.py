"""What an import did, or why it was refused: the report the CLI prints and the TUI shows."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..model import french
from ..model.printable import for_terminal
from ..model.tables import Account, Guardian, Pupil

PUPILS = "pupils"
GUARDIANS = "guardians"
SIECLE = "siecle"  # SIECLE's XML exports: pupils and their guardians together

_SUBJECTS = {PUPILS: "élèves", GUARDIANS: "responsables", SIECLE: "élèves et responsables"}


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str
    file: str = ""  # named when an import reads several files

    def where(self) -> str:
        return f"{self.file}, ligne {self.line}" if self.file else f"ligne {self.line}"


@dataclass(frozen=True)
class ImportReport:
    kind: str
    added: list[str]
    moved: list[str]
    updated: list[str]
    left: list[str]
    reinstated: list[str]
    errors: list[RowError]
    dry_run: bool

    @property
    def changed(self) -> bool:
        return bool(self.added or self.moved or self.updated or self.left or self.reinstated)

    def lines(self) -> list[str]:
        """The summary the CLI prints and the TUI shows, in French.

        Each line is escaped (``model/printable.py``): names already in the database
        from before the import refused control characters are quoted in it.
        """
        return [for_terminal(line) for line in self._lines()]

    def _lines(self) -> list[str]:
        subject = _SUBJECTS[self.kind]
        if self.errors:
            return self._refusal_lines(subject)
        if self.dry_run:
            out = [f"Import des {subject} — simulation\u00a0: rien n'a été enregistré."]
        else:
            out = [f"Import des {subject} enregistré."]
        if not self.changed:
            out.append("Aucun changement.")
            return out
        return out + self._change_lines()

    def _refusal_lines(self, subject: str) -> list[str]:
        what = "élément" if self.kind == SIECLE else "ligne"
        out = [
            f"Import des {subject} refusé\u00a0: {french.count(len(self.errors), what)} en erreur, "
            "aucune modification enregistrée."
        ]
        out.extend(f"  {e.where()}\u00a0: {e.reason}" for e in self.errors)
        return out

    def _change_lines(self) -> list[str]:
        out: list[str] = []
        sections = (
            ("Ajouts", "+", self.added),
            ("Changements de classe", "→", self.moved),
            ("Mises à jour", "~", self.updated),
            ("Départs", "-", self.left),
            ("Réintégrations", "↺", self.reinstated),
        )
        for title, mark, items in sections:
            if items:
                out.append(f"{title}\u00a0: {len(items)}")
                out.extend(f"  {mark} {item}" for item in items)
        return out


@dataclass
class Outcome:
    """The report's lines as they are gathered, and the accounts the audit event names."""

    added: list[str] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)
    reinstated: list[str] = field(default_factory=list)
    touched_accounts: list[Account] = field(default_factory=list)

    def report(self, kind: str, dry_run: bool) -> ImportReport:
        return ImportReport(
            kind=kind,
            added=self.added,
            moved=self.moved,
            updated=self.updated,
            left=self.left,
            reinstated=self.reinstated,
            errors=[],
            dry_run=dry_run,
        )

    def extend(self, other: Outcome) -> None:
        """Another step of the same import (the guardians after the pupils)."""
        self.added += other.added
        self.moved += other.moved
        self.updated += other.updated
        self.left += other.left
        self.reinstated += other.reinstated
        self.touched_accounts += other.touched_accounts

    def counts(self) -> dict[str, int]:
        return {
            "added": len(self.added),
            "moved": len(self.moved),
            "updated": len(self.updated),
            "left": len(self.left),
            "reinstated": len(self.reinstated),
        }


def refused(kind: str, errors: list[RowError], dry_run: bool) -> ImportReport:
    files = list(dict.fromkeys(e.file for e in errors))
    ordered = sorted(errors, key=lambda e: (files.index(e.file), e.line))
    return ImportReport(kind, [], [], [], [], [], ordered, dry_run)


def _name(first: str, last: str) -> str:
    return f"{first} {last}".strip()


def pupil_label(pupil: Pupil) -> str:
    return _name(pupil.first_name, pupil.last_name)


def guardian_label(guardian: Guardian) -> str:
    return f"{guardian.civility} {_name(guardian.first_name, guardian.last_name)}".strip()
