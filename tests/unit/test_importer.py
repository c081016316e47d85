"""SIECLE-like CSV import of pupils and guardians, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from educonnect_tui.domain.access.caller import Operator
from educonnect_tui.domain.model.enums import (
    AccountKind,
    AccountState,
    EstablishmentType,
    PupilStatus,
)
from educonnect_tui.domain.model.errors import InvalidInput, NotFound
from educonnect_tui.domain.model.identifiers import uai_key
from educonnect_tui.domain.model.tables import (
    Account,
    AuditEvent,
    Division,
    Guardian,
    GuardianLink,
    Pupil,
)
from educonnect_tui.domain.siecle.guardians import import_guardians
from educonnect_tui.domain.siecle.pupils import import_pupils
from educonnect_tui.domain.siecle.reading import read_table
from educonnect_tui.domain.siecle.report import ImportReport, RowError
from educonnect_tui.domain.store import audit, establishments
from educonnect_tui.domain.store.audit import Actor
from educonnect_tui.domain.store.services import Services
from tests import factories
from tests.conftest import FakeClock

DATA = Path(__file__).resolve().parent.parent / "data"
PUPILS_CSV = DATA / "eleves_siecle.csv"
GUARDIANS_CSV = DATA / "responsables_siecle.csv"
UAI = "0750655E"
OTHER_UAI = f"0750656{uai_key('0750656')}"
ACTOR = Actor(label="Mme Proviseure", source_address="10.0.0.1")


def as_head(services: Services, uai: str) -> Operator:
    """The command line importing for that school, recorded as the principal's action."""
    return factories.operator(services, uai, ACTOR)


PUPIL_HEADER = "INE;Nom de famille;Prénom;Date de naissance;Division"
GUARDIAN_HEADER = (
    "Identifiant responsable;Civilité;Nom de famille;Prénom;Lien de parenté;"
    "Représentant légal;Courriel;Téléphone portable;Adresse;Code postal;Commune;INE élève"
)

# From the sample files.
LEA = "0700001501B"  # Léa MARTIN, 6E1
NOE = "0700001502C"  # Noé D'ALMEIDA, 6E1
JEAN_BAPTISTE = "0700001506G"  # Jean-Baptiste N'DIAYE, 6E1
AISSATOU = "0700001509K"  # Aïssatou N'DIAYE, 5E2


def make_school(services: Services, uai: str = UAI) -> None:
    with services.sessions() as s, s.begin():
        establishments.create(
            s,
            uai=uai,
            name="Collège Henri-IV",
            type=EstablishmentType.COLLEGE,
            academie="Paris",
            city="Paris",
        )


def sample_pupils() -> str:
    return PUPILS_CSV.read_bytes().decode("cp1252")


def sample_guardians() -> str:
    return GUARDIANS_CSV.read_bytes().decode("utf-8-sig")


