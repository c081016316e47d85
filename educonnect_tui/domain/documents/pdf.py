"""The documents a (re)notification hands out: pupil slips, class lists, guardian letters, CSVs.

A notification replaces passwords, so its documents are the only copy of the new
plaintext. That drives three choices here:

- the PDFs are built in memory first (``bytes``), then written with ``stage_file`` /
  ``StagedFile.publish`` so the caller can commit the database only once every file
  is safely on disk, and roll everything back otherwise;
- every file is created 0600 from its first byte: a password file must never be
  readable by other local users, not even for the instant before a ``chmod``;
- the class list a teacher keeps on the desk never shows passwords; the slip handed
  to the pupil is the only place a pupil's password is printed.

Slips are drawn with fpdf2's low-level ``text``/``line``/``rect`` calls rather than
``cell``/``multi_cell``: a large school notifies thousands of pupils at once and the
flowing-text machinery (line breaking, markdown, bidi) costs far more than it gives
on a fixed-layout slip. Fonts are DejaVu (shipped in ``fonts/``) because names can be
in any script and the wheel must work on a machine without system fonts.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import math
import os
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from importlib import resources
from itertools import groupby
from pathlib import Path
from typing import TYPE_CHECKING

from ..model.enums import Level
from ..model.errors import DocumentError
from .credentials import DocumentContext, GuardianCredential, PupilCredential

if TYPE_CHECKING:
    from fpdf import FPDF

__all__ = [
    "StagedFile",
    "add_fonts",
    "guardian_csv",
    "guardian_letters_pdf",
    "pupil_csv",
    "pupil_documents_pdf",
    "stage_file",
]

# Typography: French puts a (narrow) no-break space inside guillemets and before ":".
NBSP = "\u00a0"
NNBSP = "\u202f"
COLON = f"{NBSP}:"

SANS = "dejavu"
MONO = "dejavumono"
_FONT_FILES = (
    (SANS, "", "DejaVuSans.ttf"),
    (SANS, "B", "DejaVuSans-Bold.ttf"),
    (MONO, "B", "DejaVuSansMono-Bold.ttf"),
)

_MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)

GREY = (90, 90, 90)
BLACK = (0, 0, 0)
LIGHT_FILL = (238, 241, 246)

# A4 portrait, millimetres.
PAGE_W = 210.0
PAGE_H = 297.0
SLIP_MARGIN = 8.0
SLIP_COLS = 2
SLIP_ROWS = 4
SLIPS_PER_PAGE = SLIP_COLS * SLIP_ROWS
SLIP_W = (PAGE_W - 2 * SLIP_MARGIN) / SLIP_COLS
SLIP_H = (PAGE_H - 2 * SLIP_MARGIN) / SLIP_ROWS
SLIP_PAD = 5.0
SLIP_PAD_Y = 3.8

PT = 25.4 / 72  # one point in millimetres


# --------------------------------------------------------------------------- text


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _clean(text: str) -> str:
    """Make imported text printable on one line.

    SIECLE exports occasionally carry tabs, line feeds or stray control characters;
    printed as is they would break the fixed layout (or the PDF text operator).
    Surrogates cannot be encoded at all and are dropped the same way.
    """
    text = unicodedata.normalize("NFC", text)
    text = _CONTROL.sub(" ", text)
    text = "".join(c for c in text if unicodedata.category(c) != "Cs")
    return " ".join(text.split())


def _date(value: dt.date) -> str:
    return value.strftime("%d/%m/%Y")


def _long_date(value: dt.date) -> str:
    day = "1er" if value.day == 1 else str(value.day)
    return f"{day} {_MONTHS[value.month - 1]} {value.year}"


def _quote(text: str) -> str:
    return f"«{NNBSP}{text}{NNBSP}»"


def _pupil_name(last_name: str, first_name: str) -> str:
    """LAST First, the way French schools write names on lists and slips."""
    last = _clean(last_name).upper()
    first = _clean(first_name)
    return f"{last} {first}".strip() or "—"


def _school_line(ctx: DocumentContext) -> str:
    school = ctx.school
    kind = _clean(school.type_label)
    name = _clean(school.name)
    if kind and not name.lower().startswith(kind.lower()):
        name = f"{kind[:1].upper()}{kind[1:]} {name}"
    return name


def _natural_key(text: str) -> tuple[object, ...]:
    """Class names compared the way people read them: "3E2" before "3E10"."""
    return tuple(
        (0, int(part), "") if part.isascii() and part.isdigit() else (1, 0, part.casefold())
        for part in re.split(r"([0-9]+)", text)
        if part
    )


def _pupil_order(row: PupilCredential) -> tuple[object, ...]:
    return (
        Level.rank_of(row.level),
        row.level,
        _natural_key(row.division),
        row.division,
        _clean(row.last_name).casefold(),
        _clean(row.first_name).casefold(),
        row.login,
    )


def _sorted_pupils(rows: Sequence[PupilCredential]) -> list[PupilCredential]:
    return sorted(rows, key=_pupil_order)


def _sorted_guardians(rows: Sequence[GuardianCredential]) -> list[GuardianCredential]:
    return sorted(
        rows,
        key=lambda r: (_clean(r.last_name).casefold(), _clean(r.first_name).casefold(), r.login),
    )


# --------------------------------------------------------------------------- PDF


@dataclass
class _Pdf:
    """An FPDF with the shipped fonts and a cheap width function.

    ``FPDF.get_string_width`` runs the bidi preprocessing on every call; slips need
    a few width measurements per line, thousands of times, so widths are summed from
    the font's own advance table instead (the same numbers fpdf2 uses without text
    shaping, which stays off).
    """

    pdf: FPDF
    _widths: dict[tuple[str, str], dict[int, float]] = field(default_factory=dict)
    # Labels, the school line and the instructions repeat on every slip.
    _units: dict[tuple[str, str, str], float] = field(default_factory=dict)
    _family: str = SANS
    _style: str = ""
    _size: float = 10.0
    _color: tuple[int, int, int] = BLACK
    # When set, nothing is drawn: a layout pass only measures (see _letter).
    dry: bool = False
    steps_cache: dict[tuple[str, float, float], tuple[float, list[str]]] = field(
        default_factory=dict
    )

    def font(self, family: str, style: str, size: float) -> None:
        if (family, style, size) != (self._family, self._style, self._size):
            self.pdf.set_font(family, style, size)
            self._family, self._style, self._size = family, style, size

    def color(self, color: tuple[int, int, int]) -> None:
        if color != self._color:
            self.pdf.set_text_color(*color)
            self._color = color

    def width(self, text: str, family: str, style: str, size: float) -> float:
        key = (family, style, text)
        units = self._units.get(key)
        if units is None:
            units = self._units[key] = self._text_units(text, family, style, size)
        if units < 0:  # pragma: no cover - only if fpdf2 changes its internals
            self.font(family, style, size)
            return float(self.pdf.get_string_width(text))
        return units * size * 0.001 * PT

    def _text_units(self, text: str, family: str, style: str, size: float) -> float:
        table = self._widths.get((family, style))
        if table is None:
            self.font(family, style, size)
            cw = getattr(self.pdf.current_font, "cw", None)
            table = cw if isinstance(cw, dict) else {}
            self._widths[(family, style)] = table
        if not table:  # pragma: no cover - only if fpdf2 changes its internals
            return -1.0
        default = table.get(ord(" "), 600.0)
        return float(sum(table.get(ord(c), default) for c in text))

    def fit(
        self,
        text: str,
        family: str,
        style: str,
        size: float,
        max_width: float,
        min_size: float,
    ) -> tuple[str, float]:
        """Shrink ``text`` to ``max_width``, then truncate with an ellipsis at ``min_size``.

        A long name must never spill into the neighbouring slip: the cut would then
        hand one child a piece of another child's slip.
        """
        w = self.width(text, family, style, size)
        if w <= max_width:
            return text, size
        fitted = math.floor(size * max_width / w * 4) / 4
        if fitted >= min_size:
            return text, fitted
        return self.truncate(text, family, style, min_size, max_width), min_size

    def truncate(self, text: str, family: str, style: str, size: float, max_width: float) -> str:
        """The longest prefix of ``text`` that fits with an ellipsis (binary search)."""
        if self.width(text, family, style, size) <= max_width:
            return text
        lo, hi = 0, len(text)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.width(text[:mid].rstrip() + "…", family, style, size) <= max_width:
                lo = mid
            else:
                hi = mid - 1
        return text[:lo].rstrip() + "…"

    def fit_name(
        self, last: str, first: str, style: str, size: float, max_width: float, min_size: float
    ) -> tuple[str, float]:
        """Fit "LAST First", cutting into the last name first.

        A teacher handing out slips calls children by first name; of a name too
        long for the slip, the end of a long compound last name is the part least
        needed to tell two pupils apart.
        """
        full = f"{last} {first}".strip() or "—"
        text, fitted = self.fit(full, SANS, style, size, max_width, min_size)
        if text == full or not last or not first:
            return text, fitted
        tail = f" {first}"
        room = max_width - self.width(tail, SANS, style, min_size)
        if room < max_width * 0.35:
            return text, fitted
        return self.truncate(last, SANS, style, min_size, room) + tail, min_size

    def wrap(
        self, text: str, family: str, style: str, size: float, max_width: float, indent: str = ""
    ) -> list[str]:
        """Greedy word wrap; continuation lines start with ``indent``."""
        lines: list[str] = []
        current = ""
        for word in text.split(" "):
            candidate = f"{current} {word}" if current else (indent if lines else "") + word
            if current and self.width(candidate, family, style, size) > max_width:
                lines.append(current)
                current = indent + word
            else:
                current = candidate
        lines.append(current)
        return lines

    def text(
        self,
        x: float,
        y: float,
        text: str,
        family: str = SANS,
        style: str = "",
        size: float = 10.0,
        *,
        max_width: float | None = None,
        min_size: float | None = None,
        align: str = "L",
        color: tuple[int, int, int] = BLACK,
    ) -> float:
        """Draw one line at baseline ``y``; return its width. Align "L", "R" or "C" on ``x``."""
        if not text:
            return 0.0
        if max_width is not None:
            text, size = self.fit(
                text, family, style, size, max_width, min_size if min_size else size
            )
        w = self.width(text, family, style, size)
        if align == "R":
            x -= w
        elif align == "C":
            x -= w / 2
        if not self.dry:
            self.font(family, style, size)
            self.color(color)
            self.pdf.text(x, y, text)
        return w

    def box(self, x: float, y: float, w: float, h: float, radius: float) -> None:
        """The shaded, rounded frame that sets the credentials apart."""
        if self.dry:
            return
        self.pdf.set_fill_color(*LIGHT_FILL)
        self.pdf.set_draw_color(170, 170, 170)
        self.pdf.set_line_width(0.2)
        self.pdf.rect(x, y, w, h, style="DF", round_corners=True, corner_radius=radius)


def add_fonts(pdf: FPDF, stack: contextlib.ExitStack[bool | None]) -> None:
    """Register the shipped DejaVu fonts as ``SANS`` and ``MONO`` (regular and bold).

    Shared by every PDF of the application (slips, letters, statistics) so that a name in
    any script prints the same everywhere; the font files stay open until ``stack`` closes.
    """
    fonts = resources.files("educonnect_tui.domain.documents.fonts")
    for family, style, filename in _FONT_FILES:
        path = stack.enter_context(resources.as_file(fonts / filename))
        pdf.add_font(family, style, path)


@contextlib.contextmanager
def _new_pdf(ctx: DocumentContext, title: str) -> Iterator[_Pdf]:
    """An A4 document with the fonts loaded; turns any rendering failure into DocumentError.

    Whatever goes wrong while drawing (a font missing from a broken install, an
    fpdf2 error on odd input), the notification must stop before any password
    changes, with a message the staff can read.
    """
    try:
        with contextlib.ExitStack() as stack:
            from fpdf import FPDF  # imported on first document: 0.2 s off every start

            pdf = FPDF(orientation="P", unit="mm", format="A4")
            pdf.set_auto_page_break(False)
            pdf.set_margins(0, 0, 0)
            pdf.set_title(title)
            pdf.set_author(_school_line(ctx))
            pdf.set_creator("educonnect-tui")
            pdf.set_lang("fr-FR")
            pdf.set_creation_date(ctx.generated_at)
            add_fonts(pdf, stack)
            doc = _Pdf(pdf)
            pdf.set_font(SANS, "", 10)
            yield doc
    except DocumentError:
        raise
    except Exception as exc:
        raise DocumentError(f"Impossible de produire le document « {title} » : {exc}") from exc


def _render(doc: _Pdf) -> bytes:
    return bytes(doc.pdf.output())


# ----------------------------------------------------------------- pupil slips


def pupil_documents_pdf(ctx: DocumentContext, rows: Sequence[PupilCredential]) -> bytes:
    """Per class: the teacher's class list, then the pupils' cut-out slips, 8 per page.

    Classes come in school order (level, then class name) and pupils by name, so the
    pile printed in the office can be split by class without re-sorting.
    """
    with _new_pdf(ctx, "Comptes EduConnect des élèves") as doc:
        for _division, group in groupby(_sorted_pupils(rows), key=lambda r: r.division):
            pupils = list(group)
            _class_list(doc, ctx, pupils)
            for start in range(0, len(pupils), SLIPS_PER_PAGE):
                _slip_page(doc, ctx, pupils[start : start + SLIPS_PER_PAGE])
        if doc.pdf.page == 0:
            doc.pdf.add_page()
            doc.text(20, 30, "Aucun compte élève à notifier.", SANS, "B", 14)
        return _render(doc)


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


def _class_list(doc: _Pdf, ctx: DocumentContext, pupils: list[PupilCredential]) -> None:
    """The teacher's copy: who got a slip, who has activated. Deliberately no password.

    One page per class: rows shrink down to ``LIST_MIN_ROW_H`` to keep a normal class
    (even a big one) on one sheet; only an unusually large group continues on a
    second page.
    """
    pdf = doc.pdf
    first = pupils[0]
    division = _clean(first.division)
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
            f"{_school_line(ctx)} — {_clean(ctx.school.city)} (UAI {ctx.school.uai})",
            SANS,
            "",
            10,
            max_width=right - left,
            min_size=7,
        )
        edited = ctx.generated_at.strftime("%d/%m/%Y à %H:%M")
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
            "Les mots de passe provisoires figurent uniquement sur les fiches individuelles "
            "à découper.",
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
            f"{len(pupils)} élève{'s' if len(pupils) > 1 else ''} — fiches valables "
            f"jusqu'au {_date(first.expires_on)}",
            SANS,
            "",
            8,
            color=GREY,
        )


def _list_table(
    doc: _Pdf,
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
            (_clean(row.last_name).upper(), SANS, "B"),
            (_clean(row.first_name), SANS, ""),
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


def _slip_page(doc: _Pdf, ctx: DocumentContext, pupils: list[PupilCredential]) -> None:
    pdf = doc.pdf
    pdf.add_page()
    rows_used = math.ceil(len(pupils) / SLIP_COLS)
    _cut_marks(doc, rows_used)
    school = _school_line(ctx)
    portal = _clean(ctx.portal_url)
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


def _cut_marks(doc: _Pdf, rows_used: int) -> None:
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
    doc: _Pdf,
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
        f"Classe {_clean(pupil.division)}",
        SANS,
        "B",
        10.5,
        align="R",
        max_width=w / 2,
        min_size=7,
    )
    doc.text(x, y + 3.3, school, SANS, "", 8, max_width=w - class_w - 3, min_size=6, color=GREY)
    name, size = doc.fit_name(
        _clean(pupil.last_name).upper(), _clean(pupil.first_name), "B", 15, w, 9
    )
    doc.text(x, y + 10.6, name, SANS, "B", size)

    box_top = y + 13.2
    box_h = 24.0
    doc.box(x - 1.5, box_top, w + 3, box_h, 1.5)
    doc.text(x + 1, box_top + 3.8, "Identifiant", SANS, "", 8.5, color=GREY)
    doc.text(x + 1, box_top + 10.4, pupil.login, MONO, "B", 18, max_width=w - 2, min_size=8)
    doc.text(x + 1, box_top + 15.0, "Mot de passe provisoire", SANS, "", 8.5, color=GREY)
    doc.text(x + 1, box_top + 21.6, pupil.temp_password, MONO, "B", 18, max_width=w - 2, min_size=8)

    y = box_top + box_h + 4.6
    doc.text(x, y, f"Valable jusqu'au {_date(pupil.expires_on)}", SANS, "B", 10)
    size, lines = _slip_steps(doc, portal, w, y0 + SLIP_H - SLIP_PAD_Y + 1 - y)
    step_h = size * PT * 1.38
    for i, line in enumerate(lines):
        # Shrink rather than truncate: a portal address cut short cannot be typed.
        doc.text(x, y + 1.2 + (i + 1) * step_h, line, SANS, "", size, max_width=w, min_size=3)


def _slip_steps(doc: _Pdf, portal: str, width: float, height: float) -> tuple[float, list[str]]:
    """The instructions at the largest size that fits the space left on the slip.

    Memoised per document: with the usual portal address every slip has the same
    lines, and wrapping them 2,000 times would be a fifth of the slip time.
    """
    key = (portal, width, height)
    cached = doc.steps_cache.get(key)
    if cached is not None:
        return cached
    for size in (9.0, 8.5, 8.0, 7.5, 7.0, 6.5, 6.0):
        lines: list[str] = []
        for i, step in enumerate(_SLIP_STEPS, 1):
            text = f"{i}. " + step.format(portal=portal)
            lines += doc.wrap(text, SANS, "", size, width, indent="    ")
        if 1.2 + (len(lines) + 0.3) * size * PT * 1.38 <= height:
            break
    doc.steps_cache[key] = (size, lines)
    return size, lines


# Three steps, "tu" as teachers address 11-year-olds; DESIGN.md §1 (pupil activation).
_SLIP_STEPS = (
    "Va sur {portal}",
    "Saisis ton identifiant et ce mot de passe provisoire.",
    "Choisis ton nouveau mot de passe et confirme ta date de naissance.",
)


# ------------------------------------------------------------- guardian letters


def guardian_letters_pdf(ctx: DocumentContext, rows: Sequence[GuardianCredential]) -> bytes:
    """One A4 letter per guardian, address placed for a window envelope (DL, right window)."""
    with _new_pdf(ctx, "Comptes EduConnect des représentants légaux") as doc:
        for row in _sorted_guardians(rows):
            doc.dry = True
            scale = next(
                (s for s in _LETTER_SCALES if _letter(doc, ctx, row, s) <= LETTER_BOTTOM),
                _LETTER_SCALES[-1],
            )
            doc.dry = False
            doc.pdf.add_page()
            _letter(doc, ctx, row, scale)
        if doc.pdf.page == 0:
            doc.pdf.add_page()
            doc.text(20, 30, "Aucun compte de représentant légal à notifier.", SANS, "B", 14)
        return _render(doc)


LETTER_LEFT = 20.0
LETTER_RIGHT = PAGE_W - 20.0
LETTER_W = LETTER_RIGHT - LETTER_LEFT
LETTER_BOTTOM = PAGE_H - 12.0
# Text scales tried, largest first, until the letter fits its single page (a large
# family, a long address, a long portal address).
_LETTER_SCALES = (1.0, 0.93, 0.86, 0.8, 0.74, 0.68)
# Window of a French DL/C5-6 envelope: about 100 x 45 mm, 20 mm from the right,
# 50 mm from the top once the A4 is folded in three.
WINDOW_X = 110.0
WINDOW_Y = 50.0
WINDOW_W = 85.0


def _guardian_name(row: GuardianCredential) -> str:
    civility = _clean(row.civility)
    last, first = _clean(row.last_name).upper(), _clean(row.first_name)
    return " ".join(p for p in (civility, last, first) if p)


def _salutation(civility: str) -> str:
    c = _clean(civility).rstrip(".").lower()
    if c in {"m", "monsieur", "mr"}:
        return "Monsieur,"
    if c in {"mme", "madame", "mlle", "mademoiselle"}:
        return "Madame,"
    return "Madame, Monsieur,"


@dataclass
class _Flow:
    """A cursor down the letter, at a given text scale."""

    doc: _Pdf
    y: float
    scale: float
    right: float = LETTER_RIGHT

    def gap(self, mm: float) -> None:
        self.y += mm * self.scale

    def paragraph(
        self,
        text: str,
        size: float = 10,
        style: str = "",
        indent: float = 0,
        marker: str = "",
        max_lines: int = 0,
    ) -> None:
        """Left-aligned wrapped text, with an optional hanging ``marker`` ("•", "1.").

        Drawn line by line with ``text`` rather than ``multi_cell``: at thousands of
        letters per notification, ``multi_cell`` was ten times slower than the rest.
        """
        size *= self.scale
        x = LETTER_LEFT + indent + (6 if marker else 0)
        width = self.right - x
        leading = size * PT * 1.3
        lines = self.doc.wrap(text, SANS, style, size, width)
        if max_lines and len(lines) > max_lines:
            lines = [*lines[: max_lines - 1], " ".join(lines[max_lines - 1 :])]
        if marker:
            self.doc.text(LETTER_LEFT + indent, self.y + leading * 0.78, marker, SANS, "", size)
        for line in lines:
            self.doc.text(
                x,
                self.y + leading * 0.78,
                line,
                SANS,
                style,
                size,
                max_width=width,
                min_size=size * 0.7,
            )
            self.y += leading


def _letter(doc: _Pdf, ctx: DocumentContext, row: GuardianCredential, scale: float) -> float:
    """Lay out (or, with ``doc.dry``, only measure) one letter; return where it ends."""
    school = ctx.school
    portal = _clean(ctx.portal_url)

    # School header, top left; the address window, top right.
    head = _Flow(doc, 15.0, 1.0, right=WINDOW_X - 5)
    head.paragraph(_school_line(ctx), 12, "B", max_lines=2)
    for line in (
        _clean(school.city),
        f"Académie de {_clean(school.academie)}" if school.academie else "",
        f"UAI {school.uai}",
    ):
        if line:
            doc.text(
                LETTER_LEFT, head.y + 3.5, line, SANS, "", 9.5, max_width=85, min_size=7, color=GREY
            )
            head.y += 5
    # At most 6 lines in the window, as La Poste asks.
    address = [_guardian_name(row)]
    address += [part for part in (_clean(p) for p in row.address.splitlines()) if part][:4]
    address.append(" ".join(p for p in (_clean(row.postal_code), _clean(row.city)) if p))
    y = WINDOW_Y + 5
    for i, line in enumerate(a for a in address if a):
        style = "B" if i == 0 else ""
        doc.text(WINDOW_X, y, line, SANS, style, 10.5, max_width=WINDOW_W, min_size=7)
        y += 5

    city = _clean(school.city)
    place = f"{city}, le " if city else "Le "
    dated = f"{place}{_long_date(ctx.generated_at.date())}"
    doc.text(LETTER_RIGHT, 90, dated, SANS, "", 10, align="R", max_width=LETTER_W, min_size=7)

    flow = _Flow(doc, 96.0, scale)
    flow.paragraph(f"Objet{COLON} votre compte EduConnect de représentant légal", 10.5, "B")
    flow.gap(3)
    flow.paragraph(_salutation(row.civility))
    flow.gap(1.5)
    children = row.children
    concerned = "votre enfant" if len(children) == 1 else "vos enfants"
    flow.paragraph(
        "EduConnect est le compte unique qui vous permet d'accéder aux services numériques "
        f"des écoles et des établissements où sont scolarisés {concerned}{COLON}",
    )
    flow.gap(1)
    child_size = 10.0 if len(children) <= 4 else 9.0
    shown = children if len(children) <= 8 else children[:7]
    for child in shown:
        name = _pupil_name(child.last_name, child.first_name)
        where = ", ".join(p for p in (_clean(child.division), _clean(child.school_name)) if p)
        text = name + (f" — classe {where}" if where else "")
        flow.paragraph(text, child_size, indent=4, marker="•", max_lines=2)
    if len(shown) < len(children):
        flow.paragraph(f"et {len(children) - len(shown)} autres enfants", child_size, indent=10)
    if not children:
        flow.paragraph("—", indent=4, marker="•")
    flow.gap(2.5)
    flow.paragraph(
        f"Pour activer ce compte, vous pouvez utiliser ces identifiants provisoires{COLON}"
    )
    flow.gap(2)

    top = flow.y
    h = 30.0 * scale
    doc.box(LETTER_LEFT, top, LETTER_W, h, 2)
    label_x = LETTER_LEFT + 5
    value_x = LETTER_LEFT + 58
    value_w = LETTER_RIGHT - 5 - value_x
    doc.text(label_x, top + 9 * scale, f"Identifiant{COLON}", SANS, "", 11 * scale)
    doc.text(
        value_x, top + 9.5 * scale, row.login, MONO, "B", 17 * scale, max_width=value_w, min_size=8
    )
    doc.text(label_x, top + 18.5 * scale, f"Mot de passe provisoire{COLON}", SANS, "", 11 * scale)
    doc.text(
        value_x,
        top + 19 * scale,
        row.temp_password,
        MONO,
        "B",
        17 * scale,
        max_width=value_w,
        min_size=8,
    )
    doc.text(
        label_x,
        top + 26.5 * scale,
        f"Valable jusqu'au {_date(row.expires_on)}",
        SANS,
        "B",
        10 * scale,
    )
    flow.y = top + h
    flow.gap(4)

    flow.paragraph("Activer votre compte avec ces identifiants provisoires", 10.5, "B")
    flow.gap(1)
    steps = (
        f"Rendez-vous sur {portal} et choisissez {_quote('Représentant légal')}.",
        "Saisissez l'identifiant et le mot de passe provisoire ci-dessus.",
        "Choisissez un nouveau mot de passe personnel.",
        "Indiquez votre adresse électronique, puis confirmez-la avec le lien ou le code "
        "reçu par courriel.",
    )
    for i, step in enumerate(steps, 1):
        flow.paragraph(step, indent=4, marker=f"{i}.")
    flow.gap(2.5)
    flow.paragraph("Les autres moyens d'activer votre compte", 10.5, "B")
    flow.gap(1)
    flow.paragraph(
        f"FranceConnect{COLON} sur {portal}, choisissez {_quote('FranceConnect')} et "
        "connectez-vous avec un compte que vous avez déjà (impots.gouv.fr, ameli.fr, "
        "l'Identité Numérique La Poste…).",
        indent=4,
        marker="•",
    )
    flow.paragraph(
        f"Auto-inscription{COLON} choisissez {_quote('Je n’ai pas de compte')} et indiquez "
        "le numéro de téléphone portable que vous avez donné à l'établissement. Vous "
        "recevrez un code par SMS, puis il vous sera demandé la date de naissance de "
        "chacun de vos enfants.",
        indent=4,
        marker="•",
    )
    flow.gap(2.5)
    flow.paragraph(
        f"Ce mot de passe provisoire est personnel et confidentiel{COLON} l'établissement ne "
        "vous le demandera jamais. Un seul compte suffit pour tous vos enfants, même s'ils "
        "sont scolarisés dans des établissements différents.",
        9,
    )
    flow.gap(8)
    doc.text(LETTER_RIGHT, flow.y, "Le chef d'établissement", SANS, "", 10 * scale, align="R")
    return flow.y


# --------------------------------------------------------------------------- CSV

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(text: str) -> str:
    """A spreadsheet cell that cannot be read as a formula.

    The CSV is opened in Excel or LibreOffice for mail merges; a name imported as
    ``=HYPERLINK(...)`` would otherwise run as a formula on the secretary's machine.
    """
    text = _clean(text)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _csv_bytes(header: Sequence[str], rows: list[list[str]]) -> bytes:
    """UTF-8 with BOM and ";": what French Excel and LibreOffice open without asking."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


