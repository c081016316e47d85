"""Database failures read as one French sentence, on the command line and in the TUI alike."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

from educonnect_tui.cli import accounts, context
from educonnect_tui.domain.store.services import Services
from tests import factories
from tests.helpers import RunCli


class _Driver(Exception):
    """A driver exception with the attributes sqlite3 and psycopg give theirs."""

    def __init__(
        self, text: str, *, sqlite_errorcode: int | None = None, sqlstate: str | None = None
    ):
        super().__init__(text)
        self.sqlite_errorcode = sqlite_errorcode
        self.sqlstate = sqlstate


RAW = "UPDATE statement on table 'account' expected to update 48 row(s); 0 were matched."


@pytest.mark.parametrize(
    ("error", "fragment"),
    [
        (
            OperationalError(
                "UPDATE account", {}, _Driver("database is locked", sqlite_errorcode=5)
            ),
            "occupée par une autre opération",
        ),
        (
            OperationalError(
                "SELECT 1", {}, _Driver("canceling statement due to lock timeout", sqlstate="55P03")
            ),
            "occupée par une autre opération",
        ),
        (
            OperationalError(
                "SELECT 1", {}, _Driver("could not serialize access", sqlstate="40001")
            ),
            "occupée par une autre opération",
        ),
        (
            OperationalError(
                "connect",
                {},
                _Driver(
                    'connection to server at "127.0.0.1", port 5433 failed: Connection refused'
                ),
            ),
            "inaccessible",
        ),
        (StaleDataError(RAW), "Quelqu'un d'autre a modifié"),
        (
            IntegrityError(
                "INSERT INTO account",
                {},
                _Driver("UNIQUE constraint failed: account.login", sqlite_errorcode=2067),
            ),
            "Quelqu'un d'autre a modifié",
        ),
        (RuntimeError("KeyError [/bold] 'x'"), "Erreur inattendue"),
        (
            OperationalError(
                "TRUNCATE account",
                {},
                _Driver("permission denied for table account", sqlstate="42501"),
            ),
            "droits insuffisants",
        ),
        (
            PermissionError(13, "Permission denied", "/srv/lettres.pdf"),
            "Accès refusé\u00a0: /srv/lettres.pdf.",
        ),
        (OSError(28, "No space left on device"), "Le disque est plein."),
        (BrokenPipeError(32, "Broken pipe"), "La sortie a été fermée."),
    ],
)
def test_a_database_failure_is_one_french_line_without_raw_text(
    cli_env: Services,
    run_cli: RunCli,
    monkeypatch: pytest.MonkeyPatch,
    error: Exception,
    fragment: str,
) -> None:
    with cli_env.sessions() as session, session.begin():
        factories.school(session)

    def failing(_args: object) -> int:
        raise error

    monkeypatch.setattr(accounts, "cmd_stats", failing)
    code, out, err = run_cli(["stats", "--uai", factories.DEFAULT_UAI])
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("educonnect-tui\u00a0: erreur\u00a0: ")
    assert fragment in err
    raws = ("locked", "UPDATE", "UNIQUE", "refused", "KeyError", "serialize", "timeout", "denied")
    for raw in (*raws, "Permission", "No space", "Broken"):
        assert raw not in err


def test_details_go_to_the_technical_log_only(
    cli_env: Services, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    log = tmp_path / "technique" / "educonnect.log"
    monkeypatch.setenv("EDUCONNECT_LOG_FILE", str(log))

    def failing(_args: object) -> int:
        context.open_services()
        raise RuntimeError("détail pour l'administrateur")

    monkeypatch.setattr(accounts, "cmd_stats", failing)
    code, _, err = run_cli(["stats", "--uai", factories.DEFAULT_UAI])
    assert code == 2 and "détail" not in err
    assert "détail pour l'administrateur" in log.read_text(encoding="utf-8")
    assert log.stat().st_mode & 0o777 == 0o600


def test_retrying_when_busy_runs_the_work_once_more_then_gives_up() -> None:
    from educonnect_tui.domain.store import db_errors

    calls: list[int] = []
    busy = OperationalError(
        "BEGIN IMMEDIATE", {}, _Driver("database is locked", sqlite_errorcode=5)
    )

    def once_busy() -> str:
        calls.append(1)
        if len(calls) == 1:
            raise busy
        return "fait"

    assert db_errors.retrying_when_busy(once_busy) == "fait" and len(calls) == 2

    def always_busy() -> str:
        calls.append(1)
        raise busy

    calls.clear()
    with pytest.raises(OperationalError):
        db_errors.retrying_when_busy(always_busy)
    assert len(calls) == 2

    def broken() -> str:
        calls.append(1)
        raise OperationalError("SELECT", {}, _Driver("no such table: account"))

    calls.clear()
    with pytest.raises(OperationalError):
        db_errors.retrying_when_busy(broken)
    assert len(calls) == 1


def test_statement_parameters_never_appear_in_an_error(services: Services) -> None:
    from sqlalchemy import text

    with pytest.raises(Exception) as caught, services.engine.connect() as connection:
        connection.execute(
            text("SELECT * FROM no_such_table WHERE x = :secret"), {"secret": "hunter2"}
        )
    assert "hunter2" not in str(caught.value)


def test_the_log_and_every_folder_made_for_it_are_private(tmp_path: Path) -> None:
    """An empty HOME: ``~/.local/share/educonnect-tui/educonnect.log`` makes three folders,
    each 0700; a log left 0644 by an earlier version is made 0600 again, as the database."""
    from educonnect_tui.domain.store import db_errors

    home = tmp_path / "home"
    home.mkdir()
    log = home / ".local" / "share" / "educonnect-tui" / "educonnect.log"
    try:
        db_errors.log_to(log)
        for folder in (log.parent, log.parent.parent, log.parent.parent.parent):
            assert folder.stat().st_mode & 0o777 == 0o700, folder
        assert log.stat().st_mode & 0o777 == 0o600
        old = tmp_path / "ancien.log"
        old.write_text("avant\n")
        old.chmod(0o644)
        db_errors.log_to(old)
        assert old.stat().st_mode & 0o777 == 0o600 and old.read_text() == "avant\n"
    finally:
        db_errors.log_to(tmp_path / "fin.log")  # the handler leaves these files alone


def test_a_system_error_reads_in_french_even_when_it_is_not_a_known_one() -> None:
    import errno

    from educonnect_tui.domain.model.errors import os_reason

    assert os_reason(OSError(errno.ENOENT, "No such file or directory")) != (
        "No such file or directory"
    )
    unknown = os_reason(OSError(errno.EXDEV, "Invalid cross-device link"))
    assert unknown == "erreur du système (EXDEV)"
    assert os_reason(OSError("no errno at all")) == "erreur du système"