def write(tmp_path: Path, text: str, encoding: str = "utf-8", name: str = "f.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def without(text: str, *ines: str) -> str:
    return "".join(line for line in text.splitlines(True) if not any(i in line for i in ines))


def snapshot(services: Services) -> dict[str, list[Any]]:
    """Every row the import may touch, including account versions."""
    with services.sessions() as s:
        return {
            model.__tablename__: sorted(tuple(row) for row in s.execute(select(model.__table__)))
            for model in (Division, Pupil, Guardian, GuardianLink, Account)
        }


def accounts_by_name(services: Services) -> dict[str, Account]:
    with services.sessions() as s:
        found: dict[str, Account] = {}
        for account, pupil in s.execute(select(Account, Pupil).join(Pupil)):
            found[f"{pupil.first_name} {pupil.last_name}"] = account
        for account, guardian in s.execute(select(Account, Guardian).join(Guardian)):
            found[f"{guardian.first_name} {guardian.last_name}"] = account
        return found


def import_samples(services: Services, tmp_path: Path) -> None:
    make_school(services)
    assert not import_pupils(services, as_head(services, UAI), PUPILS_CSV).errors
    assert not import_guardians(services, as_head(services, UAI), GUARDIANS_CSV).errors


def no_change(report: ImportReport) -> bool:
    return not report.changed and not report.errors


# --------------------------------------------------------------------------- first import


def test_first_import_creates_pupils_guardians_and_non_notified_accounts(
    services: Services,
) -> None:
    make_school(services)
    report = import_pupils(services, as_head(services, UAI), PUPILS_CSV)
    assert report.errors == [] and not report.dry_run
    assert len(report.added) == 30
    assert report.added[0] == "Léa MARTIN (6E1)"
    assert report.lines()[:3] == [
        "Import des élèves enregistré.",
        "Ajouts\u00a0: 30",
        "  + Léa MARTIN (6E1)",
    ]

    guardians = import_guardians(services, as_head(services, UAI), GUARDIANS_CSV)
    assert guardians.errors == []
    assert len(guardians.added) == 19
    assert guardians.added[0] == "Mme Sophie MARTIN (Léa MARTIN, Lucas MARTIN)"
    # Not a legal representative: kept as a contact of the pupil, with no account.
    assert "Mme Rachel COHEN (Sarah COHEN) — contact, sans compte" in guardians.added

    with services.sessions() as s:
        accounts = s.scalars(select(Account)).all()
        assert len(accounts) == 48
        assert {a.state for a in accounts} == {AccountState.NOT_NOTIFIED}
        assert len({a.login for a in accounts}) == 48
        logins = {a.login for a in accounts}
        assert {"l.martin", "l.martin2", "n.dalmeida", "l.deschamps", "s.martin"} <= logins
        assert {d.name: d.level for d in s.scalars(select(Division))} == {
            "6E1": "6e",
            "5E2": "5e",
            "4E1": "4e",
            "3E2": "3e",
        }
        assert s.scalar(select(func.count()).select_from(GuardianLink)) == 26
        rachel = s.scalars(select(Guardian).where(Guardian.source_key == "4510018")).one()
        assert [(lk.relationship_label, lk.legal_guardian) for lk in rachel.links] == [
            ("AUTRE MEMBRE DE LA FAMILLE", False)
        ]
        assert rachel.account is None
        sophie = s.scalars(select(Guardian).where(Guardian.source_key == "4510001")).one()
        assert (sophie.civility, sophie.mobile, sophie.email) == (
            "Mme",
            "0612345678",
            "sophie.martin@example.fr",
        )
        assert sophie.account.email == "sophie.martin@example.fr"
        ana = s.scalars(select(Guardian).where(Guardian.source_key == "4510003")).one()
        assert ana.mobile == "0711223344"  # +33 7 ... folded to the national form
        helene = s.scalars(select(Guardian).where(Guardian.source_key == "4510005")).one()
        assert helene.email is None

        events = s.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        assert [e.action for e in events] == ["import", "import"]
        assert events[0].actor_label == "Mme Proviseure"
        assert events[0].details == {
            "kind": "pupils",
            "file": "eleves_siecle.csv",
            "rows": 30,
            "added": 30,
            "moved": 0,
            "updated": 0,
            "left": 0,
            "reinstated": 0,
        }
        assert events[1].details["kind"] == "guardians"
        assert events[1].details["added"] == 19
        assert audit.verify(s).ok


def test_reimport_of_the_same_files_changes_nothing(services: Services, tmp_path: Path) -> None:
    import_samples(services, tmp_path)
    before = snapshot(services)
    pupils = import_pupils(services, as_head(services, UAI), PUPILS_CSV)
    guardians = import_guardians(services, as_head(services, UAI), GUARDIANS_CSV)
    assert no_change(pupils) and no_change(guardians)
    assert pupils.lines() == [
        "Import des élèves enregistré.",
        "Aucun changement.",
        "Bilan\u00a0: 0 ajout, 0 changement de classe, 0 mise à jour, 0 départ, "
        "0 réintégration, 0 ligne rejetée.",
    ]
    assert snapshot(services) == before


# --------------------------------------------------------------------------- changes


def test_class_move_and_name_change_keep_the_login(services: Services, tmp_path: Path) -> None:
    import_samples(services, tmp_path)
    login_before = accounts_by_name(services)["Noé D'ALMEIDA"].login
    text = sample_pupils().replace(
        f"{LEA};MARTIN;Léa;Marie;14/03/2015;F;6E1", f"{LEA};MARTIN;Léa;Marie;14/03/2015;F;5E2"
    )
    text = text.replace(";D'ALMEIDA;Noé;", ";D'ALMEIDA DA SILVA;Noé;")
    report = import_pupils(services, as_head(services, UAI), write(tmp_path, text, "cp1252"))
    assert report.moved == ["Léa MARTIN\u00a0: 6E1 → 5E2"]
    assert report.updated == ["Noé D'ALMEIDA\u00a0: nom D'ALMEIDA → D'ALMEIDA DA SILVA"]
    assert report.added == report.left == report.reinstated == []
    account = accounts_by_name(services)["Noé D'ALMEIDA DA SILVA"]
    assert account.login == login_before == "n.dalmeida"
    assert account.search_text == "d almeida da silva noe n dalmeida"
    assert account.sort_name == "dalmeidadasilva noe"  # moves in the lists with its name
    with services.sessions() as s:
        lea = s.scalars(select(Pupil).where(Pupil.ine == LEA)).one()
        assert lea.division is not None and lea.division.name == "5E2"


def test_guardian_changes_update_the_guardian_and_links(services: Services, tmp_path: Path) -> None:
    import_samples(services, tmp_path)
    text = sample_guardians().replace("sophie.martin@example.fr", "sophie.m@example.fr")
    text = text.replace(
        ";COHEN;Rachel;AUTRE MEMBRE DE LA FAMILLE;Non;",
        ";COHEN;Rachel;AUTRE MEMBRE DE LA FAMILLE;Oui;",
    )
    text = without(
        text,
        f"4510002;M.;MARTIN;Pierre;PERE;Oui;p.martin@example.com;06.98.76.54.32;;"
        f"12 rue des Écoles;75005;Paris;{LEA}",
    )
    report = import_guardians(services, as_head(services, UAI), write(tmp_path, text))
    assert report.updated == [
        "Mme Sophie MARTIN\u00a0: courriel",
        "M. Pierre MARTIN\u00a0: lien retiré avec Léa MARTIN",
        "Mme Rachel COHEN\u00a0: représentant légal de Sarah COHEN, compte créé",
    ]
    assert report.added == report.left == []


# --------------------------------------------------------------------------- leavers


def test_leavers_are_deactivated_with_guardians_left_alone_and_come_back(
    services: Services, tmp_path: Path
) -> None:
    import_samples(services, tmp_path)
    # Both N'DIAYE children leave: their parents have no pupil left. Léa leaves, but her
    # brother Lucas stays, so the MARTIN parents keep their accounts.
    text = without(sample_pupils(), JEAN_BAPTISTE, AISSATOU, LEA)
    report = import_pupils(services, as_head(services, UAI), write(tmp_path, text, "cp1252"))
    assert report.left == [
        "Léa MARTIN (6E1) — compte désactivé",
        "Aïssatou N'DIAYE (5E2) — compte désactivé",
        "Jean-Baptiste N'DIAYE (6E1) — compte désactivé",
        "Mme Fatou N'DIAYE (responsable) — plus aucun élève inscrit, compte désactivé",
        "M. Ousmane N'DIAYE (responsable) — plus aucun élève inscrit, compte désactivé",
    ]
    accounts = accounts_by_name(services)
    for name in ("Léa MARTIN", "Aïssatou N'DIAYE", "Fatou N'DIAYE", "Ousmane N'DIAYE"):
        assert accounts[name].state is AccountState.DEACTIVATED
        assert accounts[name].deactivated_at is not None
    assert accounts["Sophie MARTIN"].state is AccountState.NOT_NOTIFIED
    with services.sessions() as s:
        lea = s.scalars(select(Pupil).where(Pupil.ine == LEA)).one()
        assert lea.status is PupilStatus.LEFT
        assert lea.left_on is not None
        assert lea.links  # never deleted: the history stays

    # Leaving twice changes nothing; the guardian file must not name pupils who left.
    assert no_change(
        import_pupils(services, as_head(services, UAI), write(tmp_path, text, "cp1252"))
    )
    refused = import_guardians(services, as_head(services, UAI), GUARDIANS_CSV)
    assert refused.errors[0] == RowError(
        2, "élève inconnu\u00a0: Léa MARTIN (INE 0700001501B) a quitté l'établissement"
    )

    back = import_pupils(services, as_head(services, UAI), PUPILS_CSV)
    assert back.reinstated == [
        "Léa MARTIN (6E1)",
        "Jean-Baptiste N'DIAYE (6E1)",
        "Aïssatou N'DIAYE (5E2)",
        "Mme Fatou N'DIAYE (responsable)",
        "M. Ousmane N'DIAYE (responsable)",
    ]
    accounts = accounts_by_name(services)
    for name in ("Léa MARTIN", "Aïssatou N'DIAYE", "Fatou N'DIAYE", "Ousmane N'DIAYE"):
        assert accounts[name].state is AccountState.NOT_NOTIFIED
        assert accounts[name].deactivated_at is None


def test_guardian_dropped_from_the_file_loses_this_schools_links(
    services: Services, tmp_path: Path
) -> None:
    import_samples(services, tmp_path)
    text = without(sample_guardians(), "4510003;", "4510018;")
    report = import_guardians(services, as_head(services, UAI), write(tmp_path, text))
    assert report.left == [
        # A contact, not a legal representative: there is no account to deactivate.
        "Mme Rachel COHEN\u00a0: plus lié à aucun élève de l'établissement",
        "Mme Ana D'ALMEIDA\u00a0: plus lié à aucun élève de l'établissement, compte désactivé",
    ]
    assert accounts_by_name(services)["Ana D'ALMEIDA"].state is AccountState.DEACTIVATED


# --------------------------------------------------------------------------- two schools


def test_guardian_in_two_schools_keeps_the_other_schools_link(
    services: Services, tmp_path: Path
) -> None:
    make_school(services)
    make_school(services, OTHER_UAI)
    a = write(tmp_path, f"{PUPIL_HEADER}\n{LEA};MARTIN;Léa;14/03/2015;6E1\n", name="a.csv")
    b = write(tmp_path, f"{PUPIL_HEADER}\n12345678901;MARTIN;Tom;01/02/2009;3E3\n", name="b.csv")
    assert len(import_pupils(services, as_head(services, UAI), a).added) == 1
    assert len(import_pupils(services, as_head(services, OTHER_UAI), b).added) == 1
    row = "G1;Mme;MARTIN;Sophie;MERE;Oui;s@example.fr;0612345678;1 rue A;75005;Paris;"
    ga = write(tmp_path, f"{GUARDIAN_HEADER}\n{row}{LEA}\n", name="ga.csv")
    gb = write(tmp_path, f"{GUARDIAN_HEADER}\n{row}12345678901\n", name="gb.csv")
    assert import_guardians(services, as_head(services, UAI), ga).added == [
        "Mme Sophie MARTIN (Léa MARTIN)"
    ]
    assert import_guardians(services, as_head(services, OTHER_UAI), gb).added == [
        "Mme Sophie MARTIN (Tom MARTIN) — compte existant conservé"
    ]
    assert no_change(import_guardians(services, as_head(services, UAI), ga))
    with services.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Guardian)) == 1
        assert s.scalar(select(func.count()).select_from(GuardianLink)) == 2

    # School A's file no longer names her: only A's link goes; her account lives on for Tom.
    other = write(tmp_path, f"{GUARDIAN_HEADER}\nG2;M.;MARTIN;Paul;PERE;Oui;;;;;;{LEA}\n")
    report = import_guardians(services, as_head(services, UAI), other)
    assert report.left == ["Mme Sophie MARTIN\u00a0: plus lié à aucun élève de l'établissement"]
    with services.sessions() as s:
        sophie = s.scalars(select(Guardian).where(Guardian.source_key == "G1")).one()
        assert [lk.pupil.first_name for lk in sophie.links] == ["Tom"]
        assert sophie.account.state is AccountState.NOT_NOTIFIED

    # Tom leaves school B: Sophie has no pupil left anywhere.
    c = write(tmp_path, f"{PUPIL_HEADER}\n99999999999;DURAND;Ali;01/02/2009;3E3\n", name="c.csv")
    report = import_pupils(services, as_head(services, OTHER_UAI), c, allow_departures=True)
    assert "Mme Sophie MARTIN (responsable) — plus aucun élève inscrit, compte désactivé" in (
        report.left
    )


