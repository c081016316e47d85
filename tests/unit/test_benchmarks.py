"""The benchmark scripts still import and run against today's code.

They only run for real on an académie of a million accounts, so nothing else would notice
a rename they depend on; here each runs on a school of three pupils in about a second.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from benchmarks import probe, run
from educonnect_tui.domain.store.services import Services
from educonnect_tui.domain.store.settings import Settings
from tests import factories
from tests.conftest import FAST_HASH

UAI = factories.DEFAULT_UAI
NAMES = ("Lefèvre", "N'Diaye", "Martin")


@pytest.fixture
def small(sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Services]:
    """Three pupils with a guardian each and their principal, on SQLite."""
    monkeypatch.setenv("EDUCONNECT_CONFIG", "/nonexistent/config.toml")
    services = Services.from_settings(
        Settings(database_url=sqlite_url, output_dir=tmp_path / "out", hash_workers=1),
        hash_params=FAST_HASH,
    )
    with services.sessions() as session, session.begin():
        school = factories.school(session)
        for last in NAMES:
            child = factories.pupil(session, school, first_name="Noé", last_name=last)
            factories.guardian(session, [child], first_name="Anne", last_name=last)
    yield services
    services.engine.dispose()


def _lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line]


def test_arguments() -> None:
    args = run.parse_args([])
    assert (args.backend, args.scale, args.rebuild) == ("sqlite", 1.0, False)
    assert args.output == run.ROOT / "bench.json"
    args = run.parse_args(["--backend", "both", "--scale", "0.01", "--rebuild"])
    assert run.backends_of(args.backend) == ["sqlite", "postgresql"]
    assert (args.scale, args.rebuild) == (0.01, True)
    with pytest.raises(SystemExit):
        run.parse_args(["--backend", "oracle"])


def _result(**changes: Any) -> dict[str, Any]:
    result: dict[str, Any] = {
        "backend": "sqlite",
        "dataset": {
            "schools": 3,
            "accounts": 1_234_567,
            "pupils": 400_000,
            "guardians": 834_567,
            "seconds": 61.4,
        },
        "home_s": 0.5,
        "home_rows": 1200,
        "datatable_same_s": 1.5,
        "datatable_same_rows": 1200,
        "datatable_100k_s": 9.0,
        "datatable_100k_rows": 100_000,
        "filter_median_ms": 20.0,
        "filter_p95_ms": 40.0,
        "search_queries": 200,
        "search_median_ms": 5.0,
        "search_p95_ms": 12.0,
        "notify_accounts": run.NOTIFY_COUNT,
        "notify_s": 30.0,
        "notify_floor_s": 27.0,
        "hash_ms": 54.0,
        "cores": 4,
        "key_p95_ms": 30.0,
        "key_max_ms": 60.0,
        "sessions": 10,
        "sessions_during_notify": 180,
        "sessions_median_ms": 60.0,
        "sessions_p95_ms": 150.0,
        "pdf_s": 1.2,
        "stats_ms": 150.0,
        "peak_mb": 250.0,
        "import_rows": 100_000,
        "import_first_s": 48.0,
        "import_again_s": 9.0,
        "import_swap_s": 60.0,
        "import_guardians_s": 90.0,
        "import_guardians_mb": 310.0,
        "import_first_mb": 270.0,
        "import_again_mb": 210.0,
        "import_swap_mb": 300.0,
        "import_peak_mb": 300.0,
    }
    return result | changes


def test_verdicts_and_table_of_a_made_up_result() -> None:
    table = run.verdicts(_result())
    assert [line[3] for line in table] == ["PASS", "-", *["PASS"] * 9, "-", "PASS"]
    assert table[7][1] == "60 / 150 ms" and "10 sessions" in table[7][0]
    crowded = run.verdicts(_result(sessions_p95_ms=float(run.SESSIONS_TARGET_MS)))
    assert crowded[7][3] == "FAIL"
    assert "import de 100 000 lignes" in table[-2][0]
    assert table[-1][1] == "270 / 310 / 210 / 300 Mo"
    assert run.verdicts(_result(import_peak_mb=1200.0))[-1][3] == "FAIL"
    text = run.summary(_result(), table)
    heading = text.splitlines()[0]
    assert heading.startswith("sqlite — 3 établissements")
    assert "1 234 567 comptes (400 000 élèves" in heading and heading.endswith("en 61 s")
    assert "accueil ≥ 10× plus rapide : 18.0×" in text and "verdict" in text
    slow = run.verdicts(_result(home_s=1.5, key_p95_ms=None, key_max_ms=None))
    assert slow[0][3] == "FAIL" and slow[6][1:] == ["aucune mesure", "< 100 ms", "FAIL"]


def test_a_run_without_the_import_says_so_rather_than_passing_it() -> None:
    result = {k: v for k, v in _result().items() if not k.startswith("import_")}
    last = run.verdicts(result)[-1]
    assert last[1] == "non mesuré (--without-import)" and last[3] == "-"
    assert run.parse_args(["--without-import"]).without_import


def test_the_import_probe_on_a_few_rows(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The import figures' steps, on 30 rows in a database of their own."""
    monkeypatch.setenv("EDUCONNECT_CONFIG", "/nonexistent/config.toml")
    result = run.measure_import("sqlite", rows=30, bench=tmp_path / ".bench")
    assert result["import_rows"] == 30
    assert all(result[f"import_{step}_mb"] > 0 for step in run.IMPORT_STEPS)
    assert result["import_first_counts"]["added"] == 30
    assert result["import_guardians_counts"]["added"] == 15  # one guardian for two pupils
    assert not any(result["import_again_counts"].values())
    swap = result["import_swap_counts"]
    assert swap["added"] == 30 and swap["left"] == 30 + 15 and swap["rejected"] == 0
    assert (tmp_path / ".bench" / "import.db").exists()


def test_search_queries_come_from_the_names_of_the_base(small: Services) -> None:
    queries = run._queries(small, 4)
    assert len(queries) == 4
    assert all(any(name[:4].upper() in q.upper() for name in NAMES) for q in queries)


def test_probes_on_a_small_school(small: Services, capfd: pytest.CaptureFixture[str]) -> None:
    url = small.settings.database_url
    login = factories.staff_member(small).login
    probe.main(["start", url, UAI, login, "0"])
    [home] = _lines(capfd.readouterr().out)
    assert home["event"] == "home" and home["rows"] == len(NAMES) and home["peak_mb"] > 0
    probe.main(["datatable", url, UAI, "0"])
    [reference] = _lines(capfd.readouterr().out)
    assert reference["event"] == "datatable" and reference["rows"] == len(NAMES)


def test_sessions_at_once_on_a_small_school(small: Services) -> None:
    """Two sessions browsing while a third notifies the school's three pupils."""
    url = small.settings.database_url
    login = factories.staff_member(small).login
    result = run.measure_sessions(url, UAI, login, sessions=2, actions=3, think=0.0)
    assert result["sessions_actions"] == 6 and result["sessions_notify_accounts"] == len(NAMES)
    assert 0 < result["sessions_median_ms"] <= result["sessions_all_p95_ms"]
