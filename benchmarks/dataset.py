"""The benchmark fixture: an académie of ~500 schools and ~1,000,000 accounts, in minutes.

Deterministic from the seed. Rows are generated as plain tuples and written with the
fastest path of each backend (one SQLite transaction of ``executemany``, PostgreSQL
``COPY``) into a schema built by the real migrations, then ``ANALYZE``. The ORM and its
events are bypassed, so the ``search_token`` rows are written here with the index's own
rule (``search_index.token_rows``). Password hashes come from a pool of a few argon2id
hashes of random secrets that are thrown away: nobody can sign in to these accounts,
which are data for measuring, not a demo.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select, text

from educonnect_tui.domain import db, passwords, staff
from educonnect_tui.domain.audit import Actor, record
from educonnect_tui.domain.demo_names import CITIES, EMAIL_DOMAINS, ORIGIN_WEIGHTS, ORIGINS
from educonnect_tui.domain.enums import StaffRole
from educonnect_tui.domain.identifiers import login_base, login_with_suffix, search_key, uai_key
from educonnect_tui.domain.models import Establishment
from educonnect_tui.domain.search_index import token_rows
from educonnect_tui.domain.services import Services

PUPILS = 400_000
GUARDIANS = 600_000
SCHOOLS = 500
LARGEST_PUPILS = 3_000
LARGEST_GUARDIANS = 5_000
LARGEST_UAI = f"0940001{uai_key('0940001')}"
PRINCIPAL = "bench.proviseur"

_LEVELS = {
    "ecole": ("CP", "CE1", "CE2", "CM1", "CM2"),
    "college": ("6e", "5e", "4e", "3e"),
    "lycee": ("2de", "1re", "Terminale"),
}
_PREFIX = {"6e": "6E", "5e": "5E", "4e": "4E", "3e": "3E", "2de": "2DE", "1re": "1RE",
           "Terminale": "TLE"}  # fmt: skip
_AGES = {"CP": 6, "CE1": 7, "CE2": 8, "CM1": 9, "CM2": 10, "6e": 11, "5e": 12, "4e": 13,
         "3e": 14, "2de": 15, "1re": 16, "Terminale": 17}  # fmt: skip


@dataclass(frozen=True)
class Dataset:
    schools: int
    pupils: int
    guardians: int
    accounts: int
    tokens: int
    largest_uai: str
    principal: str
    seconds: float


def _school_sizes(rng: random.Random, scale: float) -> list[tuple[str, int, int]]:
    """(type, pupils, guardians) per school; the first is the largest lycée."""
    count = max(3, round(SCHOOLS * scale))
    largest = (max(30, round(LARGEST_PUPILS * min(1.0, scale * 50))),)
    big_p = largest[0]
    big_g = round(big_p * LARGEST_GUARDIANS / LARGEST_PUPILS)
    rest_p = max(count - 1, round(PUPILS * scale) - big_p)
    rest_g = max(count - 1, round(GUARDIANS * scale) - big_g)
    kinds = ["ecole"] * (count // 2) + ["college"] * (count // 3)
    kinds += ["lycee"] * (count - 1 - len(kinds))
    weights = {"ecole": 0.45, "college": 1.3, "lycee": 2.2}
    raw = [weights[k] * rng.uniform(0.7, 1.3) for k in kinds]
    total = sum(raw)
    pupils = [max(1, round(rest_p * w / total)) for w in raw]
    pupils[-1] += rest_p - sum(pupils)
    guardians = [max(1, round(p * rest_g / rest_p)) for p in pupils]
    guardians[-1] += rest_g - sum(guardians)
    # No other school may outgrow the largest one.
    pairs = [(min(p, big_p - 1), min(g, big_g - 1)) for p, g in zip(pupils, guardians, strict=True)]
    return [("lycee", big_p, big_g)] + [(k, p, g) for k, (p, g) in zip(kinds, pairs, strict=True)]


class _Names:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.origins = list(ORIGIN_WEIGHTS)
        self.weights = [ORIGIN_WEIGHTS[o] for o in self.origins]

    def family(self) -> tuple[str, ...]:
        origin = self.rng.choices(self.origins, self.weights)[0]
        return ORIGINS[origin]  # (surnames, boys, girls, fathers, mothers)


def build(
    services: Services,
    *,
    seed: int = 2026,
    scale: float = 1.0,
    progress: Callable[[str], None] | None = None,
) -> Dataset:
    """Fill an empty, migrated database (``services``) with the académie."""
    started = time.perf_counter()
    say = progress or (lambda _message: None)
    rng = random.Random(seed)
    now = services.clock()
    db.upgrade(services.engine)
    hashes = passwords.hash_many(
        [secrets.token_urlsafe(12) for _ in range(8)], services.hash_params, workers=1
    )
    tables: dict[str, list[tuple[Any, ...]]] = {
        name: []
        for name in (
            "establishment", "division", "pupil", "guardian", "guardian_link", "account",
            "search_token",
        )
    }  # fmt: skip
    names = _Names(rng)
    logins: dict[str, int] = {}
    ids = {"division": 0, "pupil": 0, "guardian": 0, "account": 0}
    sizes = _school_sizes(rng, scale)
    cities = [city for _postcode, city, _weight in CITIES]
    for number, (kind, n_pupils, n_guardians) in enumerate(sizes, start=1):
        digits = f"094{number:04d}"
        uai = f"{digits}{uai_key(digits)}"
        city = cities[number % len(cities)]
        label = {"ecole": "École", "college": "Collège", "lycee": "Lycée"}[kind]
        tables["establishment"].append(
            (number, uai, f"{label} n° {number} de {city}", kind, "Créteil", city)
        )
        divisions = _divisions(tables, ids, number, kind, n_pupils)
        _people(tables, ids, rng, names, logins, hashes, now, number, divisions, n_pupils,
                n_guardians, early=number == 1)  # fmt: skip
        if number % 50 == 0:
            say(f"écoles générées : {number}/{len(sizes)}")
    say(f"écriture de {sum(len(v) for v in tables.values()):,} lignes".replace(",", " "))
    _write(services.engine, tables)
    with services.sessions() as session, session.begin():
        school = session.scalar(select(Establishment).where(Establishment.uai == LARGEST_UAI))
        assert school is not None
        staff.create_staff(
            session,
            first_name="Proviseur",
            last_name="Banc d'essai",
            role=StaffRole.DIRECTION,
            establishments=[school],
            hash_params=services.hash_params,
            title="Proviseur",
            login=PRINCIPAL,
        )
        record(
            session,
            Actor.command_line(),
            "demo",
            now=now,
            details={"academie": True, "seed": seed, "scale": scale},
        )
    return Dataset(
        schools=len(sizes),
        pupils=len(tables["pupil"]),
        guardians=len(tables["guardian"]),
        accounts=len(tables["account"]),
        tokens=len(tables["search_token"]),
        largest_uai=LARGEST_UAI,
        principal=PRINCIPAL,
        seconds=time.perf_counter() - started,
    )


def _divisions(
    tables: dict[str, list[tuple[Any, ...]]], ids: dict[str, int], school: int, kind: str,
    pupils: int,
) -> list[tuple[int, str]]:  # fmt: skip
    """(division id, level) for classes of about 28 pupils over the school's levels."""
    levels = _LEVELS[kind]
    per_level = max(1, round(pupils / len(levels) / 28))
    out = []
    for level in levels:
        for index in range(1, per_level + 1):
            ids["division"] += 1
            name = f"{_PREFIX.get(level, level)}{index}" if kind != "ecole" else f"{level}-{index}"
            tables["division"].append((ids["division"], school, name, level))
            out.append((ids["division"], level))
    return out


