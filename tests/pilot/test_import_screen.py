"""The SIECLE import screen, driven from the keyboard on the small school.

The small school has three pupils in 6E1; the files built here (the MARTIN family and
Zoé DUPONT, tests/unit/test_siecle_xml.py) bring three others: a full import makes the
three leave, adds the family and its guardians.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select
from textual.widgets import Button, DataTable, Input, Static, TabbedContent

from educonnect_tui.app import EduConnectApp, create_app
from educonnect_tui.domain.access import delegations
from educonnect_tui.domain.model.enums import Module, StaffRole
from educonnect_tui.domain.model.tables import AuditEvent, Pupil, Staff
from educonnect_tui.domain.siecle.report import ImportReport
from educonnect_tui.screens import import_siecle
from educonnect_tui.screens.account_actions import ConfirmScreen
from educonnect_tui.screens.home import HomeScreen
from educonnect_tui.screens.import_siecle import (
    DeparturesConfirmScreen,
    ImportScreen,
)
from educonnect_tui.widgets.path_input import PathInput
from tests import factories
from tests.helpers import settle, sync
from tests.pilot.conftest import SmallSchool
from tests.unit.test_importer import snapshot
from tests.unit.test_siecle_xml import BILLION_LAUGHS, family_files, write


def _message(app: EduConnectApp) -> str:
    return str(app.screen.query_one("#import-message", Static).render())


def _titles(app: EduConnectApp) -> list[str]:
    tabs = app.screen.query_one("#import-tabs", TabbedContent)
    return [tabs.get_tab(pane.id or "").label.plain for pane in tabs.query("TabPane")]


async def _open(pilot, paths: list[Path]) -> ImportScreen:  # type: ignore[no-untyped-def]
    await settle(pilot)
    await pilot.press("i")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ImportScreen)
    screen.query_one("#import-pupils", Input).value = str(paths[0])
    if len(paths) > 1:
        screen.query_one("#import-guardians", Input).value = str(paths[1])
    await settle(pilot)
    return screen


def _counts(services) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    with services.sessions() as s:
        pupils = s.scalar(select(func.count(Pupil.id)))
        imports = s.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "import"))
    return int(pupils or 0), int(imports or 0)


@sync
async def test_i_opens_the_screen_and_escape_comes_back(
    small_app: Callable[[], EduConnectApp],
) -> None:
    app = small_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.screen.check_action("open_import", ()) is True
        await pilot.press("i")
        await settle(pilot)
        assert isinstance(app.screen, ImportScreen)
        assert app.screen.focused is app.screen.query_one("#import-pupils", Input)
        assert app.screen.check_action("apply", ()) is None
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)


@pytest.mark.parametrize(("classes", "may_import"), [((), True), (("6E1",), False)])
@sync
async def test_an_agent_imports_only_with_an_administration_delegation_of_the_whole_school(
    small_school: SmallSchool, classes: tuple[str, ...], may_import: bool
) -> None:
    """An import brings every class in line with the file: a delegation limited to some
    classes does not give it."""
    services = small_school.services
    agent = factories.staff_member(
        services, first_name="Karim", last_name="Haddad", role=StaffRole.AGENT, title="CPE"
    )
    with services.sessions() as s:
        principal = s.scalars(select(Staff.login).where(Staff.role == StaffRole.DIRECTION)).one()
    head = factories.signed_in(services, principal, factories.DEFAULT_UAI)
    delegations.grant(
        services,
        head,
        delegations.GrantRequest(
            agent_login=agent.login,
            module=Module.ADMINISTRATION,
            until=dt.date(2027, 8, 31),
            division_names=classes,
        ),
    )
    session = factories.signed_in(services, agent.login, factories.DEFAULT_UAI)
    app = create_app(services, signed_in=session)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        assert app.screen.check_action("notify_accounts", ()) is True
        assert app.screen.check_action("open_import", ()) is (True if may_import else None)
        await pilot.press("i")
        await settle(pilot)
        assert isinstance(app.screen, ImportScreen) is may_import


@sync
async def test_the_path_field_completes_folders_and_files(
    small_app: Callable[[], EduConnectApp], tmp_path: Path
) -> None:
    exports = tmp_path / "exports_siecle"
    exports.mkdir()
    family_files(exports)
    app = small_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("i")
        await settle(pilot)
        field = app.screen.query_one("#import-pupils", PathInput)
        field.value = str(tmp_path / "exp")
        field.cursor_position = len(field.value)
        await settle(pilot)
        await pilot.press("tab")  # the folder, with its slash
        await settle(pilot)
        assert field.value == f"{exports}/"
        await pilot.press("E")
        await settle(pilot)
        await pilot.press("right")  # → accepts too
        await settle(pilot)
        assert field.value == f"{exports}/ElevesSansAdresses.xml"
        assert app.screen.focused is field
        await pilot.press("tab")  # nothing more to complete: the next field
        await settle(pilot)
        assert app.screen.focused is app.screen.query_one("#import-guardians", Input)


@sync
async def test_a_dry_run_shows_counts_in_the_tabs_and_writes_nothing(
    small_app: Callable[[], EduConnectApp], small_school: SmallSchool, tmp_path: Path
) -> None:
    services = small_school.services
    before, counts = snapshot(services), _counts(services)
    app = small_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open(pilot, family_files(tmp_path))
        await pilot.press("f5")
        await settle(pilot)
        assert screen.report is not None and screen.report.dry_run
        assert _titles(app) == [
            "Ajouts (7)",
            "Changements de classe (0)",
            "Mises à jour (0)",
            f"Départs ({len(screen.report.left)})",
            "Réintégrations (0)",
            "Lignes refusées (0)",
        ]
        added = screen.query_one("#import-added", DataTable)
        assert added.row_count == 7
        assert "Léa MARTIN (6A)" in str(added.get_row_at(0)[0])
        assert "rien n'a été enregistré" in _message(app)
        assert screen.check_action("apply", ()) is True
        assert not screen.query_one("#import-apply", Button).disabled
    assert snapshot(services) == before and _counts(services) == counts


@sync
async def test_apply_writes_and_is_audited(
    small_app: Callable[[], EduConnectApp], small_school: SmallSchool, tmp_path: Path
) -> None:
    services = small_school.services
    # The file replaces the small school's three pupils: past the departures limit, which
    # is not what this test is about (see test_departures_over_the_limit_are_confirmed_twice).
    services.settings.import_departure_limit = 1.0
    pupils, imports = _counts(services)
    app = small_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(pilot, family_files(tmp_path))
        await pilot.press("f8")  # nothing simulated yet: nothing happens
        await settle(pilot)
        assert _counts(services) == (pupils, imports)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("enter")  # typed ahead: the focus is on the report, not on apply
        await settle(pilot)
        assert screen.report is not None and screen.report.dry_run
        assert _counts(services) == (pupils, imports)
        await pilot.press("f8")
        await settle(pilot)
        report = screen.report
        assert report is not None and not report.dry_run and not report.errors
        assert "Import enregistré" in _message(app)
        assert screen.check_action("apply", ()) is None  # once
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
    assert _counts(services) == (pupils + 3, imports + 1)
    with services.sessions() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "import")).one()
        assert event.details["kind"] == "siecle" and event.details["added"] == 7
        assert event.details["files"] and event.source_address == "10.0.0.5"
        principal = s.scalars(select(Staff).where(Staff.role == StaffRole.DIRECTION)).one()
        assert event.actor_id == principal.id  # the person signed in, as for any staff action


@sync
async def test_apply_needs_the_same_files_unchanged(
    small_app: Callable[[], EduConnectApp], small_school: SmallSchool, tmp_path: Path
) -> None:
    services = small_school.services
    paths = family_files(tmp_path)
    counts = _counts(services)
    app = small_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(pilot, paths)
        await pilot.press("f5")
        await settle(pilot)
        assert screen.can_apply()
        stat = paths[0].stat()
        os.utime(paths[0], ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        assert not screen.can_apply()
        await pilot.press("f8")
        await settle(pilot)
        assert "ont changé depuis la simulation" in _message(app)
        # Another file in a field: simulate again first.
        await pilot.press("f5")
        await settle(pilot)
        assert screen.can_apply()
        screen.query_one("#import-guardians", Input).value = ""
        await settle(pilot)
        assert not screen.can_apply()
    assert _counts(services) == counts


@sync
async def test_a_hostile_file_shows_its_french_message(
    small_app: Callable[[], EduConnectApp], tmp_path: Path
) -> None:
    app = small_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(pilot, [write(tmp_path, "lol.xml", BILLION_LAUGHS)])
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ImportScreen)  # no error modal, no traceback
        message = _message(app)
        assert "il déclare une entité XML (« lol »)" in message
        assert "Traceback" not in message
        assert screen.report is None and not screen.can_apply()
        assert not screen.query_one("#import-tabs").display


@sync
async def test_rejected_elements_are_listed_and_apply_stays_disabled(
    small_app: Callable[[], EduConnectApp], tmp_path: Path
) -> None:
    from tests.unit.test_siecle_xml import LEA, P, pupils_xml

    bad = [LEA, P("1002", "BAD", "MARTIN", "Noé", born="31/02/2012")]
    app = small_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(pilot, [write(tmp_path, "eleves.xml", pupils_xml(bad))])
        await pilot.press("f5")
        await settle(pilot)
        assert screen.report is not None and screen.report.errors
        titles = _titles(app)
        assert titles[-1] == f"Refus ({len(screen.report.errors)})"  # 80 columns: short titles
        detail = str(screen.query_one("#import-error-detail", Static).render())
        assert detail.startswith("eleves.xml, ligne ") and "INE « BAD »" in detail
        assert app.screen.query_one("#import-tabs", TabbedContent).active == "tab-errors"
        errors = screen.query_one("#import-errors", DataTable)
        first = [str(cell) for cell in errors.get_row_at(0)]
        assert first[0] == "eleves.xml" and first[1].isdigit() and first[2]
        assert "Import refusé" in _message(app)
        assert screen.check_action("apply", ()) is None
        assert screen.query_one("#import-apply", Button).disabled


@sync
async def test_escape_cancels_a_running_dry_run(
    small_app: Callable[[], EduConnectApp],
    small_school: SmallSchool,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def stuck(services, caller, paths, *, dry_run, allow_departures, progress, cancel):  # type: ignore[no-untyped-def]
        import time

        from educonnect_tui.domain.siecle.xml_import import import_siecle as real

        progress("Lecture de ElevesSansAdresses.xml", 10, 100)
        while not cancel():
            time.sleep(0.01)
        return real(
            services, caller, paths.paths, dry_run=dry_run, progress=progress, cancel=cancel
        )

    monkeypatch.setattr(import_siecle, "run_import", stuck)
    counts = _counts(small_school.services)
    app = small_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(pilot, family_files(tmp_path))
        await pilot.press("f5")
        await pilot.pause()
        await pilot.pause()
        assert screen.running is True
        assert screen.query_one("#import-progress").display
        phase = str(screen.query_one("#import-phase", Static).render())
        assert phase == "Lecture de ElevesSansAdresses.xml\u00a0: 10\u00a0%"
        assert screen.check_action("simulate", ()) is None
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ImportScreen)  # escape stopped the run, not the screen
        assert screen.running is None
        assert "Simulation annulée\u00a0: rien n'a été enregistré." in _message(app)
    assert _counts(small_school.services) == counts


@sync
async def test_departures_over_the_limit_are_confirmed_twice(
    small_app: Callable[[], EduConnectApp],
    small_school: SmallSchool,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The file makes the small school's three pupils leave: the domain's guard holds the
    import back, and the screen asks twice before it allows the departures."""
    calls: list[bool] = []
    real = import_siecle.run_import

    def guarded(  # type: ignore[no-untyped-def]
        services, caller, paths, *, dry_run, allow_departures, progress, cancel
    ) -> ImportReport:
        if not dry_run:
            calls.append(allow_departures)
        return real(
            services,
            caller,
            paths,
            dry_run=dry_run,
            allow_departures=allow_departures,
            progress=progress,
            cancel=cancel,
        )

    monkeypatch.setattr(import_siecle, "run_import", guarded)
    services = small_school.services
    counts = _counts(services)
    app = small_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(pilot, family_files(tmp_path))
        await pilot.press("f5")
        await settle(pilot)
        assert "3 départs sur 3 élèves inscrits" in _message(app)
        # Refused at the first question: nothing.
        await pilot.press("f8")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen and calls == []
        # Past the first, refused at the second: nothing either.
        await pilot.press("f8")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DeparturesConfirmScreen)
        await pilot.press("2", "enter")  # not the number: the dialog stays
        await settle(pilot)
        assert isinstance(app.screen, DeparturesConfirmScreen)
        assert "Tapez 3" in str(app.screen.query_one("#departures-error", Static).render())
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen and calls == []
        assert _counts(services) == counts
        # Both confirmed, the second with the number: applied, departures allowed.
        await pilot.press("f8")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("3", "enter")
        await settle(pilot)
        assert app.screen is screen
        assert calls == [True]
        assert "Import enregistré" in _message(app)
    assert _counts(services)[1] == counts[1] + 1


