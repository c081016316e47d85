"""Importing pupils and guardians from the school information system (SIECLE-like CSV).

An import is a snapshot: the file says who is in the school now, and the database is
brought to match it in one transaction. Every row is checked before anything is
written, so a file with a single bad row changes nothing and the staff get the full
list of what to fix, with line numbers, in one go. The exact format is documented in
``docs/import-format.md``.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..accounts.logins import LoginAllocator, guardian_account, pupil_account, refresh_search_text
from ..model.enums import AccountState, PupilStatus
from ..model.errors import InvalidInput
from ..model.identifiers import fold, normalize_ine, normalize_uai
from ..model.states import Event, transition
from ..model.tables import Account, Division, Establishment, Guardian, GuardianLink, Pupil
from ..store import audit, establishments
from ..store.audit import Actor
from ..store.services import Services

PUPILS = "pupils"
GUARDIANS = "guardians"

# Bound IN lists: SQLite and drivers have parameter limits, and smaller lists plan better.
_CHUNK = 500
_T = TypeVar("_T")


# --------------------------------------------------------------------------- report


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str


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
        """The summary the CLI prints and the TUI shows, in French."""
        subject = "élèves" if self.kind == PUPILS else "responsables"
        out: list[str] = []
        if self.errors:
            out.append(
                f"Import des {subject} refusé : {len(self.errors)} ligne(s) en erreur, "
                "aucune modification enregistrée."
            )
            out.extend(f"  ligne {e.line} : {e.reason}" for e in self.errors)
            return out
        if self.dry_run:
            out.append(f"Import des {subject} — simulation : rien n'a été enregistré.")
        else:
            out.append(f"Import des {subject} enregistré.")
        if not self.changed:
            out.append("Aucun changement.")
            return out
        sections = (
            ("Ajouts", "+", self.added),
            ("Changements de classe", "→", self.moved),
            ("Mises à jour", "~", self.updated),
            ("Départs", "-", self.left),
            ("Réintégrations", "↺", self.reinstated),
        )
        for title, mark, items in sections:
            if items:
                out.append(f"{title} : {len(items)}")
                out.extend(f"  {mark} {item}" for item in items)
        return out


@dataclass
class _Outcome:
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

    def counts(self) -> dict[str, int]:
        return {
            "added": len(self.added),
            "moved": len(self.moved),
            "updated": len(self.updated),
            "left": len(self.left),
            "reinstated": len(self.reinstated),
        }


def _refused(kind: str, errors: list[RowError], dry_run: bool) -> ImportReport:
    ordered = sorted(errors, key=lambda e: e.line)
    return ImportReport(kind, [], [], [], [], [], ordered, dry_run)


class _Rollback(Exception):
    """Leaves the transaction without writing, carrying the report out."""

    def __init__(self, report: ImportReport) -> None:
        super().__init__()
        self.report = report


# --------------------------------------------------------------------------- reading


def _decode(raw: bytes, path: Path) -> str:
    """SIECLE exports are cp1252/ISO-8859-1; spreadsheets re-save them as UTF-8 (BOM or not).

    Strict UTF-8 almost never accepts real cp1252 text with accents, so trying it first
    tells the two apart; cp1252 decodes every ISO-8859-1 printable character identically.
    """
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in raw:
        raise InvalidInput(
            f"Fichier {path.name} illisible : fichier binaire ou encodé en UTF-16 "
            "(enregistrez-le en CSV UTF-8 ou Windows-1252)."
        )
    if raw.startswith(codecs.BOM_UTF8):
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise InvalidInput(
                f"Fichier {path.name} illisible : marqué UTF-8 mais octet invalide "
                f"à la position {error.start}."
            ) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError as error:
        raise InvalidInput(
            f"Fichier {path.name} illisible : encodage non reconnu (octet invalide à la "
            f"position {error.start}) ; attendu UTF-8 ou Windows-1252."
        ) from None


def read_table(path: Path) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """The header cells and the data rows keyed by those headers, with their line numbers.

    Line numbers are the file's own (the header is usually line 1), so staff can find a
    rejected row in a text editor or spreadsheet. Blank lines are skipped; missing
    trailing cells read as empty, extra cells are ignored.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InvalidInput(f"Fichier introuvable : {path}") from None
    except IsADirectoryError:
        raise InvalidInput(f"{path} est un dossier, pas un fichier.") from None
    except OSError as error:
        raise InvalidInput(f"Fichier {path} illisible : {error.strerror or error}") from None
    text = _decode(raw, path)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    headers: list[str] | None = None
    rows: list[tuple[int, dict[str, str]]] = []
    previous_end = 0
    try:
        for cells in reader:
            start, previous_end = previous_end + 1, reader.line_num
            stripped = [cell.strip() for cell in cells]
            if not any(stripped):
                continue
            if headers is None:
                headers = stripped
                continue
            row: dict[str, str] = {}
            for index, header in enumerate(headers):
                if header and header not in row:
                    row[header] = stripped[index] if index < len(stripped) else ""
            rows.append((start, row))
    except csv.Error as error:
        raise InvalidInput(
            f"Fichier {path.name} mal formé ligne {reader.line_num} : {error}"
        ) from None
    if headers is None:
        raise InvalidInput(f"Fichier {path.name} vide : ni en-tête ni données.")
    return headers, rows


