"""The credential documents: what is printed where, CSV round trips, private atomic files."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from educonnect_tui.domain.documents.credentials import (
    ChildRef,
    DocumentContext,
    GuardianCredential,
    PupilCredential,
    SchoolHeader,
)
from educonnect_tui.domain.documents.files import stage_file
from educonnect_tui.domain.documents.glyphs import missing_glyphs, unprintable
from educonnect_tui.domain.documents.letters import guardian_letters_pdf
from educonnect_tui.domain.documents.mail_merge import guardian_csv, pupil_csv
from educonnect_tui.domain.documents.pdf import Pdf, new_pdf
from educonnect_tui.domain.documents.slips import pupil_documents_pdf
from educonnect_tui.domain.model.calendar import SchoolTime
from educonnect_tui.domain.model.errors import DocumentError, InvalidInput

CTX = DocumentContext(
    school=SchoolHeader(
        uai="0750655E",
        name="Jean Moulin",
        type_label="collège",
        city="Saint-Rémy-de-Provence",
        academie="Aix-Marseille",
    ),
    portal_url="https://educonnect.education.gouv.fr",
    generated_at=dt.datetime(2026, 9, 1, 8, 30, tzinfo=dt.UTC),
    time=SchoolTime.named("Europe/Paris"),
)
EXPIRES = dt.date(2026, 11, 30)
UAI = CTX.school.uai
NAMES = [
    ("Dupont", "Jeanne"),
    ("Lefèvre", "Éloïse"),
    ("Иванова", "Мария"),
    ("Œuvray", "Noël"),
    ("Παπαδόπουλος", "Ἀλέξανδρος"),
    ("N'Diaye", "Zoé"),
]
ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"


def password(n: int) -> str:
    """Distinct, valid-looking passwords that cannot collide with any other printed text."""
    digits = []
    for _ in range(6):
        n, r = divmod(n, len(ALPHABET))
        digits.append(ALPHABET[r])
    return "zq" + "".join(digits) + "x9"


def pupil(n: int, division: str, name: tuple[str, str] | None = None) -> PupilCredential:
    last, first = name or NAMES[n % len(NAMES)]
    return PupilCredential(
        account_id=n,
        last_name=last,
        first_name=first,
        division=division,
        level=division[0] + "e",
        birth_date=dt.date(2013, 3, 4),
        login=f"e.eleve{n}",
        temp_password=password(n),
        expires_on=EXPIRES,
    )


def guardian(n: int, children: tuple[ChildRef, ...]) -> GuardianCredential:
    last, first = NAMES[n % len(NAMES)]
    return GuardianCredential(
        account_id=1000 + n,
        civility="Mme" if n % 2 else "M.",
        last_name=last,
        first_name=first,
        address="12 bis rue de l'Église\nBâtiment B",
        postal_code="13210",
        city="Saint-Rémy-de-Provence",
        children=children,
        login=f"r.parent{n}",
        temp_password=password(5000 + n),
        expires_on=dt.date(2026, 12, 1),
    )


def pages_text(data: bytes) -> list[str]:
    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages]


def squash(text: str) -> str:
    """Extraction may split a line where the font size changes; compare without spaces."""
    return "".join(text.split())


@pytest.fixture(scope="module")
def three_classes() -> tuple[list[PupilCredential], list[str]]:
    sizes = {"3E10": 10, "6E1": 17, "3E2": 8}
    rows = []
    n = 0
    for division, size in sizes.items():
        for _ in range(size):
            rows.append(pupil(n, division))
            n += 1
    rows.reverse()  # arrive in any order
    return rows, pages_text(pupil_documents_pdf(CTX, rows))


def is_class_list(text: str) -> bool:
    return "figurent uniquement sur les fiches" in text


def test_pages_per_class_list_then_eight_slips_per_page(three_classes):
    _rows, pages = three_classes
    # per class: 1 list page + ceil(n/8) slip pages -> (1+3) + (1+1) + (1+2)
    assert len(pages) == 4 + 2 + 3
    kinds = ["L" if is_class_list(p) else "S" for p in pages]
    assert "".join(kinds) == "LSSS" + "LS" + "LSS"


def test_classes_in_school_order_and_pupils_by_name(three_classes):
    _rows, pages = three_classes
    titles = [p.split("\n", 1)[0] for p in pages if is_class_list(p)]
    assert [t.split()[1] for t in titles] == ["6E1", "3E2", "3E10"]
    first_list = pages[0]
    positions = [first_list.find(last.upper()) for last in ("Dupont", "Lefèvre", "N'Diaye")]
    assert -1 not in positions and positions == sorted(positions)


def test_every_login_and_password_is_on_a_slip_and_no_password_on_lists(three_classes):
    rows, pages = three_classes
    slips = squash(" ".join(p for p in pages if not is_class_list(p)))
    lists = [squash(p) for p in pages if is_class_list(p)]
    for row in rows:
        assert row.login in slips
        assert row.temp_password in slips
        assert slips.count(row.temp_password) == 1
        assert any(row.login in page for page in lists)
        assert not any(row.temp_password in page for page in lists)


def test_slips_are_in_french_with_unicode_names(three_classes):
    _rows, pages = three_classes
    slip = pages[1]
    for expected in (
        "Identifiant",
        "Mot de passe provisoire",
        "Valable jusqu'au 30/11/2026",
        "Classe 6E1",
        "https://educonnect.education.gouv.fr",
    ):
        assert expected in slip
    everything = "\n".join(pages)
    for expected in ("Éloïse", "LEFÈVRE", "ИВАНОВА", "Мария", "ŒUVRAY", "Noël", "Ἀλέξανδρος"):
        assert expected in everything


def test_long_names_shrink_or_truncate_but_keep_credentials():
    long = ("de La Tour d'Auvergne-Lauraguais de Saint-Exupéry " * 3, "Marie-Éloïse Anne-Sophie")
    row = pupil(1, "4B", long)
    text = squash(pages_text(pupil_documents_pdf(CTX, [row]))[1])
    assert row.login in text and row.temp_password in text
    assert "Marie-Éloïse" in text  # the first name survives; the last name is cut
    assert "…" in text


def test_guardian_letters_one_page_each_with_credentials_and_children():
    kids = (
        ChildRef("Dupont", "Jeanne", "3E2", "Collège Jean Moulin"),
        ChildRef("Иванов", "Пётр", "CM1", "École Victor Hugo"),
    )
    rows = [guardian(n, kids[: 1 + n % 2]) for n in range(5)]
    pages = pages_text(guardian_letters_pdf(CTX, rows, distribution_lists=False))
    assert len(pages) == len(rows)
    for row in rows:
        (page,) = [p for p in pages if row.login in squash(p)]
        assert row.temp_password in squash(page)
        assert "Valable jusqu'au 01/12/2026" in page
        assert "DUPONT Jeanne" in page
        assert ("ИВАНОВ Пётр" in page) == (len(row.children) == 2)
        for expected in ("Objet", "FranceConnect", "Auto-inscription", "13210"):
            assert expected in page


def test_a_large_family_still_fits_one_letter():
    kids = tuple(
        ChildRef(f"Enfant{i}", "Prénom", f"{i}A", "Collège Jean Moulin") for i in range(12)
    )
    assert (
        len(pages_text(guardian_letters_pdf(CTX, [guardian(1, kids)], distribution_lists=False)))
        == 1
    )


def at(moment: dt.datetime) -> DocumentContext:
    return dataclasses.replace(CTX, generated_at=moment)


def test_the_class_list_is_dated_in_the_schools_time():
    """The server's clock is UTC; the teacher reads Paris time (UTC+1 in winter)."""
    winter_morning = at(dt.datetime(2026, 1, 12, 6, 21, tzinfo=dt.UTC))
    class_list = pages_text(pupil_documents_pdf(winter_morning, [pupil(0, "3E2")]))[0]
    assert "éditée le 12/01/2026 à 07:21" in class_list
    assert "06:21" not in class_list


