"""Schools created from the command line, and the import's guards: departures, levels, report."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import func, select

from educonnect_tui.domain.access.caller import Operator
from educonnect_tui.domain.model.enums import EstablishmentType, Level
from educonnect_tui.domain.model.errors import InvalidInput
from educonnect_tui.domain.model.identifiers import fold
from educonnect_tui.domain.model.tables import AuditEvent, Establishment, Pupil
from educonnect_tui.domain.siecle.guardians import import_guardians
from educonnect_tui.domain.siecle.pupils import import_pupils
from educonnect_tui.domain.store import establishments
from educonnect_tui.domain.store.services import Services
from educonnect_tui.domain.store.settings import Settings
from tests import factories
from tests.helpers import RunCli

DATA = Path(__file__).resolve().parent.parent / "data"
PUPILS_CSV = DATA / "eleves_siecle.csv"
GUARDIANS_CSV = DATA / "responsables_siecle.csv"
UAI = "0750655E"
HEADER = "INE;Nom de famille;Prénom;Date de naissance;Division"
SAMPLE_ROWS = len(PUPILS_CSV.read_bytes().decode("cp1252").splitlines()) - 1


def _ine(n: int) -> str:
    return f"{n:010d}A"


def _pupils(tmp_path: Path, count: int, division: str = "6E1", name: str = "p.csv") -> Path:
    lines = [HEADER] + [
        f"{_ine(i)};NOM{chr(65 + i % 26)};Léa;01/02/2014;{division}" for i in range(count)
    ]
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _school(services: Services, type: EstablishmentType = EstablishmentType.COLLEGE) -> None:
    with services.sessions() as s, s.begin():
        establishments.create(
            s, uai=UAI, name="Collège Henri-IV", type=type, academie="Paris", city="Paris"
        )


def _operator(services: Services) -> Operator:
    return factories.operator(services, UAI)


def _enrolled(services: Services) -> int:
    with services.sessions() as s:
        return (
            s.scalar(select(func.count()).select_from(Pupil).where(Pupil.status == "inscrit")) or 0
        )


# -- school add / list --------------------------------------------------------------------


@pytest.mark.parametrize("uai", ["0750655E", "0941234F", "0750655e"])
def test_school_add_creates_it_and_audits(cli_env: Services, run_cli: RunCli, uai: str) -> None:
    code, out, err = run_cli(
        [
            "school",
            "add",
            "--uai",
            uai,
            "--name",
            "Collège Henri-IV",
            "--type",
            "college",
            "--academie",
            "Paris",
            "--city",
            "Paris",
        ]
    )
    assert code == 0, err
    assert uai.upper() in out
    with cli_env.sessions() as s:
        school = s.scalars(select(Establishment)).one()
        assert (school.uai, school.type, school.city) == (
            uai.upper(),
            EstablishmentType.COLLEGE,
            "Paris",
        )
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "school_add")).one()
        assert event.establishment_id == school.id
        assert event.details["uai"] == uai.upper()


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--uai", "0750655A", "--type", "college"], "lettre de contrôle devrait être E"),
        (["--uai", "075065", "--type", "college"], "7 chiffres suivis d'une lettre"),
        (["--uai", UAI, "--type", "universite"], "choix"),
    ],
)
def test_school_add_refuses_bad_input(
    cli_env: Services, run_cli: RunCli, args: list[str], fragment: str
) -> None:
    code, _, err = run_cli(["school", "add", "--name", "X", *args])
    assert code == 2
    assert fragment in err
    assert "Traceback" not in err
    with cli_env.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Establishment)) == 0


def test_school_add_refuses_an_existing_uai(cli_env: Services, run_cli: RunCli) -> None:
    _school(cli_env)
    code, _, err = run_cli(["school", "add", "--uai", UAI, "--name", "Autre", "--type", "lycee"])
    assert code == 2
    assert "existe déjà" in err and UAI in err
    with cli_env.sessions() as s:
        assert s.scalars(select(Establishment.name)).all() == ["Collège Henri-IV"]


def test_school_add_refuses_an_empty_name(cli_env: Services, run_cli: RunCli) -> None:
    code, _, err = run_cli(["school", "add", "--uai", UAI, "--name", "  ", "--type", "lycee"])
    assert code == 2
    assert "Nom de l'établissement manquant" in err


def test_school_list_shows_schools_with_counts(
    cli_env: Services, run_cli: RunCli, tmp_path: Path
) -> None:
    _school(cli_env)
    assert not import_pupils(cli_env, _operator(cli_env), _pupils(tmp_path, 3)).errors
    code, out, err = run_cli(["school", "list"])
    assert code == 0, err
    assert "UAI" in out and "Académie" in out
    row = next(line for line in out.splitlines() if UAI in line)
    assert "Collège Henri-IV" in row and "collège" in row and "Paris" in row
    assert " 3 " in f" {row} "
    with cli_env.sessions() as s:
        assert (
            s.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "school_list")
            )
            == 1
        )


def test_school_list_of_an_empty_database(cli_env: Services, run_cli: RunCli) -> None:
    code, out, _ = run_cli(["school", "list"])
    assert code == 0
    assert "Aucun établissement" in out


def test_import_names_an_unknown_school(cli_env: Services, run_cli: RunCli) -> None:
    code, _, err = run_cli(["import", "pupils", str(PUPILS_CSV), "--uai", UAI])
    assert code == 2
    assert "établissement inconnu" in err
    assert "school add" in err


def test_a_school_made_by_school_add_takes_an_import(cli_env: Services, run_cli: RunCli) -> None:
    assert (
        run_cli(["school", "add", "--uai", UAI, "--name", "Collège", "--type", "college"])[0] == 0
    )
    code, out, err = run_cli(["import", "pupils", str(PUPILS_CSV), "--uai", UAI])
    assert code == 0, err
    assert "Ajouts" in out


# -- the file names another school ---------------------------------------------------------


def test_rows_of_another_school_are_refused(services: Services, tmp_path: Path) -> None:
    _school(services)
    path = tmp_path / "uai.csv"
    path.write_text(
        f"UAI;{HEADER}\n{UAI};{_ine(1)};A;B;01/02/2014;6E1\n0941234F;{_ine(2)};C;D;01/02/2014;6E1\n",
        encoding="utf-8",
    )
    report = import_pupils(services, _operator(services), path)
    assert [e.line for e in report.errors] == [3]
    assert "0941234F" in report.errors[0].reason
    assert "autre établissement" in report.errors[0].reason
    assert _enrolled(services) == 0


def test_guardian_rows_of_another_school_are_refused(services: Services, tmp_path: Path) -> None:
    _school(services)
    assert not import_pupils(services, _operator(services), _pupils(tmp_path, 2)).errors
    path = tmp_path / "g.csv"
    path.write_text(
        "UAI;Identifiant responsable;Nom de famille;Prénom;INE élève\n"
        f"{UAI};G1;MARTIN;Marc;{_ine(0)}\n0941234F;G2;DURAND;Anne;{_ine(1)}\n",
        encoding="utf-8",
    )
    report = import_guardians(services, _operator(services), path)
    assert [e.line for e in report.errors] == [3]
    assert "autre établissement" in report.errors[0].reason


# -- departures ----------------------------------------------------------------------------


def test_the_sample_against_the_demo_college_warns_of_departures(demo_services: Services) -> None:
    from educonnect_tui.demo.college_build import COLLEGE_UAI

    operator = factories.operator(demo_services, COLLEGE_UAI)
    report = import_pupils(demo_services, operator, PUPILS_CSV, dry_run=True)
    # Today's « Départs : 1392 »: every pupil of the collège and every guardian.
    assert len(report.left) == 1392
    pupils = len([x for x in report.left if "responsable" not in x])
    assert report.departures is not None
    assert (report.departures.leaving, report.departures.enrolled) == (pupils, pupils)
    assert report.departures_over_limit
    text = "\n".join(report.lines())
    assert f"{pupils} départs sur {pupils} élèves inscrits (100\u00a0%)" in text
    assert "au-delà du seuil de 20\u00a0%" in text


def test_a_full_import_over_the_limit_is_refused(services: Services, tmp_path: Path) -> None:
    _school(services)
    assert not import_pupils(services, _operator(services), _pupils(tmp_path, 10)).errors
    # 3 of 10 leave: 30 % > 20 %.
    report = import_pupils(services, _operator(services), _pupils(tmp_path, 7, name="q.csv"))
    assert report.departures_over_limit
    assert report.held_back
    assert not report.errors
    assert _enrolled(services) == 10
    assert "rien n'a été enregistré" in "\n".join(report.lines())
    assert "3 départs sur 10 élèves inscrits (30\u00a0%)" in "\n".join(report.lines())
    with services.sessions() as s:
        assert (
            s.scalar(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "import")
            )
            == 1
        )


def test_departures_over_the_limit_go_through_when_allowed(
    services: Services, tmp_path: Path
) -> None:
    _school(services)
    assert not import_pupils(services, _operator(services), _pupils(tmp_path, 10)).errors
    path = _pupils(tmp_path, 7, name="q.csv")
    report = import_pupils(services, _operator(services), path, allow_departures=True)
    assert not report.held_back
    assert _enrolled(services) == 7


def test_departures_at_the_limit_go_through(services: Services, tmp_path: Path) -> None:
    _school(services)
    assert not import_pupils(services, _operator(services), _pupils(tmp_path, 10)).errors
    report = import_pupils(services, _operator(services), _pupils(tmp_path, 8, name="q.csv"))
    assert report.departures is not None and not report.departures_over_limit
    assert not report.held_back
    assert _enrolled(services) == 8


def test_the_limit_is_a_setting(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDUCONNECT_IMPORT_DEPARTURE_LIMIT", "0.5")
    assert Settings().import_departure_limit == 0.5
    monkeypatch.setenv("EDUCONNECT_IMPORT_DEPARTURE_LIMIT", "1.5")
    with pytest.raises(ValueError):
        Settings()
    assert Settings(import_departure_limit=0.2).import_departure_limit == 0.2
    monkeypatch.delenv("EDUCONNECT_IMPORT_DEPARTURE_LIMIT")
    monkeypatch.setenv("EDUCONNECT_CONFIG", "/nonexistent/config.toml")
    assert Settings().import_departure_limit == 0.2


def test_cli_refuses_departures_with_the_numbers(
    cli_env: Services, run_cli: RunCli, tmp_path: Path
) -> None:
    _school(cli_env)
    assert run_cli(["import", "pupils", str(_pupils(tmp_path, 10)), "--uai", UAI])[0] == 0
    few = str(_pupils(tmp_path, 2, name="q.csv"))
    code, out, err = run_cli(["import", "pupils", few, "--uai", UAI])
    assert code == 2
    assert "8 départs sur 10 élèves inscrits (80\u00a0%), au-delà du seuil de 20\u00a0%" in err
    assert "rien n'a été importé" in err and "--allow-departures" in err
    assert _enrolled(cli_env) == 10
    code, out, err = run_cli(["import", "pupils", few, "--uai", UAI, "--dry-run"])
    assert code == 0
    assert "8 départs sur 10" in out and "--allow-departures" in out
    code, out, err = run_cli(["import", "pupils", few, "--uai", UAI, "--allow-departures"])
    assert code == 0, err
    assert _enrolled(cli_env) == 2


# -- levels that do not fit the school -----------------------------------------------------


@pytest.mark.parametrize(
    ("type", "division", "fits"),
    [
        (EstablishmentType.ECOLE, "CM2A", True),
        (EstablishmentType.ECOLE, "GS", True),
        (EstablishmentType.ECOLE, "6E1", False),
        (EstablishmentType.COLLEGE, "6E1", True),
        (EstablishmentType.COLLEGE, "3EME2", True),
        (EstablishmentType.COLLEGE, "2NDE1", False),
        (EstablishmentType.COLLEGE, "CM2", False),
        (EstablishmentType.LYCEE, "TLE3", True),
        (EstablishmentType.LYCEE, "CM2", False),
        (EstablishmentType.LYCEE, "5E1", False),
        (EstablishmentType.LP, "1CAP2", True),
        (EstablishmentType.LP, "2NDE PRO", True),
        (EstablishmentType.LP, "3PM", True),
        (EstablishmentType.LP, "CE1", False),
    ],
)
def test_which_levels_a_school_type_has(type: EstablishmentType, division: str, fits: bool) -> None:
    assert type.has_level(Level.of_division(division)) is fits


def test_classes_that_do_not_fit_are_refused_row_by_row(services: Services, tmp_path: Path) -> None:
    _school(services, EstablishmentType.ECOLE)
    path = tmp_path / "e.csv"
    path.write_text(
        f"{HEADER}\n{_ine(1)};A;B;01/02/2016;CM2A\n{_ine(2)};C;D;01/02/2014;6E1\n"
        f"{_ine(3)};E;F;01/02/2014;2NDE1\n",
        encoding="utf-8",
    )
    report = import_pupils(services, _operator(services), path)
    assert [e.line for e in report.errors] == [3, 4]
    assert "« 6E1 »" in report.errors[0].reason and "école" in report.errors[0].reason
    assert "2de" in report.errors[1].reason
    assert _enrolled(services) == 0


def test_a_misfit_and_another_problem_share_one_line(services: Services, tmp_path: Path) -> None:
    _school(services, EstablishmentType.LYCEE)
    path = tmp_path / "l.csv"
    path.write_text(f"{HEADER}\n{_ine(1)};A;B;31/02/2014;CM2\n", encoding="utf-8")
    report = import_pupils(services, _operator(services), path)
    assert len(report.errors) == 1
    assert "ce jour n'existe pas" in report.errors[0].reason and "CM2" in report.errors[0].reason


# -- the summary and the report file -------------------------------------------------------


def test_the_report_ends_with_a_summary(services: Services, tmp_path: Path) -> None:
    _school(services)
    report = import_pupils(services, _operator(services), _pupils(tmp_path, 3))
    assert report.counts()["added"] == 3
    last = report.lines()[-1]
    assert last.startswith("Bilan\u00a0:")
    assert "3 ajouts" in last and "0 départ" in last and "0 ligne rejetée" in last


def test_a_refused_report_counts_its_rejected_rows(services: Services, tmp_path: Path) -> None:
    _school(services)
    path = tmp_path / "bad.csv"
    path.write_text(f"{HEADER}\nX;A;B;01/02/2014;6E1\nY;A;B;01/02/2014;6E1\n", encoding="utf-8")
    report = import_pupils(services, _operator(services), path)
    assert report.counts()["rejected"] == 2
    assert "2 lignes rejetées" in report.lines()[-1]


def test_cli_writes_the_report_to_a_private_file(
    cli_env: Services, run_cli: RunCli, tmp_path: Path
) -> None:
    _school(cli_env)
    target = tmp_path / "rapport.txt"
    pupils = str(_pupils(tmp_path, 3))
    code, out, err = run_cli(["import", "pupils", pupils, "--uai", UAI, "--report", str(target)])
    assert code == 0, err
    assert os.stat(target).st_mode & 0o777 == 0o600
    written = target.read_text(encoding="utf-8")
    assert "Bilan" in written and "Ajouts" in written
    assert str(target) in out
    code, _, err = run_cli(
        ["import", "pupils", pupils, "--uai", UAI, "--dry-run", "--report", str(target)]
    )
    assert code == 2
    assert "existe déjà" in err and "--overwrite" in err
    assert target.read_text(encoding="utf-8") == written
    code, _, err = run_cli(
        [
            "import",
            "pupils",
            pupils,
            "--uai",
            UAI,
            "--dry-run",
            "--report",
            str(target),
            "--overwrite",
        ]
    )
    assert code == 0, err
    assert "simulation" in target.read_text(encoding="utf-8")
    assert os.stat(target).st_mode & 0o777 == 0o600


def test_a_refused_import_still_writes_its_report(
    cli_env: Services, run_cli: RunCli, tmp_path: Path
) -> None:
    _school(cli_env)
    bad = tmp_path / "bad.csv"
    bad.write_text(f"{HEADER}\nX;A;B;01/02/2014;6E1\n", encoding="utf-8")
    target = tmp_path / "rapport.txt"
    code, _, _ = run_cli(["import", "pupils", str(bad), "--uai", UAI, "--report", str(target)])
    assert code == 2
    assert "ligne 2" in target.read_text(encoding="utf-8")


def test_an_existing_report_file_is_refused_before_the_import(
    cli_env: Services, run_cli: RunCli, tmp_path: Path
) -> None:
    _school(cli_env)
    target = tmp_path / "rapport.txt"
    target.write_text("ancien", encoding="utf-8")
    code, _, err = run_cli(
        ["import", "pupils", str(_pupils(tmp_path, 3)), "--uai", UAI, "--report", str(target)]
    )
    assert code == 2
    assert "existe déjà" in err
    assert _enrolled(cli_env) == 0
    assert target.read_text(encoding="utf-8") == "ancien"


def test_establishment_create_refuses_a_duplicate(services: Services) -> None:
    _school(services)
    with pytest.raises(InvalidInput, match="existe déjà"):
        _school(services)


def test_departures_are_told_in_french_numbers() -> None:
    from educonnect_tui.domain.siecle.report import Departures

    assert Departures(1392, 1392, 0.2).text() == (
        "1\u202f392 départs sur 1\u202f392 élèves inscrits (100\u00a0%), "
        "au-delà du seuil de 20\u00a0%"
    )
    assert Departures(1, 3, 0.25).text().startswith("1 départ sur 3 élèves inscrits (33,3\u00a0%)")
    assert Departures(3, 10, 0.3).over_limit is False
    assert Departures(0, 0, 0.2).over_limit is False


# -- memory: a large import is applied batch by batch ---------------------------------------


def test_an_import_lets_its_pupils_go_batch_by_batch(
    services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between batches only the school and its classes stay in the session."""
    from educonnect_tui.domain.siecle import pupils

    held: list[int] = []
    settle = pupils.PupilSync._settle

    def counting(self: pupils.PupilSync) -> None:
        settle(self)
        held.append(len(self.session.identity_map))

    monkeypatch.setattr(pupils, "_BATCH", 4)
    monkeypatch.setattr(pupils.PupilSync, "_settle", counting)
    _school(services)
    first = _pupils(tmp_path, 30)
    report = import_pupils(services, _operator(services), first)
    assert report.counts()["added"] == 30
    assert len(held) >= 30 // 4 and max(held) <= 1 + 1  # the school and its one class
    # Another 30 arrive, the first 30 leave, in batches too; reported in name order.
    path = tmp_path / "autres.csv"
    path.write_text(
        HEADER + "\n" + "".join(f"{_ine(100 + i)};AUTRE;Léa;01/02/2014;5E2\n" for i in range(30)),
        encoding="utf-8",
    )
    held.clear()
    report = import_pupils(services, _operator(services), path, allow_departures=True)
    assert report.counts()["added"] == report.counts()["left"] == 30
    assert report.left == sorted(report.left)
    assert max(held) <= 1 + 2
    assert _enrolled(services) == 30
    with services.sessions() as s:
        event = s.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).one()
        assert event.details["added"] == event.details["left"] == 30
        assert event.details["allow_departures"] is True


