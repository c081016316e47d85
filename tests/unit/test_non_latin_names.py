"""Names in any script: printed whole on the slip and the class list (or the account left
out with a French reason, its password unchanged), and found by name in every search."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from hypothesis import given
from hypothesis import strategies as st
from pypdf import PdfReader
from sqlalchemy import select

from educonnect_tui.domain.accounts import directory, notification
from educonnect_tui.domain.accounts.listing import Listing, ListQuery
from educonnect_tui.domain.accounts.notification import NotifyRequest
from educonnect_tui.domain.accounts.selection import Selection
from educonnect_tui.domain.documents import glyphs
from educonnect_tui.domain.documents.slips import pupil_documents_pdf
from educonnect_tui.domain.model.enums import AccountKind, AccountState
from educonnect_tui.domain.model.errors import DocumentError
from educonnect_tui.domain.model.identifiers import search_key, search_terms
from educonnect_tui.domain.model.tables import Account
from educonnect_tui.domain.store.services import Services
from tests import factories

sys.path.insert(0, str(Path(__file__).parent))
from test_documents import CTX, pupil

CHINESE = ("王", "小明")
ARABIC = ("بن علي", "محمد")
CYRILLIC = ("Иванова", "Мария")
KOREAN = ("김", "민준")
UNPRINTABLE = "\ue000"  # private use: no shipped font has it


def _pages(data: bytes) -> list[str]:
    return ["".join((p.extract_text() or "").split()) for p in PdfReader(io.BytesIO(data)).pages]


def _fonts(data: bytes, page: int) -> set[str]:
    resources = PdfReader(io.BytesIO(data)).pages[page]["/Resources"]["/Font"]
    return {str(font.get_object()["/BaseFont"]) for font in resources.values()}


def test_slip_and_class_list_print_chinese_arabic_and_cyrillic_names() -> None:
    rows = [pupil(n, "3E2", name) for n, name in enumerate((CHINESE, ARABIC, CYRILLIC, KOREAN))]
    data = pupil_documents_pdf(CTX, rows)
    class_list, slips = _pages(data)
    for last, first in (CHINESE, ARABIC, CYRILLIC, KOREAN):
        for part in ("".join(last.upper().split()), "".join(first.split())):
            assert part in class_list
            assert part in slips
    used = _fonts(data, 1)
    assert any("Droid" in f for f in used) and any("Nanum" in f for f in used)
    assert any("DejaVu" in f for f in used)


def test_the_fonts_chosen_really_draw_the_characters() -> None:
    """A font may map a character to an empty outline (Nanum's Chinese): not chosen."""
    for char in "王小明山田さくら김민준":
        found = glyphs.fallback_font(char, "B")
        assert found is not None
        font = TTFont(Path(str(glyphs.font_files() / found[2])))
        name = font.getBestCmap()[ord(char)]
        glyph = font["glyf"][name]
        assert glyph.numberOfContours != 0, (char, found)
    for char in "محمدИванова":
        assert glyphs.has_glyph(glyphs.SANS, "B", char)


def test_a_name_no_font_can_draw_is_refused_in_french() -> None:
    row = pupil(1, "3E2", ("Dupont", f"Jea{UNPRINTABLE}ne"))
    assert glyphs.unprintable(row) == UNPRINTABLE
    with pytest.raises(DocumentError, match=r"aucune police fournie .*U\+E000"):
        pupil_documents_pdf(CTX, [row])


def _pupils(services: Services, names: list[tuple[str, str]]) -> list[int]:
    with services.sessions() as session, session.begin():
        school = factories.school(session)
        return [
            factories.pupil(session, school, last_name=ln, first_name=fn, division="3E2").id
            for ln, fn in names
        ]


def _password_hashes(services: Services, ids: list[int]) -> dict[int, str | None]:
    with services.sessions() as session:
        rows = session.execute(
            select(Account.id, Account.temp_password_hash).where(Account.id.in_(ids))
        )
        return {i: h for i, h in rows}


def test_notification_leaves_out_an_unprintable_name_and_says_why(
    services: Services, tmp_path: Path
) -> None:
    ids = _pupils(services, [CHINESE, ARABIC, ("Dupont", f"Jea{UNPRINTABLE}ne")])
    result = notification.notify(
        services,
        factories.operator(services),
        NotifyRequest(AccountKind.PUPIL, Selection(), pdf_path=tmp_path / "fiches.pdf"),
    )
    assert result.count == 2
    with services.sessions() as session:
        bad = session.get_one(Account, ids[2])
        assert bad.state is AccountState.NOT_NOTIFIED and bad.temp_password_hash is None
        assert result.unprintable == (f"{bad.login} (U+E000)",)
    text = "\n".join(result.lines())
    assert "1 compte laissé de côté, mot de passe inchangé" in text
    assert "Corrigez l'orthographe dans SIECLE" in text
    pages = _pages((tmp_path / "fiches.pdf").read_bytes())
    assert "王" in pages[1] and "محمد" in pages[1]


def test_notification_of_only_unprintable_names_changes_nothing(
    services: Services, tmp_path: Path
) -> None:
    ids = _pupils(services, [("Dupont", f"Jea{UNPRINTABLE}ne")])
    before = _password_hashes(services, ids)
    with pytest.raises(DocumentError, match="Aucun mot de passe n'a été modifié"):
        notification.notify(
            services,
            factories.operator(services),
            NotifyRequest(AccountKind.PUPIL, Selection(), pdf_path=tmp_path / "fiches.pdf"),
        )
    assert _password_hashes(services, ids) == before
    assert not (tmp_path / "fiches.pdf").exists()


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("王", CHINESE),
        ("小明", CHINESE),
        ("王 明", CHINESE),
        ("محمد", ARABIC),
        ("مُحَمَّد", ARABIC),  # with its vowel marks
        ("محم", ARABIC),  # a prefix
        ("علي", ARABIC),
        ("Иванова", CYRILLIC),
        ("иван", CYRILLIC),
        ("ivanova", CYRILLIC),
        ("민준", KOREAN),
    ],
)
def test_names_in_any_script_are_found_by_the_searches(
    services: Services, query: str, name: tuple[str, str]
) -> None:
    names = [CHINESE, ARABIC, CYRILLIC, KOREAN, ("Dupont", "Jeanne")]
    ids = dict(zip(names, _pupils(services, names), strict=True))
    found = [row.account_id for row in directory.search(services, query).rows]
    assert found == [ids[name]]
    with services.sessions() as session:
        school_id = session.get_one(Account, ids[name]).pupil.establishment_id  # type: ignore[union-attr]
    listing = Listing(services, factories.operator_at(services, school_id))
    query_ = ListQuery(AccountKind.PUPIL, Selection(search=query))
    assert listing.count(query_) == 1


