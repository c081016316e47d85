"""Statistics against a school counted by hand, on both backends; CLI output; exports.

The fixture (today is 16/11/2026, noon UTC):

| pupil | class | state | activated at | born | pass Culture |
|---|---|---|---|---|---|
| Arnaud | 3E1 | activé | 16/11 10:00 | 16/11/2011 (15 today) | yes, activated |
| Bernard | 3E1 | activé | 10/11 09:00 | 17/11/2011 (15 tomorrow) | no |
| Carpentier | 3E1 | notifié, expires in 10 d | — | 17/11/2008 (18 tomorrow) | yes, missing |
| Durand | 3E1 | non notifié, blocked | — | 16/11/2008 (18 today) | no |
| Étienne | 3E2 | notifié, expires in 20 d | — | 01/05/2010 | yes, missing |
| Fabre | 3E2 | désactivé (left) | — | 01/01/2010 | no (left) |
| Garnier | 3E2 | activé | 05/10 12:00 (day before the window) | 03/03/2012 | no |
| Henry | 3E2 | activé | 10/11 14:00 | 01/01/2013 | no |

| guardian | children | state |
|---|---|---|
| g1 | Arnaud, Étienne | activé FranceConnect, 16/11 11:00 |
| g2 | Bernard | activé auto-inscription, 10/11 13:00 |
| g3 | Carpentier | notifié, expires in 5 d, blocked |
| g4 | Durand | non notifié |
| g5 | Fabre | désactivé |
| g6 | Garnier, Henry | activé identifiants provisoires, 06/10 12:00 (first day) |

Another school's activated pupil must never count.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from educonnect_tui.cli import context as cli_context
from educonnect_tui.domain.access import delegations
from educonnect_tui.domain.access.delegations import GrantRequest
from educonnect_tui.domain.model.enums import (
    AccountKind,
    AccountState,
    ActivationMethod,
    Module,
    PupilStatus,
    StaffRole,
)
from educonnect_tui.domain.model.errors import PermissionDenied
from educonnect_tui.domain.model.tables import Account, AuditEvent, Establishment
from educonnect_tui.domain.reports.charts import bar, column_chart, sparkline
from educonnect_tui.domain.reports.class_figures import ClassSort, sort_classes
from educonnect_tui.domain.reports.figures import school_stats
from educonnect_tui.domain.reports.pass_culture import pass_culture_window
from educonnect_tui.domain.reports.stats_pdf import export_stats, stats_csv, stats_pdf
from educonnect_tui.domain.reports.stats_text import class_rows, summary_rows
from educonnect_tui.domain.store.services import Services
from tests import factories
from tests.conftest import FakeClock
from tests.helpers import RunCli

UAI = factories.DEFAULT_UAI
NOW = dt.datetime(2026, 11, 16, 12, 0, tzinfo=dt.UTC)
D = dt.date


def _at(day: int, month: int, hour: int) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, 0, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Fixture:
    ids: dict[str, int]


def _activate(account: Account, when: dt.datetime, method: ActivationMethod | None = None) -> None:
    account.state = AccountState.ACTIVATED
    account.activated_at = when
    account.activation_method = method


def _notify(account: Account, expires: dt.datetime) -> None:
    account.state = AccountState.NOTIFIED
    account.notified_at = NOW - dt.timedelta(days=30)
    account.temp_expires_at = expires


@pytest.fixture
def school(services: Services, clock: FakeClock) -> Fixture:
    clock.now = NOW
    with services.sessions() as session, session.begin():
        sch = factories.school(session)
        rows = {
            "arnaud": ("Arnaud", "3E1", D(2011, 11, 16)),
            "bernard": ("Bernard", "3E1", D(2011, 11, 17)),
            "carpentier": ("Carpentier", "3E1", D(2008, 11, 17)),
            "durand": ("Durand", "3E1", D(2008, 11, 16)),
            "etienne": ("Étienne", "3E2", D(2010, 5, 1)),
            "fabre": ("Fabre", "3E2", D(2010, 1, 1)),
            "garnier": ("Garnier", "3E2", D(2012, 3, 3)),
            "henry": ("Henry", "3E2", D(2013, 1, 1)),
        }
        p = {
            key: factories.pupil(
                session, sch, first_name="Léa", last_name=last, division=division, birth_date=born
            )
            for key, (last, division, born) in rows.items()
        }
        _activate(p["arnaud"], _at(16, 11, 10))
        _activate(p["bernard"], _at(10, 11, 9))
        _notify(p["carpentier"], NOW + dt.timedelta(days=10))
        p["durand"].blocked_until = NOW + dt.timedelta(hours=1)
        _notify(p["etienne"], NOW + dt.timedelta(days=20))
        p["fabre"].state = AccountState.DEACTIVATED
        p["fabre"].deactivated_at = NOW - dt.timedelta(days=3)
        assert p["fabre"].pupil is not None
        p["fabre"].pupil.status = PupilStatus.LEFT
        _activate(p["garnier"], _at(5, 10, 12))
        _activate(p["henry"], _at(10, 11, 14))

        g = {
            "g1": factories.guardian(session, [p["arnaud"], p["etienne"]], last_name="Un"),
            "g2": factories.guardian(session, [p["bernard"]], last_name="Deux"),
            "g3": factories.guardian(session, [p["carpentier"]], last_name="Trois"),
            "g4": factories.guardian(session, [p["durand"]], last_name="Quatre"),
            "g5": factories.guardian(session, [p["fabre"]], last_name="Cinq"),
            "g6": factories.guardian(session, [p["garnier"], p["henry"]], last_name="Six"),
        }
        _activate(g["g1"], _at(16, 11, 11), ActivationMethod.FRANCECONNECT)
        _activate(g["g2"], _at(10, 11, 13), ActivationMethod.SELF_REGISTRATION)
        _notify(g["g3"], NOW + dt.timedelta(days=5))
        g["g3"].blocked_until = NOW + dt.timedelta(hours=2)
        g["g5"].state = AccountState.DEACTIVATED
        _activate(g["g6"], _at(6, 10, 12), ActivationMethod.TEMPORARY_CREDENTIALS)

        other = factories.school(session, "0750001U", "Lycée voisin")
        stranger = factories.pupil(session, other, last_name="Ailleurs", division="2NDE1",
                                   birth_date=D(2010, 1, 1))  # fmt: skip
        _activate(stranger, _at(16, 11, 10))
        ids = {k: a.id for k, a in {**p, **g}.items()}
    return Fixture(ids)


def test_school_figures_counted_by_hand(services: Services, school: Fixture) -> None:
    s = school_stats(services, factories.operator(services, UAI))
    assert s.today == D(2026, 11, 16)
    assert s.pupils.by_state == {
        AccountState.NOT_NOTIFIED: 1,
        AccountState.NOTIFIED: 2,
        AccountState.ACTIVATED: 4,
        AccountState.DEACTIVATED: 1,
    }
    assert (s.pupils.total, s.pupils.active_total, s.pupils.activated) == (8, 7, 4)
    assert s.pupils.rate == pytest.approx(4 / 7)
    assert s.pupils.share(AccountState.NOTIFIED) == pytest.approx(2 / 8)
    assert s.guardians.by_state == {
        AccountState.NOT_NOTIFIED: 1,
        AccountState.NOTIFIED: 1,
        AccountState.ACTIVATED: 3,
        AccountState.DEACTIVATED: 1,
    }
    assert s.guardians.rate == pytest.approx(3 / 5)
    assert s.guardian_methods == {
        ActivationMethod.FRANCECONNECT: 1,
        ActivationMethod.SELF_REGISTRATION: 1,
        ActivationMethod.TEMPORARY_CREDENTIALS: 1,
    }
    assert s.blocked == {AccountKind.PUPIL: 1, AccountKind.GUARDIAN: 1}
    assert s.expiring_soon == {AccountKind.PUPIL: 1, AccountKind.GUARDIAN: 1}
    rows = {(r[0], r[1]): r[2:] for r in summary_rows(s)}
    assert rows[("Élèves", "taux d'activation")] == ["4", "57,1 %"]
    assert rows[("Élèves", "notifié, non activé")] == ["2", "25,0 %"]
    assert rows[("Représentants", "activés par FranceConnect")] == ["1", "33,3 %"]
    assert rows[("pass Culture", "avec un compte activé")] == ["1", "33,3 %"]
    assert rows[("pass Culture", "sans compte activé")] == ["2", "66,7 %"]


def test_class_rows_counted_by_hand_and_sorted(services: Services, school: Fixture) -> None:
    s = school_stats(services, factories.operator(services, UAI))
    by_name = {c.division: c for c in s.classes}
    assert list(by_name) == ["3E1", "3E2"]
    e1, e2 = by_name["3E1"], by_name["3E2"]
    assert e1.pupils.by_state == {
        AccountState.ACTIVATED: 2,
        AccountState.NOTIFIED: 1,
        AccountState.NOT_NOTIFIED: 1,
    }
    assert e1.pupils.rate == 0.5
    assert e2.pupils.by_state == {
        AccountState.NOTIFIED: 1,
        AccountState.DEACTIVATED: 1,
        AccountState.ACTIVATED: 2,
    }
    assert e2.pupils.rate == pytest.approx(2 / 3)
    # g1 counts in both classes; g6 (two children in 3E2) once.
    assert e1.guardians.total == 4 and e1.guardians.rate == 0.5
    assert e2.guardians.by_state == {AccountState.ACTIVATED: 2, AccountState.DEACTIVATED: 1}
    assert e2.guardians.rate == 1.0
    assert class_rows(s)[1] == ["3E2", "4", "0", "1", "2", "1", "66,7 %",
                                 "3", "0", "0", "2", "1", "100,0 %"]  # fmt: skip

    def names(key: ClassSort, descending: bool = False) -> list[str]:
        return [c.division for c in sort_classes(s.classes, key, descending)]

    assert names(ClassSort.PUPIL_RATE) == ["3E1", "3E2"]
    assert names(ClassSort.GUARDIAN_RATE, descending=True) == ["3E2", "3E1"]
    assert names(ClassSort.PUPILS_LEFT, descending=True) == ["3E1", "3E2"]  # 2 left vs 1
    assert names(ClassSort.SCHOOL, descending=True) == ["3E2", "3E1"]
    assert ClassSort.PUPILS_LEFT.descending_first and not ClassSort.PUPIL_RATE.descending_first


def test_activations_per_day(services: Services, school: Fixture) -> None:
    activity = school_stats(services, factories.operator(services, UAI)).activity
    assert len(activity.days) == 42
    assert activity.days[0].day == D(2026, 10, 6) and activity.days[-1].day == D(2026, 11, 16)
    busy = {d.day: (d.pupils, d.guardians) for d in activity.days if d.total}
    # Garnier (05/10, the day before the window) and the other school are out.
    assert busy == {
        D(2026, 10, 6): (0, 1),
        D(2026, 11, 10): (2, 1),
        D(2026, 11, 16): (1, 1),
    }
    assert activity.total == 6
    assert activity.peak is not None and activity.peak.day == D(2026, 11, 10)


def test_pass_culture_boundaries(services: Services, school: Fixture) -> None:
    pc = school_stats(services, factories.operator(services, UAI)).pass_culture
    assert pc is not None
    assert (pc.born_after, pc.born_until) == (D(2008, 11, 16), D(2011, 11, 16))
    assert pc.born_from == D(2008, 11, 17)
    # Arnaud (15 today), Carpentier (18 tomorrow), Étienne; not Durand (18 today),
    # Bernard (15 tomorrow) nor Fabre (left).
    assert (pc.eligible, pc.activated, pc.not_activated) == (3, 1, 2)
    assert [(p.last_name, p.division, p.state) for p in pc.missing] == [
        ("Carpentier", "3E1", AccountState.NOTIFIED),
        ("Étienne", "3E2", AccountState.NOTIFIED),
    ]
    assert not pc.truncated
    cut = school_stats(
        services, factories.operator(services, UAI), pass_culture_limit=1
    ).pass_culture
    assert cut is not None and cut.truncated and cut.not_activated == 2 and len(cut.missing) == 1


def test_pass_culture_lists_a_class_in_the_french_order_of_names(
    services: Services, school: Fixture
) -> None:
    with services.sessions() as session, session.begin():
        sch = session.scalars(select(Establishment).where(Establishment.uai == UAI)).one()
        for last, first in (("Martin-Dupont", "Anne"), ("Eric", "Léa"), ("Martin", "Zoé"),
                            ("Émilie", "Léa"), ("Aït Ahmed", "Léa")):  # fmt: skip
            factories.pupil(session, sch, first_name=first, last_name=last, division="3E1",
                            birth_date=D(2010, 6, 1))  # fmt: skip
    pc = school_stats(services, factories.operator(services, UAI)).pass_culture
    assert pc is not None
    assert [p.last_name for p in pc.missing if p.division == "3E1"] == [
        "Aït Ahmed",
        "Carpentier",
        "Émilie",
        "Eric",
        "Martin",
        "Martin-Dupont",
    ]


def test_pass_culture_window_on_29_february() -> None:
    assert pass_culture_window(D(2028, 2, 29)) == (D(2010, 2, 28), D(2013, 2, 28))


def test_delegation_limited_to_a_class_sees_that_class_only(
    services: Services, school: Fixture
) -> None:
    factories.staff_member(services)
    head = factories.signed_in(services, "h.martin", UAI)
    factories.staff_member(services, first_name="Agathe", last_name="Gent", role=StaffRole.AGENT)
    request = GrantRequest("a.gent", Module.ADMINISTRATION, division_names=("3E2",))
    delegations.grant(services, head, request)
    s = school_stats(services, factories.signed_in(services, "a.gent", UAI))
    assert [c.division for c in s.classes] == ["3E2"]
    assert s.pupils.total == 4 and s.guardians.total == 3
    assert s.pass_culture is not None and s.pass_culture.eligible == 1
    assert s.limited_to_classes


def test_text_charts() -> None:
    assert bar(0.5, 4) == "██  "
    assert bar(0.5, 1) == "▌" and bar(1 / 16, 2) == "▏ "
    assert bar(0.0, 3) == "   "
    assert sparkline([0, 1, 8]) == " ▂█"
    assert column_chart([0, 4, 16], rows=2) == ["  █", " ▄█"]
    assert column_chart([1, 100], rows=1, step=2) == ["▁ █ "]


def test_panel_figures_need_the_right(services: Services, school: Fixture) -> None:
    factories.staff_member(services)
    head = factories.signed_in(services, "h.martin", UAI)
    assert school_stats(services, head).pupils.total == 8
    factories.staff_member(services, first_name="Agathe", last_name="Gent", role=StaffRole.AGENT)
    agent = factories.signed_in(services, "a.gent", UAI)
    with pytest.raises(PermissionDenied):
        school_stats(services, agent)


# -- command line ---------------------------------------------------------------------


@pytest.fixture
def cli_env(services: Services, monkeypatch: pytest.MonkeyPatch) -> Services:
    """The CLI on the test's own services, for their fixed clock (the figures depend on
    today), rather than on the database alone as tests/conftest.py's does."""
    monkeypatch.setattr(cli_context, "open_services", lambda: services)
    return services


