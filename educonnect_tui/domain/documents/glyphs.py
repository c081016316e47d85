"""Which shipped font draws each character, and which characters none of them can draw.

A PDF viewer shows nothing for a character the font lacks: a slip would hand a pupil a
password under a blank name. Every text a document prints goes through
``missing_glyphs`` (``pdf.Pdf`` refuses to draw it otherwise), and the notification
leaves out, before any password changes, the accounts whose documents would need a
character no font here has.

DejaVu draws Latin (Vietnamese, Turkish, Romanian included), Cyrillic, Greek,
Armenian, Georgian, Hebrew and Arabic; the fallbacks add the scripts DejaVu lacks that
French schools meet (README, « Dependencies », lists them with their sizes).
"""

from __future__ import annotations

import unicodedata
from functools import cache
from importlib import resources

from .credentials import GuardianCredential, PupilCredential
from .text import clean

SANS = "dejavu"
MONO = "dejavumono"

# (family, style) -> file: the fonts documents name; always loaded.
PRIMARY: dict[tuple[str, str], str] = {
    (SANS, ""): "DejaVuSans.ttf",
    (SANS, "B"): "DejaVuSans-Bold.ttf",
    (MONO, "B"): "DejaVuSansMono-Bold.ttf",
}

# family -> (regular file, bold file or None), tried in this order for a character the
# primary font lacks; loaded into a document only when one of its texts needs them.
FALLBACKS: dict[str, tuple[str, str | None]] = {
    "notobengali": ("NotoSansBengali-Regular.ttf", "NotoSansBengali-Bold.ttf"),
    "notodevanagari": ("NotoSansDevanagari-Regular.ttf", "NotoSansDevanagari-Bold.ttf"),
    "notogurmukhi": ("NotoSansGurmukhi-Regular.ttf", "NotoSansGurmukhi-Bold.ttf"),
    "notosinhala": ("NotoSansSinhala-Regular.ttf", "NotoSansSinhala-Bold.ttf"),
    "nototamil": ("NotoSansTamil-Regular.ttf", "NotoSansTamil-Bold.ttf"),
    "notothai": ("NotoSansThai-Regular.ttf", "NotoSansThai-Bold.ttf"),
    "notolao": ("NotoSansLao-Regular.ttf", "NotoSansLao-Bold.ttf"),
    "notokhmer": ("NotoSansKhmer-Regular.ttf", "NotoSansKhmer-Bold.ttf"),
    "notoethiopic": ("NotoSansEthiopic-Regular.ttf", "NotoSansEthiopic-Bold.ttf"),
    # Before Nanum, whose Chinese characters are mapped to empty outlines.
    "droidcjk": ("DroidSansFallbackFull.ttf", None),
    "nanum": ("NanumSquareR.ttf", "NanumSquareB.ttf"),
}

# Korean is drawn by Nanum even where the Chinese/Japanese font has a few of its
# characters: one name, one design.
_HANGUL = ((0x1100, 0x11FF), (0x3130, 0x318F), (0xA960, 0xA97F), (0xAC00, 0xD7FF))
# Right-to-left or joining scripts: drawn through the shaping engine even when DejaVu
# has every letter, or Arabic comes out in isolated letters and in reverse order.
_SHAPED_BIDI = {"R", "AL", "AN"}


def font_files() -> resources.abc.Traversable:
    return resources.files("educonnect_tui.domain.documents.fonts")


@cache
def _cmap(filename: str) -> frozenset[int]:
    from fontTools.ttLib import TTFont  # a dependency of fpdf2

    with resources.as_file(font_files() / filename) as path:
        font = TTFont(path, lazy=True)
        try:
            return frozenset(font.getBestCmap())
        finally:
            font.close()


def _not_drawn(char: str) -> bool:
    """Spaces, controls and format marks (joiners, direction marks) have nothing to draw."""
    return unicodedata.category(char) in {"Zs", "Zl", "Zp", "Cc", "Cf"}


def has_glyph(family: str, style: str, char: str) -> bool:
    filename = PRIMARY.get((family, style))
    return filename is not None and ord(char) in _cmap(filename)


def fallback_font(char: str, style: str) -> tuple[str, str, str] | None:
    """(family, style, file) of the fallback that draws ``char``, bold if it has one."""
    code = ord(char)
    order = list(FALLBACKS)
    if any(lo <= code <= hi for lo, hi in _HANGUL):
        order.remove("nanum")
        order.insert(0, "nanum")
    for family in order:
        regular, bold = FALLBACKS[family]
        if code in _cmap(regular):
            if "B" in style and bold is not None:
                return family, "B", bold
            return family, "", regular
    return None


def missing_glyphs(text: str, family: str = SANS) -> str:
    """The characters of ``text`` that no shipped font draws (each once, in order).

    Checked in every style of ``family`` a document uses: a name printed bold on the
    slip is printed regular in the class list.
    """
    styles = [s for f, s in PRIMARY if f == family] or [""]
    missing: dict[str, None] = {}
    for char in text:
        if char in missing or _not_drawn(char):
            continue
        if all(has_glyph(family, s, char) for s in styles):
            continue
        if fallback_font(char, "") is None:
            missing[char] = None
    return "".join(missing)


@cache
def plain(family: str, style: str) -> frozenset[str]:
    """The characters ``family`` draws in ``style`` with no fallback and no shaping."""
    filename = PRIMARY.get((family, style))
    if filename is None:
        return frozenset()
    return frozenset(
        c for c in map(chr, _cmap(filename)) if unicodedata.bidirectional(c) not in _SHAPED_BIDI
    )


def needs_shaping(text: str, family: str, style: str) -> bool:
    """Whether ``text`` needs fallback fonts or the shaping engine (the slow path)."""
    return any(
        unicodedata.bidirectional(c) in _SHAPED_BIDI
        or not (has_glyph(family, style, c) or _not_drawn(c))
        for c in text
    )


def describe(chars: str) -> str:
    """« U+E000 » style names, for a message a secretary can pass on to support."""
    return ", ".join(f"U+{ord(c):04X}" for c in chars)


def unprintable(row: PupilCredential | GuardianCredential) -> str:
    """The characters of what ``row``'s document prints about its person that no font has.

    Empty when its slip or letter can be printed whole; otherwise the notification
    leaves the account out rather than hand over a password under a blank name.
    """
    if isinstance(row, PupilCredential):
        texts = [row.last_name, row.first_name, row.division]
    else:
        texts = [row.civility, row.last_name, row.first_name, row.address, row.postal_code]
        texts += [row.city]
        for child in row.children:
            texts += [child.last_name, child.first_name, child.division, child.school_name]
    return missing_glyphs("".join(clean(t) for t in texts))
