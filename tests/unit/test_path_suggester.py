"""The path field's completion (widgets/path_input.py), on folders built in tmp_path."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from educonnect_tui.widgets.path_input import PathSuggester, complete_path


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "ElevesSansAdresses.zip").write_bytes(b"")
    (tmp_path / "exports" / "ResponsablesAvecAdresses.xml").write_bytes(b"")
    (tmp_path / "exports" / "notes.txt").write_text("")
    (tmp_path / "export_2025").mkdir()
    (tmp_path / "export_2026").mkdir()
    (tmp_path / ".cache").mkdir()
    (tmp_path / "eleves.CSV").write_text("")
    return tmp_path


def test_a_single_folder_completes_with_its_slash(tree: Path) -> None:
    assert complete_path(f"{tree}/exports") == f"{tree}/exports/"
    assert complete_path(f"{tree}/exports/E") == f"{tree}/exports/ElevesSansAdresses.zip"


def test_several_matches_complete_to_their_common_start_then_the_first(tree: Path) -> None:
    assert complete_path(f"{tree}/export_") == f"{tree}/export_202"
    assert complete_path(f"{tree}/export_202") == f"{tree}/export_2025/"
    assert complete_path(f"{tree}/e") == f"{tree}/eleves.CSV"  # sorted: « e » before « x »


def test_only_import_files_and_folders_are_suggested(tree: Path) -> None:
    assert complete_path(f"{tree}/exports/n") is None  # a .txt
    assert complete_path(f"{tree}/exports/R") == f"{tree}/exports/ResponsablesAvecAdresses.xml"


def test_hidden_entries_only_once_a_dot_is_typed(tree: Path) -> None:
    assert complete_path(f"{tree}/") == f"{tree}/e"  # eleves.CSV, export_…, exports/
    assert complete_path(f"{tree}/.") == f"{tree}/.cache/"


def test_nothing_for_an_empty_field_a_missing_folder_or_a_complete_name(tree: Path) -> None:
    assert complete_path("") is None
    assert complete_path(f"{tree}/absent/x") is None
    assert complete_path(f"{tree}/eleves.CSV") is None
    assert complete_path(f"{tree}/eleves.CSV/x") is None  # a file is no folder


def test_relative_paths_and_the_home_folder(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tree)
    assert complete_path("exports/E") == "exports/ElevesSansAdresses.zip"
    assert complete_path("exp") == "export"
    monkeypatch.setenv("HOME", str(tree))
    assert complete_path("~/exports/R") == "~/exports/ResponsablesAvecAdresses.xml"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every folder")
def test_folders_the_process_cannot_read_are_never_listed(tree: Path) -> None:
    locked = tree / "exports"
    locked.chmod(0o000)
    try:
        assert complete_path(f"{tree}/exports/E") is None
        assert complete_path(f"{tree}/exports") is None  # not even offered
    finally:
        locked.chmod(0o755)


def test_unreadable_folders_are_not_offered(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As root every folder is readable: the check itself is what is tested here."""
    real = os.access

    def access(path: str | os.PathLike[str], mode: int) -> bool:
        return False if str(path).endswith("exports") else real(path, mode)

    monkeypatch.setattr(os, "access", access)
    assert complete_path(f"{tree}/exports") is None
    assert complete_path(f"{tree}/export") == f"{tree}/export_202"


def test_a_folder_that_cannot_be_listed_suggests_nothing(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(path: object) -> object:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(os, "scandir", refused)
    assert complete_path(f"{tree}/exports/E") is None


def test_the_suggester_is_case_sensitive_and_never_caches(tree: Path) -> None:
    suggester = PathSuggester()
    assert suggester.cache is None and suggester.case_sensitive
    value = f"{tree}/exports/E"
    assert asyncio.run(suggester.get_suggestion(value)) == f"{tree}/exports/ElevesSansAdresses.zip"
    (tree / "exports" / "ElevesSansAdresses.zip").unlink()
    assert asyncio.run(suggester.get_suggestion(value)) is None