def test_batches_change_nothing_of_what_an_import_does(
    services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Moves, renames, departures and returns across batch boundaries (batches of 3)."""
    from educonnect_tui.domain.siecle import pupils

    monkeypatch.setattr(pupils, "_BATCH", 3)
    _school(services)
    operator = _operator(services)
    text = PUPILS_CSV.read_bytes().decode("cp1252")
    assert not import_pupils(services, operator, PUPILS_CSV).errors
    lines = text.splitlines(True)
    changed = tmp_path / "changed.csv"
    moved = lines[5].replace(";6E1", ";5E2")
    body = [lines[0], *lines[1:5], moved, *lines[6:-3]]  # the last three leave
    changed.write_bytes("".join(body).encode("cp1252"))
    report = import_pupils(services, operator, changed)
    assert len(report.moved) == 1 and report.counts()["left"] >= 3
    assert not report.added and not report.updated
    back = import_pupils(services, operator, PUPILS_CSV)
    assert len(back.reinstated) >= 3 and len(back.moved) == 1
    again = import_pupils(services, operator, PUPILS_CSV)
    assert not again.changed


def test_guardian_batches_change_nothing_of_what_an_import_does(
    services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Additions, link changes and guardians dropped across batch boundaries (batches of 2)."""
    from educonnect_tui.domain.siecle import guardians, pupils

    monkeypatch.setattr(pupils, "_BATCH", 3)
    monkeypatch.setattr(guardians, "_BATCH", 2)
    _school(services)
    operator = _operator(services)
    assert not import_pupils(services, operator, PUPILS_CSV).errors
    added = import_guardians(services, operator, GUARDIANS_CSV)
    assert not added.errors and added.added
    lines = GUARDIANS_CSV.read_bytes().decode("utf-8-sig").splitlines(True)
    fewer = tmp_path / "fewer.csv"
    fewer.write_text("".join(lines[:-4]), encoding="utf-8")
    report = import_guardians(services, operator, fewer)
    assert not report.errors and len(report.left) >= 2
    names = [line.split("\u00a0: ")[0].split(" ", 1)[1] for line in report.left]
    assert names == sorted(names, key=lambda n: (fold(n.split()[-1]), fold(n)))
    assert not import_guardians(services, operator, fewer).changed
    back = import_guardians(services, operator, GUARDIANS_CSV)
    assert back.added or back.reinstated
    assert not import_guardians(services, operator, GUARDIANS_CSV).changed
