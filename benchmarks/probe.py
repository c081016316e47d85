"""Child processes of the benchmark: each prints one JSON line on stdout.

``home``: from a cold interpreter to the home page of a school painted with its rows,
then filter changes, then a 2,000-pupil (re)notification in a worker while keys are
pressed. ``datatable``: the reference, the same kind of rows put into Textual's built-in
DataTable. Run by ``benchmarks/run.py``; the parent clocks process start.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

# First, as in the real process (the command imports the package before Textual): the
# package sets the collector's thresholds for the start-up.
import educonnect_tui  # noqa: F401

# isort: split
from textual.app import App, ComposeResult
from textual.pilot import Pilot

if TYPE_CHECKING:  # imported at run time inside the probes, after the clock has started
    from educonnect_tui.domain.store.services import Services
    from educonnect_tui.widgets.account_table import AccountTable

WAIT_STEP = 0.002


def _peak_mb() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited from the
    parent that forked it, which may have built a million-row dataset)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _notifiable_ids(
    services: Services, school_id: int, count: int, division: str | None = None
) -> list[int]:
    """The first ``count`` enrolled pupils' accounts a notification would take, by id."""
    from sqlalchemy import select

    from educonnect_tui.domain.model.enums import PupilStatus
    from educonnect_tui.domain.model.states import NOTIFIED_BY_DEFAULT
    from educonnect_tui.domain.model.tables import Account, Division, Pupil

    query = (
        select(Account.id)
        .join(Pupil, Pupil.id == Account.pupil_id)
        .where(Pupil.establishment_id == school_id)
        .where(Account.state.in_(NOTIFIED_BY_DEFAULT))
        .where(Pupil.status == PupilStatus.ENROLLED)
        .order_by(Account.id)
        .limit(count)
    )
    if division is not None:
        query = query.join(Division, Division.id == Pupil.division_id).where(
            Division.name == division
        )
    with services.sessions() as session:
        return list(session.scalars(query))


def _emit(**values: Any) -> None:
    print(json.dumps(values), flush=True)


