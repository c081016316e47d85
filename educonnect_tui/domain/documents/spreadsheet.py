"""CSV for spreadsheets: the one writer of the application, and the formula guard it applies.

Every CSV the application writes (mail merges, statistics, audit extracts, command-line
listings) ends up opened in Excel or LibreOffice, and its cells come from imports and
from what staff typed. A cell starting like a formula would run there, on the machine
of whoever opens the file: a pupil imported as ``=HYPERLINK(...)``, an actor label
``@SUM(...)``. Writing every CSV here, every cell through ``inert``, means no output
can forget the guard.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

__all__ = ["FORMULA_START", "csv_bytes", "csv_text", "inert"]

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def inert(text: str) -> str:
    """``text`` as a cell a spreadsheet shows and never evaluates.

    The leading apostrophe is the spreadsheets' own mark for "text, not a formula";
    cells starting otherwise are left exactly as they are.
    """
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_text(rows: Iterable[Sequence[str]], *, line_end: str = "\n") -> str:
    """Rows separated by ``;``, every cell made inert; an empty row is an empty line.

    ``\\n`` by default: the command line prints this to a terminal or a pipe. Rows are
    written with ``\\r\\n`` and the end swapped afterwards, because ``csv`` quotes only
    the line breaks of its own terminator: a cell holding a lone ``\\r`` would otherwise
    split its row in a spreadsheet.
    """
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    lines = []
    for row in rows:
        out.seek(0)
        out.truncate()
        writer.writerow([inert(cell) for cell in row])
        lines.append(out.getvalue().removesuffix("\r\n") + line_end)
    return "".join(lines)


def csv_bytes(rows: Iterable[Sequence[str]]) -> bytes:
    """A CSV file: UTF-8 with BOM, ``;`` and CRLF, what French Excel and LibreOffice open
    without asking for the encoding or the separator."""
    return csv_text(rows, line_end="\r\n").encode("utf-8-sig")
