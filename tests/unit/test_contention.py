"""Imports at the same time: no collision, no raw driver text, nothing half-written."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from educonnect_tui.domain.accounts import logins
from educonnect_tui.domain.model.enums import EstablishmentType
from educonnect_tui.domain.model.errors import DatabaseBusy, DomainError
from educonnect_tui.domain.model.identifiers import uai_key
from educonnect_tui.domain.model.tables import Account, AuditEvent, Pupil
from educonnect_tui.domain.siecle.pupils import import_pupils
from educonnect_tui.domain.siecle.report import ImportReport
from educonnect_tui.domain.store import db, establishments
from educonnect_tui.domain.store.audit import Actor
from educonnect_tui.domain.store.services import Services
from tests import factories
from tests.helpers import RunCli

UAI = "0750655E"
OTHER_UAI = f"0750656{uai_key('0750656')}"
ACTOR = Actor(label="Mme Proviseure", source_address="10.0.0.1")
HEADER = "INE;Nom de famille;Prénom;Date de naissance;Division"
NAMES = [("MARTIN", "Léa"), ("DUPONT", "Marie"), ("N'DIAYE", "Jean-Baptiste"), ("LE GALL", "Maël")]


def _school(services: Services, uai: str) -> None:
    with services.sessions() as s, s.begin():
        establishments.create(
            s,
            uai=uai,
            name=f"Collège {uai}",
            type=EstablishmentType.COLLEGE,
            academie="Paris",
            city="Paris",
        )


def _pupils_file(tmp_path: Path, name: str, ine_prefix: str, names: int = len(NAMES) * 3) -> Path:
    """The same names in every school (so the same login bases), each its own INEs."""
    lines = [HEADER]
    for i, (last, first) in enumerate((NAMES * 3)[:names]):
        lines.append(f"{ine_prefix}{i:04d}A;{last};{first};14/03/2015;6E{1 + i % 2}")
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def in_step(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Both imports read the logins taken before either writes: the worst interleaving.

    Each waits for the other after its first login, for at most a second: imports that
    run one after the other (as they must) only lose that second.
    """
    barrier = threading.Barrier(2, timeout=1)
    waited: set[int] = set()
    allocate = logins.LoginAllocator.allocate

    def allocate_in_step(self: logins.LoginAllocator, first: str, last: str) -> str:
        login = allocate(self, first, last)
        if threading.get_ident() not in waited:
            waited.add(threading.get_ident())
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait()
        return login

    monkeypatch.setattr(logins.LoginAllocator, "allocate", allocate_in_step)
    yield


def _at_once(*work: Callable[[], ImportReport]) -> list[ImportReport | BaseException]:
    results: list[ImportReport | BaseException] = [RuntimeError("pas lancé")] * len(work)
    start = threading.Barrier(len(work))

    def run(index: int) -> None:
        start.wait()
        try:
            results[index] = work[index]()
        except BaseException as error:  # the test looks at whatever came out
            results[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(work))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_two_schools_importing_at_once_get_distinct_logins(
    services: Services, tmp_path: Path, in_step: None
) -> None:
    _school(services, UAI)
    _school(services, OTHER_UAI)
    first = _pupils_file(tmp_path, "a.csv", "070000")
    second = _pupils_file(tmp_path, "b.csv", "080000")
    # Last year's pupils, one per class: the classes exist, accounts are all that is added.
    for uai, prefix in ((UAI, "071111"), (OTHER_UAI, "081111")):
        earlier = _pupils_file(tmp_path, f"{uai}.csv", prefix, names=2)
        import_pupils(services, factories.operator(services, uai, ACTOR), earlier)
    # Last year's pupils all leave: a departure over the limit, confirmed.
    results = _at_once(
        lambda: import_pupils(
            services, factories.operator(services, UAI, ACTOR), first, allow_departures=True
        ),
        lambda: import_pupils(
            services, factories.operator(services, OTHER_UAI, ACTOR), second, allow_departures=True
        ),
    )
    assert all(isinstance(r, ImportReport) for r in results), results
    with services.sessions() as session:
        count = session.scalar(select(func.count(Account.id)))
        distinct = session.scalar(select(func.count(func.distinct(Account.login))))
        imports = session.scalar(
            select(func.count(AuditEvent.id)).where(AuditEvent.action == "import")
        )
    assert count == distinct == 2 * (len(NAMES) * 3 + 2)
    assert imports == 4


def test_the_same_school_imported_twice_at_once_is_written_once(
    services: Services, tmp_path: Path, in_step: None
) -> None:
    _school(services, UAI)
    path = _pupils_file(tmp_path, "a.csv", "070000")
    results = _at_once(
        lambda: import_pupils(services, factories.operator(services, UAI, ACTOR), path),
        lambda: import_pupils(services, factories.operator(services, UAI, ACTOR), path),
    )
    succeeded = [r for r in results if isinstance(r, ImportReport)]
    assert succeeded, results
    for result in results:
        # One after the other (the second finds nothing to change), or a French refusal.
        assert isinstance(result, ImportReport | DomainError), repr(result)
    with services.sessions() as session:
        pupils = session.scalar(select(func.count(Pupil.id)))
        accounts = session.scalar(select(func.count(Account.id)))
        imports = session.scalar(
            select(func.count(AuditEvent.id)).where(AuditEvent.action == "import")
        )
    assert pupils == accounts == len(NAMES) * 3
    assert imports == len(succeeded)


@contextlib.contextmanager
def _another_import(services: Services) -> Iterator[None]:
    """A writer that keeps the lock imports take while the test's import waits for it."""
    with services.sessions() as session, session.begin():
        db.serialise_writes(session)
        yield


def test_an_import_waiting_too_long_says_the_database_is_busy(
    services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _school(services, UAI)
    path = _pupils_file(tmp_path, "a.csv", "070000")
    operator = factories.operator(services, UAI, ACTOR)
    monkeypatch.setattr(db, "WRITE_LOCK_TIMEOUT_MS", 200)
    with (
        _another_import(services),
        pytest.raises(DatabaseBusy, match="occupée par une autre opération\u00a0: réessayez"),
    ):
        import_pupils(services, operator, path)
    with services.sessions() as session:
        assert session.scalar(select(func.count(Pupil.id))) == 0


def test_the_command_line_says_busy_in_one_line(
    cli_env: Services, run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _school(cli_env, UAI)
    path = _pupils_file(tmp_path, "a.csv", "070000")
    monkeypatch.setattr(db, "WRITE_LOCK_TIMEOUT_MS", 200)
    with _another_import(cli_env):
        code, out, err = run_cli(["import", "pupils", str(path), "--uai", UAI])
    assert code == 2 and out == ""
    assert err == (
        "educonnect-tui : erreur : La base de données est occupée par une autre opération : "
        "réessayez dans un instant.\n"
    )
    with cli_env.sessions() as session:
        assert session.scalar(select(func.count(Pupil.id))) == 0
