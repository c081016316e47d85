"""What every document prints the same way: cleaned names, French typography, row order.

Slips, letters and mail-merge CSVs of one notification must agree line for line: the
secretary checks a pile of slips against the spreadsheet, so both sort and spell a
name here.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence

from ..model.enums import Level
from ..model.identifiers import sort_key
from .credentials import ChildRef, DocumentContext, GuardianCredential, PupilCredential

# Typography: French puts a (narrow) no-break space inside guillemets and before ":".
NBSP = "\u00a0"
NNBSP = "\u202f"
COLON = f"{NBSP}:"


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def clean(text: str) -> str:
    """Make imported text printable on one line.

    SIECLE exports occasionally carry tabs, line feeds or stray control characters;
    printed as is they would break the fixed layout (or the PDF text operator).
    Surrogates cannot be encoded at all and are dropped the same way.
    """
    text = unicodedata.normalize("NFC", text)
    text = _CONTROL.sub(" ", text)
    text = "".join(c for c in text if unicodedata.category(c) != "Cs")
    return " ".join(text.split())


def quote(text: str) -> str:
    return f"«{NNBSP}{text}{NNBSP}»"


def pupil_name(last_name: str, first_name: str) -> str:
    """LAST First, the way French schools write names on lists and slips."""
    last = clean(last_name).upper()
    first = clean(first_name)
    return f"{last} {first}".strip() or "—"


def school_line(ctx: DocumentContext) -> str:
    school = ctx.school
    kind = clean(school.type_label)
    name = clean(school.name)
    if kind and not name.lower().startswith(kind.lower()):
        name = f"{kind[:1].upper()}{kind[1:]} {name}"
    return name


def _natural_key(text: str) -> tuple[object, ...]:
    """Class names compared the way people read them: "3E2" before "3E10"."""
    return tuple(
        (0, int(part), "") if part.isascii() and part.isdigit() else (1, 0, part.casefold())
        for part in re.split(r"([0-9]+)", text)
        if part
    )


def class_order(level: str, division: str) -> tuple[object, ...]:
    """Classes in school order: level rank (6e before 3e), then the name as people read it."""
    return (Level.rank_of(level), level, _natural_key(division), division)


def _pupil_order(row: PupilCredential) -> tuple[object, ...]:
    return (
        *class_order(row.level, row.division),
        sort_key(clean(row.last_name), clean(row.first_name)),
        row.login,
    )


def sorted_pupils(rows: Sequence[PupilCredential]) -> list[PupilCredential]:
    return sorted(rows, key=_pupil_order)


def home_child(children: Sequence[ChildRef], uai: str) -> ChildRef | None:
    """The child a guardian's documents are filed under: the youngest enrolled in ``uai``.

    Letters are handed out through the children's classes; a guardian of several
    children gets one letter, through the youngest (who stays longest in the school).
    Twins go to the first of their classes in school order. None: no child here.
    """
    here = [c for c in children if c.uai == uai]
    if not here:
        return None
    return min(
        here,
        key=lambda c: (
            -(c.birth_date or dt.date.min).toordinal(),
            class_order(c.level, c.division),
            sort_key(clean(c.last_name), clean(c.first_name)),
        ),
    )


GuardianGroup = tuple[ChildRef | None, list[GuardianCredential]]


def guardian_groups(rows: Sequence[GuardianCredential], uai: str) -> list[GuardianGroup]:
    """Guardians by the class of their ``home_child``, classes in school order, names in
    French order within a class; those with no child here come last (``None``)."""
    groups: dict[str, GuardianGroup] = {}
    for row in rows:
        child = home_child(row.children, uai)
        key = "" if child is None else child.division
        if key not in groups:
            groups[key] = (child, [])
        groups[key][1].append(row)

    def place(group: GuardianGroup) -> tuple[object, ...]:
        child = group[0]
        return (1,) if child is None else (0, *class_order(child.level, child.division))

    ordered = sorted(groups.values(), key=place)
    return [(child, _by_name(members)) for child, members in ordered]


def _by_name(rows: Sequence[GuardianCredential]) -> list[GuardianCredential]:
    return sorted(
        rows,
        key=lambda r: (sort_key(clean(r.last_name), clean(r.first_name)), r.login),
    )


def sorted_guardians(rows: Sequence[GuardianCredential], uai: str) -> list[GuardianCredential]:
    """The letters' order (``guardian_groups``), which the mail merge follows line for line."""
    return [row for _, members in guardian_groups(rows, uai) for row in members]