def test_pupil_arriving_from_another_school_keeps_their_account(
    services: Services, tmp_path: Path
) -> None:
    make_school(services)
    make_school(services, OTHER_UAI)
    import_pupils(services, as_head(services, UAI), PUPILS_CSV)
    login = accounts_by_name(services)["Léa MARTIN"].login
    arrival = write(tmp_path, f"{PUPIL_HEADER}\n{LEA};MARTIN;Léa;14/03/2015;5A\n")
    report = import_pupils(services, as_head(services, OTHER_UAI), arrival)
    assert report.added == [f"Léa MARTIN (5A) — arrivée de l'établissement {UAI}, compte conservé"]
    assert accounts_by_name(services)["Léa MARTIN"].login == login
    # The first school no longer has her: its next import does not see her leave.
    report = import_pupils(
        services,
        as_head(services, UAI),
        write(tmp_path, without(sample_pupils(), LEA), "cp1252", "x.csv"),
    )
    assert no_change(report)


# --------------------------------------------------------------------------- errors


def test_every_bad_pupil_row_is_reported_and_nothing_is_written(
    services: Services, tmp_path: Path
) -> None:
    make_school(services)
    text = "\n".join(
        [
            PUPIL_HEADER,
            f"{LEA};MARTIN;Léa;14/03/2015;6E1",  # 2: fine
            "07000015;DUPONT;Jean;01/01/2013;4E1",  # 3: INE too short
            f"{NOE};D'ALMEIDA;Noé;31/02/2015;6E1",  # 4: no such day
            "0700009999Z;PETIT;Zoé;2015-03-14;6E1",  # 5: wrong date format
            "0700009998Y;GRAND;Luc;14/03/2015;",  # 6: no class
            f"{LEA};MARTIN;Léa;14/03/2015;6E1",  # 7: duplicate INE
            "",  # 8: blank lines are skipped
            "0700009997X;;Inès;14/03/2015;6E1",  # 9: no last name
            ";MOREAU;Enzo;;3E2",  # 10: two problems on one row
        ]
    )
    report = import_pupils(services, as_head(services, UAI), write(tmp_path, text))
    assert report.errors == [
        RowError(
            3, "INE « 07000015 » invalide\u00a0: 11 caractères, chiffres et lettres majuscules."
        ),
        RowError(4, "date de naissance « 31/02/2015 » invalide\u00a0: ce jour n'existe pas"),
        RowError(5, "date de naissance « 2015-03-14 » invalide\u00a0: format attendu JJ/MM/AAAA"),
        RowError(6, "classe inconnue\u00a0: la colonne « Division » est vide"),
        RowError(7, f"INE {LEA} en double (déjà ligne 2)"),
        RowError(9, "nom de famille manquant"),
        RowError(10, "INE manquant ; date de naissance manquante"),
    ]
    assert report.added == [] and not report.changed
    assert report.lines()[0] == (
        "Import des élèves refusé\u00a0: 7 lignes en erreur, aucune modification enregistrée."
    )
    assert report.lines()[1] == (
        "  ligne 3 : INE « 07000015 » invalide : 11 caractères, chiffres et lettres majuscules."
    )
    with services.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Pupil)) == 0
        assert s.scalar(select(func.count()).select_from(Division)) == 0
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_every_bad_guardian_row_is_reported_and_nothing_is_written(
    services: Services, tmp_path: Path
) -> None:
    make_school(services)
    import_pupils(services, as_head(services, UAI), PUPILS_CSV)
    before = snapshot(services)
    ok = "G1;Mme;MARTIN;Sophie;MERE;Oui;s@example.fr;0612345678;1 rue A;75005;Paris;"
    text = "\n".join(
        [
            GUARDIAN_HEADER,
            ok + LEA,  # 2: fine
            ok + "12345678901",  # 3: valid INE, not a pupil of this school
            f"G2;M.;MARTIN;Pierre;PERE;Peut-être;;;;;;{LEA}",  # 4
            f"G3;M.;DUBOIS;Marc;PERE;Oui;marc@;;;;;{LEA}",  # 5
            f"G4;M.;DUBOIS;Marc;PERE;Oui;;12 34;;;;{LEA}",  # 6
            ok.replace("Sophie", "Sofia") + NOE,  # 7: same identifier, other first name
            ok + LEA,  # 8: same link twice
            f";M.;DUBOIS;Marc;PERE;Oui;;;;;;{LEA}",  # 9
            "G5;M.;DUBOIS;Marc;PERE;Oui;;;;;;0700001501",  # 10: bad INE
        ]
    )
    report = import_guardians(services, as_head(services, UAI), write(tmp_path, text))
    assert report.errors == [
        RowError(
            3,
            "élève inconnu\u00a0: l'INE 12345678901 n'est pas inscrit dans cet établissement "
            "(importez d'abord les élèves)",
        ),
        RowError(4, "représentant légal « Peut-être » invalide\u00a0: Oui ou Non"),
        RowError(5, "courriel « marc@ » invalide"),
        RowError(6, "téléphone portable « 12 34 » invalide"),
        RowError(7, "responsable G1\u00a0: prénom différent(s) de la ligne 2"),
        RowError(
            8, f"lien en double\u00a0: le responsable G1 est déjà lié à l'élève {LEA} ligne 2"
        ),
        RowError(9, "identifiant responsable manquant"),
        RowError(
            10, "INE « 0700001501 » invalide\u00a0: 11 caractères, chiffres et lettres majuscules."
        ),
    ]
    assert snapshot(services) == before