def _login(logins: dict[str, int], first: str, last: str) -> str:
    base = login_base(first, last)
    number = logins.get(base, 0) + 1
    logins[base] = number
    return login_with_suffix(base, number)


def _people(
    tables: dict[str, list[tuple[Any, ...]]],
    ids: dict[str, int],
    rng: random.Random,
    names: _Names,
    logins: dict[str, int],
    hashes: Sequence[str],
    now: dt.datetime,
    school: int,
    divisions: list[tuple[int, str]],
    n_pupils: int,
    n_guardians: int,
    *,
    early: bool,
) -> None:
    """Families: 1–3 children of the school sharing their guardians (1.67 per pupil here)."""
    remaining_p, remaining_g = n_pupils, n_guardians
    while remaining_p > 0:
        surnames, boys, girls, fathers, mothers = names.family()
        last = rng.choice(surnames[: max(3, len(surnames))])
        children = min(remaining_p, rng.choice((1, 1, 1, 2, 2, 3)))
        wanted = round(children * remaining_g / remaining_p) if remaining_p else 1
        # Two parents, and for siblings sometimes a step-parent or a tutor too.
        adults = max(1, min(remaining_g, wanted, 2 + children - 1))
        guardian_ids = []
        for index in range(adults):
            first = rng.choice(fathers if index == 0 else mothers)
            ids["guardian"] += 1
            guardian_id = ids["guardian"]
            civility = "M." if index == 0 else "Mme"
            email = f"{guardian_id}@{rng.choice(EMAIL_DOMAINS)}" if rng.random() < 0.8 else None
            tables["guardian"].append(
                (guardian_id, f"A{guardian_id}", civility, last, first, email,
                 f"06{guardian_id % 100_000_000:08d}", "", "", "")
            )  # fmt: skip
            guardian_ids.append(guardian_id)
            _account(tables, ids, rng, logins, hashes, now, "responsable", None, guardian_id,
                     first, last, email, early)  # fmt: skip
        for _ in range(children):
            division_id, level = rng.choice(divisions)
            first = rng.choice(boys if rng.random() < 0.5 else girls)
            ids["pupil"] += 1
            pupil_id = ids["pupil"]
            birth = dt.date(now.year - _AGES[level] - 1, rng.randint(1, 12), rng.randint(1, 28))
            tables["pupil"].append(
                (pupil_id, school, f"{pupil_id:09d}AB", last, first, birth, division_id,
                 "inscrit" if rng.random() > 0.005 else "parti")
            )  # fmt: skip
            for index, guardian_id in enumerate(guardian_ids):
                tables["guardian_link"].append(
                    (guardian_id, pupil_id, ("père", "mère", "tuteur")[min(index, 2)], index < 2)
                )
            _account(tables, ids, rng, logins, hashes, now, "eleve", pupil_id, None, first,
                     last, None, early)  # fmt: skip
        remaining_p -= children
        remaining_g -= adults


