"""What the sweep of a folder removes, and what it must leave alone (``files.sweep``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from educonnect_tui.domain.documents import files

AT = dt.datetime(2026, 9, 1, 8, 0, tzinfo=dt.UTC)


def _never(lot: str, at: dt.datetime) -> bool:
    return False


def test_the_work_of_a_live_process_is_left_alone(tmp_path: Path) -> None:
    publication = files.Publication(AT, owner="db1")
    publication.stage(tmp_path / "f.pdf", b"%PDF")
    assert files.sweep([tmp_path], _never, owner="db1") == []
    publication.publish()  # its marker is held too, until the commit
    assert files.sweep([tmp_path], _never, owner="db1") == []
    assert (tmp_path / "f.pdf").read_bytes() == b"%PDF"
    publication.settle()
    assert [p.name for p in tmp_path.iterdir()] == ["f.pdf"]


def test_what_a_dead_process_left_is_settled_by_the_database(tmp_path: Path) -> None:
    for committed, kept in ((True, True), (False, False)):
        folder = tmp_path / str(committed)
        folder.mkdir()
        publication = files.Publication(AT, owner="db1")
        publication.stage(folder / "f.pdf", b"%PDF")
        publication.stage(folder / "f.csv", b"csv")
        publication.publish()
        # A process that dies releases its locks: dropping them here does the same.
        for _, fd in publication._markers:
            files.os.close(fd)
        publication._markers = []
        leftover = files.stage_file(folder / "g.pdf", b"never published")
        leftover._close()
        asked: list[tuple[str, dt.datetime]] = []

        def answer(
            lot: str,
            at: dt.datetime,
            committed: bool = committed,
            asked: list[tuple[str, dt.datetime]] = asked,
        ) -> bool:
            asked.append((lot, at))
            return committed

        removed = files.sweep([folder], answer, owner="db1")
        assert {lot for lot, _ in asked} == {publication.lot}
        assert all(at == AT for _, at in asked)
        names = sorted(p.name for p in folder.iterdir())
        if kept:
            assert removed == [] and names == ["f.csv", "f.pdf"]
        else:
            assert sorted(removed) == [folder / "f.csv", folder / "f.pdf"] and names == []


def test_a_document_replaced_since_is_not_removed(tmp_path: Path) -> None:
    publication = files.Publication(AT, owner="db1")
    publication.stage(tmp_path / "f.pdf", b"%PDF")
    publication.publish()
    for _, fd in publication._markers:
        files.os.close(fd)
    (tmp_path / "f.pdf").unlink()
    (tmp_path / "f.pdf").write_text("someone else's file, same name")
    assert files.sweep([tmp_path], _never, owner="db1") == []
    assert (tmp_path / "f.pdf").read_text() == "someone else's file, same name"
    assert [p.name for p in tmp_path.iterdir()] == ["f.pdf"]


def test_another_database_and_other_programs_files_are_left_alone(tmp_path: Path) -> None:
    publication = files.Publication(AT, owner="other-db")
    publication.stage(tmp_path / "f.pdf", b"%PDF")
    publication.publish()
    for _, fd in publication._markers:
        files.os.close(fd)
    # The former naming, which may hold the only copy of valid passwords, and others'.
    for name in (".f.pdf.0123456789ab.tmp", ".notes.swp", "x.tmp"):
        (tmp_path / name).write_text("keep")
    before = sorted(p.name for p in tmp_path.iterdir())
    assert files.sweep([tmp_path], _never, owner="db1") == []
    assert sorted(p.name for p in tmp_path.iterdir()) == before
