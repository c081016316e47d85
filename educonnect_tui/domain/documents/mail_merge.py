"""The mail-merge CSVs of a notification: one row per slip or letter, in the same order.

Secretaries merge them into their own letters or e-mails, or check a printed pile
against them; the names are cleaned as the documents print them.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..model.calendar import date_text
from .credentials import GuardianCredential, PupilCredential
from .spreadsheet import csv_bytes
from .text import clean, sorted_guardians, sorted_pupils

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
    "Civilité",
    "Nom",
    "Prénom",
    "Adresse",
    "Code postal",
    "Commune",
    "Enfants",
    "Identifiant",
    "Mot de passe provisoire",
    "Valable jusqu'au",
)


def guardian_csv(rows: Sequence[GuardianCredential]) -> bytes:
    """The guardians' rows, in the same order as the letters; children as "Nom Prénom (classe)"."""
    return csv_bytes(
        [
            GUARDIAN_CSV_HEADER,
            *(
                [
                    clean(r.civility),
                    clean(r.last_name),
                    clean(r.first_name),
                    clean(r.address),
                    clean(r.postal_code),
                    clean(r.city),
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
                for r in sorted_guardians(rows)
            ),
        ]
    )
