"""The académie's schools before any person exists: sizes, UAIs, classes and campaigns.

``academie.py`` fills these schools with families (``academie_people.py``). Planning
first lets the people generator place a younger sibling in another school of the same
*secteur* (a lycée with the collèges and écoles of its town), and lets every pupil's
account state follow the campaign of their class: a class whose letters were handed
out weeks ago is mostly activated, one still waiting is all red.

Times are integer seconds since ``Clock.epoch`` (about 200 days before now): the
people generator draws millions of them and only turns them into text through a
cache (``Clock.text``), which is much cheaper than a ``datetime`` per value.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import random
import re
from dataclasses import dataclass, field

from ..domain.model.enums import EstablishmentType
from ..domain.model.identifiers import uai_key
from .academie_places import PATRONS, TOWNS

# Full scale (scale = 1.0): what the benchmark (benchmarks/run.py) is measured on.
SCHOOLS = 500
PUPILS = 400_000
GUARDIANS = 600_000
LARGEST_PUPILS = 3_000
LARGEST_GUARDIANS = 5_000
MAX_SCALE = 2.0  # UAIs are numbered 9001..9999 in each département: room for 1,000 schools

# The largest lycée has the same UAI whatever the seed and scale: it is how a database
# is recognised as holding the académie, and what the benchmark opens.
LARGEST_DIGITS = "0949001"
LARGEST_UAI = LARGEST_DIGITS + uai_key(LARGEST_DIGITS)
LARGEST_TOWN = ("094", "94000", "Créteil")
_ACADEMIE_UAI = re.compile(r"^0(77|93|94)9\d{3}[A-Z]$")

_LEVELS = {
    EstablishmentType.ECOLE: ("CP", "CE1", "CE2", "CM1", "CM2"),
    EstablishmentType.COLLEGE: ("6e", "5e", "4e", "3e"),
    EstablishmentType.LYCEE: ("2de", "1re", "Terminale"),
}
# Class names as SIECLE/ONDE exports write them; ``Level.of_division`` reads them back.
_CLASS_PREFIX = {"6e": "6E", "5e": "5E", "4e": "4E", "3e": "3E", "2de": "2DE", "1re": "1RE",
                 "Terminale": "TLE"}  # fmt: skip
AGES = {"CP": 6, "CE1": 7, "CE2": 8, "CM1": 9, "CM2": 10, "6e": 11, "5e": 12, "4e": 13,
        "3e": 14, "2de": 15, "1re": 16, "Terminale": 17}  # fmt: skip
_CLASS_SIZE = {EstablishmentType.ECOLE: 24, EstablishmentType.COLLEGE: 27,
               EstablishmentType.LYCEE: 33}  # fmt: skip
# Relative size of each kind of school (écoles are small, lycées large).
_SIZE_WEIGHT = {EstablishmentType.ECOLE: 0.25, EstablishmentType.COLLEGE: 0.9,
                EstablishmentType.LYCEE: 2.4}  # fmt: skip
_NAME_PREFIX = {EstablishmentType.ECOLE: "École élémentaire",
                EstablishmentType.COLLEGE: "Collège", EstablishmentType.LYCEE: "Lycée"}  # fmt: skip

DAY = 86_400
HOUR = 3_600


def is_academie_uai(uai: str) -> bool:
    """Whether ``uai`` is one this module hands out (départements 077/093/094, 9001-9999)."""
    return _ACADEMIE_UAI.match(uai) is not None


class Clock:
    """Seconds since ``epoch`` and their text as each backend stores a UTC datetime."""

    def __init__(self, now: dt.datetime, *, postgres: bool) -> None:
        now = now.astimezone(dt.UTC)
        midnight = dt.datetime(now.year, now.month, now.day, tzinfo=dt.UTC)
        self.epoch = midnight - dt.timedelta(days=200)
        self.now = int((now - self.epoch).total_seconds())
        self.school_year = now.year if now.month >= 8 else now.year - 1
        # SQLite stores naive UTC text (models.UTCDateTime); PostgreSQL's COPY needs the zone.
        self._seconds = [f"{s:02d}.000000" + ("+00" if postgres else "") for s in range(60)]
        self._minutes: dict[int, str] = {}
        self._month_later: dict[int, int] = {}

    def text(self, moment: int) -> str:
        minute, second = divmod(moment, 60)
        head = self._minutes.get(minute)
        if head is None:
            head = (self.epoch + dt.timedelta(minutes=minute)).strftime("%Y-%m-%d %H:%M:")
            self._minutes[minute] = head
        return head + self._seconds[second]

    def school_day(self, days_ago: float) -> int:
        """Midnight (UTC) of the weekday ``days_ago`` before now; weekends go to Friday."""
        day = (self.now - int(days_ago * DAY)) // DAY
        weekday = (self.epoch.weekday() + day) % 7
        if weekday >= 5:
            day -= weekday - 4
        return day * DAY

    def months_later(self, moment: int, months: int) -> int:
        """``moment`` plus calendar months (a guardian's letter is valid 3 months)."""
        day, rest = divmod(moment, DAY)
        later = self._month_later.get(day * 100 + months)
        if later is None:
            date = self.epoch.date() + dt.timedelta(days=day)
            month = date.month - 1 + months
            year, month = date.year + month // 12, month % 12 + 1
            target = dt.date(year, month, min(date.day, calendar.monthrange(year, month)[1]))
            later = (target - self.epoch.date()).days
            self._month_later[day * 100 + months] = later
        return later * DAY + rest


@dataclass
class ClassPlan:
    """One class and how far its campaign got (None: letters not handed out yet)."""

    id: int
    name: str
    level: str
    age: int
    notified: int | None
    hour: int | None  # the class activation hour, when the school held one
    home_rate: float  # share of pupils who activate at home when there was no hour


@dataclass
class School:
    id: int
    uai: str
    kind: EstablishmentType
    name: str
    department: str
    postal_code: str
    town: str
    size: int  # pupils
    secteur: int
    start: int  # the day its campaign started (seconds since epoch)
    guardian_progress: float  # how far the guardians' campaign got, 0..1
    classes: list[ClassPlan] = field(default_factory=list)
    slots: list[int] = field(default_factory=list)  # indexes into classes, drawn by pop()
    foreign_quota: int = 0  # pupils a family of another school of the secteur may bring

    @property
    def largest(self) -> bool:
        return self.uai == LARGEST_UAI


@dataclass(frozen=True)
class Sizes:
    schools: int
    pupils: int
    guardians: int
    largest_pupils: int
    largest_guardians: int


def sizes(scale: float) -> Sizes:
    """The counts at ``scale``; a tiny académie keeps the largest school's proportions."""
    pupils = max(60, round(PUPILS * scale))
    largest = max(30, round(LARGEST_PUPILS * min(1.0, scale * 50)))
    schools = max(3, round(SCHOOLS * scale), 1 + math.ceil((pupils - largest) / (largest * 0.9)))
    return Sizes(
        schools=schools,
        pupils=pupils,
        guardians=round(pupils * GUARDIANS / PUPILS),
        largest_pupils=largest,
        largest_guardians=round(largest * LARGEST_GUARDIANS / LARGEST_PUPILS),
    )


def plan_schools(
    rng: random.Random,
    campaign: random.Random,
    clock: Clock,
    counts: Sizes,
    first_id: int,
    first_class_id: int,
) -> list[School]:
    """Every school with its classes; the first is the largest lycée (fixed UAI).

    ``rng`` draws what must not depend on the day the académie is built (sizes, names,
    classes), ``campaign`` the dates and progress, which are relative to ``clock``.
    """
    kinds = _kinds(counts.schools)
    pupils = _school_sizes(rng, kinds, counts)
    towns = _towns(rng, kinds)
    numbers: dict[str, int] = {"094": 1}  # 0949001 is the largest lycée
    used_names: set[tuple[str, str]] = set()
    schools: list[School] = []
    class_id = first_class_id
    for index, (kind, size, (secteur, town)) in enumerate(zip(kinds, pupils, towns, strict=True)):
        department, postal_code, name = town
        if index == 0:
            digits = LARGEST_DIGITS
        else:
            numbers[department] = numbers.get(department, 0) + 1
            digits = f"{department}{9000 + numbers[department]}"
        school = School(
            id=first_id + index,
            uai=digits + uai_key(digits),
            kind=kind,
            name=_school_name(rng, kind, name, used_names),
            department=department,
            postal_code=postal_code,
            town=name,
            size=size,
            secteur=secteur,
            start=0,
            guardian_progress=0.0,
        )
        _campaign(campaign, clock, school)
        class_id = _classes(rng, campaign, clock, school, class_id)
        school.foreign_quota = int(size * 0.35)
        schools.append(school)
    return schools


def _kinds(count: int) -> list[EstablishmentType]:
    """About 30 % écoles, 50 % collèges, 20 % lycées; the first is the largest lycée."""
    ecoles = round(0.3 * (count - 1))
    lycees = max(0, round(0.2 * count) - 1)
    colleges = count - 1 - ecoles - lycees
    E = EstablishmentType
    return [E.LYCEE] + [E.LYCEE] * lycees + [E.COLLEGE] * colleges + [E.ECOLE] * ecoles


def _school_sizes(rng: random.Random, kinds: list[EstablishmentType], counts: Sizes) -> list[int]:
    """Pupils per school: exact total, none of the others as large as the first."""
    rest = counts.pupils - counts.largest_pupils
    cap = counts.largest_pupils - 1
    weights = [_SIZE_WEIGHT[kind] * rng.uniform(0.6, 1.4) for kind in kinds[1:]]
    sizes = [0] * len(weights)
    free = list(range(len(weights)))
    left = rest
    while free and left > 0:  # water-filling: schools at the cap stop taking pupils
        total = sum(weights[i] for i in free)
        share = [max(1, int(left * weights[i] / total)) for i in free]
        capped = []
        for i, extra in zip(free, share, strict=True):
            take = min(extra, cap - sizes[i], left)
            sizes[i] += take
            left -= take
            if sizes[i] >= cap:
                capped.append(i)
        free = [i for i in free if i not in capped]
        if not capped:
            for i in free[:left]:  # rounding leftovers, one pupil each
                sizes[i] += 1
            left -= min(left, len(free))
    return [counts.largest_pupils, *sizes]


def _towns(
    rng: random.Random, kinds: list[EstablishmentType]
) -> list[tuple[int, tuple[str, str, str]]]:
    """(secteur, town) per school: one secteur per lycée, collèges and écoles shared out."""
    lycees = [i for i, kind in enumerate(kinds) if kind is EstablishmentType.LYCEE]
    secteur_towns = [LARGEST_TOWN] + [
        town[:3] for town in rng.choices(TOWNS, weights=[t[3] for t in TOWNS], k=len(lycees) - 1)
    ]
    out: list[tuple[int, tuple[str, str, str]]] = []
    others = 0
    for index, kind in enumerate(kinds):
        if kind is EstablishmentType.LYCEE:
            secteur = lycees.index(index)
        else:
            secteur = others % len(lycees)
            others += 1
        out.append((secteur, secteur_towns[secteur]))
    return out


def _school_name(
    rng: random.Random, kind: EstablishmentType, town: str, used: set[tuple[str, str]]
) -> str:
    for _ in range(20):
        patron = rng.choice(PATRONS)
        if (town, patron) not in used:
            break
    used.add((town, patron))
    prefix = _NAME_PREFIX[kind]
    if kind is EstablishmentType.ECOLE and rng.random() < 0.3:
        prefix = "École primaire"
    return f"{prefix} {patron}"


def _campaign(rng: random.Random, clock: Clock, school: School) -> None:
    """When the school started handing out letters, and how far the guardians' went."""
    if school.largest:  # at the start of its campaign: the benchmark notifies it
        school.start = clock.school_day(6)
        school.guardian_progress = 0.15
        return
    earliest = {EstablishmentType.ECOLE: 45, EstablishmentType.COLLEGE: 75,
                EstablishmentType.LYCEE: 70}[school.kind]  # fmt: skip
    school.start = clock.school_day(rng.uniform(8, earliest))
    school.guardian_progress = rng.uniform(0.35, 0.95)


def _classes(
    rng: random.Random, campaign: random.Random, clock: Clock, school: School, next_id: int
) -> int:
    """Classes of about the usual size per level, and the seats pupils are drawn from."""
    levels = _LEVELS[school.kind]
    target = _CLASS_SIZE[school.kind]
    per_level = [school.size // len(levels)] * len(levels)
    for i in range(school.size - sum(per_level)):
        per_level[i] += 1
    days_running = max(1.0, (clock.now - school.start) / DAY)
    # Share of classes already notified: most of them after weeks, a few at the start.
    notified_share = 0.12 if school.largest else min(1.0, 0.25 + days_running / 50)
    hour_rate = {EstablishmentType.ECOLE: 0.2, EstablishmentType.COLLEGE: 0.65,
                 EstablishmentType.LYCEE: 0.45}[school.kind]  # fmt: skip
    for level, count in zip(levels, per_level, strict=True):
        n_classes = max(1, round(count / target))
        for number in range(1, n_classes + 1):
            if school.kind is EstablishmentType.ECOLE:
                name = f"{level} {chr(64 + number)}" if number <= 26 else f"{level} {number}"
            else:
                name = f"{_CLASS_PREFIX[level]}{number}"
            notified = hour = None
            if campaign.random() < notified_share:
                offset = campaign.uniform(0, days_running * 0.8)
                notified = clock.school_day((clock.now - school.start) / DAY - offset)
                notified = min(notified + int(campaign.uniform(7.5, 15) * HOUR), clock.now - HOUR)
                if campaign.random() < hour_rate:
                    hour = notified + campaign.randint(1, 6) * DAY + campaign.randint(0, 7) * HOUR
                    if hour > clock.now - HOUR:
                        hour = None
            school.classes.append(
                ClassPlan(next_id, name, level, AGES[level], notified, hour,
                          campaign.uniform(0.25, 0.6))
            )  # fmt: skip
            next_id += 1
        first = len(school.classes) - n_classes
        for seat in range(count):
            school.slots.append(first + seat % n_classes)
    rng.shuffle(school.slots)
    return next_id