@dataclass(frozen=True)
class _Column:
    field: str
    label: str  # the canonical French header, used in messages and docs
    aliases: tuple[str, ...] = ()
    required: bool = True


_PUPIL_COLUMNS = (
    _Column("ine", "INE", ("Numéro INE", "N° INE")),
    _Column("last_name", "Nom de famille", ("Nom",)),
    _Column("first_name", "Prénom", ("Prénom 1",)),
    _Column("birth_date", "Date de naissance", ("Date naissance", "Né(e) le")),
    _Column("division", "Division", ("Classe",)),
)

_GUARDIAN_COLUMNS = (
    _Column("key", "Identifiant responsable", ("Id responsable", "Identifiant")),
    _Column("civility", "Civilité", required=False),
    _Column("last_name", "Nom de famille", ("Nom",)),
    _Column("first_name", "Prénom"),
    _Column("relationship", "Lien de parenté", ("Lien",), required=False),
    _Column("legal", "Représentant légal", ("Responsable légal",), required=False),
    _Column("email", "Courriel", ("Email", "E-mail", "Mél", "Adresse électronique"), False),
    _Column("mobile", "Téléphone portable", ("Tél. portable", "Portable"), required=False),
    _Column("address", "Adresse", ("Adresse ligne 1",), required=False),
    _Column("postal_code", "Code postal", required=False),
    _Column("city", "Commune", ("Ville",), required=False),
    _Column("ine", "INE élève", ("INE",)),
)


