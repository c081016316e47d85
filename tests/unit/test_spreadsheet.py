"""The one CSV writer: every cell that could run as a formula comes out as text."""

from __future__ import annotations

import csv
import io

from hypothesis import given
from hypothesis import strategies as st

from educonnect_tui.domain.documents.spreadsheet import FORMULA_START, csv_bytes, csv_text, inert

# Any text a cell may hold (CSV has no way to write NUL).
texts = st.text(st.characters(exclude_characters="\x00"))
formulas = st.builds(lambda start, rest: start + rest, st.sampled_from(FORMULA_START), texts)
others = texts.filter(lambda text: not text.startswith(FORMULA_START))


def read(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))


@given(formulas)
def test_a_cell_starting_like_a_formula_comes_out_as_text(cell: str) -> None:
    assert inert(cell) == "'" + cell
    assert read(csv_text([[cell]])) == [["'" + cell]]


@given(others)
def test_any_other_cell_is_unchanged(cell: str) -> None:
    assert inert(cell) == cell
    assert read(csv_text([[cell, "x"]])) == [[cell, "x"]]


@given(st.lists(st.lists(st.one_of(formulas, others), max_size=4), max_size=4))
def test_every_cell_of_every_row_is_guarded(rows: list[list[str]]) -> None:
    written = read(csv_text(rows))
    assert written == [[inert(cell) for cell in row] for row in rows]


def test_files_have_a_bom_semicolons_and_crlf() -> None:
    data = csv_bytes([["Nom", "Prénom"], ["=1+1", "Zoé"], [], ["a;b", "-"]])
    assert data == "\ufeffNom;Prénom\r\n'=1+1;Zoé\r\n\r\n\"a;b\";'-\r\n".encode()
    assert csv_text([["a", "b"], ["c\rd"]]) == 'a;b\n"c\rd"\n'