def test_cli_json(cli_env: Services, school: Fixture, run_cli: RunCli) -> None:
    code, out, _ = run_cli(["stats", "--uai", UAI, "--format", "json"])
    assert code == 0
    data = json.loads(out)
    assert data["pupils"]["by_state"] == {
        "non_notifie": 1,
        "notifie": 2,
        "active": 4,
        "desactive": 1,
    }
    assert data["guardians"]["activation_rate"] == 0.6
    assert data["blocked"] == {"eleve": 1, "responsable": 1}
    assert data["activations_per_day"]["total"] == 6
    assert data["activations_per_day"]["peak"] == {"date": "2026-11-10", "total": 3}
    assert len(data["activations_per_day"]["days"]) == 42
    pc = data["pass_culture"]
    assert (pc["eligible"], pc["activated"], pc["not_activated"]) == (3, 1, 2)
    assert [p["last_name"] for p in pc["not_activated_list"]] == ["Carpentier", "Étienne"]
    assert [c["division"] for c in data["classes"]] == ["3E1", "3E2"]


def test_cli_csv_and_table(
    cli_env: Services,
    school: Fixture,
    run_cli: RunCli,
) -> None:
    code, out, _ = run_cli(["stats", "--uai", UAI, "--format", "csv"])
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "Public;Indicateur;Nombre;Part"
    assert "Élèves;taux d'activation;4;57,1 %" in lines
    assert "3E2;4;0;1;2;1;66,7 %;3;0;0;2;1;100,0 %" in lines
    assert "10/11/2026;2;1;3" in lines
    assert "Carpentier;Léa;3E1;" in out
    code, out, _ = run_cli(["stats", "--uai", UAI])
    assert code == 0
    assert "Activations par jour, du 06/10/2026 au 16/11/2026" in out
    assert "maximum\u00a0: 3 le 10/11/2026" in out
    assert "pass Culture\u00a0: 3 élèves de 15 à 17 ans (nés du 17/11/2008 au 16/11/2011)" in out
    assert "Étienne" in out and "Garnier" not in out