def test_whole_file_problems_raise_invalid_input(services: Services, tmp_path: Path) -> None:
    make_school(services)
    with pytest.raises(InvalidInput, match="Fichier introuvable"):
        import_pupils(services, as_head(services, UAI), tmp_path / "absent.csv")
    missing = write(tmp_path, "INE;Nom de famille;Prénom;Division\n0700001501B;A;B;6E1\n")
    with pytest.raises(
        InvalidInput, match="colonne obligatoire absente\u00a0: « Date de naissance »"
    ):
        import_pupils(services, as_head(services, UAI), missing)
    commas = write(tmp_path, "INE,Nom de famille,Prénom,Date de naissance,Division\n")
    with pytest.raises(InvalidInput, match="Le séparateur doit être le point-virgule"):
        import_pupils(services, as_head(services, UAI), commas)
    with pytest.raises(InvalidInput, match="vide"):
        import_pupils(services, as_head(services, UAI), write(tmp_path, "\n\n"))
    with pytest.raises(InvalidInput, match="sans aucune ligne de données"):
        import_pupils(services, as_head(services, UAI), write(tmp_path, PUPIL_HEADER + "\n"))
    with pytest.raises(InvalidInput, match="lettre de contrôle"):
        as_head(services, "0750655F")
    with pytest.raises(NotFound):
        import_pupils(services, as_head(services, OTHER_UAI), PUPILS_CSV)
    with pytest.raises(InvalidInput, match="« Identifiant responsable »"):
        import_guardians(services, as_head(services, UAI), PUPILS_CSV)
    with services.sessions() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == 0


