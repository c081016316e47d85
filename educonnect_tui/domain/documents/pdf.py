"""The PDF primitive every document draws with: fonts, fitting text, an A4 page.

Documents are drawn with fpdf2's low-level ``text``/``line``/``rect`` calls rather than
``cell``/``multi_cell``: a large school notifies thousands of pupils at once and the
flowing-text machinery (line breaking, markdown, bidi) costs far more than it gives
on a fixed layout. Fonts are DejaVu (shipped in ``fonts/``) because names can be in
any script and the wheel must work on a machine without system fonts.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from ..model.errors import DocumentError
from . import glyphs
from .credentials import DocumentContext
from .glyphs import MONO as MONO
from .glyphs import SANS as SANS
from .text import school_line

if TYPE_CHECKING:
    from fpdf import FPDF


GREY = (90, 90, 90)
BLACK = (0, 0, 0)
LIGHT_FILL = (238, 241, 246)

# A4 portrait, millimetres.
PAGE_W = 210.0
PAGE_H = 297.0
PT = 25.4 / 72  # one point in millimetres


@dataclass
class Pdf:
    """An FPDF with the shipped fonts and a cheap width function.

    ``FPDF.get_string_width`` runs the bidi preprocessing on every call; slips need
    a few width measurements per line, thousands of times, so widths are summed from
    the font's own advance table instead (the same numbers fpdf2 uses without text
    shaping).

    A text the primary font cannot draw alone (a Chinese name, an Arabic one that must
    be joined and read right to left) takes fpdf2's slow path instead: ``cell`` with
    the fallback fonts and the shaping engine, for that text only. A text no shipped
    font can draw is refused (``DocumentError``): a name must never print blank.
    """

    pdf: FPDF
    _widths: dict[tuple[str, str], dict[int, float]] = field(default_factory=dict)
    # Labels, the school line and the instructions repeat on every slip.
    _units: dict[tuple[str, str, str], float] = field(default_factory=dict)
    _family: str = SANS
    _style: str = ""
    _size: float = 10.0
    _color: tuple[int, int, int] = BLACK
    # When set, nothing is drawn: a layout pass only measures (letters try smaller
    # scales until one fits their page).
    dry: bool = False
    steps_cache: dict[tuple[str, float, float, bool], tuple[float, list[str]]] = field(
        default_factory=dict
    )
    # (family, style, text) -> whether it takes the slow path; checked once per text.
    _shaped: dict[tuple[str, str, str], bool] = field(default_factory=dict)

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
        if self._needs_shaping(text, family, style):
            with self._shaping(text, family, style, size):
                return float(self.pdf.get_string_width(text)) / (size * 0.001 * PT)
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
            self.color(color)
            if self._needs_shaping(text, family, style):
                self._shaped_text(x, y, w, text, family, style, size)
            else:
                self.font(family, style, size)
                self.pdf.text(x, y, text)
        return w

    def _needs_shaping(self, text: str, family: str, style: str) -> bool:
        key = (family, style, text)
        shaped = self._shaped.get(key)
        if shaped is None and glyphs.plain(family, style).issuperset(text):
            shaped = self._shaped[key] = False
        if shaped is None:
            missing = glyphs.missing_glyphs(text, family)
            if missing:
                shown = "".join("□" if c in missing else c for c in text)
                raise DocumentError(
                    f"« {shown} » contient des caractères qu'aucune police fournie ne sait "
                    f"imprimer ({glyphs.describe(missing)})."
                )
            shaped = self._shaped[key] = glyphs.needs_shaping(text, family, style)
        return shaped

    @contextlib.contextmanager
    def _shaping(self, text: str, family: str, style: str, size: float) -> Iterator[None]:
        """fpdf2's fallback fonts and shaping engine on, for ``text`` only."""
        pdf = self.pdf
        for char in set(text):
            if not glyphs.has_glyph(family, style, char):
                found = glyphs.fallback_font(char, style)
                if found is not None and (found[0] + found[1]) not in pdf.fonts:
                    fallback, fallback_style, filename = found
                    with resources.as_file(glyphs.font_files() / filename) as path:
                        pdf.add_font(fallback, fallback_style, path)
        self.font(family, style, size)
        pdf.set_fallback_fonts(sorted({k.rstrip("B") for k in pdf.fonts} - {SANS, MONO}))
        # Left to right around the name: the documents are French; an Arabic or Hebrew
        # name is still drawn right to left within the line.
        pdf.set_text_shaping(True, direction="ltr")
        try:
            yield
        finally:
            pdf.set_text_shaping(False)
            pdf.set_fallback_fonts([])

    def _shaped_text(
        self, x: float, y: float, w: float, text: str, family: str, style: str, size: float
    ) -> None:
        pdf = self.pdf
        with self._shaping(text, family, style, size):
            margin, pdf.c_margin = pdf.c_margin, 0
            # cell() places the baseline 0.3 font size below the top of a zero-height cell.
            pdf.set_xy(x, y - 0.3 * size * PT)
            pdf.cell(w=w + 0.01, h=0, text=text)
            pdf.c_margin = margin
        # The fallback fonts changed fpdf2's current font behind ``font``'s back.
        self._family = ""

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
    The fallback fonts are added by ``Pdf`` when a text needs them.
    """
    fonts = glyphs.font_files()
    for (family, style), filename in glyphs.PRIMARY.items():
        path = stack.enter_context(resources.as_file(fonts / filename))
        pdf.add_font(family, style, path)


@cache
def _fpdf_class() -> Any:
    """FPDF whose fallback is the one ``glyphs`` chooses (Korean in Nanum, bold if any)."""
    from fpdf import FPDF  # imported on first document: 0.2 s off every start

    class _FPDF(FPDF):
        def get_fallback_font(self, char: str, style: str = "") -> str | None:
            found = glyphs.fallback_font(char, style)
            key = None if found is None else found[0] + found[1]
            return key if key in self.fonts else None

    return _FPDF


@contextlib.contextmanager
def new_pdf(ctx: DocumentContext, title: str) -> Iterator[Pdf]:
    """An A4 document with the fonts loaded; turns any rendering failure into DocumentError.

    Whatever goes wrong while drawing (a font missing from a broken install, an
    fpdf2 error on odd input), the notification must stop before any password
    changes, with a message the staff can read.
    """
    try:
        with contextlib.ExitStack() as stack:
            pdf = _fpdf_class()(orientation="P", unit="mm", format="A4")
            pdf.set_auto_page_break(False)
            pdf.set_margins(0, 0, 0)
            pdf.set_title(title)
            pdf.set_author(school_line(ctx))
            pdf.set_creator("educonnect-tui")
            pdf.set_lang("fr-FR")
            pdf.set_creation_date(ctx.generated_at)
            add_fonts(pdf, stack)
            doc = Pdf(pdf)
            pdf.set_font(SANS, "", 10)
            yield doc
    except DocumentError:
        raise
    except Exception as exc:
        raise DocumentError(f"Impossible de produire le document « {title} »\u00a0: {exc}") from exc


def render(doc: Pdf) -> bytes:
    return bytes(doc.pdf.output())
