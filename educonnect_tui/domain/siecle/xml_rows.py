"""SIECLE's XML records checked and turned into the rows the CSV import applies.

The pupils file lists each pupil (``ELEVE``, keyed by SIECLE's internal ``ELEVE_ID``) and,
further down, the structures each belongs to (``STRUCTURES_ELEVE``: the division, type
``D``, is the class; groups, type ``G``, are not). The guardians file lists people
(``PERSONNE``), their links to pupils by ``ELEVE_ID`` (``RESPONSABLE_ELEVE``) and their
addresses (``ADRESSE``), each in its own section; so both are read whole (one small
record per pupil or person, never the tree) before rows are built. The same cell checks
as the CSV's (``cells.py``) apply; every refusal names the file, the line of the element
and whom it is about.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..model.calendar import parse_date
from ..model.enums import Level
from ..model.errors import InvalidInput
from ..model.printable import excerpt
from . import cells
from .guardian_rows import GuardianRow
from .pupils import PupilRow
from .report import RowError
from .xml_reading import (
    GUARDIANS_ROOT,
    PUPILS_ROOT,
    Cancel,
    Progress,
    Record,
    read_records,
    root_of,
)

# The first three digits of a MEF code, where the division's name tells no level.
_MEF_LEVELS = {
    "100": Level.SIXIEME,
    "101": Level.CINQUIEME,
    "102": Level.QUATRIEME,
    "103": Level.TROISIEME,
    "200": Level.SECONDE,
    "201": Level.PREMIERE,
    "202": Level.TERMINALE,
}


def level_of(division: str, code_mef: str) -> str:
    """The division's level from its name (« 3EME2 »), or else from the pupil's MEF."""
    level = Level.of_division(division)
    if level is Level.OTHER:
        level = _MEF_LEVELS.get(code_mef.strip()[:3], Level.OTHER)
    return level.value


@dataclass(frozen=True)
class SiecleRows:
    """What both files say, checked: rows for the pupils' and the guardians' import."""

    pupils: list[PupilRow]
    guardians: list[GuardianRow] | None  # None: no guardians file was given
    errors: list[RowError]
    files: list[str]
    leavers: int  # pupils the file gives as gone (``DATE_SORTIE`` past): not enrolled
    pupils_file: str = ""  # its name, for what is said of its rows later


def read_siecle(
    paths: Sequence[Path],
    uai: str,
    today: dt.date,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> SiecleRows:
    """Both exports, recognised by their root element, in whatever order they are given."""
    by_root: dict[str, Path] = {}
    for path in paths:
        root = root_of(path)
        if root not in (PUPILS_ROOT, GUARDIANS_ROOT):
            raise InvalidInput(
                f"Fichier {path.name} refusé\u00a0: ce n'est pas un export SIECLE des élèves "
                f"({PUPILS_ROOT}) ni des responsables ({GUARDIANS_ROOT}), son élément "
                f"racine est « {excerpt(root)} »."
            )
        if root in by_root:
            raise InvalidInput(
                f"Fichiers {by_root[root].name} et {path.name} refusés\u00a0: ce sont deux "
                f"exports du même type ({root}) ; donnez un fichier des élèves et un "
                "des responsables."
            )
        by_root[root] = path
    if PUPILS_ROOT not in by_root:
        raise InvalidInput(
            "Le fichier des élèves (ElevesSansAdresses, élément BEE_ELEVES) est nécessaire\u00a0: "
            "le fichier des responsables désigne les élèves par leur identifiant SIECLE."
        )
    pupils = _PupilsFile(by_root[PUPILS_ROOT], uai, today)
    pupils.read(progress, cancel)
    rows, errors = pupils.rows()
    guardian_rows: list[GuardianRow] | None = None
    if GUARDIANS_ROOT in by_root:
        guardians = _GuardiansFile(by_root[GUARDIANS_ROOT], uai, pupils)
        guardians.read(progress, cancel)
        guardian_rows, more = guardians.rows()
        errors += more
    return SiecleRows(
        pupils=rows,
        guardians=guardian_rows,
        errors=errors,
        files=[p.name for p in by_root.values()],
        leavers=len(pupils.leavers),
        pupils_file=by_root[PUPILS_ROOT].name,
    )


def _check_school(path: Path, params: dict[str, str] | None, uai: str) -> None:
    found = (params or {}).get("UAJ", "").strip().upper()
    if not found:
        raise InvalidInput(
            f"Fichier {path.name} refusé\u00a0: il ne dit pas de quel établissement il est "
            "(PARAMETRES/UAJ absent) ; rien n'a été importé."
        )
    if found != uai:
        raise InvalidInput(
            f"Fichier {path.name} refusé\u00a0: c'est l'export de l'établissement "
            f"{excerpt(found, 12)} (PARAMETRES/UAJ), pas de {uai} pour lequel l'import est "
            "demandé ; rien n'a été importé."
        )


def _who(first: str, last: str) -> str:
    name = " ".join(p for p in (cells.clean(first), cells.clean(last)) if p)
    return f" ({excerpt(name)})" if name else ""


# Only what is used is kept of each record: a 100,000-pupil file is held as small rows.
_PUPIL_FIELDS = ("ID_NATIONAL", "NOM_DE_FAMILLE", "NOM_USAGE", "PRENOM", "DATE_NAISS", "CODE_MEF")
_PERSON_FIELDS = (
    "LC_CIVILITE", "NOM_DE_FAMILLE", "NOM", "NOM_USAGE", "PRENOM", "TEL_PORTABLE", "MEL",
    "ADRESSE_ID",
)  # fmt: skip
_ADDRESS_FIELDS = (
    "LIGNE1_ADRESSE", "LIGNE2_ADRESSE", "LIGNE3_ADRESSE", "LIGNE4_ADRESSE", "CODE_POSTAL",
    "LIBELLE_POSTAL", "LL_PAYS",
)  # fmt: skip


def _keep(fields: dict[str, str], names: tuple[str, ...]) -> dict[str, str]:
    return {name: fields[name] for name in names if fields.get(name)}


@dataclass(slots=True)
class _Pupil:
    line: int
    eleve_id: str
    fields: dict[str, str]
    division: str | None = None
    reasons: list[str] = field(default_factory=list)


class _PupilsFile:
    def __init__(self, path: Path, uai: str, today: dt.date) -> None:
        self.path, self.uai, self.today = path, uai, today
        self.params: dict[str, str] | None = None
        self.pupils: dict[str, _Pupil] = {}
        self.leavers: set[str] = set()
        self.errors: list[RowError] = []
        self.ine_of: dict[str, str] = {}  # ELEVE_ID → INE, of the pupils imported
        self.known: set[str] = set()  # every ELEVE_ID of the file, once its rows are made

    def _error(self, line: int, reason: str) -> None:
        self.errors.append(RowError(line, reason, self.path.name))

    def read(self, progress: Progress | None, cancel: Cancel | None) -> None:
        root = (PUPILS_ROOT,)
        read_records(
            self.path,
            {
                (*root, "PARAMETRES"): self._params,
                (*root, "DONNEES", "ELEVES", "ELEVE"): self._pupil,
                (*root, "DONNEES", "STRUCTURES", "STRUCTURES_ELEVE"): self._structures,
            },
            frozenset({"STRUCTURE"}),
            progress,
            cancel,
        )
        _check_school(self.path, self.params, self.uai)

    def _params(self, record: Record) -> None:
        self.params = record.fields
        _check_school(self.path, self.params, self.uai)

    def _pupil(self, record: Record) -> None:
        fields = record.fields
        eleve_id = cells.clean(record.attrs.get("ELEVE_ID", ""))
        who = _who(fields.get("PRENOM", ""), fields.get("NOM_DE_FAMILLE", ""))
        if not eleve_id:
            self._error(record.line, f"élève{who} sans attribut ELEVE_ID")
            return
        if eleve_id in self.pupils or eleve_id in self.leavers:
            self._error(record.line, f"élève {excerpt(eleve_id)}{who}\u00a0: ELEVE_ID en double")
            return
        if _has_left(fields.get("DATE_SORTIE", ""), self.today):
            self.leavers.add(eleve_id)
            return
        self.pupils[eleve_id] = _Pupil(record.line, eleve_id, _keep(fields, _PUPIL_FIELDS))

    def _structures(self, record: Record) -> None:
        eleve_id = cells.clean(record.attrs.get("ELEVE_ID", ""))
        if eleve_id in self.leavers:
            return
        pupil = self.pupils.get(eleve_id)
        if pupil is None:
            self._error(
                record.line,
                f"structures de l'élève {excerpt(eleve_id) or '(ELEVE_ID absent)'}, "
                "absent de la liste des élèves",
            )
            return
        divisions = [
            part.fields.get("CODE_STRUCTURE", "")
            for part in record.parts
            if cells.clean(part.fields.get("TYPE_STRUCTURE", "")).upper() == "D"
        ]
        if len(divisions) > 1:
            names = ", ".join(excerpt(cells.clean(d)) for d in divisions)
            pupil.reasons.append(f"plusieurs divisions ({names})\u00a0: une seule attendue")
        elif divisions:
            pupil.division = divisions[0]

    def rows(self) -> tuple[list[PupilRow], list[RowError]]:
        parsed: list[PupilRow] = []
        first_line: dict[str, int] = {}
        for pupil in self.pupils.values():
            row = self._row(pupil, first_line)
            if row is not None:
                parsed.append(row)
                self.ine_of[pupil.eleve_id] = row.ine
        self.known = set(self.pupils)
        self.pupils.clear()
        return parsed, self.errors

    def _row(self, pupil: _Pupil, first_line: dict[str, int]) -> PupilRow | None:
        fields = pupil.fields
        checks = cells.Checks()
        check = checks.run
        ine = check(cells.ine, fields.get("ID_NATIONAL", ""), "INE (ID_NATIONAL)")
        usage = cells.clean(fields.get("NOM_USAGE", ""))
        last_source = usage or fields.get("NOM_DE_FAMILLE", "")
        last = check(cells.name, last_source, "nom", 200, True)
        first = check(cells.name, fields.get("PRENOM", ""), "prénom", 200)
        birth = check(cells.birth_date, fields.get("DATE_NAISS", ""), self.today)
        division = None
        if pupil.division is None and not pupil.reasons:
            checks.reasons.append("aucune division (STRUCTURE de type D)")
        elif pupil.division is not None:
            division = check(cells.division, pupil.division)
        checks.reasons.extend(pupil.reasons)
        if ine is not None:
            if ine in first_line:
                checks.reasons.append(f"INE {ine} en double (déjà ligne {first_line[ine]})")
            else:
                first_line[ine] = pupil.line
        if checks.reasons:
            who = _who(fields.get("PRENOM", ""), last_source)
            self._error(
                pupil.line, f"élève {excerpt(pupil.eleve_id)}{who}\u00a0: {checks.summary()}"
            )
            return None
        assert ine is not None and last is not None and first is not None
        assert birth is not None and division is not None
        level = level_of(division, fields.get("CODE_MEF", ""))
        return PupilRow(pupil.line, ine, last, first, birth, division, level)


def _has_left(value: str, today: dt.date) -> bool:
    """A leaving date that cannot be read is not taken as a departure: the pupil stays."""
    value = value.strip()
    if not value:
        return False
    try:
        return parse_date(value) < today
    except InvalidInput:
        return False


@dataclass(slots=True)
class _Person:
    line: int
    fields: dict[str, str]


@dataclass(frozen=True, slots=True)
class _Link:
    line: int
    eleve_id: str
    personne_id: str
    legal: str
    relationship: str


class _GuardiansFile:
    def __init__(self, path: Path, uai: str, pupils: _PupilsFile) -> None:
        self.path, self.uai, self.pupils = path, uai, pupils
        self.params: dict[str, str] | None = None
        self.people: dict[str, _Person] = {}
        self.links: list[_Link] = []
        self.addresses: dict[str, dict[str, str]] = {}
        self.errors: list[RowError] = []

    def _error(self, line: int, reason: str) -> None:
        self.errors.append(RowError(line, reason, self.path.name))

    def read(self, progress: Progress | None, cancel: Cancel | None) -> None:
        data = (GUARDIANS_ROOT, "DONNEES")
        read_records(
            self.path,
            {
                (GUARDIANS_ROOT, "PARAMETRES"): self._params,
                (*data, "PERSONNES", "PERSONNE"): self._person,
                (*data, "RESPONSABLES", "RESPONSABLE_ELEVE"): self._link,
                (*data, "ADRESSES", "ADRESSE"): self._address,
            },
            progress=progress,
            cancel=cancel,
        )
        _check_school(self.path, self.params, self.uai)

    def _params(self, record: Record) -> None:
        self.params = record.fields
        _check_school(self.path, self.params, self.uai)

    def _person(self, record: Record) -> None:
        key = cells.clean(record.attrs.get("PERSONNE_ID", ""))
        fields = record.fields
        who = _who(fields.get("PRENOM", ""), _last_name(fields))
        if not key:
            self._error(record.line, f"responsable{who} sans attribut PERSONNE_ID")
        elif key in self.people:
            self._error(
                record.line, f"responsable {excerpt(key)}{who}\u00a0: PERSONNE_ID en double"
            )
        else:
            self.people[key] = _Person(record.line, _keep(fields, _PERSON_FIELDS))

    def _link(self, record: Record) -> None:
        fields = record.fields
        self.links.append(
            _Link(
                line=record.line,
                eleve_id=cells.clean(fields.get("ELEVE_ID", "")),
                personne_id=cells.clean(fields.get("PERSONNE_ID", "")),
                legal=cells.clean(fields.get("RESP_LEGAL", "")),
                relationship=fields.get("CODE_PARENTE", ""),
            )
        )

    def _address(self, record: Record) -> None:
        key = cells.clean(record.attrs.get("ADRESSE_ID", ""))
        if key:
            self.addresses.setdefault(key, _keep(record.fields, _ADDRESS_FIELDS))

    def rows(self) -> tuple[list[GuardianRow], list[RowError]]:
        parsed: list[GuardianRow] = []
        identities: dict[str, _Identity | None] = {}
        seen: dict[tuple[str, str], int] = {}
        for link in self.links:
            row = self._row(link, identities, seen)
            if row is not None:
                parsed.append(row)
        return parsed, self.errors

    def _row(
        self,
        link: _Link,
        identities: dict[str, _Identity | None],
        seen: dict[tuple[str, str], int],
    ) -> GuardianRow | None:
        eleve, person = excerpt(link.eleve_id), excerpt(link.personne_id)
        if link.eleve_id in self.pupils.leavers:
            return None  # a pupil who has left: their guardians are not this school's
        if link.eleve_id not in self.pupils.known:
            self._error(
                link.line,
                f"lien du responsable {person} avec l'élève {eleve or '(ELEVE_ID absent)'}, "
                "inconnu du fichier des élèves",
            )
            return None
        ine = self.pupils.ine_of.get(link.eleve_id)
        if link.personne_id not in self.people:
            self._error(
                link.line,
                f"lien de l'élève {eleve} avec le responsable "
                f"{person or '(PERSONNE_ID absent)'}, absent de la liste des personnes",
            )
            return None
        if link.personne_id not in identities:
            identities[link.personne_id] = self._identity(link.personne_id)
        identity = identities[link.personne_id]
        checks = cells.Checks()
        legal = checks.run(_legal, link.legal)
        relationship = checks.run(cells.text, link.relationship, "lien de parenté", 40)
        pair = (link.personne_id, link.eleve_id)
        if pair in seen:
            checks.reasons.append(f"lien en double (déjà ligne {seen[pair]})")
        seen.setdefault(pair, link.line)
        if checks.reasons:
            self._error(
                link.line,
                f"lien du responsable {person} avec l'élève {eleve}\u00a0: {checks.summary()}",
            )
            return None
        if identity is None or ine is None:
            return None  # the person or the pupil is refused already, with their reasons
        assert legal is not None and relationship is not None
        return GuardianRow(
            line=link.line,
            key=link.personne_id,
            ine=ine,
            last_name=identity.last_name,
            first_name=identity.first_name,
            civility=identity.civility,
            email=identity.email,
            mobile=identity.mobile,
            address=identity.address,
            postal_code=identity.postal_code,
            city=identity.city,
            relationship=relationship,
            legal=legal,
        )

    def _identity(self, key: str) -> _Identity | None:
        """The person's checked identity, or None with the reasons reported once."""
        person = self.people[key]
        fields = person.fields
        checks = cells.Checks()
        check = checks.run
        last = check(cells.name, _last_name(fields), "nom", 200, True)
        first = check(cells.name, fields.get("PRENOM", ""), "prénom", 200)
        civility = check(cells.civility, fields.get("LC_CIVILITE", ""))
        email = check(cells.email, fields.get("MEL", ""))
        mobile = check(cells.mobile, fields.get("TEL_PORTABLE", ""))
        address_id = cells.clean(fields.get("ADRESSE_ID", ""))
        where: dict[str, str] = {}
        if address_id:
            found = self.addresses.get(address_id)
            if found is None:
                checks.reasons.append(f"adresse {excerpt(address_id)} absente du fichier")
            else:
                where = found
        address = check(cells.text, _street(where), "adresse", 300)
        postal = check(cells.text, where.get("CODE_POSTAL", ""), "code postal", 10)
        city = check(cells.text, _city(where), "commune", 100)
        if checks.reasons:
            who = _who(fields.get("PRENOM", ""), _last_name(fields))
            self._error(person.line, f"responsable {excerpt(key)}{who}\u00a0: {checks.summary()}")
            return None
        assert last is not None and first is not None and civility is not None
        assert email is not None and mobile is not None and address is not None
        assert postal is not None and city is not None
        return _Identity(last, first, civility, email, mobile, address, postal, city)


