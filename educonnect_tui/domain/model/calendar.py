"""The school's day and time: every date or time a person reads, and what "today" is.

Instants are stored in UTC and the server may run in any zone (often UTC). Staff, pupils
and families live in the school's zone (``Settings.school_timezone``, Europe/Paris by
default), so every screen, document, CSV, command-line line and audit detail shows a
time converted here, and delegations, statistics and expiry count the school's days.
Nothing else calls ``astimezone()`` for display or ``strftime``/``strptime`` on French
dates: see docs/domain.md, « Dates et heures ».
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import InvalidInput
from .printable import excerpt

DEFAULT_ZONE = "Europe/Paris"

_MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
# Day and month may have one digit: staff type « 3/9/2026 ».
_DATE_RE = re.compile(r"\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*$")


def zone_named(name: str) -> ZoneInfo:
    """The zone of that IANA name, or a French ``InvalidInput`` (the settings say which)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"Fuseau horaire « {name[:40]} » inconnu\u00a0: attendu un nom comme Europe/Paris."
        ) from None


@dataclass(frozen=True)
class SchoolTime:
    """Instants as the school reads them, in its zone."""

    zone: ZoneInfo

    @classmethod
    def named(cls, name: str = DEFAULT_ZONE) -> SchoolTime:
        return cls(zone_named(name))

    def local(self, moment: dt.datetime) -> dt.datetime:
        if moment.tzinfo is None:  # naive values are UTC (SQLite hands some back so)
            moment = moment.replace(tzinfo=dt.UTC)
        return moment.astimezone(self.zone)

    def today(self, now: dt.datetime) -> dt.date:
        """The school's date at ``now``: delegations, statistics and expiry count these days."""
        return self.local(now).date()

    def day_start(self, day: dt.date) -> dt.datetime:
        """Midnight starting that school day, as an aware instant."""
        return dt.datetime.combine(day, dt.time(), tzinfo=self.zone)

    def offset(self, now: dt.datetime) -> dt.timedelta:
        """The zone's offset from UTC at ``now`` (SQL groups UTC instants into local days)."""
        return self.local(now).utcoffset() or dt.timedelta(0)

    def date(self, moment: dt.datetime) -> str:
        """``01/09/2026``: the school's date of that instant."""
        return date_text(self.local(moment).date())

    def time(self, moment: dt.datetime) -> str:
        """``10:15``."""
        return f"{self.local(moment):%H:%M}"

    def date_time(self, moment: dt.datetime) -> str:
        """``01/09/2026 à 10:15``: sentences and messages."""
        local = self.local(moment)
        return f"{local:%d/%m/%Y} à {local:%H:%M}"

    def short(self, moment: dt.datetime) -> str:
        """``01/09/2026 10:15``: table cells and headers."""
        return f"{self.local(moment):%d/%m/%Y %H:%M}"

    def day_and_time(self, moment: dt.datetime) -> str:
        """``01/09 10:15``: a narrow column, when the day is not today."""
        return f"{self.local(moment):%d/%m %H:%M}"

    def stamp(self, moment: dt.datetime) -> str:
        """``2026-09-01_101500``: sorts in file names."""
        return f"{self.local(moment):%Y-%m-%d_%H%M%S}"


def date_text(day: dt.date) -> str:
    """``JJ/MM/AAAA``, the one way a date is written for a French reader."""
    return f"{day:%d/%m/%Y}"


def long_date(day: dt.date) -> str:
    """``1er septembre 2026``: letters."""
    first = "1er" if day.day == 1 else str(day.day)
    return f"{first} {_MONTHS[day.month - 1]} {day.year}"


def parse_date(text: str, label: str = "Date") -> dt.date:
    """``JJ/MM/AAAA`` as staff type it, or a French ``InvalidInput`` naming the field."""
    match = _DATE_RE.match(text)
    if match:
        day, month, year = (int(part) for part in match.groups())
        try:
            return dt.date(year, month, day)
        except ValueError:
            pass
    raise InvalidInput(
        f"{label} « {excerpt(text.strip(), 20)} » invalide\u00a0: "
        "attendu JJ/MM/AAAA (une date qui existe)."
    )
