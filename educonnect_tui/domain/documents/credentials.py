"""The rows a notification hands to the documents: the only place plaintext passwords live.

They exist in memory between hashing and writing the documents, and are never stored.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..model.calendar import SchoolTime
from ..model.tables import Establishment


@dataclass(frozen=True)
class SchoolHeader:
    uai: str
    name: str
    type_label: str  # "collège", "lycée"...
    city: str
    academie: str

    @classmethod
    def of(cls, school: Establishment) -> SchoolHeader:
        return cls(
            uai=school.uai,
            name=school.name,
            type_label=school.type.label,
            city=school.city,
            academie=school.academie,
        )


@dataclass(frozen=True)
class PupilCredential:
    account_id: int
    last_name: str
    first_name: str
    division: str  # class name, e.g. "3E2"
    level: str  # e.g. "3e"
    birth_date: dt.date
    login: str
    # None in a reminder: no password is drawn, the document says how to recover one.
    temp_password: str | None
    expires_on: dt.date | None


@dataclass(frozen=True)
class ChildRef:
    """A guardian's child as the letter names it.

    ``level``, ``birth_date`` and ``uai`` place the letter: it goes under the class of
    the youngest child enrolled in the school writing it (``text.home_child``).
    """

    last_name: str
    first_name: str
    division: str
    school_name: str
    level: str = ""
    birth_date: dt.date | None = None
    uai: str = ""


@dataclass(frozen=True)
class GuardianCredential:
    account_id: int
    civility: str  # "M.", "Mme" or ""
    last_name: str
    first_name: str
    address: str
    postal_code: str
    city: str
    children: tuple[ChildRef, ...]
    login: str
    # None in a reminder: no password is drawn, the document says how to recover one.
    temp_password: str | None
    expires_on: dt.date | None
    # For the mail merge only (the secretary's e-mails and text messages).
    email: str = ""
    mobile: str = ""


@dataclass(frozen=True)
class DocumentContext:
    """What every document prints besides the rows.

    ``generated_at`` is the instant (UTC from the clock); documents print it through
    ``time``, the school's zone, since the server often runs in UTC while the teacher
    reading « éditée à 07:21 » lives in Paris.
    """

    school: SchoolHeader
    portal_url: str
    generated_at: dt.datetime
    time: SchoolTime
