"""French grammar: counted words agree, names elide."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from educonnect_tui.domain.model import french


def test_one_account_is_singular_and_two_are_plural() -> None:
    assert french.count(0, "compte") == "0 compte"
    assert french.count(1, "compte bloqué") == "1 compte bloqué"
    assert french.count(2, "compte bloqué") == "2 comptes bloqués"
    assert french.count(3, "compte représentant légal", "comptes représentants légaux") == (
        "3 comptes représentants légaux"
    )
    assert french.agreed(1, "il devra", "ils devront") == "il devra"
    assert french.agreed(4, "il devra", "ils devront") == "ils devront"


def test_words_already_plural_stay_so() -> None:
    assert french.plural("essai infructueux") == "essais infructueux"


def test_names_elide_before_a_vowel() -> None:
    assert french.of("Émilie Durand") == "d'Émilie Durand"
    assert french.of("Elif Yılmaz") == "d'Elif Yılmaz"
    assert french.of("Yasmine Amrani") == "d'Yasmine Amrani"
    assert french.of("Jules André") == "de Jules André"
    assert french.of("") == "de "


@given(st.integers(min_value=2, max_value=10**6))
def test_from_two_on_the_noun_is_plural(n: int) -> None:
    assert french.count(n, "compte").endswith("comptes")


@given(st.text())
def test_elision_is_always_one_of_the_two_forms(name: str) -> None:
    assert french.of(name) in (f"d'{name}", f"de {name}")