def test_a_letter_written_late_on_new_years_eve_utc_is_dated_in_the_schools_year():
    late = at(dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC))
    (letter,) = pages_text(guardian_letters_pdf(late, [guardian(1, ())], distribution_lists=False))
    assert "Saint-Rémy-de-Provence, le 1er janvier 2027" in letter


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))


def test_pupil_csv_round_trips_in_slip_order():
    rows = [pupil(0, "3E2"), pupil(1, "6E1", ("Иванова", "Мария")), pupil(2, "3E2")]
    table = read_csv(pupil_csv(rows))
    assert table[0][:4] == ["Niveau", "Classe", "Nom", "Prénom"]
    assert "Mot de passe provisoire" in table[0]
    body = table[1:]
    assert len(body) == 3
    assert body[0][1] == "6E1" and body[0][2:4] == ["Иванова", "Мария"]
    by_login = {r[table[0].index("Identifiant")]: r for r in body}
    for row in rows:
        line = by_login[row.login]
        assert line[table[0].index("Mot de passe provisoire")] == row.temp_password
        assert line[table[0].index("Valable jusqu'au")] == "30/11/2026"


def test_guardian_csv_children_in_one_column_and_no_formula():
    kids = (
        ChildRef("Dupont", "Jeanne", "3E2", "Collège"),
        ChildRef("Dupont", "Paul", "CM1", "École"),
    )
    row = guardian(1, kids)
    evil = GuardianCredential(**{**row.__dict__, "last_name": "=HYPERLINK(1)", "login": "x.y"})
    table = read_csv(guardian_csv([row, evil], UAI))
    header = table[0]
    assert header[header.index("Enfants")] == "Enfants"
    lines = {r[header.index("Identifiant")]: r for r in table[1:]}
    line = lines[row.login]
    assert line[header.index("Enfants")] == "Dupont Jeanne (3E2), Dupont Paul (CM1)"
    assert line[header.index("Mot de passe provisoire")] == row.temp_password
    assert line[header.index("Adresse")] == "12 bis rue de l'Église Bâtiment B"
    assert lines["x.y"][header.index("Nom")] == "'=HYPERLINK(1)"


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_stage_then_publish_is_private_from_the_first_byte(tmp_path):
    target = tmp_path / "sub" / "fiches.pdf"
    target.parent.mkdir()
    staged = stage_file(target, b"%PDF-data")
    assert staged.final_path == target
    assert not target.exists()
    (temp,) = list(target.parent.iterdir())
    assert mode(temp) == 0o600
    assert staged.publish() == target
    assert target.read_bytes() == b"%PDF-data"
    assert mode(target) == 0o600
    assert list(target.parent.iterdir()) == [target]