# -- exports ----------------------------------------------------------------------------


def test_export_writes_private_files_and_audits(services: Services, school: Fixture) -> None:
    factories.staff_member(services)
    head = factories.signed_in(services, "h.martin", UAI)
    s = school_stats(services, head)
    result = export_stats(services, head, s)
    for path in result.paths:
        assert path.parent == services.settings.output_dir / "statistiques"
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert result.csv_path.read_bytes() == stats_csv(s)
    assert result.csv_path.read_bytes().startswith(b"\xef\xbb\xbfPublic;Indicateur;Nombre;Part\r\n")
    reader = PdfReader(result.pdf_path)
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert "Statistiques des comptes EduConnect" in text and "3E2" in text
    assert "pass Culture" in text
    with services.sessions() as session:
        # One export, one event: both files are in it.
        (event,) = session.scalars(select(AuditEvent).where(AuditEvent.action == "export"))
        assert event.details["formats"] == ["csv", "pdf"]
        assert [Path(p) for p in event.details["paths"]] == [result.csv_path, result.pdf_path]
        assert event.actor_id == head.identity.staff_id


def test_pdf_of_a_large_school_stays_on_one_page(services: Services, clock: FakeClock) -> None:
    clock.now = NOW
    with services.sessions() as session, session.begin():
        sch = factories.school(session)
        for i in range(200):
            factories.pupil(session, sch, last_name=f"N{i}", division=f"2NDE{i}")
    reader = PdfReader(
        BytesIO(stats_pdf(school_stats(services, factories.operator(services, UAI))))
    )
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert "voir le fichier CSV" in text, text[-2000:]