# --------------------------------------------------------------------------- dry run


def test_dry_run_reports_everything_and_writes_nothing(services: Services, tmp_path: Path) -> None:
    import_samples(services, tmp_path)
    before = snapshot(services)
    text = without(sample_pupils(), JEAN_BAPTISTE).replace(
        ";LE GALL;Maël;;09/01/2015;M;6E1", ";LE GALL;Maël;;09/01/2015;M;5E2"
    )
    text += "0799999999A;NOUVEAU;Élève;;01/01/2015;F;6E3\r\n"
    report = import_pupils(
        services, as_head(services, UAI), write(tmp_path, text, "cp1252"), dry_run=True
    )
    assert report.dry_run and report.changed
    assert report.added == ["Élève NOUVEAU (6E3)"]
    assert report.moved == ["Maël LE GALL\u00a0: 6E1 → 5E2"]
    assert report.left == ["Jean-Baptiste N'DIAYE (6E1) — compte désactivé"]
    assert report.lines()[0] == "Import des élèves — simulation\u00a0: rien n'a été enregistré."
    assert snapshot(services) == before
    with services.sessions() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == 2


# --------------------------------------------------------------------------- school's day


def test_birth_dates_and_departures_count_the_schools_day(
    services: Services, clock: FakeClock, tmp_path: Path
) -> None:
    """At 23:30 UTC on 31 August it is already 1 September in Paris."""
    clock.now = dt.datetime(2026, 8, 31, 23, 30, tzinfo=dt.UTC)
    make_school(services)
    born_today = f"{PUPIL_HEADER}\n{LEA};MARTIN;Léa;01/09/2026;6E1\n"
    refused = import_pupils(services, as_head(services, UAI), write(tmp_path, born_today))
    assert refused.errors == [
        RowError(2, "date de naissance « 01/09/2026 » invalide\u00a0: date impossible")
    ]

    both = f"{PUPIL_HEADER}\n{LEA};MARTIN;Léa;31/08/2026;6E1\n{NOE};D'ALMEIDA;Noé;14/03/2015;6E1\n"
    assert not import_pupils(services, as_head(services, UAI), write(tmp_path, both)).errors
    only_noe = f"{PUPIL_HEADER}\n{NOE};D'ALMEIDA;Noé;14/03/2015;6E1\n"
    left = import_pupils(
        services, as_head(services, UAI), write(tmp_path, only_noe), allow_departures=True
    )
    assert left.left == ["Léa MARTIN (6E1) — compte désactivé"]
    with services.sessions() as s:
        lea = s.scalars(select(Pupil).where(Pupil.ine == LEA)).one()
        assert lea.birth_date == dt.date(2026, 8, 31)
        assert lea.left_on == dt.date(2026, 9, 1)