def test_publish_replaces_an_older_file_only_when_asked(tmp_path):
    target = tmp_path / "fiches.csv"
    target.write_bytes(b"old")
    refused = stage_file(target, b"new")
    with pytest.raises(InvalidInput, match="apparu"):
        refused.publish()
    refused.discard()
    assert target.read_bytes() == b"old"
    stage_file(target, b"new", overwrite=True).publish()
    assert target.read_bytes() == b"new"
    assert mode(target) == 0o600
    assert list(tmp_path.iterdir()) == [target]


def test_discard_leaves_nothing_and_is_idempotent(tmp_path):
    staged = stage_file(tmp_path / "fiches.pdf", b"x")
    staged.discard()
    staged.discard()
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(DocumentError):
        staged.publish()


def test_path_that_is_a_directory_fails_cleanly(tmp_path):
    (tmp_path / "fiches.pdf").mkdir()
    with pytest.raises(DocumentError, match=r"fiches\.pdf"):
        stage_file(tmp_path / "fiches.pdf", b"x")
    assert [p.name for p in tmp_path.iterdir()] == ["fiches.pdf"]


def test_parent_that_is_a_file_fails_cleanly(tmp_path):
    (tmp_path / "blocker").write_bytes(b"")
    with pytest.raises(DocumentError, match="Impossible d'écrire"):
        stage_file(tmp_path / "blocker" / "fiches.pdf", b"x")


