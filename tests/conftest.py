"""Shared fixtures: a fresh, migrated database per test on SQLite and on PostgreSQL.

PostgreSQL tests run against ``EDUCONNECT_TEST_POSTGRES_URL`` (default: the local
server on 127.0.0.1:5432, database ``test``). Where no server answers they are skipped
with the reason, unless ``EDUCONNECT_REQUIRE_POSTGRES=1`` (set by ``.ci/run``), in which
case they fail: CI must never silently skip them.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from educonnect_tui import cli
from educonnect_tui.app import EduConnectApp, create_app
from educonnect_tui.demo import college as demo
from educonnect_tui.domain.model.tables import Base
from educonnect_tui.domain.store import db
from educonnect_tui.domain.store.audit import Actor
from educonnect_tui.domain.store.services import Services
from educonnect_tui.domain.store.settings import KEY_FILE_NAME, HashParams, Settings
from tests.helpers import RunCli, missing
from tests.mail_server import Inbox, running

POSTGRES_URL = os.environ.get(
    "EDUCONNECT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REQUIRE_POSTGRES = os.environ.get("EDUCONNECT_REQUIRE_POSTGRES") == "1"
# Cheap argon2id for the bulk of the tests; test_passwords checks the real parameters.
FAST_HASH = HashParams(time_cost=1, memory_kib=64, parallelism=1)
START = dt.datetime(2026, 9, 1, 8, 0, tzinfo=dt.UTC)


class FakeClock:
    """A clock tests can move; services read it through ``Services.clock``."""

    def __init__(self, now: dt.datetime = START) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += dt.timedelta(**kwargs)


def _postgres_available() -> str | None:
    """None when the server answers, else why not."""
    try:
        engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as error:  # any driver or network error means "not here"
        return f"PostgreSQL injoignable à {make_url(POSTGRES_URL).render_as_string()}: {error}"
    return None


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (migrating once keeps the suite fast)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade(engine)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[str]:
    """A private schema migrated once; tests empty it with TRUNCATE."""
    reason = _postgres_available()
    if reason:
        missing("POSTGRES", reason)
    schema = f"edu_test_{secrets.token_hex(4)}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = postgres_url(schema)
    engine = db.make_engine(url)
    db.upgrade(engine)
    engine.dispose()
    yield url
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def postgres_url(schema: str) -> str:
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


def _truncate(url: str) -> None:
    engine = db.make_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty, migrated database: once per backend."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path / "educonnect.db"
        shutil.copy(template, target)
        return f"sqlite:///{target}"
    url: str = request.getfixturevalue("postgres_schema")
    _truncate(url)
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no schema at all, on each backend (a private PostgreSQL schema):
    for migrations, upgraded by the test to the revision it starts from."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    request.getfixturevalue("postgres_schema")  # skips (or fails) without a server
    schema = f"edu_mig_{secrets.token_hex(4)}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield postgres_url(schema)
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """An empty migrated SQLite database, for tests about one backend's behaviour only."""
    target = tmp_path / "educonnect.db"
    shutil.copy(sqlite_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    # The output folder is the staff's: it exists (a missing one is refused, not created).
    (tmp_path / "out").mkdir(exist_ok=True)
    return Settings(
        database_url=database_url,
        output_dir=tmp_path / "out",
        admin_networks=[],
        hash_workers=2,
        key_file=tmp_path / KEY_FILE_NAME,
    )


@pytest.fixture
def services(settings: Settings, clock: FakeClock) -> Iterator[Services]:
    built = Services.from_settings(settings, clock=clock, hash_params=FAST_HASH)
    yield built
    built.engine.dispose()


# -- e-mail: a real SMTP server, and services that send through it ----------------------

MAIL_FROM = "ne-pas-repondre@ac-paris.fr"


@pytest.fixture
def smtp_inbox() -> Iterator[Inbox]:
    """An SMTP server (aiosmtpd) on 127.0.0.1 and a free port, for one test."""
    with running(Inbox()) as inbox:
        yield inbox


@pytest.fixture
def mail_settings(settings: Settings, smtp_inbox: Inbox) -> Settings:
    return settings.model_copy(
        update={
            "smtp_url": SecretStr(f"smtp://127.0.0.1:{smtp_inbox.port}"),
            "mail_from": MAIL_FROM,
            "smtp_timeout_seconds": 5,
        }
    )


@pytest.fixture
def mail_services(mail_settings: Settings, clock: FakeClock) -> Iterator[Services]:
    built = Services.from_settings(mail_settings, clock=clock, hash_params=FAST_HASH)
    yield built
    built.engine.dispose()


# -- the command line --------------------------------------------------------------------


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> RunCli:
    """``educonnect-tui ARGS`` in this process, as (exit code, stdout, stderr).

    In-process so that a call costs milliseconds, not an interpreter start; argparse's
    errors exit through SystemExit, which becomes the code as the shell would see it.
    """

    def run(args: list[str]) -> tuple[int, str, str]:
        try:
            code = cli.main(args)
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def cli_env(services: Services, monkeypatch: pytest.MonkeyPatch) -> Services:
    """The command line's environment on the test database; no config file is read, so a
    developer's own settings cannot leak into the test."""
    monkeypatch.setenv("EDUCONNECT_DATABASE_URL", services.settings.database_url)
    monkeypatch.setenv("EDUCONNECT_KEY_FILE", str(services.settings.key_path))
    monkeypatch.setenv("EDUCONNECT_CONFIG", "/nonexistent/config.toml")
    monkeypatch.setenv("EDUCONNECT_LOG_FILE", str(services.settings.output_dir.parent / "log"))
    return services


# -- the demo school, deterministic, for Pilot and snapshot tests -------------------------

DEMO_NOW = dt.datetime(2026, 11, 16, 9, 30, tzinfo=dt.UTC)


@pytest.fixture(scope="session")
def demo_template(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    shutil.copy(sqlite_template, path)
    services = Services.from_settings(
        Settings(database_url=f"sqlite:///{path}"),
        clock=FakeClock(DEMO_NOW),
        hash_params=FAST_HASH,
    )
    demo.create_demo(services, Actor(label="démo", source_address="test"))
    with services.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    services.engine.dispose()
    return path


def copy_database(template: Path, target: Path) -> None:
    """A copy of a template database with its key file (which signed its trail), if any."""
    shutil.copy(template, target)
    key = template.parent / KEY_FILE_NAME
    if key.exists():
        shutil.copy(key, target.parent / KEY_FILE_NAME)


@pytest.fixture
def demo_services(demo_template: Path, tmp_path: Path) -> Iterator[Services]:
    path = tmp_path / "demo.db"
    copy_database(demo_template, path)
    (tmp_path / "sorties").mkdir(exist_ok=True)
    services = Services.from_settings(
        Settings(database_url=f"sqlite:///{path}", output_dir=tmp_path / "sorties", hash_workers=1),
        clock=FakeClock(DEMO_NOW),
        hash_params=FAST_HASH,
    )
    yield services
    services.engine.dispose()


@pytest.fixture
def principal_app(demo_services: Services) -> Callable[[], EduConnectApp]:
    """The collège's principal, signed in from the administrative network."""

    def build() -> EduConnectApp:
        from tests import factories

        session = factories.signed_in(demo_services, "p.marchand", demo.COLLEGE_UAI)
        return create_app(demo_services, signed_in=session)

    return build