# --------------------------------------------------------------------------- encodings


@pytest.mark.parametrize("encoding", ["cp1252", "utf-8", "utf-8-sig", "latin-1"])
def test_read_table_detects_the_encoding(tmp_path: Path, encoding: str) -> None:
    text = "ine;NOM DE FAMILLE;prenom;date de naissance;division\r\n"
    text += "0700001501B;DE LA FONTAINE;Chloé;27/06/2015;6E1\r\n\r\n"
    text += '0700001502C;"O\'NEILL; Æ";Anaïs;03/10/2014;5E2\r\n'
    headers, rows = read_table(write(tmp_path, text, encoding))
    assert headers == ["ine", "NOM DE FAMILLE", "prenom", "date de naissance", "division"]
    assert [line for line, _ in rows] == [2, 4]
    assert rows[0][1]["prenom"] == "Chloé"
    assert rows[1][1]["NOM DE FAMILLE"] == "O'NEILL; Æ"


def test_read_table_rejects_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="UTF-16"):
        read_table(write(tmp_path, PUPIL_HEADER, "utf-16"))
    with pytest.raises(InvalidInput, match="encodage non reconnu"):
        read_table(_undefined_cp1252(tmp_path))
    with pytest.raises(InvalidInput, match="dossier"):
        read_table(tmp_path)