def test_failure_while_writing_removes_the_temporary_file(tmp_path, monkeypatch):
    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(DocumentError, match="le disque est plein"):
        stage_file(tmp_path / "fiches.pdf", b"x" * 1000)
    assert list(tmp_path.iterdir()) == []


names = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=0, max_size=80
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(last=names, first=names, division=names, address=names)
def test_arbitrary_names_print_whole_or_are_refused(last, first, division, address):
    """Any Unicode: the documents print it whole, or refuse it naming the character."""
    row = PupilCredential(
        1, last, first, division or "X", "6e", dt.date(2013, 1, 1), "a.b", "zqab23cdx9", EXPIRES
    )
    if unprintable(row):
        with pytest.raises(DocumentError, match=r"aucune police fournie .*U\+"):
            pupil_documents_pdf(CTX, [row])
    else:
        pages = pages_text(pupil_documents_pdf(CTX, [row]))
        assert len(pages) == 2
        assert "zqab23cdx9" in squash(pages[1])
    letter = GuardianCredential(
        2,
        "",
        last,
        first,
        address,
        "75001",
        division,
        (ChildRef(last, first, division, ""),),
        "c.d",
        "zqef45ghx9",
        EXPIRES,
    )
    if unprintable(letter):
        with pytest.raises(DocumentError, match=r"aucune police fournie .*U\+"):
            guardian_letters_pdf(CTX, [letter], distribution_lists=False)
    else:
        pages = pages_text(guardian_letters_pdf(CTX, [letter], distribution_lists=False))
        assert len(pages) == 1 and "zqef45ghx9" in squash(pages[0])
    assert read_csv(guardian_csv([letter], UAI))[1][-2] == "zqef45ghx9"


def test_permission_denied_is_reported_in_french(tmp_path, monkeypatch):
    def denied(*args: object, **kwargs: object) -> int:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "open", denied)
    with pytest.raises(DocumentError, match=r"Impossible d'écrire le fichier .*fiches\.pdf"):
        stage_file(tmp_path / "fiches.pdf", b"x")
    assert list(tmp_path.iterdir()) == []


@pytest.fixture(scope="module")
def measuring_pdf() -> Iterator[Pdf]:
    with new_pdf(CTX, "mesure") as doc:
        yield doc


printable_names = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)).filter(
        lambda c: not missing_glyphs(c)
    ),
    min_size=0,
    max_size=80,
)


@settings(max_examples=200, deadline=None)
@given(last=printable_names, first=printable_names)
def test_a_fitted_name_never_leaves_its_slip(measuring_pdf, last, first):
    text, size = measuring_pdf.fit_name(last.upper(), first, "B", 15, 87.0, 9)
    assert size >= 9
    assert measuring_pdf.width(text, "dejavu", "B", size) <= 87.0 + 1e-6


# The French order of names (model/identifiers.sort_key), arriving shuffled.
FRENCH_ORDER = [
    ("Aït Ahmed", "Nour"),
    ("Arnaud", "Léa"),
    ("Émilie", "Zoé"),
    ("Eric", "Paul"),
    ("Martin", "Zoé"),
    ("Martin-Dupont", "Anne"),
    ("zola", "Émile"),
]
SHUFFLED = [FRENCH_ORDER[i] for i in (3, 6, 2, 5, 0, 4, 1)]