PUPIL_CSV_HEADER = (
    "Niveau",
    "Classe",
    "Nom",
    "Prénom",
    "Date de naissance",
    "Identifiant",
    "Mot de passe provisoire",
    "Valable jusqu'au",
)


def pupil_csv(rows: Sequence[PupilCredential]) -> bytes:
    """The pupils' rows, in the same order as the slips."""
    return _csv_bytes(
        PUPIL_CSV_HEADER,
        [
            [
                _cell(r.level),
                _cell(r.division),
                _cell(r.last_name),
                _cell(r.first_name),
                _date(r.birth_date),
                r.login,
                r.temp_password,
                _date(r.expires_on),
            ]
            for r in _sorted_pupils(rows)
        ],
    )


GUARDIAN_CSV_HEADER = (
    "Civilité",
    "Nom",
    "Prénom",
    "Adresse",
    "Code postal",
    "Commune",
    "Enfants",
    "Identifiant",
    "Mot de passe provisoire",
    "Valable jusqu'au",
)


def guardian_csv(rows: Sequence[GuardianCredential]) -> bytes:
    """The guardians' rows, in the same order as the letters; children as "Nom Prénom (classe)"."""
    return _csv_bytes(
        GUARDIAN_CSV_HEADER,
        [
            [
                _cell(r.civility),
                _cell(r.last_name),
                _cell(r.first_name),
                _cell(r.address),
                _cell(r.postal_code),
                _cell(r.city),
                _cell(
                    ", ".join(
                        f"{_clean(c.last_name)} {_clean(c.first_name)} ({_clean(c.division)})"
                        for c in r.children
                    )
                ),
                r.login,
                r.temp_password,
                _date(r.expires_on),
            ]
            for r in _sorted_guardians(rows)
        ],
    )


