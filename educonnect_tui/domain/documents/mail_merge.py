"""The mail-merge CSVs of a notification: one row per slip or letter, in the same order.

Secretaries merge them into their own letters, e-mails or text messages (hence the
guardians' e-mail and mobile columns), or check a printed pile against them; the names
are cleaned as the documents print them.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..model.calendar import date_text
from .credentials import GuardianCredential, PupilCredential
from .spreadsheet import csv_bytes
from .text import clean, guardian_groups, sorted_pupils

PUPIL_CSV_HEADER = (
    "Niveau",
    "Classe",
    "Nom",
    "Prénom",
    "Date de naissance",
    "Identifiant",
    "Mot de passe provisoire",
    "Valable jusqu'au",
)


def pupil_csv(rows: Sequence[PupilCredential]) -> bytes:
    """The pupils' rows, in the same order as the slips."""
    return csv_bytes(
        [
            PUPIL_CSV_HEADER,
            *(
                [
                    clean(r.level),
                    clean(r.division),
                    clean(r.last_name),
                    clean(r.first_name),
                    date_text(r.birth_date),
                    r.login,
                    r.temp_password or "",
                    date_text(r.expires_on) if r.expires_on else "",
                ]
                for r in sorted_pupils(rows)
            ),
        ]
    )


GUARDIAN_CSV_HEADER = (
    "Classe",
    "Civilité",
    "Nom",
    "Prénom",
    "Adresse",
    "Code postal",
    "Commune",
    "Courriel",
    "Téléphone portable",
    "Enfants",
    "Identifiant",
    "Mot de passe provisoire",
    "Valable jusqu'au",
)


def guardian_csv(rows: Sequence[GuardianCredential], uai: str) -> bytes:
    """The guardians' rows, in the same order as the letters (by the class of the youngest
    child in school ``uai``, then by name); children as "Nom Prénom (classe)"."""
    lines: list[list[str]] = []
    for child, members in guardian_groups(rows, uai):
        division = "" if child is None else clean(child.division)
        lines += [
            [
                division,
                clean(r.civility),
                clean(r.last_name),
                clean(r.first_name),
                clean(r.address),
                clean(r.postal_code),
                clean(r.city),
                clean(r.email),
                clean(r.mobile),
                clean(
                    ", ".join(
                        f"{clean(c.last_name)} {clean(c.first_name)} ({clean(c.division)})"
                        for c in r.children
                    )
                ),
                r.login,
                r.temp_password or "",
                date_text(r.expires_on) if r.expires_on else "",
            ]
            for r in members
        ]
    return csv_bytes([GUARDIAN_CSV_HEADER, *lines])