async def _until(pilot: Pilot[Any], condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError("the screen never showed its rows")
        await asyncio.sleep(WAIT_STEP)


def home(url: str, uai: str, login: str, notify_count: int, *, start_only: bool = False) -> None:
    from sqlalchemy import select

    from educonnect_tui import process
    from educonnect_tui.app import create_app
    from educonnect_tui.domain.access import sign_in as auth
    from educonnect_tui.domain.access.caller import SchoolSession
    from educonnect_tui.domain.access.network import Connection, NetworkMode
    from educonnect_tui.domain.accounts.notification import NotifyRequest, notify
    from educonnect_tui.domain.accounts.selection import Selection
    from educonnect_tui.domain.model.enums import AccountKind, AccountState, Module
    from educonnect_tui.domain.model.states import NOTIFIED_BY_DEFAULT
    from educonnect_tui.domain.model.tables import Establishment, Staff
    from educonnect_tui.domain.store.services import Services
    from educonnect_tui.domain.store.settings import Settings
    from educonnect_tui.widgets.account_table import AccountTable

    services = Services.from_settings(Settings(database_url=url))
    services.upgrade()
    with services.sessions() as session, session.begin():
        staff = session.scalar(select(Staff).where(Staff.login == login))
        school = session.scalar(select(Establishment).where(Establishment.uai == uai))
        assert staff is not None and school is not None
        person = auth.session_of(
            staff,
            connection=Connection(address="10.0.0.5", via_ssh=True),
            module=Module.ADMINISTRATION,
            mode=NetworkMode.ADMIN,
            now=services.clock(),
        )
    signed_in = (
        person
        if isinstance(person, SchoolSession)
        else person.at(next(s for s in person.identity.schools if s.uai == uai))
    )
    # As the entry point opens the TUI (app.run_app), so that start-up is measured alike.
    process.for_interface()
    app = create_app(
        services, signed_in=signed_in, after_first_paint=process.freeze_start_up_objects
    )

    async def run() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await _until(pilot, lambda: _shown(app, "#table-eleves"))
            table = app.screen.query_one("#table-eleves", AccountTable)
            _emit(event="home", wall=time.time(), rows=table.total, peak_mb=_peak_mb())
            if start_only:
                return
            divisions = [d.name for d in table._listing.divisions()]
            states = list(AccountState)
            timings: dict[str, list[float]] = {}
            for tab, key in (("#table-eleves", "1"), ("#table-responsables", "2")):
                await pilot.press(key)
                changing = app.screen.query_one(tab, AccountTable)
                await _until(pilot, lambda: _shown(app, tab))  # noqa: B023
                for index in range(40):
                    query = changing.query_.with_selection(
                        divisions=(divisions[index % len(divisions)],) if index % 2 else (),
                        states=(states[index % len(states)],) if index % 3 else (),
                    )
                    started = time.perf_counter()
                    changing.set_query(query)
                    await _until(pilot, lambda: _shown(app, tab))  # noqa: B023
                    timings.setdefault(tab, []).append((time.perf_counter() - started) * 1000)
            await pilot.press("1")
            _emit(event="filters", ms=timings, peak_mb=_peak_mb())

            ids = _notifiable_ids(services, school.id, notify_count)
            outcome: dict[str, Any] = {}
            folder = Path(tempfile.mkdtemp(prefix="educonnect-bench-"))

            def job() -> None:
                started = time.perf_counter()
                request = NotifyRequest(
                    AccountKind.PUPIL,
                    Selection(account_ids=tuple(ids), states=NOTIFIED_BY_DEFAULT),
                    pdf_path=folder / "eleves.pdf",
                    csv_path=folder / "eleves.csv",
                )
                result = notify(services, signed_in, request)
                outcome["seconds"] = time.perf_counter() - started
                outcome["accounts"] = result.count

            table.set_query(table.query_.with_selection(divisions=(), states=()))
            await _until(pilot, lambda: _shown(app, "#table-eleves"))
            # The floor's unit, measured here and now: same process, 60 hashes right before
            # and 60 right after the job, averaged. This machine's speed swings by up to 2x
            # within a second; the job's half-minute averages those swings, so its floor
            # must average them too (a median of a short run lands on one side).
            hasher = services.hash_params.hasher()
            singles: list[float] = []

            def measure_hash() -> None:
                for _ in range(60):
                    started = time.perf_counter()
                    hasher.hash("mot-de-passe-provisoire")
                    singles.append((time.perf_counter() - started) * 1000)

            measure_hash()
            worker = threading.Thread(target=job)
            worker.start()
            latencies = []
            await asyncio.sleep(0.5)
            while worker.is_alive():
                before = table.cursor
                started = time.perf_counter()
                # As the terminal driver does (Pilot.press would also wait for the whole
                # process to look idle, which it is not while the job runs).
                app.simulate_key("down" if before < 30 else "up")
                await _until(pilot, lambda: table.cursor != before, timeout=10)  # noqa: B023
                latencies.append((time.perf_counter() - started) * 1000)
                await asyncio.sleep(0.2)
            worker.join()
            measure_hash()
            _emit(
                event="notify",
                seconds=outcome.get("seconds"),
                accounts=outcome.get("accounts"),
                key_ms=latencies,
                hash_ms=sum(singles) / len(singles),
                peak_mb=_peak_mb(),
            )

    asyncio.run(run())


THINK_SECONDS = 2.0


def session(
    url: str,
    uai: str,
    login: str,
    role: str,
    count: int,
    *,
    index: int = 0,
    hash_params: Any = None,
    division: str | None = None,
    ready: Callable[[], None] | None = None,
    think: float | None = None,
) -> None:
    """One staff member's session on a shared server, the real app headless.

    Signs in, paints the home page, prints ``ready`` and waits for a line on stdin (the
    parent starts every session at once). Then, as ``browse``: ``count`` filter changes
    and searches on both tabs, about two seconds of thought between two (staff read what
    they filtered), each timed until the table has painted its rows; as ``notify``: a
    (re)notification of up to ``count`` pupils of the school (of ``division`` if given)
    with PDF and CSV in a thread of the app, as (re)Notifier runs it.
    """
    import random

    from sqlalchemy import select

    from educonnect_tui import process
    from educonnect_tui.app import create_app
    from educonnect_tui.domain.access import sign_in as auth
    from educonnect_tui.domain.access.caller import SchoolSession
    from educonnect_tui.domain.access.network import Connection, NetworkMode
    from educonnect_tui.domain.accounts.notification import NotifyRequest, notify
    from educonnect_tui.domain.accounts.selection import Selection
    from educonnect_tui.domain.model.enums import AccountKind, AccountState, Module
    from educonnect_tui.domain.model.states import NOTIFIED_BY_DEFAULT
    from educonnect_tui.domain.model.tables import Establishment, Pupil, Staff
    from educonnect_tui.domain.store.services import Services
    from educonnect_tui.domain.store.settings import Settings
    from educonnect_tui.widgets.account_table import AccountTable

    services = Services.from_settings(Settings(database_url=url), hash_params=hash_params)
    with services.sessions() as db_session, db_session.begin():
        staff = db_session.scalar(select(Staff).where(Staff.login == login))
        school = db_session.scalar(select(Establishment).where(Establishment.uai == uai))
        assert staff is not None and school is not None
        person = auth.session_of(
            staff,
            connection=Connection(address=f"10.0.0.{10 + index}", via_ssh=True),
            module=Module.ADMINISTRATION,
            mode=NetworkMode.ADMIN,
            now=services.clock(),
        )
        names = list(
            db_session.scalars(
                select(Pupil.last_name)
                .where(Pupil.establishment_id == school.id)
                .order_by(Pupil.id)
                .limit(200)
            )
        )
    signed_in = (
        person
        if isinstance(person, SchoolSession)
        else person.at(next(s for s in person.identity.schools if s.uai == uai))
    )
    process.for_interface()
    app = create_app(services, signed_in=signed_in)
    rng = random.Random(index)

    async def browse(pilot: Pilot[Any]) -> None:
        first = app.screen.query_one("#table-eleves", AccountTable)
        divisions = [d.name for d in first._listing.divisions()]
        states = list(AccountState)
        timings: list[float] = []
        kinds: list[str] = []
        at: list[float] = []
        began = time.time()
        for step in range(count):
            tab, key = (("#table-eleves", "1"), ("#table-responsables", "2"))[step // 10 % 2]
            if step % 10 == 0:
                await pilot.press(key)
                await _until(pilot, lambda: _shown(app, tab))  # noqa: B023
            table = app.screen.query_one(tab, AccountTable)
            searching = step % 3 == 2 and names
            if searching:
                name = rng.choice(names)
                query = table.query_.with_selection(
                    divisions=(), states=(), search=name[: rng.choice((3, 5, len(name)))]
                )
            else:
                query = table.query_.with_selection(
                    divisions=(rng.choice(divisions),) if rng.random() < 0.5 else (),
                    states=(rng.choice(states),) if rng.random() < 0.6 else (),
                    search="",
                )
            at.append(time.time())
            started = time.perf_counter()
            table.set_query(query)
            await _until(pilot, lambda: _shown(app, tab))  # noqa: B023
            timings.append((time.perf_counter() - started) * 1000)
            kinds.append("recherche" if searching else "filtre")
            pause = THINK_SECONDS if think is None else think
            await asyncio.sleep(pause * rng.uniform(0.6, 1.4))
        _emit(event="actions", ms=timings, kinds=kinds, at=at, began=began, ended=time.time())

    def notify_now() -> None:
        ids = _notifiable_ids(services, school.id, count, division)
        folder = Path(tempfile.mkdtemp(prefix="educonnect-bench-"))
        began = time.time()
        result = notify(
            services,
            signed_in,
            NotifyRequest(
                AccountKind.PUPIL,
                Selection(
                    divisions=(division,) if division else (),
                    account_ids=tuple(ids),
                    states=NOTIFIED_BY_DEFAULT,
                ),
                pdf_path=folder / "eleves.pdf",
                csv_path=folder / "eleves.csv",
            ),
        )
        _emit(
            event="notify",
            seconds=time.time() - began,
            accounts=result.count,
            ids=ids,
            left_out=list(result.left_out),
            began=began,
            ended=time.time(),
        )

    async def run() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await _until(pilot, lambda: _shown(app, "#table-eleves"))
            _emit(event="ready", index=index)
            await asyncio.get_running_loop().run_in_executor(None, ready or sys.stdin.readline)
            if role == "notify":
                worker = threading.Thread(target=notify_now)
                worker.start()
                while worker.is_alive():
                    await asyncio.sleep(0.05)
                worker.join()
            else:
                await browse(pilot)

    asyncio.run(run())


def _shown(app: App[Any], selector: str) -> bool:
    """The table has counted its rows and holds the page at the top of the view."""
    tables = app.screen.query(selector)
    if not tables:
        return False
    table = cast("AccountTable", tables.first())
    return bool(table.total is not None and table.painted_generation == table._generation)


def datatable(url: str, uai: str, limit: int) -> None:
    """The reference: rows read with one query and added to a DataTable, until painted."""
    from sqlalchemy import select
    from textual.widgets import DataTable

    from educonnect_tui.domain.model.tables import Account, Establishment, Pupil
    from educonnect_tui.domain.store.services import Services
    from educonnect_tui.domain.store.settings import Settings

    services = Services.from_settings(Settings(database_url=url))
    with services.sessions() as session:
        query = select(
            Account.state, Pupil.last_name, Pupil.first_name, Account.login, Pupil.birth_date
        ).join(Pupil, Pupil.id == Account.pupil_id)
        if limit:
            query = query.order_by(Account.id).limit(limit)
        else:
            school = session.scalar(select(Establishment.id).where(Establishment.uai == uai))
            query = query.where(Pupil.establishment_id == school)
        rows = [tuple(str(v) for v in row) for row in session.execute(query)]

    class Reference(App[None]):
        def compose(self) -> ComposeResult:
            yield DataTable()

        def on_mount(self) -> None:
            table = self.query_one(DataTable)
            table.add_columns("État", "Nom", "Prénom", "Identifiant", "Naissance")
            table.add_rows(rows)

    async def run() -> None:
        app = Reference()
        async with app.run_test(size=(120, 40)) as pilot:
            await _until(pilot, lambda: app.query_one(DataTable).row_count == len(rows))
            await pilot.pause()
            _emit(event="datatable", wall=time.time(), rows=len(rows), peak_mb=_peak_mb())

    asyncio.run(run())


def main(argv: Sequence[str] | None = None) -> None:
    """``home|start URL UAI LOGIN COUNT``, ``datatable URL UAI LIMIT`` or
    ``session URL UAI LOGIN browse|notify COUNT INDEX [THINK_SECONDS]``."""
    what, url, uai, *rest = sys.argv[1:] if argv is None else argv
    if what == "session":
        think = float(rest[4]) if len(rest) > 4 else None
        session(url, uai, rest[0], rest[1], int(rest[2]), index=int(rest[3]), think=think)
    elif what in ("home", "start"):
        home(url, uai, rest[0], int(rest[1]), start_only=what == "start")
    else:
        datatable(url, uai, int(rest[0]))


if __name__ == "__main__":
    main()