def _undefined_cp1252(tmp_path: Path) -> Path:
    path = tmp_path / "bad.csv"
    path.write_bytes(b"INE;Nom\n\x81\x8d;x\n")  # bytes cp1252 leaves undefined
    return path


def test_latin1_import_with_loose_headers(services: Services, tmp_path: Path) -> None:
    make_school(services)
    text = "ine;NOM;PRENOM;Date naissance;classe;Régime\n"
    text += "0700001503D;DE LA FONTAINE;Chloé;27/06/2015;6E1;DP\n"
    report = import_pupils(services, as_head(services, UAI), write(tmp_path, text, "latin-1"))
    assert report.added == ["Chloé DE LA FONTAINE (6E1)"]
    assert accounts_by_name(services)["Chloé DE LA FONTAINE"].kind is AccountKind.PUPIL


# --------------------------------------------------------------------------- hostile cells

# Quoted cells: the sequences hold the file's own separator.
OSC52 = '"\x1b]52;c;ZWNobyBwd25lZA==\x07"'  # sets the operator's clipboard
OSC0 = '"\x1b]0;Vous êtes piraté\x07"'  # sets the window title
CLEAR = "\x1b[2J"  # wipes the screen
RLO = "\u202e"  # right-to-left override: « NIRAM » reads « MARIN »
ZWSP = "\u200b"  # zero-width space: two names that look alike


def _no_terminal_control(text: str) -> None:
    import unicodedata

    bad = [c for c in text if c != "\n" and unicodedata.category(c) in {"Cc", "Cf"}]
    assert bad == [], ascii(text)


def test_names_with_control_or_invisible_characters_are_refused_with_their_line(
    services: Services, tmp_path: Path
) -> None:
    make_school(services)
    text = "\n".join(
        [
            PUPIL_HEADER,
            f"{LEA};{OSC52[:1]}MARTIN{OSC52[1:]};Léa;14/03/2015;6E1",  # 2
            f"{NOE};D'ALMEIDA;{OSC0[:1]}Noé{OSC0[1:]};02/11/2015;6E1",  # 3
            f"0700001503D;DE LA FONTAINE;{CLEAR}Chloé;27/06/2015;6E1",  # 4
            f"0700001504E;{RLO}LLAG EL;Maël;09/01/2015;6E1",  # 5
            f"0700001505F;LE{ZWSP}GALL;Maël;09/01/2015;6E1",  # 6
            "0700001506G;N'DIAYE;Jean\x7f;09/01/2015;6E1",  # 7: DEL
            "0700001507H;N'DIAYE;Ab\x9bdel;09/01/2015;6E1",  # 8: C1 CSI
            f"0700001508J;N'DIAYE;Inès;09/01/2015;6E1{CLEAR}",  # 9: a class, not a name
        ]
    )
    report = import_pupils(services, as_head(services, UAI), write(tmp_path, text))
    assert [e.line for e in report.errors] == [2, 3, 4, 5, 6, 7, 8, 9]
    assert "nom de famille" in report.errors[0].reason
    assert "U+001B" in report.errors[0].reason
    assert "prénom" in report.errors[1].reason
    assert "U+202E" in report.errors[3].reason and "U+200B" in report.errors[4].reason
    assert "U+007F" in report.errors[5].reason and "U+009B" in report.errors[6].reason
    assert "classe" in report.errors[7].reason
    printed = "\n".join(report.lines())
    _no_terminal_control(printed)
    assert "  ligne 2\u00a0: " in printed
    with services.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Pupil)) == 0


