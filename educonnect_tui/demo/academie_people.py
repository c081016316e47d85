"""Families of the académie, as plain row tuples ready for the bulk load.

A million accounts must be generated in seconds, so nothing here builds ORM objects,
``datetime`` objects or dictionaries per row: names come from pre-weighted pools and
folded names are cached per name. Each person's account row is written by
``academie_accounts.AccountRows``, which ``People`` extends.

Families decide the proportions: two parents in most of them, sometimes one, a tutor
or a grandparent; siblings share their guardians, and a younger sibling is sometimes
in another school of the same secteur, so that guardian's account covers two schools.
The number of children per family is steered so that the académie ends with about
1.5 guardians per pupil, and the largest lycée with 5 guardians for 3 pupils.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..domain.model.enums import EstablishmentType, PupilStatus
from ..domain.model.phones import sms_mobile
from .academie_accounts import AccountRows
from .academie_plan import DAY, HOUR, ClassPlan, Clock, School, Sizes
from .names import EMAIL_DOMAINS, ORIGIN_WEIGHTS, ORIGINS, RESIDENCES, STREETS

_INE_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
_ENROLLED = PupilStatus.ENROLLED.value
_LEFT = PupilStatus.LEFT.value
_KIND_ORDER = {EstablishmentType.LYCEE: 0, EstablishmentType.COLLEGE: 1,
               EstablishmentType.ECOLE: 2}  # fmt: skip
# Chance that a sibling is in the same school rather than another school of the secteur.
_SAME_SCHOOL = {EstablishmentType.LYCEE: 0.3, EstablishmentType.COLLEGE: 0.45,
                EstablishmentType.ECOLE: 0.6}  # fmt: skip


def _expand(pool: Sequence[str], flatness: int, size: int = 400) -> list[str]:
    """A list where earlier names come more often (as in ``college_people.People.pick``)."""
    weights = [1.0 / (rank + flatness) for rank in range(len(pool))]
    total = sum(weights)
    out: list[str] = []
    for name, weight in zip(pool, weights, strict=True):
        out += [name] * max(1, round(size * weight / total))
    return out


@dataclass
class _Group:
    """Guardians and pupils created so far against the ratio wanted for them."""

    ratio: float
    guardians: int = 0
    pupils: int = 0


@dataclass
class _Adult:
    civility: str
    first: str
    last: str
    relation: str
    legal: bool
    home: tuple[str, str, str]


class People(AccountRows):
    """Fills the planned schools; rows accumulate in ``tables`` (see ``COLUMNS``)."""

    def __init__(
        self,
        rng: random.Random,
        campaign: random.Random,
        clock: Clock,
        counts: Sizes,
        *,
        first_ids: dict[str, int],
        hashes: Sequence[str],
        taken_logins: set[str],
        taken_ines: set[str],
        pupil_validity_days: int,
        guardian_validity_months: int,
    ) -> None:
        # Two streams: who the people are must not depend on the day of the build (the
        # same seed gives the same names and logins), their accounts' dates do.
        super().__init__(
            campaign,
            clock,
            first_account=first_ids["account"],
            hashes=hashes,
            taken_logins=taken_logins,
            pupil_validity_days=pupil_validity_days,
            guardian_validity_months=guardian_validity_months,
        )
        self.rng = rng
        self.random = rng.random
        self.next_pupil = first_ids["pupil"]
        self.next_guardian = first_ids["guardian"]
        self.largest = _Group(counts.largest_guardians / counts.largest_pupils)
        rest_pupils = max(1, counts.pupils - counts.largest_pupils)
        self.rest = _Group(max(1.0, (counts.guardians - counts.largest_guardians) / rest_pupils))
        self.origins = [o for o, weight in ORIGIN_WEIGHTS.items() for _ in range(weight)]
        self.pools = {
            origin: tuple(_expand(pool, 40 if i == 0 else 12) for i, pool in enumerate(pools))
            for origin, pools in ORIGINS.items()
        }
        self.streets = [
            f"{number}{suffix} {street}"
            for number in range(1, 141)
            for street in STREETS
            for suffix in (("", "", "", "", " bis") if number % 7 == 0 else ("",))
        ]
        self.residences = list(RESIDENCES)
        self.taken_ines = taken_ines
        self._births: dict[int, list[str]] = {}

    # --- schools and families ---------------------------------------------------------

    def fill(self, schools: list[School], progress: Callable[[int, int], None]) -> None:
        """Families school by school: each lycée, then the collèges and écoles of its secteur."""
        order = sorted(schools, key=lambda s: (not s.largest, s.secteur, _KIND_ORDER[s.kind]))
        by_secteur: dict[int, list[School]] = {}
        for school in order:
            by_secteur.setdefault(school.secteur, []).append(school)
        for done, school in enumerate(order, start=1):
            later = [s for s in by_secteur[school.secteur] if s is not school]
            while school.slots:
                self._family(school, later)
            progress(done, len(order))

    def _family(self, school: School, neighbours: list[School]) -> None:
        rnd = self.random
        origin = self.origins[int(rnd() * len(self.origins))]
        pools = self.pools[origin]
        surname = _pick(pools[0], rnd)
        adults = self._adults(origin, surname, school)
        group = self.largest if school.largest else self.rest
        wanted = (group.guardians + len(adults)) / group.ratio - group.pupils
        children = min(3, max(1, int(wanted + rnd())))
        placed: list[tuple[School, ClassPlan]] = [(school, school.classes[school.slots.pop()])]
        same = 1.0 if school.largest else _SAME_SCHOOL[school.kind]
        for _ in range(children - 1):
            spot = self._sibling_school(school, neighbours, same)
            if spot is None:
                break
            placed.append((spot, spot.classes[spot.slots.pop()]))
        if school.largest and neighbours and rnd() < 0.2:
            spot = self._sibling_school(school, neighbours, 0.0)
            if spot is not None and spot is not school:
                placed.append((spot, spot.classes[spot.slots.pop()]))
        group.guardians += len(adults)
        for spot, _plan in placed:
            (group if spot is school else self.rest).pupils += 1
        self._write_family(school, origin, surname, adults, placed)

    def _sibling_school(
        self, school: School, neighbours: list[School], same: float
    ) -> School | None:
        if school.slots and self.random() < same:
            return school
        open_ = [s for s in neighbours if s.slots and s.foreign_quota > 0]
        if open_:
            spot = open_[int(self.random() * len(open_))]
            spot.foreign_quota -= 1
            return spot
        return school if school.slots else None

    def _adults(self, origin: str, surname: str, school: School) -> list[_Adult]:
        rnd = self.random
        pools = self.pools[origin]
        home = self._home(school)
        roll = rnd()
        adults: list[_Adult] = []
        if roll < 0.85:  # two parents; some separated, some mothers keep their own name
            mother_origin = origin if rnd() < 0.85 else self.origins[int(rnd() * 100)]
            mother_pools = self.pools[mother_origin]
            mother_name = _pick(mother_pools[0], rnd) if rnd() < 0.4 else surname
            mother_home = home if rnd() < 0.85 else self._home(school)
            adults.append(_Adult("Mme", _pick(mother_pools[4], rnd), mother_name, "mère", True,
                                 mother_home))  # fmt: skip
            adults.append(_Adult("M.", _pick(pools[3], rnd), surname, "père", True, home))
        elif roll < 0.93:
            adults.append(_Adult("Mme", _pick(pools[4], rnd), surname, "mère", True, home))
        elif roll < 0.97:
            adults.append(_Adult("M.", _pick(pools[3], rnd), surname, "père", True, home))
        else:  # a legal guardian who is not a parent (tutelle)
            woman = rnd() < 0.5
            adults.append(
                _Adult("Mme" if woman else "M.", _pick(pools[4] if woman else pools[3], rnd),
                       _pick(pools[0], rnd), "tuteur", True, self._home(school))
            )  # fmt: skip
        if rnd() < 0.03:  # a grandparent the family asked the school to know
            adults.append(_Adult("Mme", _pick(pools[4], rnd), surname, "autre", False, home))
        return adults

    def _home(self, school: School) -> tuple[str, str, str]:
        rnd = self.random
        street = self.streets[int(rnd() * len(self.streets))]
        if rnd() < 0.25:
            street = self.residences[int(rnd() * len(self.residences))] + street
        return street, school.postal_code, school.town

    # --- rows -------------------------------------------------------------------------

    def _write_family(
        self,
        school: School,
        origin: str,
        surname: str,
        adults: list[_Adult],
        placed: list[tuple[School, ClassPlan]],
    ) -> None:
        rnd = self.random
        pools = self.pools[origin]
        mother = adults[0] if adults[0].relation == "mère" else None
        pupil_ids: list[int] = []
        names: list[tuple[str, str]] = []  # (last, first): their legal guardians' search words
        left_moments: list[int] = []
        first_letter: int | None = None
        for spot, plan in placed:
            last = surname
            if mother is not None and mother.last != surname:
                roll = rnd()
                if roll < 0.1:
                    last = f"{surname}-{mother.last}"
                elif roll < 0.15:
                    last = mother.last
            kid_pools = pools if rnd() < 0.7 else self.pools["fr"]
            first = _pick(kid_pools[1] if rnd() < 0.5 else kid_pools[2], rnd)
            # The largest lycée keeps exactly its 3,000 pupils on its lists: nobody left it.
            leaves = rnd() < 0.008 and not spot.largest
            left = self._left(spot) if leaves else None
            pupil_id = self._pupil(spot, plan, first, last, left)
            pupil_ids.append(pupil_id)
            names.append((last, first))
            if left is not None:
                left_moments.append(left)
            if first_letter is None and plan.notified is not None:
                first_letter = plan.notified
        all_left = max(left_moments) if len(left_moments) == len(placed) else None
        schools = {spot.id for spot, _plan in placed}
        links = self.tables["guardian_link"]
        for adult in adults:
            children = tuple(names) if adult.legal else ()
            guardian_id = self._guardian(school, adult, first_letter, all_left, children)
            for pupil_id in pupil_ids:
                links.append((guardian_id, pupil_id, adult.relation, adult.legal))
        if len(schools) > 1:
            self.counts.multi_school_guardians += len(adults)

    def _left(self, school: School) -> int:
        """When a pupil left during the term (their account is then deactivated)."""
        days = max(1.0, (self.now - school.start) / DAY + 10)
        return self.clock.school_day(self.campaign.uniform(1, days)) + 16 * HOUR

    def _pupil(
        self, school: School, plan: ClassPlan, first: str, last: str, left: int | None
    ) -> int:
        pupil_id = self.next_pupil
        self.next_pupil += 1
        rnd = self.random
        age = plan.age
        roll = rnd()
        if roll < (0.1 if plan.level in ("3e", "Terminale") else 0.05):
            age += 1  # repeated a year
        elif roll > 0.99:
            age -= 1  # a year ahead
        births = self._births.get(self.clock.school_year - age)
        if births is None:
            births = _birth_dates(self.clock.school_year - age)
            self._births[self.clock.school_year - age] = births
        self.tables["pupil"].append(
            (pupil_id, school.id, self._ine(pupil_id), last, first,
             births[int(rnd() * len(births))], plan.id, _ENROLLED if left is None else _LEFT,
             None if left is None else self.clock.text(left)[:10])
        )  # fmt: skip
        self._pupil_account(pupil_id, first, last, plan, left)
        return pupil_id

    def _ine(self, pupil_id: int) -> str:
        """11 characters, unique by construction: 9 digits are a bijection of the id."""
        digits = f"{(pupil_id * 7919 + 104_729) % 1_000_000_000:09d}"
        letters = _INE_LETTERS[pupil_id % 23] + _INE_LETTERS[(pupil_id // 23) % 23]
        ine = digits + letters
        shift = 0
        while ine in self.taken_ines:  # only when the database already holds other pupils
            shift += 1
            ine = digits + _INE_LETTERS[(pupil_id + shift) % 23] + letters[1]
        return ine

    def _guardian(
        self,
        school: School,
        adult: _Adult,
        letter: int | None,
        all_left: int | None,
        children: tuple[tuple[str, str], ...],
    ) -> int:
        guardian_id = self.next_guardian
        self.next_guardian += 1
        rnd = self.random
        email = self._email(adult) if rnd() < 0.82 else None
        mobile = None
        if rnd() < 0.9:
            digits = f"{int(rnd() * 100_000_000):08d}"
            mobile = (f"0{6 if rnd() < 0.8 else 7} {digits[:2]} {digits[2:4]} {digits[4:6]} "
                      f"{digits[6:]}")  # fmt: skip
        street, postal_code, town = adult.home
        self.tables["guardian"].append(
            (guardian_id, f"CRT{guardian_id:09d}", adult.civility, adult.last, adult.first,
             email, mobile, sms_mobile(mobile), street, postal_code, town)
        )  # fmt: skip
        self._guardian_account(
            guardian_id, adult.first, adult.last, school, letter, email, mobile, all_left, children
        )
        return guardian_id

    def _email(self, adult: _Adult) -> str:
        first = self._fold_plain(adult.first) or "contact"
        last = self._fold_plain(adult.last) or "famille"
        style = int(self.random() * 4)
        if style == 0:
            local = f"{first}.{last}"
        elif style == 1:
            local = f"{first[0]}{last}"
        elif style == 2:
            local = f"{first}{last}{int(self.random() * 99) + 1}"
        else:
            local = f"{last}.{first}"
        return f"{local}@{EMAIL_DOMAINS[int(self.random() * len(EMAIL_DOMAINS))]}"


def _pick(pool: list[str], rnd: Callable[[], float]) -> str:
    return pool[int(rnd() * len(pool))]


def _birth_dates(year: int) -> list[str]:
    import datetime as dt

    start = dt.date(year, 1, 1)
    days = 366 if (dt.date(year + 1, 1, 1) - start).days == 366 else 365
    return [(start + dt.timedelta(days=d)).isoformat() for d in range(days)]