def test_class_list_slips_and_csv_follow_the_french_order_of_names():
    rows = [pupil(n, "4E1", name) for n, name in enumerate(SHUFFLED)]
    pages = pages_text(pupil_documents_pdf(CTX, rows))
    class_list = squash(pages[0])
    positions = [class_list.find(squash(f"{last.upper()} {first}")) for last, first in FRENCH_ORDER]
    assert -1 not in positions and positions == sorted(positions)
    slips = squash(" ".join(pages[1:]))
    positions = [slips.find(squash(last.upper())) for last, _ in FRENCH_ORDER]
    assert -1 not in positions and positions == sorted(positions)
    table = read_csv(pupil_csv(rows))
    assert [tuple(r[2:4]) for r in table[1:]] == FRENCH_ORDER


def test_guardian_letters_and_csv_follow_the_french_order_of_names():
    kid = (ChildRef("Eric", "Paul", "4E1", "Collège"),)
    rows = [
        dataclasses.replace(guardian(n, kid), last_name=last, first_name=first)
        for n, (last, first) in enumerate(SHUFFLED)
    ]
    letters = [
        squash(p) for p in pages_text(guardian_letters_pdf(CTX, rows, distribution_lists=False))
    ]
    order = [next(i for i, p in enumerate(letters) if f"r.parent{n}" in p) for n in range(7)]
    assert [SHUFFLED[n] for n in sorted(range(7), key=order.__getitem__)] == FRENCH_ORDER
    table = read_csv(guardian_csv(rows, UAI))
    header = table[0]
    last, first = header.index("Nom"), header.index("Prénom")
    assert [(r[last], r[first]) for r in table[1:]] == FRENCH_ORDER


def _child(last: str, first: str, division: str, born: dt.date, uai: str = UAI) -> ChildRef:
    level = {"6": "6e", "5": "5e", "4": "4e", "3": "3e"}[division[0]]
    return ChildRef(last, first, division, "Collège", level, born, uai)


def test_letters_are_grouped_by_the_youngest_childs_class_after_a_distribution_list():
    older = _child("Martin", "Léo", "3E1", dt.date(2011, 2, 3))
    younger = _child("Martin", "Lina", "6E2", dt.date(2014, 6, 7))
    elsewhere = _child("Martin", "Tom", "5E1", dt.date(2016, 1, 1), uai="0130001A")
    both = dataclasses.replace(guardian(1, (older, younger, elsewhere)), last_name="Martin")
    third = dataclasses.replace(guardian(2, (older,)), last_name="Zidane")
    sixth = dataclasses.replace(guardian(3, (younger,)), last_name="Aït Ahmed")
    pages = [squash(p) for p in pages_text(guardian_letters_pdf(CTX, [third, both, sixth]))]
    # 6E2 first (6e before 3e): its list, then Aït Ahmed and Martin; then 3E1: list, Zidane.
    assert len(pages) == 2 + 3
    assert "Classe6E2" in pages[0] and "Listededistribution" in pages[0]
    assert pages[0].index("AÏTAHMED") < pages[0].index("MARTIN")
    assert both.login in pages[0] and both.temp_password not in pages[0]
    assert sixth.login in pages[1] and both.login in pages[2]
    assert "Classe3E1" in pages[3] and third.login in pages[4]
    # The guardian of two children here is printed once, under the youngest.
    assert sum(both.temp_password in p for p in pages) == 1
    table = read_csv(guardian_csv([third, both, sixth], UAI))
    header = table[0]
    assert [r[header.index("Identifiant")] for r in table[1:]] == [
        sixth.login,
        both.login,
        third.login,
    ]
    assert [r[0] for r in table[1:]] == ["6E2", "6E2", "3E1"]


def test_the_mail_merge_carries_e_mail_and_mobile():
    row = dataclasses.replace(guardian(1, ()), email="m.dupont@example.org", mobile="0612345678")
    table = read_csv(guardian_csv([row], UAI))
    header = table[0]
    assert table[1][header.index("Courriel")] == "m.dupont@example.org"
    assert table[1][header.index("Téléphone portable")] == "0612345678"


