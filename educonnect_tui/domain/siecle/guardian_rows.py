"""Checking the rows of a guardians export before anything is written.

SIECLE writes one row per guardian and child, repeating the guardian's identity on each:
rows of one guardian that disagree, or a link given twice, are errors so the staff
correct the export rather than have the import pick one version silently.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import cells
from .reading import Column, Rows
from .report import RowError
from .school_fit import UAI_COLUMN

GUARDIAN_COLUMNS = (
    Column("key", "Identifiant responsable", ("Id responsable", "Identifiant")),
    Column("civility", "Civilité", required=False),
    Column("last_name", "Nom de famille", ("Nom",)),
    Column("first_name", "Prénom"),
    Column("relationship", "Lien de parenté", ("Lien",), required=False),
    Column("legal", "Représentant légal", ("Responsable légal",), required=False),
    Column("email", "Courriel", ("Email", "E-mail", "Mél", "Adresse électronique"), False),
    Column("mobile", "Téléphone portable", ("Tél. portable", "Portable"), required=False),
    Column("address", "Adresse", ("Adresse ligne 1",), required=False),
    Column("postal_code", "Code postal", required=False),
    Column("city", "Commune", ("Ville",), required=False),
    Column("ine", "INE élève", ("INE",)),
    UAI_COLUMN,
)


@dataclass(frozen=True, slots=True)
class GuardianRow:
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


def parse_guardians(
    columns: dict[str, str], rows: Rows
) -> tuple[list[GuardianRow], list[RowError]]:
    parsed: list[GuardianRow] = []
    errors: list[RowError] = []
    first_of_key: dict[str, GuardianRow] = {}
    first_link: dict[tuple[str, str], int] = {}
    for line, values in rows:
        checked = _check_row(line, {name: values[header] for name, header in columns.items()})
        if isinstance(checked, GuardianRow):
            checked = _conflict(checked, first_link, first_of_key) or checked
        if isinstance(checked, RowError):
            errors.append(checked)
        else:
            parsed.append(checked)
    return parsed, errors


def _check_row(line: int, values: dict[str, str]) -> GuardianRow | RowError:
    """Every problem of the row's cells; absent optional columns read as None."""
    checks = cells.Checks()
    check = checks.run
    optional = checks.optional
    key = check(cells.text, values["key"], "identifiant responsable", 64, True)
    last = check(cells.name, values["last_name"], "nom de famille", 200, True)
    first = check(cells.name, values["first_name"], "prénom", 200)
    ine = check(cells.ine, values["ine"], "INE élève")
    civility = optional(values.get("civility"), cells.civility)
    email = optional(values.get("email"), cells.email)
    mobile = optional(values.get("mobile"), cells.mobile)
    address = optional(values.get("address"), cells.text, "adresse", 300)
    postal = optional(values.get("postal_code"), cells.text, "code postal", 10)
    city = optional(values.get("city"), cells.text, "commune", 100)
    relation = optional(values.get("relationship"), cells.text, "lien de parenté", 40)
    legal_cell = values.get("legal")
    legal = None if legal_cell is None else check(cells.legal, legal_cell)
    if checks.reasons:
        return RowError(line, checks.summary())
    assert key is not None and ine is not None and last is not None and first is not None
    return GuardianRow(
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


def _conflict(
    row: GuardianRow,
    first_link: dict[tuple[str, str], int],
    first_of_key: dict[str, GuardianRow],
) -> RowError | None:
    """A link already given, or the guardian's identity differing from their first row."""
    link = (row.key, row.ine)
    if link in first_link:
        return RowError(
            row.line,
            f"lien en double\u00a0: le responsable {row.key} est déjà lié à l'élève {row.ine} "
            f"ligne {first_link[link]}",
        )
    first_link[link] = row.line
    earlier = first_of_key.setdefault(row.key, row)
    if earlier is row or earlier.identity() == row.identity():
        return None
    differing = [
        label
        for label, a, b in zip(_IDENTITY_LABELS, earlier.identity(), row.identity(), strict=True)
        if a != b
    ]
    return RowError(
        row.line,
        f"responsable {row.key} : {', '.join(differing)} différent(s) de la ligne {earlier.line}",
    )