@sync
async def test_the_help_lists_the_screens_keys(small_app: Callable[[], EduConnectApp]) -> None:
    from educonnect_tui.screens.help import HelpScreen
    from tests.pilot.test_keys import _help_text

    app = small_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("i")
        await settle(pilot)
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        text = _help_text(app.screen)
        assert "Aide — import SIECLE" in _titles_of(app)
        for word in ("F5", "Simuler", "F8", "Appliquer", "import_simulate", "path_complete"):
            assert word in text, word


@sync
async def test_a_csv_file_imports_alone_and_two_csv_files_are_refused(
    small_app: Callable[[], EduConnectApp], small_school: SmallSchool, tmp_path: Path
) -> None:
    from tests.unit.test_importer import GUARDIANS_CSV, PUPILS_CSV

    services = small_school.services
    # The file replaces the small school's three pupils: past the departures limit, which
    # is not what this test is about (see test_departures_over_the_limit_are_confirmed_twice).
    services.settings.import_departure_limit = 1.0
    pupils, imports = _counts(services)
    app = small_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(pilot, [PUPILS_CSV, GUARDIANS_CSV])
        await pilot.press("f5")
        await settle(pilot)
        assert "s'importent un par un" in _message(app) and screen.report is None
        screen.query_one("#import-guardians", Input).value = str(family_files(tmp_path)[1])
        await pilot.press("f5")
        await settle(pilot)
        assert "ne s'importent pas ensemble" in _message(app)
        # The pupils' CSV alone: simulated, then applied.
        screen.query_one("#import-guardians", Input).value = ""
        await pilot.press("f5")
        await settle(pilot)
        report = screen.report
        assert report is not None and report.kind == "pupils" and report.dry_run
        assert not report.errors and report.added
        assert _counts(services) == (pupils, imports)
        await pilot.press("f8")
        await settle(pilot)
        assert screen.report is not None and not screen.report.dry_run
        assert "Import enregistré" in _message(app)
    assert _counts(services) == (pupils + len(report.added), imports + 1)


@sync
async def test_a_refused_permission_opens_the_error_modal_and_stops_the_run(
    small_app: Callable[[], EduConnectApp], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from educonnect_tui.domain.model.errors import PermissionDenied
    from educonnect_tui.screens.error import ErrorScreen

    def refused(*args: object, **kwargs: object) -> ImportReport:
        raise PermissionDenied("Vous ne pouvez pas importer les données SIECLE.")

    monkeypatch.setattr(import_siecle, "run_import", refused)
    app = small_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(pilot, family_files(tmp_path))
        await pilot.press("f5")
        await settle(pilot)
        assert isinstance(app.screen, ErrorScreen)
        assert app.screen.message == "Vous ne pouvez pas importer les données SIECLE."
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen and screen.running is None
        assert screen.check_action("simulate", ()) is True


def _titles_of(app: EduConnectApp) -> str:
    return "\n".join(str(w.render()) for w in app.screen.query(".dialog-title"))