def test_a_long_address_wraps_in_the_window_at_38_characters_without_shrinking():
    street = "Résidence des Grands Chênes du Vieux Moulin, escalier C, porte 12"
    row = dataclasses.replace(guardian(1, ()), address=street)
    data = guardian_letters_pdf(CTX, [row], distribution_lists=False)
    (page,) = PdfReader(io.BytesIO(data)).pages
    sizes: list[float] = []

    def visit(text: str, cm: object, tm: list[float], font: object, size: float) -> None:
        if text.strip() and tm[4] > 100 / 25.4 * 72 and tm[5] > (297 - 90) / 25.4 * 72:
            sizes.append(size * tm[0])

    text = page.extract_text(visitor_text=visit)
    lines = [line.strip() for line in text.splitlines()]
    wrapped = [line for line in lines if line and line in street]
    assert " ".join(wrapped) == street  # every word, in order, none cut
    assert len(wrapped) >= 2 and all(len(line) <= 38 for line in wrapped)
    assert sizes and min(sizes) == pytest.approx(max(sizes), rel=0.01)  # one size


def test_an_address_too_long_for_six_lines_shows_its_cut():
    street = "\n".join(f"Ligne numéro {i} d'une adresse vraiment interminable" for i in range(5))
    row = dataclasses.replace(guardian(1, ()), address=street)
    with new_pdf(CTX, "t") as doc:
        from educonnect_tui.domain.documents.letters import address_lines

        lines = address_lines(doc, row)
    assert len(lines) == 6
    assert lines[-1][0] == "13210 Saint-Rémy-de-Provence"
    assert lines[-2][0].endswith("…") and all(len(t) <= 38 for t, _ in lines)


def test_the_helpdesk_slip_is_one_page():
    from educonnect_tui.domain.documents.slips import helpdesk_slip_pdf

    row = pupil(1, "3E2")
    (page,) = pages_text(helpdesk_slip_pdf(CTX, row))
    assert row.login in squash(page) and row.temp_password in squash(page)


_LAST_NAMES = st.sampled_from(
    ["Aït Ahmed", "Arnaud", "ARNAUD", "Émile", "emile", "N'Diaye", "Ndiaye", "Zola", "Œuvray"]
)
_CLASSES = st.sampled_from(["6E1", "6E2", "5E1", "4E10", "4E2", "3E1"])


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            _LAST_NAMES,
            st.lists(
                st.tuples(
                    _CLASSES, st.dates(dt.date(2008, 1, 1), dt.date(2016, 12, 31)), st.booleans()
                ),
                max_size=3,
            ),
        ),
        max_size=12,
    )
)
def test_guardian_groups_place_each_guardian_once_under_the_youngest_child_here(
    people: list[tuple[str, list[tuple[str, dt.date, bool]]]],
) -> None:
    from educonnect_tui.domain.documents.text import class_order, guardian_groups
    from educonnect_tui.domain.model.identifiers import sort_key

    rows = [
        dataclasses.replace(
            guardian(
                n,
                tuple(
                    _child("Enfant", f"P{i}", c, born, UAI if here else "0130001A")
                    for i, (c, born, here) in enumerate(kids)
                ),
            ),
            last_name=last,
            login=f"r.parent{n}",
        )
        for n, (last, kids) in enumerate(people)
    ]
    groups = guardian_groups(rows, UAI)
    placed = [r.login for _, members in groups for r in members]
    assert sorted(placed) == sorted(r.login for r in rows)  # each exactly once
    keys = [
        () if child is None else class_order(child.level, child.division) for child, _ in groups
    ]
    assert [k for k in keys if k] == sorted(k for k in keys if k)
    assert all(k for k in keys[:-1])  # the group without a child here comes last
    for child, members in groups:
        names = [(sort_key(r.last_name, r.first_name), r.login) for r in members]
        assert names == sorted(names)
        for row in members:
            here = [c for c in row.children if c.uai == UAI]
            if child is None:
                assert not here
            else:
                youngest = max(c.birth_date for c in here if c.birth_date)
                assert any(c.division == child.division and c.birth_date == youngest for c in here)
