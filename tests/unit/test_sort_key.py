"""The French order of names: one key, the same in Python and in both databases."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text

from educonnect_tui.domain.model.identifiers import SORT_KEY_MAX_LENGTH, sort_key
from educonnect_tui.domain.model.names import NAME_PUNCTUATION
from educonnect_tui.domain.store import db

# Letters of any script, with the punctuation a name may hold (model/names).
name_text = st.text(
    st.characters(categories=["L", "M"], include_characters="".join(NAME_PUNCTUATION)), max_size=40
)


def _ordered(names: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return sorted(names, key=lambda n: sort_key(*n))


def test_accents_and_case_do_not_send_a_name_to_the_end() -> None:
    names = [("Eric", "Paul"), ("Émilie", "Zoé"), ("Arnaud", "Léa"), ("Aït Ahmed", "Nour")]
    assert [last for last, _ in _ordered(names)] == ["Aït Ahmed", "Arnaud", "Émilie", "Eric"]
    assert _ordered([("zoé", "a"), ("Zoe", "b"), ("ZOÉ", "c")]) == [
        ("zoé", "a"),
        ("Zoe", "b"),
        ("ZOÉ", "c"),
    ]


def test_the_whole_last_name_comes_before_the_first_name() -> None:
    names = [("Martin-Dupont", "Anne"), ("Martin", "Zoé"), ("Martin", "Élise")]
    assert _ordered(names) == [("Martin", "Élise"), ("Martin", "Zoé"), ("Martin-Dupont", "Anne")]


def test_apostrophes_hyphens_spaces_and_ligatures_are_ignored() -> None:
    assert sort_key("N'Diaye", "Aïcha") == sort_key("NDIAYE", "aicha")
    assert sort_key("N’Diaye", "Jean-Éric") == sort_key("Ndiaye", "Jean Eric")
    assert sort_key("Œuvray", "Noël") == sort_key("Oeuvray", "Noel")
    assert sort_key("Da Silva", "Noé") == sort_key("Dasilva", "Noe")


def test_names_without_latin_letters_still_have_a_place_after_the_latin_ones() -> None:
    assert sort_key("李", "明") != sort_key("王", "明")
    assert sort_key("Zyx", "Zoé") < sort_key("李", "明")
    assert sort_key("Иванова", "Мария") == sort_key("Ivanova", "Mariya")


@given(name_text, name_text)
def test_the_key_ignores_case_accents_and_normal_form(last: str, first: str) -> None:
    key = sort_key(last, first)
    assert len(key) <= SORT_KEY_MAX_LENGTH
    assert key == sort_key(last.lower(), first.lower())
    assert key == sort_key(unicodedata.normalize("NFD", last), unicodedata.normalize("NFD", first))
    assert key == sort_key(
        unicodedata.normalize("NFC", last.lower()), unicodedata.normalize("NFC", first.lower())
    )


@given(name_text, name_text)
def test_one_space_separates_last_from_first_and_nothing_else_is_punctuation(
    last: str, first: str
) -> None:
    key = sort_key(last, first)
    head, _, tail = key.partition(" ")
    assert " " not in head and (" " not in tail or len(key) == SORT_KEY_MAX_LENGTH)
    assert not any(c in key for c in NAME_PUNCTUATION - {" "})


@given(st.lists(st.tuples(name_text, name_text), max_size=12))
def test_same_order_whatever_order_the_names_arrive_in(names: list[tuple[str, str]]) -> None:
    forward = [sort_key(*n) for n in _ordered(names)]
    backward = [sort_key(*n) for n in _ordered(list(reversed(names)))]
    assert forward == backward == sorted(forward)


def test_upgrade_fills_the_key_of_existing_accounts_and_keeps_their_search_rows(
    tmp_path: Path,
) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    db.upgrade(engine, "0006")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO establishment (id, uai, name, type, academie, city) "
                "VALUES (1, '0941234F', 'Collège', 'college', 'Créteil', 'Vitry')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO guardian (id, source_key, civility, last_name, first_name, address,"
                " postal_code, city) VALUES (1, 'G1', 'Mme', 'Aït Ahmed', 'Émilie', '', '', '')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO account (id, kind, guardian_id, login, search_text, state,"
                " notification_count, failed_attempts, block_count, version) VALUES (7,"
                " 'guardian', 1, 'e.aitahmed', 'ait ahmed emilie e aitahmed', 'non_notifie',"
                " 0, 0, 0, 1)"
            )
        )
        connection.execute(
            text("INSERT INTO search_token (token, account_id) VALUES ('emilie', 7)")
        )
    db.upgrade(engine)
    with engine.connect() as connection:
        key = connection.execute(text("SELECT sort_name FROM account WHERE id = 7")).scalar()
        tokens = connection.execute(text("SELECT token FROM search_token")).scalars().all()
    engine.dispose()
    assert key == sort_key("Aït Ahmed", "Émilie") == "aitahmed emilie"
    assert tokens == ["emilie"]
