"""Snapshots of the SIECLE import screen with a report, at 80×24 and 120×40.

The files are built in the test's folder and typed as relative paths (the test runs
there), so the picture never shows a temporary folder's name.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from educonnect_tui.app import EduConnectApp
from tests.helpers import settle
from tests.pilot.conftest import small_app, small_school  # noqa: F401 (fixtures)
from tests.snapshots.conftest import SIZES
from tests.unit.test_siecle_xml import LEA, P, family_files, pupils_xml, write


@pytest.mark.parametrize("size", SIZES)
def test_import_dry_run_report(  # type: ignore[no-untyped-def]
    snap_compare,
    small_app: Callable[[], EduConnectApp],  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    size,
) -> None:
    family_files(tmp_path)
    monkeypatch.chdir(tmp_path)

    async def run_before(pilot):  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("i")
        await settle(pilot)
        await pilot.press(*"ElevesSansAdresses.xml", "tab")
        await pilot.press(*"ResponsablesAvecAdresses.xml", "enter")
        await settle(pilot)

    assert snap_compare(small_app(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_import_refused_elements(  # type: ignore[no-untyped-def]
    snap_compare,
    small_app: Callable[[], EduConnectApp],  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    size,
) -> None:
    bad = [LEA, P("1002", "BAD", "MARTIN", "Noé", born="31/02/2012")]
    write(tmp_path, "eleves.xml", pupils_xml(bad))
    monkeypatch.chdir(tmp_path)

    async def run_before(pilot):  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("i")
        await settle(pilot)
        await pilot.press(*"eleves.xml", "f5")
        await settle(pilot)

    assert snap_compare(small_app(), terminal_size=size, run_before=run_before)
