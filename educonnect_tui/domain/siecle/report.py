"""What an import did, or why it was refused: the report the CLI prints and the TUI shows."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..model import french
from ..model.french import NBSP, agreed, number
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
class Departures:
    """How many of the school's enrolled pupils a full pupil import would make leave.

    Over ``limit`` (a share, the setting ``import_departure_limit``) the import is held
    back unless confirmed: a file cut short, or another school's, would otherwise
    deactivate a whole school's accounts in one go.
    """

    leaving: int
    enrolled: int
    limit: float

    @property
    def over_limit(self) -> bool:
        # In ten-thousandths, so that 0.3 × 10 is not 3.0000000000000004.
        return self.leaving * 10_000 > round(self.limit * 10_000) * self.enrolled

    def text(self) -> str:
        """« 1 392 départs sur 1 392 élèves inscrits (100 %), au-delà du seuil de 20 % »."""
        share = _percent(self.leaving * 100 / self.enrolled if self.enrolled else 0.0)
        leaving = f"{number(self.leaving)} {agreed(self.leaving, 'départ')}"
        enrolled = f"{number(self.enrolled)} {agreed(self.enrolled, 'élève inscrit')}"
        return (
            f"{leaving} sur {enrolled} ({share}), au-delà du seuil de {_percent(self.limit * 100)}"
        )


def _percent(value: float) -> str:
    shown = f"{value:.1f}".rstrip("0").rstrip(".").replace(".", ",")
    return f"{shown}{NBSP}%"


# The outcomes in the order the report and the TUI's tabs give them: key, singular, plural.
OUTCOMES = (
    ("added", "ajout", "ajouts"),
    ("moved", "changement de classe", "changements de classe"),
    ("updated", "mise à jour", "mises à jour"),
    ("left", "départ", "départs"),
    ("reinstated", "réintégration", "réintégrations"),
    ("rejected", "ligne rejetée", "lignes rejetées"),
)


@dataclass(frozen=True)
class ImportReport:
    """What an import did or would do.

    ``departures`` is set by pupil imports; ``departures_over_limit`` says the import
    needs a confirmation (``allow_departures``), and ``held_back`` that one without it
    was refused, nothing written.
    """

    kind: str
    added: list[str]
    moved: list[str]
    updated: list[str]
    left: list[str]
    reinstated: list[str]
    errors: list[RowError]
    dry_run: bool
    departures: Departures | None = None
    held_back: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.added or self.moved or self.updated or self.left or self.reinstated)

    @property
    def departures_over_limit(self) -> bool:
        return self.departures is not None and self.departures.over_limit

    def counts(self) -> dict[str, int]:
        """Lines per outcome (``OUTCOMES``), rejected rows included."""
        return {
            "added": len(self.added),
            "moved": len(self.moved),
            "updated": len(self.updated),
            "left": len(self.left),
            "reinstated": len(self.reinstated),
            "rejected": len(self.errors),
        }

    def summary(self) -> str:
        """« Bilan : 3 ajouts, 0 changement de classe, …, 0 ligne rejetée. »"""
        counts = self.counts()
        parts = [
            f"{number(counts[key])} {one if abs(counts[key]) < 2 else many}"
            for key, one, many in OUTCOMES
        ]
        return f"Bilan{NBSP}: {', '.join(parts)}."

    def lines(self) -> list[str]:
        """The summary the CLI prints and the TUI shows, in French.

        Each line is escaped (``model/printable.py``): names already in the database
        from before the import refused control characters are quoted in it.
        """
        return [for_terminal(line) for line in self._lines()]

    def _lines(self) -> list[str]:
        subject = _SUBJECTS[self.kind]
        if self.errors:
            return [*self._refusal_lines(subject), self.summary()]
        if self.held_back:
            assert self.departures is not None
            out = [
                f"Import des {subject} refusé{NBSP}: {self.departures.text()}{NBSP}: "
                "rien n'a été enregistré."
            ]
        elif self.dry_run:
            out = [f"Import des {subject} — simulation\u00a0: rien n'a été enregistré."]
        else:
            out = [f"Import des {subject} enregistré."]
        out += self._change_lines() if self.changed else ["Aucun changement."]
        out.append(self.summary())
        if self.dry_run and self.departures is not None and self.departures.over_limit:
            out.append(
                f"Attention{NBSP}: {self.departures.text()}{NBSP}: l'import réel sera "
                "refusé sans confirmation."
            )
        return out

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
    # The accounts changed since the last ``settle``, then their ids (the audit's targets):
    # a large import lets its objects go batch by batch.
    touched_accounts: list[Account] = field(default_factory=list)
    touched_ids: list[int] = field(default_factory=list)
    # Pupil imports: enrolled pupils before it, and how many of them it makes leave.
    pupils_enrolled: int = 0
    pupils_leaving: int | None = None

    def settle(self) -> None:
        """After a flush, when every touched account has its id."""
        self.touched_ids.extend(account.id for account in self.touched_accounts)
        self.touched_accounts.clear()

    def departures(self, limit: float) -> Departures | None:
        if self.pupils_leaving is None:
            return None
        return Departures(self.pupils_leaving, self.pupils_enrolled, limit)

    def report(
        self,
        kind: str,
        dry_run: bool,
        departures: Departures | None = None,
        held_back: bool = False,
    ) -> ImportReport:
        return ImportReport(
            kind=kind,
            added=self.added,
            moved=self.moved,
            updated=self.updated,
            left=self.left,
            reinstated=self.reinstated,
            errors=[],
            dry_run=dry_run,
            departures=departures,
            held_back=held_back,
        )

    def extend(self, other: Outcome) -> None:
        """Another step of the same import (the guardians after the pupils)."""
        self.added += other.added
        self.moved += other.moved
        self.updated += other.updated
        self.left += other.left
        self.reinstated += other.reinstated
        self.touched_accounts += other.touched_accounts
        self.touched_ids += other.touched_ids  # the accounts its batches already wrote

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