def _header_key(header: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", fold(header)))


def _resolve_columns(headers: list[str], spec: Sequence[_Column], path: Path) -> dict[str, str]:
    """Which header holds each field: case-, accent- and punctuation-insensitive."""
    by_key: dict[str, str] = {}
    for header in headers:
        by_key.setdefault(_header_key(header), header)
    found: dict[str, str] = {}
    missing: list[str] = []
    for column in spec:
        for name in (column.label, *column.aliases):
            match = by_key.get(_header_key(name))
            if match is not None:
                found[column.field] = match
                break
        else:
            if column.required:
                missing.append(column.label)
    if missing:
        names = ", ".join(f"« {m} »" for m in missing)
        plural = "s" if len(missing) > 1 else ""
        message = f"Fichier {path.name} : colonne{plural} obligatoire{plural} absente{plural} : "
        message += f"{names}. Colonnes trouvées : {' ; '.join(h for h in headers if h)}."
        if len(headers) == 1 and ("," in headers[0] or "\t" in headers[0]):
            message += " Le séparateur doit être le point-virgule « ; »."
        raise InvalidInput(message)
    return found


# --------------------------------------------------------------------------- cell checks


_DATE_RE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_EMAIL_RE = re.compile(r"^[^@\s;,]+@[^@\s;,]+\.[^@\s;,]+$")
_SPACES = re.compile(r"\s+")


def _clean(value: str) -> str:
    return _SPACES.sub(" ", value).strip()


def _name(first: str, last: str) -> str:
    return f"{first} {last}".strip()


class _RowErrors(Exception):
    """Internal: why one cell is rejected."""


class _Checks:
    """Runs every cell check of a row and keeps all the reasons, not just the first."""

    def __init__(self) -> None:
        self.reasons: list[str] = []

    def run(self, check: Callable[..., _T], *args: object) -> _T | None:
        try:
            return check(*args)
        except _RowErrors as error:
            self.reasons.append(str(error))
            return None

    def optional(self, value: str | None, parse: Callable[..., str], *args: object) -> str | None:
        """None when the column is absent: the stored value is then left alone."""
        return None if value is None else self.run(parse, value, *args)


def _text(value: str, what: str, limit: int, required: bool = False) -> str:
    value = _clean(value)
    if required and not value:
        raise _RowErrors(f"{what} manquant")
    if len(value) > limit:
        raise _RowErrors(f"{what} trop long ({len(value)} caractères, {limit} au plus)")
    return value


def _ine(value: str, what: str = "INE") -> str:
    if not value.strip():
        raise _RowErrors(f"{what} manquant")
    try:
        return normalize_ine(value)
    except InvalidInput as error:
        raise _RowErrors(str(error)) from None


def _birth_date(value: str, today: dt.date) -> dt.date:
    value = value.strip()
    if not value:
        raise _RowErrors("date de naissance manquante")
    match = _DATE_RE.match(value)
    if not match:
        raise _RowErrors(f"date de naissance « {value} » invalide : format attendu JJ/MM/AAAA")
    day, month, year = (int(g) for g in match.groups())
    try:
        date = dt.date(year, month, day)
    except ValueError:
        raise _RowErrors(f"date de naissance « {value} » invalide : ce jour n'existe pas") from None
    if year < 1900 or date >= today:
        raise _RowErrors(f"date de naissance « {value} » invalide : date impossible")
    return date


_YES = {"oui", "o", "1", "vrai", "x"}
_NO = {"non", "n", "0", "faux"}


def _legal(value: str) -> bool:
    folded = fold(value.strip())
    if folded in _YES:
        return True
    if folded in _NO:
        return False
    if not folded:
        raise _RowErrors("représentant légal manquant : Oui ou Non")
    raise _RowErrors(f"représentant légal « {value.strip()} » invalide : Oui ou Non")


def _email(value: str) -> str:
    value = value.strip()
    if not value:
        return ""
    if len(value) > 254 or not _EMAIL_RE.match(value):
        raise _RowErrors(f"courriel « {value} » invalide")
    return value


def _mobile(value: str) -> str:
    """Compact form, so the same number written "06 12 34 56 78" or "06.12.34.56.78" is equal."""
    value = value.strip()
    if not value:
        return ""
    compact = re.sub(r"[\s.\-/()]", "", value)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if compact.startswith("+33") and len(compact) == 12:
        compact = "0" + compact[3:]
    if re.fullmatch(r"0\d{9}", compact) or re.fullmatch(r"\+\d{8,15}", compact):
        return compact
    raise _RowErrors(f"téléphone portable « {value} » invalide")


_CIVILITIES = {"m": "M.", "mr": "M.", "monsieur": "M.", "mme": "Mme", "madame": "Mme"}


def _civility(value: str) -> str:
    value = _clean(value)
    known = _CIVILITIES.get(fold(value).rstrip("."))
    if known:
        return known
    if len(value) > 10:
        raise _RowErrors(f"civilité « {value} » invalide")
    return value


def _chunks(items: Sequence[_T]) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


# --------------------------------------------------------------------------- shared


def _deactivate(account: Account, now: dt.datetime) -> bool:
    if account.state is AccountState.DEACTIVATED:
        return False
    account.state = transition(account.kind, account.state, Event.DEACTIVATE)
    account.deactivated_at = now
    return True


def _reinstate(account: Account) -> bool:
    """Back to "non notifié": a letter printed before the owner left must not work again."""
    if account.state is not AccountState.DEACTIVATED:
        return False
    account.state = transition(account.kind, account.state, Event.REINSTATE)
    account.deactivated_at = None
    account.temp_password_hash = None
    account.temp_issued_at = None
    account.temp_expires_at = None
    return True


def _guardians_with_enrolled_pupil(session: Session, guardian_ids: Sequence[int]) -> set[int]:
    found: set[int] = set()
    for chunk in _chunks(guardian_ids):
        found.update(
            session.scalars(
                select(GuardianLink.guardian_id)
                .join(Pupil, Pupil.id == GuardianLink.pupil_id)
                .where(GuardianLink.guardian_id.in_(chunk), Pupil.status == PupilStatus.ENROLLED)
                .distinct()
            )
        )
    return found


def _guardians_of(session: Session, pupil_ids: Sequence[int]) -> list[Guardian]:
    found: dict[int, Guardian] = {}
    for chunk in _chunks(pupil_ids):
        for guardian in session.scalars(
            select(Guardian)
            .join(GuardianLink, GuardianLink.guardian_id == Guardian.id)
            .where(GuardianLink.pupil_id.in_(chunk))
            .options(selectinload(Guardian.account))
        ):
            found[guardian.id] = guardian
    return sorted(found.values(), key=lambda g: (fold(g.last_name), fold(g.first_name), g.id))


def _guardian_label(guardian: Guardian) -> str:
    return f"{guardian.civility} {_name(guardian.first_name, guardian.last_name)}".strip()


def _run(
    services: Services,
    actor: Actor,
    uai: str,
    path: Path,
    kind: str,
    dry_run: bool,
    apply: _Apply,
) -> ImportReport:
    code = normalize_uai(uai)
    headers, rows = read_table(path)
    spec = _PUPIL_COLUMNS if kind == PUPILS else _GUARDIAN_COLUMNS
    columns = _resolve_columns(headers, spec, path)
    if not rows:
        raise InvalidInput(f"Fichier {path.name} sans aucune ligne de données : rien à importer.")
    now = services.clock()
    try:
        with services.sessions() as session, session.begin():
            school = establishments.get_by_uai(session, code)
            outcome = apply(session, school, columns, rows, now)
            if isinstance(outcome, list):
                raise _Rollback(_refused(kind, outcome, dry_run))
            report = outcome.report(kind, dry_run)
            if dry_run:
                raise _Rollback(report)
            session.flush()
            audit.record(
                session,
                actor,
                "import",
                now=now,
                establishment_id=school.id,
                targets=[a.id for a in outcome.touched_accounts],
                details={"kind": kind, "file": path.name, "rows": len(rows), **outcome.counts()},
            )
            return report
    except _Rollback as rollback:
        return rollback.report


class _Apply:
    """Checks every row, then (only if all are good) brings the database in line."""

    def __call__(
        self,
        session: Session,
        school: Establishment,
        columns: dict[str, str],
        rows: list[tuple[int, dict[str, str]]],
        now: dt.datetime,
    ) -> _Outcome | list[RowError]:
        raise NotImplementedError


# --------------------------------------------------------------------------- pupils


@dataclass(frozen=True)
class _PupilRow:
    line: int
    ine: str
    last_name: str
    first_name: str
    birth_date: dt.date
    division: str


def _parse_pupils(
    columns: dict[str, str], rows: list[tuple[int, dict[str, str]]], today: dt.date
) -> tuple[list[_PupilRow], list[RowError]]:
    parsed: list[_PupilRow] = []
    errors: list[RowError] = []
    first_line: dict[str, int] = {}
    for line, cells in rows:
        checks = _Checks()
        reasons = checks.reasons
        check = checks.run
        ine = check(_ine, cells[columns["ine"]])
        last = check(_text, cells[columns["last_name"]], "nom de famille", 200, True)
        first = check(_text, cells[columns["first_name"]], "prénom", 200)
        birth = check(_birth_date, cells[columns["birth_date"]], today)
        division = _clean(cells[columns["division"]])
        if not division:
            reasons.append("classe inconnue : la colonne « Division » est vide")
        elif len(division) > 40:
            reasons.append(f"classe « {division} » invalide : 40 caractères au plus")
        if isinstance(ine, str):
            if ine in first_line:
                reasons.append(f"INE {ine} en double (déjà ligne {first_line[ine]})")
            else:
                first_line[ine] = line
        if reasons:
            errors.append(RowError(line, " ; ".join(reasons)))
            continue
        assert ine is not None and last is not None and first is not None and birth is not None
        parsed.append(_PupilRow(line, ine, last, first, birth, division))
    return parsed, errors


def _pupil_label(pupil: Pupil | _PupilRow) -> str:
    return _name(pupil.first_name, pupil.last_name)


class _PupilImport(_Apply):
    def __call__(
        self,
        session: Session,
        school: Establishment,
        columns: dict[str, str],
        rows: list[tuple[int, dict[str, str]]],
        now: dt.datetime,
    ) -> _Outcome | list[RowError]:
        parsed, errors = _parse_pupils(columns, rows, now.date())
        if errors:
            return errors
        out = _Outcome()
        with session.no_autoflush:
            current = {
                p.ine: p
                for p in session.scalars(
                    select(Pupil)
                    .where(Pupil.establishment_id == school.id)
                    .options(selectinload(Pupil.account), selectinload(Pupil.division))
                )
            }
            elsewhere: dict[str, Pupil] = {}
            unknown = [r.ine for r in parsed if r.ine not in current]
            for chunk in _chunks(unknown):
                for other in session.scalars(
                    select(Pupil)
                    .where(Pupil.ine.in_(chunk))
                    .options(
                        selectinload(Pupil.account),
                        selectinload(Pupil.division),
                        selectinload(Pupil.establishment),
                    )
                ):
                    elsewhere[other.ine] = other
            divisions = {
                d.name: d
                for d in session.scalars(
                    select(Division).where(Division.establishment_id == school.id)
                )
            }
        for name in dict.fromkeys(r.division for r in parsed):
            if name not in divisions:
                divisions[name] = establishments.get_or_create_division(session, school, name)

        allocator = LoginAllocator(session)
        back: list[Pupil] = []
        with session.no_autoflush:
            for row in parsed:
                division = divisions[row.division]
                pupil = current.get(row.ine)
                if pupil is None and row.ine in elsewhere:
                    pupil = elsewhere[row.ine]
                    origin = pupil.establishment.uai
                    pupil.establishment = school
                    was_left = pupil.status is PupilStatus.LEFT
                    pupil.status = PupilStatus.ENROLLED
                    pupil.left_on = None
                    self._apply_row(pupil, row, division)
                    if _reinstate(pupil.account) or was_left:
                        back.append(pupil)
                    out.added.append(
                        f"{_pupil_label(pupil)} ({row.division}) — arrivée de l'établissement "
                        f"{origin}, compte conservé"
                    )
                    out.touched_accounts.append(pupil.account)
                elif pupil is None:
                    pupil = Pupil(
                        establishment=school,
                        ine=row.ine,
                        last_name=row.last_name,
                        first_name=row.first_name,
                        birth_date=row.birth_date,
                        division=division,
                        status=PupilStatus.ENROLLED,
                    )
                    account = pupil_account(pupil, allocator)
                    session.add_all((pupil, account))
                    out.touched_accounts.append(account)
                    out.added.append(f"{_pupil_label(pupil)} ({row.division})")
                elif pupil.status is PupilStatus.LEFT:
                    pupil.status = PupilStatus.ENROLLED
                    pupil.left_on = None
                    self._apply_row(pupil, row, division)
                    _reinstate(pupil.account)
                    back.append(pupil)
                    out.touched_accounts.append(pupil.account)
                    out.reinstated.append(f"{_pupil_label(pupil)} ({row.division})")
                else:
                    old_division = pupil.division.name if pupil.division else "sans classe"
                    before = _pupil_label(pupil)
                    moved, changes = self._apply_row(pupil, row, division)
                    if moved:
                        out.moved.append(f"{_pupil_label(pupil)} : {old_division} → {row.division}")
                    if changes:
                        out.updated.append(f"{before} : {', '.join(changes)}")
                    if moved or changes:
                        out.touched_accounts.append(pupil.account)

            in_file = {r.ine for r in parsed}
            gone = sorted(
                (
                    p
                    for p in current.values()
                    if p.ine not in in_file and p.status is PupilStatus.ENROLLED
                ),
                key=lambda p: (fold(p.last_name), fold(p.first_name), p.ine),
            )
            for pupil in gone:
                pupil.status = PupilStatus.LEFT
                pupil.left_on = now.date()
                _deactivate(pupil.account, now)
                out.touched_accounts.append(pupil.account)
                where = pupil.division.name if pupil.division else "sans classe"
                out.left.append(f"{_pupil_label(pupil)} ({where}) — compte désactivé")

        session.flush()
        self._follow_guardians(session, out, gone, back, now)
        return out

    @staticmethod
    def _apply_row(pupil: Pupil, row: _PupilRow, division: Division) -> tuple[bool, list[str]]:
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
            old = pupil.birth_date.strftime("%d/%m/%Y")
            changes.append(f"date de naissance {old} → {row.birth_date.strftime('%d/%m/%Y')}")
            pupil.birth_date = row.birth_date
        if any(c.startswith(("nom", "prénom")) for c in changes):
            refresh_search_text(pupil.account, pupil.last_name, pupil.first_name)
        return moved, changes

    @staticmethod
    def _follow_guardians(
        session: Session,
        out: _Outcome,
        gone: list[Pupil],
        back: list[Pupil],
        now: dt.datetime,
    ) -> None:
        """A guardian's account lives as long as one of their children is enrolled somewhere."""
        candidates = _guardians_of(session, [p.id for p in gone])
        keep = _guardians_with_enrolled_pupil(session, [g.id for g in candidates])
        for guardian in candidates:
            if guardian.id not in keep and _deactivate(guardian.account, now):
                out.touched_accounts.append(guardian.account)
                out.left.append(
                    f"{_guardian_label(guardian)} (responsable) — plus aucun élève inscrit, "
                    "compte désactivé"
                )
        for guardian in _guardians_of(session, [p.id for p in back]):
            if _reinstate(guardian.account):
                out.touched_accounts.append(guardian.account)
                out.reinstated.append(f"{_guardian_label(guardian)} (responsable)")


def import_pupils(
    services: Services, actor: Actor, uai: str, path: Path, *, dry_run: bool = False
) -> ImportReport:
    """Make the school's pupils match a full SIECLE export (see docs/import-format.md)."""
    return _run(services, actor, uai, path, PUPILS, dry_run, _PupilImport())


# --------------------------------------------------------------------------- guardians


@dataclass(frozen=True)
class _GuardianRow:
    line: int
    key: str
    ine: str
    last_name: str
    first_name: str
    # None: the column is absent from the file, so the stored value is left as it is.
    civility: str | None
    email: str | None  # "" when the cell is empty (clears the stored value)
    mobile: str | None
    address: str | None
    postal_code: str | None
    city: str | None
    relationship: str | None
    legal: bool | None

    def identity(self) -> tuple[object, ...]:
        return (
            self.last_name,
            self.first_name,
            self.civility,
            self.email,
            self.mobile,
            self.address,
            self.postal_code,
            self.city,
        )


_IDENTITY_LABELS = (
    "nom",
    "prénom",
    "civilité",
    "courriel",
    "téléphone portable",
    "adresse",
    "code postal",
    "commune",
)


def _parse_guardians(
    columns: dict[str, str], rows: list[tuple[int, dict[str, str]]]
) -> tuple[list[_GuardianRow], list[RowError]]:
    parsed: list[_GuardianRow] = []
    errors: list[RowError] = []
    first_of_key: dict[str, _GuardianRow] = {}
    first_link: dict[tuple[str, str], int] = {}

    for line, cells in rows:
        checks = _Checks()
        reasons = checks.reasons
        check = checks.run
        optional = checks.optional
        cell = {name: cells[header] for name, header in columns.items()}.get

        key = check(_text, cells[columns["key"]], "identifiant responsable", 64, True)
        last = check(_text, cells[columns["last_name"]], "nom de famille", 200, True)
        first = check(_text, cells[columns["first_name"]], "prénom", 200)
        ine = check(_ine, cells[columns["ine"]], "INE élève")
        civility = optional(cell("civility"), _civility)
        email = optional(cell("email"), _email)
        mobile = optional(cell("mobile"), _mobile)
        address = optional(cell("address"), _text, "adresse", 300)
        postal = optional(cell("postal_code"), _text, "code postal", 10)
        city = optional(cell("city"), _text, "commune", 100)
        relation = optional(cell("relationship"), _text, "lien de parenté", 40)
        legal_cell = cell("legal")
        legal = None if legal_cell is None else check(_legal, legal_cell)
        if reasons:
            errors.append(RowError(line, " ; ".join(reasons)))
            continue
        assert key is not None and ine is not None and last is not None and first is not None
        row = _GuardianRow(
            line=line,
            key=key,
            ine=ine,
            last_name=last,
            first_name=first,
            civility=civility,
            email=email,
            mobile=mobile,
            address=address,
            postal_code=postal,
            city=city,
            relationship=relation,
            legal=legal,
        )
        link = (key, ine)
        if link in first_link:
            errors.append(
                RowError(
                    line,
                    f"lien en double : le responsable {key} est déjà lié à l'élève {ine} "
                    f"ligne {first_link[link]}",
                )
            )
            continue
        first_link[link] = line
        earlier = first_of_key.setdefault(key, row)
        if earlier is not row and earlier.identity() != row.identity():
            differing = [
                label
                for label, a, b in zip(
                    _IDENTITY_LABELS, earlier.identity(), row.identity(), strict=True
                )
                if a != b
            ]
            errors.append(
                RowError(
                    line,
                    f"responsable {key} : {', '.join(differing)} différent(s) de la ligne "
                    f"{earlier.line}",
                )
            )
            continue
        parsed.append(row)
    return parsed, errors


def _load_guardians(session: Session, school: Establishment, keys: Sequence[str]) -> list[Guardian]:
    """The guardians named in the file plus those linked to this school's pupils today."""
    found: dict[int, Guardian] = {}
    options = (selectinload(Guardian.account), selectinload(Guardian.links))
    for chunk in _chunks(keys):
        for guardian in session.scalars(
            select(Guardian).where(Guardian.source_key.in_(chunk)).options(*options)
        ):
            found[guardian.id] = guardian
    linked = (
        select(GuardianLink.guardian_id)
        .join(Pupil, Pupil.id == GuardianLink.pupil_id)
        .where(Pupil.establishment_id == school.id)
    )
    for guardian in session.scalars(
        select(Guardian).where(Guardian.id.in_(linked)).options(*options)
    ):
        found[guardian.id] = guardian
    return list(found.values())


class _GuardianImport(_Apply):
    def __call__(
        self,
        session: Session,
        school: Establishment,
        columns: dict[str, str],
        rows: list[tuple[int, dict[str, str]]],
        now: dt.datetime,
    ) -> _Outcome | list[RowError]:
        parsed, errors = _parse_guardians(columns, rows)
        with session.no_autoflush:
            pupils = {
                p.ine: p
                for p in session.scalars(select(Pupil).where(Pupil.establishment_id == school.id))
            }
        good: list[_GuardianRow] = []
        for row in parsed:
            pupil = pupils.get(row.ine)
            if pupil is None:
                errors.append(
                    RowError(
                        row.line,
                        f"élève inconnu : l'INE {row.ine} n'est pas inscrit dans cet "
                        "établissement (importez d'abord les élèves)",
                    )
                )
            elif pupil.status is not PupilStatus.ENROLLED:
                errors.append(
                    RowError(
                        row.line,
                        f"élève inconnu : {_pupil_label(pupil)} (INE {row.ine}) a quitté "
                        "l'établissement",
                    )
                )
            else:
                good.append(row)
        if errors:
            return errors

        out = _Outcome()
        by_id = {p.id: p for p in pupils.values()}
        groups: dict[str, list[_GuardianRow]] = {}
        for row in good:
            groups.setdefault(row.key, []).append(row)
        with session.no_autoflush:
            known = _load_guardians(session, school, list(groups))
        by_key = {g.source_key: g for g in known}
        allocator = LoginAllocator(session)
        in_file: set[int] = set()
        with session.no_autoflush:
            for key, links in groups.items():
                head = links[0]
                guardian = by_key.get(key)
                children = ", ".join(_pupil_label(pupils[r.ine]) for r in links)
                if guardian is None:
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
                    session.add_all((guardian, account))
                    out.touched_accounts.append(account)
                    for row in links:
                        session.add(
                            GuardianLink(
                                guardian=guardian,
                                pupil=pupils[row.ine],
                                relationship_label=row.relationship or "",
                                legal_guardian=True if row.legal is None else row.legal,
                            )
                        )
                    out.added.append(f"{_guardian_label(guardian)} ({children})")
                    continue
                in_file.add(guardian.id)
                ours = [lk for lk in guardian.links if lk.pupil_id in by_id]
                was_here = bool(ours)
                before = _guardian_label(guardian)
                changes = self._update_identity(guardian, head)
                changes += self._replace_links(session, guardian, ours, links, pupils, by_id)
                if _reinstate(guardian.account):
                    out.reinstated.append(f"{_guardian_label(guardian)} ({children})")
                    out.touched_accounts.append(guardian.account)
                if not was_here:
                    suffix = " — compte existant conservé"
                    out.added.append(f"{_guardian_label(guardian)} ({children}){suffix}")
                    out.touched_accounts.append(guardian.account)
                elif changes:
                    out.updated.append(f"{before} : {', '.join(changes)}")
                    out.touched_accounts.append(guardian.account)

            dropped: list[Guardian] = []
            for guardian in sorted(
                known, key=lambda g: (fold(g.last_name), fold(g.first_name), g.id)
            ):
                if guardian.id in in_file or guardian.source_key in groups:
                    continue
                ours = [lk for lk in guardian.links if lk.pupil_id in by_id]
                if not ours:
                    continue
                for link in ours:
                    session.delete(link)
                dropped.append(guardian)

        session.flush()
        keep = _guardians_with_enrolled_pupil(session, [g.id for g in dropped])
        for guardian in dropped:
            line = f"{_guardian_label(guardian)} : plus lié à aucun élève de l'établissement"
            if guardian.id not in keep and _deactivate(guardian.account, now):
                line += ", compte désactivé"
            out.left.append(line)
            out.touched_accounts.append(guardian.account)
        return out

    @staticmethod
    def _update_identity(guardian: Guardian, row: _GuardianRow) -> list[str]:
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

    @staticmethod
    def _replace_links(
        session: Session,
        guardian: Guardian,
        ours: list[GuardianLink],
        rows: list[_GuardianRow],
        pupils: dict[str, Pupil],
        by_id: dict[int, Pupil],
    ) -> list[str]:
        """This school's links follow the file; links to other schools' pupils are kept."""
        changes: list[str] = []
        existing = {lk.pupil_id: lk for lk in ours}
        wanted = {pupils[r.ine].id: r for r in rows}
        for pupil_id, link in existing.items():
            if pupil_id not in wanted:
                session.delete(link)
                changes.append(f"lien retiré avec {_pupil_label(by_id[pupil_id])}")
        for pupil_id, row in wanted.items():
            link_or_none = existing.get(pupil_id)
            if link_or_none is None:
                session.add(
                    GuardianLink(
                        guardian=guardian,
                        pupil=by_id[pupil_id],
                        relationship_label=row.relationship or "",
                        legal_guardian=True if row.legal is None else row.legal,
                    )
                )
                changes.append(f"lien ajouté avec {_pupil_label(by_id[pupil_id])}")
                continue
            link = link_or_none
            if row.relationship is not None and link.relationship_label != row.relationship:
                link.relationship_label = row.relationship
                changes.append(f"lien de parenté avec {_pupil_label(by_id[pupil_id])}")
            if row.legal is not None and link.legal_guardian != row.legal:
                link.legal_guardian = row.legal
                changes.append(f"représentant légal de {_pupil_label(by_id[pupil_id])}")
        return changes


def import_guardians(
    services: Services, actor: Actor, uai: str, path: Path, *, dry_run: bool = False
) -> ImportReport:
    """Make the guardians of the school's pupils match a SIECLE export.

    Links to pupils of other schools are left alone: one guardian account covers all of
    a guardian's children, possibly across schools (DESIGN.md §1).
    """
    return _run(services, actor, uai, path, GUARDIANS, dry_run, _GuardianImport())


__all__ = [
    "GUARDIANS",
    "PUPILS",
    "ImportReport",
    "RowError",
    "import_guardians",
    "import_pupils",
    "read_table",
]
