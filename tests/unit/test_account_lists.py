"""« Éditer les listes »: per class, no password touched, files never lost, audited."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import stat
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from educonnect_tui.domain.accounts import account_lists
from educonnect_tui.domain.accounts.account_lists import ListRequest, read_lists, write_lists
from educonnect_tui.domain.accounts.selection import Selection
from educonnect_tui.domain.documents.files import OutputExists
from educonnect_tui.domain.model.enums import AccountKind, AccountState
from educonnect_tui.domain.model.errors import InvalidInput
from educonnect_tui.domain.model.tables import Account, AuditEvent
from educonnect_tui.domain.store.services import Services
from tests import factories
from tests.helpers import RunCli

UAI = factories.DEFAULT_UAI


def _school(services: Services) -> dict[str, int]:
    """Two classes; a guardian of a 3e pupil and a younger 6e one; a désactivé pupil."""
    ids: dict[str, int] = {}
    with services.sessions() as session, session.begin():
        school = factories.school(session)
        older = factories.pupil(
            session,
            school,
            last_name="Arnaud",
            first_name="Léo",
            division="3E1",
            birth_date=dt.date(2011, 1, 1),
        )
        younger = factories.pupil(
            session,
            school,
            last_name="Arnaud",
            first_name="Lina",
            division="6E1",
            birth_date=dt.date(2014, 1, 1),
        )
        first = factories.pupil(
            session, school, last_name="Aït Ahmed", first_name="Sami", division="6E1"
        )
        gone = factories.pupil(
            session, school, last_name="Zola", first_name="Émile", division="6E1"
        )
        gone.state = AccountState.DEACTIVATED
        parent = factories.guardian(
            session,
            [older, younger],
            last_name="Arnaud",
            first_name="Claire",
            email="claire@example.org",
        )
        other = factories.guardian(session, [older], last_name="Bernard", first_name="Paul")
        ids.update(
            older=older.id,
            younger=younger.id,
            first=first.id,
            gone=gone.id,
            parent=parent.id,
            other=other.id,
        )
    return ids


def _hashes(services: Services) -> list[tuple[int, int, str | None, str | None]]:
    with services.sessions() as session:
        return [
            tuple(r)  # type: ignore[misc]
            for r in session.execute(
                select(
                    Account.id, Account.version, Account.temp_password_hash, Account.password_hash
                ).order_by(Account.id)
            )
        ]


def test_pupils_are_listed_by_class_in_school_and_french_order(services: Services) -> None:
    _school(services)
    lists = read_lists(services, factories.operator(services), AccountKind.PUPIL, Selection())
    assert [c.division for c in lists.classes] == ["6E1", "3E1"]  # 6e before 3e
    sixth = [(r.last_name, r.first_name) for r in lists.classes[0].rows]
    # « Aït Ahmed » before « Arnaud »: accents, case and spaces ignored.
    assert sixth == [("Aït Ahmed", "Sami"), ("Arnaud", "Lina"), ("Zola", "Émile")]
    assert lists.classes[0].rows[2].state is AccountState.DEACTIVATED


def test_desactive_accounts_are_listed_with_their_state(services: Services) -> None:
    _school(services)
    lists = read_lists(
        services,
        factories.operator(services),
        AccountKind.PUPIL,
        Selection(states=(AccountState.DEACTIVATED,)),
    )
    assert [(c.division, [r.last_name for r in c.rows]) for c in lists.classes] == [
        ("6E1", ["Zola"])
    ]


def test_guardians_are_filed_under_their_youngest_childs_class(services: Services) -> None:
    _school(services)
    lists = read_lists(services, factories.operator(services), AccountKind.GUARDIAN, Selection())
    placed = {r.last_name: c.division for c in lists.classes for r in c.rows}
    assert placed == {"Arnaud": "6E1", "Bernard": "3E1"}
    (claire,) = [r for c in lists.classes for r in c.rows if r.last_name == "Arnaud"]
    assert claire.children == ("ARNAUD Lina (6E1)", "ARNAUD Léo (3E1)")  # youngest first


def test_lists_are_read_in_chunks_of_ids(services: Services, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _school(services)
    monkeypatch.setattr(account_lists, "_CHUNK", 2)
    seen: list[tuple[int, int]] = []
    lists = read_lists(
        services,
        factories.operator(services),
        AccountKind.PUPIL,
        Selection(),
        progress=lambda done, total: seen.append((done, total)),
    )
    assert seen == [(2, 4), (4, 4)]
    assert lists.count == 4


def test_writing_the_lists_changes_no_password_and_is_audited(
    services: Services, tmp_path: Path
) -> None:
    _school(services)
    before = _hashes(services)
    pdf, csv_path = tmp_path / "listes.pdf", tmp_path / "listes.csv"
    written = write_lists(
        services,
        factories.operator(services),
        ListRequest(AccountKind.PUPIL, Selection(), pdf_path=pdf, csv_path=csv_path),
    )
    assert _hashes(services) == before
    assert written.count == 4 and written.paths == (pdf, csv_path)
    for path in (pdf, csv_path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    pages = [p.extract_text() for p in PdfReader(pdf).pages]
    assert len(pages) == 2
    assert "Classe 6E1" in pages[0] and "Classe 3E1" in pages[1]
    assert pages[0].index("AÏT AHMED") < pages[0].index("ARNAUD") < pages[0].index("ZOLA")
    assert "désactivé" in pages[0] and "non notifié" in pages[0]
    rows = list(csv.reader(io.StringIO(csv_path.read_text("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["Classe", "Nom", "Prénom"]
    assert [r[1] for r in rows[1:]] == ["Aït Ahmed", "Arnaud", "Zola", "Arnaud"]
    with services.sessions() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "export"))
        assert event is not None
        assert event.details["what"] == "listes des comptes"
        assert event.details["paths"] == [str(pdf), str(csv_path)]


def test_the_lists_never_replace_a_file_nor_create_a_folder(
    services: Services, tmp_path: Path
) -> None:
    _school(services)
    caller = factories.operator(services)
    existing = tmp_path / "listes.pdf"
    existing.write_bytes(b"mes notes")
    with pytest.raises(OutputExists):
        write_lists(services, caller, ListRequest(AccountKind.PUPIL, Selection(), existing))
    assert existing.read_bytes() == b"mes notes"
    missing = tmp_path / "nulle" / "part" / "listes.pdf"
    with pytest.raises(InvalidInput, match="n'existe pas"):
        write_lists(services, caller, ListRequest(AccountKind.PUPIL, Selection(), missing))
    assert not missing.parent.exists()


def test_default_paths_never_reuse_a_name(services: Services) -> None:
    _school(services)
    caller = factories.operator(services)
    pdf, _ = account_lists.default_paths(services, caller, AccountKind.PUPIL)
    pdf.write_bytes(b"")
    again, _ = account_lists.default_paths(services, caller, AccountKind.PUPIL)
    assert again != pdf and again.name.endswith("_2.pdf")


def test_cli_accounts_table_csv_json(cli_env: Services, run_cli: RunCli) -> None:
    _school(cli_env)
    code, out, _ = run_cli(["accounts", "--uai", UAI])
    assert code == 0
    assert out.index("Aït Ahmed".upper()) < out.index("ARNAUD Lina") < out.index("ARNAUD Léo")
    code, out, _ = run_cli(["accounts", "--uai", UAI, "--format", "json", "--state", "desactive"])
    assert code == 0
    (only,) = json.loads(out)["comptes"]
    assert only["nom"] == "Zola" and only["etat"] == "desactive" and only["classe"] == "6E1"
    code, out, _ = run_cli(
        ["accounts", "--uai", UAI, "--kind", "guardians", "--format", "csv", "--class", "6E1"]
    )
    assert code == 0
    lines = list(csv.reader(io.StringIO(out), delimiter=";"))
    assert [r[1] for r in lines[1:]] == ["Arnaud"]
    with cli_env.sessions() as session:
        reads = session.scalars(select(AuditEvent).where(AuditEvent.action == "accounts_read"))
        assert len(list(reads)) == 3


def test_cli_accounts_pdf_refuses_an_existing_file_unless_overwrite(
    cli_env: Services, run_cli: RunCli, tmp_path: Path
) -> None:
    _school(cli_env)
    before = _hashes(cli_env)
    target = tmp_path / "liste.pdf"
    target.write_bytes(b"ancien")
    code, _, err = run_cli(["accounts", "--uai", UAI, "--pdf", str(target)])
    assert code == 2 and "existe déjà" in err and "--overwrite" in err
    assert target.read_bytes() == b"ancien"
    code, _, err = run_cli(["accounts", "--uai", UAI, "--pdf", str(target), "--overwrite"])
    assert code == 0 and str(target) in err
    assert len(PdfReader(target).pages) == 2
    code, _, err = run_cli(["accounts", "--uai", UAI, "--pdf", str(tmp_path / "x" / "l.pdf")])
    assert code == 2 and "n'existe pas" in err
    assert _hashes(cli_env) == before


def test_cancelled_lists_write_nothing_and_record_nothing(
    services: Services, tmp_path: Path
) -> None:
    import threading

    from educonnect_tui.domain.model.errors import Cancelled

    _school(services)
    stop = threading.Event()
    stop.set()
    folder = tmp_path / "listes"
    folder.mkdir()
    with pytest.raises(Cancelled, match="rien n'a été écrit"):
        write_lists(
            services,
            factories.operator(services),
            ListRequest(AccountKind.PUPIL, Selection(), pdf_path=folder / "l.pdf"),
            cancel=stop,
        )
    assert list(folder.iterdir()) == []
    with services.sessions() as session:
        assert session.scalar(select(AuditEvent).where(AuditEvent.action == "export")) is None


def test_the_trail_names_a_file_given_relative_by_its_absolute_path(
    cli_env: Services, run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _school(cli_env)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out").mkdir(exist_ok=True)
    code, _, err = run_cli(["accounts", "--uai", UAI, "--pdf", "out/liste.pdf"])
    assert code == 0, err
    with cli_env.sessions() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "export"))
    assert event is not None
    assert event.details["paths"] == [str(tmp_path / "out" / "liste.pdf")]
