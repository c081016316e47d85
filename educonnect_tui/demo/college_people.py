"""The collège demo's families: names, birth dates, addresses and contact details.

Everything is drawn from one ``random.Random`` in a fixed order, so the same seed gives
the same people; pools of names come from ``names.py``, earlier names more often.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..domain.model.identifiers import fold
from .names import CITIES, EMAIL_DOMAINS, ORIGIN_WEIGHTS, ORIGINS, RESIDENCES, STREETS


@dataclass
class Child:
    first_name: str
    last_name: str
    birth_date: dt.date
    division: str
    school: str  # a UAI
    left_on: dt.date | None = None


@dataclass
class Adult:
    civility: str
    first_name: str
    last_name: str
    relation: str
    legal: bool
    address: tuple[str, str, str]  # street line, postal code, city


@dataclass
class Family:
    origin: str
    surname: str
    adults: list[Adult] = field(default_factory=list)
    children: list[Child] = field(default_factory=list)


class People:
    """Draws names, dates and contact details from one ``random.Random``."""

    def __init__(self, rng: random.Random, school_year: int) -> None:
        self.rng = rng
        self.school_year = school_year
        self._ines: set[str] = set()
        self._origins = list(ORIGIN_WEIGHTS)
        self._origin_weights = list(ORIGIN_WEIGHTS.values())

    def pick(self, pool: Sequence[str], flatness: int = 12) -> str:
        """Earlier names of a pool are more frequent, as in real registers."""
        weights = [1.0 / (rank + flatness) for rank in range(len(pool))]
        return self.rng.choices(pool, weights=weights)[0]

    def surname(self, origin: str) -> str:
        # Flatter than first names: even "Martin" is only about 1 % of a school.
        return self.pick(ORIGINS[origin][0], flatness=40)

    def origin(self) -> str:
        return self.rng.choices(self._origins, weights=self._origin_weights)[0]

    def child_first_name(self, origin: str) -> str:
        # Many children of immigrant families get a French first name.
        pools = ORIGINS[origin if self.rng.random() < 0.7 else "fr"]
        return self.pick(pools[1] if self.rng.random() < 0.5 else pools[2])

    def birth_date(self, born: int) -> dt.date:
        return dt.date(born, 1, 1) + dt.timedelta(days=self.rng.randrange(365))

    def birth_year(self, level: str) -> int:
        """6e pupils are 11 at the rentrée; some repeated a year, a few are ahead."""
        age = {"6": 11, "5": 12, "4": 13, "3": 14, "CM1": 9, "CM2": 10}[level]
        roll = self.rng.random()
        repeat = 0.10 if level == "3" else 0.04
        if level == "3" and roll < 0.015:
            age += 2
        elif roll < repeat:
            age += 1
        elif roll > 0.99:
            age -= 1
        return self.school_year - age

    def ine(self) -> str:
        while True:
            digits = f"{self.rng.randrange(10**9):09d}"
            letters = "".join(self.rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(2))
            ine = digits + letters
            if ine not in self._ines:
                self._ines.add(ine)
                return ine

    def address(self) -> tuple[str, str, str]:
        number = self.rng.randint(1, 140)
        suffix = " bis" if self.rng.random() < 0.05 else ""
        street = f"{number}{suffix} {self.pick(STREETS)}"
        if self.rng.random() < 0.25:
            street = self.rng.choice(RESIDENCES) + street
        postal, city = self.rng.choices(
            [(c[0], c[1]) for c in CITIES], weights=[c[2] for c in CITIES]
        )[0]
        return street, postal, city

    def family(self, origin: str | None = None, surname: str | None = None) -> Family:
        origin = origin or self.origin()
        pools = ORIGINS[origin]
        family = Family(origin, surname or self.surname(origin))
        home = self.address()
        roll = self.rng.random()
        if roll < 0.85:  # two parents; some separated, some mothers keep their own name
            mother_origin = origin if self.rng.random() < 0.85 else self.origin()
            mother_name = family.surname
            if self.rng.random() < 0.4:
                mother_name = self.surname(mother_origin)
            mother_home = home if self.rng.random() < 0.85 else self.address()
            family.adults += [
                Adult("Mme", self.pick(ORIGINS[mother_origin][4]), mother_name, "mère", True,
                       mother_home),
                Adult("M.", self.pick(pools[3]), family.surname, "père", True, home),
            ]  # fmt: skip
        elif roll < 0.93:
            family.adults.append(
                Adult("Mme", self.pick(pools[4]), family.surname, "mère", True, home)
            )
        elif roll < 0.97:
            family.adults.append(
                Adult("M.", self.pick(pools[3]), family.surname, "père", True, home)
            )
        else:  # a legal guardian who is not a parent (tutelle)
            civility = self.rng.choice(("Mme", "M."))
            first = self.pick(pools[4] if civility == "Mme" else pools[3])
            family.adults.append(
                Adult(civility, first, self.surname(origin), "tuteur", True, self.address())
            )
        if self.rng.random() < 0.03:  # a grandparent the family asked the school to know
            family.adults.append(
                Adult("Mme", self.pick(pools[4]), family.surname, "autre", False, self.address())
            )
        return family

    def child(self, family: Family, level: str, division: str, school: str) -> Child:
        last = family.surname
        mother = next((a for a in family.adults if a.relation == "mère"), None)
        if mother is not None and mother.last_name != family.surname:
            roll = self.rng.random()
            if roll < 0.1:
                last = f"{family.surname}-{mother.last_name}"
            elif roll < 0.15:
                last = mother.last_name
        return Child(
            self.child_first_name(family.origin),
            last,
            self.birth_date(self.birth_year(level)),
            division,
            school,
        )

    def email(self, adult: Adult) -> str:
        first = fold(adult.first_name).replace(" ", "").replace("'", "") or "contact"
        last = "".join(ch for ch in fold(adult.last_name) if ch.isalnum()) or "famille"
        style = self.rng.randrange(4)
        local = (
            f"{first}.{last}",
            f"{first[0]}{last}",
            f"{first}{last}{self.rng.randint(1, 99)}",
            f"{last}.{first}",
        )[style]
        return f"{local}@{self.pick(EMAIL_DOMAINS)}"

    def mobile(self) -> str:
        digits = [self.rng.choice("67"), *(str(self.rng.randrange(10)) for _ in range(8))]
        number = "0" + "".join(digits)
        return " ".join(number[i : i + 2] for i in range(0, 10, 2))
