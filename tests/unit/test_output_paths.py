"""Nothing destroyed by a path: every document and export obeys one rule.

An existing file is refused unless ``--overwrite``; the database's own files, and two
outputs sharing a file, always; a missing folder is refused rather than created; and a
file that appears between the check and the publication is not replaced.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from educonnect_tui.domain.accounts import helpdesk, notification, publishing
from educonnect_tui.domain.accounts.notification import NotifyRequest
from educonnect_tui.domain.accounts.selection import Selection
from educonnect_tui.domain.documents import files
from educonnect_tui.domain.model.enums import AccountKind, AccountState
from educonnect_tui.domain.model.errors import InvalidInput
from educonnect_tui.domain.model.tables import Account, AuditEvent
from educonnect_tui.domain.reports import stats_pdf
from educonnect_tui.domain.reports.figures import school_stats
from educonnect_tui.domain.store.services import Services
from educonnect_tui.domain.store.settings import Settings
from tests import factories
from tests.conftest import FAST_HASH
from tests.helpers import RunCli, killed_run

UAI = factories.DEFAULT_UAI


def _pupils(services: Services, count: int = 3) -> list[int]:
    with services.sessions() as session, session.begin():
        school = factories.school(session)
        return [
            factories.pupil(session, school, first_name=f"Élève{i}", division="5E1").id
            for i in range(count)
        ]


def _unchanged(services: Services) -> None:
    with services.sessions() as session:
        states = set(session.scalars(select(Account.state)))
        notified = session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "notify")
        )
    assert states == {AccountState.NOT_NOTIFIED} and notified == 0


def _notify(run_cli: RunCli, *extra: str) -> tuple[int, str, str]:
    return run_cli(["notify", "--uai", UAI, "--kind", "pupils", *extra])


def _one_french_line(code: int, err: str, *words: str) -> None:
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    for word in words:
        assert word in err


def test_cli_refuses_an_existing_document_unless_overwrite(
    cli_env: Services, run_cli: RunCli, tmp_path: Path
) -> None:
    _pupils(cli_env)
    other_class = tmp_path / "fiches.pdf"
    other_class.write_bytes(b"the only copy of 24 valid passwords")
    code, _, err = _notify(run_cli, "--pdf", str(other_class))
    _one_french_line(code, err, "existe déjà", "--overwrite")
    assert other_class.read_bytes() == b"the only copy of 24 valid passwords"
    _unchanged(cli_env)
    code, out, _ = _notify(run_cli, "--pdf", str(other_class), "--overwrite")
    assert code == 0 and "3 comptes" in out
    assert other_class.read_bytes().startswith(b"%PDF")


def test_cli_refuses_the_same_file_for_pdf_and_csv(
    cli_env: Services, run_cli: RunCli, tmp_path: Path
) -> None:
    _pupils(cli_env)
    (tmp_path / "sub").mkdir()
    same = tmp_path / "docs.pdf"
    # The same file under two spellings, with --overwrite: still refused.
    spelled = tmp_path / "sub" / ".." / "docs.pdf"
    code, _, err = _notify(run_cli, "--pdf", str(same), "--csv", str(spelled), "--overwrite")
    _one_french_line(code, err, "Deux documents")
    assert not same.exists()
    _unchanged(cli_env)


def test_cli_refuses_a_hard_link_to_the_other_output(
    cli_env: Services, run_cli: RunCli, tmp_path: Path
) -> None:
    _pupils(cli_env)
    pdf = tmp_path / "docs.pdf"
    pdf.write_bytes(b"x")
    (tmp_path / "docs.csv").hardlink_to(pdf)
    code, _, err = _notify(
        run_cli, "--pdf", str(pdf), "--csv", str(tmp_path / "docs.csv"), "--overwrite"
    )
    _one_french_line(code, err, "Deux documents")
    _unchanged(cli_env)


def test_cli_never_writes_over_the_database(
    sqlite_url: str, run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite only: a server database has no file on this side."""
    monkeypatch.setenv("EDUCONNECT_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("EDUCONNECT_CONFIG", "/nonexistent/config.toml")
    services = Services.from_settings(Settings(database_url=sqlite_url))
    _pupils(services)
    database = Path(str(make_url(sqlite_url).database))
    before = database.read_bytes()
    link = tmp_path / "lien.pdf"
    link.symlink_to(database)
    for target in (database, database.with_name(database.name + "-wal"), link):
        code, _, err = _notify(run_cli, "--pdf", str(target), "--overwrite")
        _one_french_line(code, err, "fichier du service", "base de données")
    code, _, err = _notify(
        run_cli, "--pdf", str(tmp_path / "ok.pdf"), "--csv", str(database), "--overwrite"
    )
    _one_french_line(code, err, "fichier du service", "base de données")
    assert database.read_bytes()[:16] == before[:16] == b"SQLite format 3\x00"
    _unchanged(services)
    services.engine.dispose()
    assert not (tmp_path / "ok.pdf").exists()


def test_cli_refuses_a_missing_folder_instead_of_creating_it(
    cli_env: Services, run_cli: RunCli, tmp_path: Path
) -> None:
    _pupils(cli_env)
    typo = tmp_path / "fihces" / "f.pdf"
    code, _, err = _notify(run_cli, "--pdf", str(typo))
    _one_french_line(code, err, "n'existe pas")
    assert not typo.parent.exists()
    _unchanged(cli_env)


def test_audit_export_refuses_an_existing_file_unless_overwrite(
    cli_env: Services, run_cli: RunCli, tmp_path: Path
) -> None:
    _pupils(cli_env)
    target = tmp_path / "journal.csv"
    target.write_text("précieux")
    args = ["audit", "list", "--uai", UAI, "--format", "csv", "--output", str(target)]
    code, _, err = run_cli(args)
    _one_french_line(code, err, "existe déjà", "--overwrite")
    assert target.read_text() == "précieux"
    code, _, _ = run_cli([*args, "--overwrite"])
    assert code == 0 and target.read_text() != "précieux"


def test_a_file_appearing_before_publication_is_not_replaced(
    services: Services, tmp_path: Path
) -> None:
    """The TUI picks free names when its dialog opens; one taken since is refused."""
    _pupils(services)
    operator = factories.operator(services, UAI)
    pdf, csv_path = notification.default_paths(services, operator, AccountKind.PUPIL)

    def someone_writes(phase: str, done: int, total: int) -> None:
        if phase == "documents" and not csv_path.exists():
            csv_path.write_text("written meanwhile")

    with pytest.raises(InvalidInput, match=r"existe déjà|apparu"):
        notification.notify(
            services,
            operator,
            NotifyRequest(AccountKind.PUPIL, Selection(), pdf_path=pdf, csv_path=csv_path),
            progress=someone_writes,
        )
    assert csv_path.read_text() == "written meanwhile"
    assert sorted(p.name for p in pdf.parent.iterdir()) == [csv_path.name]
    _unchanged(services)


def test_a_file_appearing_at_the_very_publication_is_not_replaced(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Even between the last check and the link: publication never replaces."""
    _pupils(services)
    operator = factories.operator(services, UAI)
    pdf, _ = notification.default_paths(services, operator, AccountKind.PUPIL)
    real_link = files.os.link

    def link_after_a_rival(source: str, target: str) -> None:
        if Path(target) == pdf:
            Path(target).write_text("rival")
        real_link(source, target)

    monkeypatch.setattr(files.os, "link", link_after_a_rival)
    with pytest.raises(InvalidInput, match="apparu"):
        notification.notify(
            services, operator, NotifyRequest(AccountKind.PUPIL, Selection(), pdf_path=pdf)
        )
    assert pdf.read_text() == "rival"
    assert [p.name for p in pdf.parent.iterdir()] == [pdf.name]
    _unchanged(services)


def test_default_names_never_take_an_existing_file(services: Services) -> None:
    _pupils(services)
    operator = factories.operator(services, UAI)
    pdf, csv_path = notification.default_paths(services, operator, AccountKind.PUPIL)
    csv_path.write_text("earlier")
    again = notification.default_paths(services, operator, AccountKind.PUPIL)
    assert again[0] != pdf and not again[0].exists() and not again[1].exists()
    stats = school_stats(services, operator)
    first = stats_pdf.export_stats(services, operator, stats)
    second = stats_pdf.export_stats(services, operator, stats)
    assert set(first.paths).isdisjoint(second.paths)
    assert all(p.exists() for p in (*first.paths, *second.paths))


def test_helpdesk_slip_refuses_an_existing_file(services: Services, tmp_path: Path) -> None:
    (account,) = _pupils(services, 1)
    operator = factories.operator(services, UAI)
    slip = tmp_path / "fiche.pdf"
    slip.write_bytes(b"another pupil's slip")
    with pytest.raises(InvalidInput, match="existe déjà"):
        helpdesk.reset_password(services, operator, account, slip_path=slip)
    assert slip.read_bytes() == b"another pupil's slip"
    _unchanged(services)


def test_the_rule_itself(tmp_path: Path) -> None:
    database = tmp_path / "school.db"
    database.write_bytes(b"db")
    protected = [database, tmp_path / "school.db-wal"]
    files.check_targets([tmp_path / "a.pdf", tmp_path / "a.csv"], protected=protected)
    files.check_targets([tmp_path / "a.pdf", None])
    refusals = {
        "existe déjà": [database.with_name("other")],
        "fichier du service": [tmp_path / "school.db-wal"],
        "dossier": [tmp_path],
        "n'existe pas": [tmp_path / "missing" / "a.pdf"],
        "Deux documents": [tmp_path / "a.pdf", tmp_path / "a.pdf"],
    }
    database.with_name("other").write_text("x")
    for message, paths in refusals.items():
        with pytest.raises(InvalidInput, match=message):
            files.check_targets(paths, protected=protected)
    with pytest.raises(InvalidInput, match="fichier du service"):
        files.check_targets([database], overwrite=True, protected=protected)


def _service_files(cli_env: Services, run_cli: RunCli) -> tuple[Path, Path]:
    """The key file and the technical log the command line uses, both existing."""
    code, _, _ = run_cli(["audit", "list", "--uai", UAI])  # opens the log, reads the keys
    assert code == 0
    key = cli_env.settings.key_path
    log = cli_env.settings.output_dir.parent / "log"  # EDUCONNECT_LOG_FILE (cli_env)
    assert key.exists() and log.exists()
    return key, log


def test_cli_never_writes_over_the_key_file_or_the_log(
    cli_env: Services, run_cli: RunCli, tmp_path: Path
) -> None:
    """The files the service depends on are protected like the database's, even with
    --overwrite, under any name (a symbolic link, a hard link)."""
    _pupils(cli_env)
    key, log = _service_files(cli_env, run_cli)
    before = {path: path.read_bytes() for path in (key, log)}
    (tmp_path / "lien.pdf").symlink_to(key)
    (tmp_path / "dur.csv").hardlink_to(log)
    for target in (key, log, tmp_path / "lien.pdf", tmp_path / "dur.csv"):
        code, _, err = _notify(run_cli, "--pdf", str(target), "--overwrite")
        _one_french_line(code, err, "fichier du service")
        code, _, err = _notify(
            run_cli, "--pdf", str(tmp_path / "ok.pdf"), "--csv", str(target), "--overwrite"
        )
        _one_french_line(code, err, "fichier du service")
        code, _, err = run_cli(
            ["audit", "list", "--uai", UAI, "--output", str(target), "--overwrite"]
        )
        _one_french_line(code, err, "fichier du service")
    assert key.read_bytes() == before[key]
    assert log.read_bytes().startswith(before[log])
    assert not (tmp_path / "ok.pdf").exists()
    _unchanged(cli_env)


def test_tui_notification_and_stats_export_never_write_over_service_files(
    settings: Settings, tmp_path: Path
) -> None:
    """The TUI's paths go through the same rule: a chosen name, or a default one that
    happens to be the technical log's (not yet created)."""
    probe = Services.from_settings(settings, hash_params=FAST_HASH)
    _pupils(probe)
    operator = factories.operator(probe, UAI)
    stats = school_stats(probe, operator)
    csv_path, _ = stats_pdf.default_paths(probe, stats)
    probe.engine.dispose()
    services = Services.from_settings(
        settings.model_copy(update={"log_file": csv_path}), hash_params=FAST_HASH
    )
    try:
        with services.sessions() as session, session.begin():
            services.key_store.ring(session)
        key = services.settings.key_path
        before = key.read_bytes()
        for target in (key, csv_path):
            with pytest.raises(InvalidInput, match="fichier du service"):
                notification.notify(
                    services,
                    operator,
                    NotifyRequest(AccountKind.PUPIL, Selection(), pdf_path=target, overwrite=True),
                )
        with pytest.raises(InvalidInput, match="fichier du service"):
            stats_pdf.export_stats(services, operator, stats)
        assert key.read_bytes() == before and not csv_path.exists()
        _unchanged(services)
    finally:
        services.engine.dispose()


# -- what a killed run left: every export removes it and says so ------------------------


def test_audit_export_sweeps_a_killed_run_and_says_so(
    cli_env: Services, run_cli: RunCli, tmp_path: Path
) -> None:
    _pupils(cli_env)
    folder = tmp_path / "exports"
    folder.mkdir()
    left = killed_run(cli_env, folder)
    target = folder / "journal.csv"
    code, out, err = run_cli(["audit", "list", "--uai", UAI, "--output", str(target)])
    assert code == 0, err
    assert f"{publishing.SWEPT}\u00a0: {left}" in out.splitlines()
    assert sorted(p.name for p in folder.iterdir()) == ["journal.csv"]


def test_stats_export_sweeps_a_killed_run_and_says_so(services: Services) -> None:
    _pupils(services)
    operator = factories.operator(services, UAI)
    stats = school_stats(services, operator)
    csv_path, _ = stats_pdf.default_paths(services, stats)
    left = killed_run(services, csv_path.parent)
    result = stats_pdf.export_stats(services, operator, stats)
    assert result.swept == (left,)
    assert f"{publishing.SWEPT}\u00a0: {left}" in publishing.swept_lines(result.swept)
    assert sorted(csv_path.parent.iterdir()) == sorted(result.paths)


def test_every_cli_writer_refuses_a_missing_folder(
    cli_env: Services, run_cli: RunCli, tmp_path: Path
) -> None:
    """notify --pdf, accounts --pdf, audit list --output, import --report: never created."""
    _pupils(cli_env)
    typo = tmp_path / "dossier-absent"
    pupils = tmp_path / "eleves.csv"
    pupils.write_text("INE;Nom de famille;Prénom;Date de naissance;Division\n", encoding="utf-8")
    commands = [
        ["notify", "--uai", UAI, "--kind", "pupils", "--pdf", str(typo / "f.pdf")],
        ["accounts", "--uai", UAI, "--pdf", str(typo / "l.pdf")],
        ["audit", "list", "--uai", UAI, "--output", str(typo / "j.csv")],
        ["import", "pupils", str(pupils), "--uai", UAI, "--dry-run", "--report", str(typo / "r")],
    ]
    for command in commands:
        code, _, err = run_cli(command)
        _one_french_line(code, err, "n'existe pas")
        assert not typo.exists(), command
    _unchanged(cli_env)


def test_a_helpdesk_slip_printed_afterwards_never_replaces_a_file(
    services: Services, tmp_path: Path
) -> None:
    (account,) = _pupils(services, 1)
    operator = factories.operator(services, UAI)
    result = helpdesk.reset_password(services, operator, account)
    slip = tmp_path / "fiche.pdf"
    slip.write_bytes(b"another pupil's slip")
    with pytest.raises(InvalidInput, match="existe déjà"):
        helpdesk.write_slip(services, operator, result, slip)
    assert slip.read_bytes() == b"another pupil's slip"
    with pytest.raises(InvalidInput, match="n'existe pas"):
        helpdesk.write_slip(services, operator, result, tmp_path / "absent" / "fiche.pdf")
    assert not (tmp_path / "absent").exists()
    # The TUI's name is always a free one.
    first = helpdesk.default_slip_path(services, result.login, services.clock())
    first.write_bytes(b"")
    assert helpdesk.default_slip_path(services, result.login, services.clock()) != first


def test_app_folder_makes_its_own_sub_folder_but_never_the_output_folder(tmp_path: Path) -> None:
    """An unmounted share must not quietly become a local folder of passwords."""
    made = files.app_folder(tmp_path / "listes")
    assert made.is_dir() and made.stat().st_mode & 0o777 == 0o700
    assert files.app_folder(made) == made  # already there: kept as it is
    output = tmp_path / "partage"
    with pytest.raises(InvalidInput) as refused:
        files.app_folder(output / "depannage")
    assert str(refused.value) == (
        f"Le dossier de sortie « {output} » n'existe pas\u00a0: créez-le ou corrigez "
        "EDUCONNECT_OUTPUT_DIR (rien n'a été écrit)."
    )
    assert not output.exists()


def test_every_default_path_refuses_a_missing_output_folder(
    services: Services, tmp_path: Path
) -> None:
    (account,) = _pupils(services, 1)
    operator = factories.operator(services, UAI)
    output = services.settings.output_dir
    assert output.is_dir()
    output.rmdir()
    writers = (
        lambda: notification.default_paths(services, operator, AccountKind.PUPIL),
        lambda: helpdesk.default_slip_path(services, "e.dupont", services.clock()),
        lambda: stats_pdf.export_stats(services, operator, school_stats(services, operator)),
    )
    for write in writers:
        with pytest.raises(InvalidInput, match="n'existe pas"):
            write()
    assert not output.exists()
    assert account
