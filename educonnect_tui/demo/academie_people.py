"""Families of the académie, as plain row tuples ready for the bulk load.

A million accounts must be generated in seconds, so nothing here builds ORM objects,
``datetime`` objects or dictionaries per row: names come from pre-weighted pools,
folded names and login bases are cached per name, times are integers turned into text
through ``academie_plan.Clock``. The rules stay the application's own: logins come
from ``identifiers.login_base`` with the numeric suffix rule of
``identifiers.login_with_suffix`` (unique across the whole database, existing logins
included), ``search_text`` is ``identifiers.search_key(last, first, login)`` and the
``search_token`` rows are ``search_index.words`` of it, as ``token_rows`` would write.

Families decide the proportions: two parents in most of them, sometimes one, a tutor
or a grandparent; siblings share their guardians, and a younger sibling is sometimes
in another school of the same secteur, so that guardian's account covers two schools.
The number of children per family is steered so that the académie ends with about
1.5 guardians per pupil, and the largest lycée with 5 guardians for 3 pupils.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..domain.model.enums import (
    AccountKind,
    AccountState,
    ActivationMethod,
    EstablishmentType,
    PupilStatus,
)
from ..domain.model.identifiers import fold, login_base, search_key
from ..domain.model.states import block_duration
from ..domain.store.search_index import words
from .academie_plan import DAY, HOUR, ClassPlan, Clock, School, Sizes
from .names import EMAIL_DOMAINS, ORIGIN_WEIGHTS, ORIGINS, RESIDENCES, STREETS

Row = tuple[Any, ...]

COLUMNS: dict[str, tuple[str, ...]] = {
    "establishment": ("id", "uai", "name", "type", "academie", "city"),
    "division": ("id", "establishment_id", "name", "level"),
    "pupil": ("id", "establishment_id", "ine", "last_name", "first_name", "birth_date",
              "division_id", "status", "left_on"),
    "guardian": ("id", "source_key", "civility", "last_name", "first_name", "email", "mobile",
                 "address", "postal_code", "city"),
    "guardian_link": ("guardian_id", "pupil_id", "relationship_label", "legal_guardian"),
    "account": ("id", "kind", "pupil_id", "guardian_id", "login", "search_text", "state",
                "activation_method", "temp_password_hash", "temp_issued_at", "temp_expires_at",
                "password_hash", "notification_count", "notified_at", "activated_at",
                "deactivated_at", "failed_attempts", "blocked_until", "block_count", "email",
                "email_confirmed_at", "version"),
    "search_token": ("token", "account_id"),
}  # fmt: skip

_INE_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
_PUPIL = AccountKind.PUPIL.value
_GUARDIAN = AccountKind.GUARDIAN.value
_NOT_NOTIFIED = AccountState.NOT_NOTIFIED.value
_NOTIFIED = AccountState.NOTIFIED.value
_ACTIVATED = AccountState.ACTIVATED.value
_DEACTIVATED = AccountState.DEACTIVATED.value
_TEMPORARY = ActivationMethod.TEMPORARY_CREDENTIALS.value
_FRANCECONNECT = ActivationMethod.FRANCECONNECT.value
_SELF_REGISTRATION = ActivationMethod.SELF_REGISTRATION.value
_ENROLLED = PupilStatus.ENROLLED.value
_LEFT = PupilStatus.LEFT.value
_KIND_ORDER = {EstablishmentType.LYCEE: 0, EstablishmentType.COLLEGE: 1,
               EstablishmentType.ECOLE: 2}  # fmt: skip
# Chance that a sibling is in the same school rather than another school of the secteur.
_SAME_SCHOOL = {EstablishmentType.LYCEE: 0.3, EstablishmentType.COLLEGE: 0.45,
                EstablishmentType.ECOLE: 0.6}  # fmt: skip


def _expand(pool: Sequence[str], flatness: int, size: int = 400) -> list[str]:
    """A list where earlier names come more often (as in ``demo._People.pick``)."""
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
class Counts:
    by_state: dict[str, int] = field(default_factory=dict)
    multi_school_guardians: int = 0
    blocked: int = 0


@dataclass
class _Adult:
    civility: str
    first: str
    last: str
    relation: str
    legal: bool
    home: tuple[str, str, str]


class People:
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
        self.rng = rng
        self.random = rng.random
        self.campaign = campaign
        self.draw = campaign.random
        self.clock = clock
        self.now = clock.now
        self.tables: dict[str, list[Row]] = {name: [] for name in COLUMNS}
        self.counts = Counts()
        self.next_pupil = first_ids["pupil"]
        self.next_guardian = first_ids["guardian"]
        self.next_account = first_ids["account"]
        self.hashes = list(hashes)
        self.pupil_validity = pupil_validity_days * DAY
        self.guardian_months = guardian_validity_months
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
        # Login allocation in memory: base -> last suffix used, and every login taken.
        self.taken = set(taken_logins)
        self.suffix = _suffixes(taken_logins)
        self.taken_ines = taken_ines
        self._bases: dict[tuple[str, str], str] = {}
        self._names: dict[tuple[str, str], str] = {}
        self._folded: dict[str, str] = {}
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
            if left is not None:
                left_moments.append(left)
            if first_letter is None and plan.notified is not None:
                first_letter = plan.notified
        all_left = max(left_moments) if len(left_moments) == len(placed) else None
        schools = {spot.id for spot, _plan in placed}
        links = self.tables["guardian_link"]
        for adult in adults:
            guardian_id = self._guardian(school, adult, first_letter, all_left)
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
        self, school: School, adult: _Adult, letter: int | None, all_left: int | None
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
             email, mobile, street, postal_code, town)
        )  # fmt: skip
        self._guardian_account(guardian_id, adult, school, letter, email, mobile, all_left)
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

    def _fold_plain(self, name: str) -> str:
        folded = self._folded.get(name)
        if folded is None:
            folded = "".join(ch for ch in fold(name) if ch.isalnum())
            self._folded[name] = folded
        return folded

    # --- accounts ---------------------------------------------------------------------

    def _pupil_account(
        self, pupil_id: int, first: str, last: str, plan: ClassPlan, left: int | None
    ) -> None:
        rnd = self.draw
        now = self.now - HOUR
        state, count = _NOT_NOTIFIED, 0
        notified = activated = expires = temp = password = email = confirmed = None
        if plan.notified is not None:
            notified = min(plan.notified + int(rnd() * 2 * HOUR), now)
            count = 1
            roll = rnd()
            if plan.hour is not None and roll < 0.86:
                activated = plan.hour + int(rnd() * 7 * HOUR)
            elif roll < (0.93 if plan.hour is not None else plan.home_rate):
                activated = notified + 16 * HOUR + int(self.campaign.expovariate(1 / (4 * DAY)))
            if activated is not None and activated < now:
                state = _ACTIVATED
                password = self.hashes[pupil_id % len(self.hashes)]
                if rnd() < 0.2:
                    email = f"{self._fold_plain(first) or 'eleve'}.{pupil_id}@gmail.com"
                    confirmed = activated + int(rnd() * 1800)
            else:
                activated = None
                state = _NOTIFIED
                if rnd() < 0.12:  # lost the letter: a second one was printed
                    again = notified + int(rnd() * 10 + 3) * DAY
                    if again < now:
                        notified, count = again, 2
                temp = self.hashes[(pupil_id + 1) % len(self.hashes)]
                expires = notified + self.pupil_validity
        method = _TEMPORARY if state == _ACTIVATED else None  # pupils' only way
        self._account(_PUPIL, pupil_id, None, first, last, state, method, temp, notified,
                      expires, password, count, activated, left, email, confirmed)  # fmt: skip

    def _guardian_account(
        self,
        guardian_id: int,
        adult: _Adult,
        school: School,
        letter: int | None,
        email: str | None,
        mobile: str | None,
        all_left: int | None,
    ) -> None:
        rnd = self.draw
        clock = self.clock
        now = self.now - HOUR
        progress = school.guardian_progress
        state, method, count = _NOT_NOTIFIED, None, 0
        notified = activated = expires = temp = password = account_email = confirmed = None
        roll = rnd()
        if roll < 0.6 * progress:
            method_roll = rnd()
            if method_roll < 0.5:
                method = _TEMPORARY
            elif method_roll < 0.85 or mobile is None:
                method = _FRANCECONNECT
            else:
                method = _SELF_REGISTRATION
            if method == _TEMPORARY or rnd() < 0.3:
                notified = self._letter(school, letter)
                count = 1
                activated = notified + 18 * HOUR + int(self.campaign.expovariate(1 / (5 * DAY)))
            else:  # FranceConnect and auto-inscription need no letter: mostly at the rentrée
                day = clock.school_day(self.campaign.triangular(3, 75, 70))
                activated = day + int(rnd() * 15 + 6) * HOUR
            if activated < now:
                state = _ACTIVATED
                password = self.hashes[guardian_id % len(self.hashes)]
                account_email = (
                    email or f"{self._fold_plain(adult.last) or 'famille'}.{guardian_id}@orange.fr"
                )
                confirmed = activated + int(rnd() * 1800)
            else:
                method, activated = None, None
                if notified is not None:
                    state = _NOTIFIED
        elif roll < 0.9 * progress + 0.05:
            notified = self._letter(school, letter)
            state, count = _NOTIFIED, 1
            if rnd() < 0.08:
                again = notified + int(rnd() * 15 + 5) * DAY
                if again < now:
                    notified, count = again, 2
        if state == _NOTIFIED and notified is not None:
            temp = self.hashes[(guardian_id + 1) % len(self.hashes)]
            expires = clock.months_later(notified, self.guardian_months)
        deactivated = None if all_left is None else all_left + HOUR
        self._account(_GUARDIAN, None, guardian_id, adult.first, adult.last, state, method,
                      temp, notified, expires, password, count, activated, deactivated,
                      account_email, confirmed)  # fmt: skip

    def _letter(self, school: School, class_letter: int | None) -> int:
        """When a guardian's letter went out: with the child's class, or the school's mailing."""
        if class_letter is not None:
            moment = class_letter + int(self.draw() * 4 * HOUR)
        else:
            running = max(1.0, (self.now - school.start) / DAY)
            days_ago = running * (1 - self.draw())
            moment = self.clock.school_day(days_ago) + int((self.draw() * 8 + 8) * HOUR)
        return min(moment, self.now - 2 * HOUR)

    def _account(
        self,
        kind: str,
        pupil_id: int | None,
        guardian_id: int | None,
        first: str,
        last: str,
        state: str,
        method: str | None,
        temp: str | None,
        notified: int | None,
        expires: int | None,
        password: str | None,
        count: int,
        activated: int | None,
        deactivated: int | None,
        email: str | None,
        confirmed: int | None,
    ) -> None:
        account_id = self.next_account
        self.next_account += 1
        login = self._login(first, last)
        name = self._names.get((last, first))
        if name is None:
            name = search_key(last, first)
            self._names[(last, first)] = name
        search_text = f"{name} {login.replace('.', ' ')}" if name else login.replace(".", " ")
        if deactivated is not None:
            state = _DEACTIVATED
        rnd = self.draw
        failed = block_count = 0
        blocked = None
        if state in (_NOTIFIED, _ACTIVATED):
            roll = rnd()
            if roll < 0.0015:  # locked out right now, after earlier blocks too
                block_count = 1 + int(rnd() * 4)
                length = int(block_duration(block_count - 1).total_seconds())
                blocked = self.now + int(length * (0.1 + 0.9 * rnd()))
                self.counts.blocked += 1
            elif roll < 0.008:
                failed = 1 + int(rnd() * 4)
        text = self.clock.text
        notified_text = None if notified is None else text(notified)
        self.tables["account"].append(
            (account_id, kind, pupil_id, guardian_id, login, search_text, state, method, temp,
             None if temp is None else notified_text,
             None if expires is None else text(expires),
             password, count, notified_text,
             None if activated is None else text(activated),
             None if deactivated is None else text(deactivated),
             failed, None if blocked is None else text(blocked), block_count, email,
             None if confirmed is None else text(confirmed), 1)
        )  # fmt: skip
        by_state = self.counts.by_state
        by_state[state] = by_state.get(state, 0) + 1
        tokens = self.tables["search_token"]
        for token in words(search_text):
            tokens.append((token, account_id))

    def _login(self, first: str, last: str) -> str:
        """``identifiers`` rules, allocated in memory: the next free suffix of the base."""
        base = self._bases.get((first, last))
        if base is None:
            base = login_base(first, last)
            self._bases[(first, last)] = base
        number = self.suffix.get(base, 0) + 1
        login = base if number == 1 else f"{base}{number}"
        while login in self.taken:  # another base plus digits, or a login already stored
            number += 1
            login = f"{base}{number}"
        self.suffix[base] = number
        self.taken.add(login)
        return login


def _pick(pool: list[str], rnd: Callable[[], float]) -> str:
    return pool[int(rnd() * len(pool))]


def _birth_dates(year: int) -> list[str]:
    import datetime as dt

    start = dt.date(year, 1, 1)
    days = 366 if (dt.date(year + 1, 1, 1) - start).days == 366 else 365
    return [(start + dt.timedelta(days=d)).isoformat() for d in range(days)]


def _suffixes(logins: set[str]) -> dict[str, int]:
    """base -> highest suffix already used, from the logins the database holds."""
    out: dict[str, int] = {}
    for login in logins:
        base = login.rstrip("0123456789")
        number = int(login[len(base) :]) if len(base) < len(login) else 1
        if number > out.get(base, 0):
            out[base] = number
    return out