# ------------------------------------------------------------------ staged files


class StagedFile:
    """A document written next to its final path, not yet visible under that name.

    The notification writes every document first, commits the database, then
    publishes: a failure before the commit leaves neither new passwords nor files;
    ``os.replace`` makes each publication all-or-nothing for readers.
    """

    def __init__(self, final_path: Path, temp_path: Path) -> None:
        self.final_path = final_path
        self._temp_path: Path | None = temp_path

    @property
    def temp_path(self) -> Path | None:
        return self._temp_path

    def publish(self) -> Path:
        if self._temp_path is None:
            raise DocumentError(f"Le fichier {self.final_path} a déjà été publié ou abandonné.")
        try:
            os.replace(self._temp_path, self.final_path)
        except OSError as exc:
            raise DocumentError(
                f"Impossible d'enregistrer le fichier {self.final_path} : {_cause(exc)}"
            ) from exc
        self._temp_path = None
        _fsync_dir(self.final_path.parent)
        return self.final_path

    def discard(self) -> None:
        temp, self._temp_path = self._temp_path, None
        if temp is not None:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()

    def __repr__(self) -> str:
        return f"StagedFile({str(self.final_path)!r})"


def _cause(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _fsync_dir(directory: Path) -> None:
    """Make the rename durable; best effort where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def stage_file(path: Path, data: bytes) -> StagedFile:
    """Write ``data`` to a private temporary file beside ``path``; publish it later."""
    path = Path(path)
    temp: Path | None = None
    try:
        if path.is_dir():
            raise IsADirectoryError(21, "c'est un dossier", str(path))
        path.parent.mkdir(parents=True, exist_ok=True)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
        for _ in range(100):
            candidate = path.parent / f".{path.name}.{_token()}.tmp"
            try:
                fd = os.open(candidate, flags, 0o600)
            except FileExistsError:
                continue
            temp = candidate
            break
        else:
            raise FileExistsError(17, "aucun nom temporaire libre", str(path.parent))
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        return StagedFile(path, temp)
    except OSError as exc:
        if temp is not None:
            with contextlib.suppress(OSError):
                temp.unlink()
        raise DocumentError(f"Impossible d'écrire le fichier {path} : {_cause(exc)}") from exc


def _token() -> str:
    return os.urandom(6).hex()
