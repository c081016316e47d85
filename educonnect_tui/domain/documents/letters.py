"""The guardians' letters: one A4 page each, folded into a window envelope.

Written for a parent who has never heard of EduConnect: who the letter is from, the
children it concerns, the credentials, and every way to activate the account.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..model import french
from ..model.calendar import long_date
from . import notice_text
from .credentials import ChildRef, DocumentContext, GuardianCredential
from .list_pages import Column, list_pages
from .pdf import GREY, MONO, PAGE_H, PAGE_W, PT, SANS, Pdf, new_pdf, render
from .text import COLON, clean, guardian_groups, home_child, pupil_name, school_line


def guardian_letters_pdf(
    ctx: DocumentContext,
    rows: Sequence[GuardianCredential],
    *,
    distribution_lists: bool = True,
) -> bytes:
    """One A4 letter per guardian, address placed for a window envelope (DL, right window).

    Letters are grouped by the class of each guardian's youngest child here
    (``text.guardian_groups``): the pile goes to the classes, and each class's letters
    come after its distribution list (who gets one, through which child, a box to
    tick). A guardian of several children gets one letter. The helpdesk's single
    letter has no list (``distribution_lists=False``).
    """
    with new_pdf(ctx, "Comptes EduConnect des représentants légaux") as doc:
        for child, members in guardian_groups(rows, ctx.school.uai):
            if distribution_lists:
                _distribution_list(doc, ctx, child, members)
            for row in members:
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
        return render(doc)


_DISTRIBUTION_COLUMNS = (
    Column("N°", 9),
    Column("Représentant légal", 62, style="B"),
    Column("Par l'enfant", 55),
    Column("Identifiant", 38, family=MONO, style="B"),
    Column("Remise", 16, tick=True),
)


def _distribution_list(
    doc: Pdf, ctx: DocumentContext, child: ChildRef | None, members: list[GuardianCredential]
) -> None:
    """Who in this class takes a letter home, for whom; no password on this page."""
    title = (
        f"Classe {clean(child.division)} — lettres aux représentants légaux"
        if child is not None
        else "Lettres aux représentants légaux sans enfant scolarisé ici"
    )
    uai = ctx.school.uai
    rows = []
    for i, row in enumerate(members, 1):
        home = home_child(row.children, uai)
        through = pupil_name(home.last_name, home.first_name) if home is not None else "—"
        others = len(row.children) - (home is not None)
        if others > 0:
            through += f" (+{others})"
        rows.append([str(i), _guardian_name(row), through, row.login])
    list_pages(
        doc,
        ctx,
        title=title,
        notes=[
            "Liste de distribution\u00a0: les lettres de la classe suivent, dans le même ordre.",
            "Un représentant de plusieurs enfants reçoit une seule lettre, par le plus jeune.",
        ],
        columns=_DISTRIBUTION_COLUMNS,
        rows=rows,
        footer=f"{french.count(len(members), 'lettre')} — les mots de passe figurent "
        "uniquement dans les lettres.",
    )


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


# La Poste's rule for an address block: at most 6 lines of at most 38 characters.
ADDRESS_LINES = 6
ADDRESS_CHARS = 38
ADDRESS_SIZE = 10.5


def address_lines(doc: Pdf, row: GuardianCredential) -> list[tuple[str, str]]:
    """The window's lines (text, style): name, street lines, postcode and town.

    A line longer than 38 characters (or than the window) wraps at word boundaries,
    the font never shrinks; a single word too long is split with a hyphen. If the
    whole still needs more than 6 lines, the name (at most 2 lines) and the postcode
    line are kept and the street lines that do not fit are dropped, the last one kept
    ending in « … » so the cut shows: the secretary completes that envelope by hand
    from the mail-merge CSV, which holds the full address.
    """
    name = _wrap_address(doc, _guardian_name(row), "B")[:2]
    town = _wrap_address(
        doc, " ".join(p for p in (clean(row.postal_code), clean(row.city)) if p), ""
    )
    street: list[str] = []
    for part in row.address.splitlines():
        if clean(part):
            street += _wrap_address(doc, clean(part), "")
    room = max(0, ADDRESS_LINES - len(name) - len(town))
    if len(street) > room:
        street = street[:room]
        if street:
            last = street[-1]
            while last and len(last) + 2 > ADDRESS_CHARS:
                last = last.rsplit(" ", 1)[0] if " " in last else last[:-1]
            street[-1] = f"{last} …"
    return [(n, "B") for n in name] + [(s, "") for s in street] + [(t, "") for t in town]


def _wrap_address(doc: Pdf, text: str, style: str) -> list[str]:
    if not text:
        return []

    def fits(line: str) -> bool:
        return len(line) <= ADDRESS_CHARS and (
            doc.width(line, SANS, style, ADDRESS_SIZE) <= WINDOW_W
        )

    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        while not fits(word):  # one word longer than a line: split it visibly
            cut = len(word) - 1
            while cut > 1 and not fits(word[:cut] + "-"):
                cut -= 1
            if current:
                lines.append(current)
                current = ""
            lines.append(word[:cut] + "-")
            word = word[cut:]
        candidate = f"{current} {word}" if current else word
        if fits(candidate):
            current = candidate
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    return lines


def _guardian_name(row: GuardianCredential) -> str:
    civility = clean(row.civility)
    last, first = clean(row.last_name).upper(), clean(row.first_name)
    return " ".join(p for p in (civility, last, first) if p)


@dataclass
class _Flow:
    """A cursor down the letter, at a given text scale."""

    doc: Pdf
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


def _letter(doc: Pdf, ctx: DocumentContext, row: GuardianCredential, scale: float) -> float:
    """Lay out (or, with ``doc.dry``, only measure) one letter; return where it ends."""
    school = ctx.school
    portal = clean(ctx.portal_url)

    # School header, top left; the address window, top right.
    head = _Flow(doc, 15.0, 1.0, right=WINDOW_X - 5)
    head.paragraph(school_line(ctx), 12, "B", max_lines=2)
    for line in (
        clean(school.city),
        f"Académie de {clean(school.academie)}" if school.academie else "",
        f"UAI {school.uai}",
    ):
        if line:
            doc.text(
                LETTER_LEFT, head.y + 3.5, line, SANS, "", 9.5, max_width=85, min_size=7, color=GREY
            )
            head.y += 5
    y = WINDOW_Y + 5
    for line, style in address_lines(doc, row):
        doc.text(WINDOW_X, y, line, SANS, style, ADDRESS_SIZE)
        y += 5

    city = clean(school.city)
    place = f"{city}, le " if city else "Le "
    dated = f"{place}{long_date(ctx.time.today(ctx.generated_at))}"
    doc.text(LETTER_RIGHT, 90, dated, SANS, "", 10, align="R", max_width=LETTER_W, min_size=7)

    flow = _Flow(doc, 96.0, scale)
    reset = row.temp_password is not None
    subject = notice_text.guardian_subject(reset)
    flow.paragraph(f"Objet{COLON} {subject[:1].lower()}{subject[1:]}", 10.5, "B")
    flow.gap(3)
    flow.paragraph(notice_text.salutation(row.civility))
    flow.gap(1.5)
    children = row.children
    flow.paragraph(notice_text.guardian_intro(len(children)))
    flow.gap(1)
    child_size = 10.0 if len(children) <= 4 else 9.0
    shown = children if len(children) <= 8 else children[:7]
    for child in shown:
        text = notice_text.child_line(
            child.last_name, child.first_name, child.division, child.school_name
        )
        flow.paragraph(text, child_size, indent=4, marker="•", max_lines=2)
    if len(shown) < len(children):
        flow.paragraph(f"et {len(children) - len(shown)} autres enfants", child_size, indent=10)
    if not children:
        flow.paragraph("—", indent=4, marker="•")
    flow.gap(2.5)
    flow.paragraph(notice_text.guardian_lead(reset))
    flow.gap(2)

    top = flow.y
    h = (30.0 if reset else 14.0) * scale
    doc.box(LETTER_LEFT, top, LETTER_W, h, 2)
    label_x = LETTER_LEFT + 5
    value_x = LETTER_LEFT + 58
    value_w = LETTER_RIGHT - 5 - value_x
    doc.text(label_x, top + 9 * scale, f"Identifiant{COLON}", SANS, "", 11 * scale)
    doc.text(
        value_x, top + 9.5 * scale, row.login, MONO, "B", 17 * scale, max_width=value_w, min_size=8
    )
    if row.temp_password is not None:
        doc.text(
            label_x, top + 18.5 * scale, f"Mot de passe provisoire{COLON}", SANS, "", 11 * scale
        )
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
            notice_text.validity(row.expires_on) or "",
            SANS,
            "B",
            10 * scale,
        )
    flow.y = top + h
    flow.gap(4)

    steps = notice_text.guardian_steps(portal, reset)
    flow.paragraph(steps.title, 10.5, "B")
    flow.gap(1)
    for i, step in enumerate(steps.items, 1):
        flow.paragraph(step, indent=4, marker=f"{i}.")
    flow.gap(2.5)
    others = notice_text.guardian_other_ways(portal)
    flow.paragraph(others.title, 10.5, "B")
    flow.gap(1)
    for way in others.items:
        flow.paragraph(way, indent=4, marker="•")
    flow.gap(2.5)
    flow.paragraph(notice_text.guardian_closing(reset), 9)
    flow.gap(8)
    doc.text(LETTER_RIGHT, flow.y, notice_text.SIGNATURE, SANS, "", 10 * scale, align="R")
    return flow.y
