"""The statistics panel's exports: a CSV of every figure and a one-page A4 PDF summary.

The head prints the PDF for the board meeting and sends the CSV to whoever chases the
classes; both hold pupils' names (the pass Culture list), so they are written like the
notification documents: 0600 from the first byte, published atomically, and audited
(action ``export``) in the same transaction.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..access import permissions
from ..access.caller import Caller
from ..accounts import publishing
from ..documents.files import app_folder, free_name
from ..documents.pdf import SANS, add_fonts
from ..documents.spreadsheet import csv_bytes
from ..model import french
from ..model.enums import AccountKind, AccountState, ActivationMethod
from ..model.errors import DocumentError
from ..store import audit
from ..store.services import Services
from .class_figures import ClassStats
from .figures import EXPIRY_WARNING_DAYS, SchoolStats, day, pct
from .pass_culture import AGES_LABEL
from .stats_text import csv_rows

if TYPE_CHECKING:
    from fpdf import FPDF

FOLDER = "statistiques"

# A4 portrait, in millimetres.
PAGE_W = 210.0
PAGE_H = 297.0
MARGIN = 15.0
WIDTH = PAGE_W - 2 * MARGIN
BOTTOM = PAGE_H - 12.0
BLACK = (0, 0, 0)
GREY = (100, 100, 100)
LIGHT = (225, 228, 235)
BAR = (60, 110, 170)


def stats_csv(stats: SchoolStats) -> bytes:
    """Every figure of the panel, as a spreadsheet file (see ``documents.spreadsheet``)."""
    return csv_bytes(csv_rows(stats))


@dataclass(frozen=True)
class ExportResult:
    """The files written; ``swept`` the documents of a killed run its sweep removed."""

    csv_path: Path
    pdf_path: Path
    swept: tuple[Path, ...] = ()

    @property
    def paths(self) -> tuple[Path, Path]:
        return self.csv_path, self.pdf_path


def default_paths(services: Services, stats: SchoolStats) -> tuple[Path, Path]:
    """``statistiques/`` in the output folder; a name already taken gets a number."""
    stamp = stats.time.stamp(stats.at)
    folder = app_folder(services.settings.output_dir / FOLDER)
    stem = f"statistiques_{stats.uai}_{stamp}"

    def named(ext: str) -> Callable[[int], Path]:
        return lambda n: folder / (f"{stem}.{ext}" if n == 1 else f"{stem}_{n}.{ext}")

    csv_path, pdf_path = free_name(named("csv"), named("pdf"))
    return csv_path, pdf_path


def export_stats(services: Services, caller: Caller, stats: SchoolStats) -> ExportResult:
    """Write the CSV and the PDF of ``stats`` (the figures on screen): one export, one event.

    Files are staged first, then the audit records and the publication happen in one
    transaction (``files.Publication``): either both files exist and the export is in the
    audit trail, or neither.
    """
    permissions.require(services, caller, permissions.Action.EXPORT)
    if caller.school.uai != stats.uai:
        raise DocumentError("Ces statistiques ne sont pas celles de votre établissement.")
    csv_path, pdf_path = default_paths(services, stats)
    publishing.check(services, (csv_path, pdf_path), overwrite=False)
    swept = publishing.sweep(services, (csv_path, pdf_path))
    now = services.clock()
    publication = publishing.publication(services, now)
    publication.stage(csv_path, stats_csv(stats))
    publication.stage(pdf_path, stats_pdf(stats))
    with publishing.recorded(services, publication) as session:
        audit.record(
            session,
            caller.actor(),
            "export",
            now=now,
            establishment_id=caller.school.id,
            details={
                "what": "statistiques",
                "formats": ["csv", "pdf"],
                "paths": [audit.file_named(csv_path), audit.file_named(pdf_path)],
                "lot": publication.lot,
            },
        )
    return ExportResult(csv_path, pdf_path, tuple(swept))


# --------------------------------------------------------------------------- PDF


def stats_pdf(stats: SchoolStats) -> bytes:
    """One A4 page: states, rates, methods, blocked, expiring, activity, pass Culture, classes.

    Everything is drawn at fixed positions so the page never spills onto a second one;
    the per-class table shrinks (and, for the largest schools, cuts with a pointer to the
    CSV) to the room left.
    """
    try:
        with contextlib.ExitStack() as stack:
            from fpdf import FPDF  # imported on first document: 0.2 s off every start

            pdf = FPDF(orientation="P", unit="mm", format="A4")
            pdf.set_auto_page_break(False)
            pdf.set_margins(0, 0, 0)
            pdf.set_title(f"Statistiques EduConnect — {stats.name}")
            pdf.set_author(f"{stats.name} ({stats.uai})")
            pdf.set_creator("educonnect-tui")
            pdf.set_lang("fr-FR")
            pdf.set_creation_date(stats.at)
            add_fonts(pdf, stack)
            pdf.add_page()
            _Page(pdf, stats).draw()
            return bytes(pdf.output())
    except DocumentError:
        raise
    except Exception as exc:
        raise DocumentError(f"Impossible de produire le PDF des statistiques\u00a0: {exc}") from exc


class _Page:
    def __init__(self, pdf: FPDF, stats: SchoolStats) -> None:
        self.pdf = pdf
        self.stats = stats

    def text(
        self,
        x: float,
        y: float,
        text: str,
        size: float = 9.0,
        *,
        bold: bool = False,
        align: str = "L",
        color: tuple[int, int, int] = BLACK,
        max_width: float | None = None,
    ) -> None:
        self.pdf.set_font(SANS, "B" if bold else "", size)
        self.pdf.set_text_color(*color)
        if max_width is not None and self.pdf.get_string_width(text) > max_width:
            while text and self.pdf.get_string_width(text + "…") > max_width:
                text = text[:-1]
            text += "…"
        width = self.pdf.get_string_width(text)
        if align == "R":
            x -= width
        elif align == "C":
            x -= width / 2
        self.pdf.text(x, y, text)

    def bar(self, x: float, y: float, w: float, h: float, rate: float) -> None:
        self.pdf.set_fill_color(*LIGHT)
        self.pdf.rect(x, y, w, h, style="F")
        if rate > 0:
            self.pdf.set_fill_color(*BAR)
            self.pdf.rect(x, y, w * min(rate, 1.0), h, style="F")

    def title(self, y: float, text: str) -> float:
        self.text(MARGIN, y, text, 11, bold=True)
        self.pdf.set_draw_color(*GREY)
        self.pdf.set_line_width(0.2)
        self.pdf.line(MARGIN, y + 1.5, MARGIN + WIDTH, y + 1.5)
        return y + 6.5

    def draw(self) -> None:
        s = self.stats
        self.text(MARGIN, 20, "Statistiques des comptes EduConnect", 16, bold=True)
        self.text(
            MARGIN,
            27,
            f"{s.name} — UAI {s.uai} — le {s.time.date_time(s.at)}",
            10,
            color=GREY,
            max_width=WIDTH,
        )
        y = self.title(37, "Comptes par état")
        bottom_left = self.states_table(y)
        bottom_right = self.side_figures(y)
        y = max(bottom_left, bottom_right) + 4
        y = self.activity(y)
        y = self.pass_culture(y)
        self.classes(y)

    def states_table(self, y: float) -> float:
        s = self.stats
        x0, cols = MARGIN, (MARGIN + 62, MARGIN + 78, MARGIN + 102, MARGIN + 118)
        self.text(cols[0], y, "Élèves", 8.5, bold=True, align="R")
        self.text(cols[2], y, "Représentants", 8.5, bold=True, align="R")
        y += 5
        for state in AccountState:
            self.text(x0, y, f"{state.symbol} {state.label}", 9)
            for kind_stats, (n_col, p_col) in ((s.pupils, cols[:2]), (s.guardians, cols[2:])):
                self.text(n_col, y, str(kind_stats.by_state.get(state, 0)), 9, align="R")
                self.text(p_col, y, pct(kind_stats.share(state)), 8, align="R", color=GREY)
            y += 5
        self.text(x0, y, "Total", 9, bold=True)
        self.text(cols[0], y, str(s.pupils.total), 9, bold=True, align="R")
        self.text(cols[2], y, str(s.guardians.total), 9, bold=True, align="R")
        y += 6
        self.text(x0, y, "Taux d'activation", 9, bold=True)
        for kind_stats, col in ((s.pupils, cols[1]), (s.guardians, cols[3])):
            self.text(col, y, pct(kind_stats.rate), 9, bold=True, align="R")
        y += 1.5
        for kind_stats, col in ((s.pupils, cols[1]), (s.guardians, cols[3])):
            self.bar(col - 30, y, 30, 2.2, kind_stats.rate)
        return y + 3

    def side_figures(self, y: float) -> float:
        s = self.stats
        x, right = MARGIN + 124, MARGIN + WIDTH
        self.text(x, y, "Représentants activés par", 8.5, bold=True)
        y += 5
        for method in ActivationMethod:
            n = s.guardian_methods.get(method, 0)
            share = n / s.guardians.activated if s.guardians.activated else 0.0
            self.text(x, y, method.label, 8)
            self.text(right, y, f"{n} ({pct(share)})", 8, align="R")
            y += 4.5
        y += 2
        self.text(x, y, "Comptes bloqués", 8.5, bold=True)
        y += 5
        for kind in AccountKind:
            self.text(x, y, _who(kind), 8.5)
            self.text(right, y, str(s.blocked.get(kind, 0)), 8.5, align="R")
            y += 4.5
        y += 2
        self.text(x, y, f"Provisoires expirant sous {EXPIRY_WARNING_DAYS} j", 8.5, bold=True)
        y += 5
        for kind in AccountKind:
            self.text(x, y, _who(kind), 8.5)
            self.text(right, y, str(s.expiring_soon.get(kind, 0)), 8.5, align="R")
            y += 4.5
        return y

    def activity(self, y: float) -> float:
        days = self.stats.activity.days
        y = self.title(y, "Activations par jour")
        if not days:
            return y + 2
        height = 22.0
        peak = self.stats.activity.peak
        top = peak.total if peak else 0
        step = WIDTH / len(days)
        base = y + height
        self.pdf.set_draw_color(*GREY)
        self.pdf.line(MARGIN, base, MARGIN + WIDTH, base)
        self.pdf.set_fill_color(*BAR)
        for i, d in enumerate(days):
            if d.total and top:
                h = max(0.4, height * d.total / top)
                self.pdf.rect(MARGIN + i * step + step * 0.15, base - h, step * 0.7, h, style="F")
        self.text(MARGIN, base + 4, day(days[0].day), 7.5, color=GREY)
        self.text(MARGIN + WIDTH, base + 4, day(days[-1].day), 7.5, color=GREY, align="R")
        if peak is not None:
            i = days.index(peak)
            label = f"max. {peak.total} le {day(peak.day)}"
            self.text(MARGIN + (i + 0.5) * step, y - 0.5, label, 7.5, bold=True, align="C")
            summary = f"{french.count(self.stats.activity.total, 'activation')} sur la période"
        else:
            summary = "aucune activation sur la période"
        self.text(MARGIN + WIDTH / 2, base + 4, summary, 7.5, color=GREY, align="C")
        return base + 9

    def pass_culture(self, y: float) -> float:
        pc = self.stats.pass_culture
        y = self.title(y, f"pass Culture (élèves de {AGES_LABEL})")
        if pc is None:
            return y
        self.text(
            MARGIN,
            y,
            f"{french.count(pc.eligible, 'élève né', 'élèves nés')} du {day(pc.born_from)} "
            f"au {day(pc.born_until)} ; {pc.activated} avec un compte activé ({pct(pc.rate)}).",
            9,
        )
        self.bar(MARGIN + WIDTH - 40, y - 2.6, 40, 2.6, pc.rate)
        y += 5
        if pc.not_activated:
            self.text(
                MARGIN,
                y,
                f"{pc.not_activated} sans compte activé ne peuvent pas ouvrir leur pass Culture "
                "(liste dans le fichier CSV).",
                9,
                bold=True,
            )
            y += 5
        return y + 2

    def classes(self, y: float) -> None:
        classes = self.stats.classes
        y = self.title(y, "Par classe (comptes activés / à activer, hors désactivés)")
        if not classes:
            self.text(MARGIN, y, "Aucune classe.", 9, color=GREY)
            return
        room = BOTTOM - y - 5  # header row
        blocks, row_h = 1, 4.6
        for blocks in (1, 2, 3):
            row_h = room / math.ceil(len(classes) / blocks)
            if row_h >= 4.0:
                break
        row_h = max(min(row_h, 4.6), 3.0)
        per_block = int(room // row_h)
        shown = classes[: per_block * blocks]
        gap = 4.0
        block_w = (WIDTH - gap * (blocks - 1)) / blocks
        size = min(8.5, row_h * 1.9)
        for b in range(blocks):
            part = shown[b * per_block : (b + 1) * per_block]
            if part:
                self.class_block(MARGIN + b * (block_w + gap), y, block_w, row_h, size, part)
        if len(shown) < len(classes):
            self.text(
                MARGIN,
                BOTTOM + 4,
                f"… et {french.count(len(classes) - len(shown), 'autre classe')}\u00a0: "
                "voir le fichier CSV.",
                8,
                color=GREY,
            )

    def class_block(
        self, x: float, y: float, w: float, row_h: float, size: float, rows: list[ClassStats]
    ) -> None:
        # Proportions of the block: class | pupils n/N | bar % | guardians n/N | bar %.
        name_w, count_w = min(w * 0.2, 24.0), w * 0.14
        rate_w = (w - name_w - 2 * count_w) / 2
        cols = [x, x + name_w, x + name_w + count_w, x + name_w + count_w + rate_w]
        cols.append(cols[3] + count_w)
        self.text(cols[0], y, "Classe", size, bold=True)
        self.text(cols[2] - 1, y, "Élèves", size, bold=True, align="R")
        self.text(cols[4] - 1, y, "Resp.", size, bold=True, align="R")
        y += 5
        for i, c in enumerate(rows):
            if i % 2:
                self.pdf.set_fill_color(245, 246, 249)
                self.pdf.rect(x, y - row_h * 0.75, w, row_h, style="F")
            self.text(cols[0], y, c.division, size, max_width=name_w - 1)
            for kind_stats, n_col, bar_col in (
                (c.pupils, cols[2], cols[2]),
                (c.guardians, cols[4], cols[4]),
            ):
                self.text(
                    n_col - 1, y, f"{kind_stats.activated}/{kind_stats.active_total}", size,
                    align="R",
                )  # fmt: skip
                label_w = rate_w * 0.42
                self.bar(bar_col + 0.5, y - row_h * 0.5, rate_w - label_w - 1.5, row_h * 0.4,
                         kind_stats.rate)  # fmt: skip
                self.text(bar_col + rate_w - 1, y, pct(kind_stats.rate), size * 0.9, align="R")
            y += row_h


def _who(kind: AccountKind) -> str:
    return "élèves" if kind is AccountKind.PUPIL else "représentants"