def _account(
    tables: dict[str, list[tuple[Any, ...]]],
    ids: dict[str, int],
    rng: random.Random,
    logins: dict[str, int],
    hashes: Sequence[str],
    now: dt.datetime,
    kind: str,
    pupil_id: int | None,
    guardian_id: int | None,
    first: str,
    last: str,
    email: str | None,
    early: bool,
) -> None:
    ids["account"] += 1
    account_id = ids["account"]
    login = _login(logins, first, last)
    search = search_key(last, first, login)
    roll = rng.random()
    if early and roll < 0.75 and rng.random() < 0.7:
        roll = 0.8  # the largest school starts its campaign: most accounts still to notify
    state, method = "non_notifie", None
    notified = activated = issued = expires = temp = permanent = None
    count = 0
    if roll < 0.75:
        notified = issued = now - dt.timedelta(days=rng.uniform(1, 80))
        expires = issued + dt.timedelta(days=90)
        temp, state, count = rng.choice(hashes), "notifie", 1
        if roll < 0.55:
            activated = notified + dt.timedelta(days=rng.uniform(0, (now - notified).days or 1))
            state, temp, issued, expires = "active", None, None, None
            permanent = rng.choice(hashes)
            if kind == "responsable":
                method = rng.choice(("identifiants_provisoires", "franceconnect",
                                     "auto_inscription"))  # fmt: skip
    elif roll > 0.99:
        state = "desactive"
    blocked = now + dt.timedelta(minutes=15) if rng.random() < 0.002 else None
    tables["account"].append(
        (account_id, kind, pupil_id, guardian_id, login, search, state, method, temp,
         _utc(issued), _utc(expires), permanent, count, _utc(notified), _utc(activated),
         0, _utc(blocked), 1 if blocked else 0, email, 1)
    )  # fmt: skip
    tables["search_token"].extend(
        (row["token"], row["account_id"]) for row in token_rows(account_id, search)
    )


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    return None if value is None else value.astimezone(dt.UTC).replace(tzinfo=None)


_COLUMNS = {
    "establishment": "id, uai, name, type, academie, city",
    "division": "id, establishment_id, name, level",
    "pupil": "id, establishment_id, ine, last_name, first_name, birth_date, division_id, status",
    "guardian": "id, source_key, civility, last_name, first_name, email, mobile, address, "
    "postal_code, city",
    "guardian_link": "guardian_id, pupil_id, relationship_label, legal_guardian",
    "account": "id, kind, pupil_id, guardian_id, login, search_text, state, activation_method, "
    "temp_password_hash, temp_issued_at, temp_expires_at, password_hash, notification_count, "
    "notified_at, activated_at, failed_attempts, blocked_until, block_count, email, version",
    "search_token": "token, account_id",
}


def _write(engine: Engine, tables: dict[str, list[tuple[Any, ...]]]) -> None:
    tables["search_token"].sort()  # index order: the primary key B-tree grows at its end
    if engine.dialect.name == "sqlite":
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.execute("PRAGMA cache_size=-400000")
            for name, rows in tables.items():
                marks = ", ".join("?" * len(_COLUMNS[name].split(",")))
                cursor.executemany(
                    f"INSERT INTO {name} ({_COLUMNS[name]}) VALUES ({marks})", _sqlite(rows)
                )
            raw.commit()
            cursor.execute("ANALYZE")
            raw.commit()
        finally:
            raw.close()
        return
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for name, rows in tables.items():
            with cursor.copy(f"COPY {name} ({_COLUMNS[name]}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                for row in rows:
                    copy.write_row(row)
        for name in ("establishment", "division", "pupil", "guardian", "account"):
            if True:
                cursor.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                        f"(SELECT max(id) FROM {name}))"
                    ).text
                )
        raw.commit()
        cursor.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()


def _sqlite(rows: list[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    for row in rows:
        yield tuple(
            v.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(v, dt.datetime) else v.isoformat()
            if isinstance(v, dt.date) else v
            for v in row
        )  # fmt: skip