@dataclass(frozen=True, slots=True)
class _Identity:
    last_name: str
    first_name: str
    civility: str
    email: str
    mobile: str
    address: str
    postal_code: str
    city: str


def _last_name(fields: dict[str, str]) -> str:
    """The usage name when there is one; older exports call the family name ``NOM``."""
    usage = cells.clean(fields.get("NOM_USAGE", ""))
    return usage or fields.get("NOM_DE_FAMILLE", "") or fields.get("NOM", "")


def _street(address: dict[str, str]) -> str:
    lines = (cells.clean(address.get(f"LIGNE{n}_ADRESSE", "")) for n in range(1, 5))
    return ", ".join(line for line in lines if line)


def _city(address: dict[str, str]) -> str:
    """The country only when it is not France: a letter abroad needs it."""
    city = cells.clean(address.get("LIBELLE_POSTAL", ""))
    country = cells.clean(address.get("LL_PAYS", ""))
    if country and country.upper() != "FRANCE":
        return f"{city} ({country})" if city else country
    return city


def _legal(value: str) -> bool:
    """``RESP_LEGAL``: 1 or 2, a legal representative; 0, another contact of the pupil."""
    if value in ("1", "2"):
        return True
    if value == "0":
        return False
    if not value:
        raise cells.CellError("RESP_LEGAL manquant\u00a0: 0, 1 ou 2")
    raise cells.CellError(f"RESP_LEGAL « {excerpt(value)} » invalide\u00a0: 0, 1 ou 2")
