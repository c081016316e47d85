"""The pupils' documents: per class, the teacher's list, then the slips to cut out.

The class list a teacher keeps on the desk never shows passwords; the slip handed to
the pupil is the only place a pupil's password is printed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import groupby

from ..model.calendar import date_text
from . import notice_text
from .credentials import DocumentContext, PupilCredential
from .pdf import GREY, LIGHT_FILL, MONO, PAGE_H, PAGE_W, PT, SANS, Pdf, new_pdf, render
from .text import clean, school_line, sorted_pupils

SLIP_MARGIN = 8.0
SLIP_COLS = 2
SLIP_ROWS = 4
SLIPS_PER_PAGE = SLIP_COLS * SLIP_ROWS
SLIP_W = (PAGE_W - 2 * SLIP_MARGIN) / SLIP_COLS
SLIP_H = (PAGE_H - 2 * SLIP_MARGIN) / SLIP_ROWS
SLIP_PAD = 5.0
SLIP_PAD_Y = 3.8


def pupil_documents_pdf(ctx: DocumentContext, rows: Sequence[PupilCredential]) -> bytes:
    """Per class: the teacher's class list, then the pupils' cut-out slips, 8 per page.

    Classes come in school order (level, then class name) and pupils by name, so the
    pile printed in the office can be split by class without re-sorting.
    """
    with new_pdf(ctx, "Comptes EduConnect des élèves") as doc:
        for _division, group in groupby(sorted_pupils(rows), key=lambda r: r.division):
            pupils = list(group)
            _class_list(doc, ctx, pupils)
            for start in range(0, len(pupils), SLIPS_PER_PAGE):
                _slip_page(doc, ctx, pupils[start : start + SLIPS_PER_PAGE])
        if doc.pdf.page == 0:
            doc.pdf.add_page()
            doc.text(20, 30, "Aucun compte élève à notifier.", SANS, "B", 14)
        return render(doc)


def helpdesk_slip_pdf(ctx: DocumentContext, row: PupilCredential) -> bytes:
    """The one page a helpdesk reset hands out: the pupil's slip, with its cut marks.

    No class list: it is for a teacher distributing a whole class, not for one pupil
    whose password was reset while they wait.
    """
    with new_pdf(ctx, "Compte EduConnect — fiche de dépannage") as doc:
        _slip_page(doc, ctx, [row])
        return render(doc)


LIST_MARGIN = 15.0
LIST_ROW_H = 7.5
LIST_MIN_ROW_H = 5.0
_LIST_COLUMNS = (  # title, width in mm
    ("N°", 10.0),
    ("Nom", 44.0),
    ("Prénom", 38.0),
    ("Identifiant", 52.0),
    ("Fiche remise", 18.0),
    ("Compte activé", 18.0),
)


def _class_list(doc: Pdf, ctx: DocumentContext, pupils: list[PupilCredential]) -> None:
    """The teacher's copy: who got a slip, who has activated. Deliberately no password.

    One page per class: rows shrink down to ``LIST_MIN_ROW_H`` to keep a normal class
    (even a big one) on one sheet; only an unusually large group continues on a
    second page.
    """
    pdf = doc.pdf
    first = pupils[0]
    division = clean(first.division)
    left = LIST_MARGIN
    right = PAGE_W - LIST_MARGIN
    table_top = 52.0
    bottom = PAGE_H - 20.0
    header_h = 10.0
    available = bottom - table_top - header_h
    row_h = max(LIST_MIN_ROW_H, min(LIST_ROW_H, available / max(len(pupils), 1)))
    per_page = int(available / row_h + 1e-6)
    pages = max(1, math.ceil(len(pupils) / per_page))
    for page_no in range(pages):
        chunk = pupils[page_no * per_page : (page_no + 1) * per_page]
        pdf.add_page()
        doc.text(
            left,
            24,
            f"Classe {division} — comptes EduConnect",
            SANS,
            "B",
            18,
            max_width=right - left,
            min_size=10,
        )
        doc.text(
            left,
            32,
            f"{school_line(ctx)} — {clean(ctx.school.city)} (UAI {ctx.school.uai})",
            SANS,
            "",
            10,
            max_width=right - left,
            min_size=7,
        )
        edited = ctx.time.date_time(ctx.generated_at)
        suffix = f" — page {page_no + 1}/{pages}" if pages > 1 else ""
        doc.text(
            left,
            38,
            f"Liste pour le professeur principal, éditée le {edited}{suffix}",
            SANS,
            "",
            9,
            color=GREY,
        )
        doc.text(
            left,
            45,
            (
                "Les mots de passe provisoires figurent uniquement sur les fiches individuelles "
                "à découper."
                if first.temp_password is not None
                else "Fiches de rappel de l'identifiant\u00a0: aucun mot de passe n'a été "
                "modifié ni n'est imprimé."
            ),
            SANS,
            "",
            9,
            max_width=right - left,
            min_size=7,
            color=GREY,
        )
        _list_table(doc, chunk, page_no * per_page, table_top, header_h, row_h)
        doc.text(
            left,
            PAGE_H - 12,
            f"{len(pupils)} élève{'s' if len(pupils) > 1 else ''} — "
            + (
                f"fiches valables jusqu'au {date_text(first.expires_on)}"
                if first.expires_on
                else "fiches de rappel, sans mot de passe"
            ),
            SANS,
            "",
            8,
            color=GREY,
        )


def _list_table(
    doc: Pdf,
    pupils: list[PupilCredential],
    offset: int,
    top: float,
    header_h: float,
    row_h: float,
) -> None:
    pdf = doc.pdf
    left = LIST_MARGIN
    total_w = sum(w for _, w in _LIST_COLUMNS)
    pdf.set_line_width(0.2)
    pdf.set_draw_color(120, 120, 120)
    pdf.set_fill_color(*LIGHT_FILL)
    pdf.rect(left, top, total_w, header_h, style="DF")
    x = left
    for title, w in _LIST_COLUMNS:
        if " " in title and w < 25:  # two-line header for the narrow tick columns
            a, b = title.split(" ", 1)
            doc.text(x + w / 2, top + 4.2, a, SANS, "B", 7.5, align="C")
            doc.text(x + w / 2, top + 8, b, SANS, "B", 7.5, align="C")
        else:
            doc.text(x + 1.5, top + 6.5, title, SANS, "B", 9)
        x += w
    size = min(10.0, row_h / PT * 0.62)
    mono_size = min(11.0, row_h / PT * 0.66)
    box = min(4.0, row_h - 1.5)
    y = top + header_h
    for i, row in enumerate(pupils):
        if i % 2:
            pdf.set_fill_color(247, 247, 247)
            pdf.rect(left, y, total_w, row_h, style="F")
        baseline = y + row_h / 2 + size * PT * 0.35
        cells = (
            (str(offset + i + 1), SANS, ""),
            (clean(row.last_name).upper(), SANS, "B"),
            (clean(row.first_name), SANS, ""),
            (row.login, MONO, "B"),
        )
        x = left
        for (text, family, style), (_, w) in zip(cells, _LIST_COLUMNS, strict=False):
            doc.text(
                x + 1.5,
                baseline,
                text,
                family,
                style,
                mono_size if family == MONO else size,
                max_width=w - 3,
                min_size=6.5,
            )
            x += w
        for _, w in _LIST_COLUMNS[4:]:
            pdf.rect(x + (w - box) / 2, y + (row_h - box) / 2, box, box)
            x += w
        y += row_h
        pdf.line(left, y, left + total_w, y)
    x = left
    for _, w in _LIST_COLUMNS:
        pdf.line(x, top, x, y)
        x += w
    pdf.line(x, top, x, y)


def _slip_page(doc: Pdf, ctx: DocumentContext, pupils: list[PupilCredential]) -> None:
    pdf = doc.pdf
    pdf.add_page()
    rows_used = math.ceil(len(pupils) / SLIP_COLS)
    _cut_marks(doc, rows_used)
    school = school_line(ctx)
    portal = clean(ctx.portal_url)
    for index, pupil in enumerate(pupils):
        col, row = index % SLIP_COLS, index // SLIP_COLS
        _slip(
            doc,
            SLIP_MARGIN + col * SLIP_W,
            SLIP_MARGIN + row * SLIP_H,
            school,
            portal,
            pupil,
        )


def _cut_marks(doc: Pdf, rows_used: int) -> None:
    """Dashed cut lines around every used slip, with scissors where the cuts start."""
    pdf = doc.pdf
    pdf.set_draw_color(150, 150, 150)
    pdf.set_line_width(0.25)
    pdf.set_dash_pattern(dash=2.5, gap=1.5)
    top = SLIP_MARGIN
    bottom = SLIP_MARGIN + rows_used * SLIP_H
    left = SLIP_MARGIN
    right = PAGE_W - SLIP_MARGIN
    for r in range(rows_used + 1):
        y = top + r * SLIP_H
        pdf.line(left, y, right, y)
    for c in range(SLIP_COLS + 1):
        x = left + c * SLIP_W
        pdf.line(x, top, x, bottom)
    pdf.set_dash_pattern()
    for r in range(rows_used + 1):
        doc.text(3.2, top + r * SLIP_H + 1.4, "✂", SANS, "", 11, color=(120, 120, 120))
    doc.text(left + SLIP_W - 1.9, 5.6, "✂", SANS, "", 11, color=(120, 120, 120))


def _slip(
    doc: Pdf,
    x0: float,
    y0: float,
    school: str,
    portal: str,
    pupil: PupilCredential,
) -> None:
    """One pupil's slip: who it belongs to, the credentials, and what to do with them.

    Written for an 11-year-old reading it alone at home: large credentials in the
    monospace font (no 0/O or 1/l doubt), three short steps in "tu".
    """
    x = x0 + SLIP_PAD
    w = SLIP_W - 2 * SLIP_PAD
    y = y0 + SLIP_PAD_Y
    right = x + w

    class_w = doc.text(
        right,
        y + 3.3,
        f"Classe {clean(pupil.division)}",
        SANS,
        "B",
        10.5,
        align="R",
        max_width=w / 2,
        min_size=7,
    )
    doc.text(x, y + 3.3, school, SANS, "", 8, max_width=w - class_w - 3, min_size=6, color=GREY)
    name, size = doc.fit_name(
        clean(pupil.last_name).upper(), clean(pupil.first_name), "B", 15, w, 9
    )
    doc.text(x, y + 10.6, name, SANS, "B", size)

    box_top = y + 13.2
    box_h = 24.0
    doc.box(x - 1.5, box_top, w + 3, box_h, 1.5)
    doc.text(x + 1, box_top + 3.8, "Identifiant", SANS, "", 8.5, color=GREY)
    doc.text(x + 1, box_top + 10.4, pupil.login, MONO, "B", 18, max_width=w - 2, min_size=8)
    reset = pupil.temp_password is not None
    if pupil.temp_password is not None:
        doc.text(x + 1, box_top + 15.0, "Mot de passe provisoire", SANS, "", 8.5, color=GREY)
        doc.text(
            x + 1, box_top + 21.6, pupil.temp_password, MONO, "B", 18, max_width=w - 2, min_size=8
        )
    else:
        doc.text(x + 1, box_top + 15.0, "Mot de passe", SANS, "", 8.5, color=GREY)
        doc.text(x + 1, box_top + 21.0, _REMINDER, SANS, "", 9, max_width=w - 2, min_size=6)

    y = box_top + box_h + 4.6
    doc.text(x, y, notice_text.validity(pupil.expires_on) or "Rappel", SANS, "B", 10)
    size, lines = _slip_steps(doc, portal, w, y0 + SLIP_H - SLIP_PAD_Y + 1 - y, reset)
    step_h = size * PT * 1.38
    for i, line in enumerate(lines):
        # Shrink rather than truncate: a portal address cut short cannot be typed.
        doc.text(x, y + 1.2 + (i + 1) * step_h, line, SANS, "", size, max_width=w, min_size=3)


def _slip_steps(
    doc: Pdf, portal: str, width: float, height: float, reset: bool
) -> tuple[float, list[str]]:
    """The instructions at the largest size that fits the space left on the slip.

    Memoised per document: with the usual portal address every slip has the same
    lines, and wrapping them 2,000 times would be a fifth of the slip time.
    """
    key = (portal, width, height, reset)
    cached = doc.steps_cache.get(key)
    if cached is not None:
        return cached
    for size in (9.0, 8.5, 8.0, 7.5, 7.0, 6.5, 6.0):
        lines: list[str] = []
        for i, step in enumerate(notice_text.pupil_steps(reset), 1):
            text = f"{i}. " + step.format(portal=portal)
            lines += doc.wrap(text, SANS, "", size, width, indent="    ")
        if 1.2 + (len(lines) + 0.3) * size * PT * 1.38 <= height:
            break
    doc.steps_cache[key] = (size, lines)
    return size, lines


# A reminder prints no password (none was drawn): where the password would be, this.
_REMINDER = "inchangé (aucun n'est imprimé sur ce rappel)"
