"""Identifiers: UAI, INE and logins, including for arbitrary Unicode names."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from educonnect_tui.domain.model.errors import InvalidInput
from educonnect_tui.domain.model.identifiers import (
    LOGIN_MAX_LENGTH,
    UAI_KEY_LETTERS,
    fold,
    login_base,
    next_login,
    normalize_ine,
    normalize_uai,
    search_key,
    search_terms,
    uai_key,
)

LOGIN = re.compile(r"^[a-z0-9.]+$")
names = st.text(max_size=120)


def test_uai_key_of_the_design_example() -> None:
    assert uai_key("0750655") == "E"
    assert normalize_uai(" 0750655e ") == "0750655E"


@given(st.integers(min_value=0, max_value=9_999_999))
def test_every_uai_with_its_key_is_accepted_and_any_other_key_refused(number: int) -> None:
    digits = f"{number:07d}"
    key = UAI_KEY_LETTERS[number % 23]
    assert normalize_uai(digits + key) == digits + key
    for wrong in UAI_KEY_LETTERS.replace(key, "")[:3]:
        with pytest.raises(InvalidInput, match="lettre de contrôle devrait être"):
            normalize_uai(digits + wrong)


@pytest.mark.parametrize("bad", ["", "075065E", "07506555", "0750655EE", "ABCDEFGE", "0750655-"])
def test_malformed_uai_is_refused_in_french(bad: str) -> None:
    with pytest.raises(InvalidInput, match="UAI"):
        normalize_uai(bad)


def test_ine_is_eleven_digits_or_capitals() -> None:
    assert normalize_ine("1234567890a") == "1234567890A"
    for bad in ["123456789", "1234567890AB", "12345-7890A", "12345 7890A"]:
        with pytest.raises(InvalidInput, match="INE"):
            normalize_ine(bad)


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        ("Jean", "Dupont", "j.dupont"),
        ("Noé", "Lefèvre", "n.lefevre"),
        ("Éloïse", "de La Fontaine", "e.delafontaine"),
        ("Jean-Baptiste", "N'Diaye", "j.ndiaye"),
        ("Zoë", "Œuvrard-Müller", "z.oeuvrardmuller"),
        ("", "Martin", "x.martin"),
        ("Олена", "Шевченко", "o.shevchenko"),
        ("美咲", "田中", "x.compte"),
    ],
)
def test_login_follows_the_rule(first: str, last: str, expected: str) -> None:
    assert login_base(first, last) == expected


def test_suffix_only_when_needed() -> None:
    assert next_login("j.dupont", set()) == "j.dupont"
    assert next_login("j.dupont", {"j.dupont"}) == "j.dupont2"
    assert next_login("j.dupont", {"j.dupont", "j.dupont2", "j.dupont12"}) == "j.dupont3"


@settings(max_examples=300)
@given(st.lists(st.tuples(names, names), min_size=1, max_size=40))
def test_logins_are_ascii_short_unique_and_stable(people: list[tuple[str, str]]) -> None:
    taken: set[str] = set()
    for first, last in people:
        login = next_login(login_base(first, last), taken)
        assert LOGIN.match(login), login
        assert len(login) <= LOGIN_MAX_LENGTH
        assert login not in taken
        taken.add(login)
        # Stable: the same name always gives the same base.
        assert login_base(first, last) == login_base(first, last)
        assert login.startswith(login_base(first, last))


@given(names, names)
def test_search_key_is_folded_words(first: str, last: str) -> None:
    """ASCII words for what folds to ASCII, the other scripts' words as they are kept."""
    key = search_key(last, first)
    assert "  " not in key and key == key.strip()
    for word in key.split():
        assert re.fullmatch(r"[a-z0-9]+", word) or not re.search(r"[a-z0-9]", fold(word))
    # A key typed back as a query gives the same words: both sides follow one rule.
    assert search_terms(key) == key.split()


def test_search_ignores_accents_and_case() -> None:
    key = search_key("Lefèvre", "Noé", "n.lefevre")
    assert all(term in key for term in search_terms("lefevre NOE"))
    assert fold("ÀÉÎÕÜ ß Æ") == "aeiou ss ae"
