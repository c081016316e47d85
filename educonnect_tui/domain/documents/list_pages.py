"""Printed lists, one class at a time: a header, a table on as many pages as it needs.

The account lists and the letters' distribution lists are read and ticked by hand in
the office or the classroom: fixed columns, one line per person, an empty box to tick,
the header repeated with « page n/N » when a class runs over a sheet. No password is
ever printed here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from .credentials import DocumentContext
from .pdf import GREY, LIGHT_FILL, PAGE_H, PAGE_W, PT, SANS, Pdf
from .text import clean, school_line

MARGIN = 15.0
ROW_H = 6.6
HEADER_H = 8.0
TABLE_TOP = 50.0
BOTTOM = PAGE_H - 18.0
WIDTH = PAGE_W - 2 * MARGIN


@dataclass(frozen=True)
class Column:
    title: str
    width: float  # millimetres; a table's columns add up to ``WIDTH``
    family: str = SANS
    style: str = ""
    tick: bool = False  # an empty box, ticked by hand


def rows_per_page() -> int:
    return int((BOTTOM - TABLE_TOP - HEADER_H) / ROW_H + 1e-6)


def list_pages(
    doc: Pdf,
    ctx: DocumentContext,
    *,
    title: str,
    notes: Sequence[str],
    columns: Sequence[Column],
    rows: Sequence[Sequence[str]],
    footer: str,
) -> None:
    """Draw one class's list; ``rows`` hold a text per column that is not a tick box."""
    per_page = rows_per_page()
    pages = max(1, math.ceil(len(rows) / per_page))
    edited = ctx.time.date_time(ctx.generated_at)
    for page_no in range(pages):
        doc.pdf.add_page()
        doc.text(MARGIN, 22, title, SANS, "B", 16, max_width=WIDTH, min_size=10)
        doc.text(
            MARGIN,
            29,
            f"{school_line(ctx)} — {clean(ctx.school.city)} (UAI {ctx.school.uai})",
            SANS,
            "",
            10,
            max_width=WIDTH,
            min_size=7,
        )
        suffix = f" — page {page_no + 1}/{pages}" if pages > 1 else ""
        doc.text(MARGIN, 35, f"Éditée le {edited}{suffix}", SANS, "", 9, color=GREY)
        y = 41.0
        for note in notes:
            doc.text(MARGIN, y, note, SANS, "", 9, max_width=WIDTH, min_size=7, color=GREY)
            y += 4.5
        chunk = rows[page_no * per_page : (page_no + 1) * per_page]
        _table(doc, columns, chunk, page_no * per_page)
        doc.text(MARGIN, PAGE_H - 11, footer, SANS, "", 8, max_width=WIDTH, color=GREY)


def _table(doc: Pdf, columns: Sequence[Column], rows: Sequence[Sequence[str]], offset: int) -> None:
    pdf = doc.pdf
    top = TABLE_TOP
    total_w = sum(c.width for c in columns)
    pdf.set_line_width(0.2)
    pdf.set_draw_color(120, 120, 120)
    pdf.set_fill_color(*LIGHT_FILL)
    pdf.rect(MARGIN, top, total_w, HEADER_H, style="DF")
    x = MARGIN
    for column in columns:
        if column.tick:
            doc.text(x + column.width / 2, top + 5.3, column.title, SANS, "B", 8, align="C")
        else:
            doc.text(x + 1.5, top + 5.3, column.title, SANS, "B", 8.5, max_width=column.width - 3)
        x += column.width
    size = min(9.0, ROW_H / PT * 0.6)
    box = 3.6
    y = top + HEADER_H
    for i, cells in enumerate(rows):
        if i % 2:
            pdf.set_fill_color(247, 247, 247)
            pdf.rect(MARGIN, y, total_w, ROW_H, style="F")
        baseline = y + ROW_H / 2 + size * PT * 0.35
        texts = iter(cells)
        x = MARGIN
        for column in columns:
            if column.tick:
                pdf.rect(x + (column.width - box) / 2, y + (ROW_H - box) / 2, box, box)
            else:
                text = next(texts, "")
                doc.text(
                    x + 1.5,
                    baseline,
                    text,
                    column.family,
                    column.style,
                    size,
                    max_width=column.width - 3,
                    min_size=6,
                )
            x += column.width
        y += ROW_H
        pdf.line(MARGIN, y, MARGIN + total_w, y)
    x = MARGIN
    for column in columns:
        pdf.line(x, top, x, y)
        x += column.width
    pdf.line(x, top, x, y)
    if not rows and offset == 0:
        doc.text(MARGIN + 2, y + 6, "Aucun compte.", SANS, "", 9, color=GREY)
