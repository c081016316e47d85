"""What may reach a terminal (model/printable.py), what a name may contain (model/names.py)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from educonnect_tui.domain.model.names import NAME_PUNCTUATION, name_problem, normal_name
from educonnect_tui.domain.model.printable import (
    UNPRINTABLE_CATEGORIES,
    excerpt,
    for_terminal,
    unprintable,
)

UNPRINTABLE = st.characters(categories=sorted(UNPRINTABLE_CATEGORIES))  # type: ignore[arg-type]
NAME_CHAR = st.one_of(
    st.characters(categories=["L", "M"]),  # type: ignore[list-item]
    st.sampled_from(sorted(NAME_PUNCTUATION)),
)


def _obeyed(text: str, keep: str = "") -> list[str]:
    return [c for c in text if c not in keep and unicodedata.category(c) in UNPRINTABLE_CATEGORIES]


@given(st.text())
def test_nothing_unprintable_survives_for_terminal(text: str) -> None:
    assert _obeyed(for_terminal(text)) == []


@given(st.text(), UNPRINTABLE, st.text())
def test_an_unprintable_character_stays_visible_as_a_mark(
    before: str, char: str, after: str
) -> None:
    shown = for_terminal(before + char + after)
    assert len(shown) > len(for_terminal(before)) + len(for_terminal(after))
    assert unprintable(before + char + after) is not None


@given(st.text(alphabet=st.characters(exclude_categories=sorted(UNPRINTABLE_CATEGORIES))))  # type: ignore[arg-type]
def test_printable_text_is_left_exactly_as_it_is(text: str) -> None:
    assert for_terminal(text) == text


@given(st.text())
def test_kept_line_feeds_are_the_only_controls_left(text: str) -> None:
    shown = for_terminal(text, keep="\n")
    assert _obeyed(shown, keep="\n") == []
    assert shown.count("\n") == text.count("\n")


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b]52;c;cHduZWQ=\x07", "␛]52;c;cHduZWQ=␇"),
        ("\x1b[2J", "␛[2J"),
        ("A\x7fB\x9bC", "A␡B\\x9bC"),
        ("\u202eNIRAM", "\\u202eNIRAM"),
        ("LE\u200bGALL\ufeff", "LE\\u200bGALL\\ufeff"),
        ("\U000e0041", "\\U000e0041"),  # a tag character (Cf)
    ],
)
def test_marks(raw: str, shown: str) -> None:
    assert for_terminal(raw) == shown


@given(st.text(min_size=41))
def test_an_excerpt_is_short_and_escaped(text: str) -> None:
    shown = excerpt(text)
    assert shown.endswith("…") and _obeyed(shown) == []
    if unprintable(text) is None:
        assert len(shown) == 40


@given(st.text(NAME_CHAR, min_size=1).filter(lambda t: any(c.isalpha() for c in t)))
def test_names_made_of_letters_marks_and_name_punctuation_are_accepted(text: str) -> None:
    name = normal_name(text)
    if any(unicodedata.category(c)[0] == "L" for c in name):
        assert name_problem(name) is None


@given(st.text(NAME_CHAR), UNPRINTABLE, st.text(NAME_CHAR))
def test_a_name_with_a_control_or_invisible_character_is_refused(
    before: str, char: str, after: str
) -> None:
    problem = name_problem(normal_name(before + "a" + char + after))
    assert problem is not None
    assert f"U+{ord(char):04X}" in problem and _obeyed(problem) == []


@given(st.characters(categories=["N", "S", "P"]).filter(lambda c: c not in NAME_PUNCTUATION))  # type: ignore[list-item]
def test_digits_symbols_and_other_punctuation_are_refused(char: str) -> None:
    problem = name_problem(f"Jean{char}")
    assert problem is not None and f"U+{ord(char):04X}" in problem


@given(st.text(NAME_CHAR))
def test_the_normal_form_is_composed_and_spaced_once(text: str) -> None:
    name = normal_name(text)
    assert unicodedata.is_normalized("NFC", name)
    assert "  " not in name and name == name.strip(" ")
    assert normal_name(name) == name


@pytest.mark.parametrize(
    "name",
    ["N'Diaye", "O’Brien", "Jean-Éric", "St. John", "Ølstad", "Дмитро", "李小龙", "ʻOkalani"],
)
def test_real_names(name: str) -> None:
    assert name_problem(name) is None


@pytest.mark.parametrize("name", ["---", "'", ". ."])
def test_a_name_has_at_least_one_letter(name: str) -> None:
    assert name_problem(name) == "aucune lettre"


def test_escaped_reaches_every_string_of_a_read_model() -> None:
    import dataclasses
    import datetime as dt

    from educonnect_tui.domain.model.enums import AccountState
    from educonnect_tui.domain.model.printable import escaped

    @dataclasses.dataclass(frozen=True)
    class Line:
        who: str
        at: dt.date

    @dataclasses.dataclass(frozen=True)
    class Page:
        title: str
        state: AccountState
        lines: tuple[Line, ...]
        more: list[str]
        count: int

    clean = Page("ok", AccountState.ACTIVATED, (Line("Anne", dt.date(2026, 1, 1)),), ["x"], 3)
    assert escaped(clean) is clean  # nothing copied when nothing needs it
    hostile = Page(
        "\x1b]0;t\x07", AccountState.ACTIVATED, (Line("A\u202e", dt.date(2026, 1, 1)),), ["\x9b"], 3
    )
    shown = escaped(hostile)
    assert shown.title == "␛]0;t␇" and shown.lines[0].who == "A\\u202e" and shown.more == ["\\x9b"]
    assert shown.state is AccountState.ACTIVATED and shown.count == 3
    assert shown.lines[0].at == dt.date(2026, 1, 1)