def test_arabic_alef_forms_and_teh_marbuta_are_one() -> None:
    assert search_key("أحمد", "فاطمة") == search_key("احمد", "فاطمه")
    assert search_terms("إبراهيم") == search_terms("ابراهيم")


arabic_marks = st.sampled_from(
    [
        "\u064b",
        "\u064c",
        "\u064d",
        "\u064e",
        "\u064f",
        "\u0650",
        "\u0651",
        "\u0652",
        "\u0670",
        "\u0640",
    ]
)
arabic_letters = st.characters(min_codepoint=0x0621, max_codepoint=0x064A)


@given(st.lists(st.tuples(arabic_letters, st.lists(arabic_marks, max_size=3)), min_size=1))
def test_arabic_search_words_ignore_vowel_marks_and_tatweel(parts) -> None:
    bare = "".join(letter for letter, _ in parts)
    marked = "".join(letter + "".join(marks) for letter, marks in parts)
    assert search_key(marked) == search_key(bare)
    assert search_terms(marked) == search_terms(bare)


@given(st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), min_size=1))
def test_every_chinese_character_is_a_word(name: str) -> None:
    assert search_key(name).split() == list(name)


def test_the_notify_screen_says_which_accounts_were_left_out_and_why() -> None:
    from educonnect_tui.screens.notify import finished_message

    result = notification.NotifyResult(
        AccountKind.PUPIL, 2, (Path("/tmp/f.pdf"),), unprintable=("j.dupont (U+E000)",)
    )
    message = finished_message(result)
    assert "1 compte laissé de côté, mot de passe inchangé\u00a0: son document" in message
    assert message.endswith("notifiez de nouveau\u00a0: j.dupont (U+E000)")