def test_guardian_cells_with_control_characters_are_refused(
    services: Services, tmp_path: Path
) -> None:
    import_samples(services, tmp_path)
    before = snapshot(services)
    fields = ["4519001", "Mme", "DUPONT", "Anne", "MERE", "Oui", "", "", "", "", "", LEA]
    rows = []
    hostile_cells = ((2, OSC52), (3, RLO), (4, OSC0), (6, ZWSP), (7, "\x07"), (10, CLEAR))
    for index, hostile in hostile_cells:
        row = list(fields)
        row[0] = f"45190{index:02d}"
        row[index] = f'"{row[index]}{hostile.strip(chr(34))}"'
        rows.append(";".join(row))
    report = import_guardians(
        services, as_head(services, UAI), write(tmp_path, "\n".join([GUARDIAN_HEADER, *rows]))
    )
    assert [e.line for e in report.errors] == [2, 3, 4, 5, 6, 7]
    labels = ("nom de famille", "prénom", "lien", "courriel", "téléphone", "commune")
    for error, what in zip(report.errors, labels, strict=True):
        assert what in error.reason, error
    _no_terminal_control("\n".join(report.lines()))
    assert snapshot(services) == before


def test_real_names_of_every_kind_are_still_imported(services: Services, tmp_path: Path) -> None:
    make_school(services)
    names = [
        ("N'DIAYE", "Jean-Baptiste"),
        ("O’BRIEN", "Seán"),
        ("ST. JOHN", "Zoë"),
        ("ШЕВЧЕНКО", "Дмитро"),
        ("李", "小龙"),
        ("CONSTANTINOU", "Ευάγγελος"),
        ("Ye\u0301t", "Chloe\u0301"),  # decomposed accents are stored composed
    ]
    rows = [
        f"07000016{i:02d}{'ABCDEFGH'[i]};{last};{first};14/03/2015;6E1"
        for i, (last, first) in enumerate(names)
    ]
    report = import_pupils(
        services, as_head(services, UAI), write(tmp_path, "\n".join([PUPIL_HEADER, *rows]))
    )
    assert report.errors == []
    with services.sessions() as s:
        stored = {(p.last_name, p.first_name) for p in s.scalars(select(Pupil))}
    assert ("Yét", "Chloé") in stored and ("李", "小龙") in stored and len(stored) == 7


def test_headers_with_control_characters_are_shown_escaped(
    services: Services, tmp_path: Path
) -> None:
    make_school(services)
    path = write(tmp_path, f"INE;{OSC52[:1]}Nom{OSC52[1:]};Prénom\n{LEA};MARTIN;Léa\n")
    with pytest.raises(InvalidInput) as caught:
        import_pupils(services, as_head(services, UAI), path)
    assert "Colonnes trouvées" in str(caught.value)
    _no_terminal_control(str(caught.value))


def test_a_huge_cell_is_refused_in_french_with_its_line(services: Services, tmp_path: Path) -> None:
    make_school(services)
    huge = "A" * (10 * 1024 * 1024)
    text = f"{PUPIL_HEADER}\n{LEA};MARTIN;Léa;14/03/2015;6E1\n{NOE};{huge};Noé;02/11/2015;6E1\n"
    with pytest.raises(InvalidInput) as caught:
        import_pupils(services, as_head(services, UAI), write(tmp_path, text))
    message = str(caught.value)
    assert "ligne 3" in message and "trop longue" in message, message
    assert "colonne « Nom de famille »" in message
    assert "field" not in message and "limit" not in message
    with services.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Pupil)) == 0


def test_reasons_of_one_row_read_as_one_sentence(services: Services, tmp_path: Path) -> None:
    """A reason that is a whole sentence (the INE's) followed by another: no « . ; »."""
    make_school(services)
    text = "\n".join([PUPIL_HEADER, "07000015;;Jules;14/03/2015;6E1"])
    report = import_pupils(services, as_head(services, UAI), write(tmp_path, text))
    assert report.errors == [
        RowError(
            2,
            "INE « 07000015 » invalide\u00a0: 11 caractères, chiffres et lettres majuscules ; "
            "nom de famille manquant",
        )
    ]
