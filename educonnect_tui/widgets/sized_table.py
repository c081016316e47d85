"""Filling a DataTable with its columns sized to what they hold, at once.

Textual's DataTable sizes auto-width columns on its next idle, not when rows are added:
a modal opened at once over the table, or a screenshot taken then, shows header-wide
columns with the rows cut. Sizing them while filling makes the first paint the right one.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import DataTable

Cell = str | Text


def fill(
    table: DataTable[Cell],
    headers: Sequence[str],
    rows: Sequence[Sequence[Cell]],
    keys: Sequence[str],
) -> None:
    """Replace the table's columns and rows; each column as wide as its widest cell."""
    table.clear(columns=True)
    for index, header in enumerate(headers):
        widths = (_width(row[index]) for row in rows)
        table.add_column(header, width=max([len(header), *widths]))
    for key, row in zip(keys, rows, strict=True):
        table.add_row(*row, key=key)


def _width(cell: Cell) -> int:
    return cell_len(cell) if isinstance(cell, str) else cell.cell_len
